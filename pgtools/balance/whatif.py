"""Upmap plans as what-ifs: rounds under ``target_max_misplaced_ratio`` and backfillfull, simulated exactly.

:func:`order_rounds` splits an :class:`~pgtools.balance.UpmapPlan` into rounds, each applied once the
previous one has finished backfilling:

* **misplaced budget** — a PG whose up set changes makes ``objects × shards moved`` object copies misplaced
  (Ceph's ``num_objects_misplaced``); a round's total, over all object copies of the cluster (``objects ×
  size`` per PG, ``num_object_copies``), stays at or below ``target_max_misplaced_ratio`` (the mgr's own
  budget, default 0.05: :func:`pgtools.mgr.options.resolve`, from ``--option``, the capture's config or the
  release default).  A capture without object counts uses PG shards instead.  A PG that alone exceeds
  the budget gets a round of its own.
* **backfillfull** — during a round the data is on both sides (the source is freed when backfill ends), so
  each target's used bytes at the start of the round plus everything it receives in the round must stay
  below ``backfillfull_ratio`` × its size (OSDs would otherwise stop backfill: ``backfill_toofull``); a
  change that does not fit waits for a later round, after other rounds have freed space.  A change that
  never fits gets a round of its own and is flagged (``Rounds.over_backfillfull``).

Changes that move nothing (cleanup) cost nothing and go in the first round.  :func:`simulate_plan` then
runs the rounds through :func:`pgtools.simulate.simulate` (one step each, placement recomputed exactly) and
reports movement, per-OSD PGs and %used before, after and at the peak of each round, and health.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..mgr.options import full_ratios, resolve
from ..model import Snapshot, split_pgid
from ..simulate import AddUpmapItems, simulate
from ..simulate.changes import Change, set_osdmap
from ..simulate.plan import Plan
from ..simulate.refusals import refusal
from ..simulate.state import pool_meta
from .hygiene import plan_of
from .plan import UpmapPlan, work_map
from .work import Increment

__all__ = ["Move", "PlanWhatIf", "Rounds", "UpmapRound", "check_refusals", "moves", "order_rounds", "pg_targets", "simulate_plan"]

_NONE = 0x7FFFFFFF


@dataclass(frozen=True)
class Move:
    """What one PG's upmap change moves (``before``/``after``: its up set before and after the change)."""

    pgid: str
    before: tuple[int, ...]
    after: tuple[int, ...]
    shards: int  # copies (shards) written
    misplaced: int  # object copies misplaced (objects × shards)
    into: tuple[tuple[int, int], ...]  # (osd, bytes) received
    out: tuple[tuple[int, int], ...]  # (osd, bytes) freed at the end


