"""What the user runs: ``pgtools map --format stats`` and the drop-in ``pgtools osdmaptool`` (the same command line)
against ``osdmaptool --test-map-pgs``, start-up included.

Both commands map every PG of pool 1 of the maps :mod:`bench_placement` builds with Ceph's own tools (1,000 OSDs
/ 32,768 PGs and 10,000 OSDs / 1,048,576 PGs) and print the same statistics (compared byte for byte).  Each
command runs as a fresh process: wall time (best of ``repeat``), and its peak RSS from ``wait4``.  Targets
(issue #12): pgtools ≤ 3× osdmaptool at 1k/32k (start-up bound), ≤ 0.5× at 10k/1M.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_placement import _build, have_tools, maps  # noqa: E402


def _timed(argv: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and stdout of one run of ``argv``."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise RuntimeError(f"{argv[0]} exited {p.returncode}")
    return wall, usage.ru_maxrss / 1024, out


def _best(argv: list[str], cwd: Path, repeat: int) -> tuple[float, float, str]:
    runs = [_timed(argv, cwd) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[-1][2]


def _case(name: str, num_osds: int, layers: list[str], pg_num: int, repeat: int) -> dict:
    d = _build(name, num_osds, layers, pg_num)
    pgtools = str(Path(sys.executable).with_name("pgtools"))
    ref_s, ref_rss, ref = _best(["osdmaptool", "om", "--mark-up-in", "--test-map-pgs", "--pool", "1",
                                 "--pg_num", str(pg_num)], d, repeat)
    ours_s, ours_rss, ours = _best([pgtools, "map", "osd_dump.json", "crush_dump.json", "--pool", "1",
                                    "--format", "stats"], d, repeat)
    # the drop-in: the same command line as osdmaptool's, on the same binary osdmap
    drop_s, drop_rss, drop = _best([pgtools, "osdmaptool", "om", "--mark-up-in", "--test-map-pgs", "--pool", "1",
                                    "--pg_num", str(pg_num)], d, repeat)
    identical_dropin = drop == ref
    ref = "".join(ln for ln in ref.splitlines(keepends=True) if ln != "marking all OSDs up and in\n")
    return {"case": name, "osds": num_osds, "pgs": pg_num, "osdmaptool_s": round(ref_s, 3),
            "pgtools_s": round(ours_s, 3), "ratio": round(ours_s / ref_s, 2), "osdmaptool_rss_mb": round(ref_rss),
            "pgtools_rss_mb": round(ours_rss), "identical_stats": ours == ref,
            "dropin_s": round(drop_s, 3), "dropin_ratio": round(drop_s / ref_s, 2), "dropin_rss_mb": round(drop_rss),
            "identical_dropin": identical_dropin}


def run() -> list[dict]:
    if not have_tools():
        return [{"skipped": "crushtool/osdmaptool not installed (apt-get install ceph-base ceph-common)"}]
    return [_case(*m) for m in maps()]


if __name__ == "__main__":
    for r in run():
        print(r)
