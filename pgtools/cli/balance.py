"""Balancer commands: ``balance`` (a balancer mode's plan, or the mgr's own) and ``upmaps`` (hygiene, pins, drains).

Both print the plan's ``ceph osd ...`` lines for a human to run, never run them; every plan is simulated
exactly (:func:`pgtools.balance.simulate_plan`) and ordered into rounds under ``target_max_misplaced_ratio``.
"""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, Optional

import typer

from .app import DumpArg, SetOptionOpt, json_number, load_dumps, pool_key, with_options, write_err, write_out


class Mode(str, Enum):
    count = "count"
    capacity = "capacity"
    primary = "primary"


class BalanceFormat(str, Enum):
    table = "table"
    json = "json"
    commands = "commands"


PoolOpt = Annotated[Optional[list[str]], typer.Option("--pool", help="Only this pool (name or id; repeatable).")]  # noqa: UP045
FormatOpt = Annotated[BalanceFormat, typer.Option("--format", help="table (summary, per-OSD before/after, rounds), json, or commands (the ceph lines only, as osdmaptool --upmap writes them).")]  # noqa: E501
MaxMisplacedOpt = Annotated[Optional[float], typer.Option("--max-misplaced", min=0.0, max=1.0, help="Misplaced budget of a round (default: target_max_misplaced_ratio of the capture, else 0.05).")]  # noqa: UP045


@contextmanager
def _progress(label: str):
    """A transient progress bar on stderr when it is a terminal; yields ``step(i, n, label)`` (or a no-op)."""
    if not sys.stderr.isatty():
        yield lambda i, n, text: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as prog:
        task = prog.add_task(label, total=None)

        def step(i: int, n: int, text: str) -> None:
            prog.update(task, completed=i, total=n, description=text[:60])

        yield step


def _pools(values: list[str] | None):
    return None if not values else [pool_key(v) for v in values]


def _fmt_pct(v) -> str:
    return "-" if v is None else f"{v:.2f}%"


def _unknown_sizes(s: dict) -> str:
    """What the bytes moved leave out: PGs the capture's PG table does not have."""
    n = s.get("pgs_changed_without_stats") or 0
    if not n:
        return ""
    return (" (sizes unknown: the capture has no PG table)" if not s.get("pg_table", True) else
            f" (+ {n} PGs of unknown size: not in the capture's PG table)")


def _report_text(title: str, lines: list[str], result, show_rounds: bool = True, pins: bool = False) -> str:
    """The table format: a summary, the per-OSD before/after, the rounds' commands."""
    from ..text.snapshot import frame_text
    from ..units import human_bytes

    s = result.summary
    out = [title, *lines,
           f"upmap commands: {s['items']}",
           (f"backfill cancelled: {s['pgs_moved']} PGs stay where they are ({human_bytes(s['bytes_moved'])} that no "
            "longer move)" if pins else
            f"movement: {s['pgs_moved']} PGs, {s['shards_moved']} shards, {human_bytes(s['bytes_moved'])}"
            + _unknown_sizes(s)),
           f"PGs per OSD (all pools) vs target: max deviation {s['max_deviation_before']:.2f} -> "
           f"{s['max_deviation_after']:.2f}; "
           f"peak PGs on one OSD during the plan {s['peak_pgs_per_osd']}",
           f"%used: max {_fmt_pct(s['max_util_before'])} -> {_fmt_pct(s['max_util_after'])} "
           f"(peak {_fmt_pct(s['max_util_peak'])}; backfillfull {s['backfillfull_ratio']:.0%})"]
    if show_rounds:
        out.append(f"rounds: {s['rounds']} (each under target_max_misplaced_ratio {s['max_misplaced_ratio']:g}, "
                   f"{s['max_misplaced_ratio_source']}): misplaced "
                   + ", ".join(f"{r:.1%}" for r in s["round_misplaced_ratio"]))
    for key, what in (("over_budget", "alone above the misplaced budget"),
                      ("over_backfillfull", "would take an OSD past backfillfull")):
        if s[key]:
            out.append(f"note: {len(s[key])} PG(s) {what}, each in a round of its own: {', '.join(s[key][:10])}")
    out.append("health after: " + ("; ".join(s["health_after"]) or "no finding"))
    osds = result.osds.copy()
    osds = osds[(osds["pgs_before"] != osds["pgs_after"]) | (osds["pgs_before"] > 0)]
    text = "\n".join(out) + "\n\n" + frame_text(osds.assign(osd_id=[f"osd.{o}" for o in osds["osd_id"]])) + "\n"
    for i, p in enumerate(result.rounds.plans, 1):
        if show_rounds and len(result.rounds.plans) > 1:
            text += f"# round {i} (misplaced {result.rounds.misplaced_ratio[i - 1]:.1%}; run once the previous " \
                    "round has finished backfilling)\n"
        text += p.text
    return text


