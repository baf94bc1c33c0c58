"""Tests of the balancer plot (pgtools.plotting.balance / balance_frame)."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import pgtools
from pgtools import analysis, plotting
from pgtools.balance import calc_pg_upmaps
from pgtools.simulate import simulate
from pgtools.simulate.osd_changes import AddUpmapItems, RemoveUpmapItems
from tests.paths import REPO

matplotlib.use("Agg")
MIXED = REPO / "sample_dumps" / "mixed"


@pytest.fixture(scope="module")
def plan():
    """Ceph's balancer on the mixed capture (a handful of its changes, simulated as one step each)."""
    snap = pgtools.load(MIXED)
    up = calc_pg_upmaps(snap, max_deviation=1, max_optimizations=4)
    changes = [RemoveUpmapItems(pg) for pg in up.old_pg_upmap_items]
    changes += [AddUpmapItems(pg, items) for pg, items in up.new_pg_upmap_items.items()]
    assert changes
    return simulate(snap, changes)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_frame_is_imbalance_of_first_and_last_step(plan):
    f = plotting.balance_frame(plan)
    last = len(plan.steps) - 1
    assert sorted(f["step"].unique()) == [0, last]
    for k in (0, last):
        want = analysis.imbalance(plan.snapshots[k]).set_index("osd_id")
        got = f[f["step"] == k].set_index("osd_id")
        assert np.allclose(got["deviation"], want.loc[got.index, "deviation"])
        assert set(got.index) == set(want.index)
    assert {"host", "device_class"} <= set(f.columns)


def test_bars_are_after_segments_before_grouped_by_class(plan):
    ax = plotting.balance(plan)
    bars = list(ax.containers[0])
    f = plotting.balance_frame(plan)
    last = f["step"].max()
    after = f[f["step"] == last].set_index("osd_id")["deviation"]
    before = f[f["step"] == 0].set_index("osd_id")["deviation"]
    ids = [int(b.get_gid()) for b in bars]
    assert sorted(ids) == sorted(after.index)
    assert np.allclose([b.get_height() for b in bars], after.loc[ids])
    segs = ax.collections[0].get_segments()
    assert np.allclose([s[0][1] for s in segs], before.reindex(ids))
    # one device class after the other: the class of the drawn OSDs changes at most once per class
    cls = f.drop_duplicates("osd_id").set_index("osd_id")["device_class"].loc[ids].tolist()
    changes = sum(a != b for a, b in zip(cls, cls[1:], strict=False))
    assert changes == len(set(cls)) - 1
    assert "before: max |dev|" in ax.get_title()


def test_utilization_and_data_path(plan):
    f = plotting.balance_frame(plan, value="utilization")
    assert "utilization" in f
    ax = plotting.balance(data=f, value="utilization")
    assert len(ax.containers[0]) == f["osd_id"].nunique()
    # the plotted value is %used minus the class mean
    last = f[f["step"] == f["step"].max()]
    mean = last.groupby("device_class")["utilization"].transform("mean")
    want = (last["utilization"] - mean).set_axis(last["osd_id"])
    got = {int(b.get_gid()): b.get_height() for b in ax.containers[0]}
    for o, v in want.items():
        assert np.isnan(v) and np.isnan(got[o]) or np.isclose(got[o], v)


def test_bad_arguments(plan):
    with pytest.raises(ValueError, match="value must be one of"):
        plotting.balance(plan, value="bytes")
    with pytest.raises(ValueError, match="no column"):
        plotting.balance(data=plotting.balance_frame(plan).drop(columns="target"))
    with pytest.raises(TypeError, match="needs a pgtools.simulate.Plan"):
        plotting.balance(pgtools.load(MIXED))
    with pytest.raises(ValueError, match="out of range"):
        plotting.balance(plan, step=99)


def test_a_simulated_balance_plan_is_drawn_round_by_round():
    """plotting.balance takes simulate_plan's result: before = the capture, after = the last round."""
    snap = pgtools.load(MIXED)
    whatif = pgtools.balance.simulate_plan(snap, pgtools.balance.balance_count(snap))
    ax = plotting.balance(whatif)
    f = plotting.balance_frame(whatif.simulation)
    last = f[f["step"] == f["step"].max()].set_index("osd_id")["deviation"]
    got = {int(b.get_gid()): b.get_height() for b in ax.containers[0]}
    assert got.keys() == set(last.index)
    assert all(np.isclose(got[o], v) for o, v in last.items())
    assert abs(last).max() < abs(f[f["step"] == 0]["deviation"]).max()
