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

from .buckets import STRAW2, TREE
from .constants import ITEM_NONE, ITEM_UNDEF
from .reference import crush_do_rule, msr_blocks
from .rule import MSR_FIRSTN
from .vecmap import VecMap, is_out_vec

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["map_msr_vec"]

_M32 = 0xFFFFFFFF
#: at most this many descents per batch of redraws (rows x redraws)
_BATCH = 1 << 16


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
        self._reach: dict[tuple[int, int, int], np.ndarray | None] = {}

    def descend(self, rows: np.ndarray, bid: np.ndarray, want_type: int, r: np.ndarray, index: int
                ) -> tuple[np.ndarray, np.ndarray]:
        """``crush_msr_descend`` for ``rows`` from buckets ``bid`` with retry values ``r``: a device or a bucket
        of ``want_type``.  Returns (item, undefined): ``undefined`` where the descent reaches an empty or missing
        bucket (Ceph's result is undefined there, ``item`` meaningless)."""
        vm = self.vm
        res = np.full(len(rows), ITEM_UNDEF, dtype=np.int64)
        bad = np.zeros(len(rows), dtype=bool)
        cur = bid.copy()
        act = np.arange(len(rows))
        while len(act):
            cb = cur[act]
            empty = vm.bsize[-1 - cb] == 0
            if empty.any():
                bad[act[empty]] = True
                act, cb = act[~empty], cb[~empty]
                if not len(act):
                    break
            item = vm.choose(cb, self.x[rows[act]], r[act], np.full(len(act), index, dtype=np.int64))
            dev = item >= 0
            res[act[dev]] = item[dev]
            missing = ~dev & ~vm.is_bucket(item)
            bad[act[missing]] = True
            down = ~dev & ~missing
            typed = np.zeros(len(act), dtype=bool)
            typed[down] = vm.btype[-1 - item[down]] == want_type
            res[act[typed]] = item[typed]
            more = down & ~typed
            cur[act[more]] = item[more]
            act = act[more]
        return res, bad

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

    def candidates(self, rows: np.ndarray, bid: np.ndarray, pend: np.ndarray, want_type: int, kind: int, tryno: int,
                   stride: int, level: int, start: int, end: int, s0: int, s1: int) -> np.ndarray:
        """The ``msr_collision_tries`` loop of ``crush_msr_choose`` for the rows ``pend`` (indices into ``rows``):
        per row the first descent (redraw ``local`` = 0, 1, ...) that is valid -- not in the step's collision
        vector over ``[start, end)``, or there only within the stride ``[s0, s1)`` -- else ``ITEM_UNDEF``.

        The redraws of a row are independent of each other (they read the collision vector, which the loop does
        not change), so they are drawn in batches of 1, 2, 4, ... redraws at once and the first valid one kept;
        an undefined descent counts (flagged in ``err``) only when no earlier redraw was valid, as in Ceph,
        where the loop stops at the first valid one.
        """
        cand = np.full(len(rows), ITEM_UNDEF, dtype=np.int64)
        if len(pend):
            pend = pend[~self.hopeless(rows[pend], bid[pend], want_type, kind, stride, level, start, end, s0, s1)]
        local = 0
        width = 1
        while len(pend) and local < self.collision:
            k = min(width, self.collision - local, max(1, _BATCH // len(pend)))
            rep = np.repeat(pend, k)
            loc = np.tile(np.arange(local, local + k, dtype=np.int64), len(pend))
            r = ((((tryno * self.result_max + stride) & _M32) << 16) + loc) & _M32
            c, bad = self.descend(rows[rep], bid[rep], want_type, r, stride)
            c, bad = c.reshape(len(pend), k), bad.reshape(len(pend), k)
            eq = self.vecs[level, rows[pend], start:end][:, None, :] == c[:, :, None]
            first_hit = start + np.argmax(eq, axis=2)
            valid = ~eq.any(axis=2) | ((first_hit >= s0) & (first_hit < s1))
            stop = valid | bad
            done = stop.any(axis=1)
            at = np.argmax(stop, axis=1)
            i = np.nonzero(done)[0]
            und = bad[i, at[i]]
            self.err[rows[pend[i[und]]]] = True
            ok = i[~und]
            cand[pend[ok]] = c[ok, at[ok]]
            pend = pend[~done]
            local += k
            width *= 2
        return cand

    def reachable(self, bid: int, want_type: int, position: int) -> np.ndarray | None:
        """Every item ``crush_msr_descend`` from ``bid`` can return (a superset), or None when a descent may
        reach an empty or missing bucket.  A straw2 bucket never picks a zero-weight item (its draw is
        ``S64_MIN``) unless all are zero (then its first); the other algorithms may return any item, and a tree
        also ``ITEM_NONE`` (:meth:`VecMap._tree`)."""
        key = (bid, want_type, position)
        if key in self._reach:
            return self._reach[key]
        vm = self.vm
        s = -1 - bid
        size = int(vm.bsize[s])
        res: np.ndarray | None = None
        if size:
            items = vm.items[s, :size]
            if vm.balg[s] == STRAW2:
                w = vm.w2[s, min(position, vm.npos - 1), :size]
                items = items[w != 0] if (w != 0).any() else items[:1]
            elif vm.balg[s] == TREE:
                items = np.append(items, ITEM_NONE)
            parts = []
            for item in items.tolist():
                if item >= 0:
                    parts.append(np.array([item], dtype=np.int64))
                    continue
                if not vm.is_bucket(np.array([item]))[0]:
                    break
                if vm.btype[-1 - item] == want_type:
                    parts.append(np.array([item], dtype=np.int64))
                    continue
                sub = self.reachable(item, want_type, position)
                if sub is None:
                    break
                parts.append(sub)
            else:
                res = np.unique(np.concatenate(parts))
        self._reach[key] = res
        return res

    def hopeless(self, rows: np.ndarray, bid: np.ndarray, want_type: int, kind: int, stride: int, level: int,
                 start: int, end: int, s0: int, s1: int) -> np.ndarray:
        """Rows for which every possible descent (:meth:`reachable`) ends the stride with no effect: a
        candidate the step's collision vector holds over ``[start, end)`` first outside the stride ``[s0, s1)``
        (rejected: the redraws go on), or, on a device step (``kind`` 1), a device out for the row's input
        (found, then skipped), or any candidate on a malformed step (``kind`` 0: skipped).  Their
        ``msr_collision_tries`` redraws need not be drawn (none can reach an undefined bucket): an exact
        shortcut for the inputs that cannot be fully mapped, which otherwise cost ``msr_descents`` x
        ``msr_collision_tries`` descents per stride."""
        out = np.zeros(len(rows), dtype=bool)
        for b in np.unique(bid).tolist():
            reach = self.reachable(b, want_type, stride)
            if reach is None:
                continue
            k = np.nonzero(bid == b)[0]
            if kind == 0:
                out[k] = True
                continue
            if kind == 2 and len(reach) > end - start:
                continue  # they cannot all be in the collision vector
            if kind == 1 and (reach < 0).any():
                continue  # a bucket of type 0 on a device step: undefined in Ceph, left to the draws
            sub = self.vecs[level, rows[k], start:end]
            dead = np.ones(len(k), dtype=bool)
            for item in reach.tolist():
                eq = sub == item
                first_hit = start + np.argmax(eq, axis=1)
                gone = eq.any(axis=1) & ((first_hit < s0) | (first_hit >= s1))
                if kind == 1:
                    gone |= is_out_vec(self.wts, np.full(len(k), item, dtype=np.int64), self.x[rows[k]])
                dead &= gone
                if not dead.any():
                    break
            out[k] = dead
        return out

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
        if want_type == 0:  # 1: a device step, 0: malformed (its candidates are skipped), 2: a bucket step
            kind = int(stride_len == 1 and stepno + 1 == end_step)
        else:
            kind = 2 if stepno + 1 < end_step else 0
        starts = range(start, end, stride_len)
        for stride, s0 in enumerate(starts):
            s1 = min(s0 + stride_len, end)
            # a stride whose every index is mapped already is skipped
            need = ~self.err[rows] & (self.vecs[leaf, rows, s0:s1] == ITEM_UNDEF).any(axis=1)
            cand = self.candidates(rows, bid, np.nonzero(need)[0], want_type, kind, tryno, stride, level, start, end,
                                   s0, s1)
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
