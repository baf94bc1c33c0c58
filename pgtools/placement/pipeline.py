"""PG placement exactly as Ceph 16.2 (Pacific) computes it: PG -> raw -> up -> acting.

The OSDMap part of the chain (``ceph_algorithms.md`` section 7) on top of the CRUSH engine in
:mod:`pgtools.crush`:

1. ``raw_pg_to_pps``: the CRUSH input ``x`` of a PG (``ceph_stable_mod`` by ``pgp_num``, then
   ``hash2(ps', pool)`` for HASHPSPOOL pools).
2. ``_pg_to_raw_osds``: ``find_rule`` (ruleset, type, min/max size), ``do_rule`` with the 16.16
   reweight vector and the pool's choose_args, then non-existent OSDs removed (replicated) or
   replaced by NONE (erasure).
3. ``_apply_upmap``: ``pg_upmap`` then ``pg_upmap_items``.
4. ``_raw_to_up_osds``: down OSDs removed / NONE; ``_pick_primary``; ``_apply_primary_affinity``.
5. ``_get_temp_osds``: ``pg_temp`` / ``primary_temp`` give acting.

Two engines share these steps: ``engine="reference"`` runs them one PG at a time (readable, the test
oracle), ``engine="vector"`` runs steps 1, 2 and 4 with NumPy over every PG of a pool and falls back to
the scalar steps only for the few PGs with upmap or temp entries.  Its CRUSH step is
:func:`pgtools.crush.map_values` with ``engine="auto"``: the compiled numba kernel when numba is installed
(``pgtools[fast]``), else NumPy; ``PGTOOLS_CRUSH_ENGINE=numpy`` forces NumPy.  The vector engine's own
result is a :class:`PoolMapping` per pool (``(pg_num, width)`` arrays; :func:`map_pool_arrays`), which
:func:`mapping_frame` turns into the public frame of tuples at the very end.

Public functions
----------------
compile_snapshot(snap) -> CompiledOSDMap
map_pgs(snap, pool_id=None, *, pg_num=None, engine="vector") -> DataFrame
map_pool_arrays(snap, pool_id=None, *, pg_num=None, reuse=False) -> list[PoolMapping]
mapping_frame(pool_mappings) -> DataFrame
verify_placement(snap) -> DataFrame
with_pg_num, mark_out, mark_up, mark_in, adjust_crush_weight : Snapshot -> Snapshot
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MissingInputError, PgtoolsError, UnsupportedFeatureError
from ..io._common import NONE
from ..model import Snapshot, split_pgid

__all__ = [
    "NONE",
    "PoolInfo",
    "PGMapping",
    "CompiledOSDMap",
    "compile_snapshot",
    "map_pgs",
    "PoolMapping",
    "map_pool_arrays",
    "mapping_frame",
    "verify_placement",
    "with_pg_num",
    "mark_out",
    "mark_up",
    "mark_in",
    "adjust_crush_weight",
    "cbits",
    "calc_mask",
    "ceph_stable_mod",
]

_M32 = 0xFFFFFFFF
#: 16.16 fixed point "1.0": full weight, default primary affinity.
ONE = 0x10000
_REPLICATED = 1
_ERASURE = 3


def cbits(v: int) -> int:
    """Number of significant bits of ``v`` (0 for 0)."""
    return int(v).bit_length()


def calc_mask(n: int) -> int:
    """``pg_pool_t::calc_pg_masks``: ``2**cbits(n - 1) - 1``."""
    return (1 << cbits(n - 1)) - 1 if n > 0 else 0


def ceph_stable_mod(x: int, b: int, bmask: int) -> int:
    """``ceph_stable_mod(x, b, bmask)``: ``x & bmask`` if below ``b``, else ``x & (bmask >> 1)``."""
    return x & bmask if (x & bmask) < b else x & (bmask >> 1)


def _stable_mod_vec(x: np.ndarray, b: int, bmask: int) -> np.ndarray:
    lo = x & bmask
    return np.where(lo < b, lo, x & (bmask >> 1))


# --------------------------------------------------------------------------------------------------
# compiled state


@dataclass(frozen=True)
class PoolInfo:
    """The placement-relevant fields of one pool."""

    pool_id: int
    name: str
    type: int  # 1 replicated, 3 erasure
    size: int
    pg_num: int
    pgp_num: int
    crush_rule: int
    hashpspool: bool

    @property
    def pg_num_mask(self) -> int:
        return calc_mask(self.pg_num)

    @property
    def pgp_num_mask(self) -> int:
        return calc_mask(self.pgp_num)

    def can_shift_osds(self) -> bool:
        """Replicated pools shift OSDs left when one is missing; erasure pools keep positions."""
        return self.type == _REPLICATED


@dataclass
class PGMapping:
    """The result of :meth:`CompiledOSDMap.pg_to_up_acting_osds` for one PG."""

    pool_id: int
    ps: int
    pps: int
    raw: list[int]
    up: list[int]
    up_primary: int
    acting: list[int]
    acting_primary: int

    @property
    def raw_primary(self) -> int:
        return _pick_primary(self.raw)


def _pick_primary(osds: Sequence[int]) -> int:
    """``OSDMap::_pick_primary``: the first entry that is not NONE, else -1."""
    for o in osds:
        if o != NONE:
            return int(o)
    return -1


@dataclass
class CompiledOSDMap:
    """Arrays and lookup tables built once from a Snapshot; see :func:`compile_snapshot`.

    ``weight`` and ``affinity`` are 16.16 fixed point, indexed by OSD id, of length ``max_osd``.
    Temp and upmap tables are keyed by ``(pool_id, ps)``.
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

    # ---- OSD state -------------------------------------------------------------------------------
    def _exists(self, osd: int) -> bool:
        return 0 <= osd < self.max_osd and bool(self.exists[osd])

    def _is_up(self, osd: int) -> bool:
        return self._exists(osd) and bool(self.up[osd])

    def _weight(self, osd: int) -> int:
        return int(self.weight[osd]) if 0 <= osd < self.max_osd else 0

    # ---- step 1 ----------------------------------------------------------------------------------
    def raw_pg_to_pg(self, pool: PoolInfo, ps: int) -> int:
        """The stored PG of a raw ps: ``stable_mod(ps, pg_num, pg_num_mask)``."""
        return ceph_stable_mod(ps, pool.pg_num, pool.pg_num_mask)

    def raw_pg_to_pps(self, pool: PoolInfo, ps: int) -> int:
        """``pg_pool_t::raw_pg_to_pps``: the CRUSH input of a PG."""
        from ..crush.hash import hash2

        s = ceph_stable_mod(ps, pool.pgp_num, pool.pgp_num_mask)
        if pool.hashpspool:
            return hash2(s, pool.pool_id & _M32)
        return (s + pool.pool_id) & _M32

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
        pps = self.raw_pg_to_pps(pool, ps)
        ruleno = self._find_rule(pool)
        osds: list[int] = []
        if ruleno >= 0:
            res = self.crush.do_rule(ruleno, pps, pool.size, self._weight_list(),
                                     self._choose_args_key(pool.pool_id))
            osds = [int(o) for o in res]
        return self._remove_nonexistent_osds(pool, osds), pps

    # ---- step 3 ----------------------------------------------------------------------------------
    def _apply_upmap(self, pool: PoolInfo, ps: int, raw: list[int]) -> list[int]:
        """``OSDMap::_apply_upmap`` (Pacific: pg_upmap, then pg_upmap_items)."""
        key = (pool.pool_id, self.raw_pg_to_pg(pool, ps))
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
        return raw

    # ---- step 4 ----------------------------------------------------------------------------------
    def _raw_to_up_osds(self, pool: PoolInfo, raw: list[int]) -> list[int]:
        if pool.can_shift_osds():
            return [o for o in raw if self._is_up(o)]
        return [o if self._is_up(o) else NONE for o in raw]

    def _apply_primary_affinity(self, pps: int, pool: PoolInfo, osds: list[int],
                                primary: int) -> tuple[list[int], int]:
        from ..crush.hash import hash2

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
        key = (pool.pool_id, self.raw_pg_to_pg(pool, ps))
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
            primary = _pick_primary(temp) if temp else -1
        return temp, primary

    # ---- the pipeline ----------------------------------------------------------------------------
    def _up_from_raw(self, pool: PoolInfo, ps: int, pps: int, raw: list[int]) -> tuple[list[int], int]:
        raw = self._apply_upmap(pool, ps, raw)
        up = self._raw_to_up_osds(pool, raw)
        up_primary = _pick_primary(up)
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
        from ..crush.hash import hash2_vec

        if self.crush is None:
            raise UnsupportedFeatureError("placement needs a CRUSH map (crush dump) in the snapshot")
        n = pool.pg_num
        subset = ps is not None
        ps = np.arange(n, dtype=np.int64) if ps is None else np.asarray(ps, dtype=np.int64)
        m = len(ps)
        s = _stable_mod_vec(ps, pool.pgp_num, pool.pgp_num_mask)
        if pool.hashpspool:
            pps = hash2_vec(s, np.int64(pool.pool_id & _M32)).astype(np.int64)
        else:
            pps = (s + pool.pool_id) & _M32
        ruleno = self._find_rule(pool)
        if ruleno >= 0 and m > 0:
            raw = self._crush_map(ruleno, pool, pps)
        else:
            raw = np.full((m, 0), -1, dtype=np.int64)
        raw = self._vec_filter(pool, raw, self.exists)
        up = self._vec_filter(pool, raw, self.exists & self.up)  # ``raw`` itself when nothing is down
        up_primary = _vec_first(up)
        if self.affinity is not None and up.shape[1] and bool((self.affinity != ONE).any()):
            up, up_primary = self._vec_affinity(pool, pps, up, up_primary)
        acting, acting_primary = up, up_primary
        pid = pool.pool_id
        special = sorted({k[1] for k in self.pg_upmap if k[0] == pid and k[1] < n}
                         | {k[1] for k in self.pg_upmap_items if k[0] == pid and k[1] < n})
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
                u, p = self._up_from_raw(pool, v, pps_l[i], _row(raw, i))
                new_up[i] = u
                new_upp[i] = p
            if new_up:
                up, up_primary = _with_rows(up, new_up), new_upp
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
                acting = _with_rows(up, new_acting)
            if temps:
                acting_primary = new_ap
        return PoolMapping(pool, pps, raw, up, up_primary, acting, acting_primary)

    def _crush_map(self, ruleno: int, pool: PoolInfo, pps: np.ndarray) -> np.ndarray:
        from .. import crush as crush_pkg

        weights = self.weight.astype(np.int64)
        key = self._choose_args_key(pool.pool_id)
        fn = getattr(crush_pkg, "map_values", None)
        if fn is not None:
            res = np.asarray(fn(self.crush, ruleno, pool.size, pps, weights, key), dtype=np.int64)
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
        from ..crush.hash import hash2_vec

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


