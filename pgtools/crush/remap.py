"""What Ceph's upmap balancer and upmap hygiene ask of the CRUSH map (``CrushWrapper`` helpers, not the mapper).

``OSDMap::calc_pg_upmaps`` and ``OSDMap::check_pg_upmaps`` (:mod:`pgtools.balance`) call four
``CrushWrapper`` methods that walk the bucket tree without hashing; they are reproduced here exactly,
including their quirks (``src/crush/CrushWrapper.cc``, read in Reef 18.2.7 and Tentacle 20.2.4; the
Pacific 16.2.15 behaviour is checked against its ``osdmaptool`` by ``tests/oracle/test_upmap_balancer.py``):

* :meth:`RuleTopology.rule_weight_osd_map` — ``get_rule_weight_osd_map``: per ``take`` step a breadth-first
  walk collecting every device's weight *in its bucket* as a C ``float`` (16.16 fixed point, not divided by
  0x10000), normalised by their sum.  Before Tentacle each take is normalised on its own and the shares are
  added; Tentacle collects all takes first and normalises once.
* :meth:`RuleTopology.parent_of_type` — ``get_parent_of_type(item, type, rule)``: the first bucket of that
  type (in ``get_children_of_type`` order under the rule's takes, lowest take id first) whose subtree holds
  the item; 0 when none does.
* :meth:`RuleTopology.try_remap_rule` — ``try_remap_rule`` / ``_choose_type_stack``: walk the rule's steps over
  a PG's current OSDs, replacing each overfull OSD by the first underfull (then "more underfull") OSD of
  the same failure-domain bucket that the PG does not use yet; a bucket holding an overfull OSD but no
  underfull one may be swapped for a peer bucket (same parent) that has some.
* :meth:`RuleTopology.verify_upmap` — ``verify_upmap``: the failure-domain and subtree checks an upmapped PG
  must pass, else the mon (``clean_pg_upmaps``) cancels it.

Where Ceph reads past the end of a vector (a PG whose mapping is shorter than the rule's fan-out, e.g. size 3
on two hosts: ``_choose_type_stack`` dereferences ``orig.end()``) the value read is only compared with the
candidate buckets of the "no underfull leaves" swap; when such a swap is made the result depends on heap
garbage and :class:`UndefinedRemapError` is raised, else the result does not depend on it and is exact.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import UnsupportedFeatureError
from .map import CrushMap
from .rule import OPS

__all__ = ["RuleTopology", "UndefinedRemapError"]

_TAKE, _EMIT = OPS["take"], OPS["emit"]
_CHOOSELEAF = (OPS["chooseleaf_firstn"], OPS["chooseleaf_indep"])
_CHOOSE = (OPS["choose_firstn"], OPS["choose_indep"])
_TREE = 3
_F32 = np.float32
#: stands for what Ceph reads past the end of a vector (never a CRUSH item id)
_UNKNOWN = -(1 << 40)


class UndefinedRemapError(UnsupportedFeatureError):
    """Ceph's ``try_remap_rule`` would read past the end of the PG's OSD vector here: undefined behaviour."""


class RuleTopology:
    """Tree queries of one CRUSH map, cached (the map must not change while this object is used).

    Parameters
    ----------
    crush : CrushMap
    release : str
        ``"pacific"``, ``"reef"`` or ``"tentacle"``: only :meth:`rule_weight_osd_map` differs (multi-take rules).
    """

    def __init__(self, crush: CrushMap, release: str = "pacific") -> None:
        self.crush = crush
        self.release = release
        self._below: dict[int, frozenset[int]] = {}
        self._children: dict[tuple[int, int], list[int]] = {}
        self._parent: dict[tuple[int, int, int], int] = {}

    # ---- tree queries ------------------------------------------------------------------------------
    def subtree_contains(self, root: int, item: int) -> bool:
        """``CrushWrapper::subtree_contains``: ``item`` is ``root`` or lies under it (missing buckets hold nothing)."""
        if root == item:
            return True
        if root >= 0:
            return False
        return item in self._items_below(root)

    def _items_below(self, bucket: int) -> frozenset[int]:
        got = self._below.get(bucket)
        if got is None:
            b = self.crush.buckets.get(bucket)
            acc: set[int] = set()
            if b is not None:
                self._below[bucket] = frozenset()  # a cycle would recurse forever in Ceph; here it stops
                for it in b.items:
                    acc.add(it)
                    if it < 0:
                        acc |= self._items_below(it)
            got = self._below[bucket] = frozenset(acc)
        return got

    def children_of_type(self, item: int, type_id: int) -> list[int]:
        """``CrushWrapper::get_children_of_type(item, type, &out, exclude_shadow=false)`` (depth first)."""
        key = (item, type_id)
        got = self._children.get(key)
        if got is None:
            got = []
            self._collect(item, type_id, got)
            self._children[key] = got
        return got

    def _collect(self, item: int, type_id: int, out: list[int]) -> None:
        if item >= 0:
            if type_id == 0:
                out.append(item)
            return
        b = self.crush.buckets.get(item)
        if b is None or b.type_id < type_id:
            return
        if b.type_id == type_id:
            out.append(item)
            return
        for it in b.items:
            self._collect(it, type_id, out)

    def takes(self, ruleno: int) -> list[int]:
        """``find_takes_by_rule``: the rule's take arguments as a sorted set."""
        rule = self.crush.rules.get(ruleno)
        return sorted({a1 for op, a1, _ in rule.steps if op == _TAKE}) if rule is not None else []

    def parent_of_type(self, item: int, type_id: int, ruleno: int) -> int:
        """``CrushWrapper::get_parent_of_type(item, type, rule)`` with ``rule >= 0``; 0 when not found."""
        key = (item, type_id, ruleno)
        got = self._parent.get(key)
        if got is None:
            got = 0
            for root in self.takes(ruleno):
                for cand in self.children_of_type(root, type_id):
                    if self.subtree_contains(cand, item):
                        got = cand
                        break
                if got:
                    break
            self._parent[key] = got
        return got

    def leaf_domains(self, ruleno: int) -> list[dict[int, int]]:
        """For each ``chooseleaf`` step of the rule that names a bucket type, every device's
        :meth:`parent_of_type` bucket of that type (devices without one left out).  :meth:`verify_upmap`
        rejects a vector that has two devices in one of these buckets: a caller can rule out candidates by them
        before verifying (the verification itself is unchanged)."""
        rule = self.crush.rules.get(ruleno)
        if rule is None or ruleno < 0:
            return []
        out = []
        for t in dict.fromkeys(a2 for op, _, a2 in rule.steps if op in _CHOOSELEAF and a2 != 0):
            dom: dict[int, int] = {}
            for root in self.takes(ruleno):  # parent_of_type's order: first take, first bucket found
                for cand in self.children_of_type(root, t):
                    for it in self._items_below(cand) if cand < 0 else (cand,):
                        if it >= 0:
                            dom.setdefault(it, cand)
            out.append(dom)
        return out

    # ---- weights -----------------------------------------------------------------------------------
    def _item_weight(self, bucket_id: int, pos: int) -> int:
        """``crush_get_bucket_item_weight``: a tree bucket reads its leaf node weight, the others the item weight."""
        b = self.crush.buckets[bucket_id]
        if b.alg == _TREE:
            return int(self.crush.node_weights(bucket_id)[((pos + 1) << 1) - 1])
        return int(b.weights[pos])

    def _take_weights(self, root: int, m: dict[int, np.float32]) -> np.float32:
        """``_get_take_weight_osd_map``: breadth first; a device met twice keeps its last weight, the sum counts both."""
        total = _F32(0.0)
        q = deque([root])
        while q:
            bno = q.popleft()
            b = self.crush.buckets.get(bno)
            if b is None:
                raise UnsupportedFeatureError(f"CRUSH rule takes or holds bucket {bno}, which does not exist "
                                              "(Ceph asserts in get_rule_weight_osd_map)")
            for j, it in enumerate(b.items):
                if it >= 0:
                    w = _F32(self._item_weight(bno, j))
                    m[it] = w
                    total = _F32(total + w)
                else:
                    q.append(it)
        return total

    @staticmethod
    def _normalize(total: np.float32, m: dict[int, np.float32], out: dict[int, np.float32]) -> None:
        for osd in sorted(m):
            share = _F32(m[osd] / total) if total != 0 else _F32(np.divide(m[osd], total))
            out[osd] = _F32(out[osd] + share) if osd in out else share

    def rule_weight_osd_map(self, ruleno: int) -> dict[int, np.float32] | None:
        """``CrushWrapper::get_rule_weight_osd_map``: ``{osd: share}`` as C floats; None for a missing rule (-ENOENT)."""
        rule = self.crush.rules.get(ruleno)
        if rule is None or ruleno < 0:
            return None
        out: dict[int, np.float32] = {}
        acc: dict[int, np.float32] = {}
        acc_sum = _F32(0.0)
        for op, arg1, _ in rule.steps:
            if op != _TAKE:
                continue
            m: dict[int, np.float32] = {}
            if arg1 >= 0:
                m[arg1] = _F32(1.0)
                total = _F32(1.0)
            else:
                total = self._take_weights(arg1, m)
            if self.release == "tentacle":  # one normalisation over every take
                acc.update(m)
                acc_sum = _F32(acc_sum + total)
            else:
                self._normalize(total, m, out)
        if self.release == "tentacle":
            self._normalize(acc_sum, acc, out)
        return out

    # ---- try_remap_rule ----------------------------------------------------------------------------
    def try_remap_rule(self, ruleno: int, maxout: int, overfull: set[int], underfull: Sequence[int],
                       more_underfull: Sequence[int], orig: Sequence[int]) -> list[int]:
        """``CrushWrapper::try_remap_rule``: ``orig`` with overfull OSDs replaced by underfull ones.

        Parameters
        ----------
        ruleno : int
            The pool's CRUSH rule.
        maxout : int
            The pool size (``numrep <= 0`` steps are relative to it).
        overfull : set of int
            OSDs to move PGs away from.
        underfull, more_underfull : sequence of int
            Candidate targets, in order of preference.
        orig : sequence of int
            The PG's OSDs after its current upmaps (``pg_to_raw_upmap``).

        Returns
        -------
        list of int
            The new OSD vector (``out``).

        Raises
        ------
        UndefinedRemapError
            Where Ceph reads past the end of ``orig``.
        """
        rule = self.crush.rules.get(ruleno)
        if rule is None:
            raise UnsupportedFeatureError(f"CRUSH rule {ruleno} does not exist (Ceph asserts in try_remap_rule)")
        orig = list(orig)
        state = _Walk(orig)
        used: set[int] = set()
        w: list[int] = []
        out: list[int] = []
        stack: list[tuple[int, int]] = []
        root_bucket = 0
        max_devices = self.crush.max_devices
        for op, arg1, arg2 in rule.steps:
            if op == _TAKE:
                if (0 <= arg1 < max_devices) or (arg1 < 0 and arg1 in self.crush.buckets):
                    w = [arg1]
                    root_bucket = arg1
            elif op in _CHOOSELEAF:
                numrep = arg1 if arg1 > 0 else arg1 + maxout
                stack.append((arg2, numrep))
                if arg2 > 0:
                    stack.append((0, 1))
                w = self._choose_type_stack(stack, overfull, underfull, more_underfull, orig, state, used, w,
                                            root_bucket, ruleno)
                stack = []
            elif op in _CHOOSE:
                numrep = arg1 if arg1 > 0 else arg1 + maxout
                stack.append((arg2, numrep))
            elif op == _EMIT:
                if stack:
                    w = self._choose_type_stack(stack, overfull, underfull, more_underfull, orig, state, used, w,
                                                root_bucket, ruleno)
                    stack = []
                out.extend(w)
                w = []
        if _UNKNOWN in out and len(out) == len(orig):
            raise UndefinedRemapError(f"CRUSH rule {ruleno}: Ceph's try_remap_rule emits a value read past the end "
                                      f"of the PG's OSDs {orig} (undefined behaviour)")
        return out

    def _choose_type_stack(self, stack: list[tuple[int, int]], overfull: set[int], underfull: Sequence[int],
                           more_underfull: Sequence[int], orig: list[int], st: _Walk, used: set[int],
                           w: list[int], root_bucket: int, ruleno: int) -> list[int]:
        """``CrushWrapper::_choose_type_stack``; ``st.i`` is Ceph's iterator ``i`` into ``orig`` (shared by steps)."""
        if root_bucket >= 0:
            raise UnsupportedFeatureError(f"CRUSH rule {ruleno}: a choose step after a take of a device "
                                          "(Ceph asserts in _choose_type_stack)")
        cum = [0] * len(stack)
        f = 1
        for j in range(len(stack) - 1, -1, -1):
            cum[j] = f
            f *= stack[j][1]
        underfull_buckets: list[set[int]] = [set() for _ in range(len(stack) - 1)]
        for osd in underfull:
            item = osd
            for j in range(len(stack) - 2, -1, -1):
                item = self.parent_of_type(item, stack[j][0], ruleno)
                if not self.subtree_contains(root_bucket, item):
                    continue
                underfull_buckets[j].add(item)
        n_orig = len(orig)
        for j, (type_id, fanout) in enumerate(stack):
            o: list[int] = []
            tmpi = st.i
            if st.i == n_orig:
                break
            for frm in w:
                leaves: list[set[int]] = [set() for _ in range(fanout)]
                for pos in range(fanout):
                    if type_id > 0:
                        # past the end of orig Ceph reads heap garbage (*orig.end()); such an entry can only
                        # matter to the search for an alternative bucket below, which then refuses to guess
                        o.append(self.parent_of_type(orig[tmpi], type_id, ruleno) if tmpi < n_orig else _UNKNOWN)
                        n = cum[j]
                        while n and tmpi < n_orig:
                            n -= 1
                            leaves[pos].add(orig[tmpi])
                            tmpi += 1
                    else:
                        cur = orig[st.i]
                        replaced = False
                        if cur in overfull:
                            for cands in (underfull, more_underfull):
                                for item in cands:
                                    if item in used or not self.subtree_contains(frm, item) or item in orig:
                                        continue
                                    o.append(item)
                                    used.add(item)
                                    replaced = True
                                    st.i += 1
                                    break
                                if replaced:
                                    break
                        if not replaced:
                            o.append(cur)
                            st.i += 1
                        if st.i == n_orig:
                            break
                if j + 1 < len(stack):
                    for pos in range(fanout):
                        if pos >= len(o):
                            raise UndefinedRemapError(f"CRUSH rule {ruleno}: Ceph's _choose_type_stack indexes past "
                                                      "the end of its bucket vector (undefined behaviour)")
                        if o[pos] in underfull_buckets[j]:
                            continue
                        if not any(osd in overfull for osd in leaves[pos]):
                            continue
                        for alt in _sorted(underfull_buckets[j]):
                            if alt in o:
                                continue
                            if j == 0 or (self.parent_of_type(o[pos], stack[j - 1][0], ruleno)
                                          == self.parent_of_type(alt, stack[j - 1][0], ruleno)):
                                if _UNKNOWN in o:
                                    # the value read past the end of orig could have been this very bucket,
                                    # which would have ruled it out: Ceph's choice here is not defined
                                    raise UndefinedRemapError(
                                        f"PG OSDs {orig} are fewer than CRUSH rule {ruleno}'s fan-out: Ceph's "
                                        "try_remap_rule reads past the end of the vector and compares that value "
                                        "with the replacement bucket it picks (undefined behaviour)")
                                o[pos] = alt
                                break
                if st.i == n_orig:
                    break
            w = o
        return w

    # ---- verify_upmap ------------------------------------------------------------------------------
    def verify_upmap(self, ruleno: int, pool_size: int, up: Sequence[int]) -> int:
        """``CrushWrapper::verify_upmap``: 0 when ``up`` respects the rule's failure domains, else -ENOENT/-EINVAL."""
        rule = self.crush.rules.get(ruleno)
        if rule is None or ruleno < 0:
            return -2
        root_bucket = 0
        cursor = 0
        type_stack: dict[int, int] = {}
        for op, arg1, arg2 in rule.steps:
            if op == _TAKE:
                root_bucket = arg1
            elif op in _CHOOSELEAF or op in _CHOOSE:
                numrep = arg1 if arg1 > 0 else arg1 + pool_size
                type_stack.setdefault(arg2, numrep)  # std::map::emplace keeps the first value
                if arg2 == 0:
                    continue
                parents = [self.parent_of_type(osd, arg2, ruleno) for osd in up]
                parents = [p for p in parents if p < 0]
                if op in _CHOOSELEAF:
                    if len(parents) != len(set(parents)):
                        return -22
                elif len(set(parents)) > numrep:
                    return -22
            elif op == _EMIT:
                if root_bucket < 0:
                    num = 1
                    for v in type_stack.values():
                        num *= v
                    c = 0
                    while cursor < len(up) and c < num:
                        if not self.subtree_contains(root_bucket, up[cursor]):
                            return -22
                        cursor += 1
                        c += 1
                type_stack = {}
                root_bucket = 0
        return 0


class _Walk:
    """Ceph's iterator ``i`` into ``orig``, shared by the steps of one ``try_remap_rule`` call."""

    __slots__ = ("i",)

    def __init__(self, orig: list[int]) -> None:
        self.i = 0


def _sorted(items: Iterable[int]) -> list[int]:
    """A ``std::set<int>`` iterates in ascending order."""
    return sorted(items)
