from __future__ import annotations

import json
import math
import textwrap

import pandas as pd
import pytest
from hypothesis import given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import _table, osd_df
from pgtools.io._common import loads_json, read_text
from tests.io._mutate import mutated_lines, mutations, texts
from tests.paths import PUBLIC, REAL, TEST_DATA

HOSTS = {0: "node1", 1: "node1", 2: "node1", 3: "node2", 4: "node2", 5: "node2", 6: "node3", 7: "node3",
         8: "node3", 9: "node4", 10: "node4", 11: "node4"}
PGS = [470, 487, 467, 461, 470, 488, 470, 495, 487, 477, 495, 493]


def _parse_file(path):
    text = read_text(path)
    obj = loads_json(text) if text.lstrip().startswith("{") else None
    assert osd_df.sniff(text, obj)
    return osd_df.parse(text, source=str(path), obj=obj)


def _slice(name, a, b):
    return "\n".join((PUBLIC / name).read_text().splitlines()[a:b])


@pytest.mark.parametrize("name", ["osd_df", "osd_df_tree"])
def test_json_and_plain_agree(name):
    j = _parse_file(REAL / f"{name}.json").osds
    p = _parse_file(REAL / f"{name}.txt").osds
    assert list(j.osd_id) == list(range(12)) == list(p.osd_id)
    for col in ("name", "device_class", "crush_weight", "reweight", "pgs", "kb", "status", "up", "host"):
        pd.testing.assert_series_equal(j[col], p[col], check_names=True)
    assert list(j.pgs) == PGS
    assert (j.kb == 10485760).all()
    # plain values are rounded: 115 MiB vs 117345 KiB
    assert (p.kb_used - j.kb_used).abs().max() < 1024
    assert j.loc[0, "kb_used"] == 117345 and p.loc[0, "kb_used"] == 115 * 1024
    assert j.loc[11, "utilization"] == pytest.approx(1.200418, abs=1e-6) and p.loc[11, "utilization"] == 1.20


def test_json_summary_and_release():
    frag = _parse_file(REAL / "osd_df.json")
    s = frag.extra["osd_df_summary"]
    assert (s["total_kb"], s["total_kb_used"], s["total_kb_avail"]) == (125829120, 1255454, 124573665)
    assert s["min_var"] == pytest.approx(0.7715563796943252) and s["dev"] == pytest.approx(0.1353721957801)
    assert frag.release == "nautilus+"
    assert frag.osds.host.isna().all()
    assert "tree" not in frag.extra


def test_plain_summary_and_release():
    frag = _parse_file(REAL / "osd_df.txt")
    assert frag.extra["osd_df_summary"] == {
        "total_kb": 120 * 1024 ** 2, "total_kb_used": int(round(1.2 * 1024 ** 3)) // 1024, "total_kb_used_data": 0,
        "total_kb_used_omap": 0, "total_kb_used_meta": 0, "total_kb_avail": 119 * 1024 ** 2,
        "average_utilization": 1.0, "min_var": 0.77, "max_var": 1.20, "dev": 0.14}
    assert frag.release == "octopus+"


@pytest.mark.parametrize("ext", ["json", "txt"])
def test_tree_hosts(ext):
    frag = _parse_file(REAL / f"osd_df_tree.{ext}")
    assert dict(zip(frag.osds.osd_id, frag.osds.host, strict=True)) == HOSTS
    tree = frag.extra["tree"].set_index("id")
    assert tree.loc[-1, "name"] == "default" and tree.loc[-1, "type"] == "root" and pd.isna(tree.loc[-1, "parent_id"])
    assert {tree.loc[i, "name"]: tree.loc[i, "parent_id"] for i in (-3, -5, -7, -9)} == \
        {"node1": -1, "node2": -1, "node3": -1, "node4": -1}
    assert tree.crush_weight.to_dict() == {-1: 12.0, -3: 3.0, -5: 3.0, -7: 3.0, -9: 3.0}


