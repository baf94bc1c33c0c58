"""Sweeps (pgtools.risk.sweep): each scenario equals the figures computed directly, the single failures equal
the what-if engine's own Fail step, and the dask.distributed run equals the serial one with the capture
scattered to each worker once.

The Dask tests share one 2-worker LocalCluster of *processes* (about 3 s to start on 2 cores): processes, not
threads, because the point is what crosses a process boundary -- the scattered capture must be unpickled
once per worker, never once per task, and a task's result must survive pickling unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

import pgtools
from pgtools.cli import main
from pgtools.errors import PgtoolsError, PgtoolsWarning
from pgtools.model import Snapshot
from pgtools.risk import build_copysets, failure_risk, sweep
from pgtools.risk.sweep import local_cluster
from pgtools.simulate import Fail, SetPgNum, SetPoolSize, simulate
from tests.paths import SAMPLE_DUMPS

MIXED = SAMPLE_DUMPS / "mixed"

#: Times a CountingSnapshot was unpickled in this process (read on each worker with client.run).
LOADS = [0]


def _counted(fields: dict) -> CountingSnapshot:
    LOADS[0] += 1
    return CountingSnapshot(**fields)


class CountingSnapshot(Snapshot):
    """A Snapshot that counts how often it is unpickled in a process."""

    def __reduce__(self):
        return _counted, ({f.name: getattr(self, f.name) for f in dataclasses.fields(self)},)


def _loads() -> int:
    return LOADS[0]


def _where() -> str:
    return pgtools.__file__


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return pgtools.load(MIXED)


def _env() -> tuple[str | None, str | None]:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("NUMBA_NUM_THREADS")


#: This process's MALLOC_TRIM_THRESHOLD_ while local_cluster started the workers, and after.
PARENT_TRIM: dict[str, str | None] = {}


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    # the cluster a sweep starts; this process's environment as an earlier default Dask cluster leaves it
    old = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    os.environ["MALLOC_TRIM_THRESHOLD_"] = "65536"
    try:
        cluster = local_cluster(2)
        PARENT_TRIM["after"] = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    finally:
        if old is None:
            del os.environ["MALLOC_TRIM_THRESHOLD_"]
        else:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = old
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)
        return fn(*args, **kw)


def test_random_family_equals_failure_risk_on_the_changed_map(snap):
    df = quiet(sweep, snap, pg_num={"rbd": [32, 128]}, size={"meta": [3]}, level=["osd", "host"],
               failures=[2, 3], scheduler="serial")
    assert df.attrs["variants"] == 2 and df.attrs["scenarios"] == 8 and df.attrs["executor"] == "serial"
    assert list(df.columns[:3]) == ["variant", "pg_num:rbd", "size:meta"]
    assert len(df) == 2 * 2 * 2 * (len(snap.pools) + 1)  # variants x levels x K x (pools + all)
    for v, n in enumerate((32, 128)):
        plan = quiet(simulate, snap, [SetPgNum("rbd", n), SetPoolSize("meta", 3)], checks=False)
        assert plan.refused is None
        vsnap = plan.snapshots[-1]
        for level in ("osd", "host"):
            want = quiet(failure_risk, build_copysets(vsnap, level, source="dump"), failures=[2, 3])
            got = df[(df["variant"] == v) & (df["level"] == level)].reset_index(drop=True)
            assert (got["pg_num:rbd"] == n).all() and (got["size:meta"] == 3).all()
            pd.testing.assert_frame_equal(got[list(want.columns)], want, check_exact=True)
        rbd = df[(df["variant"] == v) & (df["pool"] == "rbd")]
        assert (rbd["pgs"] == n).all() and (rbd["pg_num"] == n).all()
        meta = df[(df["variant"] == v) & (df["pool"] == "meta")]
        assert (meta["size"] == 3).all()
    # more PGs on the same OSDs: more distinct copysets, so a 3-OSD failure is likelier to hit one
    p = df[(df["pool"] == "rbd") & (df["level"] == "osd") & (df["failures"] == 3)].set_index("pg_num:rbd")
    assert p.loc[128, "p_any_lost"] > p.loc[32, "p_any_lost"]


def test_single_family_equals_the_what_if_engine(snap):
    df = quiet(sweep, snap, pg_num={"rbd": [64]}, failures=[], each="host", scheduler="serial")
    single = df[df["family"] == "single"]
    hosts = sorted(single["failed"].unique())
    assert len(hosts) == 6 and (single["failures"] == 1).all()
    # against a full what-if run (the Fail step after the pg_num change) for the host hitting most PGs
    tot = single[single["pool_id"] == -1].sort_values(["max_pgs_inactive", "pgs_degraded"], ascending=False)
    for host in tot["failed"].iloc[:1]:
        plan = quiet(simulate, snap, [SetPgNum("rbd", 64), Fail(host)], checks=False)
        fp = plan.failure_pools().set_index("pool_id")
        got = single[single["failed"] == host].set_index("pool_id")
        for pid in got.index.drop(-1):
            lost = int(fp.loc[pid, "pgs_lost"]) if pid in fp.index else 0
            inact = int(fp.loc[pid, "pgs_inactive"]) if pid in fp.index else 0
            deg = int(fp.loc[pid, "pgs_degraded"]) if pid in fp.index else 0
            assert (got.loc[pid, "max_pgs_lost"], got.loc[pid, "max_pgs_inactive"], got.loc[pid, "pgs_degraded"]) \
                == (lost, lost + inact, deg), (host, pid)
        assert got.loc[-1, "pgs_degraded"] == int(plan.steps["pgs_degraded"].iloc[-1])
        assert got.loc[-1, "max_pgs_inactive"] > 0 or got.loc[-1, "pgs_degraded"] > 0
    # and against the copyset tables (an independent count): lost / inactive when that one host fails
    cs = quiet(build_copysets, quiet(simulate, snap, [SetPgNum("rbd", 64)], checks=False).snapshots[-1], "host",
               source="dump", jmax=1)
    per_host = quiet(failure_risk, cs, failures=[1])
    assert single[single["pool_id"] == -1]["expected_pgs_inactive"].mean() == pytest.approx(
        float(per_host[per_host["pool_id"] == -1]["expected_pgs_inactive"].iloc[0]), rel=1e-12)


def test_refused_variant_is_a_row_not_a_crash(snap):
    df = quiet(sweep, snap, pg_num={"rbd": [32, 8192]}, failures=[2], scheduler="serial")
    refused = df[df["refused"] != ""]
    assert set(refused["variant"]) == {1} and refused["p_any_lost"].isna().all()
    # the monitor's check_pg_num message, as the what-if engine words it
    assert refused["refused"].iloc[0].startswith("ERANGE: pool id 1 pg_num 8192 size 3 would mean")
    assert len(refused) == len(snap.pools)
    assert (df[df["variant"] == 0]["refused"] == "").all() and df.attrs["scenarios"] == 1


def test_bad_input(snap):
    with pytest.raises(PgtoolsError, match="no pool 'nope'"):
        sweep(snap, pg_num={"nope": [8]}, scheduler="serial")
    with pytest.raises(PgtoolsError, match="erasure-coded pool's size"):
        sweep(snap, size={"ec21": [4]}, scheduler="serial")
    with pytest.raises(PgtoolsError, match="positive integers"):
        sweep(snap, pg_num={"rbd": [0]}, scheduler="serial")
    with pytest.raises(PgtoolsError, match="nothing to sweep"):
        sweep(snap, failures=[], scheduler="serial")


def test_distributed_equals_serial_and_scatters_once(snap, client):
    assert set(client.run(_where).values()) == {pgtools.__file__}  # the workers run this very code
    counted = CountingSnapshot(**{f.name: getattr(snap, f.name) for f in dataclasses.fields(snap)})
    kw = {"pg_num": {"rbd": [16, 32], "ec21": [16, 32]}, "level": ["osd", "host"], "failures": [2, 3],
          "each": "host", "trials": 20_000}
    serial = quiet(sweep, snap, scheduler="serial", **kw)
    assert serial.attrs["variants"] == 4
    before = client.run(_loads)
    dist = quiet(sweep, counted, client=client, progress=False, **kw)
    after = client.run(_loads)
    assert dist.attrs["executor"] == "dask" and serial.attrs["executor"] == "serial"
    pd.testing.assert_frame_equal(dist, serial, check_exact=True)
    # one copy of the capture per worker (broadcast), none per task: 4 tasks ran on 2 workers
    assert {w: after[w] - before[w] for w in after} == dict.fromkeys(after, 1)
    assert LOADS[0] == 0  # and the client never got it back


def test_local_cluster_workers_skip_malloc_trimming(client):
    """Dask's default MALLOC_TRIM_THRESHOLD_ (page faults on every NumPy temporary) is not in the
    workers, though this process had it when they started (and has it back); numba: one thread each."""
    assert set(client.run(_env).values()) == {(None, "1")}
    assert PARENT_TRIM == {"after": "65536"}
    assert len(client.scheduler_info()["workers"]) == 2


def test_largest_variants_run_first(snap, client):
    """Tasks are submitted and prioritised by PG shards (largest first), so the shortest ones end the sweep."""
    distributed = pytest.importorskip("distributed")
    kw = {"pg_num": {"meta": [8, 16, 32, 64, 128]}, "level": "host", "failures": [2], "progress": False}
    with distributed.get_task_stream(client) as ts:
        got = quiet(sweep, snap, client=client, **kw)
    pd.testing.assert_frame_equal(got, quiet(sweep, snap, scheduler="serial", **kw), check_exact=True)
    starts = sorted((min(s["start"] for s in t["startstops"] if s["action"] == "compute"), t["key"])
                    for t in ts.data if str(t["key"]).startswith("pgtools-sweep-"))
    order = [int(str(key).rsplit("-", 1)[1]) for _, key in starts]
    # the two workers start the two largest at once (the largest is submitted first); the smallest never
    # runs before two larger ones (in variant order it would be the first to start)
    assert sorted(order) == [0, 1, 2, 3, 4] and 4 in order[:2] and 0 in order[2:], order


def test_scheduler_address(snap, client):
    """scheduler="tcp://...": the sweep connects to a running cluster (and leaves it running)."""
    kw = {"pg_num": {"meta": [8, 16]}, "level": "host", "failures": [2], "progress": False}
    got = quiet(sweep, snap, scheduler=client.scheduler.address, **kw)
    pd.testing.assert_frame_equal(got, quiet(sweep, snap, scheduler="serial", **kw), check_exact=True)
    assert len(client.scheduler_info()["workers"]) == 2


def test_cli(tmp_path: Path, capsys):
    assert main(["sweep", str(MIXED), "--pg-num", "rbd=32,64", "--failures", "2", "--level", "host", "--each",
                 "host", "--pool", "meta", "--scheduler", "serial", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    res = doc["results"]
    assert doc["variants"] == 2 and {r["pg_num:rbd"] for r in res} == {32, 64}
    assert {r["family"] for r in res} == {"random", "single"} and {r["pool"] for r in res} == {"meta", "(all)"}
    assert all(r["ci_low"] is None for r in res)
    assert main(["sweep", str(MIXED), "--pg-num", "rbd=32", "--failures", "2", "--scheduler", "serial"]) == 0
    text = capsys.readouterr().out
    assert "pg_num:rbd" in text and "P(any lost)" in text and "2 osd" in text
    assert main(["sweep", str(MIXED), "--pg-num", "rbd=32", "--failures", "2", "--scheduler", "serial",
                 "--format", "csv"]) == 0
    csv = capsys.readouterr().out
    assert csv.splitlines()[0].startswith("variant,pg_num:rbd,family")
    for bad in (["--pg-num", "rbd"], ["--pg-num", "rbd=x"], ["--failures", "0"], ["--size", "ec42=3"],
                ["--scheduler", "nowhere"], ["--workers", "2", "--scheduler", "serial"]):
        assert main(["sweep", str(MIXED), *bad]) == 2, bad
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 6 and all(line.startswith("pgtools: error: ") for line in err)


def test_progress_bar_counts_variants(snap, capsys):
    quiet(sweep, snap, pg_num={"rbd": [16, 32]}, failures=[2], scheduler="serial", progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "2/2" in err


def test_task_warnings_come_back_once(snap):
    """The assumptions a task makes (here: EC profiles missing) are warned once per sweep, not per variant."""
    bare = snap.replace(pools=snap.pools.assign(ec_k=None, ec_m=None))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = sweep(bare, pg_num={"rbd": [32, 64]}, failures=[2], scheduler="serial")
    texts = [str(w.message) for w in caught if issubclass(w.category, PgtoolsWarning)]
    assert len(texts) == 2 and all("erasure-code profile" in t for t in texts)
    assert df.attrs["warnings"] == texts
