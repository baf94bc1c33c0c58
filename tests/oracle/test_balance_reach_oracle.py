"""The count balancer reaches the proven bound in real Ceph's own placement, on each release's mixed capture.

``±1`` is impossible on the mixed capture (EC 4+2 on 6 hosts, 3 racks; :func:`pgtools.balance.feasible.count_bound`
proves it and computes the smallest max deviation).  pgtools' plan (``balance_count(..., max_deviation=1)``) is
written into the capture's binary osdmap (:func:`tests.oracle._upmap_items.with_upmap_items`); the release's own
``osdmaptool`` (Pacific 16.2.15 on the host, Reef 18.2.7 / Tentacle 20.2.4 in their chroots) must find nothing
to clean (``--upmap-cleanup``: ``OSDMap::clean_pg_upmaps``), and its ``--test-map-pgs-dump`` up sets must put
the worst up OSD (per pool and summed over the pools, Ceph's ``calc_pg_upmaps`` targets) exactly at the bound,
every pool within the deviation the bound aims it at, the totals within theirs.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pgtools
from pgtools.balance.count import balance_count
from pgtools.balance.feasible import count_bound
from pgtools.balance.search import Layout
from tests.ceph_release_tools import need
from tests.oracle._upmap_items import with_upmap_items
from tests.oracle.test_balance_bound_oracle import CAPTURES, _ceph_counts, _tool
from tests.paths import SAMPLE_DUMPS

pytestmark = pytest.mark.oracle


@pytest.mark.parametrize("release", list(CAPTURES))
def test_plan_reaches_the_bound_in_ceph(release: str) -> None:
    need(release)
    cap = SAMPLE_DUMPS / CAPTURES[release]
    om = (cap / "osdmap.bin").read_bytes()
    snap = pgtools.load(cap)
    lay = Layout(snap, ceph_release=release)
    bound = count_bound(lay, 1)
    assert bound.feasible is False and bound.exact
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = balance_count(snap, max_deviation=1, ceph_release=release)
    assert plan.summary["bound"]["reached"]
    items = {pg: [tuple(p) for p in v] for pg, v in plan.apply(snap).osdmap.pg_upmap_items.items()}
    cleanup = _tool(release, with_upmap_items(om, items), ["--upmap-cleanup", "out.txt"]).files["out.txt"]
    assert cleanup == b"", f"{release}: osdmaptool --upmap-cleanup would change:\n{cleanup.decode()}"
    counts = _ceph_counts(release, om, items)
    up = lay.is_up
    worst = 0.0
    total, total_t, elig = np.zeros(lay.n), np.zeros(lay.n), np.zeros(lay.n, dtype=bool)
    for pid, pl in lay.pools.items():
        d = counts.get(pid, np.zeros(lay.n))[: lay.n] - pl.target
        pool_worst = max(float(d[up].max()), float((-d)[up & pl.eligible].max()))
        assert pool_worst <= bound.pool_deviation[pid] + 1e-6, (release, pl.name, pool_worst)
        worst = max(worst, pool_worst)
        total += counts.get(pid, np.zeros(lay.n))[: lay.n]
        total_t += pl.target
        elig |= pl.eligible
    d = total - total_t
    tot_worst = max(float(d[up].max()), float((-d)[up & elig].max()))
    assert tot_worst <= bound.total_deviation + 1e-6, (release, tot_worst)
    print(f"{release}: Ceph's up sets with pgtools' plan: worst {max(worst, tot_worst):.4f} (summed "
          f"{tot_worst:.2f}), bound {bound.min_deviation:.4f}, {len(plan.commands)} commands")
    assert max(worst, tot_worst) == pytest.approx(bound.min_deviation, abs=1e-6)
