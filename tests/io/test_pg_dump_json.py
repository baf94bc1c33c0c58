from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import pg_dump_json
from pgtools.io._common import NONE, loads_json, read_text
from tests.io._mutate import mutations, texts
from tests.paths import PUBLIC, REAL, TEST_DATA

DATA = TEST_DATA / "json"


def _load(path):
    text = read_text(path)
    obj = loads_json(text, source=str(path))
    assert pg_dump_json.sniff(text, obj)
    return pg_dump_json.parse(text, source=str(path), obj=obj)


@pytest.fixture(scope="module")
def full():
    return _load(REAL / "pg_dump.json")


def test_full_dump_counts(full):
    pgs = full.pgs
    assert len(pgs) == 1920
    assert pgs.groupby("pool_id").size().to_dict() == {p: 128 for p in range(1, 16)}
    assert pgs.groupby("pool_id")["up"].apply(lambda s: s.map(len).sum()).to_dict() == {p: 384 for p in range(1, 16)}
    assert (pgs.state == "active+clean").all()
    assert (pgs.up == pgs.acting).all()
    assert "pool" not in pgs.columns
    assert pgs.pgid.is_unique
    assert full.kind == "pg_dump_json"
    assert full.release == "octopus+"
    assert full.epoch is None  # mgr-era last_osdmap_epoch is 0
    assert full.extra == {"pgmap_version": 172, "stamp": "2026-11-24T05:37:26.300785+0000",
                          "last_osdmap_epoch": 0, "pg_ready": True}


def test_full_dump_rows(full):
    pgs = full.pgs.set_index("pgid")
    r = pgs.loc["1.0"]
    assert (r.pool_id, r.ps, r.up, r.up_primary, r.acting, r.acting_primary) == (1, 0, (11, 7, 3), 11, (11, 7, 3), 11)
    assert (r.objects, r.bytes, r.log_size, r.reported_seq, r.reported_epoch, r.version) == \
        (41, 2625536, 41, 108, 101, "101'41")
    assert r.last_change == "2026-11-24T05:35:32.384736+0000"
    r = pgs.loc["15.73"]
    assert (r.ps, r.up, r.up_primary, r.objects, r.version) == (115, (7, 4, 2), 7, 0, "0'0")
    # objects per pool: pool i got 20*i objects (+1), pool 1 also rados bench's 4934
    assert full.pgs.groupby("pool_id").objects.sum().tolist() == [4956] + [20 * i + 1 for i in range(2, 16)]
    assert full.pgs.dtypes["pool_id"] == "int64" and full.pgs.dtypes["objects"] == "Int64"


def test_full_dump_pool_and_osd_stats(full):
    ps = full.pool_stats.set_index("pool_id")
    assert len(ps) == 15
    assert (ps.num_pg == 128).all() and (ps.up == 384).all() and (ps.acting == 384).all()
    assert (ps.loc[1, "objects"], ps.loc[1, "bytes"], ps.loc[15, "objects"]) == (4956, 323436571, 301)
    os_ = full.osd_stats.set_index("osd_id")
    assert sorted(os_.index) == list(range(12))
    assert os_.pgs.sum() == 5760
    assert (os_.loc[0, "pgs"], os_.loc[0, "kb"], os_.loc[0, "kb_used"]) == (470, 10485760, 117345)
    assert os_.loc[0, "hb_peers"] == (1, 3, 4, 5, 6, 7, 8, 9, 10, 11)


def test_pretty_equals_compact(full):
    pretty = _load(REAL / "pg_dump_pretty.json")
    a = full.pgs.set_index("pgid")[["up", "acting", "up_primary", "acting_primary"]].sort_index()
    b = pretty.pgs.set_index("pgid")[["up", "acting", "up_primary", "acting_primary"]].sort_index()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("name", ["pg_dump_pgs_brief.json", "pg_ls.json"])
