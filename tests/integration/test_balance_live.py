"""pgtools' balancer plans applied to a real cluster: accepted, kept by the mon, placed as predicted.

The issue's correctness target (#14): every plan pgtools prints is run on a live cluster exactly as printed, and
the cluster must agree with the plan.  The module's cluster (one per release: Pacific on the host and Tentacle
from its chroot; Reef too with ``PGTOOLS_BALANCE_LIVE_REEF=1``: it passes, with the same plans as Tentacle, but
adds two minutes to the suite): 11 memstore OSDs (10 GiB each) on 4 hosts, two device classes and uneven CRUSH
weights (hdd 0.5 to 2.0, three ssd) so CRUSH alone leaves the PG counts uneven:

* ``rep``: replicated, size 3, rule ``hdd-rule`` (class hdd, failure domain host), 32 PGs;
* ``ec``: erasure-coded k=2 m=1 on class hdd, failure domain host, 32 PGs;
* ``fast``: replicated, size 2, rule ``ssd-rule`` (class ssd), 16 PGs (no data);
* since Quincy the mgr's ``.mgr`` (1 PG, default rule: both classes).

200 objects of 16 KiB go to ``rep`` and to ``ec`` (memstore reports the bytes as used, so capacity mode has
real per-PG bytes and per-OSD usage).  The PG log is kept to 2 entries so that an OSD new to a PG with data
needs backfill, not log recovery: that is what makes PGs *remapped* (acting kept by ``pg_temp``) while
``nobackfill`` is set.

The tests run in order on the same cluster, each on a fresh capture (``osd dump``, ``crush dump``, ``pg dump``)
of the state the previous one left: the mgr's own upmap run (``plan(..., like_mgr=True)``, first compared pool
by pool with the plan the mgr itself makes, ``ceph balancer optimize`` / ``dump``, with
``osd_calc_pg_upmaps_aggressively`` false: the mgr's default, true, shuffles at random), pgtools' count balancer,
the capacity balancer, ``pin_remapped`` after a CRUSH weight change with backfill blocked, the first round of
``unpin``, and a drain of one OSD.  The mgr's balancer module is switched off (``ceph balancer off``) so only
the plans change the upmap tables.  For each plan (:func:`_apply_and_check`):

* the lines ``pgtools balance|upmaps CAPTURE ... --format commands`` prints (the CLI, which must print the
  API plan's ``commands``) are fed as printed (without the program name ``ceph``) to one ``ceph`` process in
  its interactive mode; each must get the monitor's acknowledgement (``set PG pg_upmap_items mapping to
  [a->b,...]`` / ``clear PG pg_upmap_items mapping``) and nothing else;
* ``osd dump``'s ``pg_upmap_items`` must equal those of ``plan.apply(snap)``, both right after and after two
  further osdmap epochs (``osd set/unset noscrub``): the monitor's ``clean_pg_upmaps``, run on every new map,
  removed nothing;
* every PG's up set, from the monitor (``pg map``) and from the mgr's ``pg dump``, equals pgtools' placement
  of ``plan.apply(snap)``;
* the release's own ``osdmaptool --upmap-cleanup`` on ``ceph osd getmap`` finds nothing to clean.

A last test shows the checks can fail: an upmap the monitor accepts but cleans, and one it refuses.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

import pgtools
from pgtools import balance
from pgtools.balance import UpmapPlan
from pgtools.cli import main as cli_main
from pgtools.errors import PgtoolsWarning
from pgtools.placement import map_pgs, verify_placement
from tests.ceph_release_tools import run as run_tool
from tests.integration.cluster import MiniCluster, OsdSpec

pytestmark = pytest.mark.integration

HOSTS = {"node1": [OsdSpec(1.0, "hdd"), OsdSpec(0.5, "hdd"), OsdSpec(1.0, "ssd")],
         "node2": [OsdSpec(2.0, "hdd"), OsdSpec(1.0, "hdd"), OsdSpec(1.0, "ssd")],
         "node3": [OsdSpec(1.0, "hdd"), OsdSpec(1.0, "hdd"), OsdSpec(0.5, "ssd")],
         "node4": [OsdSpec(0.5, "hdd"), OsdSpec(1.5, "hdd")]}
EC_PROFILE = {"k": 2, "m": 1, "crush-failure-domain": "host", "crush-device-class": "hdd"}
OBJECTS, OBJECT_BYTES = 200, 16384
#: the OSD whose CRUSH weight changes under nobackfill (node2's 2.0 hdd), and the OSD drained (node4's 1.5 hdd)
REWEIGHTED, NEW_WEIGHT, DRAINED = 3, 0.5, 9
CONFIG = {
    "mon_max_pg_per_osd": 1000,
    "mgr_tick_period": 1,
    # a PG log of 2 entries: an OSD new to a PG with more writes than that must backfill (log recovery would
    # not need pg_temp, and nobackfill would not keep the PG remapped)
    "osd/osd_min_pg_log_entries": 1,
    "osd/osd_max_pg_log_entries": 2,
    "osd/osd_pg_log_trim_min": 1,
    # Pacific's wpq scheduler sleeps 0.1 s between recovery ops on hdd OSDs and backfills one PG at a time:
    # the backfills of the plans took ~30 s there (Reef and Tentacle's mclock ignores both)
    "osd/osd_recovery_sleep_hdd": 0,
    "osd/osd_max_backfills": 4,
}
TESTS = ("test_mgr_balancer_plan_applied", "test_count_plan_applied", "test_capacity_plan_applied",
         "test_pin_remapped_plan_applied", "test_unpin_first_round_applied", "test_drain_plan_applied",
         "test_checks_catch_what_the_monitor_refuses_or_cleans")
RELEASES = ("pacific", "tentacle") + (("reef",) if os.environ.get("PGTOOLS_BALANCE_LIVE_REEF") else ())
LIVE_RELEASES = dict.fromkeys(TESTS, RELEASES)
_ACK = {"pg-upmap-items": "set {pg} pg_upmap_items mapping to [{pairs}]",
        "rm-pg-upmap-items": "clear {pg} pg_upmap_items mapping"}


@pytest.fixture(scope="module")
def cluster(ceph_workdir: Path, release: str):
    t0 = time.monotonic()
    with MiniCluster(ceph_workdir / f"bal-{release}", hosts=HOSTS, config=CONFIG, release=release) as c:
        c.ceph("balancer", "off")
        c.ceph("balancer", "mode", "upmap")
        assert c.ceph("balancer", "status", json=True)["active"] is False
        # the mgr's calc_pg_upmaps without its random shuffles (default true), as pgtools' like-mgr run
        c.ceph("config", "set", "mgr", "osd_calc_pg_upmaps_aggressively", "false")
        c.ceph("osd", "crush", "rule", "create-replicated", "hdd-rule", "default", "host", "hdd")
        c.ceph("osd", "crush", "rule", "create-replicated", "ssd-rule", "default", "host", "ssd")
        c.create_pools([dict(name="rep", pg_num=32, rule="hdd-rule"),
                        dict(name="ec", pg_num=32, ec_profile=EC_PROFILE),
                        dict(name="fast", pg_num=16, size=2, rule="ssd-rule")])
        c.wait_clean(timeout=120)
        c.write_objects("rep", OBJECTS, OBJECT_BYTES)
        c.write_objects("ec", OBJECTS, OBJECT_BYTES)
        c.wait_clean(timeout=60, settle=2)  # the OSDs' usage reported
        c.timing.steps["ready"] = round(time.monotonic() - t0, 2)
        c.checked = {}
        yield c
        print(f"\nbalance {release} timings (s): {c.timing.steps}; plans checked: {c.checked}")


def _capture(cluster: MiniCluster, workdir: Path, tag: str):
    """A quick capture whose PG map has caught up with its osdmap (the mgr reports a few seconds late); the
    snapshot gets the capture's folder as ``folder``."""
    folder = workdir / f"bal-{cluster.release}-{tag}"
    for _ in range(20):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", PgtoolsWarning)
            snap = pgtools.load(cluster.quick_capture(folder))
        if not any("behind the osdmap" in str(w.message) for w in seen):
            break
        time.sleep(1)
    diff = verify_placement(snap, release=cluster.release)
    assert len(diff) == 0, diff.head(10).to_string()  # pgtools agrees with the cluster before the plan
    return snap, folder


