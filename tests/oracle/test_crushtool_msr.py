"""Differential suite: MSR CRUSH rules (``msr_firstn``/``msr_indep``, Squid and later) against Tentacle's crushtool.

Each random map (:func:`msr_case`: root -> optional racks -> hosts -> OSDs of every bucket algorithm, zero
weights, device classes, ``msr_descents``/``msr_collision_tries`` tunables, compat weight sets with positions)
carries MSR rules of several shapes: ``choosemsr`` over hosts then OSDs, over racks, hosts and OSDs, straight
over OSDs, ``step set_msr_descents``/``set_msr_collision_tries`` prefixes, two ``take ... emit`` blocks, class
takes, a bucket take, malformed rules (Ceph maps those to nothing).  Tentacle 20.2.4 compiles it
(``crushtool -c m.txt -o m.bin``), tests it in one run (``crushtool -i m.bin --test --show-mappings``, every
rule, num_rep around what the rules need, ``--weight`` reweights, sometimes ``--pool-id``) and dumps it
(``--dump``); pgtools reads the binary, the JSON dump and the text, which must give the same map, and maps it
with every engine (:func:`pgtools.crush.crushtool_test`), line for line.

:func:`test_msr_refused_before_squid` pins what Pacific and Reef do with the same maps;
:func:`test_msr_firstn_pool_through_osdmaptool` runs a pool on an MSR rule through Tentacle's osdmaptool.

``PGTOOLS_ORACLE_MAPS=N`` sets the number of maps (default: 60 with ``CI=true``, 12 locally).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import pgtools
from pgtools.crush import CrushMap, crushtool_test, have_numba
from pgtools.io import crushmap_from_binary, crushmap_from_text
from pgtools.io.crush_json import crushmap_from_dump
from pgtools.placement.osdmaptool import osdmaptool_output
from tests.ceph_release_tools import ceph_version, need, run
from tests.oracle._maps import CrushCase, budget
from tests.oracle._msr_maps import FIRST_SEED, msr_case

pytestmark = pytest.mark.oracle

ENGINES = ["numpy"] + (["numba"] if have_numba() else [])
#: the NumPy engine (vectorised crush_msr_do_rule, :mod:`pgtools.crush.vecmsr`) is compared on every input of every
#: NUMPY_EVERY-th map when numba is installed (numba on every map; ``tests/crush/test_msr.py`` compares the two
#: engines without Ceph): its per-step overhead costs ~0.5 s a map, most on the maps with Ceph's default MSR
#: tunables; on every map without numba
NUMPY_EVERY = 4 if have_numba() else 1


def _lines(text: str) -> str:
    return "".join(ln + "\n" for ln in text.splitlines() if ln.startswith("CRUSH "))


def _ours(cm: CrushMap, case: CrushCase, engine: str) -> str:
    """pgtools' lines for ``case`` with ``engine``."""
    saved = os.environ.get("PGTOOLS_CRUSH_ENGINE")
    os.environ["PGTOOLS_CRUSH_ENGINE"] = engine
    try:
        return "".join(crushtool_test(cm, rule, nr, 0, case.num_x - 1, case.reweights, case.pool_id)
                       for rule, (lo, hi) in sorted(case.rules.items()) for nr in range(lo, hi + 1))
    finally:
        if saved is None:
            os.environ.pop("PGTOOLS_CRUSH_ENGINE", None)
        else:
            os.environ["PGTOOLS_CRUSH_ENGINE"] = saved


def _tentacle(case: CrushCase) -> tuple[bytes, str, str]:
    """(binary map, mapping lines, --dump JSON) of Tentacle's crushtool for ``case``."""
    c = run("tentacle", "crushtool", ["-c", "m.txt", "-o", "m.bin"], {"m.txt": case.text}, timeout=30)
    assert c.returncode == 0, f"seed {case.seed}: crushtool -c failed: {c.stderr}\n{case.text}"
    binary = c.files["m.bin"]
    (lo, hi), = set(case.rules.values())
    t = run("tentacle", "crushtool", ["-i", "m.bin", *case.test_args(), "--min-rep", str(lo), "--max-rep", str(hi)],
            {"m.bin": binary}, timeout=60)
    assert t.returncode == 0, f"seed {case.seed}: crushtool --test failed: {t.stderr}\n{case.text}"
    d = run("tentacle", "crushtool", ["-i", "m.bin", "--dump"], {"m.bin": binary}, timeout=30)
    assert d.returncode == 0, d.stderr
    return binary, _lines(t.stdout + t.stderr), d.stdout


