"""Upmap plans (drain, pins, cleanup, the mgr's run) against the real ``osdmaptool`` of each release.

Each plan is written into the capture's binary osdmap (``pg_upmap_items`` replaced, see
:func:`with_upmap_items`); the release's own osdmaptool then reads it: ``--upmap-cleanup`` must find nothing
to clean (Ceph's ``clean_pg_upmaps``: every entry valid for the rule, failure domain and device class, and
every pair used), and ``--test-map-pgs-dump`` must give the up sets pgtools predicted for every PG.
"""

from __future__ import annotations

import re

import pytest

import pgtools
from pgtools.balance import clean_upmaps, drain, mgr_balancer, pin_remapped
from pgtools.model import split_pgid
from pgtools.placement import map_pgs
from tests.ceph_release_tools import need, run
from tests.oracle._upmap_items import with_upmap_items
from tests.paths import SAMPLE_DUMPS

pytestmark = pytest.mark.oracle


_DUMP = re.compile(r"^(\d+\.[0-9a-f]+)\t\[([\d,]*)\]\t(-?\d+)$")


def _check(release: str, om: bytes, snap, plan, want_up: dict | None = None) -> int:
    """The plan written into ``om``: the release's osdmaptool cleans nothing and maps every PG as pgtools does
    (and, for the PGs of ``want_up``, to those sets: the acting sets pins aim at; replicated: as sets)."""
    after = plan.apply(snap)
    binary = with_upmap_items(om, after.osdmap.pg_upmap_items)
    r = run(release, "osdmaptool", ["om", "--upmap-cleanup", "out.txt"], {"om": binary})
    assert r.returncode == 0, r.stderr
    assert r.files["out.txt"] == b"", r.files["out.txt"].decode()[:500]
    r = run(release, "osdmaptool", ["om", "--test-map-pgs-dump"], {"om": binary})
    assert r.returncode == 0, r.stderr
    real = {m.group(1): tuple(int(x) for x in m.group(2).split(",") if x)
            for m in map(_DUMP.match, r.stdout.splitlines()) if m}
    ours = map_pgs(after.replace(osdmap=after.osdmap.replace(pg_temp={}, primary_temp={})), release=release)
    want = {g: tuple(int(o) for o in u) for g, u in zip(ours["pgid"], ours["up"], strict=True)}
    assert real == want
    ec = set(snap.pools.loc[snap.pools["type"].astype(str).str.startswith("erasure"), "pool_id"].astype(int))
    for g, up in (want_up or {}).items():
        assert (real[g] == tuple(up)) if split_pgid(g)[0] in ec else sorted(real[g]) == sorted(up), g
    return len(plan.commands)


CASES = [("pacific", "mixed"), ("reef", "mixed"), ("tentacle", "mixed_tentacle")]


@pytest.mark.parametrize("release,capture", CASES)
def test_plans_pass_the_real_osdmaptool(release, capture):
    need(release)
    snap = pgtools.load(SAMPLE_DUMPS / capture)
    om = (SAMPLE_DUMPS / capture / "osdmap.bin").read_bytes()
    kw = {"ceph_release": release}
    n = 0
    # a drain of one OSD and of a host (what cannot move is reported, not emitted)
    n += _check(release, om, snap, drain(snap, ["osd.0"], **kw))
    n += _check(release, om, snap, drain(snap, ["n3"], max_moves_per_osd=4, **kw))
    # the mgr's own run, then the pins of the backfill it starts (acting = the old up sets, as pg_temp)
    mgr = mgr_balancer(snap, max_deviation=1, max_optimizations=30, **kw)
    n += _check(release, om, snap, mgr)
    moved = mgr.apply(snap)
    before, now = map_pgs(snap), map_pgs(moved)
    temp = {g: tuple(a) for g, a, u in zip(before["pgid"], before["acting"], now["up"], strict=True)
            if tuple(a) != tuple(u)}
    mid = moved.replace(osdmap=moved.osdmap.replace(pg_temp=temp))
    pins = pin_remapped(mid, **kw)
    assert pins.commands and pins.skipped.empty
    real_up = _check(release, with_upmap_items(om, moved.osdmap.pg_upmap_items), mid, pins, want_up=temp)
    n += real_up
    # redundant entries: a pair whose target is already in the set, a swap Ceph cannot apply
    m = map_pgs(snap).set_index("pgid")
    rbd = snap.pool_id("rbd")
    g1, g2 = f"{rbd}.5", f"{rbd}.6"
    raw1, raw2 = m.at[g1, "raw"], m.at[g2, "raw"]
    messy = snap.replace(osdmap=snap.osdmap.replace(pg_upmap_items={**snap.osdmap.pg_upmap_items,
                                                                     g1: ((raw1[0], raw1[1]),),
                                                                     g2: ((raw2[0], raw2[1]), (raw2[1], raw2[0]))}))
    cl = clean_upmaps(messy, **kw)
    assert {g1, g2} <= set(cl.old_pg_upmap_items)
    n += _check(release, with_upmap_items(om, messy.osdmap.pg_upmap_items), messy, cl)
    assert n > 40
    # the control: an entry putting two copies on one host is what the real cleanup reports
    osds = snap.osds.set_index("osd_id")
    mate = next(o for o in osds.index for k in raw1[1:] if o not in raw1 and osds.at[o, "host"] == osds.at[k, "host"]
                and osds.at[o, "device_class"] == osds.at[k, "device_class"] and osds.at[o, "reweight"] > 0)
    bad = with_upmap_items(om, {**snap.osdmap.pg_upmap_items, g1: ((raw1[0], int(mate)),)})
    r = run(release, "osdmaptool", ["om", "--upmap-cleanup", "out.txt"], {"om": bad})
    assert r.files["out.txt"].decode() == f"ceph osd rm-pg-upmap-items {g1}\n"
