"""pgtools' count balancer against ``osdmaptool --upmap --upmap-deviation 1 --upmap-max 10000``, same maps, same run.

Issue #14's target: count mode reaches a max deviation of <= 1 PG per OSD wherever a ±1 solution exists, with
no more upmap items than osdmaptool needs for its own result, in no more wall time.

Maps:

* ``seedlike`` — the seed capture's real osdmap (``sample_dumps/seedlike_max300``'s cluster; the binary from
  the shared reference data, when present; Pacific 16.2.15, 12 OSDs on 4 hosts, 15 replicated pools of 128 PGs);
* ``mixed`` — the mixed sample capture (Pacific; 14 OSDs, racks, hdd + ssd classes, EC 2+1 and 4+2, an out
  OSD, a reweight, existing upmap items); ``mixed_tentacle`` — the same cluster captured on Tentacle 20.2.4,
  against Tentacle's osdmaptool (its chroot; skipped when absent);
* ``r12_s1..3``, ``r100_s1..3``, ``r1000_s1`` — :func:`osdmaps.random_map` (seeded): hosts of hdd and ssd
  OSDs with mildly uneven (seed 1), strongly uneven (seed 2) or equal (seed 3) CRUSH weights, class rules, replicated pools on each class, an EC pool
  (2+1 on 4 hosts; 3+2 or 4+2 on 10 and 50 hosts) on hdd, sometimes a replicated pool over both classes
  (12 OSDs on 4 hosts, 100 on 10, 1,000 on 50).

Per map: ``feasible_1`` — :func:`pgtools.balance.feasible.count_bound` at ±1 (True: a ±1 placement exists,
exact model; False: impossible, proved; None: not excluded), ``min_dev`` its smallest reachable deviation.
osdmaptool runs in its default (aggressive, random) mode; its ``out.txt`` is applied to the same snapshot
with pgtools and both results are measured the same way (:func:`pgtools.balance.count.count_deviation`):
worst per-pool deviation (``*_max_dev``), worst deviation summed over the pools (``*_total_dev``),
``pg_upmap_items`` entries after the plan (``*_items``) and their pairs (``*_pairs``).  ``pgtools_s`` is
:func:`~pgtools.balance.count.balance_count` in process (the capture loaded beforehand); ``osdmaptool_s``
its run (reading its map included).

The command lines, start-up included, each run as a fresh process (best of ``PGTOOLS_BENCH_REPEAT``, default 3,
the two tools alternating; osdmaptool repeated only when under 10 s): ``pgtools balance INPUT --mode count
--release R --format commands`` (``cli_pgtools_*``) against ``osdmaptool om [--mark-up-in] --upmap out
--upmap-deviation 1 --upmap-max 10000`` (``cli_osdmaptool_*``), wall (``_s``) and CPU (``_cpu_s``, user +
system: on a shared machine the steadier figure).  ``INPUT`` is the same binary osdmap for the captures; for
the built maps (whose OSDs only ``--mark-up-in`` brings up) the osd and CRUSH dumps with every OSD up and in.
The commands printed must be those of :func:`~pgtools.balance.count.balance_count`.  Python runs with its
bytecode cache on (``out/bench_cache/pycache``), as an installed pgtools does.

``pgtools_items_at_theirs``: the entries of :func:`~pgtools.balance.count.balance_count` aiming at osdmaptool's own
result (``pool_deviation`` / ``total_deviation``: its per-pool and summed max deviations), and
whether that plan reached them (``pgtools_at_theirs_reached``).

Verdicts: ``dev_ok`` (±1 feasible: pgtools within ±1 per pool and summed; else None), ``items_ok`` (the target:
pgtools reaches osdmaptool's result with no more entries than osdmaptool), ``items_own_ok`` (osdmaptool's max
deviation the same or worse: pgtools' own plan has no more entries; else None), ``time_ok``
(``cli_pgtools_s <= cli_osdmaptool_s``); ratios ``items_ratio`` (pgtools / osdmaptool items),
``wall_ratio`` (command lines) and ``cpu_ratio``.

Capacity mode (``capacity seedlike_max300``, ``capacity mixed``: the captures' real PG sizes): spread of projected
%used before and after, bytes moved, the peak %used over the plan's rounds; ``spread_ok`` (at least halved) and
``backfillfull_ok`` (no OSD above backfillfull in any round).

``PGTOOLS_BENCH_SMALL=1`` skips osdmaptool on the 1,000-OSD map (about 17 minutes on 2 cores); pgtools still
runs there (osdmaptool's columns are then None).  Run from the repository with ``PYTHONPATH=.`` so that the
checkout's pgtools is measured.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import osdmaps  # sibling module: benchmarks/ is on the path under run.py

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "out" / "bench_cache"
SHARED_SEED = ROOT.parent / "shared" / "data" / "real" / "seedlike_max300" / "osdmap.bin"
CHROOTS = Path("/var/cache/pgtools-ceph")
#: the random maps: (OSDs, hosts, seeds)
RANDOM = [(12, 4, (1, 2, 3)), (100, 10, (1, 2, 3)), (1000, 50, (1,))]
_UPMAP = ["--upmap-deviation", "1", "--upmap-max", "10000"]


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


def _osdmaptool(release: str, d: Path, args: list[str]) -> list[str]:
    """The argv running ``osdmaptool ARGS`` of ``release`` in ``d`` (Pacific: the host's; else its chroot, in
    which ``d`` must lie)."""
    if release == "pacific":
        return ["osdmaptool", *args]
    root = CHROOTS / release
    return ["chroot", str(root), "/bin/sh", "-c", 'cd "$0" && exec "$@"', "/" + str(d.relative_to(root)),
            "osdmaptool", *args]


def _cli(d: Path, inputs: list[str], release: str, theirs: list[str] | None, want: list[str],
         first: tuple[float, float] | None) -> dict:
    """The two command lines, alternating, best of ``PGTOOLS_BENCH_REPEAT`` (default 3) runs each; ``first`` is
    osdmaptool's run of :func:`_case` (further osdmaptool runs only when it took under 10 s; none when
    ``theirs`` is None).  Over a minute per pgtools run: one run."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(CACHE / "pycache"))
    ours = [sys.executable, "-m", "pgtools", "balance", *inputs, "--mode", "count", "--release", release,
            "--format", "commands"]
    w, c, out = _timed(ours, d, env)  # also warms the bytecode and page caches
    assert out.splitlines() == want, "the CLI's commands differ from balance_count's"
    runs: dict[str, list[tuple[float, float]]] = {"cli_pgtools": [(w, c)],
                                                   "cli_osdmaptool": [first] if first else []}
    repeat = int(os.environ.get("PGTOOLS_BENCH_REPEAT", "3")) if w < 60 else 0
    for _ in range(repeat):
        w, c, out = _timed(ours, d, env)
        assert out.splitlines() == want, "the CLI's commands differ from balance_count's"
        runs["cli_pgtools"].append((w, c))
        if theirs is not None and first is not None and first[0] < 10:
            w, c, _ = _timed(theirs, d)
            runs["cli_osdmaptool"].append((w, c))
    row = {}
    for who, rs in runs.items():
        row[f"{who}_s"] = round(min(r[0] for r in rs), 3) if rs else None
        row[f"{who}_cpu_s"] = round(min(r[1] for r in rs), 3) if rs else None
    return row


