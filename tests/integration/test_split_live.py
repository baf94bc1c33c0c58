"""Predict, then apply, then compare: a pg_num split and CRUSH changes on a real Ceph cluster.

The module's cluster: 6 memstore OSDs on 3 hosts (CRUSH weight 1.0); pool ``split`` (64 PGs, size 3,
400 objects) and pool ``filler`` (32 PGs, 800 objects, so that the cluster-wide misplaced ratio stays
small).  Recovery is made fast (``osd_recovery_sleep* 0``, ``osd_max_backfills 16``) and the mgr ticks
every second (``mgr_tick_period 1``); nothing that enters the mgr's stepping rule is changed
(``target_max_misplaced_ratio`` and ``mon_osd_max_creating_pgs`` keep their defaults).

1. ``pgtools.simulate(..., stepwise=True)`` and ``pgtools whatif --stepwise --format json`` predict the
   split 64 -> 128 from a ``pgtools collect`` bundle.
2. ``ceph osd pool set split pg_num 128``; a librados poller (system ``python3``) records every distinct
   (pg_num, pgp_num) of the pool in the osdmap, with the mgr's misplaced ratio seen just before it.
3. The observed states are compared with the prediction; the final up sets with the plan's final mapping.
4. A second split 128 -> 256 with ``norecover``/``nobackfill`` set: every pgp_num step must be one tick of
   :func:`pgtools.mgr.pgnum.pgp_num_steps` at the misplaced ratio the mgr reported just before it; the mgr
   stops stepping while recovery is paused (the poller then unsets the flags); final up sets as predicted.
5. ``osd crush reweight osd.5 0.5`` then ``osd out 0``, each predicted by ``simulate`` (CrushWeight, MarkOut).

Steps 1-3 run on Ceph 16.2.15 (Pacific, the host) and 20.2.4 (Tentacle, its chroot; there the mgr's own pool
``.mgr``, 1 PG, is pool 1), steps 4-5 on Pacific.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import pgtools
from pgtools.mgr.pgnum import TARGET_MAX_MISPLACED_RATIO, ClusterState, pgp_num_steps
from pgtools.simulate import CrushWeight, MarkOut, SetPgNum, simulate
from tests.integration.cluster import MiniCluster, OsdSpec
from tests.paths import REPO

pytestmark = pytest.mark.integration

HOSTS = {f"node{i}": [OsdSpec(1.0, "hdd")] * 2 for i in (1, 2, 3)}
#: tests run on Tentacle too (the rest: Pacific only); see tests/integration/conftest.py.  They pass on Reef
#: ("reef" here; 24 states, each equal to Reef's osdmaptool) but its cluster adds about 130 s, so CI leaves it out
LIVE_RELEASES = {name: ("pacific", "tentacle") for name in (
    "test_prediction_library_and_cli_agree", "test_observed_steps_follow_prediction",
    "test_final_up_sets_equal_prediction", "test_intermediate_up_sets_equal_osdmaptool_on_each_epoch")}
POOL, OLD, NEW, NEW2 = "split", 64, 128, 256
#: seconds pgp_num must have stood still (the mgr defers) before paused recovery is let go
HOLD = 5.0
FAST_RECOVERY = {
    "mon_max_pg_per_osd": 1000,
    "mgr_tick_period": 1,
    "osd/osd_recovery_sleep": 0,
    "osd/osd_recovery_sleep_hdd": 0,
    "osd/osd_recovery_sleep_ssd": 0,
    "osd/osd_recovery_sleep_hybrid": 0,
    "osd/osd_max_backfills": 16,
    "osd/osd_recovery_max_active": 16,
}

#: polls the osdmap (mon) and the mgr's recovery stats in one librados session; one JSON line per change
_POLL_SCRIPT = r"""
import json, sys, time, rados
conf, pool, new, limit, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
r = rados.Rados(conffile=conf)
r.connect(timeout=60)

def cmd(c, mgr=False):
    f = r.mgr_command if mgr else r.mon_command
    ret, buf, err = f(json.dumps(dict(c, format="json")), b"", timeout=30)
    if ret != 0:
        raise SystemExit("%s: %s" % (c, err))
    return json.loads(buf.decode() or "null")

