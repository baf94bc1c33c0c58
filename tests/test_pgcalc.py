"""PGCalc: worked examples computed by hand from the published formula."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgtools.mgr.pgcalc import (
    PRESET_DEFAULTS,
    PRESET_TITLES,
    PRESETS,
    pgcalc,
    pgcalc_nearest_power_of_two,
    pgcalc_preset,
    pgcalc_script_minimum,
)


def test_openstack_preset_10_osds():
    # 100 x 10 x %data / 3:
    #   cinder-backup 25 %  -> 83.33 -> nearest 64 (log2 6.38); 64 >= 62.5         -> 64
    #   cinder-volumes 53 % -> 176.67 -> nearest 128 (log2 7.46); 128 < 0.75 x 176.67 = 132.5 -> 256
    #   ephemeral-vms 15 %  -> 50.00 -> nearest 64 (log2 5.64)                      -> 64
    #   glance-images 7 %   -> 23.33 -> nearest 32 (log2 4.54)                      -> 32
    df = pgcalc_preset("openstack", 10)
    assert df.pool.tolist() == ["cinder-backup", "cinder-volumes", "ephemeral-vms", "glance-images"]
    assert df.raw.round(2).tolist() == [83.33, 176.67, 50.0, 23.33]
    assert df.nearest_pow2.tolist() == [64, 128, 64, 32]
    assert df.final.tolist() == [64, 256, 64, 32]
    assert df.pgs_per_osd.tolist() == [19.2, 76.8, 19.2, 9.6]
    assert df.reason[1] == ("100 × 10 OSDs × 53% / size 3 = 176.67; nearest power of two 128; "
                            "128 is more than 25% below 176.67: next higher 256")


def test_floor_of_osds_over_size():
    # 12 OSDs, 0.5 %: 100 x 12 x 0.005 / 3 = 2.0 < 12 / 3 = 4 -> 4
    df = pgcalc(12, [("meta", 3, 0.5)])
    assert df.loc[0, "raw"] == pytest.approx(2.0)
    assert df.loc[0, "min_floor"] == 4.0 and df.loc[0, "value"] == 4.0
    assert df.loc[0, "final"] == 4
    assert "below OSDs/size = 4.00, raised to it" in df.loc[0, "reason"]


def test_rounding_edges():
    # 48 (tie between 32 and 64) -> 64; 44 -> nearest 32, but 32 < 33 -> 64; 42 -> 32 (32 >= 31.5)
    df = pgcalc(12, [("a", 3, 12.0), ("b", 3, 11.0)])  # 100 x 12 x 12 % / 3 = 48; x 11 % = 44
    assert df.raw.tolist() == [48.0, 44.0]
    assert df.nearest_pow2.tolist() == [64, 32] and df.final.tolist() == [64, 64]
    df = pgcalc(42, [("c", 3, 3.0)])
    assert df.raw.tolist() == [pytest.approx(42.0)] and df.final.tolist() == [32]
    assert pgcalc_nearest_power_of_two(48) == (64, 64)
    assert pgcalc_nearest_power_of_two(1) == (1, 1)
    assert pgcalc_nearest_power_of_two(0.3) == (1, 1)


def test_big_and_erasure_examples():
    # 100 OSDs, one pool with all data, size 3: 3333.33 -> 4096 (log2 11.70)
    assert pgcalc(100, [("rbd", 3, 100.0)]).final.tolist() == [4096]
    # EC 4+2 (size 6), 60 OSDs, target 200: 200 x 60 / 6 = 2000 -> 2048
    df = pgcalc(60, [("ec", 6, 100.0)], target_per_osd=200)
    assert df.raw.tolist() == [2000.0] and df.final.tolist() == [2048]
    # per-pool OSD counts and targets from the frame
    frame = pd.DataFrame({"pool": ["x", "y"], "size": [3, 2], "percent_data": [50.0, 50.0],
                          "osds": [30, None], "target_per_osd": [None, 300]})
    df = pgcalc(10, frame)
    assert df.osds.tolist() == [30, 10] and df.target_per_osd.tolist() == [100, 300]
    assert df.raw.tolist() == [500.0, 750.0]
    assert df.final.tolist() == [512, 1024]  # 500: log2 8.97 -> 512; 750: log2 9.55 -> 1024


def test_presets_sum_to_100_and_errors():
    for name, split in PRESETS.items():
        assert math.isclose(sum(split.values()), 100.0), name
    # RBD and libRados: 750 -> 1024 (log2 9.55), 250 -> 256; All-in-One: 1000 -> 1024
    assert pgcalc_preset("rbd", 30).final.tolist() == [1024, 256]
    assert pgcalc_preset("all_in_one", 30).final.tolist() == [1024]
    with pytest.raises(ValueError, match="unknown PGCalc preset"):
        pgcalc_preset("nope", 10)
    with pytest.raises(ValueError):
        pgcalc(0, [("a", 3, 10.0)])
    with pytest.raises(ValueError):
        pgcalc(10, [("a", 3, 120.0)])
    with pytest.raises(ValueError):
        pgcalc(10, [("a", 0, 10.0)])
    with pytest.raises(ValueError):
        pgcalc(10, pd.DataFrame({"pool": ["a"], "size": [3]}))


@given(st.floats(0.01, 1e7, allow_nan=False))
def test_pgcalc_rounding_property(x):
    nearest, final = pgcalc_nearest_power_of_two(x)
    assert final in (nearest, 2 * nearest)
    assert final & (final - 1) == 0
    # never more than 25 % below the value, never more than 2x above (beyond 1)
    assert final >= 0.75 * x
    assert final <= max(2 * x, 1)


def test_presets_are_the_calculators():
    # ceph/ceph doc/_static/js/pgcalc.js, presetTables (pool names, %Data and row order)
    assert {k: v for k, v in PRESET_TITLES.items() if k != "cephfs"} == {
        "all_in_one": "All-in-One", "openstack": "OpenStack",
        "openstack_rgw": "OpenStack w RGW - Jewel and later", "rgw": "Rados Gateway Only - Jewel and later",
        "openstack_rgw_infernalis": "OpenStack w RGW - Infernalis and earlier",
        "rgw_infernalis": "Rados Gateway Only - Infernalis and earlier", "rbd": "RBD and libRados"}
    assert list(PRESETS) == list(PRESET_TITLES)
    assert PRESETS["openstack"] == {"cinder-backup": 25.0, "cinder-volumes": 53.0, "ephemeral-vms": 15.0,
                                    "glance-images": 7.0}
    assert list(PRESETS["openstack"]) == ["cinder-backup", "cinder-volumes", "ephemeral-vms", "glance-images"]
    assert PRESETS["rbd"] == {"rbd": 75.0, "myObjects": 25.0} and PRESETS["all_in_one"] == {"rbd": 100.0}
    assert {k: len(v) for k, v in PRESETS.items()} == {
        "all_in_one": 1, "openstack": 4, "openstack_rgw": 19, "rgw": 15, "openstack_rgw_infernalis": 18,
        "rgw_infernalis": 14, "rbd": 2, "cephfs": 2}
    jewel = PRESETS["openstack_rgw"]
    assert list(jewel)[:3] == [".rgw.root", "default.rgw.control", "default.rgw.data.root"]
    assert [jewel[p] for p in ("default.rgw.buckets.extra", "default.rgw.buckets.index", "default.rgw.buckets.data",
                               "cinder-backup", "cinder-volumes", "ephemeral-vms", "glance-images")] == \
        [1.0, 3.0, 19.0, 18.0, 42.8, 10.0, 5.0]
    assert sum(v == 0.1 for v in jewel.values()) == 12
    assert PRESETS["rgw"]["default.rgw.buckets.data"] == 94.8
    assert [PRESETS["openstack_rgw_infernalis"][p] for p in (".rgw.buckets", "cinder-backup", "cinder-volumes")] == \
        [18.0, 19.0, 42.9]
    assert PRESETS["rgw_infernalis"][".rgw.buckets"] == 94.9
    assert PRESET_DEFAULTS == {"size": 3, "osds": 100, "target_per_osd": 100}
    # the calculator has no CephFS use case: pgtools' own, labelled as such, last
    assert list(PRESETS)[-1] == "cephfs" and "not a PGCalc use case" in PRESET_TITLES["cephfs"]
    assert PRESETS["cephfs"] == {"cephfs_data": 97.0, "cephfs_metadata": 3.0}


def test_script_rule_differs_from_the_text():
    # the page's script: min = steps 3-4 of floor(osds/size)+1, doubled once if below the OSD count
    assert [pgcalc_script_minimum(o, s) for o, s in ((100, 3), (12, 3), (3, 3), (200, 3), (60, 6))] == \
        [64, 8, 4, 128, 32]
    # RGW preset at the calculator's defaults (100 OSDs, size 3, target 100): 0.1 % -> raw 3.33
    text = pgcalc_preset("rgw").set_index("pool")
    js = pgcalc_preset("rgw", script=True).set_index("pool")
    assert text.loc[".rgw.root", "final"] == 32        # text: max(3.33, 33.33) -> nearest 32
    assert js.loc[".rgw.root", "final"] == 64          # script: max(nearestPow2(3) = 4, minimum 64)
    assert js.loc[".rgw.root", "reason"] == ("100 × 100 OSDs × 0.1% / size 3 = 3.33; floor 3: nearest power of "
                                             "two 4; below the script's minimum 64 for 100 OSDs / size 3: 64")
    # big pools agree: 94.8 % -> 3160 -> 4096; 3 % -> 100 -> 128
    assert text.loc["default.rgw.buckets.data", "final"] == js.loc["default.rgw.buckets.data", "final"] == 4096
    assert text.loc["default.rgw.buckets.index", "final"] == js.loc["default.rgw.buckets.index", "final"] == 128
    assert js.loc["default.rgw.buckets.index", "value"] == 100.0
    # the script floors before rounding: 48.9 -> 48 -> 64; 0.33 -> 0 -> its minimum, 8 for 10 OSDs of size 3
    df = pgcalc(10, [("a", 3, 14.67), ("b", 3, 0.1)], script=True)
    assert df.value.tolist() == [48.0, 0.0] and df.final.tolist() == [64, 8]
    assert pgcalc(10, [("b", 3, 0.1)]).final.tolist() == [4]
    # the calculator's own OpenStack numbers at its defaults
    assert pgcalc_preset("openstack").final.tolist() == pgcalc_preset("openstack", script=True).final.tolist() == \
        [1024, 2048, 512, 256]
