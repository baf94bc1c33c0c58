"""Failure what-ifs: lost / inactive / degraded PGs against a brute-force count over the acting sets.

The brute force below is written independently of the engine: a plain loop over the capture's PGs (the
acting sets as dumped, not as pgtools recomputes them), the pools' size / min_size / k and a set of failed
OSDs built from the OSD table's hosts.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

import pgtools
from pgtools.model import NONE
from pgtools.simulate import Fail, MarkOut, simulate
from tests.paths import SAMPLE_DUMPS

MIXED = SAMPLE_DUMPS / "mixed"
SEED = SAMPLE_DUMPS / "seedlike_max300"
#: the PGs of sample_dumps/mixed a failure of rack r1 leaves without enough data: the size-2 PG 4.3 with
#: both copies in r1, six EC 2+1 PGs of pool 5 with one shard left
R1_LOST = ["4.3", "5.2", "5.b", "5.f", "5.13", "5.15", "5.16"]


@pytest.fixture(scope="module")
def mixed():
    return pgtools.load(MIXED)


@pytest.fixture(scope="module")
def seed():
    return pgtools.load(SEED)


def brute_force(snap, failed: set[int]) -> dict[str, dict[str, str]]:
    """{"lost"|"inactive"|"degraded": {pgid: pool_id}} after ``failed`` die, one PG at a time."""
    pools = {}
    for rec in snap.pools.to_dict("records"):
        ec = str(rec["type"]).startswith("erasure")
        pools[int(rec["pool_id"])] = (int(rec["size"]), int(rec["min_size"]), int(rec["ec_k"]) if ec else 1)
    out: dict[str, dict[str, str]] = {"lost": {}, "inactive": {}, "degraded": {}}
    for pgid, pool_id, acting in zip(snap.pgs["pgid"], snap.pgs["pool_id"], snap.pgs["acting"], strict=True):
        size, min_size, need = pools[int(pool_id)]
        left = had = 0
        for osd in acting:
            if osd != NONE and osd >= 0:
                had += 1
                if osd not in failed:
                    left += 1
        if had < need:  # unreadable before the failure: not lost by it
            continue
        if left < need:
            out["lost"][pgid] = pool_id
        elif left < min_size:
            out["inactive"][pgid] = pool_id
        elif left < size:
            out["degraded"][pgid] = pool_id
    return out


def osds_of(snap, items) -> set[int]:
    hosts = snap.osds.groupby("host")["osd_id"].apply(lambda s: {int(x) for x in s}).to_dict()
    out: set[int] = set()
    for it in items:
        out |= hosts[it] if isinstance(it, str) else {int(it)}
    return out


def check_against_brute_force(snap, items) -> None:
    plan = simulate(snap, [Fail(*items)], checks=False)
    expect = brute_force(snap, osds_of(snap, items))
    f = plan.failures
    got = {s: set(f.loc[f["status"] == s, "pgid"]) for s in ("lost", "inactive", "degraded")}
    assert got == {s: set(v) for s, v in expect.items()}, items
    row = plan.steps.iloc[1]
    assert [row.pgs_lost, row.pgs_inactive, row.pgs_degraded] == [len(expect[s]) for s in expect]
    # bytes and objects lost: the whole of each lost PG, from the dump
    per = snap.pgs.set_index("pgid")
    assert row.bytes_lost == int(per.loc[list(expect["lost"]), "bytes"].sum())
    assert row.objects_lost == int(per.loc[list(expect["lost"]), "objects"].sum())
    # per pool
    fp = plan.failure_pools()
    for status in ("lost", "inactive", "degraded"):
        counts: dict[int, int] = {}
        for pool_id in expect[status].values():
            counts[int(pool_id)] = counts.get(int(pool_id), 0) + 1
        assert {int(p): int(n) for p, n in zip(fp.pool_id, fp[f"pgs_{status}"], strict=True) if n} == counts
    # the JSON contract carries the same lists
    doc = plan.to_dict()["steps"][1]
    for status in ("lost", "inactive", "degraded"):
        assert sorted(doc[f"pgs_{status}"]) == sorted(expect[status])


def test_r1_failure_names_the_seven_lost_pgs(mixed):
    plan = simulate(mixed, [Fail("r1")])
    row = plan.steps.iloc[1]
    assert (row.pgs_lost, row.pgs_inactive, row.pgs_degraded) == (7, 44, 97)
    doc = plan.to_dict()["steps"][1]
    assert doc["pgs_lost"] == R1_LOST
    assert doc["bytes_lost"] == 245760 and doc["objects_lost"] == 15
    lost = plan.failures.set_index("pgid").loc[R1_LOST]
    assert lost.loc["4.3", "remaining"] == 0 and lost.loc["4.3", "size"] == 2
    assert set(lost.loc[R1_LOST[1:], "remaining"]) == {1} and set(lost.loc[R1_LOST[1:], "k"]) == {2}
    assert (lost["bytes"] == 0).all()          # nothing to recover from a lost PG
    summaries = plan.health.loc[plan.health.step == 1, "summary"].tolist()
    assert summaries[0].startswith("7 PGs LOST (no surviving copy / fewer than k shards): nothing can recover them")
    assert "HEALTH_ERR" in set(plan.health.severity)
    fp = plan.failure_pools().set_index("pool")
    assert fp.loc["meta", "pgs_lost"] == 1 and fp.loc["ec21", "pgs_lost"] == 6
    assert fp.loc["ec21", "bytes_lost"] == 245760
    # rack r1 holds hosts n1 and n2 (osd_tree.json): the same failure, given as hosts, by brute force
    check_against_brute_force(mixed, ["n1", "n2"])
    assert sorted(brute_force(mixed, {0, 1, 2, 3, 4})["lost"], key=pgtools.model.split_pgid) == R1_LOST


@pytest.mark.parametrize("which", ["mixed", "seed"])
def test_failure_counts_equal_brute_force(which, mixed, seed):
    snap = {"mixed": mixed, "seed": seed}[which]
    rng = random.Random(11)
    hosts = sorted(set(snap.osds["host"]))
    osds = sorted(int(o) for o in snap.osds["osd_id"])
    seen = set()
    for _ in range(12):
        items = rng.sample(hosts, rng.randint(0, 2)) + rng.sample(osds, rng.randint(0, 5))
        if not items:
            items = [rng.choice(osds)]
        check_against_brute_force(snap, items)
        seen |= {s for s, v in brute_force(snap, osds_of(snap, items)).items() if v}
    assert seen == {"lost", "inactive", "degraded"}   # every class was exercised


def test_lost_data_is_not_moved_or_counted_twice(mixed):
    plan = simulate(mixed, [Fail("r1"), Fail("n3")])
    s2 = plan.failures[plan.failures.step == 2]
    assert not set(s2.pgid) & set(R1_LOST)    # already lost at step 1
    m1 = plan.mappings[1].set_index("pgid")
    assert (m1.loc[R1_LOST, "bytes"] == 0).all()
    # the recovery of step 1 writes no copy of lost data
    alone = simulate(mixed, [Fail("r1")])
    assert alone.steps.bytes_moved.iloc[1] == plan.steps.bytes_moved.iloc[1]
    assert plan.steps.pgs_lost.iloc[2] == len(s2[s2.status == "lost"])


def test_fail_several_items_together(mixed):
    both = Fail("r1", "n3")
    assert both == Fail(("r1", "n3")) and both.items == ("r1", "n3")
    assert Fail("n1").items == ("n1",) and Fail(item="n1") == Fail("n1")
    assert both.describe() == "failure of r1 and n3 together"
    assert Fail(3).describe() == "failure of osd.3"
    with pytest.raises(ValueError):
        Fail()
    together = simulate(mixed, [both], checks=False)
    seq = simulate(mixed, [Fail("r1"), Fail("n3")], checks=False)
    assert len(together.steps) == 2 and len(seq.steps) == 3
    assert together.steps.pgs_lost.iloc[1] > seq.steps.pgs_lost.iloc[1:].sum()


def test_no_failure_no_loss_columns(mixed):
    plan = simulate(mixed, [MarkOut(0)], checks=False)
    assert (plan.steps[["pgs_lost", "pgs_inactive", "pgs_degraded", "bytes_lost", "objects_lost"]] == 0).all().all()
    doc = plan.to_dict()["steps"][1]
    assert doc["pgs_lost"] == doc["pgs_inactive"] == doc["pgs_degraded"] == [] and doc["failure_pools"] == {}
    assert plan.failure_pools().empty


# ------------------------------------------------------------------------------------------ CLI
def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgtools", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_cli_text_says_lost_plainly():
    r = run("whatif", MIXED, "--fail", "rack=r1")
    assert r.returncode == 0, r.stderr
    assert ("7 PGs LOST (no surviving copy / fewer than k shards): nothing can recover them; 240.0 KiB in 15 "
            "objects lost: " + ", ".join(R1_LOST)) in r.stdout
    assert "inactive PGs 44 (fewer than min_size copies" in r.stdout and "degraded PGs 97" in r.stdout
    assert "    pool ec21: lost 6, inactive 0, degraded 17, 240.0 KiB / 15 objects lost" in r.stdout
    assert "HEALTH_ERR PG_LOST" in r.stdout


def test_cli_json_keys():
    r = run("whatif", MIXED, "--fail", "rack=r1", "--format", "json")
    assert r.returncode == 0, r.stderr
    s1 = json.loads(r.stdout)["steps"][1]
    assert {"pgs_lost", "pgs_inactive", "pgs_degraded", "bytes_lost", "objects_lost", "bytes_to_recover",
            "failure_pools", "pools", "pgs_moved", "health", "pgs"} <= set(s1)
    assert s1["pgs_lost"] == R1_LOST and len(s1["pgs_inactive"]) == 44 and len(s1["pgs_degraded"]) == 97
    assert s1["failure_pools"]["5"]["pgs_lost"] == 6 and s1["failure_pools"]["5"]["pool"] == "ec21"
    assert s1["pools"]["1"] == {"pg_num": 64, "pgp_num": 64}


def test_cli_csv_columns():
    r = run("whatif", MIXED, "--fail", "rack=r1", "--format", "csv")
    assert r.returncode == 0, r.stderr
    head, _s0, s1 = r.stdout.splitlines()[:3]
    cols = head.split(",")
    vals = dict(zip(cols, s1.split(","), strict=False))
    assert (vals["pgs_lost"], vals["pgs_inactive"], vals["pgs_degraded"]) == ("7", "44", "97")
    assert (vals["bytes_lost"], vals["objects_lost"]) == ("245760", "15")


def test_cli_comma_fails_together_flags_are_steps():
    one = json.loads(run("whatif", MIXED, "--fail", "rack=r1,host=n3", "--format", "json").stdout)["steps"]
    two = json.loads(run("whatif", MIXED, "--fail", "rack=r1", "--fail", "host=n3", "--format", "json").stdout)["steps"]
    assert [s["change"] for s in one] == ["input", "failure of r1 and n3 together"]
    assert [s["change"] for s in two] == ["input", "failure of r1", "failure of n3"]
    assert len(one[1]["pgs_lost"]) > len(two[1]["pgs_lost"]) + len(two[2]["pgs_lost"])
    bad = run("whatif", MIXED, "--fail", "rack=r1,")
    assert bad.returncode == 2 and "--fail" in bad.stderr


def test_typed_items_are_checked(mixed):
    from pgtools.errors import PgtoolsError

    assert Fail("rack=r1").osds(mixed) == Fail("r1").osds(mixed) == [0, 1, 2, 3, 4]
    assert Fail("rack=r1").describe() == "failure of r1"
    assert Fail("osd=3").osds(mixed) == [3]
    with pytest.raises(PgtoolsError, match="r1 is a CRUSH rack, not a host"):
        Fail("host=r1").osds(mixed)
    with pytest.raises(PgtoolsError, match="is an OSD, not a host"):
        Fail("host=osd.3").osds(mixed)


def test_cli_typed_item_mismatch_is_one_error():
    r = run("whatif", MIXED, "--fail", "rack=r1,host=r2")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines()[-1] == "pgtools: error: host=r2: r2 is a CRUSH rack, not a host"
    r = run("whatif", MIXED, "--fail", "host=osd.3")
    assert r.returncode == 2 and "osd.3 is an OSD, not a host" in r.stderr


def test_pgs_unreadable_before_the_failure_are_not_lost_by_it(mixed):
    # after r1 and n3 fail, CRUSH places only 3 of ec42's 4+2 shards: from there, ec42 was lost already
    after = simulate(mixed, [Fail("r1", "n3")], checks=False)
    m = after.mappings[1]
    assert set(m.loc[m.pool_id == 6, "acting"].map(lambda a: sum(0 <= x < NONE for x in a))) == {3}
    plan = simulate(after.snapshots[1], [Fail("n4")], checks=False)
    f = plan.failures
    assert not len(f[f.pool_id == 6])
    assert len(f) and plan.steps.bytes_lost.iloc[1] == int(f.bytes_lost.sum())
