from __future__ import annotations

import json

import pytest

from pgtools.errors import PgtoolsError
from pgtools.io import crushmap_from_dump, osd_dump, read_text
from pgtools.model import Snapshot
from pgtools.placement.objects import (
    ceph_str_hash,
    ceph_str_hash_linux,
    ceph_str_hash_rjenkins,
    format_osd_map,
    hash_key,
    map_object,
    object_to_pg,
)
from pgtools.placement.osdmaptool import render_test_map_object
from tests.paths import CRUSH_CASES, TEST_DATA

DATA = TEST_DATA / "osdmap"
CASE22 = CRUSH_CASES / "22_osdmap_pools_pgnum"

# ceph_algorithms.md §13
HASHES = [
    ("test-object-1", 0x74DC35E2, 0x7EFCBBBB),
    ("foo", 0x7FC1F406, 0x0024DB2A),
    ("", 0xBD49D10D, 0x00000000),
    ("a", 0x29EEC818, 0x000042F2),
    ("rbd_data.1234567890abcdef", 0x7933E14B, 0x6214E71F),
    ("ns\x1fobj", 0x4DF67843, 0xCCCB9ADE),
]


@pytest.mark.parametrize("s, rj, lx", HASHES)
def test_string_hash_vectors(s, rj, lx):
    assert ceph_str_hash_rjenkins(s) == rj
    assert ceph_str_hash_linux(s) == lx
    assert ceph_str_hash_rjenkins(s.encode()) == rj
    assert ceph_str_hash(2, s) == rj and ceph_str_hash(1, s) == lx
    assert ceph_str_hash(7, s) == 0xFFFFFFFF


def test_hash_key_namespace_and_locator():
    assert hash_key(2, "obj", "ns") == 0x4DF67843
    assert hash_key(2, "obj") == ceph_str_hash_rjenkins("obj")
    # the locator key replaces the name
    assert object_to_pg({"pg_num": 8}, "whatever", key="test-object-1") == (0x74DC35E2, 2)


@pytest.mark.parametrize("pg_num, ps", [(128, 0x62), (64, 0x22), (8, 0x2), (100, 0x62), (12, 0x2)])
def test_object_to_pg_stable_mod(pg_num, ps):
    assert object_to_pg({"pg_num": pg_num, "object_hash": "rjenkins"}, "test-object-1") == (0x74DC35E2, ps)


def test_object_to_pg_linux_hash_and_errors():
    assert object_to_pg({"pg_num": 16, "object_hash": 1}, "foo") == (0x0024DB2A, 0x0024DB2A & 15)
    with pytest.raises(PgtoolsError):
        object_to_pg({"pg_num": 0}, "foo")


def _snap(dump, crush) -> Snapshot:
    fr = osd_dump.parse(read_text(dump))
    return Snapshot(pools=fr.pools, osds=fr.osds, osdmap=fr.osdmap, meta={"epoch": fr.epoch},
                    crush=crushmap_from_dump(json.loads(read_text(crush))))


def test_end_to_end_chain_spec13():
    snap = _snap(DATA / "spec13_osd_dump.json", DATA / "spec13_crush.json")
    m = map_object(snap, "rbd", "test-object-1")
    assert m == ("1.2", (2, 4, 0), (2, 4, 0))
    assert m.raw_pgid == "1.74dc35e2"
    assert (m.up_primary, m.acting_primary) == (2, 2)
    assert format_osd_map(m) == ("osdmap e42 pool 'rbd' (1) object 'test-object-1' -> pg 1.74dc35e2 (1.2) "
                                 "-> up ([2,4,0], p2) acting ([2,4,0], p2)\n")
    assert map_object(snap, 1, "test-object-1").pgid == "1.2"
    ns = map_object(snap, "rbd", "obj", "ns")
    assert ns.objname == "ns/obj" and ns.raw_pgid == "1.4df67843" and ns.pgid == "1.3"
    with pytest.raises(PgtoolsError):
        map_object(snap, "nope", "x")


@pytest.mark.skipif(not CASE22.exists(), reason="shared reference data not present")
@pytest.mark.oracle
def test_osdmaptool_test_map_object_oracle():
    snap = _snap(CASE22 / "osd_dump.json", CASE22 / "crush.json")
    lines = (DATA / "oracles" / "c22_test_map_object.txt").read_text().splitlines()
    # names of 1..30 bytes: every lookup2 tail length, one and two 12-byte blocks
    lines += (DATA / "oracles" / "c22_test_map_object_lengths.txt").read_text().splitlines()
    assert len(lines) == 54
    for line in lines:
        pool, name, expected = line.split(" ", 2)
        assert render_test_map_object(snap, name, int(pool)) == expected + "\n"
