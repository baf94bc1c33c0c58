"""Scalar reference ``crush_do_rule`` (``ceph_algorithms.md`` §4), written for readability.

This is the oracle the vectorised mapper (:mod:`pgtools.crush.vector`) is tested against.  Names
follow the specification: ``choose_firstn``, ``choose_indep``, ``is_out``, the tunables, local
retries and the permutation fallback, ``vary_r``, ``stable``, ``descend_once``, choose_args with
positions, multiple take/emit blocks and NONE holes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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
from .rule import OPS, ChooseArg

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["crush_do_rule", "is_out"]


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
