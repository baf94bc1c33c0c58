"""What the user runs: ``pgtools map --format stats`` and the drop-in ``pgtools osdmaptool`` (the same command line)
against ``osdmaptool --test-map-pgs``, start-up included.

Both commands map every PG of pool 1 of the maps :mod:`bench_placement` builds with Ceph's own tools (1,000 OSDs
/ 32,768 PGs and 10,000 OSDs / 1,048,576 PGs) and print the same statistics (compared byte for byte).  Each
command runs as a fresh process: wall time (best of ``repeat``), and its peak RSS from ``wait4``.  Targets
(issue #12): pgtools ≤ 3× osdmaptool at 1k/32k (start-up bound), ≤ 0.5× at 10k/1M.

Start-up (issue #14: the balancer in no more wall time than ``osdmaptool --upmap``, 0.04 s on the seed map):
``pgtools balance sample_dumps/seedlike_max300 --format commands``, the same on the seed capture's binary osdmap
(osdmaptool's input), ``pgtools map sample_dumps/seedlike_max300`` and ``pgtools --help``, against
``osdmaptool osdmap.bin --upmap out.txt`` on the seed capture's real osdmap (when the shared reference data is
present).  Each a fresh process, with the bytecode cache on (as an installed pgtools): median wall time of
``PGTOOLS_BENCH_STARTUP_REPEAT`` (default 5) runs and median CPU time (user + system, the steadier figure on a
shared machine); one row per command (``startup_*``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED_CAPTURE = ROOT / "sample_dumps" / "seedlike_max300"
SHARED_SEED = ROOT.parent / "shared" / "data" / "real" / "seedlike_max300" / "osdmap.bin"
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


def _cpu_timed(argv: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, from ``wait4``) of one run of ``argv``; its output is discarded."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def _median(argv: list[str], cwd: Path, repeat: int, env: dict | None = None) -> tuple[float, float]:
    """Median wall and median CPU seconds of ``repeat`` runs, after one warm-up run."""
    _cpu_timed(argv, cwd, env)
    runs = [_cpu_timed(argv, cwd, env) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def startup(repeat: int | None = None) -> list[dict]:
    """Start-up-bound commands on the 12-OSD seed capture, and ``osdmaptool --upmap`` on its real osdmap."""
    repeat = repeat or int(os.environ.get("PGTOOLS_BENCH_STARTUP_REPEAT", "5"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(ROOT / "out" / "bench_cache" / "pycache"))
    py = [sys.executable, "-m", "pgtools"]
    cases = [("balance", [*py, "balance", str(SEED_CAPTURE), "--format", "commands"]),
             ("map", [*py, "map", str(SEED_CAPTURE)]),
             ("help", [*py, "--help"])]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pgtools_bench_") as tmp:
        if SHARED_SEED.exists():
            om = Path(tmp) / "osdmap.bin"
            shutil.copyfile(SHARED_SEED, om)
            cases.append(("balance_osdmap", [*py, "balance", str(om), "--format", "commands"]))
            if shutil.which("osdmaptool"):
                cases.append(("osdmaptool_upmap", ["osdmaptool", str(om), "--upmap", "out.txt"]))
        for name, argv in cases:
            wall, cpu = _median(argv, Path(tmp), repeat, None if argv[0] == "osdmaptool" else env)
            shown = ["pgtools", *argv[len(py):]] if argv[0] == sys.executable else argv
            label = " ".join(shown).replace(str(ROOT) + "/", "").replace(tmp + "/", "")
            rows.append({"case": f"startup_{name}", "command": label, "median_s": round(wall, 3), "median_cpu_s": round(cpu, 3), "runs": repeat})
    ref = next((r["median_s"] for r in rows if r["case"] == "startup_osdmaptool_upmap"), None)
    for r in rows:
        if ref and r["case"].startswith("startup_balance"):
            r["ratio_to_osdmaptool"] = round(r["median_s"] / ref, 1)
    return rows


def run() -> list[dict]:
    rows = startup()
    if not have_tools():
        return [*rows, {"skipped": "crushtool/osdmaptool not installed (apt-get install ceph-base ceph-common)"}]
    return [_case(*m) for m in maps()] + rows


if __name__ == "__main__":
    for r in startup() if sys.argv[1:] == ["startup"] else run():
        print(r)
