"""Durability plots (pgtools.plotting.risk): what is drawn is the data (lines, error bars, the overlap matrix),
checked against the frames they come from and, for the overlap, a plain count over the acting sets."""

from __future__ import annotations

import itertools
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import pgtools  # noqa: E402
from pgtools import plotting  # noqa: E402
from pgtools.errors import PgtoolsWarning  # noqa: E402
from pgtools.model import NONE  # noqa: E402
from pgtools.risk import failure_risk, pair_overlap, sweep  # noqa: E402
from tests.paths import SAMPLE_DUMPS  # noqa: E402


@pytest.fixture(scope="module")
def snap():
    return pgtools.load(SAMPLE_DUMPS / "mixed")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)
        return fn(*args, **kw)


def test_risk_vs_k_draws_the_frame(snap):
    df = quiet(failure_risk, snap, failures=(1, 2, 3, 4), enum_max=100, trials=5_000)
    ax = plotting.risk_vs_k(data=df)
    lines = {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid()}
    assert set(lines) == set(df["pool"])
    for pool, ln in lines.items():
        rows = df[df["pool"] == pool].sort_values("failures")
        assert list(ln.get_xdata()) == [1, 2, 3, 4]
        assert np.array_equal(ln.get_ydata(), rows["p_any_lost"].to_numpy(float))
    assert lines["(all)"].get_color() == "black"
    # K = 4 (and 3) are sampled here: one error-bar container per pool, spanning the Wilson interval
    sampled = df[df["method"] == "sampled"]
    assert len(sampled) and len(ax.containers) == sampled["pool"].nunique()
    for c in ax.containers:
        pool = c.get_label()[1:].removesuffix(" 95% interval")
        rows = sampled[sampled["pool"] == pool].sort_values("failures")
        seg = c.lines[2][0].get_segments()
        assert [s[0][0] for s in seg] == rows["failures"].tolist()
        assert [s[0][1] for s in seg] == pytest.approx(rows["ci_low"].tolist())
        assert [s[1][1] for s in seg] == pytest.approx(rows["ci_high"].tolist())
    ax2 = plotting.risk_vs_k(snap, level="host", failures=(1, 2), measure="expected_pgs_inactive")
    assert "host" in ax2.get_xlabel() and ax2.get_ylabel() == "expected PGs inactive"
    with pytest.raises(ValueError, match="measure must be one of"):
        plotting.risk_vs_k(data=df, measure="nope")


def test_loss_vs_pg_num_draws_the_sweep(snap):
    sw = quiet(sweep, snap, pg_num={"rbd": [16, 64, 128]}, level=["osd", "host"], failures=[3], scheduler="serial")
    ax = plotting.loss_vs_pg_num(sw, pool="rbd")
    lines = {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid()}
    assert set(lines) == {"osd K=3", "host K=3"}
    for (level, ln) in (("osd", lines["osd K=3"]), ("host", lines["host K=3"])):
        rows = sw[(sw["pool"] == "rbd") & (sw["level"] == level)].sort_values("pg_num:rbd")
        assert list(ln.get_xdata()) == [16, 64, 128]
        assert np.array_equal(ln.get_ydata(), rows["p_any_lost"].to_numpy(float))
    assert lines["osd K=3"].get_linestyle() != lines["host K=3"].get_linestyle()
    same = plotting.loss_vs_pg_num(data=sw)  # the first swept pool by default
    assert len([ln for ln in same.get_lines() if ln.get_gid()]) == 2
    with pytest.raises(ValueError, match="was not swept"):
        plotting.loss_vs_pg_num(sw, pool="fast")
    with pytest.raises(ValueError, match="no pg_num:<pool> column"):
        plotting.loss_vs_pg_num(sw.drop(columns=["pg_num:rbd"]))


@pytest.mark.parametrize("level", ["osd", "host"])
def test_copyset_overlap_matrix_equals_a_plain_count(snap, level):
    ax = plotting.copyset_overlap(snap, level=level)
    m = ax.images[0].get_array().data
    ov = quiet(pair_overlap, snap, level)
    units = ov.attrs["units"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == units and m.shape == (len(units), len(units))
    # the plain count: each PG's distinct units (from the dump's acting sets), every pair once each way
    crush = snap.crush
    if level == "osd":
        unit_of = {o: crush.item_name(o) for o in crush.devices}
    else:
        unit_of = {o: next(crush.item_name(b) for b in crush.ancestors(o)
                           if crush.types[crush.buckets[b].type_id] == level) for o in crush.devices}
    want = np.zeros_like(m)
    idx = {u: i for i, u in enumerate(units)}
    for acting in snap.pgs["acting"]:
        us = sorted({idx[unit_of[o]] for o in acting if o != NONE and o >= 0})
        for u in us:
            want[u, u] += 1
        for a, b in itertools.permutations(us, 2):
            want[a, b] += 1
    assert np.array_equal(m, want)
    assert ax.images[0].get_array().mask[0, 0]  # the diagonal is masked, the pairs keep the colour scale
    off = m[~np.eye(len(units), dtype=bool)]
    assert f"most shared: {int(off.max())} PGs" in ax.get_title()
    again = plotting.copyset_overlap(data=ov)
    assert np.array_equal(again.images[0].get_array().data, m)
