"""One entry point for every balancer mode (:func:`plan`) and the mgr balancer's own upmap run (:func:`mgr_balancer`).

:func:`mgr_balancer` is what the mgr's balancer module does in upmap mode (``Module.do_upmap``,
``src/pybind/mgr/balancer/module.py``, the same in Pacific 16.2.15, Reef 18.2.7 and Tentacle 20.2.4): one
``OSDMap::calc_pg_upmaps`` call per pool with ``upmap_max_deviation`` (default 5), sharing
``upmap_max_optimizations`` (default 10) changes, each pool capped at its number of ``active+clean`` PGs,
pools with PGs pending a merge (``pg_num > pg_num_target``) skipped.  The mgr shuffles the pools with
Python's ``random``; pgtools takes them in pool id order, so on maps where the order matters the mgr may
pick other PGs.  The mgr also does nothing while the misplaced ratio is above ``target_max_misplaced_ratio``.
Both options are the module's (``ceph config set mgr mgr/balancer/upmap_max_deviation N``): read from the
capture's config dump when there, else the default.

``calc_pg_upmaps`` itself shuffles the overfull OSDs and the PGs it tries when the mgr's
``osd_calc_pg_upmaps_aggressively`` is true, which is Ceph's default in Pacific, Reef and Tentacle
(``ceph-conf -D``).  Then the mgr's plan differs from run to run: pgtools gives one run with a seeded generator
in place of Ceph's random one and marks it ``exact=False``.  Only with the option false (in the capture's config
dump, or ``aggressive=False``) and the pool order not mattering (one pool, or the shared budget not used up)
is the plan the one the mgr makes (``exact=True``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning, UnsupportedFeatureError
from ..mgr.releases import KNOWN
from ..model import Snapshot
from .capacity import balance_capacity
from .count import balance_count
from .hygiene import plan_of
from .plan import UpmapPlan, work_map
from .primary import balance_primaries
from .upmap import calc_pg_upmaps_work
from .work import Increment

__all__ = ["MGR_DEFAULTS", "MODES", "MgrSettings", "mgr_balancer", "mgr_settings", "plan"]

#: the balancer module's defaults (Pacific, Reef and Tentacle ``module.py`` ``MODULE_OPTIONS``)
MGR_DEFAULTS = {"upmap_max_deviation": 5, "upmap_max_optimizations": 10}
#: ``osd_calc_pg_upmaps_aggressively``'s default in Pacific 16.2.15, Reef 18.2.7 and Tentacle 20.2.4 (``ceph-conf -D``)
AGGRESSIVE_DEFAULT = True
#: the modes :func:`plan` knows
MODES = ("count", "capacity", "primary")


@dataclass(frozen=True)
class MgrSettings:
    """The balancer module's options with where each came from (``config dump``, ``argument``, ``default``)."""

    max_deviation: int
    max_deviation_source: str
    max_optimizations: int
    max_optimizations_source: str
    aggressive: bool = AGGRESSIVE_DEFAULT
    aggressive_source: str = "default"


def _aggressive(config: dict, given: bool | None) -> tuple[bool, str]:
    if given is not None:
        return bool(given), "argument"
    raw = config.get("osd_calc_pg_upmaps_aggressively")
    if raw is None:
        return AGGRESSIVE_DEFAULT, "default"
    text = str(raw).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no"):
        raise PgtoolsError(f"config dump: osd_calc_pg_upmaps_aggressively = {raw!r} is not a boolean")
    return text in ("true", "1", "yes"), "config dump"


