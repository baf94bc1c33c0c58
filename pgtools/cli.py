"""The ``pgtools`` command line.  The only module that prints or exits.

Every command reads dumps (never a live cluster, except ``collect``) and prints results; commands that
suggest changes print the ``ceph`` commands for a human to run.  Bad input gives one line on stderr
(``file:line: field: what is wrong``) and exit status 2.
"""

from __future__ import annotations

import os
import sys
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import PgtoolsError, PgtoolsWarning

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


def _out(text: str) -> None:
    sys.stdout.write(text)


def _err(text: str) -> None:
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


def _load(paths: list[Path], extra: list[Optional[Path]] = ()):  # noqa: UP045 (typer needs Optional)
    from .io import load

    all_paths = [*paths, *[p for p in extra if p is not None]]
    return load(all_paths)


def _version_cb(value: bool) -> None:
    if value:
        _out(f"pgtools {__version__}\n")
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


def _with_options(snap, values: list[str] | None):
    """``snap`` with ``--option NAME=VALUE`` overrides (source "argument" everywhere)."""
    if not values:
        return snap
    from .mgr.options import with_overrides

    pairs = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key or not val:
            raise typer.BadParameter(f"--option wants NAME=VALUE, not {v!r}")
        pairs[key.strip()] = val.strip()
    return with_overrides(snap, pairs)


@app.command()
def table(
    dump: DumpArg,
    by: Annotated[By, typer.Option(help="Count membership of the up or acting set, or only primaries.")] = By.up,
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.text,
    osd_dump: OsdDumpOpt = None,
) -> None:
    """Print the pool × OSD table: PG copies of each pool on each OSD.

    Reads any PG dump (plain or JSON `pg dump`, `pg ls`, `pg dump pgs_brief`, `ceph report`) or a capture
    folder.  Each pool column sums to pg_num × size for a healthy pool.  PGs mapped to no OSD (state
    unknown) are credited nowhere and counted on stderr.

    Example:  pgtools table sample_dumps/seedlike_max300 --format csv > table.csv
    """
    from .analysis import pg_table, unmapped_pgs
    from .text import snapshot as _format

    snap = _load(dump, [osd_dump])
    tab = pg_table(snap, by=by.value)
    unmapped = len(unmapped_pgs(snap, by=by.value))
    if fmt is TableFormat.csv:
        _out(_format.table_csv(tab))
    elif fmt is TableFormat.markdown:
        _out(_format.table_markdown(tab, by.value))
    elif fmt is TableFormat.json:
        _out(_format.table_json(tab, by.value, unmapped))
    else:
        _out(_format.table_text(tab, by.value))
    if unmapped:
        _err(f"note: {unmapped} PGs map to no OSD ({by.value} empty, e.g. state unknown) and are not counted")


@app.command()
def stats(
    dump: DumpArg,
    osd_dump: OsdDumpOpt = None,
    osd_df: OsdDfOpt = None,
    by: Annotated[By, typer.Option(help="Which placement to count.")] = By.up,
    per_pool: Annotated[bool, typer.Option("--per-pool", help="One row per pool and OSD.")] = False,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
) -> None:
    """Weight-aware imbalance: PGs per OSD against each OSD's weight-share target.

    target = Σ over pools of the pool's copies × the OSD's share of the pool's CRUSH root weight
    (crush weight × reweight, in OSDs only).  The summary compares the spread with random placement,
    sqrt(mean·(1−1/N)), which osdmaptool prints as "expected".
    """
    from .analysis import imbalance, imbalance_summary
    from .text import snapshot as _format

    snap = _load(dump, [osd_dump, osd_df])
    im = imbalance(snap, by=by.value, per_pool=per_pool)
    summ = imbalance_summary(snap, by=by.value)
    if fmt is FrameFormat.csv:
        _out(im.to_csv(index=False))
    elif fmt is FrameFormat.json:
        import json

        doc = {"by": by.value, "osds": im.to_dict(orient="records"),
               "summary": {k: (v.item() if hasattr(v, "item") else v) for k, v in summ.items()}}
        _out(json.dumps(doc, indent=1, default=str) + "\n")
    else:
        _out(_format.frame_text(im))
        if summ.get("n_osds", 0):
            s = summ
            _out(f"\n{s['n_osds']} OSDs, {s['total']} PG copies ({by.value}): mean {s['mean']:.2f}, "
                 f"stddev {s['stddev']:.2f}, expected for random placement {s['expected_stddev']:.2f} "
                 f"(ratio {s['stddev_ratio']:.2f})\n"
                 f"min osd.{s['min_osd']} {s['min']}, max osd.{s['max_osd']} {s['max']}; "
                 f"vs weight-share targets: stddev {s['weighted_stddev']:.2f}, expected "
                 f"{s['expected_weighted_stddev']:.2f} (ratio {s['weighted_ratio']:.2f}); "
                 f"deviation from target {s['max_under_target_pct']:+.1f}% .. {s['max_over_target_pct']:+.1f}%\n")


def _check_release(value: str | None) -> str | None:
    """``--release``: one of the releases pgtools knows defaults for (``octopus+`` means octopus)."""
    from .mgr.options import MON_MAX_PG_PER_OSD, release_base

    if value is not None and release_base(value.strip().lower()) not in MON_MAX_PG_PER_OSD:
        raise typer.BadParameter(f"unknown release {value!r} (known: {', '.join(MON_MAX_PG_PER_OSD)})")
    return value if value is None else value.strip().lower()


