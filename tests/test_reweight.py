"""reweight-by-utilization / reweight-by-pg dry runs on the seed capture, checked by hand."""

from __future__ import annotations

import pytest

import pgtools
from pgtools.errors import PgtoolsError
from pgtools.mgr.reweight import reweight_by_utilization
from pgtools.simulate import ReweightByUtilization, simulate
from tests.paths import SAMPLE_DUMPS


@pytest.fixture(scope="module")
def snap():
    return pgtools.load(SAMPLE_DUMPS / "seedlike_max300")


def test_by_utilization(snap):
    r = reweight_by_utilization(snap)
    # osd.11 uses 125952 KiB of 10 GiB (1.2012 %) >= 1.2 × average 0.9977 %: new = max(0.831, 1 - 0.05) in
    # 16.16 fixed point: 65536 - trunc(0.05 * 65536) = 62260
    assert r.new_weights == {11: 62260 / 65536}
    assert r.average == pytest.approx(1255424 / (12 * 10485760))
    assert "osd.11 weight 1.0000 -> 0.9500" in r.text(oload=120, max_change=0.05, max_osds=4)


def test_by_pg_hand_computed(snap):
    r = reweight_by_utilization(snap, by_pg=True, oload=101)
    assert r.average == 480.0
    # osd.7 and osd.10 hold 495 copies at weight 1: trunc(480/495 * 65536) = 63550
    assert r.new_weights[7] == 63550 / 65536 and r.new_weights[10] == 63550 / 65536
    assert len(r.new_weights) == 4  # max_osds
    assert all(w < 1 for w in r.new_weights.values())  # all at 1.0 already: nothing can increase


def test_refusals(snap):
    with pytest.raises(PgtoolsError, match="higher than 100"):
        reweight_by_utilization(snap, oload=100)
    tiny = snap.replace(osd_stats=snap.osd_stats.assign(kb_used=1, kb_used_raw=1))
    with pytest.raises(PgtoolsError, match="too little data"):
        reweight_by_utilization(tiny)


def test_as_a_simulated_change(snap):
    plan = simulate(snap, [ReweightByUtilization()])
    osds = plan.snapshots[-1].osds.set_index("osd_id")
    assert osds.loc[11, "reweight"] == 62260 / 65536 and osds.loc[11, "weight_fixed"] == 62260
    assert plan.steps.pgs_moved.iloc[-1] > 0
    assert plan.commands[0] == "ceph osd test-reweight-by-utilization 120 0.05 4  # dry run"
