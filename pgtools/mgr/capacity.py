"""How much a pool can still store: MAX AVAIL, as ``ceph df`` computes it (``PGMap::get_rule_avail``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model import Snapshot
from . import options
from .counts import rule_devices

__all__ = ["pool_max_avail"]


def pool_max_avail(snap: Snapshot, *, kb: pd.Series | None = None, kb_avail: pd.Series | None = None,
                   full_ratio: float | None = None) -> pd.Series:
    """MAX AVAIL per pool, as ``ceph df`` computes it (``PGMap::get_rule_avail``), in bytes.

    For each OSD under the pool's CRUSH rule (its ``take`` roots) with a non-zero CRUSH weight and statistics:
    ``usable = max(0, kb_avail − kb × (1 − full_ratio))``, projected to the whole rule as
    ``usable / (the OSD's share of the rule's CRUSH weight)`` (a float, as Ceph's weight map); the rule's
    available space is the smallest projection, divided by the pool's raw-used rate (size, or (k+m)/k for EC).

    Parameters
    ----------
    kb, kb_avail : Series, optional
        Per-OSD size and available KiB (index osd_id); default: the PG map's OSD statistics, else ``osd df``.
        The what-if engine passes projected values.
    full_ratio : float, optional
        Default: :func:`pgtools.mgr.options.resolve` (the osdmap's ``full_ratio``, else 0.95).
    """
    src = snap.osd_stats if snap.osd_stats is not None and "kb_avail" in snap.osd_stats.columns else snap.osds
    if kb is None or kb_avail is None:
        if src is None or not len(src) or "kb_avail" not in src.columns:
            return pd.Series(dtype=float, name="max_avail")
        st = src.drop_duplicates("osd_id").set_index("osd_id")
        kb = pd.to_numeric(st["kb"], errors="coerce") if kb is None else kb
        kb_avail = pd.to_numeric(st["kb_avail"], errors="coerce") if kb_avail is None else kb_avail
    fr = float(options.resolve(snap, "mon_osd_full_ratio", full_ratio).value)
    cw = snap.osds.set_index("osd_id")["crush_weight"] if "crush_weight" in snap.osds.columns else pd.Series(dtype=float)
    out = {}
    for p in snap.pools.itertuples(index=False):
        devs = rule_devices(snap, getattr(p, "crush_rule", None))
        if not devs:
            devs = set(cw.index)
        w = pd.to_numeric(cw.reindex(sorted(devs)), errors="coerce").fillna(0.0)
        w = w[w > 0]
        if not len(w):
            out[int(p.pool_id)] = 0.0
            continue
        frac = (w / w.sum()).astype(np.float32).astype(float)
        k, a = kb.reindex(frac.index), kb_avail.reindex(frac.index)
        ok = k.notna() & a.notna() & (k > 0)
        usable = np.maximum(0.0, a[ok].to_numpy(float) - k[ok].to_numpy(float) * (1.0 - fr)) * 1024.0
        proj = np.floor(usable / frac[ok].to_numpy())
        best = float(proj.min()) if len(proj) else 0.0
        if str(getattr(p, "type", "replicated")) == "erasure" and not pd.isna(getattr(p, "ec_k", np.nan)):
            rate = float(np.float32((int(p.ec_k) + int(p.ec_m)) / int(p.ec_k)))
        else:
            rate = float(p.size)
        out[int(p.pool_id)] = best / rate if rate else 0.0
    return pd.Series(out, name="max_avail", dtype=float).rename_axis("pool_id")
