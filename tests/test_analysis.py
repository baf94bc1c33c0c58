"""The pool × OSD table, imbalance statistics and health checks on the real Pacific capture."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import pgtools
from pgtools.analysis import check_pg_num, health, imbalance, imbalance_summary, pg_table, placements
from pgtools.model import NONE, Snapshot
from tests.paths import REAL, SAMPLE_DUMPS


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return pgtools.load(SAMPLE_DUMPS / "seedlike_max300")


def _osdmaptool_counts() -> dict[int, tuple[int, int]]:
    """osd -> (count, primary) from the capture's `osdmaptool --test-map-pgs` output."""
    out = {}
    for line in (REAL / "osdmaptool_test_map_pgs.txt").read_text().splitlines():
        m = re.match(r"osd\.(\d+)\t(\d+)\t(\d+)\t(\d+)\t", line)
        if m:
            out[int(m.group(1))] = (int(m.group(2)), int(m.group(4)))
    return out


def test_table_pools_sum_to_pg_num_times_size(snap):
    tab = pg_table(snap, by="up")
    assert list(tab.columns) == list(range(1, 16))
    assert list(tab.index) == list(range(12))
    assert (tab.sum(axis=0) == 128 * 3).all()
    assert tab.to_numpy().sum() == 5760


def test_table_osd_totals_equal_osdmaptool(snap):
    tab = pg_table(snap, by="up")
    ref = _osdmaptool_counts()
    assert {int(o): int(v) for o, v in tab.sum(axis=1).items()} == {o: c for o, (c, _) in ref.items()}
    prim = pg_table(snap, by="up_primary").sum(axis=1)
    assert {int(o): int(v) for o, v in prim.items()} == {o: p for o, (_, p) in ref.items()}


def test_table_equals_counts_from_pg_dump_json(snap):
    """The plain-text table equals the counts derived from the same capture's JSON dump, cell by cell."""
    doc = json.loads((REAL / "pg_dump.json").read_text())
    counts: dict[tuple[int, int], int] = {}
    for pg in doc["pg_map"]["pg_stats"]:
        pool = int(pg["pgid"].split(".")[0])
        for osd in pg["up"]:
            counts[(osd, pool)] = counts.get((osd, pool), 0) + 1
    tab = pg_table(snap, by="up")
    for (osd, pool), n in counts.items():
        assert tab.loc[osd, pool] == n
    assert tab.to_numpy().sum() == sum(counts.values())


def test_up_primary_table_is_what_the_seed_awk_script_printed(snap):
    """The seed's awk script, run on Pacific, counted UP_PRIMARY: our up_primary table reproduces it."""
    awk = {}
    for line in (REAL / "awk_table.txt").read_text().splitlines():
        if line.startswith("osd."):
            cells = line.split("|")[0].split()
            awk[int(cells[0][4:])] = [int(c) for c in cells[1:]]
    prim = pg_table(snap, by="up_primary")
    assert {int(o): list(map(int, r)) for o, r in zip(prim.index, prim.to_numpy(), strict=True)} == awk
    assert (prim.sum(axis=0) == 128).all()


def test_margins(snap):
    tab = pg_table(snap, margins=True)
    assert tab.loc["total", "total"] == 5760
    assert tab.loc[7, "total"] == 495


def test_placements_long_form(snap):
    pl = placements(snap, "up")
    assert len(pl) == 5760
    assert set(pl.columns) == {"pgid", "pool_id", "pool", "position", "osd_id", "primary"}
    assert pl.primary.sum() == 1920
    first = snap.pgs.iloc[0]
    rows = pl[pl.pgid == first.pgid].sort_values("position")
    assert tuple(rows.osd_id) == tuple(first.up)
    assert rows.primary.iloc[0]


def _synthetic(pgs_rows, pools=None, osds=None) -> Snapshot:
    pgs = pd.DataFrame(pgs_rows, columns=["pgid", "pool_id", "ps", "pool", "state", "up", "up_primary",
                                          "acting", "acting_primary"])
    return Snapshot(pgs=pgs, pools=pools if pools is not None else pd.DataFrame(
        {"pool_id": [1, 2], "pool": ["a", "b"], "size": [3, 3], "pg_num": [2, 1]}),
        osds=osds if osds is not None else pd.DataFrame({"osd_id": [0, 1, 2, 3]}))


