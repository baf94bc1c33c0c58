"""Read a binary CRUSH map (``ceph osd getcrushmap -o crush.bin``, ``crushtool -c map.txt -o map.bin``).

The layout is the one ``CrushWrapper::encode`` writes and ``CrushWrapper::decode`` reads in Ceph
16.2.15 (Pacific), little-endian throughout:

* header: magic ``u32 0x00010000``, ``max_buckets s32``, ``max_rules u32``, ``max_devices s32``;
* ``max_buckets`` bucket slots: ``alg u32`` (0 = empty slot), then ``id s32, type u16, alg u8, hash u8,
  weight u32, size u32, items s32 x size`` and per algorithm: uniform ``item_weight u32``; list
  ``(item_weight, sum_weight) u32`` pairs; tree ``num_nodes u8`` + ``node_weights u32 x num_nodes``
  (item weights are the leaves, node ``2i+1``); straw ``(item_weight, straw) u32`` pairs; straw2
  ``item_weights u32 x size``;
* ``max_rules`` rule slots: ``exists u32`` (0 = empty), ``len u32``, mask ``ruleset, type, min_size,
  max_size`` (u8 each), steps ``(op u32, arg1 s32, arg2 s32) x len``;
* ``type_map``, ``name_map``, ``rule_name_map``: ``u32`` count, then ``s32`` key + string (``u32``
  length + bytes); a zero length means the key was written as 64 bits (an old encoder bug Ceph
  tolerates): the real length follows;
* then, each only if bytes remain (older encoders stop earlier; the missing tunables keep the legacy
  values ``set_tunables_legacy`` gives): ``choose_local_tries, choose_local_fallback_tries,
  choose_total_tries`` (u32 each); ``chooseleaf_descend_once u32``; ``chooseleaf_vary_r u8``;
  ``straw_calc_version u8``; ``allowed_bucket_algs u32``; ``chooseleaf_stable u8``; device classes
  (``class_map`` map<s32,s32>, ``class_name`` map<s32,string>, ``class_bucket``
  map<s32,map<s32,s32>>); ``choose_args`` (``u32`` count; each: ``s64`` key, ``u32`` entries; each
  entry: ``u32`` bucket index, ``u32`` weight-set positions, per position ``u32`` size + ``u32 x size``
  weights, ``u32`` ids size + ``s32 x size`` ids); the MSR tunables ``msr_descents, msr_collision_tries``
  (u32 each, Squid and later encoders; absent: 100 and 100, ``set_default_msr_tunables``).  Bytes after
  that are ignored, as Ceph does.

Like ``decode``, the reader then drops choose_args of empty slots and non-straw2 buckets and resizes
mis-sized weight sets (``update_choose_args``), and sets ``max_devices`` as ``finalize`` does (one more
than the largest device id held in a bucket or named).  What Ceph would reject (bad magic, truncation,
unknown algorithms, ``ceph_assert`` failures) or could not map sanely (a bucket slot holding another
id, a bucket holding a missing bucket, a cycle, a tree whose node count does not fit its size) is a
:class:`~pgtools.errors.DumpFormatError` naming the byte offset and the field.  Features pgtools does
not model (hash types other than rjenkins1) are DumpFormatErrors too, their message starts with
``unsupported:``.  Squid's MSR rules (types 4 and 5, steps ``set_msr_descents`` 14,
``set_msr_collision_tries`` 15, ``choosemsr`` 16) are read like any rule.

The stored straws (straw buckets), node weights (tree buckets) and running sums (list buckets) are
kept on the buckets (:attr:`~pgtools.crush.Bucket.straws`, ...), so mappings follow what Ceph stored,
not a recomputation.
"""

from __future__ import annotations

import struct
from typing import Any

from ..crush.buckets import LIST, STRAW, STRAW2, TREE, UNIFORM, Bucket
from ..crush.map import CrushMap, compute_max_devices, find_cycle
from ..crush.rule import OP_NAMES, OPS, ChooseArg, Rule, Tunables
from ..errors import DumpFormatError
from ._binary import ByteReader

__all__ = ["CRUSH_MAGIC", "crushmap_from_binary", "is_crush_binary"]

#: ``CRUSH_MAGIC``: the first four bytes of a binary CRUSH map (little-endian ``u32``).
CRUSH_MAGIC = 0x00010000
_MAGIC_BYTES = struct.pack("<I", CRUSH_MAGIC)


