"""A 100-scenario durability sweep, serial vs a 2-worker dask.distributed LocalCluster (issue #15).

The map is bench_placement's ``osds1k_pgs32k`` (1,000 OSDs on 50 hosts, one size-3 pool; built with
``crushtool``/``osdmaptool`` into out/bench_cache when missing).  The grid: 25 pg_num values of the pool
(256, 512, ... 6400: 25 placement variants, each re-mapped by the placement engine) × levels osd and host
× K = 2, 3 = 100 scenarios.  Timed: the serial path (``scheduler="serial"``), then a LocalCluster of 2 worker
processes (one thread each) started by the sweep itself (cluster start-up included), and the same sweep on a
cluster already running (``client=``; started by :func:`pgtools.risk.sweep.local_cluster`, as the sweep's own).
The frames must be equal; target: the 2-worker runs faster than serial.
The machine's 1-minute load average is printed too: on a shared machine a speed-up needs two idle cores, so
the CPU seconds are reported as well, user + system (serial; each worker's on the running cluster:
``cpu_speedup`` = serial CPU / the busiest worker's CPU, the wall-clock speed-up two idle cores would give,
less start-up).  ``PGTOOLS_BENCH_SWEEP_DASK_DEFAULT=1`` starts the running cluster as Dask does by default
instead (``MALLOC_TRIM_THRESHOLD_=65536`` in the workers' environment), to show what that costs.
"""

from __future__ import annotations

import logging
import os
import time
import warnings

from pgtools.errors import PgtoolsWarning

PG_NUMS = [256 * i for i in range(1, 26)]


def _cpu() -> tuple[float, float]:
    t = os.times()
    return t.user, t.system


def run() -> list[dict]:
    import bench_placement  # sibling module: benchmarks/ is on the path under run.py
    import pandas as pd
    from distributed import Client, LocalCluster

    import pgtools
    from pgtools.risk import sweep
    from pgtools.risk.sweep import local_cluster

    d = bench_placement._build("osds1k_pgs32k", 1000, ["host", "straw2", "20", "root", "straw2", "0"], 32768)
    snap = pgtools.load([d / "osd_dump.json", d / "crush_dump.json"])
    kw = {"pg_num": {"rbd": PG_NUMS}, "level": ["osd", "host"], "failures": [2, 3], "progress": False}
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)
        t0, c0 = time.perf_counter(), _cpu()
        serial = sweep(snap, scheduler="serial", **kw)
        ts, c1 = time.perf_counter() - t0, _cpu()
        cs = (c1[0] - c0[0], c1[1] - c0[1])
        t0 = time.perf_counter()
        local = sweep(snap, workers=2, **kw)
        tl = time.perf_counter() - t0
        dask_default = os.environ.get("PGTOOLS_BENCH_SWEEP_DASK_DEFAULT") == "1"
        if dask_default:  # as before local_cluster: Dask's default worker environment
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, silence_logs=logging.ERROR,
                                   dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"})
        else:
            cluster = local_cluster(2)
        client = Client(cluster)
        try:
            before = client.run(_cpu)
            t0 = time.perf_counter()
            warm = sweep(snap, client=client, **kw)
            tw = time.perf_counter() - t0
            after = client.run(_cpu)
            wcpu = sorted((round(after[w][0] - before[w][0], 2), round(after[w][1] - before[w][1], 2))
                          for w in after)
        finally:
            client.close()
            cluster.close()
    pd.testing.assert_frame_equal(local, serial, check_exact=True)
    pd.testing.assert_frame_equal(warm, serial, check_exact=True)
    n = serial.attrs["scenarios"]
    load = round(os.getloadavg()[0], 1)
    busiest = max(u + s for u, s in wcpu)
    rows.append({"case": f"{n} scenarios ({serial.attrs['variants']} pg_num variants x osd/host x K=2,3), serial",
                 "wall_s": round(ts, 2), "cpu_s": round(sum(cs), 2), "user_sys_s": [round(c, 2) for c in cs],
                 "load_avg_1min": load})
    rows.append({"case": "same, 2-worker LocalCluster started by the sweep", "wall_s": round(tl, 2),
                 "speedup": round(ts / tl, 2), "equal_to_serial": True})
    rows.append({"case": "same, on a running 2-worker LocalCluster (client=)"
                 + (", Dask's default MALLOC_TRIM_THRESHOLD_" if dask_default else ""),
                 "wall_s": round(tw, 2), "speedup": round(ts / tw, 2),
                 "worker_cpu_s": [round(u + s, 2) for u, s in wcpu], "worker_user_sys_s": wcpu,
                 "cpu_speedup": round(sum(cs) / busiest, 2), "equal_to_serial": True,
                 "load_avg_1min": round(os.getloadavg()[0], 1)})
    return rows
