"""pgtools' own PG-count balancer: every OSD within ``max_deviation`` PGs of its weight share, per pool *and*
summed over the balanced pools, with few ``pg-upmap-items`` entries.

Targets are Ceph's (``OSDMap::calc_pg_upmaps``): an OSD's target in a pool is ``size × pg_num`` times its share
of the rule's CRUSH weight × reweight; its total target is the sum over the balanced pools (pools of other
device classes add 0).  Ceph balances pool by pool, each OSD rounding up in every pool ("+1 stacking"); here
an OSD's count is bounded in each pool, ``[target − D, target + D]`` rounded inwards, *and* in total.

The search is greedy and deterministic.  The *violation* is the number of PGs outside the bounds, per pool
plus in total; a move (one PG from OSD ``a`` to OSD ``b``, in one pool) changes it by at most 4 and is taken
only when it lowers it, the best first (sources with the largest violation first, then sinks by largest
gain; per source the PGs whose upmap pair the move removes come first, then PGs that already have items,
then the others, so a table entry is added only when nothing cheaper works).  Sinks that would put two OSDs
of the PG in one failure-domain bucket are filtered out before checking (:meth:`~pgtools.balance.search.Layout.sinks_for`).
When no single move helps, a chain of two (``a → n``, then ``n → b``) through an OSD at its bound is tried,
then a swap through an OSD outside a pool's bound whose total sits at the other bound (a PG of that pool
leaves, one of another pool comes in, or the mirror).
Every move is checked by :meth:`pgtools.balance.search.Layout.candidate` as Ceph checks upmaps.  Last, entries
whose pair can be dropped without breaking a bound are removed.

When single moves leave PGs outside ``±D``, :func:`~pgtools.balance.feasible.count_bound` says whether ``±D``
is possible at all (a property of the map, not of the placement).  Possible or not proved impossible: the
chains follow.  Impossible: it also gives the smallest max deviation any upmaps reach and per-pool and total
deviations that reach it (each pool at its own optimum where that fits, see
:func:`pgtools.balance.feasible.count_bound`); a short chain search toward ``±D`` (a small budget: chasing PGs
that fit nowhere took hours on large maps) prepares the same search toward those bounds, and of the snapshot's
placement, the ``±D`` search's and this one the best is kept (lowest max deviation, then fewest PGs outside
``±D``, then fewest entries).  The chains are budgeted in checks (``search_budget``), so a search always ends;
running out is said in a warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import Snapshot
from .feasible import count_bound
from .search import BalancePlan, Layout, PoolLayout, SearchBudgetExceeded

__all__ = ["balance_count"]

_NONE = 0x7FFFFFFF
_EPS = 1e-6
#: sinks tried per (source PG, gain tier) before giving up on that PG
_SINKS_PER_PG = 48
#: intermediate OSDs tried per PG by the two-move chain search
_CHAIN_HOPS = 12
#: default budget of the chain searches, in checks (:attr:`~pgtools.balance.search.Layout.checks`: a candidate
#: move verified or a PG's sinks filtered, about 5-25 µs each): per PG shard of the
#: balanced pools, at least the minimum.  Where ±D is proved impossible the chains toward ±D only prepare the
#: search toward the bound, with the smaller budget.
_BUDGET_PER_SHARD, _BUDGET_MIN = 20, 200_000
_PREP_PER_SHARD, _PREP_MIN = 2, 50_000


class _Bounds:
    """Per-pool and total bounds ``[lo, hi]`` on PG counts (integers), and the gains of a move."""

    def __init__(self, lay: Layout, max_deviation: float, pool_dev: dict[int, float] | None = None,
                 total_dev: float | None = None) -> None:
        self.lay = lay
        self.pools = list(lay.pools.values())
        self.row = {pl.pool_id: i for i, pl in enumerate(self.pools)}
        d = float(max_deviation)
        dp = np.array([float((pool_dev or {}).get(pl.pool_id, d)) for pl in self.pools])[:, None]
        n = lay.n
        self.count = np.zeros((len(self.pools), n), dtype=np.int64)
        target = np.zeros((len(self.pools), n))
        self.eligible = np.zeros((len(self.pools), n), dtype=bool)
        for i, pl in enumerate(self.pools):
            self.count[i] = pl.count
            pl.count = self.count[i]  # a view: Layout.apply updates the matrix
            target[i] = pl.target
            self.eligible[i] = pl.eligible
        self.target = target
        self.hi = np.floor(target + dp + _EPS).astype(np.int64)
        self.lo = np.where(self.eligible, np.ceil(target - dp - _EPS), 0).astype(np.int64)
        total_t = target.sum(axis=0)
        self.total_target = total_t
        dt = d if total_dev is None else float(total_dev)
        self.thi = np.floor(total_t + dt + _EPS).astype(np.int64)
        self.tlo = np.where(self.eligible.any(axis=0), np.ceil(total_t - dt - _EPS), 0).astype(np.int64)

    def total(self) -> np.ndarray:
        return self.count.sum(axis=0)

    def violation(self) -> int:
        c = self.count
        v = int(np.maximum(c - self.hi, 0).sum() + np.maximum(self.lo - c, 0).sum())
        t = self.total()
        return v + int(np.maximum(t - self.thi, 0).sum() + np.maximum(self.tlo - t, 0).sum())

    def all_gains(self) -> tuple[np.ndarray, np.ndarray]:
        """``(out, in)`` (pools × OSDs): the violation change of removing one PG of a pool from an OSD / adding one."""
        c, t = self.count, self.total()
        tout = np.where(t > self.thi, -1, np.where(t <= self.tlo, 1, 0))
        tin = np.where(t < self.tlo, -1, np.where(t >= self.thi, 1, 0))
        out = np.where(c > self.hi, -1, np.where(c <= self.lo, 1, 0)) + tout
        inn = np.where(c < self.lo, -1, np.where(c >= self.hi, 1, 0)) + tin
        return out, inn

    def gains(self, pl: PoolLayout, tot: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`all_gains` of one pool."""
        i = self.row[pl.pool_id]
        c, lo, hi = self.count[i], self.lo[i], self.hi[i]
        t = self.total() if tot is None else tot
        out = np.where(c > hi, -1, np.where(c <= lo, 1, 0)) + np.where(t > self.thi, -1, np.where(t <= self.tlo, 1, 0))
        inn = np.where(c < lo, -1, np.where(c >= hi, 1, 0)) + np.where(t < self.tlo, -1, np.where(t >= self.thi, 1, 0))
        return out, inn


