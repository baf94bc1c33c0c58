"""Compiled ``crush_msr_do_rule`` (numba): MSR rules (``msr_firstn``/``msr_indep``, Squid and later).

A port of :func:`pgtools.crush.reference.msr_do_rule` (Ceph ``src/crush/mapper.c``: ``crush_msr_do_rule``,
``crush_msr_choose``, ``crush_msr_descend`` and their collision-set helpers) over the arrays of
:class:`~pgtools.crush._numba_buckets.NumbaMap`.  The rule's structure (its ``take ... emit`` blocks, the
``set_msr_*`` prefix) is read once in Python with :func:`pgtools.crush.reference.msr_blocks`; the kernel maps
the inputs.  The shapes Ceph has no defined result for are flagged per input by the kernel, and
:func:`map_msr_numba` then re-runs that input through the reference, which raises the precise
:class:`~pgtools.errors.UnsupportedFeatureError`.  Like :mod:`._numba`, this module imports numba at import
time and is loaded only when the numba engine maps an MSR rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ._numba_buckets import NumbaMap, bucket_choose, is_bucket, is_out
from .constants import ITEM_NONE, ITEM_UNDEF
from .reference import crush_do_rule, msr_blocks
from .rule import MSR_FIRSTN

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["map_msr_numba"]

_M32 = 0xFFFFFFFF
#: ``bucket_choose`` compiled inline into the MSR descent: a call passing the map tuple costs ~0.8 us, about
#: ten times the choice itself, and an MSR rule that runs out of candidates makes msr_descents x
#: msr_collision_tries choices per stride
_bucket_choose_inline = njit(cache=True, inline="always")(bucket_choose.py_func)
# state vector of one input: returned so far, error flag, firstn (1) or indep (0)
_RET, _ERR, _FIRSTN = 0, 1, 2


@njit(cache=True, inline="always")
def _descend(m, perm, x: int, bid: int, want_type: int, r: int, index: int) -> int:
    """``crush_msr_descend``; returns ``ITEM_UNDEF`` on an empty or missing bucket (undefined in Ceph)."""
    while True:
        s = -1 - bid
        if m[3][s] == 0:
            return ITEM_UNDEF
        item = _bucket_choose_inline(m, s, x, r, index, perm)
        if item >= 0:
            return item
        if not is_bucket(m, item):
            return ITEM_UNDEF
        bid = item
        if m[1][-1 - bid] == want_type:
            return item


@njit(cache=True, inline="always")
def _push(vec: np.ndarray, s0: int, s1: int, cand: int) -> int:
    """``crush_msr_push_used``: 1 added, 0 already there, -1 the stride is full (impossible in Ceph)."""
    for i in range(s0, s1):
        if vec[i] == cand:
            return 0
        if vec[i] == ITEM_UNDEF:
            vec[i] = cand
            return 1
    return -1


@njit(cache=True, inline="always")
def _emit(out: np.ndarray, state: np.ndarray, position: int, item: int) -> None:
    """``crush_msr_emit_result``."""
    if state[_RET] >= out.shape[0]:
        state[_ERR] = 1
        return
    if state[_FIRSTN]:
        out[state[_RET]] = item
    else:
        out[position] = item
    state[_RET] += 1


@njit(cache=True)
def _choose(m, wts, perm, steps, x: int, result_max: int, collision: int, vecs, first: int, out, state,
            bid: int, total: int, start: int, end: int, stepno: int, end_step: int, tryno: int) -> int:
    """``crush_msr_choose`` (recursive over the ``choosemsr`` steps of the block)."""
    num = steps[stepno, 1]
    want_type = steps[stepno, 2]
    num_strides = num if num else result_max
    stride_len = total // num_strides
    vi = stepno - first
    leaf = end_step - first - 1
    undo = np.full(num_strides, ITEM_UNDEF, dtype=np.int64)
    mapped = 0
    stride = 0
    for s0 in range(start, end, stride_len):
        s1 = min(s0 + stride_len, end)
        full = True
        for i in range(s0, s1):
            if vecs[leaf, i] == ITEM_UNDEF:
                full = False
                break
        if full:
            stride += 1
            continue
        cand = ITEM_UNDEF
        for local in range(collision):
            r = ((((tryno * result_max + stride) & _M32) << 16) + local) & _M32
            c = _descend(m, perm, x, bid, want_type, r, stride)
            if c == ITEM_UNDEF:
                state[_ERR] = 1
                return 0
            valid = True
            for i in range(start, end):
                if vecs[vi, i] == c:
                    valid = s0 <= i < s1
                    break
            if valid:
                cand = c
                break
        if cand != ITEM_UNDEF:
            if want_type == 0:
                if stride_len == 1 and stepno + 1 == end_step and cand < 0:
                    state[_ERR] = 1  # a bucket of type 0: Ceph's is_out reads weight[cand], out of bounds
                    return 0
                if stride_len == 1 and stepno + 1 == end_step and not is_out(wts, cand, x):
                    if _push(vecs[vi], s0, s1, cand) < 0:
                        state[_ERR] = 1
                        return 0
                    _emit(out, state, s0, cand)
                    mapped += 1
            elif stepno + 1 < end_step:
                if not is_bucket(m, cand):
                    state[_ERR] = 1
                    return 0
                child = _choose(m, wts, perm, steps, x, result_max, collision, vecs, first, out, state, cand,
                                stride_len, s0, s1, stepno + 1, end_step, tryno)
                if state[_ERR]:
                    return 0
                pushed = _push(vecs[vi], s0, s1, cand)
                if pushed < 0:
                    state[_ERR] = 1
                    return 0
                if pushed == 1 and child == 0:
                    undo[stride] = cand
                else:
                    mapped += child
        stride += 1
    stride = 0
    for s0 in range(start, end, stride_len):
        if undo[stride] != ITEM_UNDEF:
            s1 = min(s0 + stride_len, end)
            for i in range(s1 - 1, s0 - 1, -1):
                if vecs[vi, i] != ITEM_UNDEF:
                    vecs[vi, i] = ITEM_UNDEF
                    break
        stride += 1
    return mapped


@njit(cache=True)
def _msr_map(m, wts, steps, blocks, firstn: int, descents: int, collision: int, xs, result_max: int,
             res, err) -> None:
    """``crush_msr_do_rule`` for every input ``xs[i]``: row ``res[i]`` (-1 padded), ``err[i]`` set when undefined."""
    perm = np.empty(max(m[15], 1), dtype=np.int64)
    vecs = np.empty((steps.shape[0], result_max), dtype=np.int64)
    out = np.empty(result_max, dtype=np.int64)
    state = np.zeros(3, dtype=np.int64)
    for k in range(xs.shape[0]):
        x = xs[k]
        out[:] = ITEM_NONE
        state[_RET] = 0
        state[_ERR] = 0
        state[_FIRSTN] = firstn
        start = 0
        for b in range(blocks.shape[0]):
            take = blocks[b, 0]
            end_step = blocks[b, 1]
            total = blocks[b, 2]
            root = steps[take, 1]
            first = take + 1
            vecs[:, :] = ITEM_UNDEF
            end = min(start + total, result_max)
            limit = state[_RET] + (end - start)
            tries = 0
            while tries < descents and state[_RET] < limit:
                if first == end_step:
                    state[_ERR] = 1
                    break
                _choose(m, wts, perm, steps, x, result_max, collision, vecs, first, out, state, root, total,
                        start, end, first, end_step, tries)
                if state[_ERR]:
                    break
                tries += 1
            if state[_ERR]:
                break
            start = end
        if state[_ERR]:
            err[k] = 1
            continue
        if firstn:
            for j in range(state[_RET]):
                res[k, j] = out[j]
        else:
            for j in range(result_max):
                res[k, j] = out[j]


def map_msr_numba(crush: CrushMap, nm: NumbaMap, rule: int, num_rep: int, xs: np.ndarray, wts: np.ndarray,
                  choose_args: object, res: np.ndarray) -> np.ndarray:
    """Fill ``res`` (``(len(xs), num_rep)``, -1) with the MSR rule's mappings; see :func:`map_values_numba`.

    Raises
    ------
    UnsupportedFeatureError
        The first input whose mapping Ceph leaves undefined (from :func:`pgtools.crush.reference.msr_do_rule`).
    """
    r = crush.rules[rule]
    scan = msr_blocks(r, num_rep)
    if scan is None:
        return res  # malformed: Ceph maps nothing
    descents, collision, blocks = scan
    t = crush.tunables
    descents = t.msr_descents if descents < 0 else descents
    collision = t.msr_collision_tries if collision < 0 else collision
    barr = np.asarray(blocks, dtype=np.int64).reshape(-1, 3)
    for take, _emit_step, _total in blocks:
        root = r.steps[take][1]
        if root >= 0 or root not in crush.buckets:  # the reference raises the error
            crush_do_rule(crush, rule, int(xs[0]) if len(xs) else 0, num_rep, [int(v) for v in wts], choose_args)
    steps = nm.steps[rule]
    err = np.zeros(len(xs), dtype=np.int64)
    _msr_map(nm.arrays, wts, steps, barr, int(r.type == MSR_FIRSTN), int(descents), int(collision), xs, num_rep,
             res, err)
    bad = np.nonzero(err)[0]
    if len(bad):
        crush_do_rule(crush, rule, int(xs[bad[0]]), num_rep, [int(v) for v in wts], choose_args)
        raise AssertionError(f"MSR kernel and reference disagree on x={int(xs[bad[0]])}")  # the reference raised
    return res