@app.command()
def health(
    dump: DumpArg,
    osd_dump: OsdDumpOpt = None,
    release: Annotated[Optional[str], typer.Option(callback=_check_release, help="Release whose defaults apply (e.g. pacific).")] = None,  # noqa: UP045
    mon_max_pg_per_osd: Annotated[Optional[int], typer.Option(help="Override mon_max_pg_per_osd.")] = None,  # noqa: UP045
    mon_pg_warn_min_per_osd: Annotated[Optional[int], typer.Option(help="Override mon_pg_warn_min_per_osd.")] = None,  # noqa: UP045
    hard_ratio: Annotated[Optional[float], typer.Option(help="Override osd_max_pg_per_osd_hard_ratio.")] = None,  # noqa: UP045
    numbers: Annotated[bool, typer.Option("--numbers", help="List every number each finding used.")] = False,
    option: SetOptionOpt = None,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
) -> None:
    """Ceph's PG-count health checks (TOO_MANY_PGS, TOO_FEW_PGS) and the per-OSD hard limit.

    Limits: the options, else the capture's `config dump`, else the value its `health detail` quotes,
    else the release defaults; the source is printed beside each value (see `pgtools limits`).  Each
    finding lists the numbers that produced it.
    """
    from .analysis import health as health_fn
    from .text import snapshot as _format

    snap = _with_options(_load(dump, [osd_dump]), option)
    findings = health_fn(snap, release=release, mon_max_pg_per_osd=mon_max_pg_per_osd,
                         mon_pg_warn_min_per_osd=mon_pg_warn_min_per_osd,
                         osd_max_pg_per_osd_hard_ratio=hard_ratio)
    if fmt is FrameFormat.json:
        import dataclasses
        import json

        _out(json.dumps([dataclasses.asdict(f) for f in findings], indent=1, default=str) + "\n")
    elif fmt is FrameFormat.csv:
        import pandas as pd

        _out(pd.DataFrame([{"code": f.code, "severity": f.severity, "summary": f.summary, "ceph": f.ceph}
                           for f in findings], columns=["code", "severity", "summary", "ceph"])
             .to_csv(index=False))
    else:
        _out(_format.health_text(findings, numbers=numbers))


@app.command()
def limits(
    dump: DumpArg,
    release: Annotated[Optional[str], typer.Option(callback=_check_release, help="Release whose defaults apply (e.g. pacific).")] = None,  # noqa: UP045
    option: SetOptionOpt = None,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
) -> None:
    """Every threshold pgtools uses, its value and where it came from.

    Order: --option, the capture's `config dump`, the value its `health detail` quotes (TOO_MANY_PGS
    "480 > max 300"), the osdmap (full ratios, which the osdmap enforces and therefore come first for
    them), the release default.  Sources that disagree, or a value that cannot be read, give a warning.

    Example:  pgtools limits sample_dumps/seedlike_max300_json
    """
    from .mgr.options import settings_frame
    from .text import snapshot as _format

    snap = _with_options(_load(dump), option)
    df = settings_frame(snap, release=release)
    if fmt is FrameFormat.json:
        _out(df.to_json(orient="records", indent=1) + "\n")
    elif fmt is FrameFormat.csv:
        _out(df.to_csv(index=False))
    else:
        _out(_format.frame_text(df))


class PlanFormat(str, Enum):
    text = "text"
    table = "table"  # old name of text
    json = "json"
    csv = "csv"


def _pairs(values: list[str] | None, flag: str, conv=float) -> list[tuple[str, object]]:
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


def _osd_id(text: str, flag: str) -> int:
    t = text[4:] if text.startswith("osd.") else text
    if not t.isdigit():
        raise typer.BadParameter(f"{flag} wants an OSD id (3 or osd.3), not {text!r}")
    return int(t)


def _pool_id(snap, text: str) -> int:
    """A pool id from a name or id given on the command line (an unknown name is an error)."""
    pools = snap.pools
    if text.isdigit():  # an id: the mapping code says when there is no such pool, as osdmaptool does
        return int(text)
    hit = pools.loc[pools["pool"].astype(str) == text, "pool_id"] if "pool" in pools.columns else []
    if len(hit):
        return int(hit.iloc[0])
    names = ", ".join(f"{n} ({i})" for i, n in zip(pools["pool_id"], pools.get("pool", pools["pool_id"]), strict=True))
    raise PgtoolsError(f"--pool {text}: no such pool (pools: {names or 'none'})")


def _pool_key(text: str):
    return int(text) if text.isdigit() else text


def _check_pool_flags(snap, purpose: str, **flags: list[str] | None) -> None:
    """Every pool named in ``--pg-num``/``--pgp-num`` (given as ``pg_num=[...]``) exists: else one error naming the flag.

    What ``purpose`` needs (the CRUSH map, ...) is checked first: that error says more than a missing pool.
    """
    from .placement.osdmap import require_placement

    require_placement(snap, purpose)
    pools = snap.pools
    ids = set(pools["pool_id"].astype(int))
    names = set(pools["pool"].astype(str)) if "pool" in pools.columns else set()
    listing = ", ".join(f"{n} ({i})" for i, n in zip(pools["pool_id"], pools.get("pool", pools["pool_id"]),
                                                     strict=True))
    for name, values in flags.items():
        flag = "--" + name.replace("_", "-")
        for k, v in _pairs(values, flag, str):
            if not ((k.isdigit() and int(k) in ids) or k in names):
                raise PgtoolsError(f"{flag} {k}={v}: no such pool (pools: {listing or 'none'})")