class _Memo:
    """An iterator that can be walked again: the items drawn so far are kept (the PG order of
    :func:`_pg_order` is walked once per gain tier, and most walks stop at the first PG)."""

    def __init__(self, it) -> None:
        self._it = it
        self._seen: list = []

    def __iter__(self):
        i = 0
        while True:
            if i == len(self._seen):
                try:
                    self._seen.append(next(self._it))
                except StopIteration:
                    return
            yield self._seen[i]
            i += 1


def _pg_order(lay: Layout, pl: PoolLayout, a: int) -> _Memo:
    """The PGs of ``pl`` on OSD ``a`` as ``(ps, position, undo target)``: undoable first, then with items, then
    the others (each group in PG order)."""
    return _Memo(_pg_order_iter(lay, pl, a))


def _pg_order_iter(lay: Layout, pl: PoolLayout, a: int):
    first, second, rest = [], [], []
    items = lay.work.pg_upmap_items
    pid, cur, movable = pl.pool_id, pl.cur, pl.movable
    for ps in sorted(pl.on[a]):
        if not movable[ps]:
            continue
        if (pid, ps) not in items:
            rest.append(ps)  # its vector is CRUSH's: nothing to undo
            continue
        pos = cur[ps].index(a)
        undo = lay.undo_position(pl, ps, pos)
        if undo is not None:
            first.append((ps, pos, undo))
        else:
            second.append((ps, pos, None))
    yield from first
    yield from second
    for ps in rest:
        yield ps, cur[ps].index(a), None


