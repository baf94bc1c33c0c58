"""pg_num arithmetic: masks, ``ceph_stable_mod``, split and merge relations, and the mgr's stepping.

Everything here is pure arithmetic on placement seeds (``ps``); no CRUSH placement is needed.  The
definitions follow Ceph Pacific (``include/rados.h``, ``osd/osd_types.cc``: ``pg_t::is_split``,
``get_parent``, ``get_ancestor``, ``is_merge_source``/``target``; ``mgr/DaemonServer.cc``:
``adjust_pgs``), described in ``docs/ceph_algorithms.md`` §7.1 and §9.

Vocabulary
----------
``old`` / ``new``
    pg_num before and after a change.
child (split)
    A PG ``x`` with ``old <= x < new`` whose ancestor (``stable_mod(x, old, ...)``) is ``ps``.
merge source / target
    When pg_num shrinks from ``old`` to ``new``, every PG ``new <= ps < old`` is a source and is folded
    into the PG found by clearing its highest bit until the value is below ``new`` (the target).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import PgtoolsError

__all__ = [
    "cbits",
    "pg_num_mask",
    "stable_mod",
    "ancestor",
    "get_parent",
    "split_children",
    "split_map",
    "is_split",
    "merge_target",
    "merge_sources",
    "is_merge_source",
    "is_merge_target",
    "seed_changes",
    "seed_change_misplaced",
    "pgp_num_steps",
    "pool_pgp_num_steps",
    "MON_OSD_MAX_CREATING_PGS",
    "TARGET_MAX_MISPLACED_RATIO",
]

#: ``mon_osd_max_creating_pgs`` default: the mgr never has more PGs than this creating at once.
MON_OSD_MAX_CREATING_PGS = 1024
#: ``target_max_misplaced_ratio`` default (mgr): the misplaced budget for pgp_num steps.
TARGET_MAX_MISPLACED_RATIO = 0.05
#: ``MAX_NUM_OBJECTS_PER_PG_FOR_LEAP`` in ``adjust_pgs``: a pool with at most this many objects per
#: target PG is "nearly empty" and its pgp_num jumps straight to the target.
_OBJECTS_PER_PG_FOR_LEAP = 1


# --------------------------------------------------------------------------------------------- masks
def cbits(v: Any) -> Any:
    """Number of significant bits: 0 for 0, else ``floor(log2(v)) + 1``.

    Parameters
    ----------
    v : int or array_like of int
        Non-negative value(s).

    Returns
    -------
    int or ndarray of int64
    """
    if np.ndim(v) == 0:
        iv = int(v)
        if iv < 0:
            raise ValueError(f"cbits of a negative value: {iv}")
        return iv.bit_length()
    a = np.asarray(v, dtype=np.int64)
    if (a < 0).any():
        raise ValueError("cbits of a negative value")
    out = np.zeros(a.shape, dtype=np.int64)
    rest = a.copy()
    while (rest > 0).any():
        nz = rest > 0
        out[nz] += 1
        rest >>= 1
    return out


def pg_num_mask(pg_num: Any) -> Any:
    """``2**cbits(pg_num - 1) - 1`` (``pg_pool_t::calc_pg_masks``): 12 -> 15, 8 -> 7, 1 -> 0.

    Parameters
    ----------
    pg_num : int or array_like of int
        pg_num (or pgp_num), at least 1.

    Returns
    -------
    int or ndarray of int64
    """
    if np.ndim(pg_num) == 0:
        n = int(pg_num)
        if n < 1:
            raise ValueError(f"pg_num must be at least 1, not {n}")
        return (1 << cbits(n - 1)) - 1
    a = np.asarray(pg_num, dtype=np.int64)
    if (a < 1).any():
        raise ValueError("pg_num must be at least 1")
    return (np.int64(1) << cbits(a - 1)) - 1


def stable_mod(x: Any, b: Any, bmask: Any = None) -> Any:
    """``ceph_stable_mod``: ``x & bmask`` if that is below ``b``, else ``x & (bmask >> 1)``.

    Parameters
    ----------
    x : int or array_like of int
        The value(s) to reduce (a placement seed, or a raw hash).
    b : int or array_like of int
        The modulus (pg_num or pgp_num).
    bmask : int or array_like of int, optional
        The mask; defaults to :func:`pg_num_mask` of ``b``.

    Returns
    -------
    int or ndarray of int64
        Always below ``b`` when ``bmask`` is the mask of ``b``.

    Examples
    --------
    >>> stable_mod(13, 12, 15), stable_mod(11, 12, 15)
    (5, 11)
    """
    if bmask is None:
        bmask = pg_num_mask(b)
    if np.ndim(x) == 0 and np.ndim(b) == 0 and np.ndim(bmask) == 0:
        xi, bi, mi = int(x), int(b), int(bmask)
        r = xi & mi
        return r if r < bi else xi & (mi >> 1)
    xa = np.asarray(x, dtype=np.int64)
    ba = np.asarray(b, dtype=np.int64)
    ma = np.asarray(bmask, dtype=np.int64)
    r = xa & ma
    return np.where(r < ba, r, xa & (ma >> 1))


def ancestor(ps: Any, old: int) -> Any:
    """``pg_t::get_ancestor(old)``: the PG that ``ps`` descends from when pg_num was ``old``.

    ``stable_mod(ps, old, 2**cbits(old) - 1)``; a PG below ``old`` is its own ancestor.

    Parameters
    ----------
    ps : int or array_like of int
    old : int
        The earlier pg_num (at least 1).

    Returns
    -------
    int or ndarray of int64
    """
    old = _check_pg_num(old, "old")
    return stable_mod(ps, old, (1 << cbits(old)) - 1)


def get_parent(ps: int) -> int:
    """``pg_t::get_parent``: ``ps`` with its highest set bit cleared.

    Raises
    ------
    ValueError
        For ``ps <= 0`` (PG 0 has no parent).
    """
    ps = int(ps)
    if ps <= 0:
        raise ValueError(f"PG {ps} has no parent")
    return ps & ~(1 << (ps.bit_length() - 1))


def _check_pg_num(v: Any, name: str) -> int:
    try:
        iv = int(v)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be an integer, not {v!r}") from e
    if iv < 1:
        raise ValueError(f"{name} must be at least 1, not {iv}")
    return iv


# --------------------------------------------------------------------------------------------- split
def split_children(ps: int, old: int, new: int) -> list[int]:
    """The PGs created from ``ps`` when pg_num grows from ``old`` to ``new``.

    ``{x : old <= x < new and ancestor(x, old) == ps}``, ascending.  Empty when ``new <= old`` or
    when ``ps`` does not split (non-power-of-two steps split only some PGs).

    Examples
    --------
    >>> split_children(3, 8, 32)
    [11, 19, 27]
    >>> split_children(1, 12, 32), split_children(9, 12, 32)
    ([17], [25])
    """
    old = _check_pg_num(old, "old")
    new = _check_pg_num(new, "new")
    ps = int(ps)
    if not 0 <= ps < old:
        raise ValueError(f"ps {ps} is not a PG of a pool with pg_num {old}")
    if new <= old:
        return []
    xs = np.arange(old, new, dtype=np.int64)
    return [int(x) for x in xs[ancestor(xs, old) == ps]]


def is_split(ps: int, old: int, new: int) -> bool:
    """True if PG ``ps`` gets at least one child when pg_num goes from ``old`` to ``new``."""
    return bool(split_children(ps, old, new))


def split_map(old: int, new: int) -> pd.DataFrame:
    """Every child of a split ``old -> new`` with its parent.

    Returns
    -------
    DataFrame
        ``child, parent`` (int64), one row per new PG (``old <= child < new``), ordered by child.
        Empty when ``new <= old``.
    """
    old = _check_pg_num(old, "old")
    new = _check_pg_num(new, "new")
    xs = np.arange(old, max(old, new), dtype=np.int64)
    parents = ancestor(xs, old) if len(xs) else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"child": xs, "parent": np.asarray(parents, dtype=np.int64)})


# --------------------------------------------------------------------------------------------- merge
def merge_target(ps: int, new: int) -> int:
    """Where merge source ``ps`` ends up when pg_num shrinks to ``new``.

    Repeats :func:`get_parent` until the value is below ``new`` (equal to ``ancestor(ps, new)``).
    A PG already below ``new`` is returned unchanged.
    """
    new = _check_pg_num(new, "new")
    ps = int(ps)
    if ps < 0:
        raise ValueError(f"negative ps {ps}")
    while ps >= new:
        ps = get_parent(ps)
    return ps


def merge_sources(old: int, new: int) -> pd.DataFrame:
    """The merges of a shrink ``old -> new``, in the order the mgr performs them.

    The mgr merges one PG at a time: at pg_num ``N`` the source is ``N - 1`` and its target is
    ``get_parent(N - 1)``; a target that is itself at or above ``new`` is merged again later.

    Returns
    -------
    DataFrame
        ``step`` (1-based), ``pg_num_before``, ``source``, ``target`` (the immediate parent, which is
        what Ceph merges into at that step) and ``final_target`` (where the source's objects end up
        when pg_num reaches ``new``).  Empty when ``new >= old``.
    """
    old = _check_pg_num(old, "old")
    new = _check_pg_num(new, "new")
    src = np.arange(old - 1, new - 1, -1, dtype=np.int64) if new < old else np.zeros(0, dtype=np.int64)
    rows = {
        "step": np.arange(1, len(src) + 1, dtype=np.int64),
        "pg_num_before": src + 1,
        "source": src,
        "target": np.array([get_parent(int(s)) for s in src], dtype=np.int64),
        "final_target": np.array([merge_target(int(s), new) for s in src], dtype=np.int64),
    }
    return pd.DataFrame(rows)


def is_merge_source(ps: int, old: int, new: int) -> bool:
    """``pg_t::is_merge_source``: ``new <= ps < old`` (pg_num shrinking from ``old`` to ``new``)."""
    return int(new) <= int(ps) < int(old)


def is_merge_target(ps: int, old: int, new: int) -> bool:
    """``pg_t::is_merge_target``: ``ps < new`` and ``ps`` would split when going from ``new`` to ``old``."""
    ps, old, new = int(ps), int(old), int(new)
    return ps < new < old and is_split(ps, new, old)


def seed_changes(pg_num: int, old_pgp: int, new_pgp: int) -> np.ndarray:
    """The PGs whose CRUSH seed changes when pgp_num goes from ``old_pgp`` to ``new_pgp``.

    The CRUSH input of PG ``ps`` is derived from ``stable_mod(ps, pgp_num, pgp_num_mask)``; a PG whose
    reduced seed differs is remapped (its placement is recomputed from a different input, so most of
    its copies move).  This is the pure-arithmetic part of "how much moves"; how many OSDs actually
    change needs placement (:mod:`pgtools.placement`).

    Returns
    -------
    ndarray of int64
        Sorted ps values (``0 <= ps < pg_num``).
    """
    pg_num = _check_pg_num(pg_num, "pg_num")
    old_pgp = _check_pg_num(old_pgp, "old_pgp")
    new_pgp = _check_pg_num(new_pgp, "new_pgp")
    ps = np.arange(pg_num, dtype=np.int64)
    return ps[stable_mod(ps, old_pgp) != stable_mod(ps, new_pgp)]


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
                 "misplaced_ratio", "estmax", "reason"]


def _get(state: Mapping[str, Any] | pd.Series, key: str, default: Any = None) -> Any:
    v = state.get(key, default) if hasattr(state, "get") else default
    if v is None:
        return default
    try:
        if pd.isna(v):
            return default
    except (TypeError, ValueError):
        pass
    return v


def pgp_num_steps(
    pool_state: Mapping[str, Any] | pd.Series,
    target_pgp_num: int | None = None,
    *,
    target_pg_num: int | None = None,
    misplaced_fn: Callable[[dict], float] | float | None = None,
    max_misplaced: float = TARGET_MAX_MISPLACED_RATIO,
    objects: int | None = None,
    max_creating_pgs: int = MON_OSD_MAX_CREATING_PGS,
    aggressive: bool = False,
    max_ticks: int = 100_000,
) -> pd.DataFrame:
    """The sequence of (pg_num, pgp_num) states the mgr walks through to reach a pool's targets.

    Models ``DaemonServer::adjust_pgs`` (Pacific) tick by tick for one pool:

    * **split** (``pg_num_target > pg_num``): pg_num jumps by ``min(left, target - pg_num)``, with
      ``left = max_creating_pgs`` (the new PGs are assumed created by the next tick);
    * **merge** (``pg_num_target < pg_num``): one PG per tick, only once ``pgp_num < pg_num``; the
      merge is ordered by setting ``pg_num_pending = pg_num - 1`` and is assumed complete (pg_num
      drops) by the end of the tick.  No pgp_num change in a tick that orders a merge;
    * **pgp_num** moves towards ``min(pg_num_pending, pgp_num_target)``: an increase waits while
      ``pgp_num == pg_num``; nothing moves while the misplaced ratio exceeds ``max_misplaced``; a
      nearly empty pool (``objects <= pgp_num_target``) jumps on increases; otherwise the step is
      ``estmax = max(int(pg_num * room), 1)`` with
      ``room = min(max_misplaced - misplaced_ratio, max_misplaced / 2)``; while merging with pgp_num
      tracking pg_num, pgp_num stays within ``max(8, int(pg_num * max_misplaced))`` of pg_num.

    Parameters
    ----------
    pool_state : mapping or Series
        ``pg_num`` and ``pgp_num`` (required); ``pg_num_target``, ``pgp_num_target``,
        ``pg_num_pending`` (default to the current values), ``objects`` (optional).  A row of
        ``snap.pools`` works.
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
        0.0, i.e. the previous step's data movement has completed, which is how the mgr proceeds
        once recovery catches up.
    max_misplaced : float
        ``target_max_misplaced_ratio`` (default 0.05).
    objects : int, optional
        Objects in the pool (``ceph df``), for the nearly-empty jump; defaults to
        ``pool_state["objects"]``, else assumed large (no jump).
    max_creating_pgs : int
        ``mon_osd_max_creating_pgs`` (default 1024).
    aggressive : bool
        ``mgr_debug_aggressive_pg_num_changes``: pgp_num jumps straight to its target.
    max_ticks : int
        Give up (raise) after this many ticks.

    Returns
    -------
    DataFrame
        One row for the initial state (tick 0, action ``"start"``) and one per tick in which something
        changed or was deferred: ``tick, pg_num, pgp_num, pg_num_pending, pg_num_target,
        pgp_num_target, action`` (``split``, ``merge``, ``pgp``, ``split+pgp``, ``wait``),
        ``misplaced_ratio`` (seen at that tick), ``estmax`` (the pgp step bound used, 0 for a jump or
        no pgp change) and ``reason``.  Values are the state *after* the tick.

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
    """
    pg_num = _check_pg_num(_get(pool_state, "pg_num"), "pg_num")
    pgp_num = _check_pg_num(_get(pool_state, "pgp_num", pg_num), "pgp_num")
    pg_target = _check_pg_num(_get(pool_state, "pg_num_target", pg_num), "pg_num_target")
    pgp_target = _check_pg_num(_get(pool_state, "pgp_num_target", pgp_num), "pgp_num_target")
    pending = _check_pg_num(_get(pool_state, "pg_num_pending", pg_num), "pg_num_pending")
    if objects is None:
        objects = _get(pool_state, "objects", None)
    n_objects = None if objects is None else int(objects)
    if pgp_num > pg_num:
        raise ValueError(f"pgp_num {pgp_num} exceeds pg_num {pg_num}")
    if pending > pg_num:
        raise ValueError(f"pg_num_pending {pending} exceeds pg_num {pg_num}")
    if target_pg_num is not None:
        new = _check_pg_num(target_pg_num, "target_pg_num")
        if pgp_target == pg_target:
            pgp_target = new
        pg_target = new
    if target_pgp_num is not None:
        pgp_target = _check_pg_num(target_pgp_num, "target_pgp_num")
        if pgp_target > pg_target:  # the mon refuses "pgp_num must be <= pg_num"
            raise ValueError(f"pgp_num target {pgp_target} exceeds pg_num target {pg_target}")
    if not 0.0 <= max_misplaced <= 1.0:
        raise ValueError(f"max_misplaced must be within [0, 1], not {max_misplaced}")
    max_create = max(1, int(max_creating_pgs))
    if misplaced_fn is None:
        def _misplaced(_: dict) -> float:
            return 0.0
    elif callable(misplaced_fn):
        _misplaced = misplaced_fn
    else:
        const = float(misplaced_fn)

        def _misplaced(_: dict) -> float:
            return const

    rows: list[list[Any]] = [[0, pg_num, pgp_num, pending, pg_target, pgp_target, "start", float("nan"), 0,
                              "initial state"]]
    prev_pg, prev_pgp = pg_num, pgp_num
    tick = 0
    while True:
        if pending < pg_num:  # only in an initial state caught mid-merge: that merge completes first
            tick += 1
            prev_pg, prev_pgp = pg_num, pgp_num
            rows.append([tick, pending, pgp_num, pending, pg_target, pgp_target, "merge", 0.0, 0,
                         f"pending merge {pg_num} -> {pending} completes"])
            pg_num = pending
        done = (pg_num == pg_target and pending == pg_num and pgp_num == min(pending, pgp_target))
        if done:
            break
        tick += 1
        if tick > max_ticks:
            raise PgtoolsError(f"pg_num/pgp_num did not reach their targets within {max_ticks} ticks "
                               f"(at pg_num {pg_num}, pgp_num {pgp_num})")
        misplaced = float(_misplaced({"tick": tick, "pg_num": pg_num, "pgp_num": pgp_num,
                                      "pg_num_pending": pending, "prev_pg_num": prev_pg,
                                      "prev_pgp_num": prev_pgp}))
        new_pg, new_pending, new_pgp = pg_num, pending, pgp_num
        actions: list[str] = []
        reasons: list[str] = []
        estmax_used = 0
        skip_pgp = False
        # ---- pg_num
        if pg_target < pg_num:
            if pending != pg_num:
                reasons.append("merge waits for the previous merge")
            elif pgp_num == pg_num:
                reasons.append(f"merge blocked until pgp_num drops below pg_num {pg_num}")
            else:
                src = pg_num - 1
                new_pg = new_pending = pg_num - 1
                actions.append("merge")
                reasons.append(f"merge PG {src:x} into {get_parent(src):x}")
                skip_pgp = True
        elif pg_target > pg_num:
            add = min(max_create, pg_target - pg_num)
            new_pg = new_pending = pg_num + add
            actions.append("split")
            reasons.append(f"split {pg_num} -> {new_pg}" + ("" if add == pg_target - pg_num
                                                             else f" (max {max_create} creating PGs)"))
        # ---- pgp_num (decided on the state at the start of the tick)
        target = min(pending, pgp_target)
        if not skip_pgp and target != pgp_num:
            if target > pgp_num and pgp_num == pg_num:
                reasons.append("pgp_num increase waits for the split")
            elif not aggressive and misplaced > max_misplaced:
                reasons.append(f"misplaced {misplaced:.4f} > {max_misplaced}: pgp_num deferred")
            elif aggressive or (target > pgp_num and n_objects is not None
                                and n_objects <= _OBJECTS_PER_PG_FOR_LEAP * pgp_target):
                new_pgp = target
                actions.append("pgp")
                reasons.append(f"pgp_num jumps to {target}" + ("" if aggressive else
                                                              f" (nearly empty: {n_objects} objects)"))
            else:
                room = min(max_misplaced - misplaced, max_misplaced / 2.0)
                estmax = max(int(pg_num * room), 1)
                lo = max(pgp_num - estmax, 1)
                nxt = min(max(target, lo), pgp_num + estmax)
                if pgp_target == pg_target and pgp_target < pg_num:
                    outpace = max(8, int(pg_num * max_misplaced))
                    if nxt + outpace < pg_num:
                        nxt = pg_num - outpace
                new_pgp = nxt
                estmax_used = estmax
                actions.append("pgp")
                reasons.append(f"pgp_num {pgp_num} -> {nxt} (estmax {estmax}, room {room:.4f})")
        changed = (new_pg, new_pending, new_pgp) != (pg_num, pending, pgp_num)
        if not changed and not any("misplaced" in r for r in reasons):
            raise PgtoolsError(f"pg_num/pgp_num cannot reach their targets: stuck at pg_num {pg_num}, pgp_num "
                               f"{pgp_num} ({'; '.join(reasons) or 'nothing to do'}); pgp_num_target "
                               f"{pgp_target} keeps pgp_num from dropping below pg_num, so the merge "
                               "towards pg_num_target cannot proceed (set pgp_num lower)")
        if changed:
            prev_pg, prev_pgp = pg_num, pgp_num
        pg_num, pending, pgp_num = new_pg, new_pending, new_pgp
        action = "+".join(actions) if actions else "wait"
        rows.append([tick, pg_num, pgp_num, pending, pg_target, pgp_target, action, misplaced, estmax_used,
                     "; ".join(reasons)])
    out = pd.DataFrame(rows, columns=_STEP_COLUMNS)
    for c in ("tick", "pg_num", "pgp_num", "pg_num_pending", "pg_num_target", "pgp_num_target", "estmax"):
        out[c] = out[c].astype("int64")
    return out


def pool_pgp_num_steps(snap: Any, pool: int | str, target_pg_num: int | None = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`pgp_num_steps` for one pool of a snapshot (its current pg_num/pgp_num, targets, objects).

    Parameters
    ----------
    snap : Snapshot
        Needs ``pools``; the object count comes from ``pool_stats.objects`` when present.
    pool : int or str
        Pool id or name.
    target_pg_num : int, optional
        The pg_num to set (``ceph osd pool set <pool> pg_num N``); default: the pool's own targets.
    **kwargs
        Passed on to :func:`pgp_num_steps` (``target_pgp_num``, ``misplaced_fn``, ...).

    Raises
    ------
    KeyError
        No such pool in the snapshot.
    """
    pools = snap.pools
    if isinstance(pool, str) and "pool" in pools.columns and (pools["pool"] == pool).any():
        row = pools[pools["pool"] == pool].iloc[0]
    else:
        try:
            pid = int(pool)
        except (TypeError, ValueError):
            raise KeyError(f"no pool {pool!r} in the snapshot") from None
        match = pools[pools["pool_id"] == pid]
        if match.empty:
            raise KeyError(f"no pool {pool!r} in the snapshot")
        row = match.iloc[0]
    state = {k: row.get(k) for k in ("pg_num", "pgp_num", "pg_num_target", "pgp_num_target", "pg_num_pending")}
    stats = getattr(snap, "pool_stats", None)
    if "objects" not in kwargs and stats is not None and "objects" in stats.columns:
        hit = stats[stats["pool_id"] == int(row["pool_id"])]
        if len(hit) and not pd.isna(hit["objects"].iloc[0]):
            kwargs["objects"] = int(hit["objects"].iloc[0])
    return pgp_num_steps(state, target_pg_num=target_pg_num, **kwargs)