def is_crush_binary(data: bytes) -> bool:
    """True when ``data`` starts with the CRUSH magic (bytes ``00 00 01 00``)."""
    return bytes(data[:4]) == _MAGIC_BYTES


class _Reader(ByteReader):
    """The CRUSH decoder's cursor: :class:`ByteReader` with element counts checked against the bytes left."""

    def count(self, fld: str, min_entry: int) -> int:
        """A ``u32`` element count, checked against the bytes left (each entry takes >= min_entry)."""
        at = self.off
        n = self.u32(fld)
        if n * min_entry > self.remaining():
            raise self.error(f"truncated (or a bad count): {n} entries need at least {n * min_entry} bytes, "
                             f"{self.remaining()} left", fld, at)
        return n

    def string(self, fld: str, length: int | None = None) -> str:
        if length is None:
            length = self.u32(fld + ".length")
        self.need(length, fld)
        raw = bytes(self.data[self.off:self.off + length])
        self.off += length
        return raw.decode("utf-8", errors="replace")

    def name_map(self, fld: str) -> dict[int, str]:
        """``decode_32_or_64_string_map``: s32 key, u32 length (0: the key had 64 bits, length follows)."""
        out: dict[int, str] = {}
        n = self.count(fld, 8)
        for i in range(n):
            key = self.s32(f"{fld}[{i}].key")
            length = self.u32(f"{fld}[{i}].length")
            if length == 0:
                length = self.u32(f"{fld}[{i}].length")
            out[key] = self.string(f"{fld}[{i}].name", length)
        return out


def _tree_nodes_for(size: int) -> int:
    """``1 << calc_depth(size)``: the node count Ceph gives a tree bucket of ``size`` items (0 if empty)."""
    return 0 if size == 0 else 1 << (1 + (size - 1).bit_length())


