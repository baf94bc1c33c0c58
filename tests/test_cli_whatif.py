"""`pgtools whatif` and `pgtools report --pg-num ...` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.paths import SAMPLE_DUMPS

CAPTURE = SAMPLE_DUMPS / "seedlike_max300"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgtools", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_whatif_json_contract():
    r = run("whatif", CAPTURE, "--pg-num", "rbd=64", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"steps", "final", "refused"} and doc["refused"] is None
    s0, s1 = doc["steps"]
    for step in (s0, s1):
        assert {"pools", "pgs_moved", "shards_moved", "bytes_moved", "max_pgs_per_osd", "health", "pgs"} <= set(step)
    assert s0["pools"]["1"] == {"pg_num": 128, "pgp_num": 128} and s0["pgs_moved"] == 0
    assert s1["pools"]["1"] == {"pg_num": 64, "pgp_num": 64}
    assert len(s0["pgs"]) == 1920 and len(s1["pgs"]) == 1920 - 64
    assert s0["pgs"][0].keys() == {"pgid", "up", "acting"}
    assert "too many PGs per OSD (480 > max 300)" in s0["health"]
    assert "too many PGs per OSD (464 > max 300)" in s1["health"]
    assert doc["final"] == s1
    assert s1["pgs_moved"] > 0 and s1["bytes_moved"] > 0


def test_whatif_stepwise_follows_the_mgr():
    r = run("whatif", CAPTURE, "--pg-num", "1=256", "--stepwise", "--format", "json",
            "--option", "mon_max_pg_per_osd=1000")
    assert r.returncode == 0, r.stderr
    steps = json.loads(r.stdout)["steps"]
    pgp = [s["pools"]["1"]["pgp_num"] for s in steps]
    pg = [s["pools"]["1"]["pg_num"] for s in steps]
    assert pg[0] == 128 and pg[-1] == 256 and pgp[-1] == 256
    assert pgp == sorted(pgp) and len(steps) > 10
    # no pgp_num step exceeds the mgr's budget (2.5 % of pg_num per step, target_max_misplaced_ratio 5 %)
    assert max(b - a for a, b in zip(pgp, pgp[1:], strict=False)) <= int(256 * 0.025)


def test_whatif_failure_and_new_host_text():
    r = run("whatif", CAPTURE, "--fail", "host=node1", "--add-host", "node5:3:1.0")
    assert r.returncode == 0, r.stderr
    assert "add host node5 with 3 × 1 hdd OSDs" in r.stdout
    assert "failure of node1" in r.stdout and "degraded PGs" in r.stdout
    assert "commands (not executed):" in r.stdout and "ceph osd crush add-bucket node5 host" in r.stdout


@pytest.mark.parametrize("args", [["--pg-num", "rbd"], ["--reweight", "3=1.5"], ["--add-host", "x:y:1"],
                                  ["--out", "osd.x"], []])
def test_whatif_bad_flags(args):
    r = run("whatif", CAPTURE, *args)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_whatif_csv_and_unknown_pool():
    r = run("whatif", CAPTURE, "--crush-weight", "osd.3=0.5", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("step,change,pgs_moved")
    bad = run("whatif", CAPTURE, "--pg-num", "nosuchpool=64")
    assert bad.returncode == 2 and "nosuchpool" in bad.stderr


def test_report_with_whatif(tmp_path):
    out = tmp_path / "r.html"
    r = run("report", CAPTURE, "-o", out, "--pg-num", "rbd=64")
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert "set pool rbd pg_num 64" in html


MIXED = SAMPLE_DUMPS / "mixed"


def test_whatif_generic_changes_in_order():
    r = run("whatif", MIXED, "--format", "json", "--change", "primary-affinity:osd.0=0", "--change", "upmap:2.1=4:9",
            "--change", "pool-size:meta=3", "--change", "move-bucket:n6=default", "--change", "create-pool:newpool:32",
            "--change", "delete-pool:ec42", "--change", "rm-upmap:1.0", "--change", "add-osd:n1:1.0")
    assert r.returncode == 0, r.stderr
    steps = json.loads(r.stdout)["steps"]
    assert len(steps) == 9
    pg21 = {p["pgid"]: p["up"] for p in steps[2]["pgs"]}["2.1"]
    assert 9 in pg21 and 4 not in pg21
    last = steps[-1]
    assert "6" not in last["pools"] and any(p["pgid"].startswith("7.") for p in last["pgs"])
    assert last["pools"]["4"] == steps[0]["pools"]["4"]  # size changes keep pg_num


@pytest.mark.parametrize("spec", ["nope:1", "upmap:2.1=4>9", "pool-size:rbd", "add-osd:n1", "in:osd.x",
                                  "create-pool:x"])
def test_whatif_bad_change_specs(spec):
    r = run("whatif", MIXED, "--change", spec)
    assert r.returncode == 2 and "--change" in r.stderr and len(r.stderr.strip().splitlines()) == 1
