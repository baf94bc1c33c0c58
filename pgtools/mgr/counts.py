"""PGs per OSD, counted from a snapshot's up and acting sets as the mgr and the mon count them.

The long form of the PG → OSD mapping (:func:`placements`) and the counts built on it: PGs per OSD
(:func:`pg_counts`), the PGs an OSD holds in its up set, its acting set or both (what
``osd_max_pg_per_osd_hard_ratio`` limits), the number of ``in`` OSDs (``num_in_osds``) and the OSDs under a
CRUSH rule's ``take`` roots.  The health checks (:mod:`~pgtools.mgr.health`), MAX AVAIL
(:mod:`~pgtools.mgr.capacity`), reweight-by-PG (:mod:`~pgtools.mgr.reweight`), the what-if engine and the
analysis tables all count with these.
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import NONE, Snapshot

__all__ = ["BY_CHOICES", "check_by", "pgs_of", "require_pgs", "placements", "unmapped_pgs", "pg_counts", "num_in",
           "pgs_per_osd_up_or_acting", "pgs_per_osd_arrays", "rule_devices"]

#: What a PG credits an OSD for: membership of its up or acting set, or being its up or acting primary.
BY_CHOICES = ("up", "acting", "up_primary", "acting_primary")


def check_by(by: str) -> None:
    """Raise ValueError unless ``by`` is one of :data:`BY_CHOICES`."""
    if by not in BY_CHOICES:
        raise ValueError(f"by must be one of {', '.join(BY_CHOICES)}, not {by!r}")


def pgs_of(data: Snapshot | pd.DataFrame) -> pd.DataFrame:
    """The ``pgs`` table of a snapshot, or ``data`` itself when it already is one."""
    return data.pgs if isinstance(data, Snapshot) else data


def require_pgs(snap: Snapshot, what: str = "this") -> None:
    """Raise :class:`~pgtools.errors.PgtoolsError` when a snapshot holds no PGs, naming what was loaded.

    ``what`` is the computation that needs them (e.g. ``"the pool × OSD table"``).  A capture of only
    ``ceph status``, an ``osd tree`` or a pool list would otherwise give an empty result that looks like
    an answer.
    """
    if len(snap.pgs):
        return
    loaded = ", ".join(f"{src.rsplit('/', 1)[-1]} ({kind.replace('_', ' ')})"
                       for src, kind in snap.meta.get("sources", []) if kind != "collect_meta")
    raise PgtoolsError(f"no PG data{' in ' + loaded if loaded else ''}: cannot compute {what} without PGs; add "
                       "`ceph pg dump -f json` output (or `ceph pg dump`, `ceph pg ls`, `ceph report`)")


def placements(data: Snapshot | pd.DataFrame, by: str = "up") -> pd.DataFrame:
    """Long form of the PG → OSD mapping: one row per PG copy (or per PG for the primaries).

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or a ``pgs``-shaped frame (``pgid, pool_id, pool, up, up_primary, acting,
        acting_primary``).
    by : {"up", "acting", "up_primary", "acting_primary"}
        Which set to expand.  For the sets, holes (``NONE``) are dropped; for the primaries, PGs whose
        primary is -1 are dropped.

    Returns
    -------
    DataFrame
        ``pgid, pool_id, pool, position, osd_id, primary``: ``position`` is the index in the set
        (0 for primaries; EC shards keep their shard index), ``primary`` tells whether this copy is
        the PG's primary.
    """
    check_by(by)
    pgs = pgs_of(data)
    pool = pgs["pool"] if "pool" in pgs.columns else pd.Series([""] * len(pgs), index=pgs.index)
    if by.endswith("_primary"):
        osd = pgs[by].to_numpy(dtype=np.int64)
        keep = osd >= 0
        return pd.DataFrame({
            "pgid": pgs["pgid"].to_numpy()[keep],
            "pool_id": pgs["pool_id"].to_numpy(dtype=np.int64)[keep],
            "pool": pool.to_numpy()[keep],
            "position": np.zeros(int(keep.sum()), dtype=np.int64),
            "osd_id": osd[keep],
            "primary": np.ones(int(keep.sum()), dtype=bool),
        })
    sets = pgs[by]
    lens = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    total = int(lens.sum())
    flat = np.fromiter(chain.from_iterable(sets), dtype=np.int64, count=total)
    row = np.repeat(np.arange(len(pgs)), lens)
    starts = np.repeat(np.cumsum(lens) - lens, lens)
    position = np.arange(total, dtype=np.int64) - starts
    prim = pgs[f"{by}_primary"].to_numpy(dtype=np.int64)[row]
    keep = (flat != NONE) & (flat >= 0)
    return pd.DataFrame({
        "pgid": pgs["pgid"].to_numpy()[row][keep],
        "pool_id": pgs["pool_id"].to_numpy(dtype=np.int64)[row][keep],
        "pool": pool.to_numpy()[row][keep],
        "position": position[keep],
        "osd_id": flat[keep],
        "primary": (flat == prim)[keep],
    })


def unmapped_pgs(data: Snapshot | pd.DataFrame, by: str = "up") -> pd.DataFrame:
    """PGs that credit no OSD for ``by``: empty sets (state ``unknown``, creating) or primary -1."""
    check_by(by)
    pgs = pgs_of(data)
    if by.endswith("_primary"):
        mask = pgs[by].to_numpy() < 0
    else:
        mask = np.fromiter((not any(o != NONE and o >= 0 for o in s) for s in pgs[by]), dtype=bool,
                           count=len(pgs))
    return pgs[mask]


def pg_counts(data: Snapshot | pd.DataFrame, by: str = "up") -> pd.Series:
    """PGs per OSD (all pools), indexed by osd_id."""
    pl = placements(data, by)
    return pl.groupby("osd_id").size().rename("pgs")


def num_in(snap: Snapshot) -> int:
    """``num_in_osds``: OSDs that exist and are in (else with a positive reweight, else holding a PG).

    The divisor of the mgr's ``TOO_MANY_PGS`` / ``TOO_FEW_PGS`` average and of the legacy ``check_pg_num``.
    """
    osds = snap.osds
    if len(osds) and "in" in osds.columns and not osds["in"].isna().all():
        ex = osds["exists"].fillna(True).astype(bool) if "exists" in osds.columns else True
        return int((osds["in"].fillna(False).astype(bool) & ex).sum())
    if len(osds) and "reweight" in osds.columns and not osds["reweight"].isna().all():
        return int((pd.to_numeric(osds["reweight"], errors="coerce").fillna(0) > 0).sum())
    return int(placements(snap, "up").osd_id.nunique())


def pgs_per_osd_up_or_acting(snap: Snapshot) -> pd.Series:
    """PGs per OSD counting each PG once when the OSD is in its up set, its acting set, or both."""
    pgs = snap.pgs
    if len(pgs) and bool((pgs.up.to_numpy() == pgs.acting.to_numpy()).all()):
        # acting == up everywhere (a clean cluster, every simulated step): no union to build
        osd = placements(snap, "up").osd_id.to_numpy()
        ids, counts = np.unique(osd, return_counts=True)
        return pd.Series(counts, index=pd.Index(ids, name="osd_id"), dtype=np.int64)
    up, acting = placements(snap, "up"), placements(snap, "acting")
    row_of = pd.Index(snap.pgs.pgid)
    keys = np.concatenate([row_of.get_indexer(up.pgid).astype(np.int64) * (1 << 31) + up.osd_id.to_numpy(),
                           row_of.get_indexer(acting.pgid).astype(np.int64) * (1 << 31) + acting.osd_id.to_numpy()])
    osds = np.unique(keys) % (1 << 31)
    ids, counts = np.unique(osds, return_counts=True)
    return pd.Series(counts, index=pd.Index(ids, name="osd_id"), dtype=np.int64)


def pgs_per_osd_arrays(up: np.ndarray, acting: np.ndarray | None = None) -> pd.Series:
    """:func:`pgs_per_osd_up_or_acting` from ``(n_pgs, width)`` OSD arrays (-1 padding, NONE holes).

    ``acting=None`` means acting equals up for every PG (each up entry counts); otherwise each PG counts
    once on every OSD of its up set, its acting set or both.
    """
    if acting is None:
        osd = up[(up >= 0) & (up != NONE)]
    else:
        both = np.concatenate([up, acting], axis=1)
        both = np.sort(np.where((both >= 0) & (both != NONE), both, -1), axis=1)
        first = both >= 0
        first[:, 1:] &= both[:, 1:] != both[:, :-1]
        osd = both[first]
    if len(osd) and int(osd.max()) < (1 << 24):  # OSD ids are small: count without sorting
        counts = np.bincount(osd)
        ids = np.nonzero(counts)[0]
        counts = counts[ids]
    else:
        ids, counts = np.unique(osd, return_counts=True)
    return pd.Series(counts, index=pd.Index(ids.astype(np.int64), name="osd_id"), dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# the OSDs a CRUSH rule can use

def _rule_roots(crush: Any, rule_id: int) -> tuple[int, ...]:
    rule = (getattr(crush, "rules", None) or {}).get(int(rule_id))
    return rule.takes if rule is not None else ()


def _devices_under(crush: Any, item: int) -> list[int]:
    if item >= 0:
        return [item]
    fn = getattr(crush, "subtree_devices", None)
    if fn is None:
        return []
    return [int(d) for d in fn(item)]


def rule_devices(snap: Snapshot, crush_rule: Any) -> set[int]:
    """Devices under the ``take`` items of a CRUSH rule (empty without a CRUSH map or a rule)."""
    if snap.crush is None or crush_rule is None or pd.isna(crush_rule):
        return set()
    devices: set[int] = set()
    for root in _rule_roots(snap.crush, int(crush_rule)):
        devices.update(_devices_under(snap.crush, root))
    return devices
