"""Start-up: ``avsep COMMAND`` builds only the click object of the command it runs.

typer builds the click object of every command a group holds (reading each signature and its
types) before it runs any: about a tenth of a second of start-up (0.26 s of CPU for ``avsep
--help`` with this, 0.42 s without, measured in benchmarks/README.md) that only the command asked
for needs. :func:`for_one_command` gives typer a copy of the group holding that command alone;
when the arguments name none (``avsep``, ``--help``, ``--version``, a misspelt command) every
command is kept as a :func:`listing` entry, which typer lists without reading its signature.
This is the only module that reaches into typer's ``registered_commands``
(tests/test_cli_help.py checks that the listing and each command read as with plain typer)."""

from __future__ import annotations

import copy
import inspect

import typer
from typer.models import CommandInfo


def for_one_command(group: typer.Typer, args: list[str]) -> typer.Typer:
    """``group`` holding only the command that ``args`` name first, when they name one.

    typer builds the click object of every command a group holds (reading each signature and
    its types) before it runs any: about a tenth of a second of start-up that only the command
    asked for needs. When ``args`` name none (``avsep``, ``avsep --help``, ``--version``, a
    misspelt command), none will run, so each is kept as a :func:`listing`.
    """
    name = args[1] if args[:1] == ["--"] and len(args) > 1 else (args[0] if args else None)
    commands = [c for c in group.registered_commands if _command_name(c) == name]
    groups = [g for g in group.registered_groups if g.name == name]
    if not commands and not groups:
        return listing(group)
    one = copy.copy(group)
    one.registered_commands, one.registered_groups = commands, groups
    return one


def listing(group: typer.Typer) -> typer.Typer:
    """``group`` as its help page lists it: every command (and every sub-group's) keeps its name,
    summary, class and panel but takes no parameters, so typer reads no signature for it."""
    listed = copy.copy(group)
    listed.registered_commands = [_listed(c) for c in group.registered_commands]
    listed.registered_groups = [copy.copy(g) for g in group.registered_groups]
    for sub in listed.registered_groups:
        sub.typer_instance = listing(sub.typer_instance)
    return listed


def _command_name(info: CommandInfo) -> str:
    """The name typer gives a command: its own, or its function's by typer's own rule."""
    return info.name or typer.main.get_command_name(info.callback.__name__)


def _listed(info: CommandInfo) -> CommandInfo:
    listed = copy.copy(info)
    listed.name = _command_name(info)
    listed.help = info.help if info.help is not None else inspect.getdoc(info.callback)
    listed.callback = _listed_only
    return listed


def _listed_only() -> None:
    """The callback of a listed command. Never called: a command named in ``args`` is built
    whole by :func:`for_one_command`."""
