"""What-if changes to pools: pg_num, pgp_num, size, CRUSH rule, creation and deletion.

Each is a frozen dataclass with ``apply(snap) -> Snapshot``, ``describe()`` and ``ceph_commands()``
(:class:`~pgtools.simulate.changes.Change`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..errors import PgtoolsError
from ..mgr.options import resolve
from ..model import Snapshot
from ..placement.pgmath import get_parent
from .changes import Change, need_rule, pool_index, set_osdmap, set_pool
from .osd_changes import RemovePgUpmaps

__all__ = ["CreatePool", "DeletePool", "SetPgNum", "SetPgpNum", "SetPoolRule", "SetPoolSize"]


def _check_pool_pg_num(snap: Snapshot, n: int) -> None:
    """No pool has a pg_num outside 1..mon_max_pool_pg_num: refuse before allocating anything."""
    mx = resolve(snap, "mon_max_pool_pg_num")
    if not 0 < int(n) <= mx.value:
        raise PgtoolsError(f"pg_num {n}: 'pg_num' must be greater than 0 and less than or equal to {mx.value} "
                           f"(mon_max_pool_pg_num, {mx.source})")


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
        i = pool_index(snap, self.pool)
        pgp = int(snap.pools.at[i, "pgp_num"])
        pgp = self.n if self.follow_pgp else min(pgp, self.n)
        old = int(snap.pools.at[i, "pg_num"])
        if self.follow_pgp and self.n < old:
            # the mgr removes the upmaps of every merge source and target before merging them
            # (DaemonServer::adjust_pgs); a stepwise plan shows each removal as a step
            pid = int(snap.pools.at[i, "pool_id"])
            parts = {x for s in range(self.n, old) for x in (s, get_parent(s))}
            snap = RemovePgUpmaps(tuple(f"{pid}.{x:x}" for x in sorted(parts))).apply(snap)
        return set_pool(snap, self.pool, pg_num=self.n, pgp_num=pgp, pg_num_target=self.n,
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
        i = pool_index(snap, self.pool)
        if not 0 < self.n <= int(snap.pools.at[i, "pg_num"]):
            raise PgtoolsError(f"pgp_num {self.n} must be in 1..pg_num")
        return set_pool(snap, self.pool, pgp_num=self.n, pgp_num_target=self.n)

    def describe(self) -> str:
        return f"set pool {self.pool} pgp_num {self.n}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pool set {self.pool} pgp_num {self.n}"]


@dataclass(frozen=True)
class SetPoolSize(Change):
    """``ceph osd pool set <pool> size n`` (replicated pools); min_size capped at size unless given."""

    pool: int | str
    size: int
    min_size: int | None = None

    def apply(self, snap: Snapshot) -> Snapshot:
        i = pool_index(snap, self.pool)
        if str(snap.pools.at[i, "type"]).startswith("erasure"):
            raise PgtoolsError("cannot change the size of an erasure-coded pool")
        ms = self.min_size if self.min_size is not None else min(int(snap.pools.at[i, "min_size"]), self.size)
        return set_pool(snap, self.pool, size=int(self.size), min_size=int(ms))

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
        return set_pool(snap, self.pool, crush_rule=need_rule(snap, self.rule))

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
        rid = need_rule(snap, self.rule)
        if len(snap.pools) and (snap.pools["pool"] == self.name).any():
            raise PgtoolsError(f"pool {self.name!r} exists")
        pmax = snap.osdmap.pool_max
        cur = int(snap.pools["pool_id"].max()) if len(snap.pools) else 0
        pid = max(int(pmax) if pmax is not None else cur, cur) + 1
        row = {"pool_id": pid, "pool": self.name, "type": "replicated", "type_id": 1, "size": self.size,
               "min_size": self.size - self.size // 2, "pg_num": self.pg_num, "pgp_num": self.pg_num,
               "pg_num_target": self.pg_num, "pgp_num_target": self.pg_num, "pg_num_pending": self.pg_num,
               "crush_rule": rid, "flags": 1, "flags_names": "hashpspool"}
        pools = pd.concat([snap.pools, pd.DataFrame([{k: v for k, v in row.items() if k in snap.pools.columns
                                                      or k == "type_id"}])], ignore_index=True)
        return set_osdmap(snap.replace(pools=pools), pool_max=pid)

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
        i = pool_index(snap, self.pool)
        pid = int(snap.pools.at[i, "pool_id"])
        pgs = snap.pgs[snap.pgs["pool_id"] != pid].reset_index(drop=True) if len(snap.pgs) else snap.pgs
        return snap.replace(pools=snap.pools.drop(index=i).reset_index(drop=True), pgs=pgs)

    def describe(self) -> str:
        return f"delete pool {self.pool}"

    def ceph_commands(self) -> list[str]:
        return [f"ceph osd pool delete {self.pool} {self.pool} --yes-i-really-really-mean-it"]
