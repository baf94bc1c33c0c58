from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import config_dump
from pgtools.io._common import read_text
from tests.io._mutate import mutations, texts
from tests.paths import REAL


def test_real_plain():
    text = read_text(REAL / "config_dump.txt")
    assert config_dump.sniff(text, None)
    frag = config_dump.parse(text, source="config_dump.txt")
    assert frag.config == {"mon_max_pg_per_osd": "300", "osd_pool_default_pg_autoscale_mode": "off",
                           "mgr/balancer/active": "false", "mgr/devicehealth/enable_monitoring": "false"}
    df = frag.extra["config_dump"]
    assert list(df.who) == ["global", "global", "mgr", "mgr"]
    assert list(df.level) == ["advanced"] * 4 and not df.ro.any() and set(df["mask"]) == {""}
    assert frag.kind == "config_dump"


PLAIN = textwrap.dedent("""\
    WHO     MASK        LEVEL     OPTION                 VALUE                RO
    global              basic     mon_max_pg_per_osd     250
    mon                 advanced  mon_max_pg_per_osd     400
    osd                 advanced  osd_memory_target      4294967296
    osd     host:node1  advanced  osd_memory_target      8589934592
      mgr               advanced  mon_max_pg_per_osd     500
      mgr               advanced  mgr/foo/opt            a value with spaces  *
    osd.3               basic     osd_max_backfills      3
    client              advanced  rbd_cache              false
    """)


def test_precedence_masks_and_spaces():
    frag = config_dump.parse(PLAIN)
    assert frag.config == {"mon_max_pg_per_osd": "500", "osd_memory_target": "4294967296",
                           "mgr/foo/opt": "a value with spaces"}
    df = frag.extra["config_dump"]
    assert df.loc[3, "mask"] == "host:node1" and df.loc[5, "ro"]
    assert frag.extra["config_by_section"]["osd.3"] == {"osd_max_backfills": "3"}
    assert frag.extra["config_by_section"]["mon"] == {"mon_max_pg_per_osd": "400"}


def test_json():
    entries = [
        {"section": "global", "name": "mon_max_pg_per_osd", "value": "300", "level": "advanced",
         "can_update_at_runtime": True, "mask": ""},
        {"section": "osd", "name": "osd_memory_target", "value": "1", "level": "basic",
         "can_update_at_runtime": False, "mask": "host:a", "location_type": "host", "location_value": "a"},
    ]
    text = json.dumps(entries)
    assert config_dump.sniff(text, entries)
    frag = config_dump.parse(text)
    assert frag.config == {"mon_max_pg_per_osd": "300"}
    assert list(frag.extra["config_dump"].ro) == [False, True]


def test_errors():
    with pytest.raises(DumpFormatError) as e:
        config_dump.parse(json.dumps([{"section": "global", "name": "x", "value": ["1"]}]))
    assert e.value.field == "[0].value"
    with pytest.raises(DumpFormatError) as e:
        config_dump.parse("junk\nWHO  MASK  LEVEL  OPTION  VALUE  RO\n")
    assert e.value.line == 1
    with pytest.raises(DumpFormatError) as e:
        config_dump.parse("WHO     MASK  LEVEL     OPTION  VALUE  RO\nglobal                  x       1\n")
    assert (e.value.line, e.value.field) == (2, "LEVEL")


DOC = [{"section": "global", "name": "a", "value": "1", "level": "basic", "can_update_at_runtime": True,
        "mask": ""}, {"section": "mgr", "name": "b", "value": "2", "level": "dev", "can_update_at_runtime": False,
                      "mask": ""}]


@settings(max_examples=150, deadline=None)
@given(mutations(DOC))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        config_dump.parse(json.dumps(obj), obj=obj)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    assert isinstance(config_dump.sniff(text, None), bool)
    try:
        config_dump.parse(text)
    except DumpFormatError:
        pass
