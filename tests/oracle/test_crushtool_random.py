"""Differential suite: random CRUSH maps mapped by Ceph's ``crushtool --test`` and by pgtools.

Each random map (see :mod:`tests.oracle._maps`) is compiled, then tested by ONE crushtool process
(``crushtool -i map.bin --test --show-mappings ...``: every rule, every ``num_rep`` in the rule's
min_size..max_size), and the same lines are produced by :func:`pgtools.crush.crushtool_test` with each
available CRUSH engine (NumPy vector path, numba kernel).  On a mismatch the map is shrunk (one x, one
rule and num_rep, then greedy line deletion) and the minimal map plus the crushtool command are shown.

The numba engine (when installed) is compared on every map, the NumPy path on every
``NUMPY_EVERY``-th map (it costs ~20 ms per rule x num_rep call; it is also checked against the scalar
reference in ``tests/crush``).  ``PGTOOLS_ORACLE_MAPS=N`` sets the number of maps (default: 1500 with
``CI=true``, 80 locally).

Every release is an oracle (:mod:`tests.ceph_release_tools`): Pacific 16.2.15 (the host) on all the maps, Reef
18.2.7 and Tentacle 20.2.4 (chroots, ``make ceph-releases``) on the first quarter of the same seeds
(:data:`SHARE`).  Those two dropped the rules' min_size/max_size, so they test every rule over the union of
the rules' num_rep ranges with an explicit ``--min-rep``/``--max-rep`` (:func:`_for_release`), and pgtools
computes the same ranges; :func:`test_rule_sizes_per_release` pins the difference.

pgtools' side of a map does not depend on the release, so it is computed once per session for the seeds the
newer releases test (:data:`_SHARED`): Pacific's run maps those seeds over the union range (every engine it
compares on that map) and compares its own rule ranges, a subset of the same blocks; Reef and Tentacle compare
their crushtool's output with the same blocks (numba on every map, NumPy on every ``NUMPY_EVERY``-th, as
before).  Every comparison is still made; only the identical pgtools computations are not repeated.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pgtools.crush import CrushMap, crushtool_test, have_numba
from pgtools.crush.buckets import tree_node_weights as intended_tree_nodes
from pgtools.errors import CephUndefinedBehaviourWarning
from pgtools.io import crushmap_from_binary, crushmap_from_text
from tests.ceph_release_tools import RELEASES, ToolRun, ceph_version, need, run
from tests.oracle._maps import CrushCase, budget, crush_case, delete_lines, prefetched
from tests.paths import TEST_DATA

CRUSHTOOL = shutil.which("crushtool")
ENGINES = ["numpy"] + (["numba"] if have_numba() else [])
NUMPY_EVERY = 25 if have_numba() else 1
FIRST_SEED = 10_000
#: maps per release: Pacific (the host) runs the whole budget, Reef and Tentacle (chroots) the first quarter of
#: the same seeds, which keeps the CI time in check (1500 + 2 x 375 maps with CI=true)
SHARE = {"pacific": 1, "reef": 4, "tentacle": 4}
NEWER = [r for r in RELEASES if RELEASES[r] is not None]
#: crushtool's message on a newer release when ``--test`` gets neither ``--num-rep`` nor ``--min-rep`` and
#: ``--max-rep``: Reef dropped the rules' min_size/max_size (``WARNING: min_size is no longer supported,
#: ignoring`` when compiling), so the default num_rep range is gone (see README, "Differences between releases")
NEEDS_REP = "must specify --num-rep or both --min-rep and --max-rep"

pytestmark = pytest.mark.oracle


def _need_crushtool(release: str = "pacific") -> None:
    need(release)


def _crushtool(src: Path, args: list[str], release: str = "pacific") -> ToolRun:
    """``crushtool -c src -o src.bin`` then ``crushtool -i src.bin ARGS``, with the crushtool of ``release``.

    Not ``crushtool -c src ARGS`` in one process: with class shadow trees and choose_args, the map
    tested right after compiling in the same process can map differently from the same map read
    back from its binary (seen with seed 10126: rule 0 x 12 gives [84] instead of [72] when all rules
    are tested); clusters only ever use decoded maps.  The binary is left at ``src.bin``; the stderr
    returned is the compiler's followed by the test's.
    """
    c = run(release, "crushtool", ["-c", "m.txt", "-o", "m.bin"], {"m.txt": src}, timeout=30)
    if c.returncode != 0:
        return c
    src.with_suffix(".bin").write_bytes(c.files["m.bin"])
    p = run(release, "crushtool", ["-i", "m.bin", *args], {"m.bin": c.files["m.bin"]}, timeout=30)
    p.stderr = c.stderr + p.stderr
    return p


def _for_release(case: CrushCase, release: str) -> CrushCase:
    """The case as tested on ``release``: on Reef and later every rule over the union of the rules' num_rep
    ranges (``--min-rep``/``--max-rep``), as those releases keep no per-rule min_size/max_size."""
    if release == "pacific":
        return case
    lo = min(a for a, _ in case.rules.values())
    hi = max(b for _, b in case.rules.values())
    return CrushCase(case.seed, case.text, dict.fromkeys(case.rules, (lo, hi)), case.num_x, case.reweights,
                     case.pool_id)


def _test_args(case: CrushCase, release: str) -> list[str]:
    if release == "pacific":
        return case.test_args()
    (lo, hi), = set(case.rules.values())
    return [*case.test_args(), "--min-rep", str(lo), "--max-rep", str(hi)]


def _mapping_lines(p: ToolRun | subprocess.CompletedProcess) -> str:
    return "".join(ln + "\n" for ln in (p.stdout + p.stderr).splitlines() if ln.startswith("CRUSH "))


def _ours(cm: CrushMap, case: CrushCase, engine: str, rules=None, x0: int = 0, x1: int | None = None) -> list:
    """[(rule, num_rep, text)] in crushtool's order, computed with ``engine``."""
    saved = os.environ.get("PGTOOLS_CRUSH_ENGINE")
    os.environ["PGTOOLS_CRUSH_ENGINE"] = engine
    try:
        x1 = case.num_x - 1 if x1 is None else x1
        out = []
        for rule, (lo, hi) in sorted((rules or case.rules).items()):
            for nr in range(lo, hi + 1):
                out.append((rule, nr, crushtool_test(cm, rule, nr, x0, x1, case.reweights, case.pool_id)))
        return out
    finally:
        if saved is None:
            os.environ.pop("PGTOOLS_CRUSH_ENGINE", None)
        else:
            os.environ["PGTOOLS_CRUSH_ENGINE"] = saved


