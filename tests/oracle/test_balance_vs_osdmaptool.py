"""Issue #14's count-mode target on small random maps, against Pacific 16.2.15's ``osdmaptool --upmap``.

Each map is :func:`benchmarks.osdmaps.random_map` (seeded: 12 OSDs on 4 hosts, or 100 on 10, of hdd and ssd
OSDs, equal, mildly or strongly uneven CRUSH weights by ``seed % 3``, class rules, replicated pools on each
class, an EC pool on hdd (2+1 on 4 hosts, 3+2 or 4+2 on 10), sometimes a replicated pool over both classes; its pools written into the map
``--createsimple`` made, read back by both pgtools and osdmaptool before use).  On each:

* where :func:`pgtools.balance.feasible.count_bound` proves a ``±1`` placement exists (exact model),
  :func:`~pgtools.balance.count.balance_count` reaches it: every up OSD within 1 PG of its target, per pool
  and summed over the pools;
* ``osdmaptool om --mark-up-in --upmap out.txt --upmap-deviation 1 --upmap-max 10000`` (default, aggressive
  mode: random, so the figures are those of this run), its commands applied to the same snapshot with
  pgtools and measured with pgtools' metric (:func:`~pgtools.balance.count.count_deviation`): the issue's
  target, on every map and run, is that pgtools reaches osdmaptool's own result (``balance_count`` with
  ``pool_deviation`` / ``total_deviation`` at that run's per-pool and summed max deviations) with no more
  ``pg_upmap_items`` entries; and, where osdmaptool reaches the same or a worse worst per-pool deviation than
  pgtools' own plan, that plan has no more entries than osdmaptool's.

Maps where pgtools' own plan is known to break the last claim are listed in ``KNOWN`` with pgtools' figures there
(its plan is deterministic) and osdmaptool's (it aims at each pool's own optimum, osdmaptool may stop earlier with
fewer entries); on those maps the test asserts that pgtools does no worse than those figures
(max deviation per pool and summed, entries), so that a gap can close but never widen; every other map must meet
both claims.  The gaps are issue #14's open work.
"""

from __future__ import annotations

import warnings

import pytest

import pgtools
from benchmarks.osdmaps import apply_commands, random_map
from pgtools.balance.count import balance_count, count_deviation
from pgtools.balance.feasible import count_bound
from pgtools.balance.search import Layout
from tests.ceph_release_tools import need, run

pytestmark = pytest.mark.oracle

#: (OSDs, hosts, seed) of the maps
MAPS = [(12, 4, s) for s in range(1, 9)] + [(100, 10, s) for s in range(1, 4)]
#: osdmaptool runs per map (its default mode is random: each run is compared)
RUNS = 3
#: map -> (the claim pgtools is known to break there, its figures: max deviation per pool, summed, entries; what
#: osdmaptool reaches over about 25 runs).  Reproduce: ``random_map(d, seed, osds, hosts)``.
KNOWN = {
    (12, 4, 4): ("items", (0.89, 0.99, 38), "osdmaptool 37-42 entries at 0.89-2.12 per pool: a run that stops at "
                                          "2.12 with 37 entries has fewer than pgtools' 38 at 0.89"),
    (12, 4, 8): ("items", (1.00, 0.94, 73), "osdmaptool 71-80 entries at 1.00-2.73 per pool: a run that stops at "
                                          "2.55 with 71 or 2.73 with 72 entries has fewer than pgtools' 73 at 1.00"),
    (12, 4, 2): ("items", (13.71, 17.14, 45), "strongly uneven weights, ±1 impossible (bound 17.14); osdmaptool "
                                            "43 entries at 13.71 / 17.14-17.43, every run"),
}


@pytest.mark.parametrize("case", MAPS, ids=[f"osds{n}_seed{s}" for n, _h, s in MAPS])
def test_count_mode_target(tmp_path, case: tuple[int, int, int]) -> None:
    need("pacific")
    n, hosts, seed = case
    d, _pools = random_map(tmp_path / "map", seed, n, hosts)
    snap = pgtools.load([d / "osd_dump.json", d / "crush_dump.json"])
    bound = count_bound(Layout(snap, ceph_release="pacific"), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bound's own warnings, when ±1 is out of reach
        plan = balance_count(snap, max_deviation=1, ceph_release="pacific")
    ours = count_deviation(plan.apply(snap), ceph_release="pacific")
    figures = (f"{n} OSDs seed {seed}: bound feasible={bound.feasible} min {bound.min_deviation:.2f}; pgtools max "
               f"{ours['max_dev']:.2f} total {ours['total_dev']:.2f} items {ours['items']}; osdmaptool")
    broken = []
    if bound.feasible and not (ours["max_dev"] <= 1 + 1e-9 and ours["total_dev"] <= 1 + 1e-9):
        broken.append("deviation")
    for _ in range(RUNS):
        r = run("pacific", "osdmaptool", ["om", "--mark-up-in", "--upmap", "out.txt", "--upmap-deviation", "1",
                                          "--upmap-max", "10000"], {"om": d / "om"})
        assert r.returncode == 0, r.stderr
        theirs = count_deviation(apply_commands(snap, r.files["out.txt"].decode()), ceph_release="pacific")
        figures += f" (max {theirs['max_dev']:.2f} total {theirs['total_dev']:.2f} items {theirs['items']})"
        assert theirs["items"] > 0 and ours["items"] > 0, figures  # both balanced something: the map is uneven
        if theirs["max_dev"] >= ours["max_dev"] - 1e-9 and ours["items"] > theirs["items"] and "items" not in broken:
            broken.append("items")
        # the target itself: osdmaptool's own result (its per-pool and summed deviations) with no more entries
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aim = balance_count(snap, max_deviation=1, ceph_release="pacific", pool_deviation=theirs["pool_dev"],
                                total_deviation=theirs["total_dev"])
        at = count_deviation(aim.apply(snap), ceph_release="pacific")
        figures += f" [pgtools at its deviations: items {at['items']}]"
        assert aim.summary["violation_after"] == 0 and at["items"] <= theirs["items"], figures
        assert all(at["pool_dev"][p] <= theirs["pool_dev"][p] + 1e-6 for p in theirs["pool_dev"]), figures
        assert at["total_dev"] <= theirs["total_dev"] + 1e-6, figures
    print(figures)
    if case in KNOWN:
        claim, (max_dev, total_dev, items), why = KNOWN[case]
        assert not set(broken) - {claim}, f"{broken} claim(s) broken: {figures}"
        worse = (ours["max_dev"] > max_dev + 0.005, ours["total_dev"] > total_dev + 0.005, ours["items"] > items)
        assert not any(worse), f"known gap ({claim}: {why}) widened: recorded {KNOWN[case][1]}; {figures}"
        if broken:
            print(f"known gap, not widened: {claim}: {why}")
        return
    assert not broken, f"{broken} claim(s) broken: {figures}"
