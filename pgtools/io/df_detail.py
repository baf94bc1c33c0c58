"""``ceph df [detail]``, ``-f json`` and (Nautilus+ layout) plain.

JSON: ``{"stats": {...}, "stats_by_class": {...}, "pools": [{"name", "id", "stats": {...}}]}``.
Plain: a ``RAW STORAGE`` section (``--- RAW STORAGE ---`` from Octopus, ``RAW STORAGE:`` in
Nautilus) and a ``POOLS`` section whose header starts ``POOL  ID``.

Tables produced:

``pool_stats``
    ``pool_id, pool`` then every number of the pool's ``stats`` object under its JSON name:
    ``stored, stored_data, stored_omap, objects, kb_used, bytes_used, data_bytes_used,
    omap_bytes_used, percent_used`` (a fraction 0..1), ``max_avail, quota_objects, quota_bytes,
    dirty, rd, rd_bytes, wr, wr_bytes, compress_bytes_used, compress_under_bytes, stored_raw,
    avail_raw`` (whatever the release prints).  Integers are ``Int64``.  The plain form carries
    rounded values (``308 MiB``, ``4.96k`` objects), ``num_pg`` from ``PGS``, and ``<NA>`` for
    ``N/A``.
``extra["df_stats"]``
    The cluster ``stats`` object (``total_bytes, total_avail_bytes, total_used_bytes,
    total_used_raw_bytes, total_used_raw_ratio, num_osds, ...``); from the plain ``TOTAL`` row:
    the four byte totals and ``total_used_raw_ratio``.
``extra["df_stats_by_class"]``
    ``{device_class: {...same keys...}}``.

Release: a ``PGS`` column / ``stored`` key → ``"nautilus+"``; ``--- POOLS ---`` → ``"octopus+"``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ._common import Fragment, parse_size
from ._json import as_dict, as_list, get_int, get_str, json_or_plain, to_int, type_name
from ._table import column_bounds, split_header, split_row

__all__ = ["sniff", "parse"]

_POOLS_HEADER = re.compile(r"^\s*POOL\s+ID\s+")
_RAW_HEADER = re.compile(r"^\s*CLASS\s+SIZE\s+AVAIL\s+USED\s+RAW USED\s+%RAW USED\s*$")
_SECTION = re.compile(r"^\s*(---\s*)?(RAW STORAGE|POOLS|GLOBAL)(:|\s*---)\s*$")


def _is_json_df(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("stats"), dict) and isinstance(obj.get("pools"), list)


def sniff(text: str, obj: object | None) -> bool:
    """True for ``ceph df [detail]`` output.

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
        return _is_json_df(obj)
    head = text.splitlines()[:50]
    return any(_SECTION.match(ln) and "POOLS" in ln for ln in head) and any(_POOLS_HEADER.match(ln)
                                                                            for ln in head)


def _number(v: Any, source: str, field: str) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return to_int(v, source, field)
    if isinstance(v, float):
        return v
    if v is None:
        return math.nan
    raise DumpFormatError(f"expected a number, got {type_name(v)}", source=source, field=field)


def _stats_frame(rows: list[dict]) -> pd.DataFrame:
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    df = pd.DataFrame({"pool_id": pd.Series([r["pool_id"] for r in rows], dtype="int64"),
                       "pool": pd.Series([r["pool"] for r in rows], dtype="object")})
    for k in keys:
        if k in ("pool_id", "pool"):
            continue
        vals = [r.get(k) for r in rows]
        present = [v for v in vals if v is not None]
        if all(isinstance(v, int) for v in present):
            df[k] = pd.array(vals, dtype="Int64")
        else:
            df[k] = pd.Series([math.nan if v is None else float(v) for v in vals], dtype="float64")
    return df.sort_values("pool_id", kind="stable").reset_index(drop=True)


def _parse_json(obj: dict, source: str) -> Fragment:
    rows = []
    for i, p in enumerate(as_list(obj["pools"], source, "pools")):
        w = f"pools[{i}]."
        p = as_dict(p, source, f"pools[{i}]")
        row: dict[str, Any] = {"pool_id": get_int(p, "id", source, w), "pool": get_str(p, "name", source, w)}
        for k, v in as_dict(p.get("stats", {}), source, w + "stats").items():
            row[k] = _number(v, source, f"{w}stats.{k}")
        rows.append(row)
    frag = Fragment(kind="df_detail", source=source)
    frag.pool_stats = _stats_frame(rows) if rows else pd.DataFrame({"pool_id": pd.Series(dtype="int64"),
                                                                     "pool": pd.Series(dtype="object")})
    frag.extra["df_stats"] = {k: _number(v, source, f"stats.{k}")
                              for k, v in as_dict(obj["stats"], source, "stats").items()}
    by_class = as_dict(obj.get("stats_by_class", {}), source, "stats_by_class")
    frag.extra["df_stats_by_class"] = {
        str(c): {k: _number(v, source, f"stats_by_class.{c}.{k}")
                 for k, v in as_dict(d, source, f"stats_by_class.{c}").items()}
        for c, d in by_class.items()}
    if rows and "stored" in rows[0]:
        frag.release = "nautilus+"
    return frag


# --------------------------------------------------------------------------------------------------
# plain
# --------------------------------------------------------------------------------------------------

