"""pgtools against a real Ceph cluster: collect, load, recompute placement, health and pool limits.

The module's cluster: 6 memstore OSDs on 3 hosts (CRUSH weight 1.0), 4 replicated pools × 64 PGs × size 3
(768 PG copies, 128 per OSD), created with ``mon_max_pg_per_osd 1000`` which is then lowered to 100, so the
cluster reports ``TOO_MANY_PGS: too many PGs per OSD (128 > max 100)`` and refuses any new pool — the seed
memo's situation at a sixth of the size.  The tests of that cluster run on Ceph 16.2.15 (Pacific, the host),
18.2.7 (Reef) and 20.2.4 (Tentacle), both from their chroots; there the mgr adds its own pool ``.mgr``, 1 PG × 3,
as pool 1: 771 copies, still 128 per OSD in the mgr's integer average.  The harness and mixed-layout tests run on Pacific.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import pgtools
from pgtools.io.collect import COMMANDS
from tests.ceph_release_tools import CACHE
from tests.integration.cluster import (
    CephCommandError,
    ClusterError,
    MiniCluster,
    OsdSpec,
    pid_alive,
)
from tests.paths import REPO

pytestmark = pytest.mark.integration

HOSTS = {f"node{i}": [OsdSpec(1.0, "hdd")] * 2 for i in (1, 2, 3)}
POOLS = ("rbd", "images", "volumes", "vms")
PG_NUM = 64
LIMIT = 100
#: tests run on Reef and Tentacle too (the rest: Pacific only); see tests/integration/conftest.py
LIVE_RELEASES = {name: ("pacific", "reef", "tentacle") for name in (
    "test_collect_bundle_matches_cluster", "test_recomputed_placement_equals_cluster",
    "test_health_too_many_pgs_matches_mgr", "test_pool_create_refusal_matches_monitor",
    "test_pg_num_increase_refusal_matches_monitor")}
LIVE_RELEASES["test_daemons_stopped_when_python_ends_without_stop"] = ("pacific", "tentacle")


def _pools(release: str) -> tuple[str, ...]:
    """The pools of the module's cluster: the test's, and since Quincy the mgr's own ``.mgr`` (1 PG)."""
    return POOLS if release == "pacific" else (".mgr", *POOLS)