def _changes(*, pg_num=None, pgp_num=None, crush_weight=None, reweight=None, out=None, fail=None,
             add_host=None, change=None) -> list:
    """Build simulate changes from CLI flags, in a fixed order: topology, weights, out/fail, pg_num/pgp_num."""
    from .simulate import AddHost, CrushWeight, Fail, MarkOut, Reweight, SetPgNum, SetPgpNum

    changes: list = []
    for spec in add_host or []:
        parts = spec.split(":")
        if len(parts) not in (3, 4) or not parts[0] or not parts[1].isdigit():
            raise typer.BadParameter(f"--add-host wants NAME:COUNT:WEIGHT[:CLASS], not {spec!r}")
        try:
            weight = float(parts[2])
        except ValueError:
            raise typer.BadParameter(f"--add-host: bad weight in {spec!r}") from None
        changes.append(AddHost(parts[0], int(parts[1]), weight, *(parts[3:] or ["hdd"])))
    for k, w in _pairs(crush_weight, "--crush-weight"):
        if not 0.0 <= float(w) < 65536.0:  # CRUSH weights are 16.16 fixed point, never negative
            raise typer.BadParameter(f"--crush-weight {k}={w}: a CRUSH weight must be from 0 to below 65536")
        changes.append(CrushWeight(_osd_id(k, "--crush-weight"), w))
    for k, w in _pairs(reweight, "--reweight"):
        if not 0.0 <= float(w) <= 1.0:
            raise typer.BadParameter(f"--reweight {k}={w}: the reweight must be in [0, 1]")
        changes.append(Reweight(_osd_id(k, "--reweight"), w))
    changes += [MarkOut(_osd_id(o, "--mark-out")) for o in out or []]
    for f in fail or []:  # one flag = one step; comma-separated items in it fail together
        items = []
        for part in f.split(","):
            kind, sep, name = part.strip().partition("=")
            item = name if sep else kind
            if not item:
                raise typer.BadParameter(f"--fail wants host=NAME, a bucket name or osd.N (comma-separated to "
                                         f"fail together), not {f!r}")
            if item.startswith("osd.") or item.isdigit():
                if sep and kind.strip() != "osd":
                    raise typer.BadParameter(f"--fail {part.strip()}: {item} is an OSD, not a {kind.strip()}")
                items.append(_osd_id(item, "--fail"))
            else:  # TYPE=NAME: the bucket's CRUSH type is checked against TYPE when the plan runs
                items.append(f"{kind.strip()}={item}" if sep else item)
        changes.append(Fail(*items))
    changes += [SetPgNum(_pool_key(k), int(v)) for k, v in _pairs(pg_num, "--pg-num", int)]
    changes += [SetPgpNum(_pool_key(k), int(v)) for k, v in _pairs(pgp_num, "--pgp-num", int)]
    changes += [_change_spec(c) for c in change or []]
    return changes


_CHANGE_HELP = ("KIND:ARGS, applied after the other flags in the order given: primary-affinity:OSD=W, in:OSD, "
                "down:OSD, remove-osd:OSD, add-osd:HOST:WEIGHT[:CLASS], remove-bucket:NAME, move-bucket:NAME=PARENT, "
                "pool-size:POOL=SIZE[:MIN_SIZE], pool-rule:POOL=RULE (id or name), create-pool:NAME:PG_NUM[:SIZE[:RULE]], "
                "delete-pool:POOL, upmap:PGID=FROM:TO[,FROM:TO], rm-upmap:PGID, "
                "reweight-by-utilization[:OLOAD[:MAX_CHANGE[:MAX_OSDS]]], reweight-by-pg[:OLOAD[:MAX_CHANGE[:MAX_OSDS]]]")


def _rule_key(text: str) -> int | str:
    """A CRUSH rule given on the command line: its id, or its name (what Ceph's commands take)."""
    return int(text) if text.lstrip("-").isdigit() else text


def _change_spec(spec: str):
    """One `--change KIND:ARGS` (see _CHANGE_HELP) -> a simulate Change."""
    from . import simulate as sim

    kind, _, args = spec.partition(":")

    def bad(why: str = "") -> typer.BadParameter:
        return typer.BadParameter(f"--change {spec!r}: {why or 'see --help for the forms'}")

    def kv(text: str) -> tuple[str, str]:
        k, sep, v = text.partition("=")
        if not sep or not k or not v:
            raise bad("expected KEY=VALUE")
        return k, v

    try:
        if kind == "primary-affinity":
            k, v = kv(args)
            return sim.PrimaryAffinity(_osd_id(k, "--change"), float(v))
        if kind in ("in", "down", "remove-osd"):
            cls = {"in": sim.MarkIn, "down": sim.MarkDown, "remove-osd": sim.RemoveOsd}[kind]
            return cls(_osd_id(args, "--change"))
        if kind == "add-osd":
            parts = args.split(":")
            if len(parts) not in (2, 3) or not parts[0]:
                raise bad("expected add-osd:HOST:WEIGHT[:CLASS]")
            return sim.AddOsd(parts[0], float(parts[1]), *(parts[2:] or ["hdd"]))
        if kind == "remove-bucket" and args:
            return sim.RemoveBucket(args)
        if kind == "move-bucket":
            k, v = kv(args)
            return sim.MoveBucket(k, v)
        if kind == "pool-size":
            k, v = kv(args)
            size, _, mn = v.partition(":")
            return sim.SetPoolSize(_pool_key(k), int(size), int(mn) if mn else None)
        if kind == "pool-rule":
            k, v = kv(args)
            return sim.SetPoolRule(_pool_key(k), _rule_key(v))
        if kind == "create-pool":
            parts = args.split(":")
            if not 2 <= len(parts) <= 4 or not parts[0]:
                raise bad("expected create-pool:NAME:PG_NUM[:SIZE[:RULE]]")
            return sim.CreatePool(parts[0], *(int(x) for x in parts[1:3]), *(_rule_key(x) for x in parts[3:]))
        if kind == "delete-pool" and args:
            return sim.DeletePool(_pool_key(args))
        if kind == "upmap":
            k, v = kv(args)
            pairs = []
            for pair in v.split(","):
                a, sep, b = pair.partition(":")
                if not sep:
                    raise bad("expected upmap:PGID=FROM:TO[,FROM:TO]")
                pairs.append((_osd_id(a, "--change"), _osd_id(b, "--change")))
            return sim.AddUpmapItems(k, tuple(pairs))
        if kind == "rm-upmap" and args:
            return sim.RemoveUpmapItems(args)
        if kind in ("reweight-by-utilization", "reweight-by-pg"):
            parts = [p for p in args.split(":") if p] if args else []
            if len(parts) > 3:
                raise bad(f"expected {kind}[:OLOAD[:MAX_CHANGE[:MAX_OSDS]]]")
            conv = [int, float, int]
            vals = [c(v) for c, v in zip(conv, parts, strict=False)]
            return sim.ReweightByUtilization(*vals, by_pg=kind == "reweight-by-pg")
    except ValueError:
        raise bad("a number is malformed") from None
    raise bad()


