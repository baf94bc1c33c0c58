"""Counting failure sets over :class:`~pgtools.risk.copysets.Copysets`: exact where it can be, sampled where not.

For K failed units drawn uniformly among the ``n`` units of a map:

* expected PGs / bytes lost or inactive: exact always, ``sum over j of C(n-j, K-j)/C(n, K) * (sum of the
  j-subset coefficients)`` (the hypergeometric probability that a given ``j``-set fails, summed);
* the PGs a given K-set loses: ``sum over U ⊆ F of C(U)``, table look-ups (:func:`set_counts`);
* P(at least one PG lost): the K-sets containing a *lethal* set (one whose failure loses some PG).  Exact by
  enumerating the K-sets when there are at most ``enum_max``; else exact by counting over the *minimal*
  lethal sets (:meth:`Lethal.minimal`) when those of at most K units are single units and sets of K-1 or K
  units: ``C(n, K) - C(n', K)`` K-sets hold one of the ``n - n'`` lethal units; among the other ``n'`` units,
  for ``K = 2`` the minimal pairs; for ``K = 3`` the 3-sets holding an edge of the graph of minimal pairs
  (``|E| (n' - 2) - sum over v of C(deg v, 2) + triangles``, :mod:`~pgtools.risk.pairgraph`) plus the minimal
  triples; for ``K >= 4`` the K-sets containing a minimal (K-1)-set (``m (n' - K + 1)`` minus, for every
  K-set holding ``c >= 2`` of them, ``c - 1``; such a K-set is the union of two (K-1)-sets sharing K-2 units,
  found by grouping the sets on each (K-2)-subset, :func:`pair_unions`, within :data:`PAIR_BUDGET` pairs)
  plus the minimal K-sets.  So every
  K <= 3 is exact; K >= 4 with minimal lethal sets of 2 .. K-2 units (pairs at K = 4) is Monte Carlo with a
  Wilson score interval;
* the worst K-set (most PGs lost, then inactive): exact by enumeration, for K = 2 (a key's count, or the sum
  of two units' counts: :func:`best_free_pair`), for K = 3 without units lethal alone (a key's count, or
  the weights of one edge, two edges at a unit or a triangle of the pair graph), for K >= 4 without lethal
  units among the candidates that can beat a minimal lethal (K-1)-set plus any unit (the minimal lethal
  K-sets, the unions above); sampled otherwise.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .copysets import Copysets, encode, hyper
from .pairgraph import PairGraph

__all__ = ["ENUM_MAX", "PAIR_BUDGET", "Lethal", "best_free_pair", "combinations", "decode", "expected", "lookup",
           "pair_unions", "sample_sets", "set_counts", "wilson"]

#: Enumerate every K-set when there are at most this many.
ENUM_MAX = 2_000_000
#: Largest number of (K-1)-set pairs the K = t + 1 counting may enumerate before falling back to sampling.
PAIR_BUDGET = 5_000_000
#: The 95 % normal quantile of the Wilson score interval.
Z95 = 1.959963984540054


def decode(codes: np.ndarray, j: int, n: int) -> np.ndarray:
    """Inverse of :func:`~pgtools.risk.copysets.encode`: ``(len(codes), j)`` sorted unit indices."""
    out = np.empty((len(codes), j), dtype=np.int64)
    c = codes.copy()
    for col in range(j - 1, -1, -1):
        out[:, col] = c % n
        c //= n
    return out


def set_counts(cs: Copysets, sets: np.ndarray) -> np.ndarray:
    """``(m, n_pools, 3)``: PGs lost, bytes lost, PGs inactive per pool when the units of each row fail.

    ``sets`` is ``(m, K)`` of sorted, distinct unit indices.
    """
    m, k = sets.shape
    out = np.zeros((m, len(cs.pools), 3))
    for j in range(1, min(k, cs.jmax) + 1):
        keys, coef = cs.keys[j], cs.coef[j]
        if not len(keys):
            continue
        for comb in itertools.combinations(range(k), j):
            rows, idx = lookup(keys, encode(sets[:, comb], cs.n))
            if len(rows):
                out[rows] += coef[idx]
    return np.rint(out)


def lookup(keys: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of ``codes`` found in the sorted ``keys`` and where: ``(rows of codes, rows of keys)``.

    The codes are sorted first: a search of sorted needles walks the keys in order (several times faster
    than random probes into a large table).
    """
    if not len(keys) or not len(codes):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(codes) if not (codes[1:] >= codes[:-1]).all() else np.arange(len(codes))
    sc = codes[order]
    idx = np.minimum(np.searchsorted(keys, sc), len(keys) - 1)
    hit = keys[idx] == sc
    return order[hit], idx[hit]


def combinations(n: int, k: int, chunk: int = 200_000):
    """Every sorted ``k``-subset of ``range(n)``, as ``(m, k)`` int64 chunks, in lexicographic order."""
    it = itertools.combinations(range(n), k)
    while True:
        block = np.fromiter(itertools.chain.from_iterable(itertools.islice(it, chunk)), dtype=np.int64)
        if not len(block):
            return
        yield block.reshape(-1, k)