def test_brief_and_ls_match_full(full, name):
    frag = _load(REAL / name)
    assert len(frag.pgs) == 1920
    cols = ["up", "acting", "up_primary", "acting_primary", "state"]
    a = full.pgs.set_index("pgid")[cols].sort_index()
    b = frag.pgs.set_index("pgid")[cols].sort_index()
    pd.testing.assert_frame_equal(a, b)
    assert frag.extra["pg_ready"] is True


def test_brief_has_no_stats():
    frag = _load(REAL / "pg_dump_pgs_brief.json")
    assert list(frag.pgs.columns) == ["pgid", "pool_id", "ps", "state", "up", "up_primary", "acting",
                                      "acting_primary"]
    assert frag.release == "nautilus+" and frag.kind == "pg_dump_pgs_brief_json"
    assert frag.pool_stats is None and frag.osd_stats is None


def test_pools_and_osds_subdumps():
    pools = _load(REAL / "pg_dump_pools.json")
    assert pools.pgs is None
    assert len(pools.pool_stats) == 15
    assert pools.pool_stats.set_index("pool_id").loc[7, "objects"] == 141
    osds = _load(REAL / "pg_dump_osds.json")
    assert len(osds.osd_stats) == 12
    assert osds.osd_stats.pgs.sum() == 5760
    assert osds.osd_stats.set_index("osd_id").loc[11, "pgs"] == 493


def test_jewel_pgmap_from_report():
    obj = json.loads(read_text(PUBLIC / "01_jewel_ceph_report_python_crush.txt"))
    frag = pg_dump_json.pgmap_fragment(obj["pgmap"], "01")
    assert len(frag.pgs) == 4096
    assert frag.release == "jewel"
    assert frag.epoch == 681296
    assert (frag.pgs.pool_id == 3).all()
    assert frag.pgs.up.map(len).sum() == 12288
    assert (frag.pgs.state == "").sum() == 4094  # the fixture's edited entries have no state
    r = frag.pgs.set_index("pgid").loc["3.fff"]
    assert (r.up, r.reported_seq, r.reported_epoch, r.state) == ((43, 34, 26), 44289526, 681296, "active+clean")
    assert r.last_change == "2017-05-16 19:28:10.038289"
    assert frag.pool_stats.loc[0, "up"] == 12288 and pd.isna(frag.pool_stats.loc[0, "num_pg"])
    assert len(frag.osd_stats) == 0


def test_unknown_pg_strings_and_empty_sets():
    frag = _load(DATA / "pg_unknown_pr35544.json")
    r = frag.pgs.iloc[0]
    assert (r.pgid, r.state, r.up, r.acting, r.up_primary, r.acting_primary) == ("6.0", "unknown", (), (), -1, -1)
    assert (r.reported_seq, r.reported_epoch) == (0, 0)
    assert frag.extra["pg_ready"] is False
    assert frag.release == "octopus+"


def test_quincy_keys_and_ec_hole():
    frag = _load(DATA / "pg_stat_quincy_issue38.json")
    r = frag.pgs.iloc[0]
    assert r.up[2] == NONE and r.acting[2] == 71
    assert (r.objects, r.degraded, r.misplaced, r.bytes) == (777125, 776853, 739304, 1918850612244)
    assert pd.isna(r.log_size)
    assert r.scrub_schedule == "queued for deep scrub"
    assert frag.release == "quincy+"


def test_bare_array_pgs_brief():
    frag = _load(DATA / "pgs_brief_mimic_bare_ec.json")
    pgs = frag.pgs.set_index("pgid")
    assert pgs.loc["2.1f", "up"] == (4, NONE, 1)
    assert pgs.loc["1.0", "up"] == () and pgs.loc["1.0", "up_primary"] == -1
    assert frag.release is None


