"""``ceph health detail`` (plain and ``-f json``) and ``ceph -s -f json`` (``ceph status``).

The result is ``Fragment.health``::

    {"status": "HEALTH_WARN",
     "checks": {"TOO_MANY_PGS": {"severity": "HEALTH_WARN",
                                 "summary": "too many PGs per OSD (480 > max 300)",
                                 "detail": [],            # detail messages, as strings
                                 "count": 180,            # JSON, Octopus+ (None otherwise)
                                 "muted": False}}}

Accepted forms:

* JSON, Luminous+: ``{"status", "checks": {CODE: {"severity", "summary": {"message", "count"},
  "detail": [{"message"}], "muted"}}, "mutes"}``.
* JSON, Jewel and older: ``{"overall_status", "summary": [{"severity", "summary"}], "detail": [...]}``
  (no check codes: ``checks`` stays empty and the summaries go to ``health["summary"]``, a list of
  ``{"severity", "summary"}``, and ``health["detail"]``).
* Plain: first line ``HEALTH_OK|HEALTH_WARN|HEALTH_ERR [summary]``, then check lines
  ``[WRN] CODE: summary`` (Octopus+) or ``CODE summary`` (Luminous/Nautilus), each followed by its
  indented detail lines.  Jewel's unindented detail lines go to ``health["detail"]``.
* ``ceph -s -f json``: the ``health`` member as above (kind ``"status"``), plus
  ``extra["status"]`` = ``{"fsid", "osdmap": {epoch, num_osds, num_up_osds, num_in_osds, ...},
  "pgmap": {num_pgs, num_pools, num_objects, ..., "pgs_by_state": {state: count}}}`` and
  ``Fragment.epoch`` = the osdmap epoch.

Release: ``[WRN]`` prefixes / ``muted`` keys → ``"octopus+"``; check codes → ``"luminous+"``;
``overall_status`` → ``"jewel"``.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import DumpFormatError
from ._common import Fragment, loads_json, strip_noise_lines
from ._json import as_dict, as_list, get_bool, get_int, get_str, type_name

__all__ = ["sniff", "parse", "health_from_json"]

_STATUS = re.compile(r"^(HEALTH_OK|HEALTH_WARN|HEALTH_ERR)(?:\s+(.*))?$")
_CHECK_NEW = re.compile(r"^\[(WRN|ERR|INF)\]\s+([A-Z][A-Z0-9_]*):\s?(.*)$")
_CHECK_OLD = re.compile(r"^([A-Z][A-Z0-9_]*_[A-Z0-9_]+|[A-Z]{3,})\s+(.*)$")
_SEVERITY = {"WRN": "HEALTH_WARN", "ERR": "HEALTH_ERR", "INF": "HEALTH_OK"}


def _is_health_json(obj: Any) -> bool:
    if not isinstance(obj, dict) or "fsid" in obj or "cluster_fingerprint" in obj:
        return False
    return ("checks" in obj and "status" in obj) or ("overall_status" in obj and "summary" in obj)


def _is_status_json(obj: Any) -> bool:
    return (isinstance(obj, dict) and "fsid" in obj and isinstance(obj.get("health"), dict)
            and "cluster_fingerprint" not in obj and ("quorum" in obj or "osdmap" in obj or "pgmap" in obj))


def sniff(text: str, obj: object | None) -> bool:
    """True for ``ceph health [detail]`` (plain or JSON) and ``ceph -s -f json``.

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
        return _is_health_json(obj) or _is_status_json(obj)
    for _, ln in strip_noise_lines(text.splitlines()[:20]):
        if ln.strip():
            return bool(_STATUS.match(ln.strip()))
    return False


