"""Tests of the what-if plots (pgtools.plotting.movement / fullness / pg_num_steps) and analysis.host_flows."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

import pgtools
from pgtools import analysis, plotting
from pgtools.mgr.options import with_overrides
from pgtools.simulate import AddHost, CrushWeight, Fail, MarkOut, SetPgNum, simulate
from tests.paths import REPO

matplotlib.use("Agg")
SEED = REPO / "sample_dumps" / "seedlike_max300"
MIXED = REPO / "sample_dumps" / "mixed"


@pytest.fixture(scope="module")
def seed_plan():
    # room for the split: the capture's mon_max_pg_per_osd 300 refuses every pg_num increase
    return simulate(with_overrides(pgtools.load(SEED), {"mon_max_pg_per_osd": 1000}), [SetPgNum("rbd", 256)],
                    stepwise=True)


@pytest.fixture(scope="module")
def mixed_plan():
    return simulate(pgtools.load(MIXED), [MarkOut(0), CrushWeight(3, 1.0), AddHost("n7", 2, 1.0)])


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _hosts(plan, a, b):
    h = {}
    for k in (a, b):
        h.update(plan.snapshots[k].osds.set_index("osd_id")["host"].to_dict())
    return h


# ------------------------------------------------------------------------------------------------ host_flows


def test_host_flows_by_hand():
    before = pd.DataFrame({"pool_id": [1, 1, 2], "ps": [0, 1, 0], "up": [(0, 2, 4), (1, 3, 5), (0, 2, 4)]})
    # pool 1 grows to 4 PGs: 1.2 descends from 1.0, 1.3 from 1.1; pool 2 (EC) swaps two positions
    after = pd.DataFrame({"pool_id": [1, 1, 1, 1, 2], "ps": [0, 1, 2, 3, 0],
                          "up": [(0, 2, 6), (1, 3, 5), (0, 2, 4), (1, 3, 7), (0, 4, 2)]})
    hosts = {0: "a", 1: "a", 2: "b", 3: "b", 4: "c", 5: "c", 6: "d", 7: "d"}
    f = analysis.host_flows(before, after, hosts, erasure_pools=[2])
    assert f.to_dict("records") == [
        {"from_host": "b", "to_host": "c", "shards": 1},   # EC position 2: osd.2 -> osd.4
        {"from_host": "c", "to_host": "b", "shards": 1},   # EC position 1: osd.4 -> osd.2
        {"from_host": "c", "to_host": "d", "shards": 2},   # 1.0: 4 -> 6 ; 1.3 (child of 1.1): 5 -> 7
    ]
    # the same EC swap as a replicated pool moves nothing
    assert analysis.host_flows(before, after, hosts)["shards"].sum() == 2


def test_host_flows_merge_and_holes():
    before = pd.DataFrame({"pool_id": [1, 1], "ps": [0, 1], "up": [(0, 1), (2, 3)]})
    after = pd.DataFrame({"pool_id": [1], "ps": [0], "up": [(0, 2147483647)]})
    f = analysis.host_flows(before, after, {0: "a", 1: "a", 2: "b", 3: "b"})
    # 1.0 loses osd.1 (to no one); merged 1.1 (2, 3) -> (0,): osd.2 -> osd.0, osd.3 dropped
    assert f.to_dict("records") == [
        {"from_host": "a", "to_host": "(none)", "shards": 1},
        {"from_host": "b", "to_host": "(none)", "shards": 1},
        {"from_host": "b", "to_host": "a", "shards": 1},
    ]


@pytest.mark.parametrize("which", ["seed", "mixed", "fail"])
def test_host_flows_total_equals_shards_moved(which, seed_plan, mixed_plan):
    plan = {"seed": seed_plan, "mixed": mixed_plan,
            "fail": simulate(pgtools.load(MIXED), [Fail("n1")]) if which == "fail" else None}[which]
    ec = [5, 6] if which != "seed" else []
    for k in range(1, len(plan.steps)):
        f = analysis.host_flows(plan.mappings[k - 1], plan.mappings[k], _hosts(plan, k - 1, k), erasure_pools=ec)
        assert f.loc[f.to_host != "(none)", "shards"].sum() == plan.steps.shards_moved.iloc[k]


# ------------------------------------------------------------------------------------------------ movement


def test_movement_bars_are_plan_numbers(mixed_plan):
    ax = plotting.movement(mixed_plan, step=1)
    bars_in, bars_out = ax.containers[0], ax.containers[1]
    mv = mixed_plan.movement[mixed_plan.movement.step == 1].set_index("osd_id")
    got_in = {int(b.get_gid()): b.get_height() for b in bars_in}
    got_out = {int(b.get_gid()): b.get_height() for b in bars_out}
    assert sorted(got_in) == list(range(14))          # step 0 and 1: osd.0..13
    assert {o: v for o, v in got_in.items() if v} == mv.pgs_in[mv.pgs_in > 0].to_dict()
    assert {o: -v for o, v in got_out.items() if v} == mv.pgs_out[mv.pgs_out > 0].to_dict()
    assert got_out[0] == -35                           # osd.0 marked out: its 35 PG copies leave
    assert sum(got_in.values()) == 35 == mixed_plan.steps.shards_moved.iloc[1]
    assert "mark osd.0 out" in ax.get_title()


def test_movement_summed_over_steps(mixed_plan, seed_plan):
    ax = plotting.movement(mixed_plan)
    assert len(ax.containers[0]) == 16                 # the two OSDs of n7 appear
    heights = {int(b.get_gid()): b.get_height() for b in ax.containers[0]}
    assert heights[14] + heights[15] == mixed_plan.movement.query("osd_id >= 14").pgs_in.sum() > 0
    assert sum(heights.values()) == mixed_plan.movement.pgs_in.sum()
    ax = plotting.movement(seed_plan)
    assert sum(b.get_height() for b in ax.containers[0]) == seed_plan.steps.shards_moved.sum() == 282
    assert ax.get_title().startswith("Movement, all 23 steps\n126 PGs moved")


def test_movement_by_host_matrix(seed_plan, mixed_plan):
    ax = plotting.movement(seed_plan, by="host")
    cells = np.asarray(ax.collections[0].get_array()).reshape(4, 4)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["node1", "node2", "node3", "node4"]
    assert cells.sum() == 282 and np.trace(cells) == 82
    assert cells[0].tolist() == [13, 21, 18, 19]
    ax = plotting.movement(mixed_plan, step=3, by="host")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["n1", "n2", "n3", "n4", "n5", "n6", "n7", "(none)"]
    cells = np.asarray(ax.collections[0].get_array()).reshape(len(labels), len(labels))
    assert cells[:, labels.index("n7")].sum() == mixed_plan.movement.query("step == 3 and osd_id >= 14").pgs_in.sum()


def test_movement_errors(seed_plan):
    with pytest.raises(ValueError, match="step 0 is out of range"):
        plotting.movement(seed_plan, step=0)
    with pytest.raises(ValueError, match="by must be one of"):
        plotting.movement(seed_plan, by="rack")
    with pytest.raises(TypeError, match="needs a pgtools.simulate.Plan"):
        plotting.movement(pgtools.load(MIXED))


# ------------------------------------------------------------------------------------------------ fullness


def test_fullness_bars_before_line_and_ratios(mixed_plan):
    ax = plotting.fullness(mixed_plan)
    load = mixed_plan.osd_load
    after = load[load.step == 3].set_index("osd_id").utilization
    before = load[load.step == 0].set_index("osd_id").utilization
    got = {int(b.get_gid()): b.get_height() for b in ax.containers[0]}
    assert sorted(got) == list(range(16))
    assert got == pytest.approx(after.to_dict(), nan_ok=True)
    assert np.isnan(got[5])                            # osd.5 has no kb reported
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "before (step 0)")
    order = [int(b.get_gid()) for b in ax.containers[0]]
    yb = np.asarray(line.get_ydata(), dtype=float)
    assert yb[:14] == pytest.approx(before.reindex(order[:14]).to_numpy(), nan_ok=True)
    assert np.isnan(yb[14:]).all()                     # n7's OSDs did not exist before
    levels = {ln.get_label().split(" ")[0]: ln.get_ydata()[0] for ln in ax.get_lines()
              if ln.get_label().split(" ")[0] in ("nearfull", "backfillfull", "full")}
    assert levels == pytest.approx({"nearfull": 85.0, "backfillfull": 90.0, "full": 95.0}, abs=1e-4)
    assert "above this range" in ax.texts[0].get_text()   # 0.03 % used: the ratios are off the scale


def test_fullness_colours_the_bands(mixed_plan):
    load = mixed_plan.osd_load.copy()
    load.loc[(load.step == 3) & (load.osd_id == 1), "utilization"] = 87.0
    load.loc[(load.step == 3) & (load.osd_id == 2), "utilization"] = 92.0
    from dataclasses import replace

    ax = plotting.fullness(replace(mixed_plan, osd_load=load))
    bars = {int(b.get_gid()): b for b in ax.containers[0]}
    assert matplotlib.colors.to_hex(bars[1].get_facecolor()) == matplotlib.colors.to_hex("tab:orange")
    assert matplotlib.colors.to_hex(bars[2].get_facecolor()) == matplotlib.colors.to_hex("tab:red")
    assert matplotlib.colors.to_hex(bars[3].get_facecolor()) == "#4c72b0"
    assert len(ax.texts) == 0 and ax.get_ylim()[1] == pytest.approx(95.0 * 1.08, abs=1e-3)


# ------------------------------------------------------------------------------------------------ pg_num_steps


def test_pg_num_steps_lines_follow_the_plan(seed_plan):
    top, bottom, twin = plotting.pg_num_steps(seed_plan)
    lines = {ln.get_label(): ln for ln in top.get_lines()}
    assert list(lines["pgp_num"].get_xdata()) == list(range(24))
    assert list(lines["pgp_num"].get_ydata()) == [128, 128, *range(134, 255, 6), 256]
    assert list(lines["pg_num"].get_ydata()) == [128] + [256] * 23
    assert top.get_title() == "pool rbd: pg_num 128 → 256, pgp_num 128 → 256 in 23 steps"
    pct = [b.get_height() for b in bottom.containers[0]]
    assert pct[0] == 0 and pct[1] == 0               # the pg_num jump itself moves nothing
    assert pct[2] == pytest.approx(100 * 13 / (15 * 128 * 3 + 128 * 3))
    peak = next(ln for ln in twin.get_lines() if ln.get_label() == "peak PGs per OSD")
    assert list(peak.get_ydata()) == seed_plan.steps.max_pgs_per_osd.tolist()
    limit = next(ln for ln in twin.get_lines() if ln.get_label().startswith("mon_max_pg_per_osd"))
    assert limit.get_ydata()[0] == 1000  # the limit the plan ran with


def test_pg_num_steps_pool_choice_and_errors(seed_plan, mixed_plan):
    top, _b, _t = plotting.pg_num_steps(seed_plan, pool=1)
    assert top.get_title().startswith("pool rbd:")
    with pytest.raises(ValueError, match="no pool named 'nope'"):
        plotting.pg_num_steps(seed_plan, pool="nope")
    with pytest.raises(ValueError, match="no pool's pg_num or pgp_num changes"):
        plotting.pg_num_steps(mixed_plan)
    top, _b, _t = plotting.pg_num_steps(mixed_plan, pool="rbd")
    assert list(top.get_lines()[1].get_ydata()) == [64, 64, 64, 64]
    fig, (a, b) = plt.subplots(2, 1)
    out = plotting.pg_num_steps(seed_plan, ax=(a, b))
    assert out[0] is a and out[1] is b
    with pytest.raises(TypeError, match="pair of Axes"):
        plotting.pg_num_steps(seed_plan, ax=a)


# ------------------------------------------------------------------------------------------------ shared contract

CALLS = [("movement", {}), ("movement", {"by": "host"}), ("movement", {"step": 2}), ("fullness", {})]


@pytest.mark.parametrize(("name", "kwargs"), CALLS)
def test_shared_contract(name, kwargs, seed_plan, monkeypatch):
    def no_show(*a, **k):
        raise AssertionError("plotting must not call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    func = getattr(plotting, name)
    ax = func(seed_plan, **kwargs)
    assert isinstance(ax, Axes) and ax.has_data()
    fig, given = plt.subplots()
    n_figs = len(plt.get_fignums())
    assert func(seed_plan, ax=given, **kwargs) is given
    assert len(plt.get_fignums()) == n_figs
    assert given.has_data()
    assert func.__doc__ and "Returns" in func.__doc__
    assert name in plotting.__all__


def test_shared_contract_pg_num_steps(seed_plan, monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: (_ for _ in ()).throw(AssertionError("show")))
    axes = plotting.pg_num_steps(seed_plan)
    assert len(axes) == 3 and all(isinstance(a, Axes) and a.has_data() for a in axes)
    assert axes[0].figure is axes[1].figure is axes[2].figure
    assert "Returns" in plotting.pg_num_steps.__doc__ and "pg_num_steps" in plotting.__all__


def test_a_thousand_osds():
    big = pgtools.load(SEED)
    for i in range(50):
        big = AddHost(f"h{i:02d}", 20, 1.0).apply(big)
    plan = simulate(big, [MarkOut(0), Fail("h03")])
    ax = plotting.movement(plan)
    assert len(ax.containers[0]) == 1012
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "node1" and "node2" not in labels and "h49" in labels   # 3-OSD hosts are too narrow
    ax = plotting.movement(plan, by="host")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["node1", "h03"]
    cells = np.asarray(ax.collections[0].get_array())
    assert cells.sum() == plan.steps.shards_moved.sum() == 118
    assert ax.get_xlabel() == "to host (12 hosts receive nothing, 52 send nothing)"
    assert len(plotting.fullness(plan).containers[0]) == 1012


# ------------------------------------------------------------------------------------------------ failures


def test_failures_bars_are_the_per_pool_counts():
    plan = simulate(pgtools.load(MIXED), [Fail("r1")], checks=False)
    ax = plotting.failures(plan)
    lost, inactive, degraded = ax.containers
    fp = plan.failure_pools().set_index("pool")
    for bars, col in ((lost, "pgs_lost"), (inactive, "pgs_inactive"), (degraded, "pgs_degraded")):
        got = {b.get_gid(): b.get_width() for b in bars}
        assert got == {p: float(v) for p, v in fp[col].items()}
    assert {b.get_gid(): b.get_width() for b in lost if b.get_width()} == {"meta": 1.0, "ec21": 6.0}
    assert lost.get_label().startswith("lost (7)") and degraded.get_label().startswith("degraded (97)")
    assert "7 PGs LOST: nothing can recover them (240.0 KiB, 15 objects)" in ax.get_title()
    assert "7 PGs LOST (nothing can recover them)" in plotting.movement(plan).get_title()


def test_failures_picks_the_worst_step_and_refuses_plans_without_failure(mixed_plan):
    plan = simulate(pgtools.load(MIXED), [Fail("osd.13"), Fail("r1")], checks=False)
    assert plotting.failures(plan).get_title().startswith("step 2: failure of r1")
    assert plotting.failures(plan, step=1).get_title() == "step 1: failure of osd.13"
    with pytest.raises(ValueError, match="no failure step"):
        plotting.failures(mixed_plan)
    with pytest.raises(TypeError):
        plotting.failures(mixed_plan.steps)
