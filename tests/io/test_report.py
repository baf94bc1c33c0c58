from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from pgtools.errors import DumpFormatError, UnsupportedFeatureError
from pgtools.io import ceph_report as report
from pgtools.io._common import loads_json, read_text
from tests.io._mutate import mutations, texts
from tests.paths import PUBLIC, REAL

JEWEL = PUBLIC / "01_jewel_ceph_report_python_crush.txt"


@pytest.fixture(scope="module")
def jewel():
    text = read_text(JEWEL)
    obj = loads_json(text)
    assert report.sniff(text, obj)
    return report.parse(text, source="01", obj=obj)


def test_jewel_report_pgs(jewel):
    assert jewel.kind == "report" and jewel.release == "jewel" and jewel.epoch == 681296
    assert len(jewel.pgs) == 4096 and (jewel.pgs.pool_id == 3).all()
    assert jewel.pgs.up.map(len).sum() == 12288
    r = jewel.pgs.set_index("pgid").loc["3.fff"]
    assert (r.up, r.acting_primary, r.objects) == ((43, 34, 26), 43, 1359)
    assert jewel.extra["version"] == "10.2.7-7-g5e27fb4"
    assert jewel.extra["pgmap_version"] == 89110972


def test_jewel_report_pools_osds_health(jewel):
    p = jewel.pools.iloc[0]
    assert len(jewel.pools) == 1
    assert (p.pool_id, p.pool, p.type, p["size"], p.min_size, p.pg_num, p.pgp_num, p.crush_rule) == (
        3, "cephstor3", "replicated", 3, 1, 4096, 4096, 0)
    assert jewel.health["status"] == "HEALTH_OK"
    assert jewel.osds is not None and len(jewel.osds) > 0
    assert jewel.osdmap is not None


def test_jewel_report_crush(jewel):
    assert jewel.crush is not None


def test_not_a_report():
    assert not report.sniff("", json.loads(read_text(REAL / "status.json")))
    with pytest.raises(DumpFormatError):
        report.parse("[]")


def test_wrong_type_in_pgmap():
    obj = json.loads(read_text(JEWEL))
    obj["pgmap"]["pg_stats"][5]["acting"] = "x"
    with pytest.raises(DumpFormatError) as e:
        report.parse("", obj=obj)
    assert e.value.field == "pg_stats[5].acting"


def test_report_without_pgmap_nautilus_style():
    obj = json.loads(read_text(JEWEL))
    del obj["pgmap"]
    obj["num_pg"] = 4096
    frag = report.parse("", obj=obj)
    assert frag.pgs is None and frag.epoch == 681296 and len(frag.pools) == 1 and frag.crush is not None


def _small():
    obj = loads_json(read_text(JEWEL))
    obj["pgmap"]["pg_stats"] = obj["pgmap"]["pg_stats"][:3]
    for k in ("osd_metadata", "monmap", "fsmap", "auth", "paxos"):
        obj.pop(k, None)
    obj["osdmap"]["osds"] = obj["osdmap"]["osds"][:3]
    obj["osdmap"]["osd_xinfo"] = obj["osdmap"]["osd_xinfo"][:3]
    return obj


SMALL = _small()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations(SMALL))
def test_mutated_json_only_dump_format_errors(obj):
    try:
        report.parse("", obj=obj)
    except DumpFormatError:
        pass
    except UnsupportedFeatureError:
        pass  # the CRUSH reader's verdict on a mutated crushmap (a valid PgtoolsError, documented)


@settings(max_examples=100, deadline=None)
@given(texts)
def test_arbitrary_text_only_dump_format_errors(text):
    try:
        report.parse(text)
    except DumpFormatError:
        pass
