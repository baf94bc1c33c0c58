"""Conditional risk: what K simultaneous failures at a CRUSH level do to the map's PGs (:func:`failure_risk`).

Figures per pool and overall, for each K, over the K-subsets of the units (OSDs, hosts, racks, ...) that hold
data, all equally likely; see :mod:`pgtools.risk.counting` for which figures are exact and how.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import Snapshot
from .copysets import Copysets, build_copysets, encode
from .counting import (
    ENUM_MAX,
    PAIR_BUDGET,
    Lethal,
    best_free_pair,
    combinations,
    decode,
    expected,
    lookup,
    pair_unions,
    sample_sets,
    set_counts,
    wilson,
)

__all__ = ["RISK_COLUMNS", "failure_risk", "risk_for", "worst_failures", "domain_check"]

RISK_COLUMNS = ["level", "failures", "pool_id", "pool", "units", "n_sets", "pgs", "bytes",
                "p_any_lost", "ci_low", "ci_high", "expected_pgs_lost", "max_pgs_lost", "expected_bytes_lost",
                "p_any_inactive", "inactive_ci_low", "inactive_ci_high", "expected_pgs_inactive",
                "max_pgs_inactive", "method", "inactive_method", "max_method", "inactive_max_method", "trials"]


def _exact_any(cs: Copysets, leth: Lethal, k: int, col: int, meas: int, budget: int
               ) -> tuple[float | None, float | None, list[np.ndarray], bool]:
    """P(some PG of column ``col`` lost (meas 0) / inactive (meas 1)) and its maximum, by counting; None = no.

    The K-sets holding a lethal set are counted from the minimal lethal sets of at most K units: the
    ``L`` lethal units (``C(n, K) - C(n - L, K)`` K-sets hold one), and among the other ``n' = n - L`` units
    the minimal lethal sets of ``K - 1`` and ``K`` units (none holds a lethal unit): for ``K = 2`` the
    minimal pairs; for ``K = 3`` the 3-sets holding an edge of the graph of minimal pairs
    (:mod:`~pgtools.risk.pairgraph`: ``|E| (n' - 2) - sum C(deg, 2) + triangles``) plus the minimal triples;
    for ``K >= 4`` ``m (n' - K + 1)`` minus the overlaps (:func:`~pgtools.risk.counting.pair_unions`) plus
    the minimal K-sets.  Minimal lethal sets of 2 to ``K - 2`` units (pairs at ``K = 4``, ...) are out of
    reach: None.  The maximum is exact for ``K <= 2``, for ``K = 3`` without lethal units
    (:func:`_max_triples`) and for ``K >= 4`` without lethal units (the minimal (K-1)-sets plus any unit,
    their unions, the minimal K-sets); None otherwise.

    Returns ``(p, max, candidates, complete)``: ``p`` None when counting does not reach it, ``max``
    None likewise; a candidate is an array of K-set codes or a boolean mask over the K-keys; ``complete`` when the candidates are every K-set with a positive count.
    """
    n = cs.n
    sizes = [j for j in range(1, min(k, cs.jmax) + 1) if len(cs.keys[j]) and leth.minimal(j)[:, col, meas].any()]
    total = math.comb(n, k)
    if not sizes:
        return 0.0, 0.0, [], True
    tab = k <= cs.jmax and len(cs.keys[k])
    mk = leth.minimal(k)[:, col, meas] if tab else np.zeros(0, dtype=bool)
    lk = leth.lethal(k)[:, col, meas] if tab else np.zeros(0, dtype=bool)
    ck = leth.counts(k)[:, col, meas] if tab else np.zeros(0)
    if sizes == [k]:
        return int(mk.sum()) / total, float(ck[lk].max()) if lk.any() else 0.0, [lk], True
    rest = [j for j in sizes if j > 1]
    n1 = int(leth.minimal(1)[:, col, meas].sum()) if 1 in sizes else 0
    free = n - n1  # units not lethal alone
    base = total - math.comb(free, k)  # K-sets holding a lethal unit
    if k == 2:
        # a pair is lethal when it holds a lethal unit or is a minimal pair; its count is its key's, else c(a)+c(b)
        c1 = np.zeros(n)
        if len(cs.keys[1]):
            c1[decode(cs.keys[1], 1, n)[:, 0]] = leth.counts(1)[:, col, meas]
        best = float(ck.max()) if len(ck) else 0.0
        best, pair = best_free_pair(c1, cs.keys[2] if cs.jmax >= 2 else np.zeros(0, np.int64), n, best)
        cand = ([lk] if tab else []) + ([encode(pair[None, :], n)] if len(pair) else [])
        return (base + int(mk.sum())) / total, best, cand, False
    if not set(rest) <= {k - 1, k}:
        return None, None, [], False
    t = k - 1
    if t == 2:
        memo = leth.graph(col, meas)
        g = memo["graph"]
        if "triangles" not in memo:
            memo["triangles"] = g.triangles()
        hits = base + g.m * (free - 2) - g.cherries() + memo["triangles"] + int(mk.sum())
        if n1:
            return hits / total, None, [], False
        return hits / total, *_max_triples(cs, memo, ck, lk)
    mt = leth.minimal(t)[:, col, meas] if t in rest else np.zeros(len(cs.keys[t]), dtype=bool)
    sets_t = decode(cs.keys[t][mt], t, n)
    m = len(sets_t)
    pu = pair_unions(sets_t, n, budget)
    if pu is None:
        return None, None, [], False
    unions, c = pu
    hits = base + m * (free - t) - int((c - 1).sum()) + int(mk.sum())
    if n1:
        return hits / total, None, [], False
    best = float(leth.counts(t)[mt, col, meas].max()) if m else 0.0
    cand = [lk] if tab else []
    if lk.any():
        best = max(best, float(ck[lk].max()))
    if len(unions):
        uc = set_counts(cs, unions)[:, :, 0 if meas == 0 else 2]
        v = uc.sum(1) if col == len(cs.pools) else uc[:, col]
        best = max(best, float(v.max()))
        cand.append(encode(unions, n))
    return hits / total, best, cand, False


def _max_triples(cs: Copysets, memo: dict, ck: np.ndarray, lk: np.ndarray) -> tuple[float, list[np.ndarray], bool]:
    """The most PGs a 3-set loses when no unit is lethal alone, and the 3-sets that reach it (candidates).

    A 3-set with a coefficient of its own (a key) has its count in ``ck``; any other loses the sum of its
    pairs' weights: one edge (at most the heaviest edge, which every 3-set holding it reaches), two edges at
    a unit (:meth:`PairGraph.best_cherry`) or a triangle (:meth:`PairGraph.best_triangle`, above the rest).
    """
    n, g = cs.n, memo["graph"]
    keys3 = cs.keys[3] if cs.jmax >= 3 else np.zeros(0, dtype=np.int64)
    cand = [lk] if len(lk) else []
    best = float(ck.max()) if len(ck) else 0.0
    if g.m:
        w = memo["weights"]
        e = memo["pairs"][int(np.argmax(w))]
        best = max(best, float(w.max()))
        other = min(set(range(3)) - {int(e[0]), int(e[1])})
        cand.append(encode(np.sort(np.r_[e, other])[None, :], n))
        if "cherry" not in memo:
            memo["cherry"] = g.best_cherry(keys3)
        cw, cu = memo["cherry"]
        if len(cu):
            best = max(best, cw)
            cand.append(encode(cu[None, :], n))
        key = ("triangle", best)
        if key not in memo:
            memo[key] = g.best_triangle(keys3, best)
        tw, tu = memo[key]
        if len(tu):
            best = max(best, tw)
            cand.append(encode(tu[None, :], n))
    return best, cand, False


def risk_for(cs: Copysets, k: int, *, trials: int = 1_000_000, seed: int = 0, enum_max: int = ENUM_MAX,
             budget: int = PAIR_BUDGET, worst: int = 5, lethal: Lethal | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """The rows of :func:`failure_risk` for one K on prepared :class:`Copysets`, and the worst K-sets.

    The entry point for a sweep: build the copysets once per map and level, scatter them, call this per K.
    """
    n, npools = cs.n, len(cs.pools)
    if not 1 <= k <= n:
        raise PgtoolsError(f"{k} failures among {n} {cs.level}s holding data: K must be 1..{n}")
    if k > cs.jmax and cs.jmax < cs.span:
        raise PgtoolsError(f"the copysets were tabulated up to {cs.jmax} failures; rebuild them for {k}")
    leth = lethal or Lethal(cs)
    total = math.comb(n, k)
    exp = expected(cs, k)
    ncol = npools + 1
    p = np.full((ncol, 2), np.nan)
    lo, hi = np.full((ncol, 2), np.nan), np.full((ncol, 2), np.nan)
    mx = np.full((ncol, 2), np.nan)
    method = np.full((ncol, 2), "exact", dtype=object)
    max_method = np.full((ncol, 2), "exact", dtype=object)
    worst_rows: list[tuple[np.ndarray, np.ndarray]] = []
    used_trials = 0
    complete = True  # the candidate K-sets hold every K-set that loses or blocks anything

    def fold(counts: np.ndarray) -> np.ndarray:  # (m, npools, 3) -> (m, ncol, 2)
        c = counts[:, :, [0, 2]]
        return np.concatenate([c, c.sum(axis=1, keepdims=True)], axis=1)

    if total <= enum_max:
        hits = np.zeros((ncol, 2))
        best = np.zeros((ncol, 2))
        for block in combinations(n, k):
            c = set_counts(cs, block)
            f = fold(c)
            hits += (f > 0.5).sum(0)
            best = np.maximum(best, f.max(0))
            worst_rows.append(_top(block, c, worst))
        p, mx = hits / total, best
    else:
        cands: list[np.ndarray] = []
        for col in range(ncol):
            for meas in range(2):
                pe, me, cand, full = _exact_any(cs, leth, k, col, meas, budget)
                if pe is not None:
                    p[col, meas] = pe
                if me is not None:
                    mx[col, meas] = me
                if col == npools:
                    cands.extend(cand)
                    complete &= full
        need_mc = np.isnan(p).any() or np.isnan(mx).any()
        if need_mc:
            rng = np.random.default_rng(seed)
            hits = np.zeros((ncol, 2))
            best = np.zeros((ncol, 2))
            step = 200_000
            for s in range(0, trials, step):
                block = sample_sets(n, k, min(step, trials - s), rng)
                c = set_counts(cs, block)
                f = fold(c)
                hits += (f > 0.5).sum(0)
                best = np.maximum(best, f.max(0))
                worst_rows.append(_top(block, c, worst))
            used_trials = trials
            for col in range(ncol):
                for meas in range(2):
                    if np.isnan(p[col, meas]):
                        p[col, meas] = hits[col, meas] / trials
                        lo[col, meas], hi[col, meas] = wilson(int(hits[col, meas]), trials)
                        method[col, meas] = "sampled"
                    if np.isnan(mx[col, meas]):
                        mx[col, meas] = best[col, meas]
                        max_method[col, meas] = "sampled"
        for codes in cands:
            if codes.any() if codes.dtype == bool else len(codes):
                worst_rows.append(_top_codes(cs, leth, codes, k, worst))
    ws_method = "exact" if total <= enum_max or complete else "sampled" if used_trials else "candidates"
    worst_sets = _merge_top(cs, worst_rows, worst, ws_method)
    rows = []
    for col in range(ncol):
        if col < npools:
            pr = cs.pools.iloc[col]
            pid, name, pgs, nbytes = int(pr["pool_id"]), pr["pool"], int(pr["pgs"]), float(pr["bytes"])
            e = exp[col]
        else:
            pid, name = -1, "(all)"
            pgs, nbytes = int(cs.pools["pgs"].sum()), float(cs.pools["bytes"].sum())
            e = exp.sum(0)
        rows.append({
            "level": cs.level, "failures": k, "pool_id": pid, "pool": name, "units": n, "n_sets": total,
            "pgs": pgs, "bytes": nbytes, "p_any_lost": p[col, 0], "ci_low": lo[col, 0], "ci_high": hi[col, 0],
            "expected_pgs_lost": e[0], "max_pgs_lost": int(mx[col, 0]), "expected_bytes_lost": e[1],
            "p_any_inactive": p[col, 1], "inactive_ci_low": lo[col, 1], "inactive_ci_high": hi[col, 1],
            "expected_pgs_inactive": e[2], "max_pgs_inactive": int(mx[col, 1]), "method": method[col, 0],
            "inactive_method": method[col, 1], "max_method": max_method[col, 0],
            "inactive_max_method": max_method[col, 1],
            "trials": used_trials if "sampled" in (*method[col], *max_method[col]) else 0})
    return pd.DataFrame(rows, columns=RISK_COLUMNS), worst_sets


def _top_index(tot: np.ndarray, worst: int) -> np.ndarray:
    """The rows of ``tot`` (``(m, 3)``: PGs lost, bytes lost, PGs inactive) with the ``worst`` largest, in
    decreasing order of lost, then bytes, then inactive (ties: the earlier row first, as a stable sort).

    The same rows as a full ``np.lexsort`` gives, found by partitions on each key in turn (millions of
    candidate K-sets, most of them tied at zero PGs lost).
    """
    need = max(int(worst), 0)
    idx = np.arange(len(tot))
    chosen = []
    for c in range(3):
        if len(idx) <= need or need == 0:
            break
        v = tot[idx, c]
        t = np.partition(v, len(v) - need)[len(v) - need]  # the need-th largest
        chosen.append(idx[v > t])
        need -= len(chosen[-1])
        idx = idx[v == t]
    chosen.append(idx[:need])
    keep = np.sort(np.concatenate(chosen))
    sub = tot[keep]
    return keep[np.lexsort((-sub[:, 2], -sub[:, 1], -sub[:, 0]))]


def _top(sets: np.ndarray, counts: np.ndarray, worst: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``worst`` rows of ``sets`` losing the most PGs, then bytes, then inactive PGs (all pools)."""
    tot = counts.sum(axis=1)
    order = _top_index(tot, worst)
    return sets[order], tot[order]


def _top_codes(cs: Copysets, leth: Lethal, codes: np.ndarray, k: int, worst: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_top` of the K-sets of ``codes`` (or of the K-keys a boolean mask selects): the counts of those
    that are keys from :meth:`Lethal.totals`, the others' with :func:`set_counts`; only the rows kept are
    decoded."""
    if codes.dtype == bool:  # a mask over the K-keys: their counts are known
        tot = leth.totals(k)[codes]
        order = _top_index(tot, worst)
        return decode(cs.keys[k][codes][order], k, cs.n), tot[order]
    tot = np.empty((len(codes), 3))
    known = np.zeros(len(codes), dtype=bool)
    if k <= cs.jmax and len(cs.keys[k]):
        rows, idx = lookup(cs.keys[k], codes)
        tot[rows] = leth.totals(k)[idx]
        known[rows] = True
    if not known.all():
        tot[~known] = set_counts(cs, decode(codes[~known], k, cs.n)).sum(axis=1)
    order = _top_index(tot, worst)
    return decode(codes[order], k, cs.n), tot[order]


def _merge_top(cs: Copysets, parts: list[tuple[np.ndarray, np.ndarray]], worst: int, method: str) -> list[dict]:
    if not parts or worst <= 0:
        return []
    sets = np.concatenate([s for s, _ in parts])
    tot = np.concatenate([t for _, t in parts])
    codes = encode(sets, cs.n)
    _, first = np.unique(codes, return_index=True)
    sets, tot = sets[first], tot[first]
    order = _top_index(tot, worst)
    out = []
    for i in order:
        if tot[i, 0] <= 0 and tot[i, 2] <= 0:
            continue
        out.append({"units": [str(cs.units[u]) for u in sets[i]], "pgs_lost": int(tot[i, 0]),
                    "bytes_lost": float(tot[i, 1]), "pgs_inactive": int(tot[i, 2]),
                    "method": method})
    return out


def failure_risk(snap: Snapshot | Copysets, *, level: str = "osd", failures: Iterable[int] = (1, 2, 3),
                 pools: list | None = None, source: str = "auto", trials: int = 1_000_000, seed: int = 0,
                 enum_max: int = ENUM_MAX, worst: int = 5, lethal: Lethal | None = None) -> pd.DataFrame:
    """What K simultaneous failures at a CRUSH level do, for each K: a tidy frame, one row per pool and K.

    Parameters
    ----------
    snap : Snapshot or Copysets
        The capture (its PG table's acting sets, up where acting is empty; recomputed placement when it
        has no PG table, see :func:`~pgtools.risk.copysets.pg_sets`), or copysets already built by
        :func:`~pgtools.risk.copysets.build_copysets` (``level``, ``pools`` and ``source`` then ignored).
    level : str
        ``"osd"`` or a CRUSH bucket type (``"host"``, ``"rack"``, ...): the failing unit.  Two copies on one
        host both die when the host fails.
    failures : iterable of int
        The K values.
    pools : list, optional
        Pools to assess (ids or names; all when None).
    trials : int
        Monte Carlo K-sets, for the figures exact counting does not reach.
    seed : int
        Seed of the Monte Carlo draws (results are reproducible).
    enum_max : int
        Enumerate every K-set when there are at most this many.
    worst : int
        How many worst K-sets to keep in ``attrs["worst_sets"]``.
    lethal : Lethal, optional
        The lethal-set tables of ``snap`` when it is :class:`Copysets` and the caller keeps them (built and
        dropped here otherwise).

    Returns
    -------
    pandas.DataFrame
        :data:`RISK_COLUMNS`; ``pool`` ``"(all)"`` (``pool_id`` -1) is every pool together.  ``p_any_*``: the
        probability that at least one PG is lost (fewer than 1 copy / k shards survive) or inactive (fewer
        than ``min_size``: lost PGs included); ``expected_*``: exact means; ``max_*``: the most a single K-set
        does.  ``method`` (of ``p_any_lost``), ``inactive_method`` (of
        ``p_any_inactive``), ``max_method`` (of ``max_pgs_lost``) and ``inactive_max_method`` are ``"exact"`` or
        ``"sampled"``: a sampled
        probability has its 95 % Wilson interval over ``trials`` draws in ``ci_low``/``ci_high``
        (``inactive_ci_*``), NaN when exact; a sampled maximum is the largest seen (a lower bound).  Expected values are always exact.  ``attrs["worst_sets"]``: ``{K: [{"units", "pgs_lost", "bytes_lost",
        "pgs_inactive", "method"}, ...]}`` (``method`` as in :func:`worst_failures`); ``attrs["pools"]``: the
        per-pool summary
        (:attr:`Copysets.pools`); ``attrs["warnings"]``: the assumptions made.
    """
    ks = sorted({int(k) for k in failures})
    if not ks or ks[0] < 1:
        raise PgtoolsError("failures must be positive integers")
    cs = snap if isinstance(snap, Copysets) else build_copysets(snap, level, pools=pools, source=source,
                                                                  jmax=ks[-1])
    leth = lethal if lethal is not None and lethal.cs is cs else Lethal(cs)
    frames, worst_sets = [], {}
    if ks[-1] > cs.n:
        text = (f"only {cs.n} {cs.level}s hold data: no figures for {', '.join(str(k) for k in ks if k > cs.n)} "
                "failures")
        if all(k > cs.n for k in ks):
            raise PgtoolsError(text)
        warnings.warn(text, PgtoolsWarning, stacklevel=2)
        cs.warnings.append(text)
        ks = [k for k in ks if k <= cs.n]
    for k in ks:
        df, ws = risk_for(cs, k, trials=trials, seed=seed + k, enum_max=enum_max, worst=worst, lethal=leth)
        frames.append(df)
        worst_sets[k] = ws
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update({"worst_sets": worst_sets, "pools": cs.pools, "warnings": list(cs.warnings),
                      "level": cs.level})
    return out


def worst_failures(snap: Snapshot | Copysets, level: str = "host", k: int = 1, n: int = 10, *,
                   source: str = "auto", trials: int = 1_000_000, seed: int = 0) -> pd.DataFrame:
    """The ``n`` K-sets of units whose failure loses the most PGs (then bytes, then inactive PGs).

    ``method``: ``"exact"`` when every K-set is enumerated or the counted candidates hold every K-set that
    loses or blocks anything; ``"candidates"`` when counting gave the candidates (the K-sets that reach the
    exact maxima among them: the first row loses the most PGs when ``max_method`` is exact) and nothing was
    sampled; ``"sampled"`` when Monte Carlo ran (the best of the sampled sets and the candidates).  Columns: ``units`` (names joined by ``+``),
    ``pgs_lost``, ``bytes_lost``, ``pgs_inactive``, ``method``.
    """
    cs = snap if isinstance(snap, Copysets) else build_copysets(snap, level, source=source, jmax=k)
    _, ws = risk_for(cs, k, trials=trials, seed=seed, worst=n)
    return pd.DataFrame([{**w, "units": "+".join(w["units"])} for w in ws],
                        columns=["units", "pgs_lost", "bytes_lost", "pgs_inactive", "method"])


def domain_check(snap: Snapshot | Copysets, level: str = "host", *, source: str = "auto") -> pd.DataFrame:
    """Pools whose PGs put two copies (shards) on one unit of ``level``: the rule does not separate them there.

    One row per pool: ``pgs``, ``pgs_shared_unit`` (PGs with two or more copies on one unit),
    ``max_copies_per_unit`` and ``separated`` (no PG shares a unit).  A failure of one such unit takes
    several copies of those PGs at once.
    """
    cs = snap if isinstance(snap, Copysets) else build_copysets(snap, level, source=source, jmax=1)
    out = cs.pools[["pool_id", "pool", "type", "size", "min_size", "pgs", "pgs_shared_unit",
                    "max_copies_per_unit"]].copy()
    out.insert(2, "level", cs.level)
    out["separated"] = out["pgs_shared_unit"] == 0
    return out
