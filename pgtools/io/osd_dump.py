"""Parser for ``ceph osd dump`` (``-f json`` of every release, and the plain text form).

The result is a :class:`~pgtools.io.Fragment` of kind ``"osd_dump"`` with

* ``pools``: one row per pool (``POOL_COLUMNS``, plus ``pgp_num`` etc.),
* ``osds``: ``osd_id, name, exists, up, in, reweight, primary_affinity, weight_fixed,
  primary_affinity_fixed`` (the last two are Ceph's 16.16 fixed-point values, 0x10000 = 1.0),
* ``osdmap``: ``max_osd, flags, full_ratio, backfillfull_ratio, nearfull_ratio, require_osd_release,
  pg_upmap {pgid: tuple}, pg_upmap_items {pgid: ((from, to), ...)}, pg_temp {pgid: tuple},
  primary_temp {pgid: osd}, erasure_code_profiles {name: {key: value}}, pool_max, crush_version,
  blocklist`` (a list of addresses; ``blacklist`` in older releases), ``pg_upmap_primaries``
  {pgid: osd} (Reef+; kept, but Pacific placement ignores it).

JSON hazards handled: ``crush_ruleset`` (Jewel) vs ``crush_rule``; ``primary_temp`` as a flat
alternating ``[pgid, osd, pgid, osd, ...]`` array (also accepted as ``{pgid, osd}`` objects);
``blacklist`` vs ``blocklist``; ``pool_id`` instead of ``pool`` (``osd pool ls detail -f json``).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ._common import NONE, Fragment, loads_json, strip_noise_lines
from .pool_ls_detail import POOL_FLAG_BITS, pools_frame

__all__ = ["sniff", "parse", "osdmap_fragment", "POOL_FLAG_BITS", "osds_frame"]



# --------------------------------------------------------------------------------------------------
# sniffing


def sniff(text: str, obj: object | None) -> bool:
    """True for ``ceph osd dump`` output (JSON: an object with ``osds``, ``pools`` and ``max_osd``;
    plain: ``epoch N`` and ``max_osd N`` lines)."""
    if obj is not None:
        return (isinstance(obj, dict) and "max_osd" in obj and "osds" in obj and "pools" in obj
                and "pgmap" not in obj and "osdmap" not in obj)
    head = text[:200000]
    return (re.search(r"^epoch \d+\s*$", head, re.M) is not None
            and re.search(r"^max_osd \d+\s*$", head, re.M) is not None)


# --------------------------------------------------------------------------------------------------
# helpers


def _err(msg: str, source: str, field: str | None = None, line: int | None = None) -> DumpFormatError:
    return DumpFormatError(msg, source=source, line=line, field=field)


def _int(v: Any, source: str, field: str, line: int | None = None) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v == v and abs(v) != float("inf") and v == int(v):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip(), 10)
        except ValueError:
            pass
    raise _err(f"expected an integer, got {v!r}"[:200], source, field, line)


def _float(v: Any, source: str, field: str, line: int | None = None) -> float:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            pass
    raise _err(f"expected a number, got {v!r}"[:200], source, field, line)


def _pgid(v: Any, source: str, field: str, line: int | None = None) -> str:
    if not isinstance(v, str):
        raise _err(f"expected a pgid string, got {v!r}"[:200], source, field, line)
    m = re.fullmatch(r"\s*(\d+)\.([0-9a-fA-F]+)\s*", v)
    if not m:
        raise _err(f"not a pgid: {v!r}"[:200], source, field, line)
    return f"{int(m.group(1))}.{int(m.group(2), 16):x}"


def _osd_vector(v: Any, source: str, field: str, line: int | None = None) -> tuple[int, ...]:
    if not isinstance(v, list):
        raise _err(f"expected a list of OSD ids, got {v!r}"[:200], source, field, line)
    return tuple(_int(x, source, field, line) for x in v)


def _flags_int(names: str) -> int:
    out = 0
    for n in names.split(","):
        out |= POOL_FLAG_BITS.get(n.strip(), 0)
    return out


# --------------------------------------------------------------------------------------------------
# pools


# --------------------------------------------------------------------------------------------------
# osds


def osds_frame(records: list[dict], max_osd: int) -> pd.DataFrame:
    """OSD rows for ids ``0..max_osd-1`` plus any listed beyond; ids not listed have ``exists=False``."""
    by_id = {r["osd_id"]: r for r in records}
    ids = sorted(set(range(max(max_osd, 0))) | set(by_id))
    rows = []
    for i in ids:
        r = by_id.get(i)
        if r is None:
            r = {"osd_id": i, "exists": False, "up": False, "in": False, "reweight": 0.0,
                 "primary_affinity": 1.0}
        rows.append(r)
    df = pd.DataFrame.from_records(rows, columns=["osd_id", "name", "exists", "up", "in", "reweight",
                                                  "primary_affinity"])
    df["osd_id"] = df["osd_id"].astype("int64")
    df["name"] = [f"osd.{i}" for i in df["osd_id"]]
    for c in ("exists", "up", "in"):
        df[c] = df[c].astype(bool)
    df["reweight"] = df["reweight"].astype("float64")
    df["primary_affinity"] = df["primary_affinity"].astype("float64")
    df["weight_fixed"] = (df["reweight"] * 0x10000).round().astype("int64")
    df["primary_affinity_fixed"] = (df["primary_affinity"] * 0x10000).round().astype("int64")
    return df


def _osd_record(o: Any, source: str) -> dict:
    if not isinstance(o, dict):
        raise _err("osd entry is not an object", source, "osds")
    if "osd" not in o:
        raise _err("osd entry without an id", source, "osds.osd")
    i = _int(o["osd"], source, "osds.osd")
    if i < 0 or i > 1 << 24:
        raise _err(f"osd id out of range: {i}", source, "osds.osd")
    state = o.get("state", ["exists"])
    if not isinstance(state, list):
        state = [str(state)]
    up = _int(o.get("up", 1 if "up" in state else 0), source, f"osds[{i}].up")
    return {
        "osd_id": i,
        "exists": "exists" in state or "state" not in o,
        "up": bool(up),
        "in": bool(_int(o.get("in", 1), source, f"osds[{i}].in")),
        "reweight": _clamp(_float(o.get("weight", 1.0), source, f"osds[{i}].weight")),
        "primary_affinity": _clamp(_float(o.get("primary_affinity", 1.0), source,
                                          f"osds[{i}].primary_affinity")),
    }


def _clamp(x: float) -> float:
    if x != x:
        return 0.0
    return min(max(x, 0.0), 1.0)


# --------------------------------------------------------------------------------------------------
# JSON


def _primary_temp(v: Any, source: str) -> dict[str, int]:
    out: dict[str, int] = {}
    if not isinstance(v, list):
        raise _err("expected a list", source, "primary_temp")
    if all(isinstance(x, dict) for x in v):
        for e in v:
            out[_pgid(e.get("pgid"), source, "primary_temp.pgid")] = _int(
                e.get("osd", e.get("primary", -1)), source, "primary_temp.osd")
        return out
    if len(v) % 2:
        raise _err("flat primary_temp array has an odd length", source, "primary_temp")
    for k in range(0, len(v), 2):
        out[_pgid(v[k], source, "primary_temp")] = _int(v[k + 1], source, "primary_temp")
    return out


def osdmap_fragment(obj: dict, source: str = "<string>") -> Fragment:
    """Build the ``osd_dump`` fragment from a decoded ``ceph osd dump -f json`` object.

    Also used by the ``ceph report`` parser (its ``osdmap`` section has the same layout).

    Parameters
    ----------
    obj : dict
        The decoded JSON object.
    source : str
        Where it came from, for error messages.

    Returns
    -------
    Fragment
        ``kind="osd_dump"`` with ``epoch``, ``pools``, ``osds`` and ``osdmap`` filled in.
    """
    try:
        return _osdmap_fragment(obj, source)
    except DumpFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError) as e:
        raise _err(f"malformed osd dump: {type(e).__name__}: {e}"[:300], source) from None


def _osdmap_fragment(obj: Any, source: str) -> Fragment:
    if not isinstance(obj, dict):
        raise _err("expected a JSON object", source)
    for k in ("pools", "osds"):
        if not isinstance(obj.get(k, []), list):
            raise _err("expected a list", source, k)
    epoch = _int(obj["epoch"], source, "epoch") if "epoch" in obj else None
    max_osd = _int(obj.get("max_osd", 0), source, "max_osd")
    if max_osd < 0 or max_osd > 1 << 24:
        raise _err(f"max_osd out of range: {max_osd}", source, "max_osd")
    profiles_raw = obj.get("erasure_code_profiles", {}) or {}
    if not isinstance(profiles_raw, dict):
        raise _err("expected an object", source, "erasure_code_profiles")
    profiles = {str(k): (dict(v) if isinstance(v, dict) else {}) for k, v in profiles_raw.items()}
    pools_list = obj.get("pools", [])
    pools = pools_frame(pools_list, source, profiles=profiles)
    osds = osds_frame([_osd_record(o, source) for o in obj.get("osds", [])], max_osd)

    pg_upmap: dict[str, tuple[int, ...]] = {}
    for e in _list(obj, "pg_upmap", source):
        pg_upmap[_pgid(_get(e, "pgid", source, "pg_upmap"), source, "pg_upmap.pgid")] = _osd_vector(
            _get(e, "osds", source, "pg_upmap"), source, "pg_upmap.osds")
    pg_upmap_items: dict[str, tuple[tuple[int, int], ...]] = {}
    for e in _list(obj, "pg_upmap_items", source):
        pgid = _pgid(_get(e, "pgid", source, "pg_upmap_items"), source, "pg_upmap_items.pgid")
        maps = _get(e, "mappings", source, "pg_upmap_items")
        if not isinstance(maps, list):
            raise _err("expected a list", source, "pg_upmap_items.mappings")
        pairs = []
        for m in maps:
            if isinstance(m, dict):
                pairs.append((_int(m.get("from"), source, "pg_upmap_items.from"),
                              _int(m.get("to"), source, "pg_upmap_items.to")))
            elif isinstance(m, list) and len(m) == 2:
                pairs.append((_int(m[0], source, "pg_upmap_items"), _int(m[1], source, "pg_upmap_items")))
            else:
                raise _err("bad mapping", source, "pg_upmap_items.mappings")
        pg_upmap_items[pgid] = tuple(pairs)
    pg_temp: dict[str, tuple[int, ...]] = {}
    for e in _list(obj, "pg_temp", source):
        pg_temp[_pgid(_get(e, "pgid", source, "pg_temp"), source, "pg_temp.pgid")] = _osd_vector(
            _get(e, "osds", source, "pg_temp"), source, "pg_temp.osds")
    primary_temp = _primary_temp(obj.get("primary_temp", []) or [], source)
    upmap_primaries: dict[str, int] = {}
    for e in _list(obj, "pg_upmap_primaries", source):  # Reef+ read balancer (not used by Pacific)
        upmap_primaries[_pgid(_get(e, "pgid", source, "pg_upmap_primaries"), source,
                              "pg_upmap_primaries.pgid")] = _int(
            _get(e, "primary_osd", source, "pg_upmap_primaries"), source, "pg_upmap_primaries.primary_osd")
    bl = obj.get("blocklist", obj.get("blacklist", {})) or {}
    blocklist = sorted(str(k) for k in bl) if isinstance(bl, (dict, list)) else []

    def ratio(k: str) -> float | None:
        return _float(obj[k], source, k) if k in obj and obj[k] is not None else None

    osdmap = {
        "epoch": epoch,
        "max_osd": max_osd,
        "flags": str(obj.get("flags", "")),
        "full_ratio": ratio("full_ratio"),
        "backfillfull_ratio": ratio("backfillfull_ratio"),
        "nearfull_ratio": ratio("nearfull_ratio"),
        "require_osd_release": obj.get("require_osd_release"),
        "require_min_compat_client": obj.get("require_min_compat_client"),
        "pool_max": _int(obj["pool_max"], source, "pool_max") if "pool_max" in obj else None,
        "crush_version": _int(obj["crush_version"], source, "crush_version") if "crush_version" in obj
        else None,
        "pg_upmap": pg_upmap,
        "pg_upmap_items": pg_upmap_items,
        "pg_temp": pg_temp,
        "primary_temp": primary_temp,
        "pg_upmap_primaries": upmap_primaries,
        "erasure_code_profiles": profiles,
        "blocklist": blocklist,
    }
    release = None
    rel = obj.get("require_osd_release")
    if isinstance(rel, str) and rel:
        release = rel if rel in ("luminous", "mimic", "nautilus", "octopus", "pacific", "quincy",
                                 "reef", "squid", "tentacle") else None
    elif any(isinstance(p, dict) and "crush_ruleset" in p for p in pools_list):
        release = "jewel"
    return Fragment(kind="osd_dump", source=source, release=release, epoch=epoch, pools=pools, osds=osds,
                    osdmap=osdmap)


def _list(obj: dict, key: str, source: str) -> list:
    v = obj.get(key, []) or []
    if not isinstance(v, list):
        raise _err("expected a list", source, key)
    return v


def _get(e: Any, key: str, source: str, field: str) -> Any:
    if not isinstance(e, dict) or key not in e:
        raise _err(f"entry without {key!r}", source, field)
    return e[key]


# --------------------------------------------------------------------------------------------------
# plain text

_POOL_LINE = re.compile(r"^pool (\d+) '(.*)' (replicated|erasure)\b(.*)$")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OSD_LINE = re.compile(r"^osd\.(\d+)\s+(up|down)\s+(in|out)\s+weight\s+(\S+)(.*)$")
_INT_KEYS = {"size", "min_size", "crush_rule", "crush_ruleset", "pg_num", "pgp_num", "pg_num_target",
             "pgp_num_target", "pg_num_pending", "stripe_width", "pg_num_min", "pg_num_max",
             "target_size_bytes", "last_change"}
_FLOAT_KEYS = {"target_size_ratio", "pg_autoscale_bias"}


def _parse_pool_line(m: re.Match, lineno: int, source: str, profiles: dict) -> dict:
    pool_id = int(m.group(1))
    name, ptype, rest = m.group(2), m.group(3), m.group(4).split()
    p: dict[str, Any] = {"pool": pool_id, "pool_name": name, "type": 1 if ptype == "replicated" else 3}
    i = 0
    if ptype == "erasure" and rest[:1] == ["profile"]:
        if len(rest) < 2:
            raise _err("erasure pool without profile name", source, "profile", lineno)
        p["erasure_code_profile"] = rest[1]
        i = 2
    opts: dict[str, Any] = {}
    while i + 1 < len(rest):
        k, v = rest[i], rest[i + 1]
        if k in _INT_KEYS:
            val = _int(v, source, k, lineno)
            if k in ("pg_num_min", "pg_num_max", "target_size_bytes"):
                opts[k] = val
            elif k == "pgp_num":
                p["pg_placement_num"] = val
            elif k == "pgp_num_target":
                p["pg_placement_num_target"] = val
            else:
                p[k] = val
        elif k in _FLOAT_KEYS:
            opts[k] = _float(v, source, k, lineno)
        elif k == "object_hash":
            p["object_hash"] = {"rjenkins": 2, "linux": 1}.get(v, v)
        elif k == "autoscale_mode":
            p["pg_autoscale_mode"] = v
        elif k == "flags":
            p["flags_names"] = v
            p["flags"] = _flags_int(v)
        elif k == "application":
            p["application_metadata"] = {a: {} for a in v.split(",") if a}
        i += 2
    if i < len(rest):
        raise _err(f"key without a value: {rest[i]!r} (cut line?)", source, rest[i], lineno)
    if opts:
        p["options"] = opts
    for k in ("size", "pg_num"):
        if k not in p:
            raise _err(f"pool line without {k}", source, k, lineno)
    return p


def _parse_plain(text: str, source: str) -> Fragment:
    obj: dict[str, Any] = {"pools": [], "osds": [], "pg_upmap": [], "pg_upmap_items": [], "pg_temp": [],
                           "primary_temp": [], "blocklist": {}}
    pools_lines: list[tuple[re.Match, int]] = []
    for lineno, raw in strip_noise_lines(text.splitlines()):
        line = raw.rstrip()
        if not line.strip() or line[0] in " \t":
            continue
        m = _POOL_LINE.match(line)
        if m:
            pools_lines.append((m, lineno))
            continue
        m = _OSD_LINE.match(line)
        if m:
            i = int(m.group(1))
            rest = m.group(5).split()
            pa = 1.0
            if len(rest) >= 2 and rest[0] == "primary_affinity":
                pa = _float(rest[1], source, "primary_affinity", lineno)
            at = next((k for k in range(len(rest) - 1, -1, -1) if "exists" in rest[k]), None)
            if at is None and rest:  # OSDMap::print ends every osd line with its state (exists,...)
                raise _err("no state (exists,...) at the end of the osd line (cut line?)", source, "state", lineno)
            if at is not None and at < len(rest) - 1 and not _UUID.fullmatch(rest[-1]):
                raise _err(f"not a uuid: {rest[-1]!r} (cut line?)", source, "uuid", lineno)
            state = rest[at].split(",") if at is not None else ["exists"]
            obj["osds"].append({"osd": i, "up": int(m.group(2) == "up"), "in": int(m.group(3) == "in"),
                                "weight": _float(m.group(4), source, "weight", lineno),
                                "primary_affinity": pa, "state": state})
            continue
        if line.startswith("osd."):
            raise _err("not an `osd.N up|down in|out weight W ...` line (cut line?)", source, "osd", lineno)
        tok = line.split()
        key = tok[0]
        if key in ("epoch", "max_osd", "pool_max", "crush_version") and len(tok) == 2:
            obj[key] = _int(tok[1], source, key, lineno)
        elif key in ("full_ratio", "backfillfull_ratio", "nearfull_ratio") and len(tok) == 2:
            obj[key] = _float(tok[1], source, key, lineno)
        elif key in ("flags", "require_osd_release", "require_min_compat_client", "min_compat_client"):
            obj[key] = tok[1] if len(tok) > 1 else ""
        elif key in ("pg_upmap", "pg_upmap_items", "pg_temp") and len(tok) >= 3:
            vec = _bracket_ints(" ".join(tok[2:]), source, key, lineno)
            pgid = _pgid(tok[1], source, key, lineno)
            if key == "pg_upmap_items":
                if len(vec) % 2:
                    raise _err("odd number of OSDs in pg_upmap_items", source, key, lineno)
                obj[key].append({"pgid": pgid, "mappings": [{"from": vec[k], "to": vec[k + 1]}
                                                            for k in range(0, len(vec), 2)]})
            else:
                obj[key].append({"pgid": pgid, "osds": list(vec)})
        elif key == "primary_temp" and len(tok) == 3:
            obj["primary_temp"] += [_pgid(tok[1], source, key, lineno), _int(tok[2], source, key, lineno)]
        elif key == "pg_upmap_primary" and len(tok) == 3:
            obj.setdefault("pg_upmap_primaries", []).append(
                {"pgid": _pgid(tok[1], source, key, lineno), "primary_osd": _int(tok[2], source, key, lineno)})
        elif key in ("blocklist", "blacklist") and len(tok) >= 2:
            obj["blocklist"][tok[1]] = " ".join(tok[2:])
    if "epoch" not in obj or "max_osd" not in obj:
        raise _err("not an osd dump: no epoch/max_osd lines", source)
    obj["pools"] = [_parse_pool_line(m, ln, source, {}) for m, ln in pools_lines]
    return _osdmap_fragment(obj, source)


def _bracket_ints(s: str, source: str, field: str, line: int) -> tuple[int, ...]:
    s = s.strip()
    if not (s.startswith("[") and s.endswith("]")):
        raise _err(f"expected [a,b,...], got {s!r}"[:200], source, field, line)
    body = s[1:-1].strip()
    if not body:
        return ()
    return tuple(NONE if x.strip() == "NONE" else _int(x, source, field, line) for x in body.split(","))


# --------------------------------------------------------------------------------------------------


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph osd dump`` output (JSON or plain).

    Parameters
    ----------
    text : str
        The file content.
    source : str
        Name used in error messages.
    obj : object, optional
        The already-decoded JSON value (None when the text is not JSON or not decoded yet).

    Returns
    -------
    Fragment
        ``kind="osd_dump"``.

    Raises
    ------
    DumpFormatError
        On malformed input.
    """
    try:
        if obj is None:
            stripped = text.lstrip()
            if stripped.startswith("{"):
                obj = loads_json(text, source=source)
        if obj is not None:
            return osdmap_fragment(obj, source)  # type: ignore[arg-type]
        return _parse_plain(text, source)
    except DumpFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError,
            RecursionError) as e:
        raise _err(f"malformed osd dump: {type(e).__name__}: {e}"[:300], source) from None
