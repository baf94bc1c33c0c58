"""The OSDMap compiled for placement: :class:`CompiledOSDMap` and the steps PG -> raw -> up -> acting.

The OSDMap part of the chain (``ceph_algorithms.md`` section 7) on top of the CRUSH engine in
:mod:`pgtools.crush`, as Ceph 16.2 (Pacific) computes it:

1. ``raw_pg_to_pps``: the CRUSH input ``x`` of a PG (:meth:`~pgtools.placement.PoolInfo.raw_pg_to_pps`).
2. ``_pg_to_raw_osds``: ``find_rule`` (ruleset, type, min/max size), ``do_rule`` with the 16.16
   reweight vector and the pool's choose_args, then non-existent OSDs removed (replicated) or
   replaced by NONE (erasure).
3. ``_apply_upmap``: ``pg_upmap`` then ``pg_upmap_items``; then, from Reef on, ``pg_upmap_primaries`` (the read
   balancer): when the PG has an entry whose OSD is a valid id that is not out (OSDMap weight > 0) and
   stands in the raw set after its first position, that OSD and the first entry swap places.  This is on
   the raw set, before down OSDs are dropped and before primary affinity (which may still move the
   primary), so it reaches up, up_primary and (without pg_temp/primary_temp) acting; it is not limited
   to replicated pools there (the monitor refuses the command for erasure-coded pools).  Pacific has no
   ``pg_upmap_primaries`` (its decoder skips them): a map holding some maps as if it had none.
4. ``_raw_to_up_osds``: down OSDs removed / NONE; ``_pick_primary``; ``_apply_primary_affinity``.
5. ``_get_temp_osds``: ``pg_temp`` / ``primary_temp`` give acting.  Tentacle stores the pg_temp of an
   erasure-coded pool with ``allow_ec_optimizations`` (pool flag ``FLAG_EC_OPTIMIZATIONS``, 1 << 19)
   reordered (``pgtemp_primaryfirst``) and undoes that here; pgtools does not implement the reordering
   and refuses such a PG (:class:`~pgtools.errors.UnsupportedFeatureError`) rather than guess.

Two engines share these steps: :meth:`CompiledOSDMap.pg_to_up_acting_osds` runs them one PG at a time
(readable, the test oracle); :meth:`CompiledOSDMap.map_pool_arrays` runs steps 1, 2 and 4 with NumPy over
every PG of a pool and falls back to the scalar steps only for the few PGs with upmap or temp entries.
Its CRUSH step is :func:`pgtools.crush.map_values` with ``engine="auto"``: the compiled numba kernel when
numba is installed (``pgtools[fast]``), else NumPy; ``PGTOOLS_CRUSH_ENGINE=numpy`` forces NumPy.

:func:`compile_snapshot` builds the compiled map from a :class:`~pgtools.model.Snapshot` once
(:func:`require_placement` says what a capture lacks for it).

Releases: the steps are those of Pacific 16.2.15, Reef 18.2.7 and Tentacle 20.2.4 alike (checked by
``tests/oracle``) except ``pg_upmap_primaries``, applied unless the release emulated (``release=``) is one
before Reef; by default (``release=None``) pgtools follows Reef and Tentacle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..crush import map_values
from ..crush.constants import WEIGHT_ONE as ONE
from ..crush.hash import hash2, hash2_vec
from ..errors import MissingInputError, UnsupportedFeatureError
from ..model import NONE, Snapshot, derived_pools, split_pgid
from .mapping import PGMapping, PoolMapping, first_osds, pick_primary, row_list, with_rows
from .pools import PoolInfo, pool_infos

__all__ = ["CompiledOSDMap", "PLACEMENT_RELEASES", "compile_snapshot", "require_placement",
           "upmap_primaries_apply"]

#: Releases whose placement pgtools emulates, oldest first: the OSDMap steps differ only in whether
#: ``pg_upmap_primaries`` (Reef's read balancer; OSDMap client data v10) is applied.  Pacific, Reef and
#: Tentacle are checked against their own osdmaptool (``tests/oracle``); Squid, between the last two,
#: has their code (``OSDMap::_apply_upmap``).
PLACEMENT_RELEASES = ("pacific", "quincy", "reef", "squid", "tentacle")
#: The first release that applies ``pg_upmap_primaries``.
_UPMAP_PRIMARY_FROM = "reef"


def upmap_primaries_apply(release: str | None) -> bool:
    """Whether placement as ``release`` computes it applies ``pg_upmap_primaries`` (None: Reef and later).

    Raises
    ------
    ValueError
        ``release`` is not one of :data:`PLACEMENT_RELEASES`.
    """
    if release is None:
        return True
    rel = str(release).lower()
    if rel not in PLACEMENT_RELEASES:
        raise ValueError(f"unknown Ceph release {release!r} for placement; known: {', '.join(PLACEMENT_RELEASES)}")
    return PLACEMENT_RELEASES.index(rel) >= PLACEMENT_RELEASES.index(_UPMAP_PRIMARY_FROM)


@dataclass
class CompiledOSDMap:
    """Arrays and lookup tables built once from a Snapshot; see :func:`compile_snapshot`.

    ``weight`` and ``affinity`` are 16.16 fixed point, indexed by OSD id, of length ``max_osd``.
    Temp and upmap tables are keyed by ``(pool_id, ps)``.  ``pg_upmap_primaries`` is empty when the
    release emulated ignores it (:func:`upmap_primaries_apply`).
    """

    max_osd: int
    exists: np.ndarray
    up: np.ndarray
    weight: np.ndarray
    affinity: np.ndarray | None
    pools: dict[int, PoolInfo]
    crush: Any
    pg_upmap: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)
    pg_upmap_items: dict[tuple[int, int], tuple[tuple[int, int], ...]] = field(default_factory=dict)
    pg_temp: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict)
    primary_temp: dict[tuple[int, int], int] = field(default_factory=dict)
    pg_upmap_primaries: dict[tuple[int, int], int] = field(default_factory=dict)
    #: pools flagged ``ec_optimizations`` (Tentacle's optimized EC: pg_temp stored reordered)
    ec_optimized: frozenset[int] = frozenset()

    def special_tables(self) -> tuple[dict, ...]:
        """The PG-keyed tables that change the up set of the PGs they list (the vector engine maps those
        PGs one at a time)."""
        return (self.pg_upmap, self.pg_upmap_items, self.pg_upmap_primaries)

    # ---- OSD state -------------------------------------------------------------------------------
    def _exists(self, osd: int) -> bool:
        return 0 <= osd < self.max_osd and bool(self.exists[osd])

    def _is_up(self, osd: int) -> bool:
        return self._exists(osd) and bool(self.up[osd])

    def _weight(self, osd: int) -> int:
        return int(self.weight[osd]) if 0 <= osd < self.max_osd else 0

    # ---- step 2 ----------------------------------------------------------------------------------
    def _choose_args_key(self, pool_id: int) -> Any:
        ca = getattr(self.crush, "choose_args", None) or {}
        if pool_id in ca:
            return pool_id
        if -1 in ca:
            return -1
        return None

    def _find_rule(self, pool: PoolInfo) -> int:
        return int(self.crush.find_rule(pool.crush_rule, pool.type, pool.size))

    def _weight_list(self) -> list[int]:
        return [int(w) for w in self.weight]

    def _remove_nonexistent_osds(self, pool: PoolInfo, osds: list[int]) -> list[int]:
        if pool.can_shift_osds():
            return [o for o in osds if self._exists(o)]
        return [o if self._exists(o) else NONE for o in osds]

    def _pg_to_raw_osds(self, pool: PoolInfo, ps: int) -> tuple[list[int], int]:
        """``OSDMap::_pg_to_raw_osds``: ``(raw, pps)``."""
        if self.crush is None:
            raise UnsupportedFeatureError("placement needs a CRUSH map (crush dump) in the snapshot")
        pps = pool.raw_pg_to_pps(ps)
        ruleno = self._find_rule(pool)
        osds: list[int] = []
        if ruleno >= 0:
            res = self.crush.do_rule(ruleno, pps, pool.size, self._weight_list(),
                                     self._choose_args_key(pool.pool_id))
            osds = [int(o) for o in res]
        return self._remove_nonexistent_osds(pool, osds), pps

    # ---- step 3 ----------------------------------------------------------------------------------
    def _apply_upmap(self, pool: PoolInfo, ps: int, raw: list[int]) -> list[int]:
        """``OSDMap::_apply_upmap``: pg_upmap, then pg_upmap_items, then (Reef+) pg_upmap_primaries."""
        key = (pool.pool_id, pool.raw_pg_to_pg(ps))
        raw = list(raw)
        full = self.pg_upmap.get(key)
        if full is not None:
            for o in full:
                if o != NONE and 0 <= o < self.max_osd and self._weight(o) == 0:
                    return raw  # an out target cancels pg_upmap and pg_upmap_items
            raw = list(full)
        items = self.pg_upmap_items.get(key)
        if items:
            for frm, to in items:
                if to in raw:
                    continue
                pos = next((i for i, o in enumerate(raw) if o == frm), -1)
                if pos < 0:
                    continue
                if to != NONE and 0 <= to < self.max_osd and self._weight(to) == 0:
                    continue
                raw[pos] = to
        prim = self.pg_upmap_primaries.get(key)
        if prim is not None and prim != NONE and 0 <= prim < self.max_osd and self._weight(prim) != 0:
            # Reef's read balancer: the OSD's first place after the head swaps with the head (only then)
            pos = next((i for i in range(1, len(raw)) if raw[i] == prim), 0)
            if pos > 0:
                raw[pos], raw[0] = raw[0], prim
        return raw

    def pg_to_raw_upmap(self, pool_id: int, ps: int, raw: list[int] | None = None) -> tuple[list[int], list[int]]:
        """``OSDMap::pg_to_raw_upmap``: ``(raw, raw after _apply_upmap)``; empty vectors for a missing pool.

        ``raw`` skips the CRUSH step when the caller already has it (``_pg_to_raw_osds`` of this map).
        """
        pool = self.pools.get(pool_id)
        if pool is None:
            return [], []
        if raw is None:
            raw, _ = self._pg_to_raw_osds(pool, ps)
        return list(raw), self._apply_upmap(pool, ps, raw)

    # ---- step 4 ----------------------------------------------------------------------------------
    def _raw_to_up_osds(self, pool: PoolInfo, raw: list[int]) -> list[int]:
        if pool.can_shift_osds():
            return [o for o in raw if self._is_up(o)]
        return [o if self._is_up(o) else NONE for o in raw]

    def _apply_primary_affinity(self, pps: int, pool: PoolInfo, osds: list[int],
                                primary: int) -> tuple[list[int], int]:
        aff = self.affinity
        if aff is None:
            return osds, primary
        if not any(o != NONE and 0 <= o < self.max_osd and int(aff[o]) != ONE for o in osds):
            return osds, primary
        pos = -1
        for i, o in enumerate(osds):
            if o == NONE:
                continue
            a = int(aff[o])
            if a < ONE and (hash2(pps, o) >> 16) >= a:
                if pos < 0:
                    pos = i
            else:
                pos = i
                break
        if pos < 0:
            return osds, primary
        primary = osds[pos]
        if pool.can_shift_osds() and pos > 0:
            osds = [primary] + osds[:pos] + osds[pos + 1:]
        return osds, primary

    # ---- step 5 ----------------------------------------------------------------------------------
    def _get_temp_osds(self, pool: PoolInfo, ps: int) -> tuple[list[int], int]:
        key = (pool.pool_id, pool.raw_pg_to_pg(ps))
        if pool.pool_id in self.ec_optimized and (key in self.pg_temp or key in self.primary_temp):
            raise UnsupportedFeatureError(
                f"PG {key[0]}.{key[1]:x}: pg_temp/primary_temp of a pool with allow_ec_optimizations (Tentacle's "
                "optimized EC, stored in 'primary first' order) is not supported: its acting set would be a guess")
        temp: list[int] = []
        tmp = self.pg_temp.get(key)
        if tmp is not None:
            for o in tmp:
                if not self._exists(o) or not self._is_up(o):
                    if not pool.can_shift_osds():
                        temp.append(NONE)
                else:
                    temp.append(o)
        if key in self.primary_temp:
            primary = self.primary_temp[key]
        else:
            primary = pick_primary(temp) if temp else -1
        return temp, primary

    # ---- the pipeline ----------------------------------------------------------------------------
    def _up_from_raw(self, pool: PoolInfo, ps: int, pps: int, raw: list[int]) -> tuple[list[int], int]:
        raw = self._apply_upmap(pool, ps, raw)
        up = self._raw_to_up_osds(pool, raw)
        up_primary = pick_primary(up)
        return self._apply_primary_affinity(pps, pool, up, up_primary)

    def pg_to_up_acting_osds(self, pool_id: int, ps: int) -> PGMapping:
        """``OSDMap::pg_to_up_acting_osds`` for PG ``pool_id.ps`` (ps past pg_num is folded like Ceph).

        Returns empty vectors and -1 primaries when the pool does not exist.
        """
        pool = self.pools.get(pool_id)
        if pool is None:
            return PGMapping(pool_id, ps, 0, [], [], -1, [], -1)
        acting, acting_primary = self._get_temp_osds(pool, ps)
        raw, pps = self._pg_to_raw_osds(pool, ps)
        up, up_primary = self._up_from_raw(pool, ps, pps, raw)
        if not acting:
            acting = list(up)
            if acting_primary == -1:
                acting_primary = up_primary
        return PGMapping(pool_id, ps, pps, raw, up, up_primary, acting, acting_primary)

    # ---- vector engine ---------------------------------------------------------------------------
    def map_pool_vector(self, pool: PoolInfo) -> list[PGMapping]:
        """Map every PG of ``pool`` with NumPy, one :class:`PGMapping` per PG (see :meth:`map_pool_arrays`)."""
        return self.map_pool_arrays(pool).pg_mappings()

    def map_pool_arrays(self, pool: PoolInfo, ps: np.ndarray | None = None) -> PoolMapping:
        """Map every PG of ``pool`` with NumPy (scalar steps only for PGs with upmap/temp entries).

        Parameters
        ----------
        pool : PoolInfo
            One of :attr:`pools`.
        ps : numpy.ndarray, optional
            Map only these PGs (placement seeds below ``pg_num``, each once); default: all.

        Returns
        -------
        PoolMapping
            Row ``i`` of each array is PG ``pool_id.ps[i]`` (row ``ps`` when all PGs are mapped).
        """
        if self.crush is None:
            raise UnsupportedFeatureError("placement needs a CRUSH map (crush dump) in the snapshot")
        n = pool.pg_num
        subset = ps is not None
        ps = np.arange(n, dtype=np.int64) if ps is None else np.asarray(ps, dtype=np.int64)
        m = len(ps)
        pps = pool.raw_pgs_to_pps(ps)
        ruleno = self._find_rule(pool)
        if ruleno >= 0 and m > 0:
            raw = self._crush_map(ruleno, pool, pps)
        else:
            raw = np.full((m, 0), -1, dtype=np.int64)
        raw = self._vec_filter(pool, raw, self.exists)
        up = self._vec_filter(pool, raw, self.exists & self.up)  # ``raw`` itself when nothing is down
        up_primary = first_osds(up)
        if self.affinity is not None and up.shape[1] and bool((self.affinity != ONE).any()):
            up, up_primary = self._vec_affinity(pool, pps, up, up_primary)
        acting, acting_primary = up, up_primary
        pid = pool.pool_id
        special = sorted({k[1] for table in self.special_tables() for k in table if k[0] == pid and k[1] < n})
        temps = sorted({k[1] for k in self.pg_temp if k[0] == pid and k[1] < n}
                       | {k[1] for k in self.primary_temp if k[0] == pid and k[1] < n})
        if subset and (special or temps):
            row_of = {v: i for i, v in enumerate(ps.tolist())}
            special = [(row_of[v], v) for v in special if v in row_of]
            temps = [(row_of[v], v) for v in temps if v in row_of]
        else:
            special = [(v, v) for v in special]
            temps = [(v, v) for v in temps]
        if special or temps:
            pps_l = pps.tolist()
            new_up: dict[int, list[int]] = {}
            new_upp = up_primary.copy()
            for i, v in special:
                u, p = self._up_from_raw(pool, v, pps_l[i], row_list(raw, i))
                new_up[i] = u
                new_upp[i] = p
            if new_up:
                up, up_primary = with_rows(up, new_up), new_upp
            acting, acting_primary = up, up_primary
            new_acting: dict[int, list[int]] = {}
            new_ap = up_primary.copy()
            for i, v in temps:
                a, ap = self._get_temp_osds(pool, v)
                if not a:
                    # no usable pg_temp: acting is up (a primary_temp still picks the primary)
                    if ap == -1:
                        ap = int(up_primary[i])
                else:
                    new_acting[i] = a
                new_ap[i] = ap
            if new_acting:
                acting = with_rows(up, new_acting)
            if temps:
                acting_primary = new_ap
        return PoolMapping(pool, pps, raw, up, up_primary, acting, acting_primary)

    def _crush_map(self, ruleno: int, pool: PoolInfo, pps: np.ndarray) -> np.ndarray:
        weights = self.weight.astype(np.int64)
        key = self._choose_args_key(pool.pool_id)
        res = np.asarray(map_values(self.crush, ruleno, pool.size, pps, weights, key), dtype=np.int64)
        if res.ndim == 2 and res.shape[0] == len(pps):
            return res
        wl = self._weight_list()
        out = np.full((len(pps), pool.size), -1, dtype=np.int64)
        for i, x in enumerate(pps.tolist()):
            r = list(self.crush.do_rule(ruleno, int(x), pool.size, wl, key))[: pool.size]
            out[i, : len(r)] = r
        return out

    def _vec_filter(self, pool: PoolInfo, a: np.ndarray, keep_mask: np.ndarray) -> np.ndarray:
        """Drop (replicated) or NONE (erasure) entries whose OSD fails ``keep_mask``; -1 is padding."""
        if a.size == 0:
            return a
        inrange = (a >= 0) & (a < self.max_osd)
        if bool(inrange.all()):
            keep = keep_mask.take(a)
        else:
            keep = np.zeros(a.shape, dtype=bool)
            keep[inrange] = keep_mask[a[inrange]]
        pad = a == -1
        drop = ~(keep | pad)
        if not bool(drop.any()) or (not pool.can_shift_osds() and bool((a[drop] == NONE).all())):
            return a  # nothing to remove (the common case): the same array
        if pool.can_shift_osds():
            b = np.where(keep, a, -1)
            order = np.argsort(b == -1, axis=1, kind="stable")
            return np.take_along_axis(b, order, axis=1)
        return np.where(keep | pad, a, NONE)

    def _vec_affinity(self, pool: PoolInfo, pps: np.ndarray, up: np.ndarray,
                      primary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        aff_tab = self.affinity
        valid = (up >= 0) & (up < self.max_osd)
        aff = np.full(up.shape, ONE, dtype=np.int64)
        aff[valid] = aff_tab[up[valid]]
        rows = np.nonzero((valid & (aff != ONE)).any(axis=1))[0]
        if len(rows) == 0:
            return up, primary
        sub = up[rows]
        sv = valid[rows]
        sa = aff[rows]
        h = (hash2_vec(pps[rows][:, None], np.where(sv, sub, 0)).astype(np.int64) >> 16)
        rejected = sv & (sa < ONE) & (h >= sa)
        accepted = sv & ~rejected
        has_acc = accepted.any(axis=1)
        has_valid = sv.any(axis=1)
        pos = np.where(has_acc, accepted.argmax(axis=1), sv.argmax(axis=1))
        rows = rows[has_valid]
        pos = pos[has_valid]
        sub = sub[has_valid]
        new_primary = sub[np.arange(len(rows)), pos]
        primary = primary.copy()
        primary[rows] = new_primary
        if pool.can_shift_osds():
            width = up.shape[1]
            j = np.arange(width)[None, :]
            p = pos[:, None]
            src = np.where(j == 0, p, np.where(j <= p, j - 1, j))
            up = up.copy()
            up[rows] = np.take_along_axis(sub, src, axis=1)
        return up, primary


# --------------------------------------------------------------------------------------------------
# building from a Snapshot

#: The last few snapshots compiled (with the release emulated), with their compiled maps (a Snapshot is
#: immutable by convention).
_CACHE: list[tuple[Snapshot, bool, CompiledOSDMap]] = []

_CRUSH_HINT = "`ceph osd crush dump -f json` (or `ceph osd getcrushmap -o crush.bin`)"
_OSD_DUMP_HINT = "`ceph osd dump -f json`"


#: ``pg_pool_t::FLAG_EC_OPTIMIZATIONS`` (Tentacle, ``src/osd/osd_types.h``)
_FLAG_EC_OPTIMIZATIONS = 1 << 19


def _ec_optimized(rec: dict) -> bool:
    """Whether a pool row has Tentacle's ``ec_optimizations`` flag (the number, else the flag names)."""
    flags = rec.get("flags")
    if flags is not None and not isinstance(flags, str) and not pd.isna(flags):
        return bool(int(flags) & _FLAG_EC_OPTIMIZATIONS)
    names = rec.get("flags_names")
    return isinstance(names, str) and "ec_optimizations" in names.split(",")