def _verdicts(row: dict) -> dict:
    """Issue #14's target on one map (module docstring: ``dev_ok``, ``items_ok``, ``time_ok``, ratios)."""
    out: dict = {"dev_ok": None, "items_ok": None, "items_own_ok": None, "time_ok": None, "items_ratio": None,
                 "wall_ratio": None, "cpu_ratio": None}
    if row["feasible_1"]:
        out["dev_ok"] = row["pgtools_max_dev"] <= 1 + 1e-9 and row["pgtools_total_dev"] <= 1 + 1e-9
    if row["osdmaptool_items"] is None:
        return out
    # the target: no more entries than osdmaptool needs for its own result (pgtools aiming at osdmaptool's
    # per-pool and total deviations); items_own_ok: pgtools' own plan, where osdmaptool's is no better
    out["items_ok"] = bool(row["pgtools_at_theirs_reached"]
                           and row["pgtools_items_at_theirs"] <= row["osdmaptool_items"])
    if row["osdmaptool_max_dev"] >= row["pgtools_max_dev"] - 1e-9:
        out["items_own_ok"] = row["pgtools_items"] <= row["osdmaptool_items"]
    out["time_ok"] = row["cli_pgtools_s"] <= row["cli_osdmaptool_s"]
    if row["osdmaptool_items"]:
        out["items_ratio"] = round(row["pgtools_items"] / row["osdmaptool_items"], 2)
    out["wall_ratio"] = round(row["cli_pgtools_s"] / row["cli_osdmaptool_s"], 2)
    out["cpu_ratio"] = round(row["cli_pgtools_cpu_s"] / max(row["cli_osdmaptool_cpu_s"], 1e-3), 2)
    return out


