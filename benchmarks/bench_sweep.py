"""A 100-scenario durability sweep, serial vs a 2-worker dask.distributed LocalCluster (issue #15).

The map is bench_placement's ``osds1k_pgs32k`` (1,000 OSDs on 50 hosts, one size-3 pool; built with
``crushtool``/``osdmaptool`` into out/bench_cache when missing).  The grid: 25 pg_num values of the pool
(256, 512, ... 6400: 25 placement variants, each re-mapped by the placement engine) × levels osd and host
× K = 2, 3 = 100 scenarios.  Timed: the serial path (``scheduler="serial"``), then a LocalCluster of 2 worker
processes (one thread each) started by the sweep itself (cluster start-up included), and the same sweep on a
cluster already running (``client=``).  The frames must be equal; target: the 2-worker runs faster than serial.
The machine's 1-minute load average is printed too: on a shared machine a speed-up needs two idle cores, so
the CPU seconds are reported as well (serial; each worker's on the running cluster: ``cpu_speedup`` = serial
CPU / the busiest worker's CPU, the wall-clock speed-up two idle cores would give, less start-up).
"""

from __future__ import annotations

import logging
import os
import time
import warnings

from pgtools.errors import PgtoolsWarning

PG_NUMS = [256 * i for i in range(1, 26)]


def run() -> list[dict]:
    import bench_placement  # sibling module: benchmarks/ is on the path under run.py
    import pandas as pd
    from distributed import Client, LocalCluster

    import pgtools
    from pgtools.risk import sweep

    d = bench_placement._build("osds1k_pgs32k", 1000, ["host", "straw2", "20", "root", "straw2", "0"], 32768)
    snap = pgtools.load([d / "osd_dump.json", d / "crush_dump.json"])
    kw = {"pg_num": {"rbd": PG_NUMS}, "level": ["osd", "host"], "failures": [2, 3], "progress": False}
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)
        t0, c0 = time.perf_counter(), time.process_time()
        serial = sweep(snap, scheduler="serial", **kw)
        ts, cs = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        local = sweep(snap, workers=2, **kw)
        tl = time.perf_counter() - t0
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, silence_logs=logging.ERROR,
            # no dashboard; its HTTP server (always started) on a free port, not 8787
            dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"})
        client = Client(cluster)
        try:
            before = client.run(time.process_time)
            t0 = time.perf_counter()
            warm = sweep(snap, client=client, **kw)
            tw = time.perf_counter() - t0
            after = client.run(time.process_time)
            wcpu = sorted(round(after[w] - before[w], 2) for w in after)
        finally:
            client.close()
            cluster.close()
    pd.testing.assert_frame_equal(local, serial, check_exact=True)
    pd.testing.assert_frame_equal(warm, serial, check_exact=True)
    n = serial.attrs["scenarios"]
    load = round(os.getloadavg()[0], 1)
    rows.append({"case": f"{n} scenarios ({serial.attrs['variants']} pg_num variants x osd/host x K=2,3), serial",
                 "wall_s": round(ts, 2), "cpu_s": round(cs, 2), "load_avg_1min": load})
    rows.append({"case": "same, 2-worker LocalCluster started by the sweep", "wall_s": round(tl, 2),
                 "speedup": round(ts / tl, 2), "equal_to_serial": True})
    rows.append({"case": "same, on a running 2-worker LocalCluster (client=)", "wall_s": round(tw, 2),
                 "speedup": round(ts / tw, 2), "worker_cpu_s": wcpu, "cpu_speedup": round(cs / max(wcpu), 2),
                 "equal_to_serial": True, "load_avg_1min": round(os.getloadavg()[0], 1)})
    return rows
