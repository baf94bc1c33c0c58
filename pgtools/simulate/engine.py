"""The simulation loop (see :mod:`pgtools.simulate` for the model)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import NONE, Snapshot
from .changes import (
    Change,
    CreatePool,
    DeletePool,
    Fail,
    SetPgNum,
    SetPgpNum,
    SetPoolRule,
    SetPoolSize,
    _pool_index,
    _pool_name,
    _set_pool,
)
from .plan import Plan, hash_shares


# ------------------------------------------------------------------------------------------ engine
def _pad(vectors: Sequence[tuple], width: int) -> np.ndarray:
    """OSD vectors as an ``(n, width)`` int64 array, -1 for padding and for NONE holes."""
    n = len(vectors)
    vectors = list(vectors)
    if n == 0:
        return np.full((0, max(width, 1)), -1, dtype=np.int64)
    lens = np.fromiter(map(len, vectors), dtype=np.int64, count=n)
    if int(lens.min()) == int(lens.max()) == width and width > 0:
        out = np.array(vectors, dtype=np.int64).reshape(n, width)
    else:
        out = np.full((n, max(width, 1)), -1, dtype=np.int64)
        flat = np.fromiter((x for v in vectors for x in v), dtype=np.int64, count=int(lens.sum()))
        rows = np.repeat(np.arange(n), lens)
        cols = np.arange(len(flat)) - np.repeat(np.cumsum(lens) - lens, lens)
        out[rows, cols] = flat
    out[out == NONE] = -1
    return out


_PAD_CACHE: list[tuple[pd.DataFrame, np.ndarray]] = []


def _padded(mapping: pd.DataFrame) -> np.ndarray:
    """The ``up`` column of a mapping as a padded array (the last few are cached by identity)."""
    for m, u in _PAD_CACHE:
        if m is mapping:
            return u
    vec = mapping["up"].tolist()
    u = _pad(vec, max(map(len, vec), default=1))
    _PAD_CACHE.append((mapping, u))
    del _PAD_CACHE[:-4]
    return u


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
    mapping: pd.DataFrame
    bytes: np.ndarray
    objects: np.ndarray
    meta: dict[int, dict[str, Any]]


def _flows(prev: _State, cur_map: pd.DataFrame, cur_meta: dict) -> tuple[np.ndarray, ...]:
    """(prev row, cur row, share) for every data flow between two mappings."""
    pi, ci, sh = [], [], []
    prev_rows = {pid: g.index.to_numpy() for pid, g in prev.mapping.groupby("pool_id", sort=False)}
    cur_rows = {pid: g.index.to_numpy() for pid, g in cur_map.groupby("pool_id", sort=False)}
    prev_ps = prev.mapping["ps"].to_numpy()
    cur_ps = cur_map["ps"].to_numpy()
    for pid, crow in cur_rows.items():
        prow = prev_rows.get(pid)
        if prow is None:
            continue
        old_n = prev.meta[pid]["pg_num"]
        new_n = cur_meta[pid]["pg_num"]
        pmap = np.full(old_n, -1, dtype=np.int64)
        pmap[prev_ps[prow]] = prow
        cmap = np.full(new_n, -1, dtype=np.int64)
        cmap[cur_ps[crow]] = crow
        if old_n == new_n:
            op = qp = np.arange(new_n)
            share = np.ones(new_n)
        else:
            op, qp, share = hash_shares(old_n, new_n)
        pi.append(pmap[op])
        ci.append(cmap[qp])
        sh.append(share)
    if not pi:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    return np.concatenate(pi), np.concatenate(ci), np.concatenate(sh)


def _per_pg(mapping: pd.DataFrame, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-row (is erasure-coded, k) of a mapping."""
    pids = mapping["pool_id"].to_numpy()
    ec = np.zeros(len(pids), dtype=bool)
    k = np.ones(len(pids))
    for pid, mt in meta.items():
        sel = pids == pid
        ec[sel] = mt["ec"]
        k[sel] = mt["k"]
    return ec, k


