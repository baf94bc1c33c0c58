"""``ceph pg dump -f json`` (and its sub-dumps) and ``ceph pg ls -f json``.

Accepted shapes (see ``pg_dump_formats.md`` §3):

* ``pg dump`` / ``pg dump all``: the flat pgmap object (Jewel/Luminous/Mimic) or
  ``{"pg_ready": .., "pg_map": {..}}`` (Nautilus+).
* ``pg dump pgs|pgs_brief``: a bare array of PG entries (≤ Mimic) or ``{"pg_ready", "pg_stats"}``.
* ``pg dump pools``: a bare array of pool_stat entries or ``{"pg_ready", "pool_stats"}``.
* ``pg dump osds``: a bare array of osd_stat entries or ``{"pg_ready", "osd_stats", "pool_statfs"}``.
* ``pg ls``: a bare array or ``{"pg_ready", "pg_stats"}`` (``pg_stats`` absent when nothing matched).

Tables produced:

``pgs``
    ``pgid, pool_id, ps, state, up, up_primary, acting, acting_primary`` (no ``pool`` name: the dump
    does not carry it), then the statistics of ``stat_sum`` (``objects`` = ``num_objects``, ``bytes``,
    ``omap_bytes``, ``omap_keys``, ``degraded``, ``misplaced``, ``unfound``, ``missing_on_primary``,
    ``log_size``, ``ondisk_log_size``; nullable ``Int64``) and ``version``, ``reported_seq``,
    ``reported_epoch`` (``Int64``; strings in Jewel–Pacific-dev, numbers later), ``last_change``
    (the state stamp), ``last_scrub``, ``last_scrub_stamp``, ``last_deep_scrub``,
    ``last_deep_scrub_stamp`` (strings as printed).  A PG entry without ``state`` (seen in edited
    fixtures) gets ``""``.  EC holes stay ``NONE`` (2147483647).
``pool_stats``
    ``pool_id, num_pg, objects, bytes, stored, omap_bytes, omap_keys, degraded, misplaced, unfound,
    log_size, ondisk_log_size, up, acting`` — here ``up``/``acting`` are the integer counts the dump
    gives (sum of set sizes), not vectors.  ``stored`` is ``store_stats.data_stored`` (Nautilus+).
``osd_stats``
    ``osd_id, kb, kb_used, kb_avail, kb_used_data, kb_used_omap, kb_used_meta, pgs`` (= ``num_pgs``,
    absent in Jewel), ``hb_peers`` (tuple; Jewel's ``hb_in``), ``up_from``.

Release detection (``Fragment.release``):

==========================================================  ===============
what the dump shows                                         release
==========================================================  ===============
``pg_ready`` envelope                                       ``nautilus+``
 … and ISO timestamps (``2020-06-11T14:45:27…``)            ``octopus+``
 … and a PG entry with ``scrub_schedule``                   ``quincy+``
flat pgmap with ``min_last_epoch_clean``, no
``num_legacy_snapsets`` in ``pg_stats_sum``                 ``jewel``
flat pgmap with ``min_last_epoch_clean`` and it             ``luminous``
flat pgmap without ``min_last_epoch_clean``                 ``mimic``
bare arrays                                                 ``None``
==========================================================  ===============

The typed accessors for decoded JSON that every JSON parser of this package uses (``get_int`` & co.) live
in ``pgtools.io._json``; they turn wrong types into :class:`DumpFormatError` naming the field.
"""

from __future__ import annotations

import json

import pandas as pd

from ..errors import DumpFormatError
from ..model import PG_STAT_COLUMNS, empty_pgs, pgid_str, split_pgid
from ._common import Fragment, loads_json, strip_noise_lines
from ._json import (
    I64_MAX,
    as_dict,
    as_list,
    field_error,
    get_bool,
    get_int,
    get_str,
    int64_col,
    int_tuple,
    type_name,
)

__all__ = ["sniff", "parse", "pgmap_fragment", "pg_stats_frame", "pool_stats_frame", "osd_stats_frame"]


def _first_dict(items: list) -> dict | None:
    return items[0] if items and isinstance(items[0], dict) else None


def _looks_pgmap(obj: dict) -> bool:
    return "pg_stats" in obj and ("pg_stats_sum" in obj or "osd_stats" in obj or "pool_stats" in obj) \
        or ("pg_stats_sum" in obj and "stamp" in obj)


