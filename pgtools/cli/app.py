"""The typer app, the options several commands share, the helpers every command uses, and :func:`main`.

The command modules (:mod:`.inspect`, :mod:`.whatif`, :mod:`.tools`) register their commands on :data:`app`
(see :mod:`pgtools.cli`); :func:`main` turns pgtools errors into one line on stderr and exit status 2.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import __version__
from ..errors import PgtoolsError
from .plain import plain_call

app = typer.Typer(
    name="pgtools",
    help="Understand, recompute and simulate Ceph PG placement from dumps, before touching a cluster.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class By(str, Enum):
    up = "up"
    acting = "acting"
    up_primary = "up_primary"
    acting_primary = "acting_primary"


class TableFormat(str, Enum):
    text = "text"
    csv = "csv"
    markdown = "markdown"
    json = "json"


class FrameFormat(str, Enum):
    text = "text"
    csv = "csv"
    json = "json"


def json_number(v) -> float | None:
    """A number for JSON output: None for a missing value or NaN, else a float."""
    return None if v is None or v != v else float(v)


def write_out(text: str) -> None:
    """Print ``text`` on stdout as is (the commands' results)."""
    sys.stdout.write(text)


def write_err(text: str) -> None:
    """Print ``text`` on stderr as one line (notes, progress, errors)."""
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


def load_dumps(paths: list[Path], extra: list[Optional[Path]] = ()):  # noqa: UP045 (typer needs Optional)
    """The snapshot of the dump files or capture folders ``paths`` plus the optional ``extra`` files."""
    from ..io import load

    all_paths = [*paths, *[p for p in extra if p is not None]]
    return load(all_paths)


def _version_cb(value: bool) -> None:
    if value:
        write_out(f"pgtools {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_cb, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """pgtools: parse, show, recompute and simulate Ceph placement groups."""


DumpArg = Annotated[list[Path], typer.Argument(help="Dump files or capture folders (any supported format).",
                                               show_default=False)]
OsdDumpOpt = Annotated[Optional[Path], typer.Option("--osd-dump", help="`ceph osd dump -f json` output.")]  # noqa: UP045
OsdDfOpt = Annotated[Optional[Path], typer.Option("--osd-df", help="`ceph osd df [-f json]` output.")]  # noqa: UP045
SetOptionOpt = Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
    "--option", help="NAME=VALUE: use this value of a Ceph option (mon_max_pg_per_osd, mon_max_pool_pg_num, "
                     "mgr_max_pg_num_change, target_max_misplaced_ratio, mon_osd_full_ratio, ...; see "
                     "`pgtools limits`) instead of the capture's; repeatable.")]


def with_options(snap, values: list[str] | None):
    """``snap`` with ``--option NAME=VALUE`` overrides (source "argument" everywhere)."""
    if not values:
        return snap
    from ..mgr.options import with_overrides

    pairs = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key or not val:
            raise typer.BadParameter(f"--option wants NAME=VALUE, not {v!r}")
        pairs[key.strip()] = val.strip()
    return with_overrides(snap, pairs)


def check_release(value: str | None) -> str | None:
    """``--release``: one of the releases pgtools knows defaults for (``octopus+`` means octopus)."""
    from ..mgr.options import MON_MAX_PG_PER_OSD, release_base

    if value is not None and release_base(value.strip().lower()) not in MON_MAX_PG_PER_OSD:
        raise typer.BadParameter(f"unknown release {value!r} (known: {', '.join(MON_MAX_PG_PER_OSD)})")
    return value if value is None else value.strip().lower()


def parse_pairs(values: list[str] | None, flag: str, conv=float) -> list[tuple[str, object]]:
    """``KEY=VALUE`` flag values as ``(key, conv(value))`` pairs; a malformed one is a usage error naming ``flag``."""
    out = []
    for v in values or []:
        key, sep, val = v.partition("=")
        if not sep or not key or not val:
            raise typer.BadParameter(f"{flag} wants KEY=VALUE, not {v!r}")
        try:
            out.append((key, conv(val)))
        except ValueError:
            raise typer.BadParameter(f"{flag}: bad value in {v!r}") from None
    return out


def parse_osd_id(text: str, flag: str) -> int:
    """An OSD id given as ``3`` or ``osd.3``; anything else is a usage error naming ``flag``."""
    t = text[4:] if text.startswith("osd.") else text
    if not t.isdigit():
        raise typer.BadParameter(f"{flag} wants an OSD id (3 or osd.3), not {text!r}")
    return int(t)


def lookup_pool_id(snap, text: str) -> int:
    """A pool id from a name or id given on the command line (an unknown name is an error)."""
    pools = snap.pools
    if text.isdigit():  # an id: the mapping code says when there is no such pool, as osdmaptool does
        return int(text)
    hit = pools.loc[pools["pool"].astype(str) == text, "pool_id"] if "pool" in pools.columns else []
    if len(hit):
        return int(hit.iloc[0])
    names = ", ".join(f"{n} ({i})" for i, n in zip(pools["pool_id"], pools.get("pool", pools["pool_id"]), strict=True))
    raise PgtoolsError(f"--pool {text}: no such pool (pools: {names or 'none'})")


def pool_key(text: str):
    """A pool given on the command line: its id when numeric, else its name."""
    return int(text) if text.isdigit() else text


PgNumOpt = Annotated[Optional[list[str]], typer.Option("--pg-num", help="POOL=N: set pg_num (pool name or id; repeatable).")]  # noqa: UP045
PgpNumOpt = Annotated[Optional[list[str]], typer.Option("--pgp-num", help="POOL=N: set pgp_num.")]  # noqa: UP045
CrushWeightOpt = Annotated[Optional[list[str]], typer.Option("--crush-weight", help="OSD=W: ceph osd crush reweight.")]  # noqa: UP045
ReweightOpt = Annotated[Optional[list[str]], typer.Option("--reweight", help="OSD=W: ceph osd reweight (0..1).")]  # noqa: UP045
MarkOutOpt = Annotated[Optional[list[str]], typer.Option("--mark-out", help="OSD: ceph osd out (3 or osd.3; repeatable).")]  # noqa: UP045
# Old spellings, still accepted, not shown in --help (see merge_alias).
OutAliasOpt = Annotated[Optional[list[str]], typer.Option("--out", hidden=True, help="Old spelling of --mark-out.")]  # noqa: UP045
OutOsdAliasOpt = Annotated[Optional[list[str]], typer.Option("--out-osd", hidden=True, help="Old spelling of --mark-out.")]  # noqa: UP045
OutputAliasOpt = Annotated[Optional[Path], typer.Option("--out", hidden=True, help="Old spelling of -o/--output.")]  # noqa: UP045


def merge_alias(value, alias, flag: str, old: str):
    """One option given under its name or its old spelling (lists add up; a single value may not be given twice)."""
    if isinstance(value, list) or isinstance(alias, list):
        return [*(value or []), *(alias or [])]
    if alias is None:
        return value
    if value is not None:
        raise typer.BadParameter(f"give {flag} once ({old} is its old spelling)")
    return alias


#: ``{command: parse}`` for commands whose plain command lines skip typer: ``parse(argv)`` returns the command
#: to run (no arguments) for such a line, else None (typer parses it: help, usage errors, anything unusual).
#: Typer builds a pydantic validator per parameter on every run (~0.1 s), which start-up-bound commands
#: (``map``, benchmarked against osdmaptool) do without; the command itself and its errors are the same.
FAST_PATHS: dict[str, Callable[[list[str]], Callable[[], object] | None]] = {}
#: Other plain command lines skip typer's parsing too (:mod:`.plain`: typer's click parser, the values converted
#: as typer converts them, no pydantic); False: typer parses every line not in :data:`FAST_PATHS` (tests).
PLAIN_LINES = True


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning pgtools errors into one line and exit status 2.

    Warnings are printed as one ``pgtools: warning: ...`` line each (once per message, no source line).
    """
    shown: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        text = f"pgtools: warning: {message}"
        if text not in shown:
            shown.add(text)
            write_err(text)

    with warnings.catch_warnings():
        warnings.showwarning = show
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        args = sys.argv[1:] if argv is None else list(argv)
        fast = FAST_PATHS[args[0]](args[1:]) if args and args[0] in FAST_PATHS else None
        if fast is None and PLAIN_LINES and not (args and args[0] in FAST_PATHS):
            fast = plain_call(app, args)
        rc = fast() if fast is not None else app(args=argv, standalone_mode=False)
        if isinstance(rc, int):
            return rc
    except PgtoolsError as e:
        write_err(f"pgtools: error: {e}")
        return 2
    except (ValueError, KeyError, FileNotFoundError) as e:
        write_err(f"pgtools: error: {e}")
        return 2
    except OSError as e:  # an output path that cannot be written (a file where a folder is wanted, no permission...)
        write_err(f"pgtools: error: {e.filename}: {e.strerror}" if e.filename else f"pgtools: error: {e}")
        return 2
    except typer.Exit as e:
        return e.exit_code or 0
    except SystemExit as e:
        return int(e.code or 0)
    except KeyboardInterrupt:
        write_err("pgtools: interrupted")
        return 130
    except Exception as e:  # usage errors from typer's (vendored) click, and internal errors
        name = type(e).__name__
        if name == "Abort":
            return 1
        fmt_msg = getattr(e, "format_message", None)
        if callable(fmt_msg) and hasattr(e, "exit_code"):
            write_err(f"pgtools: error: {fmt_msg()} (see --help)")
            return 2
        if os.environ.get("PGTOOLS_DEBUG"):
            raise
        write_err(f"pgtools: internal error: {name}: {e} (set PGTOOLS_DEBUG=1 for a traceback)")
        return 3
    return 0
