"""avsep as a user installs it: an sdist, a wheel built from it, and that wheel installed into a
fresh virtual environment, away from the source tree, separating the example from there.

The fresh environment reuses the test environment's installed dependencies (a ``.pth`` file
names its site-packages; ``venv --system-site-packages`` would reach only the base
interpreter's) so nothing is downloaded and pip resolves the wheel's pinned requirements against
them offline. A second ``.pth`` makes the training extra's modules unimportable there, so the
environment behaves like ``pip install avsep``: separating must not need them, and a training
command must say in one line what to install.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import soundfile as sf

from avsep.train.extra import TRAINING_MODULES
from tests.test_packaging import NEVER_IN_BASE, PYPROJECT, names

ROOT = Path(__file__).resolve().parents[1]
#: What the build reads: the package, the model folder it maps in, and the metadata files.
SOURCES = ("pyproject.toml", "README.md", "avsep", "weights")
SHIPPED = sorted(
    p.name for p in (ROOT / "weights").iterdir() if p.suffix in (".pt", ".pth", ".torchscript", ".json", ".txt")
)

pytestmark = pytest.mark.slow


def run(cmd: list[str | Path], **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd``; on failure the assertion shows its output."""
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{cmd} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An sdist built from a copy of the sources, the wheel built from that sdist (the route
    ``python -m build`` takes) and one built straight from the sources (``pip wheel .``,
    ``pip install git+URL``), without build isolation: nothing is downloaded."""
    setuptools = importlib.metadata.version("setuptools")
    assert int(setuptools.split(".")[0]) >= 77, (
        f"building the wheel needs setuptools>=77 (found {setuptools}); the dev extra pins it: bash install.sh --train"
    )
    tmp = tmp_path_factory.mktemp("dist")
    source = tmp / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "_weights"))
        else:
            shutil.copy(ROOT / name, source / name)
    out = tmp / "out"
    run([sys.executable, "-c", f"from setuptools import build_meta as b; b.build_sdist({str(out)!r})"], cwd=source)
    (sdist,) = out.glob("avsep-*.tar.gz")
    wheels = {}
    for kind, what in (("wheel", sdist), ("direct_wheel", source)):
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "-q",
                "-w",
                out / kind,
                what,
            ],
            cwd=tmp,
        )
        (wheels[kind],) = (out / kind).glob("avsep-*.whl")
    return {"sdist": sdist, **wheels}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_sdist_and_wheel_carry_the_model_and_its_card(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        members = {Path(m.name).relative_to(Path(m.name).parts[0]).as_posix(): m for m in sdist.getmembers()}
        for name in SHIPPED:
            data = sdist.extractfile(members[f"weights/{name}"]).read()
            assert _sha256(data) == _sha256((ROOT / "weights" / name).read_bytes()), name
    for kind in ("wheel", "direct_wheel"):
        with zipfile.ZipFile(dist[kind]) as wheel:
            for name in SHIPPED:
                assert _sha256(wheel.read(f"avsep/_weights/{name}")) == _sha256((ROOT / "weights" / name).read_bytes())


def test_the_wheel_carries_the_pick_page(dist):
    """``avsep pick`` serves its page from the package: the wheels hold each of its files."""
    page = sorted((ROOT / "avsep/pick/static").iterdir())
    assert {p.suffix for p in page} == {".html", ".js", ".css"}
    for kind in ("wheel", "direct_wheel"):
        with zipfile.ZipFile(dist[kind]) as wheel:
            for path in page:
                assert wheel.read(f"avsep/pick/static/{path.name}") == path.read_bytes(), (kind, path.name)


def test_the_wheel_requires_no_training_package(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        lines = wheel.read(metadata).decode().splitlines()
    requires = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]
    base = [r for r in requires if "extra ==" not in r]
    train = names(PYPROJECT["project"]["optional-dependencies"]["train"])
    assert names(base) == names(PYPROJECT["project"]["dependencies"])
    assert not names(base) & (train | NEVER_IN_BASE)
    # Nor through the base dependencies' own requirements, as installed here.
    assert not _closure(names(base)) & NEVER_IN_BASE


def _closure(start: set[str]) -> set[str]:
    """Every distribution the given ones require, transitively (extras and markers aside)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in importlib.metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(names([req.name]).pop())
    return seen


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with the wheel installed: the base install, by what it can import."""
    root = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", "--without-pip", root])
    (packages,) = root.glob("lib/python3*/site-packages")
    (packages / "reuse_test_environment.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    (packages / "no_training_extra.pth").write_text(
        f"import sys; sys.modules.update(dict.fromkeys({list(TRAINING_MODULES)!r}))\n"
    )
    run(
        [sys.executable, "-m", "pip", "--python", root / "bin" / "python", "install", "--no-index", "-q", dist["wheel"]]
    )
    return root


def user_env() -> dict[str, str]:
    """The environment of a user's shell: no source tree on the path, the bundled weights."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AVSEP_WEIGHTS_DIR")}
    return {**env, "OMP_NUM_THREADS": "2"}


def test_the_python_api_finds_the_installed_model(venv, tmp_path):
    code = (
        "import avsep, importlib.util as u; from avsep import Separator\n"
        "print(avsep.__file__, u.find_spec('music21'), Separator().checkpoint.sha256)"
    )
    where, music21, digest = run([venv / "bin" / "python", "-c", code], cwd=tmp_path, env=user_env()).stdout.split()
    (installed,) = venv.glob("lib/python3*/site-packages/avsep/_weights/avsep-pcn-*.pt")
    assert Path(where).is_relative_to(venv) and music21 == "None"  # the wheel, as a base install
    assert digest == _sha256(installed.read_bytes())


def test_models_lists_the_bundled_model_with_the_hash_sha256sum_prints(venv, tmp_path):
    text = run([venv / "bin" / "avsep", "models"], cwd=tmp_path, env=user_env()).stdout
    (installed,) = venv.glob("lib/python3*/site-packages/avsep/_weights/avsep-pcn-*.pt")
    digest = _sha256(installed.read_bytes())
    assert f"avsep-pcn (default)  {installed}" in text and f"sha256  {digest} (verified" in text
    assert installed.name == f"avsep-pcn-{digest[:8]}.pt"


def test_the_wheel_separates_the_example(venv, tmp_path):
    run(
        [venv / "bin" / "avsep", "separate", ROOT / "examples" / "duet.mp4", "-o", "out", "--quiet"],
        cwd=tmp_path,
        env=user_env(),
    )
    outputs = sorted(p for p in (tmp_path / "out" / "duet").iterdir() if not p.name.endswith(".avsep.json"))
    assert [p.name for p in outputs] == ["acoustic_guitar.wav", "saxophone.wav"]  # the players found
    assert all(sf.info(str(p)).duration > 5 for p in outputs)


def test_a_training_command_in_the_base_install_says_what_to_install(venv, tmp_path):
    result = subprocess.run(
        [str(venv / "bin" / "avsep"), "data", "build", "data"],
        cwd=tmp_path,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and not (tmp_path / "data").exists()
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: avsep data build needs the training extra") and "pip install 'avsep[train]'" in line