def crushmap_from_binary(data: bytes, *, source: str = "<bytes>") -> CrushMap:
    """Parse a binary CRUSH map into a :class:`~pgtools.crush.CrushMap`.

    Parameters
    ----------
    data : bytes
        The whole file (``ceph osd getcrushmap -o``, ``crushtool -c ... -o``, ``osdmaptool
        --export-crush``).
    source : str
        Name used in error messages.

    Returns
    -------
    CrushMap
        With the stored straws / tree node weights / list sums on the buckets.  Devices are the named
        ones (``name_map``) and, unnamed, those that have a device class (``device<N>``).

    Raises
    ------
    DumpFormatError
        Bad magic, truncation, impossible counts or sizes, unknown bucket algorithms or rule opcodes,
        inconsistent references; unsupported features (hash types other than rjenkins1, MSR rule
        steps).  The message starts with ``offset N:`` and the error names the field.
    """
    rd = _Reader(bytes(data), source)
    magic = rd.u32("magic")
    if magic != CRUSH_MAGIC:
        raise rd.error(f"bad magic {magic:#010x} (a binary CRUSH map starts with {CRUSH_MAGIC:#010x})", "magic", 0)
    at = rd.off
    max_buckets = rd.s32("max_buckets")
    if max_buckets < 0 or max_buckets * 4 > rd.remaining():
        raise rd.error(f"truncated (or a bad max_buckets): {max_buckets} bucket slots, {rd.remaining()} bytes left",
                       "max_buckets", at)
    at = rd.off
    max_rules = rd.u32("max_rules")
    if max_rules * 4 > rd.remaining() - 4 * max_buckets:
        raise rd.error(f"truncated (or a bad max_rules): {max_rules} rule slots, {rd.remaining()} bytes left",
                       "max_rules", at)
    rd.s32("max_devices")  # recomputed by finalize() on decode

    # ---------------------------------------------------------------------------------- buckets
    raw_buckets: dict[int, dict[str, Any]] = {}
    for i in range(max_buckets):
        f = f"buckets[{i}]"
        at = rd.off
        alg = rd.u32(f + ".alg")
        if alg == 0:
            continue
        if alg not in (UNIFORM, LIST, TREE, STRAW, STRAW2):
            raise rd.error(f"unsupported bucket algorithm {alg}", f + ".alg", at)
        at = rd.off
        bid = rd.s32(f + ".id")
        if bid != -1 - i:
            raise rd.error(f"bucket slot {i} holds id {bid} (expected {-1 - i})", f + ".id", at)
        type_id = rd.u16(f + ".type")
        at = rd.off
        alg8 = rd.u8(f + ".alg")
        if alg8 != alg:
            raise rd.error(f"algorithm {alg8} differs from the slot's {alg}", f + ".alg", at)
        at = rd.off
        hsh = rd.u8(f + ".hash")
        if hsh != 0:
            raise rd.error(f"unsupported: hash type {hsh} (pgtools implements rjenkins1, type 0)", f + ".hash", at)
        weight = rd.u32(f + ".weight")
        at = rd.off
        size = rd.u32(f + ".size")
        if size * 4 > rd.remaining():
            raise rd.error(f"truncated (or a bad size): {size} items need {4 * size} bytes, {rd.remaining()} left",
                           f + ".size", at)
        items_off = rd.off
        items = rd.array("i", size, f + ".items")
        straws = node_weights = sum_weights = None
        if alg == UNIFORM:
            weights = (rd.u32(f + ".item_weight"),) * size
        elif alg == LIST:
            pairs = rd.array("I", 2 * size, f + ".item_weights")
            weights, sum_weights = pairs[0::2], pairs[1::2]
        elif alg == TREE:
            at = rd.off
            num_nodes = rd.u8(f + ".num_nodes")
            node_weights = rd.array("I", num_nodes, f + ".node_weights")
            if size:
                want = _tree_nodes_for(size)
                if num_nodes != want:
                    raise rd.error(f"tree bucket of {size} items has num_nodes {num_nodes}, Ceph gives it {want}"
                                   + (" (trees of more than 64 items cannot be encoded)" if want > 255 else ""),
                                   f + ".num_nodes", at)
                weights = tuple(node_weights[2 * k + 1] for k in range(size))
            else:
                weights = ()
                node_weights = None
        elif alg == STRAW:
            pairs = rd.array("I", 2 * size, f + ".item_weights")
            weights, straws = pairs[0::2], pairs[1::2]
        else:
            weights = rd.array("I", size, f + ".item_weights")
        raw_buckets[bid] = dict(type_id=type_id, alg=alg, weight=weight, items=tuple(items),
                                weights=tuple(weights), straws=straws, node_weights=node_weights,
                                sum_weights=sum_weights, items_off=items_off)

    # ---------------------------------------------------------------------------------- rules
    raw_rules: dict[int, dict[str, Any]] = {}
    for i in range(max_rules):
        f = f"rules[{i}]"
        if not rd.u32(f + ".exists"):
            continue
        at = rd.off
        length = rd.u32(f + ".len")
        if length * 12 + 4 > rd.remaining():
            raise rd.error(f"truncated (or a bad len): {length} steps need {12 * length + 4} bytes, {rd.remaining()} left",
                           f + ".len", at)
        ruleset = rd.u8(f + ".ruleset")
        rtype = rd.u8(f + ".type")
        min_size = rd.u8(f + ".min_size")
        max_size = rd.u8(f + ".max_size")
        steps = []
        offsets = []
        for j in range(length):
            sf = f"{f}.steps[{j}]"
            at = rd.off
            op = rd.u32(sf + ".op")
            a1 = rd.s32(sf + ".arg1")
            a2 = rd.s32(sf + ".arg2")
            if op not in OP_NAMES:
                raise rd.error(f"unknown rule opcode {op}", sf + ".op", at)
            steps.append((op, a1, a2))
            offsets.append(at)
        raw_rules[i] = dict(ruleset=ruleset, type=rtype, min_size=min_size, max_size=max_size,
                            steps=tuple(steps), offsets=offsets)

    # ---------------------------------------------------------------------------------- names
    types = rd.name_map("type_map")
    names = rd.name_map("name_map")
    rule_names = rd.name_map("rule_name_map")

    # ---------------------------------------------------------------------------------- optional tail
    tun = dict(Tunables.profile("argonaut").__dict__)  # set_tunables_legacy()
    if rd.remaining():
        tun["choose_local_tries"] = rd.u32("tunables.choose_local_tries")
        tun["choose_local_fallback_tries"] = rd.u32("tunables.choose_local_fallback_tries")
        tun["choose_total_tries"] = rd.u32("tunables.choose_total_tries")
    if rd.remaining():
        tun["chooseleaf_descend_once"] = rd.u32("tunables.chooseleaf_descend_once")
    if rd.remaining():
        tun["chooseleaf_vary_r"] = rd.u8("tunables.chooseleaf_vary_r")
    if rd.remaining():
        tun["straw_calc_version"] = rd.u8("tunables.straw_calc_version")
    if rd.remaining():
        tun["allowed_bucket_algs"] = rd.u32("tunables.allowed_bucket_algs")
    if rd.remaining():
        tun["chooseleaf_stable"] = rd.u8("tunables.chooseleaf_stable")
    class_map: dict[int, int] = {}
    class_name: dict[int, str] = {}
    class_bucket_raw: dict[int, dict[int, int]] = {}
    if rd.remaining():
        for k in range(rd.count("class_map", 8)):
            dev = rd.s32(f"class_map[{k}].key")
            class_map[dev] = rd.s32(f"class_map[{k}].class_id")
        for k in range(rd.count("class_name", 8)):
            cid = rd.s32(f"class_name[{k}].key")
            class_name[cid] = rd.string(f"class_name[{k}].name")
        for k in range(rd.count("class_bucket", 8)):
            orig = rd.s32(f"class_bucket[{k}].key")
            inner = class_bucket_raw.setdefault(orig, {})
            inner.clear()
            for m in range(rd.count(f"class_bucket[{k}].size", 8)):
                cid = rd.s32(f"class_bucket[{k}][{m}].class_id")
                inner[cid] = rd.s32(f"class_bucket[{k}][{m}].bucket_id")
    raw_args: dict[int, dict[int, dict[str, Any]]] = {}
    if rd.remaining():
        for k in range(rd.count("choose_args", 12)):
            f = f"choose_args[{k}]"
            key = rd.s64(f + ".key")
            entries: dict[int, dict[str, Any]] = {}
            raw_args[key] = entries
            for j in range(rd.count(f + ".size", 12)):
                ef = f"{f}[{j}]"
                entry_at = rd.off
                index = rd.u32(ef + ".bucket_index")
                if index >= max_buckets:
                    raise rd.error(f"bucket index {index} >= max_buckets {max_buckets}", ef + ".bucket_index",
                                   entry_at)
                positions = rd.count(ef + ".weight_set_positions", 4)
                rows = []
                for p in range(positions):
                    pf = f"{ef}.weight_set[{p}]"
                    at_row = rd.off
                    n = rd.u32(pf + ".size")
                    if n * 4 > rd.remaining():
                        raise rd.error(f"truncated (or a bad size): {n} weights need {4 * n} bytes, {rd.remaining()} left",
                                       pf + ".size",
                                       at_row)
                    rows.append(list(rd.array("I", n, pf)))
                at = rd.off
                ids_size = rd.u32(ef + ".ids_size")
                ids = None
                if ids_size:
                    b = raw_buckets.get(-1 - index)
                    if b is None or ids_size != len(b["items"]):
                        raise rd.error(f"ids_size {ids_size} differs from the size of bucket {-1 - index}"
                                       if b is not None else f"ids given for the empty bucket slot {index}",
                                       ef + ".ids_size", at)
                    ids = rd.array("i", ids_size, ef + ".ids")
                entries[index] = dict(rows=rows, ids=ids, offset=entry_at)
    if rd.remaining():  # Squid and later (feature CRUSH_MSR)
        tun["msr_descents"] = rd.u32("tunables.msr_descents")
        tun["msr_collision_tries"] = rd.u32("tunables.msr_collision_tries")

    # ---------------------------------------------------------------------------------- checks
    for bid, b in raw_buckets.items():
        for j, it in enumerate(b["items"]):
            if it < 0 and it not in raw_buckets:
                raise rd.error(f"bucket {bid} holds missing bucket {it}", f"buckets[{-1 - bid}].items[{j}]",
                               b["items_off"] + 4 * j)
    _check_cycles(rd, raw_buckets, names)
    for rid, r in raw_rules.items():
        for j, (op, a1, _a2) in enumerate(r["steps"]):
            if op == OPS["take"] and a1 < 0 and a1 not in raw_buckets:
                raise rd.error(f"rule {rid} takes missing bucket {a1}", f"rules[{rid}].steps[{j}].arg1",
                               r["offsets"][j] + 4)

    # ---------------------------------------------------------------------------------- build
    buckets: dict[int, Bucket] = {}
    for bid, b in raw_buckets.items():
        stored = (b["items"], b["weights"])
        buckets[bid] = Bucket(
            id=bid, name=names.get(bid, f"bucket{-1 - bid}"), type_id=b["type_id"], alg=b["alg"], hash=0,
            items=b["items"], weights=b["weights"], weight=b["weight"],
            straws=tuple(b["straws"]) if b["straws"] is not None else None,
            node_weights=tuple(b["node_weights"]) if b["node_weights"] is not None else None,
            sum_weights=tuple(b["sum_weights"]) if b["sum_weights"] is not None else None,
            stored_for=stored if b["alg"] in (LIST, TREE, STRAW) and b["items"] else None)
    rules = {rid: Rule(id=rid, name=rule_names.get(rid, f"rule{rid}"), ruleset=r["ruleset"], type=r["type"],
                       min_size=r["min_size"], max_size=r["max_size"], steps=r["steps"])
             for rid, r in raw_rules.items()}
    named = {i: n for i, n in names.items() if i >= 0}
    max_devices = compute_max_devices(named, buckets)
    devices: dict[int, tuple[str, str | None]] = {}
    for dev in sorted(set(named) | {d for d in class_map if 0 <= d < max_devices}):
        cid = class_map.get(dev)
        devices[dev] = (named.get(dev, f"device{dev}"), class_name.get(cid) if cid is not None else None)
    class_bucket = {orig: {class_name[c]: sid for c, sid in inner.items() if c in class_name}
                    for orig, inner in class_bucket_raw.items()}
    class_bucket = {k: v for k, v in class_bucket.items() if v}
    choose_args = {key: _update_choose_args(rd, key, entries, buckets) for key, entries in raw_args.items()}
    try:
        return CrushMap(devices=devices, types=types, buckets=buckets, rules=rules, tunables=Tunables(**tun),
                        choose_args=choose_args, max_devices=max_devices, class_bucket=class_bucket)
    except DumpFormatError as e:  # validate(): nothing left that the checks above do not catch first
        raise e.located(source=source) from None


