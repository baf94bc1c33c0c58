"""The CRUSH map model: :class:`CrushMap`, built from ``ceph osd crush dump`` JSON or crushtool text.

The model keeps what placement needs, in Ceph's own units (16.16 fixed-point weights, negative
bucket ids, rule steps as ``(op, arg1, arg2)``).  Shadow (device-class) bucket ids are taken from
the input, never re-derived, except that crushtool text only names them (``id -N class X``) and the
shadow trees are rebuilt from those ids the way ``CrushWrapper::populate_classes`` does.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from ..errors import DumpFormatError
from .buckets import (
    ALG_NAMES,
    TREE,
    Bucket,
    calc_straws,
    list_sum_weights,
    tree_node_weights,
    tree_num_nodes,
    tree_reachable_leaves,
)
from .constants import WEIGHT_ONE
from .reference import crush_do_rule
from .reweight import reweighted_bucket, reweighted_choose_args
from .rule import MSR_FIRSTN, MSR_INDEP, OPS, ChooseArg, Rule, Tunables

__all__ = ["CrushMap", "float_to_16_16_f32", "find_cycle", "compute_max_devices"]


#: rule type -> the pool type it serves when it differs (MSR rules: ``rule_valid_for_pool_type``)
_POOL_TYPE_OF_RULE = {MSR_FIRSTN: 1, MSR_INDEP: 3}


def _f32(v: float) -> float:
    return struct.unpack("f", struct.pack("f", v))[0]


def float_to_16_16_f32(v: float) -> int:
    """``(unsigned)(strtof(v) * 65536.0f)``: the crushtool text weight conversion (§3.5)."""
    f = _f32(v)
    if not math.isfinite(f) or f < 0:
        raise ValueError(f"weight {v!r} out of range")
    w = int(f * 65536.0)
    if w > 0xFFFFFFFF:
        raise ValueError(f"weight {v!r} out of range")
    return w


@dataclass(frozen=True)
class CrushMap:
    """A CRUSH map.

    Attributes
    ----------
    devices : dict
        ``{osd_id: (name, device_class or None)}``.
    types : dict
        ``{type_id: type_name}``.
    buckets : dict
        ``{bucket_id: Bucket}`` including shadow buckets.
    rules : dict
        ``{rule_id: Rule}``.
    tunables : Tunables
    choose_args : dict
        ``{key: {bucket_id: ChooseArg}}``; key -1 is the compat weight set, others are pool ids.
    max_devices : int
        One more than the largest device id in the map.
    class_bucket : dict
        ``{original_bucket_id: {class_name: shadow_bucket_id}}``.
    """

    devices: dict[int, tuple[str, str | None]]
    types: dict[int, str]
    buckets: dict[int, Bucket]
    rules: dict[int, Rule]
    tunables: Tunables = field(default_factory=Tunables)
    choose_args: dict[int, dict[int, ChooseArg]] = field(default_factory=dict)
    max_devices: int = 0
    class_bucket: dict[int, dict[str, int]] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    # ------------------------------------------------------------------ construction helpers
    def __post_init__(self) -> None:
        self.validate()

    def validate(self, source: str | None = None) -> None:
        """Check internal consistency; raise DumpFormatError naming the offending field."""
        for bid, b in self.buckets.items():
            if bid >= 0 or b.id != bid:
                raise DumpFormatError(f"bucket id {bid} must be negative", source=source, field="buckets.id")
            if b.alg not in ALG_NAMES:
                raise DumpFormatError(f"bucket {bid}: unknown algorithm {b.alg}", source=source,
                                      field="buckets.alg")
            if len(b.items) != len(b.weights):
                raise DumpFormatError(f"bucket {bid}: items and weights differ in length", source=source,
                                      field="buckets.items")
            for it in b.items:
                if it < 0 and it not in self.buckets:
                    raise DumpFormatError(f"bucket {bid} holds missing bucket {it}", source=source,
                                          field="buckets.items")
                if it >= 0 and it >= self.max_devices:
                    raise DumpFormatError(f"bucket {bid} holds device {it} >= max_devices", source=source,
                                          field="buckets.items")
            if b.alg == TREE:
                tree_num_nodes(b.size)
            for kind, want in (("straws", b.size), ("sum_weights", b.size),
                               ("node_weights", tree_num_nodes(b.size) if b.alg == TREE else b.size)):
                stored = b.stored(kind)
                if stored is not None and len(stored) != want:
                    raise DumpFormatError(f"bucket {bid}: {len(stored)} stored {kind} for {want}", source=source,
                                          field=f"buckets.{kind}")
        cycle = find_cycle(self.buckets)
        if cycle:
            path = " -> ".join(f"{self.buckets[b].name} ({b})" for b in cycle)
            raise DumpFormatError(f"bucket hierarchy has a cycle: {path} (Ceph refuses a bucket below itself)",
                                  source=source, field="buckets.items")
        for rid, r in self.rules.items():
            for op, a1, _a2 in r.steps:
                if op == OPS["take"] and a1 < 0 and a1 not in self.buckets:
                    raise DumpFormatError(f"rule {rid} takes missing bucket {a1}", source=source,
                                          field="rules.steps.item")
        for key, cmap in self.choose_args.items():
            for bid, ca in cmap.items():
                b = self.buckets.get(bid)
                if b is None:
                    raise DumpFormatError(f"choose_args {key}: missing bucket {bid}", source=source,
                                          field="choose_args.bucket_id")
                if ca.ids is not None and len(ca.ids) != b.size:
                    raise DumpFormatError(f"choose_args {key}: bucket {bid}: ids size differs from bucket size",
                                          source=source, field="choose_args.ids")
                if ca.weight_set is not None:
                    for ws in ca.weight_set:
                        if len(ws) != b.size:
                            raise DumpFormatError(
                                f"choose_args {key}: bucket {bid}: weight_set size differs from bucket size",
                                source=source, field="choose_args.weight_set")

    # ------------------------------------------------------------------ derived per-bucket data
    def straws(self, bucket_id: int) -> list[int]:
        """Straw lengths of a straw bucket.

        The ones a binary map stores (:attr:`Bucket.straws`) when present, else recomputed from the
        item weights with the map's straw_calc_version.
        """
        return self._stored_or_derived(
            bucket_id, "straws", lambda w: calc_straws(w, self.tunables.straw_calc_version))

    def sum_weights(self, bucket_id: int) -> list[int]:
        """Running weight sums of a list bucket (stored ones from a binary map, else derived)."""
        return self._stored_or_derived(bucket_id, "sum_weights", list_sum_weights)

    def node_weights(self, bucket_id: int) -> list[int]:
        """Node weights of a tree bucket (stored ones from a binary map, else the sums of the leaves)."""
        return self._stored_or_derived(bucket_id, "node_weights", tree_node_weights)

    def _stored_or_derived(self, bucket_id: int, what: str, derive: Callable[[tuple[int, ...]], list[int]]) -> list[int]:
        """``Bucket.stored(what)`` when valid, else ``derive(item weights)``; cached per bucket."""
        key = (what, bucket_id)
        if key not in self._cache:
            b = self.buckets[bucket_id]
            stored = b.stored(what)
            self._cache[key] = list(stored) if stored is not None else derive(b.weights)
        return self._cache[key]

    def resolve_choose_args(self, choose_args: object) -> dict[int, ChooseArg] | None:
        """Turn a choose_args selector into a per-bucket mapping.

        ``None`` means none; an int is a key looked up like ``choose_args_get_with_fallback``
        (the key, else -1, else none); a mapping ``{bucket_id: ChooseArg}`` is used as is.
        """
        if choose_args is None:
            return None
        if isinstance(choose_args, Mapping):
            return dict(choose_args)
        if isinstance(choose_args, int):
            if choose_args in self.choose_args:
                return self.choose_args[choose_args]
            return self.choose_args.get(-1)
        raise TypeError("choose_args must be None, an int key or a mapping")

    def default_weights(self) -> list[int]:
        """crushtool's default weight vector: 0x10000 for devices present in a bucket, else 0."""
        present = {it for b in self.buckets.values() for it in b.items if it >= 0}
        return [WEIGHT_ONE if o in present else 0 for o in range(self.max_devices)]

    # ------------------------------------------------------------------ queries
    def find_rule(self, ruleset: int, pool_type: int, size: int) -> int:
        """Pacific ``crush_find_rule``: first rule (by id) matching ruleset, type and size; -1 if none.

        Rules without ruleset/min/max (Quincy+ dumps) match on their id and type only.  An MSR rule (Squid and
        later) matches the pool type of its output order, as ``CrushWrapper::rule_valid_for_pool_type`` says:
        ``msr_firstn`` replicated pools, ``msr_indep`` erasure-coded ones.
        """
        for rid in sorted(self.rules):
            r = self.rules[rid]
            rs = r.id if r.ruleset is None else r.ruleset
            if rs != ruleset or _POOL_TYPE_OF_RULE.get(r.type, r.type) != pool_type:
                continue
            if r.min_size is not None and size < r.min_size:
                continue
            if r.max_size is not None and size > r.max_size:
                continue
            return rid
        return -1

    def do_rule(self, ruleno: int, x: int, result_max: int, weights: Sequence[int] | None = None,
                choose_args_key: object = None) -> list[int]:
        """Scalar ``crush_do_rule`` (see :mod:`pgtools.crush.reference`).

        Parameters
        ----------
        ruleno : int
            Rule id.
        x : int
            CRUSH input (a PG's pps).
        result_max : int
            Result size (the pool size).
        weights : sequence of int, optional
            OSD reweight vector (16.16); default: every device in the map at 0x10000.
        choose_args_key : int or mapping, optional
            See :meth:`resolve_choose_args`.

        Returns
        -------
        list of int
        """
        return crush_do_rule(self, ruleno, x, result_max, weights, choose_args_key)

    def undefined_behaviour(self, ruleno: int | None = None) -> list[str]:
        """Where Ceph's own mapping with this map depends on uninitialised memory.

        Ceph builds a class shadow bucket (``host~ssd``) with ``crush_make_bucket`` and then adds the
        items one by one (``CrushWrapper::device_class_clone``).  For a **tree** bucket,
        ``crush_add_tree_bucket_item`` grows ``node_weights`` with ``realloc`` and never clears the new
        interior nodes, so a cloned tree bucket of three or more items carries whatever the heap held
        there; the descent then follows those numbers, can reach a leaf past the last item and read
        past the ``items`` array.  crushtool and osdmaptool (and the cluster) map such PGs to OSDs that
        depend on the binary map and even on allocator state; pgtools uses the intended node weights
        (the sums of the leaves).  Seen in the differential suite: ``take X class C`` through a tree
        bucket mapped outside the taken root.

        A map read from its binary form (:meth:`from_binary`) carries the node weights Ceph stored, so
        pgtools follows them exactly as Ceph does; only a descent that can end on a leaf past the last
        item (Ceph then reads past ``items``; with glibc's zeroed allocation padding that is often
        osd.0) remains undefined, and pgtools takes Ceph's "bad item" path there instead (no OSD for
        that try).  Such tree buckets (shadow or not) are reported.

        Parameters
        ----------
        ruleno : int, optional
            Only report buckets reachable from this rule's ``take`` steps (all shadow buckets if None).

        Returns
        -------
        list of str
            One message per affected bucket (empty when the map is safe).
        """
        overruns: dict[int, int] = {}
        suspects = []
        for b in self.buckets.values():
            if b.alg != TREE:
                continue
            stored = b.stored("node_weights")
            if stored is not None:
                past = [leaf for leaf in tree_reachable_leaves(stored) if leaf >= b.size]
                if past:
                    overruns[b.id] = min(past)
                    suspects.append(b.id)
            elif b.size >= 3 and "~" in b.name:
                suspects.append(b.id)
        suspects.sort(reverse=True)
        if not suspects:
            return []
        if ruleno is not None:
            rule = self.rules.get(ruleno)
            takes = [t for t in (rule.takes if rule else ()) if t < 0]
            reach: set[int] = set()
            todo = [t for t in takes if t in self.buckets]
            while todo:
                b = todo.pop()
                if b in reach:
                    continue
                reach.add(b)
                todo.extend(it for it in self.buckets[b].items if it < 0 and it in self.buckets)
            suspects = [b for b in suspects if b in reach]
        where = "" if ruleno is None else f"rule {ruleno}: "
        out = []
        for b in suspects:
            bk = self.buckets[b]
            if b in overruns:
                out.append(f"{where}{bk.name} ({b}) is a tree bucket whose stored node weights let a descent end on "
                           f"leaf {overruns[b]}, past its {bk.size} items: Ceph reads past the items array there, "
                           "so Ceph's mappings through it are undefined (pgtools takes the bad-item path: no OSD)")
            else:
                out.append(f"{where}{bk.name} ({b}) is a class shadow tree bucket of {bk.size} items: Ceph builds "
                           "its node weights from uninitialised memory, so Ceph's mappings through it are undefined "
                           "(pgtools uses the intended weights)")
        return out

    def subtree_devices(self, bucket_id: int) -> list[int]:
        """Devices under a bucket (depth-first, in item order; a device id returns itself)."""
        if bucket_id >= 0:
            return [bucket_id]
        return self._preorder(bucket_id)

    def _preorder(self, bucket_id: int) -> list[int]:
        out: list[int] = []

        def walk(b: int, depth: int) -> None:
            if depth > len(self.buckets) + 1:
                raise DumpFormatError("bucket hierarchy has a cycle", field="buckets.items")
            for it in self.buckets[b].items:
                if it >= 0:
                    out.append(it)
                else:
                    walk(it, depth + 1)
        walk(bucket_id, 0)
        return out

    def parents(self) -> dict[int, int]:
        """``{item: parent bucket id}`` over non-shadow buckets (first parent found)."""
        key = ("parents",)
        if key not in self._cache:
            par: dict[int, int] = {}
            for bid in sorted(self.buckets, reverse=True):
                b = self.buckets[bid]
                if "~" in b.name:
                    continue
                for it in b.items:
                    par.setdefault(it, bid)
            self._cache[key] = par
        return self._cache[key]

    def ancestors(self, item: int) -> list[int]:
        """Bucket ids above ``item``, nearest first (non-shadow hierarchy)."""
        par = self.parents()
        out: list[int] = []
        cur = item
        while cur in par and len(out) <= len(self.buckets):
            cur = par[cur]
            out.append(cur)
        return out

    def host_of(self, osd: int, host_type: str = "host") -> str | None:
        """Name of the nearest ancestor of type ``host_type`` (None when there is none)."""
        for b in self.ancestors(osd):
            if self.types.get(self.buckets[b].type_id) == host_type:
                return self.buckets[b].name
        return None

    def item_name(self, item: int) -> str:
        """Name of a device or bucket."""
        if item >= 0:
            return self.devices.get(item, (f"osd.{item}", None))[0]
        return self.buckets[item].name

    def with_item_weight(self, item: int, weight16: int) -> CrushMap:
        """Return a new map where ``item`` has weight ``weight16`` (16.16) in every bucket holding it.

        Parent bucket weights (and their entries in their own parents) are adjusted up to the
        roots, as ``CrushWrapper::adjust_item_weight`` does: a bucket's weight moves by the change of
        its item weights (Ceph's ``h.weight += diff``), and that weight becomes its entry in its parent.
        A uniform bucket has one item weight: changing it changes every item
        (``crush_adjust_uniform_bucket_item_weight``).

        Values a binary map stores (:attr:`Bucket.straws`, :attr:`Bucket.node_weights`,
        :attr:`Bucket.sum_weights`) follow Ceph's bucket code for every modified bucket: straws are
        recomputed from all item weights with the map's straw_calc_version
        (``crush_adjust_straw_bucket_item_weight`` calls ``crush_calc_straw``); a tree bucket adds the
        weight difference to the leaf and to each of its ancestors
        (``crush_adjust_tree_bucket_item_weight``), so stored interior values, even uninitialised
        ones, carry over plus the difference; a list bucket adds it to the running sums from that
        position on.

        choose_args weight sets follow ``adjust_item_weight(..., update_weight_sets=true)`` (osdmaptool
        ``--adjust-crush-weight``; ``ceph osd crush reweight`` with the default
        ``osd_crush_update_weight_set``): see :func:`~pgtools.crush.reweight.reweighted_choose_args`.
        """
        if not 0 <= weight16 <= 0xFFFFFFFF:
            raise ValueError("weight16 must be a u32")
        buckets = dict(self.buckets)
        pending = {item: weight16}
        while pending:
            nxt: dict[int, int] = {}
            for bid, b in buckets.items():
                if not any(it in pending for it in b.items):
                    continue
                if b.alg == 1:  # uniform: one weight for all items; h.weight = item_weight * size
                    new = next(pending[it] for it in b.items if it in pending)
                    ws = (new,) * len(b.items)
                    total = sum(ws) & 0xFFFFFFFF
                else:
                    ws = tuple(pending.get(it, w) for it, w in zip(b.items, b.weights, strict=False))
                    total = (b.weight + sum(ws) - sum(b.weights)) & 0xFFFFFFFF
                buckets[bid] = reweighted_bucket(b, ws, total, self.tunables.straw_calc_version)
                nxt[bid] = total
            pending = nxt
        choose_args = {key: reweighted_choose_args(self.buckets, buckets, cm, item, weight16)
                       for key, cm in self.choose_args.items()}
        return replace(self, buckets=buckets, choose_args=choose_args, _cache={})

    def differences(self, other: CrushMap, *, weight_tolerance: int = 0, shadows: bool = True,
                    limit: int = 5) -> list[str]:
        """What differs between two maps of (supposedly) the same cluster state, in words.

        Compared: buckets (ids, names, types, algorithms, items in order, item and bucket weights),
        rules (steps, type, name; ruleset/min/max where both have them), tunables, the names and
        classes of devices both list, and choose_args (keys, buckets, ids, weight sets).  Stored
        straws/node weights are not compared (only binary maps carry them).

        Parameters
        ----------
        other : CrushMap
        weight_tolerance : int
            Allowed difference of a 16.16 item or weight-set weight, plus 2**-16 of the weight when not
            0 (a bucket weight: that times the number of devices below it).  crushtool's text prints 3
            decimals (16.2.15; 5 in older releases), the compiler reads them through a float32 and sums a
            bucket's item weights into its parent, so a map decompiled and read back is off by up to half a
            unit of the last decimal per device (33 for 3 decimals, plus 2 of float32 drift; see
            ``pgtools.io.bundle._text_tolerance``).
        shadows : bool
            Also compare class shadow buckets (``name~class``).  A crushtool text map only declares their
            ids; pgtools rebuilds them, where crushtool's compiler sometimes builds fewer (uniform
            buckets).
        limit : int
            At most this many differences are listed (then ``...``).

        Returns
        -------
        list of str
            Empty when the maps agree.
        """
        out: list[str] = []
        tol = weight_tolerance

        leaves: dict[int, int] = {}

        def below(item: int) -> int:  # devices under an item (its weight sums that many rounded weights)
            if item >= 0 or item not in self.buckets:
                return 1
            if item not in leaves:
                leaves[item] = max(1, len(self.subtree_devices(item)))
            return leaves[item]

        def near(x: int, y: int, n: int = 1) -> bool:
            return x == y or (tol > 0 and abs(x - y) <= tol * n + (max(x, y) >> 16))

        def close(items: Sequence[int], a: Sequence[int], b: Sequence[int]) -> bool:
            return len(a) == len(b) and all(near(x, y, below(it)) for it, x, y in zip(items, a, b, strict=True))

        mine, theirs = set(self.buckets), set(other.buckets)
        if not shadows:
            mine = {b for b in mine if "~" not in self.buckets[b].name}
            theirs = {b for b in theirs if "~" not in other.buckets[b].name}
        for bid in sorted(mine ^ theirs, reverse=True):
            out.append(f"bucket {bid} only in {'the first' if bid in mine else 'the second'} map")
        for bid in sorted(mine & theirs, reverse=True):
            a, b = self.buckets[bid], other.buckets[bid]
            for what in ("name", "type_id", "alg", "items"):
                if getattr(a, what) != getattr(b, what):
                    out.append(f"bucket {bid} {what}: {getattr(a, what)} vs {getattr(b, what)}")
            if a.items == b.items and not close(a.items, a.weights, b.weights):
                out.append(f"bucket {bid} ({a.name}) item weights: {list(a.weights)} vs {list(b.weights)}")
            if not near(a.weight, b.weight, below(bid)):
                out.append(f"bucket {bid} ({a.name}) weight: {a.weight} vs {b.weight}")
        for rid in sorted(set(self.rules) ^ set(other.rules)):
            out.append(f"rule {rid} only in {'the first' if rid in self.rules else 'the second'} map")
        for rid in sorted(set(self.rules) & set(other.rules)):
            a, b = self.rules[rid], other.rules[rid]
            for what in ("name", "type", "steps", "ruleset", "min_size", "max_size"):
                va, vb = getattr(a, what), getattr(b, what)
                if va != vb and va is not None and vb is not None:
                    out.append(f"rule {rid} {what}: {va} vs {vb}")
        if self.tunables != other.tunables:
            diff = {k: (v, getattr(other.tunables, k)) for k, v in self.tunables.__dict__.items()
                    if v != getattr(other.tunables, k)}
            out.append(f"tunables {diff}")
        for dev in sorted(set(self.devices) & set(other.devices)):
            if self.devices[dev] != other.devices[dev]:
                out.append(f"device {dev}: {self.devices[dev]} vs {other.devices[dev]}")
        if set(self.choose_args) != set(other.choose_args):
            out.append(f"choose_args keys: {sorted(self.choose_args)} vs {sorted(other.choose_args)}")
        for key in sorted(set(self.choose_args) & set(other.choose_args)):
            ca, cb = self.choose_args[key], other.choose_args[key]
            if not shadows:
                ca = {b: v for b, v in ca.items() if b in mine}
                cb = {b: v for b, v in cb.items() if b in theirs}
            if set(ca) != set(cb):
                out.append(f"choose_args {key} buckets: {sorted(ca)} vs {sorted(cb)}")
                continue
            for bid in sorted(ca, reverse=True):
                x, y = ca[bid], cb[bid]
                wx, wy = x.weight_set or (), y.weight_set or ()
                items = self.buckets[bid].items
                if x.ids != y.ids or len(wx) != len(wy) or not all(
                        close(items, r, q) for r, q in zip(wx, wy, strict=True)):
                    out.append(f"choose_args {key} bucket {bid}: {x} vs {y}")
        return out[:limit] + (["..."] if len(out) > limit else [])

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Tidy tables: ``devices`` (osd_id, name, device_class), ``buckets`` (bucket_id, name, type_id,
        type_name, alg, weight, size, shadow) and ``items`` (bucket_id, pos, item, weight)."""
        dev = pd.DataFrame([(i, n, c) for i, (n, c) in sorted(self.devices.items())],
                           columns=["osd_id", "name", "device_class"])
        bk = pd.DataFrame(
            [(b.id, b.name, b.type_id, self.types.get(b.type_id), ALG_NAMES[b.alg], b.weight / WEIGHT_ONE,
              b.size, "~" in b.name) for b in sorted(self.buckets.values(), key=lambda b: -b.id)],
            columns=["bucket_id", "name", "type_id", "type_name", "alg", "weight", "size", "shadow"])
        it = pd.DataFrame(
            [(b.id, pos, item, w / WEIGHT_ONE) for b in sorted(self.buckets.values(), key=lambda b: -b.id)
             for pos, (item, w) in enumerate(zip(b.items, b.weights, strict=False))],
            columns=["bucket_id", "pos", "item", "weight"])
        for df, cols in ((dev, ["osd_id"]), (bk, ["bucket_id", "type_id", "size"]),
                         (it, ["bucket_id", "pos", "item"])):
            for c in cols:
                df[c] = df[c].astype("int64")
        return {"devices": dev, "buckets": bk, "items": it}


def find_cycle(buckets: Mapping[int, Bucket] | Mapping[int, Sequence[int]]) -> list[int] | None:
    """A cycle of the bucket hierarchy as bucket ids ``[a, b, ..., a]`` (``a`` holds ``b`` ...), else None.

    ``buckets`` maps bucket ids to :class:`Bucket` objects or directly to their item ids (as a decoder
    holds them).  Iterative depth-first search (no recursion limit on deep maps); items that are devices
    or missing buckets are not followed.
    """
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(buckets, reverse=True):
        if root in state:
            continue
        stack: list[tuple[int, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            bid, pos = stack[-1]
            items = getattr(buckets[bid], "items", buckets[bid])
            if pos == len(items):
                state[bid] = 2
                stack.pop()
                continue
            stack[-1] = (bid, pos + 1)
            child = items[pos]
            if child >= 0 or child not in buckets:
                continue
            if state.get(child) == 1:
                path = [b for b, _ in stack]
                return path[path.index(child):] + [child]
            if child not in state:
                state[child] = 1
                stack.append((child, 0))
    return None


def compute_max_devices(devices: Mapping[int, object], buckets: Mapping[int, Bucket]) -> int:
    """One more than the largest device id named or held in a bucket (0 when there is none)."""
    ids = [d for d in devices if d >= 0]
    ids += [it for b in buckets.values() for it in b.items if it >= 0]
    return max(ids) + 1 if ids else 0
