"""The placement state of a what-if step and how one step leads to the next (see :mod:`pgtools.simulate`).

A :class:`State` holds a step's placement arrays (one :class:`~pgtools.placement.pipeline.PoolMapping` per
pool), its PG frame and the bytes and objects of every PG; :func:`step_state` derives the next state
from a new placement, carrying each PG's data along the hash shares (:func:`~pgtools.simulate.plan.hash_shares`)
and counting what moves; :func:`remap_step` computes that placement, re-mapping only what a change can reach.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
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

__all__ = ["State", "count_osds", "initial_data", "per_pg", "pool_meta", "remap_step", "step_state", "up_matrix", "with_pgs"]


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


def count_osds(a: np.ndarray) -> np.ndarray:
    """Entries ``>= 0`` in each row of an ``(n, width)`` OSD array (column by column: ``width`` is small)."""
    out = np.zeros(len(a), dtype=np.int64)
    for j in range(a.shape[1] if a.ndim == 2 else 0):
        out += a[:, j] >= 0
    return out


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
    #: per-PG arrays derived from ``parts``/``meta``/``up`` only (see :meth:`column`, :meth:`up_count`); not
    #: carried by ``dataclasses.replace`` (a replaced state starts with an empty cache)
    _derived: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)

    def column(self, key: str) -> np.ndarray:
        """A pool property (``"ec"``, ``"k"``, ``"size"``, ``"min_size"``) repeated for each PG row (cached)."""
        got = self._derived.get(key)
        if got is None:
            got = self._derived[key] = per_pg(self.parts, self.meta, key)
        return got

    def pool_index(self) -> np.ndarray:
        """Position in ``parts`` of each PG row's pool (cached)."""
        got = self._derived.get("pool_index")
        if got is None:
            got = self._derived["pool_index"] = np.repeat(np.arange(len(self.parts)), [len(p) for p in self.parts])
        return got

    def up_count(self) -> np.ndarray:
        """How many OSDs each PG's up set holds (holes and padding not counted; cached)."""
        got = self._derived.get("up_count")
        if got is None:
            got = self._derived["up_count"] = count_osds(self.up)
        return got


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
    n = sum(len(p) for p in parts)
    # the same pools with the same pg_num: every PG keeps its data (the usual what-if: only placement changed)
    same = ([p.pool_id for p in prev.parts] == [p.pool_id for p in parts]
            and all(prev.meta[p.pool_id]["pg_num"] == meta[p.pool_id]["pg_num"] for p in parts))
    if same:
        b, o = prev.bytes.copy(), prev.objects.copy()
    else:
        pi, ci, sh = _flows(prev, parts, meta)
        b = np.zeros(n)
        o = np.zeros(n)
        np.add.at(b, ci, prev.bytes[pi] * sh)
        np.add.at(o, ci, prev.objects[pi] * sh)
    state = _state(snap, parts, b, o, meta)
    # movement: flow f carries prev.bytes[pi[f]] * sh[f] from up set A[f] to up set B[f]; only flows whose
    # sets differ somewhere can write or drop a copy
    width = max(prev.up.shape[1], state.up.shape[1])
    A, B = _widen(prev.up, width), _widen(state.up, width)
    if same:
        fp = np.nonzero(_any_cols(A != B))[0]
        fc, fs = fp, np.ones(len(fp))
    else:
        r = np.nonzero(_any_cols(A[pi] != B[ci]))[0]
        fp, fc, fs = pi[r], ci[r], sh[r]
    a, b_ = A[fp], B[fc]
    ec = state.column("ec").astype(bool)[fc]
    k = state.column("k").astype(float)[fc]
    in_b = _any_cols(b_[:, :, None] == a[:, None, :], axis=2)
    in_a = _any_cols(a[:, :, None] == b_[:, None, :], axis=2)
    new = np.where(ec[:, None], (b_ >= 0) & (b_ != a), (b_ >= 0) & ~in_b)
    gone = np.where(ec[:, None], (a >= 0) & (a != b_), (a >= 0) & ~in_a)
    fb = prev.bytes[fp] * fs / k
    fo = prev.objects[fp] * fs / k
    moved_flow = _any_cols(new) | _any_cols(gone)
    pg_moved = np.zeros(n, dtype=bool)
    pg_moved[fc[moved_flow]] = True
    max_id = int(max(a.max(initial=-1), b_.max(initial=-1))) + 1
    nb = new.sum(1)
    flows = np.arange(len(fc))
    rows_in = np.repeat(flows, nb)
    osd_in = b_[new]
    rows_out = np.repeat(flows, gone.sum(1))
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
    pid = state_map["pool_id"].to_numpy()
    names = dict(zip(snap.pools["pool_id"].astype(int), snap.pools["pool"], strict=False))
    index = pd.RangeIndex(len(pid))
    # rows come in runs of one pool: look each run's name up once.  New text columns are built from small
    # Series and repeated, so pandas infers their dtype once (not over a million objects)
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]]) if len(pid) else np.zeros(0, dtype=np.int64)
    run_names = pd.Series([names.get(int(v), "") for v in pid[starts]] or [""])[: len(starts)]
    pool = run_names.repeat(np.diff(np.r_[starts, len(pid)])).set_axis(index)
    state = pd.Series(["active+clean"]).repeat(len(pid)).set_axis(index)
    cols = {c: state_map[c].set_axis(index) for c in ("pgid", "pool_id", "ps")}
    cols.update(pool=pool, state=state)
    cols.update({c: state_map[c].set_axis(index) for c in ("up", "up_primary", "acting", "acting_primary")})
    cols["objects"] = pd.Series(pd.array(np.round(o).astype(np.int64), dtype="Int64"), index=index)
    cols["bytes"] = pd.Series(pd.array(np.round(b).astype(np.int64), dtype="Int64"), index=index)
    pgs = pd.DataFrame(cols, copy=False)
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
