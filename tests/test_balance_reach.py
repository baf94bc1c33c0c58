"""The count balancer reaches the proven bound when ``±1`` is impossible (:mod:`pgtools.balance.feasible`).

When ``±1`` is out of reach, :func:`~pgtools.balance.feasible.count_bound` computes the smallest max deviation
any upmaps reach (an exact max-flow model for ``take; chooseleaf/choose ... type F; emit`` rules) and the
per-pool / total deviations to aim at; :func:`~pgtools.balance.count.balance_count` then searches toward them.
Checked here, against the bound computed separately (never a hard-coded figure):

* the mixed capture (EC 4+2 on 6 hosts pins each host's share of ``ec42``; 3 racks pin ``byrack``): the
  plan's max deviation is the bound, every pool within its aimed deviation, the totals within theirs; a second
  run on the result changes nothing;
* generated maps (``pgtools.build_cluster``: EC 2+1 on 3 hosts, EC 4+2 on 6 hosts, replicated over 3 racks,
  hosts of random unequal weights, with other pools sharing the OSDs) where ``±1`` is impossible;
* toy maps small enough to enumerate every placement Ceph accepts (:func:`tests.test_balance_bound.brute_min_dev`):
  the plan reaches the enumerated optimum, an oracle independent of the flow model.

Every plan is validated as in ``tests/test_balance_count.py`` (``_check_valid``: clean_pg_upmaps finds nothing,
moved PGs pass verify_upmap and the rule's class/weight checks, predicted up sets are the placement engine's).
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

import pgtools
from pgtools.balance.count import balance_count, count_deviation
from pgtools.balance.feasible import count_bound
from pgtools.balance.search import Layout
from pgtools.errors import PgtoolsWarning
from pgtools.model import Snapshot
from tests.paths import SAMPLE_DUMPS
from tests.test_balance_bound import brute_min_dev, toy
from tests.test_balance_count import _check_valid


def _run(snap: Snapshot):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        plan = balance_count(snap, max_deviation=1, ceph_release="pacific")
    return plan, [str(x.message) for x in w if issubclass(x.category, PgtoolsWarning)]


def _worst(snap: Snapshot) -> tuple[dict[int, float], float]:
    """Per pool and summed over the pools, the worst deviation of an up OSD (below target: only OSDs that may
    take the pool's PGs), recomputed from the snapshot's own placement."""
    lay = Layout(snap, ceph_release="pacific")
    up = lay.is_up
    per, tot, tt, elig = {}, np.zeros(lay.n), np.zeros(lay.n), np.zeros(lay.n, dtype=bool)
    for pid, pl in lay.pools.items():
        d = pl.count - pl.target
        per[pid] = float(max(d[up].max(initial=0), (-d)[up & pl.eligible].max(initial=0)))
        tot += pl.count
        tt += pl.target
        elig |= pl.eligible
    d = tot - tt
    return per, float(max(d[up].max(initial=0), (-d)[up & elig].max(initial=0)))


def _assert_reaches(snap: Snapshot, plan, msgs: list[str]) -> None:
    bound = count_bound(Layout(snap, ceph_release="pacific"), 1)
    assert bound.feasible is False and bound.exact
    after = _check_valid(snap, plan)
    per, tot = _worst(after)
    best = bound.min_deviation
    assert max(max(per.values()), tot) == pytest.approx(best, abs=1e-6)
    for pid, d in per.items():  # every pool within what the bound aims at (its own optimum where it fits)
        assert d <= bound.pool_deviation[pid] + 1e-6, (pid, d, bound.pool_deviation[pid])
    assert tot <= bound.total_deviation + 1e-6
    b = plan.summary["bound"]
    assert b["reached"] is True and b["achieved"] == pytest.approx(best, abs=1e-6)
    assert any(m.endswith(f"is exactly {best:.2f} PGs; this plan reaches it: {best:.2f} PGs (per pool "
                          f"{max(per.values()):.2f}, summed over the pools {tot:.2f})") for m in msgs), msgs


@pytest.fixture(scope="module")
def mixed() -> Snapshot:
    return pgtools.load(SAMPLE_DUMPS / "mixed")


def test_mixed_reaches_the_bound(mixed: Snapshot) -> None:
    plan, msgs = _run(mixed)
    _assert_reaches(mixed, plan, msgs)
    s = plan.summary
    assert s["max_dev_after"] == pytest.approx(count_bound(Layout(mixed, ceph_release="pacific"), 1).min_deviation)
    # only ec42 needs the bound itself; the others, and the totals, are aimed (and kept) below it
    b = s["bound"]
    best = b["min_deviation"]
    assert [k for k, v in b["pool_deviation"].items() if v >= best - 1e-9] == ["6"]
    assert b["total_deviation"] < best and s["total_dev_after"] <= b["total_deviation"] + 1e-6
    after = plan.pools.set_index("pool_id")["max_dev_after"]
    assert all(after[int(k)] <= v + 1e-6 for k, v in b["pool_deviation"].items())
    # a run on its own result has nothing left to do
    again, _ = _run(plan.apply(mixed))
    assert again.moves == 0 and not again.commands and again.summary["bound"]["reached"]


def _gen(kind: str, seed: int) -> Snapshot:
    rng = random.Random(seed)
    if kind == "ec21_3hosts":
        layers, n, pools = [("host", "straw2", 3), ("root", "straw2", 0)], 9, [
            {"pool": "ec", "type": "erasure", "k": 2, "m": 1, "pg_num": 32}, {"pool": "rbd", "size": 2, "pg_num": 64}]
    elif kind == "ec42_6hosts":
        layers, n, pools = [("host", "straw2", 2), ("root", "straw2", 0)], 12, [
            {"pool": "ec", "type": "erasure", "k": 4, "m": 2, "pg_num": 32}, {"pool": "rbd", "size": 3, "pg_num": 64},
            {"pool": "r2", "size": 2, "pg_num": 16}]
    else:  # replicated size 3 over 3 racks, and a size-2 pool over the hosts
        layers, n, pools = [("host", "straw2", 2), ("rack", "straw2", 2), ("root", "straw2", 0)], 12, [
            {"pool": "rbd", "size": 3, "pg_num": 64, "failure_domain": "rack"}, {"pool": "h", "size": 2, "pg_num": 32}]
    weights = [rng.choice([1.0, 1.5, 2.0, 3.0]) for _ in range(n)]
    return pgtools.build_cluster(n, layers, pools=pools, weights=weights, release="pacific")


@pytest.mark.parametrize(("kind", "seed"), [("ec21_3hosts", 1), ("ec21_3hosts", 4), ("ec42_6hosts", 2),
                                            ("ec42_6hosts", 3), ("rep3_racks", 1), ("rep3_racks", 5)])
def test_generated_maps_reach_the_bound(kind: str, seed: int) -> None:
    snap = _gen(kind, seed)
    plan, msgs = _run(snap)
    _assert_reaches(snap, plan, msgs)
    # the start was further away (the search made it)
    assert count_deviation(snap, ceph_release="pacific")["max_dev"] > plan.summary["bound"]["min_deviation"]


@pytest.mark.parametrize(("hosts", "pools"), [
    ([[0.5, 0.5], [1.0], [3.0]], [(2, 6)]),
    ([[1.0], [1.0], [1.0], [2.5, 0.5]], [(3, 5)]),
    ([[0.5, 0.5], [1.0], [6.0]], [(2, 6)]),
])
def test_toy_maps_reach_the_enumerated_optimum(hosts, pools) -> None:
    snap = toy(hosts, pools)
    want = brute_min_dev(snap)
    assert want > 1
    plan, _ = _run(snap)
    _check_valid(snap, plan)
    per, tot = _worst(plan.apply(snap))
    assert max(max(per.values()), tot) == pytest.approx(want, abs=1e-6)


def test_heavy_rack_reaches_the_bound_without_a_long_search() -> None:
    """One rack of five holds 3/7 of the weight but a size-3 rule puts at most one copy per rack: ±1 is far out
    of reach (bound about 15 PGs).  Chasing ±1 with two-move chains used to run for minutes on 200 OSDs (hours
    on 1,000); now the search goes to the bound and its work, counted in checks (deterministic), stays small."""
    w = [3.0 if o < 40 else 1.0 for o in range(200)]
    snap = pgtools.build_cluster(200, [("host", "straw2", 4), ("rack", "straw2", 10), ("root", "straw2", 0)],
                                 pools=[{"pool": "rbd", "size": 3, "pg_num": 2048, "failure_domain": "rack"},
                                        {"pool": "h", "size": 2, "pg_num": 512}], weights=w, release="pacific")
    plan, msgs = _run(snap)
    _assert_reaches(snap, plan, msgs)
    assert plan.summary["bound"]["min_deviation"] > 10
    assert plan.summary["checks"] < 300_000, plan.summary["checks"]
    assert "budget_exhausted" not in plan.summary


@pytest.mark.parametrize("cap", ["mixed", "seedlike_max300"])
def test_search_budget_stops_the_chains_with_a_warning(cap: str) -> None:
    """``search_budget`` bounds the chain search (checks counted in ``summary["checks"]``); running out of it
    says so, and the plan stays valid."""
    snap = pgtools.load(SAMPLE_DUMPS / cap)
    full = balance_count(snap, max_deviation=1, ceph_release="pacific")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        short = balance_count(snap, max_deviation=1, ceph_release="pacific", search_budget=0)
    msgs = [str(x.message) for x in w]
    assert short.summary["budget_exhausted"] is True and "budget_exhausted" not in full.summary
    assert short.summary["checks"] < full.summary["checks"]
    assert any("stopped at its budget of 0 checks" in m for m in msgs), msgs
    _check_valid(snap, short)
    with pytest.raises(pgtools.PgtoolsError, match="search_budget"):
        balance_count(snap, search_budget=-1)


def test_per_pool_deviations_are_bounds_of_their_own():
    """``pool_deviation`` / ``total_deviation`` replace ``max_deviation`` pool by pool: the plan holds every pool
    within its own deviation and the totals within theirs (measured on the result), a looser pool needs no more
    entries than the uniform plan, and a bad pool or deviation is one clear error."""
    snap = pgtools.load(SAMPLE_DUMPS / "mixed")
    uniform, _ = _run(snap)
    per, tot = _worst(uniform.apply(snap))
    loose = {pid: max(d, 1.0) + 3 for pid, d in per.items()}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        plan = balance_count(snap, ceph_release="pacific", pool_deviation=loose, total_deviation=tot + 3)
    after = _check_valid(snap, plan)
    got, got_tot = _worst(after)
    assert all(got[pid] <= loose[pid] + 1e-6 for pid in loose) and got_tot <= tot + 3 + 1e-6
    assert plan.summary["violation_after"] == 0 and "bound" not in plan.summary
    assert not [x for x in w if "stay outside" in str(x.message)]
    assert plan.summary["items_after"] <= uniform.summary["items_after"]
    name = snap.pools.set_index("pool_id").loc[next(iter(loose)), "pool"]  # names work as keys too
    by_name = balance_count(snap, ceph_release="pacific", pool_deviation={name: loose[next(iter(loose))],
                            **{k: v for k, v in loose.items() if k != next(iter(loose))}}, total_deviation=tot + 3)
    assert by_name.commands == plan.commands
    with warnings.catch_warnings():  # a deviation beyond any count bounds nothing (no int64 overflow)
        warnings.simplefilter("ignore")
        huge = balance_count(snap, ceph_release="pacific", max_deviation=10**30)
    assert huge.summary["violation_before"] == huge.summary["violation_after"] == 0
    for bad, msg in (({"nope": 2}, "no pool"), ({name: -1}, ">= 0"), ({name: "x"}, "number"),
                     ({name: float("inf")}, "finite")):
        with pytest.raises(pgtools.errors.PgtoolsError, match=msg):
            balance_count(snap, pool_deviation=bad)


def test_a_looser_impossible_deviation_still_reaches_the_bound():
    """``±2`` is impossible on the mixed capture too (same proven smallest max deviation as for ``±1``): the
    plan reaches that bound, as the ``±1`` plan does, and is valid."""
    snap = pgtools.load(SAMPLE_DUMPS / "mixed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = balance_count(snap, max_deviation=1, ceph_release="pacific")
        two = balance_count(snap, max_deviation=2, ceph_release="pacific")
    b1, b2 = one.summary["bound"], two.summary["bound"]
    assert b2["feasible"] is False and b2["min_deviation"] == pytest.approx(b1["min_deviation"])
    assert b2["reached"] and b2["achieved"] <= b2["min_deviation"] + 1e-6
    per, tot = _worst(_check_valid(snap, two))
    assert max(max(per.values()), tot) <= b2["min_deviation"] + 1e-6
