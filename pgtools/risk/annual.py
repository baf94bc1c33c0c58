"""Durability over time: annual probability of data loss and MTTDL from failure rates and recovery windows.

Model (stated, not hidden)
--------------------------
* Units fail independently, each at the constant rate ``λ = -ln(1 - afr)`` per year (``afr``: the annualized
  failure rate).  One level (``level="host", afr=0.01``: hosts fail, nothing else), or several at once
  (``afr={"osd": 0.015, "host": 0.01}``): disks fail at their AFR *and* hosts (racks, any bucket type) fail
  as a unit at their own rate, taking every OSD under them down (an OSD is down when it failed or any of its
  ancestors of a failing level failed; :mod:`pgtools.risk.mixed`).  The default, 1.5 % per year, is a round
  value in the range Backblaze's Drive Stats reports publish for their hard-drive fleet (about 1 to 2 % per
  year in 2021-2023: https://www.backblaze.com/cloud-storage/resources/hard-drive-test-data); pass your own
  fleet's figures, and for a host or rack the rate of that unit failing as a whole (power, network, board:
  not the rate of any of its disks failing, which the ``osd`` level carries).
* A failed unit stays a hole for its *recovery window*: ``T = mon_osd_down_out_interval + bytes under it /
  recovery bandwidth``.  Ceph starts recovery only when the down OSDs are marked out (default 600 s, the
  capture's setting when it has one); the bytes come from the PG table (a replica holds its PG's bytes, an
  EC shard 1/k of them; a host or rack: the bytes of all its OSDs) and the bandwidth is the rate at which
  the cluster rebuilds one failed unit's data (``recovery_mbps`` in MB/s; the same for every kind of unit,
  so a host of 20 full OSDs takes 20 times as long as one of them: a documented choice, give a fixed window
  per level to model otherwise).  Or a fixed ``window_hours``, for all levels or per level.
* Ceph never marks OSDs out on its own when ``mon_osd_down_out_interval`` is 0, nor when a whole subtree of
  type ``mon_osd_down_out_subtree_limit`` (default ``rack`` in Pacific, Reef and Tentacle) or larger is down
  (``OSDMonitor::tick``, ``OSDMap::containing_subtree_is_down``): recovery then waits for an operator or the
  unit's return.  Such a unit (a rack, or a host alone in its rack) has no window from bytes and bandwidth;
  it is refused unless a fixed window is given for its level.
* Data is lost when every unit of a *minimal lethal set* (the fewest units whose failure loses some PG, taken
  from the map's real acting sets: :class:`~pgtools.risk.copysets.Copysets` for one level,
  :func:`~pgtools.risk.mixed.mixed_lethal_sets` for a mix) is down at once.  For one such set ``S`` the rate
  is ``sum over i in S of λ_i * prod over j in S, j != i of (λ_j T_j)`` (``i`` fails last, while the others
  are still in their windows; first order in ``λ T``, which is tiny).  The loss rate is the sum over the
  distinct minimal lethal sets (a host covering two copies of a PG is one unit, counted once; a union bound
  over the sets: their events hardly overlap at these rates), the annual probability ``1 - exp(-rate)``, the
  MTTDL ``1 / rate``.

This is the copyset argument of Cidon et al., "Copysets: Reducing the Frequency of Data Loss in Cloud Storage"
(USENIX ATC 2013), evaluated on the copysets CRUSH actually produced rather than on an idealised placement.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..mgr import options
from ..model import Snapshot
from .copysets import Copysets
from .counting import Lethal, decode
from .mixed import MixedSets, mixed_lethal_sets, order_levels

__all__ = ["ANNUAL_COLUMNS", "COMBINATION_COLUMNS", "DEFAULT_AFR", "DEFAULT_RECOVERY_MBPS",
           "DEFAULT_SUBTREE_LIMIT", "annual_risk", "lethal_threshold", "parse_levels"]

#: Default annualized failure rate of one unit (see the module docstring).
DEFAULT_AFR = 0.015
#: Default recovery bandwidth for one failed unit's data, MB/s (10**6 bytes per second).
DEFAULT_RECOVERY_MBPS = 100.0
#: ``mon_osd_down_out_subtree_limit``'s default in Pacific 16.2.15, Reef 18.2.7 and Tentacle 20.2.4
#: (``src/common/options/mon.yaml.in``; each release's ``ceph-conf -D``).
DEFAULT_SUBTREE_LIMIT = "rack"
YEAR_S = 365.25 * 24 * 3600
ANNUAL_COLUMNS = ["level", "pool_id", "pool", "afr", "rates", "window_hours_mean", "windows_hours", "lethal_sets",
                  "lethal_size", "loss_rate_per_year", "p_loss_year", "mttdl_years"]
#: Columns of ``attrs["combinations"]``: the loss rate split by how many units of each level a set has.
COMBINATION_COLUMNS = ["pool_id", "pool", "combination", "lethal_sets", "loss_rate_per_year", "share"]


def lethal_threshold(cs_or_pools: Copysets | pd.DataFrame) -> int:
    """The most units a minimal lethal set can have: ``size - need + 1`` over the pools (tabulate up to it)."""
    pools = cs_or_pools.pools if isinstance(cs_or_pools, Copysets) else cs_or_pools
    return int((pools["size"] - pools["need"] + 1).max())


def parse_levels(text: str, what: str, default_level: str) -> dict[str, float]:
    """``"0.015"`` → ``{default_level: 0.015}``; ``"osd=0.015,host=0.01"`` → one value per level.

    Raises
    ------
    PgtoolsError
        A value that is not a number, a level given twice, nothing given.
    """
    out: dict[str, float] = {}
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    for p in parts:
        name, sep, value = p.partition("=")
        name, value = (name.strip(), value.strip()) if sep else (default_level, name.strip())
        try:
            num = float(value)
        except ValueError:
            raise PgtoolsError(f"{what} {text}: {value!r} is not a number (give 0.015, or osd=0.015,host=0.01)"
                               ) from None
        name = "osd" if name == "device" else name
        if name in out:
            raise PgtoolsError(f"{what} {text}: level {name} given twice")
        out[name] = num
    if not out:
        raise PgtoolsError(f"{what} {text}: give a number, or LEVEL=NUMBER pairs separated by commas")
    return out


def _per_level(value, level: str, what: str) -> dict[str, float]:
    if isinstance(value, Mapping):
        out: dict[str, float] = {}
        for k, v in value.items():
            name = "osd" if k == "device" else str(k)
            if name in out:
                raise PgtoolsError(f"{what}: level {name} given twice")
            out[name] = float(v)
        if not out:
            raise PgtoolsError(f"{what}: give at least one level")
        return out
    return {"osd" if level == "device" else level: float(value)}


def annual_risk(snap: Snapshot | Copysets, *, level: str = "osd", afr: float | Mapping[str, float] = DEFAULT_AFR,
                recovery_mbps: float = DEFAULT_RECOVERY_MBPS,
                window_hours: float | Mapping[str, float] | None = None, down_out_interval: float | None = None,
                down_out_subtree_limit: str | None = None, source: str = "auto", pools: list | None = None,
                sets: tuple | None = None, universe: tuple | None = None) -> pd.DataFrame:
    """Annual probability of data loss and MTTDL, per pool and overall (see the module docstring's model).

    Parameters
    ----------
    snap : Snapshot or Copysets
        The capture, or copysets of one level built with ``jmax >= lethal_threshold``
        (:func:`lethal_threshold`; that level only, and without the subtree-limit check, which needs the
        CRUSH tree).
    level : str
        Failing unit (``osd``, ``host``, ...) when ``afr`` is one number (with a Copysets: its level).
    afr : float or mapping
        Annualized failure rate of one unit, 0 < afr < 1 (a level that never fails is left out); or one per
        failing level, ``{"osd": 0.015, "host": 0.01}``: those levels fail together, each unit at its level's
        rate.
    recovery_mbps : float
        MB/s at which one failed unit's data is rebuilt (the window is its bytes over this).
    window_hours : float or mapping, optional
        A fixed recovery window instead, for every level or per level (the others from bytes; required
        when the capture has no PG byte counts, and for units Ceph does not mark out on its own).
    down_out_interval : float, optional
        Seconds before recovery starts (``mon_osd_down_out_interval``); default: the capture's setting, else
        Ceph's default 600 (also when ``snap`` is a Copysets).  Not added to a fixed window.
    down_out_subtree_limit : str, optional
        ``mon_osd_down_out_subtree_limit``: default the capture's config dump, else ``rack``.
    source : str
        Where the acting sets come from (:func:`~pgtools.risk.copysets.pg_sets`).
    pools : list, optional
        Pools to assess (names or ids; all when None).  Not with a Copysets (built for its pools).  The
        failing units are those holding data of any pool, and their windows count all their bytes, so a
        filter does not change the figures of the pools it keeps.
    sets : tuple, optional
        :func:`~pgtools.risk.copysets.pg_sets` of these pools when the caller has it.
    universe : tuple, optional
        :func:`~pgtools.risk.copysets.failure_universe` of these pools when the caller has it.

    Returns
    -------
    pandas.DataFrame
        :data:`ANNUAL_COLUMNS`, one row per pool and ``(all)`` (pool_id -1): ``level`` (the failing levels
        joined by ``+``), ``afr`` (NaN when several levels fail), ``rates`` (``osd=0.015,host=0.01``),
        ``window_hours_mean`` (one level; NaN for several), ``windows_hours`` (mean window per level),
        ``lethal_sets`` (minimal lethal sets of ``lethal_size`` units, the smallest size present),
        ``loss_rate_per_year``, ``p_loss_year``, ``mttdl_years`` (inf when nothing can be lost).
        ``attrs["combinations"]``: the rate split by the levels of the sets' units
        (:data:`COMBINATION_COLUMNS`).

    Raises
    ------
    PgtoolsError
        An AFR outside (0, 1), a window that cannot be sized (no byte counts, a non-positive bandwidth,
        units Ceph does not mark out on its own), levels the copysets do not have.
    """
    if isinstance(snap, Copysets):
        level = snap.level  # one number: the copysets' own level
    rates = _per_level(afr, level, "afr")
    for lv, a in rates.items():
        if not 0 < a < 1:
            raise PgtoolsError(f"afr {a:g} for {lv}: an annualized failure rate must be greater than 0 and "
                               "less than 1 (e.g. 0.015); leave out a level that never fails")
    fixed = {} if window_hours is None else _per_level(window_hours, level, "window_hours")
    if window_hours is not None and not isinstance(window_hours, Mapping):
        fixed = dict.fromkeys(rates, float(window_hours))
    for lv, h in fixed.items():
        if lv not in rates:
            raise PgtoolsError(f"window_hours (--window-hours) for {lv}: not a failing level (failing: "
                               f"{', '.join(rates)})")
        if not h > 0:
            raise PgtoolsError(f"window_hours (--window-hours) {h:g}: must be positive")
    if down_out_interval is None:
        down_out_interval = 600.0 if isinstance(snap, Copysets) else float(
            options.resolve(snap, "mon_osd_down_out_interval").value)
    if down_out_interval < 0:
        raise PgtoolsError(f"down_out_interval {down_out_interval}: must be 0 or more seconds")
    if isinstance(snap, Copysets):
        lv = "osd" if snap.level == "device" else snap.level
        if set(rates) != {lv} or pools is not None:
            raise PgtoolsError(f"copysets of the {snap.level} level carry no other level nor pool choice; pass "
                               f"the snapshot for afr={rates}")
        T = _windows_of(lv, snap.units, snap.unit_bytes, np.zeros(snap.n, dtype=bool), fixed.get(lv),
                        recovery_mbps, down_out_interval)
        return _copysets_annual(snap, rates[lv], T)
    if down_out_subtree_limit is None:
        down_out_subtree_limit = str((snap.config or {}).get("mon_osd_down_out_subtree_limit",
                                                             DEFAULT_SUBTREE_LIMIT))
    levels = order_levels(snap, rates)
    ms = mixed_lethal_sets(snap, levels, pools=pools, source=source, sets=sets, universe=universe)
    for text in ms.warnings:
        warnings.warn(text, PgtoolsWarning, stacklevel=2)
    T = np.zeros(ms.n)
    for li, lv in enumerate(levels):
        sel = ms.unit_level == li
        kept = kept_in(snap, ms.unit_ids[sel], down_out_subtree_limit) if lv not in fixed else None
        T[sel] = _windows_of(lv, ms.units[sel], ms.unit_bytes[sel], kept, fixed.get(lv), recovery_mbps,
                             down_out_interval, down_out_subtree_limit)
    return _mixed_annual(ms, rates, T)


def kept_in(snap: Snapshot, unit_ids: np.ndarray, limit: str) -> np.ndarray:
    """Per unit: does its failure alone leave a whole subtree of type ``limit`` or larger down?

    Ceph's monitor then does not mark the OSDs out (``OSDMonitor::tick`` with
    ``mon_osd_down_out_subtree_limit``): walking up from an OSD, ``OSDMap::containing_subtree_is_down``
    answers true at the first ancestor of that type or larger whose devices are all down.  Without a CRUSH
    map, or when the map has no such type (or it is ``osd``, type 0), nothing is kept in.
    """
    crush = snap.crush
    out = np.zeros(len(unit_ids), dtype=bool)
    tids = [t for t, name in crush.types.items() if name == limit] if crush is not None else []
    if not tids or tids[0] <= 0:
        return out
    lim, par, cache = tids[0], crush.parents(), {}

    def devices(item: int) -> frozenset:
        if item not in cache:
            cache[item] = frozenset([item] if item >= 0 else crush.subtree_devices(item))
        return cache[item]

    for i, u in enumerate(unit_ids.tolist()):
        cur = u
        while True:
            t = 0 if cur >= 0 else crush.buckets[cur].type_id
            if t >= lim:
                out[i] = devices(cur) <= devices(u)
                break
            if cur not in par:
                break
            cur = par[cur]
    return out


def _windows_of(level: str, names: np.ndarray, nbytes: np.ndarray, kept: np.ndarray | None, hours: float | None,
                mbps: float, wait: float, limit: str | None = None) -> np.ndarray:
    """Recovery window, seconds, of each unit of one level (see the module docstring)."""
    if hours is not None:
        return np.full(len(nbytes), hours * 3600.0)
    if wait == 0:
        raise PgtoolsError(f"{level}: mon_osd_down_out_interval is 0, so Ceph never marks down OSDs out on its own "
                           f"(OSDMonitor::tick): recovery waits for an operator; {_give_window(level)}")
    if kept is not None and kept.any():
        shown = ", ".join(str(x) for x in names[kept][:3]) + (f" (+{int(kept.sum()) - 3} more)" if kept.sum() > 3
                                                                else "")
        raise PgtoolsError(f"{shown}: when this {level} fails, a whole {limit} subtree is down and Ceph does not mark "
                           f"its OSDs out (mon_osd_down_out_subtree_limit = {limit}): recovery waits for an "
                           f"operator; {_give_window(level)}")
    if mbps <= 0:
        raise PgtoolsError(f"recovery_mbps (--recovery-mbps) {mbps:g}: must be positive")
    if not nbytes.sum() > 0:
        raise PgtoolsError(f"the capture has no PG byte counts to size the recovery windows; {_give_window(level)}")
    return wait + nbytes / (mbps * 1e6)


def _give_window(level: str) -> str:
    """What to give for a window that cannot be sized: the API argument and the CLI flag."""
    return f"give window_hours for {level} (--window-hours {level}=HOURS)"


def _set_rates(sets: np.ndarray, lam: np.ndarray, tw: np.ndarray) -> np.ndarray:
    """Per set (rows of unit indices), loss rate per year: ``sum_i λ_i prod_{k != i} λ_k T_k``."""
    per = np.zeros(len(sets))
    for i in range(sets.shape[1]):
        term = lam[sets[:, i]].copy()
        for k in range(sets.shape[1]):
            if k != i:
                term = term * tw[sets[:, k]]
        per += term
    return per * YEAR_S


def _row(level, pid, name, afr, rates, T_mean, windows, nsets, size, rate) -> dict:
    return {"level": level, "pool_id": pid, "pool": name, "afr": afr, "rates": rates, "window_hours_mean": T_mean,
            "windows_hours": windows, "lethal_sets": int(nsets), "lethal_size": int(size), "loss_rate_per_year": rate,
            "p_loss_year": -math.expm1(-rate), "mttdl_years": math.inf if rate == 0 else 1 / rate}


def _pool_names(pools: pd.DataFrame) -> list[tuple[int, str]]:
    return [(int(r["pool_id"]), r["pool"]) for r in pools.to_dict("records")] + [(-1, "(all)")]


def _mixed_annual(ms: MixedSets, rates: dict[str, float], T: np.ndarray) -> pd.DataFrame:
    levels = ms.levels
    lam_level = np.array([-math.log1p(-rates[lv]) / YEAR_S for lv in levels])
    lam = lam_level[ms.unit_level]
    tw = lam * T
    ncol = len(ms.pools) + 1
    rate, nsets, size = np.zeros(ncol), np.zeros(ncol, dtype=np.int64), np.zeros(ncol, dtype=np.int64)
    combo: dict[tuple[int, str], list] = {}
    for j in range(1, len(ms.keys)):
        mini = ms.minimal[j]
        if not len(mini) or not mini.any():
            continue
        sets = decode(ms.keys[j], j, ms.n)  # every key is minimal for some column
        per = _set_rates(sets, lam, tw)
        lv_of = ms.unit_level[sets]
        counts = np.stack([(lv_of == li).sum(1) for li in range(len(levels))], axis=1)
        sig = counts @ ((j + 1) ** np.arange(len(levels)))
        for col in range(ncol):
            sel = mini[:, col]
            if not sel.any():
                continue
            rate[col] += per[sel].sum()
            if size[col] == 0:
                size[col], nsets[col] = j, int(sel.sum())
            nsig = (j + 1) ** len(levels)
            byr = np.bincount(sig[sel], weights=per[sel], minlength=nsig)
            byn = np.bincount(sig[sel], minlength=nsig)
            for s in np.flatnonzero(byn).tolist():
                cnt = [(s // (j + 1) ** li) % (j + 1) for li in range(len(levels))]
                label = " + ".join(f"{c_} {lv}" for c_, lv in zip(cnt, levels, strict=True) if c_)
                acc = combo.setdefault((col, label), [0, 0.0])
                acc[0] += int(byn[s])
                acc[1] += float(byr[s])
    level = "+".join(levels)
    single = len(levels) == 1
    text = ",".join(f"{lv}={rates[lv]:g}" for lv in levels)
    windows = ",".join(f"{lv}={T[ms.unit_level == li].mean() / 3600:.4g}" for li, lv in enumerate(levels))
    names = _pool_names(ms.pools)
    rows = [_row(level, pid, name, rates[levels[0]] if single else math.nan, text,
                 float(T.mean() / 3600) if single else math.nan, windows, nsets[col], size[col], rate[col])
            for col, (pid, name) in enumerate(names)]
    df = pd.DataFrame(rows, columns=ANNUAL_COLUMNS)
    df.attrs["combinations"] = _combinations(names, rate, [(col, label, n, r) for (col, label), (n, r)
                                                           in combo.items()])
    return df


def _copysets_annual(cs: Copysets, afr: float, T: np.ndarray) -> pd.DataFrame:
    """One level, on copysets tabulated up to :func:`lethal_threshold` (the minimal sets from :class:`Lethal`)."""
    top = lethal_threshold(cs)
    if cs.jmax < min(top, cs.span):
        raise PgtoolsError(f"the copysets were tabulated up to {cs.jmax} units; lethal sets may have {top}")
    lam = -math.log1p(-afr) / YEAR_S  # per second
    lam_u = np.full(cs.n, lam)
    leth = Lethal(cs)
    npools = len(cs.pools)
    rate = np.zeros(npools + 1)
    nsets = np.zeros(npools + 1, dtype=np.int64)
    size = np.zeros(npools + 1, dtype=np.int64)
    lv = "osd" if cs.level == "device" else cs.level
    combo = []
    for j in range(1, cs.jmax + 1):
        if not len(cs.keys[j]):
            continue
        mini = leth.minimal(j)[:, :, 0]  # (keys, columns): minimal lethal for "lost"
        if not mini.any():
            continue
        per = _set_rates(decode(cs.keys[j], j, cs.n), lam_u, lam_u * T)
        for col in range(npools + 1):
            sel = mini[:, col]
            if sel.any():
                rate[col] += per[sel].sum()
                combo.append((col, f"{j} {lv}", int(sel.sum()), float(per[sel].sum())))
                if size[col] == 0:
                    size[col] = j
                    nsets[col] = int(sel.sum())
    windows = f"{lv}={T.mean() / 3600:.4g}"
    names = _pool_names(cs.pools)
    rows = [_row(cs.level, pid, name, afr, f"{lv}={afr:g}", float(T.mean() / 3600), windows, nsets[col], size[col],
                 rate[col]) for col, (pid, name) in enumerate(names)]
    df = pd.DataFrame(rows, columns=ANNUAL_COLUMNS)
    df.attrs["combinations"] = _combinations(names, rate, combo)
    return df


def _combinations(names: list[tuple[int, str]], rate: np.ndarray, combo: list[tuple]) -> pd.DataFrame:
    """:data:`COMBINATION_COLUMNS` from ``(column, label, sets, rate)`` tuples, largest share first per pool."""
    rows = [{"pool_id": names[col][0], "pool": names[col][1], "combination": label, "lethal_sets": n,
             "loss_rate_per_year": r, "share": r / rate[col] if rate[col] > 0 else math.nan}
            for col, label, n, r in combo]
    out = pd.DataFrame(rows, columns=COMBINATION_COLUMNS)
    if len(out):
        out = out.sort_values(["pool_id", "loss_rate_per_year"], ascending=[True, False], ignore_index=True)
    return out
