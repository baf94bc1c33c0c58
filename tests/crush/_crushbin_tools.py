"""Test helpers for binary CRUSH maps: :func:`encode` (crafted inputs for the reader) and
:func:`watched_mapping` (which inputs make a tree descent end past the last item).

The layout of ``CrushWrapper::encode`` (Ceph 16.2.15, all features): see :mod:`pgtools.io.crush_binary`.
Knobs let a test produce what Ceph's own encoder never writes today but its decoder accepts (64-bit
name-map keys, a map cut before the tunables or the device classes) and raw choose_args entries.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

import pgtools.crush.reference as reference
from pgtools.crush import CrushMap
from pgtools.crush.buckets import LIST, STRAW, STRAW2, TREE, UNIFORM
from pgtools.crush.constants import ITEM_NONE

STOPS = ("names", "tunables3", "descend_once", "vary_r", "straw_calc_version", "allowed_bucket_algs",
         "stable", "classes", "choose_args")


def _s(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<I", len(raw)) + raw


def _name_map(m: Mapping[int, str], key64: bool) -> bytes:
    out = [struct.pack("<I", len(m))]
    for k in sorted(m):
        out.append(struct.pack("<q", k) if key64 else struct.pack("<i", k))
        out.append(_s(m[k]))
    return b"".join(out)


def encode(cm: CrushMap, *, class_ids: Mapping[str, int] | None = None, key64: Sequence[str] = (),
           stop_after: str = "choose_args",
           raw_choose_args: Mapping[int, Sequence[tuple[int, Sequence[Sequence[int]], Sequence[int]]]] | None = None,
           trailing: bytes = b"", max_buckets: int | None = None) -> bytes:
    """Binary map of ``cm``.

    ``class_ids``: class name -> id (default: sorted names numbered from 0).  ``key64``: name-map keys as
    64 bits (the old encoder bug) in these maps (``"type_map"``, ``"name_map"``, ``"rule_name_map"``); Ceph's
    decoder copes only with non-negative keys there (a negative one reads as a 4 GiB string).  ``stop_after``: last section written (one of :data:`STOPS`).
    ``raw_choose_args``: ``{key: [(bucket_index, rows, ids), ...]}`` written instead of ``cm.choose_args``.
    ``max_buckets``: number of bucket slots (Ceph grows it ahead of use; default: just enough).
    """
    if stop_after not in STOPS:
        raise ValueError(stop_after)
    stop = STOPS.index(stop_after)
    classes = sorted({c for _n, c in cm.devices.values() if c} | {c for m in cm.class_bucket.values() for c in m})
    class_ids = dict(class_ids) if class_ids is not None else {c: i for i, c in enumerate(classes)}
    if max_buckets is None:
        max_buckets = max((-b for b in cm.buckets), default=0)
    max_rules = max(cm.rules, default=-1) + 1
    out = [struct.pack("<IiIi", 0x00010000, max_buckets, max_rules, cm.max_devices)]
    for slot in range(max_buckets):
        bid = -1 - slot
        b = cm.buckets.get(bid)
        if b is None:
            out.append(struct.pack("<I", 0))
            continue
        out.append(struct.pack("<IihBBII", b.alg, b.id, b.type_id, b.alg, b.hash, b.weight, b.size))
        out.append(struct.pack(f"<{b.size}i", *b.items))
        if b.alg == UNIFORM:
            out.append(struct.pack("<I", b.weights[0] if b.weights else 0))
        elif b.alg == LIST:
            sums = cm.sum_weights(bid)
            out.append(b"".join(struct.pack("<II", w, s) for w, s in zip(b.weights, sums, strict=True)))
        elif b.alg == TREE:
            nw = cm.node_weights(bid) if b.size else []
            out.append(struct.pack(f"<B{len(nw)}I", len(nw), *nw))
        elif b.alg == STRAW:
            straws = cm.straws(bid)
            out.append(b"".join(struct.pack("<II", w, s) for w, s in zip(b.weights, straws, strict=True)))
        elif b.alg == STRAW2:
            out.append(struct.pack(f"<{b.size}I", *b.weights))
    for rid in range(max_rules):
        r = cm.rules.get(rid)
        if r is None:
            out.append(struct.pack("<I", 0))
            continue
        out.append(struct.pack("<II4B", 1, len(r.steps), rid if r.ruleset is None else r.ruleset, r.type,
                               1 if r.min_size is None else r.min_size, 100 if r.max_size is None else r.max_size))
        out.extend(struct.pack("<Iii", *s) for s in r.steps)
    names = {d: n for d, (n, _c) in cm.devices.items()}
    names.update({b.id: b.name for b in cm.buckets.values()})
    out.append(_name_map(cm.types, "type_map" in key64))
    out.append(_name_map(names, "name_map" in key64))
    out.append(_name_map({rid: r.name for rid, r in cm.rules.items()}, "rule_name_map" in key64))
    t = cm.tunables
    tail = [struct.pack("<III", t.choose_local_tries, t.choose_local_fallback_tries, t.choose_total_tries),
            struct.pack("<I", t.chooseleaf_descend_once), struct.pack("<B", t.chooseleaf_vary_r),
            struct.pack("<B", t.straw_calc_version), struct.pack("<I", t.allowed_bucket_algs),
            struct.pack("<B", t.chooseleaf_stable)]
    out.extend(tail[:stop])
    if stop >= STOPS.index("classes"):
        devs = {d: class_ids[c] for d, (_n, c) in cm.devices.items() if c}
        devs.update({sid: class_ids[c] for m in cm.class_bucket.values() for c, sid in m.items()})  # shadows too
        out.append(struct.pack("<I", len(devs)) + b"".join(struct.pack("<ii", d, devs[d]) for d in sorted(devs)))
        out.append(struct.pack("<I", len(class_ids))
                   + b"".join(struct.pack("<i", i) + _s(c) for c, i in sorted(class_ids.items(), key=lambda kv: kv[1])))
        out.append(struct.pack("<I", len(cm.class_bucket)))
        for orig in sorted(cm.class_bucket):
            inner = {class_ids[c]: sid for c, sid in cm.class_bucket[orig].items()}
            out.append(struct.pack("<iI", orig, len(inner))
                       + b"".join(struct.pack("<ii", c, inner[c]) for c in sorted(inner)))
    if stop >= STOPS.index("choose_args"):
        if raw_choose_args is None:
            raw_choose_args = {
                key: [(-1 - bid, ca.weight_set or (), ca.ids or ()) for bid, ca in sorted(m.items(), reverse=True)]
                for key, m in cm.choose_args.items()}
        out.append(struct.pack("<I", len(raw_choose_args)))
        for key in sorted(raw_choose_args):
            entries = raw_choose_args[key]
            out.append(struct.pack("<qI", key, len(entries)))
            for index, rows, ids in entries:
                out.append(struct.pack("<II", index, len(rows)))
                for row in rows:
                    out.append(struct.pack(f"<I{len(row)}I", len(row), *row))
                out.append(struct.pack(f"<I{len(ids)}i", len(ids), *ids))
    out.append(trailing)
    return b"".join(out)


def watched_mapping(cm: CrushMap, rule: int, num_rep: int, x: int, past_value: int | None = None,
                    weights: Sequence[int] | None = None) -> tuple[list[int], bool]:
    """Reference mapping of ``x``, and whether a tree descent ended past the last item on the way.

    ``past_value``: what such a descent returns instead of ITEM_NONE (0 = what Ceph reads there when glibc's
    zeroed allocation padding follows a short ``items`` array).  Not thread-safe (patches the module).
    """
    hit = [False]
    real = reference.tree_choose

    def watched(*args: object) -> int:
        v = real(*args)
        if v == ITEM_NONE:
            hit[0] = True
            if past_value is not None:
                return past_value
        return v

    reference.tree_choose = watched
    try:
        return reference.crush_do_rule(cm, rule, x, num_rep, weights), hit[0]
    finally:
        reference.tree_choose = real
