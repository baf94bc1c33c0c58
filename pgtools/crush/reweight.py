"""Reweighting a CRUSH map the way ``CrushWrapper::adjust_item_weight`` does.

:func:`reweighted_bucket` gives a bucket with new item weights, with the values a binary map stores
(straws, list running sums, tree node weights) adjusted by Ceph's bucket code;
:func:`reweighted_choose_args` the choose_args weight sets after the change.  Used by
:meth:`pgtools.crush.CrushMap.with_item_weight`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .buckets import Bucket, calc_straws
from .rule import ChooseArg

__all__ = ["reweighted_bucket", "reweighted_choose_args"]


def _tree_parent(n: int) -> int:
    """Parent label of tree node ``n`` (``parent()`` in Ceph's builder.c)."""
    h = (n & -n).bit_length() - 1
    return n - (1 << h) if n & (1 << (h + 1)) else n + (1 << h)


def reweighted_bucket(b: Bucket, ws: tuple[int, ...], total: int, straw_calc_version: int) -> Bucket:
    """``b`` with item weights ``ws`` and weight ``total``; stored per-algorithm values adjusted as Ceph does."""
    kinds = [k for k in ("straws", "node_weights", "sum_weights") if b.stored(k) is not None]
    if not kinds:
        return replace(b, weights=ws, weight=total)
    changed = [i for i, (old, new) in enumerate(zip(b.weights, ws, strict=True)) if old != new]
    kw: dict[str, Any] = {}
    if "straws" in kinds:  # crush_adjust_straw_bucket_item_weight -> crush_calc_straw
        kw["straws"] = tuple(calc_straws(ws, straw_calc_version))
    if "sum_weights" in kinds:  # crush_adjust_list_bucket_item_weight
        sums = list(b.sum_weights or ())
        for i in changed:
            diff = ws[i] - b.weights[i]
            for j in range(i, len(sums)):
                sums[j] = (sums[j] + diff) & 0xFFFFFFFF
        kw["sum_weights"] = tuple(sums)
    if "node_weights" in kinds:  # crush_adjust_tree_bucket_item_weight
        nw = list(b.node_weights or ())
        depth = (1 + (b.size - 1).bit_length()) if b.size else 0
        for i in changed:
            node = 2 * i + 1
            diff = ws[i] - nw[node]
            nw[node] = ws[i]
            for _ in range(1, depth):
                node = _tree_parent(node)
                nw[node] = (nw[node] + diff) & 0xFFFFFFFF
        kw["node_weights"] = tuple(nw)
    return replace(b, weights=ws, weight=total, stored_for=(b.items, ws), **kw)


def reweighted_choose_args(old: Mapping[int, Bucket], buckets: Mapping[int, Bucket], cmap: dict[int, ChooseArg],
                            item: int, weight16: int) -> dict[int, ChooseArg]:
    """One choose_args map after ``CrushWrapper::adjust_item_weight(item, weight16, update_weight_sets=true)``.

    A map without any weight set (only ``ids``) is unchanged.  Otherwise Ceph's bookkeeping
    (``bucket_adjust_item_weight``, then "update weight-sets so they continue to sum":
    ``choose_args_adjust_item_weight`` over every bucket) ends in this state, which is computed here
    directly:

    * every bucket has a weight set; one that had none gets as many positions as the first bucket
      (id -1, -2, ...) that has one (``get_choose_args_positions``), filled with its item weights;
    * ``item`` has ``weight16`` at every position, in every bucket holding it;
    * a child bucket's entry in its parent is the per-position sum of the child's weight set
      (bottom-up), except where the two weight sets have different position counts (Ceph skips those).

    The weight sets are created by the sweep that the first bucket with a weight set (in id order -1,
    -2, ...) starts, from the item weights of that moment: a bucket handled before it already has the
    new weights, one handled after it the old ones.  That matters for a uniform bucket only, where one
    item's change changes them all.  Decoding a map drops the weight sets of buckets that are not
    straw2 (``update_choose_args``), so a saved map has them again only after the next reweight.
    """
    if not any(ca.weight_set for ca in cmap.values()):
        return cmap
    positions = next(len(cmap[b].weight_set) for b in sorted(cmap, reverse=True) if cmap[b].weight_set)
    first = max((b for b in buckets if b in cmap and cmap[b].weight_set), default=0)
    rows: dict[int, list[list[int]]] = {}
    for bid, b in buckets.items():
        ca = cmap.get(bid)
        if ca is not None and ca.weight_set:
            rows[bid] = [list(r) for r in ca.weight_set]
        else:
            src = b if bid > first or bid not in old else old[bid]  # handled before / after the sweep
            rows[bid] = [list(src.weights) for _ in range(positions)]
        if item in b.items:
            pos = b.items.index(item)
            for r in rows[bid]:
                r[pos] = weight16
    done: set[int] = set()

    def settle(bid: int, depth: int) -> None:
        if bid in done or depth > len(buckets):
            return
        done.add(bid)
        mine = rows[bid]
        for pos, child in enumerate(buckets[bid].items):
            if child < 0 and child in buckets:
                settle(child, depth + 1)
                theirs = rows[child]
                if len(theirs) == len(mine):
                    for j, r in enumerate(mine):
                        r[pos] = sum(theirs[j]) & 0xFFFFFFFF

    for bid in sorted(buckets, reverse=True):
        settle(bid, 0)
    out = dict(cmap)
    for bid, r in rows.items():
        ca = cmap.get(bid)
        out[bid] = ChooseArg(ids=ca.ids if ca is not None else None, weight_set=tuple(tuple(x) for x in r))
    return out
