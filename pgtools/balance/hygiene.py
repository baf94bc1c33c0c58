"""Upmap hygiene: redundant and conflicting entries, pinning remapped PGs (upmap-remapped) and releasing the pins.

* :func:`upmap_issues` / :func:`clean_upmaps` — what ``OSDMap::clean_pg_upmaps`` cancels or simplifies, then
  what it keeps although it does nothing: ``pg_upmap_items`` pairs that do not change the PG's up set under
  ``OSDMap::_apply_upmap`` (a pair whose target is already in the set, a duplicate, a swap such as
  ``[(1, 2), (2, 1)]`` that Ceph cannot apply, a pair made moot by a ``pg_upmap`` of the same PG), and whole
  entries that map a PG to where CRUSH already puts it.
* :func:`pin_remapped` — CERN's ``upmap-remapped.py``: for every PG whose up set differs from its acting set
  (remapped, backfilling), the ``pg_upmap_items`` that make up equal acting (as a set for replicated pools,
  where only the order, hence perhaps the primary, may still differ; position by position for EC), so the
  backfill stops.  Each entry is kept only where the mon accepts it and would not clean it.
* :func:`unpin` — the reverse of a pin plan (each pinned PG's entry back to what it was), to be applied in
  rounds (:func:`pgtools.balance.whatif.order_rounds`) so the data moves gradually.

How ``_apply_upmap`` treats a pair (``src/osd/OSDMap.cc``): ``(from, to)`` replaces the first position holding
``from`` unless ``to`` is already in the vector or ``to`` is out (``osd_weight[to] == 0``); pairs apply in order,
after ``pg_upmap`` (which replaces the CRUSH result when none of its OSDs is out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..model import Snapshot, split_pgid
from ..placement import map_pgs
from .clean import check_pg_upmaps, clean_pg_upmaps_work
from .plan import UpmapPlan, work_map
from .work import PG, Increment, WorkMap, pgid_text

__all__ = ["HygienePlan", "clean_upmaps", "desired_items", "hygiene_plan", "pg_upmap_valid", "pin_remapped", "plan_of",
           "unpin", "upmap_issues"]

_NONE = 0x7FFFFFFF
_ERASURE = 3


def plan_of(inc: Increment, num_changed: int, release: str, exact: bool = True) -> UpmapPlan:
    """The :class:`~pgtools.balance.UpmapPlan` of ``inc`` (commands in ``print_inc_upmaps`` order)."""
    return UpmapPlan({pgid_text(pg): v for pg, v in sorted(inc.new_pg_upmap_items.items())},
                     [pgid_text(pg) for pg in sorted(inc.old_pg_upmap_items)],
                     [pgid_text(pg) for pg in sorted(inc.old_pg_upmap)], num_changed, release, exact,
                     inc.commands())


def pg_upmap_valid(work: WorkMap, pg: PG) -> bool:
    """True when ``OSDMap::check_pg_upmaps`` leaves ``pg``'s upmap entries of ``work`` as they are."""
    _, cancel, remap = check_pg_upmaps(work, [pg])
    return not cancel and pg not in remap


def desired_items(raw: list[int], want: list[int], erasure: bool) -> tuple[tuple[int, int], ...]:
    """``pg_upmap_items`` pairs turning the CRUSH result ``raw`` into ``want`` (the caller checks the result).

    Erasure-coded pools pair position by position; replicated pools pair the OSDs of ``raw`` missing from
    ``want`` with those of ``want`` missing from ``raw``, in order (only the set of OSDs matters there).  An EC
    pair whose target is another pair's source comes after it (``_apply_upmap`` skips a target already present).
    """
    if erasure:
        pending = [(a, b) for a, b in zip(raw, want, strict=True) if a != b]
        # a pair whose target is still another pair's source would be skipped (the target is in the vector):
        # emit the pair moving that source away first; a cycle (a swap) is left in order and fails the check
        out: list[tuple[int, int]] = []
        while pending:
            sources = {a for a, _ in pending}
            ready = [p for p in pending if p[1] not in sources]
            if not ready:
                return tuple(out + pending)
            out.append(ready[0])
            pending.remove(ready[0])
        return tuple(out)
    gone = [o for o in raw if o not in want]
    new = [o for o in want if o not in raw]
    return tuple(zip(gone, new, strict=True))


