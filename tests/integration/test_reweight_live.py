"""reweight-by-pg / -by-utilization dry runs: pgtools against the real `ceph osd test-reweight-by-*`."""

from __future__ import annotations

import pytest

import pgtools
from pgtools.errors import PgtoolsError
from pgtools.mgr.reweight import reweight_by_utilization
from tests.integration.cluster import MiniCluster, OsdSpec

pytestmark = pytest.mark.integration

HOSTS = {"a": [OsdSpec(1.0), OsdSpec(0.5)], "b": [OsdSpec(1.0), OsdSpec(2.0)], "c": [OsdSpec(1.5), OsdSpec(1.0)]}


@pytest.fixture(scope="module")
def cluster(ceph_workdir):
    with MiniCluster(ceph_workdir / "rw", hosts=HOSTS, config={"mon_max_pg_per_osd": 1000}) as c:
        c.create_pools([{"name": "p1", "pg_num": 64, "size": 3}, {"name": "p2", "pg_num": 32, "size": 2}])
        c.wait_clean(timeout=180)
        yield c


@pytest.fixture(scope="module")
def snap(cluster, tmp_path_factory):
    folder = cluster.quick_capture(tmp_path_factory.mktemp("rwcap"))
    return pgtools.load(folder)


@pytest.mark.parametrize(("oload", "max_osds"), [(101, 100), (105, 100), (110, 2)])
def test_reweight_by_pg_equals_ceph(cluster, snap, oload, max_osds):
    ref = cluster.ceph("osd", "test-reweight-by-pg", str(oload), "0.05", str(max_osds), json=True)
    ours = reweight_by_utilization(snap, by_pg=True, oload=oload, max_osds=max_osds)
    assert ours.average == pytest.approx(ref["average_utilization"], rel=1e-9)
    assert ours.overload == pytest.approx(ref["overload_utilization"], rel=1e-9)
    theirs = {int(r["osd"]): round(float(r["new_weight"]), 5) for r in ref["reweights"]}
    assert {o: round(w, 5) for o, w in ours.new_weights.items()} == theirs
    assert theirs  # the layout is unequal enough that something changes


def test_reweight_by_utilization_refusal_matches(cluster, snap):
    """memstore OSDs hold far less than 100 MiB: Ceph refuses, and so do we."""
    r = cluster.ceph_run("osd", "test-reweight-by-utilization")
    assert r.returncode != 0 and "Refusing to reweight" in r.stderr
    with pytest.raises(PgtoolsError, match="refuse"):
        reweight_by_utilization(snap)
