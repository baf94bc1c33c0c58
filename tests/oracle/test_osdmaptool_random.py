"""Differential suite: random osdmaps built with Ceph's ``osdmaptool`` and mapped by pgtools.

Each case (see :func:`tests.oracle._maps.osdmap_case`) is a random CRUSH text map (host/rack layouts,
unequal and tiny weights, device classes, every bucket algorithm, tunable profiles bobtail..jewel) compiled
with crushtool and imported into ``osdmaptool --createsimple N --with-default-pool --pg-bits B --pgp-bits P``
(so pg_num and pgp_num differ and are not always powers of two); some get ``--adjust-crush-weight ... --save``
and real ``pg_upmap_items`` from the balancer (``--upmap ... --save``).  The osdmap is read back with
``--dump json`` + ``crushtool --dump`` into :func:`pgtools.load`, then ``--test-map-pgs-dump-all`` (plain,
with ``--pool 1 --pg_num N``, ``--mark-out O``, ``--adjust-crush-weight``) is compared byte for byte with
:func:`pgtools.placement.osdmaptool.osdmaptool_output`, and the up/acting sets with :func:`pgtools.placement.map_pgs`
(vector engine, and the reference engine on small pools).

osdmaptool cannot create erasure-coded pools, set primary affinity or pg_temp: EC rules are covered by the
crushtool suite (indep rules), upmaps/primary affinity against a real cluster in ``tests/integration``.

Every release is an oracle: Pacific 16.2.15 (the host) on all the maps, Reef 18.2.7 and Tentacle 20.2.4
(chroots, :mod:`tests.ceph_release_tools`) on the first twentieth of the same seeds (:data:`SHARE`), each map built
by that release's own crushtool and osdmaptool (:func:`tests.oracle._osdmaps.build`) and compared with the same
pgtools calls (these maps hold no ``pg_upmap_primaries``: the releases' placement is the same).

``PGTOOLS_ORACLE_MAPS=N`` sets the number of osdmaps (default: 600 with ``CI=true``, 40 locally).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

import pgtools
from pgtools.crush import crushtool_test
from pgtools.crush.buckets import tree_node_weights as intended_tree_nodes
from pgtools.errors import CephUndefinedBehaviourWarning
from pgtools.io import crushmap_from_binary
from pgtools.placement import map_pgs
from pgtools.placement.osdmaptool import format_dump_all_line, mark_up_in, osdmaptool_output
from tests.ceph_release_tools import need
from tests.oracle._maps import OsdmapCase, budget, osdmap_case, prefetched, run_tool
from tests.oracle._osdmaps import build, osdmaptool
from tests.paths import TEST_DATA

CRUSHTOOL = shutil.which("crushtool")
OSDMAPTOOL = shutil.which("osdmaptool")
FIRST_SEED = 20_000
MARK_UP_IN = "marking all OSDs up and in\n"
#: the one-PG-at-a-time reference pipeline (pure Python, ~0.1 s a map) runs on every 5th map
REFERENCE_EVERY = 5
#: maps per release: Pacific all, Reef and Tentacle the first twentieth of the same seeds (30 with CI=true)
SHARE = {"pacific": 1, "reef": 20, "tentacle": 20}

pytestmark = pytest.mark.oracle


def _need_tools() -> None:
    if CRUSHTOOL is None or OSDMAPTOOL is None:
        pytest.skip("crushtool/osdmaptool not installed (apt-get install ceph-base ceph-common)")


def _run(d: Path, *args: str) -> str:
    p = run_tool(list(args), timeout=60, cwd=d)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def _build(d: Path, case: OsdmapCase, release: str = "pacific") -> tuple[str, int]:
    """Create ``om`` for ``case`` in ``d``; returns (the shell commands, number of upmap items)."""
    d.mkdir(parents=True, exist_ok=True)
    if release != "pacific":  # the release's own tools, in its chroot
        built = build(release, case)
        for name, data in built.files.items():
            (d / name).write_bytes(data)
        (d / "crush.json").write_text(built.crush_json)
        return built.script, _write_dump(d, case, json.loads(osdmaptool(release, built.om, ["--dump", "json"])))
    (d / "crush.txt").write_text(case.crush_text)
    cmds = [
        [CRUSHTOOL, "-c", "crush.txt", "-o", "crush.bin"],
        [OSDMAPTOOL, "om", "--createsimple", str(case.num_osds), "--with-default-pool", "--pg-bits",
         str(case.pg_bits), "--pgp-bits", str(case.pgp_bits), "--clobber"],
        [OSDMAPTOOL, "om", "--import-crush", "crush.bin"],
    ]
    if case.save_adjust:
        cmds.append([OSDMAPTOOL, "om", "--adjust-crush-weight",
                     ",".join(f"{o}:{w}" for o, w in case.save_adjust), "--save"])
    if case.upmap:
        dev, mx = case.upmap
        cmds.append([OSDMAPTOOL, "om", "--mark-up-in", "--upmap", "upmap.txt", "--upmap-deviation", str(dev),
                     "--upmap-max", str(mx), "--save"])
    cmds.append([OSDMAPTOOL, "om", "--export-crush", "final.bin"])
    for c in cmds:
        _run(d, *c)
    (d / "crush.json").write_text(_run(d, CRUSHTOOL, "-i", "final.bin", "--dump"))
    script = "\n".join(" ".join(Path(a).name if a in (CRUSHTOOL, OSDMAPTOOL) else a for a in c) for c in cmds)
    return script, _write_dump(d, case, json.loads(_run(d, OSDMAPTOOL, "om", "--dump", "json")))


def _write_dump(d: Path, case: OsdmapCase, dump: dict) -> int:
    """Write ``osd_dump.json`` (the map's dump with its OSDs made to exist); returns its upmap item count."""
    # --createsimple OSDs only exist once marked up/in (in memory); the tests run with --mark-up-in
    dump["osds"] = [{"osd": i, "uuid": "00000000-0000-0000-0000-000000000000", "up": 1, "in": 1, "weight": 1.0,
                     "primary_affinity": 1.0, "state": ["exists", "up"]} for i in range(case.num_osds)]
    dump["max_osd"] = case.num_osds
    (d / "osd_dump.json").write_text(json.dumps(dump))
    return len(dump.get("pg_upmap_items", []))


def _ref(d: Path, extra: list[str], release: str = "pacific") -> str:
    args = ["--mark-up-in", *extra, "--test-map-pgs-dump-all"]
    if release == "pacific":
        out = _run(d, OSDMAPTOOL, "om", *args)
    else:
        out = osdmaptool(release, (d / "om").read_bytes(), args)
    if not out.startswith(MARK_UP_IN):
        raise RuntimeError(f"unexpected osdmaptool output: {out[:200]!r}")
    return out


_LINE = re.compile(r"^(\S+) raw \(\[([^]]*)\], p-?\d+\) up \(\[([^]]*)\], p(-?\d+)\) "
                   r"acting \(\[([^]]*)\], p(-?\d+)\)$")


def _vec(s: str) -> tuple[int, ...]:
    return tuple(int(v) for v in s.split(",")) if s else ()


def _parse_line(line: str) -> tuple:
    m = _LINE.match(line)
    if m is None:
        raise RuntimeError(f"unexpected osdmaptool line {line!r}")
    return (m.group(1), _vec(m.group(2)), _vec(m.group(3)), int(m.group(4)), _vec(m.group(5)), int(m.group(6)))


def _first_diff(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(la, lb, strict=False)):
        if x != y:
            return f"line {i + 1}:\n  osdmaptool: {x}\n  pgtools:    {y}"
    return f"lengths differ: osdmaptool {len(la)} lines, pgtools {len(lb)} lines"


def _fail(case: OsdmapCase, script: str, extra: list[str], what: str, release: str = "pacific") -> None:
    pytest.fail(f"{release} seed {case.seed}: {what}\nbuild:\n{script}\ntest: osdmaptool om --mark-up-in {' '.join(extra)} "
                f"--test-map-pgs-dump-all\n--- crush.txt ---\n{case.crush_text}")


def _dir(root: Path, case: OsdmapCase, release: str) -> Path:
    return root / (f"om{case.seed}" if release == "pacific" else f"om{case.seed}-{release}")


def _reference(root: Path, case: OsdmapCase,
               release: str = "pacific") -> tuple[str, int, dict[tuple[str, ...], str]]:
    """osdmaptool's side (of ``release``): build the map, then run every test variant (plus the plain one).

    Returns (build script, upmap items in the map, ``{variant: output}``).
    """
    d = _dir(root, case, release)
    script, n_upmaps = _build(d, case, release)
    refs = {tuple(extra): _ref(d, extra, release) for extra in [[], *case.test_variants]}
    return script, n_upmaps, refs


def _check(root: Path, case: OsdmapCase, reference: tuple[str, int, dict[tuple[str, ...], str]] | None = None,
           release: str = "pacific") -> tuple[int, int, int]:
    """Compare one osdmap with ``release``'s osdmaptool; returns (PG mappings compared, upmap items in the map,
    test runs).

    ``reference`` is :func:`_reference`'s result when the caller already has it.
    """
    d = _dir(root, case, release)
    script, n_upmaps, refs = reference if reference is not None else _reference(root, case, release)
    snap = pgtools.load([d / "osd_dump.json", d / "crush.json"])
    compared = 0
    for extra in case.test_variants:
        ref = refs[tuple(extra)]
        got = osdmaptool_output(snap, ["--mark-up-in", *extra, "--test-map-pgs-dump-all"])
        if got != ref:
            _fail(case, script, extra, "osdmaptool_output differs, " + _first_diff(ref, got), release)
        compared += sum(1 for ln in ref.splitlines() if " raw (" in ln)
    # map_pgs (DataFrame API) on the saved map, with the vector and (small pools) the reference engine
    expected = [_parse_line(ln) for ln in refs[()].splitlines() if " raw (" in ln]
    engines = ["vector"] + (["reference"] if len(expected) <= 256 and case.seed % REFERENCE_EVERY == 0 else [])
    for engine in engines:
        frame = map_pgs(mark_up_in(snap, case.num_osds), 1, engine=engine, release=release)
        ours = [(r.pgid, tuple(r.raw), tuple(r.up), r.up_primary, tuple(r.acting), r.acting_primary)
                for r in frame.itertuples()]
        if ours != expected:
            bad = next((i for i, (a, b) in enumerate(zip(expected, ours, strict=False)) if a != b), None)
            where = (f"first difference: osdmaptool {expected[bad]} pgtools {ours[bad]}" if bad is not None
                     else f"{len(expected)} PGs from osdmaptool, {len(ours)} from map_pgs")
            _fail(case, script, [], f"map_pgs(engine={engine!r}) differs, {where}", release)
    return compared, n_upmaps, len(case.test_variants)


def test_random_osdmaps_match_osdmaptool(tmp_path: Path) -> None:
    _need_tools()
    n = budget(600, 40)
    t0 = time.perf_counter()
    pgs = upmaps = runs = with_upmaps = 0
    cases = prefetched(osdmap_case, lambda c: _reference(tmp_path, c), range(FIRST_SEED, FIRST_SEED + n))
    for case, ref in cases:
        k, u, r = _check(tmp_path, case, ref)
        pgs += k
        upmaps += u
        runs += r
        with_upmaps += u > 0
    wall = time.perf_counter() - t0
    print(f"\nosdmaptool oracle: {n} osdmaps, {runs} --test-map-pgs-dump-all runs, {pgs} PG mappings, "
          f"{upmaps} pg_upmap_items in {with_upmaps} maps, {wall:.1f} s")
    assert runs >= n
    assert pgs >= 10 * n
    assert with_upmaps >= 1 or n < 10


@pytest.mark.parametrize("release", [r for r in SHARE if r != "pacific"])
def test_random_osdmaps_match_newer_osdmaptool(release: str, tmp_path: Path) -> None:
    """The same comparison against Reef's and Tentacle's osdmaptool, on maps they built themselves."""
    need(release)
    n = max(1, budget(600, 40) // SHARE[release])
    t0 = time.perf_counter()
    pgs = runs = with_upmaps = 0
    cases = prefetched(osdmap_case, lambda c: _reference(tmp_path, c, release), range(FIRST_SEED, FIRST_SEED + n))
    for case, ref in cases:
        k, u, r = _check(tmp_path, case, ref, release)
        pgs += k
        runs += r
        with_upmaps += u > 0
    print(f"\nosdmaptool oracle ({release}): {n} osdmaps, {runs} --test-map-pgs-dump-all runs, {pgs} PG mappings, "
          f"pg_upmap_items in {with_upmaps} maps, {time.perf_counter() - t0:.1f} s")
    assert runs >= n and pgs >= 10 * n


def test_dump_all_line_format() -> None:
    """The line formatter the comparison relies on, on a hand-written mapping."""
    from pgtools.placement import PGMapping

    m = PGMapping(pool_id=1, ps=0x2d, pps=0, raw=[3, 1], up=[0, 1], up_primary=0, acting=[0, 1], acting_primary=0)
    line = "1.2d raw ([3,1], p3) up ([0,1], p0) acting ([0,1], p0)"
    assert format_dump_all_line(m) == line
    assert _parse_line(line) == ("1.2d", (3, 1), (0, 1), 0, (0, 1), 0)
    assert _parse_line("2.a raw ([], p-1) up ([], p-1) acting ([], p-1)") == ("2.a", (), (), -1, (), -1)


def test_adjust_zero_save(tmp_path: Path) -> None:
    """Found by this suite (seed 20014), explained and fixed in the emulation: ``--mark-up-in``.

    4 OSDs; osd.1's CRUSH weight set to 0 with ``osdmaptool om --adjust-crush-weight 1:0.0 --save``.
    ``osdmaptool om --mark-up-in --test-map-pgs-dump-all`` then prints ``1.0 raw ([3,1,2], p3)``: besides
    marking every OSD up and in, ``--mark-up-in`` gives CRUSH weight 1.0 to each OSD whose weight is 0
    (osdmaptool.cc), so osd.1 is back.  ``osdmaptool_output`` does the same.
    """
    _need_tools()
    text = (TEST_DATA / "oracle" / "adjust_zero_save.txt").read_text()
    case = OsdmapCase(20014, text, 4, 3, 2, save_adjust=[(1, 0.0)], test_variants=[[]])
    _check(tmp_path, case)
    snap = pgtools.load([tmp_path / "om20014" / "osd_dump.json", tmp_path / "om20014" / "crush.json"])
    first = osdmaptool_output(snap, ["--mark-up-in", "--test-map-pgs-dump-all"]).splitlines()[:3]
    assert first == ["marking all OSDs up and in", "pool 1 pg_num 32",
                     "1.0 raw ([3,1,2], p3) up ([3,1,2], p3) acting ([3,1,2], p3)"]
    # without --mark-up-in the saved weight 0 holds
    assert "1.0 raw ([3,2], p3)" in osdmaptool_output(snap, ["--test-map-pgs-dump-all"])


def test_uniform_adjust(tmp_path: Path) -> None:
    """Found by this suite (seed 20099), fixed: ``--adjust-crush-weight`` on an OSD in a uniform bucket.

    Ceph's ``crush_adjust_uniform_bucket_item_weight`` sets the one item weight of a uniform bucket (every
    item changes); pgtools used to change only that OSD (``osdmaptool om --mark-up-in --adjust-crush-weight
    0:3.25`` maps 1.0 to ``[1,2,8]``, pgtools gave ``[4,2,8]``).
    """
    _need_tools()
    text = (TEST_DATA / "oracle" / "uniform_adjust.txt").read_text()
    assert "\talg uniform\n" in text
    case = OsdmapCase(20099, text, 9, 0, 0, test_variants=[["--adjust-crush-weight", "0:3.25"]])
    _check(tmp_path, case)


def test_class_take_tree_bucket(tmp_path: Path) -> None:
    """Found by this suite (seed 20103; crushtool seeds 10057/10136), explained: undefined in Ceph.

    ``take default class ssd`` through a **tree** host bucket: osdmaptool maps 1.0 to ``[0,3]``, pgtools to
    ``[2,3]``.  Ceph clones host-0-0 into host-0-0~ssd item by item (``device_class_clone`` then
    ``crush_add_tree_bucket_item``), which ``realloc``s the node weight array without clearing the new
    interior nodes: the compiled binary holds heap garbage there (read back below), so the descent
    through that bucket, in crushtool, osdmaptool and a cluster alike, follows uninitialised numbers and
    can even read past the items array.  The original tree bucket (built whole) is clean and pgtools
    reproduces its node weights exactly.  pgtools keeps the intended weights and warns
    (``CrushMap.undefined_behaviour``); the generators keep tree buckets out of maps with class takes.
    """
    _need_tools()
    text = (TEST_DATA / "oracle" / "class_tree_osdmap.txt").read_text()
    assert "\talg tree\n" in text and "class ssd" in text
    case = OsdmapCase(20103, text, 6, 4, 4, test_variants=[[]])
    d = tmp_path / "om20103"
    _build(d, case)
    crush = pgtools.load([d / "crush.json"]).crush
    stored = crushmap_from_binary((d / "final.bin").read_bytes()).buckets  # as Ceph stored them
    assert stored[-2].items == (0, 1, 2)
    assert list(stored[-2].node_weights) == intended_tree_nodes(crush.buckets[-2].weights)  # built whole: clean
    items, nodes = list(stored[-1005].items), list(stored[-1005].node_weights)  # host-0-0~ssd, cloned item by item
    intended = intended_tree_nodes(crush.buckets[-1005].weights)
    assert items == [0, 1, 2] and crush.buckets[-1005].name == "host-0-0~ssd"
    assert [nodes[2 * i + 1] for i in range(3)] == [intended[2 * i + 1] for i in range(3)]  # leaves are set
    msgs = crush.undefined_behaviour(0)
    assert len(msgs) == 1 and "host-0-0~ssd (-1005)" in msgs[0]
    assert [m.split(": ", 1)[1] for m in msgs] == crush.undefined_behaviour()
    with pytest.warns(CephUndefinedBehaviourWarning, match="host-0-0~ssd"):
        crushtool_test(crush, 0, 2, 0, 3)
    if nodes != intended:  # what this machine's allocator left there decides the mapping
        with pytest.raises(pytest.fail.Exception, match=r"osdmaptool: "):
            _check(tmp_path, case)
    else:  # a clean heap: then Ceph's mapping is the intended one and must equal ours
        _check(tmp_path, case)