def _procs_using(path: Path) -> list[int]:
    """PIDs of running processes whose command line mentions ``path`` (daemons of that cluster)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and pid_alive(int(d.name)):
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if str(path) in cmd and int(d.name) != os.getpid():
                out.append(int(d.name))
    return out


@pytest.fixture(scope="module")
def cluster(ceph_workdir: Path, release: str):
    t0 = time.monotonic()
    with MiniCluster(ceph_workdir / f"c-{release}", hosts=HOSTS, config={"mon_max_pg_per_osd": 1000},
                     release=release) as c:
        c.timing.steps["cluster_up"] = round(time.monotonic() - t0, 2)
        c.create_pools([{"name": name, "pg_num": PG_NUM, "size": 3} for name in POOLS])
        c.wait_clean(timeout=180)
        c.timing.steps["clean"] = round(time.monotonic() - t0, 2)
        c.ceph("config", "set", "global", "mon_max_pg_per_osd", str(LIMIT))
        # the mgr re-evaluates health every few seconds
        c.wait_for("TOO_MANY_PGS", lambda: "TOO_MANY_PGS" in c.health_detail()["checks"], 60)
        c.timing.steps["scenario_ready"] = round(time.monotonic() - t0, 2)
        print(f"\nlive {release} cluster timings (s): {c.timing.steps}")
        yield c
    assert not c.alive_pids()


@pytest.fixture(scope="module")
def bundle(cluster: MiniCluster, ceph_workdir: Path, release: str) -> Path:
    """``python -m pgtools collect`` on the live cluster (the CLI a user runs, with that release's ``ceph``)."""
    out = ceph_workdir / f"bundle-{release}"
    proc = subprocess.run([sys.executable, "-m", "pgtools", "collect", "--conf", str(cluster.conf_path),
                           "--ceph", cluster.ceph_executable, "-o", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(COMMANDS)}/{len(COMMANDS)} commands succeeded" in proc.stderr, proc.stderr
    return out


@pytest.fixture(scope="module")
def snap(bundle: Path):
    return pgtools.load(bundle)


def test_collect_bundle_matches_cluster(cluster: MiniCluster, bundle: Path, snap, release: str) -> None:
    meta = json.loads((bundle / "collect_meta.json").read_text())
    assert meta["epoch_before"] == meta["epoch_after"]
    assert [(r["file"], r["status"], r.get("invalid", "")) for r in meta["records"]] == [
        (c.filename, 0, "") for c in COMMANDS]
    n_pgs = len(POOLS) * PG_NUM + (release != "pacific")
    assert len(snap.pgs) == n_pgs
    assert sorted(snap.pools["pool"]) == sorted(_pools(release))
    assert set(snap.pools.loc[snap.pools["pool"] != ".mgr", "pg_num"]) == {PG_NUM}
    assert set(snap.pools["size"]) == {3}
    assert snap.release == release  # detected from the bundle (`ceph versions`, osd dump's require_osd_release)
    assert sorted(snap.osds["osd_id"]) == list(range(6))
    assert snap.osds["up"].astype(bool).all() and snap.osds["in"].astype(bool).all()
    by_host = snap.osds.groupby("host")["osd_id"].apply(sorted).to_dict()
    assert by_host == {"node1": [0, 1], "node2": [2, 3], "node3": [4, 5]}
    # the live `pg dump` (fetched now, not from the bundle) has the same up sets as the bundle
    live = cluster.ceph("pg", "dump", "pgs_brief", json=True)["pg_stats"]
    live_up = {p["pgid"]: tuple(p["up"]) for p in live}
    assert len(live_up) == n_pgs
    assert dict(zip(snap.pgs.pgid, snap.pgs.up, strict=True)) == live_up
    assert all(len(u) == 3 for u in live_up.values())


def test_recomputed_placement_equals_cluster(snap) -> None:
    try:
        from pgtools.placement import verify_placement
    except ImportError as e:
        pytest.fail(f"pgtools.placement.verify_placement is not available ({e}); it must recompute "
                    f"up/acting from the bundle and report 0 differing PGs here")
    diff = verify_placement(snap)
    assert len(diff) == 0, diff.head(10).to_string()


def test_health_too_many_pgs_matches_mgr(cluster: MiniCluster, snap, release: str) -> None:
    live = cluster.health_detail()
    expected = live["checks"]["TOO_MANY_PGS"]["summary"]["message"]
    assert expected == f"too many PGs per OSD (128 > max {LIMIT})"
    found = {f.code: f for f in pgtools.health(snap)}
    assert found["TOO_MANY_PGS"].summary == expected
    # the bundle's own health capture agrees too
    assert snap.health is None or "TOO_MANY_PGS" in json.dumps(snap.health)


#: what each release's monitor says when refusing ``osd pool create toobig 32`` here (Reef 18.2.7 and Tentacle count
#: the PG replicas on the 'in' OSDs under the new pool's CRUSH root, per OSD: int(867 / 6) = 144)
POOL_CREATE_REFUSAL = {
    "pacific": " pg_num 32 size 3 would mean 864 total pgs, which exceeds max 600 (mon_max_pg_per_osd 100 * "
               "num_in_osds 6)",
    "tentacle": " pg_num 32 size 3 for this pool would result in 144 cumulative PGs per OSD (867 total PG replicas "
                "on 6 'in' root OSDs by crush rule) which exceeds the mon_max_pg_per_osd value of 100",
}
POOL_CREATE_REFUSAL["reef"] = POOL_CREATE_REFUSAL["tentacle"]
#: the monitor's refusal of ``osd pool set rbd pg_num 128``, per release
PG_NUM_REFUSAL = {
    "pacific": "pool id 1 pg_num 128 size 3 would mean 960 total pgs, which exceeds max 600 (mon_max_pg_per_osd "
               "100 * num_in_osds 6)",
    "tentacle": "pool id 2 pg_num 128 size 3 for this pool would result in 160 cumulative PGs per OSD (963 total "
                "PG replicas on 6 'in' root OSDs by crush rule) which exceeds the mon_max_pg_per_osd value of 100",
}
PG_NUM_REFUSAL["reef"] = PG_NUM_REFUSAL["tentacle"]


def _refusal(cluster: MiniCluster, *args: object) -> str:
    """The monitor's ``Error ERANGE: MESSAGE`` for ``ceph ARGS`` (which must be refused)."""
    with pytest.raises(CephCommandError) as ei:
        cluster.ceph(*args)
    assert ei.value.returncode == 34, ei.value.stderr  # ERANGE
    line = next(ln for ln in ei.value.stderr.splitlines() if ln.startswith("Error ERANGE: "))
    return line[len("Error ERANGE: "):]


_CREATE = ("osd", "pool", "create", "toobig", 32, 32, "replicated", "--autoscale-mode=off")
_SPLIT = ("osd", "pool", "set", "rbd", "pg_num", 128)


def test_pool_create_refusal_matches_monitor(cluster: MiniCluster, snap, release: str) -> None:
    predicted = pgtools.check_pg_num(snap, None, 32, size=3)
    monitor = _refusal(cluster, *_CREATE)
    assert monitor == POOL_CREATE_REFUSAL[release]
    assert predicted is not None, f"pgtools accepts a pool the monitor refused: {monitor}"
    assert predicted.summary == monitor
    assert "toobig" not in [p["pool_name"] for p in cluster.pools()]


def test_pg_num_increase_refusal_matches_monitor(cluster: MiniCluster, snap, release: str) -> None:
    # (last: if the monitor accepted, the cluster would start splitting rbd)
    predicted = pgtools.check_pg_num(snap, "rbd", 128)
    monitor = _refusal(cluster, *_SPLIT)
    assert monitor == PG_NUM_REFUSAL[release]
    assert predicted is not None, f"pgtools accepts a pg_num the monitor refused: {monitor}"
    assert predicted.summary == monitor


# ------------------------------------------------------------------------------------------ harness


def test_start_twice_in_a_row_leaves_no_daemons(ceph_workdir: Path) -> None:
    work = ceph_workdir / "twice"
    seen: list[dict[str, int]] = []
    for _ in range(2):
        with MiniCluster(work, hosts={"h1": [OsdSpec()]}) as c:
            assert sorted(c.alive_pids()) == ["mgr.x", "mon.a", "osd.0"]
            up = c.ceph("osd", "stat", json=True)
            assert (up["num_osds"], up["num_up_osds"], up["num_in_osds"]) == (1, 1, 1)
            seen.append(dict(c.pids))
        assert not c.alive_pids()
        assert _procs_using(work) == []
    assert set(seen[0].values()).isdisjoint(seen[1].values())


def test_leftover_cluster_in_workdir_is_stopped_first(ceph_workdir: Path) -> None:
    work = ceph_workdir / "leftover"
    a = MiniCluster(work, hosts={"h1": [OsdSpec()]}).start()
    try:
        old = dict(a.pids)
        with MiniCluster(work, hosts={"h1": [OsdSpec()]}) as b:  # same folder, a still running
            assert not any(pid_alive(p) for p in old.values())
            assert set(b.alive_pids()) == {"mon.a", "mgr.x", "osd.0"}
        assert _procs_using(work) == []
    finally:
        a.stop()


def _chroot_mounts() -> list[str]:
    """Mount points of this machine below the Ceph chroots' cache (none may outlive a cluster)."""
    with open("/proc/self/mountinfo") as f:
        return [ln.split()[4] for ln in f if ln.split()[4].startswith(str(CACHE))]


@pytest.mark.parametrize("ending", ["exit", "sigkill"])
def test_daemons_stopped_when_python_ends_without_stop(ceph_workdir: Path, ending: str, release: str) -> None:
    """No stop() call: atexit stops the daemons on a normal exit, PR_SET_PDEATHSIG when the process is killed
    (through ``unshare`` and ``chroot``, which exec the daemon, for Tentacle); no mount is left either."""
    work = ceph_workdir / f"end-{ending}-{release}"
    script = textwrap.dedent(f"""
        import json, sys, time
        sys.path.insert(0, {str(REPO)!r})
        from tests.integration.cluster import MiniCluster, OsdSpec
        c = MiniCluster({str(work)!r}, hosts={{"h1": [OsdSpec()]}}, release={release!r}).start()
        print(json.dumps(c.pids), flush=True)
        if {ending!r} == "sigkill":
            time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        pids = json.loads(line)
        assert sorted(pids) == ["mgr.x", "mon.a", "osd.0"]
        if ending == "sigkill":
            assert all(pid_alive(p) for p in pids.values())
            proc.kill()
        assert proc.wait(timeout=60) == (-9 if ending == "sigkill" else 0), proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 15
    while any(pid_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(pid_alive(p) for p in pids.values())
    assert _procs_using(work) == []
    assert _chroot_mounts() == []


def test_bounded_wait_raises_clear_error(ceph_workdir: Path) -> None:
    with MiniCluster(ceph_workdir / "wait", hosts={"h1": [OsdSpec()]}) as c:
        c.create_pool("p", 8, size=3)  # size 3 on one OSD never gets clean
        with pytest.raises(ClusterError, match=r"timed out after 3 s waiting for all PGs active\+clean"):
            c.wait_clean(timeout=3)


# ------------------------------------------------------------------------------------------ mixed layout

MIXED_HOSTS = {
    "m1": [OsdSpec(1.0, "hdd"), OsdSpec(2.0, "hdd"), OsdSpec(0.5, "ssd")],   # osd.0-2
    "m2": [OsdSpec(1.5, "hdd"), OsdSpec(1.0, "hdd"), OsdSpec(0.5, "ssd")],   # osd.3-5
    "m3": [OsdSpec(1.0, "hdd"), OsdSpec(1.0, "ssd")],                         # osd.6-7
    "m4": [OsdSpec(0.5, "hdd"), OsdSpec(1.0, "hdd"), OsdSpec(1.0, "hdd")],   # osd.8-10
}


@pytest.fixture(scope="module")
def mixed(ceph_workdir: Path):
    """hdd+ssd, unequal weights, class rules, EC 2+1 (host) and 4+2 (osd), two pg-upmap-items; clean."""
    t0 = time.monotonic()
    with MiniCluster(ceph_workdir / "mixed", hosts=MIXED_HOSTS, config={"mon_max_pg_per_osd": 1000}) as c:
        c.ceph("osd", "crush", "rule", "create-replicated", "rep_hdd", "default", "host", "hdd")
        c.ceph("osd", "crush", "rule", "create-replicated", "rep_ssd", "default", "host", "ssd")
        c.create_pools([
            {"name": "rbd", "pg_num": 32, "size": 3, "rule": "rep_hdd"},
            {"name": "fast", "pg_num": 16, "size": 3, "rule": "rep_ssd"},
            {"name": "meta", "pg_num": 8, "size": 2},
            {"name": "ec21", "pg_num": 16, "ec_profile": {"k": 2, "m": 1, "crush-failure-domain": "host",
                                                          "crush-device-class": "hdd"}},
            {"name": "ec42", "pg_num": 16, "ec_profile": {"k": 4, "m": 2, "crush-failure-domain": "osd",
                                                          "crush-device-class": "hdd"}},
        ])
        c.ceph("osd", "set-require-min-compat-client", "luminous")
        c.wait_clean(timeout=120, settle=2)
        # two upmaps in rbd (pool 1) that do not involve osd.0 (marked out later) or osd.9 (reweighted)
        host = {o.id: o.host for o in c.osds}
        deadline = time.monotonic() + 60
        while True:  # the mgr's PG map can lag the osdmap on a loaded machine: wait for every PG of rbd
            pgs = {p["pgid"]: p["up"] for p in c.ceph("pg", "dump", "pgs_brief", json=True)["pg_stats"]}
            if sum(p.startswith("1.") for p in pgs) == 32 or time.monotonic() > deadline:
                break
            time.sleep(1)
        done = []
        for pgid in sorted((p for p in pgs if p.startswith("1.")), key=lambda p: int(p[2:], 16)):
            up = pgs[pgid]
            if {0, 9} & set(up) or len(done) == 2:
                continue
            target = next((o for o in (1, 3, 4, 6, 8, 10) if o not in up
                           and host[o] not in {host[u] for u in up}), None)
            if target is not None:
                c.ceph("osd", "pg-upmap-items", pgid, up[-1], target)
                done.append((pgid, up[-1], target))
        assert len(done) == 2
        c.wait_clean(timeout=120, settle=2)
        c.timing.steps["mixed_ready"] = round(time.monotonic() - t0, 2)
        yield SimpleNamespace(cluster=c, upmaps=done)


def test_mixed_layout_placement_recomputed_exactly(mixed: SimpleNamespace, ceph_workdir: Path) -> None:
    snap = pgtools.load(mixed.cluster.quick_capture(ceph_workdir / "mixed_before"))
    assert len(snap.pgs) == 88 and set(snap.pgs.state) == {"active+clean"}
    ec = snap.pgs[snap.pgs.pool == "ec42"]
    assert set(ec.up.map(len)) == {6}
    upmapped = dict(zip(snap.pgs.pgid, snap.pgs.up, strict=True))
    for pgid, _src, dst in mixed.upmaps:
        assert dst in upmapped[pgid]
    try:
        from pgtools.placement import verify_placement
    except ImportError as e:
        pytest.fail(f"pgtools.placement.verify_placement is not available ({e})")
    diff = verify_placement(snap)
    assert len(diff) == 0, diff.head(10).to_string()


def test_mixed_predict_out_and_crush_reweight_then_apply(mixed: SimpleNamespace, ceph_workdir: Path) -> None:
    try:
        from pgtools.placement import adjust_crush_weight, map_pgs, mark_out
    except ImportError as e:
        pytest.fail(f"pgtools.placement.mark_out/adjust_crush_weight/map_pgs are needed here ({e})")
    before = pgtools.load(mixed.cluster.quick_capture(ceph_workdir / "mixed_pre"))
    predicted = map_pgs(adjust_crush_weight(mark_out(before, [0]), {9: 2.0}))
    pred_up = dict(zip(predicted.pgid, predicted.up, strict=True))
    moved = sum(pred_up[p] != u for p, u in zip(before.pgs.pgid, before.pgs.up, strict=True))
    assert moved > 0
    mixed.cluster.out(0)
    mixed.cluster.crush_reweight(9, 2.0)
    mixed.cluster.wait_clean(timeout=120, settle=2)
    after = pgtools.load(mixed.cluster.quick_capture(ceph_workdir / "mixed_after"))
    live_up = dict(zip(after.pgs.pgid, after.pgs.up, strict=True))
    wrong = {p: (pred_up.get(p), u) for p, u in live_up.items() if pred_up.get(p) != u}
    assert wrong == {}, f"{len(wrong)} of {len(live_up)} PGs differ (predicted, live): {list(wrong.items())[:5]}"
    assert all(0 not in u for u in live_up.values())


def test_mixed_add_osd_under_new_host(mixed: SimpleNamespace, ceph_workdir: Path) -> None:
    c = mixed.cluster
    new = c.add_osd("m5", OsdSpec(1.0, "hdd"))
    assert new == 11
    c.wait_clean(timeout=120, settle=2)
    snap = pgtools.load(c.quick_capture(ceph_workdir / "mixed_added"))
    row = snap.osds.set_index("osd_id").loc[11]
    assert (row["host"], row["device_class"], float(row["crush_weight"])) == ("m5", "hdd", 1.0)
    assert any(11 in u for u in snap.pgs.up)
    from pgtools.placement import verify_placement

    diff = verify_placement(snap)
    assert len(diff) == 0, diff.head(10).to_string()
