"""The placement state of a what-if step and how one step leads to the next (see :mod:`pgtools.simulate`).

A :class:`State` holds a step's placement arrays (one :class:`~pgtools.placement.pipeline.PoolMapping` per
pool), its PG frame and the bytes and objects of every PG; :func:`step_state` derives the next state
from a new placement, carrying each PG's data along the hash shares (:func:`~pgtools.simulate.plan.hash_shares`)
and counting what moves; :func:`remap_step` computes that placement, re-mapping only what a change can reach.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..model import NONE, Snapshot
from ..placement.incremental import remap
from ..placement.mapping import PoolMapping, mapping_frame
from ..placement.pipeline import map_pool_arrays
from .changes import pool_index
from .mgr_changes import PoolState
from .plan import hash_shares
from .pool_changes import CreatePool, DeletePool, SetPgNum, SetPgpNum, SetPoolRule, SetPoolSize

__all__ = ["State", "initial_data", "per_pg", "pool_meta", "remap_step", "step_state", "up_matrix", "with_pgs"]


def up_matrix(parts: Sequence[PoolMapping], which: str = "up") -> np.ndarray:
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


def pool_meta(snap: Snapshot) -> dict[int, dict[str, Any]]:
    """Per pool id: ``ec``, ``k`` (1 for replicated pools), ``size``, ``min_size``, ``name``, ``pg_num``, ``pgp_num``."""
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


def initial_data(snap: Snapshot, mapping: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Bytes and objects of each row of ``mapping`` (a ``map_pgs`` frame), from ``snap.pgs`` (missing: 0)."""
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
class State:
    """A step's placement and data: what :func:`step_state` carries from one step to the next."""

    snap: Snapshot
    parts: list[PoolMapping]  # placement per pool, in pool-id order
    mapping: pd.DataFrame  # the map_pgs frame of ``parts``
    bytes: np.ndarray
    objects: np.ndarray
    meta: dict[int, dict[str, Any]]
    up: np.ndarray  # up_matrix(parts)


def _state(snap: Snapshot, parts: list[PoolMapping], b: np.ndarray, o: np.ndarray, meta: dict) -> State:
    return State(snap, parts, mapping_frame(parts), b, o, meta, up_matrix(parts))


def _flows(prev: State, cur_parts: Sequence[PoolMapping], cur_meta: dict) -> tuple[np.ndarray, ...]:
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


def per_pg(parts: Sequence[PoolMapping], meta: dict, key: str) -> np.ndarray:
    """A pool property (``"ec"``, ``"k"``, ``"min_size"``) repeated for each PG row."""
    return np.repeat(np.array([meta[p.pool_id][key] for p in parts]), [len(p) for p in parts])


def step_state(prev: State, snap: Snapshot, parts: list[PoolMapping]) -> tuple[State, dict[str, Any]]:
    """The state of ``snap`` placed as ``parts``, its PGs' data carried over from ``prev``, and what moved.

    Returns
    -------
    (State, dict)
        The new state and ``{"movement", "pgs_moved", "shards_moved", "bytes_moved", "objects_moved"}``
        (``movement``: ``osd_id, pgs_in, pgs_out, bytes_in, bytes_out`` of the OSDs with any movement).
    """
    meta = pool_meta(snap)
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
    ec = per_pg(parts, meta, "ec").astype(bool)[ci[rows]] if n else np.zeros(0, dtype=bool)
    k = per_pg(parts, meta, "k").astype(float)[ci] if n else np.zeros(0)
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


def with_pgs(snap: Snapshot, state_map: pd.DataFrame, b: np.ndarray, o: np.ndarray) -> Snapshot:
    """``snap`` with ``pgs`` replaced by the step's placement (all active+clean) and data ``b`` / ``o``."""
    pgs = state_map[["pgid", "pool_id", "ps", "up", "up_primary", "acting", "acting_primary"]].copy()
    names = dict(zip(snap.pools["pool_id"].astype(int), snap.pools["pool"], strict=False))
    pgs.insert(3, "pool", pgs["pool_id"].map(names).fillna(""))
    pgs.insert(4, "state", "active+clean")
    pgs["objects"] = pd.array(np.round(o).astype(np.int64), dtype="Int64")
    pgs["bytes"] = pd.array(np.round(b).astype(np.int64), dtype="Int64")
    return snap.replace(pgs=pgs)


_POOL_CHANGES = (SetPgNum, SetPgpNum, PoolState, SetPoolSize, SetPoolRule, CreatePool, DeletePool)


def remap_step(prev: list[PoolMapping], placed: Snapshot, cur: Snapshot, nxt: Snapshot, ch: Any) -> list[PoolMapping]:
    """Placement after ``ch`` (``prev`` is the placement of ``placed``; ``ch`` turned ``cur`` into ``nxt``).

    A pool-level change re-maps the pools it touched; any other change re-maps only the PGs it can reach
    (:func:`pgtools.placement.incremental.remap`, which falls back to every PG when it cannot bound the change).
    """
    if not isinstance(ch, _POOL_CHANGES):
        return remap(placed, nxt, prev, reuse=True)
    before = {int(p) for p in cur.pools["pool_id"]}
    after = {int(p) for p in nxt.pools["pool_id"]}
    touched = set() if isinstance(ch, DeletePool) else (after - before)
    if not isinstance(ch, (CreatePool, DeletePool)):
        touched.add(int(nxt.pools.at[pool_index(nxt, ch.pool), "pool_id"]))
    keep = [p for p in prev if p.pool_id in after - touched]
    new = map_pool_arrays(nxt, sorted(touched), reuse=True) if touched else []
    return sorted(keep + new, key=lambda p: p.pool_id)