ChangeOpt = Annotated[Optional[list[str]], typer.Option("--change", help=_CHANGE_HELP)]  # noqa: UP045
PgNumOpt = Annotated[Optional[list[str]], typer.Option("--pg-num", help="POOL=N: set pg_num (pool name or id; repeatable).")]  # noqa: UP045
PgpNumOpt = Annotated[Optional[list[str]], typer.Option("--pgp-num", help="POOL=N: set pgp_num.")]  # noqa: UP045
CrushWeightOpt = Annotated[Optional[list[str]], typer.Option("--crush-weight", help="OSD=W: ceph osd crush reweight.")]  # noqa: UP045
ReweightOpt = Annotated[Optional[list[str]], typer.Option("--reweight", help="OSD=W: ceph osd reweight (0..1).")]  # noqa: UP045
MarkOutOpt = Annotated[Optional[list[str]], typer.Option("--mark-out", help="OSD: ceph osd out (3 or osd.3; repeatable).")]  # noqa: UP045
# Old spellings, still accepted, not shown in --help (see _merge_alias).
OutAliasOpt = Annotated[Optional[list[str]], typer.Option("--out", hidden=True, help="Old spelling of --mark-out.")]  # noqa: UP045
OutOsdAliasOpt = Annotated[Optional[list[str]], typer.Option("--out-osd", hidden=True, help="Old spelling of --mark-out.")]  # noqa: UP045
OutputAliasOpt = Annotated[Optional[Path], typer.Option("--out", hidden=True, help="Old spelling of -o/--output.")]  # noqa: UP045


def _merge_alias(value, alias, flag: str, old: str):
    """One option given under its name or its old spelling (lists add up; a single value may not be given twice)."""
    if isinstance(value, list) or isinstance(alias, list):
        return [*(value or []), *(alias or [])]
    if alias is None:
        return value
    if value is not None:
        raise typer.BadParameter(f"give {flag} once ({old} is its old spelling)")
    return alias


FailOpt = Annotated[Optional[list[str]], typer.Option("--fail", help="host=NAME, any CRUSH bucket name, or osd.N: lose it. Comma-separated items (rack=r1,host=n3) fail together in one step; each --fail is a step of its own.")]  # noqa: UP045
AddHostOpt = Annotated[Optional[list[str]], typer.Option("--add-host", help="NAME:COUNT:WEIGHT[:CLASS]: a new host with COUNT OSDs.")]  # noqa: UP045


def _run_plan(snap, changes: list, stepwise: bool, checks: bool = True, assume_clean: bool = False):
    from rich.console import Console
    from rich.progress import Progress

    from .placement.osdmap import require_placement
    from .simulate import simulate

    require_placement(snap, "a what-if simulation")  # before the progress bar, which would leave a blank line
    if not sys.stderr.isatty():  # a bar on a pipe or file is only a stray blank line
        return simulate(snap, changes, stepwise=stepwise, checks=checks, assume_clean=assume_clean)
    with Progress(transient=True, console=Console(stderr=True)) as prog:
        task = prog.add_task("simulating", total=None)

        def step(i: int, n: int, label: str) -> None:
            prog.update(task, completed=i, total=n, description=label[:60])

        return simulate(snap, changes, stepwise=stepwise, progress=step, checks=checks, assume_clean=assume_clean)


@app.command()
def whatif(
    capture: DumpArg,
    pg_num: PgNumOpt = None,
    pgp_num: PgpNumOpt = None,
    crush_weight: CrushWeightOpt = None,
    reweight: ReweightOpt = None,
    mark_out: MarkOutOpt = None,
    fail: FailOpt = None,
    add_host: AddHostOpt = None,
    change: ChangeOpt = None,
    out_alias: OutAliasOpt = None,
    stepwise: Annotated[bool, typer.Option("--stepwise", help="Follow the mgr: pg_num jumps, pgp_num steps under target_max_misplaced_ratio.")] = False,
    assume_clean: Annotated[bool, typer.Option("--assume-clean", help="With --stepwise: ignore degraded/inactive/unknown/misplaced PGs in the capture (the mgr would first wait for them).")] = False,
    option: SetOptionOpt = None,
    fmt: Annotated[PlanFormat, typer.Option("--format", help="text (table is its old name), json (the documented contract) or csv.")] = PlanFormat.text,
) -> None:
    """Simulate changes on a capture and report movement, PGs per OSD and health at every step.

    Changes apply cumulatively, one step each, in this order: --add-host, --crush-weight, --reweight,
    --mark-out, --fail, --pg-num, --pgp-num, then every --change in the order given.  Nothing is changed on any cluster: the commands an operator
    would run are printed at the end.

    A --fail step names every PG left short of copies: LOST (no copy left, or fewer than k shards of an
    EC PG: nothing can recover them), inactive (fewer than min_size: I/O blocks) or degraded.

    A change the monitor would refuse (pg_num over mon_max_pg_per_osd × OSDs or above mon_max_pool_pg_num,
    pgp_num above pg_num, an upmap naming a PG or OSD that does not exist, ...) stops the plan at that
    step, marked REFUSED with Ceph's message and what would make it acceptable; no command is printed
    for it or later changes.

    JSON contract: {"steps": [...], "final": {...}, "refused": null or {...}}; each step has "pools"
    {"<id>": {"pg_num", "pgp_num"}}, "pgs_moved", "shards_moved", "bytes_moved", "max_pgs_per_osd",
    "pgs_lost", "pgs_inactive", "pgs_degraded" (lists of pgids), "bytes_lost", "objects_lost",
    "bytes_to_recover", "failure_pools" ({"<id>": {"pool", "pgs_lost", "pgs_inactive", "pgs_degraded",
    "bytes_lost", "objects_lost", "bytes_to_recover"}}), "health" (messages), "pgs" (the whole mapping:
    pgid, up, acting) and "refused" (null, or {"step", "change", "command", "error", "message",
    "remedy"} where the monitor refuses); step 0 is
    the input; "final" repeats the last step.

    Example:  pgtools whatif sample_dumps/seedlike_max300 --pg-num rbd=64 --stepwise
    """
    from .text.plan import plan_csv, plan_json, plan_text

    out = _merge_alias(mark_out, out_alias, "--mark-out", "--out")
    changes = _changes(pg_num=pg_num, pgp_num=pgp_num, crush_weight=crush_weight, reweight=reweight, out=out,
                       fail=fail, add_host=add_host, change=change)
    if not changes:
        raise typer.BadParameter("give at least one change (--pg-num, --crush-weight, --mark-out, --fail, ...)")
    snap = _with_options(_load(capture), option)
    _check_pool_flags(snap, "a what-if simulation", pg_num=pg_num, pgp_num=pgp_num)
    plan = _run_plan(snap, changes, stepwise, assume_clean=assume_clean)
    if fmt is PlanFormat.json:
        _out(plan_json(plan) + "\n")
    elif fmt is PlanFormat.csv:
        _out(plan_csv(plan))
    else:
        _out(plan_text(plan))