def _array_kind(items: list) -> str | None:
    first = _first_dict(items)
    if first is None:
        return None
    if "pgid" in first and ("up" in first or "state" in first):
        return "pg_stats"
    if "poolid" in first and "stat_sum" in first:
        return "pool_stats"
    if "osd" in first and "kb" in first and "kb_avail" in first:
        return "osd_stats"
    return None


def _concatenated_arrays(text: str) -> list[list] | None:
    """Decode ≤ Mimic ``pg dump pools osds -f json`` output: several JSON arrays back to back.

    Returns the arrays, or None when the text is not two or more concatenated arrays.
    """
    body = "\n".join(ln for _, ln in strip_noise_lines(text.splitlines())).strip()
    if not body.startswith("["):
        return None
    decoder = json.JSONDecoder()
    docs: list[list] = []
    pos = 0
    try:
        while pos < len(body):
            doc, end = decoder.raw_decode(body, pos)
            if not isinstance(doc, list):
                return None
            docs.append(doc)
            while end < len(body) and body[end].isspace():
                end += 1
            pos = end
    except (json.JSONDecodeError, RecursionError):
        return None
    return docs if len(docs) >= 2 else None


def sniff(text: str, obj: object | None) -> bool:
    """True for the JSON of ``pg dump [all|pgs|pgs_brief|pools|osds|summary]`` and ``pg ls``.

    Also true for the ≤ Mimic output of ``pg dump pools osds -f json`` (two arrays back to back, which
    is not one JSON document, so ``obj`` is None).

    Parameters
    ----------
    text : str
        The file's text (unused: sniffing is done on ``obj``).
    obj : object or None
        The decoded JSON, None when the text is not JSON.

    Returns
    -------
    bool
    """
    if obj is None:
        docs = _concatenated_arrays(text) if text.lstrip()[:1] == "[" else None
        return docs is not None and all(_array_kind(d) is not None or not d for d in docs)
    if isinstance(obj, list):
        return _array_kind(obj) is not None
    if not isinstance(obj, dict):
        return False
    if "pg_map" in obj and isinstance(obj["pg_map"], dict):
        return True
    if "pg_ready" in obj and any(k in obj for k in ("pg_stats", "pool_stats", "osd_stats", "delta")):
        return True
    if "pg_ready" in obj and len(obj) == 1:
        return True  # `pg ls` that matched nothing
    if "cluster_fingerprint" in obj or "osdmap" in obj:
        return False  # ceph report
    return _looks_pgmap(obj)


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------

_STAT_SUM_MAP = {
    "objects": "num_objects",
    "bytes": "num_bytes",
    "omap_bytes": "num_omap_bytes",
    "omap_keys": "num_omap_keys",
    "missing_on_primary": "num_objects_missing_on_primary",
    "degraded": "num_objects_degraded",
    "misplaced": "num_objects_misplaced",
    "unfound": "num_objects_unfound",
}
_PG_STR_FIELDS = ["version", "last_change", "last_scrub", "last_scrub_stamp", "last_deep_scrub",
                  "last_deep_scrub_stamp"]


