"""Health findings of a what-if step that do not come from the PG-count checks.

Two things a step can leave behind, which Ceph reports until they are fixed:

* PGs that CRUSH maps to fewer OSDs than the pool needs (a pool size above what the rule can place, a
  rule whose root or class has no OSD, the last OSDs of a failure domain gone): with fewer than
  ``min_size`` OSDs a PG stays *inactive* (``PG_AVAILABILITY``; none at all: nothing can even store
  it), with fewer than ``size`` it stays *undersized* (``PG_DEGRADED``) -- recovery cannot fix either.
* PGs lost at this step or an earlier one: they stay lost (``PG_LOST``) and down/inactive
  (``PG_AVAILABILITY``) at every later step.

Counts follow Ceph's: a lost PG is also inactive, an inactive PG is also undersized/degraded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..units import human_bytes

__all__ = ["lost_findings", "shortfall_findings"]


def _pools_text(counts: Mapping[str, int], limit: int = 4) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    more = f", +{len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(f"{name} {n}" for name, n in items[:limit]) + more


def shortfall_findings(n_osds: np.ndarray, size: np.ndarray, min_size: np.ndarray, pool_index: np.ndarray,
                       pool_names: Sequence[Any], skip: np.ndarray | None = None,
                       ) -> tuple[dict[str, int], list[tuple[str, str, str]]]:
    """PGs that CRUSH maps to fewer OSDs than ``min_size`` (inactive) or ``size`` (undersized).

    Parameters
    ----------
    n_osds : ndarray
        Per PG: how many OSDs the step's placement gives it (holes and padding not counted).
    size, min_size : ndarray
        Per PG.
    pool_index : ndarray of int
        Per PG: the position of its pool in ``pool_names`` (for the summary).
    pool_names : sequence
        Pool names.
    skip : ndarray of bool, optional
        PGs left out (lost ones: reported as lost).

    Returns
    -------
    (dict, list)
        ``{"pgs_unmapped", "pgs_short_inactive", "pgs_undersized"}`` (inactive ones counted in
        undersized too, as Ceph does) and the ``(code, severity, summary)`` findings.
    """
    keep = np.ones(len(size), dtype=bool) if skip is None else ~np.asarray(skip, dtype=bool)
    inactive = keep & (n_osds < min_size)
    under = keep & (n_osds < size)
    empty = keep & (n_osds == 0)
    stats = {"pgs_unmapped": int(empty.sum()), "pgs_short_inactive": int(inactive.sum()),
             "pgs_undersized": int(under.sum())}
    out: list[tuple[str, str, str]] = []

    def per_pool(mask: np.ndarray) -> str:
        counts: dict[str, int] = {}
        for i, c in enumerate(np.bincount(pool_index[mask], minlength=len(pool_names)).tolist()):
            if c:
                name = str(pool_names[i])
                counts[name] = counts.get(name, 0) + c
        return _pools_text(counts)

    if inactive.any():
        none = f", {stats['pgs_unmapped']} to no OSD at all" if stats["pgs_unmapped"] else ""
        out.append(("PG_AVAILABILITY", "HEALTH_WARN",
                    f"Reduced data availability: {stats['pgs_short_inactive']} pgs inactive: CRUSH maps them to "
                    f"fewer OSDs than min_size{none}; recovery cannot fix that (pools: {per_pool(inactive)})"))
    if under.any():
        out.append(("PG_DEGRADED", "HEALTH_WARN",
                    f"Degraded data redundancy: {stats['pgs_undersized']} pgs undersized: CRUSH maps them to "
                    f"fewer OSDs than size; recovery cannot fix that (pools: {per_pool(under)})"))
    return stats, out


def lost_findings(n_lost: int, bytes_lost: int, objects_lost: int, steps: Sequence[int]) -> list[tuple[str, str, str]]:
    """The findings of PGs lost at earlier steps (``steps``), repeated at a later step: they stay lost."""
    if not n_lost:
        return []
    at = ", ".join(str(s) for s in sorted(set(steps)))
    return [("PG_LOST", "HEALTH_ERR",
             f"{n_lost} PGs LOST (at step {at}; no surviving copy / fewer than k shards): nothing can recover "
             f"them; {human_bytes(bytes_lost, largest='TiB')} in {objects_lost} objects lost"),
            ("PG_AVAILABILITY", "HEALTH_WARN",
             f"Reduced data availability: {n_lost} pgs inactive, {n_lost} pgs down (lost at step {at})")]