def _step_state(prev: _State, snap: Snapshot, mapping: pd.DataFrame) -> tuple[_State, dict[str, Any]]:
    meta = _pool_meta(snap)
    pi, ci, sh = _flows(prev, mapping, meta)
    n = len(mapping)
    b = np.zeros(n)
    o = np.zeros(n)
    np.add.at(b, ci, prev.bytes[pi] * sh)
    np.add.at(o, ci, prev.objects[pi] * sh)
    # movement
    PA, PB = _padded(prev.mapping), _padded(mapping)
    width = max(PA.shape[1], PB.shape[1])
    A = np.pad(PA, ((0, 0), (0, width - PA.shape[1])), constant_values=-1)[pi]
    B = np.pad(PB, ((0, 0), (0, width - PB.shape[1])), constant_values=-1)[ci]
    ec_pg, k_pg = _per_pg(mapping, meta)
    ec, k = ec_pg[ci], k_pg[ci]
    in_b = (B[:, :, None] == A[:, None, :]).any(-1)
    in_a = (A[:, :, None] == B[:, None, :]).any(-1)
    new_rep = (B >= 0) & ~in_b
    gone_rep = (A >= 0) & ~in_a
    new_ec = (B >= 0) & (B != A)
    gone_ec = (A >= 0) & (A != B)
    new = np.where(ec[:, None], new_ec, new_rep)
    gone = np.where(ec[:, None], gone_ec, gone_rep)
    fb = prev.bytes[pi] * sh / k
    fo = prev.objects[pi] * sh / k
    moved_flow = new.any(1) | gone.any(1)
    pg_moved = np.zeros(n, dtype=bool)
    pg_moved[ci[moved_flow]] = True
    max_id = int(max(A.max(initial=-1), B.max(initial=-1))) + 1
    nb = new.sum(1)
    rows_in = np.repeat(np.arange(len(ci)), nb)
    osd_in = B[new]
    rows_out = np.repeat(np.arange(len(ci)), gone.sum(1))
    osd_out = A[gone]
    mv = pd.DataFrame({
        "osd_id": np.arange(max_id),
        "pgs_in": np.bincount(osd_in, minlength=max_id),
        "pgs_out": np.bincount(osd_out, minlength=max_id),
        "bytes_in": np.bincount(osd_in, weights=fb[rows_in], minlength=max_id).round().astype(np.int64),
        "bytes_out": np.bincount(osd_out, weights=fb[rows_out], minlength=max_id).round().astype(np.int64)})
    mv = mv[(mv["pgs_in"] > 0) | (mv["pgs_out"] > 0)].reset_index(drop=True)
    stats = {"pgs_moved": int(pg_moved.sum()), "shards_moved": int(nb.sum()),
             "bytes_moved": int(round(float((fb * nb).sum()))), "objects_moved": int(round(float((fo * nb).sum())))}
    return _State(snap, mapping, b, o, meta), {"movement": mv, **stats}


def _osd_load(state: _State, base: pd.DataFrame | None) -> pd.DataFrame:
    m = state.mapping
    U = _padded(m)
    k = _per_pg(m, state.meta)[1]
    per = np.repeat((state.bytes / k)[:, None], U.shape[1], axis=1) if len(m) else np.zeros((0, 1))
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
    om = snap.osdmap or {}
    out = {}
    for k, d in (("nearfull_ratio", 0.85), ("backfillfull_ratio", 0.90), ("full_ratio", 0.95)):
        v = om.get(k)
        out[k] = float(v) if v else d
    return out


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
    from ..analysis import pool_max_avail

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


def _failure_rows(prev: _State, failed: list[int], step: int) -> pd.DataFrame:
    m = prev.mapping
    U = _padded(m)
    have = (U >= 0).sum(1)
    lost = np.isin(U, np.array(failed, dtype=np.int64)).sum(1)
    ms = np.array([prev.meta[int(p)]["min_size"] for p in m["pool_id"]], dtype=np.int64)
    k = np.array([prev.meta[int(p)]["k"] for p in m["pool_id"]], dtype=float)
    sel = lost > 0
    return pd.DataFrame({
        "step": step, "pgid": m["pgid"].to_numpy()[sel], "copies_lost": lost[sel],
        "remaining": (have - lost)[sel], "min_size": ms[sel], "inactive": ((have - lost) < ms)[sel],
        "bytes": (prev.bytes * lost / k)[sel].round().astype(np.int64)})


