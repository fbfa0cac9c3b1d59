"""One set of options for the command line and the Python API (avsep/options.py): the same
defaults, checked once when built, with messages in the words of whoever gave them."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from avsep.batch.run import separate_paths
from avsep.cli.app import remix, separate
from avsep.errors import InputError
from avsep.options import API, COMMAND_LINE, FLAGS, BatchOptions, SeparationOptions
from avsep.separation.engine import Engine
from avsep.separation.separator import Separator

#: The command line's parameter names that differ from the options' field names (remix's -o is
#: the video it writes, no batch folder).
CLI_NAMES = {"out": "out_dir", "output_template": "template"}


def _defaults(function, renames: dict[str, str] | None = None) -> dict[str, object]:
    """``field: default`` of a function's parameters, enum defaults by value."""
    out = {}
    for name, p in inspect.signature(function).parameters.items():
        if p.default is not inspect.Parameter.empty:
            out[(renames or {}).get(name, name)] = getattr(p.default, "value", p.default)
    return out


def _fields(options: type) -> dict[str, object]:
    return {f.name: f.default for f in dataclasses.fields(options) if f.name != "wording"}


@pytest.mark.parametrize(("command", "renames"), [(separate, CLI_NAMES), (remix, {"out": "remix_out"})])
def test_the_command_line_and_the_api_share_every_default(command, renames):
    cli = _defaults(command, renames)
    shared = {**_fields(BatchOptions), **_fields(SeparationOptions)}
    common = set(cli) & set(shared)
    assert {"overlap", "mask", "same_instrument", "device", "batch_size", "model", "overwrite"} <= common
    assert {name: cli[name] for name in common} == {name: shared[name] for name in common}
    api = _defaults(Separator.__init__)
    assert {name: api[name] for name in _fields(SeparationOptions)} == _fields(SeparationOptions)
    assert _defaults(separate_paths)["out_dir"] == BatchOptions.out_dir == cli.get("out_dir", BatchOptions.out_dir)


def test_separate_offers_every_batch_option_and_remix_every_separation_option():
    assert set(_fields(BatchOptions)) <= set(_defaults(separate, CLI_NAMES))
    assert set(_fields(SeparationOptions)) <= set(_defaults(separate)) & set(_defaults(remix))
    assert set(FLAGS) == set(_fields(BatchOptions)) | set(_fields(SeparationOptions))


@pytest.mark.parametrize(
    ("fields", "api", "cli"),
    [
        ({"sample_rate": 10}, "sample_rate=10: use a rate", "--sample-rate 10: use a rate"),
        ({"skip_existing": True, "overwrite": True}, "skip_existing and overwrite contradict", "--skip-existing and"),
        ({"jobs": 0}, "jobs=0: give 1 or more", "--jobs 0: give 1 or more"),
        ({"gpus_per_job": 1.0}, "gpus_per_job=1.0: give 0 or more, with ray", "--gpus-per-job 1.0: give 0 or more"),
        ({"out_dir": "-", "jobs": 2}, "out_dir='-' streams one video; jobs and ray", "-o - streams one video; --jobs"),
        ({"source": 1}, "source only applies with out_dir='-'", "--source only applies with -o - (stdout)"),
    ],
)
def test_batch_options_are_checked_when_built_in_the_callers_words(fields, api, cli):
    with pytest.raises(InputError, match="^" + api.replace("(", r"\(")):
        BatchOptions(**fields)
    with pytest.raises(InputError) as raised:
        BatchOptions(**fields, wording=COMMAND_LINE)
    assert str(raised.value).startswith(cli)


@pytest.mark.parametrize(
    ("fields", "api", "cli"),
    [
        ({"overlap": 2.0}, "overlap must be between 0 and 0.9", "--overlap must be between 0 and 0.9"),
        ({"batch_size": 0}, "batch_size must be at least 1", "--batch-size must be at least 1"),
        ({"mask": "hard"}, "mask must be one of binary", "--mask must be one of binary"),
        ({"same_instrument": "faces"}, "same_instrument must be one of", "--same-instrument must be one of"),
        ({"guide": "pictures"}, "guide must be one of", "--guide must be one of"),
    ],
)
def test_separation_options_are_checked_when_built_in_the_callers_words(fields, api, cli):
    with pytest.raises(InputError) as raised:
        SeparationOptions(**fields)
    assert str(raised.value).startswith(api)
    with pytest.raises(InputError) as raised:
        SeparationOptions(**fields, wording=COMMAND_LINE)
    assert str(raised.value).startswith(cli)


def test_the_separator_checks_its_options_before_loading_a_model(monkeypatch):
    monkeypatch.setattr(Engine, "__init__", lambda *a, **k: pytest.fail("loaded a model for bad options"))
    with pytest.raises(InputError, match="^overlap must be between 0 and 0.9, got 1.5"):
        Separator(overlap=1.5)


def test_the_wordings():
    assert API("fmt", "x", quoted=True) == "fmt='x'" and COMMAND_LINE("fmt", "x", quoted=True) == "--format 'x'"
    assert API("out_dir", "-") == "out_dir='-'" and COMMAND_LINE("out_dir", "-") == "-o -"
    assert API("names") == "names" and COMMAND_LINE("names") == "--names"