def _emit(fmt: BalanceFormat, plan, result_fn, title: str, lines: list[str], extra: dict | None = None,
          pins: bool = False) -> None:
    if fmt is BalanceFormat.commands:
        write_out(plan.text)
        return
    if not plan.commands:
        if fmt is BalanceFormat.json:
            import json

            write_out(json.dumps({"summary": {"items": 0}, "osds": [], "plan": {"commands": []}, "rounds": [],
                                  **(extra or {})}, indent=1) + "\n")
        else:
            write_out("\n".join([title, *lines, "nothing to do: no upmap change"]) + "\n")
        return
    with _progress("simulating the plan") as step:
        result = result_fn(step)
    if fmt is BalanceFormat.json:
        import json

        write_out(json.dumps({**result.to_dict(), **(extra or {})}, indent=1, default=str) + "\n")
    else:
        write_out(_report_text(title, lines, result, show_rounds=not pins, pins=pins))


def balance_cmd(
    capture: DumpArg,
    mode: Annotated[Mode, typer.Option("--mode", help="count: PGs per OSD; capacity: %used; primary: primaries (pg-upmap-primary).")] = Mode.count,
    pool: PoolOpt = None,
    max_deviation: Annotated[Optional[int], typer.Option("--max-deviation", min=1, help="Stop when every OSD is within this many PGs of its target (with --like-mgr: upmap_max_deviation, default the capture's or 5).")] = None,  # noqa: UP045
    max_moves: Annotated[Optional[int], typer.Option("--max-moves", min=1, help="At most this many changes (with --like-mgr: upmap_max_optimizations, default the capture's or 10).")] = None,  # noqa: UP045
    like_mgr: Annotated[bool, typer.Option("--like-mgr", help="What the mgr's balancer would do (calc_pg_upmaps pool by pool with its settings).")] = False,
    release: Annotated[Optional[str], typer.Option("--release", callback=_check_placement_release, help="Ceph release whose balancer and checks to follow: pacific, reef or tentacle (default: the capture's; the read balancer needs reef or later).")] = None,  # noqa: UP045
    aggressive: Annotated[Optional[bool], typer.Option("--aggressive/--no-aggressive", help="With --like-mgr: osd_calc_pg_upmaps_aggressively (default: the capture's config, else Ceph's default true, under which the mgr shuffles and its plan is one of many; false: deterministic).")] = None,  # noqa: UP045
    compare: Annotated[bool, typer.Option("--compare", help="Show this mode's plan and the mgr's (--like-mgr) side by side: deviation before/after, commands, upmap entries, PGs and bytes moved, rounds.")] = False,
    search_budget: Annotated[Optional[int], typer.Option("--search-budget", min=0, help="--mode count: checks the chain search may make (a candidate upmap verified as Ceph verifies it; default 20 per PG shard, at least 200,000: seconds on 1,000 OSDs). A warning says when it ran out.")] = None,  # noqa: UP045, E501
    max_misplaced: MaxMisplacedOpt = None,
    option: SetOptionOpt = None,
    fmt: FormatOpt = BalanceFormat.table,
) -> None:
    """Plan pg-upmap-items (or pg-upmap-primary) that balance the cluster, simulated before anything is run.

    The plan is simulated exactly and split into rounds, each under target_max_misplaced_ratio with no OSD
    past backfillfull; the commands are printed, never run.

    JSON: {"summary": {...}, "osds": [{"osd_id", "target", "pgs_before", "pgs_after", "pgs_peak",
    "util_before", "util_after", "util_peak"}], "plan": {"commands"}, "rounds": [{"round", "commands",
    "misplaced_ratio"}], "mode", "like_mgr", "settings"}; in count mode where ±1 is impossible also
    "bound": {"feasible", "min_deviation" (proven smallest max deviation), "reasons", "reached", "achieved"...}.

    With --compare: one row per plan (JSON: {"compare": [rows]}); --max-deviation and --max-moves go to both.

    Example:  pgtools balance sample_dumps/mixed --like-mgr --format commands
    """
    from ..balance import mgr_settings, plan, simulate_plan

    if compare and (like_mgr or fmt is BalanceFormat.commands):
        raise typer.BadParameter("--compare shows two plans: not with --like-mgr or --format commands")
    if compare and mode is Mode.primary:
        raise typer.BadParameter("--compare measures PG counts: it goes with --mode count or capacity")
    snap = with_options(load_dumps(capture), option)
    _require_placement(snap)
    pools = _pools(pool)
    if compare:
        _compare(snap, mode, pools, max_deviation, max_moves, max_misplaced, fmt, release, search_budget)
        return
    lines = []
    settings = {}
    if like_mgr:
        st = mgr_settings(snap, max_deviation=max_deviation, max_optimizations=max_moves, aggressive=aggressive)
        settings = {"upmap_max_deviation": st.max_deviation, "upmap_max_deviation_source": st.max_deviation_source,
                    "upmap_max_optimizations": st.max_optimizations,
                    "upmap_max_optimizations_source": st.max_optimizations_source,
                    "osd_calc_pg_upmaps_aggressively": st.aggressive,
                    "osd_calc_pg_upmaps_aggressively_source": st.aggressive_source}
        lines.append(f"as the mgr's balancer: upmap_max_deviation {st.max_deviation} ({st.max_deviation_source}), "
                     f"upmap_max_optimizations {st.max_optimizations} ({st.max_optimizations_source}), "
                     f"osd_calc_pg_upmaps_aggressively {str(st.aggressive).lower()} ({st.aggressive_source}); pools in "
                     "id order (the mgr shuffles them)")
    elif aggressive is not None:
        raise typer.BadParameter("--aggressive/--no-aggressive is the mgr's option: it goes with --like-mgr")
    with _progress(f"{mode.value} balancer") as step:
        step(0, 1, f"{mode.value} balancer")
        up = plan(snap, mode.value, like_mgr=like_mgr, pools=pools, max_deviation=max_deviation,
                  max_moves=max_moves, ceph_release=release, aggressive=aggressive, search_budget=search_budget)
    if like_mgr and mode is Mode.count and not up.exact:
        from ..errors import PgtoolsWarning

        warnings.warn("this is one run of the mgr's balancer, not the run: "
             + ("with osd_calc_pg_upmaps_aggressively true it shuffles at random (pgtools: seeded)"
                if st.aggressive else "it shuffles the pools and its budget ran out before the last")
             + "; --no-aggressive (and one --pool) gives the deterministic, exact run", PgtoolsWarning, stacklevel=1)
    title = f"balance --mode {mode.value}" + (" --like-mgr" if like_mgr else "")
    extra: dict = {"mode": mode.value, "like_mgr": like_mgr, "settings": settings}
    bound = (getattr(up, "summary", None) or {}).get("bound")
    if bound:  # where ±1 is impossible: the proven minimum and whether the plan reaches it
        extra["bound"] = bound
    lines += _pool_lines(up, mode, len(snap.pools))
    if mode is Mode.capacity and len(getattr(up, "pools", ())):
        extra["max_avail"] = [{"pool_id": int(r.pool_id), "pool": str(r.pool), "before": json_number(r.max_avail_before),
                               "after": json_number(r.max_avail_after)} for r in up.pools.itertuples()]
    if mode is Mode.primary:
        scores = _read_scores(snap, up, pools, release)
        extra["read_balance"] = scores
        lines += [f"read balance score {r['pool']}: {r['before']} -> {r['after']} (optimal {r['optimal']})"
                  for r in scores]
    _emit(fmt, up, lambda step: simulate_plan(snap, up, max_misplaced=max_misplaced, progress=step,
                                              ceph_release=release), title, lines, extra)