def health_from_json(obj: dict, source: str = "<string>", where: str = "") -> dict:
    """Convert a health JSON object (any release) into the ``Fragment.health`` dict.

    Parameters
    ----------
    obj : dict
        ``ceph health detail -f json``, or the ``health`` member of ``ceph -s``/``ceph report``.
    source : str
        Name of the input, for error messages.
    where : str
        Path of ``obj`` in the document (``"health."``), for error messages.

    Returns
    -------
    dict

    Raises
    ------
    DumpFormatError
    """
    obj = as_dict(obj, source, where.rstrip(".") or "health")
    if "checks" in obj or "status" in obj:
        out: dict[str, Any] = {"status": get_str(obj, "status", source, where), "checks": {}}
        checks = as_dict(obj.get("checks", {}), source, where + "checks")
        for code, c in checks.items():
            w = f"{where}checks.{code}."
            c = as_dict(c, source, w.rstrip("."))
            summary = c.get("summary", "")
            count = None
            if isinstance(summary, dict):
                count = get_int(summary, "count", source, w + "summary.", None)
                summary = get_str(summary, "message", source, w + "summary.")
            elif not isinstance(summary, str):
                raise DumpFormatError(f"expected a string or object, got {type_name(summary)}", source=source,
                                      field=w + "summary")
            detail = []
            for i, d in enumerate(as_list(c.get("detail", []), source, w + "detail")):
                if isinstance(d, dict):
                    detail.append(get_str(d, "message", source, f"{w}detail[{i}]."))
                elif isinstance(d, str):
                    detail.append(d)
                else:
                    raise DumpFormatError(f"expected an object, got {type_name(d)}", source=source,
                                          field=f"{w}detail[{i}]")
            out["checks"][str(code)] = {"severity": get_str(c, "severity", source, w), "summary": summary,
                                        "detail": detail, "count": count,
                                        "muted": get_bool(c, "muted", source, w, False)}
        if "mutes" in obj:
            out["mutes"] = as_list(obj["mutes"], source, where + "mutes")
        return out
    if "overall_status" in obj:
        out = {"status": get_str(obj, "overall_status", source, where), "checks": {}, "summary": [],
               "detail": []}
        for i, s in enumerate(as_list(obj.get("summary", []), source, where + "summary")):
            w = f"{where}summary[{i}]."
            s = as_dict(s, source, w.rstrip("."))
            out["summary"].append({"severity": get_str(s, "severity", source, w),
                                   "summary": get_str(s, "summary", source, w)})
        for i, d in enumerate(as_list(obj.get("detail", []), source, where + "detail")):
            if isinstance(d, str):
                out["detail"].append(d)
            elif isinstance(d, dict):
                out["detail"].append(get_str(d, "message", source, f"{where}detail[{i}].", "") or str(d))
            else:
                raise DumpFormatError(f"expected a string, got {type_name(d)}", source=source,
                                      field=f"{where}detail[{i}]")
        return out
    raise DumpFormatError("no `status`/`checks` or `overall_status`", source=source,
                          field=where.rstrip(".") or None)


def _json_release(obj: dict) -> str | None:
    if "overall_status" in obj:
        return "jewel"
    checks = obj.get("checks")
    if isinstance(checks, dict) and checks:
        first = next(iter(checks.values()))
        if isinstance(first, dict) and "muted" in first:
            return "octopus+"
        return "luminous+"
    if "mutes" in obj:
        return "octopus+"
    return "luminous+" if "checks" in obj else None


def _status_fragment(obj: dict, source: str) -> Fragment:
    frag = Fragment(kind="status", source=source)
    frag.health = health_from_json(obj["health"], source, "health.")
    info: dict[str, Any] = {"fsid": get_str(obj, "fsid", source, "")}
    osdmap = obj.get("osdmap")
    if isinstance(osdmap, dict) and isinstance(osdmap.get("osdmap"), dict):
        osdmap = osdmap["osdmap"]  # Luminous/Mimic nest it once more
    if osdmap is not None:
        osdmap = as_dict(osdmap, source, "osdmap")
        info["osdmap"] = {k: v for k, v in osdmap.items() if isinstance(v, int) and not isinstance(v, bool)}
        if "epoch" in osdmap:
            frag.epoch = get_int(osdmap, "epoch", source, "osdmap.")
    pgmap = obj.get("pgmap")
    if pgmap is not None:
        pgmap = as_dict(pgmap, source, "pgmap")
        pg_info: dict[str, Any] = {k: v for k, v in pgmap.items() if isinstance(v, (int, float))
                                   and not isinstance(v, bool)}
        states = {}
        for i, s in enumerate(as_list(pgmap.get("pgs_by_state", []), source, "pgmap.pgs_by_state")):
            w = f"pgmap.pgs_by_state[{i}]."
            s = as_dict(s, source, w.rstrip("."))
            states[get_str(s, "state_name", source, w)] = get_int(s, "count", source, w)
        pg_info["pgs_by_state"] = states
        info["pgmap"] = pg_info
    monmap = obj.get("monmap")
    if isinstance(monmap, dict) and isinstance(monmap.get("min_mon_release_name"), str):
        frag.release = monmap["min_mon_release_name"]
    else:
        frag.release = _json_release(obj["health"])
    frag.extra["status"] = info
    return frag


