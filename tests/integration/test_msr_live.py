"""An erasure-coded pool on a CRUSH MSR rule, on a real Tentacle (20.2.4) cluster.

Since Squid an erasure-code profile with ``crush-num-failure-domains`` and ``crush-osds-per-failure-domain``
makes the monitor create an MSR rule (``CrushWrapper::add_indep_multi_osd_per_failure_domain_rule``: type
``msr_indep``, ``take root``, ``choosemsr NUM_FAILURE_DOMAINS type FAILURE_DOMAIN``, ``choosemsr
OSDS_PER_FAILURE_DOMAIN type osd``, ``emit``; documented in ``doc/rados/operations/crush-map.rst``, "CRUSH MSR
Rules").  Such a rule needs clients of Squid or later (CRUSH_MSR feature), so the monitor refuses the pool
while ``require_min_compat_client`` is the fresh cluster's ``luminous`` (``OSDMonitor::
validate_crush_against_features``: "new crush map requires client version squid but require_min_compat_client
is luminous"); after ``ceph osd set-require-min-compat-client squid`` it creates it.

The module's cluster: 6 memstore OSDs on 3 hosts; pool ``msr``, k=2 m=2 over 2 hosts × 2 OSDs, 32 PGs.  The
tests check that the rule is an MSR rule, that pgtools recomputes every PG's up/acting set as the cluster
reports it, then predict and apply ``pg_num 32 -> 64`` and ``osd out 0`` (MSR retries a failure domain whose
OSD is out) and compare the cluster's placement after each with the prediction.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import pgtools
from pgtools.crush.rule import MSR_INDEP, OPS
from pgtools.placement import verify_placement
from pgtools.simulate import MarkOut, SetPgNum, simulate
from tests.integration.cluster import CephCommandError, MiniCluster, OsdSpec

pytestmark = pytest.mark.integration

HOSTS = {f"node{i}": [OsdSpec(1.0, "hdd")] * 2 for i in (1, 2, 3)}
POOL, PG_NUM, NEW_PG_NUM = "msr", 32, 64
PROFILE = {"k": 2, "m": 2, "crush-failure-domain": "host", "crush-num-failure-domains": 2,
           "crush-osds-per-failure-domain": 2}
#: MSR rules are a Squid feature: Tentacle only (see tests/integration/conftest.py)
LIVE_RELEASES = {name: ("tentacle",) for name in (
    "test_msr_pool_refused_below_squid_clients", "test_pool_rule_is_msr", "test_placement_equals_cluster",
    "test_pg_num_change_predicted", "test_mark_out_predicted")}
CONFIG = {
    "mon_max_pg_per_osd": 1000,
    "mgr_tick_period": 1,
    # room = min(ratio - misplaced, ratio / 2) = 0.25: pgp_num 32 -> 64 in a few mgr ticks, not 32
    "target_max_misplaced_ratio": 0.5,
}


@pytest.fixture(scope="module")
def cluster(ceph_workdir: Path, release: str):
    t0 = time.monotonic()
    with MiniCluster(ceph_workdir / f"msr-{release}", hosts=HOSTS, config=CONFIG, release=release) as c:
        try:
            c.create_pool(POOL, PG_NUM, ec_profile=PROFILE)  # profile ec-msr is set, the pool refused
            refusal = None
        except CephCommandError as e:
            refusal = e
        c.ceph("osd", "set-require-min-compat-client", "squid")
        c.create_pool(POOL, PG_NUM, ec_profile=f"ec-{POOL}")
        c.wait_clean(timeout=120)
        c.timing.steps["clean"] = round(time.monotonic() - t0, 2)
        c.refusal = refusal
        yield c
        print(f"\nmsr {release} cluster timings (s): {c.timing.steps}")


@pytest.fixture(scope="module")
def snap(cluster: MiniCluster, ceph_workdir: Path, release: str):
    # osd dump, crush dump, pg dump at one epoch (``pgtools collect`` of Tentacle is tested in test_live)
    return pgtools.load(cluster.quick_capture(ceph_workdir / f"msr_capture-{release}"))


def _pool_id(snap) -> int:
    return int(snap.pools.loc[snap.pools["pool"] == POOL, "pool_id"].iloc[0])


def _live(snap) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    return {p: (tuple(u), tuple(a)) for p, u, a in zip(snap.pgs.pgid, snap.pgs.up, snap.pgs.acting, strict=True)}


def _predicted(mapping) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    return {p: (tuple(u), tuple(a)) for p, u, a in zip(mapping["pgid"], mapping["up"], mapping["acting"],
                                                       strict=True)}


def test_msr_pool_refused_below_squid_clients(cluster: MiniCluster) -> None:
    e = cluster.refusal
    assert e is not None, "the monitor created an MSR pool while require_min_compat_client was luminous"
    assert e.returncode == 22 and e.stderr.strip() == (
        "Error EINVAL: new crush map requires client version squid but require_min_compat_client is luminous")
    prof = dict(ln.split("=", 1) for ln in cluster.ceph("osd", "erasure-code-profile", "get", f"ec-{POOL}")
                .splitlines() if "=" in ln)
    assert {k: prof[k] for k in PROFILE} == {k: str(v) for k, v in PROFILE.items()}


def test_pool_rule_is_msr(cluster: MiniCluster, snap) -> None:
    (pool,) = [p for p in cluster.pools() if p["pool_name"] == POOL]
    (rule,) = [r for r in cluster.ceph("osd", "crush", "rule", "dump", json=True) if r["rule_id"] == pool["crush_rule"]]
    assert rule["type"] == MSR_INDEP
    assert [(s["op"], s.get("num"), s.get("type")) for s in rule["steps"]] == [
        ("take", None, None), ("choosemsr", 2, "host"), ("choosemsr", 2, "osd"), ("emit", None, None)]
    ours = snap.crush.rules[pool["crush_rule"]]
    assert ours.is_msr and ours.type == MSR_INDEP
    assert [s[0] for s in ours.steps] == [OPS["take"], OPS["choosemsr"], OPS["choosemsr"], OPS["emit"]]
    assert int(snap.pools.set_index("pool").loc[POOL, "size"]) == 4


def test_placement_equals_cluster(snap) -> None:
    diff = verify_placement(snap)
    assert len(diff) == 0, diff.head(10).to_string()
    pid = _pool_id(snap)
    hosts = snap.osds.set_index("osd_id")["host"].to_dict()
    ups = [u for p, (u, _) in _live(snap).items() if p.startswith(f"{pid}.")]
    assert len(ups) == PG_NUM
    # what only an MSR rule gives: 4 shards on 2 hosts, 2 OSDs on each
    for u in ups:
        per_host = [hosts[o] for o in u]
        assert len(u) == 4 and sorted(per_host.count(h) for h in set(per_host)) == [2, 2], u


@pytest.fixture(scope="module")
def split(cluster: MiniCluster, snap, ceph_workdir: Path) -> SimpleNamespace:
    t0 = time.monotonic()
    plan = simulate(snap, [SetPgNum(POOL, NEW_PG_NUM)])
    cluster.set_pool(POOL, "pg_num", NEW_PG_NUM)
    cluster.wait_clean(timeout=120, settle=2)
    cluster.timing.steps["split_clean"] = round(time.monotonic() - t0, 2)
    after = pgtools.load(cluster.quick_capture(ceph_workdir / "msr_split"))
    return SimpleNamespace(plan=plan, after=after)


def test_pg_num_change_predicted(split: SimpleNamespace, snap) -> None:
    pred, live = _predicted(split.plan.mappings[-1]), _live(split.after)
    pid = _pool_id(snap)
    assert sum(p.startswith(f"{pid}.") for p in live) == NEW_PG_NUM
    wrong = {p: (pred.get(p), v) for p, v in live.items() if pred.get(p) != v}
    assert wrong == {}, f"{len(wrong)} PGs differ (predicted, live): {list(wrong.items())[:5]}"
    assert len(verify_placement(split.after)) == 0


def test_mark_out_predicted(cluster: MiniCluster, split: SimpleNamespace, ceph_workdir: Path) -> None:
    plan = simulate(split.after, [MarkOut(0)])
    pred = _predicted(plan.mappings[-1])
    moved = sum(pred[p] != v for p, v in _live(split.after).items())
    assert moved > 0
    t0 = time.monotonic()
    cluster.out(0)
    cluster.wait_clean(timeout=120, settle=2)
    cluster.timing.steps["out_clean"] = round(time.monotonic() - t0, 2)
    after = pgtools.load(cluster.quick_capture(ceph_workdir / "msr_out"))
    live = _live(after)
    wrong = {p: (pred.get(p), v) for p, v in live.items() if pred.get(p) != v}
    assert wrong == {}, f"{len(wrong)} PGs differ (predicted, live): {list(wrong.items())[:5]}"
    assert all(0 not in u for u, _ in live.values())