#: pgtools' mapping blocks shared between releases: {(seed, map text, engine): {(rule, num_rep): lines}}, each
#: computed over the union of the map's num_rep ranges (what Reef and Tentacle test, :func:`_for_release`)
_SHARED: dict[tuple[int, str, str], dict[tuple[int, int], str]] = {}


def _ours_shared(cm: CrushMap, case: CrushCase, engine: str) -> list:
    """:func:`_ours` for ``case`` (any release's ranges), from blocks computed once over the union range.

    The blocks of one (rule, num_rep) do not depend on the other sizes tested, so Pacific's per-rule ranges
    are a subset of the union's blocks and Reef's and Tentacle's are all of them.
    """
    key = (case.seed, case.text, engine)
    blocks = _SHARED.get(key)
    if blocks is None:
        blocks = _SHARED[key] = {(r, nr): t for r, nr, t in _ours(cm, _for_release(case, "reef"), engine)}
    return [(r, nr, blocks[r, nr]) for r, (lo, hi) in sorted(case.rules.items()) for nr in range(lo, hi + 1)]


def _first_diff(expected: str, blocks: list) -> tuple[int, int, int] | None:
    """(rule, num_rep, x) of the first line that differs, or None when equal."""
    exp = expected.splitlines()
    pos = 0
    for rule, nr, text in blocks:
        for ln in text.splitlines():
            if pos >= len(exp) or exp[pos] != ln:
                return rule, nr, int(ln.split()[4])
            pos += 1
    if pos != len(exp):
        parts = exp[pos].split()
        return int(parts[2]), -1, int(parts[4])
    return None


