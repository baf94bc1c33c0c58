"""Durability over time: annual probability of data loss and MTTDL from failure rates and recovery windows.

Model (stated, not hidden)
--------------------------
* Units (OSDs, hosts, ... at the chosen level) fail independently, each at the constant rate
  ``λ = -ln(1 - afr)`` per year (``afr``: the annualized failure rate).  The default, 1.5 % per year, is a
  round value in the range Backblaze's Drive Stats reports publish for their hard-drive fleet (about 1 to 2 %
  per year in 2021-2023: https://www.backblaze.com/cloud-storage/resources/hard-drive-test-data); pass your own
  fleet's figure, and for a host or rack level the rate of that unit failing as a whole.
* A failed unit stays a hole for its *recovery window*: ``T = mon_osd_down_out_interval + bytes it held /
  recovery bandwidth``.  Ceph starts recovery only when the down OSDs are marked out (default 600 s, the
  capture's setting when it has one); the bytes come from the PG table (a replica holds its PG's bytes, an EC
  shard 1/k of them) and the bandwidth is the rate at which the cluster rebuilds one failed unit's data
  (``recovery_mbps`` in MB/s).  Or a fixed ``window_hours``.
* Data is lost when every unit of a *minimal lethal set* (the fewest units whose failure loses some PG, taken
  from the map's real copysets: :class:`~pgtools.risk.copysets.Copysets`) is down at once.  For one such set
  ``S`` the rate is ``sum over i in S of λ * prod over j in S, j != i of (λ T_j)`` (``i`` fails last, while the
  others are still in their windows; first order in ``λ T``, which is tiny).  The loss rate is the sum over
  the minimal lethal sets (a union bound: the sets' events hardly overlap at these rates), the annual
  probability ``1 - exp(-rate)``, the MTTDL ``1 / rate``.

This is the copyset argument of Cidon et al., "Copysets: Reducing the Frequency of Data Loss in Cloud Storage"
(USENIX ATC 2013), evaluated on the copysets CRUSH actually produced rather than on an idealised placement.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..mgr import options
from ..model import Snapshot
from .copysets import Copysets, build_copysets, pool_needs
from .counting import Lethal, decode

__all__ = ["ANNUAL_COLUMNS", "DEFAULT_AFR", "DEFAULT_RECOVERY_MBPS", "annual_risk", "lethal_threshold"]

#: Default annualized failure rate of one unit (see the module docstring).
DEFAULT_AFR = 0.015
#: Default recovery bandwidth for one failed unit's data, MB/s (10**6 bytes per second).
DEFAULT_RECOVERY_MBPS = 100.0
YEAR_S = 365.25 * 24 * 3600
ANNUAL_COLUMNS = ["level", "pool_id", "pool", "afr", "window_hours_mean", "lethal_sets", "lethal_size",
                  "loss_rate_per_year", "p_loss_year", "mttdl_years"]


def lethal_threshold(cs_or_pools: Copysets | pd.DataFrame) -> int:
    """The most units a minimal lethal set can have: ``size - need + 1`` over the pools (tabulate up to it)."""
    pools = cs_or_pools.pools if isinstance(cs_or_pools, Copysets) else cs_or_pools
    return int((pools["size"] - pools["need"] + 1).max())


def annual_risk(snap: Snapshot | Copysets, *, level: str = "osd", afr: float = DEFAULT_AFR,
                recovery_mbps: float = DEFAULT_RECOVERY_MBPS, window_hours: float | None = None,
                down_out_interval: float | None = None, source: str = "auto") -> pd.DataFrame:
    """Annual probability of data loss and MTTDL, per pool and overall (see the module docstring's model).

    Parameters
    ----------
    snap : Snapshot or Copysets
        The capture, or copysets built with ``jmax >= lethal_threshold`` (:func:`lethal_threshold`).
    level : str
        Failing unit (``osd``, ``host``, ...).
    afr : float
        Annualized failure rate of one unit, 0 < afr < 1.
    recovery_mbps : float
        MB/s at which one failed unit's data is rebuilt (the window is its bytes over this).
    window_hours : float, optional
        A fixed recovery window instead (required when the capture has no PG byte counts).
    down_out_interval : float, optional
        Seconds before recovery starts (``mon_osd_down_out_interval``); default: the capture's setting, else
        Ceph's default 600 (also when ``snap`` is a Copysets).  Not added to a fixed ``window_hours``.

    Returns
    -------
    pandas.DataFrame
        :data:`ANNUAL_COLUMNS`: ``lethal_sets`` (minimal lethal sets of ``lethal_size`` units, the smallest
        size present), ``loss_rate_per_year``, ``p_loss_year``, ``mttdl_years`` (inf when nothing can be lost).
    """
    if not 0 < afr < 1:
        raise PgtoolsError(f"afr {afr}: an annualized failure rate is between 0 and 1 (e.g. 0.015)")
    cs = snap
    if down_out_interval is None:
        down_out_interval = 600.0 if isinstance(snap, Copysets) else float(
            options.resolve(snap, "mon_osd_down_out_interval").value)
    if down_out_interval < 0:
        raise PgtoolsError(f"down_out_interval {down_out_interval}: must be 0 or more seconds")
    if not isinstance(snap, Copysets):
        pools, _ = pool_needs(snap)  # the thresholds decide how far to tabulate
        cs = build_copysets(snap, level, source=source, jmax=lethal_threshold(pools))
    top = lethal_threshold(cs)
    if cs.jmax < min(top, cs.span):
        raise PgtoolsError(f"the copysets were tabulated up to {cs.jmax} units; lethal sets may have {top}")
    lam = -math.log1p(-afr) / YEAR_S  # per second
    if window_hours is not None:
        if window_hours <= 0:
            raise PgtoolsError(f"window_hours {window_hours}: must be positive")
        T = np.full(cs.n, window_hours * 3600.0)
    else:
        if recovery_mbps <= 0:
            raise PgtoolsError(f"recovery_mbps {recovery_mbps}: must be positive")
        if not cs.unit_bytes.sum() > 0:
            raise PgtoolsError("the capture has no PG byte counts to size the recovery windows; give window_hours")
        T = down_out_interval + cs.unit_bytes / (recovery_mbps * 1e6)
    leth = Lethal(cs)
    npools = len(cs.pools)
    rate = np.zeros(npools + 1)
    nsets = np.zeros(npools + 1, dtype=np.int64)
    size = np.zeros(npools + 1, dtype=np.int64)
    for j in range(1, cs.jmax + 1):
        if not len(cs.keys[j]):
            continue
        mini = leth.minimal(j)[:, :, 0]  # (keys, columns): minimal lethal for "lost"
        if not mini.any():
            continue
        sets = decode(cs.keys[j], j, cs.n)
        tw = T[sets] * lam  # P(each unit is down) when the last one fails
        per = np.zeros(len(sets))
        for i in range(j):
            per += lam * np.prod(np.delete(tw, i, axis=1), axis=1)
        per *= YEAR_S
        for col in range(npools + 1):
            sel = mini[:, col]
            if sel.any():
                rate[col] += per[sel].sum()
                if size[col] == 0:
                    size[col] = j
                    nsets[col] = int(sel.sum())
    rows = []
    for col in range(npools + 1):
        if col < npools:
            pr = cs.pools.iloc[col]
            pid, name = int(pr["pool_id"]), pr["pool"]
        else:
            pid, name = -1, "(all)"
        rows.append({"level": cs.level, "pool_id": pid, "pool": name, "afr": afr,
                     "window_hours_mean": float(T.mean() / 3600), "lethal_sets": int(nsets[col]),
                     "lethal_size": int(size[col]), "loss_rate_per_year": rate[col],
                     "p_loss_year": -math.expm1(-rate[col]),
                     "mttdl_years": math.inf if rate[col] == 0 else 1 / rate[col]})
    return pd.DataFrame(rows, columns=ANNUAL_COLUMNS)
