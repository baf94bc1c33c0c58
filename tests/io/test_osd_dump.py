from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.errors import DumpFormatError
from pgtools.io import NONE, loads_json, osd_dump, read_text
from tests.paths import CRUSH_CASES, PUBLIC, REAL, TEST_DATA

DATA = TEST_DATA / "osdmap"
CASE23 = CRUSH_CASES / "23_osdmap_reweight_out_down_affinity_upmap"
needs_shared = pytest.mark.skipif(not CASE23.exists(), reason="shared reference data not present")


def _parse(path):
    text = read_text(path)
    return osd_dump.parse(text, source=str(path))


# ------------------------------------------------------------------------------------------ sniff


def test_sniff_json_and_plain():
    text = (DATA / "temps_osd_dump.json").read_text()
    obj = loads_json(text)
    assert osd_dump.sniff(text, obj) is True
    plain = (DATA / "temps_osd_dump.txt").read_text()
    assert osd_dump.sniff(plain, None) is True
    assert osd_dump.sniff('{"pg_map": {}}', {"pg_map": {}}) is False
    assert osd_dump.sniff("epoch 3\nnothing else\n", None) is False
    assert osd_dump.sniff("", None) is False


# ------------------------------------------------------------------------------------------ JSON


def test_json_temps_fixture():
    fr = _parse(DATA / "temps_osd_dump.json")
    assert fr.kind == "osd_dump"
    assert fr.epoch == 77
    assert fr.release == "pacific"
    om = fr.osdmap
    assert om["max_osd"] == 7
    assert om["pool_max"] == 2
    assert om["crush_version"] == 7
    assert om["full_ratio"] == pytest.approx(0.95)
    assert om["pg_upmap"] == {"1.2": (0, 4, 5)}
    assert om["pg_upmap_items"] == {"1.1": ((1, 4), (0, 5))}
    assert om["pg_temp"] == {"1.3": (5, 4, 0), "2.7": (4, NONE, 5)}
    assert om["primary_temp"] == {"1.3": 4, "1.6": 5}
    assert om["blocklist"] == ["127.0.0.1:0/3710147553"]
    assert om["erasure_code_profiles"]["k2m1"]["m"] == "1"

    pools = fr.pools
    assert pools["pool_id"].tolist() == [1, 2]
    ec = pools.set_index("pool_id").loc[2]
    assert ec["pool"] == "my ec pool"
    assert ec["type"] == "erasure"
    assert (ec["size"], ec["pg_num"], ec["pgp_num"], ec["pgp_num_target"]) == (3, 8, 4, 8)
    assert (ec["ec_k"], ec["ec_m"]) == (2, 1)
    assert ec["flags"] == 5
    assert ec["target_size_ratio"] == pytest.approx(0.2)
    assert ec["pg_num_min"] == 4
    assert ec["application"] == "cephfs,rgw"
    assert ec["pg_autoscale_mode"] == "on"

    osds = fr.osds
    # 7 ids (max_osd), osd.6 does not exist
    assert osds["osd_id"].tolist() == list(range(7))
    assert osds["exists"].tolist() == [True] * 6 + [False]
    assert osds["up"].tolist() == [True, True, False, True, True, True, False]
    assert osds["in"].tolist() == [True, True, True, False, True, True, False]
    assert osds["weight_fixed"].tolist() == [65536, 32768, 65536, 0, 65536, 65536, 0]
    assert osds["primary_affinity_fixed"].tolist()[:2] == [65536, 16384]
    assert osds.loc[1, "name"] == "osd.1"


def test_plain_equals_json_on_the_fixture():
    js = _parse(DATA / "temps_osd_dump.json")
    pl = _parse(DATA / "temps_osd_dump.txt")
    assert pl.epoch == 77
    for k in ("max_osd", "pg_upmap", "pg_upmap_items", "pg_temp", "primary_temp", "crush_version",
              "require_osd_release", "flags"):
        assert pl.osdmap[k] == js.osdmap[k], k
    assert pl.osdmap["blocklist"] == ["127.0.0.1:0/3710147553"]
    cols = ["osd_id", "exists", "up", "in", "weight_fixed", "primary_affinity_fixed"]
    pd.testing.assert_frame_equal(pl.osds[cols], js.osds[cols])
    pcols = ["pool_id", "pool", "type", "size", "min_size", "pg_num", "pgp_num", "pgp_num_target",
             "crush_rule", "object_hash", "flags", "flags_names", "erasure_code_profile",
             "pg_autoscale_mode", "target_size_ratio", "pg_num_min", "application"]
    pd.testing.assert_frame_equal(pl.pools[pcols], js.pools[pcols])