def _rows(a: np.ndarray) -> list[list[int]]:
    """Rows of ``a`` as lists without the -1 padding (only rows holding a -1 are filtered in Python)."""
    out = a.tolist()
    for i in np.nonzero((a == -1).any(axis=1))[0].tolist():
        out[i] = [v for v in out[i] if v != -1]
    return out


def _row(a: np.ndarray, i: int) -> list[int]:
    """Row ``i`` of ``a`` as a list without the -1 padding."""
    return [v for v in a[i].tolist() if v != -1]


def _with_rows(a: np.ndarray, rows: dict[int, list[int]]) -> np.ndarray:
    """A copy of ``a`` (widened when needed) with some rows replaced by the given vectors, -1 padded."""
    width = max([a.shape[1], *map(len, rows.values())])
    out = np.full((a.shape[0], width), -1, dtype=np.int64)
    out[:, : a.shape[1]] = a
    for i, v in rows.items():
        out[i] = -1
        out[i, : len(v)] = v
    return out


def _same_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row: do ``a`` and ``b`` (-1 padded, possibly of different widths) hold the same vector?"""
    w = max(a.shape[1], b.shape[1])
    if a.shape[1] < w:
        a = np.pad(a, ((0, 0), (0, w - a.shape[1])), constant_values=-1)
    if b.shape[1] < w:
        b = np.pad(b, ((0, 0), (0, w - b.shape[1])), constant_values=-1)
    return (a == b).all(axis=1)


def _tuples(a: np.ndarray) -> np.ndarray:
    """The rows of ``a`` as an object array of tuples of int, -1 padding left out."""
    n, width = a.shape
    if n == 0:
        return np.empty(0, dtype=object)
    if width == 0:
        return np.fromiter((() for _ in range(n)), dtype=object, count=n)
    pad = a == -1
    if not bool(pad.any()):
        return np.fromiter(zip(*a.T.tolist(), strict=True), dtype=object, count=n)
    out = np.empty(n, dtype=object)
    if bool((pad[:, :-1] & ~pad[:, 1:]).any()):  # a -1 before an OSD: filter row by row
        out[:] = [tuple(v for v in r if v != -1) for r in a.tolist()]
        return out
    lens = width - pad.sum(axis=1)
    for ln in np.unique(lens).tolist():
        sel = np.nonzero(lens == ln)[0]
        if ln == 0:
            vals = [()] * len(sel)
        else:
            vals = list(zip(*a[sel, :ln].T.tolist(), strict=True))
        out[sel] = np.fromiter(vals, dtype=object, count=len(sel))
    return out


#: ``f"{ps:x}"`` for the first ps values, grown on demand up to ``_HEX_MAX`` entries
_HEX: list[np.ndarray] = [np.empty(0, dtype=object)]
_HEX_MAX = 1 << 17


def _hex_ps(n: int) -> np.ndarray:
    """``["0", "1", …, f"{n - 1:x}"]`` as an object array (from a shared table for the first 131072)."""
    table = _HEX[0]
    if len(table) < min(n, _HEX_MAX):
        table = _HEX[0] = np.array([f"{i:x}" for i in range(min(max(n, 2 * len(table), 1024), _HEX_MAX))],
                                   dtype=object)
    if n <= len(table):
        return table[:n]
    return np.concatenate([table, np.array([f"{i:x}" for i in range(len(table), n)], dtype=object)])


@dataclass(eq=False)
class PoolMapping:
    """Every PG of one pool as arrays: the vector engine's own result (:meth:`CompiledOSDMap.map_pool_arrays`).

    Row ``ps`` of each array is PG ``pool_id.ps``.  ``raw``, ``up`` and ``acting`` are ``(pg_num, width)``
    int64 arrays of OSD ids with NONE (2147483647) for erasure-coded holes and -1 after the last entry of a
    shorter vector (replicated pools with missing OSDs, short CRUSH results); -1 is never an OSD, so a PG's
    vector is its row without the -1 entries.  ``up`` is often the same array object as ``raw`` and
    ``acting`` as ``up``.  The arrays are read-only: mappings may be shared by several callers.

    Attributes
    ----------
    pool : PoolInfo
    pps : numpy.ndarray
        CRUSH input of each PG, int64.
    raw, up, acting : numpy.ndarray
        OSD vectors, see above.
    up_primary, acting_primary : numpy.ndarray
        int64, -1 when none.
    """

    pool: PoolInfo
    pps: np.ndarray
    raw: np.ndarray
    up: np.ndarray
    up_primary: np.ndarray
    acting: np.ndarray
    acting_primary: np.ndarray
    _columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for a in (self.pps, self.raw, self.up, self.up_primary, self.acting, self.acting_primary):
            a.flags.writeable = False

    def __len__(self) -> int:
        return len(self.pps)

    @property
    def pool_id(self) -> int:
        return self.pool.pool_id

    def lengths(self, which: str = "up") -> np.ndarray:
        """Length of each PG's ``which`` vector (``raw``, ``up`` or ``acting``; NONE holes count)."""
        a = getattr(self, which)
        return a.shape[1] - (a == -1).sum(axis=1)

    def lists(self, which: str = "up") -> list[list[int]]:
        """The ``which`` vectors (``raw``, ``up``, ``acting``) as lists of int, one per PG."""
        return _rows(getattr(self, which))

    def acting_equals_up(self) -> bool:
        """True when every PG's acting vector is its up vector."""
        return self.acting is self.up or bool(_same_rows(self.acting, self.up).all())

    def tuples(self, which: str) -> np.ndarray:
        """The ``which`` vectors (``raw``, ``up``, ``acting``) as an object array of tuples (cached).

        When ``up`` is ``raw`` (or ``acting`` is ``up``) the tuples are shared; rows that differ from
        the vector they derive from are the only ones converted again.
        """
        got = self._columns.get(which)
        if got is not None:
            return got
        a = getattr(self, which)
        base = {"up": "raw", "acting": "up"}.get(which)
        if base is not None and getattr(self, base) is a:
            out = self.tuples(base)
        elif base is not None and len(a):
            out = self.tuples(base).copy()
            diff = np.nonzero(~_same_rows(a, getattr(self, base)))[0]
            if len(diff):
                out[diff] = _tuples(a[diff])
        else:
            out = _tuples(a)
        self._columns[which] = out
        return out

    def pgids(self) -> np.ndarray:
        """``"pool.ps"`` (ps in hex) of every PG, as an object array of str (cached)."""
        got = self._columns.get("pgid")
        if got is None:
            got = self._columns["pgid"] = f"{self.pool_id}." + _hex_ps(len(self))
        return got

    def pg_mappings(self) -> list[PGMapping]:
        """One :class:`PGMapping` per PG (lists; ``up is raw`` / ``acting is up`` where they agree)."""
        pid = self.pool_id
        raw_l = _rows(self.raw)
        same_up = self.up is self.raw or (self.up.shape == self.raw.shape
                                           and np.array_equal(self.up, self.raw))
        up_l = raw_l if same_up else _rows(self.up)
        acting_l = up_l if self.acting is self.up else _rows(self.acting)
        return [PGMapping(pid, i, x, r, u, p, a, ap) for i, x, r, u, p, a, ap in zip(
            range(len(self)), self.pps.tolist(), raw_l, up_l, self.up_primary.tolist(), acting_l,
            self.acting_primary.tolist(), strict=True)]

    def frame(self) -> pd.DataFrame:
        """This pool's :func:`map_pgs` frame."""
        return mapping_frame([self])