def _pool_lines(up, mode: Mode, n_pools: int) -> list[str]:
    """What pgtools' own count and capacity balancers achieve on the pools they balanced (the table's
    other figures are over all pools): the worst deviation per pool and summed over those pools; the MAX AVAIL
    each pool gains (capacity)."""
    from ..units import human_bytes

    s = getattr(up, "summary", None) or {}
    pools = getattr(up, "pools", None)
    out = []
    if mode is Mode.count and "max_dev_before" in s and pools is not None and len(pools):
        per = f"worst deviation in one pool {s['max_dev_before']:.2f} -> {s['max_dev_after']:.2f} PGs"
        if len(pools) == n_pools:  # the summed figure is the all-pools line's
            out.append(f"PGs per OSD per pool vs target: {per}")
        else:
            out.append(f"balanced pools ({', '.join(str(p) for p in pools['pool'])}): {per}, summed over them "
                       f"{s['total_dev_before']:.2f} -> {s['total_dev_after']:.2f}")
    if mode is Mode.capacity and pools is not None and "max_avail_before" in getattr(pools, "columns", ()):
        for r in pools.itertuples():
            if json_number(r.max_avail_before) is None or json_number(r.max_avail_after) is None:
                continue
            gain = r.max_avail_after - r.max_avail_before
            out.append(f"MAX AVAIL {r.pool}: {human_bytes(r.max_avail_before)} -> {human_bytes(r.max_avail_after)} "
                       f"({'+' if gain >= 0 else '-'}{human_bytes(abs(gain))})")
    return out


