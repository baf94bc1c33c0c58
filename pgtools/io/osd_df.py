"""``ceph osd df`` and ``ceph osd df tree``, plain and ``-f json``.

Plain headers of every release are read by name (``pg_dump_formats.md`` §5)::

    Jewel     ID WEIGHT REWEIGHT SIZE USE AVAIL %USE VAR PGS [TYPE NAME]
    Luminous  ID CLASS WEIGHT REWEIGHT SIZE USE [DATA OMAP META] AVAIL %USE VAR PGS
    Mimic     ID CLASS WEIGHT REWEIGHT SIZE USE AVAIL %USE VAR PGS
    Nautilus+ ID CLASS WEIGHT REWEIGHT SIZE RAW USE DATA OMAP META AVAIL %USE VAR PGS STATUS [TYPE NAME]

Cells are assigned to columns by the start offset of their heading (Ceph's TextTable pads headings
left-aligned to the column width), so empty cells (a bucket's CLASS and STATUS) and cells with spaces
(``9.9 GiB``, ``host node1``) need no guessing.  Sizes (``9.9 GiB``, ``1.00GiB``, ``10.1G``, raw KiB
numbers in Jewel) become KiB; ``-`` placeholders become missing values.  Text before the header
(a shell prompt, a Markdown fence, ``dumped`` lines) is skipped; after the ``TOTAL`` and
``MIN/MAX VAR`` footer only blank lines and fences may follow.

Tables produced:

``osds`` (one row per OSD, buckets excluded)
    ``osd_id, name, host`` (tree form only: nearest ancestor of type ``host``), ``device_class``,
    ``crush_weight``, ``reweight``, ``kb, kb_used, kb_avail`` (KiB; the plain form is rounded to the
    printed precision), ``kb_used_data, kb_used_omap, kb_used_meta`` (when shown), ``utilization``
    (percent), ``var``, ``pgs`` (``Int64``), ``status`` (``up``/``down``/``destroyed``… or None),
    ``up`` (bool where status is known), ``stray`` (JSON: listed under ``stray``, not in the tree).
``extra["osd_df_summary"]``
    The JSON ``summary`` object, or from the plain footer: ``total_kb, total_kb_used,
    [total_kb_used_data, total_kb_used_omap, total_kb_used_meta,] total_kb_avail,
    average_utilization, min_var, max_var, dev``.
``extra["tree"]`` (tree form)
    Buckets: ``id, name, type, parent_id, crush_weight``.

Release detection: a ``STATUS`` column / ``status`` key → ``"nautilus+"``; no ``CLASS`` column / no
``device_class`` key → ``"jewel"``; otherwise ``"luminous+"``.  Two-space column separation in the
plain form → ``"octopus+"``.

This module also provides the heading-offset table splitter used by the other plain-table parsers of
this package (``split_header``, ``split_row``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ._common import Fragment, parse_size, strip_noise_lines
from ._json import as_dict, as_list, get_float, get_int, get_str, int64_col, json_or_plain, type_name
from ._table import (
    MINMAX_LINE,
    TOTAL_LINE,
    column_bounds,
    find_header,
    is_fence,
    nearest_host,
    split_header,
    split_row,
    table_body,
)

__all__ = ["sniff", "parse"]

_HEADER = re.compile(r"^\s*ID\s+(CLASS\s+)?WEIGHT\s+REWEIGHT\s+SIZE\s+(RAW USE|USE)\s")


def _json_nodes_kind(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("nodes"), list) and isinstance(obj.get("summary"), dict)


def sniff(text: str, obj: object | None) -> bool:
    """True for ``osd df [tree]`` output, plain or JSON.

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
        return _json_nodes_kind(obj)
    return find_header(text.splitlines()[:200], _HEADER) is not None


# --------------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------------

_NODE_FLOATS = ["crush_weight", "reweight", "utilization", "var"]
_NODE_KB = ["kb", "kb_used", "kb_used_data", "kb_used_omap", "kb_used_meta", "kb_avail"]


def _parents(nodes: list[dict], source: str) -> dict[int, int]:
    parent: dict[int, int] = {}
    for i, n in enumerate(nodes):
        if "children" in n:
            nid = get_int(n, "id", source, f"nodes[{i}].")
            for j, c in enumerate(as_list(n["children"], source, f"nodes[{i}].children")):
                if isinstance(c, bool) or not isinstance(c, int):
                    raise DumpFormatError(f"expected an integer id, got {type_name(c)}", source=source,
                                          field=f"nodes[{i}].children[{j}]")
                parent[c] = nid
    return parent


