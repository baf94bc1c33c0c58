"""Upmap hygiene, pins, drains, the mgr's upmap run and plans as what-ifs (pgtools.balance).

Validity is checked with Ceph's own rules as pgtools reproduces them bit-exactly (``clean_pg_upmaps`` is
oracle-tested against ``osdmaptool --upmap-cleanup`` in tests/oracle/test_upmap_balancer.py): every plan,
applied, leaves nothing for ``clean_pg_upmaps`` to clean and nothing the mon refuses.
"""

from __future__ import annotations

import dataclasses

import pytest

import pgtools
from pgtools.balance import (
    clean_pg_upmaps,
    clean_upmaps,
    drain,
    mgr_balancer,
    mgr_settings,
    order_rounds,
    osdmaptool_upmap,
    pin_remapped,
    plan,
    simulate_plan,
    unpin,
    upmap_issues,
)
from pgtools.balance.drain import drain_osds
from pgtools.balance.hygiene import desired_items
from pgtools.balance.whatif import check_refusals, moves
from pgtools.errors import PgtoolsError, UnknownPoolError, UnsupportedFeatureError
from pgtools.placement import map_pgs
from pgtools.simulate import AddUpmapItems, CrushWeight
from pgtools.simulate.refusals import refusal
from tests.paths import SAMPLE_DUMPS

CAPTURES = ["mixed", "seedlike_max300", "mixed_tentacle"]


@pytest.fixture(scope="module")
def snaps():
    return {c: pgtools.load(SAMPLE_DUMPS / c) for c in CAPTURES}


def _ec_pools(snap):
    return set(snap.pools.loc[snap.pools["type"].astype(str).str.startswith("erasure") |
                              (snap.pools.get("type_id", 0) == 3), "pool_id"].astype(int))


def _up_is_acting(snap):
    """PGs whose up set is not their acting set (as a set for replicated pools, positions for EC)."""
    m = map_pgs(snap)
    ec = _ec_pools(snap)
    return [g for g, p, u, a in zip(m["pgid"], m["pool_id"], m["up"], m["acting"], strict=True)
            if (tuple(u) != tuple(a) if int(p) in ec else sorted(u) != sorted(a))]


def _valid(before, plan_):
    """The plan applied: nothing for Ceph to clean, nothing the mon refuses (every entry through the mon's
    checks when the plan is small, else through check_refusals' quick look)."""
    if len(plan_.new_pg_upmap_items) <= 60:
        for pgid, items in plan_.new_pg_upmap_items.items():
            assert refusal(before, AddUpmapItems(pgid, tuple(items))) is None, pgid
    check_refusals(before, plan_)
    after = plan_.apply(before)
    assert clean_pg_upmaps(after).commands == []
    return after


def remapped(snap, *, upmap_plan=None, change=None):
    """``snap`` mid-backfill: the change applied, the acting sets still the old ones (pg_temp)."""
    before = map_pgs(snap)
    new = upmap_plan.apply(snap) if upmap_plan is not None else change.apply(snap)
    after = map_pgs(new)
    temp = {g: tuple(a) for g, a, u in zip(before["pgid"], before["acting"], after["up"], strict=True)
            if tuple(a) != tuple(u)}
    assert temp
    return new.replace(osdmap=new.osdmap.replace(pg_temp=temp))


# ------------------------------------------------------------------------------------------ hygiene
def test_clean_upmaps_finds_redundant_entries(snaps):
    snap = snaps["mixed"]
    m = map_pgs(snap).set_index("pgid")
    a, b, c = m.at["1.5", "raw"]
    d, e, _ = m.at["1.6", "raw"]
    free = next(o for o in (0, 1, 3, 4, 6, 7, 8, 9, 10, 11) if o not in m.at["1.7", "raw"])
    f = m.at["1.7", "raw"][0]
    items = dict(snap.osdmap.pg_upmap_items)
    items["1.5"] = ((a, b),)  # target already in the set: does nothing
    items["1.6"] = ((d, e), (e, d))  # a swap Ceph cannot apply
    items["1.7"] = ((f, free), (f, free))  # a duplicate pair
    items["1.8"] = ((m.at["1.8", "raw"][0], 5),)  # osd.5 is out: Ceph's cleanup drops it
    s = snap.replace(osdmap=snap.osdmap.replace(pg_upmap_items=items))
    issues = upmap_issues(s).set_index("pgid")
    assert issues.at["1.8", "reason"] == "Ceph's clean_pg_upmaps cancels it"
    assert issues.at["1.5", "action"] == "rm" and issues.at["1.6", "action"] == "rm"
    assert issues.at["1.7", "action"] == "set" and issues.at["1.7", "new_items"] == ((f, free),)
    assert "duplicate pair" in issues.at["1.7", "reason"]
    assert set(issues.index) == {"1.5", "1.6", "1.7", "1.8"}  # the capture's own three entries do something
    p = clean_upmaps(s)
    assert p.commands == ["ceph osd rm-pg-upmap-items 1.5", "ceph osd rm-pg-upmap-items 1.6",
                          "ceph osd rm-pg-upmap-items 1.8", f"ceph osd pg-upmap-items 1.7 {f} {free}"]
    after = _valid(s, p)
    # nothing moves, and nothing is left to remove
    assert list(map_pgs(after)["up"]) == list(map_pgs(s)["up"])
    assert upmap_issues(after).empty