def sample_sets(n: int, k: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` uniform ``k``-subsets of ``range(n)`` (rows sorted), drawn independently."""
    if k * k <= n:  # rejection of rows with a repeated unit: accepted with probability >= 1/2
        out = np.empty((0, k), dtype=np.int64)
        while len(out) < m:
            need = m - len(out)
            d = np.sort(rng.integers(0, n, size=(need + need // 2 + 16, k)), axis=1)
            ok = (np.diff(d, axis=1) > 0).all(axis=1) if k > 1 else np.ones(len(d), dtype=bool)
            out = np.concatenate([out, d[ok][:need]])
        return out
    out = np.empty((m, k), dtype=np.int64)
    step = max(1, 4_000_000 // n)
    for s in range(0, m, step):
        e = min(m, s + step)
        out[s:e] = np.sort(np.argpartition(rng.random((e - s, n)), k - 1, axis=1)[:, :k], axis=1)
    return out


def wilson(hits: int, m: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``hits / m``."""
    if m == 0:
        return 0.0, 1.0
    p = hits / m
    den = 1 + z * z / m
    centre = (p + z * z / (2 * m)) / den
    half = z * math.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


def expected(cs: Copysets, k: int) -> np.ndarray:
    """``(n_pools, 3)``: expected PGs lost, bytes lost, PGs inactive per pool for ``k`` failures (exact)."""
    out = np.zeros((len(cs.pools), 3))
    for j in range(1, min(k, cs.jmax) + 1):
        if len(cs.keys[j]):
            out += hyper(cs.n, j, k) * cs.coef[j].sum(axis=0)
    return out


class Lethal:
    """The lethal and minimal lethal ``j``-sets of each column, computed once per size and kept.

    Columns: index ``p`` < n_pools is pool ``p``, index n_pools is all pools; measure 0 lost, 1 inactive.
    """

    def __init__(self, cs: Copysets) -> None:
        self.cs = cs
        self._full: dict[int, np.ndarray] = {}
        self._totals: dict[int, np.ndarray] = {}
        self._below: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self._counts: dict[int, np.ndarray] = {}
        self._lethal: dict[int, np.ndarray] = {}
        self._minimal: dict[int, np.ndarray] = {}
        self._graphs: list[tuple[np.ndarray, np.ndarray, dict]] = []

    def graph(self, col: int, meas: int) -> dict:
        """The graph of the minimal lethal pairs of a column (edge weight: PGs the pair loses), and a dict to
        keep what is computed on it (shared by the columns with the same edges and weights: one pool's column
        and the all-pools one when there is one pool)."""
        cs = self.cs
        if len(cs.keys) <= 2 or not len(cs.keys[2]):
            mask, w = np.zeros(0, dtype=bool), np.zeros(0)
        else:
            mask = self.minimal(2)[:, col, meas]
            w = self.counts(2)[mask, col, meas]
        for m, ww, memo in self._graphs:
            if np.array_equal(m, mask) and np.array_equal(ww, w):
                return memo
        pairs = decode(cs.keys[2][mask], 2, cs.n) if len(mask) else np.zeros((0, 2), dtype=np.int64)
        memo = {"graph": PairGraph(pairs, w, cs.n), "pairs": pairs, "weights": w}
        self._graphs.append((mask, w, memo))
        return memo

    def full(self, j: int) -> np.ndarray:
        """``(len(keys[j]), n_pools, 3)``: :func:`set_counts` of the ``j``-keys (PGs lost, bytes lost, PGs
        inactive per pool): each key's own coefficient plus those of its proper subsets."""
        if j not in self._full:
            cs = self.cs
            c = cs.coef[j].copy()
            if j > 1 and len(cs.keys[j]):
                sets = decode(cs.keys[j], j, cs.n)
                for i in range(1, j):
                    if not len(cs.keys[i]):
                        continue
                    for comb in itertools.combinations(range(j), i):
                        rows, idx = lookup(cs.keys[i], encode(sets[:, comb], cs.n))
                        c[rows] += cs.coef[i][idx]
                        if i == j - 1:  # kept for minimal(j)
                            self._below.setdefault(j, []).append((rows, idx))
            self._full[j] = np.rint(c)
        return self._full[j]

    def totals(self, j: int) -> np.ndarray:
        """``(len(keys[j]), 3)``: :meth:`full` summed over pools (PGs lost, bytes lost, PGs inactive)."""
        if j not in self._totals:
            self._totals[j] = self.full(j).sum(axis=1)
        return self._totals[j]

    def counts(self, j: int) -> np.ndarray:
        """``(len(keys[j]), n_pools + 1, 2)``: PGs lost / inactive when the units of each ``j``-key fail."""
        if j not in self._counts:
            c = self.full(j)[:, :, [0, 2]]
            self._counts[j] = np.concatenate([c, c.sum(axis=1, keepdims=True)], axis=1)
        return self._counts[j]

    def lethal(self, j: int) -> np.ndarray:
        if j not in self._lethal:
            self._lethal[j] = self.counts(j) > 0.5
        return self._lethal[j]

    def minimal(self, j: int) -> np.ndarray:
        """``(len(keys[j]), n_pools + 1, 2)`` bool: lethal with no lethal proper subset.

        Lethality is monotone (more failed units leave fewer copies), so a set is minimal when none of its
        ``(j-1)``-subsets is lethal.  A subset that is a key has its count; one that is not (no coefficient
        of its own, e.g. a pair of a size-3 pool's "lost") is lethal only through a smaller lethal set,
        counted with :func:`set_counts` when some column has one.
        """
        if j not in self._minimal:
            cs, leth = self.cs, self.lethal(j)
            mini = leth.copy()
            below = cs.keys[j - 1] if j > 1 else np.zeros(0, dtype=np.int64)
            smaller = j > 1 and any(len(cs.keys[i]) and self.lethal(i).any() for i in range(1, j - 1))
            if j > 1 and len(cs.keys[j]) and (len(below) or smaller):  # else no subset can be lethal
                lb = self.lethal(j - 1) if len(below) else np.zeros((0, *mini.shape[1:]), dtype=bool)
                found = self._below.pop(j, None)
                sets = decode(cs.keys[j], j, cs.n) if found is None or smaller else None
                for pos, comb in enumerate(itertools.combinations(range(j), j - 1)):
                    if found is not None and len(below):
                        rows, idx = found[pos]
                    else:
                        rows, idx = lookup(below, encode(sets[:, comb], cs.n))
                    mini[rows] &= ~lb[idx]
                    if smaller:
                        miss = np.ones(len(mini), dtype=bool)
                        miss[rows] = False
                        if miss.any():
                            c = set_counts(cs, sets[miss][:, comb])[:, :, [0, 2]]
                            mini[miss] &= ~(np.concatenate([c, c.sum(axis=1, keepdims=True)], axis=1) > 0.5)
            self._minimal[j] = mini
        return self._minimal[j]


def pair_unions(sets: np.ndarray, n: int, budget: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The (t+1)-sets holding at least two of the given distinct ``t``-sets, and how many each holds.

    Two t-sets in one (t+1)-set share t-1 units: the sets are grouped on each of their (t-1)-subsets and
    every pair of a group gives a union.  A union holding ``c`` of the sets comes from ``c (c-1) / 2``
    pairs (once per pair: the pair's shared subset is unique).  None when more than ``budget`` pairs.
    """
    m, t = sets.shape
    if m < 2:
        return np.zeros((0, t + 1), dtype=np.int64), np.zeros(0, dtype=np.int64)
    rest = np.concatenate([np.delete(sets, drop, axis=1) for drop in range(t)])
    extra = np.concatenate([sets[:, drop] for drop in range(t)])
    code = encode(rest, n) if t > 1 else np.zeros(len(rest), dtype=np.int64)
    order = np.argsort(code, kind="stable")
    code, extra, rest = code[order], extra[order], rest[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    sizes = np.diff(np.r_[starts, len(code)])
    if int((sizes * (sizes - 1) // 2).sum()) > budget:
        return None
    found = []
    for g in np.unique(sizes[sizes >= 2]):
        st = starts[sizes == g]
        for a, b in itertools.combinations(range(int(g)), 2):
            u = np.concatenate([rest[st + a], extra[st + a, None], extra[st + b, None]], axis=1)
            found.append(np.sort(u, axis=1))
    if not found:
        return np.zeros((0, t + 1), dtype=np.int64), np.zeros(0, dtype=np.int64)
    allu = np.concatenate(found)
    codes, idx, cnt = np.unique(encode(allu, n), return_index=True, return_counts=True)
    c = np.rint((1 + np.sqrt(1 + 8 * cnt)) / 2).astype(np.int64)
    return allu[idx], c


def best_free_pair(c: np.ndarray, keys2: np.ndarray, n: int, floor: float) -> tuple[float, np.ndarray]:
    """The pair of units with the largest ``c[a] + c[b]`` above ``floor`` whose code is not in ``keys2``.

    Pairs are walked by decreasing sum (units sorted by ``c``) and the walk stops at the first pair that is
    not a key or when no remaining pair can beat ``floor``.  Returns ``(sum, sorted pair)``, or ``floor``
    and an empty array.
    """
    order = np.argsort(-c, kind="stable")
    cs = c[order]
    best, pair = floor, np.zeros(0, dtype=np.int64)
    for i in range(len(order) - 1):
        if cs[i] + cs[i + 1] <= best:
            break
        for j in range(i + 1, len(order)):
            v = cs[i] + cs[j]
            if v <= best:
                break
            a, b = sorted((int(order[i]), int(order[j])))
            code = a * n + b
            pos = int(np.searchsorted(keys2, code))
            if pos < len(keys2) and keys2[pos] == code:
                continue
            best, pair = float(v), np.array([a, b], dtype=np.int64)
            break
    return best, pair