_POOL_COLS = {"POOL": "pool", "ID": "pool_id", "PGS": "num_pg", "STORED": "stored", "OBJECTS": "objects",
              "USED": "bytes_used", "%USED": "percent_used", "MAX AVAIL": "max_avail",
              "QUOTA OBJECTS": "quota_objects", "QUOTA BYTES": "quota_bytes", "DIRTY": "dirty",
              "USED COMPR": "compress_bytes_used", "UNDER COMPR": "compress_under_bytes"}
_SIZE_KEYS = {"stored", "stored_data", "stored_omap", "bytes_used", "data_bytes_used", "omap_bytes_used",
              "max_avail", "quota_bytes", "compress_bytes_used", "compress_under_bytes"}
_SI = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}


def _count(cell: str) -> int:
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*([kMGTP]?)", cell)
    if not m:
        raise ValueError(cell)
    return int(round(float(m.group(1)) * _SI[m.group(2)]))


def _plain_value(key: str, cell: str, source: str, line: int, heading: str) -> Any:
    if cell in ("", "N/A", "-"):
        return None
    try:
        if key == "pool":
            return cell
        if key in ("pool_id", "num_pg"):
            if not re.fullmatch(r"[0-9]+", cell):
                raise ValueError(cell)
            return int(cell)
        if key == "percent_used":
            return float(cell) / 100.0
        if key in _SIZE_KEYS:
            return parse_size(cell)
        return _count(cell)
    except ValueError:
        raise DumpFormatError(f"cannot read {cell!r}", source=source, line=line, field=heading) from None


def _blocks(lines: list[str], source: str) -> list[tuple[str, int, list[tuple[int, str]]]]:
    """``(section, header line index, [(lineno, row), ...])`` for each table."""
    out: list[tuple[str, int, list[tuple[int, str]]]] = []
    section = None
    cur: tuple[str, int, list[tuple[int, str]]] | None = None
    for idx, ln in enumerate(lines):
        if not ln.strip():
            cur = None
            continue
        sm = _SECTION.match(ln)
        if sm:
            section = sm.group(2)
            cur = None
            continue
        if cur is None:
            ok = (section == "POOLS" and _POOLS_HEADER.match(ln)) or (
                section in ("RAW STORAGE", "GLOBAL") and re.match(r"^\s*(CLASS|SIZE)\s", ln))
            if not ok:
                raise DumpFormatError("expected a table header", source=source, line=idx + 1)
            cur = (section or "", idx, [])
            out.append(cur)
            continue
        cur[2].append((idx + 1, ln))
    return out


def _pool_keys(header: list[tuple[str, int]]) -> list[str]:
    keys = []
    seen_used = False
    for name, _ in header:
        if name == "USED":
            seen_used = True
        if name in ("(DATA)", "(OMAP)"):
            base = "data" if name == "(DATA)" else "omap"
            keys.append(f"{base}_bytes_used" if seen_used else f"stored_{base}")
        elif name in _POOL_COLS:
            keys.append(_POOL_COLS[name])
        else:
            keys.append(name.lower().replace(" ", "_").replace("%", "pct_"))
    return keys


def _parse_plain(text: str, source: str) -> Fragment:
    lines = text.splitlines()
    frag = Fragment(kind="df_detail", source=source)
    rows: list[dict] = []
    df_stats: dict[str, Any] = {}
    for section, h, body in _blocks(lines, source):
        header = split_header(lines[h])
        bounds = column_bounds(header, [ln for _, ln in body])
        names = [n for n, _ in header]
        keys = _pool_keys(header) if section == "POOLS" else names
        for lineno, ln in body:
            cells = split_row(ln, bounds)
            if section == "POOLS":
                empty = next((name for name, cell in zip(names, cells, strict=False) if not cell), None)
                if empty is not None:  # Ceph prints N/A, never an empty cell
                    raise DumpFormatError("missing (truncated row?)", source=source, line=lineno, field=empty)
                row = {key: _plain_value(key, cell, source, lineno, name)
                       for key, name, cell in zip(keys, names, cells, strict=False)}
                if row.get("pool_id") is None or row.get("pool") is None:
                    raise DumpFormatError("missing pool name or id", source=source, line=lineno, field="ID")
                rows.append(row)
                continue
            named = dict(zip(names, cells, strict=False))
            if named.get("CLASS") != "TOTAL" and section != "GLOBAL":
                continue
            try:
                df_stats["total_bytes"] = parse_size(named["SIZE"])
                df_stats["total_avail_bytes"] = parse_size(named["AVAIL"])
                if "USED" in named:
                    df_stats["total_used_bytes"] = parse_size(named["USED"])
                df_stats["total_used_raw_bytes"] = parse_size(named["RAW USED"])
                df_stats["total_used_raw_ratio"] = float(named["%RAW USED"]) / 100.0
            except (KeyError, ValueError):
                raise DumpFormatError("cannot read the TOTAL row", source=source, line=lineno) from None
    if not rows:
        raise DumpFormatError("no POOLS table", source=source, line=1)
    frag.pool_stats = _stats_frame(rows)
    frag.extra["df_stats"] = df_stats
    if any(ln.strip() == "--- POOLS ---" for ln in lines):
        frag.release = "octopus+"
    elif "num_pg" in frag.pool_stats.columns:
        frag.release = "nautilus+"
    return frag


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph df [detail]`` output (JSON, or the Nautilus+ plain layout).

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
        kind ``"df_detail"`` with ``pool_stats`` and ``extra["df_stats"]``.

    Raises
    ------
    DumpFormatError
    """
    return json_or_plain(text, obj, source, accepts=_is_json_df, expected="an object with `stats` and `pools`",
                         parse_json=_parse_json, parse_plain=_parse_plain)