def moves(snap: Snapshot, plan: UpmapPlan, *, ceph_release: str | None = None) -> tuple[list[Move], int]:
    """One :class:`Move` per PG that ``plan`` changes (PG order), and the cluster's object copies (the budget's
    denominator; PG shards when the capture has no object counts, the moves' ``misplaced`` then count shards)."""
    work = work_map(snap, ceph_release)
    meta = pool_meta(snap)
    pgs = snap.pgs if snap.pgs is not None else pd.DataFrame(columns=["pgid", "objects", "bytes"])
    objects = dict(zip(pgs["pgid"].astype(str), pd.to_numeric(pgs.get("objects", 0), errors="coerce").fillna(0)
                       .astype(np.int64), strict=True)) if len(pgs) else {}
    nbytes = dict(zip(pgs["pgid"].astype(str), pd.to_numeric(pgs.get("bytes", 0), errors="coerce").fillna(0)
                      .astype(np.int64), strict=True)) if len(pgs) else {}
    use_objects = sum(objects.values()) > 0
    if use_objects:  # every PG's count, or none: a PG missing from the table is not an empty one
        missing = sum(1 for pid, pool in work.pools.items() for ps in range(pool.pg_num) if f"{pid}.{ps:x}" not in objects)
        if missing:
            use_objects = False
            warnings.warn(f"{missing} PG(s) have no object counts in the capture's PG table: the misplaced budget "
                          "of the rounds counts PG shards instead of objects", PgtoolsWarning, stacklevel=3)
    total = 0
    for pid, pool in work.pools.items():
        if use_objects:
            total += sum(int(objects.get(f"{pid}.{ps:x}", 0)) for ps in range(pool.pg_num)) * pool.size
        else:
            total += pool.pg_num * pool.size
    up_osds = _up_osds(snap)
    changed = sorted({*plan.new_pg_upmap_items, *plan.old_pg_upmap_items, *plan.old_pg_upmap}, key=split_pgid)
    before = {g: work.pg_to_raw_upmap(split_pgid(g))[1] for g in changed}
    inc = Increment({}, {split_pgid(g) for g in plan.old_pg_upmap},
                    {split_pgid(g): tuple(tuple(p) for p in v) for g, v in plan.new_pg_upmap_items.items()},
                    {split_pgid(g) for g in plan.old_pg_upmap_items})
    work.apply(inc)
    out = []
    for g in changed:
        pg = split_pgid(g)
        a = [o for o in before[g] if o in up_osds]
        b = [o for o in work.pg_to_raw_upmap(pg)[1] if o in up_osds]
        m = meta.get(pg[0], {"ec": False, "k": 1})
        if m["ec"]:
            full_a = [o if o in up_osds else _NONE for o in before[g]]
            full_b = [o if o in up_osds else _NONE for o in work.pg_to_raw_upmap(pg)[1]]
            new = [y for x, y in zip(full_a, full_b, strict=True) if x != y and y != _NONE]
            gone = [x for x, y in zip(full_a, full_b, strict=True) if x != y and x != _NONE]
        else:
            new = [o for o in b if o not in a]
            gone = [o for o in a if o not in b]
        share = int(nbytes.get(g, 0)) // max(1, int(m["k"]))
        mis = len(new) * (int(objects.get(g, 0)) if use_objects else 1)
        out.append(Move(g, tuple(a), tuple(b), len(new), mis, tuple((o, share) for o in new),
                        tuple((o, share) for o in gone)))
    return out, total


def _up_osds(snap: Snapshot) -> set[int]:
    osds = snap.osds
    up = osds["up"].astype(bool) if "up" in osds else pd.Series(True, index=osds.index)
    return set(osds.loc[up, "osd_id"].astype(int))


@dataclass
class Rounds:
    """:func:`order_rounds`' result.

    Attributes
    ----------
    plans : list of UpmapPlan
        One plan per round, to apply in order (each once the previous has finished backfilling).
    misplaced_ratio : list of float
        Each round's misplaced object copies over the cluster's.
    max_misplaced : float
        The budget (``target_max_misplaced_ratio``) and ``source``: where it came from.
    source : str
    over_budget, over_backfillfull : list of str
        PGs in a round of their own because they alone exceed the budget / an OSD's backfillfull room.
    """

    plans: list[UpmapPlan]
    misplaced_ratio: list[float]
    max_misplaced: float
    source: str
    over_budget: list[str] = field(default_factory=list)
    over_backfillfull: list[str] = field(default_factory=list)


def _osd_space(snap: Snapshot) -> tuple[dict[int, float], dict[int, float]]:
    osds = snap.osds
    kb = pd.to_numeric(osds.get("kb", pd.Series(np.nan, index=osds.index)), errors="coerce") * 1024.0
    used = pd.to_numeric(osds.get("kb_used", pd.Series(0.0, index=osds.index)), errors="coerce").fillna(0) * 1024.0
    ids = osds["osd_id"].astype(int)
    return dict(zip(ids, kb, strict=True)), dict(zip(ids, used, strict=True))