def _vec_first(a: np.ndarray) -> np.ndarray:
    if a.shape[1] == 0:
        return np.full(a.shape[0], -1, dtype=np.int64)
    valid = (a != -1) & (a != NONE)
    first = valid.argmax(axis=1)
    val = a[np.arange(a.shape[0]), first]
    return np.where(valid.any(axis=1), val, -1)


# --------------------------------------------------------------------------------------------------
# building from a Snapshot

_TYPE_IDS = {"replicated": _REPLICATED, "rep": _REPLICATED, "erasure": _ERASURE, "ec": _ERASURE}


def _pool_infos(pools: pd.DataFrame) -> dict[int, PoolInfo]:
    out: dict[int, PoolInfo] = {}
    for rec in pools.to_dict("records"):
        t = rec.get("type_id")
        if t is None or (isinstance(t, float) and math.isnan(t)):
            tv = rec.get("type", "replicated")
            t = _TYPE_IDS.get(str(tv).lower(), None) if not isinstance(tv, (int, np.integer)) else int(tv)
            if t is None:
                raise PgtoolsError(f"pool {rec.get('pool_id')}: unknown pool type {tv!r}")
        flags = rec.get("flags")
        names = rec.get("flags_names")
        if flags is not None and not (isinstance(flags, float) and math.isnan(flags)) and not isinstance(
                flags, str):
            hashps = bool(int(flags) & 1)
        else:
            hashps = isinstance(names, str) and "hashpspool" in names.split(",")
        pg_num = int(rec["pg_num"])
        pgp = rec.get("pgp_num")
        pgp_num = pg_num if pgp is None or (isinstance(pgp, float) and math.isnan(pgp)) else int(pgp)
        pid = int(rec["pool_id"])
        out[pid] = PoolInfo(pool_id=pid, name=str(rec.get("pool", "")), type=int(t), size=int(rec["size"]),
                            pg_num=pg_num, pgp_num=pgp_num, crush_rule=int(rec["crush_rule"]),
                            hashpspool=hashps)
    return out