def test_concatenated_arrays_mimic():
    text = read_text(DATA / "pg_dump_pools_osds_mimic_concat.json")
    with pytest.raises(DumpFormatError):
        loads_json(text)
    assert pg_dump_json.sniff(text, None)
    frag = pg_dump_json.parse(text)
    assert frag.pgs is None
    assert list(frag.pool_stats.pool_id) == [1, 2] and list(frag.pool_stats.acting) == [24, 47]
    assert list(frag.osd_stats.pgs) == [24, 24] and frag.osd_stats.loc[1, "hb_peers"] == (0, 2)
    assert not pg_dump_json.sniff("[1]\n[2]\n", None)
    with pytest.raises(DumpFormatError, match="repeats a table"):
        pg_dump_json.parse('[{"poolid": 1, "stat_sum": {}}]\n[{"poolid": 2, "stat_sum": {}}]')


def test_pg_ls_nothing_matched():
    frag = pg_dump_json.parse('\n{"pg_ready":true}\n')
    assert len(frag.pgs) == 0 and "up" in frag.pgs.columns


@pytest.mark.parametrize("entry,field", [
    ({"pgid": "1.0", "up": "x", "acting": [1]}, "pg_map.pg_stats[0].up"),
    ({"pgid": "1.0", "up": [1, "2"], "acting": [1]}, "pg_map.pg_stats[0].up[1]"),
    ({"pgid": "1.zz", "up": [1], "acting": [1]}, "pg_map.pg_stats[0].pgid"),
    ({"pgid": "1.0", "acting": [1]}, "pg_map.pg_stats[0].up"),
    ({"pgid": "1.0", "up": [1], "acting": [1], "up_primary": "a"}, "pg_map.pg_stats[0].up_primary"),
    ({"pgid": "1.0", "up": [1], "acting": [1], "stat_sum": {"num_objects": [1]}},
     "pg_map.pg_stats[0].stat_sum.num_objects"),
])
def test_wrong_types_name_the_field(entry, field):
    text = json.dumps({"pg_ready": True, "pg_map": {"version": 1, "stamp": "x", "pg_stats": [entry]}})
    with pytest.raises(DumpFormatError) as e:
        pg_dump_json.parse(text, source="t.json")
    assert e.value.field == field
    assert str(e.value).startswith(f"t.json: {field}: ")


def test_duplicate_pgid():
    text = json.dumps([{"pgid": "1.0", "up": [1], "acting": [1]}, {"pgid": "1.00", "up": [1], "acting": [1]}])
    with pytest.raises(DumpFormatError, match="duplicate pgid 1.0"):
        pg_dump_json.parse(text)


def test_not_a_pg_dump():
    assert not pg_dump_json.sniff("", {"nodes": []})
    with pytest.raises(DumpFormatError):
        pg_dump_json.parse('{"nodes": []}')
    with pytest.raises(DumpFormatError):
        pg_dump_json.parse("[1, 2]")


def _small_doc():
    obj = json.loads(read_text(REAL / "pg_dump.json"))
    pm = obj["pg_map"]
    pm["pg_stats"] = pm["pg_stats"][:3]
    pm["pool_stats"] = pm["pool_stats"][:2]
    pm["osd_stats"] = pm["osd_stats"][:2]
    for o in pm["osd_stats"]:
        o.pop("network_ping_times", None)
    pm.pop("pool_statfs", None)
    pm.pop("osd_stats_sum", None)
    pm.pop("pg_stats_delta", None)
    for p in pm["pg_stats"] + pm["pool_stats"]:
        p["stat_sum"] = {k: v for k, v in p["stat_sum"].items() if k in (
            "num_objects", "num_bytes", "num_objects_degraded", "num_omap_keys")}
    return obj


SMALL = _small_doc()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(SMALL))
def test_mutated_json_only_dump_format_errors(obj):
    text = json.dumps(obj)
    pg_dump_json.sniff(text, obj)
    try:
        frag = pg_dump_json.parse(text, obj=obj)
    except DumpFormatError:
        return
    if frag.pgs is not None:
        assert frag.pgs.up.map(lambda t: isinstance(t, tuple)).all()


@settings(max_examples=150, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    try:
        obj = loads_json(text)
    except DumpFormatError:
        obj = None
    assert isinstance(pg_dump_json.sniff(text, obj), bool)
    try:
        pg_dump_json.parse(text)
    except DumpFormatError:
        pass
