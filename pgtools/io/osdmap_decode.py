"""Decode a binary OSDMap (``ceph osd getmap -o osdmap.bin``, ``osdmaptool --createsimple N``) into a dict.

The layout is what ``OSDMap::encode`` writes and ``OSDMap::decode`` reads (Ceph ``src/osd/OSDMap.cc``;
``pg_pool_t`` and ``pool_opts_t`` in ``src/osd/osd_types.cc``; ``entity_addrvec_t`` in
``src/msg/msg_types.h``), little-endian throughout.  Every versioned struct starts with
``struct_v u8, struct_compat u8, struct_len u32`` (``ENCODE_START``): a reader that knows fewer
fields skips to the struct's end, which is how one reader serves several releases.

* wrapper (``struct_v`` 7 or 8, compat 7; older maps used the pre-Firefly "classic" encoding, refused);
* client-usable data (``struct_v`` 9 in Pacific, 10 in Reef 18.2.7 and Tentacle 20.2.4): ``fsid`` (16 bytes), ``epoch``,
  ``created``, ``modified`` (``utime_t``: u32 sec, u32 nsec), ``pools`` (``map<s64, pg_pool_t>``),
  ``pool_name`` (``map<s64, string>``), ``pool_max s32``, ``flags u32``, ``max_osd s32``,
  ``osd_state`` (``vector<u32>``, ``vector<u8>`` before v5), ``osd_weight vector<u32>``,
  ``client_addrs`` (``vector<entity_addrvec_t>``), ``pg_temp`` (``map<pg_t, vector<s32>>``),
  ``primary_temp map<pg_t, s32>``, ``osd_primary_affinity vector<u32>`` (v2+; empty: all default),
  the CRUSH map (a ``bufferlist``: u32 length + the bytes ``crushtool`` reads), ``erasure_code_profiles``
  (``map<string, map<string, string>>``, v3+), ``pg_upmap`` / ``pg_upmap_items`` (v4+),
  ``crush_version s32`` (v6+), ``new_removed_snaps`` / ``new_purged_snaps`` (v7+), ``last_up_change`` /
  ``last_in_change`` (v9+), ``pg_upmap_primaries map<pg_t, s32>`` (v10+, Reef's read balancer);
* OSD-only data (``struct_v`` 9 in Pacific; 10 with stretch mode, 11 with range blocklists, 12 with
  ``allow_crimson``): addresses, ``osd_info``, blocklist, ``osd_uuid``, ``osd_xinfo`` (all skipped,
  bounded), then ``nearfull_ratio``, ``full_ratio`` (v2+), ``backfillfull_ratio`` (v3+) as float32,
  ``require_min_compat_client`` and ``require_osd_release`` (``ceph_release_t`` u8, v5+); the rest
  (snap queues, node/class flags, stretch mode) is skipped to the struct's end;
* ``crc u32`` (wrapper v8+): crc32c (seed ``0xffffffff``, no final inversion) of the bytes from the
  wrapper's start to the crc; a mismatch is refused, as Ceph refuses it ("bad crc").

``pg_pool_t`` (``struct_v`` 29 in Pacific and Reef, 32 in Tentacle; compat 5): ``type, size, crush_rule,
object_hash`` (u8 each),
``pg_num, pgp_num`` (u32), two legacy ``lpg`` u32, ``last_change u32``, ``snap_seq u64``, ``snap_epoch u32``,
``snaps`` (map of versioned ``pool_snap_info_t``), ``removed_snaps`` (interval set), ``auid u64``,
``flags u64``, ``crash_replay_interval u32``, ``min_size u8``, quotas, tiers, cache settings, hit-set
parameters, ``stripe_width u32``, ``erasure_code_profile`` string, ..., ``opts`` (``pool_opts_t``:
``s32`` key, ``s32`` type 0 string / 1 int (s64 from v2, s32 before) / 2 double), ``application_metadata``
(v26+), ``create_time`` (v27+), ``pg_num_target, pgp_num_target, pg_num_pending`` (v28+) and
``pg_autoscale_mode`` (u8); later fields (merge metadata v29, stretch peering settings v30, Tentacle's
``nonprimary_shards`` of optimized EC pools v32) are skipped.  The pool ``flags`` are kept whole, so
Tentacle's ``ec_optimizations`` (1 << 19) reaches placement, which refuses what it cannot reproduce there.

Which release wrote a map shows in ``struct_versions`` (``osdmaptool --createsimple``: wrapper 8, client 9, osd 9
in 16.2.15; client 10 in 18.2.7 and 20.2.4; pools v29, v29, v32); ``tests/oracle/test_osdmapbin_random.py``
reads random maps each release's osdmaptool wrote and compares them with that release's ``--dump json``.

:func:`decode_osdmap` returns the dict ``ceph osd dump -f json`` prints (the keys pgtools reads) plus the
embedded CRUSH map's bytes; :mod:`pgtools.io.osdmap_binary` turns it into a Fragment.  Not decoded:
addresses, ``osd_info``, ``osd_xinfo``, uuids, snapshots, blocklist entries (only counted), stretch mode.
A malformed or truncated map is one :class:`~pgtools.errors.DumpFormatError` naming the byte offset and
the field; every count is checked against the bytes left before anything is allocated.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any

from ._binary import ByteReader

__all__ = ["decode_osdmap", "is_osdmap_binary", "crc32c", "RELEASE_NAMES", "OSDMAP_FLAG_BITS", "POOL_OPT_NAMES"]

#: ``ceph_release_t`` (``src/common/ceph_releases.h``): the u8 value -> name (0 is ``unknown``).
RELEASE_NAMES = ["unknown", "argonaut", "bobtail", "cuttlefish", "dumpling", "emperor", "firefly", "giant",
                 "hammer", "infernalis", "jewel", "kraken", "luminous", "mimic", "nautilus", "octopus",
                 "pacific", "quincy", "reef", "squid", "tentacle"]

#: ``CEPH_OSDMAP_*`` flags (``src/include/rados.h``) in the order ``OSDMap::get_flag_string`` prints them.
OSDMAP_FLAG_BITS = {
    "pauserd": 1 << 2, "pausewr": 1 << 3, "pauserec": 1 << 4, "noup": 1 << 5, "nodown": 1 << 6,
    "noout": 1 << 7, "noin": 1 << 8, "nobackfill": 1 << 9, "norebalance": 1 << 14, "norecover": 1 << 10,
    "noscrub": 1 << 11, "nodeep-scrub": 1 << 12, "notieragent": 1 << 13, "nosnaptrim": 1 << 21,
    "sortbitwise": 1 << 15, "require_jewel_osds": 1 << 16, "require_kraken_osds": 1 << 17,
    "require_luminous_osds": 1 << 18, "recovery_deletes": 1 << 19, "purged_snapdirs": 1 << 20,
    "pglog_hardlimit": 1 << 22, "noautoscale": 1 << 24,
}
_LEGACY_REQUIRE = (1 << 16) | (1 << 17) | (1 << 18)

#: ``pool_opts_t::key_t`` (``src/osd/osd_types.h``) -> the name ``pg_pool_t::dump`` prints.
POOL_OPT_NAMES = ["scrub_min_interval", "scrub_max_interval", "deep_scrub_interval", "recovery_priority",
                  "recovery_op_priority", "scrub_priority", "compression_mode", "compression_algorithm",
                  "compression_required_ratio", "compression_max_blob_size", "compression_min_blob_size",
                  "csum_type", "csum_max_block", "csum_min_block", "fingerprint_algorithm", "pg_num_min",
                  "target_size_bytes", "target_size_ratio", "pg_autoscale_bias", "read_lease_interval",
                  "dedup_tier", "dedup_chunk_algorithm", "dedup_cdc_chunk_size", "pg_num_max", "read_ratio"]
_AUTOSCALE_MODES = {0: "off", 1: "warn", 2: "on"}

#: Newest struct versions this reader knows (a map whose ``struct_compat`` exceeds one is refused).
_KNOWN = {"wrapper": 8, "client": 10, "osd": 12, "pg_pool_t": 32}

#: Cap on the number of OSD ids (``max_osd``) and on any single count, against hostile input.
_MAX_OSD = 1 << 24


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(crc: int, data: bytes) -> int:
    """``ceph_crc32c(crc, data)``: CRC-32C updated from ``crc``, without Ceph's (absent) pre/post inversion."""
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