def _expand(snap: Snapshot, changes: Sequence[Any], stepwise: bool, misplaced: Any) -> list[tuple[str, Any]]:
    """(label, change-or-callable) per step; stepwise pg changes become explicit pool states."""
    out: list[tuple[str, Any]] = []
    cur = snap
    for ch in changes:
        if stepwise and isinstance(ch, (SetPgNum, SetPgpNum)):
            from ..pgnum import pool_pgp_num_steps

            kw: dict[str, Any] = {}
            if misplaced is not None:
                kw["misplaced_fn"] = misplaced
            if isinstance(ch, SetPgNum):
                seq = pool_pgp_num_steps(cur, ch.pool, target_pg_num=ch.n, **kw)
            else:
                seq = pool_pgp_num_steps(cur, ch.pool, target_pgp_num=ch.n, **kw)
            name = ch.pool
            for rec in seq.iloc[1:].to_dict("records"):
                pg, pgp = int(rec["pg_num"]), int(rec["pgp_num"])
                st = _PoolState(name, pg, pgp)
                out.append((f"{ch.describe()}: pg_num {pg} pgp_num {pgp}", st))
                cur = st.apply(cur)
        else:
            out.append((ch.describe(), ch))
            cur = ch.apply(cur)
    return out


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
    """Each change's commands, with pools given by id renamed (the CLI takes names)."""
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
        out.extend(named.ceph_commands())
        cur = ch.apply(cur)
    return out


_POOL_CHANGES = (SetPgNum, SetPgpNum, _PoolState, SetPoolSize, SetPoolRule, CreatePool, DeletePool)


def _remap(prev: pd.DataFrame, cur: Snapshot, nxt: Snapshot, ch: Any) -> pd.DataFrame:
    """Placement after ``ch``: only the pools a pool-level change touched are recomputed."""
    from ..placement import map_pgs

    if not isinstance(ch, _POOL_CHANGES):
        return map_pgs(nxt)
    before = {int(p) for p in cur.pools["pool_id"]}
    after = {int(p) for p in nxt.pools["pool_id"]}
    touched = set() if isinstance(ch, DeletePool) else (after - before)
    if not isinstance(ch, (CreatePool, DeletePool)):
        touched.add(int(nxt.pools.at[_pool_index(nxt, ch.pool), "pool_id"]))
    keep = prev[prev["pool_id"].isin(sorted(after - touched))]
    parts = [keep] + ([map_pgs(nxt, sorted(touched))] if touched else [])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["pool_id", "ps"], kind="stable", ignore_index=True)


