"""What-if transforms of a Snapshot for placement, as osdmaptool's options make them (pure: new snapshots).

``--pg_num`` (:func:`with_pg_num`), ``--mark-out`` (:func:`mark_out`), ``--mark-up-in`` (:func:`mark_up`,
:func:`mark_in`) and ``--adjust-crush-weight`` (:func:`adjust_crush_weight`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..crush.constants import WEIGHT_ONE as ONE
from ..crush.map import float_to_16_16_f32
from ..errors import UnsupportedFeatureError
from ..model import Snapshot

__all__ = ["with_pg_num", "mark_out", "mark_up", "mark_in", "adjust_crush_weight"]


def with_pg_num(snap: Snapshot, pg_num: int, pool_ids: Iterable[int] | None = None) -> Snapshot:
    """Set ``pg_num`` of some (default: all) pools, keeping ``pgp_num`` (osdmaptool ``--pg_num``)."""
    if pg_num <= 0:
        raise ValueError("pg_num must be positive")
    pools = snap.pools.copy()
    mask = np.ones(len(pools), dtype=bool) if pool_ids is None else pools["pool_id"].isin(list(pool_ids))
    pools.loc[mask, "pg_num"] = int(pg_num)
    return snap.replace(pools=pools)


def _osd_edit(snap: Snapshot, osd_ids: Iterable[int], **values: Any) -> Snapshot:
    osds = snap.osds.copy()
    ids = [int(i) for i in osd_ids]
    max_osd = snap.osdmap.max_osd
    if max_osd is None:
        max_osd = int(osds["osd_id"].max() + 1) if len(osds) else 0
    ids = [i for i in ids if 0 <= i < max_osd]
    mask = osds["osd_id"].isin(ids)
    for k, v in values.items():
        if k in osds or k in ("up", "in", "reweight", "weight_fixed"):
            osds.loc[mask, k] = v
    return snap.replace(osds=osds)


def mark_out(snap: Snapshot, osd_ids: Iterable[int], *, mark_up: bool = False) -> Snapshot:
    """Mark OSDs out (reweight 0).  ``mark_up=True`` also marks them up, as osdmaptool ``--mark-out`` does."""
    vals: dict[str, Any] = {"in": False, "reweight": 0.0, "weight_fixed": 0}
    if mark_up:
        vals["up"] = True
    return _osd_edit(snap, osd_ids, **vals)


def mark_in(snap: Snapshot, osd_ids: Iterable[int]) -> Snapshot:
    """Mark OSDs in (reweight 1)."""
    return _osd_edit(snap, osd_ids, **{"in": True, "reweight": 1.0, "weight_fixed": ONE})


def mark_up(snap: Snapshot, osd_ids: Iterable[int], up: bool = True) -> Snapshot:
    """Mark OSDs up (or down with ``up=False``)."""
    return _osd_edit(snap, osd_ids, up=bool(up))


def adjust_crush_weight(snap: Snapshot, weights: dict[int, float]) -> Snapshot:
    """Change CRUSH weights of OSDs (osdmaptool ``--adjust-crush-weight id:w,...``), parents adjusted.

    Parameters
    ----------
    snap : Snapshot
    weights : dict
        ``{osd_id: weight}`` in CRUSH units (1.0 = 0x10000), converted like Ceph's
        ``adjust_item_weightf`` (float32 multiply, truncation).  Applied in the given order.

    Returns
    -------
    Snapshot
        A new snapshot with a new CRUSH map; choose_args weight sets follow as in Ceph
        (:meth:`pgtools.crush.CrushMap.with_item_weight`).
    """
    crush = snap.crush
    if crush is None:
        raise UnsupportedFeatureError("adjust_crush_weight needs a CRUSH map")
    if getattr(crush, "with_item_weight", None) is None:
        raise UnsupportedFeatureError("this CRUSH engine cannot change item weights")
    for osd, w in weights.items():
        crush = crush.with_item_weight(int(osd), float_to_16_16_f32(float(w)))
    return snap.replace(crush=crush)
