"""The count balancer's "±1 is impossible" against real Ceph: no plan of Ceph's own balancer beats the bound.

On the mixed capture of each release (Pacific 16.2.15 on the host, Reef 18.2.7 / Tentacle 20.2.4 in their
chroots) :func:`pgtools.balance.feasible.count_bound` proves ``±1`` impossible (EC 4+2 on 6 hosts, 3 racks).
Ceph's ``osdmaptool --upmap --upmap-deviation 1 --upmap-max 10000`` runs on the capture's binary osdmap (its
random default mode, three times, and the deterministic mode); its commands are written into the map
(:func:`tests.oracle._upmap_items.with_upmap_items`) and Ceph's own ``--test-map-pgs-dump`` gives the up sets.
From those: every host holds exactly 16 shards of ``ec42`` (the proof's premise) and the worst deviation of an
up OSD from its targets (per pool and summed, Ceph's ``calc_pg_upmaps`` targets) is never below the bound.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import pgtools
from pgtools.balance.count import balance_count
from pgtools.balance.feasible import count_bound
from pgtools.balance.search import Layout
from tests.ceph_release_tools import need, run
from tests.oracle._upmap_items import with_upmap_items
from tests.paths import SAMPLE_DUMPS

pytestmark = pytest.mark.oracle

_LINE = re.compile(r"^(\d+)\.([0-9a-f]+)\t\[([0-9,]*)\]\t(-?\d+)$", re.MULTILINE)
_CMD = re.compile(r"^ceph osd pg-upmap-items (\S+)((?: \d+ \d+)+)$", re.MULTILINE)
_RM = re.compile(r"^ceph osd rm-pg-upmap-items (\S+)$", re.MULTILINE)
CAPTURES = {"pacific": "mixed", "reef": "mixed_reef", "tentacle": "mixed_tentacle"}


def _tool(release: str, om: bytes, args: list[str]):
    r = run(release, "osdmaptool", ["om", *args], {"om": om}, timeout=300)
    assert r.returncode == 0, f"{release} osdmaptool {' '.join(args)}: {r.stderr.strip()[-400:]}"
    return r


def _ceph_counts(release: str, om: bytes, items: dict) -> dict[int, np.ndarray]:
    """Per pool, PGs per OSD in Ceph's own up sets of ``om`` with ``items`` as its pg_upmap_items."""
    dump = _tool(release, with_upmap_items(om, items), ["--test-map-pgs-dump"]).stdout
    out: dict[int, np.ndarray] = {}
    for p, _ps, s, _ in _LINE.findall(dump):
        c = out.setdefault(int(p), np.zeros(64, dtype=np.int64))
        for x in s.split(","):
            if x and int(x) != 0x7FFFFFFF:
                c[int(x)] += 1
    return out


@pytest.mark.parametrize("release", list(CAPTURES))
def test_no_ceph_plan_beats_the_bound(release: str) -> None:
    need(release)
    cap = SAMPLE_DUMPS / CAPTURES[release]
    om = (cap / "osdmap.bin").read_bytes()
    snap = pgtools.load(cap)
    lay = Layout(snap, ceph_release=release)
    bound = count_bound(lay, 1)
    assert bound.feasible is False and bound.exact
    ec42 = next(pl for pl in lay.pools.values() if pl.name == "ec42")
    host = {o: lay.work.topology.parent_of_type(o, 1, ec42.rule) for o in range(lay.n)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = balance_count(snap, max_deviation=1, ceph_release=release)
    plans = [["--upmap", "out.txt", "--upmap-deviation", "1", "--upmap-max", "10000"]] * 3
    plans.append([*plans[0], "--osd_calc_pg_upmaps_aggressively=false"])
    results = [ours.apply(snap).osdmap.pg_upmap_items]
    for args in plans:
        text = _tool(release, om, args).files["out.txt"].decode()
        items = dict(snap.osdmap.pg_upmap_items)
        for pg in _RM.findall(text):
            items.pop(pg, None)
        for pg, pairs in _CMD.findall(text):
            v = [int(x) for x in pairs.split()]
            items[pg] = tuple(zip(v[::2], v[1::2], strict=True))
        results.append(items)
    up = lay.is_up
    for items in results:
        counts = _ceph_counts(release, om, {pg: [tuple(p) for p in v] for pg, v in items.items()})
        shards: dict[int, int] = {}
        for o, c in enumerate(counts[ec42.pool_id][: lay.n].tolist()):
            if c:
                shards[host[o]] = shards.get(host[o], 0) + c
        assert set(shards.values()) == {len(ec42.cur)} and len(shards) == ec42.size == 6
        worst = 0.0
        total = np.zeros(lay.n)
        total_t = np.zeros(lay.n)
        for pid, pl in lay.pools.items():
            c = counts[pid][: lay.n]
            worst = max(worst, float(np.abs(c - pl.target)[up & pl.eligible].max()))
            total += c
            total_t += pl.target
        worst = max(worst, float(np.abs(total - total_t)[up].max()))
        print(f"{release}: worst {worst:.2f} >= bound {bound.min_deviation:.2f}")
        assert worst >= bound.min_deviation - 1e-6, (worst, bound.min_deviation)
