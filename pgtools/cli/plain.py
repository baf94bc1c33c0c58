"""Plain command lines run without typer's per-parameter validation, with the arguments typer would pass.

Typer (0.29) builds a click command for every registered command and a pydantic ``TypeAdapter`` for every
parameter of the command it runs (importing pydantic) on every run: ~0.25 s of a ~0.9 s ``pgtools balance``
on a 12-OSD capture, whose answer ``osdmaptool --upmap`` gives in 0.02 s.  For a *plain* line this module
gets the command's arguments without that: the line is split by typer's own click parser (the command
built alone, so every option spelling, ``--opt=value``, ``--`` and flag pair works exactly as under typer),
and each value is converted as typer would convert it, only when the conversion is beyond doubt:

- ``str`` as is; ``Path`` of a non-empty text; ``int`` of plain decimal digits (``0``, ``-12``; no sign ``+``,
  no leading zero, no ``_``); ``float`` of plain decimal digits with an optional fraction (``0.05``);
  an ``Enum`` member from its exact value; a flag's ``True``/``False``; a list of any of these;
- within the option's ``min``/``max``; its ``callback`` (one parameter: the value) is applied, and a
  callback that raises leaves the line to typer.

Anything else (``--help``, a missing required argument, an unknown option, a value in another spelling, a
parameter with a feature outside this list: environment variables, prompts, path checks, counts, tuples,
``typer.Context``...) returns None, and typer parses the line: its errors and help are unchanged.  The
command then runs as typer runs it (:func:`_invoke`: an interrupt is exit status 130, a closed stdout exit
status 1).  ``tests/test_cli_plain.py`` checks, command by command, that the arguments are those typer passes.
"""

from __future__ import annotations

import errno
import inspect
import os
import re
import sys
import typing
from collections.abc import Callable
from enum import Enum
from pathlib import Path

import typer
import typer.main
from typer.models import ArgumentInfo, OptionInfo, ParameterInfo

_INT = re.compile(r"0|-?[1-9][0-9]*")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
#: ParameterInfo attributes that do not change how a value given on the command line is read.
_NEUTRAL = {"default", "param_decls", "help", "hidden", "show_default", "show_choices", "show_envvar", "metavar",
            "rich_help_panel", "min", "max", "callback", "shell_complete", "autocompletion"}
_PLAIN_INFO = {OptionInfo: vars(OptionInfo()), ArgumentInfo: vars(ArgumentInfo())}


class _NotPlain(Exception):
    """The line (or the command) is not one this module reads: typer parses it."""


def plain_call(app: typer.Typer, args: list[str]) -> Callable[[], object] | None:
    """The command of ``args`` (``[command, arguments...]``) with its arguments, to call; None: not plain."""
    found = plain_args(app, args)
    if found is None:
        return None
    fn, kwargs = found
    return lambda: _invoke(fn, kwargs)


def plain_args(app: typer.Typer, args: list[str]) -> tuple[Callable, dict] | None:
    """The command function of ``args`` and the keyword arguments typer would call it with; None: not plain."""
    if not args or args[0].startswith("-"):
        return None
    info = next((c for c in app.registered_commands if c.callback is not None and _name(c) == args[0]), None)
    if info is None:
        return None
    try:
        return info.callback, _parse(info, _spec(info.callback), args[0], args[1:])
    except _NotPlain:
        return None


def _name(info) -> str:
    """A registered command's name as typer derives it (the function name, ``_`` -> ``-``)."""
    return info.name or info.callback.__name__.replace("_", "-")


