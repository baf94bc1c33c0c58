"""Ceph's own upmap balancer, ``OSDMap::calc_pg_upmaps``, step for step (``src/osd/OSDMap.cc``).

It balances PG *counts*: an OSD's target is its share of the pools' CRUSH weight (``get_rule_weight_osd_map``
times the reweight, as C ``float``) times ``total_pgs / total weight``; its deviation is its number of PGs
(in up sets) minus the target.  Each round (at most ``max``) starts from the most overfull OSD and tries, in
this order: drop an existing ``pg_upmap_items`` pair that moved a PG *into* it; add one pair to a PG of it
found with ``try_pg_upmap`` (``CrushWrapper::try_remap_rule``: an underfull OSD of the same failure domain);
then, for the underfull OSDs, drop a pair that moved a PG *out of* them.  A change is kept only if the sum
of squared deviations falls; the search stops when every OSD is within ``max_deviation`` PGs.

Determinism.  With ``osd_calc_pg_upmaps_aggressively = false`` nothing is random and this module gives
Ceph's result exactly (checked against ``osdmaptool --osd_calc_pg_upmaps_aggressively=false --upmap`` by
``tests/oracle/test_upmap_balancer.py``).  The default, aggressive mode shuffles the PGs of each OSD and
the candidates with ``std::random_device`` (Reef's ``--upmap-seed``-style ``p_seed`` is not reachable from
``osdmaptool`` 18.2.7 / 20.2.4): ``aggressive=True`` runs the same logic with a seeded NumPy ``Generator``
for the shuffles; its result is *a* plausible result of Ceph's balancer, never the one Ceph would give.

Releases.  Reef refactored the function (``build_pool_pgs_info``, ``calc_deviations``, ...) and Tentacle
kept it.  Differences reproduced: Pacific picks the rule with ``find_rule`` (ruleset, type, size), Reef+ takes
the pool's ``crush_rule``; Pacific sums the weight total over the pools of one call, Reef+ keeps only the last
pool's total (only matters when one call covers several pools; ``osdmaptool`` and the mgr pass one);
``find_best_remap`` reads the deviation of an OSD outside the map as 0 in Pacific (``operator[]``) and throws
in Reef+ (``at``: an error here); Reef+ aggressive mode skips OSDs that gave nothing
(``osd_calc_pg_upmaps_aggressively_fast``, default true).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import UnsupportedFeatureError
from ..placement.mapping import row_list
from .work import PG, Increment, WorkMap, pgid_text

__all__ = ["LOCAL_FALLBACK_RETRIES", "calc_pg_upmaps_work"]

#: ``osd_calc_pg_upmaps_local_fallback_retries`` (all three releases)
LOCAL_FALLBACK_RETRIES = 100
_F32 = np.float32
_NONE = 0x7FFFFFFF


@dataclass
class _Deviations:
    """``osd_deviation`` / ``deviation_osd`` / the squared sum / the largest |deviation| (``calc_deviations``)."""

    osds: list[int]  # pgs_by_osd keys, ascending (the insertion order of deviation_osd)
    dev: dict[int, np.float32]
    order: list[int]  # deviation_osd iterated forward: ascending deviation, ties in insertion order
    stddev: np.float32
    max_abs: np.float32


def _calc_deviations(pgs_by_osd: dict[int, set[PG]], osd_weight: dict[int, np.float32],
                     pgs_per_weight: np.float32) -> _Deviations:
    osds = sorted(pgs_by_osd)
    missing = [o for o in osds if o not in osd_weight]
    if missing:
        raise UnsupportedFeatureError(f"osd.{missing[0]} holds PGs of the balanced pools but has no CRUSH weight "
                                      "under their rules (Ceph asserts in calc_deviations)")
    counts = np.array([len(pgs_by_osd[o]) for o in osds], dtype=np.float32)
    weights = np.array([osd_weight[o] for o in osds], dtype=np.float32)
    target = weights * pgs_per_weight
    dev = counts - target
    sq = dev * dev
    stddev = np.cumsum(sq, dtype=np.float32)[-1] if len(sq) else _F32(0.0)  # sequential, as the C++ loop
    max_abs = np.max(np.abs(dev)) if len(dev) else _F32(0.0)
    order = [osds[i] for i in np.argsort(dev, kind="stable")]
    return _Deviations(osds, {o: dev[i] for i, o in enumerate(osds)}, order, _F32(stddev), _F32(max_abs))


class _Temp:
    """``temp_pgs_by_osd``: copy-on-write over ``pgs_by_osd`` (Ceph copies the whole map)."""

    def __init__(self, base: dict[int, set[PG]]) -> None:
        self.base = base
        self.changed: dict[int, set[PG]] = {}

    def _get(self, osd: int) -> set[PG]:
        s = self.changed.get(osd)
        if s is None:
            s = self.changed[osd] = set(self.base.get(osd, ()))
        return s

    def move(self, pg: PG, frm: int, to: int) -> None:
        """``temp[frm].erase(pg); temp[to].insert(pg)``."""
        self._get(frm).discard(pg)
        self._get(to).add(pg)

    def result(self) -> dict[int, set[PG]]:
        out = dict(self.base)
        out.update(self.changed)
        return out


def _fill(order: list[int], dev: dict[int, np.float32], max_deviation: int
          ) -> tuple[set[int], set[int], list[int], list[int]]:
    """``fill_overfull_underfull``."""
    overfull: set[int] = set()
    more_overfull: set[int] = set()
    underfull: list[int] = []
    more_underfull: list[int] = []
    md = _F32(max_deviation)
    for osd in reversed(order):
        d = dev[osd]
        if d <= 0:
            break
        (overfull if d > md else more_overfull).add(osd)
    for osd in order:
        d = dev[osd]
        if d >= 0:
            break
        (underfull if d < -md else more_underfull).append(osd)
    return overfull, more_overfull, underfull, more_underfull


def _pool_weights(work: WorkMap, pools: list[int]) -> tuple[int, np.float32, dict[int, np.float32]]:
    """``build_pool_pgs_info`` / ``get_osds_weight``: ``(total_pgs, osd_weight_total, osd_weight)``."""
    total_pgs = 0
    total = _F32(0.0)
    osd_weight: dict[int, np.float32] = {}
    for pid in pools:
        pool = work.pools[pid]
        total_pgs += pool.size * pool.pg_num
        pmap = work.topology.rule_weight_osd_map(work.crush_rule(pool)) or {}
        pool_total = _F32(0.0)
        for osd in sorted(pmap):
            adjusted = _F32(work.weightf(osd) * pmap[osd])
            if adjusted != 0:
                osd_weight[osd] = _F32(osd_weight[osd] + adjusted) if osd in osd_weight else adjusted
                pool_total = _F32(pool_total + adjusted)
        total = _F32(total + pool_total) if work.release == "pacific" else pool_total
    return total_pgs, total, osd_weight


def _try_pg_upmap(work: WorkMap, pg: PG, overfull: set[int], underfull: list[int], more_underfull: list[int],
                  orig: list[int]) -> list[int] | None:
    """``OSDMap::try_pg_upmap``: the remapped vector, or None."""
    pool = work.pools.get(pg[0])
    if pool is None:
        return None
    rule = work.crush_rule(pool)
    if rule < 0:
        return None
    if not any(o in overfull for o in orig):
        return None
    out = work.topology.try_remap_rule(rule, pool.size, overfull, underfull, more_underfull, orig)
    if out == orig:
        return None
    return out


def _best_remap(work: WorkMap, orig: list[int], out: list[int], existing: set[int],
                dev: dict[int, np.float32]) -> int:
    """``find_best_remap``: the position whose source OSD is the most overfull (strictly above 0), else -1."""
    best, max_dev = -1, _F32(0.0)
    for i, (a, b) in enumerate(zip(orig, out, strict=True)):
        if a == b or a in existing or b in existing:
            continue
        d = dev.get(a)
        if d is None:
            if work.release != "pacific":
                raise UnsupportedFeatureError(f"osd {a} of a remapped PG is not among the balanced OSDs: Ceph "
                                              f"{work.release} throws std::out_of_range in find_best_remap")
            d = _F32(0.0)  # Pacific's operator[] inserts 0
        if d > max_dev:
            max_dev, best = d, i
    return best


def calc_pg_upmaps_work(work: WorkMap, max_deviation: int, max_changes: int, only_pools: set[int],
                        inc: Increment, *, aggressive: bool = False, rng: np.random.Generator | None = None,
                        local_fallback_retries: int = LOCAL_FALLBACK_RETRIES) -> int:
    """``OSDMap::calc_pg_upmaps`` on ``work`` (not modified): add the changes to ``inc``, return their number.

    Parameters
    ----------
    work : WorkMap
        The OSDMap (a copy is the ``tmp_osd_map``).
    max_deviation : int
        Ceph's ``max_deviation`` (below 1 it is 1).
    max_changes : int
        ``max``: the number of rounds; each accepted round counts its removed and changed PGs.
    only_pools : set of int
        The pools (empty: all).
    inc : Increment
        ``pending_inc``; the new and removed ``pg_upmap_items`` are added to it.
    aggressive : bool
        ``osd_calc_pg_upmaps_aggressively``; then ``rng`` shuffles (never Ceph's own shuffles).
    rng : numpy.random.Generator, optional
    local_fallback_retries : int
        ``osd_calc_pg_upmaps_local_fallback_retries``.

    Returns
    -------
    int
        ``num_changed``.
    """
    max_deviation = max(1, int(max_deviation))
    tmp = work.copy()
    if max_changes <= 0:
        return 0
    if aggressive and rng is None:
        rng = np.random.default_rng()
    pools = [pid for pid in sorted(tmp.pools) if not only_pools or pid in only_pools]
    pgs_by_osd: dict[int, set[PG]] = {}
    for pid in pools:
        up = tmp.up_sets(tmp.pools[pid])
        for ps in range(up.shape[0]):
            for osd in row_list(up, ps):
                if osd != _NONE:
                    pgs_by_osd.setdefault(osd, set()).add((pid, ps))
    total_pgs, weight_total, osd_weight = _pool_weights(tmp, pools)
    for osd in osd_weight:
        pgs_by_osd.setdefault(osd, set())
    if weight_total == 0:
        return 0
    pgs_per_weight = _F32(_F32(total_pgs) / weight_total)
    cur = _calc_deviations(pgs_by_osd, osd_weight, pgs_per_weight)
    if cur.max_abs <= max_deviation:
        return 0
    stddev = cur.stddev
    skip_overfull = False
    fast = aggressive and work.release != "pacific"
    num_changed = 0
    while max_changes > 0:
        max_changes -= 1
        overfull, more_overfull, underfull, more_underfull = _fill(cur.order, cur.dev, max_deviation)
        if not underfull and not overfull:
            break
        using_more_overfull = False
        if not overfull and underfull:
            overfull = more_overfull
            using_more_overfull = True
        to_skip: set[PG] = set()
        retried = 0
        osd_to_skip: set[int] = set()
        while True:  # retry:
            to_unmap: set[PG] = set()
            to_upmap: dict[PG, tuple[tuple[int, int], ...]] = {}
            temp = _Temp(pgs_by_osd)
            found = _overfull_pass(tmp, cur, pgs_by_osd, temp, to_skip, to_unmap, to_upmap, overfull, underfull,
                                   more_underfull, osd_weight, pgs_per_weight, max_deviation, using_more_overfull,
                                   skip_overfull, aggressive, fast, rng, osd_to_skip)
            if found is None:
                found = _underfull_pass(tmp, cur, temp, to_skip, only_pools, to_unmap, to_upmap, underfull,
                                        osd_weight, pgs_per_weight, max_deviation, aggressive, rng)
            if not found:
                action = "break" if not aggressive or not skip_overfull else "continue"
                if action == "continue":
                    skip_overfull = False
                break
            # test_change:
            new_pgs = temp.result()
            new = _calc_deviations(new_pgs, osd_weight, pgs_per_weight)
            if new.stddev >= stddev:
                if not aggressive:
                    action = "break"
                    break
                retried += 1
                if retried >= local_fallback_retries:
                    skip_overfull = not skip_overfull
                    action = "continue"
                    break
                to_skip |= to_unmap
                to_skip |= set(to_upmap)
                continue
            stddev = new.stddev
            pgs_by_osd = new_pgs
            cur = new
            for pg in sorted(to_unmap):
                del tmp.pg_upmap_items[pg]
                inc.old_pg_upmap_items.add(pg)
                num_changed += 1
            for pg, items in sorted(to_upmap.items()):
                tmp.pg_upmap_items[pg] = items
                inc.new_pg_upmap_items[pg] = items
                num_changed += 1
            action = "break" if new.max_abs <= max_deviation else "continue"
            break
        if action == "break":
            break
    return num_changed



def _drop_pairs(temp, pg, items: tuple, osd: int, side: int, to_unmap: set, to_upmap: dict) -> bool:
    """Drop the ``pg_upmap_items`` pairs of ``pg`` whose target (``side`` 1: ``try_drop_remap_overfull``) or source
    (``side`` 0: ``try_drop_remap_underfull``) is ``osd``, moving the PG back in ``temp``; True when that changed
    the entry (all pairs gone: ``to_unmap``; some: ``to_upmap``)."""
    keep = []
    for pair in items:
        if pair[side] == osd:
            temp.move(pg, pair[1], pair[0])
        else:
            keep.append((pair[0], pair[1]))
    if not keep:
        to_unmap.add(pg)
        return True
    if len(keep) != len(items):
        to_upmap[pg] = tuple(keep)
        return True
    return False

def _overfull_pass(tmp: WorkMap, cur: _Deviations, pgs_by_osd: dict[int, set[PG]], temp: _Temp, to_skip: set[PG],
                   to_unmap: set[PG], to_upmap: dict, overfull: set[int], underfull: list[int],
                   more_underfull: list[int], osd_weight: dict[int, np.float32], pgs_per_weight: np.float32,
                   max_deviation: int, using_more_overfull: bool, skip_overfull: bool, aggressive: bool,
                   fast: bool, rng: np.random.Generator | None, osd_to_skip: set[int]) -> bool | None:
    """The loop over overfull OSDs; True when a change was staged (``goto test_change``), None when not."""
    md = _F32(max_deviation)
    for osd in reversed(cur.order):
        if skip_overfull and underfull:
            break
        if fast and osd in osd_to_skip:
            continue
        deviation = cur.dev[osd]
        if deviation < 0:
            break
        target = _F32(osd_weight[osd] * pgs_per_weight)
        if not target > 0:
            raise UnsupportedFeatureError(f"osd.{osd}: target {target} PGs (Ceph asserts target > 0)")
        if not using_more_overfull and deviation <= md:
            break
        pgs = [pg for pg in sorted(pgs_by_osd.get(osd, ())) if pg not in to_skip]
        if aggressive:
            pgs = [pgs[i] for i in rng.permutation(len(pgs))]
        # try_drop_remap_overfull
        for pg in pgs:
            items = tmp.pg_upmap_items.get(pg)
            if items is not None and _drop_pairs(temp, pg, items, osd, 1, to_unmap, to_upmap):
                return True
        # try upmap
        for pg in pgs:
            if pg in tmp.pg_upmap:
                continue
            size = tmp.pools[pg[0]].size
            new_items: list[tuple[int, int]] = []
            existing: set[int] = set()
            items = tmp.pg_upmap_items.get(pg)
            if items is not None:
                if len(items) >= size:
                    continue
                new_items = list(items)
                for a, b in items:
                    existing.add(a)
                    existing.add(b)
            _raw, orig = tmp.pg_to_raw_upmap(pg)
            out = _try_pg_upmap(tmp, pg, overfull, underfull, more_underfull, orig)
            if out is None or len(out) != len(orig):
                continue
            pos = _best_remap(tmp, orig, out, existing, cur.dev)
            if pos != -1:
                temp.move(pg, orig[pos], out[pos])
                new_items.append((orig[pos], out[pos]))
                to_upmap[pg] = tuple(new_items)
                return True
        if fast:
            # Ceph compares n_changes with prev_n_changes; both are reset each round and a round ends at its
            # first accepted change, so they are always equal here: an OSD that gave nothing is skipped
            osd_to_skip.add(osd)
    return None


def _underfull_pass(tmp: WorkMap, cur: _Deviations, temp: _Temp, to_skip: set[PG], only_pools: set[int],
                    to_unmap: set[PG], to_upmap: dict, underfull: list[int], osd_weight: dict[int, np.float32],
                    pgs_per_weight: np.float32, max_deviation: int, aggressive: bool,
                    rng: np.random.Generator | None) -> bool:
    """Drop pairs that moved PGs out of underfull OSDs (``build_candidates`` + ``try_drop_remap_underfull``)."""
    md = _F32(max_deviation)
    under = set(underfull)
    for osd in cur.order:
        if osd not in under:
            break
        deviation = cur.dev[osd]
        target = _F32(osd_weight[osd] * pgs_per_weight)
        if not target > 0:
            raise UnsupportedFeatureError(f"osd.{osd}: target {target} PGs (Ceph asserts target > 0)")
        if abs(deviation) < md:
            break
        cands = [(pg, items) for pg, items in sorted(tmp.pg_upmap_items.items())
                 if pg not in to_skip and (not only_pools or pg[0] in only_pools)]
        if aggressive:
            cands = [cands[i] for i in rng.permutation(len(cands))]
        for pg, items in cands:
            if _drop_pairs(temp, pg, items, osd, 0, to_unmap, to_upmap):
                return True
    return False


def describe(pg: PG) -> str:
    """A PG id as Ceph prints it (re-exported for messages)."""
    return pgid_text(pg)