def _same(a: list[int], b: list[int], erasure: bool) -> bool:
    return list(a) == list(b) if erasure else sorted(a) == sorted(b)


def _pgs_with_items(work: WorkMap) -> list[PG]:
    return sorted(work.pg_upmap_items)


def _ineffective(work: WorkMap, pg: PG) -> tuple[tuple[tuple[int, int], ...], list[tuple[tuple[int, int], str]]]:
    """The pairs of ``pg``'s entry that keep its up set (greedily, in order), with why each one does nothing."""
    items = work.pg_upmap_items[pg]
    _, full = work.pg_to_raw_upmap(pg)
    keep = list(items)
    dropped: list[tuple[tuple[int, int], str]] = []
    base = list(work.pg_upmap.get(pg, ())) or None
    try:
        for pair in items:
            trial = list(keep)
            trial.remove(pair)
            work.pg_upmap_items[pg] = tuple(trial)
            if trial == [] and pg not in work.pg_upmap:
                work.pg_upmap_items.pop(pg)
            _, got = work.pg_to_raw_upmap(pg)
            if got == full:
                keep = trial
                dropped.append((pair, _why(work, pg, pair, items, base)))
    finally:
        work.pg_upmap_items[pg] = items
    return tuple(keep), dropped


def _why(work: WorkMap, pg: PG, pair: tuple[int, int], items: tuple, base: list[int] | None) -> str:
    """Why ``_apply_upmap`` skips ``pair`` of ``pg``'s entry ``items``."""
    raw, _ = work.pg_to_raw_upmap(pg)
    if items.count(pair) > 1:
        return "duplicate pair"
    if base is not None and pair[0] not in base:
        return "moot: the PG's pg_upmap does not hold the source"
    if pair[1] != _NONE and 0 <= pair[1] < work.map.max_osd and work.weight16(pair[1]) == 0:
        return "the target is out"
    if pair[0] not in raw:
        return "the source is not in the CRUSH result"
    return "the target is already in the set (Ceph skips the pair)"


def _issues(snap: Snapshot, ceph_release: str | None) -> tuple[WorkMap, Increment, list[dict]]:
    work = work_map(snap, ceph_release)
    inc = Increment()
    rows: list[dict] = []
    if clean_pg_upmaps_work(work, inc):
        for pg in sorted(inc.old_pg_upmap):
            rows.append({"pgid": pgid_text(pg), "kind": "pg_upmap", "items": work.pg_upmap[pg], "action": "rm",
                         "new_items": (), "reason": "Ceph's clean_pg_upmaps cancels it"})
        for pg in sorted(inc.old_pg_upmap_items):
            rows.append({"pgid": pgid_text(pg), "kind": "pg_upmap_items", "items": work.pg_upmap_items[pg],
                         "action": "rm", "new_items": (), "reason": "Ceph's clean_pg_upmaps cancels it"})
        for pg, items in sorted(inc.new_pg_upmap_items.items()):
            rows.append({"pgid": pgid_text(pg), "kind": "pg_upmap_items", "items": work.pg_upmap_items[pg],
                         "action": "set", "new_items": items, "reason": "Ceph's clean_pg_upmaps simplifies it"})
        work.apply(inc)
    extra = Increment()
    for pg in _pgs_with_items(work):
        keep, dropped = _ineffective(work, pg)
        if not dropped:
            continue
        raw, _ = work.pg_to_raw_upmap(pg)
        if not keep:
            why = ("the PG's up set is what CRUSH gives without it" if pg not in work.pg_upmap else
                   "none of its pairs changes what the PG's pg_upmap gives")
            extra.old_pg_upmap_items.add(pg)
            rows.append({"pgid": pgid_text(pg), "kind": "pg_upmap_items", "items": work.pg_upmap_items[pg],
                         "action": "rm", "new_items": (), "reason": why})
        else:
            extra.new_pg_upmap_items[pg] = keep
            rows.append({"pgid": pgid_text(pg), "kind": "pg_upmap_items", "items": work.pg_upmap_items[pg],
                         "action": "set", "new_items": keep,
                         "reason": "; ".join(f"{a}->{b}: {w}" for (a, b), w in dropped)})
    for pg, items in extra.new_pg_upmap_items.items():
        inc.new_pg_upmap_items[pg] = items
    for pg in extra.old_pg_upmap_items:
        inc.new_pg_upmap_items.pop(pg, None)
        inc.old_pg_upmap_items.add(pg)
    return work, inc, rows


