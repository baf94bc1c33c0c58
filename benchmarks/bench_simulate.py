"""What-if engine speed: a synthetic 1,000-OSD cluster (50 hosts × 20 OSDs, straw2, one replicated pool of
32,768 PGs, size 3) built in Python.

Timed (best of 5): placement alone (``map_pgs``, and ``map_pool_arrays`` without building the frame), one
CRUSH weight change through :func:`pgtools.simulate.simulate` (placements + movement + load + health;
``placement_s`` is the time in ``map_pool_arrays``, ``overhead_s`` the rest), cold (the input's placement
computed too) and warm (the input's placement reused, as for every what-if after the first on a loaded
snapshot), and the stepwise pg_num 32 → 4096 walk on the same OSDs (one run).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from pgtools.crush import CrushMap, Rule
from pgtools.crush.buckets import Bucket
from pgtools.model import Snapshot


def build(num_hosts: int = 50, per_host: int = 20, pg_num: int = 32768) -> Snapshot:
    """A synthetic snapshot: ``num_hosts × per_host`` OSDs of weight 1, one pool of ``pg_num`` PGs."""
    n = num_hosts * per_host
    buckets = {}
    hosts = []
    for h in range(num_hosts):
        bid = -2 - h
        items = tuple(range(h * per_host, (h + 1) * per_host))
        buckets[bid] = Bucket(bid, f"host{h}", 1, 5, 0, items, (0x10000,) * per_host, 0x10000 * per_host)
        hosts.append(bid)
    buckets[-1] = Bucket(-1, "default", 11, 5, 0, tuple(hosts), (0x10000 * per_host,) * num_hosts,
                         0x10000 * n)
    crush = CrushMap(devices={i: (f"osd.{i}", "hdd") for i in range(n)}, types={0: "osd", 1: "host", 11: "root"},
                     buckets=buckets, rules={0: Rule(0, "replicated_rule", 0, 1, 1, 10,
                                                     ((1, -1, 0), (6, 0, 1), (4, 0, 0)))},
                     max_devices=n)
    osds = pd.DataFrame({"osd_id": np.arange(n), "name": [f"osd.{i}" for i in range(n)],
                         "host": [f"host{i // per_host}" for i in range(n)], "device_class": "hdd",
                         "crush_weight": 1.0, "reweight": 1.0, "exists": True, "up": True, "in": True,
                         "primary_affinity": 1.0, "kb": 1 << 30, "kb_used": 1 << 20, "kb_avail": (1 << 30) - (1 << 20)})
    pools = pd.DataFrame([{"pool_id": 1, "pool": "rbd", "type": "replicated", "size": 3, "min_size": 2,
                           "pg_num": pg_num, "pgp_num": pg_num, "pg_num_target": pg_num,
                           "pgp_num_target": pg_num, "pg_num_pending": pg_num, "crush_rule": 0, "flags": 1,
                           "flags_names": "hashpspool"}])
    return Snapshot(pools=pools, osds=osds, crush=crush, osdmap={"max_osd": n}, config={"mon_max_pg_per_osd": "250"})


def _best(fn, repeat: int = 5, setup=None) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls of ``fn`` (``setup`` runs untimed before each) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run() -> list[dict]:
    """Timings as records (``case, seconds, ...``), each the best of 5 runs."""
    import pgtools.placement.pipeline as placement
    from pgtools.placement import map_pgs, map_pool_arrays
    from pgtools.placement.osdmap import CompiledOSDMap
    from pgtools.simulate import CrushWeight, SetPgNum, simulate

    snap = build()
    out = []
    map_pgs(snap.replace())  # warm-up (JIT compilation when numba is used)
    t_map, _ = _best(lambda: map_pgs(snap.replace()))
    out.append({"case": "map_pgs 1000 OSDs / 32768 PGs", "seconds": round(t_map, 4)})
    t_arr, _ = _best(lambda: map_pool_arrays(snap.replace()))
    out.append({"case": "map_pool_arrays (placement arrays, no frame)", "seconds": round(t_arr, 4)})

    # placement time inside simulate: every mapping (full or incremental) goes through the compiled map's
    # map_pool_arrays, whichever module calls it
    spent = [0.0]
    real = CompiledOSDMap.map_pool_arrays

    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            spent[0] += time.perf_counter() - t0

    def one(checks: bool):
        spent[0] = 0.0
        return simulate(snap.replace(), [CrushWeight(7, 0.5)], checks=checks), spent[0]

    # cold: nothing cached, both placements (input and after the change) computed; warm: the input's
    # placement comes from the reuse cache (as for every what-if after the first on a loaded snapshot)
    CompiledOSDMap.map_pool_arrays = timed
    try:
        for cache in ("cold", "warm"):
            for checks in (False, True):
                setup = placement._REUSE.clear if cache == "cold" else None
                if cache == "warm":
                    one(checks)
                t_sim, (plan, t_place) = _best(lambda c=checks: one(c), setup=setup)
                out.append({"case": f"simulate one weight change ({cache}, health checks {'on' if checks else 'off'})",
                            "seconds": round(t_sim, 4), "placement_s": round(t_place, 4),
                            "overhead_s": round(t_sim - t_place, 4),
                            "pgs_moved": int(plan.steps.loc[1, "pgs_moved"])})
    finally:
        CompiledOSDMap.map_pool_arrays = real
    out += _warm_on_ceph_maps()
    small = build(pg_num=32)
    t = time.perf_counter()
    plan = simulate(small, [SetPgNum(1, 4096)], stepwise=True)
    out.append({"case": "stepwise pg_num 32 -> 4096", "seconds": round(time.perf_counter() - t, 3),
                "steps": len(plan.steps)})
    return out


def _warm_on_ceph_maps() -> list[dict]:
    """Warm what-ifs (the input's placement already computed, as in a notebook session) on the maps
    :mod:`bench_placement` builds with Ceph's tools: 1,000 OSDs / 32,768 PGs and 10,000 OSDs / 1,048,576 PGs.
    Each change re-maps only the PGs it can reach (:mod:`pgtools.placement.incremental`); ``remapped`` says how many.
    Targets (issue #12): ≤ 0.1 s at 1k/32k, about 1 s at 10k/1M."""
    import sys
    from pathlib import Path

    import pgtools
    from pgtools.placement import incremental
    from pgtools.simulate import CrushWeight, Fail, MarkOut, Reweight, simulate
    from pgtools.simulate import state as sim_state  # the module whose remap the engine calls

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_placement import _build, have_tools, maps

    if not have_tools():
        return [{"case": "warm what-if on Ceph-built maps", "skipped": "crushtool/osdmaptool not installed"}]
    cases = [(name, n, layers, pg_num, 5 if n < 5000 else 2) for name, n, layers, pg_num, _ in maps()]
    out = []
    real = incremental.remap
    for name, n, layers, pg_num, repeat in cases:
        d = _build(name, n, layers, pg_num)
        snap = pgtools.load([d / "osd_dump.json", d / "crush_dump.json"])
        simulate(snap, [MarkOut(1)])  # the input's placement and its columns, once
        for change in (MarkOut(17), Reweight(18, 0.5), Fail("osd.19"), CrushWeight(20, 0.5)):
            seen: dict = {}

            def counting(*a, _seen=seen, **k):
                k["stats"] = _seen
                return real(*a, **k)

            sim_state.remap = counting
            try:
                t, _ = _best(lambda c=change, s=snap: simulate(s, [c]), repeat)
            finally:
                sim_state.remap = real
            out.append({"case": f"warm what-if {name}: {change.describe()}", "seconds": round(t, 3),
                        "remapped": seen.get("remapped"), "of": pg_num})
    return out


if __name__ == "__main__":  # pragma: no cover
    for rec in run():
        print(rec)
