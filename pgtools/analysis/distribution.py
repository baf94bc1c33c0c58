"""What the dump says about PG distribution: the pool × OSD table, weight-aware imbalance, health checks.

Everything here takes a :class:`~pgtools.model.Snapshot` (or a ``pgs`` DataFrame where noted) and returns
DataFrames; nothing prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..mgr import options
from ..model import NONE, Snapshot

__all__ = [
    "BY_CHOICES",
    "placements",
    "pg_table",
    "unmapped_pgs",
    "pg_counts",
    "imbalance",
    "imbalance_summary",
    "pool_osd_weights",
    "pool_max_avail",
    "Finding",
    "health",
    "check_pg_num",
    "health_limits",
    "MON_MAX_PG_PER_OSD",
]

BY_CHOICES = ("up", "acting", "up_primary", "acting_primary")


def _check_by(by: str) -> None:
    if by not in BY_CHOICES:
        raise ValueError(f"by must be one of {', '.join(BY_CHOICES)}, not {by!r}")


def _pgs(data: Snapshot | pd.DataFrame) -> pd.DataFrame:
    return data.pgs if isinstance(data, Snapshot) else data


def require_pgs(snap: Snapshot, what: str = "this") -> None:
    """Raise :class:`~pgtools.errors.PgtoolsError` when a snapshot holds no PGs, naming what was loaded.

    ``what`` is the computation that needs them (e.g. ``"the pool × OSD table"``).  A capture of only
    ``ceph status``, an ``osd tree`` or a pool list would otherwise give an empty result that looks like
    an answer.
    """
    if len(snap.pgs):
        return
    loaded = ", ".join(f"{src.rsplit('/', 1)[-1]} ({kind.replace('_', ' ')})"
                       for src, kind in snap.meta.get("sources", []) if kind != "collect_meta")
    raise PgtoolsError(f"no PG data{' in ' + loaded if loaded else ''}: cannot compute {what} without PGs; add "
                       "`ceph pg dump -f json` output (or `ceph pg dump`, `ceph pg ls`, `ceph report`)")


def placements(data: Snapshot | pd.DataFrame, by: str = "up") -> pd.DataFrame:
    """Long form of the PG → OSD mapping: one row per PG copy (or per PG for the primaries).

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or a ``pgs``-shaped frame (``pgid, pool_id, pool, up, up_primary, acting,
        acting_primary``).
    by : {"up", "acting", "up_primary", "acting_primary"}
        Which set to expand.  For the sets, holes (``NONE``) are dropped; for the primaries, PGs whose
        primary is -1 are dropped.

    Returns
    -------
    DataFrame
        ``pgid, pool_id, pool, position, osd_id, primary``: ``position`` is the index in the set
        (0 for primaries; EC shards keep their shard index), ``primary`` tells whether this copy is
        the PG's primary.
    """
    _check_by(by)
    pgs = _pgs(data)
    pool = pgs["pool"] if "pool" in pgs.columns else pd.Series([""] * len(pgs), index=pgs.index)
    if by.endswith("_primary"):
        osd = pgs[by].to_numpy(dtype=np.int64)
        keep = osd >= 0
        return pd.DataFrame({
            "pgid": pgs["pgid"].to_numpy()[keep],
            "pool_id": pgs["pool_id"].to_numpy(dtype=np.int64)[keep],
            "pool": pool.to_numpy()[keep],
            "position": np.zeros(int(keep.sum()), dtype=np.int64),
            "osd_id": osd[keep],
            "primary": np.ones(int(keep.sum()), dtype=bool),
        })
    sets = pgs[by]
    lens = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    total = int(lens.sum())
    flat = np.fromiter(chain.from_iterable(sets), dtype=np.int64, count=total)
    row = np.repeat(np.arange(len(pgs)), lens)
    starts = np.repeat(np.cumsum(lens) - lens, lens)
    position = np.arange(total, dtype=np.int64) - starts
    prim = pgs[f"{by}_primary"].to_numpy(dtype=np.int64)[row]
    keep = (flat != NONE) & (flat >= 0)
    return pd.DataFrame({
        "pgid": pgs["pgid"].to_numpy()[row][keep],
        "pool_id": pgs["pool_id"].to_numpy(dtype=np.int64)[row][keep],
        "pool": pool.to_numpy()[row][keep],
        "position": position[keep],
        "osd_id": flat[keep],
        "primary": (flat == prim)[keep],
    })


def unmapped_pgs(data: Snapshot | pd.DataFrame, by: str = "up") -> pd.DataFrame:
    """PGs that credit no OSD for ``by``: empty sets (state ``unknown``, creating) or primary -1."""
    _check_by(by)
    pgs = _pgs(data)
    if by.endswith("_primary"):
        mask = pgs[by].to_numpy() < 0
    else:
        mask = np.fromiter((not any(o != NONE and o >= 0 for o in s) for s in pgs[by]), dtype=bool,
                           count=len(pgs))
    return pgs[mask]


def pg_table(data: Snapshot | pd.DataFrame, by: str = "up", *, margins: bool = False) -> pd.DataFrame:
    """The pool × OSD table: how many PGs (copies) of each pool each OSD holds.

    This is the table the seed memo's awk script meant to print, computed from the up (or acting) *sets*,
    so each pool column sums to ``pg_num × size`` for a healthy replicated pool.

    Parameters
    ----------
    data : Snapshot or DataFrame
    by : {"up", "acting", "up_primary", "acting_primary"}
        Count membership of the up or acting set, or only primaries.
    margins : bool
        Add a ``total`` column and a ``total`` row.

    Returns
    -------
    DataFrame
        Index ``osd_id`` (ascending; every OSD that holds at least one PG), one int column per pool id
        (ascending; every pool of the snapshot, also those with no PG on some OSD).  PGs that map to no
        OSD (see :func:`unmapped_pgs`) are not credited anywhere.

    Raises
    ------
    PgtoolsError
        ``data`` is a Snapshot without PGs (see :func:`require_pgs`).
    """
    if isinstance(data, Snapshot):
        require_pgs(data, "the pool × OSD table")
    pl = placements(data, by)
    if isinstance(data, Snapshot) and len(data.pools):
        pool_ids = sorted(int(p) for p in data.pools.pool_id)
    else:
        pool_ids = sorted(int(p) for p in _pgs(data).pool_id.unique())
    pool_ids = sorted(set(pool_ids) | set(int(p) for p in pl.pool_id.unique()))
    if len(pl):
        tab = pd.crosstab(pl.osd_id, pl.pool_id)
    else:
        tab = pd.DataFrame(index=pd.Index([], dtype=np.int64, name="osd_id"))
    tab = tab.reindex(columns=pool_ids, fill_value=0).astype(np.int64)
    tab.index = tab.index.astype(np.int64)
    tab.index.name = "osd_id"
    tab.columns.name = "pool_id"
    tab = tab.sort_index()
    if margins:
        tab["total"] = tab.sum(axis=1)
        tab.loc["total"] = tab.sum(axis=0)
    return tab


def pg_counts(data: Snapshot | pd.DataFrame, by: str = "up") -> pd.Series:
    """PGs per OSD (all pools), indexed by osd_id."""
    pl = placements(data, by)
    return pl.groupby("osd_id").size().rename("pgs")


# --------------------------------------------------------------------------------------------------
# weights and targets


_TAKE = 1


def _rule_roots(crush: Any, rule_id: int) -> list[int]:
    rules = getattr(crush, "rules", None) or {}
    rule = rules.get(int(rule_id)) if hasattr(rules, "get") else None
    if rule is None:
        return []
    return [int(arg1) for op, arg1, _arg2 in rule.steps if int(op) == _TAKE]


def _devices_under(crush: Any, item: int) -> list[int]:
    if item >= 0:
        return [item]
    fn = getattr(crush, "subtree_devices", None)
    if fn is None:
        return []
    return [int(d) for d in fn(item)]


def _rule_devices(snap: Snapshot, crush_rule: Any) -> set[int]:
    """Devices under the ``take`` items of a CRUSH rule (empty without a CRUSH map or a rule)."""
    if snap.crush is None or crush_rule is None or pd.isna(crush_rule):
        return set()
    devices: set[int] = set()
    for root in _rule_roots(snap.crush, int(crush_rule)):
        devices.update(_devices_under(snap.crush, root))
    return devices


def _osd_effective_weight(osds: pd.DataFrame) -> pd.Series:
    """crush weight × reweight for OSDs that exist and are in; 0 otherwise."""
    w = osds.set_index("osd_id")
    cw = pd.to_numeric(w.get("crush_weight", pd.Series(1.0, index=w.index)), errors="coerce").fillna(0.0)
    rw = pd.to_numeric(w.get("reweight", pd.Series(1.0, index=w.index)), errors="coerce").fillna(1.0)
    eff = cw * rw
    if "in" in w.columns:
        eff = eff.where(w["in"].fillna(True).astype(bool), 0.0)
    if "exists" in w.columns:
        eff = eff.where(w["exists"].fillna(True).astype(bool), 0.0)
    return eff.astype(float)


def pool_osd_weights(snap: Snapshot) -> pd.DataFrame:
    """Each pool's weight share per OSD: the fraction of the pool's copies an OSD should hold.

    The OSDs a pool can use are the devices under the ``take`` items of its CRUSH rule (device-class
    shadow roots included) when the snapshot has a CRUSH map; otherwise every OSD.  An OSD's weight is its
    CRUSH weight × reweight when it exists and is in, else 0.

    Returns
    -------
    DataFrame
        ``pool_id, osd_id, weight, share`` (share sums to 1 per pool).
    """
    eff = _osd_effective_weight(snap.osds) if len(snap.osds) else pd.Series(dtype=float)
    if not len(eff):
        osd_ids = sorted(set(placements(snap, "up").osd_id))
        eff = pd.Series(1.0, index=pd.Index(osd_ids, name="osd_id"))
    rows = []
    for pool in snap.pools.itertuples(index=False):
        devices = _rule_devices(snap, getattr(pool, "crush_rule", None))
        ids = sorted(devices) if devices else list(eff.index)
        w = eff.reindex(ids).fillna(0.0)
        tot = float(w.sum())
        for osd, wt in w.items():
            rows.append((int(pool.pool_id), int(osd), float(wt), float(wt) / tot if tot > 0 else 0.0))
    return pd.DataFrame(rows, columns=["pool_id", "osd_id", "weight", "share"])


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
        devs = _rule_devices(snap, getattr(p, "crush_rule", None))
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


def _pool_copies(snap: Snapshot, by: str) -> pd.Series:
    """How many copies of each pool's PGs exist (for the sets: the mapped copies; primaries: PGs)."""
    pl = placements(snap, by)
    return pl.groupby("pool_id").size()


