"""The what-if engine: apply changes to a :class:`~pgtools.model.Snapshot` and report what moves.

:func:`simulate` takes a snapshot and a list of changes (frozen dataclasses below, each with
``apply(snap) -> Snapshot``, ``describe()`` and ``ceph_commands()``) and returns a :class:`Plan`.

Steps
    Step 0 is the input as the cluster runs it now (placement recomputed with
    :func:`pgtools.placement.map_pgs`, pg_temp/primary_temp included).  Every later step drops
    pg_temp/primary_temp (after recovery acting = up).  Without ``stepwise`` there is **one step per
    change**, applied cumulatively in the given order.  With ``stepwise=True`` a ``SetPgNum`` /
    ``SetPgpNum`` is expanded into the states the mgr walks through
    (:func:`pgtools.mgr.pgnum.pool_pgp_num_steps`): pg_num jumps, pgp_num steps under
    ``target_max_misplaced_ratio``; each state is a step.

Data per PG
    Bytes and objects come from ``snap.pgs`` (missing = 0).  When a pool's pg_num changes, each new
    PG receives, from every old PG, the fraction of the 32-bit hash space both map to: hashes are
    enumerated modulo ``2**B`` (``B`` = bits of the larger pg_num) and sent through
    ``ceph_stable_mod`` with the old and new masks.  Children of a split therefore get their exact
    share (e.g. 1/2 each for a pg_num that is a power of two), and the shares of one parent sum to 1.

Movement
    Data "flows" from an old PG ``p`` (its up set in the previous step) to a new PG ``q`` (its up set
    now).  Replicated pools: every OSD in the new set and not in the old one receives a copy
    (``bytes × share``); every OSD leaving loses one.  Erasure-coded pools compare position by
    position and a shard holds ``1/k`` of the bytes.  ``pgs_moved`` counts new PGs whose up set differs
    from the set their data was on — as a set for replicated pools (a reordering only changes the
    primary and moves no data), position by position for EC.  ``shards_moved`` counts copies written.

Failures
    ``Fail(item, ...)`` takes every OSD under the items (buckets, ``osd.N``) down and out at once.  On the
    acting sets of the step before, each PG keeps the copies (shards, for EC) not on a failed OSD: it is
    **lost** when none is left (replicated) or fewer than k (EC) -- nothing can recover it, its bytes and
    objects are reported lost and leave the simulation --, **inactive** when fewer than ``min_size`` are
    left (I/O blocks until recovery), **degraded** when fewer than ``size``.  Each PG counts once, in its
    worst class; a PG lost at an earlier step is not counted again.  ``Plan.failures`` has the rows,
    ``Plan.failure_pools()`` the counts per pool; the steps table, JSON, text and CSV carry them.

Limits
    Shadow buckets created for a device class new to a bucket get the lowest free bucket id; Ceph's
    ``populate_classes`` also creates empty shadows for every class, so ids (and hence straw2 draws
    under ``take <root> class <new class>``) may differ for classes the map did not have.  Maps with
    choose_args (weight sets) cannot be edited structurally (UnsupportedFeatureError).

Fullness
    Projected ``kb_used`` = reported ``kb_used`` + (bytes now − bytes at step 0 on that OSD) / 1024.
    OSDs without ``kb`` (added by ``AddHost``/``AddOsd``) get ``kb = crush weight × 1 TiB``.  Ratios
    come from :func:`pgtools.mgr.options.full_ratios` (``snap.osdmap``'s ``nearfull_ratio``,
    ``backfillfull_ratio``, ``full_ratio``, else the config dump, else 0.85/0.90/0.95).  Pool MAX AVAIL follows ``PGMap::get_rule_avail``: over the OSDs the pool's PGs
    use, ``min((kb_avail − kb × (1 − full_ratio)) / share)`` where ``share`` is the OSD's fraction of
    the pool's shards, divided by ``size`` (replicated) or multiplied by ``k / (k + m)`` (EC).

Modules
    ``changes`` (the :class:`Change` base and the snapshot edits the changes share), ``pool_changes``,
    ``osd_changes`` (OSDs, CRUSH buckets, upmaps), ``failures`` (``Fail`` and the failure accounting),
    ``mgr_changes`` (reweight-by-utilization, the stepwise pg_num states), ``refusals`` (what the monitor
    refuses), ``state`` (a step's placement and data, movement), ``metrics`` and ``availability`` (per-step
    load and health), ``plan`` (:class:`Plan`, :func:`hash_shares`), ``engine`` (:func:`simulate`).

Imports: :mod:`pgtools.mgr`, :mod:`pgtools.io` and below (placement, model, crush, errors, units).
"""

from __future__ import annotations

from .changes import Change
from .engine import simulate
from .failures import Fail
from .mgr_changes import ReweightByUtilization
from .osd_changes import (
    AddHost,
    AddOsd,
    AddUpmapItems,
    CrushWeight,
    MarkDown,
    MarkIn,
    MarkOut,
    MoveBucket,
    PrimaryAffinity,
    RemoveBucket,
    RemoveOsd,
    RemovePgUpmapPrimary,
    RemovePgUpmaps,
    RemoveUpmapItems,
    Reweight,
    SetPgUpmapPrimary,
)
from .plan import Plan, hash_shares
from .pool_changes import CreatePool, DeletePool, SetPgNum, SetPgpNum, SetPoolRule, SetPoolSize

__all__ = [
    "Change", "SetPgNum", "SetPgpNum", "CrushWeight", "Reweight", "PrimaryAffinity", "MarkOut", "MarkIn",
    "MarkDown", "RemoveOsd", "AddHost", "AddOsd", "RemoveBucket", "MoveBucket", "SetPoolSize",
    "SetPoolRule", "CreatePool", "DeletePool", "AddUpmapItems", "RemoveUpmapItems", "RemovePgUpmaps",
    "SetPgUpmapPrimary", "RemovePgUpmapPrimary", "Fail",
    "ReweightByUtilization", "Plan",
    "simulate", "hash_shares",
]
