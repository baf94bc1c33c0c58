"""How close to their targets the PG counts *can* get: a proof when :func:`~pgtools.balance.count.balance_count`
stops above its bound.

The question "can every up OSD be within ``D`` PGs of its target, per pool and summed over the pools?" is a
feasible-flow problem over what Ceph lets upmaps do.  Only the final vector of each PG matters; Ceph takes a
vector (``OSDMonitor`` checks, ``OSDMap::check_pg_upmaps``) when its OSDs are distinct, lie under the pool's
rule with a non-zero CRUSH share × reweight, and pass ``CrushWrapper::verify_upmap``.  For a rule of the form
``take R; chooseleaf|choose {firstn|indep} N type F; emit`` (``set_*`` steps aside) verify_upmap asks exactly that
the OSDs sit in distinct ``F`` buckets (``choose ... type osd``: distinct OSDs); any such set of OSDs can be
written as ``pg-upmap-items`` (OSDs CRUSH chose keep their place, the new ones take the freed positions, at
most one pair per position).  The network, one unit per PG shard:

``source → (pool, PGs with s shards) [exactly n·s] → (pool, F bucket) [≤ n] → (pool, OSD) → OSD → sink``

with ``(pool, OSD) → OSD`` bounded by the per-pool bounds ``[⌈t − D⌉, ⌊t + D⌋]`` and ``OSD → sink`` by the total
bounds (down OSDs: unbounded, their shards are not counted).  ``n`` PGs needing ``s`` distinct buckets each
can take bucket loads ``x_b`` iff every ``x_b ≤ n`` (Gale–Ryser with equal row sums), so an integral flow is
a set of vectors Ceph accepts, and every such set is a flow: for these rules the model is **exact**.  PGs
that cannot move (``pg_upmap``, ``pg_upmap_primary``, merging pools) are fixed.  Other rules (several steps,
several takes, MSR) keep only "distinct OSDs under the rule": a **relaxation**, so "infeasible" is still a
proof, "feasible" is not.

:func:`count_bound` finds the smallest ``D`` (to within the values where a bound ``t ± D`` crosses an
integer) for which the network is feasible, for all the pools together and for each pool alone.  When the
requested ``D`` is impossible it also picks a deviation per pool and one for the totals, none above that
smallest ``D``, that fit together (the network with those bounds is feasible), as close to the requested ``D``
as one search per figure finds: what :func:`~pgtools.balance.count.balance_count` then aims at.

Imports: :mod:`pgtools.crush` (rule opcodes), :mod:`pgtools.balance.search`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ..crush.rule import OPS
from .search import Layout, PoolLayout

__all__ = ["CountBound", "count_bound"]

_NONE = 0x7FFFFFFF
_EPS = 1e-6
_INF = 1 << 60
#: the exponential search of _min_d gives up past this many PGs of deviation
_MAX_STEP = 1 << 24
#: key of an OSD that is its own domain (rules that only ask for distinct OSDs)
_OSD_KEY = 1 << 40
_TAKE, _EMIT = OPS["take"], OPS["emit"]
_CHOOSE = (OPS["choose_firstn"], OPS["choose_indep"], OPS["chooseleaf_firstn"], OPS["chooseleaf_indep"])
_LEAF = (OPS["chooseleaf_firstn"], OPS["chooseleaf_indep"])
_SETTINGS = tuple(OPS[k] for k in ("noop", "set_choose_tries", "set_chooseleaf_tries", "set_choose_local_tries",
                                   "set_choose_local_fallback_tries", "set_chooseleaf_vary_r",
                                   "set_chooseleaf_stable"))


@dataclass
class CountBound:
    """What :func:`count_bound` proves.

    Attributes
    ----------
    requested : float
        The ``D`` asked for.
    feasible : bool or None
        Every up OSD within ``requested`` (per pool and in total): True (a solution exists; exact model),
        False (impossible: proved), None (not excluded by a relaxation).
    min_deviation : float
        The smallest ``D`` for which the model is feasible: with an exact model the best max deviation any
        upmaps reach (over up OSDs), else a lower bound on it.
    exact : bool
        Every pool's rule was modelled exactly.
    pools : list of dict
        Per pool alone: ``pool_id``, ``pool``, ``exact``, ``min_deviation``, ``reason`` (why ``requested``
        is out of reach for that pool, or "").
    reasons : list of str
        One sentence per pool for which ``requested`` is impossible, then one when only the pools together are.
    pool_deviation : dict
        When ``requested`` is impossible: ``{pool id: D}``, deviations no larger than :attr:`min_deviation`
        that the model allows together with :attr:`total_deviation` (a placement within them has max
        deviation :attr:`min_deviation` exactly); :func:`_aim` says how they are chosen.  Else empty.
    total_deviation : float or None
        The deviation of the OSDs' totals that goes with :attr:`pool_deviation` (None when it is empty).
    """

    requested: float
    feasible: bool | None
    min_deviation: float
    exact: bool
    pools: list[dict] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    pool_deviation: dict[int, float] = field(default_factory=dict)
    total_deviation: float | None = None

    def to_dict(self) -> dict:
        return {"requested": self.requested, "feasible": self.feasible, "min_deviation": self.min_deviation,
                "exact": self.exact, "pools": self.pools, "reasons": self.reasons,
                "pool_deviation": {str(k): v for k, v in self.pool_deviation.items()},
                "total_deviation": self.total_deviation}


class _Flow:
    """Dinic's max flow on integer capacities (adjacency lists of edge ids; edge ``e ^ 1`` is the reverse)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.head: list[list[int]] = [[] for _ in range(n)]
        self.to: list[int] = []
        self.cap: list[int] = []

    def add(self, u: int, v: int, c: int) -> None:
        self.head[u].append(len(self.to))
        self.to.append(v)
        self.cap.append(c)
        self.head[v].append(len(self.to))
        self.to.append(u)
        self.cap.append(0)

    def max_flow(self, s: int, t: int) -> int:
        total = 0
        to, cap, head = self.to, self.cap, self.head
        while True:
            level = [-1] * self.n
            level[s] = 0
            q = deque([s])
            while q:
                u = q.popleft()
                for e in head[u]:
                    if cap[e] > 0 and level[to[e]] < 0:
                        level[to[e]] = level[u] + 1
                        q.append(to[e])
            if level[t] < 0:
                return total
            it = [0] * self.n
            while True:
                pushed = self._push(s, t, _INF, level, it)
                if not pushed:
                    break
                total += pushed

    def _push(self, s: int, t: int, limit: int, level: list[int], it: list[int]) -> int:
        """One augmenting path in the level graph (iterative depth-first search)."""
        to, cap, head = self.to, self.cap, self.head
        path: list[int] = []
        u = s
        while True:
            if u == t:
                f = min([limit, *(cap[e] for e in path)])
                for e in path:
                    cap[e] -= f
                    cap[e ^ 1] += f
                return f
            adj = head[u]
            while it[u] < len(adj):
                e = adj[it[u]]
                if cap[e] > 0 and level[to[e]] == level[u] + 1:
                    break
                it[u] += 1
            else:
                if not path:
                    return 0
                level[u] = -1  # dead end
                e = path.pop()
                u = to[e ^ 1]
                it[u] += 1
                continue
            path.append(e)
            u = to[e]