def _spec(fn: Callable) -> dict[str, tuple[type, bool, ParameterInfo, object]]:
    """``{name: (base type, is_list, parameter info, default)}`` of a command function, or _NotPlain."""
    hints = typing.get_type_hints(fn, include_extras=True)
    spec = {}
    for name, p in inspect.signature(fn).parameters.items():
        ann = hints.get(name)
        if typing.get_origin(ann) is not typing.Annotated:
            raise _NotPlain(name)
        base, *meta = typing.get_args(ann)
        pinfo = [m for m in meta if isinstance(m, ParameterInfo)]
        if len(pinfo) != 1 or type(pinfo[0]) not in _PLAIN_INFO:
            raise _NotPlain(name)
        pinfo = pinfo[0]
        plain = _PLAIN_INFO[type(pinfo)]
        if any(v != plain[k] for k, v in vars(pinfo).items() if k not in _NEUTRAL):
            raise _NotPlain(name)
        if pinfo.callback is not None and len(inspect.signature(pinfo.callback).parameters) != 1:
            raise _NotPlain(name)
        if typing.get_origin(base) is typing.Union:  # Optional[X]
            args = [a for a in typing.get_args(base) if a is not type(None)]
            if len(args) != 1:
                raise _NotPlain(name)
            base = args[0]
        is_list = typing.get_origin(base) is list
        if is_list:
            base = typing.get_args(base)[0]
        if not (base in (str, Path, int, float, bool) or (isinstance(base, type) and issubclass(base, Enum))):
            raise _NotPlain(name)
        if p.default is inspect.Parameter.empty and base is bool:
            raise _NotPlain(name)
        spec[name] = (base, is_list, pinfo, p.default)
    return spec


def _parse(info, spec: dict, name: str, argv: list[str]) -> dict:
    """The keyword arguments typer would call the command with, or _NotPlain."""
    one = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    one.command(name, context_settings=info.context_settings, add_help_option=info.add_help_option)(info.callback)
    cmd = typer.main.get_command(one)
    try:
        opts, rest, _order = cmd.make_parser(cmd.context_class(cmd, info_name=name)).parse_args(args=list(argv))
    except Exception:  # a usage error: typer says it
        raise _NotPlain(name) from None
    if rest or any(v is not None for k, v in opts.items() if k not in spec):
        raise _NotPlain(name)  # --help, extra arguments
    kwargs = {}
    for key, (base, is_list, pinfo, default) in spec.items():
        raw = opts.get(key)
        if raw is None or (is_list and len(raw) == 0):
            if default is inspect.Parameter.empty:
                raise _NotPlain(key)  # missing: typer says so
            value = default
        elif is_list:
            value = [_convert(base, pinfo, r) for r in raw]
        else:
            value = _convert(base, pinfo, raw)
        if pinfo.callback is not None:
            try:
                value = pinfo.callback(value)
            except Exception:  # typer reports it (as a usage error naming the option)
                raise _NotPlain(key) from None
        kwargs[key] = value
    return kwargs


def _convert(base: type, pinfo: ParameterInfo, raw: object):
    """One value as typer converts it, when that is beyond doubt; else _NotPlain."""
    if base is bool:
        if isinstance(raw, bool):
            return raw
        raise _NotPlain(raw)
    if not isinstance(raw, str):
        raise _NotPlain(raw)
    if base is str:
        return raw
    if base is Path:
        if not raw:
            raise _NotPlain(raw)
        return Path(raw)
    if base is int or base is float:
        if not (_INT if base is int else _FLOAT).fullmatch(raw):
            raise _NotPlain(raw)
        value = base(raw)
        if (pinfo.min is not None and value < pinfo.min) or (pinfo.max is not None and value > pinfo.max):
            raise _NotPlain(raw)
        return value
    for member in base:
        if member.value == raw:
            return member
    raise _NotPlain(raw)


def _invoke(fn: Callable, kwargs: dict):
    """Call the command as typer does: Ctrl-C is exit status 130, a closed stdout exit status 1, EOF an abort."""
    try:
        return fn(**kwargs)
    except EOFError as e:
        sys.stderr.write("\n")
        raise typer.Abort() from e
    except KeyboardInterrupt as e:
        raise typer.Exit(130) from e
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
