"""``ceph osd tree``, plain and ``-f json``.

Plain headers::

    Jewel      ID WEIGHT  TYPE NAME  UP/DOWN REWEIGHT PRIMARY-AFFINITY
    Luminous+  ID CLASS WEIGHT  TYPE NAME  STATUS REWEIGHT PRI-AFF

JSON: ``{"nodes": [...], "stray": [...]}``; buckets carry ``children``, OSDs carry ``crush_weight``,
``exists``, ``status``, ``reweight``, ``primary_affinity``; ``stray`` lists OSDs that exist in the
OSDMap but not in the CRUSH tree.

Tables produced:

``osds``
    ``osd_id, name, host`` (nearest ancestor of type ``host``; None for stray OSDs), ``device_class``,
    ``crush_weight`` (float), ``reweight``, ``up`` (bool; None when the status is ``DNE``),
    ``status`` (as printed: ``up``, ``down``, ``destroyed``, ``DNE``…), ``primary_affinity``,
    ``exists`` (False for ``DNE``), ``stray``.
``extra["tree"]``
    One row per bucket: ``id, name, type, parent_id`` (``Int64``, ``<NA>`` for roots),
    ``crush_weight`` (as printed; in JSON, where buckets have no weight, the sum of the children's).

Release detection: ``CLASS`` column / ``device_class`` key → ``"luminous+"``; ``UP/DOWN`` heading →
``"jewel"``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ._common import Fragment, strip_noise_lines
from ._json import (
    as_dict,
    as_list,
    get_bool,
    get_float,
    get_int,
    get_str,
    int64_col,
    json_or_plain,
    type_name,
)
from ._table import column_bounds, find_header, is_fence, nearest_host, split_header, split_row, table_body

__all__ = ["sniff", "parse"]

_HEADER = re.compile(r"^\s*ID\s+(CLASS\s+)?WEIGHT\s+TYPE\s+NAME\s+(STATUS|UP/DOWN)\s+REWEIGHT\s+(PRI-AFF|PRIMARY-AFFINITY)\s*$")
_ROWLIKE = re.compile(r"^\s*-?[0-9]+\s+\S+\s+\S+")


def _is_json_tree(obj: Any) -> bool:
    return (isinstance(obj, dict) and isinstance(obj.get("nodes"), list) and "stray" in obj
            and "summary" not in obj)


def sniff(text: str, obj: object | None) -> bool:
    """True for ``ceph osd tree`` output (plain or JSON).

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
        return _is_json_tree(obj)
    return find_header(text.splitlines()[:200], _HEADER) is not None


