"""Exact counting of "some PG lost / inactive" for K = 2 and 3 (pgtools.risk.counting, .pairgraph), against
brute force: every K-subset of the units (tests.test_risk.brute), every 3-subset of a graph's units.

The maps mix replicated pools of size 1, 2 and 3 with min_size 1..3, EC 2+1 and 4+2, pools whose copies share
hosts, several pools at once, at the OSD and host levels; ``enum_max=0`` keeps enumeration out, so every exact
figure comes from counting.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from pgtools.model import NONE, Snapshot, pgid_str
from pgtools.risk import build_copysets, failure_risk
from pgtools.risk import pairgraph as pgmod
from pgtools.risk.counting import Lethal, best_free_pair, decode, sample_sets, set_counts, wilson
from pgtools.risk.pairgraph import PairGraph
from tests.test_risk import brute, generated, quiet

MIXES = [
    (("r3",), {}), (("r2",), {}), (("r3",), {"r3": 3}), (("r3",), {"r3": 1}), (("ec42",), {}),
    (("r3", "r2", "ec21"), {}), (("r1", "r3"), {"r3": 1}), (("r2", "bad"), {}), (("ec42", "r3", "r1"), {"r3": 3}),
]


def with_min_size(snap: Snapshot, min_size: dict) -> Snapshot:
    pools = snap.pools.copy()
    for kind, ms in min_size.items():
        pools.loc[pools["pool"] == kind, "min_size"] = ms
    return dataclasses.replace(snap, pools=pools)


def complete_sets(snap: Snapshot) -> Snapshot:
    """The PGs whose acting sets are complete (no hole, no short set): no unit is then lethal alone at the OSD
    level unless a pool has size 1 or min_size = size."""
    size = snap.pools.set_index("pool_id")["size"]
    ok = [len([o for o in a if 0 <= o < NONE]) == size[p] for a, p in zip(snap.pgs["acting"], snap.pgs["pool_id"],
                                                                         strict=True)]
    return dataclasses.replace(snap, pgs=snap.pgs[ok].reset_index(drop=True))


@pytest.mark.parametrize("level", ["osd", "host"])
@pytest.mark.parametrize(("kinds", "min_size"), MIXES)
def test_counting_equals_brute_force(kinds, min_size, level):
    """P(any lost / inactive) for K = 1, 2, 3 is exact by counting and equals the brute force; a maximum is
    exact (and equal) unless, at K = 3, the column has units lethal alone (then sampled, at most the truth)."""
    snap = with_min_size(generated(sum(map(len, kinds)) + len(min_size), hosts=7, per_host=2, pg_num=20,
                                   kinds=kinds), min_size)
    for s in (snap, complete_sets(snap)):
        df = quiet(failure_risk, s, level=level, failures=(1, 2, 3), enum_max=0, trials=3000)
        leth = Lethal(quiet(build_copysets, s, level, jmax=3))
        for k in (1, 2, 3):
            ref = brute(s, level, k)
            rows = df[df["failures"] == k].reset_index(drop=True)
            assert (rows["method"] == "exact").all() and (rows["inactive_method"] == "exact").all(), (k, rows)
            for col, got in rows.iterrows():
                want = ref[got["pool_id"]]
                for name in ("p_any_lost", "p_any_inactive", "expected_pgs_lost", "expected_pgs_inactive"):
                    assert got[name] == pytest.approx(want[name], rel=1e-12, abs=1e-15), (k, col, name)
                for meas, (name, meth) in enumerate((("max_pgs_lost", "max_method"),
                                                     ("max_pgs_inactive", "inactive_max_method"))):
                    if got[meth] == "exact":
                        assert got[name] == want[name], (k, col, name)
                    else:
                        assert k == 3 and leth.minimal(1)[:, col, meas].any() and got[name] <= want[name]
    if level == "osd" and not {"bad", "r1"} & set(kinds) and min_size.get("r3") != 3:
        assert (df["max_method"] == "exact").all() and (df["inactive_max_method"] == "exact").all()
        assert (df["trials"] == 0).all()  # complete sets, no unit lethal alone: nothing sampled


def test_counting_reaches_k4_only_without_pairs():
    """K = 4: a size-3 min_size-1 pool (minimal lethal sets: triples) is exact by counting and equals the brute
    force; a size-3 min_size-2 pool (lethal pairs) stays sampled, its interval holding the truth."""
    snap = complete_sets(with_min_size(generated(21, hosts=7, per_host=2, pg_num=20, kinds=("r3", "bad")),
                                       {"r3": 1, "bad": 2}))
    df = quiet(failure_risk, snap, level="osd", failures=(4,), enum_max=0, trials=20_000, seed=1)
    ref = brute(snap, "osd", 4)
    rows = df.set_index("pool_id")
    r3 = rows.loc[1]
    assert r3["method"] == "exact" and r3["inactive_method"] == "exact"
    assert r3["p_any_inactive"] == pytest.approx(ref[1]["p_any_inactive"], rel=1e-12)
    bad = rows.loc[2]
    assert bad["inactive_method"] == "sampled"
    assert bad["inactive_ci_low"] <= ref[2]["p_any_inactive"] <= bad["inactive_ci_high"]


def test_monte_carlo_agrees_with_the_exact_k3():
    """A medium map (120 OSDs, 120 PGs: C(120, 3) = 280,840 3-sets): 200,000 sampled 3-sets bracket the exact
    K = 3 figures (counted, then also enumerated) in their 95 % intervals."""
    snap = complete_sets(generated(5, hosts=40, per_host=3, pg_num=60, kinds=("r3", "r2")))
    exact = quiet(failure_risk, snap, level="osd", failures=(3,), enum_max=0, trials=1000)
    enum = quiet(failure_risk, snap, level="osd", failures=(3,))
    cols = ["p_any_lost", "p_any_inactive", "max_pgs_lost", "max_pgs_inactive"]
    pd.testing.assert_frame_equal(exact[cols], enum[cols], rtol=1e-12)
    assert (exact["inactive_method"] == "exact").all() and exact["trials"].eq(0).all()
    cs = quiet(build_copysets, snap, "osd", jmax=3)
    sets = sample_sets(cs.n, 3, 200_000, np.random.default_rng(7))
    c = set_counts(cs, sets)
    for col, r in exact.iterrows():
        got = c[:, col] if col < len(cs.pools) else c.sum(axis=1)
        for meas, name in ((0, "p_any_lost"), (2, "p_any_inactive")):
            lo, hi = wilson(int((got[:, meas] > 0.5).sum()), len(sets))
            assert lo <= r[name] <= hi, (r["pool"], name, lo, r[name], hi)
    assert 0.05 < exact["p_any_inactive"].iloc[-1] < 0.95  # a figure the interval can miss


def test_minimal_sets_ignore_non_key_subsets():
    """A size-3 min_size-1 pool has no pair coefficients; its triple over a size-1 pool's OSD is not minimal
    for the all-pools column (the OSD alone loses data): minimal sets equal the brute-force definition."""
    osds = pd.DataFrame({"osd_id": np.arange(6), "name": [f"osd.{i}" for i in range(6)],
                         "host": [f"h{i}" for i in range(6)], "up": True, "in": True})
    pools = pd.DataFrame([{"pool_id": 1, "pool": "r1", "type": "replicated", "size": 1, "min_size": 1,
                           "ec_k": pd.NA, "ec_m": pd.NA, "pg_num": 1},
                          {"pool_id": 2, "pool": "r3", "type": "replicated", "size": 3, "min_size": 1,
                           "ec_k": pd.NA, "ec_m": pd.NA, "pg_num": 2}])
    pgs = pd.DataFrame([{"pgid": pgid_str(p, s), "pool_id": p, "ps": s, "pool": "x", "state": "active", "up": a,
                         "acting": a, "bytes": 10} for p, s, a in [(1, 0, (0,)), (2, 0, (0, 1, 2)), (2, 1, (3, 4, 5))]])
    cs = quiet(build_copysets, Snapshot(pgs=pgs, pools=pools, osds=osds), "osd", jmax=3)
    leth = Lethal(cs)
    mini = decode(cs.keys[3][leth.minimal(3)[:, -1, 0]], 3, cs.n)
    assert [tuple(cs.units[u] for u in row) for row in mini] == [("osd.3", "osd.4", "osd.5")]
    assert leth.minimal(3)[:, 1, 0].sum() == 2  # the r3 column alone: both triples


def _graph(seed: int, n: int, m: int):
    rng = np.random.default_rng(seed)
    edges = {}
    while len(edges) < m:
        a, b = sorted(int(x) for x in rng.choice(n, 2, replace=False))
        edges[a, b] = float(rng.integers(1, 4))
    keys = {tuple(sorted(int(x) for x in rng.choice(n, 3, replace=False))) for _ in range(2 * m)}
    keys3 = np.array(sorted((a * n + b) * n + c for a, b, c in keys), dtype=np.int64)
    return edges, keys, keys3


@pytest.mark.parametrize(("seed", "n", "m"), [(1, 12, 30), (2, 25, 90), (3, 25, 250), (4, 40, 20)])
def test_pair_graph_equals_brute_force(seed, n, m):
    """Triangles, the heaviest non-key triangle and cherry, every kernel (compiled or not) against all 3-sets."""
    edges, keys, keys3 = _graph(seed, n, m)
    g = PairGraph(np.array(sorted(edges)), np.array([edges[e] for e in sorted(edges)]), n)
    tri, best_tri, best_ch = 0, -1.0, -1.0
    for t in itertools.combinations(range(n), 3):
        w = [edges[p] for p in itertools.combinations(t, 2) if p in edges]
        tri += len(w) == 3
        if t not in keys and len(w) == 3:
            best_tri = max(best_tri, sum(w))
        if t not in keys and len(w) == 2:
            best_ch = max(best_ch, sum(w))
    assert g.m == len(edges) and g.triangles() == tri
    assert g.cherries() == sum(d * (d - 1) // 2 for d in np.bincount(np.array(list(edges)).ravel(), minlength=n))
    assert pgmod._tri_count_np(g.indptr, g.fwd, g.nbr, n) == tri
    if pgmod.have_compiled():
        jit = pgmod._compiled()
        assert jit["tri_count_marks"](g.indptr, g.fwd, g.nbr, n) == tri
        nbr, wt = np.empty_like(g.nbr), np.empty_like(g.wt)  # the compiled adjacency fill: NumPy's arrays
        pairs = np.array(sorted(edges))
        jit["csr_fill"](pairs[:, 0], pairs[:, 1], np.array([edges[e] for e in sorted(edges)]),
                        g.indptr[:-1].copy(), g.fwd.copy(), nbr, wt)
        assert (nbr == g.nbr).all() and (wt == g.wt).all()
        assert jit["tri_count_bits"](g.indptr, g.fwd, g.nbr, n) == tri
    w, units = g.best_triangle(keys3, -1.0)
    assert w == best_tri and (best_tri < 0 or tuple(units) not in keys)
    assert g.best_triangle(keys3, best_tri)[1].size == 0  # nothing heavier than the best
    w, units = g.best_cherry(keys3)
    assert w == best_ch and (best_ch < 0 or tuple(units) not in keys)
    assert pgmod._cherry_rows(g.indptr, g.nbr, g.wt, n, keys3)[0] == best_ch  # the uncompiled walk agrees
    assert pgmod._tri_best(g.indptr, g.nbr, g.wt, n, keys3, *g.edges_heavier(-1.0), -1.0)[0] == best_tri


def test_best_free_pair():
    c = np.array([5.0, 4.0, 4.0, 1.0, 0.0])
    keys2 = np.array([0 * 5 + 1, 0 * 5 + 2], dtype=np.int64)  # {0, 1} and {0, 2} have keys
    assert best_free_pair(c, keys2, 5, 0.0)[0] == 8.0  # {1, 2}
    assert list(best_free_pair(c, keys2, 5, 0.0)[1]) == [1, 2]
    assert best_free_pair(c, keys2, 5, 8.0)[1].size == 0


def test_worst_sets_say_how_they_were_found():
    """Counting without sampling: the worst 3-sets are "candidates", the first losing the exact maximum;
    enumerated they are "exact" (the same first set's figures); sampled, "sampled"."""
    snap = complete_sets(generated(5, hosts=8, per_host=3, pg_num=40, kinds=("r3", "r2")))
    counted = quiet(failure_risk, snap, level="osd", failures=(3,), enum_max=0)
    enum = quiet(failure_risk, snap, level="osd", failures=(3,))
    ws, we = counted.attrs["worst_sets"][3], enum.attrs["worst_sets"][3]
    assert {w["method"] for w in ws} == {"candidates"} and {w["method"] for w in we} == {"exact"}
    assert ws[0]["pgs_lost"] == we[0]["pgs_lost"] == counted["max_pgs_lost"].iloc[-1]
    sampled = quiet(failure_risk, snap, level="osd", failures=(4,), enum_max=0, trials=2000)
    assert sampled["trials"].iloc[-1] == 2000 and sampled.attrs["worst_sets"][4][0]["method"] == "sampled"


def test_without_numba_the_same_figures(monkeypatch):
    """The NumPy / Python kernels (no numba installed) give the compiled ones' figures."""
    snap = complete_sets(generated(9, hosts=10, per_host=3, pg_num=40, kinds=("r3", "r2", "ec21")))
    cols = ["p_any_lost", "p_any_inactive", "max_pgs_lost", "max_pgs_inactive", "inactive_max_method"]
    compiled = quiet(failure_risk, snap, level="osd", failures=(3,), enum_max=0)
    monkeypatch.setattr(pgmod, "_COMPILED", {})
    assert not pgmod.have_compiled()
    plain = quiet(failure_risk, snap, level="osd", failures=(3,), enum_max=0)
    pd.testing.assert_frame_equal(compiled[cols], plain[cols])
    assert (plain["inactive_max_method"] == "exact").all()


def test_warm_up_runs_every_kernel() -> None:
    """``pairgraph.warm_up`` (the benchmark's compile step) calls each kernel on its small graph."""
    from pgtools.risk import pairgraph

    pairgraph.warm_up()
    g = pairgraph.PairGraph(np.array([[0, 1], [0, 2], [1, 2], [2, 3]]), np.array([1.0, 2.0, 3.0, 4.0]), 4)
    assert g.triangles() == 1 and g.cherries() == 5


@pytest.mark.parametrize("span", [50, 10**12])
def test_coefficient_sums_equal_a_dictionary(span):
    """Summing coefficients per (set, pool) code: counted in place (small span) or by sorting (large), with
    constant parts (a sort and run lengths) and parts weighted by bytes (argsort and weighted counts) merged:
    the sums of a plain dictionary, codes sorted."""
    from pgtools.risk.copysets import _sum_by_code

    rng = np.random.default_rng(7)
    parts = []
    for lost, inact, with_bytes in [(0, 1, True), (0, 1, False), (1, -2, True), (1, -2, False), (-1, 0, True),
                                    (2, 3, True)]:
        n = int(rng.integers(1, 400))
        codes = rng.integers(0, 50, n) * (span // 50)  # repeats within and across parts
        b = rng.integers(0, 1000, n).astype(float) if with_bytes else np.zeros(n)
        parts.append((codes, lost, inact, b))
    want: dict[int, np.ndarray] = {}
    for codes, lost, inact, b in parts:
        for c, x in zip(codes.tolist(), b.tolist(), strict=True):
            want[c] = want.get(c, np.zeros(3)) + [lost, lost * x, inact]
    uk, summed = _sum_by_code(parts, span)
    assert uk.tolist() == sorted(want)
    np.testing.assert_allclose(summed, np.array([want[c] for c in sorted(want)]))
    assert _sum_by_code([], span)[0].size == 0


def test_top_rows_equal_a_full_lexsort():
    """The worst K-sets by partition (lost, then bytes, then inactive; ties: first row first) are a full
    lexsort's first rows, with many ties at zero."""
    from pgtools.risk.conditional import _top_index

    rng = np.random.default_rng(3)
    for m, worst in [(0, 5), (3, 5), (1000, 5), (1000, 1), (1000, 0), (5000, 20)]:
        tot = np.stack([rng.integers(0, 3, m) * (rng.random(m) < 0.05), rng.integers(0, 4, m),
                        rng.integers(0, 6, m)], axis=1).astype(float)
        full = np.lexsort((-tot[:, 2], -tot[:, 1], -tot[:, 0]))[:worst]
        assert _top_index(tot, worst).tolist() == full.tolist()