def mgr_settings(snap: Snapshot, *, max_deviation: int | None = None, max_optimizations: int | None = None,
                 aggressive: bool | None = None) -> MgrSettings:
    """``upmap_max_deviation`` / ``upmap_max_optimizations`` (and ``osd_calc_pg_upmaps_aggressively``): the
    argument, else the capture's config dump (``mgr/balancer/<name>``), else the default.

    Raises
    ------
    PgtoolsError
        A config value that is not a positive integer (the module's options are ``int``, ``min=1`` / ``min=0``).
    """
    config = getattr(snap, "config", None) or {}
    out: list[tuple[int, str]] = []
    for name, given in (("upmap_max_deviation", max_deviation), ("upmap_max_optimizations", max_optimizations)):
        if given is not None:
            out.append((int(given), "argument"))
            continue
        raw = config.get(f"mgr/balancer/{name}", config.get(name))
        if raw is None:
            out.append((MGR_DEFAULTS[name], "default"))
            continue
        text = str(raw).strip()
        if not text.isdigit():
            raise PgtoolsError(f"config dump: mgr/balancer/{name} = {raw!r} is not a non-negative integer")
        out.append((int(text), "config dump"))
    return MgrSettings(out[0][0], out[0][1], out[1][0], out[1][1], *_aggressive(config, aggressive))


def _active_clean(snap: Snapshot) -> dict[int, int] | None:
    pgs = snap.pgs
    if pgs is None or not len(pgs) or "state" not in pgs.columns:
        return None
    ac = pgs[pgs["state"].astype(str) == "active+clean"]
    return {int(k): int(v) for k, v in ac.groupby("pool_id").size().items()}


def mgr_balancer(snap: Snapshot, *, pools: Iterable[int | str] | None = None, max_deviation: int | None = None,
                 max_optimizations: int | None = None, ceph_release: str | None = None,
                 aggressive: bool | None = None, seed: int = 0) -> UpmapPlan:
    """One upmap run of the mgr's balancer (module doc): ``calc_pg_upmaps`` pool by pool.

    Parameters
    ----------
    snap : Snapshot
    pools : iterable of int or str, optional
        ``ceph balancer pool add``: only these pools (default: all).
    max_deviation, max_optimizations : int, optional
        Override the module options (default: :func:`mgr_settings`).
    ceph_release : str, optional
    aggressive : bool, optional
        ``osd_calc_pg_upmaps_aggressively`` (default: the capture's config dump, else Ceph's default, true).
    seed : int
        Seed of the generator standing in for Ceph's shuffles when aggressive.

    Returns
    -------
    UpmapPlan
        ``exact`` only when the run is the mgr's own (module docstring); else one possible run.
    """
    st = mgr_settings(snap, max_deviation=max_deviation, max_optimizations=max_optimizations,
                      aggressive=aggressive)
    rng = np.random.default_rng(seed) if st.aggressive else None
    work = work_map(snap, ceph_release)
    ids = sorted(work.pools) if pools is None else sorted({snap.pool_id(p) for p in pools})
    table = snap.pools.set_index(snap.pools["pool_id"].astype(int))
    merging = set()
    if "pg_num_target" in table.columns:
        tgt = pd.to_numeric(table["pg_num_target"], errors="coerce")
        merging = {int(p) for p in table.index if pd.notna(tgt[p]) and int(table.at[p, "pg_num"]) > int(tgt[p])}
    clean = _active_clean(snap)
    inc = Increment()
    left = st.max_optimizations
    total = 0
    for pid in ids:
        if pid in merging:
            continue
        available = left if clean is None else min(left, clean.get(pid, 0))
        did = calc_pg_upmaps_work(work, st.max_deviation, available, {pid}, inc, aggressive=st.aggressive, rng=rng)
        total += did
        left -= did
        if left <= 0:
            break
    order_free = len([p for p in ids if p not in merging]) <= 1 or left > 0
    return plan_of(inc, total, work.release, exact=not st.aggressive and order_free)


