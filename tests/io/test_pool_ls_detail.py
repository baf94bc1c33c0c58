from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest
from hypothesis import given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import pool_ls_detail
from pgtools.io._common import loads_json, read_text
from pgtools.model import POOL_COLUMNS
from tests.io._mutate import mutations, texts
from tests.paths import PUBLIC, REAL

NAMES = ["rbd", "images", "volumes", "vms", "backups", "cephfs_data", "cephfs_metadata", ".rgw.root",
         "default.rgw.control", "default.rgw.meta", "default.rgw.log", "default.rgw.buckets.index",
         "default.rgw.buckets.data", "default.rgw.buckets.non-ec", "scratch"]


def _parse_file(name):
    text = read_text(REAL / name)
    obj = loads_json(text) if name.endswith(".json") else None
    assert pool_ls_detail.sniff(text, obj)
    return pool_ls_detail.parse(text, source=name, obj=obj)


@pytest.mark.parametrize("name", ["osd_pool_ls_detail.json", "osd_pool_ls_detail.txt"])
def test_real_pools(name):
    frag = _parse_file(name)
    p = frag.pools
    assert list(p.columns[:len(POOL_COLUMNS)]) == POOL_COLUMNS
    assert list(p.pool_id) == list(range(1, 16)) and list(p.pool) == NAMES
    assert set(p["size"]) == {3} and set(p.pg_num) == {128} and set(p.crush_rule) == {0}
    assert set(p.pgp_num) == set(p.pg_num_target) == set(p.pgp_num_target) == set(p.pg_num_pending) == {128}
    assert set(p.type) == {"replicated"} and set(p.min_size) == {2} and set(p["flags"]) == {1}
    assert set(p.flags_names) == {"hashpspool"} and set(p.pg_autoscale_mode) == {"off"}
    assert set(p.bias) == {1.0} and not p.bulk.any() and set(p.object_hash) == {"rjenkins"}
    assert p.set_index("pool").application.to_dict() == {
        **{n: "rbd" for n in ("rbd", "images", "volumes", "vms", "backups", "scratch")},
        "cephfs_data": "cephfs", "cephfs_metadata": "cephfs",
        **{n: "rgw" for n in NAMES[7:14]}}
    assert p.pg_num_min.isna().all() and set(p.target_size_ratio) == {0.0}


def test_json_equals_plain_and_release():
    j = _parse_file("osd_pool_ls_detail.json")
    t = _parse_file("osd_pool_ls_detail.txt")
    pd.testing.assert_frame_equal(j.pools, t.pools)
    assert (j.release, t.release) == ("pacific+", "nautilus+")


def test_osd_dump_plain_is_not_ls_detail():
    assert not pool_ls_detail.sniff(read_text(REAL / "osd_dump.txt"), None)


def test_pools_frame_jewel_ec_profile():
    obj = json.loads((PUBLIC / "03_jewel_osd_dump_json_python_crush.txt").read_text())
    df = pool_ls_detail.pools_frame(obj["pools"], "03", profiles=obj["erasure_code_profiles"])
    assert list(df.pool) == ["rbd", "erasure_k2_m1"]
    r = df.iloc[1]
    assert (r.type, r.crush_rule, r.pg_num, r.erasure_code_profile, r.ec_k, r.ec_m, r.stripe_width) == (
        "erasure", 2, 512, "k2_m1_jerasure", 2, 1, 4128)
    assert df.iloc[0].crush_rule == 0 and pd.isna(df.iloc[0].pg_autoscale_mode)
    assert df.iloc[0].pg_num_target == 64  # pre-Nautilus: target = pg_num


