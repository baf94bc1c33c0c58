"""Tests of the what-if engine pgtools.simulate (osdmaptool as oracle where it applies)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

import pgtools
from pgtools.errors import PgtoolsError, PgtoolsWarning
from pgtools.mgr.options import with_overrides
from pgtools.placement import map_pgs
from pgtools.simulate import (
    AddHost,
    AddUpmapItems,
    CreatePool,
    CrushWeight,
    DeletePool,
    Fail,
    MarkOut,
    Reweight,
    SetPgNum,
    SetPgpNum,
    SetPoolSize,
    hash_shares,
    simulate,
)
from pgtools.text import plan_csv, plan_json, plan_text
from tests.paths import REAL, TEST_DATA

OSDMAP = REAL / "osdmap.bin"
needs_osdmaptool = pytest.mark.skipif(shutil.which("osdmaptool") is None, reason="osdmaptool not installed")


@pytest.fixture(scope="module")
def snap():
    return pgtools.load(REAL)


@pytest.fixture(scope="module")
def roomy(snap):
    """The seed cluster with room for more PGs: its mon_max_pg_per_osd 300 refuses every increase."""
    return with_overrides(snap, {"mon_max_pg_per_osd": 1000})


def _osdmaptool_up(*args: str, osdmap=OSDMAP) -> dict[str, tuple[int, ...]]:
    out = subprocess.run(["osdmaptool", str(osdmap), "--test-map-pgs-dump-all", *args], check=True,
                         capture_output=True, text=True).stdout
    return {m.group(1): tuple(int(x) for x in m.group(2).split(",") if x)
            for m in re.finditer(r"^(\d+\.[0-9a-f]+) raw \(\[[^\]]*\], p-?\d+\) up \(\[([^\]]*)\]", out, re.M)}


def _up(plan, step, pool=None):
    m = plan.mappings[step]
    if pool is not None:
        m = m[m["pool_id"] == pool]
    return dict(zip(m["pgid"], m["up"], strict=True))


# ---------------------------------------------------------------------------- hash shares / bytes
def test_hash_shares_split_power_of_two():
    op, qp, sh = hash_shares(128, 256)
    assert len(op) == 256
    assert set(sh) == {0.5}
    pairs = set(zip(op.tolist(), qp.tolist(), strict=True))
    assert (5, 5) in pairs and (5, 133) in pairs and (5, 6) not in pairs


def test_hash_shares_non_power_of_two():
    op, qp, sh = hash_shares(128, 192)
    d = {(int(a), int(b)): float(s) for a, b, s in zip(op, qp, sh, strict=True)}
    assert d[(70, 70)] == 1.0           # 70 + 128 >= 192: no child yet
    assert d[(10, 10)] == 0.5 and d[(10, 138)] == 0.5
    assert np.bincount(op, weights=sh).round(12).tolist() == [1.0] * 128


def test_hash_shares_merge():
    op, qp, sh = hash_shares(64, 48)
    d = {(int(a), int(b)): float(s) for a, b, s in zip(op, qp, sh, strict=True)}
    assert d[(40, 40)] == 1.0 and d[(56, 24)] == 1.0
    assert len(op) == 64


def test_split_bytes_conserved(roomy):
    snap = roomy
    plan = simulate(snap, [SetPgNum(1, 256, follow_pgp=False)])
    m0, m1 = plan.mappings[0], plan.mappings[1]
    b0 = dict(zip(m0["pgid"], m0["bytes"], strict=True))
    b1 = dict(zip(m1["pgid"], m1["bytes"], strict=True))
    p1 = m1[m1["pool_id"] == 1]
    assert len(p1) == 256
    for ps in (0, 5, 77, 127):
        parent, child = f"1.{ps:x}", f"1.{ps + 128:x}"
        assert abs(b1[parent] + b1[child] - b0[parent]) <= 1
        assert abs(b1[parent] - b0[parent] / 2) <= 1
    assert abs(int(p1["bytes"].sum()) - int(m0.loc[m0["pool_id"] == 1, "bytes"].sum())) <= 128
    assert int(m1["bytes"].sum()) == pytest.approx(int(m0["bytes"].sum()), abs=256)


# ---------------------------------------------------------------------------- oracles
@pytest.mark.oracle
@needs_osdmaptool
@pytest.mark.parametrize("pg_num", [256, 200])
def test_set_pg_num_matches_osdmaptool(roomy, pg_num):
    plan = simulate(roomy, [SetPgNum(1, pg_num, follow_pgp=False)])
    want = _osdmaptool_up("--pool", "1", "--pg_num", str(pg_num))
    assert len(want) == pg_num
    assert _up(plan, 1, pool=1) == want


@pytest.mark.oracle
@needs_osdmaptool
def test_pg_num_with_pgp_num_matches_osdmaptool(roomy):
    snap = roomy
    """pg_num and pgp_num 192 -> 384 equals a map created with pg_num = pgp_num = 384 (same CRUSH map)."""
    base = SetPgNum(1, 192).apply(snap)
    args = ("--mark-up-in", "--pool", "1")
    want = _osdmaptool_up(*args, osdmap=TEST_DATA / "simulate" / "osdmap_pg384.bin")
    assert len(want) == 384
    one = simulate(base, [SetPgNum(1, 384)])
    assert _up(one, 0, pool=1) == _osdmaptool_up(*args, osdmap=TEST_DATA / "simulate" / "osdmap_pg192.bin")
    assert _up(one, 1, pool=1) == want
    two = simulate(base, [SetPgNum(1, 384, follow_pgp=False), SetPgpNum(1, 384)])
    assert _up(two, 2, pool=1) == want
    assert two.steps.loc[1, "pgs_moved"] == 0 and two.steps.loc[2, "pgs_moved"] > 0
    walk = simulate(base, [SetPgNum(1, 384)], stepwise=True)
    assert _up(walk, -1, pool=1) == want
    assert walk.pools.query("pool_id == 1")["pgp_num"].iloc[-1] == 384


@pytest.mark.oracle
@needs_osdmaptool
def test_mark_out_matches_osdmaptool(snap):
    plan = simulate(snap, [MarkOut(3)])
    want = _osdmaptool_up("--mark-out", "3")
    assert len(want) == 1920
    assert _up(plan, 1) == want


@pytest.mark.oracle
@needs_osdmaptool
def test_crush_weight_matches_osdmaptool(snap):
    plan = simulate(snap, [CrushWeight(3, 0.5)])
    want = _osdmaptool_up("--adjust-crush-weight", "3:0.5")
    assert _up(plan, 1) == want
    before = _up(plan, 0)
    # a replicated PG whose OSDs only change order moves no data: it is not counted
    assert plan.steps.loc[1, "pgs_moved"] == sum(set(before[g]) != set(want[g]) for g in want) == 369
    assert sum(before[g] != want[g] for g in want) == 380


# ---------------------------------------------------------------------------- movement by hand
def test_single_upmap_movement(snap):
    m0 = map_pgs(snap)
    up = m0.loc[m0["pgid"] == "1.0", "up"].iloc[0]
    src = up[1]
    host_osds = {o for o in range(12) if o // 3 == src // 3}
    others = [o for o in range(12) if o not in up and o // 3 not in {u // 3 for u in up} | {src // 3}]
    dst = others[0]
    plan = simulate(snap, [AddUpmapItems("1.0", ((src, dst),))])
    s = plan.steps.loc[1]
    assert (s["pgs_moved"], s["shards_moved"]) == (1, 1)
    nbytes = int(snap.pgs.loc[snap.pgs["pgid"] == "1.0", "bytes"].iloc[0])
    assert s["bytes_moved"] == nbytes
    mv = plan.movement
    assert mv[["osd_id", "pgs_in", "pgs_out", "bytes_in", "bytes_out"]].values.tolist() == sorted(
        [[src, 0, 1, 0, nbytes], [dst, 1, 0, nbytes, 0]])
    assert src in host_osds
    diff = plan.diff()
    assert diff["pgid"].tolist() == ["1.0"]
    assert diff.loc[0, "up_b"] == tuple(dst if o == src else o for o in up)


def test_mark_out_movement_totals(snap):
    plan = simulate(snap, [MarkOut(3)])
    m0 = plan.mappings[0]
    on3 = int(m0["up"].map(lambda u: 3 in u).sum())
    assert on3 == 461
    mv = plan.movement[plan.movement["step"] == 1].set_index("osd_id")
    assert mv.loc[3, "pgs_out"] == on3 and mv.loc[3, "pgs_in"] == 0
    assert int(mv["pgs_in"].sum()) == int(mv["pgs_out"].sum()) == plan.steps.loc[1, "shards_moved"] == 461
    assert plan.steps.loc[1, "pgs_moved"] == 461
    assert int(mv["bytes_in"].sum()) == pytest.approx(int(mv["bytes_out"].sum()), abs=500)
    assert len(plan.diff()) == 461
    load = plan.osd_load[plan.osd_load["step"] == 1].set_index("osd_id")
    assert load.loc[3, "pgs"] == 0 and int(load["pgs"].sum()) == 1920 * 3


def test_reweight_and_size(snap):
    plan = simulate(snap, [Reweight(5, 0.0), SetPoolSize("rbd", 2)])
    assert len(plan.steps) == 3
    assert plan.commands == ["ceph osd reweight 5 0", "ceph osd pool set rbd size 2"]
    assert plan.steps.loc[1, "pgs_moved"] == int(plan.mappings[0]["up"].map(lambda u: 5 in u).sum())
    rbd = plan.mappings[2][plan.mappings[2]["pool_id"] == 1]
    assert set(rbd["up"].map(len)) == {2}
    assert plan.steps.loc[2, "shards_moved"] == 0   # shrinking only drops copies
    assert plan.pools.query("step == 2 and pool_id == 1")["size"].item() == 2


# ---------------------------------------------------------------------------- stepwise / seed scenario
def test_stepwise_32_to_128(roomy):
    base = SetPgNum(1, 32).apply(roomy)
    plan = simulate(base, [SetPgNum(1, 128)], stepwise=True)
    p1 = plan.pools[plan.pools["pool_id"] == 1]
    assert p1["pgp_num"].tolist() == [32, 32] + list(range(35, 126, 3)) + [128]
    assert p1["pg_num"].tolist() == [32] + [128] * (len(p1) - 1)
    assert plan.steps.loc[1, "pgs_moved"] == 0     # pg_num jump alone: children stay with parents
    assert plan.steps.loc[2, "pgs_moved"] > 0


def test_seed_scenario_merge_clears_too_many_pgs(snap):
    plan = simulate(snap, [SetPgNum(p, 64) for p in snap.pools["pool_id"]])
    h0 = plan.health[plan.health["step"] == 0]
    assert "too many PGs per OSD (480 > max 300)" in h0["summary"].tolist()
    h15 = plan.health[plan.health["step"] == 15]
    assert "TOO_MANY_PGS" not in h15["code"].tolist()
    h11 = plan.health[plan.health["step"] == 11]
    assert "too many PGs per OSD (304 > max 300)" in h11["summary"].tolist()
    assert "TOO_MANY_PGS" not in plan.health.loc[plan.health["step"] == 12, "code"].tolist()
    assert len(plan.mappings[-1]) == 960
    assert int(plan.osd_load.query("step == 15")["pgs"].sum()) == 960 * 3
    assert plan.steps["pgs_moved"].iloc[1:].gt(0).all()
    assert int(plan.steps["bytes_moved"].sum()) > 0
    # merged PGs hold the data of both sources
    assert int(plan.mappings[-1]["bytes"].sum()) == pytest.approx(int(plan.mappings[0]["bytes"].sum()), abs=1000)
    d = plan.to_dict()
    assert d["final"]["health"] == []
    assert d["steps"][0]["health"][0] == "too many PGs per OSD (480 > max 300)"


def test_pg_num_increase_refused_by_mon(snap):
    with pytest.warns(PgtoolsWarning, match="would be refused by the monitor"):
        plan = simulate(snap, [SetPgNum("rbd", 1024)])
    h = plan.health[(plan.health["step"] == 1) & (plan.health["code"] == "POOL_PG_NUM_REFUSED")]
    msg = ("pool id 1 pg_num 1024 size 3 would mean 8448 total pgs, which exceeds max 3600 "
           "(mon_max_pg_per_osd 300 * num_in_osds 12)")
    assert h["summary"].tolist() == [msg]
    assert h["severity"].tolist() == ["ERANGE"]
    assert plan.refused.message == msg and plan.refused.step == 1 and plan.commands == []
    assert plan.steps["refused"].tolist() == ["", f"ERANGE: {msg}"]


def test_stepwise_with_misplaced_ratio(roomy):
    base = SetPgNum(1, 32).apply(roomy)
    plan = simulate(base, [SetPgNum(1, 128)], stepwise=True, misplaced=0.04)
    p1 = plan.pools[plan.pools["pool_id"] == 1]["pgp_num"].tolist()
    assert p1 == [32, 32] + list(range(33, 129))


# ---------------------------------------------------------------------------- failures / add host
def test_fail_one_host(snap):
    plan = simulate(snap, [Fail("node1")])
    f = plan.failures
    on_node1 = int(plan.mappings[0]["up"].map(lambda u: bool(set(u) & {0, 1, 2})).sum())
    assert len(f) == on_node1 == plan.steps.loc[1, "pgs_degraded"]
    assert set(f["copies_lost"]) == {1} and not f["inactive"].any()
    assert plan.steps.loc[1, "bytes_to_recover"] == int(f["bytes"].sum()) > 0
    # three hosts remain for size 3: every PG is on the other nine OSDs
    assert not plan.mappings[1]["up"].map(lambda u: bool(set(u) & {0, 1, 2})).any()


def test_fail_two_hosts_inactive(snap):
    plan = simulate(snap, [Fail("node1"), Fail("node2")])
    f = plan.failures[plan.failures["step"] == 2]
    assert plan.steps.loc[2, "pgs_inactive"] == 0   # node1's PGs were re-placed before node2 failed
    assert len(f) > 0
    both = simulate(snap, [Fail(("node1", "node2"))])
    m0 = both.mappings[0]
    lost2 = int(m0["up"].map(lambda u: len(set(u) & {0, 1, 2, 3, 4, 5}) == 2).sum())
    fb = both.failures
    assert lost2 > 0 and int(fb["inactive"].sum()) == lost2 == both.steps.loc[1, "pgs_inactive"]
    assert set(fb["copies_lost"]) == {1, 2} and set(fb.loc[fb["inactive"], "remaining"]) == {1}
    codes = both.health.loc[both.health["step"] == 1, "summary"].tolist()
    assert f"Reduced data availability: {lost2} pgs inactive" in codes


def test_add_host(snap):
    plan = simulate(snap, [AddHost("node5", 3, 1.0)])
    ids = [12, 13, 14]
    load = plan.osd_load[plan.osd_load["step"] == 1].set_index("osd_id")
    assert all(load.loc[i, "pgs"] > 250 for i in ids)
    assert int(load["pgs"].sum()) == 5760
    mv = plan.movement[plan.movement["step"] == 1].set_index("osd_id")
    assert int(mv.loc[ids, "pgs_out"].sum()) == 0
    assert int(mv["pgs_in"].sum()) == int(mv["pgs_out"].sum()) == plan.steps.loc[1, "shards_moved"]
    assert int(mv.loc[ids, "pgs_in"].sum()) == int(load.loc[ids, "pgs"].sum())
    new = plan.snapshots[1]
    assert new.osdmap["max_osd"] == 15
    assert {b.name for b in new.crush.buckets.values()} >= {"node5", "node5~hdd"}


def test_create_and_delete_pool(roomy):
    plan = simulate(roomy, [CreatePool("new", 32), DeletePool("rbd")])
    assert (plan.pools.query("step == 1")["pool_id"].max()) == 16
    assert len(plan.mappings[1]) == 1920 + 32
    assert len(plan.mappings[2]) == 1920 + 32 - 128
    assert plan.steps.loc[1, "pgs_moved"] == 0 and plan.steps.loc[2, "pgs_moved"] == 0


def test_errors(snap):
    with pytest.raises(PgtoolsError, match="no pool 'nope'"):
        simulate(snap, [SetPgNum("nope", 8)])
    with pytest.raises(PgtoolsError, match="pgp_num 999"):
        SetPgpNum(1, 999).apply(snap)


def test_commands_and_describe():
    assert SetPgNum("rbd", 64).ceph_commands() == ["ceph osd pool set rbd pg_num 64"]
    assert CrushWeight(3, 0.5).ceph_commands() == ["ceph osd crush reweight osd.3 0.5"]
    assert MarkOut(7).describe() == "mark osd.7 out"
    assert AddUpmapItems("1.a", ((1, 2),)).ceph_commands() == ["ceph osd pg-upmap-items 1.a 1 2"]


# ---------------------------------------------------------------------------- output contract
def test_json_contract_and_formats(snap):
    plan = simulate(snap, [MarkOut(3)])
    d = json.loads(plan.to_json())
    assert set(d) == {"steps", "final", "refused"} and d["refused"] is None
    s0, s1 = d["steps"]
    assert set(s0) >= {"pools", "pgs_moved", "shards_moved", "bytes_moved", "max_pgs_per_osd", "health", "pgs"}
    assert s0["pools"]["1"] == {"pg_num": 128, "pgp_num": 128}
    assert s0["pgs_moved"] == 0 and s1["pgs_moved"] == 461 and s1["shards_moved"] == 461
    assert len(s0["pgs"]) == 1920
    first = s0["pgs"][0]
    row = snap.pgs[snap.pgs["pgid"] == first["pgid"]].iloc[0]
    assert first["up"] == list(row["up"]) and first["acting"] == list(row["acting"])
    assert d["final"] == s1
    assert s1["max_pgs_per_osd"] == 610
    assert json.loads(plan_json(plan)) == d
    text = plan_text(plan)
    assert "step 1: mark osd.3 out" in text and "  ceph osd out 3" in text
    assert plan_csv(plan).splitlines()[0].startswith("step,change,pgs_moved,shards_moved,bytes_moved")


def test_fullness_and_max_avail(snap):
    plan = simulate(snap, [MarkOut(3)])
    p0 = plan.pools.query("step == 0 and pool_id == 1")["max_avail"].item()
    p1 = plan.pools.query("step == 1 and pool_id == 1")["max_avail"].item()
    assert p0 > p1 > 0
    u = plan.osd_load.query("step == 1").set_index("osd_id")["utilization"]
    u0 = plan.osd_load.query("step == 0").set_index("osd_id")["utilization"]
    assert u.loc[3] < u0.loc[3] and u.loc[4] > u0.loc[4]
    assert u0.loc[0] == pytest.approx(snap.osds.set_index("osd_id").loc[0, "utilization"], rel=1e-3)


def test_more_changes(snap):
    from pgtools.simulate import (
        AddOsd,
        MarkDown,
        MoveBucket,
        PrimaryAffinity,
        RemoveOsd,
        RemoveUpmapItems,
        SetPoolRule,
    )

    pgs_before = snap.pgs.copy()
    plan = simulate(snap, [AddOsd("node1", 1.0), MarkDown(5), PrimaryAffinity(0, 0.0), RemoveOsd(11),
                           MoveBucket("node4", "node3"), SetPoolRule(1, 0),
                           AddUpmapItems("2.0", ((0, 1),)), RemoveUpmapItems("2.0")])
    assert len(plan.steps) == 9
    new = plan.snapshots[1]
    assert new.osdmap["max_osd"] == 13
    assert 12 in new.crush.devices and new.crush.host_of(12) == "node1"
    load1 = plan.osd_load.query("step == 1").set_index("osd_id")
    assert load1.loc[12, "pgs"] > 0
    # osd.5 down: it leaves every up set, nothing else is re-placed by CRUSH
    assert not plan.mappings[2]["up"].map(lambda u: 5 in u).any()
    assert plan.steps.loc[2, "shards_moved"] == 0
    # primary affinity 0: osd.0 is never primary, sets unchanged
    assert not (plan.mappings[3]["up_primary"] == 0).any()
    assert plan.steps.loc[3, "pgs_moved"] == 0
    assert 11 not in plan.snapshots[4].crush.devices
    assert not plan.mappings[4]["up"].map(lambda u: 11 in u).any()
    assert plan.steps.loc[6, "pgs_moved"] == 0
    assert plan.steps.loc[7, "pgs_moved"] == int(plan.mappings[6].query("pgid == '2.0'")["up"].map(
        lambda u: 0 in u).item())
    assert plan.mappings[8]["up"].tolist() == plan.mappings[6]["up"].tolist()
    # the input snapshot is never modified
    assert snap.pgs.equals(pgs_before)
    assert snap.osdmap["max_osd"] == 12 and len(snap.osds) == 12


def test_add_host_seen_by_class_rule(snap):
    from dataclasses import replace

    rule = snap.crush.rules[0]
    hdd_rule = replace(rule, steps=((1, -2, 0), (6, 0, 1), (4, 0, 0)))   # take default class hdd
    crush = replace(snap.crush, rules={0: hdd_rule}, _cache={})
    s = snap.replace(crush=crush)
    plan = simulate(s, [AddHost("node5", 3, 1.0), AddHost("ssd1", 2, 1.0, device_class="ssd")])
    load = plan.osd_load.query("step == 2").set_index("osd_id")
    assert all(load.loc[i, "pgs"] > 250 for i in (12, 13, 14))
    assert load.loc[15, "pgs"] == 0 and load.loc[16, "pgs"] == 0    # ssd OSDs are not in default~hdd
    names = {b.name for b in plan.snapshots[2].crush.buckets.values()}
    assert {"node5~hdd", "ssd1~ssd", "default~ssd"} <= names


def test_stepwise_merge_moves_what_one_shot_moves(snap):
    calls = []
    step = simulate(snap, [SetPgNum("rbd", 64)], stepwise=True, progress=lambda i, n, lab: calls.append((i, n)))
    once = simulate(snap, [SetPgNum("rbd", 64)])
    assert len(step.steps) == 103 and calls[-1] == (102, 103) and len(calls) == 103
    p1 = step.pools[step.pools["pool_id"] == 1]
    assert p1["pgp_num"].tolist()[:6] == [128, 125, 125, 125, 125, 122]
    assert p1["pg_num"].tolist()[-3:] == [65, 65, 64]
    tot = step.steps[["pgs_moved", "shards_moved", "bytes_moved"]].sum().tolist()
    assert tot == once.steps.loc[1, ["pgs_moved", "shards_moved", "bytes_moved"]].tolist() == [63, 137, 337149952]
    assert step.mappings[-1]["up"].tolist() == once.mappings[-1]["up"].tolist()