def _warn_release(snap: Snapshot, mode: str, ceph_release: str | None) -> None:
    """Say when the capture's cluster could not run the plan's commands as printed: a release before
    Luminous (no upmaps), or a release chosen with ``ceph_release`` other than the capture's (the plan follows
    that release's balancer and checks; ``pg-upmap-primary`` needs Reef or later)."""
    cap = str(snap.release or "").strip().lower().rstrip("+")
    if cap not in KNOWN:
        return
    rank = KNOWN.index
    if rank(cap) < rank("luminous"):
        warnings.warn(f"the capture is from {cap.title()}: upmap commands need Luminous or later monitors and "
                      "`ceph osd set-require-min-compat-client luminous`; the plan is what this map would take "
                      "after such an upgrade", PgtoolsWarning, stacklevel=3)
    elif ceph_release is not None and ceph_release.strip().lower() != cap:
        want = ceph_release.strip().lower()
        note = (": its cluster has no pg-upmap-primary (Reef and later)" if mode == "primary" and
                rank(cap) < rank("reef") else "")
        warnings.warn(f"the capture is from {cap.title()} but the plan follows {want.title()}'s balancer and "
                      f"checks{note}", PgtoolsWarning, stacklevel=3)


def plan(snap: Snapshot, mode: str = "count", *, like_mgr: bool = False, pools: Iterable[int | str] | None = None,
         max_deviation: int | None = None, max_moves: int | None = None,
         ceph_release: str | None = None, aggressive: bool | None = None,
         search_budget: int | None = None) -> UpmapPlan:
    """The upmap plan of balancer ``mode`` (``count``, ``capacity``, ``primary``) on ``snap``.

    ``like_mgr=True`` is the mgr's own run: in count mode :func:`mgr_balancer` (``max_deviation`` /
    ``max_moves`` overriding ``upmap_max_deviation`` / ``upmap_max_optimizations``, ``aggressive``
    ``osd_calc_pg_upmaps_aggressively``), in primary mode
    :func:`~pgtools.balance.balance_primaries` without the pools Tentacle's mgr read mode skips.  Otherwise the
    mode's pgtools balancer runs (primary: Ceph's read balancer itself, ``pg-upmap-primary``).
    ``search_budget``: the count balancer's chain-search budget in checks (:func:`balance_count`).

    Raises
    ------
    PgtoolsError
        An unknown mode, ``like_mgr`` with capacity, ``max_deviation`` / ``max_moves`` with primary,
        ``search_budget`` outside pgtools' count mode.
    UnsupportedFeatureError
        A mode whose balancer is not in this build.
    """
    if mode not in MODES:
        raise PgtoolsError(f"unknown balancer mode {mode!r} (modes: {', '.join(MODES)})")
    _warn_release(snap, mode, ceph_release)
    if search_budget is not None and (mode != "count" or like_mgr):
        raise PgtoolsError("--search-budget is pgtools' count balancer's: it goes with --mode count, without "
                           "--like-mgr")
    if mode == "primary":  # Reef's read balancer (exact); like_mgr: the pools Tentacle's mgr read mode skips
        if max_deviation is not None or max_moves is not None:
            raise PgtoolsError("--max-deviation/--max-moves go with --mode count or capacity: the read balancer "
                               "(--mode primary) has no such settings")
        return balance_primaries(snap, pools=pools, ceph_release=ceph_release, like_mgr=like_mgr)
    if like_mgr:
        if mode != "count":
            raise PgtoolsError(f"the mgr's upmap balancer balances PG counts: --like-mgr goes with --mode count "
                               f"(or primary), not {mode}")
        return mgr_balancer(snap, pools=pools, max_deviation=max_deviation, max_optimizations=max_moves,
                            ceph_release=ceph_release, aggressive=aggressive)
    balancers: dict[str, object] = {"count": balance_count, "capacity": balance_capacity}
    fn = balancers.get(mode)
    if fn is None:
        raise UnsupportedFeatureError(f"balancer mode {mode!r} is not available in this build of pgtools yet "
                                      "(use --like-mgr for the mgr's own count balancer)")
    opts: dict[str, object] = {"pools": pools, "ceph_release": ceph_release}
    if mode == "count":
        opts.update(max_deviation=1 if max_deviation is None else max_deviation, max_moves=max_moves,
                    search_budget=search_budget)
    elif mode == "capacity":
        if max_deviation is not None:
            raise PgtoolsError("--max-deviation is a PG count: it goes with --mode count, not capacity")
        opts.update(max_moves=max_moves)
    return fn(snap, **opts)  # type: ignore[operator]