def _move_from(lay: Layout, bounds: _Bounds, pl: PoolLayout, a: int, out_gain: int, inn: np.ndarray,
               bound: int, skip_ps: int | None = None) -> bool:
    """Make the best valid move of a PG of ``pl`` off ``a`` whose violation change is below ``bound``."""
    need = bound - out_gain  # a sink's in-gain must be below this
    ok = pl.eligible & (inn < need)
    if not ok.any():
        return False
    sinks = np.flatnonzero(ok)
    dev = pl.count[sinks] - pl.target[sinks]
    order = np.lexsort((sinks, dev, inn[sinks]))
    sinks = sinks[order]
    sinks_l = sinks.tolist()
    # sorted by in-gain first: each tier (one in-gain value) is a run of the list
    cuts = [0, *(np.flatnonzero(np.diff(inn[sinks])) + 1).tolist(), len(sinks_l)]
    pgs = _pg_order(lay, pl, a)
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        tier = sinks[lo:hi]
        tier_set = set(sinks_l[lo:hi])
        for ps, pos, undo in pgs:
            if ps == skip_ps:
                continue
            if undo is not None and undo in tier_set:
                got = lay.candidate(pl, ps, pos, undo)
                if got is not None:
                    lay.apply(pl, ps, *got)
                    return True
            tried = 0
            for b in lay.sinks_for(pl, ps, pos, tier).tolist():
                got = lay.candidate(pl, ps, pos, b)
                if got is not None:
                    lay.apply(pl, ps, *got)
                    return True
                tried += 1
                if tried >= _SINKS_PER_PG:
                    break
    return False


def _sources(lay: Layout, bounds: _Bounds, og: np.ndarray, inn: np.ndarray) -> list[tuple[int, int, int]]:
    """``(pool row, osd, out gain)`` of every OSD holding PGs whose removal could help, best first (largest gain,
    then largest deviation)."""
    big = np.where(bounds.eligible, inn, 9).min(axis=1)
    rows, osds = np.nonzero((bounds.count > 0) & (og + big[:, None] < 0))
    if not len(rows):
        return []
    g = og[rows, osds]
    dev = bounds.count[rows, osds] - bounds.target[rows, osds]
    order = np.lexsort((osds, rows, -dev, g))
    return list(zip(rows[order].tolist(), osds[order].tolist(), g[order].tolist(), strict=True))


def _step(lay: Layout, bounds: _Bounds, stuck: set[tuple[int, int]]) -> bool:
    """One improving move (lowest violation change first); False when none is found."""
    og, inn = bounds.all_gains()
    for r, a, g in _sources(lay, bounds, og, inn):
        pl = bounds.pools[r]
        if (pl.pool_id, a) in stuck:
            continue
        if _move_from(lay, bounds, pl, a, g, inn[r], 0):
            return True
        stuck.add((pl.pool_id, a))
    return False


def _then_move_off(lay: Layout, bounds: _Bounds, pl, ps: int, got, via: int, d1: int) -> bool:
    """The second half of a two-move chain: apply ``got`` (PG ``ps`` of ``pl`` onto ``via``), then look in every
    pool for a move off ``via`` that completes the chain (its gain against ``-d1``); undo the first move when
    none does."""
    saved = (list(pl.cur[ps]), lay.work.pg_upmap_items.get((pl.pool_id, ps)), (pl.pool_id, ps) in lay.changed)
    lay.apply(pl, ps, *got)
    tot2 = bounds.total()
    try:
        for q in bounds.pools:
            og2, inn2 = bounds.gains(q, tot2)
            if q.count[via] > 0 and _move_from(lay, bounds, q, via, int(og2[via]), inn2, -d1,
                                               skip_ps=ps if q is pl else None):
                return True
    except SearchBudgetExceeded:
        _restore(lay, pl, ps, saved)  # no half chain left behind
        raise
    _restore(lay, pl, ps, saved)
    return False


def _chain(lay: Layout, bounds: _Bounds) -> bool:
    """Two moves ``a → n → b`` that lower the violation together when no single move does."""
    for og, _dev, pid, a in _sources_any(lay, bounds):
        pl = lay.pools[pid]
        tot = bounds.total()
        _, inn = bounds.gains(pl, tot)
        hops = np.flatnonzero(pl.eligible & (inn + og <= 1))
        if not len(hops):
            continue
        hops = hops[np.lexsort((hops, pl.count[hops] - pl.target[hops], inn[hops]))]
        for ps, pos, _undo in _pg_order(lay, pl, a):
            tried = 0
            for n in lay.sinks_for(pl, ps, pos, hops).tolist():
                got = lay.candidate(pl, ps, pos, n)
                if got is None:
                    continue
                tried += 1
                if _then_move_off(lay, bounds, pl, ps, got, n, int(og + inn[n])):
                    return True
                if tried >= _CHAIN_HOPS:
                    break
    return False