def _frames(osd_rows: list[dict], buckets: list[dict], parent: dict[int, int], children: dict[int, list[int]],
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    types = {b["id"]: b["type"] for b in buckets}
    names = {b["id"]: b["name"] for b in buckets}
    weights = {r["osd_id"]: r["crush_weight"] for r in osd_rows}

    def weight(i: int, path: frozenset = frozenset()) -> float:
        if i >= 0:
            return weights.get(i, 0.0)
        if i in path or len(path) > 100:
            return math.nan  # a cycle, or absurd depth: not a tree
        return sum(weight(c, path | {i}) for c in children.get(i, []))

    for b in buckets:
        if math.isnan(b["crush_weight"]):
            b["crush_weight"] = round(weight(b["id"]), 5)
    osds = pd.DataFrame({
        "osd_id": pd.Series([r["osd_id"] for r in osd_rows], dtype="int64"),
        "name": pd.Series([r["name"] for r in osd_rows], dtype="object"),
        "host": pd.Series([None if r["stray"] else nearest_host(r["osd_id"], parent, types, names)
                           for r in osd_rows], dtype="object"),
        "device_class": pd.Series([r["device_class"] for r in osd_rows], dtype="object"),
        "crush_weight": pd.Series([r["crush_weight"] for r in osd_rows], dtype="float64"),
        "reweight": pd.Series([r["reweight"] for r in osd_rows], dtype="float64"),
        "up": pd.array([None if r["status"] in (None, "DNE") else r["status"] == "up" for r in osd_rows],
                       dtype="boolean"),
        "status": pd.Series([r["status"] for r in osd_rows], dtype="object"),
        "primary_affinity": pd.Series([r["primary_affinity"] for r in osd_rows], dtype="float64"),
        "exists": pd.Series([r["exists"] for r in osd_rows], dtype="bool"),
        "stray": pd.Series([r["stray"] for r in osd_rows], dtype="bool"),
    })
    osds = osds.sort_values("osd_id", kind="stable").reset_index(drop=True)
    tree = pd.DataFrame({
        "id": pd.Series([b["id"] for b in buckets], dtype="int64"),
        "name": pd.Series([b["name"] for b in buckets], dtype="object"),
        "type": pd.Series([b["type"] for b in buckets], dtype="object"),
        "parent_id": int64_col([parent.get(b["id"]) for b in buckets]),
        "crush_weight": pd.Series([b["crush_weight"] for b in buckets], dtype="float64"),
    })
    return osds, tree


def _parse_json(obj: dict, source: str) -> Fragment:
    nodes = as_list(obj["nodes"], source, "nodes")
    stray = as_list(obj.get("stray", []), source, "stray")
    parent: dict[int, int] = {}
    children: dict[int, list[int]] = {}
    osd_rows: list[dict] = []
    buckets: list[dict] = []
    has_class = False
    entries = [(n, f"nodes[{i}]", False) for i, n in enumerate(nodes)]
    entries += [(n, f"stray[{i}]", True) for i, n in enumerate(stray)]
    for n, where, is_stray in entries:
        n = as_dict(n, source, where)
        w = where + "."
        nid = get_int(n, "id", source, w)
        if nid < 0:
            kids = []
            for j, c in enumerate(as_list(n.get("children", []), source, w + "children")):
                if isinstance(c, bool) or not isinstance(c, int):
                    raise DumpFormatError(f"expected an integer id, got {type_name(c)}", source=source,
                                          field=f"{w}children[{j}]")
                kids.append(c)
                parent[c] = nid
            children[nid] = kids
            buckets.append({"id": nid, "name": get_str(n, "name", source, w),
                            "type": get_str(n, "type", source, w),
                            "crush_weight": get_float(n, "crush_weight", source, w, math.nan)})
            continue
        if "device_class" in n:
            has_class = True
        status = get_str(n, "status", source, w, None)
        osd_rows.append({
            "osd_id": nid, "name": get_str(n, "name", source, w, f"osd.{nid}"),
            "device_class": get_str(n, "device_class", source, w, None),
            "crush_weight": get_float(n, "crush_weight", source, w, math.nan),
            "reweight": get_float(n, "reweight", source, w, math.nan),
            "status": status,
            "primary_affinity": get_float(n, "primary_affinity", source, w, math.nan),
            "exists": get_bool(n, "exists", source, w, status != "DNE"),
            "stray": is_stray,
        })
    frag = Fragment(kind="osd_tree", source=source)
    frag.osds, frag.extra["tree"] = _frames(osd_rows, buckets, parent, children)
    frag.release = "luminous+" if has_class else None
    return frag


def _num(cell: str, source: str, line: int, field: str) -> float:
    if cell in ("", "-"):
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise DumpFormatError(f"not a number: {cell!r}", source=source, line=line, field=field) from None


#: What the STATUS (UP/DOWN) column of a plain ``osd tree`` can hold (OSDMap::print_tree).
_STATUSES = {"up", "down", "destroyed", "DNE"}
#: REWEIGHT and PRI-AFF are printed as Ceph's weightf_t: ``0`` below 1e-6, else 5 decimals; fewer means a row
#: cut inside the number.
_FIXED5 = re.compile(r"0|[0-9]+\.[0-9]{5}")


def _fixed5(cell: str, source: str, line: int, field: str) -> float:
    if cell not in ("", "-") and not _FIXED5.fullmatch(cell):
        if re.fullmatch(r"-?[0-9]+(\.[0-9]*)?", cell):
            raise DumpFormatError(f"{cell!r} has not the 5 decimals Ceph prints (cut row?)", source=source,
                                  line=line, field=field)
    return _num(cell, source, line, field)


def _parse_plain(text: str, source: str) -> Fragment:
    lines = text.splitlines()
    h = find_header(lines, _HEADER)
    if h is None:
        raise DumpFormatError("no `ID ... WEIGHT TYPE NAME ... REWEIGHT` header found", source=source, line=1)
    for i in range(h):
        if _ROWLIKE.match(lines[i]):
            raise DumpFormatError("table row before the header", source=source, line=i + 1)
    header = split_header(lines[h])
    names = [n for n, _ in header]
    starts = [s for _, s in header]
    status_col = "STATUS" if "STATUS" in names else "UP/DOWN"
    aff_col = "PRI-AFF" if "PRI-AFF" in names else "PRIMARY-AFFINITY"
    name_start = starts[names.index("TYPE NAME")]
    body = table_body(lines[h + 1:])
    starts = column_bounds(header, body)
    osd_rows: list[dict] = []
    buckets: list[dict] = []
    parent: dict[int, int] = {}
    children: dict[int, list[int]] = {}
    stack: list[tuple[int, int]] = []
    done = False
    for idx in range(h + 1, len(lines)):
        ln = lines[idx]
        lineno = idx + 1
        if is_fence(ln) and (osd_rows or buckets):
            done = True
            continue
        if not ln.strip() or is_fence(ln) or not strip_noise_lines([ln]):
            continue
        if done:
            raise DumpFormatError("unexpected text after the table", source=source, line=lineno)
        cells = dict(zip(names, split_row(ln, starts), strict=False))
        if not re.fullmatch(r"-?[0-9]+", cells["ID"]):
            raise DumpFormatError(f"not an integer: {cells['ID']!r}", source=source, line=lineno, field="ID")
        nid = int(cells["ID"])
        cell = cells["TYPE NAME"]
        if not cell or cells["WEIGHT"] == "":
            raise DumpFormatError("missing (truncated row?)", source=source, line=lineno,
                                  field="TYPE NAME" if not cell else "WEIGHT")
        rest = ln[name_start:]
        depth = (len(rest) - len(rest.lstrip(" "))) // 4
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parent[nid] = stack[-1][1]
            children.setdefault(stack[-1][1], []).append(nid)
        stray = not stack and nid >= 0
        if nid < 0:
            stack.append((depth, nid))
            parts = cell.split(" ", 1)
            if len(parts) != 2:
                raise DumpFormatError(f"expected `type name`, got {cell!r}", source=source, line=lineno,
                                      field="TYPE NAME")
            buckets.append({"id": nid, "type": parts[0], "name": parts[1],
                            "crush_weight": _num(cells["WEIGHT"], source, lineno, "WEIGHT")})
            continue
        status = cells[status_col] or None
        if status is None:
            raise DumpFormatError("missing (truncated row?)", source=source, line=lineno, field=status_col)
        if status not in _STATUSES:
            raise DumpFormatError(f"not an OSD status ({', '.join(sorted(_STATUSES))}): {status!r} (cut row?)",
                                  source=source, line=lineno, field=status_col)
        osd_rows.append({
            "osd_id": nid, "name": cell, "device_class": cells.get("CLASS") or None,
            "crush_weight": _num(cells["WEIGHT"], source, lineno, "WEIGHT"),
            "reweight": _fixed5(cells["REWEIGHT"], source, lineno, "REWEIGHT"),
            "status": status,
            "primary_affinity": _fixed5(cells[aff_col], source, lineno, aff_col),
            "exists": status != "DNE",
            "stray": stray,
        })
    if not osd_rows and not buckets:
        raise DumpFormatError("no rows under the header", source=source, line=h + 1)
    frag = Fragment(kind="osd_tree", source=source)
    frag.osds, frag.extra["tree"] = _frames(osd_rows, buckets, parent, children)
    frag.release = "luminous+" if "CLASS" in names else "jewel"
    return frag


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph osd tree`` output (plain or JSON).

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
        kind ``"osd_tree"`` with ``osds`` and ``extra["tree"]`` (see the module documentation).

    Raises
    ------
    DumpFormatError
    """
    return json_or_plain(text, obj, source, accepts=_is_json_tree, expected="an object with `nodes` and `stray`",
                         parse_json=_parse_json, parse_plain=_parse_plain)
