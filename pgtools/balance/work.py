"""The balancer's working copy of the OSDMap and the upmap part of an ``OSDMap::Incremental``.

:class:`WorkMap` is ``tmp_osd_map`` of ``OSDMap::calc_pg_upmaps`` (and the map ``osdmaptool`` edits): the
compiled placement map of a snapshot with its own ``pg_upmap`` / ``pg_upmap_items`` tables, CRUSH results
computed once per pool (they do not depend on upmaps), ``pg_to_raw_upmap`` for one PG and the up sets of a
pool.  :class:`Increment` holds ``new_pg_upmap[_items]`` / ``old_pg_upmap[_items]`` and prints them as
``osdmaptool``'s ``print_inc_upmaps`` does (``src/tools/osdmaptool.cc``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..crush import map_values
from ..crush.remap import RuleTopology
from ..errors import UnknownPoolError, UnsupportedFeatureError
from ..placement import NONE, CompiledOSDMap, PoolInfo
from ..placement.mapping import row_list

__all__ = ["PG", "SCALAR_MAX", "Increment", "WorkMap", "pgid_text"]

#: :meth:`WorkMap.raw_rows` maps a rule's PGs one by one with the scalar engine up to this many PGs × size
#: (the NumPy engine's fixed cost per call is larger there: ``benchmarks/bench_balance.py``, mixed capture)
SCALAR_MAX = 128

#: a placement group as ``(pool id, ps)``; tuples sort like Ceph's ``pg_t`` (pool, then seed)
PG = tuple[int, int]


def pgid_text(pg: PG) -> str:
    """``operator<<(pg_t)``: ``<pool>.<ps in lowercase hex>``."""
    return f"{pg[0]}.{pg[1]:x}"


@dataclass
class Increment:
    """The upmap fields of an ``OSDMap::Incremental`` (std::map / std::set: iterated in PG order)."""

    new_pg_upmap: dict[PG, tuple[int, ...]] = field(default_factory=dict)
    old_pg_upmap: set[PG] = field(default_factory=set)
    new_pg_upmap_items: dict[PG, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    old_pg_upmap_items: set[PG] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.new_pg_upmap or self.old_pg_upmap or self.new_pg_upmap_items or self.old_pg_upmap_items)

    def commands(self, prefix: str = "ceph") -> list[str]:
        """``print_inc_upmaps``: ``rm-pg-upmap``, ``pg-upmap``, ``rm-pg-upmap-items``, ``pg-upmap-items`` lines.

        Parameters
        ----------
        prefix : str
            The command (``osdmaptool --vstart`` writes ``./bin/ceph``).
        """
        out = [f"{prefix} osd rm-pg-upmap {pgid_text(pg)}" for pg in sorted(self.old_pg_upmap)]
        out += [f"{prefix} osd pg-upmap {pgid_text(pg)}" + "".join(f" {o}" for o in v)
                for pg, v in sorted(self.new_pg_upmap.items())]
        out += [f"{prefix} osd rm-pg-upmap-items {pgid_text(pg)}" for pg in sorted(self.old_pg_upmap_items)]
        out += [f"{prefix} osd pg-upmap-items {pgid_text(pg)}" + "".join(f" {a} {b}" for a, b in v)
                for pg, v in sorted(self.new_pg_upmap_items.items())]
        return out


class WorkMap:
    """A mutable copy of a compiled OSDMap's upmap tables over its (fixed) CRUSH results.

    Parameters
    ----------
    compiled : CompiledOSDMap
        The map; it is not modified.
    release : str
        The Ceph release whose rule lookup and CRUSH helpers apply.
    pg_num_pending : dict, optional
        ``{pool id: pg_num_pending}`` (a pool merging PGs); default: each pool's pg_num.
    """

    def __init__(self, compiled: CompiledOSDMap, release: str, pg_num_pending: dict[int, int] | None = None) -> None:
        self.release = release
        #: the map has ``pg_upmap_primaries`` (Reef's read balancer; set by the caller)
        self.has_upmap_primaries = False
        self.pg_num_pending = {pid: int((pg_num_pending or {}).get(pid, p.pg_num)) for pid, p in compiled.pools.items()}
        self.map = dataclasses.replace(compiled, pg_upmap=dict(compiled.pg_upmap),
                                       pg_upmap_items=dict(compiled.pg_upmap_items))
        self.topology = RuleTopology(compiled.crush, release)
        self._raw: dict[int, np.ndarray] = {}

    def copy(self) -> WorkMap:
        """``deepish_copy_from``: the same CRUSH results and topology, new upmap tables."""
        new = WorkMap.__new__(WorkMap)
        new.release = self.release
        new.pg_num_pending = self.pg_num_pending
        new.has_upmap_primaries = self.has_upmap_primaries
        new.map = dataclasses.replace(self.map, pg_upmap=dict(self.map.pg_upmap),
                                      pg_upmap_items=dict(self.map.pg_upmap_items))
        new.topology = self.topology
        new._raw = self._raw
        return new

    @property
    def pools(self) -> dict[int, PoolInfo]:
        return self.map.pools

    @property
    def pg_upmap(self) -> dict[PG, tuple[int, ...]]:
        return self.map.pg_upmap

    @property
    def pg_upmap_items(self) -> dict[PG, tuple[tuple[int, int], ...]]:
        return self.map.pg_upmap_items

    def weightf(self, osd: int) -> np.float32:
        """``OSDMap::get_weightf``: the reweight as a C float (0 for an id outside the map)."""
        w = int(self.map.weight[osd]) if 0 <= osd < self.map.max_osd else 0
        return np.float32(np.float32(w) / np.float32(0x10000))

    def weight16(self, osd: int) -> int:
        """``osd_weight[osd]`` (16.16)."""
        return int(self.map.weight[osd])

    def crush_rule(self, pool: PoolInfo) -> int:
        """The rule the balancer and the upmap checks use: Pacific's ``find_rule`` (ruleset, type, size), from Reef
        on the pool's ``crush_rule`` itself (rulesets are gone)."""
        if self.release == "pacific":
            return int(self.map.crush.find_rule(pool.crush_rule, pool.type, pool.size))
        return int(pool.crush_rule)

    def _raw_rows(self, pool: PoolInfo) -> np.ndarray:
        got = self._raw.get(pool.pool_id)
        if got is None:
            got = self._raw[pool.pool_id] = self.map.map_pool_arrays(pool).raw
        return got

    def raw_rows(self, pools: list[PoolInfo]) -> dict[int, np.ndarray]:
        """The CRUSH results of several pools (``map_pool_arrays(pool).raw``: -1 padded rows, OSDs that do not
        exist removed), kept for later calls.

        ``OSDMap::_pg_to_raw_osds`` maps each PG through its pool's rule with the PG's pps as input: pools
        with the same rule, size and ``choose_args`` entry differ only in their inputs, so they go through one
        :func:`pgtools.crush.map_values` call (the per-call cost of the NumPy engine dominates on maps of
        many small pools), or, up to :data:`SCALAR_MAX` PGs × size, through ``CrushMap.do_rule`` one by one.  The rule is ``CrushWrapper::find_rule``'s, as ``map_pool_arrays`` looks it up;
        a group whose result does not come back as whole rows is mapped pool by pool by ``map_pool_arrays``.

        Parameters
        ----------
        pools : list of PoolInfo
            Pools of :attr:`pools`.

        Returns
        -------
        dict
            ``{pool id: rows}``.
        """
        crush = self.map.crush
        groups: dict[tuple, list[PoolInfo]] = {}
        for pool in pools:
            if pool.pool_id in self._raw or pool.pg_num <= 0 or crush is None:
                continue
            rule = int(crush.find_rule(pool.crush_rule, pool.type, pool.size))
            ca = getattr(crush, "choose_args", None) or {}
            key = pool.pool_id if pool.pool_id in ca else (-1 if -1 in ca else None)
            groups.setdefault((rule, pool.size, key), []).append(pool)
        weights = np.asarray(self.map.weight, dtype=np.int64)
        for (rule, size, key), members in groups.items():
            if rule < 0:
                continue
            pps = [m.raw_pgs_to_pps(np.arange(m.pg_num, dtype=np.int64)) for m in members]
            n = sum(len(x) for x in pps)
            if n * size <= SCALAR_MAX:
                # a few PGs: the scalar engine (CrushMap.do_rule, the reference) costs less than a vector call
                wl = weights.tolist()
                res = np.full((n, size), -1, dtype=np.int64)
                for i, x in enumerate(np.concatenate(pps).tolist()):
                    r = list(crush.do_rule(rule, int(x), size, wl, key))[:size]
                    res[i, : len(r)] = r
            elif len(members) == 1:
                continue  # nothing to share: map_pool_arrays below
            else:
                res = np.asarray(map_values(crush, rule, size, np.concatenate(pps), weights, key), dtype=np.int64)
                if res.ndim != 2 or res.shape[0] != n:
                    continue
            start = 0
            for m, x in zip(members, pps, strict=True):
                self._raw[m.pool_id] = self._drop_missing(m, res[start: start + len(x)])
                start += len(x)
        return {pool.pool_id: self._raw_rows(pool) for pool in pools}

    def _drop_missing(self, pool: PoolInfo, a: np.ndarray) -> np.ndarray:
        """``OSDMap::_remove_nonexistent_osds`` on rows: a replicated pool drops an OSD that does not exist
        (the rest shift left), an erasure pool puts ``CRUSH_ITEM_NONE`` in its place; -1 is padding."""
        exists = np.asarray(self.map.exists, dtype=bool)
        inrange = (a >= 0) & (a < self.map.max_osd)
        keep = np.zeros(a.shape, dtype=bool)
        keep[inrange] = exists[a[inrange]]
        pad = a == -1
        if bool((keep | pad).all()):
            return a
        if pool.can_shift_osds():
            b = np.where(keep, a, -1)
            return np.take_along_axis(b, np.argsort(b == -1, axis=1, kind="stable"), axis=1)
        return np.where(keep | pad, a, NONE)

    def pg_to_raw_upmap(self, pg: PG) -> tuple[list[int], list[int]]:
        """``OSDMap::pg_to_raw_upmap``: ``(raw, raw with this map's upmaps)``."""
        pool = self.pools.get(pg[0])
        if pool is None:
            return [], []
        if pg[1] >= pool.pg_num:
            raise UnsupportedFeatureError(f"pg {pgid_text(pg)} is beyond pool {pg[0]}'s pg_num {pool.pg_num}")
        return self.map.pg_to_raw_upmap(pg[0], pg[1], row_list(self._raw_rows(pool), pg[1]))

    def up_sets(self, pool: PoolInfo) -> np.ndarray:
        """The up sets of every PG of ``pool`` under this map's upmaps (rows, -1 padded)."""
        pm = self.map.map_pool_arrays(pool)
        self._raw.setdefault(pool.pool_id, pm.raw)  # the CRUSH step is the costly part: keep it
        return pm.up

    def apply(self, inc: Increment) -> None:
        """The upmap part of ``OSDMap::apply_incremental``: new entries, then removals."""
        for pg, v in inc.new_pg_upmap.items():
            self.pg_upmap[pg] = v
        for pg in inc.old_pg_upmap:
            self.pg_upmap.pop(pg, None)
        for pg, items in inc.new_pg_upmap_items.items():
            self.pg_upmap_items[pg] = items
        for pg in inc.old_pg_upmap_items:
            self.pg_upmap_items.pop(pg, None)


def pool_ids(work: WorkMap, pools: Iterable[int | str] | None) -> list[int]:
    """Pool ids of ``pools`` (ids or names), in the order given; ``[]`` for None.

    Raises
    ------
    UnknownPoolError
        A name or id the map does not have.
    """
    by_name = {p.name: pid for pid, p in work.pools.items()}
    out = []
    for p in pools or ():
        if isinstance(p, str) and not p.lstrip("-").isdigit():
            if p not in by_name:
                raise UnknownPoolError(f"pool {p!r} does not exist (pools: {', '.join(sorted(by_name))})")
            out.append(by_name[p])
        elif int(p) in work.pools:
            out.append(int(p))
        else:
            raise UnknownPoolError(f"pool id {int(p)} does not exist")
    return out
