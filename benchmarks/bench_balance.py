"""pgtools' count balancer against ``osdmaptool --upmap --upmap-deviation 1 --upmap-max 10000``, same maps, same run.

Maps:

* ``seedlike`` — the seed capture's real osdmap (Pacific 16.2.15; 12 OSDs on 4 hosts, 15 replicated pools of 128
  PGs), when the shared reference data is present;
* ``mixed`` — the mixed sample capture (14 OSDs, racks, hdd + ssd classes, EC 2+1 and 4+2, an out OSD, a reweight,
  existing upmap items);
* ``r100`` — 100 OSDs (10 hosts × 10, straw2, ``crushtool --build``), one replicated pool of 3,200 PGs (``--pg-bits 5``);
* ``r1000`` — 1,000 OSDs (50 hosts × 20), one replicated pool of 32,000 PGs.

osdmaptool runs in its default (aggressive, random) mode; its ``out.txt`` is applied to the same snapshot and
both results are measured the same way (:func:`pgtools.balance.count.count_deviation`): worst per-pool
deviation (``*_max_dev``), worst deviation summed over the pools (``*_total_dev``), ``pg_upmap_items`` entries
(``*_items``) and pairs, and wall time (``*_s``; pgtools' excludes loading the capture, osdmaptool's includes
reading its map).  ``PGTOOLS_BENCH_SMALL=1`` skips the 1,000-OSD map.

The command lines, start-up included, each run as a fresh process (best of ``PGTOOLS_BENCH_REPEAT``, default 3,
the two tools alternating): ``pgtools balance INPUT --mode count --release pacific --format commands``
(``cli_*``) against ``osdmaptool om --upmap out --upmap-deviation 1 --upmap-max 10000`` (``cli_osdmaptool_*``),
wall (``_s``) and CPU (``_cpu_s``, user + system: on a shared machine the steadier figure).  ``INPUT`` is the same binary osdmap
for the captures; for the built maps (whose OSDs only ``--mark-up-in`` brings up) the osd and CRUSH dumps
with every OSD up and in.  The commands printed must be those of :func:`~pgtools.balance.count.balance_count`.
Python runs with its bytecode cache on (``out/bench_cache/pycache``), as an installed pgtools does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "out" / "bench_cache"
SHARED_SEED = ROOT.parent / "shared" / "data" / "real" / "seedlike_max300" / "osdmap.bin"
_CMD = re.compile(r"^ceph osd pg-upmap-items (\S+)((?: -?\d+ -?\d+)+)$", re.MULTILINE)
_RM = re.compile(r"^ceph osd rm-pg-upmap-items (\S+)$", re.MULTILINE)


def _run(*argv: str, cwd: Path) -> str:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True).stdout


def _build(name: str, num_osds: int, layers: list[str], pg_bits: int) -> Path:
    """``crushtool --build`` + ``osdmaptool --createsimple N --with-default-pool --pg-bits B`` (``N << B`` PGs)."""
    d = CACHE / f"balance_{name}"
    if (d / "osd_dump.json").exists():
        return d
    d.mkdir(parents=True, exist_ok=True)
    _run("crushtool", "-o", "crush.bin", "--build", "--num_osds", str(num_osds), *layers, cwd=d)
    _run("osdmaptool", "om", "--createsimple", str(num_osds), "--with-default-pool", "--clobber",
         "--pg-bits", str(pg_bits), "--pgp-bits", str(pg_bits), cwd=d)
    _run("osdmaptool", "om", "--import-crush", "crush.bin", cwd=d)
    (d / "crush_dump.json").write_text(_run("crushtool", "-i", "crush.bin", "--dump", cwd=d))
    dump = json.loads(_run("osdmaptool", "om", "--dump", "json", cwd=d))
    # --createsimple OSDs do not exist until marked up/in (osdmaptool --mark-up-in does it in memory)
    dump["osds"] = [{"osd": i, "uuid": "00000000-0000-0000-0000-000000000000", "up": 1, "in": 1, "weight": 1.0,
                     "primary_affinity": 1.0, "state": ["exists", "up"]} for i in range(num_osds)]
    dump["max_osd"] = num_osds
    (d / "osd_dump.json").write_text(json.dumps(dump))
    return d


def _timed(argv: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system, from ``wait4``) and stdout of one run of ``argv``."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, out


def _cli(d: Path, inputs: list[str], om_args: list[str], want: list[str], first: tuple[float, float]) -> dict:
    """The two command lines, alternating, best of ``PGTOOLS_BENCH_REPEAT`` (default 3) runs each; ``first`` is
    osdmaptool's run of :func:`_case` (further osdmaptool runs only when it took under 10 s)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(CACHE / "pycache"))
    ours = [sys.executable, "-m", "pgtools", "balance", *inputs, "--mode", "count", "--release", "pacific",
            "--format", "commands"]
    theirs = ["osdmaptool", "om", *om_args, "--upmap", "out_cli.txt", "--upmap-deviation", "1", "--upmap-max",
              "10000"]
    _timed(ours, d, env)  # warm: bytecode cache, page cache
    runs: dict[str, list[tuple[float, float]]] = {"cli_pgtools": [], "cli_osdmaptool": [first]}
    for _ in range(int(os.environ.get("PGTOOLS_BENCH_REPEAT", "3"))):
        w, c, out = _timed(ours, d, env)
        assert out.splitlines() == want, "the CLI's commands differ from balance_count's"
        runs["cli_pgtools"].append((w, c))
        if first[0] < 10:
            w, c, _ = _timed(theirs, d)
            runs["cli_osdmaptool"].append((w, c))
    row = {}
    for who, rs in runs.items():
        row[f"{who}_s"] = round(min(r[0] for r in rs), 3)
        row[f"{who}_cpu_s"] = round(min(r[1] for r in rs), 3)
    return row