def require_placement(snap: Snapshot, what: str = "recomputing placement") -> None:
    """Raise :class:`~pgtools.errors.MissingInputError` unless ``snap`` can be mapped exactly.

    Placement needs the CRUSH map and the osd dump (each pool's CRUSH rule, pg_num, pgp_num, size and
    type; OSD weights and states, upmaps).  Pools derived from a PG dump (:func:`~pgtools.model.derived_pools`)
    do not count: their CRUSH rule is unknown.  The message names what is missing and the ``ceph`` commands
    that produce it.
    """
    pools = snap.pools
    no_crush = snap.crush is None
    no_pools = pools is None or not len(pools) or bool(derived_pools(pools)) or "crush_rule" not in pools.columns \
        or bool(pools["crush_rule"].isna().any())
    if not (no_crush or no_pools):
        return
    if no_crush and no_pools:
        need, add = "the CRUSH map and the osd dump (pool rules, OSD weights)", f"{_OSD_DUMP_HINT} and {_CRUSH_HINT}"
    elif no_crush:
        need, add = "the CRUSH map", _CRUSH_HINT
    else:
        need, add = "the osd dump (pool CRUSH rules, pg_num, pgp_num, size; OSD weights)", _OSD_DUMP_HINT
    raise MissingInputError(f"{what} needs {need}: add {add} to the capture")


