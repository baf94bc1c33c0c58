"""Copyset overlap: how many PGs each pair of failure units holds together (:func:`pair_overlap`).

Two units that share many PGs are the pairs whose simultaneous failure hits the most PGs: for a size-2 pool
every shared PG is lost, for size 3 it is left with one copy (inactive under min_size 2) and one more
failure among its third units loses it.  The diagonal is the PGs each unit holds.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..model import Snapshot
from .copysets import assessed_pools, failure_universe, level_units, pg_sets

__all__ = ["pair_overlap"]


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def pair_overlap(snap: Snapshot, level: str = "osd", *, pools: list | None = None, source: str = "auto") -> pd.DataFrame:
    """PGs held by both units of every pair of units of ``level`` (and by each unit: the diagonal).

    Parameters
    ----------
    snap : Snapshot
    level : str
        ``"osd"`` or a CRUSH bucket type.
    pools : list, optional
        Pools to count (ids or names; all when None).
    source : str
        Where the acting sets come from (:func:`~pgtools.risk.copysets.pg_sets`).

    Returns
    -------
    pandas.DataFrame
        Tidy, one row per ordered pair with at least one shared PG and per unit (``unit_a == unit_b``):
        ``unit_a, unit_b`` (names), ``a, b`` (indices in ``attrs["units"]``, the units holding data of any
        pool, as the failure units of :func:`~pgtools.risk.failure_risk`, in name order, numbers compared as
        numbers), ``pgs`` (PGs of the counted pools; a unit holding none of them has no row).  A PG with two
        copies on one unit counts once for it.
    """
    info, _ = assessed_pools(snap, pools)
    sets = pg_sets(snap, info, source)
    mat = sets[0]
    osds, _ = failure_universe(snap, pools, sets, source)
    unit_of_osd, names = level_units(snap, level, osds)
    unit_ids = np.unique(unit_of_osd)
    # units in name order, numbers compared as numbers (osd.2 before osd.10, n2 before n10)
    unit_ids = np.array(sorted(unit_ids.tolist(), key=lambda u: _natural(names[int(u)])), dtype=np.int64)
    lut = np.full(int(osds.max()) + 1 if len(osds) else 1, -1, dtype=np.int64)
    pos = {int(u): i for i, u in enumerate(unit_ids)}
    lut[osds] = [pos[int(u)] for u in unit_of_osd]
    units = np.where(mat >= 0, lut[np.maximum(mat, 0)], -1)
    n = len(unit_ids)
    # one entry per distinct unit of a PG: sort each row, blank repeats
    units.sort(axis=1)
    dup = np.zeros_like(units, dtype=bool)
    dup[:, 1:] = units[:, 1:] == units[:, :-1]
    units[dup] = -1
    width = units.shape[1]
    codes = []
    for i in range(width):
        for j in range(width):
            ok = (units[:, i] >= 0) & (units[:, j] >= 0) & ((i == j) | (units[:, i] != units[:, j]))
            codes.append(units[ok, i] * n + units[ok, j])
    code, cnt = np.unique(np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64), return_counts=True)
    a, b = code // n, code % n
    label = np.array([names[int(u)] for u in unit_ids], dtype=object)
    out = pd.DataFrame({"unit_a": label[a], "unit_b": label[b], "a": a, "b": b, "pgs": cnt.astype(np.int64)})
    out.attrs.update({"units": list(label), "level": level})
    return out
