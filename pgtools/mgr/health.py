"""The mon's and mgr's PG-count health checks, recomputed: ``TOO_MANY_PGS``, ``TOO_FEW_PGS``, ``check_pg_num``.

:func:`health` reproduces ``PGMap::get_health_checks`` (plus the per-OSD hard limit OSDs enforce),
:func:`check_pg_num` the monitor's ``OSDMonitor::check_pg_num`` refusal; :func:`health_limits` says which
thresholds they used and where each came from (:mod:`~pgtools.mgr.options`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import Snapshot
from . import options, releases
from .counts import num_in, pgs_per_osd_up_or_acting, placements, require_pgs, rule_devices
from .health_compare import disagreements

__all__ = ["MON_MAX_PG_PER_OSD", "Finding", "health_limits", "health", "health_findings", "check_pg_num"]

#: ``mon_max_pg_per_osd`` default per release (see :mod:`pgtools.mgr.options`, which resolves every threshold).
MON_MAX_PG_PER_OSD = options.MON_MAX_PG_PER_OSD


@dataclass
class Finding:
    """One health finding, with the numbers behind it.

    ``code`` is Ceph's check name (``TOO_MANY_PGS``, ``TOO_FEW_PGS``) or a pgtools name for checks Ceph
    performs elsewhere (``OSD_PG_HARD_LIMIT``: the OSD refuses to instantiate PGs above
    ``mon_max_pg_per_osd × osd_max_pg_per_osd_hard_ratio``; ``OSD_ABOVE_MAX_PG_PER_OSD``: an OSD above the
    soft limit, which Ceph itself does not report because it compares the average).
    """

    code: str
    severity: str
    summary: str
    detail: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)
    ceph: bool = True  # False: a pgtools finding, not a check Ceph's health reports
    why: str = ""  # one line: how the numbers produce the finding


_LIMIT_NAMES = ("mon_max_pg_per_osd", "mon_pg_warn_min_per_osd", "osd_max_pg_per_osd_hard_ratio")


def health_limits(snap: Snapshot, *, release: str | None = None, mon_max_pg_per_osd: int | None = None,
                  mon_pg_warn_min_per_osd: int | None = None,
                  osd_max_pg_per_osd_hard_ratio: float | None = None) -> dict[str, Any]:
    """The limits the PG-count checks use, and where each came from (:func:`pgtools.mgr.options.settings`).

    Returns a dict with ``release`` (:func:`pgtools.mgr.releases.choose`) and ``release_from`` (``argument``,
    ``capture`` or ``assumed``), each option name and ``<name>_from`` (its source: ``argument``,
    ``config dump``, ``health detail`` or ``<release> default``).
    """
    res = options.settings(snap, _LIMIT_NAMES, release=release, overrides={
        "mon_max_pg_per_osd": mon_max_pg_per_osd, "mon_pg_warn_min_per_osd": mon_pg_warn_min_per_osd,
        "osd_max_pg_per_osd_hard_ratio": osd_max_pg_per_osd_hard_ratio})
    choice = releases.choose(snap, release)
    out: dict[str, Any] = {"release": choice.name, "release_from": choice.source}
    for name, st in res.items():
        out[name], out[f"{name}_from"] = st.value, st.source
    out["osd_max_pg_per_osd_hard_ratio"] = float(out["osd_max_pg_per_osd_hard_ratio"])
    return out


def health(snap: Snapshot, *, release: str | None = None, mon_max_pg_per_osd: int | None = None,
           mon_pg_warn_min_per_osd: int | None = None,
           osd_max_pg_per_osd_hard_ratio: float | None = None) -> list[Finding]:
    """Reproduce Ceph's PG-count health checks on a snapshot.

    * ``TOO_MANY_PGS`` / ``TOO_FEW_PGS`` exactly as the mgr computes them (``PGMap::get_health_checks``):
      ``per = max(Σ len(up), number of PGs) // num_in_osds`` compared with ``mon_max_pg_per_osd`` and
      ``mon_pg_warn_min_per_osd`` (an *average*, not a per-OSD maximum).
    * ``OSD_PG_HARD_LIMIT`` (pgtools): OSDs whose PG count (up ∪ acting) exceeds
      ``mon_max_pg_per_osd × osd_max_pg_per_osd_hard_ratio``; such OSDs withhold new PGs, which then stay
      inactive.
    * ``OSD_ABOVE_MAX_PG_PER_OSD`` (pgtools, informational): OSDs individually above the soft limit.

    Limits come from the arguments, else the capture's ``config dump``, else the release defaults
    (:data:`MON_MAX_PG_PER_OSD`).  Each finding's ``numbers`` holds every value used.

    Raises :class:`~pgtools.errors.PgtoolsError` when the snapshot holds no PGs (:func:`require_pgs`): the
    checks count PGs, and none counted would read as ``HEALTH_OK``.  When the capture's own ``health
    detail`` reports ``TOO_MANY_PGS`` / ``TOO_FEW_PGS`` differently from the recomputed findings (and no
    threshold was overridden), a :class:`~pgtools.errors.PgtoolsWarning` names both.
    """
    require_pgs(snap, "the PG-count health checks")
    pgs = snap.pgs
    sum_up_sizes = int(sum(map(len, pgs.up))) if len(pgs) else 0
    per_osd = pgs_per_osd_up_or_acting(snap) if len(pgs) else None
    found = health_findings(snap, num_pgs=len(pgs), sum_up_sizes=sum_up_sizes, per_osd=per_osd,
                             release=release, mon_max_pg_per_osd=mon_max_pg_per_osd,
                             mon_pg_warn_min_per_osd=mon_pg_warn_min_per_osd,
                             osd_max_pg_per_osd_hard_ratio=osd_max_pg_per_osd_hard_ratio)
    overridden = (mon_max_pg_per_osd, mon_pg_warn_min_per_osd) != (None, None) or bool(
        (snap.meta or {}).get("option_overrides"))
    if not overridden:  # asked-for thresholds are expected to differ from the cluster's verdict
        for msg in disagreements(snap.health, found):
            warnings.warn(msg, PgtoolsWarning, stacklevel=2)
    return found


def health_findings(snap: Snapshot, *, num_pgs: int, sum_up_sizes: int, per_osd: pd.Series | None,
                     release: str | None = None, mon_max_pg_per_osd: int | None = None,
                     mon_pg_warn_min_per_osd: int | None = None,
                     osd_max_pg_per_osd_hard_ratio: float | None = None) -> list[Finding]:
    """:func:`health` from PG counts at hand (the what-if engine counts them on its placement arrays).

    ``num_pgs`` PGs whose up sets hold ``sum_up_sizes`` entries; ``per_osd`` PGs per OSD over up ∪ acting
    (:func:`pgs_per_osd_up_or_acting`), None when there are no PGs.
    """
    lim = health_limits(snap, release=release, mon_max_pg_per_osd=mon_max_pg_per_osd,
                        mon_pg_warn_min_per_osd=mon_pg_warn_min_per_osd,
                        osd_max_pg_per_osd_hard_ratio=osd_max_pg_per_osd_hard_ratio)
    n_in = num_in(snap)
    sum_pg_up = max(sum_up_sizes, num_pgs)
    findings: list[Finding] = []
    base = {"sum_pg_up": sum_pg_up, "sum_up_set_sizes": sum_up_sizes, "num_pgs": num_pgs,
            "num_in_osds": n_in, **lim}
    mx, mn = lim["mon_max_pg_per_osd"], lim["mon_pg_warn_min_per_osd"]
    if n_in:
        per = sum_pg_up // n_in
        base["per_osd"] = per
        avg = (f"{sum_pg_up} PG copies (max of Σ|up| {sum_up_sizes} and {num_pgs} PGs) // {n_in} in OSDs "
               f"= {per}")
        if mn > 0 and len(snap.pools) and 0 < per < mn:
            findings.append(Finding("TOO_FEW_PGS", "HEALTH_WARN", f"too few PGs per OSD ({per} < min {mn})",
                                    numbers=dict(base), why=f"{avg} < mon_pg_warn_min_per_osd {mn} "
                                    f"({lim['mon_pg_warn_min_per_osd_from']})"))
        if mx > 0 and per > mx:
            findings.append(Finding("TOO_MANY_PGS", "HEALTH_WARN", f"too many PGs per OSD ({per} > max {mx})",
                                    numbers=dict(base), why=f"{avg} > mon_max_pg_per_osd {mx} "
                                    f"({lim['mon_max_pg_per_osd_from']}); Ceph compares the average, not each OSD"))
    # per-OSD counts, up ∪ acting
    if per_osd is not None:
        hard = mx * lim["osd_max_pg_per_osd_hard_ratio"]
        over_hard = per_osd[per_osd > hard]
        if len(over_hard):
            findings.append(Finding(
                "OSD_PG_HARD_LIMIT", "HEALTH_ERR",
                f"{len(over_hard)} OSDs above the hard PG limit {hard:g} (mon_max_pg_per_osd {mx} × "
                f"osd_max_pg_per_osd_hard_ratio {lim['osd_max_pg_per_osd_hard_ratio']:g}); they will not "
                f"instantiate more PGs",
                detail=[f"osd.{o} has {c} PGs" for o, c in over_hard.items()],
                numbers={**base, "hard_limit": hard, "osds": over_hard.to_dict()}, ceph=False,
                why="PGs counted per OSD over up ∪ acting: " + _osd_list(over_hard)))
        over = per_osd[per_osd > mx]
        if len(over):
            findings.append(Finding(
                "OSD_ABOVE_MAX_PG_PER_OSD", "INFO",
                f"{len(over)} of {len(per_osd)} OSDs hold more than mon_max_pg_per_osd {mx} PGs "
                f"(range {int(per_osd.min())}..{int(per_osd.max())})",
                detail=[f"osd.{o} has {c} PGs" for o, c in over.items()],
                numbers={**base, "osds": over.to_dict()}, ceph=False,
                why="PGs counted per OSD over up ∪ acting: " + _osd_list(over)))
    return findings


def _osd_list(counts: pd.Series, most: int = 12) -> str:
    items = [f"osd.{o} {c}" for o, c in counts.sort_values(ascending=False).items()]
    return ", ".join(items[:most]) + (f", … ({len(items) - most} more)" if len(items) > most else "")


#: the form of ``OSDMonitor::check_pg_num`` each release has (Quincy's was not compared: the Pacific form)
_PG_NUM_FORMS = {**dict.fromkeys(("hammer", "jewel", "kraken", "luminous", "mimic"), "legacy"),
                 **dict.fromkeys(("nautilus", "octopus", "pacific", "quincy"), "pacific"),
                 **dict.fromkeys(("reef", "squid", "tentacle"), "reef")}


def check_pg_num(snap: Snapshot, pool: int | str | None, pg_num: int, *, size: int | None = None,
                 crush_rule: int | None = None, mon_max_pg_per_osd: int | None = None,
                 release: str | None = None) -> Finding | None:
    """Would the monitor refuse this pool creation or pg_num increase (``OSDMonitor::check_pg_num``)?

    Three forms, by release (:func:`pgtools.mgr.releases.choose`):

    * Pacific (Nautilus to Quincy) counts what is already mapped: ``projected`` = Σ over the OSDs under the
      rule's ``take`` roots of the PGs in whose acting set each OSD is, plus ``pg_num × size`` for the new
      or changed pool, minus the changed pool's current ``pg_num_target × size``; refused when above
      ``mon_max_pg_per_osd × max(number of OSDs under those roots, 3)``: "... would mean N total pgs, which
      exceeds max M (mon_max_pg_per_osd X * num_in_osds O)".
    * Reef and Tentacle (``src/mon/OSDMonitor.cc`` at v18.2.7 and v20.2.4, the same function): ``projected``
      = Σ ``pg_num_target × size`` over the pools whose ``crush_rule`` is the rule (the changed pool with the
      requested pg_num and size) plus the new pool's ``pg_num × size``; refused when ``projected //
      max(OSDs under the rule's roots, 3)`` exceeds ``mon_max_pg_per_osd``: "... pg_num P size S for this
      pool would result in N cumulative PGs per OSD (T total PG replicas on O 'in' root OSDs by crush rule)
      which exceeds the mon_max_pg_per_osd value of X".  Pools of other rules on the same OSDs do not count.
    * Luminous/Mimic: Σ ``pg_num × size`` over all pools against ``mon_max_pg_per_osd × max(num_in_osds, 3)``
      (also the Pacific form's fallback when the capture has no CRUSH map or no PGs).

    Parameters
    ----------
    pool : int, str or None
        Existing pool (id or name) whose pg_num is raised, or None for a new pool.
    pg_num : int
        The requested pg_num.
    size : int, optional
        Replica count (k+m for EC); defaults to the pool's size, or 3 for a new pool.
    crush_rule : int, optional
        For a new pool: its rule (default: the lowest rule id used by a replicated pool, else 0).
    release : str, optional
        Ceph release (default: :func:`pgtools.mgr.releases.choose`).

    Returns
    -------
    Finding or None
        A ``POOL_PG_NUM_REFUSED`` finding whose summary is the monitor's ERANGE message (without the
        ``Error ERANGE: `` prefix), or None if the monitor accepts.

    Raises
    ------
    PgtoolsError
        Reef and later without a CRUSH map (the count of OSDs under the rule needs it).
    """
    lim = health_limits(snap, release=release, mon_max_pg_per_osd=mon_max_pg_per_osd)
    choice = releases.choose(snap, release)
    form = _PG_NUM_FORMS[choice.name]
    releases.warn_if_assumed(choice, "check_pg_num", len({_PG_NUM_FORMS[r] for r in choice.candidates}) > 1)
    pools = snap.pools
    row = None
    if pool is not None:
        sel = pools[(pools.pool_id.astype(str) == str(pool)) | (pools["pool"] == str(pool))]
        if not len(sel):
            raise KeyError(f"no pool {pool!r}")
        row = sel.iloc[0]
    if size is None:
        size = int(row["size"]) if row is not None else 3
    if crush_rule is None:
        if row is not None and "crush_rule" in pools.columns:
            crush_rule = int(row["crush_rule"])
        elif "crush_rule" in pools.columns and len(pools):
            crush_rule = int(pools.crush_rule.min())
        else:
            crush_rule = 0

    def target(p: Any) -> int:
        t = getattr(p, "pg_num_target", None)
        return int(t) if t is not None and not pd.isna(t) else int(p.pg_num)

    mx = lim["mon_max_pg_per_osd"]
    mine = int(pg_num) * int(size)
    if form == "reef":
        if snap.crush is None:
            raise PgtoolsError(f"check_pg_num ({choice.label}) counts the OSDs under the pool's CRUSH rule: the "
                               "capture has no CRUSH map (add `ceph osd crush dump -f json`)")
        osd_num = max(len(rule_devices(snap, crush_rule)), 3)
        projected = mine if row is None else 0
        for p in pools.itertuples(index=False):
            rule = getattr(p, "crush_rule", None)
            if rule is not None and not pd.isna(rule) and int(rule) == int(crush_rule):
                is_row = row is not None and int(p.pool_id) == int(row["pool_id"])
                projected += mine if is_row else target(p) * int(p.size)
        per = projected // osd_num
        max_pgs = (mx + 1) * osd_num - 1  # the most PG replicas whose average (rounded down) is within the limit
        method = "pg_num_target × size over the pools of the rule"
        refused = per > mx
    else:
        if form == "legacy" or snap.crush is None or not len(snap.pgs):
            osd_num = max(num_in(snap), 3)
            projected = sum(mine if row is not None and int(p.pool_id) == int(row["pool_id"])
                            else target(p) * int(p.size) for p in pools.itertuples(index=False))
            if row is None:
                projected += mine
            method = "sum of pg_num × size over pools"
        else:
            devices = rule_devices(snap, crush_rule)
            acting = placements(snap, "acting")
            projected = int(acting.osd_id.isin(devices).sum()) + mine
            if row is not None:
                projected -= target(row) * int(row["size"])
            osd_num = max(len(devices), 3)
            method = "acting PGs on the OSDs under the rule's roots"
        per = None
        max_pgs = mx * osd_num
        refused = projected > max_pgs
    numbers = {"projected": projected, "max_pgs": max_pgs, "num_osds": osd_num, "pg_num": int(pg_num),
               "size": int(size), "crush_rule": crush_rule, "method": method, "form": form, **lim}
    if not refused:
        return None
    # what would make the monitor accept it
    others = projected - mine
    numbers.update(
        max_pg_num=max((max_pgs - others) // int(size), 0) if int(size) > 0 else 0,
        needed_mon_max_pg_per_osd=per if per is not None else -(-projected // osd_num),
        needed_osds=max(projected // (mx + 1) + 1, 3) if per is not None else -(-projected // mx),
        excess_pgs=projected - max_pgs)
    fixes = [f"raise mon_max_pg_per_osd to {numbers['needed_mon_max_pg_per_osd']} (now {mx}, "
             f"{lim['mon_max_pg_per_osd_from']})",
             f"add OSDs to have {numbers['needed_osds']} {'in' if method.startswith('sum') else 'under the rule'} "
             f"(now {osd_num})",
             f"lower pg_num × size of other pools{' of the rule' if per is not None else ''} by "
             f"{numbers['excess_pgs']} PG copies"]
    current = target(row) if row is not None else 0
    if numbers["max_pg_num"] > current:
        fixes.append(f"ask for pg_num {numbers['max_pg_num']} or less")
    numbers["remedy"] = ", or ".join(fixes)
    prefix = f"pool id {int(row['pool_id'])}" if row is not None else ""
    if per is not None:
        numbers["per_osd"] = per
        msg = (f"{prefix} pg_num {int(pg_num)} size {int(size)} for this pool would result in {per} cumulative "
               f"PGs per OSD ({projected} total PG replicas on {osd_num} 'in' root OSDs by crush rule) which "
               f"exceeds the mon_max_pg_per_osd value of {mx}")
        why = (f"{projected} PG replicas ({method}) // {osd_num} OSDs = {per} > mon_max_pg_per_osd {mx} "
               f"({lim['mon_max_pg_per_osd_from']})")
    else:
        msg = (f"{prefix} pg_num {int(pg_num)} size {int(size)} would mean {projected} total pgs, which exceeds "
               f"max {max_pgs} (mon_max_pg_per_osd {mx} * num_in_osds {osd_num})")
        why = (f"projected {projected} ({method}) > mon_max_pg_per_osd {mx} ({lim['mon_max_pg_per_osd_from']}) "
               f"× {osd_num} OSDs")
    return Finding("POOL_PG_NUM_REFUSED", "ERANGE", msg, numbers=numbers, why=why)