class _Reader(ByteReader):
    """The OSDMap decoder's cursor: :class:`ByteReader` plus Ceph's struct framing; every struct's end is a
    hard limit."""

    def string(self, fld: str) -> str:
        return self.raw(self.u32(fld + ".length"), fld).decode("utf-8", errors="replace")

    def count(self, fld: str, min_entry: int) -> int:
        """A ``u32`` element count, checked against the bytes left (each entry takes >= ``min_entry``)."""
        at = self.off
        n = self.u32(fld)
        if n * min_entry > self.end - self.off or n > _MAX_OSD * 64:
            raise self.error(f"truncated (or a bad count): {n} entries need at least {n * min_entry} bytes, "
                             f"{self.end - self.off} left", fld, at)
        return n

    def ints(self, fmt: str, fld: str) -> list[int]:
        """``vector<u32>`` / ``vector<s32>`` (``fmt`` ``I`` / ``i``): u32 count, then the values."""
        n = self.count(fld, 4)
        vals = list(struct.unpack_from(f"<{n}{fmt}", self.data, self.off))
        self.off += 4 * n
        return vals

    def start(self, fld: str, known: int) -> tuple[int, int]:
        """``DECODE_START``: ``(struct_v, end offset)``; the struct's length must fit in the enclosing one."""
        at = self.off
        v = self.u8(fld + ".struct_v")
        compat = self.u8(fld + ".struct_compat")
        length = self.u32(fld + ".struct_len")
        if compat > v:
            raise self.error(f"struct_compat {compat} above struct_v {v}", fld, at)
        if compat > known:
            raise self.error(f"unsupported: encoding v{v} needs a decoder of v{compat} or later "
                             f"(this reader knows v{known})", fld, at)
        self.need(length, fld)
        return v, self.off + length

    def finish(self, end: int, fld: str) -> None:
        """``DECODE_FINISH``: the struct must not have been overrun; skip what this reader does not know."""
        if self.off > end:
            raise self.error(f"decoded past the struct's end ({end})", fld)
        self.off = end

    def limit(self, end: int) -> int:
        """Make ``end`` the hard end (reads beyond it are truncation errors); returns the old end."""
        old, self.end = self.end, end
        return old


