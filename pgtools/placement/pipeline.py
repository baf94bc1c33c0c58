"""Placement of whole pools, as Ceph computes it: PG -> raw -> up -> acting.

The entry points over a :class:`~pgtools.model.Snapshot`.  The steps themselves are
:class:`~pgtools.placement.CompiledOSDMap`'s (:mod:`pgtools.placement.osdmap`); ``engine="reference"``
runs them one PG at a time (readable, the test oracle), ``engine="vector"`` with NumPy over every PG of a
pool.  The vector engine's own result is a :class:`~pgtools.placement.PoolMapping` per pool
(``(pg_num, width)`` arrays; :func:`map_pool_arrays`), which :func:`~pgtools.placement.mapping_frame` turns
into the public frame of tuples at the very end.

Each entry point takes ``release``: the Ceph release whose placement to emulate (``"pacific"``, ``"reef"``,
``"tentacle"``...; :data:`~pgtools.placement.osdmap.PLACEMENT_RELEASES`).  The releases differ only in
``pg_upmap_primaries`` (Reef's read balancer), which Pacific ignores; the default (None) follows Reef and
Tentacle and applies them.

Public functions
----------------
map_pgs(snap, pool_id=None, *, pg_num=None, engine="vector", release=None) -> DataFrame
map_pool_arrays(snap, pool_id=None, *, pg_num=None, reuse=False, release=None) -> list[PoolMapping]
verify_placement(snap, *, engine="vector", release=None) -> DataFrame
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import Snapshot
from .mapping import PGMapping, PoolMapping, mapping_frame, pg_mappings_frame
from .osdmap import CompiledOSDMap, compile_snapshot
from .pools import PoolInfo
from .whatif import with_pg_num

__all__ = ["map_pgs", "map_pool_arrays", "verify_placement"]


def _selected(snap: Snapshot, pool_id: int | Iterable[int] | None,
              pg_num: int | None, release: str | None) -> tuple[CompiledOSDMap, list[int]]:
    """The compiled map (``pg_num`` applied) and the sorted pool ids a ``pool_id`` argument selects."""
    if pool_id is None:
        sel = None
    elif isinstance(pool_id, (int, np.integer)):
        sel = [int(pool_id)]
    else:
        sel = [int(p) for p in pool_id]
    if pg_num is not None:
        snap = with_pg_num(snap, pg_num, sel)
    c = compile_snapshot(snap, release=release)
    if sel is None:
        return c, sorted(c.pools)
    missing = [p for p in sel if p not in c.pools]
    if missing:
        raise PgtoolsError(f"no pool {missing[0]}")
    return c, sorted(set(sel))


def map_pgs(snap: Snapshot, pool_id: int | Iterable[int] | None = None, *, pg_num: int | None = None,
            engine: str = "vector", release: str | None = None) -> pd.DataFrame:
    """Recompute raw/up/acting for every PG of the selected pools.

    Parameters
    ----------
    snap : Snapshot
        Pools, OSDs, osdmap tables and CRUSH map (see :func:`compile_snapshot`).
    pool_id : int or iterable of int, optional
        Pools to map (all when None), in pool-id order.
    pg_num : int, optional
        Override pg_num of the selected pools (osdmaptool ``--pg_num``: pgp_num is kept).
    engine : {"vector", "reference"}
        NumPy engine, or the one-PG-at-a-time reference pipeline.
    release : str, optional
        Ceph release to emulate (``"pacific"`` ignores ``pg_upmap_primaries``); None: Reef and later.

    Returns
    -------
    DataFrame
        ``pgid, pool_id, ps, pps, raw, up, up_primary, acting, acting_primary``; OSD vectors are
        tuples with NONE (2147483647) for erasure-coded holes.

    See Also
    --------
    map_pool_arrays : the same placement as arrays (no tuples), for code that computes on it.
    """
    if engine not in ("vector", "reference"):
        raise ValueError(f"unknown engine {engine!r}")
    if engine == "vector":
        return mapping_frame(map_pool_arrays(snap, pool_id, pg_num=pg_num, release=release))
    c, pids = _selected(snap, pool_id, pg_num, release)
    rows: list[PGMapping] = []
    for pid in pids:
        rows.extend(c.pg_to_up_acting_osds(pid, ps) for ps in range(c.pools[pid].pg_num))
    return pg_mappings_frame(rows)


def map_pool_arrays(snap: Snapshot, pool_id: int | Iterable[int] | None = None, *, pg_num: int | None = None,
                    reuse: bool = False, release: str | None = None) -> list[PoolMapping]:
    """Placement of every PG of the selected pools as arrays (the vector engine of :func:`map_pgs`).

    Parameters
    ----------
    snap : Snapshot
        Pools, OSDs, osdmap tables and CRUSH map (see :func:`compile_snapshot`).
    pool_id : int or iterable of int, optional
        Pools to map (all when None).
    pg_num : int, optional
        Override pg_num of the selected pools (pgp_num is kept).
    reuse : bool
        Take a pool's mapping from a small cache of recent results when every input of its placement is
        the same (the same CRUSH map object; equal pool, OSD states, weights, affinities, upmap and temp
        entries), and store new results there.  For callers that map the same state again and again (the
        what-if engine); the returned mappings must then not be modified.
    release : str, optional
        Ceph release to emulate (see :func:`map_pgs`).

    Returns
    -------
    list of PoolMapping
        In pool-id order; :func:`~pgtools.placement.mapping_frame` turns them into the :func:`map_pgs` frame.
    """
    c, pids = _selected(snap, pool_id, pg_num, release)
    if not reuse:
        return [c.map_pool_arrays(c.pools[pid]) for pid in pids]
    return [_REUSE.get(c, c.pools[pid]) for pid in pids]


class _MappingCache:
    """Recent :class:`PoolMapping` arrays keyed by everything their placement depends on.

    At most ``max_entries`` pool mappings of at most ``max_rows`` PGs in all are kept (least recently used
    first out; a larger single pool is not kept).  Each hit is a new :class:`PoolMapping` sharing the
    arrays and the pgid/tuple columns any holder converted (so a warm what-if does not build them again).
    """

    def __init__(self, max_entries: int = 16, max_rows: int = 1 << 20):
        self.max_entries = max_entries
        self.max_rows = max_rows
        self._entries: dict[tuple, tuple[Any, PoolMapping]] = {}

    @staticmethod
    def _key(c: CompiledOSDMap, pool: PoolInfo) -> tuple:
        keys = c.__dict__.get("_reuse_keys")
        if keys is None:  # built once per compiled map: the OSD part and each pool's table entries
            per_pool: dict[int, list[list]] = {}
            tables = (c.pg_upmap, c.pg_upmap_items, c.pg_temp, c.primary_temp, c.pg_upmap_primaries)
            for t, table in enumerate(tables):
                for (pid, ps), v in table.items():
                    per_pool.setdefault(pid, [[] for _ in tables])[t].append((ps, v))
            aff = None if c.affinity is None else c.affinity.tobytes()
            keys = c.__dict__["_reuse_keys"] = (
                (id(c.crush), c.max_osd, c.exists.tobytes(), c.up.tobytes(), c.weight.tobytes(), aff,
                 c.ec_optimized),
                {pid: tuple(tuple(sorted(e)) for e in lists) for pid, lists in per_pool.items()})
        return (pool, keys[0], keys[1].get(pool.pool_id))

    def get(self, c: CompiledOSDMap, pool: PoolInfo) -> PoolMapping:
        """The mapping of ``pool`` under ``c``, from the cache or computed (and then cached)."""
        key = self._key(c, pool)
        hit = self._entries.pop(key, None)
        if hit is not None and hit[0] is c.crush:
            self._entries[key] = hit  # most recently used last
            return _sharing(hit[1])
        m = c.map_pool_arrays(pool)
        if len(m) <= self.max_rows:
            self._entries[key] = (c.crush, _sharing(m))  # the map is held so that its id is not reused
            rows = sum(len(e[1]) for e in self._entries.values())
            while len(self._entries) > self.max_entries or rows > self.max_rows:
                rows -= len(self._entries.pop(next(iter(self._entries)))[1])
        return m

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()


def _sharing(m: PoolMapping) -> PoolMapping:
    """A PoolMapping sharing the arrays of ``m`` and its converted columns (pgids, tuples: computed once for
    every holder of these arrays, never modified in place)."""
    return PoolMapping(m.pool, m.pps, m.raw, m.up, m.up_primary, m.acting, m.acting_primary, m._columns)


_REUSE = _MappingCache()


def verify_placement(snap: Snapshot, *, engine: str = "vector", release: str | None = None) -> pd.DataFrame:
    """PGs whose recomputed up/acting (or primaries) differ from those reported in ``snap.pgs``.

    ``release``: the Ceph release to emulate (see :func:`map_pgs`).

    Returns
    -------
    DataFrame
        One row per differing PG: ``pgid, up, up_primary, acting, acting_primary`` (as reported) and
        ``up_calc, up_primary_calc, acting_calc, acting_primary_calc``; empty when all agree.
        PGs in the dump whose pool is unknown are reported with empty calculated vectors.
    """
    pgs = snap.pgs
    cols = ["pgid", "up", "up_primary", "acting", "acting_primary", "up_calc", "up_primary_calc",
            "acting_calc", "acting_primary_calc"]
    if pgs is None or len(pgs) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    c = compile_snapshot(snap, release=release)
    pools = sorted(set(pgs["pool_id"].astype("int64").tolist()) & set(c.pools))
    calc = map_pgs(snap, pools, engine=engine, release=release) if pools else pg_mappings_frame([])
    table = dict(zip(calc["pgid"], zip(calc["up"], calc["up_primary"].tolist(), calc["acting"],
                                       calc["acting_primary"].tolist(), strict=True), strict=True))
    out = []
    for rec in pgs[["pgid", "up", "up_primary", "acting", "acting_primary"]].to_dict("records"):
        cu, cup, ca, cap = table.get(rec["pgid"], ((), -1, (), -1))
        if (tuple(rec["up"]) != cu or int(rec["up_primary"]) != cup or tuple(rec["acting"]) != ca
                or int(rec["acting_primary"]) != cap):
            out.append({**rec, "up_calc": cu, "up_primary_calc": cup, "acting_calc": ca,
                        "acting_primary_calc": cap})
    return pd.DataFrame.from_records(out, columns=cols)
