from __future__ import annotations

import dataclasses
import difflib
import functools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.crush import hash as crush_hash
from pgtools.errors import PgtoolsError
from pgtools.io import NONE, crushmap_from_dump, loads_json, osd_dump, read_text
from pgtools.model import Snapshot
from pgtools.placement import (
    adjust_crush_weight,
    compile_snapshot,
    map_pgs,
    mark_out,
    verify_placement,
    with_pg_num,
)
from pgtools.placement.osdmaptool import (
    format_float,
    osdmaptool_output,
    render_test_map_pg,
    render_test_map_pgs,
)
from pgtools.placement.pgmath import pg_num_mask, stable_mod
from tests.paths import CRUSH_CASES, REAL, TEST_DATA

DATA = TEST_DATA / "osdmap"
CASE23 = "23_osdmap_reweight_out_down_affinity_upmap"
needs_shared = pytest.mark.skipif(not CRUSH_CASES.exists(), reason="shared reference data not present")


def snapshot_from(osd_dump_path, crush_path) -> Snapshot:
    fr = osd_dump.parse(read_text(osd_dump_path), source=str(osd_dump_path))
    crush = crushmap_from_dump(json.loads(read_text(crush_path)), source=str(crush_path))
    return Snapshot(pools=fr.pools, osds=fr.osds, osdmap=fr.osdmap, crush=crush,
                    meta={"epoch": fr.epoch})


@functools.cache
def case_snapshot(case: str) -> Snapshot:
    return snapshot_from(CRUSH_CASES / case / "osd_dump.json", CRUSH_CASES / case / "crush.json")


def _oracle_tests():
    out = []
    if not CRUSH_CASES.exists():
        return out
    for case_json in sorted(CRUSH_CASES.glob("*/case.json")):
        case = case_json.parent.name
        for t in json.loads(case_json.read_text()).get("tests", []):
            cmd = t.get("cmd", "")
            if cmd.startswith("osdmaptool "):
                out.append(pytest.param(case, cmd.split()[2:], CRUSH_CASES / case / t["output"],
                                        id=f"{case[:2]}:{t['output'].split('/')[-1]}"))
    manifest = json.loads((DATA / "oracles" / "manifest.json").read_text())
    for t in manifest["tests"]:
        out.append(pytest.param(t["case"], t["args"].split(), DATA / "oracles" / t["output"],
                                id=f"local:{t['output']}"))
    return out


def _assert_same_text(got: str, exp: str) -> None:
    if got != exp:
        diff = "".join(list(difflib.unified_diff(exp.splitlines(True), got.splitlines(True),
                                                 "osdmaptool", "pgtools"))[:40])
        pytest.fail("output differs from osdmaptool:\n" + diff)


# ------------------------------------------------------------------------------ osdmaptool oracles


@needs_shared
@pytest.mark.oracle
@pytest.mark.parametrize("case, args, expected", _oracle_tests())
def test_osdmaptool_byte_identical(case, args, expected):
    got = osdmaptool_output(case_snapshot(case), args)
    _assert_same_text(got, expected.read_text())


@needs_shared
def test_oracle_inventory():
    # every osdmaptool output of the six shared cases + 8 local ones are covered
    assert len(_oracle_tests()) == 3 + 3 + 3 + 19 + 13 + 3 + 8


# ------------------------------------------------------------------------------ real capture


@functools.cache
def real_snapshot() -> Snapshot:
    snap = snapshot_from(REAL / "osd_dump.json", REAL / "crush_dump.json")
    d = loads_json(read_text(REAL / "pg_dump.json"))
    stats = d["pg_map"]["pg_stats"]
    pgs = pd.DataFrame({
        "pgid": [s["pgid"] for s in stats],
        "pool_id": [int(s["pgid"].split(".")[0]) for s in stats],
        "ps": [int(s["pgid"].split(".")[1], 16) for s in stats],
        "up": [tuple(s["up"]) for s in stats],
        "up_primary": [s["up_primary"] for s in stats],
        "acting": [tuple(s["acting"]) for s in stats],
        "acting_primary": [s["acting_primary"] for s in stats],
    })
    return snap.replace(pgs=pgs)


@pytest.mark.skipif(not REAL.exists(), reason="real capture not present")
@pytest.mark.oracle
def test_real_capture_pg_dump_and_osdmaptool():
    snap = real_snapshot()
    assert len(snap.pgs) == 1920
    bad = verify_placement(snap)
    assert len(bad) == 0
    _assert_same_text(osdmaptool_output(snap, ["--test-map-pgs-dump-all"]),
                      (REAL / "osdmaptool_map_all.txt").read_text())
    _assert_same_text(osdmaptool_output(snap, ["--test-map-pgs"]),
                      (REAL / "osdmaptool_test_map_pgs.txt").read_text())


