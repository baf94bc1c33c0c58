"""The :class:`Change` base class and the snapshot edits the what-if changes share.

The changes themselves live by concept: :mod:`.pool_changes` (pg_num, size, rule, create/delete),
:mod:`.osd_changes` (OSD weights and states, CRUSH buckets, upmaps), :mod:`.failures` (``Fail``) and
:mod:`.mgr_changes` (what the mgr decides: reweight-by-utilization, the stepwise pg_num states).  Each is a
frozen dataclass with ``apply(snap) -> Snapshot``, ``describe()`` and ``ceph_commands()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..errors import PgtoolsError, UnsupportedFeatureError
from ..model import Snapshot

__all__ = ["Change", "need_crush", "need_rule", "pool_index", "pool_name", "rule_id", "rule_name", "set_osdmap",
           "set_osds", "set_pool"]


class Change:
    """Base class of the what-if changes."""

    def apply(self, snap: Snapshot) -> Snapshot:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def ceph_commands(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError


def pool_index(snap: Snapshot, pool: int | str) -> int:
    """The row label in ``snap.pools`` of pool ``pool`` (a name, or an id; see :meth:`Snapshot.pool`).

    Raises
    ------
    UnknownPoolError
        No such pool (the message lists the pools there are).
    """
    return snap.pool(pool).name


def pool_name(snap: Snapshot, pool: int | str) -> str:
    """The name of pool ``pool`` (a name or an id; :func:`pool_index` raises when there is none)."""
    return str(snap.pool(pool)["pool"])


def set_pool(snap: Snapshot, pool: int | str, **vals: Any) -> Snapshot:
    """``snap`` with the columns ``vals`` of pool ``pool`` set (a column missing so far is added)."""
    pools = snap.pools.copy()
    i = pool_index(snap, pool)
    for k, v in vals.items():
        if k not in pools.columns:
            pools[k] = pd.Series([None] * len(pools), index=pools.index, dtype=object)
        pools.at[i, k] = v
    return snap.replace(pools=pools)


def set_osds(snap: Snapshot, ids: Iterable[int], **vals: Any) -> Snapshot:
    """``snap`` with the columns ``vals`` of the OSDs ``ids`` set (a column missing so far is added).

    Raises
    ------
    PgtoolsError
        None of ``ids`` is in ``snap.osds``.
    """
    osds = snap.osds.copy()
    mask = osds["osd_id"].isin([int(i) for i in ids])
    if not mask.any():
        raise PgtoolsError(f"no OSD {list(ids)!r}")
    for k, v in vals.items():
        if k not in osds.columns:
            osds[k] = None
        osds.loc[mask, k] = v
    return snap.replace(osds=osds)


def need_crush(snap: Snapshot) -> Any:
    """``snap.crush``; :class:`~pgtools.errors.UnsupportedFeatureError` when the snapshot has no CRUSH map."""
    if snap.crush is None:
        raise UnsupportedFeatureError("this change needs a CRUSH map in the snapshot")
    return snap.crush


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


def need_rule(snap: Snapshot, rule: int | str) -> int:
    """:func:`rule_id` of ``rule``; :class:`~pgtools.errors.PgtoolsError` when there is no such rule."""
    rid = rule_id(snap, rule)
    if rid is None:
        raise PgtoolsError(f"no CRUSH rule {rule!r}")
    return rid


def set_osdmap(snap: Snapshot, **vals: Any) -> Snapshot:
    """``snap`` with the OSDMap fields ``vals`` (``max_osd``, ``pool_max``, ``pg_upmap_items``, ...) set."""
    return snap.replace(osdmap=snap.osdmap.replace(**vals))

