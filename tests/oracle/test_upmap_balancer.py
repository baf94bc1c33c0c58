"""Differential suite: Ceph's upmap balancer and upmap cleanup (``osdmaptool --upmap`` / ``--upmap-cleanup``).

Random osdmaps as :mod:`tests.oracle.test_osdmaptool_random` builds them (:func:`tests.oracle._maps.osdmap_case`:
host/rack layouts, unequal and tiny weights, device classes, every bucket algorithm, tunable profiles,
choose_args; some with saved ``--adjust-crush-weight`` and real ``pg_upmap_items`` from a first balancer run),
plus the maps of Ceph's own CLI tests (``src/test/cli/osdmaptool/upmap*.t``: ``om-racks``, ``om-500``).
Each map gets a few ``osdmaptool om --mark-up-in [--mark-out N] --osd_calc_pg_upmaps_aggressively=false
--upmap out.txt --upmap-max M --upmap-deviation D [--upmap-pool rbd]`` runs, compared byte for byte (stdout
and the command file) with :func:`pgtools.balance.osdmaptool_upmap`; maps with upmap items also get
``--upmap-cleanup`` runs after a change that makes items stale (an OSD marked out, a CRUSH weight set to 0, a
rule whose failure domain changed: ``--import-crush``).

Pacific (the host's tools) on every map; Reef and Tentacle (chroots, :mod:`tests.ceph_release_tools`) on every
``RELEASE_EVERY``-th map, with ``ceph_release=`` set accordingly.

``PGTOOLS_ORACLE_MAPS=N`` sets the number of random osdmaps (default: 40 with ``CI=true``, 15 locally).
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

import pgtools
from pgtools.balance import osdmaptool_upmap
from pgtools.crush.remap import UndefinedRemapError
from tests.ceph_release_tools import available, need, run
from tests.oracle._maps import OsdmapCase, budget, osdmap_case
from tests.paths import CRUSH_CASES, REAL, SAMPLE_DUMPS, SHARED

FIRST_SEED = 60_000
RELEASE_EVERY = 4
AGGR = "--osd_calc_pg_upmaps_aggressively=false"
#: the osdmaps of Ceph's CLI tests (``src/test/cli/osdmaptool``), as the shared reference data holds them
CLI_GEN = SHARED / "data" / "peer" / "ceph_cli" / "gen"

pytestmark = pytest.mark.oracle


def _tool(release: str, tool: str, args: list[str], files: dict) -> tuple[str, dict[str, bytes]]:
    r = run(release, tool, args, files, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"{release} {tool} {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    return r.stdout, r.files


def _rule_variant(text: str) -> str | None:
    """The map with its rule's failure domain changed (osd <-> host, host -> rack): stale upmap items."""
    m = re.search(r"step (chooseleaf|choose) firstn (\d+) type (\w+)", text)
    if m is None:
        return None
    new = {"osd": "host", "host": "rack" if "\nrack " in text else "osd", "rack": "host"}[m.group(3)]
    return text[:m.start(3)] + new + text[m.end(3):]


