"""Correlated failures: the minimal lethal sets of *mixed* units (OSDs, hosts, racks ... failing as units).

Several CRUSH levels fail at once, each unit of its own kind: a disk (an OSD) fails alone, a host (or rack,
any bucket type) fails as a whole and takes every OSD under it down.  An OSD is down when it failed itself
(``osd`` is one of the failing levels) or when any of its ancestors of a failing level failed.  A PG is lost
when fewer than ``need`` of its copies (1 for a replicated pool, k for an erasure-coded one) sit on OSDs left
up, the same rule as :mod:`pgtools.risk.copysets`.

A *lethal* set of units loses some PG; a *minimal* one has no lethal proper subset.  They are found exactly on
the map's real acting sets:

1. For each PG, the units that touch it are its OSDs and their ancestors at the failing levels; each covers
   some of the PG's copy positions (a host holding two copies of a PG, as with failure domain ``osd``, covers
   both: it is one unit, counted once).  PGs are grouped by *pattern* (the positions each level's units
   cover, as a partition, and the number of copies to lose, ``present - need + 1``).
2. For one pattern, the minimal covers of that many positions by the pattern's abstract units are
   enumerated once (a minimal cover has at most as many units as positions to cover: every unit of it has a
   position of its own, and removing one must leave fewer than the threshold covered), then turned into
   real unit sets for all the pattern's PGs at once (NumPy gathers, one sort per row).
3. The sets are deduplicated per pool (one int64 code per sorted set, :func:`~pgtools.risk.copysets.encode`),
   size by size.  A set is minimal for a pool when none of its proper subsets is minimal for it (every
   lethal set holds a minimal one), checked by look-ups in the smaller sizes' tables
   (:func:`~pgtools.risk.counting.lookup`); a set holding a unit that loses a PG of the same pool on its
   own is dropped before that (the common case: a rack holding whole PGs).

PGs already below ``need`` on their acting sets are left out, as in :class:`~pgtools.risk.copysets.Copysets`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import Snapshot
from .copysets import (
    assessed_pools,
    check_universe,
    encode,
    failure_universe,
    level_units,
    pg_sets,
    sort_rows,
    sorted_unique,
)
from .counting import decode, lookup

__all__ = ["MixedSets", "minimal_cover_patterns", "mixed_lethal_sets", "order_levels"]

#: Most abstract units one pattern may have (positions × levels); beyond it the enumeration is refused.
MAX_PATTERN_UNITS = 48


@dataclass
class MixedSets:
    """The minimal lethal sets over mixed units (see the module docstring).

    Attributes
    ----------
    levels : list of str
        The failing levels, lowest first (``"osd"`` first when it fails).
    units : numpy.ndarray of str
        Names of the units (every level's units holding data of any pool, whichever pools are counted:
        :func:`~pgtools.risk.copysets.failure_universe`), index ``i`` is unit ``i``.
    unit_ids : numpy.ndarray of int64
        Their CRUSH ids (OSD id, or bucket id).
    unit_level : numpy.ndarray of int64
        Index into ``levels`` of each unit.
    unit_bytes : numpy.ndarray
        Bytes under each unit, all pools (a replica: its PG's bytes; an EC shard: 1/k of them), from the PG
        table.
    pools : pandas.DataFrame
        :func:`~pgtools.risk.copysets.pool_needs` of the assessed pools plus ``pgs``, ``bytes``.
    keys : list of numpy.ndarray
        ``keys[j]``: sorted codes (:func:`~pgtools.risk.copysets.encode`) of the distinct ``j``-unit sets that
        are minimal lethal for some column.
    minimal : list of numpy.ndarray
        ``minimal[j]``: ``(len(keys[j]), n_pools + 1)`` bool, minimal lethal for pool ``p`` (last: any pool).
    """

    levels: list[str]
    units: np.ndarray
    unit_ids: np.ndarray
    unit_level: np.ndarray
    unit_bytes: np.ndarray
    pools: pd.DataFrame
    keys: list[np.ndarray] = field(default_factory=list)
    minimal: list[np.ndarray] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of units (all levels)."""
        return len(self.units)


def order_levels(snap: Snapshot, levels) -> list[str]:
    """The distinct failing levels, ``osd`` first then by CRUSH type id (``device`` is ``osd``).

    Raises
    ------
    PgtoolsError
        No level given.
    """
    names = list(dict.fromkeys("osd" if lv == "device" else str(lv) for lv in levels))
    if not names:
        raise PgtoolsError("give at least one failing level (osd, host, rack ...)")
    crush = snap.crush
    rank = {name: tid for tid, name in crush.types.items()} if crush is not None else {}
    rank["osd"] = -1
    return sorted(names, key=lambda lv: (rank.get(lv, len(rank) + names.index(lv)), names.index(lv)))


def minimal_cover_patterns(covers: list[int], thr: int) -> list[tuple[int, ...]]:
    """Every minimal set of abstract units covering at least ``thr`` positions, as sorted index tuples.

    ``covers[a]`` is the bitmask of positions unit ``a`` covers.  A minimal cover has at most ``thr`` units
    (each unit owns a position no other unit of the set covers, and dropping any unit must leave fewer than
    ``thr`` positions), so the search stops there.
    """
    out: list[tuple[int, ...]] = []
    n = len(covers)

    def grow(start: int, chosen: list[int], mask: int) -> None:
        for a in range(start, n):
            new = mask | covers[a]
            if new == mask:
                continue  # a adds nothing: never part of a minimal cover
            sel = [*chosen, a]
            if new.bit_count() >= thr:
                if all(_union(covers, sel, drop).bit_count() < thr for drop in range(len(sel))):
                    out.append(tuple(sel))
            elif len(sel) < thr:
                grow(a + 1, sel, new)

    grow(0, [], 0)
    return out


def _union(covers: list[int], sel: list[int], drop: int) -> int:
    m = 0
    for i, a in enumerate(sel):
        if i != drop:
            m |= covers[a]
    return m


def _labels(u: np.ndarray) -> np.ndarray:
    """``(P, w)`` unit indices (-1 = hole) → the first position holding the same unit (-1 for a hole)."""
    lab = np.full(u.shape, -1, dtype=np.int64)
    for c in range(u.shape[1]):
        lab[:, c] = np.where(u[:, c] >= 0, c, -1)
        for c0 in range(c - 1, -1, -1):  # the smallest earlier position with the same unit wins
            lab[:, c] = np.where((u[:, c] >= 0) & (u[:, c0] == u[:, c]), c0, lab[:, c])
    return lab


def mixed_lethal_sets(snap: Snapshot, levels, *, pools: list | None = None, source: str = "auto",
                      sets: tuple | None = None, universe: tuple | None = None) -> MixedSets:
    """The minimal lethal sets of units when every level of ``levels`` fails, unit by unit.

    Parameters
    ----------
    snap : Snapshot
    levels : iterable of str
        Failing levels: ``"osd"`` and/or CRUSH bucket types (``"host"``, ``"rack"``, ...).
    pools : list of int or str, optional
        Pools to count (all when None); the units are those holding data of any pool either way.
    source : str
        Where the acting sets come from (:func:`~pgtools.risk.copysets.pg_sets`).
    sets : tuple, optional
        The result of :func:`~pgtools.risk.copysets.pg_sets` for these pools, when the caller has it.
    universe : tuple, optional
        The result of :func:`~pgtools.risk.copysets.failure_universe`, when the caller has it.

    Raises
    ------
    PgtoolsError
        An unknown level, an OSD holding data with no unit of a level above it, a PG too wide to enumerate.
    """
    levels = order_levels(snap, levels)
    info, notes = assessed_pools(snap, pools)
    if sets is None:
        sets = pg_sets(snap, info, source)
    mat, prow, nbytes, _src = sets
    osds, osd_bytes = failure_universe(snap, pools, sets, source) if universe is None else universe
    check_universe(osds, mat)
    if not (mat >= 0).any():
        raise PgtoolsError("no PG of the assessed pools sits on any OSD")
    n_pools = len(info)
    # every level's units: one global index per (level, unit)
    per_osd, names, ids, lvl = [], [], [], []
    for li, level in enumerate(levels):
        unit_of_osd, nm = level_units(snap, level, osds)
        uids = np.unique(unit_of_osd)
        per_osd.append(len(ids) + np.searchsorted(uids, unit_of_osd))
        names.extend(nm[int(u)] for u in uids)
        ids.extend(uids.tolist())
        lvl.extend([li] * len(uids))
    n_units = len(ids)
    g = np.stack(per_osd, axis=1) if per_osd else np.zeros((0, 0), dtype=np.int64)  # (osd index, level)
    valid = mat >= 0
    oi = np.searchsorted(osds, np.maximum(mat, 0))
    unit = np.where(valid[:, :, None], g[np.minimum(oi, max(len(osds) - 1, 0))], -1)  # (P, w, L)
    need = info["need"].to_numpy()[prow]
    thr = valid.sum(1) - need + 1
    # bytes under each unit, all pools: a replica holds its PG's bytes, an EC shard 1/k of them
    w, nl = mat.shape[1], len(levels)
    unit_bytes = np.zeros(n_units)
    for li in range(nl):
        unit_bytes += np.bincount(g[:, li], weights=osd_bytes, minlength=n_units)
    # PG patterns: the positions each level's units cover, and the copies to lose
    kept = np.flatnonzero(thr > 0)
    lab = np.concatenate([_labels(unit[kept, :, li]) for li in range(nl)], axis=1)
    pat = np.concatenate([lab + 1, thr[kept, None]], axis=1)  # digits 0 .. w
    if (w + 1) ** pat.shape[1] < 2**63:
        pcode = np.zeros(len(pat), dtype=np.int64)
        for c in range(pat.shape[1]):
            pcode = pcode * (w + 1) + pat[:, c]
        porder = np.argsort(pcode, kind="stable")
        sp = pcode[porder]
        starts = np.flatnonzero(np.r_[True, sp[1:] != sp[:-1]]) if len(sp) else np.zeros(0, dtype=np.int64)
        upat = pat[porder[starts]]
        bounds = np.r_[starts, len(sp)]
    else:  # very wide PGs: rows compared as a whole (slower, rare)
        upat, pinv = np.unique(pat, axis=0, return_inverse=True)
        porder = np.argsort(pinv.reshape(-1), kind="stable")
        bounds = np.r_[0, np.cumsum(np.bincount(pinv.reshape(-1), minlength=len(upat)))]
    upat = upat - np.r_[np.ones(w * nl, dtype=np.int64), 0]  # labels back to -1 .. w-1
    # units that lose a PG of a pool on their own: a larger set holding one is not minimal for that pool
    alone = np.zeros((n_units, max(n_pools, 1)), dtype=bool)
    for li in range(nl):
        u = unit[:, :, li]
        for c in range(w):
            hit = valid[:, c] & (thr > 0) & (((u == u[:, c:c + 1]) & valid).sum(1) >= thr)
            alone[u[hit, c], prow[hit]] = True
    any_alone = bool(alone.any())
    parts: dict[int, list[np.ndarray]] = {}
    for pi, row in enumerate(upat):
        sel = kept[porder[bounds[pi]:bounds[pi + 1]]]
        t = int(row[-1])
        abstract = [(li, c) for li in range(nl) for c in range(w) if row[li * w + c] == c]
        if len(abstract) > MAX_PATTERN_UNITS:
            raise PgtoolsError(f"PGs whose copies touch {len(abstract)} units of {'+'.join(levels)}: at most "
                               f"{MAX_PATTERN_UNITS} are enumerated")
        covers = [sum(1 << c for c in range(w) if row[li * w + c] == c0) for li, c0 in abstract]
        # per abstract unit: is the real unit lethal on its own for the PG's pool (then no larger set with it)
        bad = [(alone[unit[sel, c0, li], 0] if n_pools == 1 else alone[unit[sel, c0, li], prow[sel]])
               if any_alone else None for li, c0 in abstract]
        for combo in minimal_cover_patterns(covers, t):
            j, rows = len(combo), sel
            if j > 1 and any_alone:
                drop = np.logical_or.reduce([bad[a] for a in combo])
                if drop.all():
                    continue
                rows = sel[~drop]
            real = np.stack([unit[rows, abstract[a][1], abstract[a][0]] for a in combo], axis=1)
            real = sort_rows(real)
            if n_units ** j * max(n_pools, 1) >= 2**63:
                raise PgtoolsError(f"{j}-unit sets over {n_units} units and {n_pools} pools do not fit 63-bit codes")
            parts.setdefault(j, []).append(encode(real, n_units) * n_pools + prow[rows])
    # per size, the distinct (set, pool) pairs; minimal for a column when no proper subset is (every lethal set
    # holds a minimal one, of a smaller size: found in the tables already built)
    keys: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    minimal: list[np.ndarray] = [np.zeros((0, n_pools + 1), dtype=bool)]
    for j in range(1, max(parts, default=0) + 1):
        kp = sorted_unique(np.concatenate(parts[j])) if j in parts else np.zeros(0, dtype=np.int64)
        setc, pool_of = kp // n_pools, kp % n_pools
        first = np.r_[True, setc[1:] != setc[:-1]] if len(setc) else np.zeros(0, dtype=bool)
        us = setc[first]
        mini = np.zeros((len(us), n_pools + 1), dtype=bool)
        mini[np.cumsum(first) - 1, pool_of] = True
        mini[:, n_pools] = mini[:, :n_pools].any(axis=1)
        if j > 1 and len(us):
            full = decode(us, j, n_units)
            for i in range(1, j):
                if not len(keys[i]):
                    continue
                for comb in itertools.combinations(range(j), i):
                    hit, idx = lookup(keys[i], encode(full[:, comb], n_units))
                    mini[hit] &= ~minimal[i][idx]
        keep = mini.any(axis=1)
        keys.append(us[keep])
        minimal.append(mini[keep])
    info = info.copy()
    info["pgs"] = np.bincount(prow, minlength=n_pools)
    info["bytes"] = np.bincount(prow, weights=nbytes, minlength=n_pools)
    return MixedSets(levels=levels, units=np.array(names, dtype=object), unit_ids=np.array(ids, dtype=np.int64),
                     unit_level=np.array(lvl, dtype=np.int64), unit_bytes=unit_bytes, pools=info, keys=keys,
                     minimal=minimal, warnings=notes)