def simulate(snap: Snapshot, changes: Sequence[Any], *, stepwise: bool = False, misplaced: Any = None,
             progress: Callable[[int, int, str], None] | None = None, checks: bool = True) -> Plan:
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
        Misplaced ratio model passed to :func:`pgtools.pgnum.pgp_num_steps` (default 0: each step
        completes before the next).
    progress : callable, optional
        Called as ``progress(step, total, label)`` after each step.
    checks : bool
        Run :func:`pgtools.analysis.health` on every step (the PG-count checks; at 32k PGs this costs
        about 0.5 s a step).  Fullness, failure and ``check_pg_num`` findings are always reported.

    Returns
    -------
    Plan
    """
    from ..analysis import check_pg_num, health
    from ..placement import map_pgs

    plan_steps = _expand(snap, list(changes), stepwise, misplaced)
    total = len(plan_steps) + 1
    m0 = map_pgs(snap)
    b0, o0 = _initial_data(snap, m0)
    state = _State(snap, m0, b0, o0, _pool_meta(snap))
    step_snap = _with_pgs(snap, m0, b0, o0)
    rows, moves, loads, healths, pools_rows, fails, mappings, snaps = [], [], [], [], [], [], [], []
    ratios = _ratios(snap)
    base_load = None

    def record(i: int, label: str, st: _State, ssnap: Snapshot, stats: dict, extra: list) -> None:
        nonlocal base_load
        load = _osd_load(st, base_load)
        if base_load is None:
            base_load = load[["osd_id", "bytes"]]
        ld = load[load["exists"]]
        loads.append(pd.DataFrame({"step": i, "osd_id": ld["osd_id"], "pgs": ld["pgs"], "bytes": ld["bytes"],
                                   "utilization": ld["utilization"]}))
        findings = [(f.code, f.severity, f.summary) for f in health(ssnap)] if checks else []
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
            "pgs_degraded": stats.get("pgs_degraded", 0), "pgs_inactive": stats.get("pgs_inactive", 0),
            "bytes_to_recover": stats.get("bytes_to_recover", 0),
            "health": "; ".join(f[0] for f in findings) or "HEALTH_OK"})
        if "movement" in stats and len(stats["movement"]):
            mv = stats["movement"].copy()
            mv.insert(0, "step", i)
            moves.append(mv)
        mappings.append(st.mapping.assign(bytes=np.round(st.bytes).astype(np.int64),
                                          objects=np.round(st.objects).astype(np.int64)))
        snaps.append(ssnap)
        if progress is not None:
            progress(i, total, label)

    record(0, "input", state, step_snap, {}, [])
    cur = snap
    om = dict(cur.osdmap or {})
    om["pg_temp"], om["primary_temp"] = {}, {}
    cur = cur.replace(osdmap=om)
    for i, (label, ch) in enumerate(plan_steps, start=1):
        extra = []
        if isinstance(ch, (SetPgNum, _PoolState)):
            n = ch.n if isinstance(ch, SetPgNum) else ch.pg_num
            if n > int(cur.pools.at[_pool_index(cur, ch.pool), "pg_num"]):
                f = check_pg_num(state.snap, ch.pool, n)
                if f is not None:
                    extra.append((f.code, f.severity, f.summary))
        nxt = ch.apply(cur)
        mp = _remap(state.mapping, cur, nxt, ch) if i > 1 else map_pgs(nxt)
        new_state, stats = _step_state(state, nxt, mp)
        if isinstance(ch, Fail):
            fr = _failure_rows(state, ch.osds(cur), i)
            fails.append(fr)
            stats.update(pgs_degraded=int(len(fr)), pgs_inactive=int(fr["inactive"].sum()),
                         bytes_to_recover=int(fr["bytes"].sum()))
            if fr["inactive"].any():
                extra.append(("PG_AVAILABILITY", "HEALTH_WARN",
                              f"Reduced data availability: {int(fr['inactive'].sum())} pgs inactive"))
            if len(fr):
                extra.append(("PG_DEGRADED", "HEALTH_WARN",
                              f"Degraded data redundancy: {len(fr)} pgs degraded until recovery"))
        ssnap = _with_pgs(nxt, mp, new_state.bytes, new_state.objects)
        new_state.snap = ssnap
        record(i, label, new_state, ssnap, stats, extra)
        state = new_state
        cur = nxt

    empty_mv = pd.DataFrame(columns=["step", "osd_id", "pgs_in", "pgs_out", "bytes_in", "bytes_out"])
    empty_f = pd.DataFrame(columns=["step", "pgid", "copies_lost", "remaining", "min_size", "inactive", "bytes"])
    return Plan(
        steps=pd.DataFrame(rows),
        movement=pd.concat(moves, ignore_index=True) if moves else empty_mv,
        osd_load=pd.concat(loads, ignore_index=True),
        health=pd.DataFrame(healths, columns=["step", "code", "severity", "summary"]),
        pools=pd.DataFrame(pools_rows),
        failures=pd.concat(fails, ignore_index=True) if fails else empty_f,
        mappings=mappings, snapshots=snaps, changes=list(changes), commands=_commands(snap, changes))
