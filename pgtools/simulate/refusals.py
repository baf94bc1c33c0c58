"""What the monitor refuses: a what-if stops at the first change Ceph would not accept.

:func:`refusal` checks one change against the cluster state it would be submitted to, as the monitor
does (``OSDMonitor::prepare_command_pool_set``, ``check_pg_num``, ``prepare_new_pool``, the
``osd pg-upmap-items`` handler), before anything is applied or allocated: a pg_num above
``mon_max_pool_pg_num`` is refused without building a single PG.  Thresholds come from
:mod:`pgtools.mgr.options` (argument, config dump, health detail, release default).  Messages are the
monitor's own (without the ``Error ERANGE:`` prefix); ``remedy`` says what would make it acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..crush.constants import ITEM_NONE
from ..mgr.health import check_pg_num
from ..mgr.options import resolve
from ..model import Snapshot, row_value, split_pgid
from .changes import pool_index, rule_id
from .osd_changes import AddUpmapItems, PrimaryAffinity, Reweight, SetPgUpmapPrimary
from .pool_changes import CreatePool, SetPgNum, SetPgpNum, SetPoolRule, SetPoolSize

__all__ = ["Refusal", "refusal"]

_RELEASES = ["argonaut", "bobtail", "cuttlefish", "dumpling", "emperor", "firefly", "giant", "hammer",
             "infernalis", "jewel", "kraken", "luminous", "mimic", "nautilus", "octopus", "pacific", "quincy",
             "reef", "squid", "tentacle"]


@dataclass(frozen=True)
class Refusal:
    """A change the monitor would refuse.

    Attributes
    ----------
    change : str
        The change (``describe()``).
    command : str
        The ``ceph`` command that would be refused.
    error : str
        The errno name Ceph returns (``ERANGE``, ``ENOENT``, ``EINVAL``, ``EPERM``).
    message : str
        The monitor's message.
    remedy : str
        What would make the monitor accept it.
    code : str
        ``POOL_PG_NUM_REFUSED`` (pg_num / pool size / pool creation over the PG limit) or ``MON_REFUSED``.
    step : int
        The plan step at which it was refused (set by :func:`pgtools.simulate.simulate`; -1 before).
    numbers : dict
        The values behind the decision (limits with their sources, projected PG counts, ...).
    """

    change: str
    command: str
    error: str
    message: str
    remedy: str
    code: str = "MON_REFUSED"
    step: int = -1
    numbers: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """``{"step", "change", "command", "error", "message", "remedy"}`` (the JSON contract)."""
        return {"step": self.step, "change": self.change, "command": self.command, "error": self.error,
                "message": self.message, "remedy": self.remedy}


def _pool_row(snap: Snapshot, pool: int | str) -> pd.Series | None:
    try:
        return snap.pools.loc[pool_index(snap, pool)]
    except Exception:  # noqa: BLE001 - a missing pool is reported by the change itself when applied
        return None


def _flags(row: pd.Series) -> set[str]:
    return set(str(row_value(row, "flags_names", "") or "").split(","))


def _target(row: pd.Series, key: str, fallback: str) -> int:
    return int(row_value(row, key, row_value(row, fallback)))


def _osd_exists(snap: Snapshot, osd: int) -> bool:
    osds = snap.osds
    max_osd = snap.osdmap.max_osd
    if max_osd is not None and not 0 <= osd < int(max_osd):
        return False
    hit = osds[osds["osd_id"].astype("int64") == int(osd)] if len(osds) else osds
    if not len(hit):
        return False
    return bool(row_value(hit.iloc[0], "exists", True))


def _nautilus(snap: Snapshot) -> bool:
    rel = str(snap.osdmap.require_osd_release or "").strip().lower()
    return rel not in _RELEASES or _RELEASES.index(rel) >= _RELEASES.index("nautilus")


def refusal(snap: Snapshot, change: Any, *, release: str | None = None) -> Refusal | None:
    """The monitor's answer to ``change`` submitted to the cluster in ``snap``: a :class:`Refusal`, or None.

    Parameters
    ----------
    snap : Snapshot
        The state the command is submitted to; ``check_pg_num`` counts its PGs (``pgs`` acting sets).
    change : Change
        Checked: ``SetPgNum``, ``SetPgpNum``, ``SetPoolSize``, ``SetPoolRule`` and ``CreatePool`` (rule
        exists and takes the pool's type and size), ``AddUpmapItems``, ``SetPgUpmapPrimary``, ``Reweight``,
        ``PrimaryAffinity``.  Other changes are not refused here.
    release : str, optional
        Release whose defaults apply (default: the capture's).
    """
    def refuse(error: str, message: str, remedy: str, code: str = "MON_REFUSED", /, **numbers: Any) -> Refusal:
        cmds = change.ceph_commands()
        return Refusal(change.describe(), cmds[0] if cmds else "", error, message, remedy, code, -1, numbers)

    def over_pg_limit(pool: Any, pg_num: int, **kw: Any) -> Refusal | None:
        f = check_pg_num(snap, pool, pg_num, release=release, **kw)
        if f is None:
            return None
        return refuse("ERANGE", f.summary, f.numbers["remedy"], "POOL_PG_NUM_REFUSED", **f.numbers)

    if isinstance(change, (SetPgNum, SetPgpNum, SetPoolSize, SetPoolRule)):
        row = _pool_row(snap, change.pool)
        if row is None:
            return None
        name = row_value(row, "pool", change.pool)
    if isinstance(change, SetPgNum):
        n = int(change.n)
        if "nopgchange" in _flags(row):
            return refuse("EPERM", "pool pg_num change is disabled; you must unset nopgchange flag for the pool first",
                          f"ceph osd pool set {name} nopgchange false")
        target = _target(row, "pg_num_target", "pg_num")
        if n == target:
            return None
        mx = resolve(snap, "mon_max_pool_pg_num")
        if n <= 0 or n > mx.value:
            return refuse("ERANGE", f"'pg_num' must be greater than 0 and less than or equal to {mx.value} "
                          "(you may adjust 'mon max pool pg num' for higher values)",
                          f"ask for a pg_num from 1 to {mx.value} (mon_max_pool_pg_num {mx.value}, {mx.source})"
                          if n <= 0 else
                          f"ask for pg_num {mx.value} or less, or raise mon_max_pool_pg_num to {n} or more "
                          f"(now {mx.value}, {mx.source})", mon_max_pool_pg_num=mx.value,
                          mon_max_pool_pg_num_from=mx.source)
        if n > target:
            r = over_pg_limit(change.pool, n)
            if r is not None:
                return r
        elif not _nautilus(snap):
            return refuse("EPERM", "nautilus OSDs are required to decrease pg_num",
                          "ceph osd require-osd-release nautilus (once every OSD runs Nautilus or later)")
        lo, hi = row_value(row, "pg_num_min", 0) or 0, row_value(row, "pg_num_max", 0) or 0
        if lo and n < int(lo):
            return refuse("EINVAL", f"specified pg_num {n} < pg_num_min {int(lo)}",
                          f"ask for pg_num {int(lo)} or more, or lower the pool's pg_num_min")
        if hi and n > int(hi):
            return refuse("EINVAL", f"specified pg_num {n} < pg_num_max {int(hi)}",  # sic: Ceph prints '<'
                          f"ask for pg_num {int(hi)} or less, or raise the pool's pg_num_max")
        return None
    if isinstance(change, SetPgpNum):
        n = int(change.n)
        if "nopgchange" in _flags(row):
            return refuse("EPERM", "pool pgp_num change is disabled; you must unset nopgchange flag for the pool first",
                          f"ceph osd pool set {name} nopgchange false")
        if n <= 0:
            return refuse("EINVAL", f"specified pgp_num must > 0, but you set to {n}", "ask for a pgp_num of 1 or more")
        target = _target(row, "pg_num_target", "pg_num")
        if n > target:
            return refuse("EINVAL", f"specified pgp_num {n} > pg_num {target}",
                          f"ask for pgp_num {target} or less, or raise pg_num to {n} first")
        return None
    if isinstance(change, SetPoolSize):
        n = int(change.size)
        if str(row_value(row, "type", "")).startswith("erasure"):
            return refuse("EINVAL", "can not change the size of an erasure-coded pool",
                          "create a new pool with another erasure-code profile")
        if "nosizechange" in _flags(row):
            return refuse("EPERM", "pool size change is disabled; you must unset nosizechange flag for the pool first",
                          f"ceph osd pool set {name} nosizechange false")
        if n <= 0 or n > 10:
            return refuse("EINVAL", "pool size must be between 1 and 10", "ask for a size from 1 to 10")
        why = _rule_misfit(snap, int(row_value(row, "crush_rule", -1)), 1, n)
        if why:
            return refuse("EINVAL", why, f"ask for a size the pool's CRUSH rule takes, or change the rule first "
                          f"({_rule_remedy(snap)})")
        if n > int(row["size"]):
            return over_pg_limit(change.pool, int(row["pg_num"]), size=n)
        return None
    if isinstance(change, SetPoolRule):
        rid = rule_id(snap, change.rule)
        if rid is None:
            return refuse("ENOENT", f"crush rule {change.rule} does not exist", _rule_remedy(snap))
        why = _rule_misfit(snap, rid, 3 if str(row_value(row, "type", "")).startswith("erasure") else 1,
                           int(row["size"]))
        if why:
            return refuse("EINVAL", why, f"name a rule for {row_value(row, 'type', 'replicated')} pools of size "
                          f"{int(row['size'])} ({_rule_remedy(snap)})")
        return None
    if isinstance(change, CreatePool):
        rid = rule_id(snap, change.rule)
        if rid is None:  # prepare_pool_crush_rule -> get_crush_rule
            return refuse("ENOENT", f"specified rule {change.rule} doesn't exist", _rule_remedy(snap))
        if not 1 <= int(change.size) <= 10:
            return refuse("EINVAL", "pool size must be between 1 and 10", "ask for a size from 1 to 10")
        why = _rule_misfit(snap, rid, 1, int(change.size))
        if why:
            return refuse("EINVAL", why, f"name a replicated rule that takes size {int(change.size)} "
                          f"({_rule_remedy(snap)})")
        mx = resolve(snap, "mon_max_pool_pg_num")
        if not 0 < int(change.pg_num) <= mx.value:
            return refuse("ERANGE", f"'pg_num' must be greater than 0 and less than or equal to {mx.value} "
                          "(you may adjust 'mon max pool pg num' for higher values)",
                          f"ask for a pg_num from 1 to {mx.value} (mon_max_pool_pg_num, {mx.source})")
        return over_pg_limit(None, int(change.pg_num), size=int(change.size), crush_rule=rid)
    if isinstance(change, AddUpmapItems):
        return _upmap_refusal(snap, change, refuse)
    if isinstance(change, SetPgUpmapPrimary):
        return _upmap_primary_refusal(snap, change, refuse)
    if isinstance(change, (Reweight, PrimaryAffinity)):
        if float(change.w) < 0:
            return refuse("EINVAL", "weight must be >= 0", "ask for a weight from 0 to 1")
        if not _osd_exists(snap, int(change.osd)):
            return refuse("ENOENT", f"osd.{int(change.osd)} does not exist", "name an OSD that exists (ceph osd ls)")
    return None


def _rule_remedy(snap: Snapshot) -> str:
    crush = snap.crush
    if crush is None or not crush.rules:
        return "name a CRUSH rule that exists (ceph osd crush rule ls)"
    return "rules: " + ", ".join(f"{r.name} (id {rid})" for rid, r in sorted(crush.rules.items()))


def _rule_misfit(snap: Snapshot, rid: int, pool_type: int, size: int) -> str:
    """``CrushWrapper::check_crush_rule``: why rule ``rid`` does not take a pool of that type and size ('' if it does).

    The monitor says nothing for a type mismatch (EINVAL with an empty message); this names it.
    """
    crush = snap.crush
    if crush is None or rid not in crush.rules:
        return ""
    r = crush.rules[rid]
    if int(r.type) != int(pool_type):
        kinds = {1: "replicated", 3: "erasure"}
        return (f"crush rule {r.name} is for {kinds.get(int(r.type), r.type)} pools, not "
                f"{kinds.get(int(pool_type), pool_type)} ones")
    if r.min_size is not None and size < int(r.min_size):
        return "pool size is smaller than the crush rule min size"
    if r.max_size is not None and size > int(r.max_size):
        return "pool size is bigger than the crush rule max size"
    return ""


def _pg_refusal(snap: Snapshot, pgid_text: str, refuse: Any) -> tuple[Refusal | None, Any]:
    """The pgid checks the monitor's ``osd pg-upmap*`` handlers share: (refusal, the pool's row)."""
    try:
        pool_id, ps = split_pgid(pgid_text)
    except ValueError:
        return refuse("EINVAL", f"invalid pgid '{pgid_text}'", "name a PG as POOL.PS, e.g. 1.1f"), None
    pools = snap.pools
    hit = pools[pools["pool_id"].astype("int64") == pool_id] if len(pools) else pools
    pgid = f"{pool_id}.{ps:x}"
    if not len(hit) or ps >= int(hit.iloc[0]["pg_num"]):
        remedy = (f"pool {pool_id} has pg_num {int(hit.iloc[0]['pg_num'])}: name a PG from {pool_id}.0 to "
                  f"{pool_id}.{int(hit.iloc[0]['pg_num']) - 1:x}" if len(hit) else f"there is no pool {pool_id}")
        return refuse("ENOENT", f"pgid '{pgid}' does not exist", remedy), None
    return None, hit.iloc[0]


def _upmap_primary_refusal(snap: Snapshot, change: SetPgUpmapPrimary, refuse: Any) -> Refusal | None:
    """The ``osd pg-upmap-primary`` handler (Reef and later): compat client reef, pgid, replicated pool, OSD.

    The EPERM and EINVAL texts are the monitor's as Reef prints them (``Error EPERM: min_compat_client
    luminous < reef, which is required for pg-upmap-primary. ...``, ``Error EINVAL: pg-upmap-primary is only
    supported for replicated pools``).
    """
    mcc = str(snap.osdmap.require_min_compat_client or "").strip().lower()
    if mcc in _RELEASES and _RELEASES.index(mcc) < _RELEASES.index("reef"):
        return refuse("EPERM", f"min_compat_client {mcc} < reef, which is required for pg-upmap-primary. Try 'ceph "
                      "osd set-require-min-compat-client reef' before using the new interface",
                      "ceph osd set-require-min-compat-client reef (once every client runs Reef or later; the "
                      "kernel client does not read pg_upmap_primaries)")
    bad, row = _pg_refusal(snap, change.pgid, refuse)
    if bad is not None:
        return bad
    kind = str(row_value(row, "type", "replicated")).lower()
    if kind not in ("replicated", "1"):
        return refuse("EINVAL", "pg-upmap-primary is only supported for replicated pools",
                      "name a PG of a replicated pool")
    if not _osd_exists(snap, int(change.osd)):
        return refuse("ENOENT", f"osd.{int(change.osd)} does not exist", "name an OSD that exists (ceph osd ls)")
    return None


def _upmap_refusal(snap: Snapshot, change: AddUpmapItems, refuse: Any) -> Refusal | None:
    """The ``osd pg-upmap-items`` handler: compat client, pgid, pair count, OSD existence."""
    mcc = str(snap.osdmap.require_min_compat_client or "").strip().lower()
    if mcc in _RELEASES and _RELEASES.index(mcc) < _RELEASES.index("luminous"):
        return refuse("EPERM", f"min_compat_client {mcc} < luminous, which is required for pg-upmap. Try 'ceph osd "
                      "set-require-min-compat-client luminous' before using the new interface",
                      "ceph osd set-require-min-compat-client luminous (once no pre-Luminous client remains)")
    bad, row = _pg_refusal(snap, change.pgid, refuse)
    if bad is not None:
        return bad
    size = int(row["size"])
    if len(change.pairs) > size:
        return refuse("EINVAL", f"num of osd pairs ({len(change.pairs)}) > pool size ({size})",
                      f"give at most {size} pairs")
    said, valid = "", []
    for a, b in change.pairs:
        a, b = int(a), int(b)
        if a == b:
            said += f"from osd.{a} == to osd.{b}, "
            continue
        for o in (a, b):
            if (o != ITEM_NONE or o == a) and not _osd_exists(snap, o):
                return refuse("ENOENT", f"{said}osd.{o} does not exist", "name OSDs that exist (ceph osd ls)")
        if (a, b) in valid:
            said += f"osd.{a} -> osd.{b} already exists, "
            continue
        valid.append((a, b))
    if not valid:
        return refuse("EINVAL", f"{said}no valid upmap items(pairs) is specified",
                      "give at least one pair FROM:TO with FROM != TO")
    return None