def order_rounds(snap: Snapshot, plan: UpmapPlan, *, max_misplaced: float | None = None,
                 ceph_release: str | None = None) -> Rounds:
    """Split ``plan`` into rounds under ``target_max_misplaced_ratio`` and ``backfillfull_ratio`` (module doc).

    Parameters
    ----------
    snap : Snapshot
        The capture the plan is for (its PG objects and bytes, OSD sizes and use).
    plan : UpmapPlan
    max_misplaced : float, optional
        The budget (default: ``target_max_misplaced_ratio`` of the capture or release).
    ceph_release : str, optional
    """
    setting = resolve(snap, "target_max_misplaced_ratio", max_misplaced, release=ceph_release)
    budget = float(setting.value)
    mv, total = moves(snap, plan, ceph_release=ceph_release)
    bf = float(full_ratios(snap, release=ceph_release)["backfillfull_ratio"].value)
    kb, used = _osd_space(snap)
    room = {o: (kb[o] * bf if np.isfinite(kb[o]) and kb[o] > 0 else np.inf) for o in kb}
    pending = mv
    out = Rounds([], [], budget, setting.source)
    while pending:
        chosen: list[Move] = []
        mis = 0
        incoming: dict[int, float] = {}
        rest: list[Move] = []
        for m in pending:
            fits = all(used.get(o, 0.0) + incoming.get(o, 0.0) + b <= room.get(o, np.inf) for o, b in m.into)
            if fits and (total == 0 or (mis + m.misplaced) / total <= budget):
                chosen.append(m)
                mis += m.misplaced
                for o, b in m.into:
                    incoming[o] = incoming.get(o, 0.0) + b
            else:
                rest.append(m)
        if not chosen:
            m = rest.pop(0)
            chosen = [m]
            mis = m.misplaced
            if not all(used.get(o, 0.0) + b <= room.get(o, np.inf) for o, b in m.into):
                out.over_backfillfull.append(m.pgid)
            else:
                out.over_budget.append(m.pgid)
        for m in chosen:
            for o, b in m.into:
                used[o] = used.get(o, 0.0) + b
            for o, b in m.out:
                used[o] = used.get(o, 0.0) - b
        out.plans.append(_subplan(plan, {m.pgid for m in chosen}))
        out.misplaced_ratio.append(mis / total if total else 0.0)
        pending = rest
    if plan.new_pg_upmap_primary:  # they move no data; last, on the up sets the data moves leave
        cmds = [c for c in plan.commands if " pg-upmap-primary " in c]
        if not out.plans:
            out.plans.append(UpmapPlan({}, [], [], 0, plan.release, plan.exact))
            out.misplaced_ratio.append(0.0)
        last = out.plans[-1]
        out.plans[-1] = replace(last, num_changed=last.num_changed + len(plan.new_pg_upmap_primary),
                                commands=[*last.commands, *cmds],
                                new_pg_upmap_primary=dict(plan.new_pg_upmap_primary))
    return out


def _subplan(plan: UpmapPlan, pgids: set[str]) -> UpmapPlan:
    inc = Increment({}, {split_pgid(g) for g in plan.old_pg_upmap if g in pgids},
                    {split_pgid(g): v for g, v in plan.new_pg_upmap_items.items() if g in pgids},
                    {split_pgid(g) for g in plan.old_pg_upmap_items if g in pgids})
    return plan_of(inc, len(pgids), plan.release)


@dataclass(frozen=True)
class UpmapRound(Change):
    """One round of an upmap plan as a what-if change (its ``ceph osd ...`` lines applied at once)."""

    plan: UpmapPlan
    label: str = "upmap round"

    def apply(self, snap: Snapshot) -> Snapshot:
        got = self.plan.apply(snap)
        return set_osdmap(snap, pg_upmap_items=got.osdmap.pg_upmap_items, pg_upmap=got.osdmap.pg_upmap)

    def describe(self) -> str:
        return f"{self.label}: {len(self.plan.commands)} upmap command(s)"

    def ceph_commands(self) -> list[str]:
        return list(self.plan.commands)