def test_pools_frame_options_and_bulk():
    pool = {"pool_id": 4, "pool_name": "p", "type": 3, "size": 6, "min_size": 5, "crush_rule": 2, "pg_num": 64,
            "pg_placement_num": 32, "pg_num_target": 128, "pg_placement_num_target": 128, "pg_num_pending": 64,
            "flags": 1 | 1 << 17, "flags_names": "hashpspool,bulk", "erasure_code_profile": "k4m2",
            "pg_autoscale_mode": "on",
            "options": {"target_size_ratio": 0.25, "pg_num_min": 16, "pg_num_max": 256, "pg_autoscale_bias": 4,
                        "target_size_bytes": "1000"},
            "application_metadata": {"rgw": {}, "rbd": {}}}
    r = pool_ls_detail.pools_frame([pool], "t", profiles={"k4m2": {"k": "4", "m": "2"}}).iloc[0]
    assert (r.type, r.pgp_num, r.pg_num_target, r.pgp_num_target, r.bulk, r.bias) == ("erasure", 32, 128, 128, True, 4.0)
    assert (r.target_size_ratio, r.target_size_bytes, r.pg_num_min, r.pg_num_max) == (0.25, 1000, 16, 256)
    assert (r.application, r.ec_k, r.ec_m) == ("rgw,rbd", 4, 2)


def test_plain_erasure_and_options():
    text = textwrap.dedent("""\
        pool 3 'ec' erasure profile k4m2 size 6 min_size 5 crush_rule 1 object_hash rjenkins pg_num 32 pgp_num 32 pg_num_target 64 pgp_num_target 64 autoscale_mode on last_change 40 lfor 0/0/38 flags hashpspool,ec_overwrites,bulk stripe_width 16384 target_size_ratio 0.4 pg_num_min 32 application rgw
        \tremoved_snaps [1~3]
        pool 5 'old' replicated size 2 min_size 1 crush_ruleset 0 object_hash rjenkins pg_num 8 pgp_num 8 last_change 1 flags hashpspool stripe_width 0
        """)
    lines = text.splitlines()
    frag = pool_ls_detail.parse("\n".join(lines[:2]))
    a = frag.pools.iloc[0]
    assert (a.type, a.erasure_code_profile, a["size"], a.pg_num, a.pg_num_target, a.bulk, a["flags"]) == (
        "erasure", "k4m2", 6, 32, 64, True, 1 | 4 | 1 << 17)
    assert (a.target_size_ratio, a.pg_num_min, a.application) == (0.4, 32, "rgw")
    assert frag.release == "nautilus+"
    frag = pool_ls_detail.parse(lines[2])
    b = frag.pools.iloc[0]
    assert (b.crush_rule, b["size"], pd.isna(b.pg_autoscale_mode)) == (0, 2, True)
    assert frag.release == "jewel"


@pytest.mark.parametrize("text,where", [
    ("pool 1 'a' replicated size 3 min_size\n", (1, None)),
    ("pool 1 'a' replicated min_size 2 crush_rule 0 pg_num 8\n", (1, "size")),
    ("pool 1 'a' replicated size x crush_rule 0 pg_num 8\n", (1, "size")),
    ("pool 1 'a' raid4 size 3\n", (1, "type")),
    ("pool 1 'a' replicated size 3 crush_rule 0 pg_num 8\nepoch 3\n", (2, None)),
])
def test_plain_errors(text, where):
    with pytest.raises(DumpFormatError) as e:
        pool_ls_detail.parse(text, source="p")
    assert (e.value.line, e.value.field) == where


@pytest.mark.parametrize("key,value,field", [
    ("pg_num", "x", "[0].pg_num"), ("size", None, "[0].size"), ("options", [], "[0].options"),
    ("application_metadata", "rbd", "[0].application_metadata"), ("pool_id", 1.5, "[0].pool_id"),
])
def test_json_wrong_types(key, value, field):
    obj = json.loads(read_text(REAL / "osd_pool_ls_detail.json"))
    obj[0][key] = value
    with pytest.raises(DumpFormatError) as e:
        pool_ls_detail.parse(json.dumps(obj))
    assert e.value.field == field


def test_duplicate_pool():
    obj = json.loads(read_text(REAL / "osd_pool_ls_detail.json"))[:2]
    obj[1]["pool_id"] = 1
    with pytest.raises(DumpFormatError, match="duplicate pool id 1"):
        pool_ls_detail.parse(json.dumps(obj))


POOLS = loads_json(read_text(REAL / "osd_pool_ls_detail.json"))[:2]


@settings(max_examples=150, deadline=None)
@given(mutations(POOLS))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        pool_ls_detail.parse(json.dumps(obj), obj=obj)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    assert isinstance(pool_ls_detail.sniff(text, None), bool)
    try:
        pool_ls_detail.parse(text)
    except DumpFormatError:
        pass
