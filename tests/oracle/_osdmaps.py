"""Osdmaps built by a release's own ``crushtool``/``osdmaptool``, and ``pg_upmap_primaries`` put into them (test helper).

:func:`build` makes the osdmap of an :func:`tests.oracle._maps.osdmap_case` recipe with the tools of one release
(:func:`tests.ceph_release_tools.run`: the host's for Pacific, a chroot's for Reef and Tentacle), step by step as
the Pacific-only suites always did, and returns the binary map with what the same release prints of it.

:func:`with_upmap_primaries` writes a ``pg_upmap_primaries`` table into an encoded map.  No release's
osdmaptool can store one: ``osdmaptool --read FILE --read-pool P`` (Reef's read balancer) prints
``ceph osd pg-upmap-primary`` commands but ``--save`` does not keep them, and only a monitor applies them.  The
table is the last field of the OSDMap's client-usable section (``struct_v`` 10, Reef and later), so the
encoding is: the table (``u32`` count, then per entry ``pg_t`` = ``u8 1, u64 pool, u32 seed, s32 -1`` and the
``s32`` OSD, ascending by pgid as ``std::map`` keeps it) at the section's end, the section's and the wrapper's
``struct_len`` grown by the difference, and the wrapper's ``crc`` (crc32c of the bytes before it, continued
over those after) recomputed.  A Pacific map (client ``struct_v`` 9) gets ``struct_v`` 10 and the table
appended.  The release's own osdmaptool then reads the result (``--dump json`` lists the entries), so the
oracle is Ceph's decoder and Ceph's ``_apply_upmap``, not this encoder.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field

from pgtools.io.osdmap_decode import crc32c, decode_osdmap
from tests.ceph_release_tools import run
from tests.oracle._maps import OsdmapCase

__all__ = ["Built", "build", "dump_json", "osdmaptool", "same_as_dump", "with_upmap_primaries"]


@dataclass
class Built:
    """One osdmap as a release built it: the binary map, its CRUSH map's ``crushtool --dump`` and the commands."""

    release: str
    om: bytes
    crush_json: str
    script: str
    files: dict[str, bytes] = field(default_factory=dict)