def _chain_into(lay: Layout, bounds: _Bounds) -> bool:
    """Two moves ``x → b`` (``b`` below a bound), then ``b → y`` in another pool, lowering the violation together."""
    tot = bounds.total()
    sinks = []
    for pl in bounds.pools:
        _, inn = bounds.gains(pl, tot)
        under = (pl.count < bounds.lo[bounds.row[pl.pool_id]]) | (tot < bounds.tlo)
        for b in np.flatnonzero(pl.eligible & under & (inn <= 0)).tolist():
            sinks.append((int(inn[b]), float(pl.count[b] - pl.target[b]), pl.pool_id, b))
    sinks.sort()
    for _g, _dev, pid, b in sinks:
        pl = lay.pools[pid]
        tot = bounds.total()
        og, inn = bounds.gains(pl, tot)
        holders = np.flatnonzero((pl.count > 0) & (og + inn[b] <= 1))
        holders = holders[np.lexsort((holders, -(pl.count[holders] - pl.target[holders]), og[holders]))]
        for x in holders.tolist()[:_CHAIN_HOPS]:
            d1 = int(og[x] + inn[b])
            for ps, pos, _undo in _pg_order(lay, pl, x):
                got = lay.candidate(pl, ps, pos, b)
                if got is None:
                    continue
                if _then_move_off(lay, bounds, pl, ps, got, b, d1):
                    return True
                break
    return False


def _move_into(lay: Layout, bounds: _Bounds, q: PoolLayout, a: int, limit: int, skip_ps: int | None) -> bool:
    """Move a PG of ``q`` onto ``a`` from an OSD ``x`` when the violation change ``out(x) + in(a)`` is below
    ``limit`` (holders with the largest gain and excess first)."""
    tot = bounds.total()
    og, inn = bounds.gains(q, tot)
    if not q.eligible[a]:
        return False
    holders = np.flatnonzero((q.count > 0) & (og + inn[a] < limit))
    holders = holders[holders != a]
    if not len(holders):
        return False
    holders = holders[np.lexsort((holders, -(q.count[holders] - q.target[holders]), og[holders]))]
    for x in holders[:_CHAIN_HOPS].tolist():
        tried = 0
        for ps in sorted(q.on[x]):
            if ps == skip_ps or not q.movable[ps] or a in q.cur[ps]:
                continue
            got = lay.candidate(q, ps, q.cur[ps].index(x), a)
            if got is not None:
                lay.apply(q, ps, *got)
                return True
            tried += 1
            if tried >= _SINKS_PER_PG:
                break
    return False