def _apply(snap, text: str):
    items = dict(snap.osdmap.pg_upmap_items)
    for pg in _RM.findall(text):
        items.pop(pg, None)
    for pg, pairs in _CMD.findall(text):
        v = [int(x) for x in pairs.split()]
        items[pg] = tuple(zip(v[::2], v[1::2], strict=True))
    return snap.replace(osdmap=snap.osdmap.replace(pg_upmap_items=items))


def _case(name: str, d: Path, snap, om_args: list[str], release: str, inputs: list[str]) -> dict:
    from pgtools.balance import clean_pg_upmaps
    from pgtools.balance.count import balance_count, count_deviation

    t_ceph, cpu_ceph, _ = _timed(["osdmaptool", "om", *om_args, "--upmap", "out.txt", "--upmap-deviation", "1",
                                  "--upmap-max", "10000"], d)
    ceph = count_deviation(_apply(snap, (d / "out.txt").read_text()), ceph_release=release)
    before = count_deviation(snap, ceph_release=release)
    t0 = time.perf_counter()
    plan = balance_count(snap, max_deviation=1, ceph_release=release)
    t_ours = time.perf_counter() - t0
    after = plan.apply(snap)
    ours = count_deviation(after, ceph_release=release)
    assert clean_pg_upmaps(after, ceph_release=release).num_changed == 0
    row = {"case": name, "osds": int(snap.osds["osd_id"].max()) + 1, "before_max_dev": round(before["max_dev"], 2),
           "before_items": before["items"]}
    for who, r, t in (("osdmaptool", ceph, t_ceph), ("pgtools", ours, t_ours)):
        row.update({f"{who}_max_dev": round(r["max_dev"], 2), f"{who}_total_dev": round(r["total_dev"], 2),
                    f"{who}_items": r["items"], f"{who}_pairs": r["pairs"], f"{who}_s": round(t, 3)})
    row["pgtools_moves"] = plan.moves
    row.update(_cli(d, inputs, om_args, plan.commands, (t_ceph, cpu_ceph)))
    return row


def run() -> list[dict]:
    import pgtools

    rows = []
    if SHARED_SEED.exists():
        d = CACHE / "balance_seedlike"
        d.mkdir(parents=True, exist_ok=True)
        (d / "om").write_bytes(SHARED_SEED.read_bytes())
        rows.append(_case("seedlike", d, pgtools.load(d / "om"), [], "pacific", ["om"]))
    d = CACHE / "balance_mixed"
    d.mkdir(parents=True, exist_ok=True)
    (d / "om").write_bytes((ROOT / "sample_dumps" / "mixed" / "osdmap.bin").read_bytes())
    rows.append(_case("mixed", d, pgtools.load(d / "om"), [], "pacific", ["om"]))
    cases = [("r100", 100, ["host", "straw2", "10", "root", "straw2", "0"], 5)]
    if os.environ.get("PGTOOLS_BENCH_SMALL", "") in ("", "0"):
        cases.append(("r1000", 1000, ["host", "straw2", "20", "root", "straw2", "0"], 5))
    for name, n, layers, bits in cases:
        d = _build(name, n, layers, bits)
        snap = pgtools.load([d / "osd_dump.json", d / "crush_dump.json"])
        rows.append(_case(name, d, snap, ["--mark-up-in"], "pacific", ["osd_dump.json", "crush_dump.json"]))
    return rows