def _key(pgid: str) -> tuple[int, int]:
    return split_pgid(pgid)


_CACHE: list[tuple[Snapshot, CompiledOSDMap]] = []

_CRUSH_HINT = "`ceph osd crush dump -f json` (or `ceph osd getcrushmap -o crush.bin`)"
_OSD_DUMP_HINT = "`ceph osd dump -f json`"


def require_placement(snap: Snapshot, what: str = "recomputing placement") -> None:
    """Raise :class:`~pgtools.errors.MissingInputError` unless ``snap`` can be mapped exactly.

    Placement needs the CRUSH map and the osd dump (each pool's CRUSH rule, pg_num, pgp_num, size and
    type; OSD weights and states, upmaps).  Pools derived from a PG dump (:mod:`pgtools.io.derive`) do
    not count: their CRUSH rule is unknown.  The message names what is missing and the ``ceph`` commands
    that produce it.
    """
    from ..io.derive import derived_pools

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


def compile_snapshot(snap: Snapshot) -> CompiledOSDMap:
    """Compile a Snapshot's pools, OSDs, OSDMap tables and CRUSH map for placement.

    Parameters
    ----------
    snap : Snapshot
        Needs ``pools`` (POOL_COLUMNS), ``osds`` (``osd_id, exists, up`` and ``weight_fixed`` or
        ``reweight``, optionally ``primary_affinity[_fixed]``), ``osdmap`` (``max_osd``, upmap and temp
        tables) and ``crush``.

    Returns
    -------
    CompiledOSDMap
    """
    for s, c in _CACHE:
        if s is snap:
            return c
    require_placement(snap)
    osds = snap.osds
    om = snap.osdmap or {}
    ids = osds["osd_id"].astype("int64").to_numpy() if len(osds) else np.zeros(0, dtype=np.int64)
    max_osd = om.get("max_osd")
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
    compiled = CompiledOSDMap(
        max_osd=max_osd, exists=exists, up=up, weight=weight, affinity=affinity,
        pools=_pool_infos(snap.pools), crush=snap.crush,
        pg_upmap={_key(k): tuple(int(o) for o in v) for k, v in (om.get("pg_upmap") or {}).items()},
        pg_upmap_items={_key(k): tuple((int(a_), int(b_)) for a_, b_ in v)
                        for k, v in (om.get("pg_upmap_items") or {}).items()},
        pg_temp={_key(k): tuple(int(o) for o in v) for k, v in (om.get("pg_temp") or {}).items()},
        primary_temp={_key(k): int(v) for k, v in (om.get("primary_temp") or {}).items()},
    )
    _CACHE.append((snap, compiled))
    del _CACHE[:-4]
    return compiled