def _parse_json(obj: dict, source: str) -> Fragment:
    nodes = as_list(obj["nodes"], source, "nodes")
    stray = as_list(obj.get("stray", []), source, "stray")
    rows = [(as_dict(n, source, f"nodes[{i}]"), f"nodes[{i}].", False) for i, n in enumerate(nodes)]
    rows += [(as_dict(n, source, f"stray[{i}]"), f"stray[{i}].", True) for i, n in enumerate(stray)]
    parent = _parents([r[0] for r in rows if not r[2]], source)
    types: dict[int, str] = {}
    names: dict[int, str] = {}
    buckets = []
    osd_rows: list[dict] = []
    has_status = has_class = False
    for n, w, is_stray in rows:
        nid = get_int(n, "id", source, w)
        ntype = get_str(n, "type", source, w, "osd" if nid >= 0 else "")
        name = get_str(n, "name", source, w, f"osd.{nid}" if nid >= 0 else "")
        types[nid] = ntype
        names[nid] = name
        if nid < 0:
            buckets.append({"id": nid, "name": name, "type": ntype,
                            "crush_weight": get_float(n, "crush_weight", source, w, math.nan)})
            continue
        row: dict[str, Any] = {"osd_id": nid, "name": name}
        if "device_class" in n:
            has_class = True
        row["device_class"] = get_str(n, "device_class", source, w, None)
        for k in _NODE_FLOATS:
            row[k] = get_float(n, k, source, w, math.nan)
        for k in _NODE_KB:
            row[k] = get_int(n, k, source, w, None)
        row["pgs"] = get_int(n, "pgs", source, w, None)
        if "status" in n:
            has_status = True
        row["status"] = get_str(n, "status", source, w, None)
        row["stray"] = is_stray
        osd_rows.append(row)
    frag = Fragment(kind="osd_df", source=source)
    frag.osds = _osds_frame(osd_rows, parent, types, names, tree=any("children" in r[0] for r in rows))
    if buckets:
        _fill_bucket_weights(buckets, parent, {r["osd_id"]: r["crush_weight"] for r in osd_rows})
        tree = pd.DataFrame(buckets, columns=["id", "name", "type", "crush_weight"])
        tree.insert(3, "parent_id", int64_col([parent.get(b) for b in tree["id"]]))
        frag.extra["tree"] = tree
    summary = as_dict(obj["summary"], source, "summary")
    frag.extra["osd_df_summary"] = {k: _summary_value(v, source, k) for k, v in summary.items()}
    frag.release = "nautilus+" if has_status else ("luminous+" if has_class else ("jewel" if osd_rows else None))
    return frag


def _fill_bucket_weights(buckets: list[dict], parent: dict[int, int], osd_weights: dict[int, float]) -> None:
    """JSON ``osd df tree`` buckets carry no ``crush_weight``: use the sum of the OSDs below them."""
    totals: dict[int, float] = {}
    for osd, w in osd_weights.items():
        seen = set()
        cur = parent.get(osd)
        while cur is not None and cur not in seen and not math.isnan(w):
            seen.add(cur)
            totals[cur] = totals.get(cur, 0.0) + w
            cur = parent.get(cur)
    for b in buckets:
        if math.isnan(b["crush_weight"]):
            b["crush_weight"] = round(totals.get(b["id"], 0.0), 5)


def _summary_value(v: Any, source: str, key: str) -> float | int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if v is None:
            return math.nan
        raise DumpFormatError(f"expected a number, got {type_name(v)}", source=source, field=f"summary.{key}")
    return v


