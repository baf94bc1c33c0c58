"""What-ifs stop at the monitor's refusals, and an absurd pg_num is refused before anything is built."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

import pgtools
from pgtools.errors import PgtoolsWarning
from pgtools.mgr.options import with_overrides
from pgtools.simulate import (
    AddUpmapItems,
    CreatePool,
    MarkOut,
    Reweight,
    SetPgNum,
    SetPgpNum,
    SetPoolSize,
    simulate,
)
from pgtools.simulate.refusals import refusal
from tests.paths import SAMPLE_DUMPS

CAPTURE = SAMPLE_DUMPS / "seedlike_max300"
RANGE_MSG = ("'pg_num' must be greater than 0 and less than or equal to 65536 "
             "(you may adjust 'mon max pool pg num' for higher values)")


@pytest.fixture(scope="module")
def seed():
    return pgtools.load(CAPTURE)


@pytest.fixture(scope="module")
def roomy(seed):
    return with_overrides(seed, {"mon_max_pg_per_osd": 1000})


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgtools", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def test_refused_pg_num_stops_the_stepwise_plan():
    r = run("whatif", CAPTURE, "--pg-num", "rbd=256", "--stepwise")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "step 1: set pool rbd pg_num 256\n" in out and "step 2" not in out  # was 23 steps
    assert ("REFUSED by the monitor (ERANGE): pool id 1 pg_num 256 size 3 would mean 6144 total pgs, which "
            "exceeds max 3600 (mon_max_pg_per_osd 300 * num_in_osds 12)") in out
    assert "to be accepted: raise mon_max_pg_per_osd to 512 (now 300, config dump)" in out
    assert "commands (not executed)" not in out and "\n  ceph osd pool set rbd pg_num 256" not in out
    assert "no command for step 1 or later" in out
    assert "pgtools: warning: step 1 (set pool rbd pg_num 256) would be refused by the monitor" in r.stderr


def test_refusal_json_contract():
    r = run("whatif", CAPTURE, "--out", "3", "--pg-num", "rbd=256", "--change", "rm-upmap:1.0", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    ref = doc["refused"]
    assert ref["step"] == 2 and ref["error"] == "ERANGE" and ref["command"] == "ceph osd pool set rbd pg_num 256"
    assert ref["message"].startswith("pool id 1 pg_num 256 size 3 would mean")
    assert "raise mon_max_pg_per_osd to" in ref["remedy"]
    assert [s["refused"] for s in doc["steps"]] == [None, None, ref] and doc["final"]["refused"] == ref
    # the refused step changes nothing: the pool keeps pg_num 128 and no PG moves
    assert doc["steps"][2]["pools"]["1"] == {"pg_num": 128, "pgp_num": 128} and doc["steps"][2]["pgs_moved"] == 0


def test_earlier_commands_kept_later_changes_dropped(seed):
    with pytest.warns(PgtoolsWarning, match=r"1 later change\(s\) not simulated"):
        plan = simulate(seed, [MarkOut(3), SetPgNum("rbd", 256), MarkOut(4)])
    assert len(plan.steps) == 3 and plan.refused.step == 2
    assert plan.commands == ["ceph osd out 3"]
    assert plan.steps["refused"].tolist()[:2] == ["", ""] and plan.steps["refused"][2].startswith("ERANGE: pool id 1")


@pytest.mark.parametrize("stepwise", [[], ["--stepwise"]])
def test_absurd_pg_num_is_refused_at_once(stepwise):
    t0 = time.monotonic()
    r = run("whatif", CAPTURE, "--pg-num", "rbd=99999999", *stepwise, "--format", "json", timeout=60)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 60
    doc = json.loads(r.stdout)
    assert doc["refused"]["message"] == RANGE_MSG and doc["refused"]["error"] == "ERANGE"
    assert "raise mon_max_pool_pg_num to 99999999 or more (now 65536, pacific default)" in doc["refused"]["remedy"]
    assert len(doc["steps"]) == 2


def test_pg_num_bounds_follow_the_resolved_option(roomy):
    for n in (0, -5, 65537):
        ref = refusal(roomy, SetPgNum("rbd", n))
        assert (ref.error, ref.message) == ("ERANGE", RANGE_MSG)
    assert refusal(roomy, SetPgNum("rbd", 1024)) is None
    low = with_overrides(roomy, {"mon_max_pool_pg_num": 512})
    ref = refusal(low, SetPgNum("rbd", 1024))
    assert ref.message.startswith("'pg_num' must be greater than 0 and less than or equal to 512 ")
    assert "mon_max_pool_pg_num to 1024 or more (now 512, argument)" in ref.remedy
    assert refusal(roomy, SetPgNum("rbd", 128)) is None  # unchanged: a no-op, never refused
    # the limit comes from the capture's config dump through the same resolver
    cfg = roomy.replace(config={**roomy.config, "mon_max_pool_pg_num": "200"})
    assert "less than or equal to 200 " in refusal(cfg, SetPgNum("rbd", 256)).message


def test_pgp_num_and_pool_flags(roomy):
    ref = refusal(roomy, SetPgpNum("rbd", 512))
    assert (ref.error, ref.message) == ("EINVAL", "specified pgp_num 512 > pg_num 128")
    assert refusal(roomy, SetPgpNum("rbd", 0)).message == "specified pgp_num must > 0, but you set to 0"
    assert refusal(roomy, SetPgpNum("rbd", 64)) is None
    pools = roomy.pools.copy()
    pools["flags_names"] = pools["flags_names"].astype(str) + ",nopgchange"
    ref = refusal(roomy.replace(pools=pools), SetPgNum("rbd", 64))
    assert ref.error == "EPERM" and "unset nopgchange" in ref.message
    pools = roomy.pools.copy()
    pools["pg_num_min"] = 100
    assert refusal(roomy.replace(pools=pools), SetPgNum("rbd", 64)).message == "specified pg_num 64 < pg_num_min 100"


def test_pool_size_and_create_pool(seed, roomy):
    ref = refusal(seed, SetPoolSize("rbd", 4))
    assert ref.code == "POOL_PG_NUM_REFUSED" and ref.message.startswith("pool id 1 pg_num 128 size 4 would mean")
    assert refusal(roomy, SetPoolSize("rbd", 4)) is None
    assert refusal(roomy, SetPoolSize("rbd", 11)).message == "pool size must be between 1 and 10"
    ref = refusal(seed, CreatePool("new", 32))
    assert ref.message.startswith(" pg_num 32 size 3 would mean") and ref.error == "ERANGE"
    assert refusal(roomy, CreatePool("new", 70000)).message == RANGE_MSG


def test_upmap_refusals_as_the_monitor_gives_them(seed):
    ref = refusal(seed, AddUpmapItems("1.fff", ((0, 1),)))
    assert (ref.error, ref.message) == ("ENOENT", "pgid '1.fff' does not exist")
    assert "pool 1 has pg_num 128" in ref.remedy
    assert refusal(seed, AddUpmapItems("99.0", ((0, 1),))).message == "pgid '99.0' does not exist"
    ref = refusal(seed, AddUpmapItems("1.0", ((0, 99),)))
    assert (ref.error, ref.message) == ("ENOENT", "osd.99 does not exist")
    assert refusal(seed, AddUpmapItems("1.0", ((77, 1),))).message == "osd.77 does not exist"
    ref = refusal(seed, AddUpmapItems("1.0", ((2, 2),)))
    assert (ref.error, ref.message) == ("EINVAL", "from osd.2 == to osd.2, no valid upmap items(pairs) is specified")
    ref = refusal(seed, AddUpmapItems("1.0", ((0, 1), (2, 3), (4, 5), (6, 7))))
    assert ref.message == "num of osd pairs (4) > pool size (3)"
    assert refusal(seed, AddUpmapItems("1.0", ((0, 1),))) is None
    assert refusal(seed, Reweight(42, 0.5)).message == "osd.42 does not exist"


def test_upmap_to_missing_osd_stops_the_cli_plan():
    r = run("whatif", CAPTURE, "--change", "upmap:1.0=0:99", "--change", "upmap:1.1=0:1")
    assert r.returncode == 0, r.stderr
    assert "REFUSED by the monitor (ENOENT): osd.99 does not exist" in r.stdout
    assert "ceph osd pg-upmap-items" not in r.stdout.split("no command for step 1")[0].split("step 1:")[1]
    assert "step 2" not in r.stdout


def test_stepwise_split_respects_mgr_max_pg_num_change(roomy):
    plan = simulate(roomy, [SetPgNum("rbd", 512)], stepwise=True, checks=False)
    p = plan.pools[plan.pools["pool_id"] == 1]
    assert p["pg_num"].iloc[1] == 256 and ((p["pg_num"] - p["pgp_num"]) <= 128).all()
    assert p[["pg_num", "pgp_num"]].iloc[-1].tolist() == [512, 512]
    assert plan.refused is None and plan.commands == ["ceph osd pool set rbd pg_num 512"]


def test_map_pg_num_bounded_like_the_mon():
    r = run("map", CAPTURE, "--pool", "1", "--pg-num", "99999999", timeout=60)
    assert r.returncode == 2 and not r.stdout
    assert "mon_max_pool_pg_num 65536 (pacific default)" in r.stderr


def test_changes_themselves_refuse_an_impossible_pg_num(seed):
    from pgtools.errors import PgtoolsError

    t0 = time.monotonic()
    for change in (SetPgNum("rbd", 99999999), SetPgNum("rbd", 0), CreatePool("huge", 10**8)):
        with pytest.raises(PgtoolsError, match="less than or equal to 65536"):
            change.apply(seed)
    assert time.monotonic() - t0 < 5