def pg_stats_frame(entries: list, source: str = "<string>", where: str = "pg_stats") -> pd.DataFrame:
    """Turn a list of ``pg_stat`` JSON entries (full or ``pgs_brief``) into the ``pgs`` table.

    Parameters
    ----------
    entries : list of dict
        ``pg_stats`` entries as decoded from JSON.
    source : str
        Name of the input, for error messages.
    where : str
        Path of the array in the document, used to name fields in error messages.

    Returns
    -------
    DataFrame
        One row per PG; see the module documentation for the columns.

    Raises
    ------
    DumpFormatError
        On a missing ``pgid``/``up``/``acting``, wrong value types, or a duplicate pgid.
    """
    entries = as_list(entries, source, where)
    cols: dict[str, list] = {c: [] for c in ("pgid", "pool_id", "ps", "state", "up", "up_primary",
                                             "acting", "acting_primary")}
    stats: dict[str, list] = {c: [] for c in PG_STAT_COLUMNS}
    extra_int: dict[str, list] = {"reported_seq": [], "reported_epoch": []}
    extra_str: dict[str, list] = {c: [] for c in _PG_STR_FIELDS}
    scrub_schedule: list = []
    have_stats = have_extra = have_sched = False
    seen: set[str] = set()
    for i, e in enumerate(entries):
        w = f"{where}[{i}]."
        e = as_dict(e, source, f"{where}[{i}]")
        pgid = get_str(e, "pgid", source, w)
        try:
            pool_id, ps = split_pgid(pgid)
            if pool_id > I64_MAX or ps > I64_MAX:
                raise ValueError(pgid)
        except ValueError:
            raise field_error(f"not a pgid: {pgid[:40]!r}", source, w + "pgid") from None
        canon = pgid_str(pool_id, ps)
        if canon in seen:
            raise field_error(f"duplicate pgid {canon}", source, w + "pgid")
        seen.add(canon)
        for key in ("up", "acting"):
            if key not in e:
                raise field_error("missing", source, w + key)
        up = int_tuple(e["up"], source, w + "up")
        acting = int_tuple(e["acting"], source, w + "acting")
        cols["pgid"].append(canon)
        cols["pool_id"].append(pool_id)
        cols["ps"].append(ps)
        cols["state"].append(get_str(e, "state", source, w, ""))
        cols["up"].append(up)
        cols["acting"].append(acting)
        cols["up_primary"].append(get_int(e, "up_primary", source, w, up[0] if up else -1))
        cols["acting_primary"].append(get_int(e, "acting_primary", source, w, acting[0] if acting else -1))
        ss = e.get("stat_sum")
        if ss is not None or "log_size" in e:
            have_stats = True
        ss = as_dict(ss, source, w + "stat_sum") if ss is not None else {}
        for col, key in _STAT_SUM_MAP.items():
            stats[col].append(get_int(ss, key, source, w + "stat_sum.", None))
        for col in ("log_size", "ondisk_log_size"):
            stats[col].append(get_int(e, col, source, w, None))
        if "version" in e or "reported_seq" in e:
            have_extra = True
        for col in extra_int:
            extra_int[col].append(get_int(e, col, source, w, None))
        for col in extra_str:
            extra_str[col].append(get_str(e, col, source, w, None))
        if "scrub_schedule" in e:
            have_sched = True
        scrub_schedule.append(get_str(e, "scrub_schedule", source, w, None))
    df = pd.DataFrame({
        "pgid": pd.Series(cols["pgid"], dtype="object"),
        "pool_id": pd.Series(cols["pool_id"], dtype="int64"),
        "ps": pd.Series(cols["ps"], dtype="int64"),
        "state": pd.Series(cols["state"], dtype="object"),
        "up": pd.Series(cols["up"], dtype="object"),
        "up_primary": pd.Series(cols["up_primary"], dtype="int64"),
        "acting": pd.Series(cols["acting"], dtype="object"),
        "acting_primary": pd.Series(cols["acting_primary"], dtype="int64"),
    })
    if have_stats:
        for col in PG_STAT_COLUMNS:
            df[col] = int64_col(stats[col])
    if have_extra:
        for col, vals in extra_int.items():
            df[col] = int64_col(vals)
        for col, vals in extra_str.items():
            df[col] = pd.Series(vals, dtype="object")
    if have_sched:
        df["scrub_schedule"] = pd.Series(scrub_schedule, dtype="object")
    return df


def pool_stats_frame(entries: list, source: str = "<string>", where: str = "pool_stats") -> pd.DataFrame:
    """Turn ``pool_stats`` JSON entries into the ``pool_stats`` table (see the module documentation).

    Parameters
    ----------
    entries : list of dict
    source : str
    where : str

    Returns
    -------
    DataFrame

    Raises
    ------
    DumpFormatError
    """
    entries = as_list(entries, source, where)
    names = ["pool_id", "num_pg", "objects", "bytes", "stored", "omap_bytes", "omap_keys", "degraded",
             "misplaced", "unfound", "log_size", "ondisk_log_size", "up", "acting"]
    cols: dict[str, list] = {c: [] for c in names}
    for i, e in enumerate(entries):
        w = f"{where}[{i}]."
        e = as_dict(e, source, f"{where}[{i}]")
        cols["pool_id"].append(get_int(e, "poolid", source, w))
        cols["num_pg"].append(get_int(e, "num_pg", source, w, None))
        ss = as_dict(e.get("stat_sum", {}), source, w + "stat_sum")
        for col in ("objects", "bytes", "omap_bytes", "omap_keys", "degraded", "misplaced", "unfound"):
            cols[col].append(get_int(ss, _STAT_SUM_MAP[col], source, w + "stat_sum.", None))
        st = as_dict(e.get("store_stats", {}), source, w + "store_stats")
        cols["stored"].append(get_int(st, "data_stored", source, w + "store_stats.", None))
        for col in ("log_size", "ondisk_log_size", "up", "acting"):
            cols[col].append(get_int(e, col, source, w, None))
    df = pd.DataFrame({c: int64_col(v) for c, v in cols.items()})
    df["pool_id"] = df["pool_id"].astype("int64")
    return df