def test_unknown_and_holes_are_not_credited():
    snap = _synthetic([
        ("1.0", 1, 0, "a", "active+clean", (0, 1, 2), 0, (0, 1, 2), 0),
        ("1.1", 1, 1, "a", "unknown", (), -1, (), -1),
        ("2.0", 2, 0, "b", "active+undersized", (3, NONE, 1), 3, (3, NONE, 1), 3),
    ])
    tab = pg_table(snap)
    assert tab.loc[0, 1] == 1 and tab.loc[1, 2] == 1 and tab.loc[3, 2] == 1
    assert tab.to_numpy().sum() == 5
    assert NONE not in tab.index
    assert len(pgtools.unmapped_pgs(snap)) == 1
    assert list(pg_table(snap, by="acting_primary").sum(axis=1).items()) == [(0, 1), (3, 1)]


def test_table_lists_pools_with_no_pgs_on_an_osd():
    snap = _synthetic([("1.0", 1, 0, "a", "active", (0,), 0, (0,), 0)])
    tab = pg_table(snap)
    assert list(tab.columns) == [1, 2]
    assert tab.loc[0, 2] == 0


def test_imbalance_targets_and_osdmaptool_statistics(snap):
    im = imbalance(snap)
    assert np.allclose(im.target, 480.0)
    assert im.pgs.sum() == 5760
    s = imbalance_summary(snap)
    # osdmaptool: " avg 480 stddev 11.619 (0.0242061x) (expected 20.9762 0.0437004x))"
    assert s["mean"] == 480
    assert round(s["stddev"], 3) == 11.619
    assert round(s["expected_stddev"], 4) == 20.9762
    assert (s["min_osd"], s["min"], s["max_osd"], s["max"]) == (3, 461, 7, 495)


def test_imbalance_is_weight_aware(snap):
    """Halving an OSD's crush weight halves its share of the target."""
    osds = snap.osds.copy()
    osds.loc[osds.osd_id == 0, "crush_weight"] = 0.5
    im = imbalance(snap.replace(osds=osds)).set_index("osd_id")
    total_w = 11.5
    assert im.loc[0, "target"] == pytest.approx(5760 * 0.5 / total_w)
    assert im.loc[1, "target"] == pytest.approx(5760 * 1.0 / total_w)
    assert im.loc[0, "deviation"] == pytest.approx(470 - 5760 * 0.5 / total_w)


def test_imbalance_per_pool(snap):
    im = imbalance(snap, per_pool=True)
    assert len(im) == 15 * 12
    assert np.allclose(im.target, 32.0)
    assert im.groupby("pool_id").pgs.sum().eq(384).all()


def test_health_reproduces_the_seed_warning(snap):
    found = health(snap)
    codes = [f.code for f in found]
    assert "TOO_MANY_PGS" in codes
    f = found[codes.index("TOO_MANY_PGS")]
    assert f.summary == "too many PGs per OSD (480 > max 300)"
    assert f.numbers["mon_max_pg_per_osd_from"] == "config dump"
    assert f.numbers["sum_pg_up"] == 5760 and f.numbers["num_in_osds"] == 12
    # the cluster's own health detail says the same
    assert snap.health is None or f.summary in json.dumps(snap.health)


def test_health_limits_from_release_defaults(snap):
    # without a config dump the capture's health detail still says "max 300"
    quoted = [x for x in health(snap.replace(config={})) if x.code == "TOO_MANY_PGS"][0]
    assert quoted.numbers["mon_max_pg_per_osd_from"] == "health detail"
    assert quoted.summary == "too many PGs per OSD (480 > max 300)"
    bare = snap.replace(config={}, health=None)
    f = [x for x in health(bare) if x.code == "TOO_MANY_PGS"][0]
    assert f.summary == "too many PGs per OSD (480 > max 250)"
    assert f.numbers["mon_max_pg_per_osd_from"] == "pacific default"
    assert not [x for x in health(bare, mon_max_pg_per_osd=500) if x.code == "TOO_MANY_PGS"]
    jewel = [x for x in health(bare, release="jewel") if x.code == "TOO_MANY_PGS"][0]
    assert jewel.summary == "too many PGs per OSD (480 > max 300)"


