from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import autoscale_status
from pgtools.io._common import loads_json, read_text
from tests.io._mutate import mutations, texts
from tests.paths import REAL

FIELDS = ["pool_id", "pool_name", "actual_capacity_ratio", "actual_raw_used", "bias", "bulk", "capacity_ratio",
          "crush_root_id", "effective_target_ratio", "logical_used", "pg_autoscale_mode", "pg_num_final",
          "pg_num_ideal", "pg_num_target", "raw_used", "raw_used_rate", "subtree_capacity", "target_bytes",
          "target_ratio", "would_adjust"]


def _parse_file(name):
    text = read_text(REAL / name)
    obj = loads_json(text) if name.endswith(".json") else None
    assert autoscale_status.sniff(text, obj)
    return autoscale_status.parse(text, source=name, obj=obj)


def test_json():
    frag = _parse_file("autoscale_status.json")
    df = frag.extra["autoscale_status"]
    assert len(df) == 15 and list(df.columns) == FIELDS
    r = df.set_index("pool_name").loc["rbd"]
    assert (r.pool_id, r.pg_num_target, r.pg_num_final, r.pg_num_ideal, r.logical_used, r.would_adjust) == (
        1, 128, 32, 3, 323436571, False)
    assert r.capacity_ratio == pytest.approx(0.007530594500713051) and r.raw_used_rate == 3.0
    assert (df.pg_autoscale_mode == "off").all() and not df.bulk.any()
    assert frag.release == "pacific+" and frag.kind == "autoscale_status"


def test_plain():
    frag = _parse_file("autoscale_status.txt")
    df = frag.extra["autoscale_status"].set_index("pool_name")
    assert len(df) == 15
    r = df.loc["rbd"]
    assert (r.logical_used, r.subtree_capacity, r.capacity_ratio, r.pg_num_target, r.bias) == (
        int(round(308.4 * 2 ** 20)), int(round(120.0 * 2 ** 30)), 0.0075, 128, 1.0)
    assert df.loc["images", "logical_used"] == 320 * 1024 and df.loc["scratch", "logical_used"] == 18000 * 1024
    assert df.pg_num_final.isna().all() and not df.would_adjust.any() and not df.bulk.any()
    assert set(df.target_bytes) == {0} and set(df.pg_autoscale_mode) == {"off"}
    json_df = _parse_file("autoscale_status.json").extra["autoscale_status"].set_index("pool_name")
    assert list(df.index) == list(json_df.index)
    assert (df.pg_num_target == json_df.pg_num_target).all()


def test_plain_new_pg_num_and_target():
    text = textwrap.dedent("""\
        POOL    SIZE  TARGET SIZE  RATE  RAW CAPACITY   RATIO  TARGET RATIO  EFFECTIVE RATIO  BIAS  PG_NUM  NEW PG_NUM  AUTOSCALE  BULK
        big    1000G          10T   3.0         1000T  0.0300        0.2000           0.5000   1.0      32        4096  on         True
        """)
    r = autoscale_status.parse(text).extra["autoscale_status"].iloc[0]
    assert (r.target_bytes, r.pg_num_final, r.would_adjust, r.bulk, r.target_ratio) == (
        10 * 2 ** 40, 4096, True, True, 0.2)


@pytest.mark.parametrize("text,where", [
    ("POOL  SIZE  TARGET SIZE  RATE  RAW CAPACITY  RATIO  FOO\n", (1, "FOO")),
    ("POOL  SIZE  TARGET SIZE  RATE  RAW CAPACITY   RATIO  BIAS  PG_NUM  AUTOSCALE\n"
     "a    1.0Q                 3.0        120.0G  0.0000   1.0     128  off\n", (2, "SIZE")),
    ("nothing\n", (1, None)),
])
def test_plain_errors(text, where):
    with pytest.raises(DumpFormatError) as e:
        autoscale_status.parse(text)
    assert (e.value.line, e.value.field) == where


def test_json_wrong_type():
    obj = json.loads(read_text(REAL / "autoscale_status.json"))
    obj[1]["pool_name"] = 5
    with pytest.raises(DumpFormatError) as e:
        autoscale_status.parse(json.dumps(obj))
    assert e.value.field == "[1].pool_name"


DOC = loads_json(read_text(REAL / "autoscale_status.json"))[:3]


@settings(max_examples=150, deadline=None)
@given(mutations(DOC))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        autoscale_status.parse(json.dumps(obj), obj=obj)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    assert isinstance(autoscale_status.sniff(text, None), bool)
    try:
        autoscale_status.parse(text)
    except DumpFormatError:
        pass
