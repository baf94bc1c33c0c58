"""Reef's read (primary) balancer: the read balance score and ``OSDMap::balance_primaries``, step for step.

Ceph sources: ``src/osd/OSDMap.cc`` of 18.2.7 and 20.2.4 (``get_pgs_by_osd``, ``calc_read_balance_score``,
``set_rbi`` / Tentacle's ``calc_rbs_fair`` + ``set_rbi_fair``, ``has_zero_pa_pgs``,
``calc_desired_primary_distribution[_simple]``, ``balance_primaries``) and ``src/tools/osdmaptool.cc``
(``--read FILE --read-pool POOL``).

The score (per replicated pool).  ``get_pgs_by_osd`` counts, over the pool's PGs, the PGs of each OSD in
the up set, the up primaries and the acting primaries.  Over the OSDs of the pool's rule
(``get_rule_weight_osd_map``, ascending ids): ``max_prims`` / ``max_acting_prims`` (largest counts),
the sums of primary affinity and CRUSH share (weighted), the OSDs with non-zero affinity, and
``max_osd_score`` (largest acting primaries / affinity).  Then ``raw = max_prims / (pg_num / num_osds)``
(``num_osds``: OSDs holding a PG), ``optimal = num_osds / osds_with_affinity``, ``score = raw / optimal``,
each rounded to 2 decimals by ``rbi_round`` (``floor(f * 100 + 0.5) / 100``, ``f * 100`` in C float).
All arithmetic is C ``float`` (NumPy float32 here), which the two-decimal rounding makes visible.

The balancer is deterministic (no shuffle): the desired primaries of an OSD are its up PGs / size times its
primary affinity, stretched so they sum to ``pg_num``; each OSD's score is primaries - desired; passes over
the PGs in pgid order move a PG's primary (``pg_upmap_primary``) from an OSD with a positive score to the
*last* OSD of the up set whose score is negative, lower by more than 1, and whose desired share is positive,
if ``CrushWrapper::verify_upmap`` accepts that one OSD; a pass without a move ends it.  The moves count only
if the score (``score_stable``) falls.  Only OSDs that are up primary of some PG at the start can receive
primaries (Ceph reads the others' scores as 0 and their desired share as 0).

Releases.  Pacific has no read balancer.  Reef and Tentacle compute the same fair score and the same moves;
Tentacle also refuses the score of a non-replicated pool (Reef computes one: pgtools gives no score for
erasure-coded pools, as ``ceph osd pool ls detail`` prints none), uses an "OSD size aware" score when the
pool has a ``read_ratio`` option (not modelled: an error) and, when the score does not fall, removes the
moves from its ``Incremental`` (Reef leaves them; ``osdmaptool`` prints none either way).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, UnsupportedFeatureError
from ..mgr.releases import choose
from ..model import Snapshot
from ..placement import CompiledOSDMap, PoolInfo
from .plan import UpmapPlan, work_map
from .work import PG, WorkMap, pgid_text, pool_ids

__all__ = ["RBI_FIELDS", "ReadBalanceInfo", "rbi_round", "read_balance_info", "balance_primaries_work",
           "PrimaryResult", "format_cfloat", "score_frame", "read_balance_score", "balance_primaries",
           "OsdCounts", "PoolState", "osd_counts", "existing_osds", "read_work_map", "refuse_read_ratio"]

_F32 = np.float32
_NONE = 0x7FFFFFFF
_ONE = 0x10000  # CEPH_OSD_DEFAULT_PRIMARY_AFFINITY / CEPH_OSD_MAX_PRIMARY_AFFINITY
_EINVAL, _ENOENT, _ERANGE, _EPERM = -22, -2, -34, -1

#: the fields of Ceph's ``read_balance`` section (``ceph osd pool ls detail -f json``), in its order
RBI_FIELDS = ("score_acting", "score_stable", "optimal_score", "raw_score_acting", "raw_score_stable",
              "primary_affinity_weighted", "average_primary_affinity", "average_primary_affinity_weighted")


def rbi_round(f: np.float32) -> np.float32:
    """``OSDMap::rbi_round``: to 2 decimals, ``f * 100`` in float, the rest in double, the result a float."""
    f = _F32(f)
    x = float(_F32(f * _F32(100)))
    return _F32((math.floor(x + 0.5) if f > 0 else math.ceil(x - 0.5)) / 100)


def format_cfloat(x: float) -> str:
    """A C float as ``ostream << float`` prints it (``%g``, 6 significant digits)."""
    return f"{float(x):g}"


@dataclasses.dataclass
class ReadBalanceInfo:
    """``OSDMap::read_balance_info_t`` of one pool plus the counts behind it (C floats as np.float32)."""

    pool_id: int
    rc: int = 0
    score_acting: np.float32 = _F32(0)  # acting_adj_score
    score_stable: np.float32 = _F32(0)  # adjusted_score
    optimal_score: np.float32 = _F32(0)
    raw_score_acting: np.float32 = _F32(0)
    raw_score_stable: np.float32 = _F32(0)
    primary_affinity_weighted: np.float32 = _F32(0)  # pa_weighted
    average_primary_affinity: np.float32 = _F32(0)  # pa_avg
    average_primary_affinity_weighted: np.float32 = _F32(0)  # pa_weighted_avg
    error_message: str = ""
    num_osds: int = 0
    max_primaries_per_osd: int = 0
    max_acting_primaries_per_osd: int = 0
    avg_primaries_per_osd: np.float32 = _F32(0)

    def zero(self) -> None:
        """``zero_rbi``."""
        for f in RBI_FIELDS:
            setattr(self, f, _F32(0))
        self.error_message = ""


@dataclasses.dataclass
class PoolState:
    """Up / acting sets and primaries of every PG of a pool under one map (writable rows, -1 padded).

    The read balancer changes only ``pg_upmap_primaries``: :meth:`refresh` re-maps the PGs it touched
    (CRUSH runs for those alone) instead of the whole pool.
    """

    up: np.ndarray
    up_primary: np.ndarray
    acting: np.ndarray
    acting_primary: np.ndarray

    @classmethod
    def of(cls, m: CompiledOSDMap, pool: PoolInfo) -> PoolState:
        pm = m.map_pool_arrays(pool)
        return cls(pm.up.copy(), pm.up_primary.copy(), pm.acting.copy(), pm.acting_primary.copy())

    def refresh(self, m: CompiledOSDMap, pool: PoolInfo, ps: list[int]) -> None:
        """Re-map PGs ``ps`` under ``m``."""
        if not ps:
            return
        rows = np.asarray(sorted(ps), dtype=np.int64)
        pm = m.map_pool_arrays(pool, rows)
        for name in ("up", "acting"):
            old, new = getattr(self, name), getattr(pm, name)
            if new.shape[1] > old.shape[1]:
                old = np.pad(old, ((0, 0), (0, new.shape[1] - old.shape[1])), constant_values=-1)
                setattr(self, name, old)
            old[rows] = -1
            old[rows, :new.shape[1]] = new
        self.up_primary[rows] = pm.up_primary
        self.acting_primary[rows] = pm.acting_primary


@dataclasses.dataclass
class OsdCounts:
    """``get_pgs_by_osd``: per OSD the PGs in up sets, the up primaries and the acting primaries."""

    pgs: dict[int, int]
    prims: dict[int, list[PG]]
    acting_prims: dict[int, int]


def osd_counts(st: PoolState, pool: PoolInfo) -> OsdCounts:
    """``get_pgs_by_osd`` of ``pool`` in state ``st``."""
    up, upp, ap = st.up, st.up_primary, st.acting_primary
    nonempty = (up >= 0).any(axis=1) if up.shape[1] else np.zeros(len(upp), dtype=bool)
    osds = up[nonempty]
    osds = osds[(osds >= 0) & (osds != _NONE)]
    ids, cnt = np.unique(osds, return_counts=True)
    pgs = {int(o): int(c) for o, c in zip(ids, cnt, strict=True)}
    prims: dict[int, list[PG]] = {}
    acting: dict[int, int] = {}
    for ps in np.flatnonzero(nonempty).tolist():
        p, a = int(upp[ps]), int(ap[ps])
        if p < 0 or a < 0:
            raise UnsupportedFeatureError(f"pg {pgid_text((pool.pool_id, ps))} has an up set but no primary "
                                          "(Ceph would file it under OSD 2^64-1)")
        if p != _NONE:
            prims.setdefault(p, []).append((pool.pool_id, ps))
        if a != _NONE:
            acting[a] = acting.get(a, 0) + 1
    return OsdCounts(pgs, prims, acting)


def _affinity(m: CompiledOSDMap, osd: int) -> np.float32:
    """``get_primary_affinityf``: the 16.16 affinity as a float (1 when the map has no affinity vector)."""
    a = _ONE if m.affinity is None or not 0 <= osd < m.max_osd else int(m.affinity[osd])
    return _F32(_F32(a) / _F32(_ONE))


def _has_zero_pa_pg(m: CompiledOSDMap, st: PoolState) -> int:
    """``has_zero_pa_pgs``: the first PG whose acting OSDs all have primary affinity 0, else -1."""
    acting = st.acting
    valid = (acting >= 0) & (acting < m.max_osd)
    aff = np.full(m.max_osd, _ONE, dtype=np.int64) if m.affinity is None else np.asarray(m.affinity, np.int64)
    nonzero = valid & (aff[np.where(valid, acting, 0)] != 0)
    zero = np.flatnonzero(~nonzero.any(axis=1)) if acting.shape[1] else np.arange(len(acting))
    return int(zero[0]) if len(zero) else -1


def read_balance_info(work: WorkMap, m: CompiledOSDMap, pool: PoolInfo,
                      st: PoolState | None = None) -> ReadBalanceInfo:
    """``OSDMap::calc_read_balance_score`` of ``pool`` on map ``m`` (rc: 0, or Ceph's negative errno).

    ``work`` gives the release and the rule topology; ``m`` the upmap tables (the balancer's working copy);
    ``st`` the pool's mapping under ``m`` when the caller has it.
    """
    rbi = ReadBalanceInfo(pool.pool_id)
    pid = pool.pool_id
    if work.release == "pacific":
        raise UnsupportedFeatureError("Pacific (16.2) has no read balance score (Reef 18.2 added it)")
    if work.release != "reef" and pool.type != 1:
        rbi.rc, rbi.error_message = _EPERM, f"pool {pid} is not a replicated pool, read balance score is meaningless"
        return rbi
    st = PoolState.of(m, pool) if st is None else st
    c = osd_counts(st, pool)
    if not c.pgs:  # Ceph returns -EINVAL and leaves the info as it was (no message)
        rbi.rc = _EINVAL
        return rbi
    num_osds = len(c.pgs)
    avg = _F32(_F32(pool.pg_num) / _F32(num_osds))
    max_prims = max_aprims = 0
    max_osd_score = _F32(0)
    acting_on_zero = False
    pa_sum = total_w = total_wpa = _F32(0)
    pa_count = 0
    weights = work.topology.rule_weight_osd_map(work.crush_rule(pool)) or {}
    for osd in sorted(weights):
        ow = _F32(weights[osd])
        total_w = _F32(total_w + ow)
        pa = _affinity(m, osd)
        total_wpa = _F32(total_wpa + _F32(ow * pa))
        if pa != 0:
            pa_count += 1
        if osd in c.prims:
            max_prims = max(max_prims, len(c.prims[osd]))
        if osd in c.acting_prims:
            n = c.acting_prims[osd]
            max_aprims = max(max_aprims, n)
            if pa != 0:
                max_osd_score = max(max_osd_score, _F32(_F32(n) / pa))
            else:
                acting_on_zero = True
        pa_sum = _F32(pa_sum + pa)
    rbi.num_osds, rbi.max_primaries_per_osd, rbi.max_acting_primaries_per_osd = num_osds, max_prims, max_aprims
    rbi.avg_primaries_per_osd = avg
    if pa_sum == 0:
        rbi.rc, rbi.error_message = _ERANGE, f"pool {pid} has primary_affinity set to zero on all OSDs"
        return rbi
    max_osd_score = _F32(max_osd_score * _F32(pa_sum / _F32(num_osds)))
    # set_rbi / set_rbi_fair
    limit = 1.0 / float(_F32(pool.size))
    if float(_F32(total_wpa / total_w)) < limit:
        rbi.rc = _EINVAL
        rbi.error_message = (f"pool {pid} average primary affinity is lower than {limit:.2f}, read balance score "
                             "is not reliable")
        return rbi
    rbi.primary_affinity_weighted = total_wpa
    rbi.average_primary_affinity_weighted = rbi_round(_F32(total_wpa / total_w))
    rbi.raw_score_stable = rbi_round(_F32(_F32(max_prims) / avg))
    if acting_on_zero:
        rbi.raw_score_acting = rbi_round(max_osd_score)
        rbi.error_message = (f"pool {pid} has acting primaries on OSD(s) with primary affinity 0, read balance "
                             "score is not accurate")
    else:
        rbi.raw_score_acting = rbi_round(_F32(_F32(max_aprims) / avg))
    rbi.average_primary_affinity = rbi_round(_F32(pa_sum / _F32(pa_count))) if pa_count else _F32(0)
    if rbi.average_primary_affinity == 0:
        rbi.rc = _EINVAL
        rbi.error_message = (f"pool {pid} all OSDs have zero primary affinity, can't calculate a reliable read "
                             "balance score")
        return rbi
    zpg = _has_zero_pa_pg(m, st)
    if zpg >= 0:
        rbi.rc = _EINVAL
        rbi.error_message = (f"pool {pid} has some PGs where all OSDs are with primary_affinity 0 (at least pg "
                             f"{pgid_text((pid, zpg))}), read balance score may not be reliable")
        return rbi
    rbi.optimal_score = rbi_round(_F32(_F32(num_osds) / _F32(pa_count)))
    rbi.score_stable = rbi_round(_F32(rbi.raw_score_stable / rbi.optimal_score))
    rbi.score_acting = rbi_round(_F32(rbi.raw_score_acting / rbi.optimal_score))
    return rbi


def score_frame(work: WorkMap, pool_ids: list[int]) -> pd.DataFrame:
    """One row per replicated pool of ``pool_ids``: :class:`ReadBalanceInfo` plus ``read_balance_score``,
    the text ``ceph osd pool ls detail`` appends (``%.2f`` of ``score_acting``; empty when rc < 0)."""
    rows = []
    for pid in pool_ids:
        pool = work.pools[pid]
        if pool.type != 1:
            continue
        rbi = read_balance_info(work, work.map, pool)
        row = {"pool_id": pid, "pool_name": pool.name}
        row.update({k: (float(v) if isinstance(v, np.floating) else v)
                    for k, v in dataclasses.asdict(rbi).items() if k != "pool_id"})
        row["read_balance_score"] = f"{float(rbi.score_acting):.2f}" if rbi.rc >= 0 else ""
        rows.append(row)
    cols = ["pool_id", "pool_name", "read_balance_score", *RBI_FIELDS, "error_message", "rc", "num_osds",
            "max_primaries_per_osd", "max_acting_primaries_per_osd", "avg_primaries_per_osd"]
    return pd.DataFrame(rows, columns=cols)


@dataclasses.dataclass
class PrimaryResult:
    """What ``balance_primaries`` leaves: its return value and ``pending_inc->new_pg_upmap_primary``.

    Attributes
    ----------
    num_changes : int
        Ceph's return value: the PGs whose primary moved if the score fell, else 0; negative: -EINVAL.
    new_pg_upmap_primary : dict
        ``{pg: osd}`` in PG order (Reef keeps the entries when the score did not fall; Tentacle drops them).
    before, after : ReadBalanceInfo
        The score of the pool before and after the moves (``after`` is None when balancing failed).
    prims_before, prims_after : dict
        ``{osd: up primaries}`` (``get_pgs_by_osd``) before and after.
    affinity : dict
        ``{osd: primary affinity}`` of the OSDs listed.
    error : str
        Why balancing failed (rc < 0), as Ceph logs it at debug level 10.
    """

    num_changes: int
    new_pg_upmap_primary: dict[PG, int]
    before: ReadBalanceInfo
    after: ReadBalanceInfo | None
    prims_before: dict[int, int]
    prims_after: dict[int, int]
    affinity: dict[int, np.float32]
    error: str = ""


def _desired(m: CompiledOSDMap, pool: PoolInfo, osds: list[int], pgs: dict[int, int]) -> dict[int, np.float32]:
    """``calc_desired_primary_distribution[_simple]``: the desired (fractional) primaries of each OSD."""
    size = _F32(pool.size)
    desired: dict[int, np.float32] = {}
    total = 0.0  # `auto distribution_sum = 0.0`: a double
    for osd in osds:
        v = _F32(_F32(_F32(pgs.get(osd, 0)) / size) * _affinity(m, osd))
        desired[osd] = v
        total += float(v)
    if total <= 0:
        raise _Refused("Unable to calculate primary distribution, likely because primary affinity is set to 0 on "
                       "all OSDs.")
    factor = _F32(_F32(pool.pg_num) / _F32(total))
    if not factor >= 1.0:
        raise UnsupportedFeatureError(f"pool {pool.pool_id}: primary distribution factor {float(factor):g} < 1 "
                                      "(Ceph asserts in calc_desired_primary_distribution)")
    acc = _F32(0)
    for osd in osds:
        desired[osd] = _F32(desired[osd] * factor)
        acc = _F32(acc + desired[osd])
    if not abs(float(_F32(acc - _F32(pool.pg_num)))) < 0.01:
        raise UnsupportedFeatureError(f"pool {pool.pool_id}: desired primaries sum to {float(acc):g}, not pg_num "
                                      f"{pool.pg_num} (Ceph asserts in calc_desired_primary_distribution)")
    return desired


class _Refused(PgtoolsError):
    """``balance_primaries`` returns -EINVAL (the reason is what Ceph logs)."""


def balance_primaries_work(work: WorkMap, pool: PoolInfo, max_passes: int = 10_000) -> PrimaryResult:
    """``OSDMap::balance_primaries(pid, &pending_inc, tmp_osd_map)`` on a copy of ``work``'s map.

    Parameters
    ----------
    work : WorkMap
        The osdmap (not modified).
    pool : PoolInfo
        A replicated pool of it.
    max_passes : int
        A guard: Ceph's loop always ends (each move lowers the sum of squared scores), this bounds it.

    Returns
    -------
    PrimaryResult
    """
    if pool.type != 1:
        raise PgtoolsError(f"pool {pool.pool_id} is not replicated: the read balancer handles replicated pools")
    tmp = dataclasses.replace(work.map, pg_upmap_primaries=dict(work.map.pg_upmap_primaries))
    st = PoolState.of(tmp, pool)
    c0 = osd_counts(st, pool)
    osds = sorted(c0.prims)
    affinity = {o: _affinity(tmp, o) for o in osds}
    before = read_balance_info(work, tmp, pool, st)
    prims_before = {o: len(v) for o, v in c0.prims.items()}
    orig = {pg: o for o, pgs in c0.prims.items() for pg in pgs}

    def failed(why: str) -> PrimaryResult:
        return PrimaryResult(-22, {}, before, None, prims_before, prims_before, affinity, why)

    try:
        desired = _desired(work.map, pool, osds, c0.pgs)
    except _Refused as e:
        return failed(str(e))
    scores = {o: _F32(_F32(len(c0.prims[o])) - desired[o]) for o in osds}
    if before.error_message:
        return failed(before.error_message)
    rule = work.crush_rule(pool)
    pending: dict[PG, int] = {}
    mapped = {pg: False for pg in orig}
    order = sorted(orig)
    zero = _F32(0)
    for _ in range(max_passes):
        changes = 0
        moved: list[int] = []
        # a pass visits each PG once and a move changes only that PG: the pass-start mapping stays exact
        for pg in order:
            ps = pg[1]
            up = [int(o) for o in st.up[ps] if o >= 0]
            upp = int(st.up_primary[ps])
            best = upp
            prim_score = scores.get(upp, zero)
            for o in up:
                s = scores.get(o, zero)
                if prim_score > 0 and s < 0 and _F32(prim_score - s) > 1 and desired.get(o, zero) > 0:
                    best = o
            if best != upp and work.topology.verify_upmap(rule, pool.size, [best]) >= 0:
                scores[best] = _F32(scores.get(best, zero) + 1)
                scores[upp] = _F32(scores.get(upp, zero) - 1)
                tmp.pg_upmap_primaries[pg] = best
                moved.append(ps)
                if best == orig[pg]:
                    pending.pop(pg, None)
                    mapped[pg] = False
                else:
                    pending[pg] = best
                    mapped[pg] = True
                changes += 1
        st.refresh(tmp, pool, moved)
        if changes == 0:
            break
    else:
        raise PgtoolsError(f"balance_primaries: no end after {max_passes} passes over pool {pool.pool_id}")
    after = read_balance_info(work, tmp, pool, st)
    c1 = osd_counts(st, pool)
    prims_after = {o: len(v) for o, v in c1.prims.items()}
    affinity.update({o: _affinity(tmp, o) for o in prims_after})
    if after.error_message:
        return PrimaryResult(-22, dict(sorted(pending.items())), before, after, prims_before, prims_after,
                             affinity, after.error_message)
    before_score = before.score_stable if before.rc >= 0 else _F32(0)
    after_score = after.score_stable if after.rc >= 0 else _F32(0)
    if after_score < before_score:
        num = sum(mapped.values())
    else:
        num = 0
        if work.release != "reef":  # Tentacle: "clear out any mappings that were made since the score didn't improve"
            for pg, was in mapped.items():
                if was:
                    pending.pop(pg, None)
    return PrimaryResult(num, dict(sorted(pending.items())), before, after, prims_before, prims_after, affinity)


# ---- public entry points ---------------------------------------------------------------------------------


def refuse_read_ratio(snap: Snapshot, work: WorkMap, pool_ids: list[int]) -> None:
    """Tentacle scores a pool with a ``read_ratio`` option by its OSD-size-aware formula (not modelled)."""
    pools = snap.pools
    if work.release in ("pacific", "reef") or pools is None or "read_ratio" not in pools.columns:
        return
    for pid, v in zip(pools["pool_id"], pools["read_ratio"], strict=True):
        if int(pid) in pool_ids and pd.notna(v):
            raise UnsupportedFeatureError(f"pool {int(pid)} has read_ratio {v}: Tentacle's OSD-size-aware read "
                                          "balance score (calc_rbs_size_optimal) is not modelled")


def read_work_map(snap: Snapshot, ceph_release: str | None) -> WorkMap:
    """The working map for the read balancer: Reef or Tentacle (they agree: no warning when assumed)."""
    name = choose(snap, ceph_release).name
    if name == "pacific":
        raise UnsupportedFeatureError("the read balancer is not available in Pacific (16.2): Reef 18.2 added the "
                                      "read balance score and pg-upmap-primary; use ceph_release='reef' or "
                                      "'tentacle' (pgtools balance --release reef) to see what they would do")
    return work_map(snap, name)


def read_balance_score(snap: Snapshot, pools: Iterable[int | str] | None = None,
                       ceph_release: str | None = None) -> pd.DataFrame:
    """Ceph's read balance score of each replicated pool (``OSDMap::calc_read_balance_score``).

    Parameters
    ----------
    snap : Snapshot
        Needs what placement needs (osd dump and CRUSH map); primary affinity and ``pg_upmap_primaries`` count.
    pools : iterable of int or str, optional
        Pool ids or names (default: all); erasure-coded pools get no row (Ceph prints no score for them).
    ceph_release : str, optional
        ``"reef"`` or ``"tentacle"`` (they agree; default: the capture's).

    Returns
    -------
    pandas.DataFrame
        One row per pool: ``pool_id, pool_name, read_balance_score`` (the ``%.2f`` text ``ceph osd pool ls
        detail`` appends, empty when Ceph shows none), the ``read_balance`` fields of ``ceph osd pool ls detail
        -f json`` (:data:`RBI_FIELDS`, the C floats as Python floats), ``error_message`` (Ceph's text, shown as
        " Warning: " when ``rc`` is 0 and " ERROR: " when negative), ``rc``, and the counts behind the score:
        ``num_osds`` (OSDs holding a PG of the pool), ``max_primaries_per_osd``, ``max_acting_primaries_per_osd``,
        ``avg_primaries_per_osd`` (pg_num / num_osds).
    """
    work = read_work_map(snap, ceph_release)
    ids = pool_ids(work, pools) or sorted(work.pools)
    refuse_read_ratio(snap, work, ids)
    return score_frame(work, ids)


def existing_osds(snap: Snapshot, max_osd: int) -> Snapshot:
    """OSDs 0..max_osd-1 exist after ``--mark-up-in`` (an ``--createsimple`` map's dump lists them as not)."""
    osds = snap.osds.copy()
    if "exists" in osds:
        osds.loc[osds["osd_id"].between(0, max_osd - 1), "exists"] = True
    return snap.replace(osds=osds)


def _mgr_skips(snap: Snapshot, work: WorkMap, pid: int) -> bool:
    """Whether Tentacle's mgr balancer (``do_read_balancing``) leaves pool ``pid`` alone: a PG merge pending,
    a score with an error message (or none), a score already optimal (``score_acting == optimal_score``)."""
    pools = snap.pools
    if pools is not None and "pg_num_target" in pools.columns:
        row = pools[pools["pool_id"] == pid]
        if len(row) and pd.notna(row["pg_num_target"].iloc[0]) and \
                int(row["pg_num"].iloc[0]) > int(row["pg_num_target"].iloc[0]):
            return True
    rbi = read_balance_info(work, work.map, work.pools[pid])
    if rbi.rc < 0 or rbi.error_message:
        return True
    return bool(rbi.score_acting == rbi.optimal_score)


def balance_primaries(snap: Snapshot, *, pools: Iterable[int | str] | None = None,
                      ceph_release: str | None = None, like_mgr: bool = False) -> UpmapPlan:
    """``OSDMap::balance_primaries`` for each replicated pool: ``pg-upmap-primary`` commands (exact: Ceph's
    read balancer is deterministic).

    Each pool is balanced on its own, from the map as given (the pools do not interact: a PG's primary
    changes only its own pool's counts).  A pool Ceph's balancer refuses (its score has an error message:
    primary affinity too low or 0 on every OSD of some PG, acting primaries on an OSD with affinity 0) or
    cannot improve contributes nothing.

    Parameters
    ----------
    snap : Snapshot
    pools : iterable of int or str, optional
        Pool ids or names (default: every replicated pool); an erasure-coded pool named here is an error.
    ceph_release : str, optional
        ``"reef"`` or ``"tentacle"``.
    like_mgr : bool
        Skip the pools Tentacle's mgr balancer (``read`` / ``upmap-read`` mode; Reef's mgr has no read mode)
        skips: a PG merge pending (pg_num above pg_num_target), a score with an error message, a score equal to
        the optimal one.  (The mgr also waits until every PG is active+clean: left to the caller.)

    Returns
    -------
    UpmapPlan
        ``new_pg_upmap_primary`` ``{pgid: osd}``, ``commands`` (``ceph osd pg-upmap-primary PGID OSD``, as
        ``osdmaptool --read`` writes them), ``num_changed`` (PGs whose primary moves), ``exact`` True.
    """
    work = read_work_map(snap, ceph_release)
    named = pool_ids(work, pools)
    for pid in named:
        if work.pools[pid].type != 1:
            raise PgtoolsError(f"pool {work.pools[pid].name!r} is an erasure coded pool; the read balancer handles "
                               "replicated pools")
    ids = named or [pid for pid in sorted(work.pools) if work.pools[pid].type == 1]
    refuse_read_ratio(snap, work, ids)
    found: dict[PG, int] = {}
    num = 0
    for pid in ids:
        if like_mgr and _mgr_skips(snap, work, pid):
            continue
        res = balance_primaries_work(work, work.pools[pid])
        if res.num_changes > 0:
            found.update(res.new_pg_upmap_primary)
            num += res.num_changes
    cmds = [f"ceph osd pg-upmap-primary {pgid_text(pg)} {o}" for pg, o in sorted(found.items())]
    return UpmapPlan({}, [], [], num, work.release, True, cmds,
                     new_pg_upmap_primary={pgid_text(pg): o for pg, o in sorted(found.items())})