def is_osdmap_binary(data: bytes) -> bool:
    """True when ``data`` starts like an OSDMap: wrapper ``struct_v`` 7..16 with compat 7, and a client section
    (compat 1) that fits in the wrapper's length.  The length need not match the file: a cut or padded map is
    still recognised, so that decoding says where it ends (offset and field) instead of "not a dump format"."""
    if len(data) < 12:
        return False
    v, compat, length = struct.unpack_from("<BBI", data, 0)
    if not (7 <= v <= 16 and compat == 7 and length >= 6):
        return False
    cv, ccompat, clen = struct.unpack_from("<BBI", data, 6)
    return 1 <= cv and ccompat == 1 and clen <= length - 6


# --------------------------------------------------------------------------------------------------
# small types


def _pg_t(rd: _Reader, fld: str) -> str:
    """``pg_t``: ``u8 v, u64 pool, u32 seed, s32 preferred`` -> ``"pool.seedhex"``."""
    rd.u8(fld + ".v")
    pool = rd.u64(fld + ".pool")
    seed = rd.u32(fld + ".seed")
    rd.s32(fld + ".preferred")
    return f"{pool}.{seed:x}"


def _utime(rd: _Reader, fld: str) -> tuple[int, int]:
    return rd.u32(fld + ".sec"), rd.u32(fld + ".nsec")


def _str_map(rd: _Reader, fld: str) -> dict[str, str]:
    n = rd.count(fld, 8)
    out = {}
    for i in range(n):
        k = rd.string(f"{fld}[{i}].key")
        out[k] = rd.string(f"{fld}[{k}]")
    return out


def _interval_map(rd: _Reader, fld: str) -> None:
    """``map<s64, interval_set<snapid_t>>``: skipped."""
    n = rd.count(fld, 12)
    for i in range(n):
        rd.s64(f"{fld}[{i}].pool")
        m = rd.count(f"{fld}[{i}].intervals", 16)
        rd.skip(16 * m, f"{fld}[{i}].intervals")


def _addr_body(rd: _Reader, fld: str, marker: int) -> bool:
    """The rest of one ``entity_addr_t`` after its marker (0 = legacy: 3 + nonce 4 + sockaddr_storage 128 bytes,
    1 = versioned); False for any other marker."""
    if marker == 0:
        rd.skip(135, fld + ".legacy")
    elif marker == 1:
        _v, end = rd.start(fld, 1)
        rd.finish(end, fld)
    else:
        return False
    return True


