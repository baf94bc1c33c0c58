"""What-if commands: ``whatif``, ``fix-too-many-pgs`` and ``report``, and the change flags they share
(``--pg-num``, ``--fail``, ``--change KIND:ARGS``, ...) turned into :mod:`pgtools.simulate` changes."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import PgtoolsError
from .app import (
    By,
    CrushWeightOpt,
    DumpArg,
    FrameFormat,
    MarkOutOpt,
    OutAliasOpt,
    OutOsdAliasOpt,
    OutputAliasOpt,
    PgNumOpt,
    PgpNumOpt,
    ReweightOpt,
    SetOptionOpt,
    load_dumps,
    merge_alias,
    parse_osd_id,
    parse_pairs,
    pool_key,
    with_options,
    write_err,
    write_out,
)


class PlanFormat(str, Enum):
    text = "text"
    table = "table"  # old name of text
    json = "json"
    csv = "csv"


def _check_pool_flags(snap, purpose: str, **flags: list[str] | None) -> None:
    """Every pool named in ``--pg-num``/``--pgp-num`` (given as ``pg_num=[...]``) exists: else one error naming the flag.

    What ``purpose`` needs (the CRUSH map, ...) is checked first: that error says more than a missing pool.
    """
    from ..placement.osdmap import require_placement

    require_placement(snap, purpose)
    pools = snap.pools
    ids = set(pools["pool_id"].astype(int))
    names = set(pools["pool"].astype(str)) if "pool" in pools.columns else set()
    listing = ", ".join(f"{n} ({i})" for i, n in zip(pools["pool_id"], pools.get("pool", pools["pool_id"]),
                                                     strict=True))
    for name, values in flags.items():
        flag = "--" + name.replace("_", "-")
        for k, v in parse_pairs(values, flag, str):
            if not ((k.isdigit() and int(k) in ids) or k in names):
                raise PgtoolsError(f"{flag} {k}={v}: no such pool (pools: {listing or 'none'})")


def _changes(*, pg_num=None, pgp_num=None, crush_weight=None, reweight=None, out=None, fail=None,
             add_host=None, change=None) -> list:
    """Build simulate changes from CLI flags, in a fixed order: topology, weights, out/fail, pg_num/pgp_num."""
    from ..simulate import AddHost, CrushWeight, Fail, MarkOut, Reweight, SetPgNum, SetPgpNum

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
    for k, w in parse_pairs(crush_weight, "--crush-weight"):
        if not 0.0 <= float(w) < 65536.0:  # CRUSH weights are 16.16 fixed point, never negative
            raise typer.BadParameter(f"--crush-weight {k}={w}: a CRUSH weight must be from 0 to below 65536")
        changes.append(CrushWeight(parse_osd_id(k, "--crush-weight"), w))
    for k, w in parse_pairs(reweight, "--reweight"):
        if not 0.0 <= float(w) <= 1.0:
            raise typer.BadParameter(f"--reweight {k}={w}: the reweight must be in [0, 1]")
        changes.append(Reweight(parse_osd_id(k, "--reweight"), w))
    changes += [MarkOut(parse_osd_id(o, "--mark-out")) for o in out or []]
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
                items.append(parse_osd_id(item, "--fail"))
            else:  # TYPE=NAME: the bucket's CRUSH type is checked against TYPE when the plan runs
                items.append(f"{kind.strip()}={item}" if sep else item)
        changes.append(Fail(*items))
    changes += [SetPgNum(pool_key(k), int(v)) for k, v in parse_pairs(pg_num, "--pg-num", int)]
    changes += [SetPgpNum(pool_key(k), int(v)) for k, v in parse_pairs(pgp_num, "--pgp-num", int)]
    changes += [_change_spec(c) for c in change or []]
    return changes


_CHANGE_HELP = ("KIND:ARGS, applied after the other flags in the order given: primary-affinity:OSD=W, in:OSD, "
                "down:OSD, remove-osd:OSD, add-osd:HOST:WEIGHT[:CLASS], remove-bucket:NAME, move-bucket:NAME=PARENT, "
                "pool-size:POOL=SIZE[:MIN_SIZE], pool-rule:POOL=RULE (id or name), create-pool:NAME:PG_NUM[:SIZE[:RULE]], "
                "delete-pool:POOL, upmap:PGID=FROM:TO[,FROM:TO], rm-upmap:PGID, upmap-primary:PGID=OSD, "
                "rm-upmap-primary:PGID, "
                "reweight-by-utilization[:OLOAD[:MAX_CHANGE[:MAX_OSDS]]], reweight-by-pg[:OLOAD[:MAX_CHANGE[:MAX_OSDS]]]")


ChangeOpt = Annotated[Optional[list[str]], typer.Option("--change", help=_CHANGE_HELP)]  # noqa: UP045


def _rule_key(text: str) -> int | str:
    """A CRUSH rule given on the command line: its id, or its name (what Ceph's commands take)."""
    return int(text) if text.lstrip("-").isdigit() else text


def _change_spec(spec: str):
    """One `--change KIND:ARGS` (see _CHANGE_HELP) -> a simulate Change."""
    from .. import simulate as sim

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
            return sim.PrimaryAffinity(parse_osd_id(k, "--change"), float(v))
        if kind in ("in", "down", "remove-osd"):
            cls = {"in": sim.MarkIn, "down": sim.MarkDown, "remove-osd": sim.RemoveOsd}[kind]
            return cls(parse_osd_id(args, "--change"))
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
            return sim.SetPoolSize(pool_key(k), int(size), int(mn) if mn else None)
        if kind == "pool-rule":
            k, v = kv(args)
            return sim.SetPoolRule(pool_key(k), _rule_key(v))
        if kind == "create-pool":
            parts = args.split(":")
            if not 2 <= len(parts) <= 4 or not parts[0]:
                raise bad("expected create-pool:NAME:PG_NUM[:SIZE[:RULE]]")
            return sim.CreatePool(parts[0], *(int(x) for x in parts[1:3]), *(_rule_key(x) for x in parts[3:]))
        if kind == "delete-pool" and args:
            return sim.DeletePool(pool_key(args))
        if kind == "upmap":
            k, v = kv(args)
            pairs = []
            for pair in v.split(","):
                a, sep, b = pair.partition(":")
                if not sep:
                    raise bad("expected upmap:PGID=FROM:TO[,FROM:TO]")
                pairs.append((parse_osd_id(a, "--change"), parse_osd_id(b, "--change")))
            return sim.AddUpmapItems(k, tuple(pairs))
        if kind == "rm-upmap" and args:
            return sim.RemoveUpmapItems(args)
        if kind == "upmap-primary":
            k, v = kv(args)
            return sim.SetPgUpmapPrimary(k, parse_osd_id(v, "--change"))
        if kind == "rm-upmap-primary" and args:
            return sim.RemovePgUpmapPrimary(args)
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


FailOpt = Annotated[Optional[list[str]], typer.Option("--fail", help="host=NAME, any CRUSH bucket name, or osd.N: lose it. Comma-separated items (rack=r1,host=n3) fail together in one step; each --fail is a step of its own.")]  # noqa: UP045
AddHostOpt = Annotated[Optional[list[str]], typer.Option("--add-host", help="NAME:COUNT:WEIGHT[:CLASS]: a new host with COUNT OSDs.")]  # noqa: UP045


def _run_plan(snap, changes: list, stepwise: bool, checks: bool = True, assume_clean: bool = False):
    from ..placement.osdmap import require_placement
    from ..simulate import simulate

    require_placement(snap, "a what-if simulation")  # before the progress bar, which would leave a blank line
    if not sys.stderr.isatty():  # a bar on a pipe or file is only a stray blank line (and rich is not imported)
        return simulate(snap, changes, stepwise=stepwise, checks=checks, assume_clean=assume_clean)
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as prog:
        task = prog.add_task("simulating", total=None)

        def step(i: int, n: int, label: str) -> None:
            prog.update(task, completed=i, total=n, description=label[:60])

        return simulate(snap, changes, stepwise=stepwise, progress=step, checks=checks, assume_clean=assume_clean)


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
    from ..text.plan import plan_csv, plan_json, plan_text

    out = merge_alias(mark_out, out_alias, "--mark-out", "--out")
    changes = _changes(pg_num=pg_num, pgp_num=pgp_num, crush_weight=crush_weight, reweight=reweight, out=out,
                       fail=fail, add_host=add_host, change=change)
    if not changes:
        raise typer.BadParameter("give at least one change (--pg-num, --crush-weight, --mark-out, --fail, ...)")
    snap = with_options(load_dumps(capture), option)
    _check_pool_flags(snap, "a what-if simulation", pg_num=pg_num, pgp_num=pgp_num)
    plan = _run_plan(snap, changes, stepwise, assume_clean=assume_clean)
    if fmt is PlanFormat.json:
        write_out(plan_json(plan) + "\n")
    elif fmt is PlanFormat.csv:
        write_out(plan_csv(plan))
    else:
        write_out(plan_text(plan))


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
    from ..analysis.recommend import fix_too_many_pgs, options_frame
    from ..text import snapshot as _format

    max_per_osd = merge_alias(max_per_osd, max_alias, "--mon-max-pg-per-osd", "--max-per-osd")
    snap = with_options(load_dumps(capture), option)
    options = fix_too_many_pgs(snap, max_per_osd=max_per_osd, min_pg_num=min_pg_num)
    if not options:
        write_out("PGs per OSD are already within the limit: nothing to fix\n")
        return
    df = options_frame(options)
    if fmt is FrameFormat.json:
        write_out(df.to_json(orient="records", indent=1) + "\n")
        return
    if fmt is FrameFormat.csv:
        write_out(df.assign(commands=df.commands.map(" && ".join)).to_csv(index=False))
        return
    table = df.drop(columns=["commands", "note"]).assign(bytes_moved=df.bytes_moved.map(_format.human_bytes))
    write_out(_format.frame_text(table))
    for i, o in enumerate(options, 1):
        write_out(f"\n{i}. {o.name}" + (f"  ({o.note})" if o.note else "") + "\n")
        write_out("".join(f"   {c}\n" for c in o.commands))


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
    from ..report.document import build_report

    out = merge_alias(output, out_alias, "-o/--output", "--out") or Path("report.html")
    out_osd = merge_alias(mark_out, out_osd_alias, "--mark-out", "--out-osd")
    if out.is_dir():
        raise PgtoolsError(f"{out}: is a folder; give the HTML file to write (e.g. {out / 'report.html'})")
    snap = load_dumps(capture)
    changes = _changes(pg_num=pg_num, pgp_num=pgp_num, crush_weight=crush_weight, reweight=reweight, out=out_osd,
                       fail=fail, add_host=add_host)
    if changes:
        _check_pool_flags(snap, "a what-if simulation", pg_num=pg_num, pgp_num=pgp_num)
    plans = [_run_plan(snap, changes, stepwise)] if changes else None
    html = build_report(snap, title=title, by=by.value, what_if=plans)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    write_err(f"wrote {out} ({len(html) // 1024} KiB)")


