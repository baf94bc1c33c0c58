"""Differential suite: Reef's read balancer (``osdmaptool --read FILE --read-pool P``) on Reef and Tentacle.

Each random osdmap (:func:`tests.oracle._maps.osdmap_case` CRUSH maps, seeds from 60000) is made by the
release's own ``crushtool`` / ``osdmaptool --createsimple`` with pool ``rbd`` of a random size
(``--osd_pool_default_size``), sometimes the upmap balancer's ``pg_upmap_items`` (``--upmap ... --save``),
then given random primary affinities (:func:`with_primary_affinity`: no osdmaptool sets them offline; the
release's decoder reads the result back) and sometimes ``pg_upmap_primaries`` (the release's own proposals
for half its PGs).  Then, per release:

* ``osdmaptool om --mark-up-in [--mark-out O] --read out.txt --read-pool rbd [--vstart]``: stdout, stderr
  (after the ``osdmap file`` line), exit status and ``out.txt`` byte for byte against
  :func:`pgtools.balance.osdmaptool_read` (``pgtools osdmaptool`` runs it; checked through it on some maps);
* ``osdmaptool om --mark-up-in --print``: the pool line's `` read_balance_score X.XX`` and the
  `` Warning: ...`` / `` ERROR: ...`` line against :func:`pgtools.balance.read_balance_score`;
* ``--dump json``'s ``read_balance`` section: every field against the same frame (C floats, exactly).

``PGTOOLS_ORACLE_MAPS=N`` scales the number of maps per release (default 5 with ``CI=true``, 3 locally).
"""

from __future__ import annotations

import json
import random
import re
import struct
import time

import pytest

from pgtools.balance import osdmaptool_read, read_balance_score
from pgtools.balance.primary import RBI_FIELDS
from pgtools.errors import UnsupportedFeatureError
from pgtools.io import merge_fragments, osdmap_binary
from pgtools.io.osdmap_decode import crc32c, decode_osdmap
from tests.ceph_release_tools import need, run
from tests.oracle._dropin_corpus import run_pgtools
from tests.oracle._maps import budget, osdmap_case
from tests.oracle._osdmaps import with_upmap_primaries
from tests.paths import SAMPLE_DUMPS

FIRST_SEED = 60_000
RELEASES = ["reef", "tentacle"]

pytestmark = pytest.mark.oracle


def with_primary_affinity(om: bytes, affinity: dict[int, int]) -> bytes:
    """``om`` with ``osd_primary_affinity`` set (16.16 values; OSDs not given keep 0x10000).

    The vector (``u32`` count, then ``max_osd`` ``u32``; empty means all default) sits just before the CRUSH
    map's length in the client section; the section's and the wrapper's ``struct_len`` and the ``crc`` are fixed
    as :func:`tests.oracle._osdmaps.with_upmap_primaries` does.
    """
    dec = decode_osdmap(om)
    max_osd = dec["max_osd"]
    end = dec["crush_offset"] - 4
    old = struct.unpack_from("<I", om, end - 4)[0] == 0
    start = end - 4 if old else end - 4 - 4 * max_osd
    vec = [affinity.get(i, 0x10000) for i in range(max_osd)]
    new = struct.pack(f"<I{max_osd}I", max_osd, *vec)
    data = bytearray(om)
    data[start:end] = new
    grow = len(new) - (end - start)
    struct.pack_into("<I", data, 8, struct.unpack_from("<I", data, 8)[0] + grow)
    struct.pack_into("<I", data, 2, struct.unpack_from("<I", data, 2)[0] + grow)
    osd_at = 12 + struct.unpack_from("<I", data, 8)[0]
    crc_at = osd_at + 6 + struct.unpack_from("<I", data, osd_at + 2)[0]
    crc = crc32c(crc32c(0xFFFFFFFF, bytes(data[:crc_at])), bytes(data[crc_at + 4:]))
    struct.pack_into("<I", data, crc_at, crc)
    return bytes(data)