def _entity_addr(rd: _Reader, fld: str) -> None:
    """``entity_addr_t``: marker 0 = legacy, 1 = versioned (:func:`_addr_body`)."""
    at = rd.off
    marker = rd.u8(fld + ".marker")
    if not _addr_body(rd, fld, marker):
        raise rd.error(f"entity_addr_t marker {marker} (expected 0 or 1)", fld, at)


def _addrvec(rd: _Reader, fld: str) -> None:
    """``entity_addrvec_t``: marker 0/1 = one address (legacy / versioned), 2 = ``vector<entity_addr_t>``."""
    at = rd.off
    marker = rd.u8(fld + ".marker")
    if marker == 2:
        for i in range(rd.count(fld + ".count", 1)):
            _entity_addr(rd, f"{fld}[{i}]")
    elif not _addr_body(rd, fld, marker):
        raise rd.error(f"entity_addrvec_t marker {marker} (expected 0, 1 or 2)", fld, at)


def _addrvecs(rd: _Reader, fld: str) -> None:
    for i in range(rd.count(fld, 1)):
        _addrvec(rd, f"{fld}[{i}]")


# --------------------------------------------------------------------------------------------------
# pg_pool_t


def _pool_opts(rd: _Reader, fld: str) -> dict[str, Any]:
    v, end = rd.start(fld, 2)
    old = rd.limit(end)
    out: dict[str, Any] = {}
    for i in range(rd.count(fld + ".count", 8)):
        key = rd.s32(f"{fld}[{i}].key")
        name = POOL_OPT_NAMES[key] if 0 <= key < len(POOL_OPT_NAMES) else f"opt_{key}"
        at = rd.off
        typ = rd.s32(f"{fld}.{name}.type")
        if typ == 0:
            out[name] = rd.string(f"{fld}.{name}")
        elif typ == 1:
            out[name] = rd.s64(f"{fld}.{name}") if v >= 2 else rd.s32(f"{fld}.{name}")
        elif typ == 2:
            out[name] = rd.f64(f"{fld}.{name}")
        else:
            raise rd.error(f"invalid option type {typ}", f"{fld}.{name}.type", at)
    rd.limit(old)
    rd.finish(end, fld)
    return out