@pytest.mark.skipif(not REAL.exists(), reason="real capture not present")
def test_verify_placement_reports_a_tampered_pg():
    snap = real_snapshot()
    pgs = snap.pgs.copy()
    i = pgs.index[pgs["pgid"] == "3.1f"][0]
    orig = pgs.at[i, "up"]
    pgs.at[i, "up"] = (orig[1], orig[0], orig[2])
    bad = verify_placement(snap.replace(pgs=pgs))
    assert bad["pgid"].tolist() == ["3.1f"]
    assert bad.iloc[0]["up_calc"] == orig
    assert bad.iloc[0]["acting_calc"] == orig


@pytest.mark.skipif(not REAL.exists(), reason="real capture not present")
def test_map_pgs_frame_shape_and_values():
    df = map_pgs(real_snapshot(), 1)
    assert list(df.columns) == ["pgid", "pool_id", "ps", "pps", "raw", "up", "up_primary", "acting",
                                "acting_primary"]
    assert len(df) == 128
    assert df.loc[0, "pgid"] == "1.0"
    assert df.loc[0, "up"] == (11, 7, 3)
    assert df.loc[1, "acting"] == (7, 0, 11)
    assert df.loc[0, "pps"] == crush_hash.hash2(0, 1)
    assert df["pool_id"].dtype == np.int64 and df["up_primary"].dtype == np.int64


# ------------------------------------------------------------------------------ §13 vectors


@functools.cache
def spec13() -> Snapshot:
    return snapshot_from(DATA / "spec13_osd_dump.json", DATA / "spec13_crush.json")


def _spec_snap(rule: int, weights=None) -> Snapshot:
    snap = spec13()
    pools = snap.pools.copy()
    pools["crush_rule"] = rule
    if rule == 1:
        pools["type"] = "erasure"
        if "type_id" in pools:
            pools["type_id"] = 3
    osds = snap.osds.copy()
    if weights is not None:
        osds["weight_fixed"] = weights
        osds["reweight"] = [w / 0x10000 for w in weights]
    return snap.replace(pools=pools, osds=osds)


W2 = [0x10000, 0, 0x8000, 0x10000, 0x10000, 0x10000]
PPS = [91478055, 3308535608, 3817799236, 1156777298, 1039746536, 4119553837, 3614737657, 1337247920]
R0_W = [(3, 0, 5), (5, 2, 0), (2, 4, 0), (3, 5, 0), (1, 5, 2), (2, 4, 0), (5, 2, 1), (5, 3, 1)]
R0_W2 = [(3, 0, 5), (5, 2, 0), (3, 4, 0), (3, 5, 0), (5, 3, 0), (4, 0, 3), (5, 2, 0), (5, 3, 0)]
R1_W = [(3, 0, 5), (5, 0, 2), (2, 0, 4), (3, 5, 0), (1, 5, 2), (2, 5, 0), (5, 0, 3), (5, 2, 0)]
R1_W2 = [(3, 0, 5), (5, 0, 2), (3, 0, 4), (3, 5, 0), (0, 5, 3), (3, 5, 0), (5, 0, 3), (5, 3, 0)]
R2_W = [(3, 0, 5), (5, 2, 0), (2, 3, 4), (3, 5, 0), (1, 5, 4), (2, 4, 0), (5, 4, 2), (5, 3, 1)]


@pytest.mark.parametrize("engine", ["vector", "reference"])
@pytest.mark.parametrize("rule, weights, expected", [
    (0, None, R0_W), (0, W2, R0_W2), (1, None, R1_W), (1, W2, R1_W2), (2, None, R2_W)])
def test_spec13_table(engine, rule, weights, expected):
    df = map_pgs(_spec_snap(rule, weights), engine=engine)
    assert df["pps"].tolist() == PPS
    assert df["raw"].tolist() == expected
    assert df["up"].tolist() == expected
    assert df["acting_primary"].tolist() == [e[0] for e in expected]


def test_stable_mod_and_masks():
    assert [pg_num_mask(n) for n in (1, 8, 12, 100, 128)] == [0, 7, 15, 127, 127]
    assert stable_mod(100, 100, 127) == 36
    assert stable_mod(99, 100, 127) == 99
    assert stable_mod(64, 32, 31) == 0


def test_pool_without_matching_rule_maps_to_nothing():
    snap = spec13()
    pools = snap.pools.copy()
    pools["size"] = 11  # rule 0 has max_size 10
    df = map_pgs(snap.replace(pools=pools))
    assert df["raw"].tolist() == [()] * 8
    assert df["up_primary"].tolist() == [-1] * 8