def _case(name: str, d: Path, snap, release: str, inputs: list[str], mark_up_in: bool, run_ceph: bool) -> dict:
    from pgtools.balance import clean_pg_upmaps
    from pgtools.balance.count import balance_count, count_deviation
    from pgtools.balance.feasible import count_bound
    from pgtools.balance.search import Layout

    pre = ["--mark-up-in"] if mark_up_in else []
    before = count_deviation(snap, ceph_release=release)
    bound = count_bound(Layout(snap, ceph_release=release), 1)
    row = {"case": name, "release": release, "osds": int(snap.osds["osd_id"].max()) + 1,
           "pools": len(snap.pools), "pgs": int(snap.pools["pg_num"].sum()),
           "shards": int((snap.pools["pg_num"] * snap.pools["size"]).sum()),
           "before_max_dev": round(before["max_dev"], 2), "before_total_dev": round(before["total_dev"], 2),
           "before_items": before["items"], "feasible_1": bound.feasible, "exact": bound.exact,
           "min_dev": round(bound.min_deviation, 2)}
    theirs = None
    first = None
    ceph = {"max_dev": None, "total_dev": None, "items": None, "pairs": None}
    if run_ceph:
        theirs = _osdmaptool(release, d, ["om", *pre, "--upmap", "out_cli.txt", *_UPMAP])
        t_ceph, cpu_ceph, _ = _timed(_osdmaptool(release, d, ["om", *pre, "--upmap", "out.txt", *_UPMAP]), d)
        first = (t_ceph, cpu_ceph)
        ceph = count_deviation(osdmaps.apply_commands(snap, (d / "out.txt").read_text()), ceph_release=release)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the bound's warnings: the row says it
        plan = balance_count(snap, max_deviation=1, ceph_release=release)
    t_ours = time.perf_counter() - t0
    after = plan.apply(snap)
    ours = count_deviation(after, ceph_release=release)
    assert clean_pg_upmaps(after, ceph_release=release).num_changed == 0
    for who, r, t in (("pgtools", ours, t_ours), ("osdmaptool", ceph, first[0] if first else None)):
        row.update({f"{who}_max_dev": None if r["max_dev"] is None else round(r["max_dev"], 2),
                    f"{who}_total_dev": None if r["total_dev"] is None else round(r["total_dev"], 2),
                    f"{who}_items": r["items"], f"{who}_pairs": r["pairs"],
                    f"{who}_s": None if t is None else round(t, 3)})
    row["pgtools_moves"] = plan.moves
    if run_ceph:  # pgtools aiming at osdmaptool's own result: its per-pool and total deviations
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs_plan = balance_count(snap, max_deviation=1, ceph_release=release,
                                        pool_deviation=ceph["pool_dev"], total_deviation=ceph["total_dev"])
        at = count_deviation(theirs_plan.apply(snap), ceph_release=release)
        row["pgtools_items_at_theirs"] = at["items"]
        row["pgtools_at_theirs_reached"] = theirs_plan.summary["violation_after"] == 0
    row.update(_cli(d, inputs, release, theirs, plan.commands, first))
    row.update(_verdicts(row))
    return row


