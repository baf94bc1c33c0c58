"""What placement returns: one PG's vectors (:class:`PGMapping`), one pool's arrays (:class:`PoolMapping`), the frame.

The reference engine (:meth:`~pgtools.placement.CompiledOSDMap.pg_to_up_acting_osds`) gives a
:class:`PGMapping` per PG; the vector engine (:meth:`~pgtools.placement.CompiledOSDMap.map_pool_arrays`) a
:class:`PoolMapping` per pool: ``(pg_num, width)`` arrays of OSD ids, -1 after the last entry of a shorter
vector.  :func:`mapping_frame` and :func:`pg_mappings_frame` turn either into the public
:func:`~pgtools.placement.map_pgs` frame of tuples, at the very end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model import NONE
from .pools import PoolInfo

__all__ = ["MAPPING_COLUMNS", "PGMapping", "PoolMapping", "copy_on_write", "mapping_frame", "pg_mappings_frame", "pick_primary",
           "first_osds", "row_list", "with_rows"]

#: The columns of the :func:`~pgtools.placement.map_pgs` frame.
MAPPING_COLUMNS = ["pgid", "pool_id", "ps", "pps", "raw", "up", "up_primary", "acting", "acting_primary"]


@dataclass
class PGMapping:
    """The result of :meth:`~pgtools.placement.CompiledOSDMap.pg_to_up_acting_osds` for one PG."""

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
        return pick_primary(self.raw)


def pick_primary(osds: Sequence[int]) -> int:
    """``OSDMap::_pick_primary``: the first entry that is not NONE, else -1."""
    for o in osds:
        if o != NONE:
            return int(o)
    return -1




def first_osds(a: np.ndarray) -> np.ndarray:
    """:func:`pick_primary` of every row of a -1 padded array of OSD vectors (int64, -1 when none)."""
    if a.shape[1] == 0:
        return np.full(a.shape[0], -1, dtype=np.int64)
    valid = (a != -1) & (a != NONE)
    first = valid.argmax(axis=1)
    val = a[np.arange(a.shape[0]), first]
    return np.where(valid.any(axis=1), val, -1)



def _rows(a: np.ndarray) -> list[list[int]]:
    """Rows of ``a`` as lists without the -1 padding (only rows holding a -1 are filtered in Python)."""
    out = a.tolist()
    for i in np.nonzero((a == -1).any(axis=1))[0].tolist():
        out[i] = [v for v in out[i] if v != -1]
    return out


def row_list(a: np.ndarray, i: int) -> list[int]:
    """Row ``i`` of ``a`` as a list without the -1 padding."""
    return [v for v in a[i].tolist() if v != -1]


def with_rows(a: np.ndarray, rows: dict[int, list[int]]) -> np.ndarray:
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
    """Every PG of one pool as arrays: the vector engine's own result (:meth:`~pgtools.placement.CompiledOSDMap.map_pool_arrays`).

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

    def column(self, name: str) -> pd.Series:
        """Column ``name`` of this pool's :func:`mapping_frame` (``pgid``, ``pps``, ``raw``, ``up``,
        ``up_primary``, ``acting``, ``acting_primary``) as a Series (cached).

        Frames built from it share its data under pandas' copy-on-write, which copies a column before
        anything writes to it, so the cache cannot be changed through a frame.
        """
        key = "pgid_text" if name == "pgid" else "series:" + name
        got = self._columns.get(key)
        if got is None:
            if name == "pgid":  # text: pandas infers its dtype (reading every string) once
                got = pd.Series(self.pgids())
            elif name in ("raw", "up", "acting"):
                got = pd.Series(self.tuples(name), dtype=object, copy=False)
            else:
                got = pd.Series(getattr(self, name).astype(np.int64, copy=False), copy=False)
            self._columns[key] = got
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
        """This pool's :func:`~pgtools.placement.map_pgs` frame."""
        return mapping_frame([self])



def mapping_frame(parts: Sequence[PoolMapping]) -> pd.DataFrame:
    """The :func:`~pgtools.placement.map_pgs` frame of some pool mappings (rows in the given order).

    Parameters
    ----------
    parts : sequence of PoolMapping

    Returns
    -------
    DataFrame
        ``pgid, pool_id, ps, pps, raw, up, up_primary, acting, acting_primary``.
    """
    if not parts:
        return pg_mappings_frame([])

    def cat(arrays: list[np.ndarray]) -> np.ndarray:
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)

    sizes = [len(p) for p in parts]
    index = pd.RangeIndex(sum(sizes))
    # typed Series, shared with the pool mappings' caches under copy-on-write (no per-string dtype
    # inference, no copy); without copy-on-write (pandas 2) the frame copies them, as it always did
    share = copy_on_write()

    def col(name: str) -> pd.Series:
        if len(parts) == 1:
            return parts[0].column(name)
        return pd.concat([p.column(name) for p in parts], ignore_index=True)

    return pd.DataFrame({
        "pgid": col("pgid"),
        "pool_id": pd.Series(np.repeat(np.array([p.pool_id for p in parts], dtype=np.int64), sizes), index=index),
        "ps": pd.Series(cat([np.arange(n, dtype=np.int64) for n in sizes]), index=index),
        **{name: col(name) for name in ("pps", "raw", "up", "up_primary", "acting", "acting_primary")},
    }, columns=MAPPING_COLUMNS, copy=not share)


def copy_on_write() -> bool:
    """Whether pandas copies shared data before writing to it (pandas 3, or ``mode.copy_on_write`` set)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    try:
        return pd.get_option("mode.copy_on_write") is True
    except (KeyError, pd.errors.OptionError):  # pragma: no cover - pandas without the option
        return False


def pg_mappings_frame(rows: list[PGMapping]) -> pd.DataFrame:
    """The :func:`~pgtools.placement.map_pgs` frame of per-PG mappings (the reference engine)."""
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
    }, columns=MAPPING_COLUMNS)
    return df

