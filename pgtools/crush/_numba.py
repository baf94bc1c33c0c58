"""Compiled ``crush_do_rule`` (numba): the optional fast engine behind :func:`pgtools.crush.map_values`.

A line-by-line port of :mod:`.reference` (``ceph_algorithms.md`` §2-§4) to flat arrays, compiled with
``numba.njit(cache=True)`` and looping over the inputs inside the compiled code.  The map is turned into
arrays once (:class:`~pgtools.crush._numba_buckets.NumbaMap`, cached on the CrushMap per choose_args
key); the bucket choices over them live in :mod:`._numba_buckets`, the rule descent
(``crush_choose_firstn``, ``crush_choose_indep``, ``crush_do_rule``) here.

Everything is done in ``int64`` with explicit 32-bit masks, so no unsigned promotion rules are involved.
This module imports numba at import time; :mod:`.vector` only imports it when numba is installed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numba
import numpy as np
from numba import njit, prange

from ._numba_buckets import NumbaMap, bucket_choose, is_bucket, is_out, item_type, perm_choose
from ._numba_msr import map_msr_numba
from .buckets import UNIFORM
from .constants import ITEM_NONE, ITEM_UNDEF

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["NumbaMap", "numba_map", "map_values_numba"]

#: Below this many inputs the serial kernel is used (thread start-up costs more than it saves).
PARALLEL_MIN = 4096


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
                        item = perm_choose(m, s, x, r, perm)
                    else:
                        item = bucket_choose(m, s, x, r, outpos, perm)
                    if item >= max_devices:
                        skip_rep = True
                        break
                    itemtype = item_type(m, item)
                    if itemtype != 0:
                        if item >= 0 or not is_bucket(m, item):
                            skip_rep = True
                            break
                        in_b = item
                        continue
                    for i in range(outpos):
                        if out[i] == item:
                            collide = True
                            break
                    if not collide:
                        reject = is_out(wts, item, x)
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
                        item = perm_choose(m, s, x, r, perm)
                    else:
                        item = bucket_choose(m, s, x, r, outpos, perm)
                    if item >= max_devices:
                        skip_rep = True
                        break
                    itemtype = item_type(m, item)
                    if itemtype != want_type:
                        if item >= 0 or not is_bucket(m, item):
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
                        reject = is_out(wts, item, x)
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
    out[rep] = ITEM_UNDEF
    left = 1
    ftotal = 0
    while left > 0 and ftotal < tries:
        if out[rep] == ITEM_UNDEF:
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
                item = bucket_choose(m, s, x, r, rep, perm)
                if item >= max_devices:
                    out[rep] = ITEM_NONE
                    left -= 1
                    break
                itemtype = item_type(m, item)
                if itemtype != 0:
                    if item >= 0 or not is_bucket(m, item):
                        out[rep] = ITEM_NONE
                        left -= 1
                        break
                    in_b = item
                    continue
                if out[rep] == item:
                    break
                if is_out(wts, item, x):
                    break
                out[rep] = item
                left -= 1
                break
        ftotal += 1
    if out[rep] == ITEM_UNDEF:
        out[rep] = ITEM_NONE


@njit(cache=True)
def _indep(m, wts, perm, start: int, x: int, left: int, numrep: int, want_type: int, out: np.ndarray,
           out2: np.ndarray, tries: int, recurse_tries: int, recurse_to_leaf: bool) -> None:
    """Top-level ``crush_choose_indep`` (outpos 0, parent_r 0) over ``out[:left]``."""
    max_devices = m[14]
    endpos = left
    for rep in range(endpos):
        out[rep] = ITEM_UNDEF
        out2[rep] = ITEM_UNDEF
    ftotal = 0
    while left > 0 and ftotal < tries:
        for rep in range(endpos):
            if out[rep] != ITEM_UNDEF:
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
                item = bucket_choose(m, s, x, r, 0, perm)
                if item >= max_devices:
                    out[rep] = ITEM_NONE
                    out2[rep] = ITEM_NONE
                    left -= 1
                    break
                itemtype = item_type(m, item)
                if itemtype != want_type:
                    if item >= 0 or not is_bucket(m, item):
                        out[rep] = ITEM_NONE
                        out2[rep] = ITEM_NONE
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
                        if out2[rep] == ITEM_NONE:
                            break
                    else:
                        out2[rep] = item
                if itemtype == 0 and is_out(wts, item, x):
                    break
                out[rep] = item
                left -= 1
                break
        ftotal += 1
    for rep in range(endpos):
        if out[rep] == ITEM_UNDEF:
            out[rep] = ITEM_NONE
        if out2[rep] == ITEM_UNDEF:
            out2[rep] = ITEM_NONE


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
            if (0 <= a1 < max_devices) or is_bucket(m, a1):
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
                if wi >= 0 or not is_bucket(m, wi):
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
    if r.is_msr:  # crush_do_rule dispatches on the rule type
        return map_msr_numba(crush, nm, rule, num_rep, xs, wts, choose_args, res)
    if parallel is None:
        parallel = (n >= PARALLEL_MIN and _threads() > 1
                    and os.environ.get("PGTOOLS_NUMBA_PARALLEL", "1") != "0")
    if parallel:
        nchunks = min(n, _threads() * 8)
        _map_parallel(nm.arrays, wts, steps, nm.tunables, xs, num_rep, res, nchunks)
    else:
        _map_serial(nm.arrays, wts, steps, nm.tunables, xs, num_rep, res)
    return res