def find(d, key):
    if isinstance(d, dict):
        if key in d:
            return d[key]
        for v in d.values():
            x = find(v, key)
            if x is not None:
                return x
    return None

t0 = time.monotonic()
last = None
ratio = prev_ratio = ratio_max = 0.0
lo = hi = None  # the misplaced ratios seen since the last change: the mgr decided on one of them
copies = 0
while time.monotonic() - t0 < limit:
    d = cmd({"prefix": "osd dump"})
    p = next(p for p in d["pools"] if p["pool_name"] == pool)
    state = (p["pg_num"], p["pg_placement_num"])
    pending = done = None
    if state != last:
        pending = {"t": round(time.monotonic() - t0, 3), "epoch": d["epoch"], "pg_num": state[0],
                   "pgp_num": state[1], "pg_num_target": p.get("pg_num_target"),
                   "pgp_num_target": p.get("pg_placement_num_target"),
                   "ratio_before": ratio, "ratio_prev": prev_ratio,
                   "ratio_lo": ratio if lo is None else lo, "ratio_hi": ratio if hi is None else hi,
                   "ratio_max": ratio_max, "copies": copies}
        if last is None:
            first_pgp = state[1]
        last = state
        changed_at = time.monotonic()
        done = state == (new, new) and p.get("pg_num_target") == new and p.get("pg_placement_num_target") == new
    st = cmd({"prefix": "pg dump", "dumpcontents": ["summary"]}, mgr=True)
    ss = (find(st, "pg_stats_sum") or {}).get("stat_sum", {})
    copies = ss.get("num_object_copies", 0)
    # PGMapDigest::get_recovery_stats: misplaced objects / object copies, cluster-wide
    prev_ratio = ratio
    ratio = ss.get("num_objects_misplaced", 0) / copies if copies else 0.0
    ratio_max = max(ratio, ratio_max)
    if pending is not None:  # the first PG map after the change was seen: the mgr decided before it
        print(json.dumps(dict(pending, ratio_after=ratio)), flush=True)
        lo = hi = None
    if done:
        break
    lo = ratio if lo is None else min(lo, ratio)
    hi = ratio if hi is None else max(hi, ratio)
    degraded = ss.get("num_objects_degraded", 0) / copies if copies else 0.0
    # hold >= 0: norecover/nobackfill are set; once pgp_num has moved and then stayed put for HOLD
    # seconds (the mgr defers), unset them and say what the mgr was looking at
    if hold >= 0 and last[0] == new and last[1] != first_pgp and time.monotonic() - changed_at >= hold:
        states = {x["name"]: x["num"] for x in find(cmd({"prefix": "pg stat"}, mgr=True), "num_pg_by_state")}
        for key in ("norecover", "nobackfill"):
            cmd({"prefix": "osd unset", "key": key})
        print(json.dumps({"event": "unset", "t": round(time.monotonic() - t0, 3), "pgp_num": last[1],
                          "ratio": ratio, "degraded": degraded, "states": states}),
              flush=True)
        hold = -1
    time.sleep(0.05)
