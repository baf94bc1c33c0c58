"""Issue #14's count-mode target on small random maps, against Pacific 16.2.15's ``osdmaptool --upmap``.

Each map is :func:`benchmarks.osdmaps.random_map` (seeded: 12 OSDs on 4 hosts, or 100 on 10, of hdd and ssd
OSDs, equal, mildly or strongly uneven CRUSH weights by ``seed % 3``, class rules, replicated pools on each
class, an EC pool on hdd (2+1 on 4 hosts, 3+2 or 4+2 on 10), sometimes a replicated pool over both classes; its
pools written into the map ``--createsimple`` made, read back by both pgtools and osdmaptool before use).  On
each:

* where :func:`pgtools.balance.feasible.count_bound` proves a ``±1`` placement exists (exact model),
  :func:`~pgtools.balance.count.balance_count` reaches it: every up OSD within 1 PG of its target, per pool
  and summed over the pools;
* ``osdmaptool om --mark-up-in --upmap out.txt --upmap-deviation 1 --upmap-max 10000`` runs three times
  (default, aggressive mode: random), its commands applied to the same snapshot with pgtools and measured with
  pgtools' metric (:func:`~pgtools.balance.count.count_deviation`).  The issue's target, on every map and run:
  pgtools reaches osdmaptool's own result (``balance_count`` with ``pool_deviation`` / ``total_deviation`` at
  that run's per-pool and summed max deviations: every pool and the totals within them) with no more
  ``pg_upmap_items`` entries than osdmaptool;
* pgtools' own plan (``±1``, or each pool's proven optimum where ``±1`` is impossible) is deterministic: its
  max deviation per pool and summed and its entries are pinned in ``OWN`` and may not get worse.  It is not
  compared with the random runs' entries: it aims at each pool's optimum, where a run of osdmaptool may stop
  earlier (at a worse deviation in some pool) with fewer entries; the figures of both are printed.
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
#: map -> pgtools' own plan: worst per-pool deviation, worst summed deviation, entries (no worse allowed).
#: Reproduce: ``random_map(d, seed, osds, hosts)``; osdmaptool's runs, for comparison, in the test's output.
OWN = {
    (12, 4, 1): (0.91, 0.88, 36), (12, 4, 2): (13.71, 17.14, 45), (12, 4, 3): (1.00, 1.00, 25),
    (12, 4, 4): (0.89, 0.99, 38), (12, 4, 5): (4.36, 4.36, 38), (12, 4, 6): (1.00, 1.00, 35),
    (12, 4, 7): (0.89, 0.58, 54), (12, 4, 8): (1.00, 0.94, 73),
    (100, 10, 1): (0.80, 0.88, 189), (100, 10, 2): (0.94, 0.76, 262), (100, 10, 3): (1.00, 1.00, 229),
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
    if bound.feasible:
        assert ours["max_dev"] <= 1 + 1e-9 and ours["total_dev"] <= 1 + 1e-9, figures
    pin = OWN[case]
    assert (ours["max_dev"] <= pin[0] + 0.005 and ours["total_dev"] <= pin[1] + 0.005
            and ours["items"] <= pin[2]), f"pgtools' own plan got worse than {pin}: {figures}"
    for _ in range(RUNS):
        r = run("pacific", "osdmaptool", ["om", "--mark-up-in", "--upmap", "out.txt", "--upmap-deviation", "1",
                                          "--upmap-max", "10000"], {"om": d / "om"})
        assert r.returncode == 0, r.stderr
        theirs = count_deviation(apply_commands(snap, r.files["out.txt"].decode()), ceph_release="pacific")
        figures += f" (max {theirs['max_dev']:.2f} total {theirs['total_dev']:.2f} items {theirs['items']})"
        assert theirs["items"] > 0 and ours["items"] > 0, figures  # both balanced something: the map is uneven
        # the target: osdmaptool's own result (its per-pool and summed deviations) with no more entries
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
