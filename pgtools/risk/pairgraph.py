"""The graph of lethal pairs: exact counts and maxima over 3-sets of failing units (used by :mod:`.conditional`).

When the minimal lethal sets of a column (see :class:`~pgtools.risk.counting.Lethal`) are units, pairs and
triples, the 3-sets of units that contain one are counted without enumerating the ``C(n, 3)`` 3-sets: on the
graph ``G`` whose edges are the lethal pairs (their units are not lethal alone),

    #3-sets holding at least one edge = |E| (n - 2) - sum over v of C(deg v, 2) + #triangles

(a 3-set with ``e`` edges is counted ``e - C(e, 2) + C(e, 3) = 1`` time: once per edge, minus once per pair
of edges meeting at a vertex, plus once per triangle).  Triangles are counted over the adjacency sorted by
unit: for each unit ``u``, its higher neighbours are marked, and the higher neighbours of each of them looked
up among the marks (``sum over v of in-degree * out-degree`` probes: about 6 * 10**8 on a 10,000-OSD map of a
million size-3 PGs, under a second compiled).

The same walk finds the most PGs a 3-set without a coefficient of its own (not a key of
:attr:`Copysets.keys` ``[3]``) loses: its count is then the sum of its pairs' counts, so it is a triangle (the
best one is kept), a *cherry* (two edges at a vertex: per vertex, the heaviest pair of incident edges whose
third pair is neither an edge nor a key) or one edge.

numba compiles the loops when it is installed (``pgtools[fast]``); otherwise NumPy does the triangle walk one
unit at a time (several times slower) and plain Python the cherries.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BITSET_MAX", "PairGraph", "have_compiled"]

#: Count triangles with bitsets (n * n / 8 bytes) up to this many units, else with marks.
BITSET_MAX = 40_000
#: Fill the adjacency with the compiled loop above this many edges (below, NumPy: no numba import needed).
CSR_JIT_MIN = 50_000


def have_compiled() -> bool:
    """True when numba compiles the loops of this module (imported on first use: it takes a while)."""
    return bool(_compiled())


def warm_up() -> None:
    """Run every compiled kernel once on a 4-unit graph: numba compiles them now (seconds, once per install or
    change: its cache lives beside the sources) rather than inside the first large count."""
    jit = _compiled()
    g = PairGraph(np.array([[0, 1], [0, 2], [1, 2], [2, 3]]), np.array([1.0, 2.0, 3.0, 4.0]), 4)
    g.triangles()
    g.best_triangle(np.zeros(0, dtype=np.int64), 0.0)
    g.best_cherry(np.zeros(0, dtype=np.int64))
    if jit:
        jit["tri_count_marks"](g.indptr, g.fwd, g.nbr, g.n)
        jit["csr_fill"](np.array([0]), np.array([1]), np.array([1.0]), np.array([0, 1]), np.array([0, 1]),
                        np.empty(2, dtype=np.int64), np.empty(2))


class PairGraph:
    """An undirected weighted graph on units ``0..n-1``, stored as sorted adjacency (CSR, both directions).

    Parameters
    ----------
    pairs : numpy.ndarray
        ``(m, 2)`` distinct unit pairs, each sorted (``pairs[:, 0] < pairs[:, 1]``).
    weights : numpy.ndarray
        ``(m,)`` the edge weights (PGs the pair loses).
    n : int
        Number of units.
    """

    def __init__(self, pairs: np.ndarray, weights: np.ndarray, n: int) -> None:
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        w = np.asarray(weights, dtype=np.float64)
        if len(pairs) > 1:  # sorted by (a, b), as the codes of the keys are
            code = pairs[:, 0] * n + pairs[:, 1]
            if not (code[1:] > code[:-1]).all():
                order = np.argsort(code)
                pairs, w = pairs[order], w[order]
        a, b = pairs[:, 0], pairs[:, 1]
        # row u: its lower neighbours (the a of the pairs (a, u), by a) then its higher ones (the b of (u, b))
        low = np.bincount(b, minlength=n).astype(np.int64)
        high = np.bincount(a, minlength=n).astype(np.int64)
        self.n = n
        self.m = len(pairs)
        self.deg = low + high
        self.indptr = np.r_[0, np.cumsum(self.deg)].astype(np.int64)
        self.fwd = self.indptr[:-1] + low
        self.nbr = np.empty(2 * len(pairs), dtype=np.int64)
        self.wt = np.empty(2 * len(pairs), dtype=np.float64)
        jit = _compiled() if len(pairs) > CSR_JIT_MIN else {}
        if jit:
            jit["csr_fill"](a, b, w, self.indptr[:-1].copy(), self.fwd.copy(), self.nbr, self.wt)
            return
        first_a = np.r_[0, np.cumsum(high)][:-1]
        pos_f = self.fwd[a] + np.arange(len(a)) - first_a[a]
        self.nbr[pos_f], self.wt[pos_f] = b, w
        ob = np.argsort(b, kind="stable")  # by b, then a (stable over pairs sorted by a)
        bs = b[ob]
        first_b = np.r_[0, np.cumsum(low)][:-1]
        pos_b = self.indptr[bs] + np.arange(len(bs)) - first_b[bs]
        self.nbr[pos_b], self.wt[pos_b] = a[ob], w[ob]

    def cherries(self) -> int:
        """``sum over v of C(deg v, 2)``: pairs of edges meeting at a unit."""
        return int((self.deg * (self.deg - 1) // 2).sum())

    def triangles(self) -> int:
        """The number of triangles (3-sets whose three pairs are edges)."""
        jit = _compiled()
        if jit and self.n <= BITSET_MAX:
            return int(jit["tri_count_bits"](self.indptr, self.fwd, self.nbr, self.n))
        if jit:
            return int(jit["tri_count_marks"](self.indptr, self.fwd, self.nbr, self.n))
        return _tri_count_np(self.indptr, self.fwd, self.nbr, self.n)

    def best_triangle(self, keys3: np.ndarray, floor: float) -> tuple[float, np.ndarray]:
        """The heaviest triangle heavier than ``floor`` whose code is not in the sorted ``keys3``.

        A triangle heavier than ``floor`` has an edge heavier than ``floor / 3``: only those edges are
        walked, heaviest first, until the next cannot beat the best found.  Returns ``(weight, sorted
        units)``; ``floor`` and empty when there is none.
        """
        keys3 = np.asarray(keys3, dtype=np.int64)
        fn = _compiled().get("tri_best", _tri_best)
        best, a, b, c = fn(self.indptr, self.nbr, self.wt, self.n, keys3, *self.edges_heavier(floor / 3), float(floor))
        if a < 0:
            return float(floor), np.zeros(0, np.int64)
        return float(best), np.sort(np.array([a, b, c], dtype=np.int64))

    def edges_heavier(self, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The edges heavier than ``floor``, heaviest first (ties by unit): ``(lower units, higher, weights)``."""
        own = np.repeat(np.arange(self.n, dtype=np.int64), self.deg)  # the unit of each adjacency position
        sel = np.flatnonzero((own < self.nbr) & (self.wt > floor))  # each edge once, from its lower unit
        order = sel[np.argsort(-self.wt[sel], kind="stable")]
        return own[order], self.nbr[order], self.wt[order]

    def best_cherry(self, keys3: np.ndarray) -> tuple[float, np.ndarray]:
        """The heaviest two edges at one unit whose third pair is neither an edge nor, with them, a key.

        Returns ``(weight, sorted units)``; -1 and empty when there is none.
        """
        keys3 = np.asarray(keys3, dtype=np.int64)
        fn = _compiled().get("cherry_rows", _cherry_rows)
        best, a, b, c = fn(self.indptr, self.nbr, self.wt, self.n, keys3)
        if best < 0:
            return -1.0, np.zeros(0, np.int64)
        return float(best), np.sort(np.array([a, b, c], dtype=np.int64))