@app.command("fix-too-many-pgs")
def fix_too_many_pgs_cmd(
    capture: DumpArg,
    max_per_osd: Annotated[Optional[int], typer.Option("--mon-max-pg-per-osd", min=1, help="The limit to get under (default: mon_max_pg_per_osd of the capture or release), as `pgtools health --mon-max-pg-per-osd`.")] = None,  # noqa: UP045
    min_pg_num: Annotated[int, typer.Option("--min-pg-num", min=1, help="Never lower a pool below this pg_num.")] = 8,
    option: SetOptionOpt = None,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
    max_alias: Annotated[Optional[int], typer.Option("--max-per-osd", min=1, hidden=True, help="Old spelling of --mon-max-pg-per-osd.")] = None,  # noqa: UP045
) -> None:
    """How to get from `too many PGs per OSD (480 > max 300)` to under the limit, with the least data moved.

    Each option (lower pg_num on the cheapest pools, on every pool, delete unused pools, add hosts like the
    existing ones, raise the limit) is simulated exactly; the commands are printed, never run.
    """
    from .analysis.recommend import fix_too_many_pgs, options_frame
    from .text import snapshot as _format

    max_per_osd = _merge_alias(max_per_osd, max_alias, "--mon-max-pg-per-osd", "--max-per-osd")
    snap = _with_options(_load(capture), option)
    options = fix_too_many_pgs(snap, max_per_osd=max_per_osd, min_pg_num=min_pg_num)
    if not options:
        _out("PGs per OSD are already within the limit: nothing to fix\n")
        return
    df = options_frame(options)
    if fmt is FrameFormat.json:
        _out(df.to_json(orient="records", indent=1) + "\n")
        return
    if fmt is FrameFormat.csv:
        _out(df.assign(commands=df.commands.map(" && ".join)).to_csv(index=False))
        return
    table = df.drop(columns=["commands", "note"]).assign(bytes_moved=df.bytes_moved.map(_format.human_bytes))
    _out(_format.frame_text(table))
    for i, o in enumerate(options, 1):
        _out(f"\n{i}. {o.name}" + (f"  ({o.note})" if o.note else "") + "\n")
        _out("".join(f"   {c}\n" for c in o.commands))


@app.command()
def report(
    capture: DumpArg,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="HTML file to write.  [default: report.html]")] = None,  # noqa: UP045
    title: Annotated[Optional[str], typer.Option(help="Title of the report.")] = None,  # noqa: UP045
    by: Annotated[By, typer.Option(help="Which placement the tables and plots count.")] = By.up,
    pg_num: PgNumOpt = None,
    pgp_num: PgpNumOpt = None,
    crush_weight: CrushWeightOpt = None,
    reweight: ReweightOpt = None,
    mark_out: MarkOutOpt = None,
    fail: FailOpt = None,
    add_host: AddHostOpt = None,
    stepwise: Annotated[bool, typer.Option("--stepwise", help="What-if pg_num changes step like the mgr.")] = False,
    out_alias: OutputAliasOpt = None,
    out_osd_alias: OutOsdAliasOpt = None,
) -> None:
    """Write one self-contained HTML report (images embedded) for a capacity-planning meeting.

    Summary, health with its numbers, the pool × OSD table, imbalance statistics, autoscaler
    recommendations, plots, the placement verification, and a what-if plan when any change flag
    (same as `pgtools whatif`) is given.
    """
    from .report.document import build_report

    out = _merge_alias(output, out_alias, "-o/--output", "--out") or Path("report.html")
    out_osd = _merge_alias(mark_out, out_osd_alias, "--mark-out", "--out-osd")
    if out.is_dir():
        raise PgtoolsError(f"{out}: is a folder; give the HTML file to write (e.g. {out / 'report.html'})")
    snap = _load(capture)
    changes = _changes(pg_num=pg_num, pgp_num=pgp_num, crush_weight=crush_weight, reweight=reweight, out=out_osd,
                       fail=fail, add_host=add_host)
    if changes:
        _check_pool_flags(snap, "a what-if simulation", pg_num=pg_num, pgp_num=pgp_num)
    plans = [_run_plan(snap, changes, stepwise)] if changes else None
    html = build_report(snap, title=title, by=by.value, what_if=plans)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    _err(f"wrote {out} ({len(html) // 1024} KiB)")


