"""pg_autoscaler: the real Pacific capture reproduced, and the release variants on hand-made clusters."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pgtools
from pgtools.crush.rule import Rule
from pgtools.errors import PgtoolsError, PgtoolsWarning
from pgtools.io import crushmap_from_dump
from pgtools.mgr.autoscale import (
    AUTOSCALE_FIELDS,
    autoscale_status,
    effective_target_ratio,
    nearest_power_of_two,
    raw_used_rate,
    release_for,
)
from pgtools.mgr.autoscale_output import (
    autoscale_status_json,
    compare_autoscale_status,
    format_autoscale_status,
    format_bytes,
)
from pgtools.model import Snapshot
from tests.paths import SAMPLE_DUMPS, TEST_DATA

CAPTURE = SAMPLE_DUMPS / "seedlike_max300"


# ------------------------------------------------------------------------------------ helpers
def _smear_ref(n: float) -> int:
    """nearest_power_of_two as §10.3 describes it: truncate, smear bits, compare with the float."""
    v = int(n) - 1
    for s in (1, 2, 4, 8, 16):
        v |= v >> s
    hi = v + 1
    lo = hi >> 1
    return lo if (hi - n) > (n - lo) else hi


def test_nearest_power_of_two():
    assert nearest_power_of_two(48) == 64  # tie rounds up
    assert nearest_power_of_two(47.9) == 32
    assert nearest_power_of_two(3.01) == 4
    assert nearest_power_of_two(2.9) == 2  # int() truncates first: hi = 2
    assert nearest_power_of_two(180) == 128 and nearest_power_of_two(120) == 128
    assert nearest_power_of_two(0.7) == 0 and nearest_power_of_two(1) == 1


@given(st.floats(1.0, 2.0**31 - 1, allow_nan=False))
def test_nearest_power_of_two_matches_bit_smearing(n):
    assert nearest_power_of_two(n) == _smear_ref(n)


def test_format_bytes_as_mgr_util():
    assert format_bytes(323436571, 6) == "308.4M"
    assert format_bytes(327683, 6) == "320.0k"
    assert format_bytes(1310723, 6) == " 1280k"
    assert format_bytes(128849018880, 6) == "120.0G"
    assert format_bytes(0, 6) == "    0 "
    assert format_bytes(1023, 6) == " 1023 "
    assert format_bytes(5242880, 6) == " 5120k"


def test_raw_used_rate_and_effective_ratio():
    assert raw_used_rate({"type": "replicated", "size": 3}) == 3.0
    assert raw_used_rate({"type": "erasure", "size": 5, "ec_k": 3, "ec_m": 2}) == 1.6666666269302368
    assert raw_used_rate({"type": "erasure", "size": 6, "ec_k": 4, "ec_m": 2}) == 1.5
    assert raw_used_rate({"type": "erasure", "size": 6}) == 0.0
    assert effective_target_ratio(0.2, 0.8, 0, 100) == 0.25
    assert effective_target_ratio(0.6, 0.8, 25, 100) == pytest.approx(0.5625)
    assert effective_target_ratio(0.0, 0.8, 0, 100) == 0.0


# ------------------------------------------------------------------------------------ the real capture
def _load(folder):
    snap = pgtools.load(folder)
    if snap.crush is None:  # in case the crush dump parser is not registered with load()
        snap = snap.replace(crush=crushmap_from_dump(json.loads((folder / "crush_dump.json").read_text())))
    return snap


@pytest.fixture(scope="module")
def capture_snap():
    return _load(CAPTURE)


def test_json_only_capture_gives_the_same_json():
    """The JSON-only capture (osd sizes from pg dump JSON's osd_stats) gives byte-identical output."""
    folder = SAMPLE_DUMPS / "seedlike_max300_json"
    text = autoscale_status_json(autoscale_status(_load(folder)))
    assert text == (folder / "autoscale_status.json").read_text().strip()


def test_capture_json_reproduced_exactly(capture_snap):
    df = autoscale_status(capture_snap)
    text = autoscale_status_json(df)
    assert text == (CAPTURE / "autoscale_status.json").read_text().strip()
    assert len(df) == 15
    rbd = df.iloc[0]
    assert rbd.pool_name == "rbd" and rbd.pg_num_ideal == 3 and rbd.pg_num_final == 32
    assert not df.would_adjust.any()
    assert rbd.reason.startswith("pass 1 (not bulk): ratio 0.0075 × 1200 PGs left = 9.04 / size 3")
    assert rbd.reason.endswith("32 is more than 3× away from 128, but autoscale mode is off: no change")


def test_capture_table_reproduced_exactly(capture_snap):
    text = format_autoscale_status(autoscale_status(capture_snap))
    assert text == (TEST_DATA / "pgnum" / "autoscale_status.txt").read_text()


def test_compare_with_the_captured_status(capture_snap):
    assert release_for(capture_snap) == "pacific"
    cmp = compare_autoscale_status(capture_snap)
    assert len(cmp) == 15 * 8 and cmp.match.all()
    row = cmp[(cmp.pool_name == "rbd") & (cmp.field == "pg_num_ideal")].iloc[0]
    assert (row.reported, row.computed) == (3, 3)
    # the Octopus autoscaler disagrees on would_adjust (no mode check then)
    bad = compare_autoscale_status(capture_snap, release="octopus")
    assert set(bad[~bad.match].field) == {"would_adjust"} and (~bad.match).sum() == 15
    with pytest.raises(PgtoolsError):
        compare_autoscale_status(_snap(BULK_POOLS, BULK_STORED))


def test_compare_with_a_plain_table(capture_snap):
    from pgtools.io.autoscale_status import parse

    frag = parse((TEST_DATA / "pgnum" / "autoscale_status.txt").read_text())
    meta = {**capture_snap.meta, "extra": {"autoscale_status": frag.extra}}
    cmp = compare_autoscale_status(capture_snap.replace(meta=meta))
    assert cmp.match.all()
    assert set(cmp.field) == {"pg_num_target", "would_adjust", "capacity_ratio", "effective_target_ratio",
                              "raw_used_rate", "subtree_capacity"}


def test_capture_what_if_mode_on(capture_snap):
    pools = capture_snap.pools.copy()
    pools["pg_autoscale_mode"] = "on"
    df = autoscale_status(capture_snap.replace(pools=pools))
    assert df.would_adjust.all() and set(df.pg_num_final) == {32}
    assert df.reason[0].endswith("would set pg_num 128 -> 32")
    line = format_autoscale_status(df).splitlines()[1]
    assert line.split() == ["rbd", "308.4M", "3.0", "120.0G", "0.0075", "1.0", "128", "32", "on", "False"]
    # Octopus would also flag it with mode off (no mode check before the bulk rework)
    oct_df = autoscale_status(capture_snap, release="octopus")
    assert oct_df.would_adjust.all()


# ------------------------------------------------------------------------------------ hand-made clusters
class _Crush:
    """The part of pgtools.crush.CrushMap the autoscaler uses: ``rules`` and ``subtree_devices``."""

    def __init__(self, roots: dict[int, list[int]], rule_roots: dict[int, int]):
        self._roots = roots
        self.rules = {r: Rule(r, f"rule{r}", None, 1, None, None, ((1, root, 0), (6, 0, 1), (4, 0, 0)))
                      for r, root in rule_roots.items()}

    def subtree_devices(self, bucket_id: int) -> list[int]:
        return list(self._roots[bucket_id])


KB = 3_000_000  # per OSD; 10 OSDs -> capacity 30_720_000_000 bytes


def _snap(pools: list[dict], stored: dict[int, int], *, crush=None, n_osds: int = 10,
          release: str | None = "pacific") -> Snapshot:
    """A hand-made capture; a Pacific one (``ceph versions`` says so) unless ``release`` says otherwise."""
    base = {"type": "replicated", "size": 3, "pg_num": 32, "pgp_num": 32, "pg_num_target": 32,
            "crush_rule": 0, "flags_names": "hashpspool", "pg_autoscale_mode": "on", "target_size_ratio": 0.0,
            "target_size_bytes": 0, "bias": 1.0}
    rows = [{**base, **p} for p in pools]
    pool_df = pd.DataFrame(rows)
    stats = pd.DataFrame({"pool_id": list(stored), "stored": list(stored.values()),
                          "bytes_used": [v * 3 for v in stored.values()]})
    osd_stats = pd.DataFrame({"osd_id": range(n_osds), "kb": [KB] * n_osds})
    crush = crush or _Crush({-1: list(range(n_osds))}, {0: -1})
    return Snapshot(pools=pool_df, pool_stats=stats, osd_stats=osd_stats, crush=crush,
                    meta={"release": release} if release else {})


# pool 1 "small": 10 % of capacity (stored x 3 / capacity), not bulk
# pool 2 "tiny": bulk, almost empty       pool 3 "big": bulk, 60 % of capacity
BULK_POOLS = [
    {"pool_id": 1, "pool": "small"},
    {"pool_id": 2, "pool": "tiny", "flags_names": "hashpspool,bulk", "pg_autoscale_mode": "warn"},
    {"pool_id": 3, "pool": "big", "flags_names": "hashpspool,bulk"},
]
BULK_STORED = {1: 1_024_000_000, 2: 1_000_000, 3: 6_144_000_000}


def test_pacific_three_passes_by_hand():
    # budget 10 OSDs x 100 = 1000 PG replicas
    # pass 1, small: 0.1 x 1000 = 100 used -> left 900; 100 / 3 = 33.3 -> 32
    # pass 2, big: even share 1/(3-1) = 0.5 < 0.6 -> 0.6 x 900 = 540 -> left 360; 180 -> 128
    # pass 3, tiny: 1/(3-2) x 360 / 3 = 120 -> 128
    df = autoscale_status(_snap(BULK_POOLS, BULK_STORED))
    assert df.pool_name.tolist() == ["small", "big", "tiny"]  # Ceph's output order: by pass
    assert df["pass"].tolist() == [1, 2, 3]
    assert df.pg_num_ideal.tolist() == [33, 180, 120]
    assert df.pg_num_final.tolist() == [32, 128, 128]
    assert df.would_adjust.tolist() == [False, True, False]  # tiny is in warn mode
    assert df.capacity_ratio.tolist() == pytest.approx([0.1, 0.6, 3_000_000 / 30_720_000_000])
    assert df.bulk.tolist() == [False, True, True]
    assert df.subtree_capacity.tolist() == [30_720_000_000] * 3
    assert "pass 2 (bulk, ratio 0.6000 above the even share 0.5000)" in df.reason[1]
    assert "pass 3 (bulk, even share): 1/1 of 360 PGs left" in df.reason[2]
    assert "autoscale mode is warn" in df.reason[2]
    assert list(df.columns[:len(AUTOSCALE_FIELDS)]) == AUTOSCALE_FIELDS


def test_bulk_pool_at_even_share_goes_to_pass_3():
    stored = {**BULK_STORED, 3: 5_120_000_000}  # exactly 0.5 = the even share: not above it
    df = autoscale_status(_snap(BULK_POOLS, stored))
    assert df.pool_name.tolist() == ["small", "tiny", "big"]
    assert df["pass"].tolist() == [1, 3, 3]
    # both split 900 evenly: 1/2 x 900 / 3 = 150 -> 128
    assert df.pg_num_ideal.tolist() == [33, 150, 150]
    assert df.pg_num_final.tolist() == [32, 128, 128]


def test_octopus_and_nautilus_one_pass():
    snap = _snap(BULK_POOLS, BULK_STORED)
    oc = autoscale_status(snap, release="octopus").set_index("pool_name")
    # one pass over the whole budget: big 0.6 x 1000 / 3 = 200 -> 256; tiny -> 0 -> PG_NUM_MIN 32
    assert oc.loc["big", "pg_num_final"] == 256 and oc.loc["tiny", "pg_num_final"] == 32
    assert oc.loc["small", "pg_num_final"] == 32
    assert oc.would_adjust.tolist() == [False, False, True]
    assert isinstance(oc.loc["big", "subtree_capacity"], float)
    na = autoscale_status(snap, release="nautilus").set_index("pool_name")
    # Nautilus reads bytes_used (= stored x 3 here) and PG_NUM_MIN is 4; no mode check
    assert na.loc["tiny", "pg_num_final"] == 4 and bool(na.loc["tiny", "would_adjust"])
    assert na.loc["big", "logical_used"] == 3 * 6_144_000_000
    assert na.loc["big", "pg_num_final"] == 512  # ratio 1.8 x 1000 / rate 3 = 600 -> 512
    assert not bool(na.loc["big", "would_adjust"])  # final ratio above 1.0 never adjusts
    hdr = format_autoscale_status(na.reset_index(), release="nautilus").splitlines()[0]
    assert hdr.split("  ")[0] == "POOL"
    assert "EFFECTIVE" not in hdr and "BULK" not in hdr


def test_reef_reads_bytes_used_and_noautoscale():
    snap = _snap(BULK_POOLS, BULK_STORED)
    df = autoscale_status(snap, release="reef", noautoscale=True)
    assert df.logical_used.tolist() == [1_024_000_000.0, 6_144_000_000.0, 1_000_000.0]
    assert df.pg_num_final.tolist() == [32, 128, 128]
    lines = format_autoscale_status(df, release="reef").splitlines()
    assert [ln.split()[-2] for ln in lines[1:]] == ["off", "off", "off"]
    # Pacific ignores the flag in the table
    assert format_autoscale_status(autoscale_status(snap), release="pacific").splitlines()[1].split()[-2] == "on"


def test_target_ratios_are_normalised():
    pools = [{"pool_id": 1, "pool": "a", "target_size_ratio": 0.2},
             {"pool_id": 2, "pool": "b", "target_size_ratio": 0.6},
             {"pool_id": 3, "pool": "c", "target_size_bytes": 7_680_000_000}]
    stored = {1: 1000, 2: 1000, 3: 1000}
    df = autoscale_status(_snap(pools, stored)).set_index("pool_name")
    # c reserves 7.68e9 x 3 = 75 % of capacity; a and b share the rest 1:3
    assert df.loc["a", "effective_target_ratio"] == pytest.approx(0.25 * 0.25)
    assert df.loc["b", "effective_target_ratio"] == pytest.approx(0.75 * 0.25)
    assert df.loc["c", "target_bytes"] == 7_680_000_000 and df.loc["c", "capacity_ratio"] == pytest.approx(0.75)
    # pass 1 in pool order: a 0.0625 x 1000 = 62.5 -> left 938; b 0.1875 x 938 = 175.875 -> left 763;
    # c 0.75 x 763 = 572.25
    assert df.pg_num_ideal.tolist() == [20, 58, 190]
    assert df.pg_num_final.tolist() == [32, 64, 128]
    table = format_autoscale_status(df.reset_index())
    assert table.splitlines()[3].split()[:5] == ["c", "1000", "7324M", "3.0", "29296M"]


def test_overlapping_roots_are_skipped():
    crush = _Crush({-1: list(range(10)), -2: [0, 1, 2, 3, 4]}, {0: -1, 1: -2})
    pools = [{"pool_id": 1, "pool": "a"}, {"pool_id": 2, "pool": "b", "crush_rule": 1}]
    snap = _snap(pools, {1: 10**9, 2: 10**9}, crush=crush)
    assert autoscale_status(snap).empty
    df = autoscale_status(snap, include_skipped=True)
    assert df.skipped.tolist() == [True, True]
    assert "CRUSH root -1 overlaps" in df.reason[0] and "(-1, -2)" in df.reason[0]
    assert autoscale_status_json(df) == "[]"
    # Octopus did not skip them
    assert len(autoscale_status(snap, release="octopus")) == 2


def test_budget_from_config():
    snap = _snap(BULK_POOLS, BULK_STORED).replace(config={"mon_target_pg_per_osd": "200"})
    # budget 2000: small 0.1 x 2000 = 200 -> 66.7 -> 64; big 0.6 x 1800 = 1080 -> 360 -> 256;
    # tiny 720 / 3 = 240 -> 256
    df = autoscale_status(snap, mon_target_pg_per_osd=None)
    assert df.pg_num_ideal.tolist() == [66, 360, 240]
    assert df.pg_num_final.tolist() == [64, 256, 256]
    assert autoscale_status(snap).pg_num_final.tolist() == [32, 128, 128]  # explicit default 100


def test_empty_snapshot():
    df = autoscale_status(Snapshot())
    assert df.empty and list(df.columns[:3]) == ["pool_id", "pool_name", "crush_root_id"]
    assert format_autoscale_status(df).startswith("POOL  SIZE  TARGET SIZE")


def test_missing_inputs_and_bad_arguments():
    snap = _snap(BULK_POOLS, {1: 10**9})
    df = autoscale_status(snap, include_skipped=True)
    assert df.pool_name.tolist() == ["small", "tiny", "big"]
    assert df.skipped.tolist() == [False, True, True]
    assert "no usage statistics" in df.reason[1]
    with pytest.raises(ValueError):
        autoscale_status(snap, release="luminous")
    with pytest.raises(ValueError):
        autoscale_status(snap, threshold=0.5)
    with pytest.warns(PgtoolsWarning, match="no CRUSH map: all OSDs taken as one CRUSH subtree"):
        no_crush = autoscale_status(_snap(BULK_POOLS, BULK_STORED).replace(crush=None))
    assert no_crush.crush_root_id.isna().all() and no_crush.pg_num_final.tolist() == [32, 128, 128]
