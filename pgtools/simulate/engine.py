"""The simulation loop (see :mod:`pgtools.simulate` for the model)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import NONE, Snapshot
from ..placement.pipeline import PoolMapping
from .availability import lost_findings
from .changes import (
    Change,
    CreatePool,
    DeletePool,
    Fail,
    RemovePgUpmaps,
    SetPgNum,
    SetPgpNum,
    SetPoolRule,
    SetPoolSize,
    _pool_index,
    _pool_name,
    _set_pool,
    mgr_tick_label,
    rule_name,
)
from .plan import Plan, hash_shares


# ------------------------------------------------------------------------------------------ engine
def _up_matrix(parts: Sequence[PoolMapping], which: str = "up") -> np.ndarray:
    """The ``which`` (up or acting) sets of every PG, pools in order, as one ``(n, width)`` int64 array.

    -1 stands for padding and for erasure-coded holes (NONE).
    """
    n = sum(len(p) for p in parts)
    width = max([1, *(getattr(p, which).shape[1] for p in parts)])
    out = np.full((n, width), -1, dtype=np.int64)
    start = 0
    for p in parts:
        a = getattr(p, which)
        out[start:start + len(p), : a.shape[1]] = a
        start += len(p)
    out[out == NONE] = -1
    return out


def _widen(a: np.ndarray, width: int) -> np.ndarray:
    """``a`` with -1 columns appended up to ``width``."""
    if a.shape[1] >= width:
        return a
    return np.pad(a, ((0, 0), (0, width - a.shape[1])), constant_values=-1)


def _any_cols(a: np.ndarray, axis: int = 1) -> np.ndarray:
    """``a.any(axis)`` for a short last axis (a few OSDs), as element-wise ORs of the columns."""
    a = np.moveaxis(a, axis, -1)
    if a.shape[-1] == 0:
        return np.zeros(a.shape[:-1], dtype=bool)
    out = a[..., 0].copy()
    for j in range(1, a.shape[-1]):
        out |= a[..., j]
    return out


def _offsets(parts: Sequence[PoolMapping]) -> dict[int, int]:
    """First row of each pool in the concatenated arrays."""
    out, start = {}, 0
    for p in parts:
        out[p.pool_id] = start
        start += len(p)
    return out


def _pool_meta(snap: Snapshot) -> dict[int, dict[str, Any]]:
    out = {}
    for rec in snap.pools.to_dict("records"):
        ec = str(rec.get("type", "")).startswith("erasure") or rec.get("type_id") == 3
        k = rec.get("ec_k")
        size = int(rec["size"])
        if ec:
            m = rec.get("ec_m")
            if k is None or (isinstance(k, float) and math.isnan(k)):
                k = size - int(m) if m is not None and not (isinstance(m, float) and math.isnan(m)) else size
        ms = rec.get("min_size")
        out[int(rec["pool_id"])] = {
            "ec": ec, "k": int(k) if ec else 1, "size": size, "name": rec.get("pool", ""),
            "pg_num": int(rec["pg_num"]), "pgp_num": int(rec.get("pgp_num") or rec["pg_num"]),
            "min_size": int(ms) if ms is not None and not (isinstance(ms, float) and math.isnan(ms))
            else size - size // 2}
    return out


def _initial_data(snap: Snapshot, mapping: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    pgs = snap.pgs
    if pgs is None or len(pgs) == 0:
        z = np.zeros(len(mapping))
        return z, z.copy()
    res = []
    for col in ("bytes", "objects"):
        if col in pgs.columns:
            s = pd.Series(pd.to_numeric(pgs[col], errors="coerce").astype(float).to_numpy(), index=pgs["pgid"])
            s = s[~s.index.duplicated()]
            res.append(np.nan_to_num(s.reindex(mapping["pgid"]).to_numpy(dtype=float)))
        else:
            res.append(np.zeros(len(mapping)))
    return res[0], res[1]


@dataclass
class _State:
    snap: Snapshot
    parts: list[PoolMapping]  # placement per pool, in pool-id order
    mapping: pd.DataFrame  # the map_pgs frame of ``parts``
    bytes: np.ndarray
    objects: np.ndarray
    meta: dict[int, dict[str, Any]]
    up: np.ndarray  # _up_matrix(parts)


def _state(snap: Snapshot, parts: list[PoolMapping], b: np.ndarray, o: np.ndarray, meta: dict) -> _State:
    from ..placement.pipeline import mapping_frame

    return _State(snap, parts, mapping_frame(parts), b, o, meta, _up_matrix(parts))


def _flows(prev: _State, cur_parts: Sequence[PoolMapping], cur_meta: dict) -> tuple[np.ndarray, ...]:
    """(prev row, cur row, share) for every data flow between two mappings."""
    pi, ci, sh = [], [], []
    prev_start = _offsets(prev.parts)
    cur_start = _offsets(cur_parts)
    for pid, cstart in cur_start.items():
        pstart = prev_start.get(pid)
        if pstart is None:
            continue
        old_n = prev.meta[pid]["pg_num"]
        new_n = cur_meta[pid]["pg_num"]
        if old_n == new_n:
            op = qp = np.arange(new_n)
            share = np.ones(new_n)
        else:
            op, qp, share = hash_shares(old_n, new_n)
        pi.append(pstart + op)
        ci.append(cstart + qp)
        sh.append(share)
    if not pi:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    return np.concatenate(pi), np.concatenate(ci), np.concatenate(sh)


def _per_pg(parts: Sequence[PoolMapping], meta: dict, key: str) -> np.ndarray:
    """A pool property (``"ec"``, ``"k"``, ``"min_size"``) repeated for each PG row."""
    return np.repeat(np.array([meta[p.pool_id][key] for p in parts]), [len(p) for p in parts])


def _step_state(prev: _State, snap: Snapshot, parts: list[PoolMapping]) -> tuple[_State, dict[str, Any]]:
    meta = _pool_meta(snap)
    pi, ci, sh = _flows(prev, parts, meta)
    n = sum(len(p) for p in parts)
    b = np.zeros(n)
    o = np.zeros(n)
    np.add.at(b, ci, prev.bytes[pi] * sh)
    np.add.at(o, ci, prev.objects[pi] * sh)
    state = _state(snap, parts, b, o, meta)
    # movement: flow f carries prev.bytes[pi[f]] * sh[f] from up set A[f] to up set B[f]
    width = max(prev.up.shape[1], state.up.shape[1])
    A = _widen(prev.up, width)[pi]
    B = _widen(state.up, width)[ci]
    nf = len(ci)
    # only flows whose sets differ somewhere can write or drop a copy
    rows = np.nonzero(_any_cols(A != B))[0]
    a, b_ = A[rows], B[rows]
    ec = _per_pg(parts, meta, "ec").astype(bool)[ci[rows]] if n else np.zeros(0, dtype=bool)
    k = _per_pg(parts, meta, "k").astype(float)[ci] if n else np.zeros(0)
    in_b = _any_cols(b_[:, :, None] == a[:, None, :], axis=2)
    in_a = _any_cols(a[:, :, None] == b_[:, None, :], axis=2)
    new = np.where(ec[:, None], (b_ >= 0) & (b_ != a), (b_ >= 0) & ~in_b)
    gone = np.where(ec[:, None], (a >= 0) & (a != b_), (a >= 0) & ~in_a)
    fb = prev.bytes[pi] * sh / k
    fo = prev.objects[pi] * sh / k
    moved_flow = _any_cols(new) | _any_cols(gone)
    pg_moved = np.zeros(n, dtype=bool)
    pg_moved[ci[rows[moved_flow]]] = True
    max_id = int(max(A.max(initial=-1), B.max(initial=-1))) + 1
    nb = np.zeros(nf, dtype=np.int64)
    nb[rows] = new.sum(1)
    rows_in = np.repeat(rows, nb[rows])
    osd_in = b_[new]
    rows_out = np.repeat(rows, gone.sum(1))
    osd_out = a[gone]
    mv = pd.DataFrame({
        "osd_id": np.arange(max_id),
        "pgs_in": np.bincount(osd_in, minlength=max_id),
        "pgs_out": np.bincount(osd_out, minlength=max_id),
        "bytes_in": np.bincount(osd_in, weights=fb[rows_in], minlength=max_id).round().astype(np.int64),
        "bytes_out": np.bincount(osd_out, weights=fb[rows_out], minlength=max_id).round().astype(np.int64)})
    mv = mv[(mv["pgs_in"] > 0) | (mv["pgs_out"] > 0)].reset_index(drop=True)
    stats = {"pgs_moved": int(pg_moved.sum()), "shards_moved": int(nb.sum()),
             "bytes_moved": int(round(float((fb * nb).sum()))), "objects_moved": int(round(float((fo * nb).sum())))}
    return state, {"movement": mv, **stats}


def _osd_load(state: _State, base: pd.DataFrame | None) -> pd.DataFrame:
    U = state.up
    k = _per_pg(state.parts, state.meta, "k").astype(float)
    per = np.repeat((state.bytes / k)[:, None], U.shape[1], axis=1) if len(U) else np.zeros((0, 1))
    ok = U >= 0
    osds = state.snap.osds
    ids = osds["osd_id"].astype(int).to_numpy()
    size = int(max(ids.max(initial=-1), U.max(initial=-1))) + 1
    pgs = np.bincount(U[ok], minlength=size)
    byt = np.bincount(U[ok], weights=per[ok], minlength=size)
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


def _ratios(snap: Snapshot) -> dict[str, float]:
    """``nearfull_ratio``, ``backfillfull_ratio``, ``full_ratio`` (:func:`pgtools.mgr.options.full_ratios`)."""
    from ..mgr.options import full_ratios

    return {k: float(st.value) for k, st in full_ratios(snap).items()}


def _fullness_findings(load: pd.DataFrame, ratios: dict[str, float]) -> list[tuple[str, str, str]]:
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


def _max_avail(state: _State, load: pd.DataFrame, full_ratio: float) -> dict[int, float]:
    """``ceph df`` MAX AVAIL per pool (bytes): :func:`pgtools.analysis.pool_max_avail` on projected OSD space.

    Each OSD's available KiB is the capture's (the PG map's OSD statistics when present, as Ceph uses) minus the
    projected growth of its used KiB.
    """
    from ..analysis.distribution import pool_max_avail

    snap = state.snap
    lk = load.drop_duplicates("osd_id").set_index("osd_id")
    osds = snap.osds.drop_duplicates("osd_id").set_index("osd_id")
    used0 = pd.to_numeric(osds.get("kb_used", pd.Series(0.0, index=osds.index)), errors="coerce")
    src = snap.osd_stats if snap.osd_stats is not None and "kb_avail" in snap.osd_stats.columns else None
    if src is not None:
        avail0 = pd.to_numeric(src.drop_duplicates("osd_id").set_index("osd_id")["kb_avail"], errors="coerce")
    elif "kb_avail" in osds.columns:
        avail0 = pd.to_numeric(osds["kb_avail"], errors="coerce")
    else:
        avail0 = lk["kb"] - used0.reindex(lk.index)
    growth = (lk["kb_used"] - used0.reindex(lk.index).fillna(0.0)).fillna(0.0)
    avail = avail0.reindex(lk.index) - growth
    # new OSDs (no statistics yet) start empty
    avail = avail.fillna(lk["kb"] - lk["kb_used"])
    kb = lk["kb"].copy()
    if "in" in osds.columns:  # Ceph zeroes an out OSD's statistics: it no longer bounds MAX AVAIL
        out = osds.index[~osds["in"].fillna(True).astype(bool)]
        kb.loc[kb.index.intersection(out)] = 0.0
    return {int(k): float(v) for k, v in pool_max_avail(snap, kb=kb, kb_avail=avail,
                                                         full_ratio=full_ratio).items()}


#: Columns of :attr:`Plan.failures`.
FAILURE_COLUMNS = ["step", "pgid", "pool_id", "status", "copies_lost", "remaining", "size", "min_size", "k",
                   "inactive", "lost", "bytes", "bytes_lost", "objects_lost"]


def _classify(acting: np.ndarray, failed: Sequence[int], size: np.ndarray, min_size: np.ndarray,
              need: np.ndarray) -> tuple[np.ndarray, ...]:
    """Copies gone and left per PG when ``failed`` OSDs die, and the lost / inactive / degraded masks.

    ``acting`` is ``(n, width)`` with -1 for holes; ``need`` is the copies a PG needs to exist (1 for
    replicated pools, k for erasure-coded ones).  A PG is *lost* when fewer than ``need`` copies survive,
    *inactive* when (not lost and) fewer than ``min_size`` survive, *degraded* when (neither and) fewer
    than ``size`` survive.
    """
    valid = acting >= 0
    gone = (np.isin(acting, np.asarray(list(failed), dtype=np.int64)) & valid).sum(1)
    left = valid.sum(1) - gone
    lost = left < need
    inactive = ~lost & (left < min_size)
    degraded = ~lost & ~inactive & (left < size)
    return gone, left, lost, inactive, degraded


def _failure_rows(prev: _State, failed: list[int], step: int, lost_before: frozenset = frozenset()) -> pd.DataFrame:
    """One row per PG that a failure of ``failed`` leaves short of copies (see :func:`_classify`).

    Counted on the acting sets of the previous step: a PG whose acting set was already short (CRUSH found
    too few OSDs) is degraded, inactive or lost too, unless it had fewer copies than it needs (1, or k) before
    the failure: that PG was not lost by it.  A lost PG has nothing to recover (``bytes`` 0); its
    whole data is ``bytes_lost`` / ``objects_lost``.  PGs in ``lost_before`` (lost at an earlier step:
    their data is already counted) are left out.
    """
    m = prev.mapping
    acting = _up_matrix(prev.parts, "acting")
    size = _per_pg(prev.parts, prev.meta, "size").astype(np.int64)
    ms = _per_pg(prev.parts, prev.meta, "min_size").astype(np.int64)
    k = _per_pg(prev.parts, prev.meta, "k").astype(np.int64)
    ec = _per_pg(prev.parts, prev.meta, "ec").astype(bool)
    need = np.where(ec, k, 1)
    gone, left, lost, inactive, degraded = _classify(acting, failed, size, ms, need)
    # a PG without enough copies before the failure (CRUSH placed too few) was not lost by it
    sel = (lost | inactive | degraded) & ((acting >= 0).sum(1) >= need)
    if lost_before:
        sel &= ~m["pgid"].isin(lost_before).to_numpy()
    status = np.where(lost, "lost", np.where(inactive, "inactive", "degraded"))
    # copies to write back: size - left of each PG still readable, one k-th of the PG each for EC
    short = np.maximum(size - left, 0)
    return pd.DataFrame({
        "step": step, "pgid": m["pgid"].to_numpy()[sel], "pool_id": m["pool_id"].to_numpy()[sel],
        "status": status[sel], "copies_lost": gone[sel], "remaining": left[sel], "size": size[sel],
        "min_size": ms[sel], "k": np.where(ec, k, 1)[sel], "inactive": (lost | inactive)[sel], "lost": lost[sel],
        "bytes": np.where(lost, 0.0, prev.bytes * short / k)[sel].round().astype(np.int64),
        "bytes_lost": np.where(lost, prev.bytes, 0.0)[sel].round().astype(np.int64),
        "objects_lost": np.where(lost, prev.objects, 0.0)[sel].round().astype(np.int64)},
        columns=FAILURE_COLUMNS)


def _failure_stats(fr: pd.DataFrame, earlier: tuple[int, int, int] = (0, 0, 0),
                   ) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Step statistics and health findings of one failure's rows.

    ``earlier`` is ``(PGs, bytes, objects)`` lost at earlier steps: still lost, so the health findings
    count them too (the statistics count this step's PGs only).
    """
    from ..text.snapshot import human_bytes

    st = fr["status"]
    n_lost, n_inact, n_deg = int((st == "lost").sum()), int((st == "inactive").sum()), int((st == "degraded").sum())
    stats = {"pgs_lost": n_lost, "pgs_inactive": n_inact, "pgs_degraded": n_deg,
             "bytes_lost": int(fr["bytes_lost"].sum()), "objects_lost": int(fr["objects_lost"].sum()),
             "bytes_to_recover": int(fr["bytes"].sum())}
    out = []
    all_lost = n_lost + earlier[0]
    if all_lost:
        before = f", {earlier[0]} of them at earlier steps" if earlier[0] else ""
        out.append(("PG_LOST", "HEALTH_ERR",
                    f"{all_lost} PGs LOST (no surviving copy / fewer than k shards{before}): nothing can recover "
                    f"them; {human_bytes(stats['bytes_lost'] + earlier[1], largest='TiB')} in "
                    f"{stats['objects_lost'] + earlier[2]} objects lost"))
    if all_lost or n_inact:
        down = f", {all_lost} pgs down (lost)" if all_lost else ""
        out.append(("PG_AVAILABILITY", "HEALTH_WARN",
                    f"Reduced data availability: {all_lost + n_inact} pgs inactive{down}"))
    if n_inact or n_deg:
        among = f" ({n_inact} of them inactive)" if n_inact else ""
        out.append(("PG_DEGRADED", "HEALTH_WARN",
                    f"Degraded data redundancy: {n_inact + n_deg} pgs degraded until recovery{among}"))
    return stats, out


def _drop_lost(state: _State, fr: pd.DataFrame) -> _State:
    """``state`` with the data of the lost PGs of ``fr`` gone (nothing moves it any more)."""
    lost = fr.loc[fr["lost"].astype(bool), "pgid"]
    if not len(lost):
        return state
    import dataclasses

    rows = state.mapping["pgid"].isin(set(lost)).to_numpy()
    return dataclasses.replace(state, bytes=np.where(rows, 0.0, state.bytes),
                               objects=np.where(rows, 0.0, state.objects))


def _expand(cur: Snapshot, n: int, ch: Any, stepwise: bool, misplaced: Any,
            assume_clean: bool = False) -> tuple[list[tuple[str, Any]], Snapshot]:
    """(label, change-or-state) per step for change number ``n``, and the state after it.

    Stepwise pg changes become explicit pool states.  The capture's PG states (degraded, inactive,
    unknown, creating, misplaced) gate the mgr only in the first change: every step after it starts
    from a recovered cluster.  Upmaps the mgr removes before a merge become a step of their own.
    """
    out: list[tuple[str, Any]] = []
    if stepwise and isinstance(ch, (SetPgNum, SetPgpNum)):
        from ..mgr.pgnum import pool_pgp_num_steps

        kw: dict[str, Any] = {"cluster": "capture" if n == 0 and not assume_clean else None}
        if misplaced is not None:
            kw["misplaced_fn"] = misplaced
        if isinstance(ch, SetPgNum):
            seq = pool_pgp_num_steps(cur, ch.pool, target_pg_num=ch.n, **kw)
        else:
            seq = pool_pgp_num_steps(cur, ch.pool, target_pgp_num=ch.n, **kw)
        name = ch.pool
        for rec in seq.iloc[1:].to_dict("records"):
            pg, pgp = int(rec["pg_num"]), int(rec["pgp_num"])
            if rec["upmaps_removed"]:
                rm = RemovePgUpmaps(tuple(rec["upmaps_removed"]))
                out.append((f"{ch.describe()}: the mgr removes the upmaps of {', '.join(rm.pgids)} "
                            "(merge participants)", rm))
                cur = rm.apply(cur)
            st = _PoolState(name, pg, pgp)
            out.append((mgr_tick_label(ch.describe(), rec), st))
            cur = st.apply(cur)
    else:
        out.append((ch.describe(), ch))
        cur = ch.apply(cur)
    return out, cur


@dataclass(frozen=True)
class _PoolState(Change):
    pool: int | str
    pg_num: int
    pgp_num: int

    def apply(self, snap: Snapshot) -> Snapshot:
        return _set_pool(snap, self.pool, pg_num=self.pg_num, pgp_num=self.pgp_num, pg_num_pending=self.pg_num)

    def describe(self) -> str:
        return f"pool {self.pool}: pg_num {self.pg_num} pgp_num {self.pgp_num}"

    def ceph_commands(self) -> list[str]:
        return []


def _with_pgs(snap: Snapshot, state_map: pd.DataFrame, b: np.ndarray, o: np.ndarray) -> Snapshot:
    pgs = state_map[["pgid", "pool_id", "ps", "up", "up_primary", "acting", "acting_primary"]].copy()
    names = dict(zip(snap.pools["pool_id"].astype(int), snap.pools["pool"], strict=False))
    pgs.insert(3, "pool", pgs["pool_id"].map(names).fillna(""))
    pgs.insert(4, "state", "active+clean")
    pgs["objects"] = pd.array(np.round(o).astype(np.int64), dtype="Int64")
    pgs["bytes"] = pd.array(np.round(b).astype(np.int64), dtype="Int64")
    return snap.replace(pgs=pgs)


def _commands(snap: Snapshot, changes: Sequence[Any]) -> list[str]:
    """Each change's commands, with pools and CRUSH rules given by id renamed (the CLI takes names)."""
    import dataclasses

    out: list[str] = []
    cur = snap
    for ch in changes:
        named = ch
        pool = getattr(ch, "pool", None)
        if pool is not None and not isinstance(pool, str):
            try:
                named = dataclasses.replace(ch, pool=_pool_name(cur, pool))
            except PgtoolsError:
                named = ch
        if isinstance(ch, (SetPoolRule, CreatePool)):  # Ceph takes the rule's name, not its id
            named = dataclasses.replace(named, rule=rule_name(cur, ch.rule))
        out.extend(named.ceph_commands())
        cur = ch.apply(cur)
    return out


_POOL_CHANGES = (SetPgNum, SetPgpNum, _PoolState, SetPoolSize, SetPoolRule, CreatePool, DeletePool)


def _remap(prev: list[PoolMapping], placed: Snapshot, cur: Snapshot, nxt: Snapshot, ch: Any) -> list[PoolMapping]:
    """Placement after ``ch`` (``prev`` is the placement of ``placed``; ``ch`` turned ``cur`` into ``nxt``).

    A pool-level change re-maps the pools it touched; any other change re-maps only the PGs it can reach
    (:func:`pgtools.placement.incremental.remap`, which falls back to every PG when it cannot bound the change).
    """
    from ..placement.incremental import remap
    from ..placement.pipeline import map_pool_arrays

    if not isinstance(ch, _POOL_CHANGES):
        return remap(placed, nxt, prev, reuse=True)
    before = {int(p) for p in cur.pools["pool_id"]}
    after = {int(p) for p in nxt.pools["pool_id"]}
    touched = set() if isinstance(ch, DeletePool) else (after - before)
    if not isinstance(ch, (CreatePool, DeletePool)):
        touched.add(int(nxt.pools.at[_pool_index(nxt, ch.pool), "pool_id"]))
    keep = [p for p in prev if p.pool_id in after - touched]
    new = map_pool_arrays(nxt, sorted(touched), reuse=True) if touched else []
    return sorted(keep + new, key=lambda p: p.pool_id)


def _standing(st: _State, lost: Mapping[str, int]) -> list[tuple[str, str, str]]:
    """Findings that hold at this step whatever changed: PGs CRUSH maps short, PGs lost so far."""
    from .availability import shortfall_findings

    n = len(st.mapping)
    skip = st.mapping["pgid"].isin(set(lost)).to_numpy() if lost and n else None
    names = _per_pg(st.parts, st.meta, "name") if n else np.zeros(0, dtype=object)
    # the up sets: what CRUSH and the upmaps give, which recovery cannot change (a capture's pg_temp
    # acting sets are transient and not CRUSH's doing)
    _, found = shortfall_findings(st.up, _per_pg(st.parts, st.meta, "size"),
                                  _per_pg(st.parts, st.meta, "min_size"), names, skip)
    return found


def _health_counts(st: _State) -> tuple[int, int, pd.Series | None]:
    """(PGs, Σ up-set sizes, PGs per OSD over up ∪ acting) of a state, from its arrays."""
    from ..analysis.distribution import _pgs_per_osd_arrays

    n = len(st.up)
    if n == 0:
        return 0, 0, None
    sum_up = int(sum(int(p.lengths("up").sum()) for p in st.parts))
    if all(p.acting_equals_up() for p in st.parts):
        return n, sum_up, _pgs_per_osd_arrays(st.up)
    return n, sum_up, _pgs_per_osd_arrays(st.up, _up_matrix(st.parts, "acting"))


def simulate(snap: Snapshot, changes: Sequence[Any], *, stepwise: bool = False, misplaced: Any = None,
             progress: Callable[[int, int, str], None] | None = None, checks: bool = True,
             assume_clean: bool = False) -> Plan:
    """Apply ``changes`` to ``snap`` and report placement, movement, load and health per step.

    Parameters
    ----------
    snap : Snapshot
        Needs pools, OSDs, the CRUSH map and (for bytes) PG statistics.
    changes : sequence of Change
        Applied cumulatively in order; one step per change.
    stepwise : bool
        Expand pg_num/pgp_num changes into the mgr's intermediate states (one step each).
    misplaced : callable or float, optional
        Misplaced ratio model passed to :func:`pgtools.mgr.pgnum.pgp_num_steps` (default 0: each step
        completes before the next).
    progress : callable, optional
        Called as ``progress(step, total, label)`` after each step.
    assume_clean : bool
        With ``stepwise``: ignore the capture's PG states (inactive, degraded, unknown, creating,
        misplaced) and start the mgr's stepping as if every PG were active+clean.  By default a capture
        taken mid-recovery makes the first pgp_num decision a wait (see :func:`pgtools.mgr.pgnum.pgp_num_steps`).
    checks : bool
        Run the PG-count checks of :func:`pgtools.analysis.health` on every step (counted on the placement
        arrays: a few milliseconds at 32k PGs).  Fullness and failure findings are always reported.

    Returns
    -------
    Plan
        When the monitor would refuse a change (:func:`pgtools.simulate.refusals.refusal`: pg_num above
        ``mon_max_pool_pg_num`` or over the PG limit of ``check_pg_num``, pgp_num above pg_num, an upmap
        naming a PG or an OSD that does not exist, ...), the plan stops there: that change is one last
        step that changes nothing, with ``steps.refused`` = Ceph's message and ``plan.refused`` the
        :class:`~pgtools.simulate.refusals.Refusal` (with its remedy); later changes are not simulated and
        ``plan.commands`` holds only the commands of the changes before it.  A
        :class:`~pgtools.errors.PgtoolsWarning` says so.

    Notes
    -----
    Placement goes through :func:`pgtools.placement.map_pool_arrays` with ``reuse=True``: a pool whose
    placement inputs equal those of a recent call (same CRUSH map object, pool, OSD states and weights,
    upmap/temp entries) is not mapped again, so every what-if after the first on a loaded snapshot
    recomputes only the changed state.  Movement, load and health are computed on the placement arrays.
    """
    from ..analysis.distribution import _health_findings
    from ..placement.pipeline import map_pool_arrays, mapping_frame, require_placement
    from .refusals import refusal

    require_placement(snap, "a what-if simulation")
    changes = list(changes)
    total = len(changes) + 1
    parts0 = map_pool_arrays(snap, reuse=True)
    m0 = mapping_frame(parts0)
    b0, o0 = _initial_data(snap, m0)
    state = _State(snap, parts0, m0, b0, o0, _pool_meta(snap), _up_matrix(parts0))
    step_snap = _with_pgs(snap, m0, b0, o0)
    rows, moves, loads, healths, pools_rows, fails, mappings, snaps = [], [], [], [], [], [], [], []
    ratios = _ratios(snap)
    base_load = None
    lost_before: set[str] = set()  # PGs lost at an earlier step: their data is gone, counted once

    def record(i: int, label: str, st: _State, ssnap: Snapshot, stats: dict, extra: list,
               refused: str = "") -> None:
        nonlocal base_load
        load = _osd_load(st, base_load)
        if base_load is None:
            base_load = load[["osd_id", "bytes"]]
        ld = load[load["exists"]]
        loads.append(pd.DataFrame({"step": i, "osd_id": ld["osd_id"], "pgs": ld["pgs"], "bytes": ld["bytes"],
                                   "utilization": ld["utilization"]}))
        findings = []
        if checks:
            num_pgs, sum_up, per_osd = _health_counts(st)
            findings = [(f.code, f.severity, f.summary) for f in _health_findings(
                ssnap, num_pgs=num_pgs, sum_up_sizes=sum_up, per_osd=per_osd)]
        findings += extra
        findings += _fullness_findings(ld, ratios)
        for code, sev, summ in findings:
            healths.append({"step": i, "code": code, "severity": sev, "summary": summ})
        avail = _max_avail(st, ld, ratios["full_ratio"])
        for pid, mt in st.meta.items():
            pools_rows.append({"step": i, "pool_id": pid, "pool": mt["name"], "pg_num": mt["pg_num"],
                               "pgp_num": mt["pgp_num"], "size": mt["size"], "max_avail": avail.get(pid)})
        rows.append({"step": i, "change": label, **{k: stats.get(k, 0) for k in (
            "pgs_moved", "shards_moved", "bytes_moved", "objects_moved")},
            "max_pgs_per_osd": int(ld["pgs"].max()) if len(ld) else 0,
            "min_pgs_per_osd": int(ld["pgs"].min()) if len(ld) else 0,
            **{k: stats.get(k, 0) for k in ("pgs_lost", "pgs_inactive", "pgs_degraded", "bytes_lost",
                                             "objects_lost", "bytes_to_recover")},
            "health": "; ".join(dict.fromkeys(f[0] for f in findings)) or "HEALTH_OK", "refused": refused})
        if "movement" in stats and len(stats["movement"]):
            mv = stats["movement"].copy()
            mv.insert(0, "step", i)
            moves.append(mv)
        mappings.append(st.mapping.assign(bytes=np.round(st.bytes).astype(np.int64),
                                          objects=np.round(st.objects).astype(np.int64)))
        snaps.append(ssnap)
        if progress is not None:
            progress(i, total, label)

    lost_at: dict[str, int] = {}  # PG lost -> the step that lost it
    lost_data = [0, 0]  # bytes, objects lost so far
    record(0, "input", state, step_snap, {}, _standing(state, lost_at))
    cur = snap
    om = dict(cur.osdmap or {})
    om["pg_temp"], om["primary_temp"] = {}, {}
    cur = cur.replace(osdmap=om)
    placed = snap  # the snapshot ``state.parts`` maps (step 0: with the capture's pg_temp/primary_temp)
    xcur = snap  # what the mgr model sees (the capture's PG states, for the first change)
    i, refused, accepted = 0, None, []
    for n, change in enumerate(changes):
        # the monitor decides on the command before anything happens: a refusal stops the plan
        ref = refusal(state.snap, change)
        if ref is not None:
            i += 1
            refused = dataclasses.replace(ref, step=i)
            later = [c.describe() for c in changes[n + 1:]]
            warnings.warn(f"step {i} ({ref.change}) would be refused by the monitor ({ref.error}: "
                          f"{ref.message.strip()}); the plan stops there"
                          + (f" ({len(later)} later change(s) not simulated)" if later else "")
                          + f"; to be accepted: {ref.remedy}", PgtoolsWarning, stacklevel=2)
            record(i, ref.change, state, state.snap, {}, [(ref.code, ref.error, ref.message.strip())],
                   refused=f"{ref.error}: {ref.message.strip()}")
            break
        plan_steps, xcur = _expand(xcur, n, change, stepwise, misplaced, assume_clean)
        accepted.append(change)
        total += len(plan_steps) - 1
        for label, ch in plan_steps:
            i += 1
            extra = []
            nxt = ch.apply(cur)
            parts = _remap(state.parts, placed, cur, nxt, ch)
            fstats: dict[str, Any] = {}
            if isinstance(ch, Fail):
                fr = _failure_rows(state, ch.osds(cur), i, frozenset(lost_before))
                fails.append(fr)
                fstats, found = _failure_stats(fr, (len(lost_at), *lost_data))
                newly = fr.loc[fr["lost"].astype(bool), "pgid"]
                lost_before.update(newly)
                lost_at.update(dict.fromkeys(newly, i))
                lost_data[0] += fstats["bytes_lost"]
                lost_data[1] += fstats["objects_lost"]
                extra += found
                state = _drop_lost(state, fr)
            else:
                extra += lost_findings(len(lost_at), *lost_data, lost_at.values())
            new_state, stats = _step_state(state, nxt, parts)
            extra += _standing(new_state, lost_at)
            stats.update(fstats)
            ssnap = _with_pgs(nxt, new_state.mapping, new_state.bytes, new_state.objects)
            new_state.snap = ssnap
            record(i, label, new_state, ssnap, stats, extra)
            state = new_state
            cur = placed = nxt

    empty_mv = pd.DataFrame(columns=["step", "osd_id", "pgs_in", "pgs_out", "bytes_in", "bytes_out"])
    empty_f = pd.DataFrame(columns=FAILURE_COLUMNS)
    return Plan(
        steps=pd.DataFrame(rows),
        movement=pd.concat(moves, ignore_index=True) if moves else empty_mv,
        osd_load=pd.concat(loads, ignore_index=True),
        health=pd.DataFrame(healths, columns=["step", "code", "severity", "summary"]),
        pools=pd.DataFrame(pools_rows),
        failures=pd.concat(fails, ignore_index=True) if fails else empty_f,
        mappings=mappings, snapshots=snaps, changes=list(changes), commands=_commands(snap, accepted),
        refused=refused)