def test_pg_num_override_keeps_pgp_num():
    snap = spec13()
    df = map_pgs(snap, 1, pg_num=16)
    assert len(df) == 16
    # pgp_num stays 8: ps 8..15 reuse the seeds of ps 0..7
    assert df["pps"].tolist() == PPS + PPS
    assert with_pg_num(snap, 16).pools["pgp_num"].tolist() == [8]
    with pytest.raises(PgtoolsError):
        map_pgs(snap, 7)


def test_mark_out_and_adjust_are_pure():
    snap = spec13()
    out = mark_out(snap, [5], mark_up=True)
    assert snap.osds.loc[5, "weight_fixed"] == 0x10000
    assert out.osds.loc[5, "weight_fixed"] == 0 and not out.osds.loc[5, "in"]
    df = map_pgs(out)
    assert all(5 not in up for up in df["up"])
    adj = adjust_crush_weight(snap, {5: 0.0})
    assert snap.crush.buckets[-4].weights == (0x10000, 0x20000)
    assert adj.crush.buckets[-4].weights == (0x10000, 0)
    assert all(5 not in up for up in map_pgs(adj)["up"])


def test_format_float_like_cpp():
    assert [format_float(x) for x in (1.0, 0.5, 0.79998779296875, 30.31964, 1e-7, 123456789.0)] == [
        "1", "0.5", "0.799988", "30.3196", "1e-07", "1.23457e+08"]
    assert format_float(float("inf")) == "inf"


def test_test_map_pg_missing_pool_and_bad_pgid():
    snap = spec13()
    assert render_test_map_pg(snap, "9.0") == " parsed '9.0' -> 9.0\n9.0 raw ([], p-1) up ([], p-1) acting ([], p-1)\n"
    with pytest.raises(PgtoolsError):
        render_test_map_pg(snap, "x")
    with pytest.raises(PgtoolsError):
        render_test_map_pgs(snap, pool=9)


# ------------------------------------------------------------------------------ vector == reference

_OSD = st.integers(-1, 21) | st.just(NONE)


@st.composite
def _configs(draw):
    pool = draw(st.sampled_from([1, 2, 3]))
    pg_num = draw(st.integers(1, 48))
    pgp_num = draw(st.integers(1, pg_num))
    ps = st.integers(0, pg_num - 1)
    upmap_items = draw(st.dictionaries(ps, st.lists(st.tuples(_OSD, _OSD), min_size=1, max_size=3),
                                       max_size=6))
    upmap = draw(st.dictionaries(ps, st.lists(_OSD, min_size=0, max_size=6), max_size=4))
    temp = draw(st.dictionaries(ps, st.lists(_OSD, min_size=0, max_size=6), max_size=4))
    ptemp = draw(st.dictionaries(ps, st.integers(-1, 21), max_size=4))
    aff = draw(st.lists(st.sampled_from([0, 0x4000, 0x8000, 0xC000, 0x10000]), min_size=20, max_size=20))
    # mostly-in clusters: many out OSDs make CRUSH retry a lot (slow, and not what we test here)
    weights = draw(st.lists(st.sampled_from([0x10000] * 5 + [0, 0x8000, 0xF000]), min_size=20, max_size=20))
    up = draw(st.lists(st.sampled_from([True, True, True, False]), min_size=20, max_size=20))
    gone = draw(st.sets(st.integers(0, 19), max_size=3))
    exists = [i not in gone for i in range(20)]
    return pool, pg_num, pgp_num, upmap_items, upmap, temp, ptemp, aff, weights, up, exists


@needs_shared
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_configs())
def test_vector_equals_reference(cfg):
    pool, pg_num, pgp_num, upmap_items, upmap, temp, ptemp, aff, weights, up, exists = cfg
    base = case_snapshot(CASE23)
    pools = base.pools.copy()
    sel = pools["pool_id"] == pool
    pools.loc[sel, "pg_num"] = pg_num
    pools.loc[sel, "pgp_num"] = pgp_num
    osds = base.osds.copy()
    osds["primary_affinity_fixed"] = aff
    osds["weight_fixed"] = weights
    osds["up"] = up
    osds["exists"] = exists
    om = dict(base.osdmap)
    om["pg_upmap_items"] = {f"{pool}.{k:x}": tuple(v) for k, v in upmap_items.items()}
    om["pg_upmap"] = {f"{pool}.{k:x}": tuple(v) for k, v in upmap.items()}
    om["pg_temp"] = {f"{pool}.{k:x}": tuple(v) for k, v in temp.items()}
    om["primary_temp"] = {f"{pool}.{k:x}": v for k, v in ptemp.items()}
    snap = base.replace(pools=pools, osds=osds, osdmap=om)
    vec = map_pgs(snap, pool)
    ref = map_pgs(snap, pool, engine="reference")
    pd.testing.assert_frame_equal(vec, ref)
    assert len(vec) == pg_num