class _Bounded:
    """A feasible-flow instance with lower bounds, reduced to max flow (super source and sink)."""

    def __init__(self) -> None:
        self.edges: list[tuple[int, int, int, int]] = []
        self.n = 0

    def node(self) -> int:
        self.n += 1
        return self.n - 1

    def edge(self, u: int, v: int, lo: int, hi: int) -> None:
        self.edges.append((u, v, lo, hi))

    def feasible(self, s: int, t: int) -> bool:
        if any(lo > hi for _, _, lo, hi in self.edges):
            return False
        f = _Flow(self.n + 2)
        ss, tt = self.n, self.n + 1
        excess = [0] * self.n
        for u, v, lo, hi in self.edges:
            if hi > lo:
                f.add(u, v, hi - lo)
            excess[v] += lo
            excess[u] -= lo
        f.add(t, s, _INF)
        need = 0
        for v, x in enumerate(excess):
            if x > 0:
                f.add(ss, v, x)
                need += x
            elif x < 0:
                f.add(v, tt, -x)
        return f.max_flow(ss, tt) == need


def _domain_type(lay: Layout, pl: PoolLayout) -> tuple[int, bool]:
    """``(F, exact)``: the bucket type whose buckets a PG's OSDs must all differ in (0: only distinct OSDs), and
    whether that is all verify_upmap asks (see the module docstring)."""
    rule = lay.work.map.crush.rules.get(pl.rule)
    if rule is None or getattr(rule, "is_msr", False):
        return 0, False
    steps = [s for s in rule.steps if s[0] not in _SETTINGS]
    if len(steps) == 3 and steps[0][0] == _TAKE and steps[1][0] in _CHOOSE and steps[2][0] == _EMIT:
        op, _n, typ = steps[1]
        if op in _LEAF or typ == 0:
            return int(typ), True
    return 0, False