def _pool(rd: _Reader, pid: int, fld: str) -> dict[str, Any]:
    """One ``pg_pool_t`` as the dict ``pg_pool_t::dump`` prints (the keys pgtools reads)."""
    at = rd.off
    v = rd.u8(fld + ".struct_v")
    if v < 5:
        raise rd.error(f"unsupported: pg_pool_t v{v} (pre-Firefly encoding)", fld, at)
    rd.off = at
    v, end = rd.start(fld, _KNOWN["pg_pool_t"])
    old = rd.limit(end)
    p: dict[str, Any] = {"pool": pid}
    p["type"] = rd.u8(fld + ".type")
    p["size"] = rd.u8(fld + ".size")
    p["crush_rule"] = rd.u8(fld + ".crush_rule")
    p["object_hash"] = rd.u8(fld + ".object_hash")
    p["pg_num"] = rd.u32(fld + ".pg_num")
    p["pg_placement_num"] = rd.u32(fld + ".pgp_num")
    rd.skip(8, fld + ".lpg_num")
    p["last_change"] = rd.u32(fld + ".last_change")
    rd.u64(fld + ".snap_seq")
    rd.u32(fld + ".snap_epoch")
    for i in range(rd.count(fld + ".snaps", 14)):
        rd.u64(f"{fld}.snaps[{i}].key")
        _v, send = rd.start(f"{fld}.snaps[{i}]", 2)
        rd.finish(send, f"{fld}.snaps[{i}]")
    rd.skip(16 * rd.count(fld + ".removed_snaps", 16), fld + ".removed_snaps")
    rd.u64(fld + ".auid")
    flags = rd.u64(fld + ".flags") if v >= 4 else 0
    rd.u32(fld + ".crash_replay_interval")
    p["flags"] = flags
    p["min_size"] = rd.u8(fld + ".min_size") if v >= 7 else p["size"] - p["size"] // 2
    if v >= 8:
        rd.skip(16, fld + ".quota")
    if v >= 9:
        rd.skip(8 * rd.count(fld + ".tiers", 8), fld + ".tiers")
        rd.skip(8 + 1 + 8 + 8, fld + ".tier_of")
    if v >= 10:
        _str_map(rd, fld + ".properties")
    if v >= 11:
        _hv, hend = rd.start(fld + ".hit_set_params", 1)
        rd.finish(hend, fld + ".hit_set_params")
        rd.skip(8, fld + ".hit_set_period")
    p["stripe_width"] = rd.u32(fld + ".stripe_width") if v >= 12 else 0
    if v >= 13:
        rd.skip(8 + 8 + 4 * 4, fld + ".cache_targets")
    p["erasure_code_profile"] = rd.string(fld + ".erasure_code_profile") if v >= 14 else ""
    for ver, n, name in ((15, 4, "last_force_op_resend_preluminous"), (16, 4, "min_read_recency_for_promote"),
                         (17, 8, "expected_num_objects"), (19, 4, "cache_target_dirty_high_ratio_micro"),
                         (20, 4, "min_write_recency_for_promote"), (21, 1, "use_gmt_hitset"),
                         (22, 1, "fast_read"), (23, 8, "hit_set_grade_decay_rate")):
        if v >= ver:
            rd.skip(n, f"{fld}.{name}")
    p["options"] = _pool_opts(rd, fld + ".opts") if v >= 24 else {}
    if v >= 25:
        rd.u32(fld + ".last_force_op_resend_prenautilus")
    apps: dict[str, dict[str, str]] = {}
    if v >= 26:
        for i in range(rd.count(fld + ".application_metadata", 8)):
            name = rd.string(f"{fld}.application_metadata[{i}]")
            apps[name] = _str_map(rd, f"{fld}.application_metadata.{name}")
    p["application_metadata"] = apps
    if v >= 27:
        _utime(rd, fld + ".create_time")
    if v >= 28:
        p["pg_num_target"] = rd.u32(fld + ".pg_num_target")
        p["pg_placement_num_target"] = rd.u32(fld + ".pgp_num_target")
        p["pg_num_pending"] = rd.u32(fld + ".pg_num_pending")
        rd.skip(12, fld + ".last_force_op_resend")
        mode = rd.u8(fld + ".pg_autoscale_mode")
        p["pg_autoscale_mode"] = _AUTOSCALE_MODES.get(mode, "unknown")
    else:
        p["pg_num_target"], p["pg_placement_num_target"] = p["pg_num"], p["pg_placement_num"]
        p["pg_num_pending"], p["pg_autoscale_mode"] = p["pg_num"], "warn"
    rd.limit(old)
    rd.finish(end, fld)
    return p


# --------------------------------------------------------------------------------------------------
# OSDMap


