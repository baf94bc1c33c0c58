from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import versions
from pgtools.io._common import loads_json, read_text
from tests.io._mutate import mutations, texts
from tests.paths import REAL

V16 = "ceph version 16.2.15 (618f440892089921c3e944a991122ddc44e60516) pacific (stable)"


def test_real():
    text = read_text(REAL / "versions.json")
    obj = loads_json(text)
    assert versions.sniff(text, obj)
    frag = versions.parse(text, obj=obj)
    assert frag.release == "pacific" and frag.kind == "versions"
    t = frag.extra["versions_table"]
    assert t.to_dict("records") == [
        {"daemon_type": "mon", "version": V16, "release": "pacific", "count": 1},
        {"daemon_type": "mgr", "version": V16, "release": "pacific", "count": 1},
        {"daemon_type": "osd", "version": V16, "release": "pacific", "count": 12},
        {"daemon_type": "overall", "version": V16, "release": "pacific", "count": 14}]
    assert frag.extra["mixed_versions"] is False


def test_mixed_upgrade_uses_oldest_mon():
    v15 = "ceph version 15.2.17 (8a82819d84cf884bd39c17e3236e0632ac146dc4) octopus (stable)"
    obj = {"mon": {V16: 2, v15: 1}, "osd": {v15: 3}, "overall": {V16: 2, v15: 4}}
    frag = versions.parse(json.dumps(obj))
    assert frag.release == "octopus" and frag.extra["mixed_versions"] is True


@pytest.mark.parametrize("s,rel", [("10.2.7-7-g5e27fb4", "jewel"), ("ceph version 12.2.13 (abc) luminous (stable)",
                                   "luminous"), ("ceph version 0.94.10 (b1e0532418e4631af01acbc0cedd426f1905f4af)",
                                                 "hammer"), ("ceph version 19.2.0 (abc)", "squid"), ("nope", None)])
def test_release_of(s, rel):
    assert versions.release_of(s) == rel


def test_errors():
    assert not versions.sniff("", {"overall": {"x": 1}})
    with pytest.raises(DumpFormatError) as e:
        versions.parse(json.dumps({"mon": {V16: "many"}, "overall": {V16: 1}}))
    assert e.value.field.startswith("mon.")
    with pytest.raises(DumpFormatError, match="overall: missing"):
        versions.parse(json.dumps({"mon": {V16: 1}}))


DOC = loads_json(read_text(REAL / "versions.json"))


@settings(max_examples=100, deadline=None)
@given(mutations(DOC))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        versions.parse(json.dumps(obj), obj=obj)
    except DumpFormatError:
        pass


@settings(max_examples=100, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    try:
        versions.parse(text)
    except DumpFormatError:
        pass
