"""Drain OSDs with ``pg_upmap_items`` (pgremapper's ``drain``): move their PGs to valid targets, evenly, a few at a time.

Each PG with a drained OSD in its up set gets, for that OSD, the target that keeps the rule satisfied
(``CrushWrapper::verify_upmap``: failure domain, the rule's take and device class; the target in, with a
non-zero CRUSH weight, not in the set already) and is the emptiest by PGs per unit of weight (CRUSH weight
× reweight) at that moment, so the PGs spread over the targets in proportion to their weight.  The PG's
entry is rewritten from its CRUSH result (:func:`~pgtools.balance.hygiene.desired_items`): an item that had
moved the PG *onto* the drained OSD is replaced, or removed when the PG goes back where CRUSH puts it.
Every entry is checked as the mon checks it (``OSDMap::check_pg_upmaps``) before it is kept.

``max_moves_per_osd`` caps the PGs moving out of each drained OSD and into each target in one plan, like
pgremapper's ``--max-backfills-per-osd`` style throttling: run the drain again when those have finished.
The drained OSDs keep their CRUSH weight: a balancer left on may move PGs back (mark them out, or set their
CRUSH weight to 0, once empty).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import Snapshot
from ..placement.mapping import row_list
from .hygiene import HygienePlan, desired_items, hygiene_plan, pg_upmap_valid, plan_of
from .plan import work_map
from .work import PG, Increment, WorkMap, pgid_text

__all__ = ["drain", "drain_osds"]

_NONE = 0x7FFFFFFF
_ERASURE = 3


def drain_osds(snap: Snapshot, items: int | str | Iterable[int | str]) -> list[int]:
    """The OSD ids of ``items``: ids, ``"osd.N"`` or CRUSH bucket names (every OSD under the bucket).

    Raises
    ------
    PgtoolsError
        An OSD that is not in the osdmap, or a name that is neither an OSD nor a CRUSH bucket.
    """
    osds = snap.osds
    exists = set(osds.loc[osds["exists"].astype(bool), "osd_id"].astype(int)) if "exists" in osds else \
        set(osds["osd_id"].astype(int))
    crush = snap.crush
    out: list[int] = []
    if isinstance(items, (str, int)):  # one OSD or bucket, not an iterable of characters
        items = [items]
    for item in items:
        text = str(item)
        t = text[4:] if text.startswith("osd.") else text
        if t.isdigit():
            osd = int(t)
            if osd not in exists:
                raise PgtoolsError(f"osd.{osd} is not in the osdmap (OSDs: {min(exists, default=0)}..."
                                   f"{max(exists, default=-1)})")
            out.append(osd)
            continue
        hit = [b for b, bk in (crush.buckets.items() if crush is not None else []) if bk.name == text]
        if not hit:
            raise PgtoolsError(f"{text!r} is neither an OSD (osd.N) nor a CRUSH bucket")
        out += [o for o in crush.subtree_devices(hit[0]) if o in exists]
    return sorted(set(out))


def _fill_weights(snap: Snapshot) -> dict[int, float]:
    """CRUSH weight × reweight of every OSD (0 when out)."""
    osds = snap.osds
    cw = pd.to_numeric(osds.get("crush_weight", pd.Series(1.0, index=osds.index)), errors="coerce").fillna(0.0)
    rw = pd.to_numeric(osds.get("reweight", pd.Series(1.0, index=osds.index)), errors="coerce").fillna(0.0)
    return dict(zip(osds["osd_id"].astype(int), (cw * rw).astype(float), strict=True))


def _pg_counts(ups: dict[int, np.ndarray]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for up in ups.values():
        flat = up[up >= 0].ravel()
        flat = flat[flat != _NONE]
        for o, n in zip(*np.unique(flat, return_counts=True), strict=True):
            counts[int(o)] = counts.get(int(o), 0) + int(n)
    return counts


def drain(snap: Snapshot, osds: int | str | Iterable[int | str], *, max_moves_per_osd: int | None = None,
          pools: Iterable[int | str] | None = None, ceph_release: str | None = None) -> HygienePlan:
    """Move the PGs off ``osds`` with ``pg_upmap_items``, spread evenly over valid targets.

    Parameters
    ----------
    snap : Snapshot
    osds : int, str or iterable of them
        OSD ids, ``"osd.N"`` or CRUSH bucket names (a host: all its OSDs); see :func:`drain_osds`.
    max_moves_per_osd : int, optional
        At most this many PGs leave each drained OSD and enter each target in this plan (default: no cap).
    pools : iterable of int or str, optional
        Only these pools' PGs (default: all).
    ceph_release : str, optional
        As in :func:`~pgtools.balance.calc_pg_upmaps`.

    Returns
    -------
    HygienePlan
        ``skipped``: ``pgid, osd, reason`` for every PG left on a drained OSD (the cap, no valid target, a
        ``pg_upmap`` entry).
    """
    drained = drain_osds(snap, osds)
    if max_moves_per_osd is not None and max_moves_per_osd < 1:
        raise PgtoolsError(f"max_moves_per_osd must be at least 1, not {max_moves_per_osd}")
    work = work_map(snap, ceph_release)
    only = {snap.pool_id(p) for p in pools} if pools is not None else set(work.pools)
    weights = _fill_weights(snap)
    ups = {pid: work.up_sets(pool) for pid, pool in work.pools.items()}
    counts = _pg_counts(ups)
    cap = max_moves_per_osd if max_moves_per_osd is not None else 1 << 62
    moved_out = dict.fromkeys(drained, 0)
    moved_in: dict[int, int] = {}
    inc = Increment()
    skipped: list[dict] = []
    dset = set(drained)
    for pid in sorted(only):
        pool = work.pools[pid]
        rule = work.crush_rule(pool)
        wm = work.topology.rule_weight_osd_map(rule) or {}
        cands = [o for o in sorted(wm) if o not in dset and work.weightf(o) * wm[o] > 0 and weights.get(o, 0) > 0]
        up = ups[pid]
        erasure = pool.type == _ERASURE
        for ps in range(up.shape[0]):
            row = row_list(up, ps)
            if not dset.intersection(row):
                continue
            pg: PG = (pid, ps)
            for d in [o for o in row if o in dset]:
                reason = _move_one(work, pg, d, erasure, cands, weights, counts, moved_in, moved_out, cap)
                if reason is not None:
                    skipped.append({"pgid": pgid_text(pg), "osd": d, "reason": reason})
                else:
                    inc.new_pg_upmap_items.pop(pg, None)
                    inc.old_pg_upmap_items.discard(pg)
                    if pg in work.pg_upmap_items:
                        inc.new_pg_upmap_items[pg] = work.pg_upmap_items[pg]
                    else:
                        inc.old_pg_upmap_items.add(pg)
    # a PG whose entry did not exist before and does not now needs no command
    inc.old_pg_upmap_items = {pg for pg in inc.old_pg_upmap_items if pgid_text(pg) in snap.osdmap.pg_upmap_items}
    n = len(inc.new_pg_upmap_items) + len(inc.old_pg_upmap_items)
    return hygiene_plan(plan_of(inc, n, work.release), pd.DataFrame(skipped, columns=["pgid", "osd", "reason"]))


def _move_one(work: WorkMap, pg: PG, d: int, erasure: bool, cands: list[int], weights: dict[int, float],
              counts: dict[int, int], moved_in: dict[int, int], moved_out: dict[int, int], cap: int) -> str | None:
    """Move ``pg`` off ``d`` in ``work`` (its entry rewritten); None when done, else why not."""
    if pg in work.pg_upmap:
        return "it has a pg_upmap entry"
    if moved_out[d] >= cap:
        return f"osd.{d} already has {cap} PG(s) moving out in this plan (max_moves_per_osd)"
    raw, cur = work.pg_to_raw_upmap(pg)
    old = work.pg_upmap_items.get(pg)
    order = sorted((c for c in cands if c not in cur and moved_in.get(c, 0) < cap),
                   key=lambda c: ((counts.get(c, 0) + 1) / weights[c], c))
    for t in order:
        want = [t if o == d else o for o in cur]
        items = desired_items(raw, want, erasure)
        if len(items) > work.pools[pg[0]].size:
            continue
        if items:
            work.pg_upmap_items[pg] = items
        else:
            work.pg_upmap_items.pop(pg, None)
        _, got = work.pg_to_raw_upmap(pg)
        ok = (got == want if erasure else sorted(got) == sorted(want)) and (not items or pg_upmap_valid(work, pg))
        if ok:
            moved_out[d] += 1
            moved_in[t] = moved_in.get(t, 0) + 1
            counts[t] = counts.get(t, 0) + 1
            counts[d] = counts.get(d, 0) - 1
            return None
        if old is None:
            work.pg_upmap_items.pop(pg, None)
        else:
            work.pg_upmap_items[pg] = old
    if not order:
        return "no target left under the rule (all in the set, drained, out, or at max_moves_per_osd)"
    return "no target keeps the rule's failure domains and device class"
