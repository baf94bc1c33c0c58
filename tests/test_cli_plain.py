"""Plain command lines skip typer's parsing (:mod:`pgtools.cli.plain`): the command gets exactly the arguments
typer would give it, every line typer refuses is left to typer, and the CLI's start-up imports stay lean."""

from __future__ import annotations

import functools
import importlib
import subprocess
import sys
import typing
from enum import Enum
from pathlib import Path

import pytest
import typer
import typer.main

from pgtools.cli import app, main
from pgtools.cli.plain import plain_args
from tests.paths import SAMPLE_DUMPS

app_module = importlib.import_module("pgtools.cli.app")  # (``pgtools.cli.app`` is also the typer app's name)
ROOT = Path(__file__).resolve().parent.parent
CAPTURE = str(SAMPLE_DUMPS / "seedlike_max300")
NAMES = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]


def _typer_args(name: str, argv: list[str]):
    """What typer calls command ``name`` with for ``argv`` (the command itself is not run), or the usage error."""
    info = next(c for c in app.registered_commands if (c.name or c.callback.__name__.replace("_", "-")) == name)
    got: dict = {}

    @functools.wraps(info.callback)
    def grab(**kwargs):
        got.update(kwargs)

    one = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    one.command(name, context_settings=info.context_settings, add_help_option=info.add_help_option)(grab)
    try:
        typer.main.get_command(one).main(args=list(argv), prog_name="pgtools", standalone_mode=False)
    except Exception as e:  # a usage error (click's, or a callback's BadParameter)
        return e
    except SystemExit as e:  # --help
        return e
    return got


def _values(base, decl: str) -> list[list[str]]:
    """Command-line pieces for one option of type ``base``: plain ones and spellings typer reads otherwise."""
    if base is bool:
        return [[decl]]
    if isinstance(base, type) and issubclass(base, Enum):
        return [[decl, m.value] for m in base] + [[decl, next(iter(base)).value.upper() + "x"]]
    if base is int:
        return [[decl, v] for v in ("0", "7", "-3", "07", "+7", "1_0", " 7", "x", "1.0")]
    if base is float:
        return [[decl, v] for v in ("0.05", "1", "-2.5", "0", "1e3", ".5", "5.", "nan", "x")]
    if base is Path:
        return [[decl, "some/file.json"], [decl, ""]]
    return [[decl, "abc"], [decl, ""], [decl, "pacific"], [decl, "a=1"]]


def _lines(name: str) -> list[list[str]]:
    """Command lines for command ``name``: each option alone with each sample value, all options at once."""
    info = next(c for c in app.registered_commands if (c.name or c.callback.__name__.replace("_", "-")) == name)
    cmd = typer.main.get_command(_single(info, name))
    spec = {k: _base(t) for k, t in typing.get_type_hints(info.callback).items() if k != "return"}
    positional = [p for p in cmd.params if isinstance(p, typer.core.TyperArgument)]
    pos = []
    for p in positional:
        base = spec[p.name][0]
        pos += ["x"] if base is str else ["3"] if base is not Path else [CAPTURE]
    pos += [v for p in cmd.params if p.required and not isinstance(p, typer.core.TyperArgument)
            for v in (p.opts[0], "12")]
    lines = [pos, [], ["--help"], [*pos, "--nosuch"], [*pos, "--", "x"]]
    every = list(pos)
    for p in cmd.params:
        if isinstance(p, typer.core.TyperArgument) or p.name not in spec:
            continue
        base, is_list = spec[p.name][0], spec[p.name][1]
        for v in _values(base, p.opts[0]):
            lines.append([*pos, *v])
            if is_list:
                lines.append([*pos, *v, *v])
        for decl in p.secondary_opts:
            lines.append([*pos, decl])
        every += _values(base, p.opts[0])[0]
        lines.append([*pos, f"{p.opts[0]}={_values(base, p.opts[0])[0][-1]}"])
        lines.append([*pos, p.opts[0]])
    lines.append(every)
    return lines


def _base(t) -> tuple[type, bool]:
    """An annotation's value type and whether it is a list (``Optional`` dropped)."""
    if typing.get_origin(t) is typing.Union:
        t = next(a for a in typing.get_args(t) if a is not type(None))
    if typing.get_origin(t) is list:
        return typing.get_args(t)[0], True
    return t, False


