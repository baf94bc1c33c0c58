"""``ceph osd pool ls detail``, plain and ``-f json``; and the pool-dict → row converter.

JSON is a list of ``pg_pool_t::dump`` objects, the same shape as ``osd dump``'s ``pools`` (the id is
``pool_id`` here and ``pool`` in ``osd dump``).  Plain is one ``pool N 'name' ...`` line per pool
(``pg_pool_t``'s ``operator<<``), ``key value`` pairs after the type; indented continuation lines
(``removed_snaps``...) are skipped.

``pools`` columns (``POOL_COLUMNS`` then extras):

=====================  ==========  ========================================================================
pool_id                int64       ``pool`` / ``pool_id``
pool                   str         ``pool_name``
type                   str         ``replicated`` (type 1) / ``erasure`` (type 3)
size, min_size         int64
pg_num, pgp_num        int64       ``pgp_num`` = ``pg_placement_num``
pg_num_target          int64       Nautilus+; ``pg_num`` when absent
pgp_num_target         int64       ``pg_placement_num_target``; ``pgp_num`` when absent
pg_num_pending         int64       Nautilus+; ``pg_num`` when absent
crush_rule             int64       ``crush_rule`` (Luminous+) or ``crush_ruleset`` (≤ Jewel)
object_hash            str         ``rjenkins`` (2) / ``linux`` (1)
flags, flags_names     int64, str  the plain form has names only; bits are computed from them
erasure_code_profile   str         ``""`` for replicated pools
ec_k, ec_m             Int64       from the profile, when ``profiles`` is given
pg_autoscale_mode      str         None before Nautilus
target_size_ratio      float       option, 0.0 when unset
target_size_bytes      int64       option, 0 when unset
pg_num_min, pg_num_max Int64       options, ``<NA>`` when unset
bias                   float       option ``pg_autoscale_bias``, 1.0 when unset
bulk                   bool        ``bulk`` in ``flags_names``
application            str         ``application_metadata`` keys, comma-joined in dump order
type_id, stripe_width  int64
=====================  ==========  ========================================================================

Release detection: ``crush_ruleset`` → ``"jewel"``; ``peering_crush_bucket_count`` → ``"pacific+"``;
``pg_num_target`` → ``"nautilus+"``; ``application_metadata`` → ``"luminous+"``.  The plain form:
``autoscale_mode`` → ``"nautilus+"``, ``crush_ruleset`` → ``"jewel"``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ..model import POOL_COLUMNS
from ._common import Fragment, loads_json, strip_noise_lines
from ._json import as_dict, as_list, get_int, get_str, int64_col, to_float, to_int, type_name

__all__ = ["sniff", "parse", "pools_frame", "POOL_FLAG_BITS"]

#: ``pg_pool_t`` flag names and their bits (``osd_types.h``: ``FLAG_*``).
POOL_FLAG_BITS = {
    "hashpspool": 1 << 0, "full": 1 << 1, "ec_overwrites": 1 << 2, "incomplete_clones": 1 << 3,
    "nodelete": 1 << 4, "nopgchange": 1 << 5, "nosizechange": 1 << 6, "write_fadvise_dontneed": 1 << 7,
    "noscrub": 1 << 8, "nodeep-scrub": 1 << 9, "full_quota": 1 << 10, "nearfull": 1 << 11,
    "backfillfull": 1 << 12, "selfmanaged_snaps": 1 << 13, "pool_snaps": 1 << 14, "creating": 1 << 15,
    "eio": 1 << 16, "bulk": 1 << 17,
}
_TYPES = {1: "replicated", 3: "erasure"}
_HASH_NAMES = {1: "linux", 2: "rjenkins"}
_EXTRA = ["type_id", "stripe_width"]


def _is_pool_list(obj: Any) -> bool:
    return (isinstance(obj, list) and bool(obj) and isinstance(obj[0], dict) and "pool_name" in obj[0]
            and "pg_num" in obj[0] and "size" in obj[0])


_PLAIN_LINE = re.compile(r"^pool (\d+) '(.*)' (\S+)(.*)$")


def sniff(text: str, obj: object | None) -> bool:
    """True for ``osd pool ls detail`` (JSON list of pools, or plain ``pool N 'name' ...`` lines only).

    Parameters
    ----------
    text : str
    obj : object or None
        The decoded JSON, None when the text is not JSON.

    Returns
    -------
    bool
    """
    if obj is not None:
        return _is_pool_list(obj)
    lines = [ln for _, ln in strip_noise_lines(text.splitlines()) if ln.strip()]
    if not lines or not _PLAIN_LINE.match(lines[0]):
        return False
    # `osd dump` plain also has pool lines, but starts with `epoch N`; ls detail has nothing else
    return all(_PLAIN_LINE.match(ln) or ln[:1] in (" ", "\t") for ln in lines[:2000])


def _opt(opts: dict, key: str, conv, source: str, where: str, default: Any) -> Any:
    if key not in opts:
        return default
    return conv(opts[key], source, f"{where}options.{key}")


def _flags_from_names(names: str) -> int:
    out = 0
    for n in names.split(","):
        out |= POOL_FLAG_BITS.get(n.strip(), 0)
    return out


def _pool_row(p: dict, source: str, where: str, profiles: dict | None) -> dict:
    if "pool" in p:
        pool_id = get_int(p, "pool", source, where)
    else:
        pool_id = get_int(p, "pool_id", source, where)
    type_id = get_int(p, "type", source, where, 1)
    pg_num = get_int(p, "pg_num", source, where)
    pgp_num = get_int(p, "pg_placement_num", source, where, pg_num)
    if "crush_rule" in p:
        rule = get_int(p, "crush_rule", source, where)
    else:
        rule = get_int(p, "crush_ruleset", source, where)
    flags = get_int(p, "flags", source, where, 0)
    flags_names = get_str(p, "flags_names", source, where, None)
    if flags_names is None:
        flags_names = ",".join(n for n, b in POOL_FLAG_BITS.items() if flags & b)
    oh = p.get("object_hash", 2)
    if isinstance(oh, str) and not oh.isdigit():
        object_hash = oh
    else:
        ohi = to_int(oh, source, where + "object_hash")
        object_hash = _HASH_NAMES.get(ohi, str(ohi))
    opts = as_dict(p.get("options", {}), source, where + "options")
    apps = as_dict(p.get("application_metadata", {}), source, where + "application_metadata")
    ecp = get_str(p, "erasure_code_profile", source, where, "")
    ec_k = ec_m = None
    if profiles and type_id == 3 and ecp in profiles and isinstance(profiles[ecp], dict):
        prof = profiles[ecp]
        ec_k = to_int(prof["k"], source, f"erasure_code_profiles.{ecp}.k") if "k" in prof else None
        ec_m = to_int(prof["m"], source, f"erasure_code_profiles.{ecp}.m") if "m" in prof else None
    bias = _opt(opts, "pg_autoscale_bias", to_float, source, where, 1.0)
    return {
        "pool_id": pool_id,
        "pool": get_str(p, "pool_name", source, where),
        "type": _TYPES.get(type_id, str(type_id)),
        "size": get_int(p, "size", source, where),
        "min_size": get_int(p, "min_size", source, where, 0),
        "pg_num": pg_num,
        "pgp_num": pgp_num,
        "pg_num_target": get_int(p, "pg_num_target", source, where, pg_num),
        "pgp_num_target": get_int(p, "pg_placement_num_target", source, where, pgp_num),
        "pg_num_pending": get_int(p, "pg_num_pending", source, where, pg_num),
        "crush_rule": rule,
        "object_hash": object_hash,
        "flags": flags,
        "flags_names": flags_names,
        "erasure_code_profile": ecp,
        "ec_k": ec_k,
        "ec_m": ec_m,
        "pg_autoscale_mode": get_str(p, "pg_autoscale_mode", source, where, None),
        "target_size_ratio": _opt(opts, "target_size_ratio", to_float, source, where, 0.0),
        "target_size_bytes": _opt(opts, "target_size_bytes", to_int, source, where, 0),
        "pg_num_min": _opt(opts, "pg_num_min", to_int, source, where, None),
        "pg_num_max": _opt(opts, "pg_num_max", to_int, source, where, None),
        "bias": 1.0 if isinstance(bias, float) and math.isnan(bias) else bias,
        "bulk": "bulk" in [n.strip() for n in flags_names.split(",")],
        "application": ",".join(str(k) for k in apps),
        "type_id": type_id,
        "stripe_width": get_int(p, "stripe_width", source, where, 0),
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    cols = POOL_COLUMNS + _EXTRA
    data = {c: [r[c] for r in rows] for c in cols}
    df = pd.DataFrame({c: pd.Series(data[c], dtype="object") for c in cols})
    for c in ("pool_id", "size", "min_size", "pg_num", "pgp_num", "pg_num_target", "pgp_num_target",
              "pg_num_pending", "crush_rule", "flags", "target_size_bytes", "type_id", "stripe_width"):
        df[c] = df[c].astype("int64")
    for c in ("ec_k", "ec_m", "pg_num_min", "pg_num_max"):
        df[c] = int64_col(data[c])
    for c in ("target_size_ratio", "bias"):
        df[c] = df[c].astype("float64")
    df["bulk"] = df["bulk"].astype("bool")
    return df.sort_values("pool_id", kind="stable").reset_index(drop=True)


def pools_frame(pools: list[dict], source: str = "<string>", *, profiles: dict | None = None,
                where: str = "pools") -> pd.DataFrame:
    """Convert ``pg_pool_t`` JSON dicts (``osd pool ls detail``, ``osd dump``'s ``pools``) into rows.

    Parameters
    ----------
    pools : list of dict
        The decoded pool objects.
    source : str
        Name of the input, for error messages.
    profiles : dict, optional
        ``erasure_code_profiles`` (name -> dict with ``k``, ``m``), to fill ``ec_k``/``ec_m``.
    where : str
        Path of the list in the document, used to name fields in error messages.

    Returns
    -------
    DataFrame
        ``POOL_COLUMNS`` then ``type_id``, ``stripe_width``; sorted by ``pool_id`` (see the module
        documentation for types and defaults).

    Raises
    ------
    DumpFormatError
        On a missing id/name/pg_num/size/crush rule, wrong value types, or a duplicate pool id.
    """
    pools = as_list(pools, source, where)
    rows = []
    seen: set[int] = set()
    for i, p in enumerate(pools):
        w = f"{where}[{i}]"
        row = _pool_row(as_dict(p, source, w), source, w + ".", profiles)
        if row["pool_id"] in seen:
            raise DumpFormatError(f"duplicate pool id {row['pool_id']}", source=source, field=w + ".pool")
        seen.add(row["pool_id"])
        rows.append(row)
    return _frame(rows)


def _json_release(pools: list) -> str | None:
    first = pools[0] if pools and isinstance(pools[0], dict) else {}
    if "crush_ruleset" in first:
        return "jewel"
    if "peering_crush_bucket_count" in first:
        return "pacific+"
    if "pg_num_target" in first:
        return "nautilus+"
    if "application_metadata" in first:
        return "luminous+"
    return None


# --------------------------------------------------------------------------------------------------
# plain
# --------------------------------------------------------------------------------------------------

_PLAIN_KEYS = {"crush_rule": "crush_rule", "crush_ruleset": "crush_rule", "pgp_num": "pg_placement_num",
               "pgp_num_target": "pg_placement_num_target", "autoscale_mode": "pg_autoscale_mode"}


def _plain_pool(m: re.Match, line: int, source: str) -> dict:
    rest = m.group(4).split()
    p: dict[str, Any] = {"pool_id": int(m.group(1)), "pool_name": m.group(2)}
    ptype = m.group(3)
    if ptype not in ("replicated", "erasure"):
        raise DumpFormatError(f"unknown pool type {ptype!r}", source=source, line=line, field="type")
    p["type"] = 1 if ptype == "replicated" else 3
    if ptype == "erasure" and rest[:1] == ["profile"]:
        if len(rest) < 2:
            raise DumpFormatError("missing", source=source, line=line, field="profile")
        p["erasure_code_profile"] = rest[1]
        rest = rest[2:]
    if len(rest) % 2:
        raise DumpFormatError(f"key without a value: {rest[-1]!r}", source=source, line=line)
    options: dict[str, str] = {}
    for key, value in zip(rest[0::2], rest[1::2], strict=False):
        if key == "flags":
            p["flags_names"] = value
            p["flags"] = _flags_from_names(value)
        elif key == "application":
            p["application_metadata"] = {a: {} for a in value.split(",") if a}
        elif key in ("target_size_ratio", "target_size_bytes", "pg_num_min", "pg_num_max",
                     "pg_autoscale_bias"):
            options[key] = value
        else:
            p[_PLAIN_KEYS.get(key, key)] = value
    p["options"] = options
    for req in ("size", "pg_num", "crush_rule"):
        if req not in p:
            raise DumpFormatError("missing", source=source, line=line, field=req)
    return p


def _parse_plain(text: str, source: str) -> Fragment:
    pools = []
    lines_of = []
    release = None
    for lineno, ln in strip_noise_lines(text.splitlines()):
        if not ln.strip() or ln[:1] in (" ", "\t"):
            continue
        m = _PLAIN_LINE.match(ln)
        if not m:
            raise DumpFormatError("expected `pool N 'name' ...`", source=source, line=lineno)
        if " crush_ruleset " in ln:
            release = "jewel"
        elif " autoscale_mode " in ln and release is None:
            release = "nautilus+"
        pools.append(_plain_pool(m, lineno, source))
        lines_of.append(lineno)
    if not pools:
        raise DumpFormatError("no pool lines", source=source, line=1)
    try:
        df = pools_frame(pools, source, where="pool")
    except DumpFormatError as e:
        # name the line: fields look like pool[3].size
        idx = _index_of(e.field)
        line = lines_of[idx] if idx is not None and idx < len(lines_of) else None
        raise DumpFormatError(e.message, source=source, line=line,
                              field=(e.field or "").split(".", 1)[-1] or None) from None
    frag = Fragment(kind="pool_ls_detail", source=source, pools=df, release=release)
    return frag


def _index_of(field: str | None) -> int | None:
    m = re.match(r"pool\[(\d+)\]", field or "")
    return int(m.group(1)) if m else None


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph osd pool ls detail`` output (plain or JSON).

    Parameters
    ----------
    text : str
        The file's text.
    source : str
        Name of the input, for error messages.
    obj : object, optional
        The decoded JSON, when the caller already has it.

    Returns
    -------
    Fragment
        kind ``"pool_ls_detail"`` with ``pools``.

    Raises
    ------
    DumpFormatError
    """
    if obj is None and text.lstrip()[:1] in ("{", "["):
        obj = loads_json(text, source=source)
    if obj is not None:
        if not isinstance(obj, list):
            raise DumpFormatError(f"expected a list of pools, got {type_name(obj)}", source=source)
        frag = Fragment(kind="pool_ls_detail", source=source, pools=pools_frame(obj, source, where=""))
        frag.release = _json_release(obj)
        return frag
    return _parse_plain(text, source)