def imbalance(snap: Snapshot, by: str = "up", *, per_pool: bool = False) -> pd.DataFrame:
    """Per-OSD PG counts against their weight-share targets.

    The target of an OSD is Σ over pools of (copies of that pool actually mapped) × (the OSD's share of
    the pool's CRUSH root weight, see :func:`pool_osd_weights`).  For a healthy pool the copies are
    ``pg_num × size``.

    Parameters
    ----------
    snap : Snapshot
    by : {"up", "acting", "up_primary", "acting_primary"}
    per_pool : bool
        One row per (pool, OSD) instead of per OSD.

    Returns
    -------
    DataFrame
        ``osd_id`` (+ ``pool_id``), ``host``, ``device_class``, ``crush_weight``, ``reweight``, ``pgs``,
        ``target``, ``deviation`` (pgs − target), ``deviation_pct`` (100 × deviation / target),
        ``expected_sd`` (the standard deviation of the OSD's count under random placement with these
        weights: sqrt(Σ_pools copies × share × (1 − share))).  OSDs with neither PGs nor weight are left out.

    Raises
    ------
    PgtoolsError
        The snapshot holds no PGs (see :func:`require_pgs`).
    """
    _check_by(by)
    require_pgs(snap, "the imbalance")
    pl = placements(snap, by)
    counts = pl.groupby(["pool_id", "osd_id"]).size().rename("pgs")
    weights = pool_osd_weights(snap)
    copies = _pool_copies(snap, by)
    weights["target"] = weights.share * weights.pool_id.map(copies).fillna(0.0)
    # random placement: each copy lands on the OSD with probability `share` (binomial variance per pool)
    weights["expected_var"] = weights.target * (1.0 - weights.share)
    long = weights.set_index(["pool_id", "osd_id"])[["target", "expected_var"]].join(counts, how="outer")
    long["pgs"] = long["pgs"].fillna(0).astype(np.int64)
    long["target"] = long["target"].fillna(0.0)
    long["expected_var"] = long["expected_var"].fillna(0.0)
    long = long.reset_index()
    if not per_pool:
        long = long.groupby("osd_id", as_index=False)[["pgs", "target", "expected_var"]].sum()
    long["expected_sd"] = np.sqrt(long.pop("expected_var"))
    long = long[(long.pgs > 0) | (long.target > 0)].copy()
    long["deviation"] = long.pgs - long.target
    with np.errstate(divide="ignore", invalid="ignore"):
        long["deviation_pct"] = np.where(long.target > 0, 100.0 * long.deviation / long.target, np.nan)
    if len(snap.osds):
        info_cols = [c for c in ("host", "device_class", "crush_weight", "reweight") if c in snap.osds.columns]
        long = long.merge(snap.osds[["osd_id", *info_cols]], on="osd_id", how="left")
    keys = ["pool_id", "osd_id"] if per_pool else ["osd_id"]
    first = keys + [c for c in ("host", "device_class", "crush_weight", "reweight") if c in long.columns]
    cols = first + ["pgs", "target", "deviation", "deviation_pct", "expected_sd"]
    return long[cols].sort_values(keys).reset_index(drop=True)


