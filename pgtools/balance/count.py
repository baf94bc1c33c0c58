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
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import Snapshot
from .feasible import count_bound
from .moves import Bounds, chain, chain_into, step, swap
from .search import BalancePlan, Layout, SearchBudgetExceeded

__all__ = ["balance_count"]

#: default budget of the chain searches, in checks (:attr:`~pgtools.balance.search.Layout.checks`: a candidate
#: move verified or a PG's sinks filtered, about 5-25 µs each): per PG shard of the
#: balanced pools, at least the minimum.  Where ±D is proved impossible the chains toward ±D only prepare the
#: search toward the bound, with the smaller budget.
_BUDGET_PER_SHARD, _BUDGET_MIN = 20, 200_000
_PREP_PER_SHARD, _PREP_MIN = 2, 5_000


def _prune(lay: Layout, bounds: Bounds, max_moves: int | None) -> None:
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
                  ceph_release: str | None = None, search_budget: int | None = None,
                  pool_deviation: Mapping[int | str, float] | None = None,
                  total_deviation: float | None = None) -> BalancePlan:
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
    pool_deviation : mapping, optional
        Per-pool deviations in place of ``max_deviation`` (pool name or id → PGs, any number >= 0): a pool
        held to a looser (or tighter) bound, e.g. to ask what it takes to reach another balancer's result.
    total_deviation : float, optional
        The deviation of the sums over the pools in place of ``max_deviation``.  With either override the
        search aims at these bounds and no bound is proved (:func:`~pgtools.balance.feasible.count_bound`
        proves a uniform ``±max_deviation``): PGs left outside them are said in a warning.

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
    custom = pool_deviation is not None or total_deviation is not None
    pool_dev = {}
    for key, dev in (pool_deviation or {}).items():
        pid = snap.pool_id(key)
        if pid not in lay.pools:
            raise PgtoolsError(f"pool_deviation: pool {key!r} is not among the pools balanced")
        pool_dev[pid] = _deviation_value(dev, f"pool_deviation[{key!r}]")
    if total_deviation is not None:
        total_deviation = _deviation_value(total_deviation, "total_deviation")
    bounds = Bounds(lay, max_deviation, pool_dev, total_deviation)
    before = {pid: pl.count.copy() for pid, pl in lay.pools.items()}
    tot0 = bounds.total()
    v0 = bounds.violation()
    items0 = lay.items_total()
    start = (lay.checkpoint(), _key(lay, bounds))
    _search(lay, bounds, max_moves, chains=False)
    bound = None
    if bounds.violation() and (max_moves is None or lay.moves < max_moves) and not custom:
        bound = count_bound(lay, max_deviation)  # a property of the map, not of the placement reached
    spent = False
    if bound is not None and bound.feasible is False and bound.pool_deviation:
        # ±D is impossible: two-move chains toward it chase PGs that fit nowhere (on a large map for hours);
        # a short run of them prepares the search toward the bound's deviations, which has the full budget
        prep = min(budget, max(_PREP_MIN, _PREP_PER_SHARD * shards))
        _search(lay, bounds, max_moves, budget=prep)
        _prune(lay, bounds, max_moves)
        spent = not _toward_bound(lay, bounds, bound, max_moves, start, budget)
        if max_deviation > 1 and not _reached(lay, bound)["reached"]:
            spent |= not _tighter_aims(lay, bound, max_moves, start, budget)
        bounds = Bounds(lay, max_deviation)  # the ±D figures of the plan kept
    else:
        spent = not _search(lay, bounds, max_moves, budget=budget)
        _prune(lay, bounds, max_moves)
        if not bounds.violation():
            bound = None
    plan = _report(lay, bounds, before, tot0, v0, items0)
    plan.summary["checks"] = lay.checks
    dropped = items0 - plan.summary["items_after"]
    asked = "the deviations asked for" if custom else f"±{max_deviation}"
    if v0 == 0 and dropped > 0:
        warnings.warn(f"every OSD is already within {asked} of its targets; the plan only removes "
                      f"{dropped} upmap entr{'y' if dropped == 1 else 'ies'} that balance does not need (their PGs "
                      "move back to CRUSH's choice)", PgtoolsWarning, stacklevel=2)
    if max_moves is not None and lay.moves >= max_moves and plan.summary["violation_after"]:
        warnings.warn(f"the plan stops at its limit of {max_moves} PG move(s) (max_moves, --max-moves) with "
                      f"{plan.summary['violation_after']} PG(s) still outside {asked}", PgtoolsWarning, stacklevel=2)
    if spent:
        plan.summary["budget_exhausted"] = True
        left = ("with some pool or the totals still above the deviations the bound aims at" if bound is not None
                and bound.feasible is False else
                f"with {plan.summary['violation_after']} PG(s) outside {asked}")
        warnings.warn(f"the count balancer's search stopped at its budget of {budget:,} checks {left}; the plan is "
                      "valid as it stands (a larger --search-budget, balance_count(search_budget=...), searches "
                      "longer)", PgtoolsWarning, stacklevel=2)
    if bound is not None:
        plan.summary["bound"] = {**bound.to_dict(), **_reached(lay, bound)}
        _warn_bound(bound, plan.summary["violation_after"], plan.summary["bound"])
    elif custom and plan.summary["violation_after"] and not spent:
        warnings.warn(f"{plan.summary['violation_after']} PG(s) stay outside the deviations asked for (per pool "
                      "and total): not found by the search (whether they are reachable is proved only for a "
                      "uniform max_deviation)", PgtoolsWarning, stacklevel=2)
    return plan