def upmap_issues(snap: Snapshot, *, ceph_release: str | None = None) -> pd.DataFrame:
    """Upmap entries that Ceph would clean or that do nothing, one row each.

    Returns
    -------
    DataFrame
        ``pgid, kind ('pg_upmap' / 'pg_upmap_items'), items (now), action ('rm' / 'set'), new_items, reason``
        in PG order within Ceph's cleanup first, then the entries that are only redundant.
    """
    _, _, rows = _issues(snap, ceph_release)
    return pd.DataFrame(rows, columns=["pgid", "kind", "items", "action", "new_items", "reason"])


def clean_upmaps(snap: Snapshot, *, ceph_release: str | None = None) -> UpmapPlan:
    """:func:`~pgtools.balance.clean_pg_upmaps` plus the removal of pairs and entries that change nothing.

    No up set changes: only Ceph's own cleanup (which drops entries Ceph no longer applies) and entries
    whose pairs ``_apply_upmap`` skips.  ``num_changed`` is the number of PGs whose entry changes.
    """
    work, inc, _ = _issues(snap, ceph_release)
    n = len(inc.old_pg_upmap) + len(inc.old_pg_upmap_items) + len(inc.new_pg_upmap_items)
    return plan_of(inc, n, work.release)


@dataclass
class HygienePlan(UpmapPlan):
    """An :class:`~pgtools.balance.UpmapPlan` with the PGs it leaves alone and why.

    Attributes
    ----------
    skipped : DataFrame
        ``pgid, reason`` (and, for :func:`pin_remapped`, ``up, acting``): PGs the plan could not fix.
    """

    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["pgid", "reason"]))


def _up_osds(snap: Snapshot) -> set[int]:
    osds = snap.osds
    up = osds["up"].astype(bool) if "up" in osds else pd.Series(True, index=osds.index)
    ex = osds["exists"].astype(bool) if "exists" in osds else pd.Series(True, index=osds.index)
    return set(osds.loc[up & ex, "osd_id"].astype(int))


