from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import df_detail
from pgtools.io._common import loads_json, read_text
from tests.io._mutate import mutations, texts
from tests.paths import REAL


def _parse_file(name):
    text = read_text(REAL / name)
    obj = loads_json(text) if name.endswith(".json") else None
    assert df_detail.sniff(text, obj)
    return df_detail.parse(text, source=name, obj=obj)


def test_json():
    frag = _parse_file("df_detail.json")
    ps = frag.pool_stats.set_index("pool_id")
    assert list(ps.index) == list(range(1, 16))
    assert ps.loc[1, "pool"] == "rbd" and ps.loc[15, "pool"] == "scratch"
    r = ps.loc[1]
    assert (r.stored, r.objects, r.bytes_used, r.max_avail, r.quota_objects, r.quota_bytes, r.stored_raw) == (
        323436571, 4956, 323436571, 40286605312, 0, 0, 970309760)
    assert r.percent_used == pytest.approx(0.002668987261131406)
    assert list(ps.objects) == [4956] + [20 * i + 1 for i in range(2, 16)]
    assert ps.dtypes["objects"] == "Int64" and ps.dtypes["percent_used"] == "float64"
    s = frag.extra["df_stats"]
    assert (s["total_bytes"], s["total_avail_bytes"], s["total_used_raw_bytes"], s["num_osds"]) == (
        128849018880, 127563433641, 1285585239, 12)
    assert frag.extra["df_stats_by_class"]["hdd"]["total_bytes"] == 128849018880
    assert frag.release == "nautilus+"


def test_plain_matches_json_roughly():
    j = _parse_file("df_detail.json").pool_stats.set_index("pool_id")
    frag = _parse_file("df_detail.txt")
    p = frag.pool_stats.set_index("pool_id")
    assert list(p.pool) == list(j.pool)
    assert set(p.num_pg) == {128}
    assert p.loc[1, "objects"] == 4960 and p.loc[2, "objects"] == 41  # "4.96k" is rounded
    assert p.loc[1, "stored"] == 308 * 2 ** 20 and p.loc[1, "max_avail"] == 38 * 2 ** 30
    assert p.loc[15, "stored_data"] == 18 * 2 ** 20 and p.loc[15, "percent_used"] == pytest.approx(0.0002)
    assert p.quota_objects.isna().all() and p.dirty.isna().all()
    assert ((p.stored - j.stored).abs() <= j.stored * 0.05 + 1024).all()
    assert frag.extra["df_stats"] == {"total_bytes": 120 * 2 ** 30, "total_avail_bytes": 119 * 2 ** 30,
                                      "total_used_bytes": int(round(1.2 * 2 ** 30)),
                                      "total_used_raw_bytes": int(round(1.2 * 2 ** 30)),
                                      "total_used_raw_ratio": 0.01}
    assert frag.release == "octopus+"


NAUTILUS = textwrap.dedent("""\
    RAW STORAGE:
        CLASS     SIZE        AVAIL       USED        RAW USED     %RAW USED
        hdd       5.5 TiB     5.4 TiB     124 GiB      130 GiB          2.31
        TOTAL     5.5 TiB     5.4 TiB     124 GiB      130 GiB          2.31

    POOLS:
        POOL      ID     PGS     STORED      OBJECTS     USED        %USED     MAX AVAIL
        rbd        1      64      40 GiB      10.34k     120 GiB      2.20       1.7 TiB
        cephfs     2     128     1000 B            3     192 KiB         0       1.7 TiB
    """)


def test_nautilus_plain():
    frag = df_detail.parse(NAUTILUS)
    p = frag.pool_stats.set_index("pool_id")
    assert (p.loc[1, "objects"], p.loc[1, "bytes_used"], p.loc[2, "stored"], p.loc[2, "num_pg"]) == (
        10340, 120 * 2 ** 30, 1000, 128)
    assert frag.extra["df_stats"]["total_used_raw_ratio"] == pytest.approx(0.0231)
    assert frag.release == "nautilus+"


@pytest.mark.parametrize("text,where", [
    ("--- POOLS ---\nPOOL  ID  STORED\nrbd    x   1 MiB\n", (3, "ID")),
    ("--- POOLS ---\nPOOL  ID  STORED\nrbd    1   1 XiB\n", (3, "STORED")),
    ("--- POOLS ---\nhello\n", (2, None)),
    ("--- POOLS ---\n", (1, None)),
])
def test_plain_errors(text, where):
    with pytest.raises(DumpFormatError) as e:
        df_detail.parse(text)
    assert (e.value.line, e.value.field) == where


def test_json_wrong_type():
    obj = json.loads(read_text(REAL / "df_detail.json"))
    obj["pools"][2]["stats"]["objects"] = "many"
    with pytest.raises(DumpFormatError) as e:
        df_detail.parse(json.dumps(obj))
    assert e.value.field == "pools[2].stats.objects"


DOC = loads_json(read_text(REAL / "df_detail.json"))
DOC["pools"] = DOC["pools"][:2]


@settings(max_examples=150, deadline=None)
@given(mutations(DOC))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        df_detail.parse(json.dumps(obj), obj=obj)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    assert isinstance(df_detail.sniff(text, None), bool)
    try:
        df_detail.parse(text)
    except DumpFormatError:
        pass
