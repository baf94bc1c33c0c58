"""Scalar reference ``crush_do_rule`` (``ceph_algorithms.md`` §4), written for readability.

This is the oracle the vectorised mapper (:mod:`pgtools.crush.vector`) is tested against.  Names
follow the specification: ``choose_firstn``, ``choose_indep``, ``is_out``, the tunables, local
retries and the permutation fallback, ``vary_r``, ``stable``, ``descend_once``, choose_args with
positions, multiple take/emit blocks and NONE holes.

MSR rules (types ``msr_firstn``/``msr_indep``, Squid and later) go to :func:`msr_do_rule`, a port of
``crush_msr_do_rule`` (Ceph ``src/crush/mapper.c``, v19.2/v20.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UnsupportedFeatureError
from .buckets import (
    LIST,
    STRAW,
    STRAW2,
    TREE,
    UNIFORM,
    list_choose,
    perm_choose,
    straw2_choose,
    straw_choose,
    tree_choose,
)
from .constants import ITEM_NONE, ITEM_UNDEF, WEIGHT_ONE
from .hash import hash2
from .rule import MSR_CONFIG_OPS, MSR_FIRSTN, OP_NAMES, OPS, ChooseArg, Rule

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["crush_do_rule", "is_out", "msr_blocks", "msr_do_rule", "msr_retry_value"]


def is_out(weights: Sequence[int], item: int, x: int) -> bool:
    """True if device ``item`` is rejected by the reweight vector for input ``x`` (§4.2)."""
    if item >= len(weights):
        return True
    w = weights[item]
    if w >= WEIGHT_ONE:
        return False
    if w == 0:
        return True
    return (hash2(x, item) & 0xFFFF) >= w


class _Ctx:
    """Everything one ``crush_do_rule`` call needs."""

    def __init__(self, cmap: CrushMap, weights: Sequence[int], cargs: dict[int, ChooseArg] | None):
        self.map = cmap
        self.weights = weights
        self.cargs = cargs or {}

    def bucket_choose(self, bid: int, x: int, r: int, position: int) -> int:
        m = self.map
        b = m.buckets[bid]
        if b.alg == UNIFORM:
            return perm_choose(bid, b.items, x, r)
        if b.alg == LIST:
            return list_choose(bid, b.items, b.weights, m.sum_weights(bid), x, r)
        if b.alg == TREE:
            return tree_choose(bid, b.items, m.node_weights(bid), x, r)
        if b.alg == STRAW:
            return straw_choose(b.items, m.straws(bid), x, r)
        if b.alg == STRAW2:
            weights: Sequence[int] = b.weights
            ids: Sequence[int] = b.items
            ca = self.cargs.get(bid)
            if ca is not None:
                if ca.weight_set:
                    weights = ca.weight_set[min(position, len(ca.weight_set) - 1)]
                if ca.ids is not None:
                    ids = ca.ids
            return straw2_choose(b.items, weights, ids, x, r)
        return b.items[0]

    def item_type(self, item: int) -> int:
        return 0 if item >= 0 else self.map.buckets[item].type_id


def _choose_firstn(ctx: _Ctx, start: int, x: int, numrep: int, want_type: int, out: list[int], outpos: int,
                   out_size: int, tries: int, recurse_tries: int, local_retries: int,
                   local_fallback_retries: int, recurse_to_leaf: bool, vary_r: int, stable: int,
                   out2: list[int] | None, parent_r: int) -> int:
    """``crush_choose_firstn`` (§4.3); fills ``out`` (and ``out2``) from ``outpos``; returns the new outpos."""
    m = ctx.map
    count = out_size
    rep = 0 if stable else outpos
    while rep < numrep and count > 0:
        ftotal = 0
        skip_rep = False
        item = 0
        while True:  # descent
            retry_descent = False
            in_b = start
            flocal = 0
            while True:  # bucket
                retry_bucket = False
                collide = False
                r = rep + parent_r + ftotal
                b = m.buckets[in_b]
                reject = False
                if b.size == 0:
                    reject = True
                else:
                    if (local_fallback_retries > 0 and flocal >= (b.size >> 1)
                            and flocal > local_fallback_retries):
                        item = perm_choose(in_b, b.items, x, r)
                    else:
                        item = ctx.bucket_choose(in_b, x, r, outpos)
                    if item >= m.max_devices:
                        skip_rep = True
                        break
                    itemtype = ctx.item_type(item)
                    if itemtype != want_type:
                        if item >= 0 or item not in m.buckets:
                            skip_rep = True
                            break
                        in_b = item
                        retry_bucket = True
                        continue
                    collide = item in out[:outpos]
                    if not collide and recurse_to_leaf:
                        if item < 0:
                            sub_r = (r >> (vary_r - 1)) if vary_r else 0
                            n = _choose_firstn(ctx, item, x, 1 if stable else outpos + 1, 0, out2, outpos,
                                               count, recurse_tries, 0, local_retries,
                                               local_fallback_retries, False, vary_r, stable, None, sub_r)
                            if n <= outpos:
                                reject = True
                        else:
                            out2[outpos] = item
                    if not reject and not collide and itemtype == 0:
                        reject = is_out(ctx.weights, item, x)
                if reject or collide:
                    ftotal += 1
                    flocal += 1
                    if collide and flocal <= local_retries:
                        retry_bucket = True
                    elif local_fallback_retries > 0 and flocal <= b.size + local_fallback_retries:
                        retry_bucket = True
                    elif ftotal < tries:
                        retry_descent = True
                    else:
                        skip_rep = True
                if not retry_bucket:
                    break
            if not retry_descent:
                break
        if not skip_rep:
            out[outpos] = item
            outpos += 1
            count -= 1
        rep += 1
    return outpos


def _choose_indep(ctx: _Ctx, start: int, x: int, left: int, numrep: int, want_type: int, out: list[int],
                  outpos: int, tries: int, recurse_tries: int, recurse_to_leaf: bool,
                  out2: list[int] | None, parent_r: int) -> None:
    """``crush_choose_indep`` (§4.4); positions are stable, failures become ITEM_NONE."""
    m = ctx.map
    endpos = outpos + left
    for rep in range(outpos, endpos):
        out[rep] = ITEM_UNDEF
        if out2 is not None:
            out2[rep] = ITEM_UNDEF
    ftotal = 0
    while left > 0 and ftotal < tries:
        for rep in range(outpos, endpos):
            if out[rep] != ITEM_UNDEF:
                continue
            in_b = start
            while True:
                r = rep + parent_r
                b = m.buckets[in_b]
                if b.alg == UNIFORM and b.size % numrep == 0:
                    r += (numrep + 1) * ftotal
                else:
                    r += numrep * ftotal
                if b.size == 0:
                    break
                item = ctx.bucket_choose(in_b, x, r, outpos)
                if item >= m.max_devices:
                    out[rep] = ITEM_NONE
                    if out2 is not None:
                        out2[rep] = ITEM_NONE
                    left -= 1
                    break
                itemtype = ctx.item_type(item)
                if itemtype != want_type:
                    if item >= 0 or item not in m.buckets:
                        out[rep] = ITEM_NONE
                        if out2 is not None:
                            out2[rep] = ITEM_NONE
                        left -= 1
                        break
                    in_b = item
                    continue
                if item in out[outpos:endpos]:
                    break
                if recurse_to_leaf:
                    if item < 0:
                        _choose_indep(ctx, item, x, 1, numrep, 0, out2, rep, recurse_tries, 0, False,
                                      None, r)
                        if out2[rep] == ITEM_NONE:
                            break
                    else:
                        out2[rep] = item
                if itemtype == 0 and is_out(ctx.weights, item, x):
                    break
                out[rep] = item
                left -= 1
                break
        ftotal += 1
    for rep in range(outpos, endpos):
        if out[rep] == ITEM_UNDEF:
            out[rep] = ITEM_NONE
        if out2 is not None and out2[rep] == ITEM_UNDEF:
            out2[rep] = ITEM_NONE


def crush_do_rule(cmap: CrushMap, ruleno: int, x: int, result_max: int,
                  weights: Sequence[int] | None = None, choose_args: object = None) -> list[int]:
    """Map input ``x`` through rule ``ruleno``; a port of ``crush_do_rule`` (§4.5).

    Parameters
    ----------
    cmap : CrushMap
    ruleno : int
        Rule id (a missing rule gives ``[]``).
    x : int
        CRUSH input, taken as u32.
    result_max : int
        Maximum result length (the pool size).
    weights : sequence of int, optional
        Reweight vector (16.16, index = device id); default :meth:`CrushMap.default_weights`.
    choose_args : int or mapping, optional
        choose_args selector (see :meth:`CrushMap.resolve_choose_args`).

    Returns
    -------
    list of int
        The mapping; firstn results may be short, indep results hold ITEM_NONE holes.
    """
    rule = cmap.rules.get(ruleno)
    if rule is None or result_max <= 0:
        return []
    x &= 0xFFFFFFFF
    if weights is None:
        weights = cmap.default_weights()
    ctx = _Ctx(cmap, weights, cmap.resolve_choose_args(choose_args))
    if rule.is_msr:
        return msr_do_rule(ctx, rule, x, result_max)
    t = cmap.tunables
    choose_tries = t.choose_total_tries + 1
    choose_leaf_tries = 0
    local_retries = t.choose_local_tries
    local_fallback_retries = t.choose_local_fallback_tries
    vary_r = t.chooseleaf_vary_r
    stable = t.chooseleaf_stable

    result: list[int] = []
    w: list[int] = []
    for op, arg1, arg2 in rule.steps:
        if op == OPS["take"]:
            if (0 <= arg1 < cmap.max_devices) or arg1 in cmap.buckets:
                w = [arg1]
        elif op == OPS["set_choose_tries"]:
            if arg1 > 0:
                choose_tries = arg1
        elif op == OPS["set_chooseleaf_tries"]:
            if arg1 > 0:
                choose_leaf_tries = arg1
        elif op == OPS["set_choose_local_tries"]:
            if arg1 >= 0:
                local_retries = arg1
        elif op == OPS["set_choose_local_fallback_tries"]:
            if arg1 >= 0:
                local_fallback_retries = arg1
        elif op == OPS["set_chooseleaf_vary_r"]:
            if arg1 >= 0:
                vary_r = arg1
        elif op == OPS["set_chooseleaf_stable"]:
            if arg1 >= 0:
                stable = arg1
        elif op in (OPS["choose_firstn"], OPS["choose_indep"], OPS["chooseleaf_firstn"],
                    OPS["chooseleaf_indep"]):
            if not w:
                continue
            firstn = op in (OPS["choose_firstn"], OPS["chooseleaf_firstn"])
            recurse_to_leaf = op in (OPS["chooseleaf_firstn"], OPS["chooseleaf_indep"])
            o: list[int] = []
            c: list[int] = []
            for wi in w:
                numrep = arg1
                if numrep <= 0:
                    numrep += result_max
                    if numrep <= 0:
                        continue
                if wi >= 0 or wi not in cmap.buckets:
                    continue
                osize = len(o)
                if firstn:
                    if choose_leaf_tries:
                        recurse_tries = choose_leaf_tries
                    elif t.chooseleaf_descend_once:
                        recurse_tries = 1
                    else:
                        recurse_tries = choose_tries
                    cap = result_max - osize
                    out = [0] * cap
                    out2 = [0] * cap
                    n = _choose_firstn(ctx, wi, x, numrep, arg2, out, 0, cap, choose_tries, recurse_tries,
                                       local_retries, local_fallback_retries, recurse_to_leaf, vary_r,
                                       stable, out2, 0)
                    o.extend(out[:n])
                    c.extend(out2[:n])
                else:
                    out_size = min(numrep, result_max - osize)
                    out = [0] * out_size
                    out2 = [0] * out_size
                    _choose_indep(ctx, wi, x, out_size, numrep, arg2, out, 0, choose_tries,
                                  choose_leaf_tries if choose_leaf_tries else 1, recurse_to_leaf, out2, 0)
                    o.extend(out)
                    c.extend(out2)
            w = c if recurse_to_leaf else o
        elif op == OPS["emit"]:
            for item in w:
                if len(result) >= result_max:
                    break
                result.append(item)
            w = []
    return result


# ----------------------------------------------------------------------------------------------- MSR
_U32 = 0xFFFFFFFF


def msr_retry_value(result_max: int, index: int, tryno: int, local_tryno: int) -> int:
    """``crush_msr_get_retry_value``: the ``r`` of an MSR descent, ``((tryno * result_max + index) << 16) +
    local_tryno`` in u32 arithmetic (``index`` is the stride index within its ``choosemsr`` step)."""
    return ((((tryno * result_max + index) & _U32) << 16) + local_tryno) & _U32


def _msr_unsupported(rule: Rule, what: str) -> UnsupportedFeatureError:
    return UnsupportedFeatureError(f"MSR rule {rule.id} ({rule.name or 'unnamed'}): {what}; Ceph's "
                                   "crush_msr_do_rule has no defined result for it (it crashes or loops)")


def _msr_u32_arg(rule: Rule, op: int, arg: int) -> int:
    if arg < 0:
        raise _msr_unsupported(rule, f"step {OP_NAMES.get(op, op)} {arg} (negative, read as u32 {arg & _U32})")
    return arg



def msr_blocks(rule: Rule, result_max: int) -> tuple[int, int, list[tuple[int, int, int]]] | None:
    """The structure ``crush_msr_do_rule`` reads from an MSR rule, or None when it is malformed.

    Returns ``(msr_descents, msr_collision_tries, blocks)`` where the first two are the last
    ``set_msr_*`` steps of the leading config steps (``crush_msr_scan_config_steps``; -1 when absent, i.e.
    the map's tunables) and each block is ``(take_stepno, emit_stepno, total_children)``
    (``crush_msr_scan_next``: a ``take``, ``choosemsr`` steps, an ``emit``; ``total_children`` is the product
    of their counts, 0 meaning ``result_max``).  None when a block breaks that form: Ceph then maps
    nothing (``crush_msr_do_rule`` returns 0) -- unless an earlier block hit a case that is refused.
    """
    steps = rule.steps
    descents = collision = -1
    k = 0
    while k < len(steps) and steps[k][0] in MSR_CONFIG_OPS:
        op, a1, _ = steps[k]
        if op == OPS["set_msr_descents"]:
            descents = _msr_u32_arg(rule, op, a1)
        else:
            collision = _msr_u32_arg(rule, op, a1)
        k += 1
    blocks: list[tuple[int, int, int]] = []
    while k < len(steps):
        if k + 1 >= len(steps) or steps[k][0] != OPS["take"]:
            return None
        total = 1
        e = k + 1
        while e < len(steps) and steps[e][0] != OPS["emit"]:
            if steps[e][0] != OPS["choosemsr"]:
                return None
            n = _msr_u32_arg(rule, OPS["choosemsr"], steps[e][1])
            total *= n if n else result_max
            if total > _U32:
                raise _msr_unsupported(rule, f"the choosemsr counts of steps {k + 1}..{e} multiply past 2^32")
            e += 1
        if e >= len(steps):
            return None
        blocks.append((k, e, total))
        k = e + 1
    return descents, collision, blocks


class _MsrRun:
    """State of one ``crush_msr_do_rule`` call: the input, the per-step collision vectors, the output."""

    def __init__(self, ctx: _Ctx, rule: Rule, x: int, result_max: int, descents: int, collision: int):
        self.ctx = ctx
        self.rule = rule
        self.x = x
        self.result_max = result_max
        self.descents = descents
        self.collision = collision
        self.out = [ITEM_NONE] * result_max
        self.returned = 0
        self.vecs: list[list[int]] = []
        self.first_step = 0

    def emit(self, position: int, item: int) -> None:
        """``crush_msr_emit_result``: firstn appends, indep writes at ``position``."""
        if self.returned >= self.result_max:
            raise _msr_unsupported(self.rule, "more results than result_max")
        if self.rule.type == MSR_FIRSTN:
            self.out[self.returned] = item
        else:
            self.out[position] = item
        self.returned += 1

    def descend(self, bid: int, want_type: int, tryno: int, local_tryno: int, index: int) -> int:
        """``crush_msr_descend``: from ``bid`` down to a device or a bucket of ``want_type``."""
        m = self.ctx.map
        r = msr_retry_value(self.result_max, index, tryno, local_tryno)
        while True:
            if m.buckets[bid].size == 0:
                raise _msr_unsupported(self.rule, f"descent reaches empty bucket {bid}")
            item = self.ctx.bucket_choose(bid, self.x, r, index)
            if item >= 0:
                return item
            if item not in m.buckets:
                raise _msr_unsupported(self.rule, f"bucket {bid} holds missing bucket {item}")
            bid = item
            if m.buckets[bid].type_id == want_type:
                return item

    def choose(self, bid: int, total: int, start: int, end: int, stepno: int, end_step: int, tryno: int) -> int:
        """``crush_msr_choose``: fill indices ``[start, end)`` from bucket ``bid`` with steps ``stepno..``."""
        m = self.ctx.map
        _op, num, want_type = self.rule.steps[stepno]
        num_strides = num if num else self.result_max
        stride_len = total // num_strides
        vec = self.vecs[stepno - self.first_step]
        leaf_vec = self.vecs[end_step - self.first_step - 1]
        undo = [ITEM_UNDEF] * num_strides
        mapped = 0
        for stride, s0 in enumerate(range(start, end, stride_len)):
            s1 = min(s0 + stride_len, end)
            if all(leaf_vec[i] != ITEM_UNDEF for i in range(s0, s1)):
                continue  # every index of this stride is mapped already
            cand = None
            for local in range(self.collision):
                c = self.descend(bid, want_type, tryno, local, stride)
                # valid: not chosen yet in [start, end), or already chosen for this very stride
                hit = next((i for i in range(start, end) if vec[i] == c), None)
                if hit is None or s0 <= hit < s1:
                    cand = c
                    break
            if cand is None:
                continue
            if want_type == 0:
                if stride_len != 1 or stepno + 1 != end_step:
                    continue  # a device step that is not the last one: malformed, skipped
                if cand < 0:  # a bucket of type 0: Ceph's is_out reads weight[cand], out of bounds
                    raise _msr_unsupported(self.rule, f"step {stepno} (choosemsr type 0) reaches bucket {cand}, "
                                           "whose type is 0, as a device")
                if is_out(self.ctx.weights, cand, self.x):
                    continue  # crush_msr_do_rule retries it, msr_descents permitting
                self._push(vec, s0, s1, cand)
                self.emit(s0, cand)
                mapped += 1
            else:
                if stepno + 1 >= end_step:
                    continue  # a bucket step with no step after it: malformed, skipped
                if cand >= 0 or cand not in m.buckets:
                    raise _msr_unsupported(self.rule, f"step {stepno} (choosemsr type {want_type}) reaches "
                                           f"device {cand} before a bucket of that type")
                child = self.choose(cand, stride_len, s0, s1, stepno + 1, end_step, tryno)
                pushed = self._push(vec, s0, s1, cand)
                if pushed and child == 0:
                    undo[stride] = cand
                else:
                    mapped += child
        for stride, s0 in enumerate(range(start, end, stride_len)):
            if undo[stride] != ITEM_UNDEF:  # crush_msr_pop_used: drop the last bucket pushed in the stride
                s1 = min(s0 + stride_len, end)
                for i in range(s1 - 1, s0 - 1, -1):
                    if vec[i] != ITEM_UNDEF:
                        vec[i] = ITEM_UNDEF
                        break
        return mapped

    def _push(self, vec: list[int], s0: int, s1: int, cand: int) -> bool:
        """``crush_msr_push_used``: add ``cand`` to the stride's collision set; False if already there."""
        for i in range(s0, s1):
            if vec[i] == cand:
                return False
            if vec[i] == ITEM_UNDEF:
                vec[i] = cand
                return True
        raise _msr_unsupported(self.rule, "a stride's collision set overflows")


def msr_do_rule(ctx: _Ctx, rule: Rule, x: int, result_max: int) -> list[int]:
    """``crush_msr_do_rule``: map ``x`` through an MSR rule.

    Each ``take ... emit`` block fills the next ``total_children`` indices (its ``choosemsr`` counts
    multiplied, capped at ``result_max``); each of up to ``msr_descents`` passes descends again for the
    indices still empty (an out device is retried by the next pass), and a bucket colliding with one
    used by another stride is redrawn up to ``msr_collision_tries`` times.  ``msr_firstn`` returns the
    results in the order found, ``msr_indep`` ``result_max`` positions with ``ITEM_NONE`` holes.

    A malformed rule maps to ``[]`` like Ceph; the shapes Ceph's code has no defined result for (a
    ``take`` of a device or missing bucket, negative counts, a bucket step reaching a device, empty
    buckets) raise :class:`~pgtools.errors.UnsupportedFeatureError`.
    """
    scan = msr_blocks(rule, result_max)
    if scan is None:
        return []
    descents, collision, blocks = scan
    t = ctx.map.tunables
    run = _MsrRun(ctx, rule, x, result_max, t.msr_descents if descents < 0 else descents,
                  t.msr_collision_tries if collision < 0 else collision)
    start = 0
    for take_step, emit_step, total in blocks:
        root = rule.steps[take_step][1]
        if root >= 0:
            raise _msr_unsupported(rule, f"take of device {root}")
        if root not in ctx.map.buckets:
            raise _msr_unsupported(rule, f"take of missing bucket {root}")
        first = take_step + 1
        run.first_step = first
        run.vecs = [[ITEM_UNDEF] * result_max for _ in range(first, emit_step)]
        end = min(start + total, result_max)
        limit = run.returned + (end - start)
        tries = 0
        while tries < run.descents and run.returned < limit:
            if first == emit_step:
                raise _msr_unsupported(rule, "take of a bucket directly followed by emit")
            run.choose(root, total, start, end, first, emit_step, tries)
            tries += 1
        start = end
    if rule.type == MSR_FIRSTN:
        return run.out[:run.returned]
    return run.out