def _shrink(tmp: Path, case: CrushCase, rule: int, nr: int, x: int, engine: str,
            release: str = "pacific") -> tuple[str, list[str]]:
    """Minimal text map (and crushtool args) that still maps ``x`` differently."""
    src = tmp / "shrink.txt"
    one = CrushCase(case.seed, case.text, {rule: (nr, nr)}, case.num_x, case.reweights, case.pool_id)
    args = ["--test", "--show-mappings", "--rule", str(rule), "--num-rep", str(nr), "--x", str(x)]
    args += one.test_args()[6:]

    def differs(text: str) -> bool:
        src.write_text(text)
        p = _crushtool(src, args, release)
        if p.returncode != 0:
            return False
        try:
            cm = crushmap_from_text(text)
            got = _ours(cm, one, engine, x0=x, x1=x)[0][2]
        except Exception:
            return False
        return got != _mapping_lines(p)

    text = case.text
    if differs(text):
        text = delete_lines(text, differs)
    return text, args


def _reference(tmp: Path, case: CrushCase, release: str = "pacific") -> ToolRun:
    """crushtool's side for one map (compile, then test); may drop class takes crushtool refuses.

    ``case`` is the case as tested on ``release`` (:func:`_for_release`).
    """
    src = tmp / f"m{case.seed}.txt"
    src.write_text(case.text)
    p = _crushtool(src, _test_args(case, release), release)
    if p.returncode != 0 and "has no class information" in p.stderr:
        # crushtool refuses ``take X class C`` when X's subtree has no device of class C: drop the class
        case.text = re.sub(r"(step take \S+) class \S+", r"\1", case.text)
        src.write_text(case.text)
        p = _crushtool(src, _test_args(case, release), release)
    return p


def _check(tmp: Path, case: CrushCase, engines: list[str], p: ToolRun | None = None,
           release: str = "pacific", shared: bool = False) -> tuple[bool, int]:
    """Compare one map; returns (compiled, number of mappings compared); ``case.text`` is what was tested.

    ``p`` is crushtool's run from :func:`_reference` when the caller already has it; ``shared``: take pgtools'
    side from :func:`_ours_shared` (a seed every release tests).
    """
    if p is None:
        p = _reference(tmp, case, release)
    if p.returncode != 0:
        return False, 0
    src = tmp / f"m{case.seed}.txt"
    expected = _mapping_lines(p)
    cm = crushmap_from_text(case.text, source=str(src))
    for engine in engines:
        blocks = _ours_shared(cm, case, engine) if shared else _ours(cm, case, engine)
        got = "".join(t for _, _, t in blocks)
        if got != expected:
            diff = _first_diff(expected, blocks)
            rule, nr, x = diff if diff else (min(case.rules), 1, 0)
            text, args = _shrink(tmp, case, rule, nr, x, engine, release)
            src_min = tmp / "minimal.txt"
            src_min.write_text(text)
            pytest.fail(f"seed {case.seed} engine {engine} Ceph {release}: rule {rule} num_rep {nr} x {x} maps differently.\n"
                        f"command: crushtool -c minimal.txt -o m.bin; crushtool -i m.bin {' '.join(args)}\n--- minimal map ---\n{text}")
    return True, expected.count("\n")