def pin_remapped(snap: Snapshot, *, ceph_release: str | None = None) -> HygienePlan:
    """``upmap-remapped``: pin every remapped PG to its acting set with ``pg_upmap_items``, cancelling backfill.

    For each PG whose up set is not its acting set (both recomputed from the osdmap: the acting set is what
    the capture's ``pg_temp`` says, as ``ceph pg dump`` shows it), the entry is rewritten
    from the CRUSH result to the acting set (:func:`desired_items`); when removing its current entry is
    enough, the entry is removed instead.  A PG is skipped (``HygienePlan.skipped``) when an OSD of its sets
    is down, its acting set is short or has a hole, it has a ``pg_upmap``, the pairs cannot express the
    acting set (a swap within an EC PG) or Ceph would clean the entry (``check_pg_upmaps``: failure domain,
    device class, out OSD).

    Parameters
    ----------
    snap : Snapshot
        The placement inputs with the osdmap's ``pg_temp`` (a capture taken during the backfill).
    ceph_release : str, optional
        As in :func:`~pgtools.balance.calc_pg_upmaps`.
    """
    work = work_map(snap, ceph_release)
    up_ok = _up_osds(snap)
    inc = Increment()
    skipped: list[dict] = []
    mapped = map_pgs(snap, release=work.release)  # acting: the capture's pg_temp / primary_temp applied
    keyed = sorted((split_pgid(str(g)), tuple(int(o) for o in a)) for g, a in zip(mapped["pgid"], mapped["acting"],
                                                                                strict=True))
    for pg, acting in keyed:
        pool = work.pools.get(pg[0])
        if pool is None or pg[1] >= pool.pg_num:
            continue
        raw, cur = work.pg_to_raw_upmap(pg)
        erasure = pool.type == _ERASURE
        up = [o for o in cur if o in up_ok] if not erasure else [o if o in up_ok else _NONE for o in cur]
        want = list(acting)
        if _same(up, want, erasure):
            continue

        def skip(why: str, pg=pg, up=up, want=want) -> None:
            skipped.append({"pgid": pgid_text(pg), "up": tuple(up), "acting": tuple(want), "reason": why})

        if any(o == _NONE or o not in up_ok for o in [*cur, *want]):
            skip("an OSD of its up or acting set is down or missing (degraded: recovery, not backfill)")
            continue
        if len(want) != pool.size or len(set(want)) != len(want):
            skip(f"its acting set has {len(want)} OSDs, not the pool size {pool.size}")
            continue
        if pg in work.pg_upmap:
            skip("it has a pg_upmap entry")
            continue
        old = work.pg_upmap_items.get(pg)
        items = desired_items(raw, want, erasure)
        if items:
            work.pg_upmap_items[pg] = items
        else:
            work.pg_upmap_items.pop(pg, None)
        _, got = work.pg_to_raw_upmap(pg)
        ok = _same(got, want, erasure) and len(items) <= pool.size and (not items or pg_upmap_valid(work, pg))
        if not ok:
            if old is None:
                work.pg_upmap_items.pop(pg, None)
            else:
                work.pg_upmap_items[pg] = old
            skip("Ceph would not apply such upmap items (a swap of EC positions, a failure domain or device "
                 "class the rule forbids, an out OSD)" if _same(got, want, erasure) or not items else
                 "upmap items cannot express its acting set")
            continue
        if items:
            inc.new_pg_upmap_items[pg] = items
        else:
            inc.old_pg_upmap_items.add(pg)
    n = len(inc.new_pg_upmap_items) + len(inc.old_pg_upmap_items)
    return hygiene_plan(plan_of(inc, n, work.release), pd.DataFrame(skipped, columns=["pgid", "up", "acting", "reason"]))


def hygiene_plan(plan: UpmapPlan, skipped: pd.DataFrame) -> HygienePlan:
    """``plan`` as a :class:`HygienePlan` with ``skipped``."""
    return HygienePlan(plan.new_pg_upmap_items, plan.old_pg_upmap_items, plan.old_pg_upmap, plan.num_changed,
                       plan.release, plan.exact, plan.commands, plan.stdout, skipped=skipped)


def unpin(snap: Snapshot, pins: UpmapPlan) -> UpmapPlan:
    """The reverse of a :func:`pin_remapped` plan made on ``snap``: each pinned PG's entry back to what it was
    in ``snap`` (removed when it had none), so the PGs move on to where CRUSH and the old upmaps put them.

    Apply it gradually: :func:`pgtools.balance.whatif.order_rounds` splits it into rounds under
    ``target_max_misplaced_ratio``.
    """
    inc = Increment()
    before = snap.osdmap.pg_upmap_items
    for pgid in [*pins.new_pg_upmap_items, *pins.old_pg_upmap_items]:
        items = before.get(pgid)
        if items:
            inc.new_pg_upmap_items[split_pgid(pgid)] = tuple(tuple(int(x) for x in p) for p in items)
        else:
            inc.old_pg_upmap_items.add(split_pgid(pgid))
    return plan_of(inc, len(inc.new_pg_upmap_items) + len(inc.old_pg_upmap_items), pins.release)