def _build(d: Path, case: OsdmapCase, crush2: str | None, zero: int | None) -> None:
    """``om`` (and its ``osd_dump.json`` / ``crush.json``) in ``d``: the case's recipe, then optionally a CRUSH
    weight set to 0 (``--adjust-crush-weight N:0 --save``) or a new CRUSH map with another failure domain."""
    d.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes | str] = {"crush.txt": case.crush_text}
    _, f = _tool("pacific", "crushtool", ["-c", "crush.txt", "-o", "crush.bin"], files)
    files = {"crush.bin": f["crush.bin"]}
    _, f = _tool("pacific", "osdmaptool", ["om", "--createsimple", str(case.num_osds), "--with-default-pool",
                                           "--pg-bits", str(case.pg_bits), "--pgp-bits", str(case.pgp_bits),
                                           "--clobber"], files)
    files["om"] = f["om"]
    _, f = _tool("pacific", "osdmaptool", ["om", "--import-crush", "crush.bin"], files)
    files["om"] = f["om"]
    steps = []
    if case.save_adjust:
        steps.append(["--adjust-crush-weight", ",".join(f"{o}:{w}" for o, w in case.save_adjust), "--save"])
    if case.upmap:
        dev, mx = case.upmap
        steps.append(["--mark-up-in", "--upmap", "upmap.txt", "--upmap-deviation", str(dev), "--upmap-max", str(mx),
                      "--save"])
    if zero is not None:
        steps.append(["--adjust-crush-weight", f"{zero}:0", "--save"])
    for s in steps:
        _, f = _tool("pacific", "osdmaptool", ["om", *s], files)
        files["om"] = f["om"]
    if crush2 is not None:
        _, f = _tool("pacific", "crushtool", ["-c", "crush2.txt", "-o", "crush2.bin"], {"crush2.txt": crush2})
        _, f = _tool("pacific", "osdmaptool", ["om", "--import-crush", "crush2.bin"],
                     {"om": files["om"], "crush2.bin": f["crush2.bin"]})
        files["om"] = f["om"]
    _, f = _tool("pacific", "osdmaptool", ["om", "--export-crush", "final.bin"], {"om": files["om"]})
    crush_json, _ = _tool("pacific", "crushtool", ["-i", "final.bin", "--dump"], {"final.bin": f["final.bin"]})
    dump_text, _ = _tool("pacific", "osdmaptool", ["om", "--dump", "json"], {"om": files["om"]})
    dump = json.loads(dump_text)
    # --createsimple OSDs only exist once marked up/in (in memory); every run here uses --mark-up-in
    dump["osds"] = [{"osd": i, "uuid": "00000000-0000-0000-0000-000000000000", "up": 1, "in": 1, "weight": 1.0,
                     "primary_affinity": 1.0, "state": ["exists", "up"]} for i in range(case.num_osds)]
    dump["max_osd"] = case.num_osds
    (d / "om").write_bytes(files["om"])
    (d / "crush.json").write_text(crush_json)
    (d / "osd_dump.json").write_text(json.dumps(dump))


def _variants(case: OsdmapCase, with_items: bool) -> list[list[str]]:
    rng = random.Random(case.seed * 31 + 7)
    out = []
    for _ in range(3 if with_items else 2):
        v = ["--upmap", "out.txt", "--upmap-max", str(rng.choice([1, 3, 10, 40, 200])), "--upmap-deviation",
             str(rng.choice([1, 1, 2, 3, 5]))]
        if rng.random() < 0.3:
            v += ["--upmap-pool", "rbd"]
        if rng.random() < 0.35:
            v = ["--mark-out", str(rng.randrange(case.num_osds)), *v]
        out.append(v)
    if with_items:
        out.append(["--mark-out", str(rng.randrange(case.num_osds)), "--upmap-cleanup", "out.txt"])
    return out


def _emulate(snap: pgtools.Snapshot, args: list[str], release: str, stdout: str, mark_up_in: bool):
    kw: dict = {"mark_up_in": mark_up_in, "ceph_release": release}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--mark-out":
            kw["mark_out"] = int(args[i + 1])
        elif a in ("--upmap", "--upmap-cleanup"):
            kw["upmap_file"] = args[i + 1]
            kw["cleanup_only"] = a == "--upmap-cleanup"
        elif a == "--upmap-max":
            kw["upmap_max"] = int(args[i + 1])
        elif a == "--upmap-deviation":
            kw["upmap_deviation"] = int(args[i + 1])
        elif a == "--upmap-pool":
            kw.setdefault("upmap_pools", []).append(args[i + 1])
        else:
            raise AssertionError(a)
        i += 2
    m = re.search(r"^pools ((?:\S+ )+)$", stdout, flags=re.M)
    if m:
        kw["pool_order"] = m.group(1).split()
    return osdmaptool_upmap(snap, **kw)