def _printed(capsys: pytest.CaptureFixture, *argv: object) -> list[str]:
    """The command lines ``pgtools ARGV --format commands`` prints (the CLI, run in this process)."""
    capsys.readouterr()
    rc = cli_main([*map(str, argv), "--format", "commands"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return out.out.splitlines()


def _items(dump: dict) -> dict[str, tuple[tuple[int, int], ...]]:
    return {e["pgid"]: tuple((int(m["from"]), int(m["to"])) for m in e["mappings"])
            for e in dump.get("pg_upmap_items", [])}


def _norm(items: dict) -> dict[str, tuple[tuple[int, int], ...]]:
    return {str(pg): tuple((int(a), int(b)) for a, b in pairs) for pg, pairs in items.items()}


def _acks(commands: list[str]) -> list[str]:
    """What the monitor answers to each command (``OSDMonitor::prepare_command_impl``)."""
    out = []
    for line in commands:
        argv = shlex.split(line)
        assert argv[:2] == ["ceph", "osd"] and argv[2] in _ACK, line
        ids = argv[4:]
        pairs = ",".join(f"{a}->{b}" for a, b in zip(ids[::2], ids[1::2], strict=True))
        out.append(_ACK[argv[2]].format(pg=argv[3], pairs=pairs))
    return out


def _run_commands(cluster: MiniCluster, commands: list[str]) -> subprocess.CompletedProcess:
    """The plan's command lines, as printed, through one ``ceph`` process (its interactive mode reads one
    command a line from stdin and prints each answer; the program name ``ceph`` is not part of a line)."""
    text = "".join(shlex.join(shlex.split(c)[1:]) + "\n" for c in commands)
    return subprocess.run(cluster.ceph_argv(), input=text, capture_output=True, text=True,
                          timeout=cluster.ceph_timeout + 5 * len(commands))


def _cleanup_finds(cluster: MiniCluster, workdir: Path, tag: str) -> tuple[str, str]:
    """``osdmaptool MAP --upmap-cleanup OUT`` (the release's own) on the cluster's current osdmap."""
    path = workdir / f"bal-{cluster.release}-{tag}.osdmap"
    cluster.ceph("osd", "getmap", "-o", path)
    res = run_tool(cluster.release, "osdmaptool", ["om", "--upmap-cleanup", "cleanup.txt"], {"om": path})
    assert res.returncode == 0, res.stderr
    return res.files.get("cleanup.txt", b"").decode(), res.stdout


def _apply_and_check(cluster: MiniCluster, workdir: Path, snap, plan, tag: str,
                     printed: list[str] | None = None) -> SimpleNamespace:
    """Run ``printed`` (default: ``plan.commands``) on the cluster and check the result is ``plan`` (computed
    on ``snap``) as the module docstring says."""
    t0 = time.monotonic()
    commands = plan.commands if printed is None else printed
    assert commands == plan.commands, f"{tag}: the CLI printed other commands than the plan's"
    assert commands, f"{tag}: the plan is empty, nothing to check"
    after = plan.apply(snap)
    want_items = _norm(after.osdmap.pg_upmap_items)
    pred = map_pgs(after, release=cluster.release)
    want_up = {str(p): [int(o) for o in u] for p, u in zip(pred["pgid"], pred["up"], strict=True)}
    # 1. every command accepted, answered as the monitor answers a valid one
    proc = _run_commands(cluster, commands)
    assert proc.returncode == 0 and "Error" not in proc.stderr, proc.stderr
    assert proc.stderr.splitlines() == _acks(commands), proc.stderr
    # 2. the upmap tables: the plan's, and still the plan's two osdmap epochs later (mon's clean_pg_upmaps)
    (d1,) = cluster.query(("osd", "dump"))
    cluster.mon_commands([{"prefix": "osd set", "key": "noscrub"}, {"prefix": "osd unset", "key": "noscrub"}])
    (d2,) = cluster.query(("osd", "dump"))
    assert d2["epoch"] >= d1["epoch"] + 2
    assert _items(d1) == want_items, f"{tag}: osd dump's pg_upmap_items differ from the plan's right away"
    assert _items(d2) == want_items, f"{tag}: the monitor changed pg_upmap_items after {d2['epoch'] - d1['epoch']} epochs"

    # 3. up sets: the monitor's (pg map, current osdmap), then the mgr's pg dump once it has caught up
    def caught_up():
        _, stats, mon = cluster.pg_states()
        ok = set(stats) == set(mon) and all(stats[g]["up"] == mon[g]["up"] for g in mon)
        return (stats, mon) if ok else None

    stats, mon = cluster.wait_for("the mgr's pg dump at the new osdmap", caught_up, 60)
    wrong = {g: (want_up.get(g), m["up"]) for g, m in mon.items() if want_up.get(g) != m["up"]}
    assert set(mon) == set(want_up)
    assert wrong == {}, f"{tag}: {len(wrong)} PGs' up sets differ (predicted, live): {list(wrong.items())[:5]}"
    assert {g: s["up"] for g, s in stats.items()} == want_up
    # 4. Ceph's own cleanup finds nothing
    cleanup, stdout = _cleanup_finds(cluster, workdir, tag)
    assert cleanup == "", f"{tag}: osdmaptool --upmap-cleanup would run:\n{cleanup}"
    assert "ceph osd" not in stdout, stdout
    cluster.timing.steps[tag] = round(time.monotonic() - t0, 2)
    cluster.checked[tag] = {"commands": len(commands), "rm": sum(" rm-" in c for c in commands),
                            "pools": sorted({c.split()[3].split(".")[0] for c in commands}), "pgs": len(want_up)}
    return SimpleNamespace(items=want_items, up=want_up, dump=d2)


def _settle(cluster: MiniCluster, tag: str, timeout: float = 90) -> None:
    t0 = time.monotonic()
    cluster.wait_clean(timeout=timeout)
    cluster.timing.steps[tag] = round(cluster.timing.steps.get(tag, 0) + time.monotonic() - t0, 2)


def _moved(snap, plan, release: str) -> int:
    before = map_pgs(snap, release=release)
    after = map_pgs(plan.apply(snap), release=release)
    return sum(a != b for a, b in zip(before["up"], after["up"], strict=True))


def _mgr_optimize(cluster: MiniCluster, pool: str, epoch: int) -> tuple[dict, list[str]]:
    """The mgr balancer's own plan for ``pool`` (``ceph balancer optimize`` then ``ceph balancer dump``, its
    ``OSDMap::Incremental``): ``(new pg_upmap_items, removed ones)``."""
    name = f"pgtools-{pool}"
    proc = cluster.ceph_run("balancer", "optimize", name, pool)
    if proc.returncode != 0:
        assert "Unable to find further optimization" in proc.stderr, proc.stderr
        return {}, []
    inc = cluster.ceph("balancer", "dump", name, json=True)
    assert inc["epoch"] == epoch + 1, inc["epoch"]  # planned on the map pgtools planned on
    return _items({"pg_upmap_items": inc.get("new_pg_upmap_items", [])}), sorted(inc.get("old_pg_upmap_items", []))


def test_mgr_balancer_plan_applied(cluster: MiniCluster, ceph_workdir: Path, capsys) -> None:
    snap, folder = _capture(cluster, ceph_workdir, "mgr")
    assert not snap.osdmap.pg_upmap_items
    # pool by pool (the mgr shuffles the pools of a run at random) pgtools' like-mgr plan is the mgr's own
    epoch = json.loads((folder / "osd_dump.json").read_text())["epoch"]
    same = {}
    for deviation in (5, 1):  # upmap_max_deviation: the default, then the tightest
        cluster.ceph("config", "set", "mgr", "mgr/balancer/upmap_max_deviation", deviation)
        for pool in ("rep", "ec", "fast"):
            new, old = _mgr_optimize(cluster, pool, epoch)
            # the mgr runs with osd_calc_pg_upmaps_aggressively false (set above; the quick capture has no config
            # dump to say so): deterministic, and one pool at a time, so the plan is exact
            ours = balance.plan(snap, "count", like_mgr=True, pools=[pool], max_deviation=deviation, aggressive=False)
            assert ours.exact
            assert (_norm(ours.new_pg_upmap_items), sorted(ours.old_pg_upmap_items)) == (new, old), (pool, deviation)
            printed = _printed(capsys, "balance", folder, "--like-mgr", "--no-aggressive", "--pool", pool,
                               "--max-deviation", deviation)
            assert printed == ours.commands, (pool, deviation)
            same[f"{pool}/{deviation}"] = len(new) + len(old)
    cluster.ceph("config", "rm", "mgr", "mgr/balancer/upmap_max_deviation")
    assert sum(same.values()) > 0, same
    cluster.checked["mgr_optimize"] = same
    plan = balance.plan(snap, "count", like_mgr=True, aggressive=False)
    assert 0 < plan.num_changed <= 10 and _moved(snap, plan, cluster.release) > 0
    printed = _printed(capsys, "balance", folder, "--mode", "count", "--like-mgr", "--no-aggressive")
    _apply_and_check(cluster, ceph_workdir, snap, plan, "mgr", printed)
    _settle(cluster, "clean_after")


def test_count_plan_applied(cluster: MiniCluster, ceph_workdir: Path, capsys) -> None:
    snap, folder = _capture(cluster, ceph_workdir, "count")
    plan = balance.plan(snap, "count")
    assert plan.summary["max_dev_after"] < plan.summary["max_dev_before"]
    printed = _printed(capsys, "balance", folder, "--mode", "count")
    res = _apply_and_check(cluster, ceph_workdir, snap, plan, "count", printed)
    assert plan.summary["items_after"] == len(res.items)  # the entries it reports are the cluster's
    _settle(cluster, "clean_after")
    after, _ = _capture(cluster, ceph_workdir, "count-after")
    assert balance.count_deviation(after)["max_dev"] == plan.summary["max_dev_after"]


def test_capacity_plan_applied(cluster: MiniCluster, ceph_workdir: Path, capsys) -> None:
    snap, folder = _capture(cluster, ceph_workdir, "capacity")
    plan = balance.plan(snap, "capacity")
    assert plan.summary["spread_after"] < plan.summary["spread_before"]
    printed = _printed(capsys, "balance", folder, "--mode", "capacity")
    res = _apply_and_check(cluster, ceph_workdir, snap, plan, "capacity", printed)
    assert plan.summary["items_after"] == len(res.items)
    _settle(cluster, "clean_after")


def test_pin_remapped_plan_applied(cluster: MiniCluster, ceph_workdir: Path, capsys) -> None:
    cluster.ceph("osd", "set", "nobackfill")
    cluster.crush_reweight(REWEIGHTED, NEW_WEIGHT)

    def remapped_and_settled():
        _, stats, mon = cluster.pg_states()
        states = [s["state"] for s in stats.values()]
        settled = set(stats) == set(mon) and all(
            stats[g]["up"] == mon[g]["up"] and stats[g]["acting"] == mon[g]["acting"] for g in mon)
        busy = any(w in s for s in states for w in ("peering", "unknown", "activating", "recovering"))
        return settled and not busy and any("remapped" in s for s in states)

    cluster.wait_for("remapped PGs waiting for backfill", remapped_and_settled, 90)
    snap, folder = _capture(cluster, ceph_workdir, "pin")
    remapped = set(snap.pgs.loc[snap.pgs["state"].astype(str).str.contains("remapped"), "pgid"].astype(str))
    plan = balance.pin_remapped(snap)
    assert remapped and plan.skipped.empty, plan.skipped.to_string()
    assert set(plan.new_pg_upmap_items) | set(plan.old_pg_upmap_items) == remapped
    printed = _printed(capsys, "upmaps", folder, "--pin-remapped")
    res = _apply_and_check(cluster, ceph_workdir, snap, plan, "pin", printed)
    acting = {str(p): [int(o) for o in a] for p, a in zip(snap.pgs.pgid, snap.pgs.acting, strict=True)}
    for pg in remapped:  # pinned where the data is: up is the acting set of the capture
        assert sorted(res.up[pg]) == sorted(acting[pg]), pg
    _settle(cluster, "clean_after_pin")  # nothing left to backfill, although nobackfill is still set
    cluster.ceph("osd", "unset", "nobackfill")
    _settle(cluster, "clean_after_pin", timeout=30)
    cluster.pinned = (snap, plan)


def test_unpin_first_round_applied(cluster: MiniCluster, ceph_workdir: Path) -> None:
    """The pins released gradually: the first round of ``unpin`` (as ``pgtools upmaps --pin-remapped`` lists
    the release rounds) puts those PGs back where CRUSH and the earlier upmaps want them."""
    pin_snap, pins = cluster.pinned
    pinned = pins.apply(pin_snap)
    pinned = pinned.replace(osdmap=pinned.osdmap.replace(pg_temp={}, primary_temp={}))
    rounds = balance.order_rounds(pinned, balance.unpin(pin_snap, pins))
    snap, _ = _capture(cluster, ceph_workdir, "unpin")
    first = rounds.plans[0]
    assert 0 < len(first.commands) <= len(pins.commands)
    res = _apply_and_check(cluster, ceph_workdir, snap, first, "unpin")
    crush_now = map_pgs(pin_snap.replace(osdmap=pin_snap.osdmap.replace(pg_temp={}, primary_temp={})),
                        release=cluster.release)
    back = {str(g): [int(o) for o in u] for g, u in zip(crush_now["pgid"], crush_now["up"], strict=True)}
    for pg in [*first.new_pg_upmap_items, *first.old_pg_upmap_items]:  # up where it was heading before the pin
        assert res.up[pg] == back[pg], pg
    _settle(cluster, "clean_after")


def test_drain_plan_applied(cluster: MiniCluster, ceph_workdir: Path, capsys) -> None:
    snap, folder = _capture(cluster, ceph_workdir, "drain")
    plan = balance.drain(snap, [DRAINED])
    assert plan.skipped.empty, plan.skipped.to_string()
    printed = _printed(capsys, "upmaps", folder, "--drain", f"osd.{DRAINED}")
    res = _apply_and_check(cluster, ceph_workdir, snap, plan, "drain", printed)
    assert not any(DRAINED in up for up in res.up.values())
    assert any(re.search(rf"\b{DRAINED}\b", c) for c in plan.commands)
    _settle(cluster, "clean_after")


def test_checks_catch_what_the_monitor_refuses_or_cleans(cluster: MiniCluster, ceph_workdir: Path) -> None:
    """The checks can fail: an upmap the mon accepts but cleans (two replicas of ``rep`` on one host) and one
    it refuses (an OSD that does not exist) are caught, and pgtools' own cleanup agrees with the mon's."""
    snap, _ = _capture(cluster, ceph_workdir, "control")
    hosts = snap.osds.set_index("osd_id")["host"].to_dict()
    klass = snap.osds.set_index("osd_id")["device_class"].to_dict()
    mapped = map_pgs(snap, snap.pool_id("rep"), release=cluster.release)
    pgid, up = next((str(g), [int(o) for o in u]) for g, u in zip(mapped["pgid"], mapped["up"], strict=True)
                    if str(g) not in snap.osdmap.pg_upmap_items)
    (b,) = [o for o in hosts if hosts[o] == hosts[up[1]] and klass[o] == "hdd" and o not in up]
    items = ((up[0], b),)
    bad = UpmapPlan({pgid: items}, [], [], 1, cluster.release, True,
                    ["ceph osd pg-upmap-items " + pgid + "".join(f" {x} {y}" for x, y in items)])
    # pgtools predicts the cleanup: the entry breaks the rule's host failure domain
    assert pgid in balance.clean_pg_upmaps(bad.apply(snap)).old_pg_upmap_items
    with pytest.raises(AssertionError, match="pg_upmap_items"):
        _apply_and_check(cluster, ceph_workdir, snap, bad, "control-cleaned")
    (d,) = cluster.query(("osd", "dump"))
    assert _items(d) == _norm(snap.osdmap.pg_upmap_items)  # the mon dropped it
    refused = UpmapPlan({pgid: ((up[0], 99),)}, [], [], 1, cluster.release, True,
                        [f"ceph osd pg-upmap-items {pgid} {up[0]} 99"])
    with pytest.raises(AssertionError, match="osd.99 does not exist"):
        _apply_and_check(cluster, ceph_workdir, snap, refused, "control-refused")
