"""The array-level placement API: PoolMapping, map_pool_arrays(reuse=...), mapping_frame, and the array
health counts the what-if engine uses."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest

import pgtools
from pgtools.analysis import health
from pgtools.io import NONE, crushmap_from_dump, osd_dump, read_text
from pgtools.mgr.counts import pgs_per_osd_arrays, pgs_per_osd_up_or_acting
from pgtools.model import Snapshot
from pgtools.placement import (
    adjust_crush_weight,
    compile_snapshot,
    map_pgs,
    map_pool_arrays,
    mapping_frame,
    mark_out,
    mark_up,
)
from pgtools.placement.mapping import _tuples
from pgtools.placement.pipeline import _REUSE, _MappingCache
from pgtools.simulate import CrushWeight, simulate
from tests.paths import SAMPLE_DUMPS, TEST_DATA

DATA = TEST_DATA / "osdmap"
#: spec13 rule 0 raw mappings of PGs 1.0 .. 1.7 (ceph_algorithms.md §13, as in test_placement)
R0 = [(3, 0, 5), (5, 2, 0), (2, 4, 0), (3, 5, 0), (1, 5, 2), (2, 4, 0), (5, 2, 1), (5, 3, 1)]
#: the same PGs under the erasure rule 1
R1 = [(3, 0, 5), (5, 0, 2), (2, 0, 4), (3, 5, 0), (1, 5, 2), (2, 5, 0), (5, 0, 3), (5, 2, 0)]


@functools.cache
def spec13() -> Snapshot:
    fr = osd_dump.parse(read_text(DATA / "spec13_osd_dump.json"), source="spec13_osd_dump.json")
    crush = crushmap_from_dump(json.loads(read_text(DATA / "spec13_crush.json")), source="spec13_crush.json")
    return Snapshot(pools=fr.pools, osds=fr.osds, osdmap=fr.osdmap, crush=crush)


def erasure(snap: Snapshot) -> Snapshot:
    pools = snap.pools.copy()
    pools["crush_rule"] = 1
    pools["type"] = "erasure"
    if "type_id" in pools:
        pools["type_id"] = 3
    return snap.replace(pools=pools)


@functools.cache
def mixed() -> Snapshot:
    return pgtools.load(SAMPLE_DUMPS / "mixed")


def test_all_up_shares_arrays_and_tuples():
    (m,) = map_pool_arrays(spec13())
    assert m.pool_id == 1 and len(m) == 8
    assert m.raw.tolist() == [list(r) for r in R0]
    assert m.up is m.raw and m.acting is m.up
    assert m.up_primary.tolist() == [r[0] for r in R0]
    assert m.tuples("raw").tolist() == R0
    assert m.tuples("acting") is m.tuples("up") is m.tuples("raw")
    assert m.pgids().tolist() == [f"1.{i}" for i in range(8)]
    assert m.lengths().tolist() == [3] * 8
    assert m.acting_equals_up()
    with pytest.raises(ValueError):
        m.up[0, 0] = 1  # shared results are read-only


def test_replicated_down_osd_shifts_left():
    (m,) = map_pool_arrays(mark_up(spec13(), [3], up=False))
    assert m.raw.tolist()[0] == [3, 0, 5]
    assert m.up.tolist()[0] == [0, 5, -1]
    assert m.up.tolist()[1] == [5, 2, 0]
    assert m.up_primary.tolist()[:4] == [0, 5, 2, 5]
    assert m.lengths("up").tolist() == [2, 3, 3, 2, 3, 3, 3, 2]
    up = m.tuples("up")
    assert up[0] == (0, 5) and up[3] == (5, 0) and up[7] == (5, 1)
    assert m.tuples("raw")[0] == (3, 0, 5)
    assert up[1] is m.tuples("raw")[1]  # unchanged rows share the raw tuple


def test_erasure_down_osd_leaves_a_hole():
    (m,) = map_pool_arrays(mark_up(erasure(spec13()), [3], up=False))
    assert m.raw.tolist()[0] == [3, 0, 5]
    assert m.up.tolist()[0] == [NONE, 0, 5]
    assert m.up_primary.tolist()[0] == 0
    assert m.lengths("up").tolist() == [3] * 8
    assert m.tuples("up")[6] == (5, 0, NONE)


def test_temps_give_acting_rows():
    snap = spec13()
    om = dict(snap.osdmap)
    om["pg_temp"] = {"1.0": (5, 3, 1), "1.3": (3, 5, 0)}
    om["primary_temp"] = {"1.1": 2, "1.3": 0}
    (m,) = map_pool_arrays(mark_up(snap.replace(osdmap=om), [3], up=False))
    assert m.acting is not m.up
    assert m.acting.tolist()[0] == [5, 1, -1]
    assert m.acting.tolist()[3] == [5, 0, -1]
    assert m.acting_primary.tolist()[:4] == [5, 2, 2, 0]
    assert not m.acting_equals_up()
    assert m.tuples("acting")[0] == (5, 1)
    assert m.tuples("acting")[2] is m.tuples("up")[2]


def test_pg_upmap_widens_the_up_array():
    snap = spec13()
    om = {**snap.osdmap, "pg_upmap": {"1.2": (1, 2, 3, 4)}}
    (m,) = map_pool_arrays(snap.replace(osdmap=om))
    assert m.up.shape == (8, 4)
    assert m.up.tolist()[2] == [1, 2, 3, 4]
    assert m.up.tolist()[0] == [3, 0, 5, -1]
    assert m.tuples("up")[2] == (1, 2, 3, 4) and m.tuples("up")[0] == (3, 0, 5)
    assert m.raw.tolist()[2] == [2, 4, 0]


@pytest.mark.parametrize("variant", ["plain", "down", "out", "erasure_down", "temps"])
def test_mapping_frame_equals_reference_engine(variant):
    snap = {"plain": mixed(), "down": mark_up(mixed(), [1, 4], up=False), "out": mark_out(mixed(), [2]),
            "erasure_down": mark_up(erasure(spec13()), [0, 3], up=False)}.get(variant)
    if variant == "temps":
        om = {**spec13().osdmap, "pg_temp": {"1.0": (5, 3, 1)}, "primary_temp": {"1.3": 0},
              "pg_upmap_items": {"1.4": ((5, 4),)}}
        snap = spec13().replace(osdmap=om)
    got = mapping_frame(map_pool_arrays(snap))
    pd.testing.assert_frame_equal(got, map_pgs(snap, engine="reference"))
    pd.testing.assert_frame_equal(got, map_pgs(snap))


def test_mapping_frame_of_several_pools_and_of_none():
    parts = map_pool_arrays(mixed())
    assert [p.pool_id for p in parts] == sorted(mixed().pools["pool_id"].astype(int))
    df = mapping_frame(parts)
    assert len(df) == sum(len(p) for p in parts) == 168
    assert df["pool_id"].dtype == np.int64 and str(df["pgid"].dtype) == "str"
    pd.testing.assert_frame_equal(mapping_frame(parts[1:2]), map_pgs(mixed(), parts[1].pool_id))
    empty = mapping_frame([])
    assert list(empty.columns) == list(df.columns) and len(empty) == 0


def test_frames_share_the_cache_but_writes_never_reach_it():
    """A frame is built from each pool mapping's cached columns without copying them (pandas copies on
    write): a user writing to one frame must not change the next frame of the same placement."""
    for parts in (map_pool_arrays(mixed()), map_pool_arrays(mixed())[1:2]):
        first = mapping_frame(parts)
        want = first.copy(deep=True)
        first.loc[0, "up_primary"] = 99
        first.loc[1, "up"] = (1, 2)
        first.loc[2, "pgid"] = "x"
        first["acting_primary"] += 1
        first.loc[3, "pps"] = -5
        pd.testing.assert_frame_equal(mapping_frame(parts), want)
        assert parts[0].up_primary[0] == want.loc[0, "up_primary"]


def test_pg_mappings_match_the_arrays():
    (m,) = map_pool_arrays(mark_up(spec13(), [3], up=False))
    rows = m.pg_mappings()
    assert [r.ps for r in rows] == list(range(8))
    assert rows[0].raw == [3, 0, 5] and rows[0].up == [0, 5] and rows[0].up_primary == 0
    assert rows[1].up is rows[1].acting


def test_tuples_edge_cases():
    a = np.array([[1, 2, -1], [NONE, 3, 4], [-1, -1, -1], [7, 8, 9]])
    assert _tuples(a).tolist() == [(1, 2), (NONE, 3, 4), (), (7, 8, 9)]
    gap = np.array([[5, -1, 6], [1, 2, 3]])
    assert _tuples(gap).tolist() == [(5, 6), (1, 2, 3)]
    assert _tuples(np.zeros((2, 0), dtype=np.int64)).tolist() == [(), ()]
    assert _tuples(np.zeros((0, 3), dtype=np.int64)).tolist() == []
    assert all(type(v) is int for t in _tuples(a) for v in t)


def test_reuse_returns_cached_arrays_only_for_the_same_inputs():
    _REUSE.clear()
    snap = spec13()
    (a,) = map_pool_arrays(snap, reuse=True)
    (b,) = map_pool_arrays(snap.replace(), reuse=True)  # another snapshot object, same content
    assert b is not a and b.raw is a.raw
    (c,) = map_pool_arrays(mark_out(snap, [5]), reuse=True)
    assert c.raw is not a.raw
    assert c.raw.tolist() == map_pool_arrays(mark_out(snap, [5]))[0].raw.tolist()
    assert c.raw.tolist()[0] == [3, 0, 4]
    moved = adjust_crush_weight(snap, {3: 0.0})
    (d,) = map_pool_arrays(moved, reuse=True)
    assert d.raw is not a.raw and 3 not in d.raw
    om = {**snap.osdmap, "pg_upmap_items": {"1.0": ((3, 4),)}}
    (e,) = map_pool_arrays(snap.replace(osdmap=om), reuse=True)
    assert e.up.tolist()[0] == [4, 0, 5] and e.raw is not a.raw
    (f,) = map_pool_arrays(snap, reuse=True)
    assert f.raw is a.raw
    _REUSE.clear()
    (g,) = map_pool_arrays(snap, reuse=True)
    assert g.raw is not a.raw and g.raw.tolist() == a.raw.tolist()


def test_mapping_cache_bounds():
    c = compile_snapshot(mixed())
    pools = [c.pools[p] for p in sorted(c.pools)]
    cache = _MappingCache(max_entries=2, max_rows=40)
    small = [p for p in pools if p.pg_num <= 32][:3]
    assert len(small) == 3
    first = cache.get(c, small[0])
    cache.get(c, small[1])
    cache.get(c, small[2])
    assert len(cache._entries) == 2  # the least recently used went first
    assert cache.get(c, small[0]).raw is not first.raw
    big = max(pools, key=lambda p: p.pg_num)
    assert big.pg_num > 40
    cache.get(c, big)
    assert all(len(m) <= 40 for _, m in cache._entries.values())  # too large to be kept


def testpgs_per_osd_arrays_equal_the_frame_count():
    up = np.array([[1, 2, 3], [4, 4, -1], [NONE, 5, 1], [2, 3, 6]])
    acting = np.array([[1, 2, 3], [4, 7, 8], [5, 1, NONE], [3, -1, -1]])
    pgs = pd.DataFrame({"pgid": ["1.0", "1.1", "1.2", "1.3"], "pool_id": 1,
                        "up": _tuples(up).tolist(), "up_primary": [1, 4, 5, 2],
                        "acting": _tuples(acting).tolist(), "acting_primary": [1, 4, 5, 3]})
    snap = spec13().replace(pgs=pgs)
    union = pgs_per_osd_arrays(up, acting)
    pd.testing.assert_series_equal(union, pgs_per_osd_up_or_acting(snap))
    assert union.to_dict() == {1: 2, 2: 2, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1}
    same = spec13().replace(pgs=pgs.assign(acting=pgs["up"]))
    pd.testing.assert_series_equal(pgs_per_osd_arrays(up), pgs_per_osd_up_or_acting(same))
    assert pgs_per_osd_arrays(up).to_dict() == {1: 2, 2: 2, 3: 2, 4: 2, 5: 1, 6: 1}


def test_simulate_health_equals_analysis_health():
    snap = spec13()
    om = {**snap.osdmap, "pg_temp": {"1.0": (5, 3, 1), "1.2": (4, 4)}, "primary_temp": {"1.3": 0}}
    snap = snap.replace(osdmap=om, config={"mon_max_pg_per_osd": "3", "osd_max_pg_per_osd_hard_ratio": "1.5"})
    plan = simulate(snap, [CrushWeight(5, 0.5)])
    # the plan adds what only a simulation knows (PGs CRUSH maps to fewer OSDs than size/min_size: the
    # availability findings); every other finding is health()'s own, in its order
    simulated_only = {"PG_AVAILABILITY", "PG_DEGRADED", "PG_LOST"}
    for step, ssnap in enumerate(plan.snapshots):
        want = [(f.code, f.severity, f.summary) for f in health(ssnap)]
        got = plan.health[plan.health["step"] == step]
        rows = list(zip(got["code"], got["severity"], got["summary"], strict=True))
        assert [r for r in rows if r[0] not in simulated_only] == want
        assert all("CRUSH maps them to fewer OSDs" in r[2] for r in rows if r[0] in simulated_only)
    assert plan.health.loc[plan.health["step"] == 0, "code"].tolist() == [
        "TOO_MANY_PGS", "OSD_PG_HARD_LIMIT", "OSD_ABOVE_MAX_PG_PER_OSD"]
