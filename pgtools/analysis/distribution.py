"""What the dump says about PG distribution: the pool × OSD table and weight-aware imbalance.

Everything here takes a :class:`~pgtools.model.Snapshot` (or a ``pgs`` DataFrame where noted) and returns
DataFrames; nothing prints.  The counting itself (:func:`~pgtools.mgr.counts.placements`,
:func:`~pgtools.mgr.counts.pg_counts`) lives in :mod:`pgtools.mgr.counts`, the health checks in
:mod:`pgtools.mgr.health`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..mgr.counts import check_by, pgs_of, placements, require_pgs, rule_devices
from ..model import Snapshot

__all__ = ["pg_table", "pool_osd_weights", "imbalance", "imbalance_summary", "group_imbalance", "expected_spread",
           "pg_count_histogram", "osd_utilization"]


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
        pool_ids = sorted(int(p) for p in pgs_of(data).pool_id.unique())
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


# --------------------------------------------------------------------------------------------------
# weights and targets


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
        devices = rule_devices(snap, getattr(pool, "crush_rule", None))
        ids = sorted(devices) if devices else list(eff.index)
        w = eff.reindex(ids).fillna(0.0)
        tot = float(w.sum())
        for osd, wt in w.items():
            rows.append((int(pool.pool_id), int(osd), float(wt), float(wt) / tot if tot > 0 else 0.0))
    return pd.DataFrame(rows, columns=["pool_id", "osd_id", "weight", "share"])


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
    check_by(by)
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