def _require_placement(snap) -> None:
    """Balancing recomputes placement: say what is missing first, before any release guess or plan."""
    from ..placement.osdmap import require_placement

    require_placement(snap, "balancing")


def _check_placement_release(value: str | None) -> str | None:
    """``--release`` of ``balance``: a release whose balancer pgtools emulates."""
    from ..mgr.releases import MODELLED

    if value is None:
        return None
    v = value.strip().lower()
    if v not in MODELLED:
        raise typer.BadParameter(f"the balancer is modelled for {', '.join(MODELLED)}, not {value!r}")
    return v


def _read_scores(snap, up, pools, release) -> list[dict]:
    """Per replicated pool: Ceph's read balance score (``%.2f``, as ``ceph osd pool ls detail``) before and after
    the primary plan."""
    from ..balance import read_balance_score

    before = read_balance_score(snap, pools=pools, ceph_release=release).set_index("pool_id")
    after = read_balance_score(up.apply(snap), pools=pools, ceph_release=release).set_index("pool_id")
    return [{"pool_id": int(pid), "pool": str(r["pool_name"]), "before": str(r["read_balance_score"]),
             "after": str(after.at[pid, "read_balance_score"]), "optimal": f"{r['optimal_score']:.2f}"}
            for pid, r in before.iterrows() if not r["error_message"]]