def _deviation_value(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise PgtoolsError(f"{what} must be a number of PGs, not {value!r}") from None
    if not v >= 0 or v == float("inf"):
        raise PgtoolsError(f"{what} must be a finite number of PGs >= 0, not {value!r}")
    return v


def _search(lay: Layout, bounds: Bounds, max_moves: int | None, chains: bool = True,
            budget: int | None = None) -> bool:
    """Single improving moves, then (``chains``) two-move chains when none is left, until nothing helps (or
    ``max_moves``).  The chains may make ``budget`` candidate checks (counted from the first chain; moves
    still stop at the first chain started past it): False when they ran out of it."""
    stuck: set[tuple[int, int]] = set()
    try:
        while max_moves is None or lay.moves < max_moves:
            if step(lay, bounds, stuck):
                continue
            if bounds.violation() == 0 or not chains:
                break
            if max_moves is not None and lay.moves + 2 > max_moves:
                break
            if budget is not None and lay.check_limit is None:
                lay.check_limit = lay.checks + budget
            stuck.clear()
            if not chain(lay, bounds) and not chain_into(lay, bounds) and not swap(lay, bounds):
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


def _key(lay: Layout, bounds: Bounds) -> tuple[float, int, int]:
    """What the bound phase must improve: the max deviation (rounded to the bound's precision), then the PGs
    outside ``±D``, then the table entries."""
    return round(max(_worst(lay)), 6), bounds.violation(), lay.items_total()


def _toward_bound(lay: Layout, bounds: Bounds, bound, max_moves: int | None, start: tuple,
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
    aim = Bounds(lay, bound.requested, bound.pool_deviation, bound.total_deviation)
    done = _search(lay, aim, max_moves, budget=budget)
    _prune(lay, aim, max_moves)
    key2 = _key(lay, Bounds(lay, bound.requested))
    best = min((start[1], 0), (key1, 1), (key2, 2))[1]
    if best < 2:
        lay.rollback(start[0] if best == 0 else state)
    return done or not aim.violation()


def _tighter_aims(lay: Layout, bound, max_moves: int | None, start: tuple, budget: int | None) -> bool:
    """The search toward the bound of ``±D`` (D > 1) stopped above it: search again from the snapshot's
    placement toward the bound of ``±1``, whose per-pool and total aims are each at most those of ``±D`` and
    reach the same smallest max deviation (so meeting them meets ``±D``'s), then prune with ``±D``'s aims.  The
    placement of lower :func:`_key` is kept (this one only when it is better).  False when the search ran out
    of ``budget``."""
    tight = count_bound(lay, 1)
    if tight.feasible is not False or not tight.pool_deviation:
        return True
    loose = Bounds(lay, bound.requested, bound.pool_deviation, bound.total_deviation)
    key1, state = _key(lay, Bounds(lay, bound.requested)), lay.checkpoint()
    lay.rollback(start[0])
    done = _search(lay, Bounds(lay, 1, tight.pool_deviation, tight.total_deviation), max_moves, budget=budget)
    _prune(lay, loose, max_moves)
    if _key(lay, Bounds(lay, bound.requested)) >= key1:
        lay.rollback(state)
    return done


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


def _report(lay: Layout, bounds: Bounds, before: dict, tot0: np.ndarray, v0: int, items0: int) -> BalancePlan:
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
    ``pool_dev`` (``{pool_id: worst OSD}``), ``total_dev`` (worst OSD summed over the pools), ``violation``
    (PGs outside :func:`balance_count`'s bounds for ``max_deviation``), ``items`` (``pg_upmap_items`` entries)
    and ``pairs``.
    """
    lay = Layout(snap, pools, ceph_release)
    bounds = Bounds(lay, max_deviation)
    mask_any = np.zeros(lay.n, dtype=bool)
    per = {}
    for pid, pl in lay.pools.items():
        mask = (pl.target > 0) | (pl.count > 0)
        mask_any |= mask
        per[pid] = _max_dev(pl.count, pl.target, mask)
    return {"max_dev": max(per.values(), default=0.0), "pool_dev": per,
            "total_dev": _max_dev(bounds.total(), bounds.total_target, mask_any),
            "violation": bounds.violation(), "items": lay.items_total(), "pairs": sum(len(v) for v in lay.work.pg_upmap_items.values())}