def test_health_too_few_and_hard_limit(snap):
    few = [x for x in health(snap, mon_pg_warn_min_per_osd=1000) if x.code == "TOO_FEW_PGS"]
    assert few and few[0].summary == "too few PGs per OSD (480 < min 1000)"
    hard = [x for x in health(snap, mon_max_pg_per_osd=160) if x.code == "OSD_PG_HARD_LIMIT"]
    # 160 × 3 = 480: the OSDs above 480 PGs are those osdmaptool counts above 480
    above = sorted(o for o, (c, _) in _osdmaptool_counts().items() if c > 480)
    assert hard and sorted(hard[0].numbers["osds"]) == above


def test_check_pg_num_matches_the_monitors_message(snap):
    bare = snap.replace(config={}, health=None)
    f = check_pg_num(bare, None, 32, size=3)
    assert f is not None
    assert f.summary == (" pg_num 32 size 3 would mean 5856 total pgs, which exceeds max 3000 "
                         "(mon_max_pg_per_osd 250 * num_in_osds 12)")
    upd = check_pg_num(snap, "rbd", 256)
    assert upd.summary.startswith("pool id 1 pg_num 256 size 3 would mean 6144 total pgs")
    assert check_pg_num(snap.replace(config={}), None, 1, mon_max_pg_per_osd=1000) is None


def test_weighted_expectation(snap):
    s = imbalance_summary(snap)
    # equal weights, one root: the weighted expectation is osdmaptool's sqrt(mean(1-1/N))
    assert s["expected_weighted_stddev"] == pytest.approx(s["expected_stddev"])
    im = imbalance(snap)
    assert np.allclose(im.expected_sd, np.sqrt(15 * 384 * (1 / 12) * (11 / 12)))
    mixed = pgtools.load(SAMPLE_DUMPS / "mixed")
    m = imbalance_summary(mixed)
    assert m["expected_weighted_stddev"] < m["expected_stddev"]
    assert 1.0 < m["weighted_ratio"] < m["stddev_ratio"]


def test_hard_limit_counts_up_or_acting_once():
    """An OSD in both sets counts once; one only in acting (backfill source) counts too."""
    snap = _synthetic([
        ("1.0", 1, 0, "a", "active+remapped", (0, 1, 2), 0, (0, 1, 3), 0),
        ("1.1", 1, 1, "a", "active+clean", (0, 1, 2), 0, (0, 1, 2), 0),
    ])
    f = [x for x in health(snap, mon_max_pg_per_osd=1, osd_max_pg_per_osd_hard_ratio=1.0)
         if x.code == "OSD_PG_HARD_LIMIT"][0]
    assert f.numbers["osds"] == {0: 2, 1: 2, 2: 2}
    clean = _synthetic([("1.1", 1, 1, "a", "active+clean", (0, 1, 2), 0, (0, 1, 2), 0)])
    assert not [x for x in health(clean, mon_max_pg_per_osd=1, osd_max_pg_per_osd_hard_ratio=1.0)
                if x.code == "OSD_PG_HARD_LIMIT"]


def test_pool_max_avail_equals_ceph_df():
    """`ceph df` MAX AVAIL: exact up to float rounding on the consistent `mixed` bundle (classes, EC, unequal
    weights); the seed's `pg dump` and `df detail` were captured seconds apart, hence 0.25 %."""
    from pgtools.analysis import pool_max_avail

    mixed = pgtools.load(SAMPLE_DUMPS / "mixed")
    ours, ceph = pool_max_avail(mixed), mixed.pool_stats.set_index("pool_id").max_avail
    assert ((ours - ceph).abs() / ceph).max() < 1e-6
    seed = pgtools.load(SAMPLE_DUMPS / "seedlike_max300")
    ours, ceph = pool_max_avail(seed), seed.pool_stats.set_index("pool_id").max_avail
    assert ((ours - ceph).abs() / ceph).max() < 2.5e-3


def test_max_avail_in_plans_starts_at_ceph_df():
    from pgtools.simulate import MarkOut, simulate

    mixed = pgtools.load(SAMPLE_DUMPS / "mixed")
    plan = simulate(mixed, [MarkOut(3)])
    step0 = plan.pools[plan.pools.step == 0].set_index("pool_id").max_avail
    ceph = mixed.pool_stats.set_index("pool_id").max_avail
    assert ((step0 - ceph).abs() / ceph).max() < 1e-6
