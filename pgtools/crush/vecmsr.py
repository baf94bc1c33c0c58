"""Vectorised ``crush_msr_do_rule``: MSR rules (``msr_firstn``/``msr_indep``) for many inputs at once with NumPy.

The control flow of an MSR rule -- its ``take ... emit`` blocks, the ``msr_descents`` passes, the strides of
each ``choosemsr`` step, the ``msr_collision_tries`` redraws -- depends on the rule and ``result_max`` only,
never on the input, and the retry value ``r`` (``crush_msr_get_retry_value``) is the same for every input at
a given (pass, stride, redraw).  So this module walks that control flow once, exactly like
:func:`pgtools.crush.reference.msr_do_rule` (Ceph ``src/crush/mapper.c``: ``crush_msr_do_rule``,
``crush_msr_choose``, ``crush_msr_descend``, ``crush_msr_push_used``/``crush_msr_pop_used``,
``crush_msr_emit_result``), and at every point handles the inputs still concerned as arrays: which strides
are already mapped, the candidates, the collisions, the out devices, the per-step collision vectors and the
output are per-input arrays and masks.  Loops run over passes, strides and redraws, never over inputs.

The shapes Ceph has no defined result for are flagged per input; :func:`map_msr_vec` then re-runs the first
flagged input through the reference, which raises the precise :class:`~pgtools.errors.UnsupportedFeatureError`
(as :mod:`pgtools.crush._numba_msr` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .constants import ITEM_NONE, ITEM_UNDEF
from .reference import crush_do_rule, msr_blocks
from .rule import MSR_FIRSTN
from .vecmap import VecMap, is_out_vec

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["map_msr_vec"]

_M32 = 0xFFFFFFFF


class _MsrVec:
    """State of one vectorised ``crush_msr_do_rule`` call over ``n`` inputs.

    ``vecs[level]`` is the ``(n, result_max)`` collision vector of the block's ``level``-th ``choosemsr``
    step, ``out``/``returned`` the output of ``crush_msr_emit_result``, ``err`` marks inputs whose mapping
    Ceph leaves undefined (they drop out of every later step).
    """

    def __init__(self, vm: VecMap, wts: np.ndarray, steps: Sequence[tuple[int, int, int]], x: np.ndarray,
                 result_max: int, firstn: bool, collision: int):
        n = len(x)
        self.vm = vm
        self.wts = wts
        self.steps = steps
        self.x = x
        self.result_max = result_max
        self.firstn = firstn
        self.collision = collision
        self.out = np.full((n, result_max), ITEM_NONE, dtype=np.int64)
        self.returned = np.zeros(n, dtype=np.int64)
        self.err = np.zeros(n, dtype=bool)
        self.vecs = np.zeros((0, n, result_max), dtype=np.int64)
        self.first = 0

    def descend(self, rows: np.ndarray, bid: np.ndarray, want_type: int, r: int, index: int) -> np.ndarray:
        """``crush_msr_descend`` for ``rows`` from buckets ``bid``: a device or a bucket of ``want_type``.

        Rows reaching an empty or missing bucket are flagged in ``err`` (their result is meaningless).
        """
        vm = self.vm
        res = np.full(len(rows), ITEM_UNDEF, dtype=np.int64)
        cur = bid.copy()
        act = np.arange(len(rows))
        while len(act):
            cb = cur[act]
            empty = vm.bsize[-1 - cb] == 0
            if empty.any():
                self.err[rows[act[empty]]] = True
                act, cb = act[~empty], cb[~empty]
                if not len(act):
                    break
            ra = rows[act]
            item = vm.choose(cb, self.x[ra], np.full(len(act), r, dtype=np.int64),
                             np.full(len(act), index, dtype=np.int64))
            dev = item >= 0
            res[act[dev]] = item[dev]
            missing = ~dev & ~vm.is_bucket(item)
            self.err[ra[missing]] = True
            down = ~dev & ~missing
            typed = np.zeros(len(act), dtype=bool)
            typed[down] = vm.btype[-1 - item[down]] == want_type
            res[act[typed]] = item[typed]
            more = down & ~typed
            cur[act[more]] = item[more]
            act = act[more]
        return res

    def push(self, level: int, rows: np.ndarray, s0: int, s1: int, cand: np.ndarray) -> np.ndarray:
        """``crush_msr_push_used``: add ``cand`` to each row's stride ``[s0, s1)``; True where added, False where
        already there (a full stride, impossible in Ceph, is flagged in ``err``)."""
        sub = self.vecs[level, rows, s0:s1]
        hit = (sub == cand[:, None]) | (sub == ITEM_UNDEF)
        some = hit.any(axis=1)
        self.err[rows[~some]] = True
        pos = np.argmax(hit, axis=1)
        k = np.arange(len(rows))
        added = some & (sub[k, pos] == ITEM_UNDEF)
        self.vecs[level, rows[added], s0 + pos[added]] = cand[added]
        return added

    def emit(self, rows: np.ndarray, position: int, item: np.ndarray) -> None:
        """``crush_msr_emit_result``: firstn appends, indep writes at ``position`` (past ``result_max``: ``err``)."""
        full = self.returned[rows] >= self.result_max
        self.err[rows[full]] = True
        rows, item = rows[~full], item[~full]
        if self.firstn:
            self.out[rows, self.returned[rows]] = item
        else:
            self.out[rows, position] = item
        self.returned[rows] += 1

    def choose(self, rows: np.ndarray, bid: np.ndarray, total: int, start: int, end: int, stepno: int,
               end_step: int, tryno: int) -> np.ndarray:
        """``crush_msr_choose`` for ``rows`` (each from its bucket ``bid``): indices ``[start, end)`` with steps
        ``stepno..end_step - 1``; returns how many results each row mapped."""
        _op, num, want_type = self.steps[stepno]
        num_strides = num if num else self.result_max
        stride_len = total // num_strides
        level = stepno - self.first
        leaf = end_step - self.first - 1
        mapped = np.zeros(len(rows), dtype=np.int64)
        undo = np.full((len(rows), num_strides), ITEM_UNDEF, dtype=np.int64)
        starts = range(start, end, stride_len)
        for stride, s0 in enumerate(starts):
            s1 = min(s0 + stride_len, end)
            # a stride whose every index is mapped already is skipped
            need = ~self.err[rows] & (self.vecs[leaf, rows, s0:s1] == ITEM_UNDEF).any(axis=1)
            pend = np.nonzero(need)[0]
            cand = np.full(len(rows), ITEM_UNDEF, dtype=np.int64)
            for local in range(self.collision):
                if not len(pend):
                    break
                r = ((((tryno * self.result_max + stride) & _M32) << 16) + local) & _M32
                c = self.descend(rows[pend], bid[pend], want_type, r, stride)
                ok = ~self.err[rows[pend]]
                pend, c = pend[ok], c[ok]
                # valid: not chosen yet in [start, end), or already chosen for this very stride
                eq = self.vecs[level, rows[pend], start:end] == c[:, None]
                first_hit = start + np.argmax(eq, axis=1)
                valid = ~eq.any(axis=1) | ((first_hit >= s0) & (first_hit < s1))
                cand[pend[valid]] = c[valid]
                pend = pend[~valid]
            got = np.nonzero((cand != ITEM_UNDEF) & ~self.err[rows])[0]
            if not len(got):
                continue
            if want_type == 0:
                if stride_len != 1 or stepno + 1 != end_step:
                    continue  # a device step that is not the last one: malformed, skipped
                gr, gc = rows[got], cand[got]
                bucket = gc < 0  # a bucket of type 0: Ceph's is_out reads weight[negative]
                self.err[gr[bucket]] = True
                keep = ~bucket
                keep[keep] = ~is_out_vec(self.wts, gc[keep], self.x[gr[keep]])
                got, gr, gc = got[keep], gr[keep], gc[keep]
                if not len(got):
                    continue  # out devices: crush_msr_do_rule retries them, msr_descents permitting
                self.push(level, gr, s0, s1, gc)
                self.emit(gr, s0, gc)
                mapped[got] += 1
            else:
                if stepno + 1 >= end_step:
                    continue  # a bucket step with no step after it: malformed, skipped
                gc = cand[got]
                bad = ~self.vm.is_bucket(gc)
                self.err[rows[got[bad]]] = True
                got, gc = got[~bad], gc[~bad]
                if not len(got):
                    continue
                child = self.choose(rows[got], gc, stride_len, s0, s1, stepno + 1, end_step, tryno)
                ok = ~self.err[rows[got]]
                got, gc, child = got[ok], gc[ok], child[ok]
                pushed = self.push(level, rows[got], s0, s1, gc)
                drop = pushed & (child == 0)
                undo[got[drop], stride] = gc[drop]
                mapped[got[~drop]] += child[~drop]
        for stride, s0 in enumerate(starts):
            k = np.nonzero(undo[:, stride] != ITEM_UNDEF)[0]
            if not len(k):
                continue
            # crush_msr_pop_used: drop the last bucket pushed in the stride
            s1 = min(s0 + stride_len, end)
            rk = rows[k]
            used = self.vecs[level, rk, s0:s1] != ITEM_UNDEF
            k = np.nonzero(used.any(axis=1))[0]
            last = s1 - 1 - np.argmax(used[k, ::-1], axis=1)
            self.vecs[level, rk[k], last] = ITEM_UNDEF
        return mapped


def map_msr_vec(crush: CrushMap, vm: VecMap, rule: int, num_rep: int, x: np.ndarray, wts: np.ndarray,
                choose_args: object) -> np.ndarray:
    """An MSR rule for every input ``x`` (u32), in :func:`pgtools.crush.vector.map_values`' layout.

    Parameters
    ----------
    crush : CrushMap
    vm : VecMap
        The padded map of ``crush`` for ``choose_args`` (straw2 weight-set position = stride index).
    rule : int
        Id of an MSR rule of ``crush``.
    num_rep : int
        ``result_max``.
    x : numpy.ndarray
        int64 inputs.
    wts : numpy.ndarray
        int64 reweight vector (16.16, index = device id).
    choose_args : object
        The selector ``vm`` was built for (passed to the reference to raise its error).

    Returns
    -------
    numpy.ndarray
        int64 ``(len(x), num_rep)``: ``msr_firstn`` rows -1 padded after the results in the order found,
        ``msr_indep`` rows ``num_rep`` positions with ``ITEM_NONE`` holes; all -1 for a malformed rule.

    Raises
    ------
    UnsupportedFeatureError
        The first input whose mapping Ceph leaves undefined (from :func:`pgtools.crush.reference.msr_do_rule`).
    """
    n = len(x)
    res = np.full((n, max(num_rep, 0)), -1, dtype=np.int64)
    r = crush.rules[rule]
    if num_rep <= 0 or n == 0:
        return res
    scan = msr_blocks(r, num_rep)
    if scan is None:
        return res  # malformed: Ceph maps nothing
    descents, collision, blocks = scan
    t = crush.tunables
    descents = t.msr_descents if descents < 0 else descents
    collision = t.msr_collision_tries if collision < 0 else collision
    st = _MsrVec(vm, wts, r.steps, x, num_rep, r.type == MSR_FIRSTN, collision)
    start = 0
    for take, emit_step, total in blocks:
        root = r.steps[take][1]
        if root >= 0 or root not in crush.buckets:  # the reference raises the error
            _raise_for(crush, rule, int(x[0]), num_rep, wts, choose_args)
        first = take + 1
        st.first = first
        st.vecs = np.full((emit_step - first, n, num_rep), ITEM_UNDEF, dtype=np.int64)
        end = min(start + total, num_rep)
        limit = st.returned + (end - start)
        for tries in range(descents):
            act = np.nonzero(~st.err & (st.returned < limit))[0]
            if not len(act):
                break
            if first == emit_step:  # take directly followed by emit
                st.err[act] = True
                break
            st.choose(act, np.full(len(act), root, dtype=np.int64), total, start, end, first, emit_step, tries)
        start = end
    bad = np.nonzero(st.err)[0]
    if len(bad):
        _raise_for(crush, rule, int(x[bad[0]]), num_rep, wts, choose_args)
    if st.firstn:
        cols = np.arange(num_rep)
        keep = cols[None, :] < st.returned[:, None]
        res[keep] = st.out[keep]
    else:
        res[:] = st.out
    return res


def _raise_for(crush: CrushMap, rule: int, x: int, num_rep: int, wts: np.ndarray, choose_args: object) -> None:
    """Map ``x`` with the reference, which raises the UnsupportedFeatureError of an undefined mapping."""
    crush_do_rule(crush, rule, x, num_rep, [int(v) for v in wts], choose_args)
    raise AssertionError(f"MSR NumPy engine and reference disagree on x={x}")  # the reference raised
