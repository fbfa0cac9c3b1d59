"""What each install brings, checked without installing anything (tests/test_install.py does).

The base install (``pip install avsep``, ``bash install.sh``) must bring what separation needs
and nothing else; training is the ``train`` extra, whose absence a training command reports in
one line. ``install.sh`` runs here against stand-ins for apt, dpkg and Python that record what
they were asked to do.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from avsep.errors import AvsepError
from avsep.train.dataset.system import APT_PACKAGES
from avsep.train.extra import TRAINING_MODULES, training_extra
from tests.browser import BROWSER_PACKAGES
from tests.cli_support import SMALL, cli, error_line

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
#: Named in the issue that split the install: none of them may come with the base install.
NEVER_IN_BASE = {"music21", "mido", "mir-eval", "scipy", "soundfile"}


def names(requirements: list[str]) -> set[str]:
    """Normalised distribution names (PEP 503) of requirement strings."""
    return {re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", r)[0]).lower() for r in requirements}


def test_the_base_dependencies_hold_no_training_package():
    base = names(PYPROJECT["project"]["dependencies"])
    train = names(PYPROJECT["project"]["optional-dependencies"]["train"])
    assert not base & train and not base & NEVER_IN_BASE
    assert NEVER_IN_BASE <= train


def test_every_dependency_is_pinned():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for requirement in PYPROJECT["project"]["dependencies"] + [r for e in extras.values() for r in e]:
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[0-9][0-9A-Za-z.+]*", requirement), requirement


def test_the_up_front_check_knows_every_package_of_the_training_extra():
    train = names(PYPROJECT["project"]["optional-dependencies"]["train"])
    assert {m.replace("_", "-") for m in TRAINING_MODULES} == train, (
        "avsep/train/extra.py TRAINING_MODULES must list the import name of each train extra package"
    )


def test_every_package_folder_is_in_the_wheel():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "avsep").rglob("__init__.py")}
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert listed == found | {"avsep._weights"}, "list the new package in pyproject.toml [tool.setuptools] packages"
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"avsep._weights": "weights"}


def test_the_pick_page_is_package_data():
    """Every file of avsep pick's page matches a package-data pattern (tests/test_install.py
    reads them back from the wheel)."""
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["avsep.pick"]
    page = [p.relative_to(ROOT / "avsep/pick").as_posix() for p in (ROOT / "avsep/pick/static").iterdir()]
    assert sorted(page) == ["static/pick.css", "static/pick.html", "static/pick.js"]
    assert all(any(fnmatch.fnmatch(name, pattern) for pattern in patterns) for name in page)


def _weights_module(package: Path, monkeypatch: pytest.MonkeyPatch):
    """A copy of avsep/models/weights.py loaded as if installed in ``package`` (its ``__file__``)."""
    (package / "models").mkdir(parents=True)
    shutil.copy(ROOT / "avsep" / "models" / "weights.py", package / "models" / "weights.py")
    name = f"weights_in_{package.parent.name}"
    spec = importlib.util.spec_from_file_location(name, package / "models" / "weights.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_weights_are_found_in_a_wheel_install_and_in_a_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("AVSEP_WEIGHTS_DIR", raising=False)
    site = _weights_module(tmp_path / "site-packages" / "avsep", monkeypatch)
    (tmp_path / "site-packages" / "avsep" / "_weights").mkdir()
    assert site.weights_dir() == tmp_path / "site-packages" / "avsep" / "_weights"
    checkout = _weights_module(tmp_path / "repo" / "avsep", monkeypatch)
    (tmp_path / "repo" / "pyproject.toml").write_text("")
    assert checkout.weights_dir() == tmp_path / "repo" / "weights"
    # An install that lost its weights names its own data folder, never site-packages/weights.
    shutil.rmtree(tmp_path / "site-packages" / "avsep" / "_weights")
    assert site.weights_dir() == tmp_path / "site-packages" / "avsep" / "_weights"
    monkeypatch.setenv("AVSEP_WEIGHTS_DIR", str(tmp_path / "mine"))
    assert site.weights_dir() == checkout.weights_dir() == tmp_path / "mine"


# -- without the training extra -------------------------------------------------------------------


@pytest.fixture
def base_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports of the training extra's packages fail, as in ``pip install avsep``."""
    for name in TRAINING_MODULES:
        monkeypatch.setitem(sys.modules, name, None)