# --------------------------------------------------------------------------------------------------
# public API

_OUT_COLUMNS = ["pgid", "pool_id", "ps", "pps", "raw", "up", "up_primary", "acting", "acting_primary"]


def _selected(snap: Snapshot, pool_id: int | Iterable[int] | None,
              pg_num: int | None) -> tuple[CompiledOSDMap, list[int]]:
    """The compiled map (``pg_num`` applied) and the sorted pool ids a ``pool_id`` argument selects."""
    if pool_id is None:
        sel = None
    elif isinstance(pool_id, (int, np.integer)):
        sel = [int(pool_id)]
    else:
        sel = [int(p) for p in pool_id]
    if pg_num is not None:
        snap = with_pg_num(snap, pg_num, sel)
    c = compile_snapshot(snap)
    if sel is None:
        return c, sorted(c.pools)
    missing = [p for p in sel if p not in c.pools]
    if missing:
        raise PgtoolsError(f"no pool {missing[0]}")
    return c, sorted(set(sel))


def map_pgs(snap: Snapshot, pool_id: int | Iterable[int] | None = None, *, pg_num: int | None = None,
            engine: str = "vector") -> pd.DataFrame:
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
        return mapping_frame(map_pool_arrays(snap, pool_id, pg_num=pg_num))
    c, pids = _selected(snap, pool_id, pg_num)
    rows: list[PGMapping] = []
    for pid in pids:
        rows.extend(c.pg_to_up_acting_osds(pid, ps) for ps in range(c.pools[pid].pg_num))
    return _frame(rows)