class _Model:
    """The pools' fixed parts (PG classes, buckets, fixed counts), built once; :meth:`feasible` per ``D``."""

    def __init__(self, lay: Layout) -> None:
        self.lay = lay
        self.pools = list(lay.pools.values())
        self.exact = {}
        self.classes: dict[int, dict[int, int]] = {}  # pool -> {shards per PG: movable PGs}
        self.domain: dict[int, dict[int, list[int]]] = {}  # pool -> {bucket (or -1 - osd): OSDs}
        self.fixed: dict[int, np.ndarray] = {}
        self.allowed: dict[int, np.ndarray] = {}
        n = lay.n
        for pl in self.pools:
            typ, exact = _domain_type(lay, pl)
            self.exact[pl.pool_id] = exact
            allowed = pl.target > 0  # check_pg_upmaps: under the rule, share × reweight > 0
            self.allowed[pl.pool_id] = allowed
            fixed = np.zeros(n, dtype=np.int64)
            classes: dict[int, int] = {}
            for ps in range(len(pl.cur)):
                if pl.movable[ps]:
                    s = sum(1 for o in pl.raw[ps] if o != _NONE)
                    classes[s] = classes.get(s, 0) + 1
                else:
                    for o in pl.cur[ps]:
                        if o != _NONE and 0 <= o < n and lay.is_up[o]:
                            fixed[o] += 1
            self.fixed[pl.pool_id] = fixed
            self.classes[pl.pool_id] = classes
            dom: dict[int, list[int]] = {}
            for o in np.flatnonzero(allowed).tolist():
                b = lay.work.topology.parent_of_type(o, typ, pl.rule) if typ else 0
                dom.setdefault(b if b < 0 else _OSD_KEY + o, []).append(o)  # no bucket: the OSD alone
            self.domain[pl.pool_id] = dom

    def bounds(self, pl: PoolLayout, d: float) -> tuple[np.ndarray, np.ndarray]:
        """The per-pool bounds of :func:`~pgtools.balance.count.balance_count` for ``D = d``."""
        hi = np.floor(pl.target + d + _EPS).astype(np.int64)
        lo = np.where(pl.eligible, np.ceil(pl.target - d - _EPS), 0).astype(np.int64)
        return lo, hi

    def total_bounds(self, pools: list[PoolLayout], d: float) -> tuple[np.ndarray, np.ndarray]:
        t = sum(pl.target for pl in pools)
        elig = np.logical_or.reduce([pl.eligible for pl in pools])
        return (np.where(elig, np.ceil(t - d - _EPS), 0).astype(np.int64),
                np.floor(t + d + _EPS).astype(np.int64))

    def feasible(self, d: float | dict[int, float], pools: list[PoolLayout], total: bool,
                 dt: float | None = None) -> bool:
        """Whether the network is feasible with every pool within ``d`` (one figure, or one per pool id) and,
        with ``total``, every OSD's total within ``dt`` (default: ``d``, which must then be one figure)."""
        g = _Bounded()
        s, t = g.node(), g.node()
        up = self.lay.is_up
        osd_node: dict[int, int] = {}
        if total:
            tlo, thi = self.total_bounds(pools, d if dt is None else dt)
            fixed_t = sum(self.fixed[pl.pool_id] for pl in pools)
        for pl in pools:
            pid = pl.pool_id
            lo, hi = self.bounds(pl, d[pid] if isinstance(d, dict) else d)
            fixed = self.fixed[pid]
            allowed = self.allowed[pid]
            for o in np.flatnonzero((fixed > hi) | (~allowed & (lo > fixed))).tolist():
                if up[o]:
                    return False  # fixed PGs alone break a bound no move can mend
            buckets = {}
            for b, osds in self.domain[pid].items():
                hb = buckets[b] = g.node()
                for o in osds:
                    po = g.node()
                    g.edge(hb, po, 0, _INF)
                    if not up[o]:
                        g.edge(po, t, 0, _INF)  # not counted
                        continue
                    if o not in osd_node:
                        osd_node[o] = g.node()
                        if total:
                            g.edge(osd_node[o], t, max(0, int(tlo[o] - fixed_t[o])), int(thi[o] - fixed_t[o]))
                        else:
                            g.edge(osd_node[o], t, 0, _INF)
                    g.edge(po, osd_node[o], max(0, int(lo[o] - fixed[o])), int(hi[o] - fixed[o]))
            for sh, cnt in self.classes[pid].items():
                c = g.node()
                g.edge(s, c, cnt * sh, cnt * sh)
                for hb in buckets.values():
                    g.edge(c, hb, 0, cnt)
            # eligible OSDs of the pool that no movable PG can reach still have their lower bounds
            for o in np.flatnonzero(pl.eligible & ~allowed).tolist():
                if lo[o] > fixed[o]:
                    return False
        if total:  # up OSDs no movable PG can reach: their fixed PGs alone must fit the total bounds
            for o in np.flatnonzero(up[: len(tlo)]).tolist():
                if o not in osd_node and not tlo[o] <= fixed_t[o] <= thi[o]:
                    return False
        return g.feasible(s, t)


