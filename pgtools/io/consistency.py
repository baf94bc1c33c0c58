"""Cross-file checks of a capture: do the files describe one cluster, at one time, consistently?

:func:`pgtools.io.load` parses every file on its own; :func:`cross_check` then compares them.  What it
finds is either a *conflict* (a hard contradiction: the files cannot describe one cluster state, so
loading is refused with :class:`~pgtools.errors.SnapshotConflictError` unless ``on_conflict="warn"``) or
a *warning* (usable, but something was assumed: ``snap.warnings``).

The rules
---------
fsid
    Two files that state a cluster fsid (``osd dump``, ``ceph status``, ``ceph report``) and differ:
    conflict.
osdmap epoch
    Two files that state the osdmap epoch they were taken at (``osd dump``, ``ceph report``) and differ:
    conflict.  The epoch a PG map states (``last_osdmap_epoch`` of ``pg dump``, Jewel to Nautilus; Ceph
    prints 0 since Octopus), or, failing that, the newest epoch a PG reported at (``reported_epoch``: each
    PG re-reports at least every ``osd_pg_stat_report_interval_max``, 500 s, stamped with its OSD's osdmap
    epoch), may differ from the osdmap's: the PG map trails the osdmap by a few epochs during any change,
    so that is a warning naming both files and both epochs (up/acting of PGs remapped in between are the
    PG map's).
release
    Each parser says which release its format comes from: exactly (``pacific``) or a lower bound
    (``octopus+``).  Files whose releases cannot overlap are from different clusters when more than two
    releases apart (Ceph upgrades at most two releases at a time, so no cluster runs both): conflict;
    one or two releases apart is a mixed-version cluster during an upgrade at best: warning.
pool tables (``osd dump``, ``osd pool ls detail``, ``ceph report``) against each other
    A pool id only one of them has, or named differently in the two: conflict (pools are created, deleted
    and renamed in the osdmap, which both print).  The same pools with another ``size``, ``pg_num`` or
    ``pgp_num``: warning (the mgr steps pg_num and pgp_num while files are taken; the first file is used).
pools and pg_num (against a pool table with pg_num: ``osd dump``, ``osd pool ls detail``, ``ceph report``)
    PGs of a pool that the pool table does not have: conflict.  A PG whose seed ``ps`` is not below its
    pool's pg_num: conflict (a warning while the pool is merging, ``pg_num_pending`` or ``pg_num_target``
    below ``pg_num``).  Fewer PGs than pg_num: warning naming the pools (a cut file, or a split still
    creating PGs).
completeness
    A plain ``ceph pg dump`` (it starts ``version N``) that stops before the pool and OSD sums closing it:
    warning (the file is cut short; a cut through a row is the parser's own warning).
CRUSH maps and ``osd tree`` (against the osdmap, and each other)
    A device in a CRUSH bucket at or beyond the osdmap's ``max_osd``: conflict.  ``ceph osd crush add``,
    ``set`` and ``create-or-move`` refuse an OSD the osdmap does not have (ENOENT "does not exist. Create it
    before updating the crush map"), and ``max_osd`` never shrinks below an existing OSD, so such a map is
    another cluster's.  A device below ``max_osd`` that the osdmap no longer lists is normal (``ceph osd rm``
    leaves the CRUSH item): not reported.  A pool whose ``crush_rule`` (a ruleset before Luminous) the CRUSH
    map lacks: conflict (``ceph osd crush rule rm`` refuses a rule in use, EBUSY).  An OSD up and in that no
    CRUSH bucket holds: warning (possible with ``osd_crush_update_on_start = false``; it gets no PGs).  No
    fsid is checked: a CRUSH map carries none.  Two CRUSH sources without a binary map (a binary one is
    compared field by field when it is picked) that put a device under different hosts: conflict (``osd
    tree`` and ``osd crush dump`` print the same map).
binary osdmap (``ceph osd getmap``, the most exact osdmap input) against ``osd dump`` / ``ceph report``
    Both state the whole osdmap: pools (every column), OSD state, reweight and primary affinity (16.16
    fixed point), upmaps, temps, flags, ratios, required releases, ``pool_max``, ``crush_version`` and
    erasure-code profiles must be the same, else conflict (at another epoch the epoch rule already says so).
OSD ids (against an ``osd dump``, ``ceph report`` or binary osdmap)
    A PG mapped to an OSD id the osdmap does not have (not below ``max_osd``, or absent from its OSD list):
    conflict.  OSD rows of ``osd df`` with such ids: conflict (a CRUSH map or ``osd tree`` may list devices the
    osdmap no longer has, as after ``ceph osd rm``: not checked).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from ..crush.constants import ITEM_NONE as NONE
from ._common import Fragment

__all__ = ["cross_check", "RELEASES", "PG_KINDS", "OSDMAP_KINDS", "fsid_of"]

RELEASES = ["hammer", "jewel", "kraken", "luminous", "mimic", "nautilus", "octopus", "pacific", "quincy",
            "reef", "squid", "tentacle"]

#: Formats that carry a PG map (their epoch, when stated, is the PG map's view of the osdmap).
PG_KINDS = {"pg_dump", "pg_dump_json", "pg_ls", "pg_ls_json", "pg_dump_pgs", "pg_dump_pgs_brief",
            "pg_dump_pgs_brief_json"}
#: Formats whose pools and OSDs are the osdmap's own (authoritative pool ids, pg_num, OSD ids).
OSDMAP_KINDS = {"osd_dump", "report", "osdmap_binary"}
_POOL_TABLE_KINDS = OSDMAP_KINDS | {"pool_ls_detail"}
_CRUSH_KINDS = {"crush_dump", "crushmap_text", "crushmap_binary", "osd_tree"}

#: Ceph supports upgrades of at most this many releases at a time.
_MAX_UPGRADE_STEP = 2

_FSID = re.compile(r"^fsid\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*$", re.M)


def fsid_of(text: str, obj: object | None) -> str | None:
    """The cluster fsid a file states: top-level ``"fsid"`` (osd dump, status), ``osdmap.fsid`` (report),
    or a plain ``fsid UUID`` line (``ceph osd dump``); None when it states none."""
    if isinstance(obj, dict):
        for d in (obj, obj.get("osdmap")):
            if isinstance(d, dict) and isinstance(d.get("fsid"), str) and d["fsid"]:
                return d["fsid"]
        return None
    if obj is None:
        m = _FSID.search(text[:65536])
        return m.group(1) if m else None
    return None


def _names(files: Iterable[str]) -> str:
    return ", ".join(sorted(set(files)))


def _short(items: list[Any], n: int = 5) -> str:
    return ", ".join(map(str, items[:n])) + (f" (+{len(items) - n} more)" if len(items) > n else "")


def _release_range(r: str | None) -> tuple[int, int] | None:
    """``(lo, hi)`` release indices a label allows (``"octopus+"`` → octopus..newest); None if unknown."""
    if not r:
        return None
    base = r.rstrip("+")
    if base not in RELEASES:
        return None
    i = RELEASES.index(base)
    return (i, len(RELEASES) - 1) if r.endswith("+") else (i, i)


def _check_fsid(fragments: list[Fragment], conflicts: list[str]) -> None:
    by: dict[str, list[str]] = {}
    for f in fragments:
        fsid = getattr(f, "fsid", None)
        if fsid:
            by.setdefault(fsid, []).append(f.source)
    if len(by) > 1:
        desc = "; ".join(f"{fsid} in {_names(src)}" for fsid, src in sorted(by.items()))
        conflicts.append(f"files come from different clusters (fsid {desc})")


def _pg_map_epoch(f: Fragment) -> int | None:
    if f.epoch:
        return int(f.epoch)
    e = (f.extra or {}).get("last_osdmap_epoch")
    if e:
        return int(e)
    if f.pgs is not None and "reported_epoch" in f.pgs.columns and len(f.pgs):
        m = pd.to_numeric(f.pgs["reported_epoch"], errors="coerce").max()
        if pd.notna(m) and m > 0:
            return int(m)
    return None


def _check_epochs(fragments: list[Fragment], conflicts: list[str], warns: list[str]) -> int | None:
    """Osdmap epochs must agree; a PG map at another epoch is a warning.  Returns the osdmap epoch."""
    osdmap: dict[int, list[str]] = {}
    for f in fragments:
        if f.epoch and f.kind not in PG_KINDS:
            osdmap.setdefault(int(f.epoch), []).append(f.source)
    if len(osdmap) > 1:
        desc = "; ".join(f"epoch {e}: {_names(s)}" for e, s in sorted(osdmap.items()))
        conflicts.append(f"files come from different osdmap epochs ({desc})")
    epoch = max(osdmap) if osdmap else None
    for f in fragments:
        if f.kind not in PG_KINDS:
            continue
        pe = _pg_map_epoch(f)
        if epoch is None or pe is None or pe == epoch:
            continue
        if pe < epoch and not f.epoch and not (f.extra or {}).get("last_osdmap_epoch"):
            # only the PGs' own reports date this PG map (Ceph prints last_osdmap_epoch 0 since Octopus):
            # every PG re-reports at least every osd_pg_stat_report_interval_max (500 s) stamped with its
            # OSD's osdmap epoch, so a newest report older than the osdmap means no PG had reported since
            warns.append(f"{f.source}: its newest PG report is at osdmap epoch {pe}, {epoch - pe} epoch(s) behind "
                         f"the osdmap of {_names(osdmap[epoch])} (epoch {epoch}): the PG map may predate the "
                         "last osdmap change(s); up/acting are the PG map's")
            continue
        where = "behind" if pe < epoch else "ahead of"
        warns.append(f"{f.source} is a PG map at osdmap epoch {pe}, {abs(epoch - pe)} epoch(s) {where} the osdmap "
                     f"of {_names(osdmap[epoch])} (epoch {epoch}): normal during a change; up/acting of PGs "
                     "remapped in between are the PG map's")
    return epoch


def _check_releases(fragments: list[Fragment], conflicts: list[str], warns: list[str]) -> None:
    ranged = [(f, _release_range(f.release)) for f in fragments]
    ranged = [(f, r) for f, r in ranged if r is not None]
    worst: tuple[int, Fragment, Fragment] | None = None
    for i, (a, ra) in enumerate(ranged):
        for b, rb in ranged[i + 1:]:
            gap = max(rb[0] - ra[1], ra[0] - rb[1])
            if gap > 0 and (worst is None or gap > worst[0]):
                older, newer = (a, b) if ra[1] < rb[0] else (b, a)
                worst = (gap, older, newer)
    if worst is None:
        return
    gap, older, newer = worst
    msg = (f"{older.source} is in the format of {older.release}, {newer.source} of {newer.release}: "
           f"{gap} release(s) apart")
    if gap > _MAX_UPGRADE_STEP:
        conflicts.append(msg + f" (no cluster runs both: Ceph upgrades at most {_MAX_UPGRADE_STEP} releases at a "
                               "time); they are not one capture")
    else:
        warns.append(msg + " (a mixed-version cluster during an upgrade?)")


def _check_pools(fragments: list[Fragment], pgs: pd.DataFrame, pools: pd.DataFrame, pg_source: str | None,
                 conflicts: list[str], warns: list[str]) -> None:
    table = [f for f in fragments if f.kind in _POOL_TABLE_KINDS and f.pools is not None and len(f.pools)
             and "pg_num" in f.pools.columns]
    if not len(pgs) or not table or "pg_num" not in pools.columns:
        return
    where = _names(f.source for f in table)
    known = set(pools.pool_id.astype(int))
    pg_pools = pgs.pool_id.astype(int)
    missing = sorted(set(pg_pools) - known)
    if missing:
        n = int(pg_pools.isin(missing).sum())
        conflicts.append(f"{pg_source} has {n} PGs of pool(s) {_short(missing)} that {where} does not have "
                         f"(pools there: {_short(sorted(known))}): not the same cluster or time")
    p = pools.set_index("pool_id")
    pg_num = pd.to_numeric(p["pg_num"], errors="coerce")
    merging = pd.Series(False, index=p.index)
    for c in ("pg_num_pending", "pg_num_target"):
        if c in p.columns:
            merging |= pd.to_numeric(p[c], errors="coerce") < pg_num
    ok = pgs[pg_pools.isin(known)]
    limit = ok.pool_id.astype(int).map(pg_num)
    over = ok[(ok.ps.astype("int64") >= limit) & limit.notna()]
    if len(over):
        hard = over[~over.pool_id.astype(int).map(merging).fillna(False).astype(bool)]
        soft = over[over.pool_id.astype(int).map(merging).fillna(False).astype(bool)]
        if len(hard):
            conflicts.append(f"{pg_source} has PG(s) {_short(list(hard.pgid))} beyond their pool's pg_num in "
                             f"{where} ({_pg_num_desc(hard, pg_num)}): not the same cluster or time")
        if len(soft):
            warns.append(f"{pg_source} has PG(s) {_short(list(soft.pgid))} beyond pg_num in {where} while their "
                         "pool is merging PGs: kept as the PG map shows them")
    counts = ok[ok.ps.astype("int64") < limit].drop_duplicates("pgid").pool_id.astype(int).value_counts()
    short = []
    have_total = want_total = 0
    for pid, want in pg_num.dropna().astype(int).items():
        have = int(counts.get(pid, 0))
        if have < want:
            short.append((int(pid), have, want))
            have_total += have
            want_total += want
    if short:
        desc = _short([f"{pid} ({have}/{want})" for pid, have, want in short])
        warns.append(f"{pg_source} has {have_total} of the {want_total} PGs of pool(s) {desc} that pg_num in "
                     f"{where} calls for: the file is cut short, or the pools are still creating PGs; the missing "
                     "PGs count nowhere")


def _check_pool_tables(fragments: list[Fragment], conflicts: list[str], warns: list[str]) -> None:
    """Two pool tables (osd dump, osd pool ls detail, report) must name the same pools the same way."""
    table = [f for f in fragments if f.kind in _POOL_TABLE_KINDS and f.pools is not None and len(f.pools)
             and "pool_id" in f.pools.columns]
    if len(table) < 2:
        return
    ref = table[0]
    a = ref.pools.drop_duplicates("pool_id").set_index(ref.pools.drop_duplicates("pool_id").pool_id.astype(int))
    for f in table[1:]:
        b = f.pools.drop_duplicates("pool_id").set_index(f.pools.drop_duplicates("pool_id").pool_id.astype(int))
        only_a, only_b = sorted(set(a.index) - set(b.index)), sorted(set(b.index) - set(a.index))
        common = sorted(set(a.index) & set(b.index))
        renamed = []
        if "pool" in a.columns and "pool" in b.columns:
            renamed = [f"{pid} ({a.at[pid, 'pool']} / {b.at[pid, 'pool']})" for pid in common
                       if pd.notna(a.at[pid, "pool"]) and pd.notna(b.at[pid, "pool"])
                       and str(a.at[pid, "pool"]) != str(b.at[pid, "pool"])]
        if renamed or only_a or only_b:
            parts = [f"pool(s) {_short(renamed)} named differently"] if renamed else []
            parts += [f"pool(s) {_short(only_a)} only in {ref.source}"] if only_a else []
            parts += [f"pool(s) {_short(only_b)} only in {f.source}"] if only_b else []
            conflicts.append(f"{f.source} and {ref.source} list different pools ({'; '.join(parts)}): not the "
                             "same cluster or time")
            continue
        differ = [f"{pid} {c} {int(a.at[pid, c])} / {int(b.at[pid, c])}" for c in ("size", "pg_num", "pgp_num")
                  if c in a.columns and c in b.columns for pid in common
                  if pd.notna(a.at[pid, c]) and pd.notna(b.at[pid, c]) and int(a.at[pid, c]) != int(b.at[pid, c])]
        if differ:
            warns.append(f"{f.source} and {ref.source} disagree on pool(s) {_short(differ)}: taken while the "
                         f"pools changed? using {ref.source}")


#: osdmap facts a binary osdmap and a dump of it must share (``blocklist`` is not decoded from the binary).
_OSDMAP_FACTS = ("max_osd", "flags", "full_ratio", "backfillfull_ratio", "nearfull_ratio", "require_osd_release",
                 "require_min_compat_client", "pool_max", "crush_version", "pg_upmap", "pg_upmap_items", "pg_temp",
                 "primary_temp", "pg_upmap_primaries", "erasure_code_profiles")
_OSD_FACTS = ["osd_id", "exists", "up", "in", "weight_fixed", "primary_affinity_fixed"]


def _same_fact(key: str, exact: Any, other: Any) -> bool:
    """One osdmap fact of a binary osdmap (``exact``) against a dump's: ratios are float32 in the map (the
    plain ``osd dump`` prints them rounded, 0.95); the plain form lists no erasure-code profiles (``{}``)."""
    if key.endswith("_ratio") and isinstance(exact, float) and isinstance(other, (int, float)):
        return struct.pack("<f", exact) == struct.pack("<f", float(other))
    if key == "erasure_code_profiles" and not other:
        return True
    return exact == other


def _check_binary_osdmap(fragments: list[Fragment], conflicts: list[str]) -> None:
    """A binary osdmap and an ``osd dump`` / ``ceph report`` of the same epoch must state the same osdmap."""
    binary = [f for f in fragments if f.kind == "osdmap_binary" and f.osdmap]
    if not binary:
        return
    ref = binary[0]
    for other in fragments:
        if other is ref or other.kind not in OSDMAP_KINDS or not other.osdmap:
            continue
        if ref.epoch and other.epoch and ref.epoch != other.epoch:
            continue  # _check_epochs reports it
        diff = [k for k in _OSDMAP_FACTS if k in other.osdmap and other.osdmap[k] is not None
                and not _same_fact(k, ref.osdmap.get(k), other.osdmap[k])]
        if ref.pools is not None and other.pools is not None:
            cols = [c for c in ref.pools.columns if c in other.pools.columns]
            a = ref.pools[cols].sort_values("pool_id").reset_index(drop=True)
            b = other.pools[cols].sort_values("pool_id").reset_index(drop=True)
            if not a.astype(str).equals(b.astype(str)):
                diff.append("pools")
        if ref.osds is not None and other.osds is not None and set(_OSD_FACTS) <= set(other.osds.columns):
            a = ref.osds[_OSD_FACTS].sort_values("osd_id").reset_index(drop=True)
            b = other.osds[_OSD_FACTS].sort_values("osd_id").reset_index(drop=True)
            if not a.astype(str).equals(b.astype(str)):
                diff.append("osds")
        if diff:
            conflicts.append(f"{ref.source} and {other.source} are different osdmaps (they differ in "
                             f"{', '.join(diff)})")


def _crush_devices(crush: Any) -> set[int]:
    """Devices placed in the CRUSH hierarchy (items of its buckets, shadow buckets included)."""
    return {int(it) for b in crush.buckets.values() for it in b.items if it >= 0}


def _check_crush(fragments: list[Fragment], conflicts: list[str], warns: list[str]) -> None:
    """CRUSH maps (and ``osd tree``) against the osdmap, and against each other when no binary map decides."""
    crushes = [f for f in fragments if f.crush is not None]
    if not crushes:
        return
    omap = [f for f in fragments if f.kind in OSDMAP_KINDS and f.osdmap and f.osds is not None]
    pool_tables = [f for f in fragments if f.kind in _POOL_TABLE_KINDS and f.pools is not None and len(f.pools)]
    for f in crushes:
        placed = _crush_devices(f.crush)
        if omap:
            ref = omap[0]
            max_osd = ref.osdmap.get("max_osd")
            if max_osd is not None:
                beyond = sorted(o for o in placed if o >= int(max_osd))
                if beyond:
                    conflicts.append(f"{f.source} places OSD(s) {_short([f'osd.{o}' for o in beyond])} that the "
                                     f"osdmap of {ref.source} (max_osd {max_osd}) cannot have: a CRUSH map of another "
                                     "cluster?")
            live = ref.osds
            for col in ("up", "in"):
                if col in live.columns:
                    live = live[live[col].fillna(False).astype(bool)]
            absent = sorted(int(x) for x in live.osd_id if int(x) not in placed) if len(live) else []
            if absent and placed:
                warns.append(f"{ref.source} has OSD(s) {_short([f'osd.{x}' for x in absent])} up and in that "
                             f"{f.source} does not place (no CRUSH item): they get no PGs here")
        for t in pool_tables:
            if "crush_rule" not in t.pools.columns or not f.crush.rules:
                continue
            known = set(f.crush.rules) | {r.ruleset for r in f.crush.rules.values() if r.ruleset is not None}
            rules = pd.to_numeric(t.pools["crush_rule"], errors="coerce")
            bad = t.pools[rules.notna() & ~rules.isin(known)]
            if len(bad):
                desc = _short([f"{r.pool_id} (rule {int(r.crush_rule)})" for r in bad.itertuples()])
                conflicts.append(f"{t.source} has pool(s) {desc} whose CRUSH rule {f.source} does not have "
                                 f"(rules {_short(sorted(f.crush.rules))}): the mon never removes a rule in use; a "
                                 "CRUSH map of another cluster?")
    if any(f.kind == "crushmap_binary" for f in crushes):
        return  # the binary map is compared with every other one when it is picked (bundle._pick_crush)
    hosts = [(f.source, {o: f.crush.host_of(o) for o in _crush_devices(f.crush)}) for f in crushes]
    hosts += [(f.source, {int(r.osd_id): r.host for r in f.osds.itertuples() if isinstance(r.host, str) and r.host})
              for f in fragments if f.kind == "osd_tree" and f.osds is not None and "host" in f.osds.columns]
    (first, ha), rest = hosts[0], hosts[1:]
    for other, hb in rest:
        moved = [o for o in sorted(set(ha) & set(hb)) if ha[o] != hb[o]]
        if moved:
            o = moved[0]
            conflicts.append(f"{first} and {other} put OSD(s) {_short([f'osd.{x}' for x in moved])} under other "
                             f"hosts (osd.{o}: {ha[o]} / {hb[o]}): not the same CRUSH map")


def _pg_num_desc(rows: pd.DataFrame, pg_num: pd.Series) -> str:
    pids = sorted(set(rows.pool_id.astype(int)))
    return _short([f"pool {pid} pg_num {int(pg_num[pid])}" for pid in pids])


def _check_osds(fragments: list[Fragment], pgs: pd.DataFrame, conflicts: list[str]) -> None:
    omap = [f for f in fragments if f.kind in OSDMAP_KINDS and f.osdmap and f.osds is not None]
    if not omap:
        return
    ref = omap[0]
    max_osd = ref.osdmap.get("max_osd")
    ids = set(ref.osds.osd_id.astype(int)) if len(ref.osds) else set()

    def unknown(osd: int) -> bool:
        return (max_osd is not None and osd >= int(max_osd)) or (bool(ids) and osd not in ids)

    bound = f"max_osd {max_osd}, " if max_osd is not None else ""
    desc = f"{ref.source} ({bound}OSDs {_short(sorted(ids), 8)})"
    if len(pgs):
        bad_rows = np.zeros(len(pgs), dtype=bool)
        bad_osds: set[int] = set()
        for col in ("up", "acting"):
            if col not in pgs.columns:
                continue
            sets = pgs[col]
            lens = np.fromiter((len(x) if x is not None else 0 for x in sets), dtype=np.int64, count=len(sets))
            flat = np.fromiter(chain.from_iterable(x for x in sets if x is not None), dtype=np.int64,
                               count=int(lens.sum()))
            rows = np.repeat(np.arange(len(pgs)), lens)
            valid = (flat >= 0) & (flat != NONE)
            bad = np.zeros(len(flat), dtype=bool)
            if max_osd is not None:
                bad |= flat >= int(max_osd)
            if ids:
                bad |= ~np.isin(flat, np.fromiter(ids, dtype=np.int64))
            bad &= valid
            bad_rows[rows[bad]] = True
            bad_osds |= set(flat[bad].tolist())
        if bad_osds:
            src = _names(f.source for f in fragments if f.pgs is not None and len(f.pgs))
            conflicts.append(f"{src} maps {int(bad_rows.sum())} PGs to OSD(s) "
                             f"{_short([f'osd.{o}' for o in sorted(bad_osds)])} that {desc} does not have: not the "
                             "same cluster or time")
    for f in fragments:
        # CRUSH maps and `osd tree` may hold devices the osdmap no longer has (`ceph osd rm` leaves the CRUSH
        # item; the tree shows it DNE): only OSD tables from the osdmap's OSDs (osd df) are checked
        if f is ref or f.osds is None or not len(f.osds) or f.kind in OSDMAP_KINDS or f.kind in _CRUSH_KINDS:
            continue
        bad = sorted(int(o) for o in f.osds.osd_id if unknown(int(o)))
        if bad:
            conflicts.append(f"{f.source} lists OSD(s) {_short([f'osd.{o}' for o in bad])} that {desc} does not "
                             "have: not the same cluster or time")


_NO_NOTE = re.compile(r"^line (\d+): no `\* NOTE:` line at the end")


def _check_complete(fragments: list[Fragment], warns: list[str]) -> None:
    """A plain ``ceph pg dump`` ends with the pool and OSD sums; one that stops before them is cut short.

    (A cut through a row is already said by the parser: ``last row truncated, ignored``.)  The parser's own
    "no ``* NOTE:`` line" warning for the same cut is folded into this one line (the fragment gets a copy of
    its extra without it).
    """
    for f in fragments:
        extra = f.extra or {}
        if f.kind == "pg_dump" and "pgmap_version" in extra and "osd_sum" not in extra and not extra.get("excerpt"):
            n = 0 if f.pgs is None else len(f.pgs)
            own = list(extra.get("warnings") or [])
            note = next((w for w in own if _NO_NOTE.match(w)), None)
            if note is None:
                warns.append(f"{f.source}: ends after {n} PGs, without the pool and OSD sums that close a `ceph pg "
                             "dump`: the file is cut short? PGs after the cut are missing")
                continue
            own.remove(note)
            f.extra = {**extra, "warnings": own}
            warns.append(f"{f.source}:{_NO_NOTE.match(note).group(1)}: ends after {n} PGs, without the pool and OSD "
                         "sums and the `* NOTE:` line that close a `ceph pg dump`: the output is cut after this "
                         "line? PGs after it are missing")


def cross_check(fragments: list[Fragment], pgs: pd.DataFrame, pools: pd.DataFrame,
                pg_source: str | None) -> tuple[list[str], list[str], int | None]:
    """Check the fragments of one capture against each other (see the module docstring for the rules).

    Parameters
    ----------
    fragments : list of Fragment
        Every parsed file.
    pgs, pools : DataFrame
        The merged PG table (from ``pg_source``) and pool table.
    pg_source : str or None
        The file the PG table comes from.

    Returns
    -------
    conflicts : list of str
        Hard contradictions, one line each naming the files.
    warnings : list of str
        Soft ones.
    epoch : int or None
        The osdmap epoch of the capture.
    """
    conflicts: list[str] = []
    warns: list[str] = []
    _check_fsid(fragments, conflicts)
    _check_complete(fragments, warns)
    epoch = _check_epochs(fragments, conflicts, warns)
    _check_releases(fragments, conflicts, warns)
    _check_pool_tables(fragments, conflicts, warns)
    _check_binary_osdmap(fragments, conflicts)
    _check_crush(fragments, conflicts, warns)
    _check_pools(fragments, pgs, pools, pg_source, conflicts, warns)
    _check_osds(fragments, pgs, conflicts)
    return conflicts, warns, epoch
