"""What-if changes the mgr decides: ``reweight-by-utilization`` and the stepwise pg_num / pgp_num states.

With ``stepwise=True``, :func:`expand` turns a ``SetPgNum`` / ``SetPgpNum`` into the states the mgr walks
through (:func:`pgtools.mgr.pgnum.pool_pgp_num_steps`), one :class:`PoolState` per mgr tick, and the
upmap removals the mgr issues before a merge (:class:`~pgtools.simulate.osd_changes.RemovePgUpmaps`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..crush.constants import WEIGHT_ONE
from ..mgr.pgnum import pool_pgp_num_steps
from ..mgr.reweight import reweight_by_utilization
from ..model import Snapshot
from .changes import Change, set_osds, set_pool
from .osd_changes import RemovePgUpmaps
from .pool_changes import SetPgNum, SetPgpNum

__all__ = ["PoolState", "ReweightByUtilization", "expand", "mgr_tick_label"]


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
        return reweight_by_utilization(snap, oload=self.oload, max_change=self.max_change, max_osds=self.max_osds,
                                       by_pg=self.by_pg, no_increasing=self.no_increasing)

    def apply(self, snap: Snapshot) -> Snapshot:
        for osd, w in self.result(snap).new_weights.items():
            snap = set_osds(snap, [osd], reweight=float(w), weight_fixed=int(round(w * WEIGHT_ONE)), **{"in": w > 0})
        return snap

    def describe(self) -> str:
        what = "pg" if self.by_pg else "utilization"
        return f"reweight-by-{what} {self.oload} {self.max_change:g} {self.max_osds}"

    def ceph_commands(self) -> list[str]:
        what = "pg" if self.by_pg else "utilization"
        flag = " --no-increasing" if self.no_increasing else ""
        return [f"ceph osd test-reweight-by-{what} {self.oload} {self.max_change:g} {self.max_osds}{flag}  # dry run",
                f"ceph osd reweight-by-{what} {self.oload} {self.max_change:g} {self.max_osds}{flag}"]


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


@dataclass(frozen=True)
class PoolState(Change):
    """One state of a stepwise pg_num change: the pool's ``pg_num`` and ``pgp_num`` as the mgr sets them."""

    pool: int | str
    pg_num: int
    pgp_num: int

    def apply(self, snap: Snapshot) -> Snapshot:
        return set_pool(snap, self.pool, pg_num=self.pg_num, pgp_num=self.pgp_num, pg_num_pending=self.pg_num)

    def describe(self) -> str:
        return f"pool {self.pool}: pg_num {self.pg_num} pgp_num {self.pgp_num}"

    def ceph_commands(self) -> list[str]:
        return []


def expand(cur: Snapshot, n: int, ch: Any, stepwise: bool, misplaced: Any,
           assume_clean: bool = False) -> tuple[list[tuple[str, Any]], Snapshot]:
    """(label, change-or-state) per step for change number ``n``, and the state after it.

    Stepwise pg changes become explicit pool states.  The capture's PG states (degraded, inactive,
    unknown, creating, misplaced) gate the mgr only in the first change: every step after it starts
    from a recovered cluster.  Upmaps the mgr removes before a merge become a step of their own.
    """
    out: list[tuple[str, Any]] = []
    if stepwise and isinstance(ch, (SetPgNum, SetPgpNum)):
        kw: dict[str, Any] = {"cluster": "capture" if n == 0 and not assume_clean else None}
        if misplaced is not None:
            kw["misplaced_fn"] = misplaced
        if isinstance(ch, SetPgNum):
            seq = pool_pgp_num_steps(cur, ch.pool, target_pg_num=ch.n, **kw)
        else:
            seq = pool_pgp_num_steps(cur, ch.pool, target_pgp_num=ch.n, **kw)
        name = ch.pool
        for rec in seq.iloc[1:].to_dict("records"):
            pg, pgp = int(rec["pg_num"]), int(rec["pgp_num"])
            if rec["upmaps_removed"]:
                rm = RemovePgUpmaps(tuple(rec["upmaps_removed"]))
                out.append((f"{ch.describe()}: the mgr removes the upmaps of {', '.join(rm.pgids)} "
                            "(merge participants)", rm))
                cur = rm.apply(cur)
            st = PoolState(name, pg, pgp)
            out.append((mgr_tick_label(ch.describe(), rec), st))
            cur = st.apply(cur)
    else:
        out.append((ch.describe(), ch))
        cur = ch.apply(cur)
    return out, cur
