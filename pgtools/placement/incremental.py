"""Re-map only the PGs a change can reach, and prove the others keep their placement.

:func:`remap` takes the placement of one cluster state (:class:`~pgtools.placement.PoolMapping` arrays)
and the next state, and returns the next state's placement.  When the change between the two is one it
can bound, only the candidate PGs go through CRUSH and the OSDMap pipeline again; every other row is
copied.  Otherwise it maps every PG, as :func:`pgtools.placement.map_pool_arrays` does.  Either way the
result equals a full recompute (``tests/test_incremental.py`` checks that on random maps and changes).

Why the copied rows are exact
    A PG's CRUSH descent is a deterministic sequence of steps; the first step whose outcome differs
    between the two states must read something the change altered:

    * a **straw2 draw** in a bucket one of whose item weights changed.  A straw2 draw is
      ``ln(hash) / weight`` with ``ln <= 0`` (``S64_MIN`` at weight 0), so a *lower* weight never makes
      an item win a draw it lost; the outcome changes only where the changed item won before.  Then the
      descent entered that item's subtree, and in the old placement left a trace there: the item chosen
      is in the result, or it was rejected because a device under it was already in the result
      (collision), or because a device under it was out (``is_out`` with an OSDMap weight below 1).  The
      last case leaves no trace, so a subtree holding such a device is not bounded.
    * an **is_out test** of a device whose OSDMap weight (reweight, ``out``) changed.  ``is_out`` is
      monotone in the weight, so a lower weight changes only tests the device passed, and then the
      device is in the old result.

    Hence, for *decreases* of CRUSH weights (in straw2 buckets, without choose_args weight sets) and
    of OSDMap weights, every PG whose placement can change has, in its old raw, up or acting set, a
    device under a changed CRUSH item or a device whose weight changed.  Up/down changes and primary
    affinity act after CRUSH, on the PGs whose sets hold the OSD.  PGs with upmap, upmap-primary or temp
    entries (in either state) are always re-mapped: so a change of those tables alone re-maps just the
    PGs it lists.  Increases (``in``, a higher weight) can make an item win anywhere: full re-map.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..model import Snapshot
from .mapping import PoolMapping
from .osdmap import CompiledOSDMap, compile_snapshot
from .pipeline import map_pool_arrays

__all__ = ["remap", "reachable_devices"]

_STRAW2 = 5
_FULL_WEIGHT = 0x10000


def _devices_under(crush, item: int, memo: dict[int, frozenset[int]]) -> frozenset[int]:
    if item >= 0:
        return frozenset((item,))
    got = memo.get(item)
    if got is None:
        memo[item] = frozenset()  # a cycle (refused at load) must not recurse forever
        b = crush.buckets.get(item)
        got = frozenset().union(*(_devices_under(crush, i, memo) for i in b.items)) if b else frozenset()
        memo[item] = got
    return got


def _crush_changed_items(old, new) -> list[int] | None:
    """Items whose weight went down in some straw2 bucket, or None when the change is not such a change."""
    if old is new:
        return []
    if (old.rules != new.rules or old.tunables != new.tunables or old.choose_args or new.choose_args
            or old.max_devices != new.max_devices or set(old.buckets) != set(new.buckets)):
        return None
    changed: set[int] = set()
    for bid, b in old.buckets.items():
        nb = new.buckets[bid]
        if nb is b:
            continue
        if (nb.items != b.items or nb.alg != b.alg or nb.type_id != b.type_id or nb.hash != b.hash):
            return None
        if nb.weights == b.weights:
            continue
        if b.alg != _STRAW2:
            return None
        for it, w0, w1 in zip(b.items, b.weights, nb.weights, strict=True):
            if w1 > w0:
                return None
            if w1 != w0:
                changed.add(int(it))
    return sorted(changed)


def reachable_devices(before: Snapshot, after: Snapshot, *, release: str | None = None) -> frozenset[int] | None:
    """OSD ids whose presence in a PG's old sets marks it as one the change from ``before`` to ``after``
    can move; None when the change cannot be bounded that way (see the module documentation).

    PGs with upmap or temp entries are not covered by this set (:func:`remap` always re-maps them).
    ``release``: the Ceph release emulated (:func:`~pgtools.placement.map_pgs`).
    """
    c0, c1 = compile_snapshot(before, release=release), compile_snapshot(after, release=release)
    return _reachable(c0, c1)


def _reachable(c0: CompiledOSDMap, c1: CompiledOSDMap) -> frozenset[int] | None:
    if c0.max_osd != c1.max_osd or not np.array_equal(c0.exists, c1.exists):
        return None
    if c0.crush is None or c1.crush is None:
        return None
    items = _crush_changed_items(c0.crush, c1.crush)
    if items is None:
        return None
    if np.any(c1.weight > c0.weight):
        return None
    memo: dict[int, frozenset[int]] = {}
    devices: set[int] = set()
    for it in items:
        under = _devices_under(c0.crush, it, memo)
        # a device under the item that can be "out" rejects descents without a trace in the result
        # a device under the item that can be "out" rejects descents without a trace in the result, and
        # one that does not exist is dropped from the raw set
        if any(not (0 <= d < c0.max_osd) or not c0.exists[d] or c0.weight[d] < _FULL_WEIGHT for d in under):
            return None
        devices |= under
    devices.update(np.nonzero(c0.weight != c1.weight)[0].tolist())
    devices.update(np.nonzero(c0.up != c1.up)[0].tolist())
    a0 = c0.affinity if c0.affinity is not None else np.full(c0.max_osd, _FULL_WEIGHT)
    a1 = c1.affinity if c1.affinity is not None else np.full(c1.max_osd, _FULL_WEIGHT)
    devices.update(np.nonzero(a0 != a1)[0].tolist())
    return frozenset(devices)


def _table_rows(c: CompiledOSDMap, pool_id: int) -> set[int]:
    return {ps for table in (*c.special_tables(), c.pg_temp, c.primary_temp)
            for (pid, ps) in table if pid == pool_id}


def _holds_any(pm: PoolMapping, devices: np.ndarray) -> np.ndarray:
    hit = np.zeros(len(pm), dtype=bool)
    for a in {id(x): x for x in (pm.raw, pm.up, pm.acting)}.values():
        if a.size:
            hit |= np.isin(a, devices).any(axis=1)
    return hit


def _splice(old: np.ndarray, rows: np.ndarray, new: np.ndarray) -> np.ndarray:
    width = max(old.shape[1], new.shape[1])
    out = np.full((old.shape[0], width), -1, dtype=np.int64)
    out[:, :old.shape[1]] = old
    out[rows] = -1
    out[rows, :new.shape[1]] = new
    return out


def _patched(pm: PoolMapping, rows: np.ndarray, sub: PoolMapping, pool) -> PoolMapping:
    raw = _splice(pm.raw, rows, sub.raw)
    up = raw if (pm.up is pm.raw and sub.up is sub.raw) else _splice(pm.up, rows, sub.up)
    acting = up if (pm.acting is pm.up and sub.acting is sub.up) else _splice(pm.acting, rows, sub.acting)
    up_primary = pm.up_primary.copy()
    up_primary[rows] = sub.up_primary
    if pm.acting_primary is pm.up_primary and sub.acting_primary is sub.up_primary:
        acting_primary = up_primary
    else:
        acting_primary = pm.acting_primary.copy()
        acting_primary[rows] = sub.acting_primary
    new = PoolMapping(pool, pm.pps, raw, up, up_primary, acting, acting_primary)
    _carry_columns(pm, new, rows, sub)
    return new


def _carry_columns(old: PoolMapping, new: PoolMapping, rows: np.ndarray, sub: PoolMapping) -> None:
    """Give ``new`` the pgid/tuple columns ``old`` had converted, with only the re-mapped rows converted again."""
    cols = old._columns
    for key in ("pgid", "pgid_text"):  # the same for any placement of the pool
        if key in cols:
            new._columns[key] = cols[key]
    for which, base in (("raw", None), ("up", "raw"), ("acting", "up")):
        if which not in cols:
            continue
        if base is not None and getattr(new, which) is getattr(new, base) and base in new._columns:
            new._columns[which] = new._columns[base]
            continue
        t = cols[which].copy()
        t[rows] = sub.tuples(which)
        new._columns[which] = t


def remap(before: Snapshot, after: Snapshot, mappings: Sequence[PoolMapping], *, reuse: bool = False,
          stats: dict | None = None, release: str | None = None) -> list[PoolMapping]:
    """The placement of ``after``, re-mapping only the PGs the change from ``before`` can reach.

    Parameters
    ----------
    before, after : Snapshot
        Two states of one cluster: the same pools (pg_num, pgp_num, size, rule) and OSD ids.
    mappings : sequence of PoolMapping
        The placement of ``before`` (:func:`pgtools.placement.map_pool_arrays`), all PGs of each pool.
    reuse : bool
        Passed to :func:`~pgtools.placement.map_pool_arrays` when every PG is mapped.
    stats : dict, optional
        Filled with ``remapped`` (PGs re-mapped), ``copied`` (rows kept) and ``full`` (True when the
        change could not be bounded and every PG was mapped).
    release : str, optional
        The Ceph release emulated (:func:`~pgtools.placement.map_pgs`); ``mappings`` must be its placement.

    Returns
    -------
    list of PoolMapping
        One per entry of ``mappings``, equal to what :func:`~pgtools.placement.map_pool_arrays` gives
        for ``after``.
    """
    c0, c1 = compile_snapshot(before, release=release), compile_snapshot(after, release=release)
    devices = _reachable(c0, c1)
    same_pools = all(c1.pools.get(pm.pool_id) == pm.pool and c0.pools.get(pm.pool_id) == pm.pool
                     and len(pm) == pm.pool.pg_num for pm in mappings)
    info = {"remapped": 0, "copied": 0, "full": False}
    if devices is None or not same_pools:
        info["full"] = True
        out = (map_pool_arrays(after, [pm.pool_id for pm in mappings], reuse=reuse, release=release)
               if mappings else [])
        info["remapped"] = sum(len(pm) for pm in out)
    else:
        dev = np.fromiter(sorted(devices), dtype=np.int64, count=len(devices))
        out = []
        for pm in mappings:
            hit = _holds_any(pm, dev) if len(dev) else np.zeros(len(pm), dtype=bool)
            special = _table_rows(c0, pm.pool_id) | _table_rows(c1, pm.pool_id)
            special = [ps for ps in special if ps < len(pm)]
            if special:
                hit[special] = True
            rows = np.nonzero(hit)[0]
            info["remapped"] += len(rows)
            info["copied"] += len(pm) - len(rows)
            if len(rows) == 0:
                out.append(PoolMapping(c1.pools[pm.pool_id], pm.pps, pm.raw, pm.up, pm.up_primary,
                                       pm.acting, pm.acting_primary, pm._columns))
                continue
            sub = c1.map_pool_arrays(c1.pools[pm.pool_id], rows)
            out.append(_patched(pm, rows, sub, c1.pools[pm.pool_id]))
    if stats is not None:
        stats.update(info)
    return out
