"""Placement speed against osdmaptool, measured in the same run.

Two maps built with Ceph's own tools (``crushtool --build`` + ``osdmaptool --createsimple --import-crush``):

* 1,000 OSDs (50 hosts × 20, straw2), one replicated pool of 32,768 PGs, size 3;
* 10,000 OSDs (20 racks × 25 hosts × 20, straw2), one pool of 1,048,576 PGs.

osdmaptool runs ``--mark-up-in --test-map-pgs --pool 1 --pg_num N``; pgtools maps the same pool from the JSON
dumps (``osdmaptool --dump json`` with the OSDs written up/in, ``crushtool --dump``) with ``map_pgs``, and both
outputs are compared (``--test-map-pgs`` statistics, byte for byte).  Per engine: ``pgtools_s`` is ``map_pgs``
(the public frame), ``arrays_s`` is :func:`pgtools.placement.map_pool_arrays` (the same placement as arrays, no
tuples), ``crush_s`` the CRUSH step alone (the rest of ``pgtools_s`` is the OSDMap pipeline and the frame).  Every available CRUSH engine is timed
(``numba`` when installed, then ``numpy``), each as a nested record; ``rss_mb`` is the process peak so far.  Set ``PGTOOLS_BENCH_SMALL=1`` to skip the
10,000-OSD case.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import osdmaps  # sibling module: benchmarks/ is on the path (run.py, or this file run as a script)

CACHE = Path(__file__).resolve().parents[1] / "out" / "bench_cache"


def _build(name: str, num_osds: int, layers: list[str], pg_num: int) -> Path:
    """The map in ``CACHE/name`` (:func:`osdmaps.simple`: ``crushtool --build``, ``--createsimple``, pool 1 of
    ``pg_num`` PGs in ``osd_dump.json``)."""
    return osdmaps.simple(CACHE / name, num_osds, layers, pg_num=pg_num)


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _case(name: str, num_osds: int, layers: list[str], pg_num: int, repeat: int) -> dict:
    import pgtools
    from pgtools.placement import map_pgs, map_pool_arrays
    from pgtools.placement.osdmaptool import render_test_map_pgs

    d = _build(name, num_osds, layers, pg_num)
    ref_args = ["osdmaptool", "om", "--mark-up-in", "--test-map-pgs", "--pool", "1", "--pg_num", str(pg_num)]
    t_ref, ref = _best(lambda: osdmaps.tool(*ref_args, cwd=d), repeat)
    t_load0 = time.perf_counter()
    snap = pgtools.load([d / "osd_dump.json", d / "crush_dump.json"])
    t_load = time.perf_counter() - t_load0
    ref = "".join(ln for ln in ref.splitlines(keepends=True) if ln != "marking all OSDs up and in\n")
    row: dict = {"case": name, "osds": num_osds, "pgs": pg_num, "osdmaptool_s": round(t_ref, 4),
                 "load_s": round(t_load, 3)}
    saved = os.environ.get("PGTOOLS_CRUSH_ENGINE")
    try:
        for engine in _engines():
            os.environ["PGTOOLS_CRUSH_ENGINE"] = engine
            snap.crush._cache.clear()  # cold: flattened map arrays rebuilt (numba: compiled code from cache)
            t_cold0 = time.perf_counter()
            map_pgs(snap, 1)
            t_cold = time.perf_counter() - t_cold0
            t_ours, frame = _best(lambda: map_pgs(snap, 1), repeat)
            t_arrays, _ = _best(lambda: map_pool_arrays(snap, 1), repeat)
            t_crush, _ = _best(_crush_step(snap), repeat)
            same = render_test_map_pgs(snap, mode="stats", pool=1) == ref
            if engine == "numba":  # the parallel kernel on 1 and on every core
                import numba

                cores = numba.config.NUMBA_NUM_THREADS
                for threads in sorted({1, cores}):
                    numba.set_num_threads(threads)
                    try:
                        t_thr, _ = _best(_crush_step(snap), repeat)
                    finally:
                        numba.set_num_threads(cores)
                    row[f"crush_s_{threads}_threads"] = round(t_thr, 4)
                    row[f"crush_ratio_{threads}_threads"] = round(t_thr / t_ref, 2)
            row[engine] = {"pgtools_s": round(t_ours, 4), "pgtools_cold_s": round(t_cold, 4),
                           "arrays_s": round(t_arrays, 4), "crush_s": round(t_crush, 4),
                           "ratio": round(t_ours / t_ref, 2), "identical_stats": same,
                           "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                           "rows": len(frame)}
    finally:
        if saved is None:
            os.environ.pop("PGTOOLS_CRUSH_ENGINE", None)
        else:
            os.environ["PGTOOLS_CRUSH_ENGINE"] = saved
    return row


def _crush_step(snap):
    """A callable running the CRUSH step alone for every PG of pool 1 (``CompiledOSDMap._crush_map``)."""
    from pgtools.placement import compile_snapshot, map_pool_arrays

    c = compile_snapshot(snap)
    pool = c.pools[1]
    pps = map_pool_arrays(snap, 1)[0].pps
    rule = c._find_rule(pool)
    return lambda: c._crush_map(rule, pool, pps)


def _engines() -> list[str]:
    """CRUSH engines to time: numba first (when installed; its RSS figure is then not inflated by NumPy)."""
    from pgtools.crush.vector import have_numba

    return (["numba"] if have_numba() else []) + ["numpy"]


def maps() -> list[tuple[str, int, list[str], int, int]]:
    """The benchmark maps ``(name, OSDs, crushtool --build layers, pg_num, repeats)``; the 10,000-OSD one is
    left out with ``PGTOOLS_BENCH_SMALL=1``.  Every benchmark against Ceph's tools uses these."""
    out = [("osds1k_pgs32k", 1000, ["host", "straw2", "20", "root", "straw2", "0"], 32768, 5)]
    if not os.environ.get("PGTOOLS_BENCH_SMALL"):
        out.append(("osds10k_pgs1m", 10000, ["host", "straw2", "20", "rack", "straw2", "25", "root", "straw2", "0"],
                    1 << 20, 1))
    return out


def have_tools() -> bool:
    return bool(shutil.which("crushtool") and shutil.which("osdmaptool"))


def run() -> list[dict]:
    if not have_tools():
        return [{"skipped": "crushtool/osdmaptool not installed (apt-get install ceph-base ceph-common)"}]
    CACHE.mkdir(parents=True, exist_ok=True)
    return [_case(*m) for m in maps()]


if __name__ == "__main__":
    tempfile.tempdir = None
    for r in run():
        print(json.dumps(r))