@pytest.mark.parametrize("capture", CAPTURES)
def test_clean_upmaps_leaves_sample_captures_alone(snaps, capture):
    assert clean_upmaps(snaps[capture]).commands == []


def test_desired_items_orders_ec_chains():
    # position 1: 3 -> 1, position 2: 8 -> 3: the pair freeing osd.3 must come first
    assert desired_items([7, 3, 8], [7, 1, 3], True) == ((3, 1), (8, 3))
    assert desired_items([1, 2, 3], [1, 4, 3], False) == ((2, 4),)


# ------------------------------------------------------------------------------------------ pins
@pytest.mark.parametrize("capture,how", [("mixed", "weight"), ("mixed_tentacle", "weight"), ("mixed_tentacle", "mgr"),
                                         ("seedlike_max300", "mgr")])
def test_pin_remapped_makes_up_equal_acting(snaps, capture, how):
    snap = snaps[capture]
    if how == "mgr":
        s = remapped(snap, upmap_plan=mgr_balancer(snap, max_deviation=1, max_optimizations=40))
    else:
        s = remapped(snap, change=CrushWeight(2, 0.3))
    assert _up_is_acting(s)
    pins = pin_remapped(s)
    assert pins.skipped.empty and pins.commands
    pinned = _valid(s, pins)
    assert _up_is_acting(pinned) == []
    # release: every entry back as it was, in rounds under the misplaced budget
    back = unpin(s, pins)
    assert back.apply(pinned).osdmap.pg_upmap_items == s.osdmap.pg_upmap_items
    calm = pinned.replace(osdmap=pinned.osdmap.replace(pg_temp={}))
    rs = order_rounds(calm, back)
    assert sum(len(p.commands) for p in rs.plans) == len(back.commands)
    assert all(r <= rs.max_misplaced for r in rs.misplaced_ratio) or rs.over_budget


def test_pin_skips_what_ceph_would_reject(snaps):
    snap = snaps["mixed"]
    m = map_pgs(snap).set_index("pgid")
    up = m.at["1.4", "up"]
    # an acting set with two OSDs of one host (osd.0 and osd.1 are both on n1): no upmap can hold it
    same_host = tuple(o for o in (0, 1)) + tuple(o for o in up if o not in (0, 1))[:1]
    s = snap.replace(osdmap=snap.osdmap.replace(pg_temp={"1.4": same_host}))
    pins = pin_remapped(s)
    assert pins.commands == [] and list(pins.skipped["pgid"]) == ["1.4"]


# ------------------------------------------------------------------------------------------ drains
@pytest.fixture(scope="module")
def seed_drain(snaps):
    return drain(snaps["seedlike_max300"], ["osd.1"])


@pytest.mark.parametrize("capture,what", [("mixed", ["osd.0"]), ("mixed", ["n2"]), ("mixed_tentacle", ["osd.1"]),
                                          ("seedlike_max300", ["osd.1"])])
def test_drain_empties_the_osds_evenly(snaps, seed_drain, capture, what):
    snap = snaps[capture]
    p = seed_drain if capture == "seedlike_max300" else drain(snap, what)
    if what == ["n2"]:
        # ec42 (4+2, one shard per host) needs all six hosts: its PGs cannot leave n2, and are reported
        assert len(p.skipped) == 16 and p.skipped["pgid"].str.startswith("6.").all()
        assert p.skipped["reason"].str.contains("failure domains").all()
    else:
        assert p.skipped.empty
    after = _valid(snap, p)
    m = map_pgs(after)
    gone = set(drain_osds(snap, what))
    assert {g for g, u in zip(m["pgid"], m["up"], strict=True) if gone & set(u)} == set(p.skipped["pgid"])
    if capture == "seedlike_max300" and what == ["osd.1"]:
        # equal weights: the other OSDs end within one PG of each other
        counts = m["up"].explode().value_counts()
        assert counts.max() - counts.min() <= 1


