"""Plots drawn from ``data=``, the tidy frame each plot draws, match the plots of the snapshot or plan itself."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import pgtools
from pgtools import analysis, plotting
from pgtools.mgr.options import with_overrides
from pgtools.simulate import Fail, MarkOut, SetPgNum, simulate
from tests.paths import REPO

matplotlib.use("Agg")
SEED = REPO / "sample_dumps" / "seedlike_max300"
MIXED = REPO / "sample_dumps" / "mixed"


@pytest.fixture(scope="module")
def snap():
    return pgtools.load(SEED)


@pytest.fixture(scope="module")
def seed_plan():
    return simulate(with_overrides(pgtools.load(SEED), {"mon_max_pg_per_osd": 1000}), [SetPgNum("rbd", 256)],
                    stepwise=True)


@pytest.fixture(scope="module")
def fail_plan():
    return simulate(pgtools.load(MIXED), [MarkOut(0), Fail("r1")], checks=False)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _saved(ax, path) -> None:
    """Save the figure of ``ax`` as a PNG and check that the file is a non-empty PNG."""
    ax.figure.savefig(path)
    data = path.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def _heights(container) -> dict[str, float]:
    return {b.get_gid(): b.get_height() for b in container}


def _bars(ax) -> list[float]:
    return [b.get_height() for b in ax.containers[0]]


def _ticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels()]


def test_osd_bars_from_imbalance(snap, tmp_path):
    a = plotting.osd_bars(snap)
    b = plotting.osd_bars(data=pgtools.imbalance(snap))
    assert _bars(a) == _bars(b) and len(_bars(a)) == len(snap.osds)
    assert _ticks(a) == _ticks(b)
    c = plotting.osd_bars(data=analysis.expected_spread(snap))  # with expected_stddev: the band too
    assert _bars(c) == _bars(a)
    assert any(lab == "target ± 1 expected stddev" for lab in c.get_legend_handles_labels()[1])
    _saved(a, tmp_path / "a.png")
    _saved(b, tmp_path / "b.png")


def test_pg_heatmap_from_tidy_frame_and_placements(snap, tmp_path):
    a = plotting.pg_heatmap(snap)
    b = plotting.pg_heatmap(data=pgtools.imbalance(snap, per_pool=True))
    va, vb = (np.asarray(x.collections[0].get_array()).reshape(len(x.get_yticklabels()), -1) for x in (a, b))
    assert va.shape == vb.shape and (va == vb).all()
    assert [t.get_text() for t in a.get_yticklabels()] == [t.get_text() for t in b.get_yticklabels()]
    n = plotting.pg_heatmap(snap, normalize=True)
    m = plotting.pg_heatmap(data=pgtools.imbalance(snap, per_pool=True), normalize=True)
    assert np.allclose(np.asarray(n.collections[0].get_array(), dtype=float),
                       np.asarray(m.collections[0].get_array(), dtype=float), equal_nan=True)
    flat = plotting.pg_heatmap(snap, group=None)
    for placements in (snap.pgs, pgtools.placements(snap)):
        c = plotting.pg_heatmap(data=placements, group=None)
        assert (np.asarray(c.collections[0].get_array()) == np.asarray(flat.collections[0].get_array())).all()
        assert _ticks(c) == _ticks(flat)
    assert "(up)" in plotting.pg_heatmap(data=snap.pgs).get_title()
    acting = plotting.pg_heatmap(data=snap.pgs, by="acting", group=None)
    assert int(np.asarray(acting.collections[0].get_array()).sum()) == int(analysis.pg_table(snap, "acting").to_numpy().sum())
    with pytest.raises(ValueError, match="normalize=True needs"):
        plotting.pg_heatmap(data=snap.pgs, normalize=True)
    _saved(b, tmp_path / "heatmap.png")


def test_histogram_and_crush_tree_from_their_frames(snap, tmp_path):
    a = plotting.pg_histogram(snap)
    b = plotting.pg_histogram(data=analysis.pg_count_histogram(snap))
    assert _bars(a) == _bars(b)
    t1 = plotting.crush_tree(snap)
    t2 = plotting.crush_tree(data=analysis.crush_hierarchy(snap))
    assert [(p.get_gid(), p.get_width()) for p in t1.patches] == [(p.get_gid(), p.get_width()) for p in t2.patches]
    _saved(b, tmp_path / "hist.png")
    _saved(t2, tmp_path / "tree.png")


def test_movement_from_the_movement_frame(seed_plan, fail_plan, tmp_path):
    for plan in (seed_plan, fail_plan):
        a = plotting.movement(plan)
        b = plotting.movement(data=plan.movement)
        for i in (0, 1):
            ha, hb = _heights(a.containers[i]), _heights(b.containers[i])
            assert {k: v for k, v in ha.items() if v} == {k: v for k, v in hb.items() if v}
        c = plotting.movement(plan, data=plan.movement)  # the plan adds the OSDs that move nothing
        assert _heights(a.containers[0]) == _heights(c.containers[0]) and _ticks(a) == _ticks(c)
    one = plotting.movement(seed_plan, step=2)
    two = plotting.movement(data=seed_plan.movement, step=2)
    assert {k: v for k, v in _heights(one.containers[0]).items() if v} == \
        {k: v for k, v in _heights(two.containers[0]).items() if v}
    _saved(b, tmp_path / "movement.png")


def test_movement_by_host_from_flows(fail_plan, tmp_path):
    plan = fail_plan
    hosts = plan.snapshots[0].osds.set_index("osd_id")["host"]
    flows = [analysis.host_flows(plan.mappings[s - 1], plan.mappings[s], hosts).assign(step=s)
             for s in range(1, len(plan.steps))]
    a = plotting.movement(plan, by="host", step=1)
    b = plotting.movement(plan, data=flows[0], by="host", step=1)
    assert (np.asarray(a.collections[0].get_array()) == np.asarray(b.collections[0].get_array())).all()
    _saved(b, tmp_path / "flows.png")


def test_fullness_from_osd_load(fail_plan, tmp_path):
    plan = fail_plan
    a = plotting.fullness(plan)
    b = plotting.fullness(data=plan.osd_load)
    ha, hb = _heights(a.containers[0]), _heights(b.containers[0])
    assert ha.keys() == hb.keys()
    assert all(ha[k] == hb[k] or (np.isnan(ha[k]) and np.isnan(hb[k])) for k in ha)
    c = plotting.fullness(plan, data=plan.osd_load)
    assert _ticks(a) == _ticks(c)
    with pytest.raises(ValueError, match="out of range"):
        plotting.fullness(data=plan.osd_load, step=len(plan.steps))
    _saved(b, tmp_path / "fullness.png")


def test_pg_num_steps_from_pools_and_steps(seed_plan, tmp_path):
    a = plotting.pg_num_steps(seed_plan)
    frame = seed_plan.pools.merge(seed_plan.steps[["step", "max_pgs_per_osd", "bytes_moved"]], on="step")
    b = plotting.pg_num_steps(data=frame, limit=1000)
    for x, y in zip(a[0].get_lines(), b[0].get_lines(), strict=True):
        assert (x.get_xdata() == y.get_xdata()).all() and (x.get_ydata() == y.get_ydata()).all()
    assert (a[2].get_lines()[0].get_ydata() == b[2].get_lines()[0].get_ydata()).all()
    assert a[0].get_title() == b[0].get_title()
    _saved(b[0], tmp_path / "steps.png")


def test_failures_from_failure_pools(fail_plan, tmp_path):
    a = plotting.failures(fail_plan)
    fp = fail_plan.failure_pools()
    b = plotting.failures(data=fp)
    for ca, cb in zip(a.containers, b.containers, strict=True):
        assert [(r.get_gid(), r.get_width()) for r in ca] == [(r.get_gid(), r.get_width()) for r in cb]
    assert plotting.failures(fail_plan, data=fp).get_title() == a.get_title()
    _saved(b, tmp_path / "failures.png")


def test_data_needs_its_columns(snap, seed_plan):
    with pytest.raises(ValueError, match="no column"):
        plotting.movement(data=seed_plan.osd_load)
    with pytest.raises(ValueError, match="no column"):
        plotting.fullness(data=seed_plan.movement)
    with pytest.raises(ValueError, match="no column"):
        plotting.pg_num_steps(data=seed_plan.steps)
    with pytest.raises(ValueError, match="no column"):
        plotting.osd_bars(data=snap.pgs)