@needs_shared
def test_case23_json_and_plain():
    fr = _parse(CASE23 / "osd_dump.json")
    assert fr.epoch == 80
    assert fr.osdmap["pg_upmap"] == {"1.2": (0, 4, 16), "3.1": (14, 16, 11, 4, 1)}
    assert fr.osdmap["pg_upmap_items"]["1.1"] == ((14, 8), (0, 16))
    assert len(fr.osdmap["pg_upmap_items"]) == 5
    osds = fr.osds.set_index("osd_id")
    assert osds.loc[6, "weight_fixed"] == 52428
    assert osds.loc[10, "weight_fixed"] == 0 and not osds.loc[10, "in"]
    assert bool(osds.loc[17, "exists"]) and not osds.loc[17, "up"]
    assert osds.loc[8, "primary_affinity_fixed"] == 16384
    assert fr.pools.set_index("pool_id").loc[3, "ec_k"] == 3
    pl = _parse(CASE23 / "osd_dump.txt")
    assert pl.osdmap["pg_upmap_items"] == fr.osdmap["pg_upmap_items"]
    assert pl.osdmap["pg_upmap"] == fr.osdmap["pg_upmap"]
    cols = ["osd_id", "exists", "up", "in", "weight_fixed", "primary_affinity_fixed"]
    pd.testing.assert_frame_equal(pl.osds[cols], fr.osds[cols])


@needs_shared
def test_real_pacific_capture():
    fr = _parse(REAL / "osd_dump.json")
    assert fr.epoch == 101
    assert len(fr.pools) == 15
    assert fr.pools["pg_num"].sum() == 1920
    assert fr.pools.loc[0, "application"] == "rbd"
    assert len(fr.osds) == 12 and fr.osds["up"].all()
    pl = _parse(REAL / "osd_dump.txt")
    assert pl.pools["pool"].tolist() == fr.pools["pool"].tolist()
    assert pl.pools["application"].tolist() == fr.pools["application"].tolist()


@pytest.mark.skipif(not (PUBLIC / "03_jewel_osd_dump_json_python_crush.txt").exists(),
                    reason="public dumps not present")
def test_jewel_crush_ruleset():
    fr = _parse(PUBLIC / "03_jewel_osd_dump_json_python_crush.txt")
    assert fr.release == "jewel"
    assert fr.epoch == 57
    assert fr.pools["crush_rule"].tolist() == [0, 2]
    assert fr.pools["type"].tolist() == ["replicated", "erasure"]
    assert fr.osds["weight_fixed"].tolist() == [65536, 62259, 65536]


def test_primary_temp_as_objects_and_blacklist():
    obj = json.loads((DATA / "temps_osd_dump.json").read_text())
    obj["primary_temp"] = [{"pgid": "1.3", "osd": 4}]
    obj["blacklist"] = obj.pop("blocklist")
    fr = osd_dump.osdmap_fragment(obj, "x")
    assert fr.osdmap["primary_temp"] == {"1.3": 4}
    assert fr.osdmap["blocklist"] == ["127.0.0.1:0/3710147553"]


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("mutate, field", [
    (lambda o: o.update(primary_temp=["1.3", 4, "1.6"]), "primary_temp"),
    (lambda o: o.update(max_osd="many"), "max_osd"),
    (lambda o: o["pg_temp"].append({"pgid": "zz", "osds": [1]}), "pg_temp.pgid"),
    (lambda o: o["pools"][0].update(pg_num=None), "pools[0].pg_num"),
    (lambda o: o.update(osds={"osd": 1}), "osds"),
])
def test_malformed_json_errors(mutate, field):
    obj = json.loads((DATA / "temps_osd_dump.json").read_text())
    mutate(obj)
    with pytest.raises(DumpFormatError) as ei:
        osd_dump.parse(json.dumps(obj), source="bad.json")
    assert ei.value.field == field
    assert str(ei.value).startswith("bad.json: ")


def test_malformed_plain_error_has_line():
    text = (DATA / "temps_osd_dump.txt").read_text().replace("pg_temp 1.3 [5,4,0]", "pg_temp 1.3 [5,x,0]")
    with pytest.raises(DumpFormatError) as ei:
        osd_dump.parse(text, source="bad.txt")
    assert ei.value.line == 28
    assert ei.value.field == "pg_temp"


