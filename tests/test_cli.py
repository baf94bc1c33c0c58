"""The command line, through the real entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.paths import REAL, SAMPLE_DUMPS, TEST_DATA

CAPTURE = SAMPLE_DUMPS / "seedlike_max300"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgtools", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("pgtools ")
    for cmd in ("table", "stats", "health", "demo"):
        h = run(cmd, "--help")
        assert h.returncode == 0 and "Usage" in h.stdout


def test_table_csv_exact():
    r = run("table", CAPTURE, "--format", "csv")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "osd_id," + ",".join(str(i) for i in range(1, 16)) + ",total"
    assert len(lines) == 13
    assert lines[1] == "0,37,30,35,29,34,33,37,35,29,39,24,29,31,21,27,470"
    assert all(line.split(",")[-1] == str(sum(map(int, line.split(",")[1:-1]))) for line in lines[1:])


def test_table_text_and_markdown_and_json():
    r = run("table", REAL / "pg_dump.txt")
    assert r.returncode == 0
    assert r.stdout.splitlines()[-1].split() == ["SUM:", *["384"] * 15, "|", "5760"]
    md = run("table", REAL / "pg_dump.txt", "--format", "markdown", "--by", "acting")
    assert md.stdout.startswith("| OSD | pool 1 |")
    js = run("table", REAL / "pg_dump.txt", "--format", "json")
    import json

    doc = json.loads(js.stdout)
    assert doc["sum"]["total"] == 5760 and doc["unmapped_pgs"] == 0


def test_health_prints_the_seed_warning():
    r = run("health", CAPTURE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "HEALTH_WARN too many PGs per OSD (480 > max 300)"
    assert "[WRN] TOO_MANY_PGS: too many PGs per OSD (480 > max 300)" in r.stdout
    r2 = run("health", REAL / "pg_dump.txt", "--osd-dump", REAL / "osd_dump.json", "--release", "pacific")
    assert "480 > max 250" in r2.stdout


def test_stats():
    r = run("stats", CAPTURE)
    assert r.returncode == 0, r.stderr
    assert "stddev 11.62, expected for random placement 20.98" in r.stdout


@pytest.mark.parametrize("content", ["PG_STAT OBJECTS\n1.0 x\n", "{\"pg_map\": 3}\n", "\x00\x01binary"])
def test_bad_input_is_one_line_exit_2(tmp_path, content):
    f = tmp_path / "bad.txt"
    f.write_text(content)
    r = run("table", f)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert str(f) in r.stderr
    assert r.stdout == ""


def test_demo_writes_outputs(tmp_path):
    r = run("demo", CAPTURE, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert "too many PGs per OSD (480 > max 300)" in r.stdout
    assert (tmp_path / "out" / "table.csv").read_text().startswith("osd_id,1,2,")
    assert "<html" in (tmp_path / "out" / "report.html").read_text()


def test_map_is_byte_identical_to_osdmaptool():
    r = run("map", CAPTURE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (REAL / "osdmaptool_test_map_pgs.txt").read_text()
    r = run("map", "--osd-dump", REAL / "osd_dump.json", "--crush", REAL / "crush_dump.json", "--format", "dump-all")
    assert r.stdout == (REAL / "osdmaptool_map_all.txt").read_text()


@pytest.mark.oracle
@pytest.mark.parametrize("extra", [["--pool", "3", "--pg_num", "256"], ["--mark-out", "4"],
                                   ["--adjust-crush-weight", "5:0.5"], ["--mark-up-in", "--mark-out", "2"],
                                   ["--mark-up-in", "--adjust-crush-weight", "5:0,7:0"]])
def test_map_options_equal_osdmaptool(extra):
    import shutil

    if not shutil.which("osdmaptool"):
        pytest.skip("osdmaptool not installed")
    ref = subprocess.run(["osdmaptool", str(REAL / "osdmap.bin"), "--test-map-pgs-dump-all", *extra],
                         capture_output=True, text=True, timeout=120)
    assert ref.returncode == 0
    ours = [a.replace("--pg_num", "--pg-num") for a in extra]
    r = run("map", CAPTURE, "--format", "dump-all", *ours)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ref.stdout


def test_map_bad_options():
    assert run("map", CAPTURE, "--adjust-crush-weight", "x").returncode == 2
    assert run("map").returncode == 2


def test_verify_clean_and_dirty(tmp_path):
    r = run("verify", CAPTURE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "all 1920 PGs match: up, acting and primaries recomputed exactly\n"
    import shutil

    for f in ("osd_dump.json", "crush_dump.json"):
        shutil.copy(REAL / f, tmp_path / f)
    text = (REAL / "pg_dump_pgs_brief.txt").read_text().splitlines()
    for i, ln in enumerate(text):
        if ln.startswith("2.1f "):
            cells = ln.split()
            cells[2] = "[11,10,9]"
            text[i] = "  ".join(cells)
    (tmp_path / "pgs.txt").write_text("\n".join(text) + "\n")
    r = run("verify", tmp_path)
    assert r.returncode == 1
    assert "1 of 1920 PGs differ" in r.stdout and "2.1f" in r.stdout
    r = run("verify", REAL / "pg_dump.txt")
    assert r.returncode == 2 and "CRUSH" in r.stderr


def test_map_object_like_ceph_osd_map():
    r = run("map-object", "--capture", CAPTURE, "--pool", "rbd", "test-object-1")
    assert r.returncode == 0, r.stderr
    # raw pg 1.74dc35e2 folds to 1.62 with pg_num 128 (ceph_algorithms.md §8, real-world check)
    assert r.stdout.startswith("osdmap e101 pool 'rbd' (1) object 'test-object-1' -> pg 1.74dc35e2 (1.62) -> up ([")


def test_autoscale_reproduces_the_capture(tmp_path):
    r = run("autoscale", CAPTURE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (REAL / "autoscale_status.txt").read_text()
    r = run("autoscale", CAPTURE, "--explain")
    assert "rbd: " in r.stdout and "autoscale mode is off" in r.stdout


def test_pgcalc():
    r = run("pgcalc", "--osds", "12", "--preset", "openstack")
    assert r.returncode == 0, r.stderr
    assert "volumes: 100 × 12 OSDs × 53% / size 3 = 212.00; nearest power of two 256" in r.stdout
    assert run("pgcalc", "--osds", "12", "--preset", "nope").returncode == 2


def test_health_explains_its_numbers():
    r = run("health", CAPTURE, "--numbers")
    assert "why: 5760 PG copies (max of Σ|up| 5760 and 1920 PGs) // 12 in OSDs = 480 > mon_max_pg_per_osd 300" in r.stdout
    assert "numbers: sum_pg_up=5760" in r.stdout
    assert "numbers:" not in run("health", CAPTURE).stdout


def test_report_command(tmp_path):
    r = run("report", CAPTURE, "-o", tmp_path / "r.html", "--title", "Seed <cluster>")
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "r.html").read_text()
    assert "Seed &lt;cluster&gt;" in html and "too many PGs per OSD (480 &gt; max 300)" in html
    assert html.count('src="data:image/png;base64,') >= 4


def test_ceph_undefined_behaviour_is_one_warning_line():
    r = run("crush-test", "--crush", TEST_DATA / "oracle" / "class_tree_osdmap.txt", "--rule", "0", "--num-rep", "2",
            "--max-x", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 3
    assert r.stderr.startswith("pgtools: warning: rule 0: host-0-0~ssd (-1005) is a class shadow tree bucket")
    assert r.stderr.count("\n") == 1