def _compare(d: Path, snap: pgtools.Snapshot, args: list[str], release: str, what: str, *,
             mark_up_in: bool = True) -> int:
    """One osdmaptool run against pgtools; returns the number of command lines compared (-1: undefined in Ceph)."""
    full = ["om", *(["--mark-up-in"] if mark_up_in else []), AGGR, *args]
    stdout, files = _tool(release, "osdmaptool", full, {"om": d / "om"})
    ref_cmds = files.get("out.txt", b"").decode()
    try:
        plan = _emulate(snap, args, release, stdout, mark_up_in)
    except UndefinedRemapError:
        return -1
    if "-" in args:  # the commands are part of stdout
        ref_cmds = plan.text if files.get("out.txt") is None else "(a file)"
    if plan.stdout != stdout or plan.text != ref_cmds:
        pytest.fail(f"{what} ({release}): osdmaptool {' '.join(full)}\n--- osdmaptool stdout ---\n{stdout}"
                    f"--- pgtools stdout ---\n{plan.stdout}--- osdmaptool out.txt ---\n{ref_cmds}"
                    f"--- pgtools ---\n{plan.text}")
    return len(plan.commands)


def test_random_osdmaps_upmap_like_osdmaptool(tmp_path: Path) -> None:
    need("pacific")
    n = budget(40, 15)
    t0 = time.perf_counter()
    runs = lines = undefined = cleanups = cleanup_lines = 0
    per_release = {"pacific": 0, "reef": 0, "tentacle": 0}
    for k, seed in enumerate(range(FIRST_SEED, FIRST_SEED + n)):
        case = osdmap_case(seed)
        rng = random.Random(seed)
        crush2 = zero = None
        if case.upmap and rng.random() < 0.5:
            if rng.random() < 0.5:
                crush2 = _rule_variant(case.crush_text)
            else:
                zero = rng.randrange(case.num_osds)
        d = tmp_path / f"om{seed}"
        _build(d, case, crush2, zero)
        snap = pgtools.load([d / "osd_dump.json", d / "crush.json"])
        releases = ["pacific"] + ([r for r in ("reef", "tentacle") if available(r)] if k % RELEASE_EVERY == 0 else [])
        with_items = bool(json.loads((d / "osd_dump.json").read_text()).get("pg_upmap_items"))
        for args in _variants(case, with_items):
            for release in releases:
                got = _compare(d, snap, args, release, f"seed {seed}")
                runs += 1
                per_release[release] += 1
                if got < 0:
                    undefined += 1
                else:
                    lines += got
                    if "--upmap-cleanup" in args:
                        cleanups += 1
                        cleanup_lines += got
    print(f"\nupmap balancer oracle: {n} osdmaps, {runs} osdmaptool runs {per_release}, {lines} command lines, "
          f"{cleanups} cleanup runs ({cleanup_lines} lines), {undefined} skipped (undefined in Ceph), {time.perf_counter() - t0:.1f} s")
    assert lines >= n
    assert cleanup_lines >= 1 or n < 10
    assert undefined <= runs // 10


@pytest.mark.parametrize("release", ["pacific", "reef", "tentacle"])
def test_ceph_cli_maps(release: str, tmp_path: Path) -> None:
    """``upmap.t`` / ``upmap-out.t``: ``om-racks`` (``--upmap-max 11``, and with ``--mark-out 147``)."""
    need(release)
    gen = _cli_gen()
    d = tmp_path
    (d / "om").write_bytes((gen / "om-racks").read_bytes())
    dump = json.loads((gen / "om-racks.osd_dump.json").read_text())
    snap = pgtools.load([gen / "om-racks.osd_dump.json", gen / "om-racks.crush.bin"])
    assert dump["max_osd"] > 200
    total = 0
    for args in (["--upmap", "out.txt", "--upmap-max", "11"],
                 ["--mark-out", "147", "--upmap", "out.txt", "--upmap-max", "11"],
                 ["--upmap", "out.txt", "--upmap-max", "30", "--upmap-deviation", "1", "--upmap-pool", "rbd"]):
        got = _compare(d, snap, args, release, "om-racks")
        assert got > 0
        total += got
    assert total >= 30


