"""Compiled ``crush_do_rule`` (numba): the optional fast engine behind :func:`pgtools.crush.map_values`.

A line-by-line port of :mod:`.reference` (``ceph_algorithms.md`` §2-§4) to flat arrays, compiled with
``numba.njit(cache=True)`` and looping over the inputs inside the compiled code.  The map is turned into
arrays once (:class:`NumbaMap`, cached on the CrushMap per choose_args key):

* per bucket slot (``-1 - id``): exists, type, algorithm, size and the offset of its items;
* items, straw2 hash ids (choose_args ``ids`` or the items), weights per weight-set position
  (``npos x total``), legacy straws and list running sums, all in CSR form over the bucket offsets;
* tree node weights in their own CSR (``nodeoff``/``nodelen``);
* the ``crush_ln`` table, the rule steps as an ``(n, 3)`` array and the tunables.

Everything is done in ``int64`` with explicit 32-bit masks, so no unsigned promotion rules are involved.
This module imports numba at import time; :mod:`.vector` only imports it when numba is installed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numba
import numpy as np
from numba import njit, prange

from .buckets import LIST, STRAW, STRAW2, TREE, UNIFORM
from .ln import ln_table

if TYPE_CHECKING:
    from .map import ChooseArg, CrushMap

__all__ = ["NumbaMap", "numba_map", "map_values_numba"]

_M = 0xFFFFFFFF
_SEED = 1315423911
_HX = 231232
_HY = 1232
_NONE = 0x7FFFFFFF
_UNDEF = 0x7FFFFFFE
_I64_MIN = np.iinfo(np.int64).min
_ONE48 = 1 << 48
#: Below this many inputs the serial kernel is used (thread start-up costs more than it saves).
PARALLEL_MIN = 4096


# ------------------------------------------------------------------------------------------- hashes
@njit(cache=True, inline="always")
def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    a = ((a - b - c) & _M) ^ (c >> 13)
    b = ((b - c - a) & _M) ^ ((a << 8) & _M)
    c = ((c - a - b) & _M) ^ (b >> 13)
    a = ((a - b - c) & _M) ^ (c >> 12)
    b = ((b - c - a) & _M) ^ ((a << 16) & _M)
    c = ((c - a - b) & _M) ^ (b >> 5)
    a = ((a - b - c) & _M) ^ (c >> 3)
    b = ((b - c - a) & _M) ^ ((a << 10) & _M)
    c = ((c - a - b) & _M) ^ (b >> 15)
    return a, b, c


@njit(cache=True)
def _hash2(a: int, b: int) -> int:
    a &= _M
    b &= _M
    h = _SEED ^ a ^ b
    x = _HX
    y = _HY
    a, b, h = _mix(a, b, h)
    x, a, h = _mix(x, a, h)
    b, y, h = _mix(b, y, h)
    return h


@njit(cache=True)
def _hash3(a: int, b: int, c: int) -> int:
    a &= _M
    b &= _M
    c &= _M
    h = _SEED ^ a ^ b ^ c
    x = _HX
    y = _HY
    a, b, h = _mix(a, b, h)
    c, x, h = _mix(c, x, h)
    y, a, h = _mix(y, a, h)
    b, x, h = _mix(b, x, h)
    y, c, h = _mix(y, c, h)
    return h


@njit(cache=True)
def _hash4(a: int, b: int, c: int, d: int) -> int:
    a &= _M
    b &= _M
    c &= _M
    d &= _M
    h = _SEED ^ a ^ b ^ c ^ d
    x = _HX
    y = _HY
    a, b, h = _mix(a, b, h)
    c, d, h = _mix(c, d, h)
    a, x, h = _mix(a, x, h)
    y, b, h = _mix(y, b, h)
    c, x, h = _mix(c, x, h)
    y, d, h = _mix(y, d, h)
    return h


# ------------------------------------------------------------------------------------------- buckets
@njit(cache=True, inline="always")
def _is_bucket(m, item: int) -> bool:
    s = -1 - item
    return item < 0 and s < m[0].shape[0] and m[0][s]


@njit(cache=True, inline="always")
def _item_type(m, item: int) -> int:
    if item >= 0:
        return 0
    return m[1][-1 - item]


@njit(cache=True)
def _perm_choose(m, s: int, x: int, r: int, perm: np.ndarray) -> int:
    size = m[3][s]
    off = m[4][s]
    bid = -1 - s
    pr = r % size
    for i in range(size):
        perm[i] = i
    for p in range(pr + 1):
        if p < size - 1:
            i = _hash3(x, bid, p) % (size - p)
            if i:
                t = perm[p]
                perm[p] = perm[p + i]
                perm[p + i] = t
    return m[5][off + perm[pr]]


@njit(cache=True)
def _bucket_choose(m, s: int, x: int, r: int, position: int, perm: np.ndarray) -> int:
    alg = m[2][s]
    size = m[3][s]
    off = m[4][s]
    items = m[5]
    bid = -1 - s
    if alg == STRAW2:
        hids = m[6]
        w2 = m[7]
        p = position
        if p > w2.shape[0] - 1:
            p = w2.shape[0] - 1
        ln_tbl = m[13]
        best = 0
        high = _I64_MIN
        for i in range(size):
            wt = w2[p, off + i]
            if wt:
                u = _hash3(x, hids[off + i], r) & 0xFFFF
                ln = ln_tbl[u] - _ONE48
                draw = -((-ln) // wt)
            else:
                draw = _I64_MIN
            if i == 0 or draw > high:
                high = draw
                best = i
        return items[off + best]
    if alg == STRAW:
        straws = m[8]
        best = 0
        high = -1
        for i in range(size):
            draw = (_hash3(x, items[off + i], r) & 0xFFFF) * straws[off + i]
            if i == 0 or draw > high:
                high = draw
                best = i
        return items[off + best]
    if alg == UNIFORM:
        return _perm_choose(m, s, x, r, perm)
    if alg == LIST:
        sumw = m[9]
        w2 = m[7]
        for i in range(size - 1, -1, -1):
            w = _hash4(x, items[off + i], r, bid) & 0xFFFF
            w = (w * sumw[off + i]) >> 16
            if w < w2[0, off + i]:
                return items[off + i]
        return items[off]
    if alg == TREE:
        noff = m[10][s]
        nw = m[12]
        n = m[11][s] >> 1
        while not n & 1:
            w = nw[noff + n]
            h = _hash4(x, n, r, bid)
            # (h * w) >> 32 without leaving int64: split w into 16-bit halves
            t = (h * (w >> 16) + ((h * (w & 0xFFFF)) >> 16)) >> 16
            low = n & -n
            left = n - (low >> 1)
            if t < nw[noff + left]:
                n = left
            else:
                n = n + (low >> 1)
        if (n >> 1) >= size:
            # a leaf past the last item (garbage node weights of a binary map): Ceph reads past its
            # items array; pgtools returns ITEM_NONE, which the callers treat as a bad item
            return _NONE
        return items[off + (n >> 1)]
    return items[off]


@njit(cache=True, inline="always")
def _is_out(wts: np.ndarray, item: int, x: int) -> bool:
    if item >= wts.shape[0]:
        return True
    w = wts[item]
    if w >= 0x10000:
        return False
    if w == 0:
        return True
    return (_hash2(x, item) & 0xFFFF) >= w


# ------------------------------------------------------------------------------------------- firstn
@njit(cache=True)
def _firstn_leaf(m, wts, perm, start: int, x: int, numrep: int, out: np.ndarray, outpos: int,
                 out_size: int, tries: int, local_retries: int, fallback: int, stable: int,
                 parent_r: int) -> int:
    """The recursive ``crush_choose_firstn`` of chooseleaf: type 0, no further recursion."""
    max_devices = m[14]
    count = out_size
    rep = 0 if stable else outpos
    while rep < numrep and count > 0:
        ftotal = 0
        skip_rep = False
        item = 0
        while True:
            retry_descent = False
            in_b = start
            flocal = 0
            while True:
                retry_bucket = False
                collide = False
                r = rep + parent_r + ftotal
                s = -1 - in_b
                size = m[3][s]
                reject = False
                if size == 0:
                    reject = True
                else:
                    if fallback > 0 and flocal >= (size >> 1) and flocal > fallback:
                        item = _perm_choose(m, s, x, r, perm)
                    else:
                        item = _bucket_choose(m, s, x, r, outpos, perm)
                    if item >= max_devices:
                        skip_rep = True
                        break
                    itemtype = _item_type(m, item)
                    if itemtype != 0:
                        if item >= 0 or not _is_bucket(m, item):
                            skip_rep = True
                            break
                        in_b = item
                        continue
                    for i in range(outpos):
                        if out[i] == item:
                            collide = True
                            break
                    if not collide:
                        reject = _is_out(wts, item, x)
                if reject or collide:
                    ftotal += 1
                    flocal += 1
                    if collide and flocal <= local_retries:
                        retry_bucket = True
                    elif fallback > 0 and flocal <= size + fallback:
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


@njit(cache=True)
def _firstn(m, wts, perm, start: int, x: int, numrep: int, want_type: int, out: np.ndarray,
            out2: np.ndarray, out_size: int, tries: int, recurse_tries: int, local_retries: int,
            fallback: int, recurse_to_leaf: bool, vary_r: int, stable: int) -> int:
    """Top-level ``crush_choose_firstn`` (outpos 0, parent_r 0); returns the number of items."""
    max_devices = m[14]
    outpos = 0
    count = out_size
    rep = 0
    while rep < numrep and count > 0:
        ftotal = 0
        skip_rep = False
        item = 0
        while True:
            retry_descent = False
            in_b = start
            flocal = 0
            while True:
                retry_bucket = False
                collide = False
                r = rep + ftotal
                s = -1 - in_b
                size = m[3][s]
                reject = False
                if size == 0:
                    reject = True
                else:
                    if fallback > 0 and flocal >= (size >> 1) and flocal > fallback:
                        item = _perm_choose(m, s, x, r, perm)
                    else:
                        item = _bucket_choose(m, s, x, r, outpos, perm)
                    if item >= max_devices:
                        skip_rep = True
                        break
                    itemtype = _item_type(m, item)
                    if itemtype != want_type:
                        if item >= 0 or not _is_bucket(m, item):
                            skip_rep = True
                            break
                        in_b = item
                        continue
                    for i in range(outpos):
                        if out[i] == item:
                            collide = True
                            break
                    if not collide and recurse_to_leaf:
                        if item < 0:
                            sub_r = (r >> (vary_r - 1)) if vary_r else 0
                            n = _firstn_leaf(m, wts, perm, item, x, 1 if stable else outpos + 1, out2, outpos,
                                             count, recurse_tries, local_retries, fallback, stable, sub_r)
                            if n <= outpos:
                                reject = True
                        else:
                            out2[outpos] = item
                    if not reject and not collide and itemtype == 0:
                        reject = _is_out(wts, item, x)
                if reject or collide:
                    ftotal += 1
                    flocal += 1
                    if collide and flocal <= local_retries:
                        retry_bucket = True
                    elif fallback > 0 and flocal <= size + fallback:
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


# ------------------------------------------------------------------------------------------- indep
@njit(cache=True)
def _indep_leaf(m, wts, perm, start: int, x: int, numrep: int, out: np.ndarray, rep: int, tries: int,
                parent_r: int) -> None:
    """The recursive ``crush_choose_indep`` of chooseleaf: one slot (``out[rep]``), type 0."""
    max_devices = m[14]
    out[rep] = _UNDEF
    left = 1
    ftotal = 0
    while left > 0 and ftotal < tries:
        if out[rep] == _UNDEF:
            in_b = start
            while True:
                r = rep + parent_r
                s = -1 - in_b
                size = m[3][s]
                if m[2][s] == UNIFORM and size % numrep == 0:
                    r += (numrep + 1) * ftotal
                else:
                    r += numrep * ftotal
                if size == 0:
                    break
                item = _bucket_choose(m, s, x, r, rep, perm)
                if item >= max_devices:
                    out[rep] = _NONE
                    left -= 1
                    break
                itemtype = _item_type(m, item)
                if itemtype != 0:
                    if item >= 0 or not _is_bucket(m, item):
                        out[rep] = _NONE
                        left -= 1
                        break
                    in_b = item
                    continue
                if out[rep] == item:
                    break
                if _is_out(wts, item, x):
                    break
                out[rep] = item
                left -= 1
                break
        ftotal += 1
    if out[rep] == _UNDEF:
        out[rep] = _NONE


@njit(cache=True)
def _indep(m, wts, perm, start: int, x: int, left: int, numrep: int, want_type: int, out: np.ndarray,
           out2: np.ndarray, tries: int, recurse_tries: int, recurse_to_leaf: bool) -> None:
    """Top-level ``crush_choose_indep`` (outpos 0, parent_r 0) over ``out[:left]``."""
    max_devices = m[14]
    endpos = left
    for rep in range(endpos):
        out[rep] = _UNDEF
        out2[rep] = _UNDEF
    ftotal = 0
    while left > 0 and ftotal < tries:
        for rep in range(endpos):
            if out[rep] != _UNDEF:
                continue
            in_b = start
            while True:
                r = rep
                s = -1 - in_b
                size = m[3][s]
                if m[2][s] == UNIFORM and size % numrep == 0:
                    r += (numrep + 1) * ftotal
                else:
                    r += numrep * ftotal
                if size == 0:
                    break
                item = _bucket_choose(m, s, x, r, 0, perm)
                if item >= max_devices:
                    out[rep] = _NONE
                    out2[rep] = _NONE
                    left -= 1
                    break
                itemtype = _item_type(m, item)
                if itemtype != want_type:
                    if item >= 0 or not _is_bucket(m, item):
                        out[rep] = _NONE
                        out2[rep] = _NONE
                        left -= 1
                        break
                    in_b = item
                    continue
                collide = False
                for i in range(endpos):
                    if out[i] == item:
                        collide = True
                        break
                if collide:
                    break
                if recurse_to_leaf:
                    if item < 0:
                        _indep_leaf(m, wts, perm, item, x, numrep, out2, rep, recurse_tries, r)
                        if out2[rep] == _NONE:
                            break
                    else:
                        out2[rep] = item
                if itemtype == 0 and _is_out(wts, item, x):
                    break
                out[rep] = item
                left -= 1
                break
        ftotal += 1
    for rep in range(endpos):
        if out[rep] == _UNDEF:
            out[rep] = _NONE
        if out2[rep] == _UNDEF:
            out2[rep] = _NONE


# ------------------------------------------------------------------------------------------- do_rule
@njit(cache=True)
def _do_rule(m, wts, steps, tun, x: int, result_max: int, res: np.ndarray, w: np.ndarray, o: np.ndarray,
             c: np.ndarray, perm: np.ndarray) -> None:
    """``crush_do_rule`` for one input; writes ``res`` (pre-filled with -1)."""
    max_devices = m[14]
    choose_tries = tun[0] + 1
    choose_leaf_tries = 0
    local_retries = tun[1]
    fallback = tun[2]
    vary_r = tun[3]
    stable = tun[4]
    descend_once = tun[5]
    rlen = 0
    wsize = 0
    for k in range(steps.shape[0]):
        op = steps[k, 0]
        a1 = steps[k, 1]
        a2 = steps[k, 2]
        if op == 1:
            if (0 <= a1 < max_devices) or _is_bucket(m, a1):
                w[0] = a1
                wsize = 1
        elif op == 8:
            if a1 > 0:
                choose_tries = a1
        elif op == 9:
            if a1 > 0:
                choose_leaf_tries = a1
        elif op == 10:
            if a1 >= 0:
                local_retries = a1
        elif op == 11:
            if a1 >= 0:
                fallback = a1
        elif op == 12:
            if a1 >= 0:
                vary_r = a1
        elif op == 13:
            if a1 >= 0:
                stable = a1
        elif op == 2 or op == 3 or op == 6 or op == 7:
            if wsize == 0:
                continue
            firstn = op == 2 or op == 6
            leafy = op == 6 or op == 7
            osize = 0
            for j in range(wsize):
                wi = w[j]
                numrep = a1
                if numrep <= 0:
                    numrep += result_max
                    if numrep <= 0:
                        continue
                if wi >= 0 or not _is_bucket(m, wi):
                    continue
                if firstn:
                    if choose_leaf_tries:
                        recurse_tries = choose_leaf_tries
                    elif descend_once:
                        recurse_tries = 1
                    else:
                        recurse_tries = choose_tries
                    cap = result_max - osize
                    n = _firstn(m, wts, perm, wi, x, numrep, a2, o[osize:], c[osize:], cap, choose_tries,
                                recurse_tries, local_retries, fallback, leafy, vary_r, stable)
                    osize += n
                else:
                    out_size = min(numrep, result_max - osize)
                    if out_size > 0:
                        _indep(m, wts, perm, wi, x, out_size, numrep, a2, o[osize:osize + out_size],
                               c[osize:osize + out_size], choose_tries,
                               choose_leaf_tries if choose_leaf_tries else 1, leafy)
                        osize += out_size
            for j in range(osize):
                w[j] = c[j] if leafy else o[j]
            wsize = osize
        elif op == 4:
            for j in range(wsize):
                if rlen >= result_max:
                    break
                res[rlen] = w[j]
                rlen += 1
            wsize = 0


@njit(cache=True)
def _map_range(m, wts, steps, tun, xs, result_max, res, lo, hi) -> None:
    maxsize = max(m[15], 1)
    w = np.empty(result_max, dtype=np.int64)
    o = np.empty(result_max, dtype=np.int64)
    c = np.empty(result_max, dtype=np.int64)
    perm = np.empty(maxsize, dtype=np.int64)
    for i in range(lo, hi):
        _do_rule(m, wts, steps, tun, xs[i], result_max, res[i], w, o, c, perm)


@njit(cache=True)
def _map_serial(m, wts, steps, tun, xs, result_max, res) -> None:
    _map_range(m, wts, steps, tun, xs, result_max, res, 0, xs.shape[0])


@njit(cache=True, parallel=True)
def _map_parallel(m, wts, steps, tun, xs, result_max, res, nchunks) -> None:
    n = xs.shape[0]
    for k in prange(nchunks):
        lo = (n * k) // nchunks
        hi = (n * (k + 1)) // nchunks
        _map_range(m, wts, steps, tun, xs, result_max, res, lo, hi)


# ------------------------------------------------------------------------------------------- map arrays
class NumbaMap:
    """A CrushMap (with one choose_args selection) flattened into the arrays the kernel reads.

    Parameters
    ----------
    cmap : CrushMap
    cargs : dict, optional
        ``{bucket_id: ChooseArg}`` (already resolved).
    """

    def __init__(self, cmap: CrushMap, cargs: dict[int, ChooseArg] | None):
        cargs = cargs or {}
        nslots = max((-b for b in cmap.buckets), default=0)
        npos = 1
        for bid, ca in cargs.items():
            b = cmap.buckets.get(bid)
            if b is not None and b.alg == STRAW2 and ca.weight_set:
                npos = max(npos, len(ca.weight_set))
        exists = np.zeros(nslots, dtype=np.bool_)
        btype = np.zeros(nslots, dtype=np.int64)
        balg = np.zeros(nslots, dtype=np.int64)
        bsize = np.zeros(nslots, dtype=np.int64)
        boff = np.zeros(nslots, dtype=np.int64)
        nodeoff = np.zeros(nslots, dtype=np.int64)
        nodelen = np.zeros(nslots, dtype=np.int64)
        total = sum(b.size for b in cmap.buckets.values())
        items = np.zeros(total, dtype=np.int64)
        hids = np.zeros(total, dtype=np.int64)
        w2 = np.zeros((npos, total), dtype=np.int64)
        straws = np.zeros(total, dtype=np.int64)
        sumw = np.zeros(total, dtype=np.int64)
        nodes: list[int] = []
        off = 0
        maxsize = 0
        for bid in sorted(cmap.buckets, reverse=True):
            b = cmap.buckets[bid]
            s = -1 - bid
            k = b.size
            exists[s] = True
            btype[s] = b.type_id
            balg[s] = b.alg
            bsize[s] = k
            boff[s] = off
            maxsize = max(maxsize, k)
            if k:
                items[off:off + k] = b.items
                ids = b.items
                ws = [b.weights]
                ca = cargs.get(bid)
                if b.alg == STRAW2 and ca is not None:
                    if ca.ids is not None:
                        ids = ca.ids
                    if ca.weight_set:
                        ws = list(ca.weight_set)
                hids[off:off + k] = np.asarray(ids, dtype=np.int64) & _M
                for p in range(npos):
                    w2[p, off:off + k] = ws[min(p, len(ws) - 1)]
                if b.alg == STRAW:
                    straws[off:off + k] = cmap.straws(bid)
                elif b.alg == LIST:
                    sumw[off:off + k] = cmap.sum_weights(bid)
                elif b.alg == TREE:
                    nw = cmap.node_weights(bid)
                    nodeoff[s] = len(nodes)
                    nodelen[s] = len(nw)
                    nodes.extend(nw)
            off += k
        nodew = np.asarray(nodes if nodes else [0], dtype=np.int64)
        #: The tuple the kernel takes (index order is part of the kernel's contract).
        self.arrays = (exists, btype, balg, bsize, boff, items, hids, w2, straws, sumw, nodeoff, nodelen,
                       nodew, np.asarray(ln_table(), dtype=np.int64), int(cmap.max_devices), int(maxsize))
        t = cmap.tunables
        self.tunables = np.array([t.choose_total_tries, t.choose_local_tries, t.choose_local_fallback_tries,
                                  t.chooseleaf_vary_r, t.chooseleaf_stable, t.chooseleaf_descend_once],
                                 dtype=np.int64)
        self.steps = {rid: np.asarray(r.steps, dtype=np.int64).reshape(-1, 3) for rid, r in cmap.rules.items()}


def numba_map(crush: CrushMap, choose_args: object) -> NumbaMap:
    """The :class:`NumbaMap` of ``crush`` for a choose_args selector, cached on the map for int/None keys."""
    if choose_args is None or isinstance(choose_args, int):
        key = ("numba", choose_args)
        if key not in crush._cache:
            crush._cache[key] = NumbaMap(crush, crush.resolve_choose_args(choose_args))
        return crush._cache[key]
    return NumbaMap(crush, crush.resolve_choose_args(choose_args))


def _threads() -> int:
    return int(numba.get_num_threads())


def map_values_numba(crush: CrushMap, rule: int, num_rep: int, x: np.ndarray, wts: np.ndarray,
                     choose_args: object = None, parallel: bool | None = None) -> np.ndarray:
    """Compiled twin of :func:`pgtools.crush.vector.map_values` (same arguments, same result).

    Parameters
    ----------
    crush : CrushMap
    rule : int
        Rule id.
    num_rep : int
        ``result_max``.
    x : numpy.ndarray
        CRUSH inputs already reduced to u32 (any integer dtype).
    wts : numpy.ndarray
        Reweight vector (int64, 16.16).
    choose_args : int or mapping, optional
        choose_args selector.
    parallel : bool, optional
        Use the multi-threaded kernel; default: when there are at least :data:`PARALLEL_MIN` inputs and
        more than one numba thread (``PGTOOLS_NUMBA_PARALLEL=0`` turns it off).

    Returns
    -------
    numpy.ndarray
        int64 ``(len(x), num_rep)``, -1 padded, ITEM_NONE holes.
    """
    xs = np.ascontiguousarray(x, dtype=np.int64)
    n = len(xs)
    res = np.full((n, max(num_rep, 0)), -1, dtype=np.int64)
    r = crush.rules.get(rule)
    if r is None or num_rep <= 0 or n == 0:
        return res
    nm = numba_map(crush, choose_args)
    steps = nm.steps[rule]
    wts = np.ascontiguousarray(wts, dtype=np.int64)
    if parallel is None:
        parallel = (n >= PARALLEL_MIN and _threads() > 1
                    and os.environ.get("PGTOOLS_NUMBA_PARALLEL", "1") != "0")
    if parallel:
        nchunks = min(n, _threads() * 8)
        _map_parallel(nm.arrays, wts, steps, nm.tunables, xs, num_rep, res, nchunks)
    else:
        _map_serial(nm.arrays, wts, steps, nm.tunables, xs, num_rep, res)
    return res