def test_drain_caps_moves_per_osd(snaps):
    snap = snaps["seedlike_max300"]
    p = drain(snap, ["osd.3", "osd.7"], max_moves_per_osd=3)
    pairs = [pr for items in p.new_pg_upmap_items.values() for pr in items]
    assert sum(a == 3 for a, _ in pairs) == 3 and sum(a == 7 for a, _ in pairs) == 3
    assert max(sum(b == t for _, b in pairs) for t in {b for _, b in pairs}) <= 3
    assert len(p.skipped) > 0 and p.skipped["reason"].str.contains("max_moves_per_osd").all()
    _valid(snap, p)
    # one OSD or host given alone (a str, an int) is that item, not an iterable of characters
    assert drain(snap, "osd.3", max_moves_per_osd=2).commands == drain(snap, ["osd.3"], max_moves_per_osd=2).commands
    assert drain(snap, 3, max_moves_per_osd=2).commands == drain(snap, [3], max_moves_per_osd=2).commands


def test_drain_bad_input(snaps):
    with pytest.raises(PgtoolsError, match="osd.99 is not in the osdmap"):
        drain(snaps["mixed"], ["osd.99"])
    with pytest.raises(PgtoolsError, match="neither an OSD"):
        drain(snaps["mixed"], ["nowhere"])
    with pytest.raises(UnknownPoolError):
        drain(snaps["mixed"], ["osd.0"], pools=["nope"])


# ------------------------------------------------------------------------------------------ the mgr, modes
@pytest.mark.parametrize("capture", CAPTURES)
def test_mgr_balancer_is_calc_pg_upmaps_pool_by_pool(snaps, capture):
    snap = snaps[capture]
    got = mgr_balancer(snap, aggressive=False)  # deterministic: osdmaptool_upmap below is too
    ids = sorted(snap.pools["pool_id"].astype(int))
    # osdmaptool --upmap does the same loop (after a cleanup that finds nothing on these captures)
    assert got.commands == osdmaptool_upmap(snap, upmap_max=10, upmap_deviation=5, pool_order=ids).commands
    assert got.commands
    _valid(snap, got)


def test_mgr_settings_and_active_clean_cap(snaps):
    snap = snaps["mixed"]
    st = mgr_settings(snap)
    assert (st.max_deviation, st.max_deviation_source, st.max_optimizations) == (5, "default", 10)
    cfg = snap.replace(config={**snap.config, "mgr/balancer/upmap_max_deviation": "1"})
    assert mgr_settings(cfg).max_deviation == 1 and mgr_settings(cfg).max_deviation_source == "config dump"
    assert len(mgr_balancer(cfg, max_optimizations=100).commands) > len(mgr_balancer(snap).commands)
    # no active+clean PG anywhere: the mgr plans nothing
    busy = snap.replace(pgs=snap.pgs.assign(state="active+clean+scrubbing"))
    assert mgr_balancer(busy).commands == []
    with pytest.raises(PgtoolsError, match="not a non-negative integer"):
        mgr_settings(snap.replace(config={"mgr/balancer/upmap_max_deviation": "lots"}))


def test_plan_dispatch(snaps):
    snap = snaps["mixed"]
    assert plan(snap, "count", like_mgr=True).commands == mgr_balancer(snap).commands
    with pytest.raises(PgtoolsError, match="--like-mgr goes with --mode count"):
        plan(snap, "capacity", like_mgr=True)
    with pytest.raises(PgtoolsError, match="unknown balancer mode"):
        plan(snap, "bytes")
    for mode in ("count", "capacity", "primary"):
        try:
            plan(snap, mode)
        except UnsupportedFeatureError as e:
            assert "not available" in str(e)


# ------------------------------------------------------------------------------------------ what-ifs, rounds
def test_simulate_plan_rounds_and_movement(snaps, seed_drain):
    snap = snaps["seedlike_max300"]
    p = seed_drain
    w = simulate_plan(snap, p)
    s = w.summary
    assert s["rounds"] == len(w.rounds.plans) >= 2
    assert all(r <= s["max_misplaced_ratio"] for r in s["round_misplaced_ratio"])
    assert s["max_misplaced_ratio"] == 0.05 and "default" in s["max_misplaced_ratio_source"]
    assert s["pgs_moved"] == len(p.commands) == sum(len(r.commands) for r in w.rounds.plans)
    o = w.osds.set_index("osd_id")
    assert o.at[1, "pgs_after"] == 0 and o.at[1, "pgs_peak"] == o.at[1, "pgs_before"]
    assert (o["pgs_peak"] >= o[["pgs_before", "pgs_after"]].max(axis=1)).all()
    assert o["pgs_after"].sum() == o["pgs_before"].sum()
    # an entry the mon would refuse stops the what-if with the mon's message
    bad = dataclasses.replace(p, new_pg_upmap_items={**p.new_pg_upmap_items, "1.0": ((0, 99),)})
    with pytest.raises(PgtoolsError, match="ENOENT: osd.99 does not exist"):
        simulate_plan(snap, bad)
    # a smaller budget gives more rounds, each within it
    tight = order_rounds(snap, p, max_misplaced=0.01)
    assert len(tight.plans) > len(w.rounds.plans) and max(tight.misplaced_ratio) <= 0.01


