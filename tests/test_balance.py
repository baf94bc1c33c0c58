"""pgtools.balance without Ceph's tools: plans Ceph would accept, seeded aggressive mode, hygiene, errors.

Exactness against ``osdmaptool`` is proven by ``tests/oracle/test_upmap_balancer.py``; these tests check the
properties a plan must have whatever Ceph would do (its items pass Ceph's own upmap checks, PG counts move
toward the targets) and the API around it.
"""

from __future__ import annotations

import numpy as np
import pytest

import pgtools
from pgtools.balance import calc_pg_upmaps, clean_pg_upmaps, osdmaptool_upmap, work_map
from pgtools.balance.work import Increment
from pgtools.crush.remap import RuleTopology, UndefinedRemapError
from pgtools.errors import PgtoolsError, UnknownPoolError
from pgtools.placement import compile_snapshot, mark_out
from tests.paths import SAMPLE_DUMPS


@pytest.fixture(scope="module")
def seed() -> pgtools.Snapshot:
    return pgtools.load(SAMPLE_DUMPS / "seedlike_max300")


def _counts(snap: pgtools.Snapshot, pool_id: int) -> np.ndarray:
    c = compile_snapshot(snap)
    up = c.map_pool_arrays(c.pools[pool_id]).up
    return np.bincount(up[up >= 0].ravel(), minlength=c.max_osd)


def test_plan_passes_cephs_checks_and_evens_counts(seed: pgtools.Snapshot) -> None:
    plan = calc_pg_upmaps(seed, max_deviation=1, max_optimizations=40, pools=["rbd"], ceph_release="pacific")
    assert plan.exact and plan.release == "pacific"
    # each accepted round counts once, and a PG may gain a pair in several rounds
    assert plan.num_changed >= len(plan.new_pg_upmap_items) + len(plan.old_pg_upmap_items) > 5
    assert all(c.startswith("ceph osd pg-upmap-items 1.") for c in plan.commands)
    after = plan.apply(seed)
    assert clean_pg_upmaps(after, ceph_release="pacific").num_changed == 0  # nothing Ceph would cancel
    before, now = _counts(seed, 1), _counts(after, 1)
    assert before.sum() == now.sum() == 128 * 3
    target = 128 * 3 / 12
    assert np.abs(now - target).max() < np.abs(before - target).max()
    assert ((now - target) ** 2).sum() < ((before - target) ** 2).sum()  # the score Ceph lowers each round
    # a second run on the balanced map finds less to do
    again = calc_pg_upmaps(after, max_deviation=1, max_optimizations=40, pools=["rbd"], ceph_release="pacific")
    assert again.num_changed < plan.num_changed


def test_aggressive_is_seeded_and_valid(seed: pgtools.Snapshot) -> None:
    a = calc_pg_upmaps(seed, max_deviation=1, max_optimizations=20, pools=[1], aggressive=True, seed=7,
                       ceph_release="reef")
    b = calc_pg_upmaps(seed, max_deviation=1, max_optimizations=20, pools=[1], aggressive=True, seed=7,
                       ceph_release="reef")
    assert not a.exact
    assert a.commands == b.commands and a.num_changed > 0
    assert clean_pg_upmaps(a.apply(seed), ceph_release="reef").num_changed == 0


def test_cleanup_after_mark_out(seed: pgtools.Snapshot) -> None:
    after = calc_pg_upmaps(seed, max_deviation=1, max_optimizations=30, pools=["rbd"], ceph_release="pacific").apply(seed)
    targets = sorted({b for v in after.osdmap.pg_upmap_items.values() for _, b in v})
    out = targets[0]
    hit = sorted(pg for pg, v in after.osdmap.pg_upmap_items.items() if any(b == out for _, b in v))
    cleaned = clean_pg_upmaps(mark_out(after, [out]), ceph_release="pacific")
    # an item moving a PG onto an out OSD is dropped (the whole entry when it was the only pair)
    touched = set(cleaned.old_pg_upmap_items) | set(cleaned.new_pg_upmap_items)
    assert set(hit) <= touched
    for items in cleaned.new_pg_upmap_items.values():
        assert all(b != out for _, b in items)
    plan = osdmaptool_upmap(mark_out(after, [out]), cleanup_only=True, ceph_release="pacific")
    assert plan.stdout == "checking for upmap cleanups\n" + plan.text
    assert plan.commands == cleaned.commands


