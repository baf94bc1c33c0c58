"""`pgtools balance` and `pgtools upmaps` through the entry point (in-process: pgtools.cli.main)."""

from __future__ import annotations

import json
import shutil

import pytest

import pgtools
from pgtools.balance import clean_pg_upmaps, drain, mgr_balancer, osdmaptool_upmap, pin_remapped
from pgtools.cli import main
from pgtools.placement import map_pgs
from tests.paths import SAMPLE_DUMPS

MIXED = SAMPLE_DUMPS / "mixed"


def run(capsys, *args):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("capture", ["mixed", "seedlike_max300", "mixed_tentacle"])
def test_like_mgr_commands_are_osdmaptools_lines(capsys, capture):
    rc, out, err = run(capsys, "balance", SAMPLE_DUMPS / capture, "--like-mgr", "--no-aggressive", "--format",
                       "commands")
    assert rc == 0, err
    snap = pgtools.load(SAMPLE_DUMPS / capture)
    ids = sorted(snap.pools["pool_id"].astype(int))
    want = osdmaptool_upmap(snap, upmap_max=10, upmap_deviation=5, pool_order=ids).commands
    assert out.splitlines() == want and want


def test_balance_json_and_table(capsys):
    rc, out, err = run(capsys, "balance", MIXED, "--like-mgr", "--max-deviation", "1", "--max-moves", "40",
                       "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    assert {"summary", "osds", "plan", "rounds", "mode", "like_mgr", "settings"} <= set(doc)
    assert doc["settings"]["upmap_max_deviation"] == 1 and doc["settings"]["upmap_max_deviation_source"] == "argument"
    snap = pgtools.load(MIXED)
    plan = mgr_balancer(snap, max_deviation=1, max_optimizations=40)
    assert doc["plan"]["commands"] == plan.commands
    assert sorted(c for r in doc["rounds"] for c in r["commands"]) == sorted(plan.commands)
    assert all(r["misplaced_ratio"] <= doc["summary"]["max_misplaced_ratio"] for r in doc["rounds"])
    row = doc["osds"][0]
    assert {"osd_id", "target", "pgs_before", "pgs_after", "pgs_peak", "util_before", "util_after", "util_peak"} <= set(row)
    assert sum(r["pgs_before"] for r in doc["osds"]) == sum(r["pgs_after"] for r in doc["osds"])
    rc, out, err = run(capsys, "balance", MIXED, "--like-mgr", "--max-deviation", "1", "--max-moves", "40")
    assert rc == 0, err
    assert "upmap commands: " in out and "max deviation" in out and "rounds: " in out
    assert all(c in out for c in plan.commands)


@pytest.mark.parametrize("mode", ["count", "capacity"])
def test_pgtools_balancers_from_the_command_line(capsys, mode):
    """--mode count|capacity run pgtools' own balancers: the commands are the plan's, and applied they leave
    nothing for Ceph's cleanup."""
    rc, out, err = run(capsys, "balance", MIXED, "--mode", mode, "--format", "commands")
    assert rc == 0, err
    snap = pgtools.load(MIXED)
    plan = pgtools.balance.plan(snap, mode)
    assert out.splitlines() == plan.commands and plan.commands
    assert not clean_pg_upmaps(plan.apply(snap)).commands
    rc, out, err = run(capsys, "balance", MIXED, "--mode", mode, "--format", "json")
    doc = json.loads(out)
    assert doc["mode"] == mode and not doc["like_mgr"] and doc["plan"]["commands"] == plan.commands


@pytest.mark.parametrize("args,message", [
    (["balance", MIXED, "--like-mgr", "--pool", "nope"], "no pool 'nope'"),
    (["upmaps", MIXED, "--drain", "osd.99"], "osd.99 is not in the osdmap"),
    (["upmaps", MIXED, "--clean", "--drain", "osd.1"], "exactly one of"),
    (["balance", MIXED, "--mode", "capacity", "--like-mgr"], "--like-mgr goes with --mode count"),
    (["balance", MIXED, "--no-aggressive"], "it goes with --like-mgr"),
    (["balance", MIXED, "--mode", "capacity", "--max-deviation", "2"], "goes with --mode count"),
    (["balance", MIXED, "--like-mgr", "--search-budget", "5"], "--search-budget is pgtools' count balancer's"),
    (["balance", MIXED, "--mode", "capacity", "--search-budget", "5"], "it goes with --mode count"),
])
def test_bad_input_is_one_line_exit_2(capsys, args, message):
    rc, out, err = run(capsys, *args)
    assert rc == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_balance_modes_not_built_yet_say_so(capsys):
    rc, out, err = run(capsys, "balance", MIXED, "--mode", "primary", "--format", "commands")
    # wired at merge: until then one clear error, never a silent fallback
    assert (rc == 2 and "not available" in err and out == "") or (rc == 0 and err == "")


def test_upmaps_drain(capsys):
    rc, out, err = run(capsys, "upmaps", MIXED, "--drain", "osd.0", "--max-moves-per-osd", "2", "--format", "commands")
    assert rc == 0, err
    snap = pgtools.load(MIXED)
    plan = drain(snap, ["osd.0"], max_moves_per_osd=2)
    assert out.splitlines() == plan.commands and len(plan.commands) == 2
    rc, out, err = run(capsys, "upmaps", MIXED, "--drain", "osd.0", "--format", "json")
    doc = json.loads(out)
    assert next(r for r in doc["osds"] if r["osd_id"] == 0)["pgs_after"] == 0


def test_upmaps_clean_nothing_on_a_clean_capture(capsys):
    rc, out, err = run(capsys, "upmaps", MIXED, "--clean")
    assert rc == 0 and "nothing to do" in out
    rc, out, _ = run(capsys, "upmaps", MIXED, "--clean", "--format", "commands")
    assert rc == 0 and out == ""


def _remapped_capture(tmp_path):
    """The mixed capture mid-backfill: the mgr's upmaps set, the PGs still on their old acting sets (pg_temp)."""
    snap = pgtools.load(MIXED)
    plan = mgr_balancer(snap, max_deviation=1, max_optimizations=30)
    before = map_pgs(snap)
    after = map_pgs(plan.apply(snap))
    temp = {g: list(a) for g, a, u in zip(before["pgid"], before["acting"], after["up"], strict=True)
            if tuple(a) != tuple(u)}
    dest = tmp_path / "remapped"
    shutil.copytree(MIXED, dest)
    for f in ("osdmap.bin", "crushmap.bin"):  # the binary maps would disagree with the edited dump
        (dest / f).unlink()
    dump = json.loads((dest / "osd_dump.json").read_text())
    items = plan.apply(snap).osdmap.pg_upmap_items
    dump["pg_upmap_items"] = [{"pgid": g, "mappings": [{"from": a, "to": b} for a, b in v]} for g, v in items.items()]
    dump["pg_temp"] = [{"pgid": g, "osds": v} for g, v in temp.items()]
    (dest / "osd_dump.json").write_text(json.dumps(dump))
    for f in ("pg_dump.json.gz", "pg_dump.txt"):  # left out: its up sets would be the old ones
        (dest / f).unlink()
    return dest, temp


def test_upmaps_pin_remapped(capsys, tmp_path):
    capture, temp = _remapped_capture(tmp_path)
    rc, out, err = run(capsys, "upmaps", capture, "--pin-remapped", "--format", "commands")
    assert rc == 0, err
    snap = pgtools.load(capture)
    pins = pin_remapped(snap)
    assert out.splitlines() == pins.commands and 0 < len(pins.commands) <= len(temp)
    pinned = pins.apply(snap)
    m = map_pgs(pinned)
    assert all(sorted(u) == sorted(a) for u, a in zip(m["up"], m["acting"], strict=True))
    assert clean_pg_upmaps(pinned).commands == []
    rc, out, err = run(capsys, "upmaps", capture, "--pin-remapped", "--format", "json")
    doc = json.loads(out)
    released = [c for r in doc["release_rounds"] for c in r["commands"]]
    assert len(released) == len(pins.commands)
    assert all(r["misplaced_ratio"] <= 0.05 for r in doc["release_rounds"])
    rc, out, err = run(capsys, "upmaps", capture, "--pin-remapped")
    assert rc == 0 and "release later" in out


def test_primary_mode_prints_read_scores_and_needs_reef(capsys):
    """--mode primary: Ceph's read balance score per pool before/after; a Pacific capture needs --release."""
    rc, out, err = run(capsys, "balance", SAMPLE_DUMPS / "mixed_tentacle", "--mode", "primary")
    assert rc == 0, err
    assert "read balance score rbd: 1.83 -> 1.40 (optimal 0.89)" in out
    rc, out, err = run(capsys, "balance", MIXED, "--mode", "primary")
    assert rc == 2 and "--release reef" in err and out == ""
    rc, out, err = run(capsys, "balance", MIXED, "--mode", "primary", "--release", "reef", "--format", "json")
    assert rc == 0, err
    doc = json.loads(out)
    scores = {r["pool"]: r for r in doc["read_balance"]}
    assert float(scores["fast"]["after"]) < float(scores["fast"]["before"])
    assert all(c.startswith("ceph osd pg-upmap-primary ") for c in doc["plan"]["commands"])


def test_balance_compare_side_by_side(capsys):
    """--compare: pgtools' count plan and the mgr's, each row measured on the capture with that plan applied;
    the count run on the mixed capture says why ±1 is out of reach (stderr)."""
    rc, out, err = run(capsys, "balance", MIXED, "--compare", "--format", "json")
    assert rc == 0, err
    assert "pgtools: warning: ±1 is impossible for pool ec42" in err
    rows = {r["plan"]: r for r in json.loads(out)["compare"]}
    snap = pgtools.load(MIXED)
    ours, mgr = pgtools.balance.plan(snap, "count"), mgr_balancer(snap)
    for label, p in (("pgtools count", ours), ("mgr (--like-mgr)", mgr)):
        r = rows[label]
        dev = pgtools.balance.count_deviation(p.apply(snap))
        assert r["commands"] == len(p.commands) > 0 and r["items_after"] == dev["items"]
        assert r["pool_dev_after"] == round(dev["max_dev"], 2) and r["pgs_moved"] > 0 and r["rounds"] >= 1
    assert rows["pgtools count"]["osd_dev_after"] < rows["mgr (--like-mgr)"]["osd_dev_after"]
    rc, out, err = run(capsys, "balance", MIXED, "--compare", "--max-moves", "2")
    assert rc == 0 and "pgtools count" in out and "mgr (--like-mgr)" in out and "bytes_moved" in out
    rc, out, err = run(capsys, "balance", MIXED, "--compare", "--format", "commands")
    assert rc == 2 and out == "" and "--compare shows two plans" in err
    rc, out, err = run(capsys, "balance", MIXED, "--compare", "--mode", "primary")
    assert rc == 2 and out == "" and "--compare measures PG counts" in err


def test_like_mgr_says_when_its_plan_is_one_of_many(capsys):
    """Ceph's default osd_calc_pg_upmaps_aggressively=true makes the mgr shuffle: the plan is one seeded run
    (exact=False, a warning); --no-aggressive or the capture's config saying false gives the exact run."""
    snap = pgtools.load(MIXED)
    assert not mgr_balancer(snap).exact and mgr_balancer(snap, aggressive=False).exact
    rc, out, err = run(capsys, "balance", MIXED, "--like-mgr", "--format", "json")
    doc = json.loads(out)
    assert doc["settings"]["osd_calc_pg_upmaps_aggressively"] is True
    assert doc["settings"]["osd_calc_pg_upmaps_aggressively_source"] == "default"
    assert "pgtools: warning: this is one run of the mgr's balancer" in err
    off = snap.replace(config={**snap.config, "osd_calc_pg_upmaps_aggressively": "false"})
    assert mgr_balancer(off).exact and mgr_balancer(off).commands == mgr_balancer(snap, aggressive=False).commands
    # a budget used up with several pools: the mgr's pool shuffle decides, so not exact either
    assert not mgr_balancer(snap, aggressive=False, max_optimizations=2).exact



@pytest.mark.parametrize("cmd", [["balance"], ["upmaps", "--clean"]])
def test_capture_that_cannot_be_mapped_is_the_only_line(capsys, cmd):
    """No CRUSH map or osd dump: the one error says what to add, with no release guess printed before it."""
    assert main([cmd[0], str(SAMPLE_DUMPS / "seedlike_max300" / "osd_tree.txt"), *cmd[1:]]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.splitlines() == [out.err.strip()]
    assert out.err.startswith("pgtools: error: balancing needs the CRUSH map and the osd dump")


def test_json_carries_the_bound_where_one_pg_is_impossible(capsys):
    """mixed: ±1 is impossible; the JSON says so with the proven minimum and what the plan achieved."""
    from pgtools.balance import balance_count

    assert main(["balance", str(SAMPLE_DUMPS / "mixed"), "--format", "json"]) == 0
    bound = json.loads(capsys.readouterr().out)["bound"]
    with pytest.warns(Warning):
        want = balance_count(pgtools.load(SAMPLE_DUMPS / "mixed")).summary["bound"]
    assert bound["feasible"] is False and bound["min_deviation"] == pytest.approx(want["min_deviation"])
    assert bound["achieved"] == pytest.approx(want["achieved"]) and len(bound["reasons"]) == 2
    assert main(["balance", str(SAMPLE_DUMPS / "seedlike_max300"), "--format", "json"]) == 0
    assert "bound" not in json.loads(capsys.readouterr().out)


def test_search_budget_from_the_command_line(capsys):
    """``--search-budget 0``: the chains stop at once, a warning says so, the plan is the library's with the same
    budget (and still valid); without it, no such warning."""
    snap = pgtools.load(MIXED)
    rc, out, err = run(capsys, "balance", MIXED, "--search-budget", "0", "--format", "commands")
    assert rc == 0 and "stopped at its budget of 0 checks" in err and "--search-budget" in err
    with pytest.warns(pgtools.errors.PgtoolsWarning):
        want = pgtools.balance.plan(snap, "count", search_budget=0)
    assert out.splitlines() == want.commands
    assert not clean_pg_upmaps(want.apply(snap)).commands
    rc, out, err = run(capsys, "balance", MIXED, "--format", "commands")
    assert rc == 0 and "budget" not in err


def test_already_within_the_deviation_says_the_plan_only_removes_entries(capsys):
    """A deviation every OSD already meets: the plan drops the upmap entries balance does not need, and says
    that this is all it does (their PGs move back)."""
    snap = pgtools.load(MIXED)
    rc, out, err = run(capsys, "balance", MIXED, "--max-deviation", "99999", "--format", "commands")
    n = len(snap.osdmap.pg_upmap_items)
    assert rc == 0 and n and out.splitlines() and all(c.startswith("ceph osd rm-pg-upmap-items") for c in out.splitlines())
    assert "already within ±99999" in err and f"only removes {len(out.splitlines())} upmap entr" in err


def test_release_the_capture_cannot_run_is_said(capsys):
    """A Jewel capture has no upmaps (Luminous+); a plan for another release than the capture's says so, and
    pg-upmap-primary on a Pacific capture says its cluster has no such command; the capture's own release:
    no such warning.  Releases the balancer does not model are one error."""
    from tests.paths import PUBLIC

    rc, out, err = run(capsys, "balance", PUBLIC / "01_jewel_ceph_report_python_crush.txt", "--release", "pacific",
                       "--format", "commands")
    assert rc == 0 and out and "capture is from Jewel: upmap commands need Luminous" in err
    rc, out, err = run(capsys, "balance", MIXED, "--mode", "primary", "--release", "reef", "--format", "commands")
    assert rc == 0 and out and "from Pacific but the plan follows Reef" in err and "no pg-upmap-primary" in err
    rc, out, err = run(capsys, "balance", MIXED, "--release", "pacific", "--format", "commands")
    assert rc == 0 and "capture is from" not in err
    for name in ("squid", "nonsense"):
        rc, out, err = run(capsys, "balance", MIXED, "--release", name)
        assert rc == 2 and out == "" and "modelled for pacific, reef, tentacle" in err


def test_table_says_what_the_balanced_pools_and_capacity_gain(capsys):
    """``--pool``: the balanced pools' own deviations beside the all-pools figure; capacity mode: MAX AVAIL per
    pool before and after (table and JSON, the plan's figures); ``--max-moves`` that stops the plan early warns."""
    snap = pgtools.load(MIXED)
    rc, out, err = run(capsys, "balance", MIXED, "--pool", "ec42")
    plan = pgtools.balance.plan(snap, "count", pools=["ec42"])
    s = plan.summary
    assert rc == 0 and (f"balanced pools (ec42): worst deviation in one pool {s['max_dev_before']:.2f} -> "
                        f"{s['max_dev_after']:.2f}") in out and "PGs per OSD (all pools)" in out
    rc, out, err = run(capsys, "balance", MIXED, "--mode", "capacity", "--format", "json")
    doc = json.loads(out)
    cap = pgtools.balance.plan(snap, "capacity").pools.set_index("pool")
    assert {r["pool"] for r in doc["max_avail"]} == set(cap.index)
    for r in doc["max_avail"]:
        assert r["before"] == cap.at[r["pool"], "max_avail_before"] and r["after"] >= r["before"]
    rc, out, err = run(capsys, "balance", MIXED, "--mode", "capacity")
    assert rc == 0 and out.count("MAX AVAIL ") == len(cap)
    rc, out, err = run(capsys, "balance", MIXED, "--max-moves", "1")
    assert rc == 0 and "stops at its limit of 1 PG move(s)" in err
