"""The five CRUSH bucket algorithms, scalar versions (``ceph_algorithms.md`` §2.3 and §3).

Buckets are described by :class:`Bucket`; the per-algorithm derived data (straw lengths, list
running sums, tree node weights) is computed by the helpers here from the item weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import UnsupportedFeatureError
from .constants import ITEM_NONE, WEIGHT_ONE
from .hash import hash3, hash4
from .ln import crush_ln

__all__ = [
    "UNIFORM", "LIST", "TREE", "STRAW", "STRAW2", "ALG_NAMES", "ALG_IDS", "Bucket",
    "calc_straws", "list_sum_weights", "tree_num_nodes", "tree_node_weights",
    "tree_reachable_leaves", "perm_choose", "list_choose", "tree_choose", "straw_choose", "straw2_choose", "INT64_MIN",
]

UNIFORM, LIST, TREE, STRAW, STRAW2 = 1, 2, 3, 4, 5
ALG_NAMES = {UNIFORM: "uniform", LIST: "list", TREE: "tree", STRAW: "straw", STRAW2: "straw2"}
ALG_IDS = {v: k for k, v in ALG_NAMES.items()}
INT64_MIN = -(1 << 63)
_M32 = 0xFFFFFFFF


@dataclass(frozen=True)
class Bucket:
    """One CRUSH bucket.

    Attributes
    ----------
    id : int
        Negative bucket id.
    name : str
        Bucket name (shadow buckets contain ``~``).
    type_id : int
        CRUSH type id (host, rack, ...).
    alg : int
        Algorithm id: 1 uniform, 2 list, 3 tree, 4 straw, 5 straw2.
    hash : int
        Hash type (0 = rjenkins1, the only one).
    items : tuple of int
        Child ids in bucket order.
    weights : tuple of int
        Item weights, 16.16 fixed point (``0x10000`` = 1.0).
    weight : int
        Bucket weight (sum of the item weights), 16.16.
    straws : tuple of int, optional
        Straw lengths a binary map stores for a legacy straw bucket (as Ceph computed them when the
        bucket last changed, possibly under another ``straw_calc_version``).  None: derived from the
        item weights with the map's ``straw_calc_version``.
    node_weights : tuple of int, optional
        Node weights a binary map stores for a tree bucket, indexed by node label (interior nodes of
        class shadow trees can hold uninitialised heap values, see
        :meth:`pgtools.crush.CrushMap.undefined_behaviour`).  None: derived from the item weights.
    sum_weights : tuple of int, optional
        Running weight sums a binary map stores for a list bucket.  None: derived.
    stored_for : tuple, optional
        ``(items, weights)`` the stored arrays belong to (set by the binary reader and by
        :meth:`pgtools.crush.CrushMap.with_item_weight`).  A copy whose items or weights were changed
        some other way (``dataclasses.replace``) no longer matches, and its arrays are derived again:
        see :meth:`stored`.  Not part of equality.
    """

    id: int
    name: str
    type_id: int
    alg: int
    hash: int
    items: tuple[int, ...]
    weights: tuple[int, ...]
    weight: int
    straws: tuple[int, ...] | None = None
    node_weights: tuple[int, ...] | None = None
    sum_weights: tuple[int, ...] | None = None
    stored_for: tuple[tuple[int, ...], tuple[int, ...]] | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> int:
        """Number of items."""
        return len(self.items)

    def stored(self, what: str) -> tuple[int, ...] | None:
        """The stored ``"straws"``, ``"node_weights"`` or ``"sum_weights"``, if valid for this bucket.

        Returns None when nothing is stored, or when the items or weights are no longer those the
        stored values were read (or adjusted) for.
        """
        val = getattr(self, what)
        if val is None or self.stored_for is None:
            return None
        if self.stored_for[0] != self.items or self.stored_for[1] != self.weights:
            return None
        return val


def calc_straws(weights: tuple[int, ...] | list[int], version: int) -> list[int]:
    """Straw lengths of a legacy straw bucket, as ``crush_calc_straw`` computes them (§3.4).

    Parameters
    ----------
    weights : sequence of int
        Item weights (16.16, u32).
    version : int
        ``straw_calc_version`` tunable (0 or >= 1).

    Returns
    -------
    list of int
        One u32 straw per item.
    """
    size = len(weights)
    rev = sorted(range(size), key=lambda k: weights[k])  # stable ascending == the C insertion sort
    straws = [0] * size
    numleft = size
    straw = 1.0
    wbelow = 0.0
    lastw = 0.0

    def w(k: int) -> int:
        return weights[rev[k]]

    i = 0
    while i < size:
        if w(i) == 0:
            straws[rev[i]] = 0
            i += 1
            if version >= 1:
                numleft -= 1
            continue
        straws[rev[i]] = int(straw * WEIGHT_ONE) & _M32
        i += 1
        if i == size:
            break
        if version == 0:
            if w(i) == w(i - 1):
                continue
            wbelow += (float(w(i - 1)) - lastw) * numleft
            j = i
            while j < size and w(j) == w(i):
                numleft -= 1
                j += 1
        else:
            wbelow += (float(w(i - 1)) - lastw) * numleft
            numleft -= 1
        wnext = float((numleft * (w(i) - w(i - 1))) & _M32)
        pbelow = wbelow / (wbelow + wnext)
        straw *= pow(1.0 / pbelow, 1.0 / numleft)
        lastw = float(w(i - 1))
    return straws


def list_sum_weights(weights: tuple[int, ...] | list[int]) -> list[int]:
    """Running totals of the item weights (inclusive), as a list bucket keeps them."""
    out: list[int] = []
    total = 0
    for wt in weights:
        total = (total + wt) & _M32
        out.append(total)
    return out


def tree_num_nodes(size: int) -> int:
    """Number of node slots of a tree bucket with ``size`` items (``2**depth``)."""
    if size == 0:
        return 0
    depth = 1 + (size - 1).bit_length()
    n = 1 << depth
    if n > 255:
        raise UnsupportedFeatureError(
            f"tree bucket with {size} items: num_nodes overflows Ceph's u8 field (more than 64 items; "
            "crushtool itself aborts on such a map)")
    return n


def tree_node_weights(weights: tuple[int, ...] | list[int]) -> list[int]:
    """Node weights of a tree bucket, indexed by in-order node label (§3.3)."""
    size = len(weights)
    n = tree_num_nodes(size)
    nw = [0] * n
    for label in range(1, n):
        h = (label & -label).bit_length() - 1
        lo, hi = label - (1 << h), label + (1 << h)
        total = 0
        for i in range(size):
            leaf = 2 * i + 1
            if lo < leaf < hi:
                total += weights[i]
        nw[label] = total & _M32
    return nw


def perm_choose(bucket_id: int, items: tuple[int, ...], x: int, r: int) -> int:
    """Pseudo-random permutation choice (uniform buckets and the firstn local fallback)."""
    size = len(items)
    pr = r % size
    perm = list(range(size))
    for p in range(pr + 1):
        if p < size - 1:
            i = hash3(x, bucket_id, p) % (size - p)
            if i:
                perm[p], perm[p + i] = perm[p + i], perm[p]
    return items[perm[pr]]


def list_choose(bucket_id: int, items: tuple[int, ...], weights: tuple[int, ...],
                sum_weights: list[int], x: int, r: int) -> int:
    """List bucket choice: scan from the tail, accept item i with probability w_i / sum_i."""
    for i in range(len(items) - 1, -1, -1):
        w = hash4(x, items[i], r, bucket_id) & 0xFFFF
        w = (w * sum_weights[i]) >> 16
        if w < weights[i]:
            return items[i]
    return items[0]


def tree_choose(bucket_id: int, items: tuple[int, ...], node_weights: Sequence[int], x: int, r: int) -> int:
    """Tree bucket choice: descend the in-order labelled binary tree.

    With node weights read from a binary map (uninitialised interior nodes of cloned shadow buckets)
    the descent can end on a leaf past the last item, where Ceph reads past its ``items`` array
    (undefined).  pgtools returns ``ITEM_NONE`` there (0x7fffffff, which is ``>= max_devices``), so the
    mappers take Ceph's "bad item" path: the replica is skipped (firstn) or left a hole (indep).
    """
    n = len(node_weights) >> 1
    while not n & 1:
        w = node_weights[n]
        t = (hash4(x, n, r, bucket_id) * w) >> 32
        h = (n & -n).bit_length() - 1
        left = n - (1 << (h - 1))
        if t < node_weights[left]:
            n = left
        else:
            n = n + (1 << (h - 1))
    leaf = n >> 1
    return items[leaf] if leaf < len(items) else ITEM_NONE


def straw_choose(items: tuple[int, ...], straws: list[int], x: int, r: int) -> int:
    """Legacy straw choice: greatest ``(hash & 0xffff) * straw``; ties to the lowest index."""
    best = 0
    high = -1
    for i, item in enumerate(items):
        draw = (hash3(x, item, r) & 0xFFFF) * straws[i]
        if i == 0 or draw > high:
            high = draw
            best = i
    return items[best]


def straw2_choose(items: tuple[int, ...], weights: tuple[int, ...] | list[int],
                  ids: tuple[int, ...] | list[int], x: int, r: int) -> int:
    """straw2 choice (§2.3): greatest ``(crush_ln(u) - 2**48) / w`` with C's truncating division."""
    best = 0
    high = INT64_MIN
    for i, wt in enumerate(weights):
        if wt:
            u = hash3(x, ids[i], r) & 0xFFFF
            ln = crush_ln(u) - 0x1000000000000
            draw = -((-ln) // wt)
        else:
            draw = INT64_MIN
        if i == 0 or draw > high:
            high = draw
            best = i
    return items[best]


def tree_reachable_leaves(node_weights: Sequence[int]) -> set[int]:
    """Leaf indexes (item positions) a tree descent over these node weights can end on.

    At node ``n`` the draw is ``t = (hash * w[n]) >> 32`` with ``t`` in ``[0, max_t]``; the descent goes
    left when ``t < w[left]``.  So left is reachable when ``w[left] > 0`` and right when
    ``max_t >= w[left]`` (every 32-bit hash value is assumed possible).
    """
    out: set[int] = set()
    n0 = len(node_weights) >> 1
    if n0 == 0:
        return out
    todo = [n0]
    seen: set[int] = set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        if n & 1:
            out.add(n >> 1)
            continue
        low = n & -n
        left, right = n - (low >> 1), n + (low >> 1)
        max_t = (0xFFFFFFFF * node_weights[n]) >> 32
        if node_weights[left] > 0:
            todo.append(left)
        if max_t >= node_weights[left]:
            todo.append(right)
    return out
