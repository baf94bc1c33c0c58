"""Differential suite for the binary CRUSH map reader (:meth:`pgtools.CrushMap.from_binary`).

Each random map (:func:`tests.oracle._maps.crush_case`) is compiled by ``crushtool -c m.txt -o m.bin``;
pgtools reads ``m.bin`` and must

* describe the same map as ``crushtool -i m.bin --dump`` read by :meth:`CrushMap.from_dump` (buckets,
  items, weights, rules, tunables, devices, classes, choose_args), and write back the same bytes up to
  the device classes (``tests.crush._crushbin_tools.py``);
* map like ``crushtool -i m.bin --test --show-mappings`` (every rule, every num_rep of its range) with
  each engine;
* reweight like ``crushtool -i m.bin --reweight-item osd.N W -o m2.bin``: ``with_item_weight`` gives the
  buckets of ``m2.bin``, stored straws and tree node weights included.

Then two cases only a binary map gets right: legacy straw buckets whose stored straws were computed under
``straw_calc_version`` 0 in a map that now says 1 (``crushtool --set-straw-calc-version 1`` keeps the
stored straws), and class shadow tree buckets with uninitialised node weights.
"""

from __future__ import annotations

import json
import random
import re
import struct
import subprocess
import warnings
from pathlib import Path

import pytest

from pgtools.crush import CrushMap
from pgtools.crush.buckets import STRAW, TREE, calc_straws
from pgtools.crush.map import float_to_16_16_f32
from pgtools.errors import CephUndefinedBehaviourWarning
from pgtools.io import crushmap_from_binary, crushmap_from_dump, crushmap_from_text
from pgtools.io.bundle import _TEXT_WEIGHT_TOLERANCE
from tests.crush._crushbin_tools import encode, watched_mapping
from tests.oracle._maps import CrushCase, budget, crush_case, prefetched
from tests.oracle.test_crushtool_random import (
    CRUSHTOOL,
    ENGINES,
    NUMPY_EVERY,
    _mapping_lines,
    _need_crushtool,
    _ours,
    _reference,
)
from tests.paths import TEST_DATA

pytestmark = pytest.mark.oracle

FIRST_SEED = 30_000


def _run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([CRUSHTOOL, *map(str, args)], capture_output=True, text=True, timeout=30)


def _dump(binp: Path) -> CrushMap:
    p = _run("-i", binp, "--dump")
    assert p.returncode == 0, p.stderr
    return crushmap_from_dump(json.loads(p.stdout), source=f"crushtool -i {binp.name} --dump")


def _prepare(tmp: Path, case: CrushCase) -> dict:
    """crushtool's side of one map (run in a worker thread): compile + test, dump, one reweight."""
    out: dict = {"test": _reference(tmp, case)}
    if out["test"].returncode != 0:
        return out
    binp = tmp / f"m{case.seed}.bin"
    out["dump"] = _run("-i", binp, "--dump")
    out["decompiled"] = _run("-d", binp)
    devices = [int(d) for d in re.findall(r"^device (\d+) ", case.text, flags=re.M)]
    held = [int(d) for d in re.findall(r"^\titem osd\.(\d+) ", case.text, flags=re.M)]
    rng = random.Random(case.seed)
    if held:
        osd = rng.choice(held)
        w = rng.choice([0.0, 0.00002, 0.3, 1.0, 2.5, 9.75])
        rw = tmp / f"m{case.seed}_rw.bin"
        out["reweight"] = (osd, w, _run("-i", binp, "--reweight-item", f"osd.{osd}", repr(w), "-o", rw), rw)
    out["devices"] = devices
    return out


def _header_max_buckets(data: bytes) -> int:
    return struct.unpack_from("<i", data, 4)[0]


def _same_map(ours: CrushMap, theirs: CrushMap) -> list[str]:
    """Differences between the map read from the binary and crushtool's JSON dump of it."""
    diff = ours.differences(theirs, limit=20)
    for what in ("types", "tunables", "choose_args", "max_devices", "class_bucket"):
        if getattr(ours, what) != getattr(theirs, what):
            diff.append(f"{what}: {getattr(ours, what)} vs {getattr(theirs, what)}")
    # the JSON dump lists every id below max_devices ("device<N>" when unnamed); the binary names them
    named = {d: v for d, v in theirs.devices.items() if d in ours.devices or v != (f"device{d}", None)}
    if ours.devices != named:
        diff.append(f"devices: {ours.devices} vs {named}")
    return diff