def _first_diff(expected: str, got: str) -> str:
    for e, g in zip(expected.splitlines(), got.splitlines(), strict=False):
        if e != g:
            return f"crushtool: {e}\npgtools:   {g}"
    return f"{expected.count(chr(10))} lines from crushtool, {got.count(chr(10))} from pgtools"


def test_random_msr_maps_match_tentacle() -> None:
    need("tentacle")
    n = budget(60, 12)
    t0 = time.perf_counter()
    mappings = 0
    counts = dict.fromkeys(ENGINES, 0)
    seen = dict.fromkeys(["msr_indep", "msr_firstn", "racks", "class", "choose_args", "--weight", "NONE",
                          "empty rule", "pool-id", "tunable msr"], 0)
    for seed in range(FIRST_SEED, FIRST_SEED + n):
        case = msr_case(seed)
        binary, expected, dump = _tentacle(case)
        cm = crushmap_from_binary(binary, source=f"seed {seed} m.bin")
        from_text = crushmap_from_text(case.text, source=f"seed {seed} m.txt")
        from_json = crushmap_from_dump(json.loads(dump), source=f"seed {seed} --dump")
        assert cm.differences(from_text) == [], seed
        assert cm.differences(from_json) == [], seed
        assert any(r.is_msr for r in cm.rules.values())
        for engine in ENGINES:
            if engine == "numpy" and seed % NUMPY_EVERY:
                continue
            got = _ours(cm, case, engine)
            assert got == expected, (f"seed {seed} engine {engine}: {_first_diff(expected, got)}\n"
                                     f"--- map ---\n{case.text}")
            counts[engine] += expected.count("\n")
        mappings += expected.count("\n")
        seen["msr_indep"] += "msr_indep" in case.text
        seen["msr_firstn"] += "msr_firstn" in case.text
        seen["racks"] += "type rack\n" in case.text
        seen["class"] += " class hdd\n" in case.text
        seen["choose_args"] += "choose_args" in case.text
        seen["--weight"] += bool(case.reweights)
        seen["NONE"] += "2147483647" in expected
        seen["empty rule"] += "[]" in expected
        seen["pool-id"] += case.pool_id != -1
        seen["tunable msr"] += "tunable msr_" in case.text
    wall = time.perf_counter() - t0
    print(f"\nMSR crushtool oracle, Ceph tentacle {ceph_version('tentacle')}: {n} maps, {mappings} mappings "
          f"(compared per engine: {counts}), {wall:.1f} s; maps with {seen}")
    assert mappings >= 500 * n
    assert counts["numpy"] >= mappings // (NUMPY_EVERY + 1)
    if n >= 40:
        assert min(seen.values()) >= n // 20, seen


@pytest.mark.parametrize("release", ["pacific", "reef"])
def test_msr_refused_before_squid(release: str) -> None:
    """Pinned: Pacific 16.2.15 and Reef 18.2.7 know no MSR rule; Tentacle's binary shows the opcodes.

    Their compiler refuses the first MSR rule (exit 1, ``m.txt:LINE error: parse error at ''`` where LINE is
    the line before that rule: the grammar fails on the whole rule).  Their ``--dump`` of Tentacle's binary prints the unknown steps raw
    (``{"opcode": 14, "arg1": 3, "arg2": 0}``): set_msr_descents is 14, set_msr_collision_tries 15,
    choosemsr 16 (``crush.h``), which pgtools reads back into the same rules as the binary (the MSR
    tunables, which those releases do not decode, are left out of their dump).  Their ``--test`` on such a
    map is not run: Reef maps ``take``/``emit`` only (``[-1]``) and then aborts (``double free``).
    """
    need(release)
    need("tentacle")
    case = msr_case(FIRST_SEED)
    p = run(release, "crushtool", ["-c", "m.txt", "-o", "m.bin"], {"m.txt": case.text}, timeout=30)
    line = case.text.splitlines().index("rule r0 {")  # 1-based: the line before the rule, where parsing stopped
    assert p.returncode == 1 and f"m.txt:{line} error: parse error at ''" in p.stderr, p.stderr
    binary, _, _ = _tentacle(case)
    d = run(release, "crushtool", ["-i", "m.bin", "--dump"], {"m.bin": binary}, timeout=30)
    assert d.returncode == 0, d.stderr
    raw = json.loads(d.stdout)
    ops = {s["opcode"] for r in raw["rules"] for s in r["steps"] if "opcode" in s}
    assert 16 in ops and ops <= {14, 15, 16}, ops
    assert "msr_descents" not in raw["tunables"]
    ours = crushmap_from_dump(raw, source=f"{release} --dump")
    tentacle = crushmap_from_binary(binary)
    assert {k: (r.type, r.steps) for k, r in ours.rules.items()} == \
        {k: (r.type, r.steps) for k, r in tentacle.rules.items()}


