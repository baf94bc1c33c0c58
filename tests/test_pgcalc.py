"""PGCalc: worked examples computed by hand from the published formula."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgtools.pgcalc import PRESETS, pgcalc, pgcalc_nearest_power_of_two, pgcalc_preset


def test_openstack_preset_10_osds():
    # 100 x 10 x %data / 3:
    #   images 7 %  -> 23.33 -> nearest 32 (log2 4.54)                      -> 32
    #   volumes 53 % -> 176.67 -> nearest 128 (log2 7.46); 128 < 0.75 x 176.67 = 132.5 -> 256
    #   vms 15 %    -> 50.00 -> nearest 64 (log2 5.64)                      -> 64
    #   backups 25 % -> 83.33 -> nearest 64 (log2 6.38); 64 >= 62.5         -> 64
    df = pgcalc_preset("openstack", 10)
    assert df.pool.tolist() == ["images", "volumes", "vms", "backups"]
    assert df.raw.round(2).tolist() == [23.33, 176.67, 50.0, 83.33]
    assert df.nearest_pow2.tolist() == [32, 128, 64, 64]
    assert df.final.tolist() == [32, 256, 64, 64]
    assert df.pgs_per_osd.tolist() == [9.6, 76.8, 19.2, 19.2]
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
    assert pgcalc_preset("rbd", 30).final.tolist() == [1024]  # 1000 -> 1024
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