TRAINING_COMMANDS = [
    ("avsep data build", ["data", "build", "out"]),
    ("avsep train", ["train", "--index", "train.csv"]),
    ("avsep features", ["features", "data"]),
    ("avsep evaluate", ["evaluate", "m.pt", "--index", "test.csv"]),
    ("avsep evaluate-real", ["evaluate-real", "m.pt"]),
    ("avsep train-guide", ["train-guide", "--photos", "photos"]),
]


@pytest.mark.parametrize("command,args", TRAINING_COMMANDS, ids=[c for c, _ in TRAINING_COMMANDS])
def test_a_training_command_without_the_extra_says_what_to_install(base_install, command, args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = error_line(cli(*args, code=1))
    missing = ", ".join(TRAINING_MODULES)
    assert f"error: {command} needs the training extra, which is not installed (no {missing})" in line
    assert "pip install 'avsep[train]'" in line and "bash install.sh --train" in line
    assert list(tmp_path.iterdir()) == []


def test_an_import_that_fails_later_in_a_training_command_gets_the_same_line():
    def later(module: str) -> None:
        with training_extra("avsep train"):
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)

    with pytest.raises(
        AvsepError, match=r"^avsep train needs the training extra, .*\(no pyroomacoustics\): pip install"
    ):
        later("pyroomacoustics.room")
    with pytest.raises(ModuleNotFoundError):  # avsep's own modules missing is a broken install, not the extra
        later("avsep.nothing")


def test_separation_needs_no_training_package(base_install, fast_model, shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    cli("separate", video, "-o", tmp_path, "--quiet")
    written = sorted(p.name for p in (tmp_path / video.stem).iterdir())
    assert written == [".avsep.json", "source1.wav", "source2.wav"]  # outputs and their record


# -- install.sh, with stand-ins for apt and Python ------------------------------------------------

STUB = """#!/usr/bin/env bash
echo "{name} $*" >> "$STUB_LOG"
{body}
"""


def _stub(folder: Path, name: str, body: str = "") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(STUB.format(name=name, body=body))
    path.chmod(0o755)
    return path


def run_install(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """``install.sh ARGS`` in a copy of the script, on a machine where no Debian package is
    installed; returns the result and what apt, sudo, pip and avsep were asked to do."""
    repo, bin_dir, log = tmp_path / "repo", tmp_path / "bin", tmp_path / "log"
    repo.mkdir()
    shutil.copy(ROOT / "install.sh", repo / "install.sh")
    _stub(bin_dir, "dpkg-query", "exit 1")
    _stub(bin_dir, "apt-get")
    _stub(bin_dir, "sudo", 'exec "$@"')
    _stub(bin_dir, "id", "echo 1000")
    venv_python = STUB.format(name="python", body="")
    _stub(
        bin_dir,
        "python3.11",
        f"""mkdir -p .venv/bin
cat > .venv/bin/python <<'EOF'
{venv_python}
EOF
cp .venv/bin/python .venv/bin/avsep && sed -i 's/^echo "python/echo "avsep/' .venv/bin/avsep
chmod +x .venv/bin/python .venv/bin/avsep""",
    )
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_LOG": str(log)}
    env.pop("PYTHON", None)
    result = subprocess.run(
        ["bash", str(repo / "install.sh"), *args], env=env, capture_output=True, text=True, timeout=60
    )
    return result, log.read_text().splitlines() if log.exists() else []


def _apt_installs(calls: list[str]) -> list[str]:
    (line,) = [c for c in calls if c.startswith("apt-get install")]
    assert line.startswith("apt-get install -y --no-install-recommends "), line
    return line.split()[4:]


def test_install_sh_for_separation_installs_only_what_separation_needs(tmp_path):
    result, calls = run_install(tmp_path)
    assert result.returncode == 0, result.stderr
    assert _apt_installs(calls) == ["python3-venv"]
    assert "python -m pip install --quiet -e ." in calls
    assert "avsep separate examples/duet.mp4 -o separated --overwrite" in calls  # boxes found
    assert "sudo apt-get update" in calls  # not root: through sudo


def test_install_sh_train_adds_the_extras_and_the_build_packages(tmp_path):
    result, calls = run_install(tmp_path, "--train")
    assert result.returncode == 0, result.stderr
    assert _apt_installs(calls) == ["python3-venv", *APT_PACKAGES, *BROWSER_PACKAGES]
    assert "python -m pip install --quiet -e .[train,dev,cluster]" in calls


def test_install_sh_refuses_an_unknown_option_in_one_line(tmp_path):
    result, calls = run_install(tmp_path, "--gpu")
    assert result.returncode == 2 and calls == []
    assert result.stderr.strip().count("\n") == 0 and "unknown option '--gpu'" in result.stderr