def test_random_binary_maps_match_crushtool(tmp_path: Path) -> None:
    _need_crushtool()
    n = budget(200, 40)
    maps = mappings = reweights = 0
    seen = dict.fromkeys(["straw", "tree", "list", "uniform", "classes", "choose_args"], 0)
    runs = prefetched(crush_case, lambda c: _prepare(tmp_path, c), range(FIRST_SEED, FIRST_SEED + n))
    for i, (case, ref) in enumerate(runs):
        if ref["test"].returncode != 0:
            continue
        binp = tmp_path / f"m{case.seed}.bin"
        data = binp.read_bytes()
        cm = crushmap_from_binary(data, source=str(binp))
        where = f"seed {case.seed} ({binp})"
        # structure: the same map as crushtool's JSON dump of the binary, and the same bytes back
        assert ref["dump"].returncode == 0, ref["dump"].stderr
        theirs = crushmap_from_dump(json.loads(ref["dump"].stdout))
        assert _same_map(cm, theirs) == [], f"{where}\n{case.text}"
        enc = encode(cm, max_buckets=_header_max_buckets(data), stop_after="stable")
        assert data[:len(enc)] == enc, where
        # crushtool's text of the binary agrees within what a capture merge tolerates (pgtools.io.bundle)
        assert ref["decompiled"].returncode == 0, ref["decompiled"].stderr
        text = crushmap_from_text(ref["decompiled"].stdout)
        assert cm.differences(text, weight_tolerance=_TEXT_WEIGHT_TOLERANCE, shadows=False) == [], where
        # mappings, every engine
        expected = _mapping_lines(ref["test"])
        for engine in [e for e in ENGINES if e != "numpy" or i % NUMPY_EVERY == 0]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CephUndefinedBehaviourWarning)
                got = "".join(t for _, _, t in _ours(cm, case, engine))
            assert got == expected, f"{where} engine {engine}: mappings differ from crushtool\n{case.text}"
        # crushtool --reweight-item against with_item_weight
        if "reweight" in ref:
            osd, w, p, rw = ref["reweight"]
            assert p.returncode == 0, p.stderr
            after = crushmap_from_binary(rw.read_bytes())
            mine = cm.with_item_weight(osd, float_to_16_16_f32(w))
            bad = [bid for bid in after.buckets if after.buckets[bid] != mine.buckets.get(bid)]
            assert not bad, (f"{where}: --reweight-item osd.{osd} {w}: buckets {bad} differ\n"
                             f"crushtool {[after.buckets[b] for b in bad[:2]]}\n"
                             f"pgtools   {[mine.buckets.get(b) for b in bad[:2]]}")
            # weight sets only matter (and only survive Ceph's decode) on straw2 buckets
            def straw2(m: CrushMap) -> dict:
                return {k: {b: ca for b, ca in v.items() if m.buckets[b].alg == 5} for k, v in m.choose_args.items()}
            assert straw2(mine) == straw2(after), where
            reweights += 1
        maps += 1
        mappings += expected.count("\n")
        algs = {b.alg for b in cm.buckets.values()}
        seen["straw"] += STRAW in algs
        seen["tree"] += TREE in algs
        seen["list"] += 2 in algs
        seen["uniform"] += 1 in algs
        seen["classes"] += bool(cm.class_bucket)
        seen["choose_args"] += bool(cm.choose_args)
    print(f"\nbinary maps: {maps} maps, {mappings} mappings, {reweights} reweights; maps with {seen}")
    assert maps >= 0.95 * n
    assert reweights >= 0.8 * maps
    if n >= 40:
        assert min(seen.values()) >= n // 20, seen


def _straw_v0_text(case: CrushCase) -> str:
    """``case``'s map with every bucket a legacy straw bucket, straws computed under straw_calc_version 0."""
    text = re.sub(r"\talg \w+\n", "\talg straw\n", case.text)
    text = re.sub(r"tunable straw_calc_version \d", "tunable straw_calc_version 0", text)
    if "tunable straw_calc_version" not in text:
        text = "tunable straw_calc_version 0\n" + text
    idx = text.find("choose_args ")
    return text if idx < 0 else text[:idx]


