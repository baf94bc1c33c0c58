"""Tests of pgtools.build_cluster and pgtools.crush.build.build_crush (the crushtool --build layout).

The oracle comparison with crushtool --build itself is in tests/oracle/test_build.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

import pgtools
from pgtools.crush.build import build_crush
from pgtools.placement import map_pgs
from tests.paths import REPO, TEST_DATA

TOY = TEST_DATA / "risk_toy"  # crushtool --build --num_osds 10 host straw2 1 root straw2 0, osdmaptool pool rbd 512


def test_toy_places_like_the_map_ceph_built():
    """The Ceph docs' 10-OSD / 512-PG toy, built by pgtools, maps every PG as the map crushtool and osdmaptool
    made (tests/data/risk_toy)."""
    built = pgtools.build_cluster(10, [("host", "straw2", 1), ("root", "straw2", 0)],
                                  pools=[{"pool": "rbd", "pg_num": 512}])
    ceph = pgtools.load(TOY)
    assert built.crush.differences(ceph.crush) == []
    a, b = map_pgs(built), map_pgs(ceph)
    pd.testing.assert_frame_equal(a[["pgid", "up", "acting", "up_primary"]], b[["pgid", "up", "acting", "up_primary"]])
    row = built.pools.iloc[0]
    assert (row["pool_id"], row["size"], row["min_size"], row["crush_rule"]) == (1, 3, 2, 0)


def test_layers_names_ids_and_rule():
    c = build_crush(7, [("host", "straw2", 2), ("rack", "straw2", 2), ("root", "straw2", 0)])
    assert [c.buckets[b].name for b in sorted(c.buckets, reverse=True)] == [
        "host0", "host1", "host2", "host3", "rack0", "rack1", "root"]
    assert c.buckets[-4].items == (6,) and c.buckets[-7].weight == 7 * 0x10000
    assert c.types == {0: "osd", 1: "host", 2: "rack", 3: "root"}
    assert c.rules[0].steps == ((1, -7, 0), (6, 0, 1), (4, 0, 0))
    one = build_crush(4, [("host", "straw2", 0)])  # crushtool's quirk: take the host, chooseleaf type host
    assert one.rules[0].steps == ((1, -1, 0), (6, 0, 1), (4, 0, 0))


def test_pools_rules_bytes_and_classes():
    snap = pgtools.build_cluster(12, [("host", "straw2", 3), ("rack", "straw2", 2), ("root", "straw2", 0)],
                                 pools=[{"pool": "rbd", "pg_num": 128, "bytes": 10**12, "objects": 1000},
                                        {"pool": "ec", "type": "erasure", "k": 2, "m": 1, "pg_num": 64,
                                         "failure_domain": "rack"},
                                        {"pool": "r2", "size": 2, "pg_num": 32, "failure_domain": "rack"}],
                                 device_class="ssd", osd_bytes=4e12, weights=[1.0] * 11 + [2.0])
    pools = snap.pools.set_index("pool")
    assert pools.loc["ec", "size"] == 3 and pools.loc["ec", "min_size"] == 2  # k + min(1, m - 1)
    assert pools.loc["r2", "min_size"] == 1
    ec_rule = snap.crush.rules[pools.loc["ec", "crush_rule"]]
    assert ec_rule.type == 3 and ec_rule.steps[3] == (7, 0, 2) and ec_rule.max_size == 3
    assert snap.crush.rules[pools.loc["r2", "crush_rule"]].name == "replicated_rack"
    assert set(snap.osds["device_class"]) == {"ssd"} and snap.osds["kb"].iloc[0] == int(4e12 // 1024)
    assert snap.crush.buckets[-4].weight == 4 * 0x10000  # host3 holds osd.9..11, osd.11 weighing 2
    # the PG table is the computed placement, the pool's bytes spread over its PGs
    assert len(snap.pgs) == 128 + 64 + 32
    assert snap.pgs.groupby("pool")["bytes"].sum().to_dict() == {"rbd": 10**12, "ec": 0, "r2": 0}
    assert snap.pgs.groupby("pool")["objects"].sum()["rbd"] == 1000
    m = map_pgs(snap)
    assert list(m["up"]) == list(snap.pgs["up"])
    # the EC pool really separates racks: its 3 shards sit in 2 racks only when the rule allows; here it
    # cannot (2 racks for 3 shards), so CRUSH leaves holes
    assert any(pgtools.NONE in up for up in m[m["pool_id"] == 2]["up"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_osds": 0, "layers": [("host", "straw2", 1)]}, "at least one OSD"),
    ({"num_osds": 3, "layers": []}, "at least one layer"),
    ({"num_osds": 3, "layers": [("host", "bogus", 1)]}, "unknown bucket algorithm"),
    ({"num_osds": 3, "layers": [("osd", "straw2", 1)]}, "appears twice"),
    ({"num_osds": 3, "layers": [("host", "straw2", -1)]}, "negative"),
    ({"num_osds": 3, "layers": [("host", "straw2", 1)], "weights": [1, 1]}, "2 weights for 3 OSDs"),
    ({"num_osds": 3, "layers": [("host", "straw2", 1)], "weights": [1, 1, float("nan")]}, "weight must be a number"),
    ({"num_osds": 3, "layers": [("host", "straw2", 1)], "pools": [{"pool": "x", "size": 0}]}, "at least one copy"),
    ({"num_osds": 3, "layers": [("host", "straw2", 1)], "pools": [{"pool": "x", "pg_num": 0}]}, "pg_num 0"),
    ({"num_osds": 3, "layers": [("host", "straw2", 1)], "pools": [{"pool": "x", "type": "erasure"}]}, "needs k and m"),
    ({"num_osds": 3, "layers": [("host", "straw2", 1)], "pools": [{"pool": "x", "failure_domain": "rack"}]},
     "not a layer"),
    ({"num_osds": 3, "layers": [("host", "straw2", 1)], "pools": [{"pool": "x", "sizee": 2}]}, "unknown key"),
])
def test_bad_layouts_are_one_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pgtools.build_cluster(**kwargs)


def test_repo_path_is_the_repo():
    assert (REPO / "pgtools").is_dir()


def test_release_is_recorded_and_checked():
    snap = pgtools.build_cluster(3, [("host", "straw2", 1)], pools=[{"pool": "p", "pg_num": 8}], release="Reef")
    assert snap.release == "reef"
    with pytest.raises(ValueError, match="pgtools models"):
        pgtools.build_cluster(3, [("host", "straw2", 1)], release="firefly")