def imbalance_summary(snap: Snapshot, by: str = "up") -> pd.Series:
    """One-line statistics of :func:`imbalance` (over OSDs with a non-zero target).

    ``n_osds``, ``total``, ``mean``, ``stddev`` (population, as osdmaptool prints it), ``expected_stddev``
    (``sqrt(mean·(1−1/N))``, the spread of uniformly random placement that osdmaptool prints as
    "expected"), ``stddev_ratio`` (stddev / expected; about 1 means "as random as CRUSH should be"),
    ``weighted_stddev`` (RMS of pgs − target, which accounts for unequal weights), ``expected_weighted_stddev``
    (RMS of the per-OSD random-placement spread ``expected_sd``; equals ``expected_stddev`` when all weights are
    equal), ``weighted_ratio`` (weighted_stddev / expected_weighted_stddev: the fair comparison when weights or
    device classes differ), ``min_osd``, ``min``,
    ``max_osd``, ``max``, ``max_over_target_pct``, ``max_under_target_pct``.
    """
    im = imbalance(snap, by)
    im = im[im.target > 0]
    n = len(im)
    if n == 0:
        return pd.Series({"n_osds": 0}, dtype=object)
    pgs = im.pgs.to_numpy(dtype=float)
    mean = float(pgs.mean())
    std = float(pgs.std())  # population
    exp = math.sqrt(mean * (1 - 1 / n)) if n > 0 else float("nan")
    imin, imax = int(np.argmin(pgs)), int(np.argmax(pgs))
    return pd.Series({
        "n_osds": n,
        "total": int(pgs.sum()),
        "mean": mean,
        "stddev": std,
        "expected_stddev": exp,
        "stddev_ratio": std / exp if exp > 0 else float("nan"),
        "weighted_stddev": (wsd := float(np.sqrt(np.mean(im.deviation.to_numpy(dtype=float) ** 2)))),
        "expected_weighted_stddev": (ewsd := float(np.sqrt(np.mean(im.expected_sd.to_numpy(dtype=float) ** 2)))),
        "weighted_ratio": wsd / ewsd if ewsd > 0 else float("nan"),
        "min_osd": int(im.osd_id.iloc[imin]),
        "min": int(pgs[imin]),
        "max_osd": int(im.osd_id.iloc[imax]),
        "max": int(pgs[imax]),
        "max_over_target_pct": float(np.nanmax(im.deviation_pct)),
        "max_under_target_pct": float(np.nanmin(im.deviation_pct)),
    }, dtype=object)


# --------------------------------------------------------------------------------------------------
# health

#: ``mon_max_pg_per_osd`` default per release (see :mod:`pgtools.mgr.options`, which resolves every threshold).
MON_MAX_PG_PER_OSD = options.MON_MAX_PG_PER_OSD


@dataclass
class Finding:
    """One health finding, with the numbers behind it.

    ``code`` is Ceph's check name (``TOO_MANY_PGS``, ``TOO_FEW_PGS``) or a pgtools name for checks Ceph
    performs elsewhere (``OSD_PG_HARD_LIMIT``: the OSD refuses to instantiate PGs above
    ``mon_max_pg_per_osd × osd_max_pg_per_osd_hard_ratio``; ``OSD_ABOVE_MAX_PG_PER_OSD``: an OSD above the
    soft limit, which Ceph itself does not report because it compares the average).
    """

    code: str
    severity: str
    summary: str
    detail: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    ceph: bool = True  # False: a pgtools finding, not a check Ceph's health reports
    why: str = ""  # one line: how the numbers produce the finding


_LIMIT_NAMES = ("mon_max_pg_per_osd", "mon_pg_warn_min_per_osd", "osd_max_pg_per_osd_hard_ratio")


def health_limits(snap: Snapshot, *, release: str | None = None, mon_max_pg_per_osd: int | None = None,
                  mon_pg_warn_min_per_osd: int | None = None,
                  osd_max_pg_per_osd_hard_ratio: float | None = None) -> dict[str, Any]:
    """The limits the PG-count checks use, and where each came from (:func:`pgtools.mgr.options.settings`).

    Returns a dict with ``release``, each option name and ``<name>_from`` (its source: ``argument``,
    ``config dump``, ``health detail`` or ``<release> default``).
    """
    res = options.settings(snap, _LIMIT_NAMES, release=release, overrides={
        "mon_max_pg_per_osd": mon_max_pg_per_osd, "mon_pg_warn_min_per_osd": mon_pg_warn_min_per_osd,
        "osd_max_pg_per_osd_hard_ratio": osd_max_pg_per_osd_hard_ratio})
    out: dict[str, Any] = {"release": options.release_base(release or snap.release)}
    for name, st in res.items():
        out[name], out[f"{name}_from"] = st.value, st.source
    out["osd_max_pg_per_osd_hard_ratio"] = float(out["osd_max_pg_per_osd_hard_ratio"])
    return out


def _num_in(snap: Snapshot) -> int:
    osds = snap.osds
    if len(osds) and "in" in osds.columns and not osds["in"].isna().all():
        ex = osds["exists"].fillna(True).astype(bool) if "exists" in osds.columns else True
        return int((osds["in"].fillna(False).astype(bool) & ex).sum())
    if len(osds) and "reweight" in osds.columns and not osds["reweight"].isna().all():
        return int((pd.to_numeric(osds["reweight"], errors="coerce").fillna(0) > 0).sum())
    return int(placements(snap, "up").osd_id.nunique())


def _pgs_per_osd_up_or_acting(snap: Snapshot) -> pd.Series:
    """PGs per OSD counting each PG once when the OSD is in its up set, its acting set, or both."""
    pgs = snap.pgs
    if len(pgs) and bool((pgs.up.to_numpy() == pgs.acting.to_numpy()).all()):
        # acting == up everywhere (a clean cluster, every simulated step): no union to build
        osd = placements(snap, "up").osd_id.to_numpy()
        ids, counts = np.unique(osd, return_counts=True)
        return pd.Series(counts, index=pd.Index(ids, name="osd_id"), dtype=np.int64)
    up, acting = placements(snap, "up"), placements(snap, "acting")
    row_of = pd.Index(snap.pgs.pgid)
    keys = np.concatenate([row_of.get_indexer(up.pgid).astype(np.int64) * (1 << 31) + up.osd_id.to_numpy(),
                           row_of.get_indexer(acting.pgid).astype(np.int64) * (1 << 31) + acting.osd_id.to_numpy()])
    osds = np.unique(keys) % (1 << 31)
    ids, counts = np.unique(osds, return_counts=True)
    return pd.Series(counts, index=pd.Index(ids, name="osd_id"), dtype=np.int64)