def _check_cycles(rd: _Reader, raw_buckets: dict[int, dict[str, Any]], names: dict[int, str]) -> None:
    """A bucket that holds itself, directly or below, would make every descent loop forever."""
    path = find_cycle({bid: rb["items"] for bid, rb in raw_buckets.items()})
    if path is None:
        return
    bid, child = path[-2], path[-1]
    pos = list(raw_buckets[bid]["items"]).index(child)
    cycle = " -> ".join(f"{names.get(b, f'bucket{-1 - b}')} ({b})" for b in path)
    raise rd.error(f"bucket hierarchy has a cycle: bucket {bid} holds {child}, which holds it: {cycle}",
                   f"buckets[{-1 - bid}].items[{pos}]", raw_buckets[bid]["items_off"] + 4 * pos)


def _update_choose_args(rd: _Reader, key: int, entries: dict[int, dict[str, Any]],
                        buckets: dict[int, Bucket]) -> dict[int, ChooseArg]:
    """One decoded choose_args map after ``CrushWrapper::update_choose_args`` (run at the end of decode).

    Entries of empty slots and of buckets that are not straw2 are dropped; an entry whose weight set has
    as many positions as the first entry (by slot) with any has its mis-sized rows cut or zero-padded to
    the bucket size.  Rows still mis-sized after that (another position count) would make Ceph read
    past them: a DumpFormatError.
    """
    positions = next((len(entries[i]["rows"]) for i in sorted(entries) if entries[i]["rows"]), 1)
    out: dict[int, ChooseArg] = {}
    for index in sorted(entries):
        e = entries[index]
        b = buckets.get(-1 - index)
        if b is None or b.alg != STRAW2:
            continue
        rows = e["rows"]
        if rows and len(rows) == positions:
            rows = [(r + [0] * b.size)[:b.size] for r in rows]
        for p, r in enumerate(rows):
            if len(r) != b.size:
                raise rd.error(f"choose_args {key}: bucket {b.id}: weight set of {len(rows)} positions (the map "
                               f"uses {positions}) has {len(r)} weights for {b.size} items",
                               f"choose_args[{key}].weight_set[{p}]", e["offset"])
        if not rows and e["ids"] is None:
            continue
        out[b.id] = ChooseArg(ids=tuple(e["ids"]) if e["ids"] is not None else None,
                              weight_set=tuple(tuple(r) for r in rows) if rows else None)
    return out
