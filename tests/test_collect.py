"""pgtools collect: read-only commands only, failures recorded, the bundle loads."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap

import pytest

import pgtools
from pgtools.collect import COMMANDS, Command, assert_read_only, collect
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
    for call in calls:
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


def test_collect_without_ceph_reports_and_exits_1(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pgtools", "collect", "-o", str(tmp_path / "x"),
                        "--ceph", str(tmp_path / "nope")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "0/15 commands succeeded" in r.stderr