@pytest.mark.parametrize("release", list(RELEASES))
def test_random_maps_match_crushtool(tmp_path: Path, release: str) -> None:
    """The same seeds on every release: all of the budget on Pacific, the first ``1/SHARE`` on the others."""
    _need_crushtool(release)
    n = max(1, budget(1500, 80) // SHARE[release])
    t0 = time.perf_counter()
    maps = mappings = refused = 0
    features = dict.fromkeys(["class take", "choose_args", "multi-emit", "indep", "pool-id", "--weight"], 0)
    per_engine = dict.fromkeys(ENGINES, 0)
    runs = prefetched(lambda seed: _for_release(crush_case(seed), release),
                      lambda c: _reference(tmp_path, c, release), range(FIRST_SEED, FIRST_SEED + n))
    shared = max(max(1, budget(1500, 80) // SHARE[r]) for r in NEWER) if NEWER else 0  # seeds all releases test
    for i, (case, ref) in enumerate(runs):
        engines = [e for e in ENGINES if e != "numpy" or i % NUMPY_EVERY == 0]
        ok, k = _check(tmp_path, case, engines, ref, release, shared=i < shared)
        if ok:
            features["class take"] += bool(re.search(r"step take \S+ class ", case.text))
            features["choose_args"] += "choose_args " in case.text
            features["multi-emit"] += "rule x" in case.text
            features["indep"] += " indep " in case.text
            features["pool-id"] += case.pool_id != -1
            features["--weight"] += bool(case.reweights)
        maps += ok
        refused += not ok
        mappings += k
        for e in engines:
            per_engine[e] += k
    wall = time.perf_counter() - t0
    print(f"\ncrushtool oracle, Ceph {release} {ceph_version(release)}: {maps} maps, {mappings} mappings (per engine: {per_engine}), "
          f"{refused} maps refused by crushtool, {wall:.1f} s; maps with {features}")
    assert maps >= 0.95 * n
    if n >= 50:
        assert min(features.values()) >= n // 40, features
    assert mappings >= 100 * maps


@pytest.mark.parametrize("release", list(RELEASES))
def test_rule_sizes_per_release(tmp_path: Path, release: str) -> None:
    """Pinned difference between releases: Reef and Tentacle keep no min_size/max_size in a rule.

    Same map (seed 10000, six rules with ``min_size``/``max_size``) on each release.  16.2.15 compiles it
    silently and ``--test --show-mappings`` without a num_rep tests every rule over its own min_size..max_size.
    18.2.7 and 20.2.4 warn ``min_size is no longer supported, ignoring`` (and the same for max_size) once per
    rule when compiling, and refuse the test (exit 1, :data:`NEEDS_REP`).  ``--min-rep``/``--max-rep`` are new
    options (16.2.15: ``unrecognized arguments``); with them, and with one ``--num-rep`` run per size on
    16.2.15, the three releases print the same mappings, pgtools' too.
    """
    need(release)
    case = crush_case(FIRST_SEED)
    cm = crushmap_from_text(case.text)
    src = tmp_path / "m.txt"
    src.write_text(case.text)
    p = _crushtool(src, case.test_args(), release)
    rules = case.text.count("\tmin_size ")
    assert rules == len(case.rules) == 6
    if release == "pacific":
        assert p.returncode == 0 and "no longer supported" not in p.stderr, p.stderr
        assert _mapping_lines(p) == "".join(t for *_, t in _ours(cm, case, ENGINES[-1]))
    else:
        assert p.returncode == 1 and NEEDS_REP in p.stderr and not _mapping_lines(p), p.stderr
        assert p.stderr.count("WARNING: min_size is no longer supported, ignoring") == rules
        assert p.stderr.count("WARNING: max_size is no longer supported, ignoring") == rules
    wide = _for_release(case, "reef")
    p = _crushtool(src, _test_args(wide, "reef"), release)
    ours = "".join(t for *_, t in _ours(cm, wide, ENGINES[-1]))
    if release == "pacific":  # no --min-rep/--max-rep yet: one --rule R --num-rep N run at a time
        assert p.returncode == 1 and "unrecognized arguments: [--min-rep," in p.stderr, p.stderr
        (lo, hi), = set(wide.rules.values())
        p.stdout = "".join(_mapping_lines(_crushtool(src, [*case.test_args(), "--rule", str(r), "--num-rep", str(nr)]))
                           for r in sorted(wide.rules) for nr in range(lo, hi + 1))
    assert _mapping_lines(p) == ours, p.stderr


def test_class_take_with_choose_args(tmp_path: Path) -> None:
    """Found by this suite (seed 10126), fixed: a text map with ``choose_args`` and ``step take X class C``.

    Host b-0-2-1 holds osd.26 (ssd, weight 0), osd.27 (hdd), osd.28 (ssd, weight 2); ``choose_args 0``
    gives it the weight_set [1.0 0.1 1.0].  crushtool's compiler clones the class shadow trees when it
    reaches the first rule, before it parses choose_args (which its grammar only accepts after the
    rules), so the ssd shadow bucket has no weight_set and uses its item weights: ``[28]`` for every x.
    pgtools used to derive a weight_set for the shadow bucket and printed ``[26]`` for x 37..41.
    """
    _need_crushtool()
    text = (TEST_DATA / "oracle" / "class_take_choose_args.txt").read_text()
    src = tmp_path / "m.txt"
    src.write_text(text)
    p = _crushtool(src, ["--test", "--show-mappings", "--rule", "0", "--num-rep", "2", "--min-x", "0",
                         "--max-x", "63"])
    expected = _mapping_lines(p)
    assert expected.count("\n") == 64
    assert "CRUSH rule 0 x 37 [28]\n" in expected
    crush = crushmap_from_text(text)
    assert -1066 not in crush.choose_args[0] and -15 in crush.choose_args[0]
    case = CrushCase(10126, text, {0: (2, 2)}, 64, {}, -1)
    for engine in ENGINES:
        assert _ours(crush, case, engine) == [(0, 2, expected)], engine
    # a choose_args block before the rules is a syntax error for crushtool
    early = text[:text.index("rule r0")] + text[text.index("choose_args"):] + text[text.index("rule r0"):
                                                                                  text.index("choose_args")]
    src.write_text(early)
    assert _crushtool(src, ["--test"]).returncode != 0


def test_class_take_legacy_tunables(tmp_path: Path) -> None:
    """Found by this suite (seed 10057), explained: a class take through a cloned **tree** bucket.

    ``crushtool -i m.bin --test --show-mappings --rule 2 --num-rep 4 --x 15`` prints ``[10,8,7,0]``, where
    osd.0 is not under root b at all.  The path goes through b-1-0-1~ssd, a 3-item tree bucket cloned
    item by item, whose interior node weights Ceph leaves uninitialised (see
    ``test_osdmaptool_random.test_class_take_tree_bucket``): the descent reaches leaf 7, past the third
    item, and reads past the items array.  Undefined in Ceph; pgtools warns and uses the intended weights.
    """
    _need_crushtool()
    text = (TEST_DATA / "oracle" / "class_take_legacy_tunables.txt").read_text()
    src = tmp_path / "m.txt"
    src.write_text(text)
    p = _crushtool(src, ["--test", "--show-mappings", "--rule", "2", "--num-rep", "4", "--x", "15"])
    crush = crushmap_from_text(text)
    stored = crushmap_from_binary(src.with_suffix(".bin").read_bytes()).buckets[-1028]  # as Ceph stored it
    items, nodes = list(stored.items), list(stored.node_weights)
    assert crush.buckets[-1028].name == "b-1-0-1~ssd" and items == [7, 8, 10]
    intended = intended_tree_nodes(crush.buckets[-1028].weights)
    assert [nodes[2 * i + 1] for i in range(3)] == [intended[2 * i + 1] for i in range(3)]
    with pytest.warns(CephUndefinedBehaviourWarning, match=r"rule 2: b-1-0-1~ssd \(-1028\)"):
        ours = crushtool_test(crush, 2, 4, 15, 15)
    assert set(crush.subtree_devices(-1050)) >= {7, 8, 10} and 0 not in crush.subtree_devices(-1050)
    if nodes != intended:
        assert _mapping_lines(p) != ours  # Ceph followed the garbage
    else:
        assert _mapping_lines(p) == ours


def test_shrinker_finds_a_minimal_map() -> None:
    """The shrinker keeps only what the predicate needs: here, the one bucket line holding osd.0."""
    case = next(c for c in map(crush_case, range(FIRST_SEED, FIRST_SEED + 50))
                if c.text.count("\titem ") >= 10 and "\titem osd.0 weight" in c.text)
    assert "rule " in case.text
    calls = []

    def keep(text: str) -> bool:
        calls.append(text)
        return "\titem osd.0 weight" in text

    small = delete_lines(case.text, keep)
    assert small.count("\titem ") == 1 and "\titem osd.0 weight" in small
    assert "rule " not in small and "device " not in small and "tunable " not in small
    assert "choose_args" not in small or "bucket_id" not in small
    assert len(calls) > 10
