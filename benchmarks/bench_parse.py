"""Benchmark: parse a synthetic 100k-PG Pacific plain ``ceph pg dump``.

``run()`` writes the dump (deterministic, in a child process) into a temporary file, times
:func:`pgtools.io.pg_dump_plain.parse` (best of 3) and reports the peak RSS of the process.
"""

from __future__ import annotations

import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_HEAD = ["PG_STAT", "OBJECTS", "MISSING_ON_PRIMARY", "DEGRADED", "MISPLACED", "UNFOUND", "BYTES",
         "OMAP_BYTES*", "OMAP_KEYS*", "LOG", "DISK_LOG", "STATE", "STATE_STAMP", "VERSION", "REPORTED",
         "UP", "UP_PRIMARY", "ACTING", "ACTING_PRIMARY", "LAST_SCRUB", "SCRUB_STAMP", "LAST_DEEP_SCRUB",
         "DEEP_SCRUB_STAMP", "SNAPTRIMQ_LEN"]
_LEFT = {"PG_STAT", "STATE"}


def _table(rows: list[list[str]], head: list[str]) -> list[str]:
    """Render like Ceph's TextTable (Octopus+): two spaces between cells, headings left-aligned."""
    widths = [max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(head)]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=False)).rstrip()]
    for r in rows:
        out.append("  ".join(c.ljust(w) if h in _LEFT else c.rjust(w)
                             for c, h, w in zip(r, head, widths, strict=False)))
    return out


def synthetic_pg_dump(n_pgs: int = 100_000, n_osds: int = 300, seed: int = 42) -> str:
    """A plain Pacific ``ceph pg dump`` with ``n_pgs`` PGs in pools of 8192 PGs (deterministic).

    Parameters
    ----------
    n_pgs : int
        Number of PG rows.
    n_osds : int
        OSD ids are drawn from ``range(n_osds)``.
    seed : int
        Seed of the generator.

    Returns
    -------
    str
    """
    rng = random.Random(seed)
    rows = []
    stamp = "2026-11-24T05:35:48.453699+0000"
    pool, ps, pg_num = 1, 0, 8192
    for _ in range(n_pgs):
        if ps == pg_num:
            pool, ps = pool + 1, 0
        up = rng.sample(range(n_osds), 3)
        vec = "[" + ",".join(map(str, up)) + "]"
        objs = rng.randrange(0, 5000)
        rows.append([f"{pool}.{ps:x}", str(objs), "0", "0", "0", "0", str(objs * 4096), "0", "0",
                     str(objs), str(objs), "active+clean", stamp, f"101'{objs}", f"101:{objs + 50}",
                     vec, str(up[0]), vec, str(up[0]), "0'0", stamp, "0'0", stamp, "0"])
        ps += 1
    lines = ["version 172", "stamp " + stamp, "last_osdmap_epoch 0", "last_pg_scan 0"]
    lines += _table(rows, _HEAD)
    lines.append("")
    lines.append("* NOTE: Omap statistics are gathered during deep scrub and may be inaccurate soon "
                 "afterwards.")
    return "\n".join(lines) + "\n"


def run() -> dict:
    """Time the parser on the synthetic dump.

    Returns
    -------
    dict
        ``pgs`` (rows parsed), ``seconds`` (best wall time of 3 runs), ``rss_mb`` (peak resident set
        of this process, MiB) and ``cpu_seconds`` (best CPU time of the 3 runs; steadier than wall time
        on a shared machine).
    """
    from pgtools.io import pg_dump_plain
    from pgtools.io._common import read_text

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pg_dump.txt"
        # written by a child process, so that the peak RSS below is the parser's, not the generator's
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--write", str(path)], check=True)
        text = read_text(path)
        best = best_cpu = float("inf")
        n = 0
        frag = None
        for _ in range(3):
            frag = None  # drop the previous result before the next run
            t0, c0 = time.perf_counter(), time.process_time()
            frag = pg_dump_plain.parse(text, source=str(path))
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
            n = len(frag.pgs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
    return {"pgs": n, "seconds": round(best, 3), "rss_mb": round(rss_mb, 1),
            "cpu_seconds": round(best_cpu, 3)}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        Path(sys.argv[2]).write_text(synthetic_pg_dump())
    else:
        print(run())
