"""Failures in a what-if: the ``Fail`` change and what it leaves behind (lost, inactive, degraded PGs).

See :mod:`pgtools.simulate` ("Failures") for the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..crush import edit as crush_edit
from ..errors import PgtoolsError
from ..model import Snapshot
from ..units import human_bytes
from .changes import Change, need_crush, set_osds
from .state import State, count_osds, up_matrix

__all__ = ["FAILURE_COLUMNS", "Fail", "drop_lost", "failure_rows", "failure_stats"]


def _osds_under(snap: Snapshot, item: int | str) -> list[int]:
    if isinstance(item, (int, np.integer)) and int(item) >= 0:
        return [int(item)]
    if isinstance(item, str) and item.startswith("osd.") and item[4:].isdigit():
        return [int(item[4:])]
    crush = need_crush(snap)
    bid = crush_edit.bucket_id(crush, item)
    return sorted(crush.subtree_devices(bid)) if bid < 0 else [bid]


def _typed_item(snap: Snapshot, item: Any) -> Any:
    """``"rack=r1"`` -> ``"r1"`` after checking that r1 is a CRUSH bucket of type rack (``osd=3`` -> 3)."""
    if not isinstance(item, str) or "=" not in item:
        return item
    kind, _, name = item.partition("=")
    if kind == "osd":
        return name if name.startswith("osd.") else f"osd.{name}"
    crush = need_crush(snap)
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
        return set_osds(snap, self.osds(snap), up=False, reweight=0.0, weight_fixed=0, **{"in": False})

    def _names(self) -> str:
        names = [f"osd.{int(i)}" if isinstance(i, (int, np.integer)) else str(i).partition("=")[2] or str(i)
                 for i in self.items]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]} together"

    def describe(self) -> str:
        return f"failure of {self._names()}"

    def ceph_commands(self) -> list[str]:
        return [f"# failure of {self._names()}: nothing to run; recovery starts after mon_osd_down_out_interval"]


#: Columns of :attr:`Plan.failures`.
FAILURE_COLUMNS = ["step", "pgid", "pool_id", "status", "copies_lost", "remaining", "size", "min_size", "k",
                   "inactive", "lost", "bytes", "bytes_lost", "objects_lost"]


def _classify(acting: np.ndarray, failed: Sequence[int], size: np.ndarray, min_size: np.ndarray,
              need: np.ndarray) -> tuple[np.ndarray, ...]:
    """Copies gone and left per PG when ``failed`` OSDs die, and the lost / inactive / degraded masks.

    ``acting`` is ``(n, width)`` with -1 for holes; ``need`` is the copies a PG needs to exist (1 for
    replicated pools, k for erasure-coded ones).  A PG is *lost* when fewer than ``need`` copies survive,
    *inactive* when (not lost and) fewer than ``min_size`` survive, *degraded* when (neither and) fewer
    than ``size`` survive.
    """
    valid = acting >= 0
    gone = (np.isin(acting, np.asarray(list(failed), dtype=np.int64)) & valid).sum(1)
    left = valid.sum(1) - gone
    lost = left < need
    inactive = ~lost & (left < min_size)
    degraded = ~lost & ~inactive & (left < size)
    return gone, left, lost, inactive, degraded


def failure_rows(prev: State, failed: list[int], step: int, lost_before: frozenset = frozenset()) -> pd.DataFrame:
    """One row per PG that a failure of ``failed`` leaves short of copies (see :func:`_classify`).

    Counted on the acting sets of the previous step: a PG whose acting set was already short (CRUSH found
    too few OSDs) is degraded, inactive or lost too, unless it had fewer copies than it needs (1, or k) before
    the failure: that PG was not lost by it.  A lost PG has nothing to recover (``bytes`` 0); its
    whole data is ``bytes_lost`` / ``objects_lost``.  PGs in ``lost_before`` (lost at an earlier step:
    their data is already counted) are left out.
    """
    m = prev.mapping
    acting = up_matrix(prev.parts, "acting")
    size = prev.column("size").astype(np.int64)
    ms = prev.column("min_size").astype(np.int64)
    k = prev.column("k").astype(np.int64)
    ec = prev.column("ec").astype(bool)
    need = np.where(ec, k, 1)
    gone, left, lost, inactive, degraded = _classify(acting, failed, size, ms, need)
    # a PG without enough copies before the failure (CRUSH placed too few) was not lost by it
    sel = (lost | inactive | degraded) & (count_osds(acting) >= need)
    if lost_before:
        sel &= ~m["pgid"].isin(lost_before).to_numpy()
    status = np.where(lost, "lost", np.where(inactive, "inactive", "degraded"))
    # copies to write back: size - left of each PG still readable, one k-th of the PG each for EC
    short = np.maximum(size - left, 0)
    return pd.DataFrame({
        "step": step, "pgid": m["pgid"].to_numpy()[sel], "pool_id": m["pool_id"].to_numpy()[sel],
        "status": status[sel], "copies_lost": gone[sel], "remaining": left[sel], "size": size[sel],
        "min_size": ms[sel], "k": np.where(ec, k, 1)[sel], "inactive": (lost | inactive)[sel], "lost": lost[sel],
        "bytes": np.where(lost, 0.0, prev.bytes * short / k)[sel].round().astype(np.int64),
        "bytes_lost": np.where(lost, prev.bytes, 0.0)[sel].round().astype(np.int64),
        "objects_lost": np.where(lost, prev.objects, 0.0)[sel].round().astype(np.int64)},
        columns=FAILURE_COLUMNS)


def failure_stats(fr: pd.DataFrame, earlier: tuple[int, int, int] = (0, 0, 0),
                  ) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Step statistics and health findings of one failure's rows.

    ``earlier`` is ``(PGs, bytes, objects)`` lost at earlier steps: still lost, so the health findings
    count them too (the statistics count this step's PGs only).
    """
    st = fr["status"]
    n_lost, n_inact, n_deg = int((st == "lost").sum()), int((st == "inactive").sum()), int((st == "degraded").sum())
    stats = {"pgs_lost": n_lost, "pgs_inactive": n_inact, "pgs_degraded": n_deg,
             "bytes_lost": int(fr["bytes_lost"].sum()), "objects_lost": int(fr["objects_lost"].sum()),
             "bytes_to_recover": int(fr["bytes"].sum())}
    out = []
    all_lost = n_lost + earlier[0]
    if all_lost:
        before = f", {earlier[0]} of them at earlier steps" if earlier[0] else ""
        out.append(("PG_LOST", "HEALTH_ERR",
                    f"{all_lost} PGs LOST (no surviving copy / fewer than k shards{before}): nothing can recover "
                    f"them; {human_bytes(stats['bytes_lost'] + earlier[1], largest='TiB')} in "
                    f"{stats['objects_lost'] + earlier[2]} objects lost"))
    if all_lost or n_inact:
        down = f", {all_lost} pgs down (lost)" if all_lost else ""
        out.append(("PG_AVAILABILITY", "HEALTH_WARN",
                    f"Reduced data availability: {all_lost + n_inact} pgs inactive{down}"))
    if n_inact or n_deg:
        among = f" ({n_inact} of them inactive)" if n_inact else ""
        out.append(("PG_DEGRADED", "HEALTH_WARN",
                    f"Degraded data redundancy: {n_inact + n_deg} pgs degraded until recovery{among}"))
    return stats, out


def drop_lost(state: State, fr: pd.DataFrame) -> State:
    """``state`` with the data of the lost PGs of ``fr`` gone (nothing moves it any more)."""
    lost = fr.loc[fr["lost"].astype(bool), "pgid"]
    if not len(lost):
        return state
    rows = state.mapping["pgid"].isin(set(lost)).to_numpy()
    return dataclasses.replace(state, bytes=np.where(rows, 0.0, state.bytes),
                               objects=np.where(rows, 0.0, state.objects))