@app.command()
def demo(
    capture: Annotated[Path, typer.Argument(help="Capture folder.")] = Path("sample_dumps/seedlike_max300"),
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Folder to write the outputs to.  [default: out]")] = None,  # noqa: UP045
    out_alias: OutputAliasOpt = None,
) -> None:
    """Run the main job on a capture: table, stats, health and the HTML report, written to the -o folder."""
    from .analysis import health as health_fn
    from .analysis import imbalance, pg_table
    from .text import snapshot as _format

    out = _merge_alias(output, out_alias, "-o/--output", "--out") or Path("out")
    if out.exists() and not out.is_dir():
        raise PgtoolsError(f"{out}: exists and is not a folder (demo writes several files into a folder)")
    snap = _load([capture])
    tab = pg_table(snap, "up")
    from .report.document import build_report

    files = {
        "table.txt": _format.table_text(tab, "up"),
        "table.csv": _format.table_csv(tab),
        "stats.csv": imbalance(snap).to_csv(index=False),
        "health.txt": _format.health_text(health_fn(snap)),
        "report.html": build_report(snap),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
    _out(f"{snap!r}\n\n")
    _out(files["table.txt"] + "\n")
    _out(files["health.txt"])
    _err(f"wrote {', '.join(str(out / n) for n in files)}")


@app.command()
def collect(
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Bundle folder to write (or NAME.tar.gz with --tar); required.", show_default=False)] = None,  # noqa: UP045
    conf: Annotated[Optional[str], typer.Option("--conf", help="ceph.conf of the cluster.")] = None,  # noqa: UP045
    cluster: Annotated[Optional[str], typer.Option("--cluster", help="Cluster name.")] = None,  # noqa: UP045
    tar: Annotated[bool, typer.Option("--tar", help="Write a .tar.gz instead of a folder.")] = False,
    ceph: Annotated[str, typer.Option("--ceph", help="The ceph executable.")] = "ceph",
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds allowed per ceph command (killed and recorded as failed after).")] = 120.0,
    connect_timeout: Annotated[float, typer.Option("--connect-timeout", min=1, help="Seconds allowed for the first connection check, `ceph --connect-timeout N status`; nothing is collected when it fails.")] = 15.0,
    force: Annotated[bool, typer.Option("--force", help="Write into an output folder that is not empty (or over an existing archive); refused otherwise.")] = False,
    out_alias: OutputAliasOpt = None,
) -> None:
    """Collect a capture from a live cluster with read-only ceph commands (pg dump, osd dump, ...).

    First checks that the cluster answers (`ceph --connect-timeout N status`), then runs each command with
    --timeout seconds, printing one progress line per command on stderr.  Every command is recorded with
    its exit status in collect_meta.json; a failing command is reported and the rest are still collected.
    Each output is read back with pgtools' parsers: one that is empty or not what the command prints
    counts as failed.  An output folder that is not empty is refused unless --force.
    Nothing is ever written to the cluster.
    """
    from .io.collect import COMMANDS
    from .io.collect import collect as collect_fn

    out = _merge_alias(output, out_alias, "-o/--output", "--out")
    if out is None:
        raise typer.BadParameter("give the bundle to write: -o/--output FOLDER (or NAME.tar.gz with --tar)")

    said: list[dict] = []

    def start(i: int, n: int, cmd) -> None:
        what = "checking the connection" if i == 0 else f"[{i}/{n}]"
        _err(f"collect: {what}: ceph {' '.join(cmd.args)}")

    def step(i: int, n: int, cmd, rec: dict) -> None:
        if rec["status"] == 125:  # not run: the cluster stopped answering (said once for all the rest)
            if not said:
                said.append(rec)
                _err(f"collect: [{i}-{n}/{n}] {rec['stderr'][:300]}")
            return
        if rec["status"] != 0:
            _err(f"collect: [{i}/{n}] failed ({rec['status']}) after {rec['seconds']:g} s: {rec['command']}: "
                 f"{rec['stderr'][:200]}")
        elif rec.get("invalid"):
            _err(f"collect: [{i}/{n}] failed: {rec['command']} exited 0 but its output {rec['file']} is not "
                 f"usable: {rec['invalid'][:200]}")

    res = collect_fn(out, ceph=ceph, conf=conf, cluster=cluster, tar=tar, timeout=timeout,
                     connect_timeout=connect_timeout, force=force, progress=step, on_start=start)
    ok = len(res.records) - len(res.failed)
    note = f" (osdmap epoch {res.epoch_before})" if res.consistent else ""
    _err(f"wrote {res.path}: {ok}/{len(res.records)} commands succeeded{note}")
    if res.epoch_before is None or res.epoch_after is None:
        warnings.warn("could not read the osdmap epoch before and after collecting: consistency unknown",
                      PgtoolsWarning, stacklevel=1)
    elif not res.consistent:
        warnings.warn(f"osdmap epoch changed during collection ({res.epoch_before} -> {res.epoch_after}): the "
                      "files may describe different cluster states", PgtoolsWarning, stacklevel=1)
    required = {c.filename for c in COMMANDS if c.required}
    if any(r["file"] in required for r in res.failed):
        raise typer.Exit(1)


class MapFormat(str, Enum):
    dump_all = "dump-all"
    dump = "dump"
    stats = "stats"


CrushOpt = Annotated[Optional[Path], typer.Option("--crush", help="`ceph osd crush dump -f json`, crushtool text, or the binary map (ceph osd getcrushmap -o).")]  # noqa: UP045
CaptureArg = Annotated[Optional[list[Path]], typer.Argument(help="Capture folder or files (instead of / besides --osd-dump and --crush).", show_default=False)]  # noqa: UP045


def _load_map(capture: list[Path] | None, osd_dump: Path | None, crush: Path | None):
    paths = [*(capture or []), *[p for p in (osd_dump, crush) if p is not None]]
    if not paths:
        raise typer.BadParameter("give a capture folder, or --osd-dump and --crush")
    from .placement.osdmap import require_placement

    snap = _load(paths)
    require_placement(snap, "mapping")
    return snap


@app.command("crush-test")
def crush_test(
    capture: Annotated[Optional[list[Path]], typer.Argument(help="A CRUSH map file or a capture folder holding one (instead of --crush).", show_default=False)] = None,  # noqa: UP045
    crush: Annotated[Optional[Path], typer.Option("--crush", help="`ceph osd crush dump -f json`, crushtool's text map (crushtool -d), or the binary map (ceph osd getcrushmap -o, crushtool -c -o).")] = None,  # noqa: UP045
    rule: Annotated[int, typer.Option("--rule", help="Rule id.")] = 0,
    num_rep: Annotated[int, typer.Option("--num-rep", help="Number of replicas (result size); negative: every size from the rule's min_size to max_size, as crushtool.")] = 3,
    min_x: Annotated[int, typer.Option("--min-x", help="First input value.")] = 0,
    max_x: Annotated[int, typer.Option("--max-x", help="Last input value (inclusive); --min-x/--max-x are 32-bit ints, as crushtool reads them; the output is streamed.")] = 1023,
    weight: Annotated[Optional[list[str]], typer.Option("--weight", help="OSD=W device weight override in [0,1] (crushtool --weight OSD W; repeatable).")] = None,  # noqa: UP045
    pool_id: Annotated[int, typer.Option("--pool-id", help="Hash x with this pool id, as crushtool --pool-id.")] = -1,
) -> None:
    """Run a CRUSH rule on raw inputs, printed exactly like `crushtool -i map --test --show-mappings`.

    Lines read `CRUSH rule R x X [a,b,c]`, so the output diffs cleanly against crushtool's.

    Example:  pgtools crush-test --crush crush_dump.json --rule 0 --num-rep 3 --max-x 9
              pgtools crush-test crush.bin --rule 0 --num-rep 3 --max-x 9   (ceph osd getcrushmap -o crush.bin)
    """
    from .crush.crushtool_format import iter_crushtool_test

    paths = [*(capture or []), *([crush] if crush is not None else [])]
    if not paths:
        raise typer.BadParameter("give the CRUSH map: a file or capture folder, or --crush FILE")
    where = ", ".join(map(str, paths))
    snap = _load(paths)
    if snap.crush is None:
        raise PgtoolsError(f"{where}: no CRUSH map here: add `ceph osd crush dump -f json` "
                           "(or `ceph osd getcrushmap -o crush.bin`)")
    weights: dict[int, float] = {}
    for w in weight or []:
        osd, sep, val = w.replace(":", "=").partition("=")
        try:
            weights[int(osd)] = float(val)
        except ValueError:
            raise typer.BadParameter(f"--weight wants OSD=W, not {w!r}") from None
        if not sep or not 0.0 <= weights[int(osd)] <= 1.0:
            raise typer.BadParameter(f"--weight wants OSD=W with W in [0, 1], not {w!r}")
    if min_x > max_x:
        raise typer.BadParameter("--min-x must not exceed --max-x")
    if rule not in snap.crush.rules:  # crushtool prints nothing then; say why
        raise PgtoolsError(f"{where}: no rule {rule} in this CRUSH map (rules: "
                           f"{', '.join(map(str, sorted(snap.crush.rules))) or 'none'})")
    for piece in iter_crushtool_test(snap.crush, rule, num_rep, min_x, max_x, weights=weights or None,
                                     pool_id=pool_id):  # streamed: memory stays bounded for any range
        _out(piece)


@app.command("map")
def map_cmd(
    capture: CaptureArg = None,
    osd_dump: OsdDumpOpt = None,
    crush: CrushOpt = None,
    pool: Annotated[Optional[str], typer.Option(help="Only this pool, by name or id (osdmaptool --pool ID).")] = None,  # noqa: UP045
    pg_num: Annotated[Optional[int], typer.Option("--pg-num", help="Override pg_num of the mapped pools; pgp_num is kept (osdmaptool --pg_num).")] = None,  # noqa: UP045
    mark_up_in: Annotated[bool, typer.Option("--mark-up-in", help="Mark every OSD up and in, and give CRUSH weight 1 to those at 0 (osdmaptool --mark-up-in).")] = False,
    mark_out: MarkOutOpt = None,
    adjust_crush_weight: Annotated[Optional[list[str]], typer.Option("--adjust-crush-weight", help="OSD:WEIGHT (repeatable, or comma-separated as in osdmaptool).")] = None,  # noqa: UP045
    fmt: Annotated[MapFormat, typer.Option("--format", help="dump-all, dump or stats, as osdmaptool --test-map-pgs[-dump[-all]].")] = MapFormat.stats,
) -> None:
    """Recompute every PG's mapping exactly as Ceph 16.2.15, printed byte for byte like osdmaptool.

    dump-all: `osdmaptool om --test-map-pgs-dump-all`; dump: `--test-map-pgs-dump`; stats: `--test-map-pgs`.
    So you can diff pgtools against osdmaptool, then ask what-ifs osdmaptool cannot.

    Example:  pgtools map sample_dumps/seedlike_max300 --pool 1 --pg-num 256 --format dump-all
    """
    from .placement.osdmaptool import osdmaptool

    snap = _load_map(capture, osd_dump, crush)
    if pg_num is not None:  # no pool can hold more; also what keeps a typo from allocating gigabytes
        from .mgr.options import resolve

        mx = resolve(snap, "mon_max_pool_pg_num")
        if not 0 < pg_num <= mx.value:
            raise typer.BadParameter(f"--pg-num {pg_num}: a pool's pg_num must be from 1 to mon_max_pool_pg_num "
                                     f"{mx.value} ({mx.source})")
    pairs = []
    for a in (a for arg in adjust_crush_weight or [] for a in arg.split(",") if a):  # repeated, or osdmaptool's a,b
        osd, _, w = a.partition(":")
        try:
            if not osd.isdigit():
                raise ValueError(osd)
            pairs.append((int(osd), float(w)))
        except ValueError:
            raise typer.BadParameter(f"--adjust-crush-weight wants OSD:WEIGHT, not {a!r}") from None
    mode = {"dump-all": "dump_all", "dump": "dump", "stats": "stats"}[fmt.value]
    _out(osdmaptool(snap, test_map_pgs=mode, pool=None if pool is None else _pool_id(snap, pool), pg_num=pg_num,
                    mark_up_in=mark_up_in, mark_out=[_osd_id(o, "--mark-out") for o in mark_out or []],
                    adjust_crush_weight=pairs))


@app.command("map-object")
def map_object_cmd(
    name: Annotated[str, typer.Argument(help="Object name.")],
    capture: CaptureArg = None,
    osd_dump: OsdDumpOpt = None,
    crush: CrushOpt = None,
    pool: Annotated[str, typer.Option(help="Pool name or id.")] = "",
    namespace: Annotated[str, typer.Option(help="RADOS namespace.")] = "",
    key: Annotated[str, typer.Option(help="Object locator key (hashed instead of the name).")] = "",
    capture_alias: Annotated[Optional[list[Path]], typer.Option("--capture", hidden=True, help="Old spelling of the CAPTURE arguments.")] = None,  # noqa: UP045
) -> None:
    """Where does an object live?  Prints what `ceph osd map POOL NAME [NAMESPACE]` prints.

    Example:  pgtools map-object rbd_data.1 sample_dumps/seedlike_max300 --pool rbd
    """
    from .placement.objects import format_osd_map, map_object

    if not pool:
        raise typer.BadParameter("--pool is required")
    snap = _load_map(_merge_alias(capture, capture_alias, "CAPTURE", "--capture"), osd_dump, crush)
    _out(format_osd_map(map_object(snap, pool, name, namespace, key=key)))


@app.command()
def verify(
    capture: DumpArg,
    limit: Annotated[int, typer.Option(min=0, help="Show at most this many differing PGs.")] = 50,
) -> None:
    """Re-map every PG of a capture and compare with the up/acting sets the dump reports.

    Exit status 0 when every PG matches, 1 when any differs (listed), 2 on bad input.
    """
    from .placement.osdmap import require_placement
    from .placement.pipeline import verify_placement
    from .text import snapshot as _format

    snap = _load(capture)
    require_placement(snap, "verify")
    if not len(snap.pgs):
        raise PgtoolsError("the capture has no PG dump; nothing to verify")
    diff = verify_placement(snap)
    if len(diff):
        _out(_format.frame_text(diff.head(limit)))
        _out(f"{len(diff)} of {len(snap.pgs)} PGs differ from the dump\n")
        raise typer.Exit(1)
    _out(f"all {len(snap.pgs)} PGs match: up, acting and primaries recomputed exactly\n")


class Release(str, Enum):
    nautilus = "nautilus"
    octopus = "octopus"
    pacific = "pacific"
    quincy = "quincy"
    reef = "reef"


@app.command()
def autoscale(
    capture: DumpArg,
    release: Annotated[Optional[Release], typer.Option(help="Autoscaler version (default: the capture's release, else pacific).")] = None,  # noqa: UP045
    target_per_osd: Annotated[Optional[int], typer.Option("--target-per-osd", help="mon_target_pg_per_osd (default: capture config, else 100).")] = None,  # noqa: UP045
    explain: Annotated[bool, typer.Option("--explain", help="Also print the reason for each pool.")] = False,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="text (as `ceph osd pool autoscale-status`), csv or json.")] = FrameFormat.text,
) -> None:
    """What `ceph osd pool autoscale-status` would show for this capture, with the reason per pool."""
    from .mgr.autoscale import autoscale_status, release_for
    from .mgr.autoscale_output import autoscale_status_json, format_autoscale_status

    snap = _load(capture)
    rel = release.value if release else release_for(snap)
    df = autoscale_status(snap, release=rel, mon_target_pg_per_osd=target_per_osd)
    if fmt is FrameFormat.json:
        _out(autoscale_status_json(df, release=rel))
    elif fmt is FrameFormat.csv:
        _out(df.to_csv(index=False))
    else:
        _out(format_autoscale_status(df, release=rel))
        if explain:
            _out("\n" + "".join(f"{r.pool_name}: {r.reason}\n" for r in df.itertuples()))


