"""Stepwise plans on captures the mgr would hold back: degraded PGs, upmaps on merge participants."""

from __future__ import annotations

import pytest

import pgtools
from pgtools.mgr.options import with_overrides
from pgtools.simulate import SetPgNum, simulate
from pgtools.simulate.mgr_changes import mgr_tick_label
from pgtools.simulate.osd_changes import RemovePgUpmaps
from pgtools.text import plan_text
from tests.paths import SAMPLE_DUMPS

WAIT = "(wait: 3 PGs degraded (0.47% of object copies): pgp_num deferred)"


@pytest.fixture(scope="module")
def seed():
    # room for more PGs: the capture's mon_max_pg_per_osd 300 refuses every pg_num increase
    return with_overrides(pgtools.load(SAMPLE_DUMPS / "seedlike_max300"), {"mon_max_pg_per_osd": 1000})


@pytest.fixture(scope="module")
def degraded(seed):
    pgs = seed.pgs.copy()
    sel = pgs["pgid"].isin(["1.7d", "1.7c", "1.7b"])
    pgs.loc[sel, "state"] = "active+undersized+degraded"
    pgs.loc[sel, "degraded"] = pgs.loc[sel, "objects"]
    return seed.replace(pgs=pgs)


def test_stepwise_plan_shows_the_deferred_tick(seed, degraded):
    plan = simulate(degraded, [SetPgNum("rbd", 256)], stepwise=True, checks=False)
    clean = simulate(seed, [SetPgNum("rbd", 256)], stepwise=True, checks=False)
    assert len(plan.steps) == len(clean.steps) + 1 == 25
    assert plan.steps.change[1] == "set pool rbd pg_num 256: pg_num 256 pgp_num 128"
    assert plan.steps.change[2] == f"set pool rbd pg_num 256: pg_num 256 pgp_num 128 {WAIT}"
    assert plan.steps.loc[2, ["pgs_moved", "shards_moved", "bytes_moved"]].tolist() == [0, 0, 0]
    assert f"step 2: set pool rbd pg_num 256: pg_num 256 pgp_num 128 {WAIT}\n" in plan_text(plan)
    # after the wait the plan is the clean one
    assert plan.steps.change[3:].tolist() == clean.steps.change[2:].tolist()
    assert plan.mappings[-1]["up"].tolist() == clean.mappings[-1]["up"].tolist()
    # assume_clean ignores the capture's PG states; a later change starts from a recovered cluster
    assert simulate(degraded, [SetPgNum("rbd", 256)], stepwise=True, checks=False,
                    assume_clean=True).steps.change.tolist() == clean.steps.change.tolist()
    two = simulate(degraded, [SetPgNum("images", 64), SetPgNum("rbd", 256)], stepwise=True, checks=False)
    waits = two.steps.change[two.steps.change.str.contains("wait:")]
    assert waits.tolist() == ["set pool images pg_num 64: pg_num 128 pgp_num 128 (wait: merge blocked until "
                              "pgp_num drops below pg_num 128; 3 PGs degraded (0.47% of object copies): "
                              "pgp_num deferred)"]


def test_stepwise_merge_removes_upmaps_of_participants():
    mixed = pgtools.load(SAMPLE_DUMPS / "mixed")
    plan = simulate(mixed, [SetPgNum("rbd", 32)], stepwise=True, checks=False)
    rm = plan.steps[plan.steps.change.str.contains("removes the upmaps")]
    assert rm.change.tolist() == [f"set pool rbd pg_num 32: the mgr removes the upmaps of 1.{x} (merge participants)"
                                  for x in (3, 2, 0)]
    assert rm.pgs_moved.tolist() == [1, 1, 1]
    # the tick itself follows, labelled with the mgr's message
    nxt = plan.steps.change[rm.index[0] + 1]
    assert nxt.startswith("set pool rbd pg_num 32: pg_num 36 pgp_num 35 (merge blocked until pgp_num drops "
                          "below pg_num 36; merge target 1.3 has upmap: the mgr removes it")
    assert "1.3" not in plan.snapshots[rm.index[0]].osdmap["pg_upmap_items"]
    assert plan.snapshots[-1].osdmap["pg_upmap_items"] == {}
    # one shot (SetPgNum.apply) ends where the mgr does: no upmap left on merged PGs, same placement
    once = simulate(mixed, [SetPgNum("rbd", 32)], checks=False)
    assert once.snapshots[-1].osdmap["pg_upmap_items"] == {}
    assert once.mappings[-1]["up"].tolist() == plan.mappings[-1]["up"].tolist()
    # osdmaptool-like pg_num changes keep them
    kept = SetPgNum("rbd", 32, follow_pgp=False).apply(mixed).osdmap["pg_upmap_items"]
    assert sorted(kept) == ["1.0", "1.2", "1.3"]


def test_remove_pg_upmaps_change(seed):
    snap = seed.replace(osdmap={**seed.osdmap, "pg_upmap": {"1.5": (1, 2, 3)},
                                "pg_upmap_items": {"1.5": ((1, 4),), "2.0": ((0, 1),)}})
    out = RemovePgUpmaps(("1.5",)).apply(snap)
    assert out.osdmap["pg_upmap"] == {} and out.osdmap["pg_upmap_items"] == {"2.0": ((0, 1),)}
    assert RemovePgUpmaps(("1.5",)).ceph_commands() == ["ceph osd rm-pg-upmap 1.5", "ceph osd rm-pg-upmap-items 1.5"]
    assert RemovePgUpmaps(("1.5", "1.6")).describe() == "remove the upmaps of 1.5, 1.6"
    with pytest.raises(ValueError):
        RemovePgUpmaps(("x",)).apply(snap)


def test_mgr_tick_label():
    assert mgr_tick_label("p", {"pg_num": 8, "pgp_num": 4, "action": "pgp", "reason": "r", "deferred_by": ""}) == \
        "p: pg_num 8 pgp_num 4"
    assert mgr_tick_label("p", {"pg_num": 8, "pgp_num": 4, "action": "wait", "reason": "r",
                                "deferred_by": "recovery"}) == "p: pg_num 8 pgp_num 4 (wait: r)"
    assert mgr_tick_label("p", {"pg_num": 8, "pgp_num": 5, "action": "pgp+rm-upmap", "reason": "r",
                                "deferred_by": "merge_upmap"}) == "p: pg_num 8 pgp_num 5 (r)"
