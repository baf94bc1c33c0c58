"""The what-if changes: frozen dataclasses with ``apply(snap)``, ``describe()`` and ``ceph_commands()``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..crush import edit as crush_edit
from ..errors import PgtoolsError, UnsupportedFeatureError
from ..model import Snapshot, split_pgid

ONE = 0x10000
TIB_KB = 1 << 30


# ------------------------------------------------------------------------------------------ helpers
def _pool_index(snap: Snapshot, pool: int | str) -> int:
    pools = snap.pools
    if isinstance(pool, str) and not pool.lstrip("-").isdigit():
        hit = pools.index[pools["pool"] == pool]
    else:
        hit = pools.index[pools["pool_id"].astype("int64") == int(pool)]
    if len(hit) == 0:
        names = ", ".join(f"{n} ({i})" for i, n in zip(pools["pool_id"], pools["pool"], strict=True))
        raise PgtoolsError(f"no pool {pool!r} (pools: {names or 'none'})")
    return hit[0]


def _pool_name(snap: Snapshot, pool: int | str) -> str:
    return str(snap.pools.loc[_pool_index(snap, pool), "pool"])


def _set_pool(snap: Snapshot, pool: int | str, **vals: Any) -> Snapshot:
    pools = snap.pools.copy()
    i = _pool_index(snap, pool)
    for k, v in vals.items():
        if k not in pools.columns:
            pools[k] = pd.Series([None] * len(pools), index=pools.index, dtype=object)
        pools.at[i, k] = v
    return snap.replace(pools=pools)


def _osd_set(snap: Snapshot, ids: Iterable[int], **vals: Any) -> Snapshot:
    osds = snap.osds.copy()
    mask = osds["osd_id"].isin([int(i) for i in ids])
    if not mask.any():
        raise PgtoolsError(f"no OSD {list(ids)!r}")
    for k, v in vals.items():
        if k not in osds.columns:
            osds[k] = None
        osds.loc[mask, k] = v
    return snap.replace(osds=osds)


def _need_crush(snap: Snapshot) -> Any:
    if snap.crush is None:
        raise UnsupportedFeatureError("this change needs a CRUSH map in the snapshot")
    return snap.crush


def _osds_under(snap: Snapshot, item: int | str) -> list[int]:
    if isinstance(item, (int, np.integer)) and int(item) >= 0:
        return [int(item)]
    if isinstance(item, str) and item.startswith("osd.") and item[4:].isdigit():
        return [int(item[4:])]
    crush = _need_crush(snap)
    bid = crush_edit.bucket_id(crush, item)
    return sorted(crush.subtree_devices(bid)) if bid < 0 else [bid]


def rule_id(snap: Snapshot, rule: int | str) -> int | None:
    """The id of CRUSH rule ``rule`` (an id, or a name as Ceph's commands take it); None if none.

    Without a CRUSH map a numeric ``rule`` is taken as is.
    """
    crush = snap.crush
    if isinstance(rule, str) and not rule.lstrip("-").isdigit():
        if crush is None:
            return None
        hit = [rid for rid, r in crush.rules.items() if r.name == rule]
        return hit[0] if hit else None
    rid = int(rule)
    return rid if crush is None or rid in crush.rules else None


def rule_name(snap: Snapshot, rule: int | str) -> str:
    """The name of CRUSH rule ``rule`` (what ``ceph osd pool set/create`` take); ``str(rule)`` if unknown."""
    rid = rule_id(snap, rule)
    if rid is None or snap.crush is None:
        return str(rule)
    return str(snap.crush.rules[rid].name)


def _need_rule(snap: Snapshot, rule: int | str) -> int:
    rid = rule_id(snap, rule)
    if rid is None:
        raise PgtoolsError(f"no CRUSH rule {rule!r}")
    return rid


def _osdmap(snap: Snapshot, **vals: Any) -> Snapshot:
    om = dict(snap.osdmap or {})
    om.update(vals)
    return snap.replace(osdmap=om)


def _check_pool_pg_num(snap: Snapshot, n: int) -> None:
    """No pool has a pg_num outside 1..mon_max_pool_pg_num: refuse before allocating anything."""
    from ..mgr.options import resolve

    mx = resolve(snap, "mon_max_pool_pg_num")
    if not 0 < int(n) <= mx.value:
        raise PgtoolsError(f"pg_num {n}: 'pg_num' must be greater than 0 and less than or equal to {mx.value} "
                           f"(mon_max_pool_pg_num, {mx.source})")


def _max_osd(snap: Snapshot) -> int:
    mo = (snap.osdmap or {}).get("max_osd")
    if mo is None:
        mo = int(snap.osds["osd_id"].max()) + 1 if len(snap.osds) else 0
    return int(mo)


def _new_osd_rows(snap: Snapshot, ids: Sequence[int], host: str, weight: float, dclass: str) -> Snapshot:
    rows = pd.DataFrame({
        "osd_id": list(ids), "name": [f"osd.{i}" for i in ids], "host": host, "device_class": dclass,
        "crush_weight": float(weight), "reweight": 1.0, "exists": True, "up": True, "in": True,
        "primary_affinity": 1.0, "weight_fixed": ONE, "primary_affinity_fixed": ONE,
        "kb": int(weight * TIB_KB), "kb_used": 0, "kb_avail": int(weight * TIB_KB)})
    osds = snap.osds
    keep = osds[~osds["osd_id"].isin(list(ids))]
    out = pd.concat([keep, rows[[c for c in rows.columns if c in osds.columns or c in (
        "weight_fixed", "primary_affinity_fixed")]]], ignore_index=True)
    return snap.replace(osds=out.sort_values("osd_id", ignore_index=True))


# ------------------------------------------------------------------------------------------ changes
class Change:
    """Base class of the what-if changes."""

    def apply(self, snap: Snapshot) -> Snapshot:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def ceph_commands(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class SetPgNum(Change):
    """``ceph osd pool set <pool> pg_num n``.

    With ``follow_pgp=True`` (Nautilus+) the final state has ``pgp_num = n`` too, as the mgr gets there,
    and a decrease leaves no upmap on the merged PGs (the mgr removes those of every merge source and
    target first); with False only pg_num changes (osdmaptool ``--pg_num``; pgp_num is capped at n).
    """

    pool: int | str
    n: int
    follow_pgp: bool = True

    def apply(self, snap: Snapshot) -> Snapshot:
        _check_pool_pg_num(snap, self.n)
        i = _pool_index(snap, self.pool)
        pgp = int(snap.pools.at[i, "pgp_num"])
        pgp = self.n if self.follow_pgp else min(pgp, self.n)
        old = int(snap.pools.at[i, "pg_num"])
        if self.follow_pgp and self.n < old:
            # the mgr removes the upmaps of every merge source and target before merging them
            # (DaemonServer::adjust_pgs); a stepwise plan shows each removal as a step
            from ..mgr.pgnum import get_parent

            pid = int(snap.pools.at[i, "pool_id"])
            parts = {x for s in range(self.n, old) for x in (s, get_parent(s))}
            snap = RemovePgUpmaps(tuple(f"{pid}.{x:x}" for x in sorted(parts))).apply(snap)
        return _set_pool(snap, self.pool, pg_num=self.n, pgp_num=pgp, pg_num_target=self.n,
                         pgp_num_target=pgp, pg_num_pending=self.n)

    def describe(self) -> str:
        return f"set pool {self.pool} pg_num {self.n}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pool set {self.pool} pg_num {self.n}"]


@dataclass(frozen=True)
class SetPgpNum(Change):
    """``ceph osd pool set <pool> pgp_num n`` (n must not exceed pg_num)."""

    pool: int | str
    n: int

    def apply(self, snap: Snapshot) -> Snapshot:
        i = _pool_index(snap, self.pool)
        if not 0 < self.n <= int(snap.pools.at[i, "pg_num"]):
            raise PgtoolsError(f"pgp_num {self.n} must be in 1..pg_num")
        return _set_pool(snap, self.pool, pgp_num=self.n, pgp_num_target=self.n)

    def describe(self) -> str:
        return f"set pool {self.pool} pgp_num {self.n}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pool set {self.pool} pgp_num {self.n}"]


@dataclass(frozen=True)
class CrushWeight(Change):
    """``ceph osd crush reweight osd.N w``."""

    osd: int
    w: float

    def apply(self, snap: Snapshot) -> Snapshot:
        from ..placement.pipeline import adjust_crush_weight

        out = adjust_crush_weight(snap, {int(self.osd): float(self.w)})
        return _osd_set(out, [self.osd], crush_weight=float(self.w))

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
        return _osd_set(snap, [self.osd], reweight=float(self.w), weight_fixed=int(self.w * ONE),
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
        return _osd_set(snap, [self.osd], primary_affinity=float(self.w),
                        primary_affinity_fixed=int(self.w * ONE))

    def describe(self) -> str:
        return f"primary affinity of osd.{self.osd} -> {self.w:g}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd primary-affinity osd.{self.osd} {self.w:g}"]


@dataclass(frozen=True)
class MarkOut(Change):
    """``ceph osd out N``."""

    osd: int

    def apply(self, snap: Snapshot) -> Snapshot:
        return _osd_set(snap, [self.osd], reweight=0.0, weight_fixed=0, **{"in": False})

    def describe(self) -> str:
        return f"mark osd.{self.osd} out"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd out {self.osd}"]


@dataclass(frozen=True)
class MarkIn(Change):
    """``ceph osd in N``."""

    osd: int

    def apply(self, snap: Snapshot) -> Snapshot:
        return _osd_set(snap, [self.osd], reweight=1.0, weight_fixed=ONE, **{"in": True})

    def describe(self) -> str:
        return f"mark osd.{self.osd} in"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd in {self.osd}"]


@dataclass(frozen=True)
class MarkDown(Change):
    """``ceph osd down N`` (still in: its PGs run degraded, nothing is re-placed by CRUSH)."""

    osd: int

    def apply(self, snap: Snapshot) -> Snapshot:
        return _osd_set(snap, [self.osd], up=False)

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
        return _osd_set(out, [self.osd], exists=False, up=False, reweight=0.0, weight_fixed=0,
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
        crush = _need_crush(snap)
        ids = self.new_ids(snap)
        crush = crush_edit.add_host(crush, self.name, {i: self.weight for i in ids}, self.device_class,
                                    self.parent)
        out = _new_osd_rows(snap.replace(crush=crush), ids, self.name, self.weight, self.device_class)
        return _osdmap(out, max_osd=ids[-1] + 1 if ids else _max_osd(snap))

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
        crush = _need_crush(snap)
        i = self.new_id(snap)
        crush = crush_edit.add_osd(crush, self.host, i, self.weight, self.device_class)
        out = _new_osd_rows(snap.replace(crush=crush), [i], self.host, self.weight, self.device_class)
        return _osdmap(out, max_osd=max(_max_osd(snap), i + 1))

    def describe(self) -> str:
        return f"add a {self.weight:g} {self.device_class} OSD to {self.host}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph-volume lvm create --data /dev/sdX --crush-device-class {self.device_class}  # on {self.host}"]


@dataclass(frozen=True)
class RemoveBucket(Change):
    """``ceph osd crush remove <bucket>`` (Ceph refuses a non-empty bucket; so do we)."""

    name: str

    def apply(self, snap: Snapshot) -> Snapshot:
        return snap.replace(crush=crush_edit.remove_item(_need_crush(snap), self.name))

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
        return snap.replace(crush=crush_edit.move_bucket(_need_crush(snap), self.name, self.new_parent))

    def describe(self) -> str:
        return f"move {self.name} under {self.new_parent}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd crush move {self.name} root={self.new_parent}"]


@dataclass(frozen=True)
class SetPoolSize(Change):
    """``ceph osd pool set <pool> size n`` (replicated pools); min_size capped at size unless given."""

    pool: int | str
    size: int
    min_size: int | None = None

    def apply(self, snap: Snapshot) -> Snapshot:
        i = _pool_index(snap, self.pool)
        if str(snap.pools.at[i, "type"]).startswith("erasure"):
            raise PgtoolsError("cannot change the size of an erasure-coded pool")
        ms = self.min_size if self.min_size is not None else min(int(snap.pools.at[i, "min_size"]), self.size)
        return _set_pool(snap, self.pool, size=int(self.size), min_size=int(ms))

    def describe(self) -> str:
        return f"set pool {self.pool} size {self.size}"

    def ceph_commands(self) -> list[str]:
        out = [f"ceph osd pool set {self.pool} size {self.size}"]
        if self.min_size is not None:
            out.append(f"ceph osd pool set {self.pool} min_size {self.min_size}")
        return out


@dataclass(frozen=True)
class SetPoolRule(Change):
    """``ceph osd pool set <pool> crush_rule <rule>``; ``rule`` is an id or a name (Ceph takes the name:
    :func:`pgtools.simulate.simulate` prints the name in ``plan.commands``)."""

    pool: int | str
    rule: int | str

    def apply(self, snap: Snapshot) -> Snapshot:
        return _set_pool(snap, self.pool, crush_rule=_need_rule(snap, self.rule))

    def describe(self) -> str:
        return f"set pool {self.pool} crush_rule {self.rule}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pool set {self.pool} crush_rule {self.rule}"]


@dataclass(frozen=True)
class CreatePool(Change):
    """``ceph osd pool create <name> <pg_num> <pg_num> replicated <rule>`` (hashpspool; id = pool_max + 1).

    ``rule`` is an id or a name; :func:`pgtools.simulate.simulate` prints the name in ``plan.commands``.
    """

    name: str
    pg_num: int
    size: int = 3
    rule: int | str = 0

    def apply(self, snap: Snapshot) -> Snapshot:
        _check_pool_pg_num(snap, self.pg_num)
        rid = _need_rule(snap, self.rule)
        if len(snap.pools) and (snap.pools["pool"] == self.name).any():
            raise PgtoolsError(f"pool {self.name!r} exists")
        pmax = (snap.osdmap or {}).get("pool_max")
        cur = int(snap.pools["pool_id"].max()) if len(snap.pools) else 0
        pid = max(int(pmax) if pmax is not None else cur, cur) + 1
        row = {"pool_id": pid, "pool": self.name, "type": "replicated", "type_id": 1, "size": self.size,
               "min_size": self.size - self.size // 2, "pg_num": self.pg_num, "pgp_num": self.pg_num,
               "pg_num_target": self.pg_num, "pgp_num_target": self.pg_num, "pg_num_pending": self.pg_num,
               "crush_rule": rid, "flags": 1, "flags_names": "hashpspool"}
        pools = pd.concat([snap.pools, pd.DataFrame([{k: v for k, v in row.items() if k in snap.pools.columns
                                                      or k == "type_id"}])], ignore_index=True)
        return _osdmap(snap.replace(pools=pools), pool_max=pid)

    def describe(self) -> str:
        return f"create pool {self.name} with {self.pg_num} PGs × {self.size}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pool create {self.name} {self.pg_num} {self.pg_num} replicated {self.rule}",
                f"ceph osd pool set {self.name} size {self.size}"]


@dataclass(frozen=True)
class DeletePool(Change):
    """``ceph osd pool delete``: the pool and its PGs disappear (their data is freed)."""

    pool: int | str

    def apply(self, snap: Snapshot) -> Snapshot:
        i = _pool_index(snap, self.pool)
        pid = int(snap.pools.at[i, "pool_id"])
        pgs = snap.pgs[snap.pgs["pool_id"] != pid].reset_index(drop=True) if len(snap.pgs) else snap.pgs
        return snap.replace(pools=snap.pools.drop(index=i).reset_index(drop=True), pgs=pgs)

    def describe(self) -> str:
        return f"delete pool {self.pool}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pool delete {self.pool} {self.pool} --yes-i-really-really-mean-it"]


@dataclass(frozen=True)
class AddUpmapItems(Change):
    """``ceph osd pg-upmap-items <pgid> <from> <to> [...]``."""

    pgid: str
    pairs: tuple[tuple[int, int], ...]

    def apply(self, snap: Snapshot) -> Snapshot:
        split_pgid(self.pgid)
        items = dict((snap.osdmap or {}).get("pg_upmap_items") or {})
        items[self.pgid] = [tuple(int(x) for x in p) for p in self.pairs]
        return _osdmap(snap, pg_upmap_items=items)

    def describe(self) -> str:
        return f"upmap {self.pgid}: " + ", ".join(f"{a}->{b}" for a, b in self.pairs)

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pg-upmap-items {self.pgid} " + " ".join(f"{a} {b}" for a, b in self.pairs)]


@dataclass(frozen=True)
class RemoveUpmapItems(Change):
    """``ceph osd rm-pg-upmap-items <pgid>``."""

    pgid: str

    def apply(self, snap: Snapshot) -> Snapshot:
        items = dict((snap.osdmap or {}).get("pg_upmap_items") or {})
        items.pop(self.pgid, None)
        return _osdmap(snap, pg_upmap_items=items)

    def describe(self) -> str:
        return f"remove upmap of {self.pgid}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd rm-pg-upmap-items {self.pgid}"]


def _typed_item(snap: Snapshot, item: Any) -> Any:
    """``"rack=r1"`` -> ``"r1"`` after checking that r1 is a CRUSH bucket of type rack (``osd=3`` -> 3)."""
    if not isinstance(item, str) or "=" not in item:
        return item
    kind, _, name = item.partition("=")
    if kind == "osd":
        return name if name.startswith("osd.") else f"osd.{name}"
    crush = _need_crush(snap)
    bid = crush_edit.bucket_id(crush, name)
    if bid >= 0:
        raise PgtoolsError(f"{item}: {name} is an OSD, not a {kind} (give osd.N)")
    actual = crush.types.get(crush.buckets[bid].type_id)
    if actual != kind:
        raise PgtoolsError(f"{item}: {name} is a CRUSH {actual}, not a {kind}")
    return name


@dataclass(frozen=True, init=False)
class Fail(Change):
    """A failure: every OSD under one or more buckets (or OSDs) down and out at once, as after
    ``mon_osd_down_out_interval``, its disks' data gone.

    ``Fail("node1")`` fails one host; ``Fail("r1", "n3")`` (or ``Fail(("r1", "n3"))``) fails a rack and a
    host together, in one step.  Items are CRUSH bucket names (``"rack=r1"`` checks that r1 is a rack),
    ``osd.N`` or OSD ids.  The step reports every
    PG left short of copies, counted on the acting sets before the failure: *lost* (no copy left, or fewer
    than k shards of an erasure-coded PG: nothing can recover it), *inactive* (fewer than min_size copies:
    I/O blocks until recovery) or *degraded* (fewer than size).
    """

    item: int | str | tuple

    def __init__(self, *items: Any, item: Any = None) -> None:
        if item is not None:
            items = (*items, item)
        flat: list[Any] = []
        for it in items:
            flat.extend(it if isinstance(it, (tuple, list)) else [it])
        if not flat:
            raise ValueError("Fail needs at least one bucket name or OSD")
        object.__setattr__(self, "item", flat[0] if len(flat) == 1 else tuple(flat))

    @property
    def items(self) -> tuple:
        """The failing items, as a tuple."""
        return self.item if isinstance(self.item, tuple) else (self.item,)

    def osds(self, snap: Snapshot) -> list[int]:
        return sorted({o for it in self.items for o in _osds_under(snap, _typed_item(snap, it))})

    def apply(self, snap: Snapshot) -> Snapshot:
        return _osd_set(snap, self.osds(snap), up=False, reweight=0.0, weight_fixed=0, **{"in": False})

    def _names(self) -> str:
        names = [f"osd.{int(i)}" if isinstance(i, (int, np.integer)) else str(i).partition("=")[2] or str(i)
                 for i in self.items]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]} together"

    def describe(self) -> str:
        return f"failure of {self._names()}"

    def ceph_commands(self) -> list[str]:
        return [f"# failure of {self._names()}: nothing to run; recovery starts after mon_osd_down_out_interval"]


@dataclass(frozen=True)
class ReweightByUtilization(Change):
    """``ceph osd reweight-by-utilization [oload] [max_change] [max_osds]`` (or ``reweight-by-pg`` with
    ``by_pg=True``): the reweights Ceph would set now (:func:`pgtools.mgr.reweight.reweight_by_utilization`)."""

    oload: int = 120
    max_change: float = 0.05
    max_osds: int = 4
    by_pg: bool = False
    no_increasing: bool = False

    def result(self, snap: Snapshot) -> Any:
        from ..mgr.reweight import reweight_by_utilization

        return reweight_by_utilization(snap, oload=self.oload, max_change=self.max_change, max_osds=self.max_osds,
                                       by_pg=self.by_pg, no_increasing=self.no_increasing)

    def apply(self, snap: Snapshot) -> Snapshot:
        for osd, w in self.result(snap).new_weights.items():
            snap = _osd_set(snap, [osd], reweight=float(w), weight_fixed=int(round(w * ONE)), **{"in": w > 0})
        return snap

    def describe(self) -> str:
        what = "pg" if self.by_pg else "utilization"
        return f"reweight-by-{what} {self.oload} {self.max_change:g} {self.max_osds}"

    def ceph_commands(self) -> list[str]:
        what = "pg" if self.by_pg else "utilization"
        flag = " --no-increasing" if self.no_increasing else ""
        return [f"ceph osd test-reweight-by-{what} {self.oload} {self.max_change:g} {self.max_osds}{flag}  # dry run",
                f"ceph osd reweight-by-{what} {self.oload} {self.max_change:g} {self.max_osds}{flag}"]


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
        om = dict(snap.osdmap or {})
        for key in ("pg_upmap", "pg_upmap_items"):
            if om.get(key):
                om[key] = {k: v for k, v in om[key].items() if k not in self.pgids}
        return snap.replace(osdmap=om)

    def describe(self) -> str:
        return "remove the upmaps of " + ", ".join(self.pgids)

    def ceph_commands(self) -> list[str]:
        return [c for g in self.pgids for c in (f"ceph osd rm-pg-upmap {g}", f"ceph osd rm-pg-upmap-items {g}")]


def mgr_tick_label(prefix: str, tick: Mapping[str, Any]) -> str:
    """The step label of one mgr tick of a stepwise plan (a row of :func:`pgtools.mgr.pgnum.pgp_num_steps`).

    ``"<prefix>: pg_num N pgp_num M"``, followed by what held the mgr back when something did, e.g.
    ``" (wait: 3 PGs degraded (0.79% of object copies): pgp_num deferred)"``.

    Parameters
    ----------
    prefix : str
        The change's description (``set pool rbd pg_num 256``).
    tick : mapping
        ``pg_num``, ``pgp_num``, ``action``, ``reason`` and ``deferred_by``.

    Returns
    -------
    str
    """
    label = f"{prefix}: pg_num {int(tick['pg_num'])} pgp_num {int(tick['pgp_num'])}"
    if tick.get("deferred_by"):
        wait = "wait: " if tick.get("action") == "wait" else ""
        label += f" ({wait}{tick.get('reason', '')})"
    return label
