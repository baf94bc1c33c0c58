"""The moves of the PG-count balancer (:mod:`pgtools.balance.count`): per-pool and total bounds on PG counts
(:class:`Bounds`) and the searches for a change that lowers the number of PGs outside them: one move
(:func:`step`), two-move chains through an OSD at its bound (:func:`chain`, :func:`chain_into`) and swaps
through an OSD whose total sits at the bound opposite its pool's (:func:`swap`).  Every move is checked by
:meth:`pgtools.balance.search.Layout.candidate` as Ceph checks upmaps; each search either applies one
improving change and returns True, or leaves the layout as it found it and returns False.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from .search import Layout, PoolLayout, SearchBudgetExceeded

__all__ = ["Bounds", "chain", "chain_into", "step", "swap"]

_EPS = 1e-6
#: a deviation at least this large bounds nothing (larger ones are clipped: int64 counts must not overflow)
_NO_BOUND = 1e15
#: sinks tried per (source PG, gain tier) before giving up on that PG
_SINKS_PER_PG = 48
#: intermediate OSDs tried per PG by the two-move chain search
_CHAIN_HOPS = 12


class Bounds:
    """Per-pool and total bounds ``[lo, hi]`` on PG counts (integers), and the gains of a move."""

    def __init__(self, lay: Layout, max_deviation: float, pool_dev: dict[int, float] | None = None,
                 total_dev: float | None = None) -> None:
        self.lay = lay
        self.pools = list(lay.pools.values())
        self.row = {pl.pool_id: i for i, pl in enumerate(self.pools)}
        d = min(float(max_deviation), _NO_BOUND)
        dp = np.minimum([float((pool_dev or {}).get(pl.pool_id, d)) for pl in self.pools], _NO_BOUND)[:, None]
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
        dt = d if total_dev is None else min(float(total_dev), _NO_BOUND)
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


def _move_from(lay: Layout, bounds: Bounds, pl: PoolLayout, a: int, out_gain: int, inn: np.ndarray,
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
            if _apply_first(lay, pl, ((ps, pos, b) for b in lay.sinks_for(pl, ps, pos, tier).tolist())):
                return True
    return False


def _apply_first(lay: Layout, pl: PoolLayout, tries) -> bool:
    """Apply the first of the candidate moves ``(ps, pos, to)`` that passes Ceph's checks, trying at most
    :data:`_SINKS_PER_PG` of them; False when none does."""
    for tried, (ps, pos, to) in enumerate(tries):
        if tried >= _SINKS_PER_PG:
            break
        got = lay.candidate(pl, ps, pos, to)
        if got is not None:
            lay.apply(pl, ps, *got)
            return True
    return False


def _sources(lay: Layout, bounds: Bounds, og: np.ndarray, inn: np.ndarray) -> list[tuple[int, int, int]]:
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


def step(lay: Layout, bounds: Bounds, stuck: set[tuple[int, int]]) -> bool:
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


def _with_move(lay: Layout, pl: PoolLayout, ps: int, got, second) -> bool:
    """Apply ``got`` (a move of PG ``ps`` of ``pl``), then ``second()``: kept when it returns True, else undone
    (also when the search budget runs out inside it: no half chain is left behind)."""
    saved = (list(pl.cur[ps]), lay.work.pg_upmap_items.get((pl.pool_id, ps)), (pl.pool_id, ps) in lay.changed)
    lay.apply(pl, ps, *got)
    try:
        if second():
            return True
    except SearchBudgetExceeded:
        _restore(lay, pl, ps, saved)
        raise
    _restore(lay, pl, ps, saved)
    return False


def _moves_off(lay: Layout, pl: PoolLayout, a: int, sinks: np.ndarray):
    """The valid moves of PGs of ``pl`` off ``a`` onto ``sinks`` (tried in their order), as ``(ps, got, b)``: at
    most :data:`_CHAIN_HOPS` per PG.  The caller undoes what it tries before drawing the next."""
    for ps, pos, _undo in _pg_order(lay, pl, a):
        tried = 0
        for b in lay.sinks_for(pl, ps, pos, sinks).tolist():
            got = lay.candidate(pl, ps, pos, b)
            if got is None:
                continue
            yield ps, got, b
            tried += 1
            if tried >= _CHAIN_HOPS:
                break


def _off_via(lay: Layout, bounds: Bounds, pl: PoolLayout, ps: int, via: int, d1: int,
             other_pools: bool = False) -> bool:
    """The second half of a chain onto ``via`` (PG ``ps`` of ``pl`` just moved there): a move off ``via``, in any
    pool (``other_pools``: any but ``pl``), whose gain is below ``-d1``."""
    tot = bounds.total()
    for q in bounds.pools:
        if q.count[via] <= 0 or (other_pools and q is pl):
            continue
        og, inn = bounds.gains(q, tot)
        if _move_from(lay, bounds, q, via, int(og[via]), inn, -d1, skip_ps=ps if q is pl else None):
            return True
    return False


def chain(lay: Layout, bounds: Bounds) -> bool:
    """Two moves ``a → n → b`` that lower the violation together when no single move does."""
    for og, _dev, pid, a in _sources_any(lay, bounds):
        pl = lay.pools[pid]
        tot = bounds.total()
        _, inn = bounds.gains(pl, tot)
        hops = np.flatnonzero(pl.eligible & (inn + og <= 1))
        if not len(hops):
            continue
        hops = hops[np.lexsort((hops, pl.count[hops] - pl.target[hops], inn[hops]))]
        for ps, got, n in _moves_off(lay, pl, a, hops):
            if _with_move(lay, pl, ps, got, partial(_off_via, lay, bounds, pl, ps, n, int(og + inn[n]))):
                return True
    return False


def chain_into(lay: Layout, bounds: Bounds) -> bool:
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
                if _with_move(lay, pl, ps, got, partial(_off_via, lay, bounds, pl, ps, b, d1)):
                    return True
                break
    return False


def _move_into(lay: Layout, bounds: Bounds, q: PoolLayout, a: int, limit: int, skip_ps: int | None) -> bool:
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
        tries = ((ps, q.cur[ps].index(x), a) for ps in sorted(q.on[x])
                 if ps != skip_ps and q.movable[ps] and a not in q.cur[ps])
        if _apply_first(lay, q, tries):
            return True
    return False


def swap(lay: Layout, bounds: Bounds) -> bool:
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
            for ps, got, b in _moves_off(lay, pl, a, sinks):
                if _with_move(lay, pl, ps, got, partial(_into_any, lay, bounds, pl, a, -int(og[a] + inn[b]))):
                    return True
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
                    if _with_move(lay, pl, ps, got, partial(_off_via, lay, bounds, pl, ps, a, d1, True)):
                        return True
                    break
    return False


def _into_any(lay: Layout, bounds: Bounds, pl: PoolLayout, a: int, limit: int) -> bool:
    """A PG of a pool other than ``pl`` moved onto ``a`` with a gain below ``limit``."""
    return any(_move_into(lay, bounds, q, a, limit, None) for q in bounds.pools if q is not pl)


def _sources_any(lay: Layout, bounds: Bounds) -> list[tuple[int, float, int, int]]:
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
