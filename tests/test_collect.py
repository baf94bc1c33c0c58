"""pgtools collect: read-only commands only, failures recorded, the bundle loads."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
import time

import pytest

import pgtools
from pgtools.io.collect import COMMANDS, ClusterUnreachableError, Command, assert_read_only, collect
from tests.paths import REAL

FILES = {
    ("osd", "dump", "-f", "json"): "osd_dump.json",
    ("pg", "dump", "-f", "json"): "pg_dump.json",
    ("pg", "dump"): "pg_dump.txt",
    ("osd", "df", "tree", "-f", "json"): "osd_df_tree.json",
    ("osd", "df", "tree"): "osd_df_tree.txt",
    ("osd", "tree", "-f", "json"): "osd_tree.json",
    ("osd", "crush", "dump", "-f", "json"): "crush_dump.json",
    ("osd", "pool", "ls", "detail", "-f", "json"): "osd_pool_ls_detail.json",
    ("df", "detail", "-f", "json"): "df_detail.json",
    ("health", "detail", "-f", "json"): "health_detail.json",
    ("versions", "-f", "json"): "versions.json",
}


@pytest.fixture()
def fake_ceph(tmp_path):
    """A `ceph` that serves the shared capture, fails autoscale-status, and logs every argv."""
    log = tmp_path / "calls.log"
    files = {" ".join(k): str(REAL / v) for k, v in FILES.items()}
    script = tmp_path / "ceph"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, shutil, sys
        args = sys.argv[1:]
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps(args) + "\\n")
        if args[:1] == ["--connect-timeout"]:
            args = args[2:]
        if args[:1] == ["status"]:
            print(json.dumps({{"health": {{"status": "HEALTH_WARN"}}}}))
            sys.exit(0)
        files = {files!r}
        if args[:2] == ["osd", "getmap"] or args[:2] == ["osd", "getcrushmap"]:
            src = {str(REAL)!r} + ("/osdmap.bin" if args[1] == "getmap" else "/crushmap.bin")
            shutil.copy(src, args[args.index("-o") + 1])
            sys.exit(0)
        if args[:2] == ["config", "dump"]:
            print(json.dumps([{{"section": "global", "name": "mon_max_pg_per_osd", "value": "300"}},
                              {{"section": "mgr", "name": "mgr/dashboard/secret", "value": "hunter2"}}]))
            sys.exit(0)
        key = " ".join(args)
        if key in files:
            sys.stdout.write(open(files[key]).read())
            sys.exit(0)
        sys.stderr.write("Error EINVAL: unknown command\\n")
        sys.exit(22)
        """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, log


def test_commands_are_read_only():
    assert_read_only()
    with pytest.raises(ValueError):
        assert_read_only((Command("x", ("osd", "pool", "set", "rbd", "pg_num", "64")),))
    with pytest.raises(ValueError):
        assert_read_only((Command("x", ("osd", "out", "3")),))


def test_collect_writes_a_loadable_bundle(tmp_path, fake_ceph):
    script, log = fake_ceph
    seen = []
    res = collect(tmp_path / "bundle", ceph=str(script), progress=lambda i, n, c, r: seen.append((i, n)))
    assert seen[-1] == (len(COMMANDS), len(COMMANDS))
    assert [r["file"] for r in res.failed] == ["autoscale_status.json"]
    assert res.failed[0]["status"] == 22 and "EINVAL" in res.failed[0]["stderr"]
    assert res.consistent and res.epoch_before == 101
    calls = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    allowed = {c.args for c in COMMANDS} | {("osd", "dump", "-f", "json")}
    assert calls[0][:1] == ("--connect-timeout",) and calls[0][2:] == ("status", "-f", "json")
    for call in calls[1:]:
        base = call[: call.index("-o")] if "-o" in call else call
        assert base in allowed
    config = json.loads((tmp_path / "bundle" / "config_dump.json").read_text())
    assert [c["name"] for c in config] == ["mon_max_pg_per_osd"]  # the secret was not written
    snap = pgtools.load(tmp_path / "bundle")
    assert len(snap.pgs) == 1920 and len(snap.pools) == 15


