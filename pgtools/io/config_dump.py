"""``ceph config dump``, plain (``WHO MASK LEVEL OPTION VALUE RO``) and ``-f json``.

JSON entries are ``{"section", "name", "value", "level", "can_update_at_runtime", "mask",
["location_type", "location_value", "device_class"]}`` (``MaskedOption::dump``).  In the plain table
a daemon section nested under its type is indented (``  mgr``) and values may contain spaces.

``Fragment.config`` maps option name → value (strings, as stored) for the options set, without a
mask, in the sections ``global``, ``mon``, ``osd`` and ``mgr``.  When an option is set in several of
them the value of the most specific section pgtools cares about wins, in this order (later wins):
``global`` < ``mon`` < ``osd`` < ``mgr``.  The mgr is last because the health checks (``TOO_MANY_PGS``),
the autoscaler and the balancer — what pgtools reproduces — run in the mgr and read its view.  Entries
for single daemons (``osd.3``), other types (``client``, ``mds``...) and masked entries
(``osd/host:node1``) are not folded in; every entry is kept in ``extra["config_dump"]`` (a DataFrame
``who, mask, level, option, value, ro``) and ``extra["config_by_section"]`` (section → {option: value},
unmasked only).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ._common import Fragment
from ._json import as_dict, get_bool, get_str, json_or_plain, type_name
from ._table import column_bounds, find_header, split_header, split_row, table_body

__all__ = ["sniff", "parse", "PRECEDENCE"]

#: Sections folded into ``Fragment.config``, lowest precedence first.
PRECEDENCE = ("global", "mon", "osd", "mgr")

_HEADER = re.compile(r"^\s*WHO\s+MASK\s+LEVEL\s+OPTION\s+VALUE\s+RO\s*$")


def _is_json(obj: Any) -> bool:
    return (isinstance(obj, list) and bool(obj) and isinstance(obj[0], dict) and "section" in obj[0]
            and "name" in obj[0] and "value" in obj[0])


def sniff(text: str, obj: object | None) -> bool:
    """True for ``ceph config dump`` output (plain or JSON).

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
        return _is_json(obj)
    return find_header(text.splitlines()[:20], _HEADER) is not None


def _fragment(entries: list[dict], source: str) -> Fragment:
    df = pd.DataFrame({
        "who": pd.Series([e["who"] for e in entries], dtype="object"),
        "mask": pd.Series([e["mask"] for e in entries], dtype="object"),
        "level": pd.Series([e["level"] for e in entries], dtype="object"),
        "option": pd.Series([e["option"] for e in entries], dtype="object"),
        "value": pd.Series([e["value"] for e in entries], dtype="object"),
        "ro": pd.Series([e["ro"] for e in entries], dtype="bool"),
    })
    by_section: dict[str, dict[str, str]] = {}
    for e in entries:
        if not e["mask"]:
            by_section.setdefault(e["who"], {})[e["option"]] = e["value"]
    config: dict[str, str] = {}
    for sec in PRECEDENCE:
        config.update(by_section.get(sec, {}))
    frag = Fragment(kind="config_dump", source=source, config=config)
    frag.extra["config_dump"] = df
    frag.extra["config_by_section"] = by_section
    frag.release = "mimic+"  # the central config database exists from Mimic on
    return frag


def _parse_json(obj: list, source: str) -> Fragment:
    entries = []
    for i, e in enumerate(obj):
        w = f"[{i}]."
        e = as_dict(e, source, f"[{i}]")
        value = e.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        elif not isinstance(value, str):
            raise DumpFormatError(f"expected a string, got {type_name(value)}", source=source, field=w + "value")
        entries.append({"who": get_str(e, "section", source, w), "mask": get_str(e, "mask", source, w, ""),
                        "level": get_str(e, "level", source, w, ""), "option": get_str(e, "name", source, w),
                        "value": value,
                        "ro": not get_bool(e, "can_update_at_runtime", source, w, True)})
    return _fragment(entries, source)


def _parse_plain(text: str, source: str) -> Fragment:
    lines = text.splitlines()
    h = find_header(lines, _HEADER)
    if h is None:
        raise DumpFormatError("no `WHO MASK LEVEL OPTION VALUE RO` header found", source=source, line=1)
    for i in range(h):
        if lines[i].strip():
            raise DumpFormatError("text before the header", source=source, line=i + 1)
    header = split_header(lines[h])
    body = table_body(lines[h + 1:])
    bounds = column_bounds(header, body)
    entries = []
    body_set = set(body)
    for idx in range(h + 1, len(lines)):
        ln = lines[idx]
        if ln not in body_set:
            continue
        who, mask, level, option, value, ro = split_row(ln, bounds)
        if not who or not option or not level:
            raise DumpFormatError("missing (truncated row?)", source=source, line=idx + 1,
                                  field="WHO" if not who else ("OPTION" if not option else "LEVEL"))
        if not value and ln == body[-1]:
            # an empty value can be set, but on the last row it is far more likely a cut file
            raise DumpFormatError("missing (truncated row?)", source=source, line=idx + 1, field="VALUE")
        if ro not in ("", "*"):
            raise DumpFormatError(f"unexpected RO cell {ro!r}", source=source, line=idx + 1, field="RO")
        entries.append({"who": who, "mask": mask, "level": level, "option": option, "value": value,
                        "ro": ro == "*"})
    return _fragment(entries, source)


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph config dump`` output (plain or JSON).

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
        kind ``"config_dump"`` with ``config`` (see the module documentation for precedence) and
        ``extra["config_dump"]``.

    Raises
    ------
    DumpFormatError
    """
    return json_or_plain(text, obj, source, accepts=lambda o: isinstance(o, list), expected="a list of options",
                         parse_json=_parse_json, parse_plain=_parse_plain)