def map_pool_arrays(snap: Snapshot, pool_id: int | Iterable[int] | None = None, *, pg_num: int | None = None,
                    reuse: bool = False) -> list[PoolMapping]:
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

    Returns
    -------
    list of PoolMapping
        In pool-id order; :func:`mapping_frame` turns them into the :func:`map_pgs` frame.
    """
    c, pids = _selected(snap, pool_id, pg_num)
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
            for t, table in enumerate((c.pg_upmap, c.pg_upmap_items, c.pg_temp, c.primary_temp)):
                for (pid, ps), v in table.items():
                    per_pool.setdefault(pid, [[], [], [], []])[t].append((ps, v))
            aff = None if c.affinity is None else c.affinity.tobytes()
            keys = c.__dict__["_reuse_keys"] = (
                (id(c.crush), c.max_osd, c.exists.tobytes(), c.up.tobytes(), c.weight.tobytes(), aff),
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


def mapping_frame(parts: Sequence[PoolMapping]) -> pd.DataFrame:
    """The :func:`map_pgs` frame of some pool mappings (rows in the given order).

    Parameters
    ----------
    parts : sequence of PoolMapping

    Returns
    -------
    DataFrame
        ``pgid, pool_id, ps, pps, raw, up, up_primary, acting, acting_primary``.
    """
    if not parts:
        return _frame([])

    def cat(arrays: list[np.ndarray]) -> np.ndarray:
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

    sizes = [len(p) for p in parts]
    vectors = {}
    for name in ("raw", "up", "acting"):
        vectors[name] = pd.Series(cat([p.tuples(name) for p in parts]), dtype=object, copy=False)
    return pd.DataFrame({
        "pgid": cat([p.pgids() for p in parts]),
        "pool_id": np.repeat(np.array([p.pool_id for p in parts], dtype=np.int64), sizes),
        "ps": cat([np.arange(n, dtype=np.int64) for n in sizes]),
        "pps": cat([p.pps for p in parts]).astype(np.int64, copy=False),
        "raw": vectors["raw"],
        "up": vectors["up"],
        "up_primary": cat([p.up_primary for p in parts]).astype(np.int64, copy=False),
        "acting": vectors["acting"],
        "acting_primary": cat([p.acting_primary for p in parts]).astype(np.int64, copy=False),
    }, columns=_OUT_COLUMNS)


def _frame(rows: list[PGMapping]) -> pd.DataFrame:
    """The :func:`map_pgs` frame of per-PG mappings (the reference engine)."""
    # raw, up and acting are very often the same list object: convert it to a tuple once
    ups = [tuple(m.up) for m in rows]
    raws = [u if m.raw is m.up else tuple(m.raw) for m, u in zip(rows, ups, strict=True)]
    actings = [u if m.acting is m.up else tuple(m.acting) for m, u in zip(rows, ups, strict=True)]
    df = pd.DataFrame({
        "pgid": [f"{m.pool_id}.{m.ps:x}" for m in rows],
        "pool_id": np.array([m.pool_id for m in rows], dtype=np.int64),
        "ps": np.array([m.ps for m in rows], dtype=np.int64),
        "pps": np.array([m.pps for m in rows], dtype=np.int64),
        "raw": pd.Series(raws, dtype=object),
        "up": pd.Series(ups, dtype=object),
        "up_primary": np.array([m.up_primary for m in rows], dtype=np.int64),
        "acting": pd.Series(actings, dtype=object),
        "acting_primary": np.array([m.acting_primary for m in rows], dtype=np.int64),
    }, columns=_OUT_COLUMNS)
    return df


def verify_placement(snap: Snapshot, *, engine: str = "vector") -> pd.DataFrame:
    """PGs whose recomputed up/acting (or primaries) differ from those reported in ``snap.pgs``.

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
    c = compile_snapshot(snap)
    pools = sorted(set(pgs["pool_id"].astype("int64").tolist()) & set(c.pools))
    calc = map_pgs(snap, pools, engine=engine) if pools else _frame([])
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


