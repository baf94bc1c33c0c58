"""The count balancer's feasibility bound (:mod:`pgtools.balance.feasible`): never "impossible" without proof.

* toy maps small enough to try every placement Ceph would accept (each PG on OSDs of distinct hosts under the
  rule): the bound equals the best max deviation found by enumeration;
* the mixed capture: ``±1`` is impossible (EC 4+2 on 6 hosts pins each host's share of ``ec42``; the racks pin
  ``byrack``), checked on the plans of pgtools and of Ceph's balancer; ``balance_count`` reaches ``±D`` for a
  ``D`` above the bound and cannot below it;
* a rule the model only relaxes is reported as such.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

import pgtools
from pgtools.balance import osdmaptool_upmap
from pgtools.balance.count import balance_count
from pgtools.balance.feasible import count_bound
from pgtools.balance.search import Layout
from pgtools.errors import PgtoolsWarning
from pgtools.io import crushmap_from_text
from pgtools.model import Snapshot
from pgtools.placement import compile_snapshot
from tests.paths import SAMPLE_DUMPS


def toy(hosts: list[list[float]], pools: list[tuple[int, int]], rule_steps: str = "chooseleaf firstn 0 type host"):
    """Hosts of OSDs with the given CRUSH weights; replicated pools ``(size, pg_num)`` on one rule."""
    devs, buckets, items, osd = [], [], [], 0
    for h, ws in enumerate(hosts):
        lines = [f"host h{h} {{", f"\tid {-2 - h}", "\talg straw2", "\thash 0"]
        for w in ws:
            devs.append(f"device {osd} osd.{osd} class hdd")
            lines.append(f"\titem osd.{osd} weight {w:.4f}")
            osd += 1
        buckets.append("\n".join([*lines, "}"]))
        items.append(f"\titem h{h} weight {sum(ws):.4f}")
    text = "\n".join(["tunable choose_total_tries 50", "tunable chooseleaf_descend_once 1",
                      "tunable chooseleaf_vary_r 1", "tunable chooseleaf_stable 1", "tunable straw_calc_version 1",
                      "tunable allowed_bucket_algs 54", *devs, "type 0 osd", "type 1 host", "type 10 root",
                      *buckets, "\n".join(["root default {", "\tid -1", "\talg straw2", "\thash 0", *items, "}"]),
                      "\n".join(["rule rep {", "\tid 0", "\ttype replicated", "\tmin_size 1", "\tmax_size 10",
                                 "\tstep take default", *(f"\tstep {s}" for s in rule_steps.split(";")),
                                 "\tstep emit", "}"])]) + "\n"
    crush = crushmap_from_text(text)
    pool_df = pd.DataFrame([{"pool_id": i + 1, "pool": f"p{i + 1}", "type": "replicated", "size": size,
                             "min_size": 1, "pg_num": n, "pgp_num": n, "crush_rule": 0, "flags": 1,
                             "flags_names": "hashpspool"} for i, (size, n) in enumerate(pools)])
    weights = [w for ws in hosts for w in ws]
    osds = pd.DataFrame({"osd_id": np.arange(osd), "name": [f"osd.{i}" for i in range(osd)], "exists": True,
                         "up": True, "in": True, "reweight": 1.0, "primary_affinity": 1.0, "crush_weight": weights})
    return Snapshot(pools=pool_df, osds=osds, crush=crush, osdmap={"max_osd": osd}, meta={"release": "pacific"})


def brute_min_dev(snap: Snapshot) -> float:
    """The best max deviation (per pool and summed) over every set of valid PG vectors: PGs of a pool are
    interchangeable, so multisets of vectors (OSDs on distinct hosts) are enumerated."""
    lay = Layout(snap, ceph_release="pacific")
    host = {o: lay.work.topology.parent_of_type(o, 1, 0) for o in range(lay.n)}
    per_pool = []
    for pl in lay.pools.values():
        vecs = [v for v in itertools.combinations(np.flatnonzero(pl.target > 0).tolist(), pl.size)
                if len({host[o] for o in v}) == pl.size]
        options = []
        for multi in itertools.combinations_with_replacement(range(len(vecs)), len(pl.cur)):
            c = np.zeros(lay.n)
            for i in multi:
                c[list(vecs[i])] += 1
            options.append(c)
        per_pool.append((pl.target, options))
    best = np.inf
    total_t = sum(t for t, _ in per_pool)
    for combo in itertools.product(*(opts for _, opts in per_pool)):
        dev = max(float(np.abs(c - t).max()) for c, (t, _) in zip(combo, per_pool, strict=True))
        dev = max(dev, float(np.abs(sum(combo) - total_t).max()))
        best = min(best, dev)
    return best


@pytest.mark.parametrize(("hosts", "pools"), [
    ([[0.5, 0.5], [1.0], [3.0]], [(2, 6)]),  # a heavy host that one replica per PG cannot fill
    ([[1.0, 2.0], [1.0], [1.5]], [(2, 4), (2, 3)]),  # two pools: the totals matter too
    ([[1.0], [1.0], [1.0], [2.5, 0.5]], [(3, 5)]),
    ([[0.5, 0.5], [1.0], [6.0]], [(2, 6)]),  # far from ±1: the search over D goes past whole steps
])
def test_bound_equals_enumeration(hosts, pools) -> None:
    snap = toy(hosts, pools)
    want = brute_min_dev(snap)
    got = count_bound(Layout(snap, ceph_release="pacific"), 1)
    assert got.exact
    assert got.min_deviation == pytest.approx(max(want, 1.0), abs=1e-6)
    assert got.feasible is (want <= 1 + 1e-9)
    if want > 1:
        assert got.reasons


def test_first_case_is_infeasible_and_says_why() -> None:
    snap = toy([[0.5, 0.5], [1.0], [3.0]], [(2, 6)])
    got = count_bound(Layout(snap, ceph_release="pacific"), 1)
    # host h2 (3 of 5 weight units) should hold 7.2 of 12 copies; one copy per PG caps it at 6
    assert got.feasible is False and got.min_deviation == pytest.approx(1.2)
    assert "h2 holds 0 to 6" in got.reasons[0] or "h2 holds exactly 6" in got.reasons[0]


def test_relaxed_rule_is_not_exact() -> None:
    snap = toy([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]], [(2, 8)],
               rule_steps="choose firstn 0 type host;chooseleaf firstn 1 type osd")
    got = count_bound(Layout(snap, ceph_release="pacific"), 1)
    assert not got.exact and got.feasible is None and got.min_deviation == 1.0


@pytest.fixture(scope="module")
def mixed() -> Snapshot:
    return pgtools.load(SAMPLE_DUMPS / "mixed")


def _host_shards(snap: Snapshot, pool_id: int) -> dict[int, int]:
    c = compile_snapshot(snap, release="pacific")
    lay = Layout(snap, ceph_release="pacific")
    up = c.map_pool_arrays(c.pools[pool_id]).up
    out: dict[int, int] = {}
    for o in up[(up >= 0) & (up != 0x7FFFFFFF)].tolist():
        h = lay.work.topology.parent_of_type(o, 1, lay.pools[pool_id].rule)
        out[h] = out.get(h, 0) + 1
    return out


def test_mixed_one_is_impossible_and_the_plans_agree(mixed: Snapshot) -> None:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        plan = balance_count(mixed, max_deviation=1, ceph_release="pacific")
    b = plan.summary["bound"]
    assert b["feasible"] is False and b["exact"] and 2 < b["min_deviation"] < 3
    msgs = [str(x.message) for x in w if issubclass(x.category, PgtoolsWarning)]
    assert any(m.startswith("±1 is impossible for pool ec42: each of its 16 movable PGs") for m in msgs)
    assert any("smallest max deviation" in m for m in msgs)
    # the proof's premise, on the plans of pgtools and of Ceph's balancer: ec42 has 16 shards on every host
    ceph = osdmaptool_upmap(mixed, upmap_max=10000, upmap_deviation=1, ceph_release="pacific")
    for snap in (mixed, plan.apply(mixed), ceph.apply(mixed)):
        assert set(_host_shards(snap, 6).values()) == {16}
    # above the bound the search gets there; below it nothing can
    assert balance_count(mixed, max_deviation=3, ceph_release="pacific").summary["violation_after"] == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        two = balance_count(mixed, max_deviation=2, ceph_release="pacific")
    assert two.summary["violation_after"] > 0 and two.summary["bound"]["feasible"] is False


def test_no_bound_when_the_target_is_reached() -> None:
    plan = balance_count(pgtools.load(SAMPLE_DUMPS / "seedlike_max300"), max_deviation=1, ceph_release="pacific")
    assert plan.summary["violation_after"] == 0 and "bound" not in plan.summary