def _candidates(targets: list[np.ndarray], lo: float, hi: float) -> list[float]:
    """The values of ``D`` in ``(lo, hi]`` where some bound ``t ± D`` crosses an integer (feasibility changes
    only there)."""
    out = {hi}
    for t in targets:
        for v in np.unique(np.concatenate([np.ceil(t) - t, t - np.floor(t)])).tolist():
            k = math.floor(lo - v) + 1
            while v + k <= hi + _EPS:
                if v + k > lo + _EPS:
                    out.add(round(v + k, 9))
                k += 1
    return sorted(out)


def _min_d(model: _Model, pools: list[PoolLayout], total: bool, start: float) -> float:
    """The smallest ``D >= start`` (to the crossing values) at which the model is feasible.

    Feasibility only grows with ``D``, and the current placement is feasible once ``D`` exceeds every count:
    an exponential search over whole steps, a bisection to the unit interval, then one over the crossing
    values inside it.
    """
    if model.feasible(start, pools, total):
        return start
    lo, step = start, 1.0
    hi = math.floor(start) + 1.0
    while not model.feasible(hi, pools, total):
        lo, step = hi, step * 2
        hi = math.floor(start) + step
        if step > _MAX_STEP:  # Ceph's own placement is a solution for D large enough: the model missed it
            return math.inf
    while hi - lo > 1.0:  # lo infeasible, hi feasible
        mid = math.floor((lo + hi) / 2)
        if mid <= lo:
            break
        if model.feasible(mid, pools, total):
            hi = float(mid)
        else:
            lo = float(mid)
    ts = [pl.target for pl in pools] + ([sum(pl.target for pl in pools)] if total else [])
    cand = _candidates(ts, lo, hi)
    a, b = 0, len(cand) - 1  # cand[b] (= hi) is feasible
    while a < b:
        m = (a + b) // 2
        if model.feasible(cand[m], pools, total):
            b = m
        else:
            a = m + 1
    return float(cand[b])


def _forced_reason(model: _Model, pl: PoolLayout, d: float) -> str:
    """A sentence for the common proof: a bucket's share of the pool's shards is pinned by the rule."""
    pid = pl.pool_id
    movable = sum(model.classes[pid].values())
    shards = sum(s * n for s, n in model.classes[pid].items())
    dom = model.domain[pid]
    nb = len(dom)
    lo, hi = model.bounds(pl, d)
    fixed = model.fixed[pid]
    up = model.lay.is_up
    crush = model.lay.work.map.crush
    for b, osds in sorted(dom.items()):
        if not movable:
            break
        held_fixed = int(fixed[osds].sum())
        most = movable + held_fixed
        least = max(0, shards - (nb - 1) * movable) + held_fixed
        want_lo = int(sum(lo[o] for o in osds if up[o]))
        want_hi = int(sum(hi[o] for o in osds)) if all(up[o] for o in osds) else _INF  # down: not counted
        if want_hi < least or want_lo > most:
            if b >= _OSD_KEY:
                name, kind = f"osd.{b - _OSD_KEY}", "OSD"
            else:
                bucket = crush.buckets.get(b)
                name = bucket.name if bucket is not None else str(b)
                kind = crush.types.get(bucket.type_id, "bucket") if bucket is not None else "bucket"
            held = f"exactly {least}" if least == most else f"{least} to {most}"
            tsum = float(sum(pl.target[o] for o in osds))
            return (f"±{d:g} is impossible for pool {pl.name}: each of its {movable} movable PGs puts at most one "
                    f"shard on each of the {nb} {kind}s, so {name} holds {held} of the pool's shards, but its "
                    f"OSDs' targets sum to {tsum:.2f} (within ±{d:g} each: {want_lo} to {want_hi})")
    return f"±{d:g} is impossible for pool {pl.name}: no placement of its PGs within the bounds exists (max-flow)"


