"""The mgr's pg_num/pgp_num stepping (``DaemonServer::adjust_pgs``), tick by tick.

What the mgr does once an operator sets a new pg_num: it moves pg_num and pgp_num towards their targets in
steps gated by the misplaced-ratio budget, creating PGs, merge readiness and upmaps.  Follows Ceph Pacific
``mgr/DaemonServer.cc`` (``adjust_pgs``), described in ``docs/ceph_algorithms.md`` §9.  The arithmetic it
relies on (masks, ``ceph_stable_mod``, split/merge relations) lives in :mod:`pgtools.placement.pgmath`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import row_value as _get
from ..placement.pgmath import seed_changes, valid_pg_num
from .options import resolve
from .pgnum_gates import Tick, creating_gate, has_flags, pg_num_step, pgp_num_step, stuck_error

__all__ = [
    "seed_change_misplaced",
    "pgp_num_steps",
    "pool_pgp_num_steps",
    "ClusterState",
    "cluster_state",
    "pool_upmaps",
    "MON_OSD_MAX_CREATING_PGS",
    "MGR_MAX_PG_NUM_CHANGE",
    "TARGET_MAX_MISPLACED_RATIO",
]

#: ``mon_osd_max_creating_pgs`` default: the mgr never has more PGs than this creating at once.
MON_OSD_MAX_CREATING_PGS = 1024
#: ``mgr_max_pg_num_change`` default (mgr, 16.2.15): a split never takes pg_num more than this ahead of pgp_num.
MGR_MAX_PG_NUM_CHANGE = 128
#: ``target_max_misplaced_ratio`` default (mgr): the misplaced budget for pgp_num steps.
TARGET_MAX_MISPLACED_RATIO = 0.05



def seed_change_misplaced(pool_objects: int, cluster_objects: int | None = None,
                          moved_copy_fraction: float = 1.0) -> Callable[[dict], float]:
    """A pessimistic ``misplaced_fn`` for :func:`pgp_num_steps`: nothing recovers between ticks.

    At each tick the misplaced ratio is taken as the share of the cluster's objects that sit in PGs
    whose CRUSH seed changed in the last pgp_num step (:func:`seed_changes`), assuming objects are spread
    evenly over the pool's PGs (the same assumption the mgr makes).

    Parameters
    ----------
    pool_objects : int
        Objects in the pool being changed.
    cluster_objects : int, optional
        Objects in the whole cluster (default: ``pool_objects``, a single-pool cluster).
    moved_copy_fraction : float
        Share of a remapped PG's copies that end up misplaced (1.0 = all; placement can tell, e.g.
        about 2/3 for size 3 when one OSD stays by chance).

    Returns
    -------
    callable
        ``fn(state) -> float`` as :func:`pgp_num_steps` expects.
    """
    total = int(pool_objects if cluster_objects is None else cluster_objects)
    if total <= 0 or int(pool_objects) < 0:
        raise ValueError("object counts must be positive")
    share = int(pool_objects) / total * float(moved_copy_fraction)

    def fn(state: dict) -> float:
        if state["prev_pgp_num"] == state["pgp_num"]:
            return 0.0
        changed = len(seed_changes(state["pg_num"], state["prev_pgp_num"], state["pgp_num"]))
        return changed / state["pg_num"] * share

    return fn


# --------------------------------------------------------------------------------------------- stepping
_STEP_COLUMNS = ["tick", "pg_num", "pgp_num", "pg_num_pending", "pg_num_target", "pgp_num_target", "action",
                 "misplaced_ratio", "estmax", "reason", "deferred_by", "upmaps_removed"]

#: ``deferred_by`` codes that come from the first tick's PG map (``cluster``): once one has made the mgr
#: wait, that map is taken as recovered.
_VIEW_GATES = frozenset({"creating_pgs", "pool_creating", "pool_not_active", "merge_no_state", "merge_not_clean",
                         "merge_acting", "recovery"})




@dataclass(frozen=True)
class ClusterState:
    """What ``DaemonServer::adjust_pgs`` reads from the mgr's PG map, seen from one pool.

    Build it from a capture with :func:`cluster_state`, or by hand (counts and ratios).  The default is a
    clean cluster: every PG active+clean, nothing degraded or misplaced.

    Attributes
    ----------
    num_pgs : int
        PGs in the PG map (every pool).
    inactive : int
        PGs neither active nor unknown (Ceph's ``num_pg - num_pg_active - num_pg_unknown``): peering,
        peered, down, incomplete, creating+peering, ...
    unknown : int
        PGs in state ``unknown`` (state 0: no OSD has reported them).
    creating : int
        PGs with the ``creating`` flag.  ``creating + unknown`` counts against
        ``mon_osd_max_creating_pgs``.
    degraded : int
        PGs with the ``degraded`` flag (named in messages).
    degraded_ratio : float or None
        Degraded object copies / object copies (``PGMapDigest::get_recovery_stats``): the value the mgr
        tests (``> 0`` defers pgp_num).  None when the capture has no per-PG degraded counts; then
        ``degraded > 0`` stands in for it.  A degraded PG without objects (e.g. an empty undersized
        PG) has ratio 0 and does not defer anything, as in Ceph.
    misplaced_ratio : float or None
        Misplaced object copies / object copies; None when unknown (taken as 0).
    pool_not_active : int or None
        PGs of the pool being changed that are neither active nor peered (a split waits until there
        are none); None when the capture has no PG of that pool (not checked).
    pool_creating : bool
        The pool still has ``FLAG_CREATING``: the mgr leaves its pg_num alone.
    pg_states : mapping of int to str, optional
        The pool's PG states by ps (merge source and target must be active+clean); None: not checked.
    pg_acting : mapping of int to tuple, optional
        The pool's acting sets by ps (merge source and target must have the same one).
    """

    num_pgs: int = 0
    inactive: int = 0
    unknown: int = 0
    creating: int = 0
    degraded: int = 0
    degraded_ratio: float | None = None
    misplaced_ratio: float | None = None
    pool_not_active: int | None = None
    pool_creating: bool = False
    pg_states: Mapping[int, str] | None = field(default=None, repr=False)
    pg_acting: Mapping[int, tuple] | None = field(default=None, repr=False)

    @property
    def degraded_objects(self) -> bool:
        """True when the mgr's ``degraded_ratio`` is above 0."""
        if self.degraded_ratio is not None:
            return self.degraded_ratio > 0
        return self.degraded > 0

    @property
    def defers_pgp(self) -> bool:
        """True when pgp_num changes are deferred: any PG inactive or unknown, or objects degraded."""
        return self.inactive > 0 or self.unknown > 0 or self.degraded_objects

    def summary(self) -> str:
        """Why pgp_num changes are deferred, e.g. ``"12 PGs degraded (0.41 % of object copies)"``."""
        parts = []
        if self.inactive:
            parts.append(f"{self.inactive} PGs inactive")
        if self.degraded_objects:
            ratio = "" if self.degraded_ratio is None else f" ({self.degraded_ratio:.2%} of object copies)"
            parts.append(f"{self.degraded} PGs degraded{ratio}" if self.degraded else f"degraded objects{ratio}")
        if self.unknown:
            parts.append(f"{self.unknown} PGs unknown")
        return ", ".join(parts) or "nothing inactive, degraded or unknown"


def cluster_state(snap: Any, pool: int | str | None = None) -> ClusterState | None:
    """The PG-map facts ``adjust_pgs`` gates on, read from a capture's ``pg dump``.

    Parameters
    ----------
    snap : Snapshot
        Needs ``pgs`` with a ``state`` column; ``objects``, ``degraded`` and ``misplaced`` (object
        counts, as ``pg dump`` prints them) give the ratios; ``pools`` gives sizes and flags.
    pool : int or str, optional
        The pool being changed (id or name): fills the per-pool fields.

    Returns
    -------
    ClusterState or None
        None when the capture has no PG states (nothing to gate on: a clean cluster is assumed).

    Notes
    -----
    ``num_object_copies`` is taken as ``objects × size`` per PG (``size`` = replicas, or k+m).
    """
    pgs = getattr(snap, "pgs", None)
    if pgs is None or len(pgs) == 0 or "state" not in pgs.columns:
        return None
    states = pgs["state"].fillna("unknown").astype(str).str.strip()
    codes, uniq = pd.factorize(states)  # a few distinct states among many PGs: test each once

    def _flag(flag: str) -> np.ndarray:
        return np.array([has_flags(s, flag) for s in uniq], dtype=bool)[codes]

    unknown = np.array([s in ("unknown", "") for s in uniq], dtype=bool)[codes]
    active = _flag("active")
    creating = _flag("creating")
    degraded = _flag("degraded")
    pools = getattr(snap, "pools", None)
    sizes = pd.Series(dtype=float)
    if pools is not None and len(pools) and "size" in pools.columns:
        sizes = pd.Series(pd.to_numeric(pools["size"], errors="coerce").to_numpy(float),
                          index=pools["pool_id"].astype("int64").to_numpy())
    size = pgs["pool_id"].astype("int64").map(sizes).fillna(1.0).to_numpy(float)

    def _col(name: str) -> np.ndarray | None:
        if name not in pgs.columns:
            return None
        v = pd.to_numeric(pgs[name], errors="coerce")
        return None if v.isna().all() else v.fillna(0).to_numpy(float)

    objects = _col("objects")
    copies = float((objects * size).sum()) if objects is not None else 0.0

    def _ratio(name: str) -> float | None:
        v = _col(name)
        if v is None or objects is None:
            return None
        total = float(v.sum())
        return total / copies if total > 0 and copies > 0 else 0.0

    kw: dict[str, Any] = {}
    if pool is not None:
        pid = snap.pool_id(pool)
        sel = (pgs["pool_id"].astype("int64") == pid).to_numpy()
        if sel.any():
            peered = _flag("peered")
            kw["pool_not_active"] = int((~(active | peered))[sel].sum())
            ps = pgs["ps"].astype("int64").to_numpy()[sel]
            kw["pg_states"] = dict(zip(ps.tolist(), states.to_numpy()[sel].tolist(), strict=True))
            if "acting" in pgs.columns:
                kw["pg_acting"] = dict(zip(ps.tolist(), [tuple(a) if isinstance(a, (tuple, list)) else ()
                                                          for a in pgs["acting"].to_numpy()[sel]], strict=True))
        if pools is not None and "flags_names" in pools.columns:
            row = pools[pools["pool_id"].astype("int64") == pid]
            if len(row):
                kw["pool_creating"] = "creating" in str(row["flags_names"].iloc[0]).split(",")
    return ClusterState(
        num_pgs=int(len(pgs)), inactive=int((~active & ~unknown).sum()), unknown=int(unknown.sum()),
        creating=int(creating.sum()), degraded=int(degraded.sum()), degraded_ratio=_ratio("degraded"),
        misplaced_ratio=_ratio("misplaced"), **kw)


def pool_upmaps(snap: Any, pool: int | str) -> list[int]:
    """The PGs (ps) of a pool that have a ``pg_upmap`` or ``pg_upmap_items`` entry in the capture's OSDMap.

    Returns
    -------
    list of int
        Sorted ps values.
    """
    pid = snap.pool_id(pool)
    out = set()
    for table in (snap.osdmap.pg_upmap, snap.osdmap.pg_upmap_items):
        for pgid in table:
            p, _, s = str(pgid).partition(".")
            try:
                if int(p) == pid:
                    out.add(int(s, 16))
            except ValueError:
                continue
    return sorted(out)


def pgp_num_steps(
    pool_state: Mapping[str, Any] | pd.Series,
    target_pgp_num: int | None = None,
    *,
    target_pg_num: int | None = None,
    misplaced_fn: Callable[[dict], float] | float | None = None,
    max_misplaced: float = TARGET_MAX_MISPLACED_RATIO,
    objects: int | None = None,
    max_creating_pgs: int = MON_OSD_MAX_CREATING_PGS,
    max_pg_num_change: int = MGR_MAX_PG_NUM_CHANGE,
    aggressive: bool = False,
    cluster: ClusterState | None = None,
    upmaps: Iterable[int] = (),
    max_ticks: int = 100_000,
) -> pd.DataFrame:
    """The sequence of (pg_num, pgp_num) states the mgr walks through to reach a pool's targets.

    Models ``DaemonServer::adjust_pgs`` (Pacific) tick by tick for one pool:

    * **creating PGs**: when PGs that are creating or unknown number ``max_creating_pgs`` or more, the
      mgr changes nothing in that tick; otherwise ``left = max_creating_pgs - (creating + unknown)``;
    * **split** (``pg_num_target > pg_num``): only when every PG of the pool is active or peered, and
      only while ``gap = pg_num - pgp_num`` is below ``max_pg_num_change`` (else "must scale pgp_num
      first"); pg_num jumps by ``min(left, max_pg_num_change - gap, target - pg_num)`` (the new PGs are
      assumed created by the next tick);
    * **merge** (``pg_num_target < pg_num``): one PG per tick, only once ``pgp_num < pg_num``, the
      previous merge is done (``pg_num_pending == pg_num``), neither the source ``N - 1`` nor the target
      ``parent(N - 1)`` has an upmap (the mgr then removes those upmaps itself: ``osd rm-pg-upmap`` and
      ``osd rm-pg-upmap-items``; the merge follows in a later tick), both are active+clean and their
      acting sets are equal.  The merge is ordered by setting ``pg_num_pending = pg_num - 1`` and is
      assumed complete (pg_num drops) by the end of the tick.  No pgp_num change in a tick that
      orders a merge;
    * **pgp_num** moves towards ``min(pg_num_pending, pgp_num_target)``: an increase waits while
      ``pgp_num == pg_num``; nothing moves while any PG is inactive, degraded or unknown (cluster-wide),
      nor while the misplaced ratio exceeds ``max_misplaced``; a nearly empty pool
      (``objects <= pgp_num_target``) jumps on increases; otherwise the step is
      ``estmax = max(int(pg_num * room), 1)`` with
      ``room = min(max_misplaced - misplaced_ratio, max_misplaced / 2)``; while merging with pgp_num
      tracking pg_num, pgp_num stays within ``max(8, int(pg_num * max_misplaced))`` of pg_num.

    Time model: ``cluster`` is the PG map the mgr sees at the first tick (e.g. a capture taken
    mid-recovery).  It holds until the first tick in which it made the mgr wait (a deferred pgp_num
    change, split or merge, or a tick skipped for creating PGs), limited a split (creating PGs) or in
    which a pgp_num decision was taken with it; that wait stands for "until recovery completes".  After it, and in every
    tick without ``cluster``, each step is taken once the previous step's data movement has completed:
    misplaced back to 0 (unless ``misplaced_fn`` says otherwise), nothing degraded, inactive or
    creating, every PG active+clean.  Upmaps (``upmaps``) are not transient: they stay until the mgr
    removes them at a merge that involves their PG.

    Parameters
    ----------
    pool_state : mapping or Series
        ``pg_num`` and ``pgp_num`` (required); ``pg_num_target``, ``pgp_num_target``,
        ``pg_num_pending`` (default to the current values), ``objects``, ``pool_id`` (optional; PGs are
        then named ``<pool>.<ps>`` in messages).  A row of ``snap.pools`` works.
    target_pgp_num : int, optional
        ``ceph osd pool set <pool> pgp_num N``: sets pgp_num_target (must not exceed pg_num_target).
        A pgp_num_target left above a lowered pg_num_target is harmless: the mgr aims pgp_num at
        ``min(pg_num_pending, pgp_num_target)``.
    target_pg_num : int, optional
        ``ceph osd pool set <pool> pg_num N``: sets pg_num_target, and pgp_num_target too when it was
        equal to pg_num_target (Nautilus+ behaviour).  Applied before ``target_pgp_num``.
        With neither, the pool's own targets are followed (a pool caught mid-change).
    misplaced_fn : callable or float, optional
        The cluster's misplaced ratio seen at the start of each tick.  Called with a dict of the
        current state (``tick, pg_num, pgp_num, pg_num_pending, prev_pg_num, prev_pgp_num``, where
        ``prev_*`` are the values before the last change).  A float is used as a constant.  Default:
        ``cluster.misplaced_ratio`` while ``cluster`` holds, then 0.0 (the previous step's data
        movement has completed, which is how the mgr proceeds once recovery catches up).
    max_misplaced : float
        ``target_max_misplaced_ratio`` (default 0.05).
    objects : int, optional
        Objects in the pool (``ceph df``), for the nearly-empty jump; defaults to
        ``pool_state["objects"]``, else assumed large (no jump).
    max_creating_pgs : int
        ``mon_osd_max_creating_pgs`` (default 1024).
    max_pg_num_change : int
        ``mgr_max_pg_num_change`` (default 128).
    aggressive : bool
        ``mgr_debug_aggressive_pg_num_changes``: pgp_num jumps straight to its target and ignores
        inactive, degraded, unknown and misplaced PGs.
    cluster : ClusterState, optional
        The PG map at the first tick (:func:`cluster_state` reads it from a capture).  Default: clean.
    upmaps : iterable of int
        ps of the pool's PGs that have ``pg_upmap`` / ``pg_upmap_items`` entries (:func:`pool_upmaps`).
    max_ticks : int
        Give up (raise) after this many ticks.

    Returns
    -------
    DataFrame
        One row for the initial state (tick 0, action ``"start"``) and one per tick in which something
        changed or was deferred: ``tick, pg_num, pgp_num, pg_num_pending, pg_num_target,
        pgp_num_target, action`` (``split``, ``merge``, ``pgp``, ``rm-upmap``, combined with ``+``, or
        ``wait``), ``misplaced_ratio`` (seen at that tick), ``estmax`` (the pgp step bound used, 0 for a
        jump or no pgp change), ``reason`` (what the mgr decided, in its own terms), ``deferred_by``
        (comma-separated: ``creating_pgs``, ``pool_creating``, ``pool_not_active``, ``merge_upmap``,
        ``merge_no_state``, ``merge_not_clean``, ``merge_acting``, ``recovery`` (inactive, degraded or
        unknown PGs), ``misplaced``; empty when nothing was held back) and ``upmaps_removed`` (tuple of
        the PGs whose upmaps the mgr removed that tick).  Values are the state *after* the tick.

    Raises
    ------
    ValueError
        Inconsistent input (pgp_num > pg_num, pgp_num_target > pg_num_target, ...).
    PgtoolsError
        The targets are not reached within ``max_ticks`` (e.g. a misplaced ratio that never drops), or
        can never be reached (a merge below a pgp_num_target that does not track pg_num: Ceph stalls
        the same way).

    Examples
    --------
    >>> steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=3000)
    >>> steps.pgp_num.tolist()[:5]
    [32, 32, 35, 38, 41]
    >>> degraded = ClusterState(num_pgs=96, degraded=3, degraded_ratio=0.01)
    >>> steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=3000,
    ...                       cluster=degraded)
    >>> steps.action.tolist()[:4], steps.reason[2]
    (['start', 'split', 'wait', 'pgp'], '3 PGs degraded (1.00% of object copies): pgp_num deferred')
    """
    pg_num, pgp_num, pending, pg_target, pgp_target = _start(pool_state, target_pg_num, target_pgp_num)
    pool_id = _get(pool_state, "pool_id", None)
    if objects is None:
        objects = _get(pool_state, "objects", None)
    n_objects = None if objects is None else int(objects)
    if not 0.0 <= max_misplaced <= 1.0:
        raise ValueError(f"max_misplaced must be within [0, 1], not {max_misplaced}")
    if cluster is not None and not isinstance(cluster, ClusterState):
        raise TypeError(f"cluster must be a ClusterState, not {type(cluster).__name__}")
    max_create = max(1, int(max_creating_pgs))
    max_jump = int(max_pg_num_change)
    if max_jump < 1:
        raise ValueError(f"max_pg_num_change must be at least 1, not {max_pg_num_change}")
    given_fn = _misplaced_source(misplaced_fn)

    def name(ps: int) -> str:
        return f"{int(pool_id)}.{ps:x}" if pool_id is not None else f"{ps:x}"

    upmapped = {int(x) for x in upmaps}
    view = cluster  # the first tick's PG map, until it has made the mgr wait (see the time model)
    rows: list[list[Any]] = [[0, pg_num, pgp_num, pending, pg_target, pgp_target, "start", float("nan"), 0,
                              "initial state", "", ()]]
    prev_pg, prev_pgp = pg_num, pgp_num
    tick = 0
    while True:
        if pending < pg_num:  # only in an initial state caught mid-merge: that merge completes first
            tick += 1
            prev_pg, prev_pgp = pg_num, pgp_num
            rows.append([tick, pending, pgp_num, pending, pg_target, pgp_target, "merge", 0.0, 0,
                         f"pending merge {pg_num} -> {pending} completes", "", ()])
            pg_num = pending
        done = (pg_num == pg_target and pending == pg_num and pgp_num == min(pending, pgp_target))
        if done:
            break
        tick += 1
        if tick > max_ticks:
            raise PgtoolsError(f"pg_num/pgp_num did not reach their targets within {max_ticks} ticks "
                               f"(at pg_num {pg_num}, pgp_num {pgp_num})")
        state = {"tick": tick, "pg_num": pg_num, "pgp_num": pgp_num, "pg_num_pending": pending,
                 "prev_pg_num": prev_pg, "prev_pgp_num": prev_pgp}
        if given_fn is not None:
            misplaced = float(given_fn(state))
        elif view is not None and view.misplaced_ratio is not None:
            misplaced = float(view.misplaced_ratio)
        else:
            misplaced = 0.0
        t = Tick(pg_num, pending, pgp_num)
        left = creating_gate(t, view, max_create)
        pg_num_step(t, pg_num=pg_num, pending=pending, pgp_num=pgp_num, pg_target=pg_target, view=view,
                    upmapped=upmapped, left=left, max_create=max_create, max_jump=max_jump, name=name)
        pgp_num_step(t, pg_num=pg_num, pending=pending, pgp_num=pgp_num, pg_target=pg_target, pgp_target=pgp_target,
                     view=view, misplaced=misplaced, max_misplaced=max_misplaced, aggressive=aggressive,
                     n_objects=n_objects)
        if t.removed:
            t.actions.append("rm-upmap")
            upmapped.difference_update(t.removed)
        changed = (t.pg_num, t.pending, t.pgp_num) != (pg_num, pending, pgp_num)
        if not changed and not t.deferred:
            raise stuck_error(t, pg_num=pg_num, pgp_num=pgp_num, pg_target=pg_target, pgp_target=pgp_target,
                              max_jump=max_jump)
        if view is not None and (t.view_used or not _VIEW_GATES.isdisjoint(t.deferred)):
            view = None  # the capture's recovery has run its course (see the time model)
        if changed:
            prev_pg, prev_pgp = pg_num, pgp_num
        pg_num, pending, pgp_num = t.pg_num, t.pending, t.pgp_num
        action = "+".join(t.actions) if t.actions else "wait"
        rows.append([tick, pg_num, pgp_num, pending, pg_target, pgp_target, action, misplaced, t.estmax,
                     "; ".join(t.reasons), ",".join(dict.fromkeys(t.deferred)), tuple(name(p) for p in t.removed)])
    out = pd.DataFrame(rows, columns=_STEP_COLUMNS)
    for c in ("tick", "pg_num", "pgp_num", "pg_num_pending", "pg_num_target", "pgp_num_target", "estmax"):
        out[c] = out[c].astype("int64")
    return out


def _start(pool_state: Mapping[str, Any] | pd.Series, target_pg_num: int | None,
           target_pgp_num: int | None) -> tuple[int, int, int, int, int]:
    """``(pg_num, pgp_num, pg_num_pending, pg_num_target, pgp_num_target)`` once the requested targets are set."""
    pg_num = valid_pg_num(_get(pool_state, "pg_num"), "pg_num")
    pgp_num = valid_pg_num(_get(pool_state, "pgp_num", pg_num), "pgp_num")
    pg_target = valid_pg_num(_get(pool_state, "pg_num_target", pg_num), "pg_num_target")
    pgp_target = valid_pg_num(_get(pool_state, "pgp_num_target", pgp_num), "pgp_num_target")
    pending = valid_pg_num(_get(pool_state, "pg_num_pending", pg_num), "pg_num_pending")
    if pgp_num > pg_num:
        raise ValueError(f"pgp_num {pgp_num} exceeds pg_num {pg_num}")
    if pending > pg_num:
        raise ValueError(f"pg_num_pending {pending} exceeds pg_num {pg_num}")
    if target_pg_num is not None:
        new = valid_pg_num(target_pg_num, "target_pg_num")
        if pgp_target == pg_target:
            pgp_target = new
        pg_target = new
    if target_pgp_num is not None:
        pgp_target = valid_pg_num(target_pgp_num, "target_pgp_num")
        if pgp_target > pg_target:  # the mon refuses "pgp_num must be <= pg_num"
            raise ValueError(f"pgp_num target {pgp_target} exceeds pg_num target {pg_target}")
    return pg_num, pgp_num, pending, pg_target, pgp_target


def _misplaced_source(misplaced_fn: Callable[[dict], float] | float | None) -> Callable[[dict], float] | None:
    """``misplaced_fn`` as a function of the tick's state (a float becomes a constant), or None."""
    if misplaced_fn is None or callable(misplaced_fn):
        return misplaced_fn
    const = float(misplaced_fn)

    def given_fn(_: dict) -> float:
        return const

    return given_fn


def pool_pgp_num_steps(snap: Any, pool: int | str, target_pg_num: int | None = None, *,
                       cluster: ClusterState | str | None = "capture", **kwargs: Any) -> pd.DataFrame:
    """:func:`pgp_num_steps` for one pool of a snapshot (its current pg_num/pgp_num, targets, objects).

    Parameters
    ----------
    snap : Snapshot
        Needs ``pools``; the object count comes from ``pool_stats.objects`` when present, the PG states
        from ``pgs`` (:func:`cluster_state`), upmaps from ``osdmap`` (:func:`pool_upmaps`) and
        ``target_max_misplaced_ratio``, ``mon_osd_max_creating_pgs`` and ``mgr_max_pg_num_change``
        from :func:`pgtools.mgr.options.resolve`, ``mgr_debug_aggressive_pg_num_changes`` from ``config``.
    pool : int or str
        Pool id or name.
    target_pg_num : int, optional
        The pg_num to set (``ceph osd pool set <pool> pg_num N``); default: the pool's own targets.
    cluster : ClusterState or "capture" or None
        The PG map at the first tick: ``"capture"`` (default) reads it from ``snap.pgs`` (a capture taken
        mid-recovery then starts with a wait); None or ``"clean"`` assumes every PG active+clean.
    **kwargs
        Passed on to :func:`pgp_num_steps` (``target_pgp_num``, ``misplaced_fn``, ``upmaps``, ...).

    Raises
    ------
    UnknownPoolError
        No such pool in the snapshot.
    """
    pid = snap.pool_id(pool)
    pools = snap.pools
    row = pools[pools["pool_id"].astype("int64") == pid].iloc[0]
    state = {k: row.get(k) for k in ("pg_num", "pgp_num", "pg_num_target", "pgp_num_target", "pg_num_pending")}
    state["pool_id"] = pid
    stats = getattr(snap, "pool_stats", None)
    if "objects" not in kwargs and stats is not None and "objects" in stats.columns:
        hit = stats[stats["pool_id"] == pid]
        if len(hit) and not pd.isna(hit["objects"].iloc[0]):
            kwargs["objects"] = int(hit["objects"].iloc[0])
    if isinstance(cluster, str):
        if cluster == "capture":
            cluster = cluster_state(snap, pid)
        elif cluster == "clean":
            cluster = None
        else:
            raise ValueError(f"cluster must be a ClusterState, 'capture', 'clean' or None, not {cluster!r}")
    kwargs.setdefault("upmaps", pool_upmaps(snap, pid))
    for option, key in (("target_max_misplaced_ratio", "max_misplaced"),
                        ("mon_osd_max_creating_pgs", "max_creating_pgs"),
                        ("mgr_max_pg_num_change", "max_pg_num_change")):
        if key not in kwargs:
            kwargs[key] = resolve(snap, option).value
    config = getattr(snap, "config", None) or {}
    option = "mgr_debug_aggressive_pg_num_changes"
    if "aggressive" not in kwargs and option in config:
        kwargs["aggressive"] = str(config[option]).strip().lower() in ("true", "1", "yes")
    return pgp_num_steps(state, target_pg_num=target_pg_num, cluster=cluster, **kwargs)
