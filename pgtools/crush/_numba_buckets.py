"""The compiled engine's map arrays and bucket choices (numba): what :mod:`._numba`'s descent calls.

:class:`NumbaMap` flattens a CrushMap (with one choose_args selection) into arrays:

* per bucket slot (``-1 - id``): exists, type, algorithm, size and the offset of its items;
* items, straw2 hash ids (choose_args ``ids`` or the items), weights per weight-set position
  (``npos x total``), legacy straws and list running sums, all in CSR form over the bucket offsets;
* tree node weights in their own CSR (``nodeoff``/``nodelen``);
* per weight-set position and straw2 bucket, the weight all its items share (0 when they differ), with
  which :func:`bucket_choose` divides only when an item's ``crush_ln`` beats the best so far;
* the ``crush_ln`` table, the rule steps as an ``(n, 3)`` array and the tunables.

:func:`bucket_choose` is ``crush_bucket_choose`` over those arrays and :func:`is_out` the reweight
test.  The hashes are the scalar functions of :mod:`.hash` themselves, compiled here
(:func:`compiled_hash`), so the two engines cannot drift apart.  Everything is done in ``int64`` with
explicit 32-bit masks, so no unsigned promotion rules are involved.  This module imports numba at
import time; only :mod:`._numba` imports it.
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from . import hash as crush_hash
from .buckets import LIST, STRAW, STRAW2, TREE, UNIFORM
from .constants import ITEM_NONE, WEIGHT_ONE
from .ln import ln_table

if TYPE_CHECKING:
    from .map import CrushMap
    from .rule import ChooseArg

#: The files whose code or constants the compiled kernels contain.
KERNEL_SOURCES = ("_numba.py", "_numba_buckets.py", "_numba_msr.py", "hash.py", "ln.py", "_ln_tables.py",
                  "constants.py", "buckets.py")


def purge_stale_kernels(cache_dir: Path | None = None) -> bool:
    """Drop this package's cached compiled kernels when any of :data:`KERNEL_SOURCES` changed since they were built.

    numba's on-disk cache (``cache=True``) checks only the file of the function it compiled, so a kernel of
    :mod:`._numba` compiled against an older :func:`bucket_choose` (or hash, or ``crush_ln`` table) would be
    loaded as is: a wrong answer with no error.  A digest of all the sources is kept beside the cache
    (``__pycache__/pgtools-numba.sha256``); when it differs, the cached kernels (``*.nbi``/``*.nbc``) there
    are removed and recompiled on first use.  Returns True when it purged.  An unwritable cache is left alone
    (numba then caches elsewhere, keyed by the files' paths and times, which an installed copy changes whole).
    """
    here = Path(__file__).resolve().parent
    cache = cache_dir if cache_dir is not None else here / "__pycache__"
    digest = hashlib.sha256(b"".join((here / name).read_bytes() for name in KERNEL_SOURCES)).hexdigest()
    stamp = cache / "pgtools-numba.sha256"
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for f in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
            f.unlink()
        stamp.write_text(digest)
    except OSError:
        return False
    return True


purge_stale_kernels()

__all__ = ["NumbaMap", "compiled_hash", "hash2_nb", "hash3_nb", "hash4_nb", "is_bucket", "item_type",
           "perm_choose", "bucket_choose", "is_out"]

_M = 0xFFFFFFFF
_I64_MIN = np.iinfo(np.int64).min
_ONE48 = 1 << 48


# ------------------------------------------------------------------------------------------- hashes
def compiled_hash(fn: Callable[..., int], *, inline: str = "never", **helpers: Callable[..., object]
                  ) -> Callable[..., int]:
    """``numba.njit`` of a scalar hash of :mod:`.hash`, with its helper functions compiled too.

    numba resolves a function's globals when it compiles it and cannot call a plain Python function from
    compiled code, so the function is compiled as a copy whose globals name the compiled ``helpers``
    (``mix``) instead of the Python ones; its code object is the one of :mod:`.hash`.

    Parameters
    ----------
    fn : callable
        E.g. :func:`pgtools.crush.hash.hash3`.
    inline : {"never", "always"}
        numba's ``inline``: ``"always"`` compiles the hash into its caller (a loop of hashes can then be
        vectorised).
    **helpers
        Compiled replacements of the module-level functions ``fn`` calls, by name.

    Returns
    -------
    numba dispatcher
    """
    scope = dict(fn.__globals__)
    scope.update(helpers)
    copy = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return njit(cache=True, inline=inline)(copy)


_mix_nb = njit(cache=True, inline="always")(crush_hash.mix)
#: :func:`pgtools.crush.hash.hash2` .. ``hash4``, compiled.
hash2_nb = compiled_hash(crush_hash.hash2, mix=_mix_nb)
hash3_nb = compiled_hash(crush_hash.hash3, mix=_mix_nb)
hash4_nb = compiled_hash(crush_hash.hash4, mix=_mix_nb)
_hash3_inline = compiled_hash(crush_hash.hash3, inline="always", mix=_mix_nb)


# ------------------------------------------------------------------------------------------- buckets
@njit(cache=True, inline="always")
def is_bucket(m, item: int) -> bool:
    """True if ``item`` is a bucket of the map arrays ``m``."""
    s = -1 - item
    return item < 0 and s < m[0].shape[0] and m[0][s]


@njit(cache=True, inline="always")
def item_type(m, item: int) -> int:
    """Type id of ``item`` (0 for a device)."""
    if item >= 0:
        return 0
    return m[1][-1 - item]


@njit(cache=True)
def perm_choose(m, s: int, x: int, r: int, perm: np.ndarray) -> int:
    """``bucket_perm_choose`` in bucket slot ``s`` (``perm``: scratch of the largest bucket size)."""
    size = m[3][s]
    off = m[4][s]
    bid = -1 - s
    pr = r % size
    for i in range(size):
        perm[i] = i
    for p in range(pr + 1):
        if p < size - 1:
            i = hash3_nb(x, bid, p) % (size - p)
            if i:
                t = perm[p]
                perm[p] = perm[p + i]
                perm[p + i] = t
    return m[5][off + perm[pr]]


@njit(cache=True)
def bucket_choose(m, s: int, x: int, r: int, position: int, perm: np.ndarray) -> int:
    """``crush_bucket_choose`` in bucket slot ``s`` (non-empty) for input ``x``, replica ``r``, weight-set ``position``."""
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
        # every item's hash first, in a loop of its own (``perm`` is scratch here): compiled inline, the
        # hashes of several items are computed at once (SIMD); Ceph skips the hash of a zero weight, which
        # has no effect on the result
        for i in range(size):
            perm[i] = _hash3_inline(x, hids[off + i], r) & 0xFFFF
        best = 0
        high = _I64_MIN
        same = m[16][p, s]
        if same > 0:
            # every item has weight ``same``: a draw only rises with ln, so an item whose ln is not above the
            # highest so far cannot win (ties keep the first); divide only when ln rises (same result)
            top = _I64_MIN
            for i in range(size):
                ln = ln_tbl[perm[i]] - _ONE48
                if i == 0 or ln > top:
                    top = ln
                    draw = -((-ln) // same)
                    if i == 0 or draw > high:
                        high = draw
                        best = i
            return items[off + best]
        for i in range(size):
            wt = w2[p, off + i]
            if wt:
                ln = ln_tbl[perm[i]] - _ONE48
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
            draw = (hash3_nb(x, items[off + i], r) & 0xFFFF) * straws[off + i]
            if i == 0 or draw > high:
                high = draw
                best = i
        return items[off + best]
    if alg == UNIFORM:
        return perm_choose(m, s, x, r, perm)
    if alg == LIST:
        sumw = m[9]
        w2 = m[7]
        for i in range(size - 1, -1, -1):
            w = hash4_nb(x, items[off + i], r, bid) & 0xFFFF
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
            h = hash4_nb(x, n, r, bid)
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
            return ITEM_NONE
        return items[off + (n >> 1)]
    return items[off]


@njit(cache=True, inline="always")
def is_out(wts: np.ndarray, item: int, x: int) -> bool:
    """True if device ``item`` is rejected by the reweight vector ``wts`` for input ``x`` (§4.2)."""
    if item >= wts.shape[0]:
        return True
    w = wts[item]
    if w >= WEIGHT_ONE:
        return False
    if w == 0:
        return True
    return (hash2_nb(x, item) & 0xFFFF) >= w


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
        # per weight-set position and bucket slot: the weight all items of a straw2 bucket share, else 0
        same = np.zeros((npos, nslots), dtype=np.int64)
        for s in np.nonzero(exists & (balg == STRAW2) & (bsize > 0))[0].tolist():
            for p in range(npos):
                w = w2[p, boff[s]:boff[s] + bsize[s]]
                if w[0] > 0 and bool((w == w[0]).all()):
                    same[p, s] = w[0]
        #: The tuple the kernel takes (index order is part of the kernel's contract).
        self.arrays = (exists, btype, balg, bsize, boff, items, hids, w2, straws, sumw, nodeoff, nodelen,
                       nodew, np.asarray(ln_table(), dtype=np.int64), int(cmap.max_devices), int(maxsize), same)
        t = cmap.tunables
        self.tunables = np.array([t.choose_total_tries, t.choose_local_tries, t.choose_local_fallback_tries,
                                  t.chooseleaf_vary_r, t.chooseleaf_stable, t.chooseleaf_descend_once],
                                 dtype=np.int64)
        self.steps = {rid: np.asarray(r.steps, dtype=np.int64).reshape(-1, 3) for rid, r in cmap.rules.items()}