def _in(sorted_arr: np.ndarray, lo: int, hi: int, x: int) -> bool:
    """Whether ``x`` is in the sorted slice ``sorted_arr[lo:hi]``."""
    end = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if sorted_arr[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo < end and sorted_arr[lo] == x


def _sorted_key(a, b, c, n):
    """The code of the 3-set ``{a, b, c}`` (:func:`~pgtools.risk.copysets.encode` of its sorted units)."""
    if a > b:
        a, b = b, a
    if b > c:
        b, c = c, b
    if a > b:
        a, b = b, a
    return (a * n + b) * n + c


def _tri_best(indptr, nbr, wt, n, keys3, eu, ev, ew, floor):
    """:meth:`PairGraph.best_triangle` over the edges ``(eu, ev)`` of weights ``ew`` (descending)."""
    best = floor
    ba = bb = bc = -1
    nk = len(keys3)
    for e in range(len(ew)):
        w = ew[e]
        if 3 * w <= best:
            break
        u, v = eu[e], ev[e]
        i, iend, j, jend = indptr[u], indptr[u + 1], indptr[v], indptr[v + 1]
        while i < iend and j < jend:  # the common neighbours of u and v
            x, y = nbr[i], nbr[j]
            if x < y:
                i += 1
            elif x > y:
                j += 1
            else:
                phi = w + wt[i] + wt[j]
                if phi > best and not _in(keys3, 0, nk, _sorted_key(u, v, x, n)):
                    best, ba, bb, bc = phi, u, v, x
                i += 1
                j += 1
    return best, ba, bb, bc


def _tri_count_marks(indptr, fwd, nbr, n):
    """Triangles ``u < v < x``: mark the higher neighbours of ``u``, look up those of each of them."""
    stamp = np.full(n, -1, dtype=np.int64)
    count = 0
    for u in range(n):
        for i in range(fwd[u], indptr[u + 1]):
            stamp[nbr[i]] = u
        for i in range(fwd[u], indptr[u + 1]):
            v = nbr[i]
            for j in range(fwd[v], indptr[v + 1]):
                if stamp[nbr[j]] == u:
                    count += 1
    return count


def _tri_count_bits(indptr, fwd, nbr, n):
    """Triangles ``u < v < x``: per edge ``(u, v)``, the popcount of the AND of their higher-neighbour bitsets
    (from ``v``'s word to the last word either reaches)."""
    nw = (n + 63) // 64
    bits = np.zeros((n, nw), dtype=np.uint64)
    for u in range(n):
        for i in range(fwd[u], indptr[u + 1]):
            x = nbr[i]
            bits[u, x >> 6] |= np.uint64(1) << np.uint64(x & 63)
    count = 0
    for u in range(n):
        if indptr[u + 1] == fwd[u]:
            continue
        last_u = nbr[indptr[u + 1] - 1] >> 6
        for i in range(fwd[u], indptr[u + 1]):
            v = nbr[i]
            if indptr[v + 1] == fwd[v]:
                continue
            end = min(last_u, nbr[indptr[v + 1] - 1] >> 6)
            for k in range(v >> 6, end + 1):
                count += _popcount(bits[u, k] & bits[v, k])
    return count


def _popcount(x):
    """Set bits of a 64-bit word (replaced by the CPU instruction when compiled)."""
    return bin(int(x)).count("1")


def _walk_row(a, ordr, indptr, nbr, wt, n, keys3, best):
    """Unit ``a``'s neighbour pairs, heaviest first (``ordr``: its adjacency positions by weight, descending):
    the first pair above ``best`` that is neither a triangle nor a key, as ``(weight, b, c)``; ``best`` and
    -1, -1 when none beats it."""
    nk = len(keys3)
    d = len(ordr)
    for i in range(d - 1):
        wi = wt[ordr[i]]
        if wi + wt[ordr[i + 1]] <= best:
            break
        b = nbr[ordr[i]]
        for j in range(i + 1, d):
            s = wi + wt[ordr[j]]
            if s <= best:
                break
            c = nbr[ordr[j]]
            if _in(nbr, indptr[b], indptr[b + 1], c):
                continue  # a triangle: the triangle walk weighs it
            x, y, z = a, b, c  # the three units, sorted
            if x > y:
                x, y = y, x
            if y > z:
                y, z = z, y
            if x > y:
                x, y = y, x
            if _in(keys3, 0, nk, (x * n + y) * n + z):
                continue  # a key: its own count is known
            return s, b, c
    return best, -1, -1


def _cherry_rows(indptr, nbr, wt, n, keys3):
    """:meth:`PairGraph.best_cherry`: per unit, its two heaviest edges bound what it can give; the rows that
    may beat the best so far are ordered by weight and walked (:func:`_walk_row`)."""
    best = -1.0
    ba = bb = bc = -1
    for a in range(n):
        lo, hi = indptr[a], indptr[a + 1]
        if hi - lo < 2:
            continue
        t1 = t2 = -1.0
        for i in range(lo, hi):
            w = wt[i]
            if w > t1:
                t1, t2 = w, t1
            elif w > t2:
                t2 = w
        if t1 + t2 <= best:
            continue
        ordr = lo + np.argsort(-wt[lo:hi], kind="mergesort")
        s, b, c = _walk_row(a, ordr, indptr, nbr, wt, n, keys3, best)
        if b >= 0:
            best, ba, bb, bc = s, a, b, c
    return best, ba, bb, bc


def _tri_count_np(indptr, fwd, nbr, n):
    """:func:`_tri_count_marks` one unit at a time with NumPy (no numba)."""
    mark = np.zeros(n, dtype=bool)
    count = 0
    for u in range(n):
        f = nbr[fwd[u]:indptr[u + 1]]
        if len(f) < 2:
            continue
        mark[f] = True
        starts, lens = fwd[f], indptr[f + 1] - fwd[f]
        tot = int(lens.sum())
        if tot:
            idx = np.repeat(starts - np.r_[0, np.cumsum(lens)[:-1]], lens) + np.arange(tot)
            count += int(mark[nbr[idx]].sum())
        mark[f] = False
    return count


def _csr_fill(a, b, w, low_at, high_at, nbr, wt):
    """Place each pair (a, b), sorted by (a, b), in both rows: b among a's higher neighbours, a among b's
    lower ones (``low_at``/``high_at``: each row's next free slot, advanced here); both stay sorted."""
    for i in range(len(a)):
        u, v = a[i], b[i]
        nbr[high_at[u]] = v
        wt[high_at[u]] = w[i]
        high_at[u] += 1
        nbr[low_at[v]] = u
        wt[low_at[v]] = w[i]
        low_at[v] += 1


_COMPILED: dict | None = None


def _compiled() -> dict:
    """The kernels compiled with numba (loaded from numba's cache after the first run), ``{}`` without numba.

    The helpers the kernels call are replaced by their compiled versions in this module (numba resolves a
    kernel's globals when it compiles it); called from Python they give the same results.
    """
    global _COMPILED, _in, _sorted_key, _popcount, _walk_row
    if _COMPILED is None:
        try:
            from numba import njit, types
            from numba.extending import intrinsic
        except ImportError:  # pragma: no cover - exercised where numba is missing
            _COMPILED = {}
            return _COMPILED

        @intrinsic
        def ctpop(typingctx, x):
            """LLVM's ``ctpop`` on a uint64 (the CPU's popcount instruction)."""
            def codegen(context, builder, signature, args):
                return builder.ctpop(args[0])
            return types.uint64(types.uint64), codegen

        def popcount(x):
            return ctpop(x)

        _in = njit(cache=True)(_in)
        _sorted_key = njit(cache=True)(_sorted_key)
        _popcount = njit(cache=True)(popcount)
        _walk_row = njit(cache=True)(_walk_row)
        _COMPILED = {name: njit(cache=True)(fn) for name, fn in (
            ("tri_best", _tri_best), ("tri_count_marks", _tri_count_marks), ("tri_count_bits", _tri_count_bits),
            ("cherry_rows", _cherry_rows), ("csr_fill", _csr_fill))}
    return _COMPILED