def _tool(release: str, tool: str, args: list[str], files: dict[str, bytes]):
    p = run(release, tool, args, files)
    if p.returncode != 0:
        raise RuntimeError(f"{release}: {tool} {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def make_map(release: str, seed: int) -> tuple[bytes, dict]:
    """A random osdmap of ``release`` (see the module) and what was done to it."""
    case = osdmap_case(seed)
    rng = random.Random(seed * 7919 + 11)
    size = rng.choice([1, 2, 2, 3, 3, 3, 4])
    files = {"crush.txt": case.crush_text.encode()}
    files = _tool(release, "crushtool", ["-c", "crush.txt", "-o", "crush.bin"], files).files
    files = _tool(release, "osdmaptool", ["om", "--createsimple", str(case.num_osds), "--with-default-pool",
                                          "--pg-bits", str(min(case.pg_bits + 1, 5)), "--pgp-bits",
                                          str(min(case.pg_bits + 1, 5)), "--clobber",
                                          "--osd_pool_default_size", str(size)], files).files
    # OSDs that exist (--mark-up-in, kept by an --adjust-crush-weight ... --save that changes nothing; the
    # CRUSH map imported after it): pgtools, like `osd dump`, reads the primary affinity of existing OSDs only
    w0 = re.search(r"item osd\.0 weight (\S+)", case.crush_text)
    files = _tool(release, "osdmaptool", ["om", "--mark-up-in", "--adjust-crush-weight",
                                          f"0:{w0.group(1) if w0 else 1}", "--import-crush", "crush.bin", "--save"],
                  files).files
    info = {"size": size, "case": seed}
    if rng.random() < 0.4:
        files = _tool(release, "osdmaptool", ["om", "--mark-up-in", "--upmap", "up.txt", "--upmap-deviation", "1",
                                              "--upmap-max", "20", "--save"], files).files
        info["upmap"] = True
    om = files["om"]
    if rng.random() < 0.7:
        n = case.num_osds
        choices = [0, 0x4000, 0x8000, 0xC000, 0x4CCC, 0x10000]
        aff = {o: rng.choice(choices) for o in rng.sample(range(n), rng.randint(1, max(1, n // 2)))}
        om = with_primary_affinity(om, aff)
        info["affinity"] = aff
    if rng.random() < 0.3:  # earlier pg-upmap-primary entries (any OSD: Ceph applies those in the up set)
        pg_num = decode_osdmap(om)["pools"][0]["pg_num"]
        ups = {f"1.{ps:x}": rng.randrange(case.num_osds) for ps in rng.sample(range(pg_num), max(1, pg_num // 8))}
        om = with_upmap_primaries(om, ups)
        info["upmap_primaries"] = len(ups)
    return om, info


def _compare_read(release: str, om: bytes, args: list[str], frag=None):
    """Assert osdmaptool's ``--read`` output is :func:`osdmaptool_read`'s; returns osdmaptool's run."""
    p = run(release, "osdmaptool", ["om", *args], {"om": om})
    frag = osdmaptool_binary_snapshot(om) if frag is None else frag
    kw = {"mark_up_in": "--mark-up-in" in args, "vstart": "--vstart" in args}
    if "--mark-out" in args:
        kw["mark_out"] = int(args[args.index("--mark-out") + 1])
    try:
        out, err, plan, status = osdmaptool_read(frag, read_file=args[args.index("--read") + 1],
                                                 read_pool=args[args.index("--read-pool") + 1],
                                                 ceph_release=release, **kw)
    except UnsupportedFeatureError as e:
        if "outgrows" in str(e):  # --read - with a long report: refused, not guessed
            assert "--read" in args and args[args.index("--read") + 1] == "-" and p.returncode == 0
            return p
        # a pool with no PG mapped: Ceph reads uninitialised memory
        assert "uninitialised" in str(e) and p.returncode != 0, (release, args, p.returncode)
        return p
    theirs_err = p.stderr.split("\n", 1)[1] if p.stderr.startswith("osdmaptool: osdmap file") else p.stderr
    assert (p.stdout, theirs_err, p.returncode) == (out, err, status), (release, args)
    if "out.txt" in args:
        assert p.files.get("out.txt", b"").decode() == (plan.text if plan is not None else ""), (release, args)
    return p


def osdmaptool_binary_snapshot(om: bytes):
    """The Snapshot pgtools makes of a binary osdmap."""
    return merge_fragments([osdmap_binary.parse_bytes(om, source="om")])


def _score_lines(release: str, om: bytes, args: list[str], *, dump: bool) -> None:
    """``--print``'s pool line score and warning, or ``--dump json``'s ``read_balance``, against pgtools'."""
    snap = osdmaptool_binary_snapshot(om)
    frame = read_balance_score(snap, ceph_release=release).set_index("pool_id")
    row = frame.loc[1]
    if dump:
        _score_dump(release, om, args, row)
        return
    p = _tool(release, "osdmaptool", ["om", *args, "--print"], {"om": om})
    lines = p.stdout.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("pool 1 'rbd'"))
    theirs = re.search(r" read_balance_score (\S+)$", lines[at])
    assert (theirs.group(1) if theirs else "") == row["read_balance_score"], (release, lines[at], row.to_dict())
    note = lines[at + 1] if lines[at + 1].startswith((" Warning: ", " ERROR: ")) else ""
    mine = (" ERROR: " if row["rc"] < 0 else " Warning: ") + row["error_message"] if row["error_message"] else ""
    assert note == mine, (release, note, mine)


def _score_dump(release: str, om: bytes, args: list[str], row) -> None:
    d = run(release, "osdmaptool", ["om", *args, "--dump", "json"], {"om": om})
    if d.returncode < 0:  # pinned: 18.2.7 and 20.2.4 die (SIGSEGV) dumping some maps whose score is an error
        assert row["rc"] < 0, (release, d.returncode, row.to_dict())
        return
    rb = json.loads(d.stdout)["pools"][0].get("read_balance")
    if row["rc"] >= 0:
        got = {k: row[k] for k in RBI_FIELDS}
        assert {k: rb[k] for k in RBI_FIELDS} == got, (release, rb, got)
        assert rb.get("error_message", "") == row["error_message"]
    elif row["error_message"]:
        assert rb == {"error_message": row["error_message"], "score_acting": 0, "score_stable": 0}, (release, rb)
    else:
        assert rb is None, (release, rb)


def _variants(rng: random.Random, n: int) -> list[list[str]]:
    out = [["--mark-up-in", "--read", "out.txt", "--read-pool", "rbd"]]
    if rng.random() < 0.5:
        out.append(["--mark-out", str(rng.randrange(n)), "--read", "out.txt", "--read-pool", "rbd", "--vstart"])
    if rng.random() < 0.3:
        out.append(["--read", "-", "--read-pool", "rbd"])
    return out


def _dropin(release: str, om: bytes, args: list[str], p, tmp_path) -> None:
    """``pgtools osdmaptool om ARGS --ceph-release R`` prints, writes and exits as ``osdmaptool om ARGS`` did (p)."""
    (tmp_path / "om").write_bytes(om)
    status, out, err = run_pgtools(["osdmaptool", "om", *args, "--ceph-release", release])
    if status == 2 and "uninitialised" in err:  # refused where Ceph's answer is undefined (see _compare_read)
        assert p.returncode != 0
        return
    assert (out, err, status) == (p.stdout, p.stderr, p.returncode), (release, args)
    if "out.txt" in args:
        assert (tmp_path / "out.txt").read_bytes() == p.files.get("out.txt", b""), (release, args)


@pytest.mark.parametrize("release", RELEASES)
def test_read_balancer(release: str, tmp_path, monkeypatch) -> None:
    need(release)
    monkeypatch.chdir(tmp_path)
    t0 = time.perf_counter()
    maps = pgs = runs = commands = 0
    for seed in range(FIRST_SEED, FIRST_SEED + budget(5, 3)):
        om, info = make_map(release, seed)
        rng = random.Random(seed)
        n = decode_osdmap(om)["max_osd"]
        _score_lines(release, om, [], dump=seed % 2 == 1)
        for k, args in enumerate(_variants(rng, n)):
            p = _compare_read(release, om, args)
            runs += 1
            commands += (p.files.get("out.txt", b"").decode() + p.stdout).count(" osd pg-upmap-primary ")
            if k == 0 and seed % 2 == 0:
                _dropin(release, om, args, p, tmp_path)
        maps += 1
        pgs += sum(pool["pg_num"] for pool in decode_osdmap(om)["pools"])
    assert commands > 0  # the balancer did something somewhere
    print(f"{release}: {maps} maps (1 pool each), {pgs} PGs, {runs} --read runs, {commands} pg-upmap-primary "
          f"lines compared, {time.perf_counter() - t0:.1f}s")


def test_read_balancer_on_a_live_tentacle_osdmap() -> None:
    """The osdmap of the live Tentacle cluster behind ``sample_dumps/mixed_tentacle`` (five replicated pools,
    two EC; 18.2.7 cannot decode it): every pool, as a file and on stdout, byte for byte."""
    need("tentacle")
    om = (SAMPLE_DUMPS / "mixed_tentacle" / "osdmap.bin").read_bytes()
    snap = osdmaptool_binary_snapshot(om)
    commands = 0
    for pool, out in (("rbd", "out.txt"), ("fast", "out.txt"), ("byrack", "-"), ("meta", "out.txt"),
                      ("ec21", "out.txt"), ("nosuchpool", "-")):
        p = _compare_read("tentacle", om, ["--read", out, "--read-pool", pool, *(["--vstart"] if out == "-" else [])],
                          snap)
        commands += (p.files.get("out.txt", b"").decode() + p.stdout).count("osd pg-upmap-primary ")
    assert commands == 24  # rbd 11, fast 6, byrack 7: a test that would notice the balancer doing nothing


def test_pacific_has_no_read_balancer(tmp_path, monkeypatch) -> None:
    """16.2.15's osdmaptool knows no ``--read``/``--read-pool``/``--vstart``: they stay in its argv, so it
    stops at ``too many arguments`` (exit 1) before reading the map; the drop-in says the same on stderr
    (pinned: it does not repeat the usage text osdmaptool prints on stdout)."""
    need("pacific")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "om").write_bytes(b"not read")
    argv = ["om", "--read", "out.txt", "--read-pool", "rbd"]
    p = run("pacific", "osdmaptool", argv, {"om": b"not read"})
    rc, out, err = run_pgtools(["osdmaptool", *argv, "--ceph-release", "pacific"])
    assert (rc, err) == (p.returncode, p.stderr.replace("/usr/bin/osdmaptool", "osdmaptool")) == (
        1, "osdmaptool: too many arguments\n")
    assert out == "" and p.stdout.startswith(" usage: [--print] <mapfilename>")