_SAMPLE_TEXTS = [(DATA / "temps_osd_dump.json").read_text(), (DATA / "temps_osd_dump.txt").read_text()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SAMPLE_TEXTS), st.data())
def test_fuzz_only_dump_format_error(sample, data):
    kind = data.draw(st.sampled_from(["cut", "replace", "insert", "random"]))
    if kind == "random":
        text = data.draw(st.text(max_size=300))
    else:
        i = data.draw(st.integers(0, len(sample)))
        j = data.draw(st.integers(i, min(len(sample), i + 40)))
        ins = data.draw(st.text(alphabet='0123456789-.,[]{}":abcNONE \n', max_size=12))
        text = {"cut": sample[:i] + sample[j:], "replace": sample[:i] + ins + sample[j:],
                "insert": sample[:i] + ins + sample[i:]}[kind]
    try:
        fr = osd_dump.parse(text, source="fuzz")
    except DumpFormatError:
        return
    assert fr.kind == "osd_dump"


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(
                        st.sampled_from(["epoch", "max_osd", "pools", "osds", "pg_temp", "primary_temp",
                                         "pg_upmap", "pg_upmap_items", "pgid", "osds", "osd", "pool",
                                         "pg_num", "size", "mappings", "from", "to", "state", "weight",
                                         "erasure_code_profiles", "type"]), c, max_size=5),
                    max_leaves=20))
def test_fuzz_json_structures(obj):
    if isinstance(obj, dict):
        obj.setdefault("pools", [])
        obj.setdefault("osds", [])
        obj.setdefault("max_osd", 3)
    try:
        osd_dump.osdmap_fragment(obj, "fuzz")  # type: ignore[arg-type]
    except DumpFormatError:
        pass


def test_reef_upmap_primaries_kept():
    obj = json.loads((DATA / "temps_osd_dump.json").read_text())
    obj["pg_upmap_primaries"] = [{"pgid": "1.5", "primary_osd": 4}]
    assert osd_dump.osdmap_fragment(obj, "x").osdmap["pg_upmap_primaries"] == {"1.5": 4}
    plain = (DATA / "temps_osd_dump.txt").read_text() + "pg_upmap_primary 1.5 4\n"
    assert osd_dump.parse(plain).osdmap["pg_upmap_primaries"] == {"1.5": 4}


JEWEL_PLAIN = """epoch 57
fsid 0bbbb5a6-0e72-11e7-addd-080027759979
created 2017-03-21 16:07:46.516760
modified 2017-03-23 08:29:40.874423
flags sortbitwise,require_jewel_osds
pool 0 'rbd' replicated size 3 min_size 1 crush_ruleset 0 object_hash rjenkins pg_num 64 pgp_num 64 last_change 1 flags hashpspool stripe_width 0
\tremoved_snaps [1~3]
pool 1 'it''s' erasure size 3 min_size 2 crush_ruleset 2 object_hash rjenkins pg_num 512 pgp_num 512 last_change 54 flags hashpspool stripe_width 4096
max_osd 3
osd.0 up   in  weight 1 up_from 4 up_thru 55 down_at 0 last_clean_interval [0,0) 10.0.0.1:6800/1234 10.0.0.1:6801/1234 10.0.0.1:6802/1234 10.0.0.1:6803/1234 exists,up 1a2b3c4d-0000-0000-0000-000000000000
osd.1 up   in  weight 0.950012 up_from 8 up_thru 55 down_at 0 last_clean_interval [0,0) 10.0.0.2:6800/1234 10.0.0.2:6801/1234 10.0.0.2:6802/1234 10.0.0.2:6803/1234 exists,up 1a2b3c4d-0000-0000-0000-000000000001
osd.2 down out weight 0 up_from 12 up_thru 50 down_at 56 last_clean_interval [0,0) :/0 :/0 :/0 :/0 autoout,exists 1a2b3c4d-0000-0000-0000-000000000002
"""


def test_jewel_style_plain():
    fr = osd_dump.parse(JEWEL_PLAIN, source="jewel.txt")
    assert fr.epoch == 57
    assert fr.pools["pool"].tolist() == ["rbd", "it''s"]
    assert fr.pools["crush_rule"].tolist() == [0, 2]
    assert fr.pools["type"].tolist() == ["replicated", "erasure"]
    assert fr.osds["weight_fixed"].tolist() == [65536, 62260, 0]  # 0.950012 is 62260/65536 rounded
    assert fr.osds["up"].tolist() == [True, True, False]
    assert fr.osds["exists"].tolist() == [True, True, True]
