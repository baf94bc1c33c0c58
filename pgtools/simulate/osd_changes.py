"""What-if changes to OSDs, CRUSH buckets and upmaps: weights, in/out/up, new and removed OSDs and hosts.

Each is a frozen dataclass with ``apply(snap) -> Snapshot``, ``describe()`` and ``ceph_commands()``
(:class:`~pgtools.simulate.changes.Change`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..crush import edit as crush_edit
from ..crush.constants import WEIGHT_ONE
from ..errors import PgtoolsError
from ..model import Snapshot, split_pgid
from ..placement.whatif import adjust_crush_weight
from ..units import TIB_KB
from .changes import Change, need_crush, set_osdmap, set_osds

__all__ = ["AddHost", "AddOsd", "AddUpmapItems", "CrushWeight", "MarkDown", "MarkIn", "MarkOut", "MoveBucket",
           "PrimaryAffinity", "RemoveBucket", "RemoveOsd", "RemovePgUpmapPrimary", "RemovePgUpmaps",
           "RemoveUpmapItems", "Reweight", "SetPgUpmapPrimary"]


def _max_osd(snap: Snapshot) -> int:
    mo = snap.osdmap.max_osd
    if mo is None:
        mo = int(snap.osds["osd_id"].max()) + 1 if len(snap.osds) else 0
    return int(mo)


def _new_osd_rows(snap: Snapshot, ids: Sequence[int], host: str, weight: float, dclass: str) -> Snapshot:
    rows = pd.DataFrame({
        "osd_id": list(ids), "name": [f"osd.{i}" for i in ids], "host": host, "device_class": dclass,
        "crush_weight": float(weight), "reweight": 1.0, "exists": True, "up": True, "in": True,
        "primary_affinity": 1.0, "weight_fixed": WEIGHT_ONE, "primary_affinity_fixed": WEIGHT_ONE,
        "kb": int(weight * TIB_KB), "kb_used": 0, "kb_avail": int(weight * TIB_KB)})
    osds = snap.osds
    keep = osds[~osds["osd_id"].isin(list(ids))]
    out = pd.concat([keep, rows[[c for c in rows.columns if c in osds.columns or c in (
        "weight_fixed", "primary_affinity_fixed")]]], ignore_index=True)
    return snap.replace(osds=out.sort_values("osd_id", ignore_index=True))


@dataclass(frozen=True)
class CrushWeight(Change):
    """``ceph osd crush reweight osd.N w``."""

    osd: int
    w: float

    def apply(self, snap: Snapshot) -> Snapshot:
        out = adjust_crush_weight(snap, {int(self.osd): float(self.w)})
        return set_osds(out, [self.osd], crush_weight=float(self.w))

    def describe(self) -> str:
        return f"CRUSH weight of osd.{self.osd} -> {self.w:g}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd crush reweight osd.{self.osd} {self.w:g}"]


@dataclass(frozen=True)
class Reweight(Change):
    """``ceph osd reweight N w`` (the OSDMap override weight, 0..1)."""

    osd: int
    w: float

    def apply(self, snap: Snapshot) -> Snapshot:
        if not 0 <= self.w <= 1:
            raise PgtoolsError("reweight must be within 0..1")
        return set_osds(snap, [self.osd], reweight=float(self.w), weight_fixed=int(self.w * WEIGHT_ONE),
                        **{"in": self.w > 0})

    def describe(self) -> str:
        return f"reweight osd.{self.osd} -> {self.w:g}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd reweight {self.osd} {self.w:g}"]


@dataclass(frozen=True)
class PrimaryAffinity(Change):
    """``ceph osd primary-affinity osd.N w``."""

    osd: int
    w: float

    def apply(self, snap: Snapshot) -> Snapshot:
        if not 0 <= self.w <= 1:
            raise PgtoolsError("primary affinity must be within 0..1")
        return set_osds(snap, [self.osd], primary_affinity=float(self.w),
                        primary_affinity_fixed=int(self.w * WEIGHT_ONE))

    def describe(self) -> str:
        return f"primary affinity of osd.{self.osd} -> {self.w:g}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd primary-affinity osd.{self.osd} {self.w:g}"]


@dataclass(frozen=True)
class MarkOut(Change):
    """``ceph osd out N``."""

    osd: int

    def apply(self, snap: Snapshot) -> Snapshot:
        return set_osds(snap, [self.osd], reweight=0.0, weight_fixed=0, **{"in": False})

    def describe(self) -> str:
        return f"mark osd.{self.osd} out"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd out {self.osd}"]


@dataclass(frozen=True)
class MarkIn(Change):
    """``ceph osd in N``."""

    osd: int

    def apply(self, snap: Snapshot) -> Snapshot:
        return set_osds(snap, [self.osd], reweight=1.0, weight_fixed=WEIGHT_ONE, **{"in": True})

    def describe(self) -> str:
        return f"mark osd.{self.osd} in"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd in {self.osd}"]


@dataclass(frozen=True)
class MarkDown(Change):
    """``ceph osd down N`` (still in: its PGs run degraded, nothing is re-placed by CRUSH)."""

    osd: int

    def apply(self, snap: Snapshot) -> Snapshot:
        return set_osds(snap, [self.osd], up=False)

    def describe(self) -> str:
        return f"mark osd.{self.osd} down"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd down {self.osd}"]


@dataclass(frozen=True)
class RemoveOsd(Change):
    """``ceph osd purge N``: out of the CRUSH map and the OSDMap."""

    osd: int

    def apply(self, snap: Snapshot) -> Snapshot:
        out = snap
        if snap.crush is not None and int(self.osd) in snap.crush.devices:
            out = out.replace(crush=crush_edit.remove_item(snap.crush, int(self.osd)))
        return set_osds(out, [self.osd], exists=False, up=False, reweight=0.0, weight_fixed=0,
                        crush_weight=0.0, **{"in": False})

    def describe(self) -> str:
        return f"remove osd.{self.osd}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd out {self.osd}", f"ceph osd purge {self.osd} --yes-i-really-mean-it"]


@dataclass(frozen=True)
class AddHost(Change):
    """A new host bucket (straw2) under ``parent`` holding ``count`` new OSDs of ``weight`` each.

    New OSD ids start at max_osd; they exist, are up and in.  Shadow trees are updated.
    """

    name: str
    count: int
    weight: float
    device_class: str = "hdd"
    parent: str = "default"

    def new_ids(self, snap: Snapshot) -> list[int]:
        base = _max_osd(snap)
        return list(range(base, base + int(self.count)))

    def apply(self, snap: Snapshot) -> Snapshot:
        crush = need_crush(snap)
        ids = self.new_ids(snap)
        crush = crush_edit.add_host(crush, self.name, {i: self.weight for i in ids}, self.device_class,
                                    self.parent)
        out = _new_osd_rows(snap.replace(crush=crush), ids, self.name, self.weight, self.device_class)
        return set_osdmap(out, max_osd=ids[-1] + 1 if ids else _max_osd(snap))

    def describe(self) -> str:
        return f"add host {self.name} with {self.count} × {self.weight:g} {self.device_class} OSDs"

    def ceph_commands(self) -> list[str]:
        cmds = [f"ceph osd crush add-bucket {self.name} host", f"ceph osd crush move {self.name} root={self.parent}"]
        cmds += [f"ceph-volume lvm create --data /dev/sdX --crush-device-class {self.device_class}  "
                 f"# on {self.name}, x{self.count}"]
        return cmds


@dataclass(frozen=True)
class AddOsd(Change):
    """A new OSD (id = the lowest free id, as ``ceph osd new``) under an existing host."""

    host: str
    weight: float
    device_class: str = "hdd"

    def new_id(self, snap: Snapshot) -> int:
        used = set(snap.osds.loc[snap.osds["exists"].astype(bool), "osd_id"].astype(int)) if len(snap.osds) else set()
        i = 0
        while i in used:
            i += 1
        return i

    def apply(self, snap: Snapshot) -> Snapshot:
        crush = need_crush(snap)
        i = self.new_id(snap)
        crush = crush_edit.add_osd(crush, self.host, i, self.weight, self.device_class)
        out = _new_osd_rows(snap.replace(crush=crush), [i], self.host, self.weight, self.device_class)
        return set_osdmap(out, max_osd=max(_max_osd(snap), i + 1))

    def describe(self) -> str:
        return f"add a {self.weight:g} {self.device_class} OSD to {self.host}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph-volume lvm create --data /dev/sdX --crush-device-class {self.device_class}  # on {self.host}"]


@dataclass(frozen=True)
class RemoveBucket(Change):
    """``ceph osd crush remove <bucket>`` (Ceph refuses a non-empty bucket; so do we)."""

    name: str

    def apply(self, snap: Snapshot) -> Snapshot:
        return snap.replace(crush=crush_edit.remove_item(need_crush(snap), self.name))

    def describe(self) -> str:
        return f"remove CRUSH bucket {self.name}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd crush remove {self.name}"]


@dataclass(frozen=True)
class MoveBucket(Change):
    """``ceph osd crush move <name> <type>=<new_parent>``."""

    name: str
    new_parent: str

    def apply(self, snap: Snapshot) -> Snapshot:
        return snap.replace(crush=crush_edit.move_bucket(need_crush(snap), self.name, self.new_parent))

    def describe(self) -> str:
        return f"move {self.name} under {self.new_parent}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd crush move {self.name} root={self.new_parent}"]


@dataclass(frozen=True)
class AddUpmapItems(Change):
    """``ceph osd pg-upmap-items <pgid> <from> <to> [...]``."""

    pgid: str
    pairs: tuple[tuple[int, int], ...]

    def apply(self, snap: Snapshot) -> Snapshot:
        split_pgid(self.pgid)
        items = dict(snap.osdmap.pg_upmap_items)
        items[self.pgid] = [tuple(int(x) for x in p) for p in self.pairs]
        return set_osdmap(snap, pg_upmap_items=items)

    def describe(self) -> str:
        return f"upmap {self.pgid}: " + ", ".join(f"{a}->{b}" for a, b in self.pairs)

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pg-upmap-items {self.pgid} " + " ".join(f"{a} {b}" for a, b in self.pairs)]


@dataclass(frozen=True)
class RemoveUpmapItems(Change):
    """``ceph osd rm-pg-upmap-items <pgid>``."""

    pgid: str

    def apply(self, snap: Snapshot) -> Snapshot:
        items = dict(snap.osdmap.pg_upmap_items)
        items.pop(self.pgid, None)
        return set_osdmap(snap, pg_upmap_items=items)

    def describe(self) -> str:
        return f"remove upmap of {self.pgid}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd rm-pg-upmap-items {self.pgid}"]


@dataclass(frozen=True)
class SetPgUpmapPrimary(Change):
    """``ceph osd pg-upmap-primary <pgid> <osd>`` (Reef's read balancer): make ``osd`` the PG's primary.

    Placement (Reef and later, :mod:`pgtools.placement.osdmap`) swaps the OSD with the first of the raw set
    when it stands later in it and is not out; otherwise the entry stays without effect.  The monitor's
    checks (min_compat_client reef, replicated pools only, the PG and the OSD exist) are
    :func:`~pgtools.simulate.refusal`'s.
    """

    pgid: str
    osd: int

    def apply(self, snap: Snapshot) -> Snapshot:
        pool, ps = split_pgid(self.pgid)
        prim = dict(snap.osdmap.pg_upmap_primaries)
        prim[f"{pool}.{ps:x}"] = int(self.osd)
        return set_osdmap(snap, pg_upmap_primaries=prim)

    def describe(self) -> str:
        return f"primary of {self.pgid} -> osd.{int(self.osd)} (pg-upmap-primary)"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pg-upmap-primary {self.pgid} {int(self.osd)}"]


@dataclass(frozen=True)
class RemovePgUpmapPrimary(Change):
    """``ceph osd rm-pg-upmap-primary <pgid>``: the PG's primary is CRUSH's (and primary affinity's) again."""

    pgid: str

    def apply(self, snap: Snapshot) -> Snapshot:
        pool, ps = split_pgid(self.pgid)
        key = f"{pool}.{ps:x}"
        return set_osdmap(snap, pg_upmap_primaries={k: v for k, v in snap.osdmap.pg_upmap_primaries.items()
                                                    if k != key})

    def describe(self) -> str:
        return f"remove the pg-upmap-primary of {self.pgid}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd rm-pg-upmap-primary {self.pgid}"]


@dataclass(frozen=True)
class RemovePgUpmaps(Change):
    """``ceph osd rm-pg-upmap`` and ``ceph osd rm-pg-upmap-items`` for some PGs.

    The mgr issues both itself (``DaemonServer::adjust_pgs``) when a merge source or target has an upmap;
    a stepwise plan shows it as a step of its own.
    """

    pgids: tuple[str, ...]

    def apply(self, snap: Snapshot) -> Snapshot:
        for pgid in self.pgids:
            split_pgid(pgid)
        om = snap.osdmap
        return snap.replace(osdmap=om.replace(
            pg_upmap={k: v for k, v in om.pg_upmap.items() if k not in self.pgids},
            pg_upmap_items={k: v for k, v in om.pg_upmap_items.items() if k not in self.pgids}))

    def describe(self) -> str:
        return "remove the upmaps of " + ", ".join(self.pgids)

    def ceph_commands(self) -> list[str]:
        return [c for g in self.pgids for c in (f"ceph osd rm-pg-upmap {g}", f"ceph osd rm-pg-upmap-items {g}")]