def _osds_frame(rows: list[dict], parent: dict[int, int], types: dict[int, str], names: dict[int, str],
                tree: bool) -> pd.DataFrame:
    cols = ["osd_id", "name", "host", "device_class", "crush_weight", "reweight", "kb", "kb_used", "kb_avail",
            "kb_used_data", "kb_used_omap", "kb_used_meta", "utilization", "var", "pgs", "status", "up", "stray"]
    data: dict[str, list] = {c: [] for c in cols}
    for r in rows:
        r = dict(r)
        r["host"] = nearest_host(r["osd_id"], parent, types, names) if tree else None
        st = r.get("status")
        r["up"] = None if st is None else (st == "up")
        for c in cols:
            data[c].append(r.get(c))
    df = pd.DataFrame({
        "osd_id": pd.Series(data["osd_id"], dtype="int64"),
        "name": pd.Series(data["name"], dtype="object"),
        "host": pd.Series(data["host"], dtype="object"),
        "device_class": pd.Series(data["device_class"], dtype="object"),
        "crush_weight": pd.Series(data["crush_weight"], dtype="float64"),
        "reweight": pd.Series(data["reweight"], dtype="float64"),
    })
    for c in ("kb", "kb_used", "kb_avail", "kb_used_data", "kb_used_omap", "kb_used_meta"):
        df[c] = int64_col(data[c])
    df["utilization"] = pd.Series(data["utilization"], dtype="float64")
    df["var"] = pd.Series(data["var"], dtype="float64")
    df["pgs"] = int64_col(data["pgs"])
    df["status"] = pd.Series(data["status"], dtype="object")
    df["up"] = pd.array(data["up"], dtype="boolean")
    df["stray"] = pd.Series([bool(x) for x in data["stray"]], dtype="bool")
    return df.sort_values("osd_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# plain
# --------------------------------------------------------------------------------------------------

_ROWLIKE = re.compile(r"^\s*-?[0-9]+\s+\S+\s+\S+")
_SIZE_COLS = {"SIZE": "kb", "RAW USE": "kb_used", "USE": "kb_used", "DATA": "kb_used_data",
              "OMAP": "kb_used_omap", "META": "kb_used_meta", "AVAIL": "kb_avail"}


def _kib(cell: str, source: str, line: int, field: str, raw_kib: bool) -> int | None:
    if cell in ("", "-"):
        return None
    try:
        if raw_kib and re.fullmatch(r"[0-9]+", cell):
            return int(cell)  # Jewel prints KiB numbers
        return parse_size(cell) // 1024
    except ValueError:
        raise DumpFormatError(f"not a size: {cell!r}", source=source, line=line, field=field) from None


def _num(cell: str, source: str, line: int, field: str) -> float:
    if cell in ("", "-"):
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise DumpFormatError(f"not a number: {cell!r}", source=source, line=line, field=field) from None


def _int_cell(cell: str, source: str, line: int, field: str) -> int | None:
    if cell in ("", "-"):
        return None
    if re.fullmatch(r"-?[0-9]+", cell):
        return int(cell)
    raise DumpFormatError(f"not an integer: {cell!r}", source=source, line=line, field=field)


def _parse_plain(text: str, source: str) -> Fragment:
    lines = text.splitlines()
    h = find_header(lines, _HEADER)
    if h is None:
        raise DumpFormatError("no `ID ... WEIGHT REWEIGHT SIZE` header found", source=source, line=1)
    for i in range(h):
        if _ROWLIKE.match(lines[i]):
            raise DumpFormatError("table row before the header", source=source, line=i + 1)
    header = split_header(lines[h])
    names = [n for n, _ in header]
    starts = [s for _, s in header]
    known = {"ID", "CLASS", "WEIGHT", "REWEIGHT", "SIZE", "RAW USE", "USE", "DATA", "OMAP", "META", "AVAIL",
             "%USE", "VAR", "PGS", "STATUS", "TYPE NAME"}
    for n in names:
        if n not in known:
            raise DumpFormatError(f"unknown column {n!r}", source=source, line=h + 1, field=n)
    body = table_body(lines[h + 1:])
    name_start = starts[names.index("TYPE NAME")] if "TYPE NAME" in names else 0
    starts = column_bounds(header, body)
    tree = "TYPE NAME" in names
    raw_kib = "CLASS" not in names  # Jewel: sizes are KiB numbers (or compact units)
    osd_rows: list[dict] = []
    buckets: list[dict] = []
    parent: dict[int, int] = {}
    types: dict[int, str] = {}
    bnames: dict[int, str] = {}
    stack: list[tuple[int, int]] = []  # (depth, id)
    summary: dict[str, float] = {}
    done = False
    for idx in range(h + 1, len(lines)):
        ln = lines[idx]
        lineno = idx + 1
        if is_fence(ln) and (osd_rows or buckets):
            done = True
            continue
        if not ln.strip() or is_fence(ln) or _is_noise(ln):
            continue
        if done:
            raise DumpFormatError("unexpected text after the table", source=source, line=lineno)
        m = MINMAX_LINE.match(ln)
        if m:
            summary["min_var"] = _num(m.group(1), source, lineno, "MIN/MAX VAR")
            summary["max_var"] = _num(m.group(2), source, lineno, "MIN/MAX VAR")
            summary["dev"] = _num(m.group(3), source, lineno, "STDDEV")
            done = True
            continue
        cells = dict(zip(names, split_row(ln, starts), strict=False))
        if TOTAL_LINE.match(ln):
            for col, key in _SIZE_COLS.items():
                if col in cells:
                    v = _kib(cells[col], source, lineno, col, raw_kib)
                    if v is not None:
                        summary["total_" + key] = v
            summary["average_utilization"] = _num(cells.get("%USE", ""), source, lineno, "%USE")
            continue
        nid = _int_cell(cells["ID"], source, lineno, "ID")
        if nid is None:
            raise DumpFormatError("missing", source=source, line=lineno, field="ID")
        name, ntype, depth = None, "osd" if nid >= 0 else None, None
        if tree:
            cell = cells["TYPE NAME"]
            if not cell:
                raise DumpFormatError("missing", source=source, line=lineno, field="TYPE NAME")
            depth = _name_depth(ln, name_start)
            parts = cell.split(" ", 1)
            if nid < 0 and len(parts) == 2:
                ntype, name = parts
            elif nid < 0:
                raise DumpFormatError(f"expected `type name`, got {cell!r}", source=source, line=lineno,
                                      field="TYPE NAME")
            else:
                name = cell
            while stack and stack[-1][0] >= depth:
                stack.pop()
            if stack:
                parent[nid] = stack[-1][1]
            stack.append((depth, nid))
        types[nid] = ntype or ""
        bnames[nid] = name or ""
        required = [n for n in names if n not in ("CLASS", "TYPE NAME", "ID")]
        if nid < 0:
            required = [n for n in required if n not in ("REWEIGHT", "PGS", "STATUS")]
        for n in required:
            if cells[n] == "":
                raise DumpFormatError("missing (truncated row?)", source=source, line=lineno, field=n)
        weight = _num(cells.get("WEIGHT", ""), source, lineno, "WEIGHT")
        if nid < 0:
            buckets.append({"id": nid, "name": name, "type": ntype, "crush_weight": weight})
            continue
        row: dict[str, Any] = {"osd_id": nid, "name": name or f"osd.{nid}",
                               "device_class": cells.get("CLASS") or None, "crush_weight": weight,
                               "reweight": _num(cells.get("REWEIGHT", ""), source, lineno, "REWEIGHT")}
        for col, key in _SIZE_COLS.items():
            if col in cells:
                row[key] = _kib(cells[col], source, lineno, col, raw_kib)
        row["utilization"] = _num(cells.get("%USE", ""), source, lineno, "%USE")
        row["var"] = _num(cells.get("VAR", ""), source, lineno, "VAR")
        row["pgs"] = _int_cell(cells.get("PGS", ""), source, lineno, "PGS")
        row["status"] = cells.get("STATUS") or None
        row["stray"] = False
        osd_rows.append(row)
    if not osd_rows and not buckets:
        raise DumpFormatError("no rows under the header", source=source, line=h + 1)
    frag = Fragment(kind="osd_df", source=source)
    frag.osds = _osds_frame(osd_rows, parent, types, bnames, tree)
    if buckets:
        tree_df = pd.DataFrame(buckets, columns=["id", "name", "type", "crush_weight"])
        tree_df.insert(3, "parent_id", int64_col([parent.get(b) for b in tree_df["id"]]))
        frag.extra["tree"] = tree_df
    frag.extra["osd_df_summary"] = summary
    if "STATUS" in names:
        frag.release = "octopus+" if _two_space(lines[h]) else "nautilus+"
    elif "CLASS" not in names:
        frag.release = "jewel"
    else:
        frag.release = "luminous+"
    return frag


def _two_space(header: str) -> bool:
    """True when every gap between headings is at least two spaces (Octopus+ TextTable)."""
    merged = header.replace("RAW USE", "RAW_USE").replace("TYPE NAME", "TYPE_NAME")
    gaps = re.findall(r"(?<=\S)( +)(?=\S)", merged)
    return bool(gaps) and all(len(g) >= 2 for g in gaps)


def _name_depth(line: str, name_start: int) -> int:
    rest = line[name_start:]
    indent = len(rest) - len(rest.lstrip(" "))
    return indent // 4


def _is_noise(line: str) -> bool:
    return not strip_noise_lines([line])


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph osd df [tree]`` output (plain or JSON).

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
        kind ``"osd_df"``; ``osds`` and ``extra["osd_df_summary"]`` (and ``extra["tree"]`` in tree form).

    Raises
    ------
    DumpFormatError
    """
    return json_or_plain(text, obj, source, accepts=_json_nodes_kind, expected="an object with `nodes` and `summary`",
                         parse_json=_parse_json, parse_plain=_parse_plain)

