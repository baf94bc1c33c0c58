"""The mgr ``pg_autoscaler``: recompute ``ceph osd pool autoscale-status`` from a snapshot.

Implements ``src/pybind/mgr/pg_autoscaler/module.py`` as described in ``docs/ceph_algorithms.md`` §10, in
the variants that differ in results:

``"nautilus"``
    14.2.0: one pass, usage = ``bytes_used``, ``pool_pg_target = ratio × budget / raw_used_rate × bias``,
    ``PG_NUM_MIN = 4``, no target-ratio normalisation.
``"octopus"``
    one pass, usage = ``stored``, target ratios normalised (``effective_target_ratio``), divides by the
    pool *size*, ``PG_NUM_MIN = 32``.
``"pacific"`` (default, 16.2.8 and later) and ``"quincy"``
    the three-pass ``bulk`` algorithm: non-bulk pools take their used share of the subtree's PG budget
    first, then bulk pools above the even share, then the remaining bulk pools split what is left
    evenly.  Pools whose CRUSH roots overlap are skipped.  ``would_adjust`` also needs mode ``on``:
    the 16.2.15 capture (``seedlike_max300``: mode ``off``, 128 -> 32) reports ``false``.
``"reef"`` (18.2.7)
    like Pacific, but usage = ``bytes_used`` (allocated raw bytes) and ``logical_used = bytes_used /
    rate``; the ``noautoscale`` OSDMap flag shows every pool as ``off``; ``threshold`` is the module option
    ``mgr/pg_autoscaler/threshold`` (default 3.0; Pacific fixes 3.0).
``"tentacle"`` (20.2.4)
    like Reef, with a dynamic threshold when scaling up (``get_dynamic_threshold``: NEW PG_NUM 512 or 1024
    acts at any increase, 2048 at twice PG_NUM, others at ``threshold``; scaling down keeps ``threshold``),
    and ``would_adjust`` is the threshold test alone: a pool in mode ``off`` or ``warn`` (or with a ratio
    outside [0, 1]) reports ``true`` too, though the mgr changes only pools in mode ``on``.

The variant follows the capture's release (:func:`release_for`, :func:`pgtools.mgr.releases.choose`); the
module sources compared are ``src/pybind/mgr/pg_autoscaler/module.py`` of 16.2.15, 18.2.7 and 20.2.4 (as
Debian's ``ceph-mgr-modules-core`` installs them).

Nothing here prints; :mod:`pgtools.mgr.autoscale_output` renders the result as Ceph does (JSON, the plain table)
and compares it with the capture's own ``autoscale-status``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsWarning
from ..model import OSD_DUMP_HINT, Snapshot, derived_pools, id_ranges
from ..model import row_value as _opt
from . import releases
from .options import resolve

__all__ = [
    "RELEASES",
    "AUTOSCALE_FIELDS",
    "PG_NUM_MIN",
    "nearest_power_of_two",
    "raw_used_rate",
    "effective_target_ratio",
    "check_release",
    "autoscale_status",
    "release_for",
    "DYNAMIC_THRESHOLD",
]

RELEASES = ("nautilus", "octopus", "pacific", "quincy", "reef", "tentacle")

#: Module constant ``PG_NUM_MIN`` (used when a pool has no ``pg_num_min`` option).
PG_NUM_MIN = {"nautilus": 4, "octopus": 32, "pacific": 32, "quincy": 32, "reef": 32, "tentacle": 32}
#: Tentacle's ``get_dynamic_threshold``: NEW PG_NUM -> the factor an increase must exceed
DYNAMIC_THRESHOLD = {512: 1.0, 1024: 1.0, 2048: 2.0}
_USES_BYTES_USED = ("nautilus", "reef", "tentacle")
_THREE_PASS = ("pacific", "quincy", "reef", "tentacle")

#: JSON fields of ``ceph osd pool autoscale-status -f json`` (Pacific 16.2.8+).
AUTOSCALE_FIELDS = ["pool_id", "pool_name", "crush_root_id", "pg_autoscale_mode", "pg_num_target",
                    "logical_used", "target_bytes", "raw_used_rate", "subtree_capacity", "actual_raw_used",
                    "raw_used", "actual_capacity_ratio", "capacity_ratio", "target_ratio",
                    "effective_target_ratio", "pg_num_ideal", "pg_num_final", "would_adjust", "bias", "bulk"]


def check_release(release: str) -> str:
    """``release`` itself when it is one of :data:`RELEASES`; ValueError otherwise."""
    if release not in RELEASES:
        raise ValueError(f"release must be one of {', '.join(RELEASES)}, not {release!r}")
    return release


# ------------------------------------------------------------------------------------------- helpers
def nearest_power_of_two(n: float) -> int:
    """The autoscaler's quantisation: the power of two nearest to ``n``; ties round up (48 -> 64).

    ``v = int(n)`` is rounded up to a power of two ``hi`` (bit smearing); ``lo = hi // 2``; the result is
    ``lo`` if ``hi - n > n - lo`` (with the float ``n``), else ``hi``.  Values below 1 give 0.

    Examples
    --------
    >>> nearest_power_of_two(48), nearest_power_of_two(47.9), nearest_power_of_two(3.01)
    (64, 32, 4)
    """
    v = int(n)
    if v < 1:
        return 0
    hi = 1 << (v - 1).bit_length()
    lo = hi >> 1
    return lo if (hi - n) > (n - lo) else hi


def raw_used_rate(pool: pd.Series | dict) -> float:
    """``OSDMap::pool_raw_used_rate``: ``size`` for replicated pools, ``(k+m)/k`` as a C float for EC.

    Returns 0.0 for an erasure pool whose profile (``ec_k``/``ec_m``) is unknown.
    """
    ptype = str(_opt(pool, "type", "replicated"))
    if ptype in ("erasure", "3"):
        k, m = _opt(pool, "ec_k", None), _opt(pool, "ec_m", None)
        if k is None or m is None or int(k) == 0:
            return 0.0
        return float(np.float32(int(k) + int(m)) / np.float32(int(k)))
    return float(int(_opt(pool, "size", 0)))


def effective_target_ratio(target_ratio: float, total_target_ratio: float, total_target_bytes: float,
                           capacity: float) -> float:
    """A pool's target ratio normalised over the subtree and reduced by space reserved in bytes.

    ``target_ratio / total_target_ratio`` (when the total is non-zero), times
    ``1 - min(1, total_target_bytes / capacity)`` (when both are non-zero).
    """
    r = float(target_ratio)
    if total_target_ratio:
        r = r / total_target_ratio
    if total_target_bytes and capacity:
        r *= 1.0 - min(1.0, float(total_target_bytes) / capacity)
    return r


# ------------------------------------------------------------------------------------------- inputs
@dataclass
class _Subtree:
    root_ids: list[int] = field(default_factory=list)
    osds: set[int] = field(default_factory=set)
    pool_ids: list[int] = field(default_factory=list)
    capacity: float = 0
    pg_target: int = 0
    pg_left: float = 0
    pool_count: int = 0
    pool_used: int = 0
    total_target_ratio: float = 0.0
    total_target_bytes: float = 0


def _rule_root(crush: Any, rule_id: int) -> int | None:
    """The first ``take`` item of the rule (the mgr's ``get_rule_root``), None without such a rule."""
    rule = (getattr(crush, "rules", None) or {}).get(int(rule_id))
    return rule.takes[0] if rule is not None and rule.takes else None


def _osd_capacity_kb(snap: Snapshot) -> dict[int, int]:
    """kb per OSD as the mgr's ``osd_stats`` has it (pg dump's osd_stats first, then the OSD table)."""
    for df in (snap.osd_stats, snap.osds):
        if df is not None and len(df) and "kb" in df.columns and "osd_id" in df.columns:
            out = {}
            for osd, kb in zip(df["osd_id"], df["kb"], strict=True):
                if not pd.isna(kb):
                    out[int(osd)] = int(kb)
            if out:
                return out
    return {}


def _usage(stats: pd.Series | None, release: str, rate: float) -> tuple[Any, str]:
    """The per-pool usage figure the release reads from ``df`` (stored or bytes_used), and its origin."""
    if stats is None:
        return None, "no usage statistics"
    if release in _USES_BYTES_USED:
        v = _opt(stats, "bytes_used", None)
        if v is not None:
            return int(v), "bytes_used"
        v = _opt(stats, "stored", None)
        if v is None:
            v = _opt(stats, "bytes", None)
        if v is None:
            return None, "no usage statistics"
        return int(round(int(v) * rate)), "bytes_used estimated as stored × rate"
    v = _opt(stats, "stored", None)
    if v is not None:
        return int(v), "stored"
    v = _opt(stats, "bytes", None)
    if v is not None:
        return int(v), "stored taken from the PG dump's pool bytes"
    return None, "no usage statistics"


# ------------------------------------------------------------------------------------------- main
def _assumptions(snap: Snapshot, crush: Any) -> list[str]:
    """What :func:`autoscale_status` assumes for this capture, one line each (empty when nothing)."""
    out = []
    derived = derived_pools(snap.pools)
    if derived:
        assumed = sorted(p for p, f in derived.items() if "type" in f and
                         str(snap.pools.loc[snap.pools.pool_id == p, "type"].iloc[0]) == "replicated")
        rate = (f"; RATE = size assumes pools {id_ranges(assumed)} are replicated (an erasure-coded pool's rate is "
                "(k+m)/k: its RATIO and NEW PG_NUM would be lower)") if assumed else ""
        out.append(f"autoscale: pools {id_ranges(sorted(derived))} known only from the PG dump: pg_num and size "
                   "derived from it, autoscale mode (shown as off), target size/ratio, bias, pg_num_min and bulk "
                   f"unknown (defaults used){rate}: {OSD_DUMP_HINT}")
    if crush is None and len(snap.pools):
        out.append("autoscale: no CRUSH map: all OSDs taken as one CRUSH subtree (RAW CAPACITY is the whole "
                   "cluster's): add `ceph osd crush dump -f json`")
    return out


def autoscale_status(
    snap: Snapshot,
    *,
    release: str | None = None,
    mon_target_pg_per_osd: int | None = 100,
    threshold: float | None = None,
    crush: Any = None,
    noautoscale: bool | None = None,
    include_skipped: bool = False,
) -> pd.DataFrame:
    """Recompute ``ceph osd pool autoscale-status -f json`` for a snapshot.

    Parameters
    ----------
    snap : Snapshot
        Needs ``pools`` (``pg_num_target``, ``size``, ``crush_rule``, autoscale options), ``pool_stats``
        (``stored``/``bytes_used`` from ``ceph df detail``; the PG dump's pool ``bytes`` are used as
        ``stored`` when that is all there is) and OSD sizes (``osd_stats.kb`` or ``osds.kb``).
    release : {"tentacle", "reef", "quincy", "pacific", "octopus", "nautilus"}, optional
        Which autoscaler to run (see the module documentation); default :func:`release_for` the snapshot.
    mon_target_pg_per_osd : int or None
        PG replicas per OSD the autoscaler aims for (default 100).  None: the capture's
        ``ceph config dump`` value when it has one, else 100.
    threshold : float, optional
        How far (as a factor) the new pg_num must be from the current one to act; default the module option
        ``mgr/pg_autoscaler/threshold`` from the capture's config dump (Reef+), else 3.0.
    crush : CrushMap, optional
        Overrides ``snap.crush``.  Without any CRUSH map all OSDs form one subtree and
        ``crush_root_id`` is None.
    noautoscale : bool, optional
        The ``noautoscale`` OSDMap flag (Reef+ shows every pool as ``off``); default: read from
        ``snap.osdmap.flags``.
    include_skipped : bool
        Also return pools Ceph leaves out (no usage stats, overlapping roots, empty subtree), with
        ``skipped=True`` and the reason.

    Returns
    -------
    DataFrame
        The JSON fields (:data:`AUTOSCALE_FIELDS`) in Ceph's output order (pass 1 pools, then bulk
        pools), plus ``pass`` (1, 2 or 3), ``noautoscale``, ``skipped`` and ``reason`` (how the result
        came about, in words).

    Raises
    ------
    ValueError
        Unknown release, threshold below 1.0, or non-positive ``mon_target_pg_per_osd``.
    """
    release = check_release(release_for(snap) if release is None else release)
    if threshold is None:
        threshold = float(resolve(snap, "mgr/pg_autoscaler/threshold", release=release).value)
    if mon_target_pg_per_osd is None:  # the capture's value, with its source (pgtools.mgr.options)
        mon_target_pg_per_osd = int(resolve(snap, "mon_target_pg_per_osd").value)
    if not threshold >= 1.0:
        raise ValueError(f"threshold must be at least 1.0, not {threshold}")
    if int(mon_target_pg_per_osd) <= 0:
        raise ValueError("mon_target_pg_per_osd must be positive")
    crush = snap.crush if crush is None else crush
    for w in _assumptions(snap, crush):
        warnings.warn(w, PgtoolsWarning, stacklevel=2)
    if noautoscale is None:
        flags = snap.osdmap.flags
        noautoscale = "noautoscale" in (flags if isinstance(flags, str) else ",".join(map(str, flags or [])))
    three_pass = release in _THREE_PASS
    pools = snap.pools.sort_values("pool_id") if len(snap.pools) else snap.pools
    stats_by_pool: dict[int, pd.Series] = {}
    if snap.pool_stats is not None and len(snap.pool_stats):
        for _, r in snap.pool_stats.iterrows():
            stats_by_pool[int(r["pool_id"])] = r
    kb = _osd_capacity_kb(snap)

    # ---- subtrees (identify_subtrees_and_overlaps / get_subtree_resource_status)
    by_root: dict[Any, _Subtree] = {}
    subtrees: list[_Subtree] = []
    overlapped: set[Any] = set()
    pool_root: dict[int, Any] = {}
    pool_notes: dict[int, str] = {}
    all_osds = sorted(kb) if kb else sorted(int(i) for i in snap.osds.get("osd_id", []))
    for _, p in pools.iterrows():
        pid = int(p["pool_id"])
        rate = raw_used_rate(p)
        if crush is not None:
            root = _rule_root(crush, int(_opt(p, "crush_rule", 0)))
            if root is None:
                pool_notes[pid] = f"crush rule {_opt(p, 'crush_rule', '?')} missing or has no TAKE step"
                continue
            try:
                osds = set(int(o) for o in crush.subtree_devices(root))
            except (KeyError, ValueError) as e:
                pool_notes[pid] = f"root {root} not in the CRUSH map ({e})"
                continue
        else:
            root, osds = None, set(all_osds)
        pool_root[pid] = root
        s = None
        for prev_root, prev in by_root.items():
            if osds & prev.osds:
                s = prev
                if prev_root != root and three_pass:
                    overlapped.update((prev_root, root))
                break
        if s is None:
            s = _Subtree()
            subtrees.append(s)
        by_root[root] = s
        s.root_ids.append(root)
        s.osds |= osds
        s.pool_ids.append(pid)
        if release != "nautilus":
            tsr = float(_opt(p, "target_size_ratio", 0.0))
            if tsr:
                s.total_target_ratio += tsr
            else:
                tsb = int(_opt(p, "target_size_bytes", 0))
                if tsb:
                    s.total_target_bytes += tsb * rate
    for s in subtrees:
        s.pg_target = len(s.osds) * int(mon_target_pg_per_osd)
        s.pg_left = s.pg_target
        s.pool_count = len(s.pool_ids)
        cap = sum(kb[o] * 1024 for o in s.osds if o in kb)
        s.capacity = float(cap) if release in ("nautilus", "octopus") else cap

    # ---- passes
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    pg_num_min_default = PG_NUM_MIN[release]

    def skip(p: pd.Series, why: str) -> None:
        skipped.append({"pool_id": int(p["pool_id"]), "pool_name": str(p["pool"]),
                        "crush_root_id": pool_root.get(int(p["pool_id"])),
                        "pg_autoscale_mode": _opt(p, "pg_autoscale_mode", ""),
                        "pg_num_target": int(_opt(p, "pg_num_target", _opt(p, "pg_num", 0))),
                        "skipped": True, "reason": why})

    def evaluate(p: pd.Series, func_pass: int, deferred_bulk: list, deferred_even: list) -> None:
        pid = int(p["pool_id"])
        name = str(p["pool"])
        if pid in pool_notes:
            if func_pass == 1:
                skip(p, "skipped: " + pool_notes[pid])
            return
        stats = stats_by_pool.get(pid)
        rate = raw_used_rate(p)
        used, used_src = _usage(stats, release, rate)
        if used is None:
            if func_pass == 1:
                skip(p, "skipped: the pool has no usage statistics (ceph df)")
            return
        root = pool_root[pid]
        if root in overlapped:
            if func_pass == 1:
                skip(p, f"skipped: CRUSH root {root} overlaps another pool's root "
                        f"({', '.join(str(r) for r in sorted(overlapped, key=str))}); the autoscaler "
                        "won't scale it")
            return
        sub = by_root[root]
        capacity = sub.capacity
        if capacity == 0:
            if func_pass == 1:
                skip(p, "skipped: the subtree has no capacity (no OSD sizes)")
            return
        size = int(_opt(p, "size", 0))
        bias = float(_opt(p, "bias", 1.0))
        tsr = float(_opt(p, "target_size_ratio", 0.0))
        tsb = int(_opt(p, "target_size_bytes", 0))
        pg_num_target = int(_opt(p, "pg_num_target", _opt(p, "pg_num", 0)))
        mode = str(_opt(p, "pg_autoscale_mode", "off"))
        notes: list[str] = []
        if release == "nautilus":
            target_bytes = tsb
        else:
            target_bytes = tsb if tsr == 0.0 else 0
            if tsr and tsb:
                notes.append("target_size_ratio wins over target_size_bytes")
        if release in ("reef", "tentacle"):
            actual_raw_used = used
            logical_used = float(actual_raw_used) / rate if rate else 0.0
            pool_raw_used = max(actual_raw_used, target_bytes * rate)
        else:
            logical_used = used
            actual_raw_used = logical_used * rate
            pool_raw_used = max(logical_used, target_bytes) * rate
        actual_capacity_ratio = float(actual_raw_used) / capacity
        capacity_ratio = float(pool_raw_used) / capacity
        if release == "nautilus":
            eff = tsr
        else:
            eff = effective_target_ratio(tsr, sub.total_target_ratio, sub.total_target_bytes, capacity)
        flags = str(_opt(p, "flags_names", ""))
        bulk = three_pass and ("bulk" in flags.split(",") or bool(_opt(p, "bulk", False)))

        if not three_pass:
            final_ratio = max(capacity_ratio, eff)
            divisor = rate if release == "nautilus" else size
            pool_pg_target = (final_ratio * sub.pg_target) / divisor * bias if divisor else 0.0
            how = (f"ratio {final_ratio:.4f} × budget {sub.pg_target} / "
                   f"{'rate' if release == 'nautilus' else 'size'} {divisor} × bias {bias}")
            out_ratio = capacity_ratio
        else:
            capacity_ratio = max(capacity_ratio, eff)
            out_ratio = capacity_ratio
            if func_pass == 1:
                if bulk:
                    deferred_bulk.append(p)
                    return
                final_ratio = capacity_ratio
                left = sub.pg_left
                used_pg = final_ratio * left
                sub.pg_left -= int(used_pg)
                sub.pool_used += 1
                pool_pg_target = used_pg / size * bias if size else 0.0
                how = (f"pass 1 (not bulk): ratio {final_ratio:.4f} × {left:g} PGs left = {used_pg:.2f}"
                       f" / size {size} × bias {bias}")
            elif func_pass == 2:
                even = 1.0 / (sub.pool_count - sub.pool_used)
                if not capacity_ratio > even:
                    deferred_even.append(p)
                    return
                sub.pool_used += 1
                final_ratio = capacity_ratio
                left = sub.pg_left
                used_pg = final_ratio * left
                sub.pg_left -= int(used_pg)
                pool_pg_target = used_pg / size * bias if size else 0.0
                how = (f"pass 2 (bulk, ratio {final_ratio:.4f} above the even share {even:.4f}): "
                       f"× {left:g} PGs left = {used_pg:.2f} / size {size} × bias {bias}")
            else:
                final_ratio = 1.0 / (sub.pool_count - sub.pool_used)
                pool_pg_target = (final_ratio * sub.pg_left) / size * bias if size else 0.0
                how = (f"pass 3 (bulk, even share): 1/{sub.pool_count - sub.pool_used} of "
                       f"{sub.pg_left:g} PGs left / size {size} × bias {bias}")
        pg_min = int(_opt(p, "pg_num_min", pg_num_min_default))
        npow = nearest_power_of_two(pool_pg_target)
        final = max(pg_min, npow)
        quant = f" = {pool_pg_target:.2f} -> nearest power of two {npow}"
        if final > npow:
            quant += f", raised to pg_num_min {pg_min}"
        pg_max = _opt(p, "pg_num_max", None) if release != "nautilus" and release != "octopus" else None
        if pg_max and int(pg_max) < final:
            final = int(pg_max)
            quant += f", capped at pg_num_max {final}"
        factor = threshold
        if release == "tentacle" and final > pg_num_target:  # get_dynamic_threshold: scaling up only
            factor = DYNAMIC_THRESHOLD.get(final, threshold)
            out_of_range = final > pg_num_target * factor
        elif release == "tentacle":
            out_of_range = final < pg_num_target / threshold
        else:
            out_of_range = final > pg_num_target * threshold or final < pg_num_target / threshold
        ratio_ok = 0.0 <= final_ratio <= 1.0
        mode_ok = mode == "on" or not three_pass
        if release == "tentacle":  # would_adjust is the threshold test alone; the mgr still acts only on "on"
            adjust = bool(out_of_range)
            if factor != threshold:
                notes.append(f"Tentacle's dynamic threshold {factor:g} for NEW PG_NUM {final}")
        else:
            adjust = bool(out_of_range and ratio_ok and mode_ok)
        if not out_of_range:
            verdict = f"{final} is within a factor {factor:g} of pg_num {pg_num_target}: no change"
        elif release == "tentacle" and not (ratio_ok and mode_ok):
            verdict = (f"would_adjust ({final} is more than {factor:g}× away from {pg_num_target}), but the mgr "
                       f"changes nothing: " + ("autoscale mode is " + mode if not mode_ok else
                                               f"ratio {final_ratio:.4f} is outside [0, 1]"))
        elif not ratio_ok:
            verdict = f"ratio {final_ratio:.4f} is outside [0, 1]: no change"
        elif not mode_ok:
            verdict = (f"{final} is more than {threshold:g}× away from {pg_num_target}, but autoscale mode "
                       f"is {mode}: no change")
        else:
            verdict = f"would set pg_num {pg_num_target} -> {final}"
        if used_src not in ("stored", "bytes_used"):
            notes.append(used_src)
        row = {
            "pool_id": pid,
            "pool_name": name,
            "crush_root_id": root,
            # Reef+: the noautoscale flag shows every pool as off (after would_adjust was decided)
            "pg_autoscale_mode": "off" if noautoscale and release in ("reef", "tentacle") else mode,
            "pg_num_target": pg_num_target,
            "logical_used": logical_used,
            "target_bytes": target_bytes,
            "raw_used_rate": rate,
            "subtree_capacity": capacity,
            "actual_raw_used": actual_raw_used,
            "raw_used": pool_raw_used,
            "actual_capacity_ratio": actual_capacity_ratio,
            "capacity_ratio": out_ratio,
            "target_ratio": tsr,
            "effective_target_ratio": eff,
            "pg_num_ideal": int(pool_pg_target),
            "pg_num_final": final,
            "would_adjust": adjust,
            "bias": bias,
            "bulk": bool(bulk),
            "pass": func_pass,
            "noautoscale": bool(noautoscale),
            "skipped": False,
            "reason": how + quant + "; " + verdict + ("" if not notes else " (" + "; ".join(notes) + ")"),
        }
        rows.append(row)

    bulk_pools: list = []
    even_pools: list = []
    for _, p in pools.iterrows():
        evaluate(p, 1, bulk_pools, even_pools)
    if three_pass:
        for p in bulk_pools:
            evaluate(p, 2, bulk_pools, even_pools)
        for p in even_pools:
            evaluate(p, 3, bulk_pools, even_pools)

    cols = AUTOSCALE_FIELDS + ["pass", "noautoscale", "skipped", "reason"]
    out_rows = rows + (skipped if include_skipped else [])
    df = pd.DataFrame(out_rows, columns=cols)
    if len(df) and not df["crush_root_id"].isna().any():
        df["crush_root_id"] = df["crush_root_id"].astype("int64")
    return df


# ------------------------------------------------------------------------------------------- checking
def _variant(release: str) -> str:
    if release in RELEASES:
        return release
    if release == "squid":
        return "reef"
    return "pacific"  # Luminous/Mimic and older have no autoscaler


def release_for(snap: Snapshot, ceph_release: str | None = None) -> str:
    """The autoscaler variant for a snapshot: that of the release :func:`pgtools.mgr.releases.choose` picks.

    With no release in the capture the newest (Tentacle) is assumed, with a warning when the releases the
    capture could be from run different autoscalers.  Squid (not modelled) runs Reef's, with a warning:
    Tentacle's dynamic threshold may or may not be in it.  Luminous/Mimic (no autoscaler) run Pacific's.
    """
    choice = releases.choose(snap, ceph_release)
    variant = _variant(choice.name)
    releases.warn_if_assumed(choice, "the autoscaler", len({_variant(r) for r in choice.candidates}) > 1)
    if choice.name == "squid":
        warnings.warn("the autoscaler: Ceph squid is not modelled; running Reef's (Tentacle added a dynamic "
                      "threshold for NEW PG_NUM 512, 1024 and 2048)", PgtoolsWarning, stacklevel=2)
    return variant