def health(snap: Snapshot, *, release: str | None = None, mon_max_pg_per_osd: int | None = None,
           mon_pg_warn_min_per_osd: int | None = None,
           osd_max_pg_per_osd_hard_ratio: float | None = None) -> list[Finding]:
    """Reproduce Ceph's PG-count health checks on a snapshot.

    * ``TOO_MANY_PGS`` / ``TOO_FEW_PGS`` exactly as the mgr computes them (``PGMap::get_health_checks``):
      ``per = max(Σ len(up), number of PGs) // num_in_osds`` compared with ``mon_max_pg_per_osd`` and
      ``mon_pg_warn_min_per_osd`` (an *average*, not a per-OSD maximum).
    * ``OSD_PG_HARD_LIMIT`` (pgtools): OSDs whose PG count (up ∪ acting) exceeds
      ``mon_max_pg_per_osd × osd_max_pg_per_osd_hard_ratio``; such OSDs withhold new PGs, which then stay
      inactive.
    * ``OSD_ABOVE_MAX_PG_PER_OSD`` (pgtools, informational): OSDs individually above the soft limit.

    Limits come from the arguments, else the capture's ``config dump``, else the release defaults
    (:data:`MON_MAX_PG_PER_OSD`).  Each finding's ``numbers`` holds every value used.

    Raises :class:`~pgtools.errors.PgtoolsError` when the snapshot holds no PGs (:func:`require_pgs`): the
    checks count PGs, and none counted would read as ``HEALTH_OK``.  When the capture's own ``health
    detail`` reports ``TOO_MANY_PGS`` / ``TOO_FEW_PGS`` differently from the recomputed findings (and no
    threshold was overridden), a :class:`~pgtools.errors.PgtoolsWarning` names both.
    """
    require_pgs(snap, "the PG-count health checks")
    pgs = snap.pgs
    sum_up_sizes = int(sum(map(len, pgs.up))) if len(pgs) else 0
    per_osd = _pgs_per_osd_up_or_acting(snap) if len(pgs) else None
    found = _health_findings(snap, num_pgs=len(pgs), sum_up_sizes=sum_up_sizes, per_osd=per_osd,
                             release=release, mon_max_pg_per_osd=mon_max_pg_per_osd,
                             mon_pg_warn_min_per_osd=mon_pg_warn_min_per_osd,
                             osd_max_pg_per_osd_hard_ratio=osd_max_pg_per_osd_hard_ratio)
    overridden = (mon_max_pg_per_osd, mon_pg_warn_min_per_osd) != (None, None) or bool(
        (snap.meta or {}).get("option_overrides"))
    if not overridden:  # asked-for thresholds are expected to differ from the cluster's verdict
        import warnings

        from ..errors import PgtoolsWarning
        from .health_compare import disagreements

        for msg in disagreements(snap.health, found):
            warnings.warn(msg, PgtoolsWarning, stacklevel=2)
    return found


def _pgs_per_osd_arrays(up: np.ndarray, acting: np.ndarray | None = None) -> pd.Series:
    """:func:`_pgs_per_osd_up_or_acting` from ``(n_pgs, width)`` OSD arrays (-1 padding, NONE holes).

    ``acting=None`` means acting equals up for every PG (each up entry counts); otherwise each PG counts
    once on every OSD of its up set, its acting set or both.
    """
    if acting is None:
        osd = up[(up >= 0) & (up != NONE)]
    else:
        both = np.concatenate([up, acting], axis=1)
        both = np.sort(np.where((both >= 0) & (both != NONE), both, -1), axis=1)
        first = both >= 0
        first[:, 1:] &= both[:, 1:] != both[:, :-1]
        osd = both[first]
    if len(osd) and int(osd.max()) < (1 << 24):  # OSD ids are small: count without sorting
        counts = np.bincount(osd)
        ids = np.nonzero(counts)[0]
        counts = counts[ids]
    else:
        ids, counts = np.unique(osd, return_counts=True)
    return pd.Series(counts, index=pd.Index(ids.astype(np.int64), name="osd_id"), dtype=np.int64)


def _health_findings(snap: Snapshot, *, num_pgs: int, sum_up_sizes: int, per_osd: pd.Series | None,
                     release: str | None = None, mon_max_pg_per_osd: int | None = None,
                     mon_pg_warn_min_per_osd: int | None = None,
                     osd_max_pg_per_osd_hard_ratio: float | None = None) -> list[Finding]:
    """:func:`health` from PG counts at hand (the what-if engine counts them on its placement arrays).

    ``num_pgs`` PGs whose up sets hold ``sum_up_sizes`` entries; ``per_osd`` PGs per OSD over up ∪ acting
    (:func:`_pgs_per_osd_up_or_acting`), None when there are no PGs.
    """
    lim = health_limits(snap, release=release, mon_max_pg_per_osd=mon_max_pg_per_osd,
                        mon_pg_warn_min_per_osd=mon_pg_warn_min_per_osd,
                        osd_max_pg_per_osd_hard_ratio=osd_max_pg_per_osd_hard_ratio)
    num_in = _num_in(snap)
    sum_pg_up = max(sum_up_sizes, num_pgs)
    findings: list[Finding] = []
    base = {"sum_pg_up": sum_pg_up, "sum_up_set_sizes": sum_up_sizes, "num_pgs": num_pgs,
            "num_in_osds": num_in, **lim}
    mx, mn = lim["mon_max_pg_per_osd"], lim["mon_pg_warn_min_per_osd"]
    if num_in:
        per = sum_pg_up // num_in
        base["per_osd"] = per
        avg = (f"{sum_pg_up} PG copies (max of Σ|up| {sum_up_sizes} and {num_pgs} PGs) // {num_in} in OSDs "
               f"= {per}")
        if mn > 0 and len(snap.pools) and 0 < per < mn:
            findings.append(Finding("TOO_FEW_PGS", "HEALTH_WARN", f"too few PGs per OSD ({per} < min {mn})",
                                    numbers=dict(base), why=f"{avg} < mon_pg_warn_min_per_osd {mn} "
                                    f"({lim['mon_pg_warn_min_per_osd_from']})"))
        if mx > 0 and per > mx:
            findings.append(Finding("TOO_MANY_PGS", "HEALTH_WARN", f"too many PGs per OSD ({per} > max {mx})",
                                    numbers=dict(base), why=f"{avg} > mon_max_pg_per_osd {mx} "
                                    f"({lim['mon_max_pg_per_osd_from']}); Ceph compares the average, not each OSD"))
    # per-OSD counts, up ∪ acting
    if per_osd is not None:
        hard = mx * lim["osd_max_pg_per_osd_hard_ratio"]
        over_hard = per_osd[per_osd > hard]
        if len(over_hard):
            findings.append(Finding(
                "OSD_PG_HARD_LIMIT", "HEALTH_ERR",
                f"{len(over_hard)} OSDs above the hard PG limit {hard:g} (mon_max_pg_per_osd {mx} × "
                f"osd_max_pg_per_osd_hard_ratio {lim['osd_max_pg_per_osd_hard_ratio']:g}); they will not "
                f"instantiate more PGs",
                detail=[f"osd.{o} has {c} PGs" for o, c in over_hard.items()],
                numbers={**base, "hard_limit": hard, "osds": over_hard.to_dict()}, ceph=False,
                why="PGs counted per OSD over up ∪ acting: " + _osd_list(over_hard)))
        over = per_osd[per_osd > mx]
        if len(over):
            findings.append(Finding(
                "OSD_ABOVE_MAX_PG_PER_OSD", "INFO",
                f"{len(over)} of {len(per_osd)} OSDs hold more than mon_max_pg_per_osd {mx} PGs "
                f"(range {int(per_osd.min())}..{int(per_osd.max())})",
                detail=[f"osd.{o} has {c} PGs" for o, c in over.items()],
                numbers={**base, "osds": over.to_dict()}, ceph=False,
                why="PGs counted per OSD over up ∪ acting: " + _osd_list(over)))
    return findings