# --------------------------------------------------------------------------------------------------
# what-if transforms (pure: they return new snapshots)


def with_pg_num(snap: Snapshot, pg_num: int, pool_ids: Iterable[int] | None = None) -> Snapshot:
    """Set ``pg_num`` of some (default: all) pools, keeping ``pgp_num`` (osdmaptool ``--pg_num``)."""
    if pg_num <= 0:
        raise ValueError("pg_num must be positive")
    pools = snap.pools.copy()
    mask = np.ones(len(pools), dtype=bool) if pool_ids is None else pools["pool_id"].isin(list(pool_ids))
    pools.loc[mask, "pg_num"] = int(pg_num)
    return snap.replace(pools=pools)


def _osd_edit(snap: Snapshot, osd_ids: Iterable[int], **values: Any) -> Snapshot:
    osds = snap.osds.copy()
    ids = [int(i) for i in osd_ids]
    max_osd = int((snap.osdmap or {}).get("max_osd", osds["osd_id"].max() + 1 if len(osds) else 0))
    ids = [i for i in ids if 0 <= i < max_osd]
    mask = osds["osd_id"].isin(ids)
    for k, v in values.items():
        if k in osds or k in ("up", "in", "reweight", "weight_fixed"):
            osds.loc[mask, k] = v
    return snap.replace(osds=osds)


