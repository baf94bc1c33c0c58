"""A host failure on a real cluster: the PG states Ceph reports against pgtools' lost/inactive/degraded.

Three CRUSH hosts of two memstore OSDs each (all on this machine).  Pools chosen so that stopping the two
OSDs of host ``ha`` gives every outcome:

* ``r3``   size 3, min_size 2: every PG keeps 2 copies -> degraded (``active+undersized+degraded``);
* ``r3s``  size 3, min_size 3: every PG keeps 2 copies -> inactive (``undersized+degraded+peered``);
* ``r2``   size 2, min_size 1: PGs with a copy on ``ha`` -> degraded, the others clean;
* ``r1``   size 1: PGs on ``ha`` have no copy left -> lost (``stale``: no OSD reports them);
* ``ec``   EC 2+1, failure domain osd: PGs with two shards on ``ha`` keep one < k -> lost (``down``), the
  others keep 2 shards -> inactive or degraded by the pool's min_size.

The prediction is :func:`pgtools.simulate.simulate` with ``Fail("ha")`` on a capture taken before; the
daemons are stopped by PID with ``noout`` set, and the states are read with ``ceph pg ls -f json`` once they
have settled (bounded waits).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import pgtools
from pgtools.simulate import Fail, simulate
from tests.integration.cluster import MiniCluster, OsdSpec

pytestmark = pytest.mark.integration

HOSTS = {h: [OsdSpec(1.0, "hdd")] * 2 for h in ("ha", "hb", "hc")}
TRANSIENT = ("peering", "activating", "unknown", "creating", "remapped", "recovering", "backfill")


def ceph_class(state: str) -> str:
    """What a ``ceph pg ls`` state says, in pgtools' classes (``clean`` when nothing is missing)."""
    parts = set(state.split("+"))
    if parts & {"stale", "down", "incomplete"} or not parts & {"active", "peered"}:
        return "lost"
    if "active" not in parts:
        return "inactive"
    if parts & {"undersized", "degraded"}:
        return "degraded"
    return "clean" if parts == {"active", "clean"} else state


@pytest.fixture(scope="module")
def cluster(ceph_workdir: Path):
    config = {"mon_max_pg_per_osd": 1000, "mon_allow_pool_size_one": "true"}
    with MiniCluster(ceph_workdir / "fail", hosts=HOSTS, config=config) as c:
        c.create_pools([
            {"name": "r3", "pg_num": 16, "size": 3},
            {"name": "r3s", "pg_num": 16, "size": 3},
            {"name": "r2", "pg_num": 16, "size": 2},
            {"name": "r1", "pg_num": 16, "size": 1},
            {"name": "ec", "pg_num": 16, "ec_profile": {"k": 2, "m": 1, "crush-failure-domain": "osd"}},
        ])
        c.ceph("osd", "pool", "set", "r3s", "min_size", "3")
        c.wait_clean(timeout=180, settle=2)
        for pool in ("r3", "r1", "ec"):
            c.write_objects(pool, 24, size=4096, prefix=f"{pool}_")
        c.wait_clean(timeout=120, settle=2)
        # the PG statistics reach the mgr a few seconds after the writes
        c.wait_for("the objects in the PG statistics", lambda: objects_in_stats(c) >= 72, 90, interval=1.0)
        yield c


def pg_ls(c: MiniCluster) -> list[dict]:
    """The rows of ``ceph pg ls -f json``."""
    doc = c.ceph("pg", "ls", json=True)
    return doc["pg_stats"] if isinstance(doc, dict) else doc


def objects_in_stats(c: MiniCluster) -> int:
    return sum(int(r.get("stat_sum", {}).get("num_objects", 0)) for r in pg_ls(c))


def settled_states(c: MiniCluster, timeout: float = 180.0, quiet: float = 8.0) -> dict[str, str]:
    """``{pgid: state}`` from ``ceph pg ls -f json`` once no PG is in a transient state and the states have
    not changed for ``quiet`` seconds (ClusterError after ``timeout``)."""
    seen: list = []

    def ok():
        states = {r["pgid"]: r["state"] for r in pg_ls(c)}
        if any(t in s for s in states.values() for t in TRANSIENT):
            seen.clear()
            return None
        if not seen or seen[0][1] != states:
            seen[:] = [(time.monotonic(), states)]
            return None
        return states if time.monotonic() - seen[0][0] >= quiet else None

    return c.wait_for("PG states to settle after the failure", ok, timeout, interval=2.0)


def test_host_failure_states_match_prediction(cluster: MiniCluster, ceph_workdir: Path) -> None:
    snap = pgtools.load(cluster.quick_capture(ceph_workdir / "fail_before"))
    assert set(snap.pgs.state) == {"active+clean"}
    plan = simulate(snap, [Fail("ha")], checks=False)
    f = plan.failures
    predicted = {g: "clean" for g in snap.pgs.pgid}
    predicted.update(dict(zip(f.pgid, f.status, strict=True)))
    counts = {s: list(predicted.values()).count(s) for s in ("lost", "inactive", "degraded", "clean")}
    # every class occurs, so the comparison below can fail in each direction
    assert all(counts.values()), counts
    assert plan.steps.bytes_lost.iloc[1] > 0 and plan.steps.objects_lost.iloc[1] > 0

    ha = [o.id for o in cluster.osds if o.host == "ha"]
    cluster.ceph("osd", "set", "noout")
    cluster.stop_osds(*ha)
    cluster.ceph("osd", "down", *ha)  # already down after a clean stop; makes sure without the 60 s grace
    cluster.wait_for("the failed OSDs down", lambda: all(
        o["up"] == 0 for o in cluster.ceph("osd", "dump", json=True)["osds"] if o["osd"] in ha), 60)
    states = settled_states(cluster)

    observed = {g: ceph_class(s) for g, s in states.items()}
    wrong = {g: (predicted[g], states[g]) for g in predicted if observed.get(g) != predicted[g]}
    assert not wrong, f"{len(wrong)} of {len(predicted)} PGs differ (predicted, ceph state): " + \
        ", ".join(f"{g}: {p} vs {s}" for g, (p, s) in sorted(wrong.items())[:20])
    assert set(observed) == set(predicted)
    pools = plan.failure_pools().set_index("pool")
    assert pools.loc["r3", "pgs_degraded"] == 16 and pools.loc["r3s", "pgs_inactive"] == 16
    assert pools.loc["r1", "pgs_lost"] > 0