def count_bound(lay: Layout, max_deviation: float) -> CountBound:
    """Whether every up OSD can be within ``max_deviation`` PGs of its target (per pool and summed over the
    pools of ``lay``), and the smallest deviation the model allows; see the module docstring.

    Parameters
    ----------
    lay : Layout
        The balanced pools (their CRUSH results, current vectors and targets; not modified).
    max_deviation : float
        ``D``.

    Returns
    -------
    CountBound
    """
    model = _Model(lay)
    pools = model.pools
    exact_all = all(model.exact.values())
    d0 = float(max_deviation)
    rows, reasons = [], []
    for pl in pools:
        md = _min_d(model, [pl], False, d0)
        reason = ""
        if md > d0:
            reason = _forced_reason(model, pl, d0) if model.exact[pl.pool_id] else (
                f"±{d0:g} is impossible for pool {pl.name}: even with only distinct OSDs under its rule asked "
                "for (a relaxation), no assignment within the bounds exists")
            reasons.append(reason)
        rows.append({"pool_id": pl.pool_id, "pool": pl.name, "exact": model.exact[pl.pool_id],
                     "min_deviation": md, "reason": reason})
    start = max([d0, *(r["min_deviation"] for r in rows)])
    md_all = _min_d(model, pools, True, start) if pools and not math.isinf(start) else start
    if math.isinf(md_all):  # never feasible: a case the model does not cover; claim nothing
        return CountBound(d0, None, d0, False, [{**r, "min_deviation": None, "reason": ""} for r in rows], [])
    if md_all > d0 and not reasons:
        reasons.append(f"±{d0:g} is impossible: each pool can be balanced alone, but not with every OSD's total "
                       "over the pools within the bounds as well (max-flow)")
    feasible = False if md_all > d0 else (True if exact_all else None)
    out = CountBound(d0, feasible, md_all, exact_all, rows, reasons)
    if feasible is False and pools:
        out.pool_deviation, out.total_deviation = _aim(model, d0, {r["pool_id"]: r["min_deviation"] for r in rows},
                                                       md_all)
    return out


def _smallest(feasible, cand: list[float]) -> float:
    """The first value of the increasing ``cand`` for which ``feasible`` holds (the last one must)."""
    a, b = 0, len(cand) - 1
    while a < b:
        m = (a + b) // 2
        if feasible(cand[m]):
            b = m
        else:
            a = m + 1
    return cand[b]


def _aim(model: _Model, d0: float, alone: dict[int, float], best: float) -> tuple[dict[int, float], float]:
    """Per-pool and total deviations to aim at when ``±d0`` is impossible: none above ``best`` (the smallest
    max deviation), the next-largest as small as possible, then each as small as it goes.

    Each pool's deviation is at least its floor, ``max(d0, its own smallest deviation)`` (``alone``), the
    totals' at least ``d0``.  First the smallest common level ``L``: every figure at ``max(L, its floor)``
    (``L = best`` fits by definition of ``best``).  Then one figure after the other, the totals first (the
    operator's view: PGs per OSD over all pools), then the pools in id order, goes down to the smallest value
    that still fits with the others where they are.  Feasibility grows with each figure, so every search
    bisects the values where a bound ``t ± D`` crosses an integer (:func:`_candidates`).
    """
    pools = model.pools
    floor = {pid: max(d0, md) for pid, md in alone.items()}
    tt = sum(pl.target for pl in pools)
    cand = [d0, *_candidates([pl.target for pl in pools] + [tt], d0, best)]
    lvl = _smallest(lambda x: model.feasible({p: max(v, x) for p, v in floor.items()}, pools, True, x), cand)
    aim = {p: float(max(v, lvl)) for p, v in floor.items()}
    dt = float(_smallest(lambda x: model.feasible(aim, pools, True, x),
                         [x for x in [d0, *_candidates([tt], d0, lvl)] if x <= lvl]))
    for pl in pools:
        p = pl.pool_id
        if aim[p] > floor[p]:
            c = [x for x in [floor[p], *_candidates([pl.target], floor[p], aim[p])] if x <= aim[p]]
            aim[p] = float(_smallest(lambda x, p=p: model.feasible({**aim, p: x}, pools, True, dt), c))
    return aim, dt
