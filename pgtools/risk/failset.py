"""What one given failure does: :func:`failure_set`, the figures of exactly one set of failed units.

:func:`~pgtools.risk.conditional.failure_risk` draws K-sets at random; an operator planning a maintenance or
looking at an outage asks about one set ("hosts ha and hb down together").  The answer is the same table
look-up :func:`~pgtools.risk.counting.set_counts` does for every drawn set, for this set alone.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import Snapshot
from .copysets import Copysets, build_copysets
from .counting import set_counts

__all__ = ["FAILURE_SET_COLUMNS", "failure_set"]

#: Columns of :func:`failure_set`.
FAILURE_SET_COLUMNS = ["level", "units", "pool_id", "pool", "pgs", "bytes", "pgs_lost", "bytes_lost",
                       "pgs_inactive"]


def _known_elsewhere(snap: Snapshot, level: str, name: str) -> bool:
    """True when ``name`` is a unit of ``level`` in the capture that holds no data (of any pool)."""
    crush = snap.crush
    if level in ("osd", "device"):
        ids = set(snap.osds["osd_id"].astype(int)) if snap.osds is not None and len(snap.osds) else set()
        digits = name[4:] if name.startswith("osd.") else name
        return digits.isdigit() and int(digits) in ids
    if crush is None:
        if level == "host" and snap.osds is not None and "host" in snap.osds.columns:
            return name in set(snap.osds["host"].astype(str))
        return False
    for bid, bucket in crush.buckets.items():
        if crush.item_name(bid) == name:
            return crush.types.get(bucket.type_id) == level
    return False


def failure_set(snap: Snapshot | Copysets, units: Iterable[str | int], level: str = "host", *,
                pools: list | None = None, source: str = "auto") -> pd.DataFrame:
    """PGs lost and inactive when exactly ``units`` fail together: one row per pool and ``"(all)"``.

    Parameters
    ----------
    snap : Snapshot or Copysets
        The capture (acting sets as in :func:`~pgtools.risk.copysets.pg_sets`), or copysets already built by
        :func:`~pgtools.risk.copysets.build_copysets` (``level``, ``pools``, ``source`` then ignored; they
        must be tabulated up to ``len(units)`` failures or to their span).
    units : iterable of str or int
        The failed units of ``level``: CRUSH names (``"node1"``, ``"osd.3"``) or CRUSH ids (an OSD id, a
        negative bucket id).  A unit of the capture that holds none of the counted pools' data (or no data at
        all) counts for nothing; a name the capture does not have at that level is an error.
    level : str
        ``"osd"`` or a CRUSH bucket type.

    Returns
    -------
    pandas.DataFrame
        :data:`FAILURE_SET_COLUMNS`: ``units`` the failed units joined by ``+``; ``pgs``/``bytes`` the pool's
        totals; ``pgs_lost`` PGs left with no copy (fewer than k shards), ``bytes_lost`` their bytes,
        ``pgs_inactive`` PGs left below ``min_size`` (lost PGs included), the figures
        :func:`~pgtools.risk.conditional.failure_risk` counts for each K-set.  A PG already short of ``need``
        (``min_size``) copies before the failure is left out of the lost (inactive) figures, as there
        (``attrs["warnings"]`` says which pools have some).

    Raises
    ------
    PgtoolsError
        For a unit the capture does not have at ``level``, no units, or copysets tabulated for fewer failures.
    """
    wanted = list(dict.fromkeys(units))
    if not wanted:
        raise PgtoolsError("failure_set needs at least one failed unit")
    cs = snap if isinstance(snap, Copysets) else build_copysets(snap, level, pools=pools, source=source,
                                                                  jmax=len(wanted))
    by_name = {str(u): i for i, u in enumerate(cs.units)}
    by_id = {int(u): i for i, u in enumerate(cs.unit_ids)}
    idx, names = [], []
    for u in wanted:
        if isinstance(u, (int, np.integer)) and int(u) in by_id:
            i = by_id[int(u)]
        elif isinstance(u, (int, np.integer)) and int(u) >= 0 and cs.level in ("osd", "device"):
            i = by_name.get(f"osd.{int(u)}")
        else:
            i = by_name.get(str(u))
        if i is None:
            name = f"osd.{int(u)}" if isinstance(u, (int, np.integer)) and int(u) >= 0 else str(u)
            if isinstance(snap, Snapshot) and not isinstance(u, (int, np.integer)) \
                    and _known_elsewhere(snap, cs.level, name):
                names.append(name)  # holds no data: its failure costs nothing
                continue
            shown = ", ".join(map(str, cs.units[:8])) + (f" (+{cs.n - 8} more)" if cs.n > 8 else "")
            raise PgtoolsError(f"{u!r} is not a {cs.level} holding data (they are: {shown})")
        idx.append(i)
        names.append(str(cs.units[i]))
    idx = sorted(set(idx))
    if len(idx) > cs.jmax and cs.jmax < cs.span:
        raise PgtoolsError(f"the copysets were tabulated up to {cs.jmax} failures; rebuild them for {len(idx)}")
    npools = len(cs.pools)
    counts = set_counts(cs, np.array([idx], dtype=np.int64))[0] if idx else np.zeros((npools, 3))
    rows = []
    label = "+".join(names)
    for col in range(npools + 1):
        if col < npools:
            pr = cs.pools.iloc[col]
            pid, name, pgs, nbytes, c = (int(pr["pool_id"]), pr["pool"], int(pr["pgs"]), float(pr["bytes"]),
                                         counts[col])
        else:
            pid, name = -1, "(all)"
            pgs, nbytes, c = int(cs.pools["pgs"].sum()), float(cs.pools["bytes"].sum()), counts.sum(0)
        rows.append({"level": cs.level, "units": label, "pool_id": pid, "pool": name, "pgs": pgs, "bytes": nbytes,
                     "pgs_lost": int(c[0]), "bytes_lost": float(c[1]), "pgs_inactive": int(c[2])})
    out = pd.DataFrame(rows, columns=FAILURE_SET_COLUMNS)
    out.attrs["warnings"] = list(cs.warnings)
    return out