def test_nan_json():
    frag = _parse_file(TEST_DATA / "json" / "osd_df_nan.json")
    o = frag.osds.set_index("osd_id")
    assert math.isnan(o.loc[1, "utilization"]) and math.isnan(o.loc[1, "var"])
    assert o.loc[1, "up"] == False  # noqa: E712 - pandas boolean scalar
    assert o.loc[1, "kb"] == 0 and o.loc[1, "reweight"] == 0.0
    assert o.loc[0, "utilization"] == pytest.approx(10.098934173583984)


def test_sample13_compact_units():
    a = osd_df.parse(_slice("13_luminous_dev_osd_df_plain_pr18096.txt", 0, 6))
    r = a.osds.iloc[0]
    assert (r.osd_id, r.device_class, r.crush_weight, r.pgs) == (0, "ssd", 0.0098, 8)
    assert (r.kb, r.kb_used, r.kb_used_data, r.kb_used_omap, r.kb_avail) == (
        int(round(10.1 * 2 ** 30)) // 1024, int(round(4.74 * 2 ** 30)) // 1024, 288, int(round(4.47 * 2 ** 30)) // 1024,
        int(round(5.33 * 2 ** 30)) // 1024)
    assert pd.isna(r.status) and a.release == "luminous+"
    b = osd_df.parse(_slice("13_luminous_dev_osd_df_plain_pr18096.txt", 7, 12))
    r = b.osds.iloc[0]
    assert (r.kb, r.kb_used_meta, r.utilization) == (372 * 1024 ** 2, 0, 80.25)
    assert b.extra["osd_df_summary"]["total_kb_used_omap"] == 112 * 1024


def test_sample13_whole_file_rejects_prose():
    with pytest.raises(DumpFormatError) as e:
        osd_df.parse((PUBLIC / "13_luminous_dev_osd_df_plain_pr18096.txt").read_text(), source="13")
    assert str(e.value) == "13:7: unexpected text after the table"


def test_sample14_nautilus():
    frag = osd_df.parse(_slice("14_nautilus_osd_df_and_tree_plain_pr39859.txt", 10, -1))
    o = frag.osds.set_index("osd_id")
    assert list(o.index) == [5, 10, 12, 13, 14]
    assert (o.loc[10, "kb"], o.loc[10, "kb_used"], o.loc[10, "kb_used_meta"], o.loc[10, "pgs"]) == (
        108 * 1024 ** 2, 24 * 1024 ** 2, 1000 * 1024, 534)
    assert frag.release == "nautilus+"
    with pytest.raises(DumpFormatError) as e:
        osd_df.parse((PUBLIC / "14_nautilus_osd_df_and_tree_plain_pr39859.txt").read_text(), source="14")
    assert str(e.value) == "14:1: table row before the header"


def test_sample16_and_truncation():
    frag = osd_df.parse(_slice("16_osd_df_plain_thejj_issue43.txt", 0, -1))
    o = frag.osds.set_index("osd_id")
    assert len(o) == 8 and o.pgs.sum() == 25 + 18 + 82 + 66 + 128 + 172 + 19 + 26
    assert (o.loc[26, "crush_weight"], o.loc[26, "kb"], o.loc[26, "utilization"]) == (16.88869, 17 * 1024 ** 3, 87.74)
    assert o.loc[29, "kb_used_omap"] == 981
    with pytest.raises(DumpFormatError) as e:
        osd_df.parse((PUBLIC / "16_osd_df_plain_thejj_issue43.txt").read_text(), source="16")
    assert (e.value.line, e.value.field) == (11, "RAW USE")


def test_sample17_odf_tree():
    frag = osd_df.parse(_slice("17_osd_df_tree_plain_ocs_operator_pr4163.txt", 0, -1))
    r = frag.osds.iloc[0]
    assert (r.osd_id, r.host, r.device_class, r.pgs, r.kb) == (2, "ocs-deviceset-gp3-csi-0-data-07gfm5", "ssd", 71,
                                                               512 * 1024 ** 2)
    tree = frag.extra["tree"].set_index("id")
    assert list(tree.type) == ["root", "region", "zone", "rack", "host"]
    assert list(tree.parent_id.astype("float").fillna(0)) == [0, -1, -6, -5, -16]
    assert tree.loc[-16, "crush_weight"] == 2.5
    with pytest.raises(DumpFormatError) as e:
        osd_df.parse((PUBLIC / "17_osd_df_tree_plain_ocs_operator_pr4163.txt").read_text(), source="17")
    assert (e.value.line, e.value.field) == (10, "TYPE NAME")


def test_jewel_header_kib_numbers():
    text = textwrap.dedent("""\
        ID WEIGHT  REWEIGHT SIZE   USE    AVAIL  %USE  VAR  PGS
         0 0.04390  1.00000 46059M 10240M 35819M 22.23 1.00 128
         1 0.04390        0      0      0      0     0    0   0
                      TOTAL 46059M 10240M 35819M 22.23
        MIN/MAX VAR: 1.00/1.00  STDDEV: 0
        """)
    frag = osd_df.parse(text)
    o = frag.osds.set_index("osd_id")
    assert o.loc[0, "kb"] == 46059 * 1024 and o.loc[1, "kb"] == 0 and o.loc[1, "reweight"] == 0.0
    assert frag.release == "jewel"


@pytest.mark.parametrize("text,where", [
    ("ID  CLASS  WEIGHT   REWEIGHT  SIZE     RAW USE  DATA  OMAP  META  AVAIL    %USE  VAR   PGS  STATUS\n", (1, None)),
    ("ID  CLASS  WEIGHT   REWEIGHT  SIZE     RAW USE  DATA  OMAP  META  AVAIL    %USE  VAR   PGS  STATUS\n"
     " 0    hdd  1.00000   1.00000   10 XiB  115 MiB   0 B   0 B   0 B  9.9 GiB  1.12  1.12  470      up\n", (2, "SIZE")),
    ("ID  CLASS  WEIGHT   REWEIGHT  SIZE     RAW USE  DATA  OMAP  META  AVAIL    %USE  VAR   PGS  STATUS\n"
     " x    hdd  1.00000   1.00000   10 GiB  115 MiB   0 B   0 B   0 B  9.9 GiB  1.12  1.12  470      up\n", (2, "ID")),
    ("ID  CLASS  WEIGHT   REWEIGHT  SIZE     RAW USE  DATA  OMAP  META  AVAIL    %USE  VAR   PGS  STATUS\n"
     " 0    hdd  1.00000   1.00000   10 GiB  115 MiB   0 B   0 B   0 B  9.9 GiB  1.12  1.12  4.7      up\n", (2, "PGS")),
    ("hello\n", (1, None)),
])
def test_plain_errors(text, where):
    with pytest.raises(DumpFormatError) as e:
        osd_df.parse(text, source="x")
    assert (e.value.line, e.value.field) == where


def test_json_wrong_type_names_field():
    obj = json.loads(read_text(REAL / "osd_df.json"))
    obj["nodes"][3]["pgs"] = "x"
    with pytest.raises(DumpFormatError) as e:
        osd_df.parse(json.dumps(obj), source="d.json")
    assert e.value.field == "nodes[3].pgs"


def test_split_helpers():
    header = _table.split_header("POOL        ID  RAW USE  TYPE NAME")
    assert header == [("POOL", 0), ("ID", 12), ("RAW USE", 16), ("TYPE NAME", 25)]
    rows = ["a.b.c.long   1   10 GiB  host x", "b           22  1.5 MiB      osd.1"]
    bounds = _table.column_bounds(header, rows)
    assert [_table.split_row(r, bounds) for r in rows] == [["a.b.c.long", "1", "10 GiB", "host x"],
                                                          ["b", "22", "1.5 MiB", "osd.1"]]


TREE_JSON = loads_json(read_text(REAL / "osd_df_tree.json"))
TREE_JSON["nodes"] = TREE_JSON["nodes"][:6]
TREE_TXT = read_text(REAL / "osd_df_tree.txt")


@settings(max_examples=150, deadline=None)
@given(mutations(TREE_JSON))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        osd_df.parse(json.dumps(obj), obj=obj)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(mutated_lines(TREE_TXT, " -.0123456789xGiB", may_delete_line=True))
def test_mutated_plain_only_dump_format_errors(text):
    try:
        osd_df.parse(text)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    assert isinstance(osd_df.sniff(text, None), bool)
    try:
        osd_df.parse(text)
    except DumpFormatError:
        pass