def _swap(lay: Layout, bounds: _Bounds) -> bool:
    """Two moves in two pools through an OSD ``a`` that is outside a pool's bound while its total sits at the
    bound on the other side (a single move would fix the pool and break the total): ``a`` over in pool P with
    its total at the lower bound sends a PG of P away and takes a PG of another pool; ``a`` under in P with its
    total at the upper bound takes a PG of P and sends one of another pool away."""
    for i, pl in enumerate(bounds.pools):
        tot = bounds.total()
        c = bounds.count[i]
        over = np.flatnonzero((c > bounds.hi[i]) & (tot <= bounds.tlo))
        under = np.flatnonzero(bounds.eligible[i] & (c < bounds.lo[i]) & (tot >= bounds.thi))
        for a in over.tolist():
            og, inn = bounds.gains(pl, tot)
            sinks = np.flatnonzero(pl.eligible & (inn + og[a] <= 0))
            sinks = sinks[np.lexsort((sinks, pl.count[sinks] - pl.target[sinks], inn[sinks]))]
            for ps, pos, _undo in _pg_order(lay, pl, a):
                tried = 0
                for b in lay.sinks_for(pl, ps, pos, sinks).tolist():
                    got = lay.candidate(pl, ps, pos, b)
                    if got is None:
                        continue
                    tried += 1
                    d1 = int(og[a] + inn[b])
                    saved = (list(pl.cur[ps]), lay.work.pg_upmap_items.get((pl.pool_id, ps)),
                             (pl.pool_id, ps) in lay.changed)
                    lay.apply(pl, ps, *got)
                    try:
                        if any(_move_into(lay, bounds, q, a, -d1, None) for q in bounds.pools if q is not pl):
                            return True
                    except SearchBudgetExceeded:
                        _restore(lay, pl, ps, saved)
                        raise
                    _restore(lay, pl, ps, saved)
                    if tried >= _CHAIN_HOPS:
                        break
        for a in under.tolist():
            og, inn = bounds.gains(pl, tot)
            holders = np.flatnonzero((pl.count > 0) & (og + inn[a] <= 0))
            holders = holders[holders != a]
            holders = holders[np.lexsort((holders, -(pl.count[holders] - pl.target[holders]), og[holders]))]
            for x in holders[:_CHAIN_HOPS].tolist():
                d1 = int(og[x] + inn[a])
                for ps, pos, _undo in _pg_order(lay, pl, x):
                    if a in pl.cur[ps]:
                        continue
                    got = lay.candidate(pl, ps, pos, a)
                    if got is None:
                        continue
                    saved = (list(pl.cur[ps]), lay.work.pg_upmap_items.get((pl.pool_id, ps)),
                             (pl.pool_id, ps) in lay.changed)
                    lay.apply(pl, ps, *got)
                    tot2 = bounds.total()
                    try:
                        for q in bounds.pools:
                            if q is pl or q.count[a] <= 0:
                                continue
                            og2, inn2 = bounds.gains(q, tot2)
                            if _move_from(lay, bounds, q, a, int(og2[a]), inn2, -d1):
                                return True
                    except SearchBudgetExceeded:
                        _restore(lay, pl, ps, saved)
                        raise
                    _restore(lay, pl, ps, saved)
                    break
    return False


def _sources_any(lay: Layout, bounds: _Bounds) -> list[tuple[int, float, int, int]]:
    """OSDs above a bound, per pool, worst first (the chain search's starting points)."""
    tot = bounds.total()
    out = []
    for pl in bounds.pools:
        og, _ = bounds.gains(pl, tot)
        for a in np.flatnonzero((pl.count > 0) & (og < 0)).tolist():
            out.append((int(og[a]), -float(pl.count[a] - pl.target[a]), pl.pool_id, a))
    out.sort()
    return out


def _restore(lay: Layout, pl: PoolLayout, ps: int, saved) -> None:
    cur, items, was_changed = saved
    lay.apply(pl, ps, cur, items or ())
    if items:
        lay.work.pg_upmap_items[(pl.pool_id, ps)] = items
    lay.moves -= 2
    if not was_changed:
        lay.changed.discard((pl.pool_id, ps))


def _prune(lay: Layout, bounds: _Bounds, max_moves: int | None) -> None:
    """Drop upmap pairs whose removal breaks no bound (fewer entries, same balance)."""
    for pid, pl in lay.pools.items():
        for ps in range(len(pl.cur)):
            if max_moves is not None and lay.moves >= max_moves:
                return
            if (pid, ps) not in lay.work.pg_upmap_items or not pl.movable[ps]:
                continue
            for pos in range(len(pl.cur[ps])):
                r = lay.undo_position(pl, ps, pos)
                if r is None:
                    continue
                a = pl.cur[ps][pos]
                tot = bounds.total()
                og, inn = bounds.gains(pl, tot)
                if og[a] + inn[r] > 0 or (a == r):
                    continue
                got = lay.candidate(pl, ps, pos, r)
                if got is not None:
                    lay.apply(pl, ps, *got)


