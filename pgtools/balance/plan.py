"""The balancer's public entry points: Ceph's upmap balancer and upmap cleanup on a Snapshot, and ``osdmaptool --upmap``.

* :func:`calc_pg_upmaps` — one call of ``OSDMap::calc_pg_upmaps`` (the pools given are balanced together,
  as Ceph does when it is given several).
* :func:`clean_pg_upmaps` — ``OSDMap::clean_pg_upmaps``: the upmap entries Ceph would cancel or simplify.
* :func:`osdmaptool_upmap` — what ``osdmaptool MAP [--mark-up-in] [--mark-out N] --upmap OUT`` (or
  ``--upmap-cleanup OUT``) prints and writes: the cleanup first, then one ``calc_pg_upmaps`` call per pool
  (in the order osdmaptool's ``pools`` line shows; osdmaptool shuffles it with ``std::random_device``) sharing
  ``--upmap-max``.  The mgr balancer does the same per pool, without the cleanup and with the
  active+clean PG count as a further cap.

Each returns an :class:`UpmapPlan`.  Results are exact (byte for byte with ``osdmaptool``) with
``aggressive=False`` (``--osd_calc_pg_upmaps_aggressively=false``); ``aggressive=True`` emulates the default
mode's logic with a seeded NumPy shuffle and is never Ceph's own answer (``UpmapPlan.exact`` is False).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning, UnsupportedFeatureError
from ..mgr.releases import MODELLED, choose, warn_if_assumed
from ..model import Snapshot
from ..placement import compile_snapshot
from ..placement import mark_out as mark_out_
from ..placement.osdmaptool import mark_up_in as mark_up_in_
from .clean import clean_pg_upmaps_work
from .upmap import calc_pg_upmaps_work
from .work import Increment, WorkMap, pgid_text, pool_ids

__all__ = ["UpmapPlan", "calc_pg_upmaps", "clean_pg_upmaps", "osdmaptool_upmap", "work_map"]


@dataclass
class UpmapPlan:
    """Upmap changes as an ``OSDMap::Incremental`` holds them, and how to apply them.

    Attributes
    ----------
    new_pg_upmap_items : dict
        ``{pgid: ((from, to), ...)}``: the PG's complete new ``pg_upmap_items`` (PG order).
    old_pg_upmap_items : list of str
        PGs whose ``pg_upmap_items`` are removed.
    old_pg_upmap : list of str
        PGs whose ``pg_upmap`` is removed (only the cleanup removes those).
    num_changed : int
        What Ceph counts (``prepared N/MAX changes``).
    release : str
        The Ceph release emulated.
    exact : bool
        False for the aggressive mode (a seeded emulation of Ceph's random shuffles).
    commands : list of str
        ``ceph osd ...`` lines exactly as ``osdmaptool`` writes them (cleanup lines first).
    stdout : str
        For :func:`osdmaptool_upmap`: what osdmaptool prints on stdout.
    new_pg_upmap_primary : dict
        ``{pgid: osd}``: new ``pg_upmap_primaries`` entries (the read balancer, :mod:`.primary`).
    """

    new_pg_upmap_items: dict[str, tuple[tuple[int, int], ...]]
    old_pg_upmap_items: list[str]
    old_pg_upmap: list[str]
    num_changed: int
    release: str
    exact: bool
    commands: list[str] = field(default_factory=list)
    stdout: str = ""
    new_pg_upmap_primary: dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The command file osdmaptool writes (one command a line)."""
        return "".join(c + "\n" for c in self.commands)

    def apply(self, snap: Snapshot) -> Snapshot:
        """``snap`` with this plan applied as ``OSDMap::apply_incremental`` does (``osdmaptool --save``): new
        ``pg_upmap_items`` set, then the removed ones erased, then removed ``pg_upmap`` entries erased, then
        the new ``pg_upmap_primaries`` set."""
        om = snap.osdmap
        items = dict(om.pg_upmap_items)
        items.update({pg: tuple(tuple(p) for p in v) for pg, v in self.new_pg_upmap_items.items()})
        for pg in self.old_pg_upmap_items:
            items.pop(pg, None)
        full = {pg: v for pg, v in om.pg_upmap.items() if pg not in set(self.old_pg_upmap)}
        om = om.replace(pg_upmap_items=items, pg_upmap=full)
        if self.new_pg_upmap_primary:
            om = om.replace(pg_upmap_primaries={**om.pg_upmap_primaries, **self.new_pg_upmap_primary})
        return snap.replace(osdmap=om)

    def to_frame(self) -> pd.DataFrame:
        """One row per changed PG: ``pgid, action ('set' / 'rm'), items``."""
        rows = [{"pgid": pg, "action": "rm", "items": ()} for pg in self.old_pg_upmap_items]
        rows += [{"pgid": pg, "action": "set", "items": items} for pg, items in self.new_pg_upmap_items.items()]
        return pd.DataFrame(rows, columns=["pgid", "action", "items"])


def _plan(inc: Increment, num: int, release: str, exact: bool, commands: list[str], stdout: str = "") -> UpmapPlan:
    return UpmapPlan({pgid_text(pg): v for pg, v in sorted(inc.new_pg_upmap_items.items())},
                     [pgid_text(pg) for pg in sorted(inc.old_pg_upmap_items)],
                     [pgid_text(pg) for pg in sorted(inc.old_pg_upmap)], num, release, exact, commands, stdout)


def work_map(snap: Snapshot, ceph_release: str | None = None) -> WorkMap:
    """The balancer's working copy of ``snap``'s OSDMap (see :class:`~pgtools.balance.work.WorkMap`)."""
    choice = choose(snap, ceph_release)
    if choice.name not in MODELLED:
        raise UnsupportedFeatureError(f"the upmap balancer is modelled for {', '.join(MODELLED)}, not {choice.name}")
    # the releases differ only on rare maps (rule lookup, multi-pool weight totals): see pgtools.balance.upmap
    warn_if_assumed(choice, "upmap balancer", differs=True)
    release = choice.name
    compiled = compile_snapshot(snap, release=release)  # Reef+ applies pg_upmap_primaries in pg_to_raw_upmap
    pending: dict[int, int] = {}
    pools = snap.pools
    if pools is not None and "pg_num_pending" in pools.columns:
        for pid, v in zip(pools["pool_id"], pools["pg_num_pending"], strict=True):
            if pd.notna(v):
                pending[int(pid)] = int(v)
    work = WorkMap(compiled, release, pending)
    work.has_upmap_primaries = bool(snap.osdmap.pg_upmap_primaries)
    return work


def _rng(aggressive: bool, seed: int | None) -> np.random.Generator | None:
    return np.random.default_rng(seed) if aggressive else None


def calc_pg_upmaps(snap: Snapshot, *, max_deviation: int = 5, max_optimizations: int = 10,
                   pools: Iterable[int | str] | None = None, aggressive: bool = False, seed: int | None = None,
                   ceph_release: str | None = None) -> UpmapPlan:
    """``OSDMap::calc_pg_upmaps(max_deviation, max_optimizations, pools)``: one balancer call on ``snap``.

    Parameters
    ----------
    snap : Snapshot
        Needs what placement needs (osd dump and CRUSH map).
    max_deviation : int
        ``upmap_max_deviation`` (PGs; below 1 it is 1).
    max_optimizations : int
        ``upmap_max_optimizations``: the number of rounds.
    pools : iterable of int or str, optional
        Pool ids or names balanced together (default: all pools, as one call).
    aggressive : bool
        ``osd_calc_pg_upmaps_aggressively`` (Ceph's default is true, but random); False is exact.
    seed : int, optional
        Seed of the NumPy generator replacing Ceph's shuffles when ``aggressive``.
    ceph_release : str, optional
        ``"pacific"``, ``"reef"``, ``"tentacle"`` (default: the capture's, see :func:`pgtools.mgr.releases.choose`).

    Returns
    -------
    UpmapPlan
    """
    work = work_map(snap, ceph_release)
    inc = Increment()
    num = calc_pg_upmaps_work(work, max_deviation, max_optimizations, set(pool_ids(work, pools)), inc,
                              aggressive=aggressive, rng=_rng(aggressive, seed))
    return _plan(inc, num, work.release, not aggressive, inc.commands())


def clean_pg_upmaps(snap: Snapshot, *, ceph_release: str | None = None) -> UpmapPlan:
    """``OSDMap::clean_pg_upmaps``: the ``pg_upmap[_items]`` entries Ceph would cancel or simplify.

    Returns
    -------
    UpmapPlan
        ``old_pg_upmap[_items]``: cancelled entries; ``new_pg_upmap_items``: simplified ones; ``num_changed``
        is 1 when anything changes, else 0 (Ceph returns a bool).
    """
    work = work_map(snap, ceph_release)
    inc = Increment()
    changed = clean_pg_upmaps_work(work, inc)
    return _plan(inc, int(changed), work.release, True, inc.commands() if changed else [])


def _existing(snap: Snapshot, max_osd: int) -> Snapshot:
    """OSDs 0..max_osd-1 exist: ``osdmaptool --mark-up-in`` maps onto the OSDs of an ``--createsimple`` /
    ``--create-from-conf`` map, which its ``--dump json`` does not list as existing."""
    osds = snap.osds.copy()
    if "exists" in osds:
        osds.loc[osds["osd_id"].between(0, max_osd - 1), "exists"] = True
    return snap.replace(osds=osds)


def _fmt_set(names: Sequence[str]) -> str:
    return ",".join(names)


def osdmaptool_upmap(snap: Snapshot, *, upmap_file: str | None = "-", cleanup_only: bool = False,
                     upmap_max: int = 10, upmap_deviation: int = 5, upmap_pools: Iterable[str] = (),
                     pool_order: Sequence[str | int] | None = None, mark_up_in: bool = False,
                     mark_out: int | None = None, aggressive: bool = False, seed: int | None = None,
                     ceph_release: str | None = None) -> UpmapPlan:
    """``osdmaptool MAP [--mark-up-in] [--mark-out N] --upmap FILE|--upmap-cleanup FILE [--upmap-max N]
    [--upmap-deviation D] [--upmap-pool P ...]`` with ``--osd_calc_pg_upmaps_aggressively=false``.

    Parameters
    ----------
    snap : Snapshot
        The osdmap (its CRUSH map, pools, OSD states and upmap tables).
    upmap_file : str or None
        The FILE argument: ``"-"`` (stdout: the commands are then part of ``stdout``) or a file name
        (osdmaptool prints ``writing upmap command output to: FILE``; the commands are in ``commands``).
    cleanup_only : bool
        ``--upmap-cleanup`` instead of ``--upmap``.
    upmap_max, upmap_deviation : int
        ``--upmap-max`` (default 10) and ``--upmap-deviation`` (default 5, at least 1).
    upmap_pools : iterable of str
        ``--upmap-pool`` names.
    pool_order : sequence of str or int, optional
        The order osdmaptool balanced the pools in (its ``pools a b`` line; osdmaptool shuffles at random):
        default: pool id order.  Must name the same pools.
    mark_up_in : bool
        ``--mark-up-in`` (OSDs 0..max_osd-1 up and in, CRUSH weight 0 raised to 1).
    mark_out : int, optional
        ``--mark-out N`` (up and reweight 0; an id outside the map is ignored, as osdmaptool does).
    aggressive, seed, ceph_release
        As in :func:`calc_pg_upmaps`.

    Returns
    -------
    UpmapPlan
        ``commands``: cleanup lines, then the balancer's (each group in ``print_inc_upmaps`` order);
        ``stdout``: osdmaptool's standard output.
    """
    if upmap_deviation < 1:
        raise PgtoolsError("upmap-deviation must be >= 1")
    out: list[str] = []
    max_osd = compile_snapshot(snap).max_osd
    if mark_up_in:
        out.append("marking all OSDs up and in")
        snap = _existing(mark_up_in_(snap, max_osd), max_osd)
    if mark_out is not None:
        if 0 <= mark_out < max_osd:
            out.append(f"marking OSD@{mark_out} as out")
            snap = mark_out_(snap, [mark_out], mark_up=True)
        else:
            warnings.warn(f"--mark-out {mark_out}: no OSD {mark_out} in this osdmap; ignored, as osdmaptool ignores it",
                          PgtoolsWarning, stacklevel=2)
    to_file = upmap_file not in (None, "-")
    if to_file:
        out.append(f"writing upmap command output to: {upmap_file}")
    work = work_map(snap, ceph_release)
    commands: list[str] = []
    out.append("checking for upmap cleanups")
    inc = Increment()
    if clean_pg_upmaps_work(work, inc):
        commands += inc.commands()
        if not to_file:
            out += inc.commands()
        work.apply(inc)
    num_total = 0
    final = Increment()
    if not cleanup_only:
        out.append(f"upmap, max-count {upmap_max}, max deviation {upmap_deviation}")
        names = sorted(set(upmap_pools))
        ids = pool_ids(work, names)
        if ids:
            out.append(f" limiting to pools {_fmt_set(names)} ([{','.join(str(i) for i in ids)}])")
        else:
            ids = sorted(work.pools)
        if not ids:
            out.append("No pools available")
        else:
            order = ids if pool_order is None else pool_ids(work, pool_order)
            if sorted(order) != sorted(ids):
                raise PgtoolsError(f"pool_order {list(pool_order or [])} does not name the balanced pools "
                                   f"{[work.pools[i].name for i in ids]}")
            out.append("pools " + "".join(f"{work.pools[i].name} " for i in order))
            left = upmap_max
            rng = _rng(aggressive, seed)
            for pid in order:
                did = calc_pg_upmaps_work(work, upmap_deviation, left, {pid}, final, aggressive=aggressive, rng=rng)
                num_total += did
                left -= did
                if left <= 0:
                    break
            out.append(f"prepared {num_total}/{upmap_max} changes")
            if num_total > 0:
                commands += final.commands()
                if not to_file:
                    out += final.commands()
            else:
                out.append("Unable to find further optimization, or distribution is already perfect")
    merged = Increment(dict(inc.new_pg_upmap), set(inc.old_pg_upmap), dict(inc.new_pg_upmap_items),
                       set(inc.old_pg_upmap_items))
    merged.new_pg_upmap_items.update(final.new_pg_upmap_items)
    merged.old_pg_upmap_items |= final.old_pg_upmap_items
    return _plan(merged, num_total, work.release, not aggressive, commands, "".join(s + "\n" for s in out))
