"""How every ``avsep`` command reads to a person: its ``--help`` and its option errors.

typer shows each value's type beside an argument (``<path>``) and click's type names as
metavars (``INTEGER``, ``[pcm16|pcm24|...]``), and words a bad value as click does ("Invalid
value for '--jobs': 'x' is not a valid integer.").
:class:`AvsepCommand` and :class:`AvsepGroup` (the class of every command and of the ``avsep``
group, the separation side and the training side alike) replace those: a flag shows no metavar,
an option without a metavar of its own gets one named for what it takes (``N``, ``NUMBER``,
``PATH``, ``a|b|c``), arguments are written ``VIDEO...``, a command's one-line summary is one
paragraph, and a value click cannot convert is reported as ``--jobs 'x': give a whole number
(default: 1)``. Only typer and the standard library are imported (``avsep --help`` stays cheap).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from enum import Enum
from typing import Any

import typer
from typer._click.core import Parameter  # typer vendors click: its classes
from typer._click.exceptions import MissingParameter, UsageError
from typer._click.types import FloatParamType, IntParamType, ParamType, StringParamType
from typer._types import TyperChoice
from typer.core import TyperCommand, TyperGroup
from typer.models import TyperPath

#: The two panels of ``avsep --help``: what a user of separation runs, and what training needs
#: (the ``train`` extra), so the 5 everyday commands are not lost among the 8 training ones.
USER_PANEL = "Commands"
TRAINING_PANEL = "Training and evaluation (the train extra: bash install.sh --train)"

#: The metavar of an option whose declaration names none, by the kind of value it converts to.
_METAVARS: dict[type[ParamType], str] = {
    IntParamType: "N",
    FloatParamType: "NUMBER",
    TyperPath: "PATH",
    StringParamType: "TEXT",
}
#: What an option of each kind takes, as the error message asks for it.
_WANTED: dict[type[ParamType], str] = {
    IntParamType: "a whole number",
    FloatParamType: "a number",
    TyperPath: "a path",
    StringParamType: "a text",
}


def _by_kind(param: Parameter, table: dict[type[ParamType], str]) -> str | None:
    """The entry of ``table`` for the kind of value ``param`` converts to (ranges count as
    their number kind), or None for a kind the table does not name."""
    return next((text for kind, text in table.items() if isinstance(param.type, kind)), None)


def _choices(param: Parameter) -> list[str]:
    """The values a choice option accepts, as typed on the command line (typer keeps an enum's
    values as the choices)."""
    return [str(c) for c in param.type.choices] if isinstance(param.type, TyperChoice) else []


def name_metavars(params: Sequence[Parameter]) -> None:
    """Give every option a metavar a person reads: none for a flag, its choices for a choice,
    ``N``/``NUMBER``/``PATH``/``TEXT`` by type where the declaration named none; an argument
    is shown by its metavar (its name in capitals unless it has one), with no type beside it."""
    for param in params:
        if param.param_type_name == "argument":
            param.metavar = param.metavar or (param.name or "value").upper()  # "Missing argument 'MODEL'"
            param.type = copy.copy(param.type)  # its own: a type instance may be shared (str's is)
            param.type.get_metavar = _no_type  # type: ignore[method-assign]  # the metavar says it
        elif getattr(param, "is_flag", False):
            param.metavar = ""
            param.show_default = param.show_default and param.default is not False  # "off" goes without saying
        elif param.metavar is None and param.param_type_name == "option":
            choices = _choices(param)
            param.metavar = "|".join(choices) if choices else (_by_kind(param, _METAVARS) or "VALUE")


def _no_type(param: Parameter, ctx: typer.Context) -> str:
    """An argument's type column: empty (its metavar, ``VIDEO``, says what it takes). Not None,
    which typer would replace by ``<path>``."""
    return ""


def in_our_words(exc: typer.BadParameter, args: Sequence[str]) -> UsageError:
    """A value click could not convert, reworded: the option, the value given, what to give."""
    param = exc.param
    if param is None or isinstance(exc, MissingParameter):
        return exc  # click's "Missing option '--index'" says it already
    name = max(param.opts, key=len) if param.param_type_name == "option" else param.human_readable_name
    choices = _choices(param)
    wanted = f"one of {', '.join(choices)}" if choices else (_by_kind(param, _WANTED) or "another value")
    default = param.default.value if isinstance(param.default, Enum) else param.default
    shown = f" (default: {default})" if default not in (None, [], ()) and param.show_default is not False else ""
    given = _given(param, args)
    message = f"{name} {given!r}: give {wanted}{shown}" if given is not None else f"{name}: give {wanted}{shown}"
    return UsageError(message, exc.ctx)  # not BadParameter: click would prefix "Invalid value for ..."


def _given(param: Parameter, args: Sequence[str]) -> str | None:
    """The last value typed for ``param`` (``--opt VALUE`` or ``--opt=VALUE``), if any."""
    found = None
    for i, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if name in param.opts and eq:
            found = value
        elif arg in param.opts and i + 1 < len(args):
            found = args[i + 1]
    return found


def _one_paragraph(text: str | None) -> str | None:
    """A docstring's first paragraph on one line (the command list keeps line breaks)."""
    if not text:
        return text
    first, _, rest = text.strip().partition("\n\n")
    return " ".join(first.split()) + (f"\n\n{rest}" if rest else "")


class _Readable:
    """What a command and a group share: readable metavars (the help option's too) and a
    one-paragraph summary for the command list."""

    params: list[Parameter]
    help: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = _one_paragraph(self.help)
        name_metavars(self.params)

    def get_help_option(self, ctx: typer.Context) -> Parameter | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            name_metavars([option])
        return option


class AvsepCommand(_Readable, TyperCommand):
    """A command whose help shows readable metavars and whose value errors say what to give."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        """``[OPTIONS] VIDEO...``: arguments by their metavar, without typer's braces."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                shown = f"{param.metavar}..." if param.nargs != 1 else str(param.metavar)
                pieces.append(shown if param.required else f"[{shown}]")
        return pieces

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        given = list(args)
        try:
            return super().parse_args(ctx, args)
        except typer.BadParameter as exc:
            raise in_our_words(exc, given) from None


class AvsepGroup(_Readable, TyperGroup):
    """The ``avsep`` group and ``avsep data``: the same metavars for their own options."""