r.shutdown()
"""


def _pairs(plan, pool_id: int) -> list[tuple[int, int]]:
    p = plan.pools[plan.pools["pool_id"] == pool_id]
    return [(int(a), int(b)) for a, b in zip(p["pg_num"], p["pgp_num"], strict=True)]


def _is_subsequence(small: list, big: list) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _one_tick(pg_num: int, pgp_num: int, target: int, ratio: float) -> int:
    """pgp_num after one mgr tick from (pg_num, pgp_num) at misplaced ratio ``ratio`` (pgtools' model)."""
    steps = pgp_num_steps({"pg_num": pg_num, "pgp_num": pgp_num, "pg_num_target": target,
                           "pgp_num_target": target}, misplaced_fn=ratio, objects=10**9)
    return int(steps["pgp_num"].iloc[1])


@pytest.fixture(scope="module")
def cluster(ceph_workdir: Path, release: str):
    t0 = time.monotonic()
    with MiniCluster(ceph_workdir / f"split-{release}", hosts=HOSTS, config=FAST_RECOVERY, release=release) as c:
        c.create_pools([{"name": POOL, "pg_num": OLD, "size": 3}, {"name": "filler", "pg_num": 32, "size": 3}])
        # no scrubs: a PG caught scrubbing is not active+clean (seen on Reef right after the split)
        for flag in ("noscrub", "nodeep-scrub"):
            c.ceph("osd", "set", flag)
        c.wait_clean(timeout=120)
        c.write_objects(POOL, 400)
        c.write_objects("filler", 800)
        c.wait_clean(timeout=120)
        c.timing.steps["ready"] = round(time.monotonic() - t0, 2)
        yield c
        print(f"\nsplit {release} cluster timings (s): {c.timing.steps}")


def _apply_and_watch(cluster: MiniCluster, new: int, hold: float = -1.0) -> tuple[list[dict], list[dict]]:
    """Set pg_num of POOL to ``new`` and record (states, events) from the poller until pg_num = pgp_num = new."""
    poller = subprocess.Popen(cluster.wrap(["/usr/bin/python3", "-c", _POLL_SCRIPT, str(cluster.conf_path), POOL,
                                            str(new), "200", str(hold)]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = poller.stdout.readline()  # the poller is connected and has seen the initial state
        cluster.set_pool(POOL, "pg_num", new)
        out, err = poller.communicate(timeout=220)
    finally:
        if poller.poll() is None:
            poller.kill()
            poller.wait()
    assert poller.returncode == 0, err
    lines = [json.loads(ln) for ln in [first, *out.splitlines()] if ln.strip()]
    return [o for o in lines if "event" not in o], [o for o in lines if "event" in o]


def _tick_mismatches(observed: list[dict], target: int) -> list[tuple]:
    """pgp_num changes that are not one tick of pgtools' model at a misplaced ratio the mgr can have used.

    The mgr decides on its PG map of some moment between the previous change and the first poll after this
    one (its PG map lags the OSD map by a report period, and the poller sees the new OSD map up to a poll
    later), so its ratio lies between the lowest and highest ratio polled in that window; one tick of the
    model is monotonic in the ratio, so the step must lie between the ticks at those two ratios.
    """
    wrong = []
    for prev, cur in zip(observed, observed[1:], strict=False):
        if cur["pgp_num"] != prev["pgp_num"]:
            seen = [cur["ratio_before"], cur["ratio_prev"], cur["ratio_lo"], cur["ratio_hi"], cur["ratio_after"]]
            lo, hi = min(seen), max(seen)
            fewest = _one_tick(prev["pg_num"], prev["pgp_num"], target, hi)
            most = _one_tick(prev["pg_num"], prev["pgp_num"], target, lo)
            if not min(fewest, most) <= cur["pgp_num"] <= max(fewest, most):
                wrong.append((prev["pgp_num"], cur["pgp_num"], (fewest, most), lo, hi))
    return wrong


@pytest.fixture(scope="module")
def split_run(cluster: MiniCluster, ceph_workdir: Path, release: str) -> SimpleNamespace:
    """Predict (library and CLI), apply the split, record the states the mgr walked through."""
    t0 = time.monotonic()
    bundle = ceph_workdir / f"split_bundle-{release}"
    res = cluster.collect(bundle)
    snap = pgtools.load(bundle)
    pool_id = int(snap.pools.loc[snap.pools["pool"] == POOL, "pool_id"].iloc[0])
    plan = simulate(snap, [SetPgNum(POOL, NEW)], stepwise=True)
    cli = subprocess.run([sys.executable, "-m", "pgtools", "whatif", str(bundle), "--pg-num", f"{POOL}={NEW}",
                          "--stepwise", "--format", "json"], capture_output=True, text=True, timeout=120,
                         cwd=REPO)
    cluster.timing.steps["predict"] = round(time.monotonic() - t0, 2)
    t1 = time.monotonic()
    observed, _ = _apply_and_watch(cluster, NEW)
    cluster.timing.steps["steps_done"] = round(time.monotonic() - t1, 2)
    cluster.wait_clean(timeout=120, settle=2)
    cluster.timing.steps["split_clean"] = round(time.monotonic() - t1, 2)
    after = pgtools.load(cluster.quick_capture(ceph_workdir / f"split_after-{release}"))
    others = int(snap.pools.loc[snap.pools["pool"] != POOL, "pg_num"].sum())  # filler's 32 (+ .mgr's 1)
    return SimpleNamespace(collect=res, snap=snap, pool_id=pool_id, plan=plan, cli=cli, observed=observed,
                           after=after, others=others, release=release)


@pytest.fixture(scope="module")
def throttled_run(cluster: MiniCluster, split_run: SimpleNamespace, ceph_workdir: Path) -> SimpleNamespace:
    """A second split 128 -> 256 with recovery paused (norecover, nobackfill) until the mgr stops stepping."""
    before = pgtools.load(cluster.quick_capture(ceph_workdir / "throttled_before"))
    plan = simulate(before, [SetPgNum(POOL, NEW2)])
    cluster.ceph("osd", "set", "norecover")
    cluster.ceph("osd", "set", "nobackfill")
    t1 = time.monotonic()
    try:
        observed, events = _apply_and_watch(cluster, NEW2, hold=HOLD)
    finally:
        for key in ("norecover", "nobackfill"):
            cluster.ceph("osd", "unset", key)
    cluster.timing.steps["throttled_steps_done"] = round(time.monotonic() - t1, 2)
    cluster.wait_clean(timeout=120, settle=2)
    cluster.timing.steps["throttled_clean"] = round(time.monotonic() - t1, 2)
    after = pgtools.load(cluster.quick_capture(ceph_workdir / "throttled_after"))
    return SimpleNamespace(plan=plan, observed=observed, events=events, after=after,
                           pool_id=split_run.pool_id)


def test_prediction_library_and_cli_agree(split_run: SimpleNamespace) -> None:
    r = split_run
    assert r.cli.returncode == 0, r.cli.stderr
    doc = json.loads(r.cli.stdout)
    pid = str(r.pool_id)
    cli_pairs = [(s["pools"][pid]["pg_num"], s["pools"][pid]["pgp_num"]) for s in doc["steps"]]
    lib_pairs = _pairs(r.plan, r.pool_id)
    assert cli_pairs == lib_pairs
    # the mgr's rule at the default 5 %: pg_num jumps 64 -> 128, then pgp_num moves by
    # estmax = int(128 * min(0.05 - 0, 0.025)) = 3 per tick: 64, 67, ..., 127, 128
    assert lib_pairs == [(64, 64), (128, 64)] + [(128, v) for v in range(67, 128, 3)] + [(128, 128)]
    final_cli = {p["pgid"]: tuple(p["up"]) for p in doc["final"]["pgs"]}
    m = r.plan.mappings[-1]
    assert final_cli == dict(zip(m["pgid"], m["up"], strict=True))
    assert len(final_cli) == NEW + r.others


def test_observed_steps_follow_prediction(split_run: SimpleNamespace) -> None:
    r = split_run
    seen = [(o["pg_num"], o["pgp_num"]) for o in r.observed]
    predicted = _pairs(r.plan, r.pool_id)
    assert seen[0] == (OLD, OLD) and seen[-1] == (NEW, NEW), seen
    # every observed state is one the model passes through, in the model's order
    assert _is_subsequence(seen, predicted), f"observed {seen}\npredicted {predicted}"
    # each pgp_num change is exactly one tick of the model at the misplaced ratio the mgr reported before it
    wrong = _tick_mismatches(r.observed, NEW)
    assert wrong == [], f"(from, observed, model, ratios): {wrong}"
    # the same 23 states as predicted: no tick was missed by the poller and none merged
    assert seen == predicted
    ratios = [o["ratio_before"] for o in r.observed]
    print(f"\nobserved {len(seen)} states in {r.observed[-1]['t']:.1f} s; misplaced ratio max {max(ratios):.4f}")
    assert max(ratios) < TARGET_MAX_MISPLACED_RATIO


def test_final_up_sets_equal_prediction(split_run: SimpleNamespace) -> None:
    r = split_run
    live = dict(zip(r.after.pgs.pgid, r.after.pgs.up, strict=True))
    m = r.plan.mappings[-1]
    pred = dict(zip(m["pgid"], m["up"], strict=True))
    assert len(live) == NEW + r.others and set(r.after.pgs.state) == {"active+clean"}
    assert sorted(p for p in live if p.startswith(f"{r.pool_id}.")) == sorted(
        f"{r.pool_id}.{ps:x}" for ps in range(NEW))
    wrong = {p: (pred.get(p), u) for p, u in live.items() if pred.get(p) != u}
    assert wrong == {}, f"{len(wrong)} PGs differ (predicted, live): {list(wrong.items())[:5]}"
    row = r.after.pools.set_index("pool").loc[POOL]
    assert (int(row["pg_num"]), int(row["pgp_num"])) == (NEW, NEW)


def test_intermediate_up_sets_equal_osdmaptool_on_each_epoch(cluster: MiniCluster, split_run: SimpleNamespace,
                                                             ceph_workdir: Path) -> None:
    """Every intermediate state, not only the last: for each (pg_num, pgp_num) the poller saw, fetch that
    epoch's osdmap from the monitor (``ceph osd getmap E``) and compare Ceph's own up sets
    (``osdmaptool --test-map-pgs-dump-all --pool P``) with the plan's mapping for the same state."""
    r = split_run
    pairs = _pairs(r.plan, r.pool_id)
    d = ceph_workdir / "split_epochs"
    d.mkdir(exist_ok=True)
    compared = 0
    for o in r.observed:
        state = (o["pg_num"], o["pgp_num"])
        if state not in pairs:
            continue
        path = d / f"osdmap.{o['epoch']}"
        got = cluster.ceph_run("osd", "getmap", str(o["epoch"]), "-o", str(path))
        assert got.returncode == 0, got.stderr
        out = subprocess.run(cluster.wrap(["osdmaptool", str(path), "--test-map-pgs-dump-all", "--pool",
                                           str(r.pool_id)]), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        ceph_up = {}
        for ln in out.stdout.splitlines():
            if " up ([" in ln:
                pgid, rest = ln.split(" ", 1)
                up = rest.split(" up ([", 1)[1].split("]", 1)[0]
                ceph_up[pgid] = tuple(int(v) for v in up.split(",")) if up else ()
        m = r.plan.mappings[pairs.index(state)]
        ours = {p: tuple(u) for p, u in zip(m["pgid"], m["up"], strict=True) if p.startswith(f"{r.pool_id}.")}
        assert len(ceph_up) == state[0], (state, len(ceph_up))
        wrong = {p: (ours.get(p), u) for p, u in ceph_up.items() if ours.get(p) != u}
        assert wrong == {}, f"epoch {o['epoch']} state {state}: {len(wrong)} PGs differ: {list(wrong.items())[:5]}"
        compared += 1
    print(f"\nintermediate states compared with osdmaptool on their epochs: {compared}")
    assert compared >= 20


def test_throttled_split_steps_follow_misplaced_ratio(throttled_run: SimpleNamespace) -> None:
    """With recovery paused the misplaced ratio builds up: steps shrink from estmax 6, then stop above 5 %."""
    r = throttled_run
    seen = [(o["pg_num"], o["pgp_num"]) for o in r.observed]
    assert seen[0] == (NEW, NEW) and seen[1] == (NEW2, NEW) and seen[-1] == (NEW2, NEW2), seen
    assert _tick_mismatches(r.observed, NEW2) == []
    steps = [b["pgp_num"] - a["pgp_num"] for a, b in zip(r.observed, r.observed[1:], strict=False)
             if b["pgp_num"] != a["pgp_num"]]
    # int(256 * min(0.05 - ratio, 0.025)) = 6 while the ratio is below 2.66 %
    assert steps[0] == 6 and set(steps) <= {1, 2, 3, 4, 5, 6} and sum(steps) == NEW2 - NEW, steps
    # the mgr stopped stepping while recovery was paused; the poller then let recovery go, once
    assert len(r.events) == 1, r.events
    ev = r.events[0]
    assert NEW < ev["pgp_num"] < NEW2
    # what made it defer: misplaced above 5 %, or degraded object copies (both gates of the mgr, modelled by
    # pgp_num_steps; see also test_pgnum_gates)
    blocking = [k for k in ev["states"] if "degraded" in k or "active" not in k or "unknown" in k]
    assert ev["ratio"] > TARGET_MAX_MISPLACED_RATIO or ev["degraded"] > 0 or blocking, ev
    # and pgtools' model of the mgr, fed the PG map the mgr saw, waits there too
    states = ev["states"]
    seen_state = ClusterState(
        num_pgs=sum(states.values()), degraded_ratio=ev["degraded"], misplaced_ratio=ev["ratio"],
        unknown=sum(n for k, n in states.items() if k == "unknown"),
        inactive=sum(n for k, n in states.items() if "active" not in k.split("+") and k != "unknown"),
        degraded=sum(n for k, n in states.items() if "degraded" in k.split("+")))
    tick = pgp_num_steps({"pg_num": NEW2, "pgp_num": ev["pgp_num"], "pg_num_target": NEW2,
                          "pgp_num_target": NEW2}, cluster=seen_state, objects=10**9)
    assert tick["action"].iloc[1] == "wait" and tick["pgp_num"].iloc[1] == ev["pgp_num"], tick.iloc[:2]
    print(f"\nthrottled split: {len(seen)} states, steps {steps}, held at pgp_num {ev['pgp_num']} "
          f"(misplaced {ev['ratio']:.4f}, degraded {ev['degraded']:.4f}, PG states {ev['states']}), "
          f"max misplaced {max(o['ratio_max'] for o in r.observed):.4f}")


def test_throttled_split_final_up_sets_equal_prediction(throttled_run: SimpleNamespace) -> None:
    r = throttled_run
    m = r.plan.mappings[-1]
    pred = dict(zip(m["pgid"], m["up"], strict=True))
    live = dict(zip(r.after.pgs.pgid, r.after.pgs.up, strict=True))
    assert len(live) == NEW2 + 32 and set(r.after.pgs.state) == {"active+clean"}
    wrong = {p: (pred.get(p), u) for p, u in live.items() if pred.get(p) != u}
    assert wrong == {}, f"{len(wrong)} PGs differ (predicted, live): {list(wrong.items())[:5]}"


def test_crush_reweight_and_out_predicted_by_simulate(cluster: MiniCluster, throttled_run: SimpleNamespace,
                                                      ceph_workdir: Path) -> None:
    """After both splits: ``osd crush reweight osd.5 0.5`` then ``osd out 0``, predicted step by step."""
    before = pgtools.load(cluster.quick_capture(ceph_workdir / "rw_before"))
    plan = simulate(before, [CrushWeight(5, 0.5), MarkOut(0)])
    assert len(plan.mappings) == 3
    maps = [dict(zip(m["pgid"], m["up"], strict=True)) for m in plan.mappings]
    assert maps[0] == dict(zip(before.pgs.pgid, before.pgs.up, strict=True))
    assert int(plan.steps.loc[1, "pgs_moved"]) > 0 and int(plan.steps.loc[2, "pgs_moved"]) > 0
    for step, apply in ((1, lambda: cluster.crush_reweight(5, 0.5)), (2, lambda: cluster.out(0))):
        apply()
        cluster.wait_clean(timeout=120, settle=2)
        snap = pgtools.load(cluster.quick_capture(ceph_workdir / f"rw_step{step}"))
        live = dict(zip(snap.pgs.pgid, snap.pgs.up, strict=True))
        wrong = {p: (maps[step].get(p), u) for p, u in live.items() if maps[step].get(p) != u}
        assert wrong == {}, f"step {step}: {len(wrong)} PGs differ: {list(wrong.items())[:5]}"
    assert all(0 not in u for u in live.values())
    w = snap.osds.set_index("osd_id").loc[5, "crush_weight"]
    assert float(w) == 0.5