def test_compile_is_cached_per_snapshot():
    snap = spec13()
    assert compile_snapshot(snap) is compile_snapshot(snap)
    assert compile_snapshot(snap.replace()) is not compile_snapshot(snap)


def test_compile_tolerates_missing_and_na_osd_columns():
    snap = spec13()
    osds = snap.osds[["osd_id", "reweight", "up"]].copy()
    osds["reweight"] = [1.0, None, 0.5, 1.0, 1.0, 1.0]
    osds["up"] = pd.array([True, True, None, True, True, True], dtype="boolean")
    c = compile_snapshot(snap.replace(osds=osds))
    assert c.weight.tolist() == [0x10000, 0x10000, 0x8000, 0x10000, 0x10000, 0x10000]
    assert c.up.tolist() == [True] * 6
    assert c.exists.all() and c.affinity is None


def test_down_and_nonexistent_osds_reference_semantics():
    snap = spec13()
    osds = snap.osds.copy()
    osds.loc[4, "up"] = False        # down: CRUSH still picks it, removed at the up stage
    osds.loc[0, "exists"] = False    # does not exist: weight 0 for CRUSH, like Ceph
    snap = snap.replace(osds=osds)
    row = map_pgs(snap).set_index("pgid").loc["1.2"]  # all in: CRUSH gives [2,4,0]
    assert row["raw"] == (2, 4, 1)
    assert row["up"] == (2, 1)
    ec = _spec_snap(1).replace(osds=osds)
    ec_rows = map_pgs(ec).set_index("pgid")
    assert ec_rows.loc["1.2", "raw"] == (2, 1, 4)
    assert ec_rows.loc["1.2", "up"] == (2, 1, NONE)
    # an upmap target that does not exist survives _apply_upmap and is dropped/NONE'd at up
    om = dict(snap.osdmap)
    om["pg_upmap_items"] = {"1.2": ((2, 6),)}
    row = map_pgs(snap.replace(osdmap=om)).set_index("pgid").loc["1.2"]
    assert row["up"] == (1,)
    assert row["up_primary"] == 1
    row = map_pgs(ec.replace(osdmap=om)).set_index("pgid").loc["1.2"]
    assert row["up"] == (NONE, 1, NONE)
    assert row["up_primary"] == 1


@pytest.mark.parametrize("engine", ["vector", "reference"])
def test_temp_semantics(engine):
    snap = spec13()
    osds = snap.osds.copy()
    osds.loc[3, "up"] = False
    om = dict(snap.osdmap)
    om["pg_temp"] = {"1.0": (5, 3, 1), "1.3": (3, 5, 0)}
    om["primary_temp"] = {"1.1": 2, "1.3": 0}
    snap = snap.replace(osds=osds, osdmap=om)
    df = map_pgs(snap, engine=engine).set_index("pgid")
    got = {pg: (df.loc[pg, "up"], df.loc[pg, "up_primary"], df.loc[pg, "acting"], df.loc[pg, "acting_primary"])
           for pg in ("1.0", "1.1", "1.3")}
    assert got == {
        "1.0": ((0, 5), 0, (5, 1), 5),        # pg_temp with a down OSD dropped
        "1.1": ((5, 2, 0), 5, (5, 2, 0), 2),  # primary_temp alone keeps up as acting
        "1.3": ((5, 0), 5, (5, 0), 0),        # primary_temp wins over pg_temp's first
    }
    ec = _spec_snap(1).replace(osds=osds, osdmap={**om, "pg_temp": {"1.0": (3, 0, 5)}, "primary_temp": {}})
    row = map_pgs(ec, engine=engine).set_index("pgid").loc["1.0"]
    assert row["up"] == (NONE, 0, 5)
    assert (row["acting"], row["acting_primary"]) == ((NONE, 0, 5), 0)


@pytest.mark.oracle
@pytest.mark.parametrize("args, output", [(["--test-map-pgs-dump-all"], "pgs_dump_all.txt"),
                                          (["--test-map-pgs"], "pgs_stats.txt")])
def test_choose_args_per_pool_and_compat_fallback(args, output):
    d = DATA / "choose_args"
    snap = snapshot_from(d / "osd_dump.json", d / "crush.json")
    assert sorted(snap.crush.choose_args) == [-1, 1]
    _assert_same_text(osdmaptool_output(snap, args), (d / output).read_text())
    # without the weight sets the mapping is different (the test can fail)
    plain = snap.replace(crush=dataclasses.replace(snap.crush, choose_args={}, _cache={}))
    assert osdmaptool_output(plain, args) != (d / output).read_text()