def test_rounds_keep_osds_below_backfillfull(snaps, seed_drain):
    snap = snaps["seedlike_max300"]
    p = seed_drain
    # shrink the OSDs so that the drain's targets get close to backfillfull (0.90)
    osds = snap.osds.copy()
    osds["kb"] = osds["kb_used"] / 0.895
    small = snap.replace(osds=osds)
    rs = order_rounds(small, p, max_misplaced=1.0)
    assert len(rs.plans) > 1  # one round would put targets past backfillfull
    used = dict(zip(osds["osd_id"], osds["kb_used"] * 1024.0, strict=True))
    room = dict(zip(osds["osd_id"], osds["kb"] * 1024.0 * 0.9, strict=True))
    mv = {m.pgid: m for m in moves(small, p)[0]}
    for sub in rs.plans:
        ms = [mv[g] for g in [*sub.new_pg_upmap_items, *sub.old_pg_upmap_items]]
        peak = dict(used)
        for m in ms:
            for o, b in m.into:
                peak[o] += b
        if not set(g.pgid for g in ms) & set(rs.over_backfillfull):
            assert all(peak[o] <= room[o] + 1e-6 for o in peak if o not in {1})
        for m in ms:
            for o, b in m.into:
                used[o] += b
            for o, b in m.out:
                used[o] -= b


def test_rounds_without_every_pgs_object_count_count_shards(snaps, seed_drain):
    """A PG table cut short (half the PGs): a PG missing from it is not an empty PG, so the misplaced budget
    counts PG shards (a warning says so) and the summary says how many changed PGs have no size."""
    snap = snaps["seedlike_max300"]
    cut = snap.replace(pgs=snap.pgs.iloc[: len(snap.pgs) // 2].reset_index(drop=True))
    with pytest.warns(pgtools.errors.PgtoolsWarning, match="counts PG shards instead of objects"):
        ms, total = moves(cut, seed_drain)
    assert total == int((snap.pools["pg_num"] * snap.pools["size"]).sum())
    assert sum(m.misplaced for m in ms) == sum(m.shards for m in ms)
    with pytest.warns(pgtools.errors.PgtoolsWarning):
        w = simulate_plan(cut, seed_drain)
    lacking = {g for g in [*seed_drain.new_pg_upmap_items, *seed_drain.old_pg_upmap_items]} - set(cut.pgs["pgid"])
    assert w.summary["pgs_changed_without_stats"] == len(lacking) > 0 and w.summary["pg_table"]
    assert sum(w.summary["round_misplaced_ratio"]) == pytest.approx(sum(m.shards for m in ms) / total)
    full = simulate_plan(snap, seed_drain).summary
    assert full["pgs_changed_without_stats"] == 0


def test_one_round_says_where_its_budget_comes_from(snaps, seed_drain):
    """A plan reported as one round (``rounds=False``: cleanup) names the budget's source like a split plan."""
    snap = snaps["seedlike_max300"]
    one = simulate_plan(snap, seed_drain, rounds=False).summary
    split = simulate_plan(snap, seed_drain).summary
    assert one["rounds"] == 1 and one["max_misplaced_ratio_source"] == split["max_misplaced_ratio_source"] != ""


def test_drain_what_if_measures_against_the_cluster_without_them(snaps):
    """A drain's what-if: the drained OSDs' targets are 0 and their share goes to the others (the targets still
    sum to every PG shard), so an emptied OSD is on target rather than far below it."""
    snap = snaps["mixed"]
    p = drain(snap, "osd.6")
    w = simulate_plan(snap, p, drained=[6])
    o = w.osds.set_index("osd_id")
    plain = simulate_plan(snap, p).osds.set_index("osd_id")
    assert o.at[6, "target"] == 0 and o.at[6, "pgs_after"] == 0 and plain.at[6, "target"] > 0
    assert o["target"].sum() == pytest.approx(plain["target"].sum(), abs=0.05)
    assert w.summary["max_deviation_after"] < simulate_plan(snap, p).summary["max_deviation_after"]