def _parse_plain(text: str, source: str) -> Fragment:
    lines = [(n, ln) for n, ln in strip_noise_lines(text.splitlines()) if ln.strip()]
    if not lines:
        raise DumpFormatError("empty input", source=source, line=1)
    first_no, first = lines[0]
    m = _STATUS.match(first.strip())
    if not m:
        raise DumpFormatError("expected HEALTH_OK, HEALTH_WARN or HEALTH_ERR", source=source, line=first_no)
    status = m.group(1)
    health: dict[str, Any] = {"status": status, "checks": {}}
    legacy_detail: list[str] = []
    current: dict | None = None
    new_style = False
    for lineno, ln in lines[1:]:
        if ln[:1] in (" ", "\t"):
            if current is None:
                legacy_detail.append(ln.strip())
            else:
                current["detail"].append(ln.strip())
            continue
        mn = _CHECK_NEW.match(ln.rstrip())
        mo = None if mn else _CHECK_OLD.match(ln.rstrip())
        if mn:
            new_style = True
            severity, code, summary = _SEVERITY[mn.group(1)], mn.group(2), mn.group(3)
        elif mo and not new_style:
            severity, code, summary = status, mo.group(1), mo.group(2)
        else:
            if health["checks"] or ln.startswith("["):
                raise DumpFormatError(f"expected a check line, got {ln.strip()[:60]!r} (cut line?)", source=source,
                                      line=lineno, field="check")
            legacy_detail.append(ln.strip())
            continue
        muted = False
        mm = re.match(r"^(.*?)\s*\(muted:.*\)\s*$", summary)
        if mm:
            summary, muted = mm.group(1), True
        current = {"severity": severity, "summary": summary, "detail": [], "count": None, "muted": muted}
        health["checks"][code] = current
        if mn and m.group(2) and not muted:
            items = [x.strip() for x in m.group(2).split(";")]
            if summary not in items and any(x.startswith(summary) for x in items):
                raise DumpFormatError(f"summary {summary!r} stops short of the status line's (cut line?)",
                                      source=source, line=lineno, field=code)
    if legacy_detail:
        health["detail"] = legacy_detail
        if m.group(2):
            health["summary"] = [{"severity": status, "summary": s.strip()} for s in m.group(2).split(";")]
    frag = Fragment(kind="health", source=source, health=health)
    frag.release = "octopus+" if new_style else ("luminous+" if health["checks"] else None)
    return frag


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph health [detail]`` (plain or JSON) or ``ceph -s -f json``.

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
        kind ``"health"`` (or ``"status"`` for ``ceph -s``) with ``health`` filled.

    Raises
    ------
    DumpFormatError
    """
    if obj is None and text.lstrip()[:1] in ("{", "["):
        obj = loads_json(text, source=source)
    if obj is not None:
        if _is_status_json(obj):
            return _status_fragment(obj, source)
        if not isinstance(obj, dict):
            raise DumpFormatError(f"expected a health object, got {type_name(obj)}", source=source)
        frag = Fragment(kind="health", source=source, health=health_from_json(obj, source))
        frag.release = _json_release(obj)
        return frag
    return _parse_plain(text, source)
