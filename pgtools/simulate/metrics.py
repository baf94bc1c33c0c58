"""Per-step load and health of a what-if plan: OSD load and projected fullness, standing findings.

Fullness ratios come from :func:`pgtools.mgr.options.full_ratios`; the findings of PGs CRUSH maps short
and of PGs lost so far from :mod:`pgtools.simulate.availability`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..mgr.options import full_ratios
from ..model import Snapshot
from .availability import shortfall_findings
from .state import State

__all__ = ["full_ratio_values", "fullness_findings", "osd_load", "standing_findings"]


def osd_load(state: State, base: pd.DataFrame | None) -> pd.DataFrame:
    """PGs, bytes and projected utilization per OSD of ``state`` (``base``: the step-0 bytes per OSD, or None).

    Projected ``kb_used`` = reported ``kb_used`` + (bytes now − bytes at step 0) / 1024.
    """
    U = state.up
    osds = state.snap.osds
    ids = osds["osd_id"].astype(int).to_numpy()
    size = int(max(ids.max(initial=-1), U.max(initial=-1))) + 1
    # every up entry, shifted by one so that the -1 padding counts in bin 0 (dropped)
    flat = (U + 1).ravel()
    per = np.broadcast_to((state.bytes / state.column("k"))[:, None], U.shape).ravel()
    pgs = np.bincount(flat, minlength=size + 1)[1:]
    byt = np.bincount(flat, weights=per, minlength=size + 1)[1:]
    df = pd.DataFrame({"osd_id": ids, "pgs": pgs[ids], "bytes": byt[ids].round().astype(np.int64)})
    kb = pd.to_numeric(osds["kb"], errors="coerce").to_numpy(float) if "kb" in osds else np.full(len(ids), np.nan)
    used = pd.to_numeric(osds["kb_used"], errors="coerce").to_numpy(float) if "kb_used" in osds else np.zeros(len(ids))
    if base is not None:
        b0 = base.set_index("osd_id")["bytes"].reindex(ids).fillna(0).to_numpy(float)
    else:
        b0 = byt[ids]
    proj = np.nan_to_num(used) + (byt[ids] - b0) / 1024.0
    with np.errstate(divide="ignore", invalid="ignore"):
        df["utilization"] = np.where(kb > 0, proj / kb * 100.0, np.nan)
    df["kb"] = kb
    df["kb_used"] = proj
    df["exists"] = osds["exists"].astype(bool).to_numpy() if "exists" in osds else True
    return df


def full_ratio_values(snap: Snapshot) -> dict[str, float]:
    """``nearfull_ratio``, ``backfillfull_ratio``, ``full_ratio`` (:func:`pgtools.mgr.options.full_ratios`)."""
    return {k: float(st.value) for k, st in full_ratios(snap).items()}


def fullness_findings(load: pd.DataFrame, ratios: dict[str, float]) -> list[tuple[str, str, str]]:
    """``OSD_FULL``, ``OSD_BACKFILLFULL`` or ``OSD_NEARFULL`` (the worst that holds) on projected utilization."""
    out = []
    u = load["utilization"] / 100.0
    for code, key in (("OSD_FULL", "full_ratio"), ("OSD_BACKFILLFULL", "backfillfull_ratio"),
                      ("OSD_NEARFULL", "nearfull_ratio")):
        hit = load.loc[u >= ratios[key], "osd_id"].tolist()
        if hit:
            sev = "HEALTH_ERR" if code == "OSD_FULL" else "HEALTH_WARN"
            out.append((code, sev, f"{len(hit)} {'full' if code == 'OSD_FULL' else code[4:].lower()} osd(s) "
                        f"(projected): " + ", ".join(f"osd.{i}" for i in hit[:12])))
            break
    return out


def standing_findings(st: State, lost: Mapping[str, int]) -> list[tuple[str, str, str]]:
    """Findings that hold at this step whatever changed: PGs CRUSH maps short, PGs lost so far."""
    n = len(st.up)
    skip = st.mapping["pgid"].isin(set(lost)).to_numpy() if lost and n else None
    # the up sets: what CRUSH and the upmaps give, which recovery cannot change (a capture's pg_temp
    # acting sets are transient and not CRUSH's doing)
    _, found = shortfall_findings(st.up_count(), st.column("size"), st.column("min_size"), st.pool_index(),
                                  [st.meta[p.pool_id]["name"] for p in st.parts], skip)
    return found