def test_seed_map(tmp_path: Path) -> None:
    """The seed-like capture's real osdmap (16.2.15, 12 OSDs, 15 pools of 128 PGs): osdmaptool shuffles the pool
    order (its ``pools`` line is passed on); then the map saved with 60 balancer items, cleaned after
    ``--mark-out``."""
    need("pacific")
    if not (REAL / "osdmap.bin").exists():
        pytest.skip(f"no {REAL}/osdmap.bin")
    (tmp_path / "om").write_bytes((REAL / "osdmap.bin").read_bytes())
    snap = pgtools.load(tmp_path / "om")
    total = 0
    for args in (["--upmap", "out.txt"], ["--upmap", "out.txt", "--upmap-max", "100", "--upmap-deviation", "1"],
                 ["--mark-out", "4", "--upmap", "out.txt", "--upmap-max", "1000", "--upmap-deviation", "1"],
                 ["--upmap", "out.txt", "--upmap-max", "20", "--upmap-deviation", "1", "--upmap-pool", "rbd",
                  "--upmap-pool", "images"]):
        total += _compare(tmp_path, snap, args, "pacific", "seed map", mark_up_in=False)
    _, files = _tool("pacific", "osdmaptool", ["om", AGGR, "--upmap", "x.txt", "--upmap-max", "60",
                                               "--upmap-deviation", "1", "--save"], {"om": tmp_path / "om"})
    (tmp_path / "om").write_bytes(files["om"])
    saved = pgtools.load(tmp_path / "om")
    assert len(saved.osdmap.pg_upmap_items) >= 30
    cleaned = 0
    for osd in (0, 5, 11):
        cleaned += _compare(tmp_path, saved, ["--mark-out", str(osd), "--upmap-cleanup", "out.txt"], "pacific",
                            "seed map + 60 items", mark_up_in=False)
    total += _compare(tmp_path, saved, ["--upmap", "out.txt", "--upmap-max", "50", "--upmap-deviation", "1"],
                      "pacific", "seed map + 60 items", mark_up_in=False)
    assert total >= 100
    assert cleaned >= 3


#: real osdmaps (16.2.15 clusters, and the Tentacle 20.2.4 mixed sample): erasure-coded pools, device classes,
#: down/out OSDs, reweights, primary affinity and existing upmap items; the mixed capture (repository) also runs
#: on Reef and Tentacle
REAL_MAPS = [SAMPLE_DUMPS / "mixed" / "osdmap.bin", SAMPLE_DUMPS / "mixed_tentacle" / "osdmap.bin"] + [CRUSH_CASES / n / "osdmap.bin" for n in (
    "01_flat10_hosts_straw2_firstn", "17_rules_multistep_firstn", "22_osdmap_pools_pgnum",
    "23_osdmap_reweight_out_down_affinity_upmap", "24_upmap_unbalanced_base")]


@pytest.mark.parametrize("path", REAL_MAPS, ids=lambda p: p.parent.name)
def test_real_osdmaps(path: Path, tmp_path: Path) -> None:
    need("pacific")
    if not path.exists():
        pytest.skip(f"no {path}")
    (tmp_path / "om").write_bytes(path.read_bytes())
    snap = pgtools.load(tmp_path / "om")
    if path.parent.name == "mixed_tentacle":  # a Tentacle 20.2.4 cluster's map (Reef's osdmaptool cannot decode it)
        need("tentacle")
        releases = ["tentacle"]
    else:
        releases = ["pacific"] + ([r for r in ("reef", "tentacle") if available(r)] if path.parent.name == "mixed"
                                  else [])
    total = 0
    for args in (["--upmap", "out.txt"], ["--upmap", "out.txt", "--upmap-max", "100", "--upmap-deviation", "1"],
                 ["--mark-out", "1", "--upmap", "out.txt", "--upmap-max", "500", "--upmap-deviation", "1"],
                 ["--mark-out", "3", "--upmap-cleanup", "out.txt"],
                 ["--mark-out", "2", "--upmap", "-", "--upmap-max", "30", "--upmap-deviation", "1"]):
        for release in releases:
            total += _compare(tmp_path, snap, args, release, path.parent.name, mark_up_in=False)
    assert total >= 20


def _cli_gen() -> Path:
    if not (CLI_GEN / "om-racks").exists():
        pytest.skip(f"Ceph CLI test maps not found ({CLI_GEN}/om-racks)")
    return CLI_GEN