def compile_snapshot(snap: Snapshot, *, release: str | None = None) -> CompiledOSDMap:
    """Compile a Snapshot's pools, OSDs, OSDMap tables and CRUSH map for placement.

    Parameters
    ----------
    snap : Snapshot
        Needs ``pools`` (POOL_COLUMNS), ``osds`` (``osd_id, exists, up`` and ``weight_fixed`` or
        ``reweight``, optionally ``primary_affinity[_fixed]``), ``osdmap`` (``max_osd``, upmap and temp
        tables) and ``crush``.
    release : str, optional
        The Ceph release whose placement to emulate (:data:`PLACEMENT_RELEASES`); None: Reef and later
        (``pg_upmap_primaries`` applied).  Before Reef, ``pg_upmap_primaries`` entries are left out.

    Returns
    -------
    CompiledOSDMap
    """
    with_primaries = upmap_primaries_apply(release)
    for s, w, c in _CACHE:
        if s is snap and w == with_primaries:
            return c
    require_placement(snap)
    osds = snap.osds
    om = snap.osdmap
    ids = osds["osd_id"].astype("int64").to_numpy() if len(osds) else np.zeros(0, dtype=np.int64)
    max_osd = om.max_osd
    if max_osd is None:
        max_osd = int(ids.max()) + 1 if len(ids) else 0
    max_osd = int(max_osd)
    sel = (ids >= 0) & (ids < max_osd)
    idx = ids[sel]

    def col(name: str, default: float) -> np.ndarray:
        """A numeric OSD column for the selected rows, missing values replaced by ``default``."""
        if name in osds:
            v = pd.to_numeric(osds[name].astype(object), errors="coerce").to_numpy(dtype=float,
                                                                                   na_value=np.nan)[sel]
            return np.where(np.isnan(v), default, v)
        return np.full(len(idx), float(default))

    def fixed(name: str, name_float: str, default: float) -> np.ndarray | None:
        """16.16 values: the exact column where a row has it, else the float column × 0x10000, else default."""
        if name not in osds and name_float not in osds:
            return None
        v = col(name_float, np.nan) * ONE if name_float in osds else np.full(len(idx), np.nan)
        if name in osds:
            exact = col(name, np.nan)
            v = np.where(np.isnan(exact), v, exact)
        return np.round(np.where(np.isnan(v), default * ONE, v)).astype(np.int64)

    exists = np.zeros(max_osd, dtype=bool)
    exists[idx] = col("exists", 1.0) != 0
    up = np.zeros(max_osd, dtype=bool)
    up[idx] = col("up", 1.0) != 0
    weight = np.zeros(max_osd, dtype=np.int64)
    w = fixed("weight_fixed", "reweight", 1.0)
    weight[idx] = ONE if w is None else np.clip(w, 0, None)
    weight[~exists] = 0
    affinity = None
    a = fixed("primary_affinity_fixed", "primary_affinity", 1.0)
    if a is not None and bool((a != ONE).any()):
        affinity = np.full(max_osd, ONE, dtype=np.int64)
        affinity[idx] = a
    ec_optimized = frozenset(int(r["pool_id"]) for r in snap.pools.to_dict("records") if _ec_optimized(r))
    compiled = CompiledOSDMap(
        max_osd=max_osd, exists=exists, up=up, weight=weight, affinity=affinity,
        pools=pool_infos(snap.pools), crush=snap.crush,
        pg_upmap={split_pgid(k): tuple(int(o) for o in v) for k, v in om.pg_upmap.items()},
        pg_upmap_items={split_pgid(k): tuple((int(a_), int(b_)) for a_, b_ in v)
                        for k, v in om.pg_upmap_items.items()},
        pg_temp={split_pgid(k): tuple(int(o) for o in v) for k, v in om.pg_temp.items()},
        primary_temp={split_pgid(k): int(v) for k, v in om.primary_temp.items()},
        pg_upmap_primaries=({split_pgid(k): int(v) for k, v in om.pg_upmap_primaries.items()}
                            if with_primaries else {}),
        ec_optimized=ec_optimized,
    )
    _CACHE.append((snap, with_primaries, compiled))
    del _CACHE[:-4]
    return compiled