def _compare(snap, mode: Mode, pools, max_deviation, max_moves, max_misplaced, fmt: BalanceFormat,
             release: str | None, search_budget: int | None = None) -> None:
    """``balance --compare``: pgtools' plan of ``mode`` and the mgr's, measured alike."""
    from ..balance import plan
    from ..balance.compare import compare_plans

    with _progress("balancers") as step:
        step(0, 2, f"{mode.value} balancer")
        ours = plan(snap, mode.value, pools=pools, max_deviation=max_deviation, max_moves=max_moves,
                    ceph_release=release, search_budget=search_budget)
        step(1, 2, "the mgr's balancer")
        mgr = plan(snap, "count", like_mgr=True, pools=pools, max_deviation=max_deviation, max_moves=max_moves,
                   ceph_release=release)
        step(2, 2, "simulating the plans")
        table = compare_plans(snap, {f"pgtools {mode.value}": ours, "mgr (--like-mgr)": mgr},
                              max_misplaced=max_misplaced, ceph_release=release)
    if fmt is BalanceFormat.json:
        import json

        write_out(json.dumps({"compare": table.to_dict("records"), "mode": mode.value}, indent=1, default=str) + "\n")
        return
    import pandas as pd

    from ..text.snapshot import frame_text
    from ..units import human_bytes

    def cell(key: str, v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "-"
        if key == "bytes_moved":
            return human_bytes(v)
        if key == "max_util_after":
            return _fmt_pct(v)
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    rows = [{"": key, **{r["plan"]: cell(key, r[key]) for r in table.to_dict("records")}}
            for key in table.columns if key != "plan"]
    write_out(f"balance --mode {mode.value} --compare (deviation: |PGs - target| of an OSD, in one pool or summed "
              "over the pools)\n\n" + frame_text(pd.DataFrame(rows)) + "\n")


def upmaps_cmd(
    capture: DumpArg,
    clean: Annotated[bool, typer.Option("--clean", help="Remove the upmap entries Ceph would clean and those that change nothing.")] = False,
    pin_remapped: Annotated[bool, typer.Option("--pin-remapped", help="Pin remapped PGs to their acting sets (upmap-remapped): backfill stops; prints the release rounds.")] = False,
    drain: Annotated[Optional[list[str]], typer.Option("--drain", help="osd.N or a CRUSH bucket (host) to move the PGs off (repeatable).")] = None,  # noqa: UP045
    max_moves_per_osd: Annotated[Optional[int], typer.Option("--max-moves-per-osd", min=1, help="With --drain: at most this many PGs leave or enter each OSD in this plan.")] = None,  # noqa: UP045
    pool: PoolOpt = None,
    max_misplaced: MaxMisplacedOpt = None,
    option: SetOptionOpt = None,
    fmt: FormatOpt = BalanceFormat.table,
) -> None:
    """Upmap hygiene: clean redundant entries, pin remapped PGs (and release them in rounds), drain OSDs.

    Give exactly one of --clean, --pin-remapped, --drain.  The commands are printed, never run.

    Example:  pgtools upmaps sample_dumps/seedlike_max300 --drain osd.3 --max-moves-per-osd 4
    """
    from ..balance import clean_upmaps, order_rounds, simulate_plan, unpin, upmap_issues
    from ..balance import drain as drain_fn
    from ..balance import pin_remapped as pin_fn

    if sum([clean, pin_remapped, bool(drain)]) != 1:
        raise typer.BadParameter("give exactly one of --clean, --pin-remapped, --drain")
    if max_moves_per_osd is not None and not drain:
        raise typer.BadParameter("--max-moves-per-osd goes with --drain")
    from ..balance.drain import drain_osds

    snap = with_options(load_dumps(capture), option)
    _require_placement(snap)
    extra: dict = {}
    lines: list[str] = []
    drained: list[int] = []
    rounds = True
    if clean:
        title = "upmaps --clean"
        issues = upmap_issues(snap)
        up = clean_upmaps(snap)
        lines += [f"  {r.pgid}: {r.action} ({r.reason})" for r in issues.itertuples()]
        extra["issues"] = [{**r, "items": [list(p) for p in r["items"]], "new_items": [list(p) for p in r["new_items"]]}
                           for r in issues.to_dict("records")]
        rounds = False
    elif pin_remapped:
        title = "upmaps --pin-remapped (the up sets go back to the acting sets: the backfill of these PGs stops)"
        up = pin_fn(snap)
        pinned = up.apply(snap)
        pinned = pinned.replace(osdmap=pinned.osdmap.replace(pg_temp={}, primary_temp={}))
        release = order_rounds(pinned, unpin(snap, up), max_misplaced=max_misplaced)
        lines += [f"  skipped {r.pgid}: {r.reason}" for r in up.skipped.itertuples()]
        if release.plans:
            lines += [f"release later, in {len(release.plans)} round(s) under target_max_misplaced_ratio "
                      f"{release.max_misplaced:g} (each once the previous has finished backfilling):"]
        lines += [f"  # release round {i}\n" + "".join(f"  {c}\n" for c in p.commands).rstrip("\n")
                  for i, p in enumerate(release.plans, 1)]
        extra["skipped"] = up.skipped.astype(str).to_dict("records")
        extra["release_rounds"] = [{"round": i, "commands": p.commands, "misplaced_ratio": r}
                                   for i, (p, r) in enumerate(zip(release.plans, release.misplaced_ratio,
                                                                  strict=True), 1)]
        rounds = False
    else:
        title = "upmaps --drain " + " ".join(drain or [])
        up = drain_fn(snap, drain or [], max_moves_per_osd=max_moves_per_osd, pools=_pools(pool))
        drained = drain_osds(snap, drain or [])
        lines.append(f"targets and deviations: without the drained OSD(s) {', '.join(f'osd.{o}' for o in drained)}")
        if len(up.skipped):
            lines.append(f"  {len(up.skipped)} PG(s) stay for now: "
                         + "; ".join(f"{r}: {n}" for r, n in up.skipped["reason"].value_counts().items()))
        extra["skipped"] = up.skipped.astype(str).to_dict("records")
    _emit(fmt, up, lambda step: simulate_plan(snap, up, max_misplaced=max_misplaced, rounds=rounds, progress=step,
                                              drained=drained), title, lines, extra, pins=pin_remapped)
    if fmt is not BalanceFormat.commands and pin_remapped and not up.commands:
        skipped = len(getattr(up, "skipped", ()))
        write_err(f"none of the {skipped} remapped PG(s) can be pinned (see above)" if skipped else
                  "no remapped PG to pin")
