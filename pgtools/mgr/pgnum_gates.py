"""One mgr tick of pg_num/pgp_num stepping: the gates and decisions of ``DaemonServer::adjust_pgs``, one each.

:func:`pgtools.mgr.pgnum.pgp_num_steps` walks the ticks; each tick starts a :class:`Tick` at the pool's current
values and passes it through, in the order of ``adjust_pgs`` (Pacific ``mgr/DaemonServer.cc``):

1. :func:`creating_gate`: too many PGs creating or unknown, and the mgr changes nothing;
2. :func:`pg_num_step`: a pool still creating waits; else :func:`merge_step` (one PG per tick, once
   :func:`merge_order` allows it, after :func:`upmap_cleanup` and :func:`merge_pg_clean` of its source and
   target) or :func:`split_step`;
3. :func:`pgp_num_step`: pgp_num waits for a split, for recovery or for the misplaced ratio; else it jumps or
   moves by the misplaced budget (:func:`pgp_budget`);
4. :func:`stuck_error`: a tick that neither changes nor waits means the targets can never be reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import PgtoolsError
from ..placement.pgmath import get_parent

if TYPE_CHECKING:
    from .pgnum import ClusterState

__all__ = ["Tick", "has_flags", "creating_gate", "pg_num_step", "merge_order", "upmap_cleanup", "merge_pg_clean",
           "merge_step", "split_step", "pgp_num_step", "pgp_budget", "stuck_error"]

#: ``MAX_NUM_OBJECTS_PER_PG_FOR_LEAP`` in ``adjust_pgs``: a pool with at most this many objects per
#: target PG is "nearly empty" and its pgp_num jumps straight to the target.
_OBJECTS_PER_PG_FOR_LEAP = 1


def has_flags(state: str, *flags: str) -> bool:
    """Whether a PG state string (``active+clean+...``) carries every one of ``flags``."""
    toks = set(str(state).split("+"))
    return all(f in toks for f in flags)


@dataclass
class Tick:
    """What the mgr decides in one tick: the values after it and why.

    ``pg_num``, ``pending``, ``pgp_num`` start at the pool's values at the start of the tick; ``actions``
    (``split``, ``merge``, ``pgp``, ``rm-upmap``), ``reasons`` (in the mgr's terms), ``deferred`` (the gate
    codes that held something back) and ``removed`` (ps of PGs whose upmaps the mgr removes) collect the
    decisions; ``estmax`` is the pgp_num step bound used, ``skip_pgp`` says pgp_num is not considered this
    tick and ``view_used`` that the first tick's PG map changed what the mgr did.
    """

    pg_num: int
    pending: int
    pgp_num: int
    actions: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    estmax: int = 0
    skip_pgp: bool = False
    view_used: bool = False


def creating_gate(t: Tick, view: ClusterState | None, max_create: int) -> int:
    """PGs creating or unknown against ``mon_osd_max_creating_pgs``: how many PGs a split may still create.

    At ``max_create`` or more the mgr changes nothing this tick (``creating_pgs``).
    """
    if view is None:
        return max_create
    busy = view.creating + view.unknown
    if busy >= max_create:
        t.deferred.append("creating_pgs")
        t.reasons.append(f"{busy} PGs creating or unknown >= mon_osd_max_creating_pgs {max_create}: "
                         "the mgr changes nothing")
        t.skip_pgp = True
    return max(max_create - busy, 0)


def merge_order(t: Tick, *, pg_num: int, pending: int, pgp_num: int) -> bool:
    """Whether a merge may be ordered now: the previous merge is done and pgp_num is below pg_num."""
    if pending != pg_num:
        t.reasons.append("merge waits for the previous merge")
        return False
    if pgp_num == pg_num:
        t.reasons.append(f"merge blocked until pgp_num drops below pg_num {pg_num}")
        return False
    return True


def upmap_cleanup(t: Tick, part: int, role: str, upmapped: set[int], name: Callable[[int], str]) -> bool:
    """Whether the merge ``role`` (source or target) PG ``part`` is free of upmaps; else the mgr removes them."""
    if part not in upmapped:
        return True
    t.removed.append(part)
    t.deferred.append("merge_upmap")
    t.reasons.append(f"merge {role} {name(part)} has upmap: the mgr removes it "
                     f"(osd rm-pg-upmap, osd rm-pg-upmap-items {name(part)})")
    return False


def merge_pg_clean(t: Tick, part: int, role: str, view: ClusterState, name: Callable[[int], str]) -> bool:
    """Whether the merge ``role`` PG ``part`` is active+clean in the PG map the mgr sees."""
    st = view.pg_states.get(part)
    if st is None:
        t.deferred.append("merge_no_state")
        t.reasons.append(f"no state for merge {role} {name(part)}")
        return False
    if not has_flags(st, "active", "clean"):
        t.deferred.append("merge_not_clean")
        t.reasons.append(f"merge {role} {name(part)} not clean ({st})")
        return False
    return True


def merge_step(t: Tick, *, pg_num: int, pending: int, pgp_num: int, view: ClusterState | None,
               upmapped: set[int], name: Callable[[int], str]) -> None:
    """Merge PG ``pg_num - 1`` into its parent when ready (equal acting sets too); pgp_num then waits a tick."""
    ok = merge_order(t, pg_num=pg_num, pending=pending, pgp_num=pgp_num)
    src = pg_num - 1
    src_acting: tuple | None = None
    for part, role in ((src, "source"), (get_parent(src), "target")):
        ok = upmap_cleanup(t, part, role, upmapped, name) and ok
        if view is None or view.pg_states is None:
            continue
        ok = merge_pg_clean(t, part, role, view, name) and ok
        acting = (view.pg_acting or {}).get(part)
        if role == "source":
            src_acting = acting
        elif ok and acting != src_acting:
            ok = False
            t.deferred.append("merge_acting")
            t.reasons.append(f"merge target {name(part)} acting {list(acting or ())} does not match "
                             f"source {list(src_acting or ())}")
    if ok:
        t.pg_num = t.pending = pg_num - 1
        t.actions.append("merge")
        t.reasons.append(f"merge PG {src:x} into {get_parent(src):x}")
        t.skip_pgp = True


def split_step(t: Tick, *, pg_num: int, pgp_num: int, pg_target: int, view: ClusterState | None, left: int,
               max_create: int, max_jump: int) -> None:
    """Raise pg_num by as much as creating PGs and ``mgr_max_pg_num_change`` ahead of pgp_num allow."""
    if view is not None and view.pool_not_active:
        t.deferred.append("pool_not_active")
        t.reasons.append(f"split waits: {view.pool_not_active} PGs of the pool are not active or peered")
        return
    if pg_num - pgp_num >= max_jump:
        t.reasons.append(f"split waits: pg_num {pg_num} - pgp_num {pgp_num} >= mgr_max_pg_num_change "
                         f"{max_jump}, must scale pgp_num first")
        return
    add = min(left, max_jump - (pg_num - pgp_num), pg_target - pg_num)
    t.pg_num = t.pending = pg_num + add
    t.actions.append("split")
    why = ""
    if add < pg_target - pg_num:
        busy = max_create - left
        if add == max_jump - (pg_num - pgp_num) and add < left:
            why = f" (at most mgr_max_pg_num_change {max_jump} ahead of pgp_num {pgp_num})"
        else:
            why = f" (max {max_create} creating PGs" + (f", {busy} creating or unknown)" if busy else ")")
            t.view_used = t.view_used or busy > 0
    t.reasons.append(f"split {pg_num} -> {t.pg_num}{why}")


def pg_num_step(t: Tick, *, pg_num: int, pending: int, pgp_num: int, pg_target: int, view: ClusterState | None,
                upmapped: set[int], left: int, max_create: int, max_jump: int, name: Callable[[int], str]) -> None:
    """The pg_num half of the tick: nothing after :func:`creating_gate` held it, a creating pool waits, else
    :func:`merge_step` or :func:`split_step` towards ``pg_target``."""
    if t.deferred:
        return
    if pg_target != pg_num and view is not None and view.pool_creating:
        t.deferred.append("pool_creating")
        t.reasons.append("pool still creating its initial PGs: pg_num waits")
    elif pg_target < pg_num:
        merge_step(t, pg_num=pg_num, pending=pending, pgp_num=pgp_num, view=view, upmapped=upmapped, name=name)
    elif pg_target > pg_num:
        split_step(t, pg_num=pg_num, pgp_num=pgp_num, pg_target=pg_target, view=view, left=left,
                   max_create=max_create, max_jump=max_jump)


def pgp_budget(*, pg_num: int, pgp_num: int, target: int, pg_target: int, pgp_target: int, misplaced: float,
               max_misplaced: float) -> tuple[int, int, float]:
    """The next pgp_num within the misplaced budget: ``(next, estmax, room)``.

    ``room = min(max_misplaced - misplaced, max_misplaced / 2)``, ``estmax = max(int(pg_num * room), 1)``;
    while merging with pgp_num tracking pg_num, pgp_num stays within ``max(8, int(pg_num * max_misplaced))``
    of pg_num.
    """
    room = min(max_misplaced - misplaced, max_misplaced / 2.0)
    estmax = max(int(pg_num * room), 1)
    lo = max(pgp_num - estmax, 1)
    nxt = min(max(target, lo), pgp_num + estmax)
    if pgp_target == pg_target and pgp_target < pg_num:
        outpace = max(8, int(pg_num * max_misplaced))
        if nxt + outpace < pg_num:
            nxt = pg_num - outpace
    return nxt, estmax, room


def pgp_num_step(t: Tick, *, pg_num: int, pending: int, pgp_num: int, pg_target: int, pgp_target: int,
                 view: ClusterState | None, misplaced: float, max_misplaced: float, aggressive: bool,
                 n_objects: int | None) -> None:
    """The pgp_num half of the tick, decided on the state at its start, towards ``min(pending, pgp_target)``."""
    target = min(pending, pgp_target)
    if t.skip_pgp or target == pgp_num:
        return
    if target > pgp_num and pgp_num == pg_num:
        t.reasons.append("pgp_num increase waits for the split")
        return
    if not aggressive and view is not None and view.defers_pgp:
        t.view_used = True
        t.deferred.append("recovery")
        t.reasons.append(f"{view.summary()}: pgp_num deferred")
        return
    if not aggressive and misplaced > max_misplaced:
        t.view_used = True
        t.deferred.append("misplaced")
        t.reasons.append(f"misplaced {misplaced:.4f} > {max_misplaced}: pgp_num deferred")
        return
    t.view_used = True
    if aggressive or (target > pgp_num and n_objects is not None
                      and n_objects <= _OBJECTS_PER_PG_FOR_LEAP * pgp_target):
        t.pgp_num = target
        t.actions.append("pgp")
        t.reasons.append(f"pgp_num jumps to {target}" + ("" if aggressive else f" (nearly empty: {n_objects} objects)"))
        return
    nxt, estmax, room = pgp_budget(pg_num=pg_num, pgp_num=pgp_num, target=target, pg_target=pg_target,
                                   pgp_target=pgp_target, misplaced=misplaced, max_misplaced=max_misplaced)
    t.pgp_num = nxt
    t.estmax = estmax
    if nxt != pgp_num:
        t.actions.append("pgp")
        t.reasons.append(f"pgp_num {pgp_num} -> {nxt} (estmax {estmax}, room {room:.4f})")
    else:  # the mgr skips a redundant pgp_num_actual update (Pacific 16.2.6+)
        t.reasons.append(f"pgp_num stays {pgp_num}: at most {pg_num - nxt} below pg_num {pg_num} while merging")


def stuck_error(t: Tick, *, pg_num: int, pgp_num: int, pg_target: int, pgp_target: int,
                max_jump: int) -> PgtoolsError:
    """The error for a tick that neither changed anything nor waited: the targets can never be reached."""
    if pg_target > pg_num:
        why = (f"pgp_num_target {pgp_target} keeps pgp_num more than mgr_max_pg_num_change {max_jump} "
               "below the split's target, so the split cannot proceed (set pgp_num higher)")
    else:
        why = (f"pgp_num_target {pgp_target} keeps pgp_num from dropping below pg_num, so the merge "
               "towards pg_num_target cannot proceed (set pgp_num lower)")
    return PgtoolsError(f"pg_num/pgp_num cannot reach their targets: stuck at pg_num {pg_num}, pgp_num "
                        f"{pgp_num} ({'; '.join(t.reasons) or 'nothing to do'}); {why}")
