"""Write a ``pg_upmap_items`` table into an encoded osdmap (test helper for the balancer oracle tests).

``osdmaptool`` cannot set upmap items from commands (only its own balancer's, with ``--save``), and only a
monitor applies ``ceph osd pg-upmap-items``.  The table sits in the OSDMap's client-usable section after the
CRUSH map, the erasure-code profiles and ``pg_upmap``; this rewrites it there: the old table's bytes are
replaced by the new encoding (``u32`` count, per entry ``pg_t`` = ``u8 1, u64 pool, u32 seed, s32 -1`` and the
pairs as ``u32`` count + ``s32, s32`` each, ascending by pgid as ``std::map`` keeps it), the section's and the
wrapper's ``struct_len`` grow by the difference and the wrapper's ``crc`` is recomputed (as
:func:`tests.oracle._osdmaps.with_upmap_primaries` does).  The release's own osdmaptool then reads it, so the
oracle is Ceph's decoder, ``clean_pg_upmaps`` and ``_apply_upmap``, not this encoder.
"""

from __future__ import annotations

import struct

from pgtools.io.osdmap_decode import crc32c, decode_osdmap

__all__ = ["with_upmap_items"]


def _key(pgid: str) -> tuple[int, int]:
    pool, ps = pgid.split(".")
    return int(pool), int(ps, 16)


def _string(data: bytes, off: int) -> int:
    (n,) = struct.unpack_from("<I", data, off)
    return off + 4 + n


def with_upmap_items(om: bytes, items: dict[str, list[tuple[int, int]]]) -> bytes:
    """``om`` with its ``pg_upmap_items`` replaced by ``items`` (pgid -> pairs)."""
    dec = decode_osdmap(om)
    if dec["struct_versions"]["wrapper"] != 8:
        raise ValueError("expected wrapper struct_v 8 (with a crc)")
    data = bytearray(om)
    off = dec["crush_offset"] + len(dec["crush_bytes"])
    (n,) = struct.unpack_from("<I", data, off)  # erasure_code_profiles
    off += 4
    for _ in range(n):
        off = _string(data, off)
        (m,) = struct.unpack_from("<I", data, off)
        off += 4
        for _ in range(2 * m):
            off = _string(data, off)
    (n,) = struct.unpack_from("<I", data, off)  # pg_upmap
    off += 4
    for _ in range(n):
        (m,) = struct.unpack_from("<I", data, off + 17)
        off += 17 + 4 + 4 * m
    start = off
    (n,) = struct.unpack_from("<I", data, off)  # pg_upmap_items
    off += 4
    for _ in range(n):
        (m,) = struct.unpack_from("<I", data, off + 17)
        off += 17 + 4 + 8 * m
    table = bytearray(struct.pack("<I", len(items)))
    for pgid in sorted(items, key=_key):
        pool, ps = _key(pgid)
        pairs = items[pgid]
        table += struct.pack("<BQIiI", 1, pool, ps, -1, len(pairs))
        for a, b in pairs:
            table += struct.pack("<ii", int(a), int(b))
    data[start:off] = table
    grow = len(table) - (off - start)
    clen = struct.unpack_from("<I", data, 8)[0]
    struct.pack_into("<I", data, 8, clen + grow)
    struct.pack_into("<I", data, 2, struct.unpack_from("<I", data, 2)[0] + grow)
    osd_at = 12 + clen + grow
    crc_at = osd_at + 6 + struct.unpack_from("<I", data, osd_at + 2)[0]
    crc = crc32c(0xFFFFFFFF, bytes(data[:crc_at]))
    crc = crc32c(crc, bytes(data[crc_at + 4:]))
    struct.pack_into("<I", data, crc_at, crc)
    out = bytes(data)
    got = {e["pgid"]: [(p["from"], p["to"]) for p in e["mappings"]] for e in decode_osdmap(out)["pg_upmap_items"]}
    want = {k: [tuple(map(int, p)) for p in v] for k, v in items.items()}
    assert got == want, "re-decoded table differs"
    return out