def test_osdmaptool_stdout_and_pool_order(seed: pgtools.Snapshot) -> None:
    plan = osdmaptool_upmap(seed, upmap_file="out.txt", upmap_max=5, upmap_deviation=1,
                            pool_order=["scratch", *[n for n in seed.pools["pool"] if n != "scratch"]],
                            ceph_release="pacific")
    lines = plan.stdout.splitlines()
    assert lines[:3] == ["writing upmap command output to: out.txt", "checking for upmap cleanups",
                         "upmap, max-count 5, max deviation 1"]
    assert lines[3].startswith("pools scratch rbd images ")
    assert lines[4] == "prepared 5/5 changes" and len(lines) == 5
    assert all(c.startswith("ceph osd pg-upmap-items 15.") for c in plan.commands)  # scratch (pool 15) first
    with pytest.raises(PgtoolsError, match="pool_order"):
        osdmaptool_upmap(seed, pool_order=["rbd"], ceph_release="pacific")
    with pytest.raises(PgtoolsError, match="upmap-deviation"):
        osdmaptool_upmap(seed, upmap_deviation=0, ceph_release="pacific")
    with pytest.raises(UnknownPoolError):
        calc_pg_upmaps(seed, pools=["nope"], ceph_release="pacific")


def test_increment_command_order() -> None:
    inc = Increment(new_pg_upmap={(1, 2): (3, 4, 5)}, old_pg_upmap={(2, 0)},
                    new_pg_upmap_items={(1, 0x10): ((1, 2),), (1, 0xF): ((3, 4), (5, 6))},
                    old_pg_upmap_items={(10, 1), (2, 1)})
    assert inc.commands() == [
        "ceph osd rm-pg-upmap 2.0", "ceph osd pg-upmap 1.2 3 4 5", "ceph osd rm-pg-upmap-items 2.1",
        "ceph osd rm-pg-upmap-items 10.1", "ceph osd pg-upmap-items 1.f 3 4 5 6", "ceph osd pg-upmap-items 1.10 1 2"]


def test_try_remap_rule(seed: pgtools.Snapshot) -> None:
    """The seed map: hosts node1..node4 with osd.0-2, 3-5, 6-8, 9-11; rule 0 chooseleaf firstn 0 type host."""
    topo = RuleTopology(seed.crush, "pacific")
    host = seed.crush.types and next(t for t, n in seed.crush.types.items() if n == "host")
    node1 = topo.parent_of_type(0, host, 0)
    assert node1 < 0 and topo.parent_of_type(2, host, 0) == node1 != topo.parent_of_type(3, host, 0)
    assert topo.parent_of_type(0x7FFFFFFF, host, 0) == 0
    # an overfull OSD is replaced by an underfull one of the same host, else kept
    assert topo.try_remap_rule(0, 3, {0}, [1], [], [0, 3, 6]) == [1, 3, 6]
    assert topo.try_remap_rule(0, 3, {0}, [4], [], [0, 3, 6]) == [0, 3, 6]  # node2 is used by osd.3
    # node1 has no underfull OSD: its slot moves to node4, which has one
    assert topo.try_remap_rule(0, 3, {0}, [9], [], [0, 3, 6]) == [9, 3, 6]
    assert topo.try_remap_rule(0, 3, {0}, [11], [10], [0, 3, 6]) == [11, 3, 6]
    # two OSDs for size 3: Ceph reads past the end of the vector, and here that value decides
    with pytest.raises(UndefinedRemapError):
        topo.try_remap_rule(0, 3, {0}, [9], [], [0, 3])
    assert topo.try_remap_rule(0, 3, {0}, [1], [], [0, 3]) == [1, 3]  # no bucket swap: defined
    # verify_upmap: two OSDs of one host break the failure domain
    assert topo.verify_upmap(0, 3, [0, 3, 6]) == 0
    assert topo.verify_upmap(0, 3, [0, 1, 6]) < 0
    weights = topo.rule_weight_osd_map(0)
    assert sorted(weights) == list(range(12)) and abs(sum(float(v) for v in weights.values()) - 1) < 1e-6


def test_work_map_release(seed: pgtools.Snapshot) -> None:
    assert work_map(seed, "tentacle").release == "tentacle"
    assert work_map(seed).release == "pacific"  # the capture says 16.2.15
