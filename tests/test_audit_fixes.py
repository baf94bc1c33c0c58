"""Defects found by a new-user audit (issue #11): each test fails without its fix."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

import pgtools
from pgtools.errors import PgtoolsWarning
from pgtools.simulate import CreatePool, SetPoolRule, SetPoolSize, simulate
from pgtools.simulate.refusals import refusal
from tests.paths import SAMPLE_DUMPS

MIXED = SAMPLE_DUMPS / "mixed"


@pytest.fixture(scope="module")
def mixed():
    return pgtools.load(MIXED)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgtools", *args], capture_output=True, text=True, timeout=300)


def quiet_simulate(snap, changes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)
        return simulate(snap, changes)


# ------------------------------------------------------------------ 1. refusals: rules that do not exist or fit
@pytest.mark.parametrize("change, error, message", [
    (CreatePool("new", 512, 3, 99), "ENOENT", "specified rule 99 doesn't exist"),
    (CreatePool("new", 512, 3, "nosuch"), "ENOENT", "specified rule nosuch doesn't exist"),
    (CreatePool("new", 512, 3, "ec21"), "EINVAL", "crush rule ec21 is for erasure pools, not replicated ones"),
    (CreatePool("new", 64, 11, 0), "EINVAL", "pool size must be between 1 and 10"),
    (SetPoolRule("rbd", 99), "ENOENT", "crush rule 99 does not exist"),
    (SetPoolRule("rbd", "ec42"), "EINVAL", "crush rule ec42 is for erasure pools, not replicated ones"),
    (SetPoolSize("rbd", 20), "EINVAL", "pool size must be between 1 and 10"),
    (SetPoolSize("rbd", 0), "EINVAL", "pool size must be between 1 and 10"),
])
def test_monitor_refuses_missing_or_misfit_rules(mixed, change, error, message):
    r = refusal(mixed, change)
    assert r is not None and (r.error, r.message) == (error, message)
    plan = quiet_simulate(mixed, [change])
    assert plan.refused is not None and plan.commands == []


def test_rule_that_takes_the_pool_is_accepted(mixed):
    assert refusal(mixed, CreatePool("new", 64, 3, "rep_ssd")) is None
    assert refusal(mixed, SetPoolRule("rbd", "rep_ssd")) is None
    assert refusal(mixed, SetPoolRule("rbd", 2)) is None


def test_rule_size_bounds_are_checked(mixed):
    # rule ec21 takes sizes 3..3 only: a pool on it cannot grow (check_crush_rule)
    import dataclasses

    rules = dict(mixed.crush.rules)
    rules[1] = dataclasses.replace(rules[1], max_size=4)
    snap = mixed.replace(crush=dataclasses.replace(mixed.crush, rules=rules))
    r = refusal(snap, SetPoolSize("rbd", 5))
    assert r is not None and r.message == "pool size is bigger than the crush rule max size"


# ------------------------------------------------------------------ 2. commands name the rule, as Ceph takes it
def test_create_pool_command_names_the_rule(mixed):
    plan = quiet_simulate(mixed, [CreatePool("new", 512, 3, 2)])
    assert plan.commands[0] == "ceph osd pool create new 512 512 replicated rep_ssd"
    pool = plan.snapshots[-1].pools.set_index("pool").loc["new"]
    assert int(pool["crush_rule"]) == 2


def test_pool_rule_by_id_or_name_same_plan_and_command(mixed):
    by_id = quiet_simulate(mixed, [SetPoolRule("rbd", 2)])
    by_name = quiet_simulate(mixed, [SetPoolRule("rbd", "rep_ssd")])
    assert by_id.commands == by_name.commands == ["ceph osd pool set rbd crush_rule rep_ssd"]
    assert by_id.steps["pgs_moved"].tolist() == by_name.steps["pgs_moved"].tolist()
    assert by_id.steps["pgs_moved"].iloc[1] > 0


def test_cli_pool_rule_by_name():
    r = run("whatif", str(MIXED), "--change", "pool-rule:rbd=rep_ssd", "--change", "create-pool:new:64:3:rep_hdd")
    assert r.returncode == 0, r.stderr
    assert "ceph osd pool set rbd crush_rule rep_ssd" in r.stdout
    assert "ceph osd pool create new 64 64 replicated rep_hdd" in r.stdout


# ------------------------------------------------------------------ 1b. PGs CRUSH maps short are never HEALTH_OK
def step_health(plan, step: int) -> list[str]:
    h = plan.health[plan.health["step"] == step]
    return [f"{c}: {s}" for c, s in zip(h["code"], h["summary"], strict=True)]


def test_pool_size_above_what_crush_can_place_is_undersized(mixed):
    plan = quiet_simulate(mixed, [SetPoolSize("rbd", 9)])
    assert plan.refused is None
    short = int(plan.mappings[1].query("pool_id == 1")["up"].map(len).lt(9).sum())
    assert short == 64
    assert plan.steps.loc[1, "health"] != "HEALTH_OK"
    assert any(h.startswith(f"PG_DEGRADED: Degraded data redundancy: {short} pgs undersized: CRUSH maps them")
               for h in step_health(plan, 1))


def test_pgs_mapped_to_no_osd_are_inactive(mixed):
    from pgtools.simulate import MarkOut

    osds = mixed.osds
    ssd = sorted(int(o) for o in osds.loc[osds["device_class"] == "ssd", "osd_id"])
    plan = quiet_simulate(mixed, [MarkOut(o) for o in ssd])
    last = len(ssd)
    fast = plan.mappings[last].query("pool_id == 2")
    assert len(fast) and (fast["up"].map(len) == 0).all()
    found = step_health(plan, last)
    assert any(h.startswith(f"PG_AVAILABILITY: Reduced data availability: {len(fast)} pgs inactive: CRUSH maps "
                            f"them to fewer OSDs than min_size, {len(fast)} to no OSD at all") for h in found), found
    assert plan.steps.loc[0, "health"] == "HEALTH_OK"


# ------------------------------------------------------------------ 3. lost PGs stay lost; counts explained
def test_lost_pgs_are_counted_at_every_later_step(mixed):
    from pgtools.simulate import Fail

    plan = quiet_simulate(mixed, [Fail("rack=r1"), Fail("host=n3"), SetPoolSize("fast", 2)])
    f = plan.failures
    lost1 = int((f["lost"] & (f["step"] == 1)).sum())
    lost2 = int((f["lost"] & (f["step"] == 2)).sum())
    assert lost1 == 7 and lost2 > 0
    for step, n in ((1, lost1), (2, lost1 + lost2), (3, lost1 + lost2)):
        found = step_health(plan, step)
        assert any(h.startswith(f"PG_LOST: {n} PGs LOST") for h in found), (step, found)
        assert any(h.startswith("PG_AVAILABILITY") and f"{n} pgs down" in h for h in found), (step, found)


def test_cli_step_line_relates_exclusive_and_ceph_counts():
    r = run("whatif", str(MIXED), "--fail", "rack=r1")
    assert r.returncode == 0, r.stderr
    assert "51 pgs inactive = 7 lost + 44 inactive, 141 pgs degraded = 44 inactive + 97 degraded" in r.stdout
    assert "Reduced data availability: 51 pgs inactive" in r.stdout
    assert "Degraded data redundancy: 141 pgs degraded" in r.stdout


# ------------------------------------------------------------------ 4. recomputed health vs the capture's own
def cut_capture(tmp_path):
    src = SAMPLE_DUMPS / "seedlike_max300"
    for name in ("osd_dump.json", "health_detail.txt", "osd_tree.txt"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    (tmp_path / "pg_dump.txt").write_bytes((src / "pg_dump.txt").read_bytes()[:150000])
    return tmp_path


def test_health_says_when_the_capture_disagrees(tmp_path):
    d = cut_capture(tmp_path)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        snap = pgtools.load(d)
        found = pgtools.analysis.health(snap)
    assert "TOO_MANY_PGS" not in [f.code for f in found]
    msgs = [str(w.message) for w in got if issubclass(w.category, PgtoolsWarning)]
    assert any("capture's own health detail reports HEALTH_WARN TOO_MANY_PGS" in m and "480 > max 300" in m
               for m in msgs), msgs
    r = run("health", str(d))
    assert r.returncode == 0 and "pgtools: warning: the capture's own health detail reports" in r.stderr


def test_health_agreeing_with_the_capture_is_silent():
    snap = pgtools.load(SAMPLE_DUMPS / "seedlike_max300")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PgtoolsWarning)
        found = pgtools.analysis.health(snap)
    assert "TOO_MANY_PGS" in [f.code for f in found]
    with warnings.catch_warnings():  # an asked-for threshold is expected to differ: no warning
        warnings.simplefilter("error", PgtoolsWarning)
        pgtools.analysis.health(snap, mon_max_pg_per_osd=1000)


# ------------------------------------------------------------------ 5. bounded crush-test, pgcalc vs mon limit
def test_crush_test_x_outside_int32_is_one_error():
    r = run("crush-test", str(SAMPLE_DUMPS / "seedlike_max300"), "--min-x", "0", "--max-x", "100000000000")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("pgtools: error: --max-x 100000000000: crushtool reads it as a 32-bit int")


def test_crush_test_streams_in_bounded_chunks(monkeypatch):
    from pgtools.crush import crushtool_format as ctf

    snap = pgtools.load(SAMPLE_DUMPS / "seedlike_max300")
    whole = ctf.crushtool_test(snap.crush, 0, 3, 0, 999)
    monkeypatch.setattr(ctf, "CHUNK", 64)
    pieces = list(ctf.iter_crushtool_test(snap.crush, 0, 3, 0, 999))
    assert len(pieces) == 16 and "".join(pieces) == whole
    assert max(p.count("\n") for p in pieces) == 64
    assert whole.splitlines()[-1].startswith("CRUSH rule 0 x 999 [")


def test_pgcalc_says_when_a_result_is_above_mon_max_pool_pg_num():
    from pgtools.mgr.pgcalc import pgcalc

    with pytest.warns(PgtoolsWarning, match="above mon_max_pool_pg_num 65536"):
        r = pgcalc(1_000_000_000, [("big", 3, 100.0)])
    assert "the monitor refuses it" in r.loc[0, "reason"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", PgtoolsWarning)
        pgcalc(100, [("small", 3, 100.0)])


# ------------------------------------------------------------------ 6. collect checks what it wrote
@pytest.fixture()
def junk_ceph(tmp_path):
    script = tmp_path / "ceph"
    script.write_text(f"#!{sys.executable}\nimport sys\nprint('junk output', *sys.argv[1:])\n")
    script.chmod(0o755)
    return script


def test_collect_reports_unusable_outputs(tmp_path, junk_ceph):
    from pgtools.io.collect import collect

    res = collect(tmp_path / "out", ceph=str(junk_ceph), timeout=30)
    assert len(res.failed) == len(res.records) == 15
    bad = {r["file"]: r["invalid"] for r in res.records}
    assert bad["osd_dump.json"].startswith("not recognised as `ceph osd dump -f json` output")
    assert bad["osdmap.bin"] == "no output"
    r = run("collect", "--ceph", str(junk_ceph), "-o", str(tmp_path / "cli"))
    assert r.returncode == 1
    assert "wrote " in r.stderr and ": 0/15 commands succeeded" in r.stderr
    assert "exited 0 but its output osd_dump.json is not usable" in r.stderr
    assert "pgtools: warning: could not read the osdmap epoch" in r.stderr and "WARNING:" not in r.stderr


def test_collect_refuses_a_folder_that_is_not_empty(tmp_path, junk_ceph):
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    r = run("collect", "--ceph", str(junk_ceph), "-o", str(out))
    assert r.returncode == 2 and "exists and is not empty" in r.stderr and "--force" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    r = run("collect", "--ceph", str(junk_ceph), "-o", str(out), "--force")
    assert r.returncode == 1 and (out / "notes.txt").read_text() == "mine\n" and (out / "osd_dump.json").exists()


# ------------------------------------------------------------------ 7. small things a new user trips on
def test_whatif_writes_nothing_to_a_piped_stderr():
    r = run("whatif", str(MIXED), "--pg-num", "rbd=64")
    assert r.returncode == 0 and r.stderr == ""


def test_report_subtitle_is_readable(mixed):
    from pgtools.report import build_report

    html = build_report(mixed)
    assert "168 PGs in 6 pools on 14 OSDs · osdmap epoch 86 · Ceph pacific" in html
    assert "&lt;Snapshot" not in html and "<Snapshot" not in html


@pytest.mark.parametrize("args, msg", [
    (["--pg-num", "nosuch=64"], "pgtools: error: --pg-num nosuch=64: no such pool (pools: rbd (1), fast (2), "),
    (["--pgp-num", "9=64"], "pgtools: error: --pgp-num 9=64: no such pool (pools: rbd (1)"),
    (["--crush-weight", "3=-1"], "--crush-weight 3=-1.0: a CRUSH weight must be from 0 to below 65536"),
    (["--change", "pool-size:nosuch=2"], "no pool 'nosuch' (pools: rbd (1), fast (2)"),
])
def test_whatif_argument_errors_name_the_flag_and_the_choices(args, msg):
    r = run("whatif", str(MIXED), *args)
    assert r.returncode == 2 and r.stdout == "" and msg in r.stderr, r.stderr