def _single(info, name):
    one = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    one.command(name, context_settings=info.context_settings, add_help_option=info.add_help_option)(info.callback)
    return one


PLAIN_NAMES = [n for n in NAMES if n not in app_module.FAST_PATHS]


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_plain_arguments_are_typers(name):
    """Every line the plain reader takes gets typer's arguments; every line typer refuses is left to typer."""
    taken = 0
    for argv in _lines(name):
        plain = plain_args(app, [name, *argv])
        want = _typer_args(name, argv)
        if plain is None:
            continue
        taken += 1
        assert isinstance(want, dict), (argv, want)
        assert plain[1] == want, argv
        assert {k: type(v) for k, v in plain[1].items()} == {k: type(v) for k, v in want.items()}, argv
    assert taken >= 3, f"{name}: the plain reader took only {taken} lines"


def test_plain_takes_the_usual_lines():
    for argv in (["balance", CAPTURE, "--format", "commands"], ["balance", CAPTURE, "--mode", "count", "--release",
                 "pacific", "--format", "commands", "--max-deviation", "1", "--max-moves", "10000"],
                 ["table", CAPTURE], ["whatif", CAPTURE, "--mark-out", "3", "--pg-num", "rbd=64"],
                 ["risk", CAPTURE, "--failures", "2", "--trials", "1000"], ["pgcalc", "--osds", "12"]):
        assert plain_args(app, argv) is not None, argv
    for argv in (["balance", CAPTURE, "--max-deviation", "0"], ["balance", CAPTURE, "--release", "firefly"],
                 ["balance", "--help"], ["balance"], ["--version"], ["nosuch", CAPTURE],
                 ["osdmaptool", "om"]):
        assert plain_args(app, argv) is None, argv


@pytest.mark.parametrize("argv", [
    ["balance", CAPTURE, "--format", "commands"],
    ["balance", CAPTURE, "--max-deviation", "0"],
    ["balance", CAPTURE, "--release", "firefly"],
    ["table", CAPTURE, "--by", "acting", "--format", "csv"],
    ["health", CAPTURE, "--release", "reef", "--format", "json"],
    ["pgcalc", "--osds", "12", "--size", "3"],
], ids=lambda a: " ".join(a).replace(CAPTURE, "CAP"))
def test_plain_runs_as_typer(argv, capsys, monkeypatch):
    """The same output, warnings, errors and exit status through the plain reader and through typer."""
    plain = main(list(argv)), *capsys.readouterr()
    monkeypatch.setattr(app_module, "PLAIN_LINES", False)
    assert plain == (main(list(argv)), *capsys.readouterr())


_IMPORTS = """
import sys
from pgtools.cli import main
try:
    rc = main(sys.argv[1:])
except SystemExit:
    pass
print(" ".join(sorted(m for m in sys.modules)), file=sys.stderr)
"""
HEAVY = ("matplotlib", "dask", "distributed", "numba", "pydantic", "scipy", "rich", "pgtools.risk", "pgtools.plotting",
         "pgtools.report")


@pytest.mark.parametrize("argv, also_absent", [
    (["--help"], ("pandas", "numpy", "pgtools.model", "pgtools.io", "pgtools.balance", "pgtools.simulate")),
    (["map", CAPTURE], ("pgtools.balance", "pgtools.simulate", "pgtools.analysis", "pgtools.mgr")),
    (["balance", CAPTURE, "--format", "commands"], ("pgtools.analysis", "pgtools.text")),
    (["table", CAPTURE], ("pgtools.balance", "pgtools.simulate")),
    (["whatif", CAPTURE, "--mark-out", "3"], ("pgtools.balance",)),
], ids=["help", "map", "balance", "table", "whatif"])
def test_cli_import_graph(argv, also_absent):
    """Start-up cost: a command imports only what it uses (the CLI imports heavy packages inside the commands)."""
    r = subprocess.run([sys.executable, "-c", _IMPORTS, *argv], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    loaded = set(r.stderr.split("\n")[-2].split())
    assert "pgtools.cli" in loaded, r.stderr[-2000:]
    bad = sorted(m for m in loaded for h in (*HEAVY, *also_absent) if m == h or m.startswith(h + "."))
    assert not bad, f"pgtools {' '.join(argv[:1])} imports {bad}"
