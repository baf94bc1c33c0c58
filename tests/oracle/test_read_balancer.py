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

``PGTOOLS_ORACLE_MAPS=N`` scales the number of maps per release (default 8 with ``CI=true``, 4 locally).
"""

from __future__ import annotations

import json
import random
import re
import struct
import time

import numpy as np
import pytest

from pgtools.balance import osdmaptool_read, read_balance_score
from pgtools.io import merge_fragments, osdmap_binary
from pgtools.io.osdmap_decode import crc32c, decode_osdmap
from tests.ceph_release_tools import need, run
from tests.oracle._maps import budget, osdmap_case

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
    files = _tool(release, "osdmaptool", ["om", "--import-crush", "crush.bin"], files).files
    info = {"size": size, "case": seed}
    if rng.random() < 0.4:
        files = _tool(release, "osdmaptool", ["om", "--mark-up-in", "--upmap", "up.txt", "--upmap-deviation", "1",
                                              "--upmap-max", "20", "--save"], files).files
        info["upmap"] = True
    # OSDs that exist (--mark-up-in, kept by an --adjust-crush-weight ... --save that changes nothing): pgtools,
    # like `osd dump`, reads the primary affinity of existing OSDs only
    w0 = re.search(r"item osd\.0 weight (\S+)", case.crush_text)
    files = _tool(release, "osdmaptool", ["om", "--mark-up-in", "--adjust-crush-weight",
                                          f"0:{w0.group(1) if w0 else 1}", "--save"], files).files
    om = files["om"]
    if rng.random() < 0.7:
        n = case.num_osds
        choices = [0, 0x4000, 0x8000, 0xC000, 0x4CCC, 0x10000]
        aff = {o: rng.choice(choices) for o in rng.sample(range(n), rng.randint(1, max(1, n // 2)))}
        om = with_primary_affinity(om, aff)
        info["affinity"] = aff
    return om, info


def _compare_read(release: str, om: bytes, args: list[str]) -> None:
    p = run(release, "osdmaptool", ["om", *args], {"om": om})
    frag = osdmaptool_binary_snapshot(om)
    kw = {"mark_up_in": "--mark-up-in" in args, "vstart": "--vstart" in args}
    if "--mark-out" in args:
        kw["mark_out"] = int(args[args.index("--mark-out") + 1])
    out, err, plan, status = osdmaptool_read(frag, read_file="out.txt", read_pool="rbd", ceph_release=release,
                                             **kw)
    theirs_err = p.stderr.split("\n", 1)[1] if p.stderr.startswith("osdmaptool: osdmap file") else p.stderr
    assert (p.stdout, theirs_err, p.returncode) == (out, err, status), (release, args)
    theirs_file = p.files.get("out.txt", b"").decode()
    assert theirs_file == (plan.text if plan is not None else ""), (release, args)


def osdmaptool_binary_snapshot(om: bytes):
    """The Snapshot pgtools makes of a binary osdmap."""
    return merge_fragments([osdmap_binary.parse_bytes(om, source="om")])