@app.command()
def pgcalc(
    osds: Annotated[int, typer.Option("--osds", help="Number of OSDs.")],
    preset: Annotated[str, typer.Option(help="Use case, as in the calculator: all_in_one, openstack, openstack_rgw, rgw, openstack_rgw_infernalis, rgw_infernalis, rbd; and cephfs (pgtools' own).")] = "openstack",
    target_per_osd: Annotated[int, typer.Option("--target-per-osd", help="Target PGs per OSD: 100 (OSD count not expected to grow), 200 (may double), 300 (the later calculator's 2-3x growth).")] = 100,
    size: Annotated[int, typer.Option(help="Replicas (k+m for EC).")] = 3,
    script: Annotated[bool, typer.Option("--script", help="Round like the calculator's script (floor, power-of-two minimum) instead of its written rules.")] = False,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
) -> None:
    """PGCalc: pg_num per pool from target PGs per OSD and each pool's share of the data, steps shown."""
    from .mgr.pgcalc import pgcalc_preset
    from .text import snapshot as _format

    df = pgcalc_preset(preset, osds, target_per_osd=target_per_osd, size=size, script=script)
    if fmt is FrameFormat.csv:
        _out(df.to_csv(index=False))
    elif fmt is FrameFormat.json:
        _out(df.to_json(orient="records", indent=1) + "\n")
    else:
        _out(_format.frame_text(df.drop(columns=["reason"])))
        _out("\n" + "".join(f"{r.pool}: {r.reason}\n" for r in df.itertuples()))
        total = int((df["final"] * df["size"]).sum())
        _out(f"\ntotal {total} PG replicas = {total / osds:.1f} per OSD (target {target_per_osd})\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning pgtools errors into one line and exit status 2.

    Warnings are printed as one ``pgtools: warning: ...`` line each (once per message, no source line).
    """
    shown: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        text = f"pgtools: warning: {message}"
        if text not in shown:
            shown.add(text)
            _err(text)

    with warnings.catch_warnings():
        warnings.showwarning = show
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int):
            return rc
    except PgtoolsError as e:
        _err(f"pgtools: error: {e}")
        return 2
    except (ValueError, KeyError, FileNotFoundError) as e:
        _err(f"pgtools: error: {e}")
        return 2
    except OSError as e:  # an output path that cannot be written (a file where a folder is wanted, no permission...)
        _err(f"pgtools: error: {e.filename}: {e.strerror}" if e.filename else f"pgtools: error: {e}")
        return 2
    except typer.Exit as e:
        return e.exit_code or 0
    except SystemExit as e:
        return int(e.code or 0)
    except KeyboardInterrupt:
        _err("pgtools: interrupted")
        return 130
    except Exception as e:  # usage errors from typer's (vendored) click, and internal errors
        name = type(e).__name__
        if name == "Abort":
            return 1
        fmt_msg = getattr(e, "format_message", None)
        if callable(fmt_msg) and hasattr(e, "exit_code"):
            _err(f"pgtools: error: {fmt_msg()} (see --help)")
            return 2
        if os.environ.get("PGTOOLS_DEBUG"):
            raise
        _err(f"pgtools: internal error: {name}: {e} (set PGTOOLS_DEBUG=1 for a traceback)")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