def osd_stats_frame(entries: list, source: str = "<string>", where: str = "osd_stats") -> pd.DataFrame:
    """Turn ``osd_stats`` JSON entries into the ``osd_stats`` table (see the module documentation).

    Parameters
    ----------
    entries : list of dict
    source : str
    where : str

    Returns
    -------
    DataFrame

    Raises
    ------
    DumpFormatError
    """
    entries = as_list(entries, source, where)
    ints = ["kb", "kb_used", "kb_avail", "kb_used_data", "kb_used_omap", "kb_used_meta", "up_from"]
    osd_ids: list[int] = []
    cols: dict[str, list] = {c: [] for c in ints}
    pgs: list = []
    peers: list = []
    for i, e in enumerate(entries):
        w = f"{where}[{i}]."
        e = as_dict(e, source, f"{where}[{i}]")
        osd_ids.append(get_int(e, "osd", source, w))
        for c in ints:
            cols[c].append(get_int(e, c, source, w, None))
        pgs.append(get_int(e, "num_pgs", source, w, None))
        key = "hb_peers" if "hb_peers" in e else "hb_in"
        peers.append(int_tuple(e.get(key, []), source, w + key))
    df = pd.DataFrame({"osd_id": pd.Series(osd_ids, dtype="int64")})
    for c in ("kb", "kb_used", "kb_avail", "kb_used_data", "kb_used_omap", "kb_used_meta"):
        df[c] = int64_col(cols[c])
    df["pgs"] = int64_col(pgs)
    df["hb_peers"] = pd.Series(peers, dtype="object")
    df["up_from"] = int64_col(cols["up_from"])
    return df


# --------------------------------------------------------------------------------------------------
# fragments
# --------------------------------------------------------------------------------------------------

def _has_iso_stamps(pgmap: dict, pgs: list | None) -> bool:
    stamp = pgmap.get("stamp")
    if isinstance(stamp, str) and "T" in stamp:
        return True
    first = _first_dict(pgs or [])
    if first is not None:
        lc = first.get("last_fresh")
        return isinstance(lc, str) and "T" in lc
    return False


def _flat_release(pgmap: dict) -> str | None:
    if "min_last_epoch_clean" not in pgmap:
        return "mimic" if "pg_stats_sum" in pgmap else None
    sums = pgmap.get("pg_stats_sum")
    ss = sums.get("stat_sum") if isinstance(sums, dict) else None
    if isinstance(ss, dict) and "num_legacy_snapsets" not in ss:
        return "jewel"
    return "luminous"


def _merge_arrays(docs: list[list], source: str) -> Fragment:
    frag = Fragment(kind="pg_dump_json", source=source)
    for i, doc in enumerate(docs):
        part = _parse("", source=source, obj=doc)
        for attr in ("pgs", "pool_stats", "osd_stats"):
            value = getattr(part, attr)
            if value is None:
                continue
            if getattr(frag, attr) is not None:
                raise field_error(f"array {i + 1} repeats a table already given", source, None)
            setattr(frag, attr, value)
    return frag