def _capture(name: str, src: Path, release: str) -> dict | None:
    import pgtools

    if not src.exists():
        return None
    if release == "pacific":
        d = CACHE / f"balance_{name}"
    elif (CHROOTS / release / "usr" / "bin" / "osdmaptool").exists():
        d = CHROOTS / release / "tmp" / f"pgtools-bench-balance_{name}"
    else:
        return None
    d.mkdir(parents=True, exist_ok=True)
    (d / "om").write_bytes(src.read_bytes())
    return _case(name, d, pgtools.load(d / "om"), release, ["om"], False, True)


def _capacity(name: str, snap) -> dict:
    """Capacity mode on a capture with its real, uneven PG sizes: the spread of projected %used over the OSDs
    holding data (max - min) before and after, the bytes moved, the peak %used over the rounds against
    backfillfull (:func:`pgtools.balance.simulate_plan`), and the time in process.  Target (issue #14): the
    spread at least halved, no OSD above backfillfull in any round (``spread_ok``, ``backfillfull_ok``)."""
    from pgtools.balance import simulate_plan
    from pgtools.balance.capacity import balance_capacity

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = balance_capacity(snap)
    took = time.perf_counter() - t0
    s = plan.summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sim = simulate_plan(snap, plan)
    peak = float(sim.summary["max_util_peak"])
    bff = float(s["backfillfull_ratio"])
    pct = {k: round(100 * s[k], 4) for k in ("spread_before", "spread_after", "max_used_before", "max_used_after")}
    return {"case": f"capacity {name}", **{f"{k}_pct": v for k, v in pct.items()}, "bytes_moved": s["bytes_moved"],
            "commands": len(plan.commands), "rounds": len(sim.rounds.plans),
            "peak_used_pct": round(peak, 4), "backfillfull_pct": round(100 * bff, 1), "pgtools_s": round(took, 3),
            "spread_ok": s["spread_after"] <= s["spread_before"] / 2, "backfillfull_ok": peak <= 100 * bff}


def run() -> list[dict]:
    import pgtools

    small = os.environ.get("PGTOOLS_BENCH_SMALL", "") not in ("", "0")
    rows = []
    for name, src, release in (("seedlike", SHARED_SEED, "pacific"),
                               ("mixed", ROOT / "sample_dumps" / "mixed" / "osdmap.bin", "pacific"),
                               ("mixed_tentacle", ROOT / "sample_dumps" / "mixed_tentacle" / "osdmap.bin",
                                "tentacle")):
        row = _capture(name, src, release)
        rows.append(row if row is not None else {"case": name, "skipped": f"no {src} or no {release} osdmaptool"})
    for name in ("seedlike_max300", "mixed"):
        rows.append(_capacity(name, pgtools.load(ROOT / "sample_dumps" / name)))
    for n, hosts, seeds in RANDOM:
        for seed in seeds:
            name = f"r{n}_s{seed}"
            d, _pools = osdmaps.random_map(CACHE / f"balance_{name}", seed, n, hosts)
            snap = pgtools.load([d / "osd_dump.json", d / "crush_dump.json"])
            rows.append(_case(name, d, snap, "pacific", ["osd_dump.json", "crush_dump.json"], True,
                              not (small and n >= 1000)))
    return rows