def _osd_list(counts: pd.Series, most: int = 12) -> str:
    items = [f"osd.{o} {c}" for o, c in counts.sort_values(ascending=False).items()]
    return ", ".join(items[:most]) + (f", … ({len(items) - most} more)" if len(items) > most else "")


def check_pg_num(snap: Snapshot, pool: int | str | None, pg_num: int, *, size: int | None = None,
                 crush_rule: int | None = None, mon_max_pg_per_osd: int | None = None,
                 release: str | None = None) -> Finding | None:
    """Would the monitor refuse this pool creation or pg_num increase (``OSDMonitor::check_pg_num``)?

    Pacific (and Nautilus+) count what is already mapped: ``projected`` = Σ over the OSDs under the
    rule's ``take`` roots of the PGs in whose acting set each OSD is, plus ``pg_num × size`` for the new or
    changed pool, minus the changed pool's current ``pg_num_target × size``; the limit is
    ``mon_max_pg_per_osd × max(number of OSDs under those roots, 3)``.  Luminous/Mimic used
    Σ ``pg_num × size`` over all pools against ``mon_max_pg_per_osd × max(num_in_osds, 3)``.

    Parameters
    ----------
    pool : int, str or None
        Existing pool (id or name) whose pg_num is raised, or None for a new pool.
    pg_num : int
        The requested pg_num.
    size : int, optional
        Replica count (k+m for EC); defaults to the pool's size, or 3 for a new pool.
    crush_rule : int, optional
        For a new pool: its rule (default: the lowest rule id used by a replicated pool, else 0).

    Returns
    -------
    Finding or None
        A ``POOL_PG_NUM_REFUSED`` finding whose summary is the monitor's ERANGE message (without the
        ``Error ERANGE: `` prefix), or None if the monitor accepts.
    """
    lim = health_limits(snap, release=release, mon_max_pg_per_osd=mon_max_pg_per_osd)
    pools = snap.pools
    row = None
    if pool is not None:
        sel = pools[(pools.pool_id.astype(str) == str(pool)) | (pools["pool"] == str(pool))]
        if not len(sel):
            raise KeyError(f"no pool {pool!r}")
        row = sel.iloc[0]
    if size is None:
        size = int(row["size"]) if row is not None else 3
    if crush_rule is None:
        if row is not None and "crush_rule" in pools.columns:
            crush_rule = int(row["crush_rule"])
        elif "crush_rule" in pools.columns and len(pools):
            crush_rule = int(pools.crush_rule.min())
        else:
            crush_rule = 0

    def target(p: Any) -> int:
        t = getattr(p, "pg_num_target", None)
        return int(t) if t is not None and not pd.isna(t) else int(p.pg_num)

    legacy = lim["release"] in ("hammer", "jewel", "kraken", "luminous", "mimic")
    if legacy or snap.crush is None or not len(snap.pgs):
        osd_num = max(_num_in(snap), 3)
        projected = sum(int(pg_num) * int(size) if row is not None and int(p.pool_id) == int(row["pool_id"])
                        else target(p) * int(p.size) for p in pools.itertuples(index=False))
        if row is None:
            projected += int(pg_num) * int(size)
        method = "sum of pg_num × size over pools"
    else:
        devices = _rule_devices(snap, crush_rule)
        acting = placements(snap, "acting")
        projected = int(acting.osd_id.isin(devices).sum())
        projected += int(pg_num) * int(size)
        if row is not None:
            projected -= target(row) * int(row["size"])
        osd_num = max(len(devices), 3)
        method = "acting PGs on the OSDs under the rule's roots"
    mx = lim["mon_max_pg_per_osd"]
    max_pgs = mx * osd_num
    numbers = {"projected": projected, "max_pgs": max_pgs, "num_osds": osd_num, "pg_num": int(pg_num),
               "size": int(size), "crush_rule": crush_rule, "method": method, **lim}
    if projected <= max_pgs:
        return None
    # what would make the monitor accept it
    others = projected - int(pg_num) * int(size)
    numbers.update(
        max_pg_num=max((max_pgs - others) // int(size), 0) if int(size) > 0 else 0,
        needed_mon_max_pg_per_osd=-(-projected // osd_num), needed_osds=-(-projected // mx),
        excess_pgs=projected - max_pgs)
    fixes = [f"raise mon_max_pg_per_osd to {numbers['needed_mon_max_pg_per_osd']} (now {mx}, "
             f"{lim['mon_max_pg_per_osd_from']})",
             f"add OSDs to have {numbers['needed_osds']} {'in' if method.startswith('sum') else 'under the rule'} "
             f"(now {osd_num})",
             f"lower pg_num × size of other pools by {numbers['excess_pgs']} PG copies"]
    current = target(row) if row is not None else 0
    if numbers["max_pg_num"] > current:
        fixes.append(f"ask for pg_num {numbers['max_pg_num']} or less")
    numbers["remedy"] = ", or ".join(fixes)
    prefix = f"pool id {int(row['pool_id'])}" if row is not None else ""
    msg = (f"{prefix} pg_num {int(pg_num)} size {int(size)} would mean {projected} total pgs, which exceeds "
           f"max {max_pgs} (mon_max_pg_per_osd {mx} * num_in_osds {osd_num})")
    return Finding("POOL_PG_NUM_REFUSED", "ERANGE", msg, numbers=numbers,
                   why=f"projected {projected} ({method}) > mon_max_pg_per_osd {mx} "
                       f"({lim['mon_max_pg_per_osd_from']}) × {osd_num} OSDs")


# ---- plotting support ----
# Small computations the plots in :mod:`pgtools.plotting` need, kept here so that plotting only draws.


def group_imbalance(im: pd.DataFrame, key: str = "host") -> pd.DataFrame:
    """Sum an :func:`imbalance` table over a grouping column (``host`` by default).

    Parameters
    ----------
    im : DataFrame
        The output of :func:`imbalance` (per OSD, or per pool and OSD with ``per_pool=True``).
    key : str
        Column to group by; OSDs whose ``key`` is missing are grouped under ``"(none)"``.

    Returns
    -------
    DataFrame
        ``key`` (+ ``pool_id`` when ``im`` has it), ``osds`` (number of OSDs), ``pgs``, ``target``,
        ``deviation`` and ``deviation_pct`` recomputed on the sums.  Groups are in the order of their
        lowest OSD id.
    """
    if key not in im.columns:
        raise ValueError(f"the imbalance table has no column {key!r}")
    df = im.copy()
    df[key] = df[key].astype(object).where(df[key].notna(), "(none)")
    order = df.groupby(key, sort=False)["osd_id"].min().sort_values().index.tolist()
    keys = [key, "pool_id"] if "pool_id" in df.columns else [key]
    out = df.groupby(keys, sort=False).agg(osds=("osd_id", "nunique"), pgs=("pgs", "sum"),
                                          target=("target", "sum")).reset_index()
    out["deviation"] = out.pgs - out.target
    with np.errstate(divide="ignore", invalid="ignore"):
        out["deviation_pct"] = np.where(out.target > 0, 100.0 * out.deviation / out.target, np.nan)
    out["_order"] = out[key].map({k: i for i, k in enumerate(order)})
    sort = ["_order", "pool_id"] if "pool_id" in out.columns else ["_order"]
    return out.sort_values(sort).drop(columns="_order").reset_index(drop=True)


def _binomial_pmf(n: int, p: float, k: np.ndarray) -> np.ndarray:
    """P(X = k) for X ~ Binomial(n, p), through log-gamma (exact enough for any n)."""
    k = np.asarray(k, dtype=np.int64)
    out = np.zeros(k.shape, dtype=float)
    ok = (k >= 0) & (k <= n)
    if p <= 0.0 or p >= 1.0:
        out[ok & (k == (0 if p <= 0.0 else n))] = 1.0
        return out
    lg = np.vectorize(math.lgamma, otypes=[float])
    kk = k[ok].astype(float)
    logpmf = (math.lgamma(n + 1) - lg(kk + 1) - lg(n - kk + 1) + kk * math.log(p)
              + (n - kk) * math.log1p(-p))
    out[ok] = np.exp(logpmf)
    return out


def expected_spread(snap: Snapshot, by: str = "up") -> pd.DataFrame:
    """Each OSD's target and the standard deviation uniformly random placement would give around it.

    If each of the ``n`` copies (Σ targets) landed on an OSD independently with probability
    ``p = target / n`` (its weight share), the OSD's count would be Binomial(``n``, ``p``), with standard
    deviation ``sqrt(n·p·(1−p))``.  With equal weights this is the ``expected_stddev`` of
    :func:`imbalance_summary` for every OSD.

    Returns
    -------
    DataFrame
        ``osd_id, pgs, target, p, expected_stddev`` over the OSDs with a non-zero target;
        ``attrs["n"]`` is ``n``.
    """
    im = imbalance(snap, by)
    im = im[im.target > 0]
    n = int(round(float(im.target.sum())))
    out = im[["osd_id", "pgs", "target"]].reset_index(drop=True)
    out["p"] = out.target / n if n > 0 else np.nan
    out["expected_stddev"] = np.sqrt(n * out.p * (1 - out.p))
    out.attrs["n"] = n
    return out


def pg_count_histogram(snap: Snapshot, by: str = "up", *, bins: int = 20) -> pd.DataFrame:
    """Observed PGs-per-OSD distribution against uniformly random placement.

    Random placement of ``n`` copies gives an OSD with weight share ``p`` a Binomial(``n``, ``p``) count
    (see :func:`expected_spread`); the expected number of OSDs in a bin is the sum over OSDs of the
    probability that their count falls in it.  With equal weights (``p = 1/N`` for all) this is
    ``N × P(left ≤ X < right)`` for X ~ Binomial(n, 1/N), the spread osdmaptool's "expected" stddev refers to.

    Parameters
    ----------
    snap : Snapshot
    by : {"up", "acting", "up_primary", "acting_primary"}
    bins : int
        About how many bins to use.  Bins are integer-aligned, of equal width, and cover both the observed
        counts and every OSD's target ± 4 expected standard deviations.

    Returns
    -------
    DataFrame
        ``left``, ``right`` (bin ``[left, right)``, int), ``osds`` (OSDs observed in the bin) and
        ``expected`` (expected OSDs in the bin), over the OSDs with a non-zero target (see
        :func:`imbalance`).  ``attrs`` holds ``n`` (copies), ``n_osds`` and ``equal_weights``.
    """
    spread = expected_spread(snap, by)
    counts = spread.pgs.to_numpy(dtype=np.int64)
    n_osds = len(counts)
    n = int(spread.attrs.get("n", 0))
    if n_osds == 0 or n == 0:
        out = pd.DataFrame({"left": [], "right": [], "osds": [], "expected": []})
        out.attrs.update(n=0, n_osds=0, equal_weights=True)
        return out
    ps = spread.p.to_numpy(dtype=float)
    equal = bool(np.allclose(ps, ps[0], rtol=1e-12, atol=0.0))
    tgt, sd = spread.target.to_numpy(dtype=float), spread.expected_stddev.to_numpy(dtype=float)
    lo = max(int(min(counts.min(), math.floor((tgt - 4 * sd).min()))), 0)
    hi = int(max(counts.max(), math.ceil((tgt + 4 * sd).max()))) + 1
    width = max(1, math.ceil((hi - lo) / max(int(bins), 1)))
    edges = np.arange(lo, hi + width, width, dtype=np.int64)
    if edges[-1] < hi:
        edges = np.append(edges, edges[-1] + width)
    left, right = edges[:-1], edges[1:]
    # the last edge lies past every count, so np.histogram's closed last bin equals our [left, right)
    observed = np.histogram(counts, bins=edges)[0]
    ks = np.arange(lo, int(edges[-1]), dtype=np.int64)
    expected = np.zeros(len(left))
    uniq, mult = np.unique(np.round(ps, 15), return_counts=True) if not equal else (ps[:1], [n_osds])
    for p, m in zip(uniq, mult, strict=True):
        expected += m * np.add.reduceat(_binomial_pmf(n, float(p), ks), (left - lo).astype(np.int64))
    out = pd.DataFrame({"left": left, "right": right, "osds": observed.astype(np.int64),
                        "expected": expected})
    out.attrs.update(n=n, n_osds=n_osds, equal_weights=equal)
    return out


def osd_utilization(snap: Snapshot) -> pd.DataFrame:
    """Per-OSD %used against the cluster-wide %used (what ``ceph osd df`` calls VAR = 1).

    Returns
    -------
    DataFrame
        ``osd_id, host, utilization, target, deviation`` for the OSDs whose utilization is known;
        ``target`` is ``100 × Σ kb_used / Σ kb`` when ``kb``/``kb_used`` are known, else the mean
        utilization.  Raises ValueError when the snapshot has no utilization (no ``osd df`` dump).
    """
    osds = snap.osds
    if not len(osds) or "utilization" not in osds.columns or osds["utilization"].isna().all():
        raise ValueError("the snapshot has no OSD utilization (load a `ceph osd df` dump)")
    df = osds[osds["utilization"].notna()].copy()
    util = pd.to_numeric(df["utilization"], errors="coerce").astype(float)
    target = float("nan")
    if {"kb", "kb_used"} <= set(df.columns):
        kb = pd.to_numeric(df["kb"], errors="coerce").astype(float)
        used = pd.to_numeric(df["kb_used"], errors="coerce").astype(float)
        if kb.notna().all() and used.notna().all() and kb.sum() > 0:
            target = 100.0 * float(used.sum()) / float(kb.sum())
    if math.isnan(target):
        target = float(util.mean())
    host = df["host"] if "host" in df.columns else pd.Series([None] * len(df), index=df.index)
    out = pd.DataFrame({"osd_id": df["osd_id"].astype(np.int64).to_numpy(), "host": host.to_numpy(),
                        "utilization": util.to_numpy(), "target": target})
    out["deviation"] = out.utilization - out.target
    return out.sort_values("osd_id").reset_index(drop=True)


def crush_hierarchy(snap: Snapshot, by: str = "up") -> pd.DataFrame:
    """The CRUSH hierarchy as a node table, with each node's share of weight and of PGs.

    The hierarchy comes from ``snap.crush`` (shadow buckets left out), else from the ``ceph osd tree``
    bucket table (``snap.meta["extra"]["osd_tree"]["tree"]``) with the OSDs attached to their host, else
    from ``snap.osds.host`` under a single root named ``default``.

    Returns
    -------
    DataFrame
        One row per node in depth-first order: ``id`` (negative for buckets), ``name``, ``type``
        (``osd`` for devices), ``parent_id`` (nullable), ``depth`` (0 at roots), ``crush_weight``,
        ``device_class`` (OSDs), ``pgs`` (PG copies on the OSDs below, see :func:`pg_counts`),
        ``weight_share`` and ``pg_share`` (fractions of the node's root).
    """
    counts = pg_counts(snap, by) if len(snap.pgs) else pd.Series(dtype=np.int64)
    osds = snap.osds.set_index("osd_id") if len(snap.osds) else pd.DataFrame()
    children: dict[int, list[int]] = {}
    info: dict[int, dict[str, Any]] = {}

    def osd_info(o: int, weight: float | None = None, dclass: Any = None) -> dict[str, Any]:
        row = osds.loc[o] if o in osds.index else None
        if weight is None:
            weight = float(row["crush_weight"]) if row is not None and "crush_weight" in row.index \
                and not pd.isna(row["crush_weight"]) else 0.0
        if dclass is None and row is not None and "device_class" in row.index and not pd.isna(row["device_class"]):
            dclass = row["device_class"]
        name = row["name"] if row is not None and "name" in row.index and not pd.isna(row["name"]) else f"osd.{o}"
        return {"name": name, "type": "osd", "crush_weight": float(weight), "device_class": dclass}

    roots: list[int] = []
    crush = snap.crush
    tree = (snap.meta.get("extra") or {}).get("osd_tree", {}) if isinstance(snap.meta, dict) else {}
    tree = tree.get("tree") if isinstance(tree, dict) else None
    if crush is not None:
        parents = crush.parents()
        for bid, b in crush.buckets.items():
            if "~" in b.name:
                continue
            info[bid] = {"name": b.name, "type": crush.types.get(b.type_id, str(b.type_id)),
                         "crush_weight": b.weight / 0x10000, "device_class": None}
            children[bid] = [int(i) for i in b.items]
            for it, w in zip(b.items, b.weights, strict=True):
                if it >= 0:
                    dclass = crush.devices.get(it, (None, None))[1]
                    info[int(it)] = osd_info(int(it), w / 0x10000, dclass)
            if bid not in parents:
                roots.append(bid)
        roots.sort(reverse=True)
    elif isinstance(tree, pd.DataFrame) and len(tree):
        for r in tree.itertuples(index=False):
            bid = int(r.id)
            info[bid] = {"name": r.name, "type": r.type, "crush_weight": float(r.crush_weight),
                         "device_class": None}
            children.setdefault(bid, [])
        for r in tree.itertuples(index=False):
            if pd.isna(r.parent_id):
                roots.append(int(r.id))
            else:
                children.setdefault(int(r.parent_id), []).append(int(r.id))
        by_name = {v["name"]: k for k, v in info.items()}
        for o in osds.index:
            host = osds.loc[o, "host"] if "host" in osds.columns else None
            if host in by_name:
                info[int(o)] = osd_info(int(o))
                children[by_name[host]].append(int(o))
    else:
        info[-1] = {"name": "default", "type": "root", "crush_weight": 0.0, "device_class": None}
        children[-1] = []
        roots.append(-1)
        hosts: dict[str, int] = {}
        ids = sorted(set(osds.index.astype(int)) | set(int(o) for o in counts.index))
        for o in ids:
            host = osds.loc[o, "host"] if o in osds.index and "host" in osds.columns else None
            host = "(no host)" if host is None or pd.isna(host) else str(host)
            if host not in hosts:
                hosts[host] = -2 - len(hosts)
                info[hosts[host]] = {"name": host, "type": "host", "crush_weight": 0.0, "device_class": None}
                children[hosts[host]] = []
                children[-1].append(hosts[host])
            info[o] = osd_info(o)
            children[hosts[host]].append(o)
        for h in hosts.values():
            info[h]["crush_weight"] = sum(info[o]["crush_weight"] for o in children[h])
        info[-1]["crush_weight"] = sum(info[h]["crush_weight"] for h in hosts.values())

    rows: list[tuple] = []

    def walk(node: int, parent: int | None, depth: int, root: int) -> int:
        if depth > len(info) + 1:
            raise ValueError("the CRUSH hierarchy has a cycle")
        if node >= 0:
            pgs = int(counts.get(node, 0))
            rows.append((node, parent, depth, root, pgs))
            return pgs
        idx = len(rows)
        rows.append((node, parent, depth, root, 0))
        total = sum(walk(c, node, depth + 1, root) for c in children.get(node, []))
        rows[idx] = (node, parent, depth, root, total)
        return total

    for r in roots:
        walk(r, None, 0, r)
    df = pd.DataFrame(rows, columns=["id", "parent_id", "depth", "root", "pgs"])
    df["name"] = [info[i]["name"] for i in df.id]
    df["type"] = [info[i]["type"] for i in df.id]
    df["crush_weight"] = [float(info[i]["crush_weight"]) for i in df.id]
    df["device_class"] = [info[i]["device_class"] for i in df.id]
    root_w = df.root.map(df.set_index("id").crush_weight)
    root_p = df.root.map(df.set_index("id").pgs)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["weight_share"] = np.where(root_w > 0, df.crush_weight / root_w, np.nan)
        df["pg_share"] = np.where(root_p > 0, df.pgs / root_p, np.nan)
    df["parent_id"] = df["parent_id"].astype("Int64")
    return df[["id", "name", "type", "parent_id", "depth", "crush_weight", "device_class", "pgs",
               "weight_share", "pg_share"]]


def osd_load(snap: Snapshot, by: str = "up") -> pd.DataFrame:
    """Per OSD: CRUSH weight, PG copies, and the bytes and objects of those copies, with their shares.

    Bytes and objects come from the PG statistics of the dump (``snap.pgs.bytes``/``objects``): each PG's
    size is credited to every OSD of its ``by`` set (a replica holds the whole PG; for EC pools a shard
    holds about 1/k of it, which this does not model).

    Returns
    -------
    DataFrame
        ``osd_id, host, crush_weight, pgs, bytes, objects`` (+ ``kb_used`` when ``ceph osd df`` was
        loaded), and ``weight_share``, ``pg_share``, ``bytes_share`` (fractions of the column totals).
        OSDs with neither PGs nor weight are left out.
    """
    im = imbalance(snap, by)
    pl = placements(snap, by)
    pgs = snap.pgs
    stats = [c for c in ("bytes", "objects") if c in pgs.columns]
    if stats and len(pl):
        per_pg = pgs[["pgid", *stats]].copy()
        for c in stats:
            per_pg[c] = pd.to_numeric(per_pg[c], errors="coerce").astype("Int64")
        sums = pl[["pgid", "osd_id"]].merge(per_pg, on="pgid", how="left").groupby("osd_id")[stats].sum(
            min_count=1)
    else:
        sums = pd.DataFrame(index=pd.Index([], name="osd_id"))
    out = im[["osd_id", *[c for c in ("host", "crush_weight") if c in im.columns], "pgs"]].copy()
    for c in ("bytes", "objects"):
        col = sums[c] if c in sums.columns else pd.Series(dtype="Int64")
        out[c] = out.osd_id.map(col).astype("Int64")
    if len(snap.osds) and "kb_used" in snap.osds.columns and snap.osds["kb_used"].notna().any():
        out["kb_used"] = out.osd_id.map(snap.osds.set_index("osd_id")["kb_used"]).astype("Int64")
    w = pd.to_numeric(out["crush_weight"], errors="coerce").astype(float) if "crush_weight" in out.columns \
        else pd.Series(1.0, index=out.index)
    for share, col in (("weight_share", w), ("pg_share", out.pgs.astype(float)),
                       ("bytes_share", out["bytes"].astype("Float64").astype(float))):
        tot = float(col.sum(skipna=True))
        out[share] = col / tot if tot > 0 else np.nan
    return out.reset_index(drop=True)


def host_flows(before: pd.DataFrame, after: pd.DataFrame, hosts: pd.Series | dict, *,
               erasure_pools: Any = ()) -> pd.DataFrame:
    """PG copies (shards) that move from one host to another between two placements.

    Each PG of ``after`` is compared with the PG its data was on in ``before``: the same PG, or, when
    pg_num grew, its ancestor (``pgtools.placement.pgmath.ancestor`` with the pool's pg_num in ``before``).  PGs of
    ``before`` merged away (pg_num shrank) are compared with their merge target in ``after``.  Replicated
    pools compare sets: each OSD that leaves is paired, in order, with one that arrives.  Erasure-coded
    pools (``erasure_pools``) compare position by position.  A copy without a counterpart (size change,
    hole ``NONE``, degraded set) comes from or goes to ``"(none)"``.  PGs of pools absent from ``before``
    (created) or ``after`` (deleted) are left out.

    Parameters
    ----------
    before, after : DataFrame
        Placements with ``pgid``, ``pool_id``, ``ps`` and ``up`` (e.g. two ``Plan.mappings``).
    hosts : Series or dict
        ``osd_id -> host``; OSDs not in it count as host ``"(no host)"``.
    erasure_pools : iterable of int
        Pool ids compared position by position.

    Returns
    -------
    DataFrame
        ``from_host, to_host, shards`` (one row per pair with at least one shard), sorted by the hosts.
        ``shards.sum()`` over rows with a real ``to_host`` equals the copies written.
    """
    from ..placement.pgmath import ancestor, merge_target

    host_of = dict(hosts.items()) if isinstance(hosts, pd.Series) else dict(hosts)
    ec = {int(p) for p in erasure_pools}

    def name(osd: Any) -> str:
        if osd is None or int(osd) == NONE or int(osd) < 0:
            return "(none)"
        h = host_of.get(int(osd))
        return str(h) if h is not None and not (isinstance(h, float) and np.isnan(h)) else "(no host)"

    def index(frame: pd.DataFrame) -> tuple[dict[tuple[int, int], tuple], dict[int, int]]:
        ups = {(int(p), int(s)): (tuple(u) if isinstance(u, tuple | list) else ())
               for p, s, u in zip(frame["pool_id"], frame["ps"], frame["up"], strict=True)}
        pg_num: dict[int, int] = {}
        for p, s in ups:
            pg_num[p] = max(pg_num.get(p, 0), s + 1)
        return ups, pg_num

    a_up, a_num = index(before)
    b_up, b_num = index(after)
    counts: dict[tuple[str, str], int] = {}

    def add(src: tuple, dst: tuple, pool: int) -> None:
        if pool in ec:
            for i in range(max(len(src), len(dst))):
                o = src[i] if i < len(src) else NONE
                n = dst[i] if i < len(dst) else NONE
                if o != n:
                    key = (name(o), name(n))
                    counts[key] = counts.get(key, 0) + 1
            return
        gone = [o for o in src if o not in dst and o != NONE]
        came = [n for n in dst if n not in src and n != NONE]
        for i in range(max(len(gone), len(came))):
            key = (name(gone[i] if i < len(gone) else None), name(came[i] if i < len(came) else None))
            counts[key] = counts.get(key, 0) + 1

    for (pool, ps), dst in b_up.items():
        if pool not in a_num:
            continue
        src_key = (pool, ps) if (pool, ps) in a_up else (pool, int(ancestor(ps, a_num[pool])))
        if src_key in a_up:
            add(a_up[src_key], dst, pool)
    for (pool, ps), src in a_up.items():
        if (pool, ps) in b_up or pool not in b_num:
            continue
        target = (pool, merge_target(ps, b_num[pool]))
        if target in b_up:
            add(src, b_up[target], pool)
    rows = sorted((f, t, c) for (f, t), c in counts.items() if c)
    return pd.DataFrame(rows, columns=["from_host", "to_host", "shards"]).astype({"shards": np.int64})
