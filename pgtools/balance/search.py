"""The move machinery shared by pgtools' own balancers (:mod:`~pgtools.balance.count`, :mod:`~pgtools.balance.capacity`).

A :class:`Layout` holds, for each balanced pool, every PG's CRUSH result (``raw``, fixed) and its current
vector after upmaps (``cur``, what ``OSDMap::pg_to_raw_upmap`` gives), the PGs of each OSD, and the pool's
eligible targets.  A *move* replaces one OSD of one PG by another; :meth:`Layout.try_move` accepts it only
when the PG's resulting ``pg_upmap_items`` are ones Ceph takes and keeps:

* the monitor's ``osd pg-upmap-items`` checks (``OSDMonitor::prepare_command_impl``): at most ``size`` pairs,
  each source an existing OSD (never ``CRUSH_ITEM_NONE``), each target existing;
* ``OSDMap::check_pg_upmaps`` (run by ``clean_pg_upmaps`` on every map the mon builds): the new vector passes
  ``CrushWrapper::verify_upmap`` (failure domains, subtree of each take/emit, EC positions), every OSD of it
  lies under the rule with a non-zero CRUSH share × reweight (device class, in, weight > 0), each pair's
  source is in the CRUSH result and its target is not out;
* the target is up (a move onto a down OSD would not change the up set).

The items are canonical: a pair per position whose OSD differs from CRUSH's (replicated pools compare as
sets, so moving a PG back onto the OSD CRUSH chose *removes* a pair instead of stacking one); the vector
Ceph derives from them (``pg_to_raw_upmap``, run on the candidate) must be the intended one, else the move
is refused.  A PG with a ``pg_upmap`` entry, a ``pg_upmap_primary`` or of a pool that is merging PGs is never
moved (Ceph's balancer skips the first; the others would be cancelled or reordered by the mon).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model import Snapshot, split_pgid
from .plan import UpmapPlan, work_map
from .work import PG, Increment, WorkMap, pgid_text, pool_ids

__all__ = ["BalancePlan", "Layout", "PoolLayout"]

_NONE = 0x7FFFFFFF


@dataclass
class BalancePlan(UpmapPlan):
    """An :class:`~pgtools.balance.plan.UpmapPlan` from one of pgtools' own balancers, with what it achieves.

    Attributes
    ----------
    moves : int
        PG moves the search made (a PG moved twice counts twice; ``new_pg_upmap_items`` holds the net result).
    pgs : DataFrame
        Per changed PG: ``pgid``, ``before``, ``after`` (its OSDs after upmaps, ``pg_to_raw_upmap``: the up set
        when all are up), as predicted.
    osds : DataFrame
        Per OSD: ``osd_id``, ``target`` (PGs, weight share), ``pgs_before``, ``pgs_after`` and, for capacity
        mode, ``used_before``, ``used_after`` (fractions), ``kb``.
    pools : DataFrame
        Per pool: ``pool_id``, ``pool``, ``max_dev_before``, ``max_dev_after`` and, for capacity mode,
        ``max_avail_before``, ``max_avail_after`` (bytes).
    summary : dict
        Mode-specific figures (``max_dev_*``, ``items_*``, ``bytes_moved``, ``spread_*`` ...).
    """

    moves: int = 0
    pgs: pd.DataFrame = field(default_factory=pd.DataFrame)
    osds: pd.DataFrame = field(default_factory=pd.DataFrame)
    pools: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: dict = field(default_factory=dict)


class SearchBudgetExceeded(Exception):
    """A search used up its :attr:`Layout.check_limit` (internal: the balancers catch it and stop searching)."""


@dataclass
class PoolLayout:
    """One balanced pool: CRUSH results, current vectors, eligible targets and count targets."""

    pool_id: int
    name: str
    size: int
    rule: int
    ec: bool
    raw: list[list[int]]
    cur: list[list[int]]
    movable: np.ndarray  # bool per ps
    eligible: np.ndarray  # bool per OSD id: a valid target (under the rule, weight > 0, up)
    target: np.ndarray  # float per OSD id: size * pg_num * weight share (Ceph's calc_pg_upmaps target)
    count: np.ndarray  # int per OSD id: PGs of this pool in up sets
    on: list[set[int]] = field(default_factory=list)  # PGs (ps) whose cur holds the OSD
    #: per ``chooseleaf`` failure-domain type of the rule: each OSD's bucket of that type (0: none), see
    #: :meth:`Layout.sinks_for`
    domains: list[np.ndarray] = field(default_factory=list)


class Layout:
    """The balanced pools of a snapshot, movable PG by PG (see the module docstring).

    Parameters
    ----------
    snap : Snapshot
    pools : iterable of int or str, optional
        Pool ids or names (default: every pool).
    ceph_release : str, optional
        The release whose rule lookup and checks apply (see :func:`pgtools.balance.work_map`).
    """

    def __init__(self, snap: Snapshot, pools=None, ceph_release: str | None = None) -> None:
        self.snap = snap
        self.work: WorkMap = work_map(snap, ceph_release)
        w = self.work
        self.release = w.release
        m = w.map
        self.n = int(m.max_osd)
        self.exists = np.asarray(m.exists, dtype=bool)[: self.n]
        self.is_up = np.asarray(m.exists & m.up, dtype=bool)[: self.n]
        self.reweight = np.array([w.weight16(o) for o in range(self.n)], dtype=np.int64)
        self.orig_items = dict(w.pg_upmap_items)
        self.changed: set[PG] = set()
        self.first: dict[PG, list[int]] = {}
        self.moves = 0
        #: :meth:`candidate` and :meth:`sinks_for` calls so far, and the count past which they raise
        #: :class:`SearchBudgetExceeded`
        self.checks = 0
        self.check_limit: int | None = None
        ids = sorted(set(pool_ids(self.work, pools))) if pools is not None else sorted(self.work.pools)
        self.pools: dict[int, PoolLayout] = {}
        self._domain_cache: dict[int, list[np.ndarray]] = {}
        primaries = {split_pgid(pg) if isinstance(pg, str) else tuple(pg) for pg in snap.osdmap.pg_upmap_primaries}
        weights = {pid: wt for pid in ids if (wt := self._weights(pid)) is not None}
        raw = w.raw_rows([w.pools[pid] for pid in weights])  # CRUSH, pools sharing a rule in one call
        for pid, (rule, weight) in weights.items():
            self.pools[pid] = self._pool(pid, rule, weight, raw[pid], primaries)

    def _weights(self, pid: int) -> tuple[int, np.ndarray] | None:
        """The rule of pool ``pid`` and each OSD's CRUSH share × reweight under it (None: no OSD gets PGs)."""
        w = self.work
        rule = w.crush_rule(w.pools[pid])
        share = w.topology.rule_weight_osd_map(rule) if rule >= 0 else None
        if not share:
            return None
        weight = np.zeros(self.n)
        for osd, s in share.items():
            if 0 <= osd < self.n:
                weight[osd] = float(np.float32(w.weightf(osd) * s))
        if weight.sum() <= 0:
            return None
        return rule, weight

    def _pool(self, pid: int, rule: int, weight: np.ndarray, raw_rows: np.ndarray, primaries: set) -> PoolLayout:
        w = self.work
        pool = w.pools[pid]
        merging = w.pg_num_pending[pid] < pool.pg_num
        raw, cur = [], []
        movable = np.ones(pool.pg_num, dtype=bool)
        count = np.zeros(self.n, dtype=np.int64)
        on: list[set[int]] = [set() for _ in range(self.n)]
        rows = raw_rows.tolist()
        is_up = self.is_up.tolist()
        for ps in range(pool.pg_num):
            r = [v for v in rows[ps] if v != -1]
            pg = (pid, ps)
            if pg in w.pg_upmap or pg in w.pg_upmap_items or pg in primaries:
                c = w.map.pg_to_raw_upmap(pid, ps, r)[1]
            else:
                c = list(r)
            raw.append(r)
            cur.append(c)
            if merging or pg in w.pg_upmap or pg in primaries:
                movable[ps] = False
            for o in c:  # the up set is ``c`` without the OSDs that are down (primary affinity only reorders)
                if o != _NONE and 0 <= o < self.n:
                    on[o].add(ps)
                    if is_up[o]:
                        count[o] += 1
        eligible = (weight > 0) & self.is_up & (self.reweight > 0)
        target = weight * (pool.size * pool.pg_num) / weight.sum()
        return PoolLayout(pid, pool.name, pool.size, rule, not pool.can_shift_osds(), raw, cur, movable, eligible,
                          target, count, on, self._domains(rule))

    def _domains(self, rule: int) -> list[np.ndarray]:
        got = self._domain_cache.get(rule)
        if got is None:
            got = []
            for dom in self.work.topology.leaf_domains(rule):
                a = np.zeros(self.n, dtype=np.int64)
                for osd, b in dom.items():
                    if osd < self.n:
                        a[osd] = b
                got.append(a)
            self._domain_cache[rule] = got
        return got

    # ---- moves --------------------------------------------------------------------------------------
    def items_for(self, pl: PoolLayout, ps: int, vec: list[int]) -> tuple[tuple[int, int], ...] | None:
        """The canonical ``pg_upmap_items`` taking the CRUSH result of ``ps`` to ``vec`` (None: not expressible)."""
        raw = pl.raw[ps]
        if len(vec) != len(raw):
            return None
        if pl.ec:
            pairs = [(a, b) for a, b in zip(raw, vec, strict=True) if a != b]
            if any(b in raw for _, b in pairs):
                return None
        else:
            vs, rs = set(vec), set(raw)
            pairs = list(zip([a for a in raw if a not in vs], [b for b in vec if b not in rs], strict=True))
        for a, b in pairs:
            if a == _NONE or not (0 <= a < self.n) or not self.exists[a] or not (0 <= b < self.n) or not self.exists[b]:
                return None
        if len(pairs) > pl.size:
            return None
        return tuple(pairs)

    def valid_vector(self, pl: PoolLayout, vec: list[int]) -> bool:
        """``check_pg_upmaps``' conditions on a PG's new vector (verify_upmap, rule membership, weight)."""
        if self.work.topology.verify_upmap(pl.rule, pl.size, vec) < 0:
            return False
        for o in vec:
            if o == _NONE:
                continue
            if not (0 <= o < self.n) or not pl.target[o] > 0:
                return False
        return True

    def _spend(self) -> None:
        """Count one check (:attr:`checks`); past :attr:`check_limit` raise :class:`SearchBudgetExceeded`."""
        self.checks += 1
        if self.check_limit is not None and self.checks > self.check_limit:
            raise SearchBudgetExceeded(self.checks)

    def sinks_for(self, pl: PoolLayout, ps: int, pos: int, sinks: np.ndarray) -> np.ndarray:
        """``sinks`` (OSD ids, order kept) less those :meth:`candidate` would refuse for position ``pos`` of
        ``ps`` because another OSD of the PG sits in the same bucket of a ``chooseleaf`` failure-domain type (as
        ``verify_upmap`` finds): a cheap pre-filter, each remaining sink is still checked by :meth:`candidate`.
        Counted in :attr:`checks` as one check (and limited by :attr:`check_limit` likewise)."""
        self._spend()
        if not pl.domains or not len(sinks):
            return sinks
        others = [o for i, o in enumerate(pl.cur[ps]) if i != pos and o != _NONE and 0 <= o < self.n]
        keep = None
        for dom in pl.domains:
            d = None
            for t in {int(dom[o]) for o in others}:
                if t < 0:
                    if d is None:
                        d = dom[sinks]
                    m = d != t
                    keep = m if keep is None else keep & m
        return sinks if keep is None else sinks[keep]

    def candidate(self, pl: PoolLayout, ps: int, pos: int, b: int) -> tuple[list[int], tuple] | None:
        """The PG's vector and items after moving position ``pos`` to OSD ``b``, or None when Ceph would refuse.
        Counted in :attr:`checks`; past :attr:`check_limit` raises :class:`SearchBudgetExceeded`."""
        self._spend()
        if not pl.movable[ps] or not pl.eligible[b]:
            return None
        cur = pl.cur[ps]
        if b in cur:
            return None
        vec = list(cur)
        vec[pos] = b
        items = self.items_for(pl, ps, vec)
        if items is None or not self.valid_vector(pl, vec):
            return None
        pg = (pl.pool_id, ps)
        got = self._derive(pg, pl.raw[ps], items)
        if (got != vec) if pl.ec else (sorted(got) != sorted(vec)):
            return None
        return got, items

    def _derive(self, pg: PG, raw: list[int], items: tuple) -> list[int]:
        """``pg_to_raw_upmap`` of ``pg`` with ``items`` in place of its current entry."""
        table = self.work.pg_upmap_items
        old = table.get(pg)
        if items:
            table[pg] = items
        else:
            table.pop(pg, None)
        try:
            return self.work.map.pg_to_raw_upmap(pg[0], pg[1], raw)[1]
        finally:
            if old is None:
                table.pop(pg, None)
            else:
                table[pg] = old

    def apply(self, pl: PoolLayout, ps: int, got: list[int], items: tuple) -> None:
        """Make a move found by :meth:`candidate`: vectors, per-OSD PG sets and counts, the items table."""
        old = pl.cur[ps]
        self.first.setdefault((pl.pool_id, ps), list(old))
        for o in old:
            if o != _NONE and 0 <= o < self.n:
                pl.on[o].discard(ps)
                if self.is_up[o]:
                    pl.count[o] -= 1
        for o in got:
            if o != _NONE and 0 <= o < self.n:
                pl.on[o].add(ps)
                if self.is_up[o]:
                    pl.count[o] += 1
        pl.cur[ps] = got
        pg = (pl.pool_id, ps)
        if items:
            self.work.pg_upmap_items[pg] = items
        else:
            self.work.pg_upmap_items.pop(pg, None)
        self.changed.add(pg)
        self.moves += 1

    def undo_position(self, pl: PoolLayout, ps: int, pos: int) -> int | None:
        """The CRUSH choice an upmapped position of ``ps`` would go back to (None: the position is CRUSH's)."""
        raw, cur = pl.raw[ps], pl.cur[ps]
        a = cur[pos]
        if pl.ec:
            r = raw[pos] if pos < len(raw) else None
            return r if r is not None and r != a and r != _NONE else None
        if a in raw:
            return None
        for x, y in self.work.pg_upmap_items.get((pl.pool_id, ps), ()):
            if y == a and x in raw and x not in cur:
                return x  # the pair that put the PG here
        missing = [r for r in raw if r not in cur]
        return missing[0] if missing else None

    def checkpoint(self) -> tuple:
        """The state :meth:`rollback` returns to: vectors, PG sets and counts, the items table, the moves."""
        pools = {pid: (list(pl.cur), [set(x) for x in pl.on], pl.count.copy()) for pid, pl in self.pools.items()}
        return (pools, dict(self.work.pg_upmap_items), set(self.changed), dict(self.first), self.moves)

    def rollback(self, state: tuple) -> None:
        """Back to a :meth:`checkpoint` (counts are written in place: other arrays may be views of them)."""
        pools, items, changed, first, moves = state
        for pid, (cur, on, count) in pools.items():
            pl = self.pools[pid]
            pl.cur[:] = cur
            pl.on[:] = [set(x) for x in on]  # copies: the state may be returned to again
            pl.count[:] = count
        table = self.work.pg_upmap_items
        table.clear()
        table.update(items)
        self.changed, self.first, self.moves = set(changed), dict(first), moves

    # ---- results ------------------------------------------------------------------------------------
    def increment(self) -> Increment:
        """The net change of the upmap table against the snapshot."""
        inc = Increment()
        for pg in sorted(self.changed):
            now = self.work.pg_upmap_items.get(pg)
            before = self.orig_items.get(pg)
            if now == before:
                continue
            if now:
                inc.new_pg_upmap_items[pg] = now
            else:
                inc.old_pg_upmap_items.add(pg)
        return inc

    def items_total(self) -> int:
        """Entries of the upmap-items table now."""
        return len(self.work.pg_upmap_items)

    def plan(self, **extra) -> BalancePlan:
        inc = self.increment()
        n = len(inc.new_pg_upmap_items) + len(inc.old_pg_upmap_items)
        rows = [{"pgid": pgid_text(pg), "before": tuple(self.first[pg]), "after": tuple(self.pools[pg[0]].cur[pg[1]])}
                for pg in sorted(set(inc.new_pg_upmap_items) | inc.old_pg_upmap_items)]
        extra.setdefault("pgs", pd.DataFrame(rows, columns=["pgid", "before", "after"]))
        return BalancePlan({pgid_text(pg): v for pg, v in sorted(inc.new_pg_upmap_items.items())},
                           [pgid_text(pg) for pg in sorted(inc.old_pg_upmap_items)], [], n, self.release, True,
                           inc.commands(), "", moves=self.moves, **extra)