def _osdmap_with_rule0(tmp_path: Path, case: CrushCase, rule0: str, pg_bits: int) -> tuple[str, Path]:
    """Tentacle's ``osdmaptool --test-map-pgs-dump-all`` on an osdmap whose pool 1 uses ``rule0`` (rule 0 of
    ``case``'s map replaced); returns (its output, the directory with ``osd_dump.json`` and ``crush.json``)."""
    i = case.text.index("rule r0 {")
    text = case.text[:i] + rule0 + case.text[case.text.index("}", i) + 1:]
    nosd = text.count("\ndevice ")
    c = run("tentacle", "crushtool", ["-c", "c.txt", "-o", "c.bin"], {"c.txt": text}, timeout=30)
    assert c.returncode == 0, c.stderr
    o = run("tentacle", "osdmaptool", ["om", "--createsimple", str(nosd), "--with-default-pool", "--pg-bits",
                                       str(pg_bits), "--pgp-bits", str(pg_bits), "--clobber"], timeout=30)
    assert o.returncode == 0, o.stderr
    o = run("tentacle", "osdmaptool", ["om", "--import-crush", "c.bin"], {"om": o.files["om"], "c.bin": c.files["c.bin"]},
            timeout=30)
    assert o.returncode == 0, o.stderr
    om = o.files["om"]
    dump = json.loads(run("tentacle", "osdmaptool", ["om", "--dump", "json"], {"om": om}, timeout=30).stdout)
    assert [(p["pool"], p["type"], p["crush_rule"]) for p in dump["pools"]] == [(1, 1, 0)]
    # --createsimple OSDs only exist once marked up/in (in memory); the test runs with --mark-up-in
    dump["osds"] = [{"osd": k, "uuid": "00000000-0000-0000-0000-000000000000", "up": 1, "in": 1, "weight": 1.0,
                     "primary_affinity": 1.0, "state": ["exists", "up"]} for k in range(nosd)]
    dump["max_osd"] = nosd
    d = tmp_path / f"om{case.seed}"
    d.mkdir()
    (d / "osd_dump.json").write_text(json.dumps(dump))
    (d / "crush.json").write_text(run("tentacle", "crushtool", ["-i", "c.bin", "--dump"], {"c.bin": c.files["c.bin"]},
                                      timeout=30).stdout)
    ref = run("tentacle", "osdmaptool", ["om", "--mark-up-in", "--test-map-pgs-dump-all"], {"om": om}, timeout=60)
    assert ref.returncode == 0, ref.stderr
    return ref.stdout, d


def test_msr_firstn_pool_through_osdmaptool(tmp_path: Path) -> None:
    """A replicated pool on an ``msr_firstn`` rule, Tentacle's osdmaptool against ``osdmaptool_output``.

    ``osdmaptool --createsimple`` makes one replicated pool (size 3) on rule 0, here ``take default`` /
    ``choosemsr 0 type host`` / ``choosemsr 1 type osd`` (some hosts hold zero-weight OSDs only, so the retries
    matter).  osdmaptool cannot create an erasure-coded pool, so ``msr_indep`` is covered by crushtool only.
    """
    need("tentacle")
    rule0 = "rule r0 {\n\tid 0\n\ttype msr_firstn\n\tstep take default\n\tstep choosemsr 0 type host\n" \
            "\tstep choosemsr 1 type osd\n\tstep emit\n}"
    compared = 0
    for seed in range(FIRST_SEED, FIRST_SEED + 4):
        case = msr_case(seed)
        ref, d = _osdmap_with_rule0(tmp_path, case, rule0, 4 + seed % 3)
        snap = pgtools.load([d / "osd_dump.json", d / "crush.json"])
        got = osdmaptool_output(snap, ["--mark-up-in", "--test-map-pgs-dump-all"])
        assert got == ref, f"seed {seed}: {_first_diff(ref, got)}\n--- map ---\n{case.text}"
        compared += ref.count(" raw (")
    assert compared >= 4 * 16