def test_collect_tar_and_cli(tmp_path, fake_ceph):
    script, _ = fake_ceph
    r = subprocess.run([sys.executable, "-m", "pgtools", "collect", "-o", str(tmp_path / "b.tar.gz"), "--tar",
                        "--ceph", str(script)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "14/15 commands succeeded" in r.stderr
    assert (tmp_path / "b.tar.gz").exists() and not (tmp_path / "b").exists()
    snap = pgtools.load(tmp_path / "b.tar.gz")
    assert len(snap.pgs) == 1920


def test_collect_without_ceph_is_one_clear_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pgtools", "collect", "-o", str(tmp_path / "x"),
                        "--ceph", str(tmp_path / "nope")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("pgtools: error:")]
    assert len(errors) == 1 and "command not found" in errors[0]
    assert not (tmp_path / "x").exists()


def _sleeping_ceph(tmp_path, *, status_ok: bool):
    """A `ceph` that hangs (60 s) on every command, or answers `status` and hangs on the rest."""
    script = tmp_path / ("ceph_ok" if status_ok else "ceph_hang")
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, time
        if {status_ok!r} and "status" in sys.argv[1:]:
            print("{{}}")
            sys.exit(0)
        time.sleep(60)
        """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_unreachable_monitors_fail_fast_with_one_error(tmp_path):
    """The ceph CLI ignoring --connect-timeout (it sleeps): the check still ends within its timeout + 5 s."""
    script = _sleeping_ceph(tmp_path, status_ok=False)
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "pgtools", "collect", "-o", str(tmp_path / "x"), "--ceph", str(script),
                        "--connect-timeout", "1"], capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - t0
    assert r.returncode == 2, r.stderr
    assert elapsed < 20
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("pgtools: error:")]
    assert len(errors) == 1 and "cannot reach the cluster" in errors[0] and "--connect-timeout 1 status" in errors[0]
    assert "collect: checking the connection" in r.stderr
    assert not (tmp_path / "x").exists()


def test_each_command_is_killed_after_timeout(tmp_path):
    script = _sleeping_ceph(tmp_path, status_ok=True)
    started, done = [], []
    t0 = time.monotonic()
    res = collect(tmp_path / "b", ceph=str(script), timeout=0.3, on_start=lambda i, n, c: started.append(i),
                  progress=lambda i, n, c, r: done.append(r["status"]))
    assert time.monotonic() - t0 < 40
    assert started == list(range(len(COMMANDS) + 1))
    assert done == [124] * len(COMMANDS)
    assert all("timed out after 0.3 s" in r["stderr"] for r in res.records)
    with pytest.raises(ClusterUnreachableError):
        collect(tmp_path / "c", ceph=str(_sleeping_ceph(tmp_path, status_ok=False)), connect_timeout=0.5)


def test_collect_cli_progress_lines_and_old_out_spelling(tmp_path, fake_ceph):
    script, _ = fake_ceph
    r = subprocess.run([sys.executable, "-m", "pgtools", "collect", "--out", str(tmp_path / "b"),
                        "--ceph", str(script), "--timeout", "30"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("collect: [")]
    assert len([ln for ln in lines if "failed" not in ln]) == len(COMMANDS)
    assert f"collect: [1/{len(COMMANDS)}]: ceph osd dump -f json" in r.stderr
    assert "failed (22)" in r.stderr and (tmp_path / "b" / "osd_dump.json").exists()


def test_cluster_lost_mid_collection_stops_asking(tmp_path):
    """The cluster answers the first check, then hangs: one timeout, one failed re-check, the rest not run."""
    flag = tmp_path / "answered"
    script = tmp_path / "ceph_once"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import os, sys, time
        if "status" in sys.argv[1:] and not os.path.exists({str(flag)!r}):
            open({str(flag)!r}, "w").close()
            print("{{}}")
            sys.exit(0)
        time.sleep(60)
        """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    t0 = time.monotonic()
    res = collect(tmp_path / "b", ceph=str(script), timeout=0.5, connect_timeout=1)
    assert time.monotonic() - t0 < 20
    statuses = [r["status"] for r in res.records]
    assert statuses == [124] + [125] * (len(COMMANDS) - 1)
    assert "not run: the cluster stopped answering" in res.records[1]["stderr"]
    assert res.epoch_after is None and not res.consistent
    flag.unlink()
    r = subprocess.run([sys.executable, "-m", "pgtools", "collect", "-o", str(tmp_path / "c"), "--ceph", str(script),
                        "--timeout", "0.5", "--connect-timeout", "1"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.count("not run: the cluster stopped answering") == 1
    assert f"[2-{len(COMMANDS)}/{len(COMMANDS)}]" in r.stderr and "0/15 commands succeeded" in r.stderr