def mark_out(snap: Snapshot, osd_ids: Iterable[int], *, mark_up: bool = False) -> Snapshot:
    """Mark OSDs out (reweight 0).  ``mark_up=True`` also marks them up, as osdmaptool ``--mark-out`` does."""
    vals: dict[str, Any] = {"in": False, "reweight": 0.0, "weight_fixed": 0}
    if mark_up:
        vals["up"] = True
    return _osd_edit(snap, osd_ids, **vals)


def mark_in(snap: Snapshot, osd_ids: Iterable[int]) -> Snapshot:
    """Mark OSDs in (reweight 1)."""
    return _osd_edit(snap, osd_ids, **{"in": True, "reweight": 1.0, "weight_fixed": ONE})


def mark_up(snap: Snapshot, osd_ids: Iterable[int], up: bool = True) -> Snapshot:
    """Mark OSDs up (or down with ``up=False``)."""
    return _osd_edit(snap, osd_ids, up=bool(up))


def adjust_crush_weight(snap: Snapshot, weights: dict[int, float]) -> Snapshot:
    """Change CRUSH weights of OSDs (osdmaptool ``--adjust-crush-weight id:w,...``), parents adjusted.

    Parameters
    ----------
    snap : Snapshot
    weights : dict
        ``{osd_id: weight}`` in CRUSH units (1.0 = 0x10000), converted like Ceph's
        ``adjust_item_weightf`` (float32 multiply, truncation).  Applied in the given order.

    Returns
    -------
    Snapshot
        A new snapshot with a new CRUSH map; choose_args weight sets follow as in Ceph
        (:meth:`pgtools.crush.CrushMap.with_item_weight`).
    """
    crush = snap.crush
    if crush is None:
        raise UnsupportedFeatureError("adjust_crush_weight needs a CRUSH map")
    if getattr(crush, "with_item_weight", None) is None:
        raise UnsupportedFeatureError("this CRUSH engine cannot change item weights")
    from ..crush.map import float_to_16_16_f32

    for osd, w in weights.items():
        crush = crush.with_item_weight(int(osd), float_to_16_16_f32(float(w)))
    return snap.replace(crush=crush)