def decode_osdmap(data: bytes, *, source: str = "<bytes>") -> dict[str, Any]:
    """Decode a binary OSDMap into the dict ``ceph osd dump -f json`` prints (the keys pgtools reads).

    Besides those keys: ``"crush_bytes"`` (the embedded binary CRUSH map), ``"flags_num"``,
    ``"struct_versions"`` (wrapper, client, osd) and ``"blocklist_entries"``.

    Raises
    ------
    DumpFormatError
        Malformed, truncated or unsupported content; the message gives the byte offset and the field.
    """
    rd = _Reader(data, source)
    if len(data) >= 1 and data[0] < 7:
        raise rd.error(f"unsupported: classic (pre-Firefly) OSDMap encoding v{data[0]}", "wrapper", 0)
    wv, wend = rd.start("wrapper", _KNOWN["wrapper"])
    rd.limit(wend)
    out: dict[str, Any] = {}

    # client-usable data
    cv, cend = rd.start("client", _KNOWN["client"])
    wrapper_end = rd.limit(cend)
    out["fsid"] = str(uuid.UUID(bytes=rd.raw(16, "fsid")))
    out["epoch"] = rd.u32("epoch")
    out["created"] = _utime(rd, "created")
    out["modified"] = _utime(rd, "modified")
    pools = []
    for i in range(rd.count("pools", 14)):
        pid = rd.s64(f"pools[{i}].id")
        pools.append(_pool(rd, pid, f"pools[{pid}]"))
    names = {}
    for i in range(rd.count("pool_name", 12)):
        pid = rd.s64(f"pool_name[{i}].id")
        names[pid] = rd.string(f"pool_name[{pid}]")
    for p in pools:
        p["pool_name"] = names.get(p["pool"], "<unknown>")
    out["pools"] = pools
    out["pool_max"] = rd.s32("pool_max")
    if pools and out["pool_max"] < max(p["pool"] for p in pools):  # Ceph's kludge for bug #2307
        out["pool_max"] = max(p["pool"] for p in pools)
    flags = rd.u32("flags")
    at = rd.off
    max_osd = rd.s32("max_osd")
    if not 0 <= max_osd <= _MAX_OSD:
        raise rd.error(f"max_osd out of range: {max_osd}", "max_osd", at)
    out["max_osd"] = max_osd
    if cv >= 5:
        state = rd.ints("I", "osd_state")
    else:
        n = rd.count("osd_state", 1)
        state = list(rd.raw(n, "osd_state"))
    weight = rd.ints("I", "osd_weight")
    for fld, vec in (("osd_state", state), ("osd_weight", weight)):
        if len(vec) != max_osd:
            raise rd.error(f"{len(vec)} entries for max_osd {max_osd}", fld)
    _addrvecs(rd, "client_addrs")
    out["pg_temp"] = _pg_vectors(rd, "pg_temp")
    out["primary_temp"] = _pg_ints(rd, "primary_temp")
    affinity = rd.ints("I", "osd_primary_affinity") if cv >= 2 else []
    if affinity and len(affinity) != max_osd:
        raise rd.error(f"{len(affinity)} entries for max_osd {max_osd}", "osd_primary_affinity")
    clen = rd.u32("crush.length")
    crush_at = rd.off
    out["crush_bytes"] = rd.raw(clen, "crush")
    out["crush_offset"] = crush_at
    profiles = {}
    if cv >= 3:
        for i in range(rd.count("erasure_code_profiles", 8)):
            name = rd.string(f"erasure_code_profiles[{i}]")
            profiles[name] = _str_map(rd, f"erasure_code_profiles.{name}")
    out["erasure_code_profiles"] = profiles
    out["pg_upmap"] = _pg_vectors(rd, "pg_upmap") if cv >= 4 else []
    out["pg_upmap_items"] = _pg_pairs(rd, "pg_upmap_items") if cv >= 4 else []
    if cv >= 6:
        out["crush_version"] = rd.s32("crush_version")
    if cv >= 7:
        _interval_map(rd, "new_removed_snaps")
        _interval_map(rd, "new_purged_snaps")
    if cv >= 9:
        _utime(rd, "last_up_change")
        _utime(rd, "last_in_change")
    prim = _pg_ints(rd, "pg_upmap_primaries") if cv >= 10 else []
    out["pg_upmap_primaries"] = [{"pgid": e["pgid"], "primary_osd": e["osd"]} for e in prim]
    rd.limit(wrapper_end)
    rd.finish(cend, "client")

    # OSD-only data
    ov, oend = rd.start("osd", _KNOWN["osd"])
    wrapper_end = rd.limit(oend)
    _addrvecs(rd, "hb_back_addrs")
    rd.skip(25 * rd.count("osd_info", 25), "osd_info")
    nbl = rd.count("blocklist", 9)
    for i in range(nbl):
        _entity_addr(rd, f"blocklist[{i}]")
        _utime(rd, f"blocklist[{i}].expires")
    out["blocklist_entries"] = nbl
    _addrvecs(rd, "cluster_addrs")
    rd.u32("cluster_snapshot_epoch")
    rd.string("cluster_snapshot")
    rd.skip(16 * rd.count("osd_uuid", 16), "osd_uuid")
    for i in range(rd.count("osd_xinfo", 6)):
        _xv, xend = rd.start(f"osd_xinfo[{i}]", 4)
        rd.finish(xend, f"osd_xinfo[{i}]")
    _addrvecs(rd, "hb_front_addrs")
    out["nearfull_ratio"] = out["full_ratio"] = out["backfillfull_ratio"] = 0.0
    if ov >= 2:
        out["nearfull_ratio"] = rd.f32("nearfull_ratio")
        out["full_ratio"] = rd.f32("full_ratio")
    if ov >= 3:
        out["backfillfull_ratio"] = rd.f32("backfillfull_ratio")
    min_compat = 0
    if ov == 4:
        name = rd.string("require_min_compat_client")
        min_compat = RELEASE_NAMES.index(name) if name in RELEASE_NAMES else 0
    if ov >= 5:
        min_compat = rd.u8("require_min_compat_client")
        release = rd.u8("require_osd_release")
        if release >= 14:
            flags |= OSDMAP_FLAG_BITS["pglog_hardlimit"]
        if release >= 12:
            flags = (flags & ~_LEGACY_REQUIRE) | OSDMAP_FLAG_BITS["recovery_deletes"]
    elif flags & OSDMAP_FLAG_BITS["require_luminous_osds"]:
        release = 12
        flags = (flags & ~_LEGACY_REQUIRE) | OSDMAP_FLAG_BITS["recovery_deletes"]
    elif flags & OSDMAP_FLAG_BITS["require_kraken_osds"]:
        release = 11
    elif flags & OSDMAP_FLAG_BITS["require_jewel_osds"]:
        release = 10
    else:
        release = 0
    out["require_min_compat_client"] = _release_name(min_compat)
    out["require_osd_release"] = _release_name(release)
    rd.limit(wrapper_end)
    rd.finish(oend, "osd")

    if wv >= 8:
        crc_at = rd.off
        crc = rd.u32("crc")
        actual = crc32c(0xFFFFFFFF, bytes(rd.data[0:crc_at]))
        if rd.off < wend:
            actual = crc32c(actual, bytes(rd.data[rd.off:wend]))
        if crc != actual:
            raise rd.error(f"bad crc, actual {actual} != expected {crc}", "crc", crc_at)
    rd.finish(wend, "wrapper")
    rd.end = len(data)
    if rd.off != len(data):
        raise rd.error(f"{len(data) - rd.off} bytes after the map", "wrapper")

    out["flags_num"] = flags
    out["flags"] = ",".join(n for n, b in OSDMAP_FLAG_BITS.items() if flags & b)
    out["osds"] = [_osd(i, state[i], weight[i], affinity[i] if affinity else 0x10000)
                   for i in range(max_osd) if state[i] & 1]
    out["struct_versions"] = {"wrapper": wv, "client": cv, "osd": ov}
    return out


