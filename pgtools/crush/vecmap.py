"""The NumPy engine's map arrays and bucket choices: ``crush_bucket_choose`` for arrays of inputs.

:class:`VecMap` pads a CrushMap's buckets (and one choose_args selection) into per-slot arrays and
evaluates a bucket choice for many inputs at once: straw2 and straw buckets padded to a common width,
uniform, list and tree buckets grouped per bucket.  :func:`is_out_vec` is the reweight test.  The rule
descent that calls them is :mod:`.vector`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .buckets import LIST, STRAW, STRAW2, TREE, UNIFORM
from .constants import ITEM_NONE, WEIGHT_ONE
from .hash import as_u32, hash2_vec, hash3_vec, hash4_vec
from .ln import ln_table

if TYPE_CHECKING:
    from .map import CrushMap
    from .rule import ChooseArg

__all__ = ["VecMap", "is_out_vec", "vec_map"]

_I64_MIN = np.iinfo(np.int64).min
_ONE48 = np.int64(1 << 48)
_BLOCK = 1 << 15  # elements per block: keeps the hash working set in cache


class VecMap:
    """Padded per-bucket arrays of a CrushMap (and one choose_args selection), and the bucket choices.

    Parameters
    ----------
    cmap : CrushMap
    cargs : dict, optional
        ``{bucket_id: ChooseArg}`` (already resolved).
    """

    def __init__(self, cmap: CrushMap, cargs: dict[int, ChooseArg] | None):
        self.map = cmap
        nslots = max((-b for b in cmap.buckets), default=0)
        self.nslots = nslots
        maxsize = max((b.size for b in cmap.buckets.values()), default=0)
        maxsize = max(maxsize, 1)
        cargs = cargs or {}
        npos = 1
        for bid, ca in cargs.items():
            b = cmap.buckets.get(bid)
            if b is not None and b.alg == STRAW2 and ca.weight_set:
                npos = max(npos, len(ca.weight_set))
        self.npos = npos
        self.exists = np.zeros(nslots, dtype=bool)
        self.btype = np.zeros(nslots, dtype=np.int64)
        self.balg = np.zeros(nslots, dtype=np.int64)
        self.bsize = np.zeros(nslots, dtype=np.int64)
        self.items = np.zeros((nslots, maxsize), dtype=np.int64)
        self.hids = np.zeros((nslots, maxsize), dtype=np.uint32)
        self.w2 = np.zeros((nslots, npos, maxsize), dtype=np.int64)
        self.straws = np.zeros((nslots, maxsize), dtype=np.int64)
        for bid, b in cmap.buckets.items():
            s = -1 - bid
            self.exists[s] = True
            self.btype[s] = b.type_id
            self.balg[s] = b.alg
            self.bsize[s] = b.size
            k = b.size
            if not k:
                continue
            self.items[s, :k] = b.items
            ids: Sequence[int] = b.items
            ws: list[Sequence[int]] = [b.weights]
            ca = cargs.get(bid)
            if b.alg == STRAW2 and ca is not None:
                if ca.ids is not None:
                    ids = ca.ids
                if ca.weight_set:
                    ws = list(ca.weight_set)
            self.hids[s, :k] = as_u32(np.asarray(ids, dtype=np.int64))
            for p in range(npos):
                self.w2[s, p, :k] = ws[min(p, len(ws) - 1)]
            if b.alg == STRAW:
                self.straws[s, :k] = cmap.straws(bid)
        self.max_devices = cmap.max_devices

    # -------------------------------------------------------------------------------- helpers
    def is_bucket(self, item: np.ndarray) -> np.ndarray:
        slot = -1 - item
        ok = (item < 0) & (slot < self.nslots)
        res = np.zeros(item.shape, dtype=bool)
        res[ok] = self.exists[slot[ok]]
        return res

    def item_type(self, item: np.ndarray) -> np.ndarray:
        t = np.zeros(item.shape, dtype=np.int64)
        neg = item < 0
        t[neg] = self.btype[-1 - item[neg]]
        return t

    # -------------------------------------------------------------------------------- choices
    def choose(self, bid: np.ndarray, x: np.ndarray, r: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """``crush_bucket_choose`` for arrays (every bucket non-empty)."""
        slot = -1 - bid
        alg = self.balg[slot]
        out = np.empty(bid.shape, dtype=np.int64)
        for a in np.unique(alg):
            m = alg == a
            if m.all():
                idx = slice(None)
            else:
                idx = np.nonzero(m)[0]
            s, xs, rs = slot[idx], x[idx], r[idx]
            if a == STRAW2:
                out[idx] = self._straw2(s, xs, rs, pos[idx])
            elif a == STRAW:
                out[idx] = self._straw(s, xs, rs)
            else:
                out[idx] = self._per_bucket(int(a), s, xs, rs)
        return out

    def _straw2(self, s: np.ndarray, x: np.ndarray, r: np.ndarray, pos: np.ndarray) -> np.ndarray:
        k = int(self.bsize[s].max())
        n = len(s)
        rows = max(1, _BLOCK // max(k, 1))
        if n <= rows:
            return self._straw2_block(s, x, r, pos, k)
        out = np.empty(n, dtype=np.int64)
        for i in range(0, n, rows):
            sl = slice(i, i + rows)
            out[sl] = self._straw2_block(s[sl], x[sl], r[sl], pos[sl], k)
        return out

    def _straw2_block(self, s: np.ndarray, x: np.ndarray, r: np.ndarray, pos: np.ndarray, k: int
                      ) -> np.ndarray:
        ids = self.hids[s, :k]
        h = hash3_vec(x[:, None], ids, as_u32(r)[:, None])
        np.bitwise_and(h, np.uint32(0xFFFF), out=h)
        ln = ln_table()[h]
        ln -= _ONE48
        if self.npos == 1:
            w = self.w2[s, 0, :k]
        else:
            w = self.w2[s, np.minimum(pos, self.npos - 1), :k]
        zero = w == 0
        np.negative(ln, out=ln)
        if zero.any():
            w = np.where(zero, 1, w)
            np.floor_divide(ln, w, out=ln)
            np.negative(ln, out=ln)
            ln[zero] = _I64_MIN
        else:
            np.floor_divide(ln, w, out=ln)
            np.negative(ln, out=ln)
        best = np.argmax(ln, axis=1)
        return self.items[s, best]

    def _straw(self, s: np.ndarray, x: np.ndarray, r: np.ndarray) -> np.ndarray:
        k = int(self.bsize[s].max())
        h = hash3_vec(x[:, None], as_u32(self.items[s, :k]), as_u32(r)[:, None])
        draw = (h & np.uint32(0xFFFF)).astype(np.int64) * self.straws[s, :k]
        best = np.argmax(draw, axis=1)
        return self.items[s, best]

    def _per_bucket(self, alg: int, s: np.ndarray, x: np.ndarray, r: np.ndarray) -> np.ndarray:
        out = np.empty(s.shape, dtype=np.int64)
        for slot in np.unique(s):
            m = np.nonzero(s == slot)[0]
            bid = int(-1 - slot)
            if alg == UNIFORM:
                out[m] = self.perm_choose(bid, x[m], r[m])
            elif alg == LIST:
                out[m] = self._list(bid, x[m], r[m])
            elif alg == TREE:
                out[m] = self._tree(bid, x[m], r[m])
            else:
                out[m] = self.map.buckets[bid].items[0]
        return out

    def perm_choose(self, bid: int, x: np.ndarray, r: np.ndarray) -> np.ndarray:
        """Permutation choice in one bucket for arrays of x and r."""
        b = self.map.buckets[bid]
        size = b.size
        n = len(x)
        pr = r % size
        perm = np.tile(np.arange(size, dtype=np.int64), (n, 1))
        rows = np.arange(n)
        for p in range(min(int(pr.max()) + 1, size - 1)):
            act = np.nonzero(pr >= p)[0]
            i = (hash3_vec(x[act], as_u32(bid), np.uint32(p)) % np.uint32(size - p)).astype(np.int64)
            sw = act[i != 0]
            j = p + i[i != 0]
            a = perm[sw, p].copy()
            perm[sw, p] = perm[sw, j]
            perm[sw, j] = a
        return np.asarray(b.items, dtype=np.int64)[perm[rows, pr]]

    def _list(self, bid: int, x: np.ndarray, r: np.ndarray) -> np.ndarray:
        b = self.map.buckets[bid]
        sumw = self.map.sum_weights(bid)
        res = np.full(len(x), b.items[0], dtype=np.int64)
        undecided = np.ones(len(x), dtype=bool)
        ru = as_u32(r)
        for i in range(b.size - 1, -1, -1):
            idx = np.nonzero(undecided)[0]
            if not len(idx):
                break
            h = hash4_vec(x[idx], as_u32(b.items[i]), ru[idx], as_u32(bid))
            w = ((h & np.uint32(0xFFFF)).astype(np.uint64) * np.uint64(sumw[i])) >> np.uint64(16)
            hit = idx[w < np.uint64(b.weights[i])]
            res[hit] = b.items[i]
            undecided[hit] = False
        return res

    def _tree(self, bid: int, x: np.ndarray, r: np.ndarray) -> np.ndarray:
        b = self.map.buckets[bid]
        nw = np.asarray(self.map.node_weights(bid), dtype=np.uint64)
        n = np.full(len(x), len(nw) >> 1, dtype=np.int64)
        ru = as_u32(r)
        while True:
            idx = np.nonzero((n & 1) == 0)[0]
            if not len(idx):
                break
            nn = n[idx]
            h = hash4_vec(x[idx], as_u32(nn), ru[idx], as_u32(bid)).astype(np.uint64)
            t = (h * nw[nn]) >> np.uint64(32)
            low = nn & -nn
            left = nn - (low >> 1)
            go_left = t < nw[left]
            n[idx] = np.where(go_left, left, nn + (low >> 1))
        # a leaf past the last item (garbage node weights of a binary map) gives ITEM_NONE: Ceph reads
        # past its items array there; the callers treat ITEM_NONE (>= max_devices) as a bad item
        leaf = n >> 1
        items = np.append(np.asarray(b.items, dtype=np.int64), ITEM_NONE)
        return items[np.minimum(leaf, b.size)]


def is_out_vec(weights: np.ndarray, item: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vectorised :func:`pgtools.crush.reference.is_out`: which devices the reweight vector rejects for ``x``."""
    out = np.ones(item.shape, dtype=bool)
    inr = (item >= 0) & (item < len(weights))
    idx = np.nonzero(inr)[0]
    if len(idx):
        w = weights[item[idx]]
        res = w == 0
        part = np.nonzero((w > 0) & (w < WEIGHT_ONE))[0]
        if len(part):
            h = hash2_vec(x[idx[part]], as_u32(item[idx[part]])) & np.uint32(0xFFFF)
            res[part] = h.astype(np.int64) >= w[part]
        out[idx] = res
    return out



def vec_map(crush: CrushMap, choose_args: object) -> VecMap:
    """The :class:`VecMap` of ``crush`` for a choose_args selector, cached on the map for int/None keys."""
    if choose_args is None or isinstance(choose_args, int):
        key = ("vec", choose_args)
        if key not in crush._cache:
            crush._cache[key] = VecMap(crush, crush.resolve_choose_args(choose_args))
        return crush._cache[key]
    return VecMap(crush, crush.resolve_choose_args(choose_args))
