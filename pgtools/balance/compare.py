"""Plans side by side: what pgtools' balancer and the mgr's would each do to the same capture.

:func:`compare_plans` simulates each plan (:func:`~pgtools.balance.simulate_plan`: rounds under
``target_max_misplaced_ratio``) and measures its result the same way (:func:`~pgtools.balance.count_deviation`
on the capture with the plan applied), one row per plan.

Imports: :mod:`pgtools.balance.count`, :mod:`pgtools.balance.whatif`, :mod:`pgtools.balance.plan`.
"""

from __future__ import annotations

import pandas as pd

from ..model import Snapshot
from .count import count_deviation
from .plan import UpmapPlan
from .whatif import simulate_plan

__all__ = ["COMPARE_COLUMNS", "compare_plans"]

#: the columns of :func:`compare_plans`
COMPARE_COLUMNS = ["plan", "commands", "items_after", "pool_dev_before", "pool_dev_after", "osd_dev_before",
                   "osd_dev_after", "pgs_moved", "shards_moved", "bytes_moved", "rounds", "peak_pgs_per_osd",
                   "max_util_after"]


def compare_plans(snap: Snapshot, plans: dict[str, UpmapPlan], *, max_misplaced: float | None = None,
                  ceph_release: str | None = None) -> pd.DataFrame:
    """One row per plan: what it costs and what it reaches.

    Parameters
    ----------
    snap : Snapshot
    plans : dict
        ``{label: plan}`` (e.g. ``{"pgtools count": ..., "mgr": ...}``), rows in this order.
    max_misplaced : float, optional
        The misplaced budget of a round (default: the capture's ``target_max_misplaced_ratio``).
    ceph_release : str, optional

    Returns
    -------
    DataFrame
        :data:`COMPARE_COLUMNS`: ``commands`` (lines of the plan), ``items_after`` (``pg_upmap_items``
        entries once applied), ``pool_dev_*`` (largest |PGs − target| of an OSD in one pool, Ceph's
        per-pool targets), ``osd_dev_*`` (largest |PGs − target| of an OSD summed over the pools),
        ``pgs_moved``, ``shards_moved``, ``bytes_moved``, ``rounds``, ``peak_pgs_per_osd`` (during the
        plan), ``max_util_after`` (%used of the fullest OSD after it, projected; None without sizes).
    """
    before = count_deviation(snap, ceph_release=ceph_release)
    rows = []
    for label, p in plans.items():
        after = count_deviation(p.apply(snap), ceph_release=ceph_release)
        row = {"plan": label, "commands": len(p.commands), "items_after": after["items"],
               "pool_dev_before": round(before["max_dev"], 2), "pool_dev_after": round(after["max_dev"], 2)}
        if p.commands:
            s = simulate_plan(snap, p, max_misplaced=max_misplaced, ceph_release=ceph_release).summary
            row.update(osd_dev_before=round(s["max_deviation_before"], 2),
                       osd_dev_after=round(s["max_deviation_after"], 2), pgs_moved=s["pgs_moved"],
                       shards_moved=s["shards_moved"], bytes_moved=s["bytes_moved"], rounds=s["rounds"],
                       peak_pgs_per_osd=s["peak_pgs_per_osd"], max_util_after=s["max_util_after"])
        else:
            row.update(osd_dev_before=None, osd_dev_after=None, pgs_moved=0, shards_moved=0, bytes_moved=0,
                       rounds=0, peak_pgs_per_osd=None, max_util_after=None)
        rows.append(row)
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)