def _max_dev(count: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    d = np.abs(count - target)[mask]
    return float(d.max()) if len(d) else 0.0


def balance_count(snap: Snapshot, *, pools=None, max_deviation: int = 1, max_moves: int | None = None,
                  ceph_release: str | None = None, search_budget: int | None = None) -> BalancePlan:
    """PG-count balancing with ``pg-upmap-items``: each OSD within ``max_deviation`` PGs of its target, per pool
    and summed over the pools, with as few table entries as the search finds.

    Parameters
    ----------
    snap : Snapshot
        Needs the osd dump and CRUSH map (placement).
    pools : iterable of int or str, optional
        Pools balanced (default: every pool).  The total bound sums over these pools.
    max_deviation : int
        PGs an OSD may be away from its target (>= 1).
    max_moves : int, optional
        Stop after this many PG moves.
    ceph_release : str, optional
        As in :func:`pgtools.balance.calc_pg_upmaps`.
    search_budget : int, optional
        Checks the two-move chain search may make (a candidate move verified as Ceph verifies upmaps, or a PG's
        sinks filtered by failure domain; default
        20 per PG shard of the balanced pools, at least 200,000: seconds on a 1,000-OSD map).  Single moves
        are not budgeted (each either lowers the violation or rules its source out).  When the budget runs out
        with PGs outside ``±max_deviation``, a :class:`PgtoolsWarning` says so; the plan is valid as it stands.

    Returns
    -------
    BalancePlan
        ``summary``: ``max_dev_before/after`` (worst per pool), ``total_dev_before/after`` (worst summed over
        the pools), ``violation_before/after`` (PGs outside the bounds), ``items_before/after`` (entries in the
        ``pg_upmap_items`` table) and, when PGs stay outside the bounds without ``max_moves`` having stopped the
        search, ``bound``: :meth:`pgtools.balance.feasible.CountBound.to_dict` (is ``±max_deviation`` possible
        at all; the smallest max deviation any upmaps reach; the per-pool and total deviations aimed at) with
        ``reached`` (the plan's max deviation is that smallest one), ``achieved``, ``achieved_pools`` and
        ``achieved_total`` (the plan's max deviation as the bound measures it: up OSDs, below target only where
        the OSD may take PGs; overall, worst pool, totals), also said in :class:`PgtoolsWarning` s.
    """
    if max_deviation < 1:
        raise PgtoolsError("max_deviation must be >= 1")
    if max_moves is not None and max_moves < 0:
        raise PgtoolsError("max_moves must be >= 0")
    if search_budget is not None and search_budget < 0:
        raise PgtoolsError("search_budget must be >= 0")
    lay = Layout(snap, pools, ceph_release)
    shards = sum(pl.size * len(pl.cur) for pl in lay.pools.values())
    budget = max(_BUDGET_MIN, _BUDGET_PER_SHARD * shards) if search_budget is None else search_budget
    bounds = _Bounds(lay, max_deviation)
    before = {pid: pl.count.copy() for pid, pl in lay.pools.items()}
    tot0 = bounds.total()
    v0 = bounds.violation()
    items0 = lay.items_total()
    start = (lay.checkpoint(), _key(lay, bounds))
    _search(lay, bounds, max_moves, chains=False)
    bound = None
    if bounds.violation() and (max_moves is None or lay.moves < max_moves):
        bound = count_bound(lay, max_deviation)  # a property of the map, not of the placement reached
    spent = False
    if bound is not None and bound.feasible is False and bound.pool_deviation:
        # ±D is impossible: two-move chains toward it chase PGs that fit nowhere (on a large map for hours);
        # a short run of them prepares the search toward the bound's deviations, which has the full budget
        prep = min(budget, max(_PREP_MIN, _PREP_PER_SHARD * shards))
        _search(lay, bounds, max_moves, budget=prep)
        _prune(lay, bounds, max_moves)
        spent = not _toward_bound(lay, bounds, bound, max_moves, start, budget)
        bounds = _Bounds(lay, max_deviation)  # the ±D figures of the plan kept
    else:
        spent = not _search(lay, bounds, max_moves, budget=budget)
        _prune(lay, bounds, max_moves)
        if not bounds.violation():
            bound = None
    plan = _report(lay, bounds, before, tot0, v0, items0)
    plan.summary["checks"] = lay.checks
    if spent:
        plan.summary["budget_exhausted"] = True
        left = ("before every pool and the totals were within the deviations the bound aims at" if bound is not None
                and bound.feasible is False else
                f"with {plan.summary['violation_after']} PG(s) outside ±{max_deviation}")
        warnings.warn(f"the count balancer's search stopped at its budget of {budget:,} checks {left}; the plan is "
                      "valid as it stands (balance_count(search_budget=...) searches longer)", PgtoolsWarning,
                      stacklevel=2)
    if bound is not None:
        plan.summary["bound"] = {**bound.to_dict(), **_reached(lay, bound)}
        _warn_bound(bound, plan.summary["violation_after"], plan.summary["bound"])
    return plan


def _search(lay: Layout, bounds: _Bounds, max_moves: int | None, chains: bool = True,
            budget: int | None = None) -> bool:
    """Single improving moves, then (``chains``) two-move chains when none is left, until nothing helps (or
    ``max_moves``).  The chains may make ``budget`` candidate checks (counted from the first chain; moves
    still stop at the first chain started past it): False when they ran out of it."""
    stuck: set[tuple[int, int]] = set()
    try:
        while max_moves is None or lay.moves < max_moves:
            if _step(lay, bounds, stuck):
                continue
            if bounds.violation() == 0 or not chains:
                break
            if max_moves is not None and lay.moves + 2 > max_moves:
                break
            if budget is not None and lay.check_limit is None:
                lay.check_limit = lay.checks + budget
            stuck.clear()
            if not _chain(lay, bounds) and not _chain_into(lay, bounds) and not _swap(lay, bounds):
                break
    except SearchBudgetExceeded:
        return False
    finally:
        lay.check_limit = None
    return True


def _worst(lay: Layout) -> tuple[float, float]:
    """The max deviation as :func:`~pgtools.balance.feasible.count_bound` measures it (up OSDs; below a
    target only where the OSD may take PGs): ``(worst over the pools, worst of the totals)``."""
    up = lay.is_up
    pool_w, tot, tt, elig_any = 0.0, np.zeros(lay.n), np.zeros(lay.n), np.zeros(lay.n, dtype=bool)
    for pl in lay.pools.values():
        pool_w = max(pool_w, _max_dev(pl.count, pl.target, up & ((pl.count > pl.target) | pl.eligible)))
        tot += pl.count
        tt += pl.target
        elig_any |= pl.eligible
    return pool_w, _max_dev(tot, tt, up & ((tot > tt) | elig_any))


def _key(lay: Layout, bounds: _Bounds) -> tuple[float, int, int]:
    """What the bound phase must improve: the max deviation (rounded to the bound's precision), then the PGs
    outside ``±D``, then the table entries."""
    return round(max(_worst(lay)), 6), bounds.violation(), lay.items_total()


def _toward_bound(lay: Layout, bounds: _Bounds, bound, max_moves: int | None, start: tuple,
                  budget: int | None = None) -> bool:
    """``±D`` is impossible: search again toward the bound's per-pool and total deviations
    (:attr:`~pgtools.balance.feasible.CountBound.pool_deviation`, ``total_deviation``: the max deviation
    reaches :attr:`~pgtools.balance.feasible.CountBound.min_deviation` when every bound holds), from the
    placement the ``±D`` search left.  Of the three placements (``start``: the snapshot's, with its
    :func:`_key`; the ``±D`` search's; this one) the one of lowest :func:`_key` is kept, the earlier on a tie:
    never worse than the ``±D`` search alone, and a run on its own result changes nothing.  ``bounds`` (the
    ``±D`` bounds) is stale afterwards.  False when the search ran out of ``budget`` (:func:`_search`) before
    every bound held."""
    key1 = _key(lay, bounds)
    state = lay.checkpoint()
    aim = _Bounds(lay, bound.requested, bound.pool_deviation, bound.total_deviation)
    done = _search(lay, aim, max_moves, budget=budget)
    _prune(lay, aim, max_moves)
    key2 = _key(lay, _Bounds(lay, bound.requested))
    best = min((start[1], 0), (key1, 1), (key2, 2))[1]
    if best < 2:
        lay.rollback(start[0] if best == 0 else state)
    return done or not aim.violation()


def _reached(lay: Layout, bound) -> dict:
    """``reached`` (the plan's max deviation is the bound's), ``achieved`` (its max deviation, as the bound
    measures it), ``achieved_pools`` / ``achieved_total`` (per pool / summed over the pools)."""
    pw, tw = _worst(lay)
    got = max(pw, tw)
    return {"reached": bool(bound.feasible is False and got <= bound.min_deviation + 1e-6), "achieved": got,
            "achieved_pools": pw, "achieved_total": tw}


def _warn_bound(bound, left: int, got: dict) -> None:
    """Say why the search stopped above ``±D``: impossible (with the proof, and whether the plan reaches the
    smallest max deviation), or possible but not found."""
    d = f"±{bound.requested:g}"
    how = "exactly" if bound.exact else "at least (a lower bound: some rule is only partly modelled)"
    if bound.feasible is False:
        for r in bound.reasons:
            warnings.warn(r, PgtoolsWarning, stacklevel=3)
        fig = (f"{got['achieved']:.2f} PGs (per pool {got['achieved_pools']:.2f}, summed over the pools "
               f"{got['achieved_total']:.2f})")
        res = (f"this plan reaches it: {fig}" if got["reached"] else
               f"this plan stops above it, at {fig}")
        warnings.warn(f"{d} is impossible with any upmaps; the smallest max deviation of an up OSD from its targets "
                      f"(per pool and summed over the pools) is {how} {bound.min_deviation:.2f} PGs; {res}",
                      PgtoolsWarning, stacklevel=3)
    elif bound.feasible:
        warnings.warn(f"{left} PG(s) stay outside {d}: a {d} placement exists (exact model) but the search did "
                      "not find it", PgtoolsWarning, stacklevel=3)
    else:
        warnings.warn(f"{left} PG(s) stay outside {d}: not found by the search, and not proved impossible (some "
                      "rule is only partly modelled)", PgtoolsWarning, stacklevel=3)


def _report(lay: Layout, bounds: _Bounds, before: dict, tot0: np.ndarray, v0: int, items0: int) -> BalancePlan:
    rows = []
    mask_any = np.zeros(lay.n, dtype=bool)
    for pid, pl in lay.pools.items():
        mask = (pl.target > 0) | (pl.count > 0) | (before[pid] > 0)
        mask_any |= mask
        rows.append({"pool_id": pid, "pool": pl.name, "max_dev_before": _max_dev(before[pid], pl.target, mask),
                     "max_dev_after": _max_dev(pl.count, pl.target, mask)})
    pools = pd.DataFrame(rows, columns=["pool_id", "pool", "max_dev_before", "max_dev_after"])
    tot = bounds.total()
    ids = np.flatnonzero(mask_any)
    osds = pd.DataFrame({"osd_id": ids, "target": bounds.total_target[ids], "pgs_before": tot0[ids],
                         "pgs_after": tot[ids]})
    summary = {"max_dev_before": float(pools["max_dev_before"].max()) if len(pools) else 0.0,
               "max_dev_after": float(pools["max_dev_after"].max()) if len(pools) else 0.0,
               "total_dev_before": _max_dev(tot0, bounds.total_target, mask_any),
               "total_dev_after": _max_dev(tot, bounds.total_target, mask_any),
               "violation_before": v0, "violation_after": bounds.violation(),
               "items_before": items0, "items_after": lay.items_total()}
    return lay.plan(osds=osds, pools=pools, summary=summary)


def count_deviation(snap: Snapshot, *, pools=None, max_deviation: int = 1, ceph_release: str | None = None) -> dict:
    """How far ``snap``'s PG counts are from their targets: ``max_dev`` (worst OSD of any pool),
    ``total_dev`` (worst OSD summed over the pools), ``violation`` (PGs outside :func:`balance_count`'s bounds
    for ``max_deviation``), ``items`` (``pg_upmap_items`` entries) and ``pairs``.
    """
    lay = Layout(snap, pools, ceph_release)
    bounds = _Bounds(lay, max_deviation)
    mask_any = np.zeros(lay.n, dtype=bool)
    worst = 0.0
    for pl in lay.pools.values():
        mask = (pl.target > 0) | (pl.count > 0)
        mask_any |= mask
        worst = max(worst, _max_dev(pl.count, pl.target, mask))
    return {"max_dev": worst, "total_dev": _max_dev(bounds.total(), bounds.total_target, mask_any),
            "violation": bounds.violation(), "items": lay.items_total(), "pairs": sum(len(v) for v in lay.work.pg_upmap_items.values())}
