"""Upmap hygiene as the mon does it: ``OSDMap::check_pg_upmaps`` and ``OSDMap::clean_pg_upmaps`` (``src/osd/OSDMap.cc``).

Every ``pg_upmap`` and ``pg_upmap_items`` entry is checked, ``pg_upmap`` PGs first (PG order), then the
``pg_upmap_items`` PGs.  An entry is **cancelled** when its PG is gone or past ``pg_num_pending`` (a merge
source), is pending a merge, fails ``CrushWrapper::verify_upmap`` (two OSDs in one failure domain, more
buckets than the rule chooses, an OSD outside the rule's take), or maps the PG to an OSD that is not under
the rule's takes or whose CRUSH share × reweight is 0 (out, or CRUSH weight 0).  A ``pg_upmap`` equal to the
CRUSH result or of the wrong size is cancelled; ``pg_upmap_items`` pairs whose source is no longer in the
CRUSH result or whose target is out are dropped (all dropped: cancelled; some: **remapped** to the rest).
A rule without a weight map (missing rule) skips the PG.  ``osdmaptool --upmap-cleanup`` (and ``--upmap``,
first) prints the result with ``print_inc_upmaps`` and applies it.

The same in Pacific 16.2.15 (checked against its ``osdmaptool``) and Reef 18.2.7; Tentacle 20.2.4 also
checks ``pg_upmap_primaries`` (Reef's read balancer), which is not implemented here: a Tentacle map that has
any raises :class:`~pgtools.errors.UnsupportedFeatureError`.
"""

from __future__ import annotations

from ..errors import UnsupportedFeatureError
from ..placement.pgmath import get_parent
from .work import PG, Increment, WorkMap

__all__ = ["check_pg_upmaps", "clean_pg_upmaps_work"]

_NONE = 0x7FFFFFFF


def _is_pending_merge(work: WorkMap, pg: PG) -> bool:
    """``pg_pool_t::is_pending_merge``: a merge source (ps in [pg_num_pending, pg_num)) or target."""
    pool = work.pools[pg[0]]
    pending = work.pg_num_pending[pg[0]]
    if pending >= pool.pg_num:
        return False
    if pending <= pg[1] < pool.pg_num:
        return True
    return any(get_parent(ps) == pg[1] for ps in range(pending, pool.pg_num))


def check_pg_upmaps(work: WorkMap, to_check: list[PG]) -> tuple[bool, list[PG], dict[PG, tuple[tuple[int, int], ...]]]:
    """``OSDMap::check_pg_upmaps``: ``(any_change, to_cancel, to_remap)`` (``to_cancel`` may repeat a PG)."""
    to_cancel: list[PG] = []
    to_remap: dict[PG, tuple[tuple[int, int], ...]] = {}
    any_change = False
    weight_maps: dict[int, dict] = {}
    for pg in to_check:
        pool = work.pools.get(pg[0])
        if pool is None or pg[1] >= work.pg_num_pending[pg[0]]:
            to_cancel.append(pg)
            continue
        if _is_pending_merge(work, pg):
            to_cancel.append(pg)
            continue
        raw, up = work.pg_to_raw_upmap(pg)
        rule = work.crush_rule(pool)
        if work.topology.verify_upmap(rule, pool.size, up) < 0:
            to_cancel.append(pg)
            continue
        wm = weight_maps.get(rule)
        if wm is None:
            got = work.topology.rule_weight_osd_map(rule)
            if got is None:
                continue
            wm = weight_maps[rule] = got
        for osd in up:
            share = wm.get(osd)
            if share is None or work.weightf(osd) * share == 0:
                to_cancel.append(pg)
                break
        if to_cancel and to_cancel[-1] == pg:
            continue
        full = work.pg_upmap.get(pg)
        if full is not None:
            if list(full) == raw or len(full) != pool.size:
                to_cancel.append(pg)
                continue
        items = work.pg_upmap_items.get(pg)
        if items is not None:
            keep = []
            for frm, to in items:
                if frm not in raw:
                    continue
                if to != _NONE and 0 <= to < work.map.max_osd and work.weight16(to) == 0:
                    continue
                keep.append((frm, to))
            if not keep:
                to_cancel.append(pg)
            elif tuple(keep) != tuple(items):
                to_remap[pg] = tuple(keep)
                any_change = True
    return any_change or bool(to_cancel), to_cancel, to_remap


def clean_pg_upmaps_work(work: WorkMap, inc: Increment) -> bool:
    """``OSDMap::clean_pg_upmaps(cct, pending_inc)``: check every upmapped PG, record the fixes in ``inc``.

    Returns
    -------
    bool
        Whether anything is to change (osdmaptool then prints ``inc`` and applies it).
    """
    if work.release == "tentacle" and work.has_upmap_primaries:
        raise UnsupportedFeatureError("Tentacle's clean_pg_upmaps also checks pg_upmap_primaries, which pgtools does "
                                      "not model: remove them from the capture or choose ceph_release='reef'")
    to_check = sorted(work.pg_upmap) + sorted(work.pg_upmap_items)
    any_change, to_cancel, to_remap = check_pg_upmaps(work, to_check)
    for pg in to_cancel:
        inc.new_pg_upmap.pop(pg, None)
        if pg in work.pg_upmap:
            inc.old_pg_upmap.add(pg)
        inc.new_pg_upmap_items.pop(pg, None)
        if pg in work.pg_upmap_items:
            inc.old_pg_upmap_items.add(pg)
    for pg, items in to_remap.items():
        inc.new_pg_upmap_items[pg] = items
    return any_change