def osdmaptool(release: str, om: bytes, args: list[str], extra: dict[str, bytes] | None = None) -> str:
    """stdout of ``osdmaptool om ARGS`` of ``release`` (RuntimeError when it fails)."""
    p = run(release, "osdmaptool", ["om", *args], {"om": om, **(extra or {})})
    if p.returncode != 0:
        raise RuntimeError(f"{release}: osdmaptool om {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


def build(release: str, case: OsdmapCase) -> Built:
    """The osdmap of ``case`` made by ``release``'s tools: ``crushtool -c``, ``osdmaptool --createsimple N
    --with-default-pool --pg-bits B --pgp-bits P``, ``--import-crush``, maybe ``--adjust-crush-weight ...
    --save`` and ``--upmap ... --save`` (the balancer's ``pg_upmap_items``)."""
    files: dict[str, bytes] = {"crush.txt": case.crush_text.encode()}
    cmds: list[tuple[str, list[str]]] = [
        ("crushtool", ["-c", "crush.txt", "-o", "crush.bin"]),
        ("osdmaptool", ["om", "--createsimple", str(case.num_osds), "--with-default-pool", "--pg-bits",
                        str(case.pg_bits), "--pgp-bits", str(case.pgp_bits), "--clobber"]),
        ("osdmaptool", ["om", "--import-crush", "crush.bin"]),
    ]
    if case.save_adjust:
        cmds.append(("osdmaptool", ["om", "--adjust-crush-weight",
                                    ",".join(f"{o}:{w}" for o, w in case.save_adjust), "--save"]))
    if case.upmap:
        dev, mx = case.upmap
        cmds.append(("osdmaptool", ["om", "--mark-up-in", "--upmap", "upmap.txt", "--upmap-deviation", str(dev),
                                    "--upmap-max", str(mx), "--save"]))
    cmds.append(("osdmaptool", ["om", "--export-crush", "final.bin"]))
    for tool, args in cmds:
        p = run(release, tool, args, files)
        if p.returncode != 0:
            raise RuntimeError(f"{release}: {tool} {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
        files = p.files
    p = run(release, "crushtool", ["-i", "final.bin", "--dump"], {"final.bin": files["final.bin"]})
    if p.returncode != 0:
        raise RuntimeError(f"{release}: crushtool --dump failed: {p.stderr.strip()}")
    script = "\n".join(f"{tool} {' '.join(args)}" for tool, args in cmds)
    return Built(release, files["om"], p.stdout, script, files)


def dump_json(release: str, om: bytes) -> dict:
    """``osdmaptool om --dump json`` of ``release``."""
    return json.loads(osdmaptool(release, om, ["--dump", "json"]))


def _pg_key(pgid: str) -> tuple[int, int]:
    pool, ps = pgid.split(".")
    return int(pool), int(ps, 16)


def with_upmap_primaries(om: bytes, entries: dict[str, int]) -> bytes:
    """``om`` with its ``pg_upmap_primaries`` table replaced by ``entries`` (pgid -> OSD id; see the module)."""
    dec = decode_osdmap(om)
    sv = dec["struct_versions"]
    if sv["wrapper"] != 8:
        raise ValueError(f"wrapper struct_v {sv['wrapper']}: expected 8 (with a crc)")
    data = bytearray(om)
    cv, clen = data[6], struct.unpack_from("<I", data, 8)[0]
    client_end = 12 + clen
    if cv == 9:
        old = 0
        data[6] = 10
    elif cv == 10:
        old = 4 + 21 * len(dec["pg_upmap_primaries"])
    else:
        raise ValueError(f"client struct_v {cv}: expected 9 or 10")
    table = bytearray(struct.pack("<I", len(entries)))
    for pgid in sorted(entries, key=_pg_key):
        pool, ps = _pg_key(pgid)
        table += struct.pack("<BQIii", 1, pool, ps, -1, int(entries[pgid]))
    data[client_end - old:client_end] = table
    grow = len(table) - old
    struct.pack_into("<I", data, 8, clen + grow)
    struct.pack_into("<I", data, 2, struct.unpack_from("<I", data, 2)[0] + grow)
    osd_at = client_end + grow
    crc_at = osd_at + 6 + struct.unpack_from("<I", data, osd_at + 2)[0]
    crc = crc32c(0xFFFFFFFF, bytes(data[:crc_at]))
    crc = crc32c(crc, bytes(data[crc_at + 4:]))
    struct.pack_into("<I", data, crc_at, crc)
    out = bytes(data)
    got = {e["pgid"]: e["primary_osd"] for e in decode_osdmap(out)["pg_upmap_primaries"]}
    assert got == {k: int(v) for k, v in entries.items()}, (got, entries)
    return out


_OSD_COLUMNS = ["osd_id", "name", "exists", "up", "in", "reweight", "primary_affinity", "weight_fixed",
                "primary_affinity_fixed"]


def same_as_dump(release: str, om: bytes, *, unread: tuple[str, ...] = ()):
    """Assert that pgtools' binary reader makes of ``om`` what its ``osd dump`` parser makes of ``release``'s
    ``osdmaptool om --dump json`` (pools, OSDs, osdmap facts); returns the binary's Fragment.

    ``unread``: osdmap fields the release does not decode (its dump has them empty; compared no further).
    """
    import pandas as pd

    from pgtools.io import osd_dump, osdmap_binary

    frag = osdmap_binary.parse_bytes(om, source=f"om ({release})")
    ref = osd_dump.parse(osdmaptool(release, om, ["--dump", "json"]), source=f"--dump json ({release})")
    assert frag.kind == "osdmap_binary" and frag.epoch == ref.epoch and frag.release == ref.release
    pd.testing.assert_frame_equal(frag.pools, ref.pools)
    pd.testing.assert_frame_equal(frag.osds[_OSD_COLUMNS], ref.osds[_OSD_COLUMNS])
    for k in unread:
        assert not ref.osdmap[k], (release, k, ref.osdmap[k])
    mine = {k: v for k, v in frag.osdmap.items() if k not in unread}
    theirs = {k: v for k, v in ref.osdmap.items() if k not in unread}
    assert mine == theirs, {k: (mine[k], theirs.get(k)) for k in mine if mine[k] != theirs.get(k)}
    assert frag.crush is not None
    return frag