@dataclass
class PlanWhatIf:
    """:func:`simulate_plan`'s result.

    Attributes
    ----------
    plan : UpmapPlan
    rounds : Rounds
    simulation : pgtools.simulate.Plan
        Step 0 the capture, step *i* after round *i*.
    osds : DataFrame
        ``osd_id, target`` (:func:`pg_targets`), ``pgs_before, pgs_after, pgs_peak, util_before, util_after, util_peak`` (%used projected;
        the peak is the largest over the rounds of the round's start plus what it receives during the round).
    summary : dict
        ``items`` (commands), ``max_deviation_before`` / ``_after`` (largest |PGs − target|), ``pgs_moved``, ``shards_moved``, ``bytes_moved``
        (of the PGs the capture's PG table has; ``pgs_changed_without_stats``: the plan's PGs it lacks), ``rounds``,
        ``max_misplaced_ratio`` (the budget) and its ``_source``, ``peak_pgs_per_osd``, ``max_util_after``,
        ``max_util_peak``, ``health_after`` (messages of the last step), ``backfillfull_ratio``.
    """

    plan: UpmapPlan
    rounds: Rounds
    simulation: Plan
    osds: pd.DataFrame
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``summary``, ``osds`` (records), ``plan`` (``commands``), ``rounds`` (``commands``,
        ``misplaced_ratio`` each)."""
        osds = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                for r in self.osds.to_dict("records")]
        return {"summary": self.summary, "osds": osds, "plan": {"commands": list(self.plan.commands)},
                "rounds": [{"round": i + 1, "commands": list(p.commands), "misplaced_ratio": r}
                           for i, (p, r) in enumerate(zip(self.rounds.plans, self.rounds.misplaced_ratio,
                                                           strict=True))]}


def pg_targets(snap: Snapshot, *, ceph_release: str | None = None, exclude: Iterable[int] = ()) -> dict[int, float]:
    """Each OSD's fair PG count summed over pools: ``size × pg_num`` × its share of the pool rule's weight (CRUSH
    weight under the rule's takes × reweight, as ``calc_pg_upmaps`` weighs OSDs).  ``exclude``: OSDs taken to
    hold nothing (being drained: their share goes to the others)."""
    work = work_map(snap, ceph_release)
    out: dict[int, float] = {}
    skip = {int(o) for o in exclude}
    for pool in work.pools.values():
        wm = work.topology.rule_weight_osd_map(work.crush_rule(pool)) or {}
        adj = {o: float(work.weightf(o) * w) for o, w in wm.items() if o not in skip}
        tot = sum(adj.values())
        if tot <= 0:
            continue
        for o, a in adj.items():
            out[o] = out.get(o, 0.0) + pool.size * pool.pg_num * a / tot
    return out


def check_refusals(snap: Snapshot, plan: UpmapPlan) -> None:
    """The mon's ``osd pg-upmap-items`` checks (:func:`pgtools.simulate.refusals.refusal`) on every entry: run on
    the first entry (the map-wide checks) and on each entry a quick look finds suspect (its messages)."""
    osds = snap.osds
    exists = set((osds.loc[osds["exists"].astype(bool)] if "exists" in osds else osds)["osd_id"].astype(int))
    pools = {int(r["pool_id"]): (int(r["pg_num"]), int(r["size"])) for r in snap.pools.to_dict("records")}
    for i, (pgid, items) in enumerate(plan.new_pg_upmap_items.items()):
        pairs = tuple(tuple(int(x) for x in p) for p in items)
        pid, ps = split_pgid(pgid)
        ok = (pid in pools and ps < pools[pid][0] and len(pairs) <= pools[pid][1] and len(set(pairs)) == len(pairs)
              and all(a != b and a in exists and (b in exists or b == _NONE) for a, b in pairs))
        if i == 0 or not ok:
            ref = refusal(snap, AddUpmapItems(pgid, pairs))
            if ref is not None:
                raise PgtoolsError(f"the mon would refuse `{ref.command}`: {ref.error}: {ref.message}")


def simulate_plan(snap: Snapshot, plan: UpmapPlan, *, max_misplaced: float | None = None, rounds: bool = True,
                  ceph_release: str | None = None,
                  progress: Callable[[int, int, str], None] | None = None, drained: Iterable[int] = ()) -> PlanWhatIf:
    """Simulate ``plan`` on ``snap`` round by round (:func:`order_rounds`; ``rounds=False``: all at once).

    ``drained``: OSDs the plan empties (:func:`~pgtools.balance.drain`): the per-OSD targets and deviations are
    those of the cluster without them.

    Raises
    ------
    PgtoolsError
        The mon would refuse one of the plan's ``pg-upmap-items`` (an OSD that does not exist, ...).
    """
    check_refusals(snap, plan)
    rs = (order_rounds(snap, plan, max_misplaced=max_misplaced, ceph_release=ceph_release) if rounds else
          _one_round(snap, plan, max_misplaced))
    changes = [UpmapRound(p, f"round {i + 1}") for i, p in enumerate(rs.plans) if p.commands]
    sim = simulate(snap, changes, progress=progress)
    load = sim.osd_load
    last = int(sim.steps["step"].max())
    s0 = load[load["step"] == 0].set_index("osd_id")
    s1 = load[load["step"] == last].set_index("osd_id")
    mv = sim.movement
    osd_rows = snap.osds.drop_duplicates("osd_id").set_index("osd_id")
    kb_of = pd.to_numeric(osd_rows.get("kb", pd.Series(np.nan, index=osd_rows.index)), errors="coerce")
    peak_pgs = s0["pgs"].astype(float).copy()
    peak_util = s0["utilization"].astype(float).copy()
    for step in range(1, last + 1):
        start = load[load["step"] == step - 1].set_index("osd_id")
        inn = mv[mv["step"] == step].groupby("osd_id")[["pgs_in", "bytes_in"]].sum()
        pgs = start["pgs"].add(inn["pgs_in"].reindex(start.index).fillna(0))
        kb = kb_of.reindex(start.index)
        # (float: a round that moves no data, pg-upmap-primary only, has an empty, object-typed `inn`)
        bytes_in = inn["bytes_in"].reindex(start.index).fillna(0).astype(float)
        util = start["utilization"] + np.where(kb > 0, bytes_in / 1024.0 / kb * 100.0, np.nan)
        peak_pgs = np.fmax(peak_pgs, pgs.reindex(peak_pgs.index))
        peak_util = np.fmax(peak_util, pd.Series(util, index=start.index).reindex(peak_util.index))
    osds = pd.DataFrame({"osd_id": s0.index.astype(int), "pgs_before": s0["pgs"].astype(int).to_numpy(),
                         "pgs_after": s1["pgs"].reindex(s0.index).astype(int).to_numpy(),
                         "pgs_peak": np.asarray(peak_pgs, dtype=float).astype(int),
                         "util_before": s0["utilization"].to_numpy(float),
                         "util_after": s1["utilization"].reindex(s0.index).to_numpy(float),
                         "util_peak": np.asarray(peak_util, dtype=float)})
    tgt = pg_targets(snap, ceph_release=ceph_release, exclude=drained)
    osds.insert(1, "target", [round(tgt.get(int(o), 0.0), 2) for o in osds["osd_id"]])
    dev_b = (osds["pgs_before"] - osds["target"]).abs()
    dev_a = (osds["pgs_after"] - osds["target"]).abs()
    st = sim.steps
    bf = float(full_ratios(snap, release=ceph_release)["backfillfull_ratio"].value)
    known = set(snap.pgs["pgid"].astype(str)) if snap.pgs is not None and len(snap.pgs) else set()
    changed = {*plan.new_pg_upmap_items, *plan.old_pg_upmap_items, *plan.old_pg_upmap}
    summary = {
        "items": len(plan.commands),
        "pgs_changed_without_stats": sum(1 for g in changed if g not in known), "pg_table": bool(known),
        "max_deviation_before": float(dev_b.max()) if len(dev_b) else 0.0,
        "max_deviation_after": float(dev_a.max()) if len(dev_a) else 0.0, "pgs_moved": int(st["pgs_moved"].sum()),
        "shards_moved": int(st["shards_moved"].sum()), "bytes_moved": int(st["bytes_moved"].sum()),
        "rounds": len(changes), "max_misplaced_ratio": rs.max_misplaced, "max_misplaced_ratio_source": rs.source,
        "round_misplaced_ratio": [float(r) for r in rs.misplaced_ratio],
        "peak_pgs_per_osd": int(osds["pgs_peak"].max()) if len(osds) else 0,
        "max_util_before": _nanmax(osds["util_before"]), "max_util_after": _nanmax(osds["util_after"]),
        "max_util_peak": _nanmax(osds["util_peak"]), "backfillfull_ratio": bf,
        "over_budget": rs.over_budget, "over_backfillfull": rs.over_backfillfull,
        "health_after": list(sim.health.loc[sim.health["step"] == last, "summary"]),
    }
    return PlanWhatIf(plan, rs, sim, osds, summary)


def _one_round(snap: Snapshot, plan: UpmapPlan, max_misplaced: float | None) -> Rounds:
    """The whole plan as one round (no split), with the budget it is reported against and its source."""
    setting = resolve(snap, "target_max_misplaced_ratio", max_misplaced)
    return Rounds([plan], [0.0], float(setting.value), setting.source)


def _nanmax(s: pd.Series) -> float | None:
    v = pd.to_numeric(s, errors="coerce").dropna()
    return float(v.max()) if len(v) else None
