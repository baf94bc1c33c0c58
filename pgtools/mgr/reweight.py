"""``ceph osd [test-]reweight-by-utilization`` and ``reweight-by-pg``, computed offline.

Behaviour taken from Ceph's ``reweight::by_utilization`` (``src/mon/PGMap.cc``; read, not copied):

* the average is the raw used fraction of the whole cluster (Σ used_raw / Σ size over the OSDs that report
  statistics), or, by PG, PG copies per unit of CRUSH weight over the OSDs that hold a PG of the selected pools
  (acting sets);
* OSDs are visited by decreasing |util − average| (util = used_raw / size, or PGs / CRUSH weight);
  out OSDs (reweight 0) are skipped;
* an OSD at or above ``average × oload / 100`` gets ``new = trunc(average / util × reweight)`` (16.16), but never
  less than ``reweight − max_change``; an OSD at or below the average gets the same formula capped at
  ``reweight + max_change`` and at 1.0, only if that raises it (unless ``no_increasing``);
* at most ``max_osds`` OSDs change.

Defaults as in Pacific: ``oload`` 120, ``max_change`` 0.05 (``mon_reweight_max_change``), ``max_osds`` 4
(``mon_reweight_max_osds``); Ceph refuses with fewer than ``mon_reweight_min_pgs_per_osd`` (10) PG copies per OSD
by PG, or ``mon_reweight_min_bytes_per_osd`` (100 MiB) of size or used space per OSD by utilization.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import Snapshot
from .counts import placements

__all__ = ["ReweightResult", "reweight_by_utilization"]

ONE = 0x10000
MIN_PGS_PER_OSD = 10
MIN_BYTES_PER_OSD = 100 << 20


@dataclass
class ReweightResult:
    """What Ceph would change: ``changes`` has ``osd_id, util, weight, new_weight`` (weights as 0..1 floats)."""

    average: float
    overload: float
    changes: pd.DataFrame
    by_pg: bool

    @property
    def new_weights(self) -> dict[int, float]:
        return {int(r.osd_id): float(r.new_weight) for r in self.changes.itertuples()}

    def text(self, *, oload: int, max_change: float, max_osds: int) -> str:
        """The parameter block and the per-OSD lines Ceph prints after the mapping summary."""
        lines = [f"oload {oload}", f"max_change {max_change:g}", f"max_change_osds {max_osds}",
                 f"average_utilization {self.average:.4f}", f"overload_utilization {self.overload:.4f}"]
        lines += [f"osd.{int(r.osd_id)} weight {r.weight:.4f} -> {r.new_weight:.4f}" for r in self.changes.itertuples()]
        return "\n".join(lines) + "\n"


def _stats(snap: Snapshot) -> pd.DataFrame:
    """Per-OSD size and raw used bytes, from the PG map's OSD stats when present (as Ceph), else ``osd df``."""
    src = snap.osd_stats if snap.osd_stats is not None and "kb" in snap.osd_stats.columns else snap.osds
    if src is None or not len(src) or "kb" not in src.columns:
        raise PgtoolsError("reweight-by-utilization needs OSD sizes and usage (pg dump osds, or osd df)")
    used_col = "kb_used_raw" if "kb_used_raw" in src.columns and src["kb_used_raw"].notna().any() else "kb_used"
    out = pd.DataFrame({"osd_id": src["osd_id"].astype(np.int64),
                        "total": pd.to_numeric(src["kb"], errors="coerce").fillna(0) * 1024,
                        "used": pd.to_numeric(src[used_col], errors="coerce").fillna(0) * 1024})
    return out


def reweight_by_utilization(snap: Snapshot, *, oload: int = 120, max_change: float = 0.05, max_osds: int = 4,
                            by_pg: bool = False, pools: list[int] | None = None,
                            no_increasing: bool = False) -> ReweightResult:
    """Which reweights ``ceph osd reweight-by-utilization`` (or ``reweight-by-pg``) would set now.

    Parameters
    ----------
    snap : Snapshot
        Needs OSD statistics (sizes and raw use) for utilization, or PGs and CRUSH weights by PG.
    oload : int
        Overload threshold in percent of the average (> 100).
    max_change : float
        Largest change of one OSD's reweight.
    max_osds : int
        Largest number of OSDs changed.
    by_pg : bool
        Balance PG copies per CRUSH weight instead of bytes (``reweight-by-pg``).
    pools : list of int, optional
        By PG: only these pools.

    Returns
    -------
    ReweightResult

    Raises
    ------
    PgtoolsError
        When Ceph would refuse (oload ≤ 100, too little data or too few PGs).
    """
    if oload <= 100:
        raise PgtoolsError("oload must be a percentage higher than 100")
    osds = snap.osds.set_index("osd_id")
    fixed = osds["weight_fixed"] if "weight_fixed" in osds.columns else (osds["reweight"] * ONE)
    fixed = pd.to_numeric(fixed, errors="coerce").fillna(0).round().astype(np.int64)
    crush_w = pd.to_numeric(osds.get("crush_weight", pd.Series(dtype=float)), errors="coerce").fillna(0.0)
    exists = osds["exists"].fillna(True).astype(bool) if "exists" in osds.columns else pd.Series(True, osds.index)

    if by_pg:
        pl = placements(snap, "acting")
        if pools is not None:
            pl = pl[pl.pool_id.isin(pools)]
        pl = pl[pl.osd_id.isin(exists[exists].index)]
        pgs = pl.groupby("osd_id").size()
        pgs = pgs[crush_w.reindex(pgs.index).fillna(0) > 0]
        copies = int(pgs.sum())
        num = len(pgs)
        if not num or copies // num < MIN_PGS_PER_OSD:
            raise PgtoolsError(f"Ceph would refuse to reweight: only {copies} PGs across {num} osds")
        average = copies / float(crush_w.reindex(pgs.index).sum())
        util = (pgs / crush_w.reindex(pgs.index)).astype(np.float32)
    else:
        st = _stats(snap)
        n = max(1, len(st))
        if st.total.sum() / n < MIN_BYTES_PER_OSD or st.used.sum() / n < MIN_BYTES_PER_OSD:
            raise PgtoolsError("Ceph would refuse to reweight: too little data on the OSDs "
                               f"({int(st.used.sum()) >> 10} kb used across all osds)")
        average = float(st.used.sum()) / float(st.total.sum())
        st = st[st.total > 0]
        util = pd.Series((st.used / st.total).to_numpy(np.float32), index=st.osd_id.to_numpy())
    overload = average * oload / 100.0
    step = int(max_change * ONE)
    order = sorted(util.index, key=lambda o: -abs(float(util[o]) - average))
    rows = []
    for osd in order:
        w = int(fixed.get(osd, 0))
        if w == 0:
            continue
        u = float(util[osd])
        if u >= overload:
            new = int((average / u) * float(np.float32(w)))
            if w > step:
                new = max(new, w - step)
            rows.append((osd, u, w, new))
            if len(rows) >= max_osds:
                break
        if not no_increasing and u <= average:
            new = int((average / u) * float(np.float32(w))) if u > 0 else w + step
            new = min(new, w + step, ONE)
            if new > w:
                rows.append((osd, u, w, new))
                if len(rows) >= max_osds:
                    break
    changes = pd.DataFrame(rows, columns=["osd_id", "util", "weight", "new_weight"])
    changes["weight"] = changes.weight / ONE
    changes["new_weight"] = changes.new_weight / ONE
    return ReweightResult(average=average, overload=overload, changes=changes, by_pg=by_pg)
