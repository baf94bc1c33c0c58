from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import given, settings

from pgtools.errors import DumpFormatError
from pgtools.io import health
from pgtools.io._common import loads_json, read_text
from tests.io._mutate import mutations, texts
from tests.paths import PUBLIC, REAL

SUMMARY = "too many PGs per OSD (480 > max 300)"


def _parse_file(name):
    text = read_text(REAL / name)
    obj = loads_json(text) if name.endswith(".json") else None
    assert health.sniff(text, obj)
    return health.parse(text, source=name, obj=obj)


def test_json():
    frag = _parse_file("health_detail.json")
    assert frag.kind == "health" and frag.release == "octopus+"
    assert frag.health == {"status": "HEALTH_WARN", "mutes": [], "checks": {"TOO_MANY_PGS": {
        "severity": "HEALTH_WARN", "summary": SUMMARY, "detail": [], "count": 180, "muted": False}}}


def test_plain():
    frag = _parse_file("health_detail.txt")
    assert frag.health == {"status": "HEALTH_WARN", "checks": {"TOO_MANY_PGS": {
        "severity": "HEALTH_WARN", "summary": SUMMARY, "detail": [], "count": None, "muted": False}}}
    assert frag.release == "octopus+"


def test_status_json():
    frag = _parse_file("status.json")
    assert frag.kind == "status" and frag.epoch == 101 and frag.release == "pacific"
    assert frag.health["checks"]["TOO_MANY_PGS"]["summary"] == SUMMARY
    st = frag.extra["status"]
    assert st["osdmap"]["num_in_osds"] == 12 and st["pgmap"]["num_pgs"] == 1920
    assert st["pgmap"]["pgs_by_state"] == {"active+clean": 1920}
    assert st["fsid"] == "297711d7-5078-4928-b4ed-b1aba3699317"


def test_jewel_report_health():
    obj = json.loads(read_text(PUBLIC / "01_jewel_ceph_report_python_crush.txt"))
    assert not health.sniff("", obj)  # a ceph report is not a health dump
    assert health.health_from_json(obj["health"]) == {"status": "HEALTH_OK", "checks": {}, "summary": [],
                                                      "detail": []}


def test_plain_nautilus_with_details_and_mute():
    text = textwrap.dedent("""\
        HEALTH_ERR 1 osds down; 1 scrub errors
        [WRN] OSD_DOWN: 1 osds down
            osd.3 (root=default,host=a) is down
        [ERR] OSD_SCRUB_ERRORS: 1 scrub errors (muted: OSD_SCRUB_ERRORS)
        [ERR] PG_DAMAGED: Possible data damage: 1 pg inconsistent
            pg 2.5 is active+clean+inconsistent, acting [1,0,2]
            pg 2.6 is active+clean+inconsistent, acting [2,0,1]
        """)
    h = health.parse(text).health
    assert h["status"] == "HEALTH_ERR"
    assert h["checks"]["OSD_DOWN"] == {"severity": "HEALTH_WARN", "summary": "1 osds down",
                                       "detail": ["osd.3 (root=default,host=a) is down"], "count": None,
                                       "muted": False}
    assert h["checks"]["OSD_SCRUB_ERRORS"]["muted"] is True
    assert h["checks"]["OSD_SCRUB_ERRORS"]["summary"] == "1 scrub errors"
    assert len(h["checks"]["PG_DAMAGED"]["detail"]) == 2


def test_plain_luminous_and_jewel():
    lum = health.parse("HEALTH_WARN 1 osds down\nOSD_DOWN 1 osds down\n    osd.1 is down\n")
    assert lum.health["checks"]["OSD_DOWN"]["detail"] == ["osd.1 is down"] and lum.release == "luminous+"
    jewel = health.parse("HEALTH_WARN 2 pgs degraded; 1/3 in osds are down\npg 1.2 is active+degraded\n")
    assert jewel.health["checks"] == {}
    assert jewel.health["detail"] == ["pg 1.2 is active+degraded"]
    assert [s["summary"] for s in jewel.health["summary"]] == ["2 pgs degraded", "1/3 in osds are down"]
    assert health.parse("HEALTH_OK\n").health == {"status": "HEALTH_OK", "checks": {}}


@pytest.mark.parametrize("text,line", [("HEALTHY\n", 1), ("\n\nfoo\n", 3), ("", 1),
                                       ("HEALTH_WARN x\n[WRN] A_B: x\nnot a check\n", 3)])
def test_plain_errors(text, line):
    with pytest.raises(DumpFormatError) as e:
        health.parse(text)
    assert e.value.line == line


def test_json_wrong_type():
    obj = json.loads(read_text(REAL / "health_detail.json"))
    obj["checks"]["TOO_MANY_PGS"]["summary"] = {"message": [3]}
    with pytest.raises(DumpFormatError) as e:
        health.parse(json.dumps(obj))
    assert e.value.field == "checks.TOO_MANY_PGS.summary.message"


DOC = loads_json(read_text(REAL / "status.json"))


@settings(max_examples=150, deadline=None)
@given(mutations(DOC))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        health.parse(json.dumps(obj), obj=obj)
    except DumpFormatError:
        pass


@settings(max_examples=150, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    assert isinstance(health.sniff(text, None), bool)
    try:
        health.parse(text)
    except DumpFormatError:
        pass
