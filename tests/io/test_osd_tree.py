from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest
from hypothesis import given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import osd_tree
from pgtools.io._common import loads_json, read_text
from tests.io._mutate import mutated_lines, mutations, texts
from tests.paths import REAL

HOSTS = {i: f"node{i // 3 + 1}" for i in range(12)}


def _parse_file(name):
    text = read_text(REAL / name)
    obj = loads_json(text) if name.endswith(".json") else None
    assert osd_tree.sniff(text, obj)
    return osd_tree.parse(text, source=name, obj=obj)


def test_json_and_plain_agree():
    j = _parse_file("osd_tree.json")
    p = _parse_file("osd_tree.txt")
    pd.testing.assert_frame_equal(j.osds, p.osds)
    tj = j.extra["tree"].sort_values("id").reset_index(drop=True)
    tp = p.extra["tree"].sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(tj, tp)
    assert j.release == p.release == "luminous+"


def test_values():
    frag = _parse_file("osd_tree.txt")
    o = frag.osds
    assert list(o.osd_id) == list(range(12))
    assert dict(zip(o.osd_id, o.host, strict=True)) == HOSTS
    assert set(o.device_class) == {"hdd"} and set(o.crush_weight) == {1.0} and set(o.reweight) == {1.0}
    assert o.up.all() and o.exists.all() and set(o.primary_affinity) == {1.0} and not o.stray.any()
    assert list(o.name[:2]) == ["osd.0", "osd.1"]
    tree = frag.extra["tree"].set_index("id")
    assert tree.to_dict("index") == {
        -1: {"name": "default", "type": "root", "parent_id": None, "crush_weight": 12.0},
        -3: {"name": "node1", "type": "host", "parent_id": -1, "crush_weight": 3.0},
        -5: {"name": "node2", "type": "host", "parent_id": -1, "crush_weight": 3.0},
        -7: {"name": "node3", "type": "host", "parent_id": -1, "crush_weight": 3.0},
        -9: {"name": "node4", "type": "host", "parent_id": -1, "crush_weight": 3.0},
    }


JEWEL = textwrap.dedent("""\
    ID WEIGHT  TYPE NAME      UP/DOWN REWEIGHT PRIMARY-AFFINITY
    -1 0.08780 root default
    -2 0.04390     host ceph1
     0 0.04390         osd.0       up  1.00000          1.00000
    -3 0.04390     host ceph2
     1 0.04390         osd.1     down        0          0.50000
     2       0 osd.2                DNE        0
     3       0 osd.3               up  1.00000          1.00000
    """)


def test_jewel_plain_dne_and_stray():
    frag = osd_tree.parse(JEWEL)
    o = frag.osds.set_index("osd_id")
    assert frag.release == "jewel"
    assert o.loc[0, "host"] == "ceph1" and o.loc[1, "host"] == "ceph2"
    assert o.loc[1, "up"] == False and o.loc[1, "reweight"] == 0.0 and o.loc[1, "primary_affinity"] == 0.5  # noqa: E712
    assert o.loc[2, "exists"] == False and pd.isna(o.loc[2, "up"]) and o.loc[2, "status"] == "DNE"  # noqa: E712
    assert o.loc[3, "stray"] == True and pd.isna(o.loc[3, "host"])  # noqa: E712
    assert o.loc[0, "device_class"] is None


def test_json_stray():
    obj = json.loads(read_text(REAL / "osd_tree.json"))
    obj["stray"] = [{"id": 12, "name": "osd.12", "type": "osd", "type_id": 0, "crush_weight": 0, "depth": 0,
                     "exists": 1, "status": "down", "reweight": 0, "primary_affinity": 1}]
    frag = osd_tree.parse(json.dumps(obj))
    r = frag.osds.set_index("osd_id").loc[12]
    assert (r.stray, r.up, r.host, r.reweight) == (True, False, None, 0.0)


@pytest.mark.parametrize("text,where", [
    ("ID  CLASS  WEIGHT    TYPE NAME       STATUS  REWEIGHT  PRI-AFF\n", (1, None)),
    ("ID  CLASS  WEIGHT    TYPE NAME       STATUS  REWEIGHT  PRI-AFF\n"
     "-1         12.00000  root\n", (2, "TYPE NAME")),
    ("ID  CLASS  WEIGHT    TYPE NAME       STATUS  REWEIGHT  PRI-AFF\n"
     " 0    hdd   1.00000          osd.0       up   1.0x000  1.00000\n", (2, "REWEIGHT")),
    (" 0    hdd   1.00000          osd.0       up   1.00000  1.00000\n"
     "ID  CLASS  WEIGHT    TYPE NAME       STATUS  REWEIGHT  PRI-AFF\n", (1, None)),
])
def test_plain_errors(text, where):
    with pytest.raises(DumpFormatError) as e:
        osd_tree.parse(text, source="t")
    assert (e.value.line, e.value.field) == where


def test_json_wrong_type():
    obj = json.loads(read_text(REAL / "osd_tree.json"))
    obj["nodes"][0]["children"] = [-3, "x"]
    with pytest.raises(DumpFormatError) as e:
        osd_tree.parse(json.dumps(obj))
    assert e.value.field == "nodes[0].children[1]"


def test_cycle_does_not_hang():
    obj = {"nodes": [{"id": -1, "name": "a", "type": "root", "children": [-1, -1, -1]}], "stray": []}
    frag = osd_tree.parse(json.dumps(obj))
    assert len(frag.osds) == 0 and len(frag.extra["tree"]) == 1


TREE_JSON = loads_json(read_text(REAL / "osd_tree.json"))
TREE_JSON["nodes"] = TREE_JSON["nodes"][:6]
TREE_TXT = read_text(REAL / "osd_tree.txt")


@settings(max_examples=150, deadline=None)
@given(mutations(TREE_JSON))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        osd_tree.parse(json.dumps(obj), obj=obj)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(mutated_lines(TREE_TXT, " -.0123456789xhostup"))
def test_mutated_plain_only_dump_format_errors(text):
    try:
        osd_tree.parse(text)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    assert isinstance(osd_tree.sniff(text, None), bool)
    try:
        osd_tree.parse(text)
    except DumpFormatError:
        pass
