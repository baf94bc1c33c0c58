"""The simulation loop (see :mod:`pgtools.simulate` for the model).

:func:`simulate` runs the changes step by step: the monitor's verdict (:mod:`.refusals`), the step's
changes (:func:`~pgtools.simulate.mgr_changes.expand` for stepwise pg_num), the new placement and data
(:mod:`.state`), failures (:mod:`.failures`), then each step's load and health (:mod:`.metrics`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..mgr.capacity import pool_max_avail
from ..mgr.counts import pgs_per_osd_arrays
from ..mgr.health import health_findings
from ..model import Snapshot
from ..placement.mapping import PoolMapping, mapping_frame
from ..placement.osdmap import require_placement
from ..placement.pipeline import map_pool_arrays
from .availability import lost_findings
from .changes import pool_name, rule_name
from .failures import FAILURE_COLUMNS, Fail, drop_lost, failure_rows, failure_stats
from .metrics import full_ratio_values, fullness_findings, osd_load, standing_findings
from .mgr_changes import expand
from .plan import Plan
from .pool_changes import CreatePool, SetPoolRule
from .refusals import refusal
from .state import State, initial_data, pool_meta, remap_step, step_state, up_matrix, with_pgs

__all__ = ["simulate"]


def _max_avail(state: State, load: pd.DataFrame, full_ratio: float) -> dict[int, float]:
    """``ceph df`` MAX AVAIL per pool (bytes): :func:`pgtools.mgr.capacity.pool_max_avail` on projected OSD space.

    Each OSD's available KiB is the capture's (the PG map's OSD statistics when present, as Ceph uses) minus the
    projected growth of its used KiB.
    """
    snap = state.snap
    lk = load.drop_duplicates("osd_id").set_index("osd_id")
    osds = snap.osds.drop_duplicates("osd_id").set_index("osd_id")
    used0 = pd.to_numeric(osds.get("kb_used", pd.Series(0.0, index=osds.index)), errors="coerce")
    src = snap.osd_stats if snap.osd_stats is not None and "kb_avail" in snap.osd_stats.columns else None
    if src is not None:
        avail0 = pd.to_numeric(src.drop_duplicates("osd_id").set_index("osd_id")["kb_avail"], errors="coerce")
    elif "kb_avail" in osds.columns:
        avail0 = pd.to_numeric(osds["kb_avail"], errors="coerce")
    else:
        avail0 = lk["kb"] - used0.reindex(lk.index)
    growth = (lk["kb_used"] - used0.reindex(lk.index).fillna(0.0)).fillna(0.0)
    avail = avail0.reindex(lk.index) - growth
    # new OSDs (no statistics yet) start empty
    avail = avail.fillna(lk["kb"] - lk["kb_used"])
    kb = lk["kb"].copy()
    if "in" in osds.columns:  # Ceph zeroes an out OSD's statistics: it no longer bounds MAX AVAIL
        out = osds.index[~osds["in"].fillna(True).astype(bool)]
        kb.loc[kb.index.intersection(out)] = 0.0
    return {int(k): float(v) for k, v in pool_max_avail(snap, kb=kb, kb_avail=avail,
                                                         full_ratio=full_ratio).items()}


def _commands(snap: Snapshot, changes: Sequence[Any]) -> list[str]:
    """Each change's commands, with pools and CRUSH rules given by id renamed (the CLI takes names)."""
    out: list[str] = []
    cur = snap
    for ch in changes:
        named = ch
        pool = getattr(ch, "pool", None)
        if pool is not None and not isinstance(pool, str):
            try:
                named = dataclasses.replace(ch, pool=pool_name(cur, pool))
            except PgtoolsError:
                named = ch
        if isinstance(ch, (SetPoolRule, CreatePool)):  # Ceph takes the rule's name, not its id
            named = dataclasses.replace(named, rule=rule_name(cur, ch.rule))
        out.extend(named.ceph_commands())
        cur = ch.apply(cur)
    return out


def _health_counts(st: State, load: pd.DataFrame) -> tuple[int, int, pd.Series | None]:
    """(PGs, Σ up-set sizes, PGs per OSD over up ∪ acting) of a state, from its arrays.

    ``load`` is the state's :func:`~pgtools.simulate.metrics.osd_load`: its ``pgs`` (up sets) are the PGs per
    OSD when every acting set is its up set.
    """
    n = len(st.up)
    if n == 0:
        return 0, 0, None
    # an up vector's size counts its NONE holes, not the -1 padding
    sum_up = int(sum(p.up.size - int(np.count_nonzero(p.up == -1)) for p in st.parts))
    if all(p.acting_equals_up() for p in st.parts):
        per = load.loc[load["pgs"] > 0, ["osd_id", "pgs"]]
        if int(per["pgs"].sum()) != int(st.up_count().sum()) or not per["osd_id"].is_unique:
            return n, sum_up, pgs_per_osd_arrays(st.up)  # an OSD of an up set the OSD table lacks
        return n, sum_up, pd.Series(per["pgs"].to_numpy(np.int64), dtype=np.int64,
                                    index=pd.Index(per["osd_id"].to_numpy(np.int64), name="osd_id")).sort_index()
    return n, sum_up, pgs_per_osd_arrays(st.up, up_matrix(st.parts, "acting"))


class _Step(NamedTuple):
    """What one step adds to the plan (see :func:`_record`)."""

    load: pd.DataFrame  # osd_load of the step (existing OSDs)
    load_rows: pd.DataFrame  # its rows of ``plan.osd_load``
    health: list[dict]
    pools: list[dict]
    row: dict
    moves: pd.DataFrame | None
    mapping: pd.DataFrame
    snap: Snapshot


def _record(i: int, label: str, st: State, ssnap: Snapshot, stats: dict, extra: list, base_load: pd.DataFrame | None,
            checks: bool, ratios: dict[str, float], refused: str = "") -> _Step:
    """Load, health, pools, movement and mapping of step ``i`` (``base_load``: step 0's bytes per OSD)."""
    load = osd_load(st, base_load)
    ld = load[load["exists"]]
    findings = []
    if checks:
        num_pgs, sum_up, per_osd = _health_counts(st, load)
        findings = [(f.code, f.severity, f.summary) for f in health_findings(
            ssnap, num_pgs=num_pgs, sum_up_sizes=sum_up, per_osd=per_osd)]
    findings += extra
    findings += fullness_findings(ld, ratios)
    health = [{"step": i, "code": code, "severity": sev, "summary": summ} for code, sev, summ in findings]
    avail = _max_avail(st, ld, ratios["full_ratio"])
    pools = [{"step": i, "pool_id": pid, "pool": mt["name"], "pg_num": mt["pg_num"], "pgp_num": mt["pgp_num"],
              "size": mt["size"], "max_avail": avail.get(pid)} for pid, mt in st.meta.items()]
    row = {"step": i, "change": label, **{k: stats.get(k, 0) for k in (
        "pgs_moved", "shards_moved", "bytes_moved", "objects_moved")},
        "max_pgs_per_osd": int(ld["pgs"].max()) if len(ld) else 0,
        "min_pgs_per_osd": int(ld["pgs"].min()) if len(ld) else 0,
        **{k: stats.get(k, 0) for k in ("pgs_lost", "pgs_inactive", "pgs_degraded", "bytes_lost",
                                         "objects_lost", "bytes_to_recover")},
        "health": "; ".join(dict.fromkeys(f[0] for f in findings)) or "HEALTH_OK", "refused": refused}
    moves = None
    if "movement" in stats and len(stats["movement"]):
        moves = stats["movement"].copy()
        moves.insert(0, "step", i)
    mapping = st.mapping.assign(bytes=np.round(st.bytes).astype(np.int64),
                                objects=np.round(st.objects).astype(np.int64))
    load_rows = pd.DataFrame({"step": i, "osd_id": ld["osd_id"], "pgs": ld["pgs"], "bytes": ld["bytes"],
                              "utilization": ld["utilization"]})
    return _Step(load, load_rows, health, pools, row, moves, mapping, ssnap)


#: The input step of the last two simulated snapshots: ``(snap, checks, parts, (state, step))``.  A Snapshot
#: is immutable by convention (as for :func:`pgtools.placement.osdmap.compile_snapshot`'s cache); the
#: entry is used only while :func:`~pgtools.placement.map_pool_arrays` returns the very same placement.
_INPUTS: list[tuple[Snapshot, bool, list, tuple[State, _Step]]] = []


def _same_placement(a: PoolMapping, b: PoolMapping) -> bool:
    """Whether two pool mappings hold the very same arrays (the mapping cache hands out new holders)."""
    return a.pool == b.pool and all(getattr(a, f) is getattr(b, f) for f in (
        "pps", "raw", "up", "up_primary", "acting", "acting_primary"))


def _input_step(snap: Snapshot, checks: bool, ratios: dict[str, float]) -> tuple[State, _Step]:
    """The state and the step-0 record of ``snap`` (computed once per snapshot: every what-if starts there)."""
    parts0 = map_pool_arrays(snap, reuse=True)
    for s, c, parts, got in _INPUTS:
        if s is snap and c == checks and len(parts) == len(parts0) and all(
                _same_placement(a, b) for a, b in zip(parts, parts0, strict=True)):
            return got
    m0 = mapping_frame(parts0)
    b0, o0 = initial_data(snap, m0)
    state = State(snap, parts0, m0, b0, o0, pool_meta(snap), up_matrix(parts0))
    step_snap = with_pgs(snap, m0, b0, o0)
    step = _record(0, "input", state, step_snap, {}, standing_findings(state, {}), None, checks, ratios)
    _INPUTS.append((snap, checks, parts0, (state, step)))
    del _INPUTS[:-2]  # a 1M-PG input step holds a few hundred MB: keep the last two
    return state, step


def simulate(snap: Snapshot, changes: Sequence[Any], *, stepwise: bool = False, misplaced: Any = None,
             progress: Callable[[int, int, str], None] | None = None, checks: bool = True,
             assume_clean: bool = False) -> Plan:
    """Apply ``changes`` to ``snap`` and report placement, movement, load and health per step.

    Parameters
    ----------
    snap : Snapshot
        Needs pools, OSDs, the CRUSH map and (for bytes) PG statistics.
    changes : sequence of Change
        Applied cumulatively in order; one step per change.
    stepwise : bool
        Expand pg_num/pgp_num changes into the mgr's intermediate states (one step each).
    misplaced : callable or float, optional
        Misplaced ratio model passed to :func:`pgtools.mgr.pgnum.pgp_num_steps` (default 0: each step
        completes before the next).
    progress : callable, optional
        Called as ``progress(step, total, label)`` after each step.
    assume_clean : bool
        With ``stepwise``: ignore the capture's PG states (inactive, degraded, unknown, creating,
        misplaced) and start the mgr's stepping as if every PG were active+clean.  By default a capture
        taken mid-recovery makes the first pgp_num decision a wait (see :func:`pgtools.mgr.pgnum.pgp_num_steps`).
    checks : bool
        Run the PG-count checks of :func:`pgtools.analysis.health` on every step (counted on the placement
        arrays: a few milliseconds at 32k PGs).  Fullness and failure findings are always reported.

    Returns
    -------
    Plan
        When the monitor would refuse a change (:func:`pgtools.simulate.refusals.refusal`: pg_num above
        ``mon_max_pool_pg_num`` or over the PG limit of ``check_pg_num``, pgp_num above pg_num, an upmap
        naming a PG or an OSD that does not exist, ...), the plan stops there: that change is one last
        step that changes nothing, with ``steps.refused`` = Ceph's message and ``plan.refused`` the
        :class:`~pgtools.simulate.refusals.Refusal` (with its remedy); later changes are not simulated and
        ``plan.commands`` holds only the commands of the changes before it.  A
        :class:`~pgtools.errors.PgtoolsWarning` says so.

    Notes
    -----
    Placement goes through :func:`pgtools.placement.map_pool_arrays` with ``reuse=True``: a pool whose
    placement inputs equal those of a recent call (same CRUSH map object, pool, OSD states and weights,
    upmap/temp entries) is not mapped again, so every what-if after the first on a loaded snapshot
    recomputes only the changed state.  Movement, load and health are computed on the placement arrays.
    """
    require_placement(snap, "a what-if simulation")
    changes = list(changes)
    total = len(changes) + 1
    ratios = full_ratio_values(snap)
    state, step0 = _input_step(snap, checks, ratios)
    base_load = step0.load[["osd_id", "bytes"]]
    steps: list[_Step] = []
    fails: list[pd.DataFrame] = []
    lost_before: set[str] = set()  # PGs lost at an earlier step: their data is gone, counted once

    def record(i: int, label: str, st: State, ssnap: Snapshot, stats: dict, extra: list,
               refused: str = "") -> None:
        steps.append(_record(i, label, st, ssnap, stats, extra, base_load, checks, ratios, refused))
        if progress is not None:
            progress(i, total, label)

    steps.append(step0)
    if progress is not None:
        progress(0, total, "input")
    lost_at: dict[str, int] = {}  # PG lost -> the step that lost it
    lost_data = [0, 0]  # bytes, objects lost so far
    cur = snap
    cur = cur.replace(osdmap=cur.osdmap.replace(pg_temp={}, primary_temp={}))
    placed = snap  # the snapshot ``state.parts`` maps (step 0: with the capture's pg_temp/primary_temp)
    xcur = snap  # what the mgr model sees (the capture's PG states, for the first change)
    i, refused, accepted = 0, None, []
    for n, change in enumerate(changes):
        # the monitor decides on the command before anything happens: a refusal stops the plan
        ref = refusal(state.snap, change)
        if ref is not None:
            i += 1
            refused = dataclasses.replace(ref, step=i)
            later = [c.describe() for c in changes[n + 1:]]
            warnings.warn(f"step {i} ({ref.change}) would be refused by the monitor ({ref.error}: "
                          f"{ref.message.strip()}); the plan stops there"
                          + (f" ({len(later)} later change(s) not simulated)" if later else "")
                          + f"; to be accepted: {ref.remedy}", PgtoolsWarning, stacklevel=2)
            record(i, ref.change, state, state.snap, {}, [(ref.code, ref.error, ref.message.strip())],
                   refused=f"{ref.error}: {ref.message.strip()}")
            break
        plan_steps, xcur = expand(xcur, n, change, stepwise, misplaced, assume_clean)
        accepted.append(change)
        total += len(plan_steps) - 1
        for label, ch in plan_steps:
            i += 1
            extra = []
            nxt = ch.apply(cur)
            parts = remap_step(state.parts, placed, cur, nxt, ch)
            fstats: dict[str, Any] = {}
            if isinstance(ch, Fail):
                fr = failure_rows(state, ch.osds(cur), i, frozenset(lost_before))
                fails.append(fr)
                fstats, found = failure_stats(fr, (len(lost_at), *lost_data))
                newly = fr.loc[fr["lost"].astype(bool), "pgid"]
                lost_before.update(newly)
                lost_at.update(dict.fromkeys(newly, i))
                lost_data[0] += fstats["bytes_lost"]
                lost_data[1] += fstats["objects_lost"]
                extra += found
                state = drop_lost(state, fr)
            else:
                extra += lost_findings(len(lost_at), *lost_data, lost_at.values())
            new_state, stats = step_state(state, nxt, parts)
            extra += standing_findings(new_state, lost_at)
            stats.update(fstats)
            ssnap = with_pgs(nxt, new_state.mapping, new_state.bytes, new_state.objects)
            new_state.snap = ssnap
            record(i, label, new_state, ssnap, stats, extra)
            state = new_state
            cur = placed = nxt

    empty_mv = pd.DataFrame(columns=["step", "osd_id", "pgs_in", "pgs_out", "bytes_in", "bytes_out"])
    empty_f = pd.DataFrame(columns=FAILURE_COLUMNS)
    moves = [st.moves for st in steps if st.moves is not None]
    return Plan(
        steps=pd.DataFrame([st.row for st in steps]),
        movement=pd.concat(moves, ignore_index=True) if moves else empty_mv,
        osd_load=pd.concat([st.load_rows for st in steps], ignore_index=True),
        health=pd.DataFrame([h for st in steps for h in st.health], columns=["step", "code", "severity", "summary"]),
        pools=pd.DataFrame([r for st in steps for r in st.pools]),
        failures=pd.concat(fails, ignore_index=True) if fails else empty_f,
        mappings=[st.mapping.copy(deep=False) for st in steps], snapshots=[st.snap for st in steps],
        changes=list(changes), commands=_commands(snap, accepted), refused=refused)
