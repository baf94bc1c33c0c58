"""Tests of pgtools.plotting: read the artists back and compare with pgtools.analysis."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection, QuadMesh

import pgtools
from pgtools import analysis, plotting
from pgtools.io import crushmap_from_dump
from pgtools.model import NONE, Snapshot, pgid_str
from tests.paths import REPO


def synthetic_snapshot(hosts: int = 50, per_host: int = 20, pools: int = 8, pg_num: int = 4096,
                       size: int = 3, seed: int = 7) -> Snapshot:
    """A random host-failure-domain placement on ``hosts × per_host`` OSDs (no CRUSH map)."""
    rng = np.random.default_rng(seed)
    n_osds = hosts * per_host
    osds = pd.DataFrame({
        "osd_id": np.arange(n_osds, dtype=np.int64),
        "name": [f"osd.{i}" for i in range(n_osds)],
        "host": [f"host{i // per_host:02d}" for i in range(n_osds)],
        "device_class": "hdd",
        "crush_weight": 1.0,
        "reweight": 1.0,
        "exists": True, "up": True, "in": True,
    })
    rows = []
    for p in range(1, pools + 1):
        h = np.argsort(rng.random((pg_num, hosts)), axis=1)[:, :size]
        o = h * per_host + rng.integers(0, per_host, size=(pg_num, size))
        for ps in range(pg_num):
            up = tuple(int(v) for v in o[ps])
            rows.append((pgid_str(p, ps), p, ps, f"pool{p}", "active+clean", up, up[0], up, up[0]))
    pgs = pd.DataFrame(rows, columns=["pgid", "pool_id", "ps", "pool", "state", "up", "up_primary", "acting",
                                      "acting_primary"])
    pools_df = pd.DataFrame({"pool_id": np.arange(1, pools + 1, dtype=np.int64),
                             "pool": [f"pool{p}" for p in range(1, pools + 1)], "type": "replicated",
                             "size": size, "pg_num": pg_num, "pgp_num": pg_num, "crush_rule": 0})
    return Snapshot(pgs=pgs, pools=pools_df, osds=osds)


matplotlib.use("Agg")
SAMPLE = REPO / "sample_dumps" / "seedlike_max300"
COUNTS = {0: 470, 1: 487, 2: 467, 3: 461, 4: 470, 5: 488, 6: 470, 7: 495, 8: 487, 9: 477, 10: 495, 11: 493}


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return pgtools.load(SAMPLE)


@pytest.fixture(scope="module")
def snap_crush(snap) -> Snapshot:
    if snap.crush is not None:
        return snap
    return snap.replace(crush=crushmap_from_dump(json.loads((SAMPLE / "crush_dump.json").read_text())))


@pytest.fixture(scope="module")
def mid() -> Snapshot:
    """80 OSDs on 10 hosts: above MAX_OSD_ROWS, so the heatmap aggregates by host."""
    return synthetic_snapshot(hosts=10, per_host=8, pools=3, pg_num=256)


def _line(ax: Axes, label: str):
    lines = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(lines) == 1, [ln.get_label() for ln in ax.get_lines()]
    return lines[0]


def _mesh(ax: Axes) -> np.ma.MaskedArray:
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    return meshes[0].get_array()


# ------------------------------------------------------------------------------------------------ heatmap


def test_heatmap_cells_are_the_pool_osd_table(snap):
    ax = plotting.pg_heatmap(snap)
    arr = _mesh(ax).reshape(12, 15)
    tab = analysis.pg_table(snap, "up")
    np.testing.assert_array_equal(np.asarray(arr), tab.to_numpy())
    assert arr[0, 0] == 37 and arr[11, 14] == 33
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"osd.{i}" for i in range(12)]
    xt = [t.get_text() for t in ax.get_xticklabels()]
    assert xt[0] == "rbd" and xt[-1] == "scratch" and len(xt) == 15
    # host separators and names
    assert sorted(ln.get_ydata()[0] for ln in ax.get_lines()) == [3, 6, 9]
    assert [t.get_text() for t in ax.texts if t.get_text().startswith("node")] == \
        ["node1", "node2", "node3", "node4"]
    # annotations: 180 cells written
    assert sum(1 for t in ax.texts if t.get_text().isdigit()) == 180


def test_heatmap_normalized_is_deviation_from_target(snap):
    ax = plotting.pg_heatmap(snap, normalize=True)
    arr = np.asarray(_mesh(ax)).reshape(12, 15)
    # every OSD has weight 1 of 12: target per cell is 384 / 12 = 32
    assert arr[0, 0] == pytest.approx(100 * (37 - 32) / 32)
    tab = analysis.pg_table(snap, "up").to_numpy()
    np.testing.assert_allclose(arr, 100 * (tab - 32) / 32)
    cbar = ax.figure.axes[-1]
    assert cbar.get_ylabel() == "% deviation from weight-share target"
    lo, hi = cbar.get_ylim()
    assert lo == pytest.approx(-hi) and hi == pytest.approx(100 * (45 - 32) / 32)


def test_heatmap_aggregates_hosts_above_max_rows(mid):
    tab = analysis.pg_table(mid, "up")
    ax = plotting.pg_heatmap(mid)
    arr = np.asarray(_mesh(ax)).reshape(10, 3)
    expect = tab.groupby(tab.index // 8).sum().to_numpy()
    np.testing.assert_array_equal(arr, expect)
    assert arr.sum() == 3 * 256 * 3
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"host{i:02d}" for i in range(10)]
    ax2 = plotting.pg_heatmap(mid, group=None)
    np.testing.assert_array_equal(np.asarray(_mesh(ax2)).reshape(80, 3), tab.to_numpy())
    # round label step: 0, 2, 4, ... (80 rows, at most 60 labels)
    assert [t.get_text() for t in ax2.get_yticklabels()][:3] == ["osd.0", "osd.2", "osd.4"]
    ax3 = plotting.pg_heatmap(mid, normalize=True)
    g = analysis.group_imbalance(analysis.imbalance(mid, per_pool=True), "host")
    np.testing.assert_allclose(np.asarray(_mesh(ax3)).reshape(10, 3),
                               g.pivot(index="host", columns="pool_id", values="deviation_pct").to_numpy())


def test_group_imbalance_sums(snap):
    g = analysis.group_imbalance(analysis.imbalance(snap), "host")
    assert g.host.tolist() == ["node1", "node2", "node3", "node4"]
    assert g.pgs.tolist() == [1424, 1419, 1452, 1465]
    assert g.osds.tolist() == [3, 3, 3, 3]
    assert g.target.tolist() == [1440.0] * 4
    assert g.deviation_pct.iloc[3] == pytest.approx(100 * 25 / 1440)
    gp = analysis.group_imbalance(analysis.imbalance(snap, per_pool=True), "host")
    assert len(gp) == 60 and gp.pgs.sum() == 5760
    assert gp[(gp.host == "node1") & (gp.pool_id == 1)].pgs.item() == 37 + 30 + 33
    with pytest.raises(ValueError, match="no column 'rack'"):
        analysis.group_imbalance(analysis.imbalance(snap), "rack")


# ------------------------------------------------------------------------------------------------ bars


def test_osd_bars_heights_target_band_limit(snap):
    ax = plotting.osd_bars(snap, limit=300)
    bars = ax.containers[0]
    assert [int(b.get_height()) for b in bars] == [COUNTS[i] for i in range(12)]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(i) for i in range(12)]
    np.testing.assert_allclose(_line(ax, "weight-share target").get_ydata(), [480.0] * 12)
    assert list(_line(ax, "mon_max_pg_per_osd = 300").get_ydata()) == [300, 300]
    band = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(band) == 1
    ys = band[0].get_paths()[0].vertices[:, 1]
    exp = math.sqrt(480 * (1 - 1 / 12))
    assert ys.min() == pytest.approx(480 - exp) and ys.max() == pytest.approx(480 + exp)
    # coloured by host: three bars per colour, four colours
    colours = [tuple(b.get_facecolor()) for b in bars]
    assert colours[0] == colours[1] == colours[2] != colours[3]
    assert len(set(colours)) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()][-4:] == ["node1", "node2", "node3", "node4"]


def test_osd_bars_by_primary_and_utilization(snap):
    ax = plotting.osd_bars(snap, by="up_primary")
    prim = analysis.pg_table(snap, "up_primary").sum(axis=1)
    assert [int(b.get_height()) for b in ax.containers[0]] == prim.tolist()
    assert sum(prim) == 1920
    ax = plotting.osd_bars(snap, value="utilization", limit=85)
    util = snap.osds.set_index("osd_id").utilization
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], util.loc[list(range(12))].to_numpy())
    used = 100 * snap.osds.kb_used.astype(float).sum() / snap.osds.kb.astype(float).sum()
    np.testing.assert_allclose(_line(ax, "cluster-wide %used").get_ydata(), [used] * 12)
    assert list(_line(ax, "limit = 85 %").get_ydata()) == [85, 85]


def test_osd_bars_many_osds_label_hosts(mid):
    ax = plotting.osd_bars(mid)
    assert len(ax.containers[0]) == 80
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"host{i:02d}" for i in range(10)]
    np.testing.assert_allclose(ax.get_xticks(), [8 * i + 3.5 for i in range(10)])
    assert sum(b.get_height() for b in ax.containers[0]) == 3 * 256 * 3


def test_osd_bars_errors(mid, snap):
    with pytest.raises(ValueError, match="no OSD utilization"):
        plotting.osd_bars(mid, value="utilization")
    with pytest.raises(ValueError, match="value must be one of"):
        plotting.osd_bars(snap, value="bytes")
    with pytest.raises(ValueError, match="by must be one of"):
        plotting.pg_heatmap(snap, by="down")
    with pytest.raises(TypeError, match="needs a Snapshot, not list"):
        plotting.pg_histogram([1, 2])
    with pytest.raises(ValueError, match="no column"):
        plotting.pg_histogram(snap.pgs)
    with pytest.raises(ValueError, match=r"no column\(s\) target"):
        plotting.osd_bars(snap.osds)


# ------------------------------------------------------------------------------------------------ histogram


def _binom_bin(n: int, q: int, left: int, right: int, n_osds: int | None = None) -> float:
    """n_osds × P(left ≤ X < right), X ~ Binomial(n, 1/q), in exact rational arithmetic (n_osds = q by default)."""
    num = sum(math.comb(n, k) * (q - 1) ** (n - k) for k in range(left, right))
    return float(Fraction((q if n_osds is None else n_osds) * num, q ** n))


def test_histogram_observed_and_expected(snap):
    ax = plotting.pg_histogram(snap)
    bars = ax.containers[0]
    lefts = [int(round(b.get_x())) for b in bars]
    heights = [int(b.get_height()) for b in bars]
    assert sum(heights) == 12
    observed = {lf: h for lf, h in zip(lefts, heights, strict=True) if h}
    assert observed == {459: 2, 468: 3, 477: 1, 486: 4, 495: 2}
    assert all(b.get_width() == 9 for b in bars)
    line = _line(ax, "binomial expectation (random placement)")
    np.testing.assert_allclose(line.get_xdata(), [lf + 4.5 for lf in lefts])
    expect = [_binom_bin(5760, 12, lf, lf + 9) for lf in lefts]
    np.testing.assert_allclose(line.get_ydata(), expect, rtol=1e-9)
    assert sum(expect) == pytest.approx(12, abs=1e-3)
    assert list(_line(ax, "mean").get_xdata()) == [480.0, 480.0]


def test_histogram_many_osds(mid):
    h = analysis.pg_count_histogram(mid)
    assert h.attrs == {"n": 2304, "n_osds": 80, "equal_weights": True}
    assert h.osds.sum() == 80
    ax = plotting.pg_histogram(mid)
    np.testing.assert_allclose(_line(ax, "binomial expectation (random placement)").get_ydata(), h.expected)
    i = int(np.argmax(h.expected))
    assert h.expected[i] == pytest.approx(_binom_bin(2304, 80, int(h.left[i]), int(h.right[i])), rel=1e-9)


# ------------------------------------------------------------------------------------------------ crush tree


def test_crush_hierarchy_from_crush_tree_and_hosts(snap, snap_crush):
    for s in (snap_crush, snap.replace(crush=None), snap.replace(crush=None, meta={})):
        h = analysis.crush_hierarchy(s)
        assert h.name.tolist() == ["default", "node1", "osd.0", "osd.1", "osd.2", "node2", "osd.3", "osd.4",
                                   "osd.5", "node3", "osd.6", "osd.7", "osd.8", "node4", "osd.9", "osd.10",
                                   "osd.11"]
        assert h.depth.tolist() == [0, 1, 2, 2, 2, 1, 2, 2, 2, 1, 2, 2, 2, 1, 2, 2, 2]
        assert h[h.type == "host"].pgs.tolist() == [1424, 1419, 1452, 1465]
        assert h.pgs.iloc[0] == 5760 and h.crush_weight.iloc[0] == 12.0
        assert h[h.type == "osd"].set_index("id").pgs.to_dict() == COUNTS
        assert h.weight_share.iloc[1] == 0.25 and h.pg_share.iloc[1] == pytest.approx(1424 / 5760)
        assert (h[h.type == "osd"].device_class == "hdd").all()
    assert analysis.crush_hierarchy(snap_crush).id.tolist()[:3] == [-1, -3, 0]


def test_crush_tree_rectangles(snap_crush):
    ax = plotting.crush_tree(snap_crush)
    rects = ax.patches
    assert len(rects) == 17
    by_gid = {r.get_gid(): r for r in rects}
    assert by_gid["-1"].get_width() == pytest.approx(1.0)
    assert [by_gid[g].get_x() for g in ("-3", "-5", "-7", "-9")] == pytest.approx([0, 0.25, 0.5, 0.75])
    assert by_gid["7"].get_width() == pytest.approx(1 / 12)
    assert by_gid["7"].get_y() == pytest.approx(-2.45)
    texts = [t.get_text() for t in ax.texts]
    assert "node1\nw 3\n24.7% PGs" in texts
    assert "osd.7\nhdd\nw 1\n8.6% PGs" in texts
    assert [t.get_text() for t in ax.get_yticklabels()] == ["root", "host", "osd"]


def test_crush_tree_many_osds(mid):
    ax = plotting.crush_tree(mid)
    assert len(ax.patches) == 1 + 10 + 80
    hosts = [r for r in ax.patches if r.get_y() == pytest.approx(-1.45)]
    assert [r.get_width() for r in hosts] == pytest.approx([0.1] * 10)


# ------------------------------------------------------------------------------------------------ shared contract


CALLS = [
    ("pg_heatmap", {}), ("pg_heatmap", {"normalize": True}), ("osd_bars", {"limit": 300}),
    ("osd_bars", {"value": "utilization"}), ("pg_histogram", {}), ("crush_tree", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), CALLS)
def test_shared_contract(name, kwargs, snap, monkeypatch):
    def no_show(*a, **k):
        raise AssertionError("plotting must not call plt.show()")

    monkeypatch.setattr(plt, "show", no_show)
    func = getattr(plotting, name)
    ax = func(snap, **kwargs)
    assert isinstance(ax, Axes)
    assert ax.has_data()
    fig, given = plt.subplots()
    n_figs = len(plt.get_fignums())
    out = func(snap, ax=given, **kwargs)
    assert out is given
    assert len(plt.get_fignums()) == n_figs
    assert given.has_data()
    assert func.__doc__ and "Returns" in func.__doc__
    assert name in plotting.__all__


def test_thousand_osds_draw_quickly():
    big = synthetic_snapshot()
    assert len(big.osds) == 1000 and len(big.pgs) == 8 * 4096
    ax = plotting.pg_heatmap(big)
    assert np.asarray(_mesh(ax)).shape == (50, 8)
    assert np.asarray(_mesh(ax)).sum() == 8 * 4096 * 3
    ax = plotting.osd_bars(big, limit=250)
    assert len(ax.containers[0]) == 1000
    assert len(ax.get_xticklabels()) == 50


def test_unequal_weights_move_the_target(mid):
    osds = mid.osds.copy()
    osds.loc[osds.host == "host00", "crush_weight"] = 2.0     # 8 of 80 OSDs twice as heavy: total weight 88
    heavy = mid.replace(osds=osds)
    ax = plotting.osd_bars(heavy)
    target = _line(ax, "weight-share target").get_ydata()
    total = 3 * 256 * 3
    np.testing.assert_allclose(target[:8], [total * 2 / 88] * 8)
    np.testing.assert_allclose(target[8:], [total / 88] * 72)
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0].get_paths()[0].vertices
    heavy_sd, light_sd = (math.sqrt(total * p * (1 - p)) for p in (2 / 88, 1 / 88))
    ys = band[:, 1]
    for t, sd in ((total * 2 / 88, heavy_sd), (total / 88, light_sd)):
        assert np.isclose(ys, t + sd).any() and np.isclose(ys, t - sd).any()
    assert ys.max() == pytest.approx(total * 2 / 88 + heavy_sd)
    assert ys.min() == pytest.approx(total / 88 - light_sd)
    assert any("rms(pgs − target)" in t.get_text() for t in ax.texts)
    h = analysis.pg_count_histogram(heavy)
    assert h.attrs["equal_weights"] is False and h.expected.sum() == pytest.approx(80, abs=1e-3)
    i = int(np.argmax(h.expected))
    lf, rt = int(h.left[i]), int(h.right[i])
    mixed = (72 * _binom_bin(total, 88, lf, rt, n_osds=1) + 8 * _binom_bin(total, 44, lf, rt, 1))
    assert h.expected[i] == pytest.approx(mixed, rel=1e-9)
    nodes = analysis.crush_hierarchy(heavy)
    assert nodes.weight_share[nodes.name == "host00"].item() == pytest.approx(16 / 88)
    ax = plotting.crush_tree(heavy)
    host_rects = [r for r in ax.patches if r.get_y() == pytest.approx(-1.45)]
    assert host_rects[0].get_width() == pytest.approx(16 / 88)


def test_erasure_holes_and_unmapped_pgs_are_not_counted():
    pgs = pd.DataFrame([
        ("1.0", 1, 0, "ec", "active", (0, NONE, 2), 0, (0, NONE, 2), 0),
        ("1.1", 1, 1, "ec", "active", (1, 2, 0), 1, (1, 2, 0), 1),
        ("1.2", 1, 2, "ec", "unknown", (), -1, (), -1),
        ("2.0", 2, 0, "rep", "active", (2, 1), 2, (2, 1), 2),
    ], columns=["pgid", "pool_id", "ps", "pool", "state", "up", "up_primary", "acting", "acting_primary"])
    pools = pd.DataFrame({"pool_id": [1, 2], "pool": ["ec", "rep"], "size": [3, 2], "pg_num": [3, 1]})
    osds = pd.DataFrame({"osd_id": [0, 1, 2], "host": ["a", "a", "b"], "crush_weight": [1.0, 1.0, 1.0]})
    s = Snapshot(pgs=pgs, pools=pools, osds=osds)
    ax = plotting.pg_heatmap(s)
    np.testing.assert_array_equal(np.asarray(_mesh(ax)), [[2, 0], [1, 1], [2, 1]])
    ax = plotting.osd_bars(s)
    assert [b.get_height() for b in ax.containers[0]] == [2, 2, 3]
    with pytest.raises(pgtools.PgtoolsError, match="no PG data"):  # says which dump to add
        plotting.pg_heatmap(Snapshot())


def test_osd_load_bytes_follow_the_up_sets(snap):
    load = analysis.osd_load(snap)
    assert load.osd_id.tolist() == list(range(12))
    assert load.pgs.tolist() == [COUNTS[i] for i in range(12)]
    assert int(load["bytes"].sum()) == 3 * int(snap.pgs["bytes"].sum())
    # osd.0's bytes: the bytes of every PG whose up set contains 0
    mine = sum(int(b) for up, b in zip(snap.pgs.up, snap.pgs["bytes"], strict=True) if 0 in up)
    assert int(load["bytes"].iloc[0]) == mine
    assert load.weight_share.tolist() == pytest.approx([1 / 12] * 12)
    assert load.pg_share.sum() == pytest.approx(1.0) and load.bytes_share.sum() == pytest.approx(1.0)
    assert int(load.bytes_share.idxmax()) == 11 and int(load.bytes_share.idxmin()) == 3
    assert load.kb_used.iloc[0] == 117760


def test_kwargs_reach_the_named_matplotlib_call(snap_crush):
    ax = plotting.osd_bars(snap_crush, color="black")
    assert {tuple(b.get_facecolor()) for b in ax.containers[0]} == {(0.0, 0.0, 0.0, 1.0)}
    ax = plotting.pg_heatmap(snap_crush, cmap="magma")
    assert ax.collections[0].get_cmap().name == "magma"
    ax = plotting.pg_histogram(snap_crush, color="red")
    assert {tuple(b.get_facecolor()) for b in ax.containers[0]} == {(1.0, 0.0, 0.0, 1.0)}
    ax = plotting.crush_tree(snap_crush, edgecolor="black", linewidth=2)
    assert all(r.get_edgecolor() == (0.0, 0.0, 0.0, 1.0) and r.get_linewidth() == 2 for r in ax.patches)


def test_computed_tables_are_drawn_as_given(snap_crush):
    s = snap_crush
    tab = analysis.pg_table(s, margins=True)
    ax = plotting.pg_heatmap(tab)
    np.testing.assert_array_equal(np.asarray(_mesh(ax)), analysis.pg_table(s).to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["1", "2"]
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "osd.11"
    im = analysis.imbalance(s)
    ax = plotting.osd_bars(im, limit=300)
    assert [int(b.get_height()) for b in ax.containers[0]] == [COUNTS[i] for i in range(12)]
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]   # no expected_stddev column
    ax = plotting.osd_bars(analysis.expected_spread(s))
    band = [c for c in ax.collections if isinstance(c, PolyCollection)][0].get_paths()[0].vertices[:, 1]
    assert band.max() == pytest.approx(480 + math.sqrt(480 * 11 / 12))
    h = analysis.pg_count_histogram(s)
    ax = plotting.pg_histogram(h)
    assert [int(b.get_height()) for b in ax.containers[0]] == h.osds.tolist()
    nodes = analysis.crush_hierarchy(s)
    ax = plotting.crush_tree(nodes[nodes.type != "osd"])
    assert [r.get_gid() for r in ax.patches] == ["-1", "-3", "-5", "-7", "-9"]
