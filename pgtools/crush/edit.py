"""CRUSH map edits that return NEW :class:`pgtools.crush.CrushMap` objects.

Each function mirrors a ``ceph osd crush ...`` command and keeps the device-class shadow trees
(``default~hdd``, ``node1~hdd``) in step with the real ones, the way ``CrushWrapper`` rebuilds them:
a device added under a host also goes into the host's ``~class`` shadow bucket (created when missing,
with the lowest unused bucket id, as ``get_new_bucket_id`` picks it), and bucket weights are
recomputed up to the roots.  Maps carrying choose_args (weight sets) are refused with
:class:`~pgtools.errors.UnsupportedFeatureError` for structural edits, since Ceph would resize the
weight sets in ways this model does not reproduce.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import PgtoolsError, UnsupportedFeatureError
from .buckets import STRAW2, Bucket
from .constants import WEIGHT_ONE
from .map import float_to_16_16_f32

__all__ = ["add_host", "add_osd", "remove_item", "move_bucket", "reweight_item", "bucket_id", "weight16"]



def weight16(w: float) -> int:
    """CRUSH weight as 16.16 fixed point (``(int)(w * 0x10000)`` like ``crush add``)."""
    if not float(w) >= 0:  # also NaN
        raise ValueError(f"weight must be a number >= 0, not {w!r}")
    return int(float(w) * WEIGHT_ONE)


def bucket_id(crush, name_or_id: str | int) -> int:
    """Id of a bucket or device given its name (``"node1"``, ``"osd.3"``) or id."""
    if isinstance(name_or_id, int):
        if name_or_id >= 0 and name_or_id in crush.devices or name_or_id in crush.buckets:
            return int(name_or_id)
        raise PgtoolsError(f"no CRUSH item {name_or_id}")
    for bid, b in crush.buckets.items():
        if b.name == name_or_id:
            return bid
    for did, (n, _c) in crush.devices.items():
        if n == name_or_id:
            return did
    raise PgtoolsError(f"no CRUSH item named {name_or_id!r}")


def _type_id(crush, name: str) -> int:
    for tid, tn in crush.types.items():
        if tn == name:
            return tid
    raise PgtoolsError(f"no CRUSH type {name!r}")


def _new_id(buckets: dict) -> int:
    i = -1
    while i in buckets:
        i -= 1
    return i


def _no_choose_args(crush) -> None:
    if crush.choose_args:
        raise UnsupportedFeatureError("CRUSH maps with choose_args / weight sets cannot be edited structurally")


def _propagate(buckets: dict, parents: dict[int, int], bid: int) -> None:
    """Recompute ``bid``'s weight and its entries in its ancestors."""
    while True:
        b = buckets[bid]
        total = sum(b.weights) & 0xFFFFFFFF
        buckets[bid] = replace(b, weight=total)
        p = parents.get(bid)
        if p is None:
            return
        pb = buckets[p]
        ws = tuple(total if it == bid else w for it, w in zip(pb.items, pb.weights, strict=True))
        buckets[p] = replace(pb, weights=ws)
        bid = p


def _parents(buckets: dict) -> dict[int, int]:
    out: dict[int, int] = {}
    for bid, b in buckets.items():
        for it in b.items:
            out.setdefault(it, bid)
    return out


def _insert(buckets: dict, parent: int, item: int, w: int) -> None:
    b = buckets[parent]
    buckets[parent] = replace(b, items=b.items + (item,), weights=b.weights + (w,))
    _propagate(buckets, _parents(buckets), parent)


def _detach(buckets: dict, parent: int, item: int) -> None:
    b = buckets[parent]
    keep = [(i, w) for i, w in zip(b.items, b.weights, strict=True) if i != item]
    buckets[parent] = replace(b, items=tuple(i for i, _ in keep), weights=tuple(w for _, w in keep))
    _propagate(buckets, _parents(buckets), parent)


def _shadow(crush, buckets: dict, class_bucket: dict, bid: int, dclass: str, create: bool) -> int | None:
    """The ``~class`` shadow of bucket ``bid`` (created, with its ancestors' shadows, when asked)."""
    cb = class_bucket.get(bid, {})
    if dclass in cb:
        return cb[dclass]
    if not create:
        return None
    b = buckets[bid]
    sid = _new_id(buckets)
    buckets[sid] = Bucket(id=sid, name=f"{b.name}~{dclass}", type_id=b.type_id, alg=b.alg, hash=b.hash,
                          items=(), weights=(), weight=0)
    class_bucket[bid] = {**cb, dclass: sid}
    parent = _parents(buckets).get(bid)
    if parent is not None:
        ps = _shadow(crush, buckets, class_bucket, parent, dclass, create=True)
        _insert(buckets, ps, sid, 0)
    return sid


def _classes_in_use(crush) -> set[str]:
    return {c for m in crush.class_bucket.values() for c in m}