def pgmap_fragment(obj: dict, source: str = "<string>", *, enveloped: bool = False,
                   kind: str = "pg_dump_json") -> Fragment:
    """Fragment for one pgmap object (``pg dump -f json`` body, or ``ceph report``'s ``pgmap``).

    Parameters
    ----------
    obj : dict
        The pgmap object: ``version, stamp, ..., pg_stats, pool_stats, osd_stats``; any of the tables
        may be missing.
    source : str
        Name of the input, for error messages.
    enveloped : bool
        True when the object came from a Nautilus+ ``{"pg_ready", "pg_map"}`` envelope.
    kind : str
        ``Fragment.kind`` to set.

    Returns
    -------
    Fragment
        ``pgs``, ``pool_stats``, ``osd_stats`` and ``extra`` (``pgmap_version``, ``stamp``,
        ``last_osdmap_epoch``).

    Raises
    ------
    DumpFormatError
    """
    where = "pg_map." if enveloped else ""
    obj = as_dict(obj, source, where.rstrip(".") or "pgmap")
    frag = Fragment(kind=kind, source=source)
    pg_entries = obj.get("pg_stats")
    if pg_entries is not None:
        frag.pgs = pg_stats_frame(pg_entries, source, where + "pg_stats")
    if obj.get("pool_stats") is not None:
        frag.pool_stats = pool_stats_frame(obj["pool_stats"], source, where + "pool_stats")
    if obj.get("osd_stats") is not None:
        frag.osd_stats = osd_stats_frame(obj["osd_stats"], source, where + "osd_stats")
    if "version" in obj:
        frag.extra["pgmap_version"] = get_int(obj, "version", source, where)
    if "stamp" in obj:
        frag.extra["stamp"] = get_str(obj, "stamp", source, where)
    epoch = get_int(obj, "last_osdmap_epoch", source, where, None)
    if epoch is not None:
        frag.extra["last_osdmap_epoch"] = epoch
        if epoch > 0:  # mgr-era dumps print 0 here (hazard 19)
            frag.epoch = epoch
    if enveloped:
        frag.release = "nautilus+"
        if _has_iso_stamps(obj, pg_entries if isinstance(pg_entries, list) else None):
            frag.release = "octopus+"
    else:
        frag.release = _flat_release(obj)
    if isinstance(pg_entries, list) and frag.pgs is not None and "scrub_schedule" in frag.pgs.columns:
        frag.release = "quincy+"
    return frag


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse a ``pg dump``/``pg ls`` JSON document (see :func:`_parse`)."""
    frag = _parse(text, source=source, obj=obj)
    if frag.pgs is not None and len(frag.pgs) and "objects" not in frag.pgs.columns:
        frag.kind = "pg_dump_pgs_brief_json"  # no statistics: ranks below full dumps when merging
    return frag


def _parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse a ``pg dump``/``pg ls`` JSON document.

    Parameters
    ----------
    text : str
        The file's text.
    source : str
        Name of the input, for error messages.
    obj : object, optional
        The already-decoded JSON (saves decoding it again).

    Returns
    -------
    Fragment
        kind ``"pg_dump_json"`` (``"pg_dump_pgs_brief_json"`` when the PG entries carry no statistics);
        see the module documentation for the tables.

    Raises
    ------
    DumpFormatError
        For anything that is not one of the accepted shapes, or has wrong value types.
    """
    if obj is None:
        try:
            obj = loads_json(text, source=source)
        except DumpFormatError:
            docs = _concatenated_arrays(text)
            if docs is None:
                raise
            return _merge_arrays(docs, source)
    if isinstance(obj, list):
        kind = _array_kind(obj)
        frag = Fragment(kind="pg_dump_json", source=source)
        if kind == "pg_stats" or not obj:
            frag.pgs = pg_stats_frame(obj, source, "")
        elif kind == "pool_stats":
            frag.pool_stats = pool_stats_frame(obj, source, "")
        elif kind == "osd_stats":
            frag.osd_stats = osd_stats_frame(obj, source, "")
        else:
            raise field_error("array is neither PG, pool nor OSD stats", source, None)
        return frag
    if not isinstance(obj, dict):
        raise field_error(f"expected a pg dump object or array, got {type_name(obj)}", source, None)
    if "pg_map" in obj:
        frag = pgmap_fragment(obj["pg_map"], source, enveloped=True)
        frag.extra["pg_ready"] = get_bool(obj, "pg_ready", source, "", None)
        return frag
    if "pg_ready" in obj:
        frag = pgmap_fragment({k: v for k, v in obj.items() if k in ("pg_stats", "pool_stats", "osd_stats")},
                              source, enveloped=True)
        frag.extra["pg_ready"] = get_bool(obj, "pg_ready", source, "")
        if "pg_stats" not in obj and "pool_stats" not in obj and "osd_stats" not in obj:
            frag.pgs = empty_pgs().drop(columns=["pool"])  # `pg ls` that matched nothing
        return frag
    if _looks_pgmap(obj):
        return pgmap_fragment(obj, source)
    raise field_error("not a pg dump: no pg_map, pg_stats, pool_stats or osd_stats", source, None)