def _release_name(v: int) -> str:
    return RELEASE_NAMES[v] if 0 <= v < len(RELEASE_NAMES) else f"release_{v}"


def _osd(i: int, state: int, weight: int, affinity: int) -> dict[str, Any]:
    names = ["exists"] + (["up"] if state & 2 else [])
    return {"osd": i, "up": int(bool(state & 2)), "in": int(weight != 0), "weight": weight / 0x10000,
            "primary_affinity": affinity / 0x10000, "state": names}


def _pg_vectors(rd: _Reader, fld: str) -> list[dict[str, Any]]:
    """``map<pg_t, vector<s32>>`` (``pg_temp``, ``pg_upmap``) as ``[{"pgid", "osds"}]``."""
    out = []
    for i in range(rd.count(fld, 21)):
        pgid = _pg_t(rd, f"{fld}[{i}].pgid")
        out.append({"pgid": pgid, "osds": rd.ints("i", f"{fld}[{pgid}]")})
    return out


def _pg_pairs(rd: _Reader, fld: str) -> list[dict[str, Any]]:
    """``map<pg_t, vector<pair<s32, s32>>>`` (``pg_upmap_items``) as ``[{"pgid", "mappings"}]``."""
    out = []
    for i in range(rd.count(fld, 21)):
        pgid = _pg_t(rd, f"{fld}[{i}].pgid")
        n = rd.count(f"{fld}[{pgid}]", 8)
        vals = struct.unpack_from(f"<{2 * n}i", rd.data, rd.off)
        rd.off += 8 * n
        out.append({"pgid": pgid, "mappings": [{"from": vals[2 * k], "to": vals[2 * k + 1]} for k in range(n)]})
    return out


def _pg_ints(rd: _Reader, fld: str) -> list[dict[str, Any]]:
    """``map<pg_t, s32>`` (``primary_temp``, ``pg_upmap_primaries``) as ``[{"pgid", "osd"}]``."""
    out = []
    for i in range(rd.count(fld, 21)):
        pgid = _pg_t(rd, f"{fld}[{i}].pgid")
        out.append({"pgid": pgid, "osd": rd.s32(f"{fld}[{pgid}]")})
    return out