def add_osd(crush, host: str, osd_id: int, weight: float, device_class: str | None = "hdd"):
    """``ceph osd crush add osd.N <weight> host=<host>``: a new map with the device under ``host``."""
    _no_choose_args(crush)
    if osd_id in crush.devices:
        raise PgtoolsError(f"osd.{osd_id} is already in the CRUSH map")
    hid = bucket_id(crush, host)
    if hid >= 0:
        raise PgtoolsError(f"{host!r} is not a bucket")
    w = weight16(weight)
    buckets = dict(crush.buckets)
    class_bucket = {k: dict(v) for k, v in crush.class_bucket.items()}
    devices = dict(crush.devices)
    devices[osd_id] = (f"osd.{osd_id}", device_class)
    _insert(buckets, hid, osd_id, w)
    if device_class and (device_class in _classes_in_use(crush) or crush.class_bucket):
        sid = _shadow(crush, buckets, class_bucket, hid, device_class, create=True)
        _insert(buckets, sid, osd_id, w)
    return replace(crush, devices=devices, buckets=buckets, class_bucket=class_bucket,
                   max_devices=max(crush.max_devices, osd_id + 1), _cache={})


def add_host(crush, name: str, osds: dict[int, float], device_class: str | None = "hdd",
             parent: str = "default", bucket_type: str = "host"):
    """``ceph osd crush add-bucket <name> host root=<parent>`` then ``crush add`` of each OSD.

    Parameters
    ----------
    crush : CrushMap
    name : str
        New host bucket name (straw2, rjenkins1).
    osds : dict
        ``{osd_id: crush_weight}`` to place under it, in order.
    device_class : str or None
        Class of the new devices; shadow buckets are created/updated for it.
    parent : str
        Bucket that receives the host.

    Returns
    -------
    CrushMap
    """
    _no_choose_args(crush)
    if any(b.name == name for b in crush.buckets.values()):
        raise PgtoolsError(f"bucket {name!r} already exists")
    pid = bucket_id(crush, parent)
    buckets = dict(crush.buckets)
    hid = _new_id(buckets)
    buckets[hid] = Bucket(id=hid, name=name, type_id=_type_id(crush, bucket_type), alg=STRAW2, hash=0,
                          items=(), weights=(), weight=0)
    _insert(buckets, pid, hid, 0)
    out = replace(crush, buckets=buckets, _cache={})
    for osd, w in osds.items():
        out = add_osd(out, name, int(osd), w, device_class)
    return out


def remove_item(crush, name_or_id: str | int):
    """``ceph osd crush remove <item>``: drop a device (from every bucket, shadows included) or an
    empty bucket (with its shadows)."""
    _no_choose_args(crush)
    item = bucket_id(crush, name_or_id)
    buckets = dict(crush.buckets)
    class_bucket = {k: dict(v) for k, v in crush.class_bucket.items()}
    devices = dict(crush.devices)
    targets = [item]
    if item < 0:
        if buckets[item].items:
            raise PgtoolsError(f"bucket {buckets[item].name!r} is not empty (Ceph refuses to remove it)")
        targets += list(class_bucket.pop(item, {}).values())
    else:
        devices.pop(item, None)
    for t in targets:
        for bid in [b for b, bk in buckets.items() if t in bk.items]:
            _detach(buckets, bid, t)
        if t < 0:
            del buckets[t]
    for rule in crush.rules.values():
        for op, a1, _a2 in rule.steps:
            if op == 1 and a1 in targets:
                raise PgtoolsError(f"rule {rule.name!r} takes {name_or_id!r}")
    return replace(crush, devices=devices, buckets=buckets, class_bucket=class_bucket, _cache={})


def move_bucket(crush, name: str, new_parent: str):
    """``ceph osd crush move <name> <type>=<new_parent>``: re-parent a bucket (and its shadows)."""
    _no_choose_args(crush)
    bid = bucket_id(crush, name)
    pid = bucket_id(crush, new_parent)
    if bid >= 0 or pid >= 0:
        raise PgtoolsError("move_bucket moves a bucket under a bucket")
    if pid == bid or pid in _subtree(crush.buckets, bid):
        raise PgtoolsError(f"cannot move {name!r} under itself")
    buckets = dict(crush.buckets)
    class_bucket = {k: dict(v) for k, v in crush.class_bucket.items()}
    pairs = [(bid, pid)] + [(sid, None) for sid in class_bucket.get(bid, {}).values()]
    classes = dict(class_bucket.get(bid, {}))
    for item, _ in pairs:
        for holder in [b for b, bk in buckets.items() if item in bk.items]:
            _detach(buckets, holder, item)
    _insert(buckets, pid, bid, buckets[bid].weight)
    for dclass, sid in classes.items():
        sp = _shadow(crush, buckets, class_bucket, pid, dclass, create=True)
        _insert(buckets, sp, sid, buckets[sid].weight)
    return replace(crush, buckets=buckets, class_bucket=class_bucket, _cache={})


def _subtree(buckets: dict, bid: int) -> set[int]:
    out: set[int] = set()
    todo = [bid]
    while todo:
        b = todo.pop()
        for it in buckets[b].items if b in buckets else ():
            if it not in out:
                out.add(it)
                todo.append(it)
    return out


def reweight_item(crush, name_or_id: str | int, weight: float):
    """``ceph osd crush reweight <item> <weight>`` (every occurrence, shadows included)."""
    item = bucket_id(crush, name_or_id)
    return crush.with_item_weight(item, float_to_16_16_f32(float(weight)))