def test_straw_calc_version_change_keeps_stored_straws(tmp_path: Path) -> None:
    """Compiled under straw_calc_version 0, then ``--set-straw-calc-version 1``: Ceph keeps the v0 straws.

    pgtools from the binary uses the stored straws and maps like crushtool; from the JSON dump (which has
    no straws) it can only recompute them with the map's version 1, and maps differently where the two
    versions' straws differ (equal item weights: version 0's known bug).
    """
    _need_crushtool()
    n = budget(60, 15)
    maps = differ_straws = differ_json = 0
    for seed in range(FIRST_SEED, FIRST_SEED + n):
        case = crush_case(seed)
        case.text = _straw_v0_text(case)
        src = tmp_path / f"s{seed}.txt"
        src.write_text(case.text)
        p = _run("-c", src, "-o", src.with_suffix(".bin"))
        if p.returncode != 0 and "has no class information" in p.stderr:
            case.text = re.sub(r"(step take \S+) class \S+", r"\1", case.text)
            src.write_text(case.text)
            p = _run("-c", src, "-o", src.with_suffix(".bin"))
        assert p.returncode == 0, p.stderr
        v1 = tmp_path / f"s{seed}_v1.bin"
        assert _run("-i", src.with_suffix(".bin"), "--set-straw-calc-version", "1", "-o", v1).returncode == 0
        cm = crushmap_from_binary(v1.read_bytes())
        assert cm.tunables.straw_calc_version == 1
        stale = False
        for b in cm.buckets.values():
            if b.alg == STRAW and b.size:
                assert list(b.straws) == calc_straws(b.weights, 0) == cm.straws(b.id), (seed, b)
                stale |= calc_straws(b.weights, 1) != calc_straws(b.weights, 0)
        differ_straws += stale
        p = _run("-i", v1, *case.test_args())
        assert p.returncode == 0, p.stderr
        expected = _mapping_lines(p)
        for engine in ENGINES:
            got = "".join(t for _, _, t in _ours(cm, case, engine))
            assert got == expected, f"seed {seed} engine {engine}\n{case.text}"
        from_json = "".join(t for _, _, t in _ours(_dump(v1), case, ENGINES[-1]))
        if stale:
            differ_json += from_json != expected
        else:
            assert from_json == expected, seed
        maps += 1
    print(f"\nstraw v0 -> v1: {maps} maps, {differ_straws} with stale v0 straws, "
          f"{differ_json} of them mapped differently from the JSON dump")
    assert differ_straws >= n // 3 and differ_json >= 1


def test_class_tree_from_binary(tmp_path: Path) -> None:
    """``tests/data/oracle/class_tree_osdmap.txt`` compiled: host-0-0~ssd is a cloned tree bucket.

    Its stored interior node weights are heap garbage (node 6 = 878098523 here, against 471859 for its
    left child), so most descents through it end on leaf 3, past its 3 items.  pgtools from the binary
    follows the stored node weights: every x whose descent stays within the items maps exactly like
    crushtool, with every engine.  For the others Ceph reads ``items[3]``, past the array: undefined;
    pgtools takes the bad-item path (no OSD for that try) and warns.  Why crushtool differs there: it
    reads 0 (osd.0), the zeroed padding glibc's ``calloc`` leaves after a 12-byte array; the reference
    mapper made to return 0 instead reproduces crushtool on every x.
    """
    _need_crushtool()
    src = tmp_path / "ct.txt"
    src.write_text((TEST_DATA / "oracle" / "class_tree_osdmap.txt").read_text())
    binp = src.with_suffix(".bin")
    # which garbage depends on what crushtool allocated before, the file names given included: compiled in the
    # folder by the same plain names wherever pytest's temporary folder is (given an xdist worker's longer
    # path, the garbage sent every descent within the items and the test below checked nothing past them)
    compiled = subprocess.run([CRUSHTOOL, "-c", src.name, "-o", binp.name], cwd=tmp_path, capture_output=True,
                              text=True, timeout=30)
    assert compiled.returncode == 0, compiled.stderr
    cm = crushmap_from_binary(binp.read_bytes(), source=str(binp))
    shadow = cm.buckets[-1005]
    assert shadow.name == "host-0-0~ssd" and shadow.items == (0, 1, 2)
    assert cm.node_weights(-1005) == list(shadow.node_weights)
    (msg,) = cm.undefined_behaviour(0)
    assert "host-0-0~ssd (-1005)" in msg and "leaf 3, past its 3 items" in msg
    num_x = 256
    within = past = 0
    for num_rep in (1, 2, 3):
        p = _run("-i", binp, "--test", "--show-mappings", "--rule", 0, "--num-rep", num_rep, "--min-x", 0,
                 "--max-x", num_x - 1)
        theirs = _mapping_lines(p).splitlines()
        assert len(theirs) == num_x
        case = CrushCase(0, src.read_text(), {0: (num_rep, num_rep)}, num_x)
        engines = {}
        for engine in ENGINES:
            with pytest.warns(CephUndefinedBehaviourWarning, match="host-0-0~ssd"):
                engines[engine] = _ours(cm, case, engine)[0][2].splitlines()
        for x in range(num_x):
            res, hit = watched_mapping(cm, 0, num_rep, x)
            line = f"CRUSH rule 0 x {x} [{','.join(map(str, res))}]"
            assert all(e[x] == line for e in engines.values()), (num_rep, x)
            if hit:
                past += 1
                zero, _ = watched_mapping(cm, 0, num_rep, x, past_value=0)
                assert theirs[x] == f"CRUSH rule 0 x {x} [{','.join(map(str, zero))}]", (num_rep, x)
            else:
                within += 1
                assert theirs[x] == line, (num_rep, x)
    print(f"\nclass tree: {within} mappings within the items (equal to crushtool), {past} past the last item")
    assert within >= 200 and past >= 200
    # from the JSON dump pgtools can only use the intended node weights: most of those x differ
    js = _dump(binp)
    assert js.node_weights(-1005) != cm.node_weights(-1005)
