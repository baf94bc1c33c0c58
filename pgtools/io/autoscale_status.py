"""``ceph osd pool autoscale-status``, ``-f json`` and plain.

Result: ``extra["autoscale_status"]``, a DataFrame with one row per pool and the JSON field names
(``ceph_algorithms.md`` §10.3): ``pool_id, pool_name, crush_root_id, pg_autoscale_mode, pg_num_target,
logical_used, target_bytes, raw_used_rate, subtree_capacity, actual_raw_used, raw_used,
actual_capacity_ratio, capacity_ratio, target_ratio, effective_target_ratio, pg_num_ideal,
pg_num_final, would_adjust, bias, bulk`` (whichever the release prints).

The plain table carries fewer, rounded fields; its columns are renamed to the JSON names::

    POOL→pool_name  SIZE→logical_used  TARGET SIZE→target_bytes  RATE→raw_used_rate
    RAW CAPACITY→subtree_capacity  RATIO→capacity_ratio  TARGET RATIO→target_ratio
    EFFECTIVE RATIO→effective_target_ratio  BIAS→bias  PG_NUM→pg_num_target
    NEW PG_NUM→pg_num_final (blank: no change; ``would_adjust`` is True when it is set)
    AUTOSCALE→pg_autoscale_mode  BULK→bulk  PROFILE→profile

Sizes such as ``308.4M``/``320.0k`` are binary units (``mgr_util.format_bytes``); blank ratio cells
are 0.0 (the table leaves zero ratios blank).

Release: ``BULK``/``bulk`` → ``"pacific+"``; ``EFFECTIVE RATIO`` without ``BULK`` → ``"pacific"``;
neither → ``"nautilus+"``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ._common import Fragment, parse_size
from ._json import as_dict, json_or_plain, to_int, type_name
from ._table import column_bounds, find_header, split_header, split_row, table_body

__all__ = ["sniff", "parse"]

_HEADER = re.compile(r"^\s*POOL\s+SIZE\s+TARGET SIZE\s+RATE\s+RAW CAPACITY\s+RATIO\s")
_PLAIN_NAMES = {"POOL": "pool_name", "SIZE": "logical_used", "TARGET SIZE": "target_bytes",
                "RATE": "raw_used_rate", "RAW CAPACITY": "subtree_capacity", "RATIO": "capacity_ratio",
                "TARGET RATIO": "target_ratio", "EFFECTIVE RATIO": "effective_target_ratio", "BIAS": "bias",
                "PG_NUM": "pg_num_target", "NEW PG_NUM": "pg_num_final", "AUTOSCALE": "pg_autoscale_mode",
                "BULK": "bulk", "PROFILE": "profile"}
_SIZE_FIELDS = {"logical_used", "target_bytes", "subtree_capacity"}
_FLOAT_FIELDS = {"raw_used_rate", "capacity_ratio", "target_ratio", "effective_target_ratio", "bias"}
_INT_FIELDS = {"pg_num_target", "pg_num_final"}


def _is_json(obj: Any) -> bool:
    return (isinstance(obj, list) and bool(obj) and isinstance(obj[0], dict) and "pool_name" in obj[0]
            and ("would_adjust" in obj[0] or "pg_num_final" in obj[0] or "capacity_ratio" in obj[0]))


def sniff(text: str, obj: object | None) -> bool:
    """True for ``osd pool autoscale-status`` output (plain or JSON).

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


def _frame(rows: list[dict], source: str) -> pd.DataFrame:
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    df = pd.DataFrame(index=range(len(rows)))
    for k in keys:
        vals = [r.get(k) for r in rows]
        present = [v for v in vals if v is not None]
        if not present and k in _INT_FIELDS:
            df[k] = pd.array(vals, dtype="Int64")
        elif present and all(isinstance(v, bool) for v in present):
            df[k] = pd.array(vals, dtype="boolean")
        elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            df[k] = pd.array(vals, dtype="Int64")
        elif present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
            df[k] = pd.Series([math.nan if v is None else float(v) for v in vals], dtype="float64")
        elif all(isinstance(v, str) for v in present):
            df[k] = pd.Series(vals, dtype="object")
        else:
            bad = [v for v in present if not isinstance(v, (str, int, float, bool))]
            if bad:
                raise DumpFormatError(f"expected a scalar, got {type_name(bad[0])}", source=source, field=k)
            raise DumpFormatError("values of different types across pools", source=source, field=k)
    first = [c for c in ("pool_id", "pool_name") if c in df.columns]
    return df[first + [c for c in df.columns if c not in first]]


def _parse_json(obj: list, source: str) -> Fragment:
    rows = [as_dict(r, source, f"[{i}]") for i, r in enumerate(obj)]
    for i, r in enumerate(rows):
        for k, v in r.items():
            if isinstance(v, int) and not isinstance(v, bool):
                to_int(v, source, f"[{i}].{k}")
    for i, r in enumerate(rows):
        if not isinstance(r.get("pool_name"), str):
            raise DumpFormatError(f"expected a string, got {type_name(r.get('pool_name'))}", source=source,
                                  field=f"[{i}].pool_name")
    df = _frame(rows, source)
    frag = Fragment(kind="autoscale_status", source=source)
    frag.extra["autoscale_status"] = df
    frag.release = "pacific+" if "bulk" in df.columns else None
    return frag


def _plain_value(key: str, cell: str, source: str, line: int, heading: str) -> Any:
    try:
        if key in _SIZE_FIELDS:
            if cell == "":
                return 0 if key == "target_bytes" else None
            m = re.fullmatch(r"([0-9.]+)([kKMGTPE]?)", cell)
            if not m:
                raise ValueError(cell)
            return parse_size(m.group(1) + m.group(2).upper())
        if key in _FLOAT_FIELDS:
            return 0.0 if cell == "" else float(cell)
        if key in _INT_FIELDS:
            if cell == "":
                return None
            if not re.fullmatch(r"[0-9]+", cell):
                raise ValueError(cell)
            return int(cell)
        if key == "bulk":
            if cell not in ("True", "False"):
                raise ValueError(cell)
            return cell == "True"
        return cell
    except ValueError:
        raise DumpFormatError(f"cannot read {cell!r}", source=source, line=line, field=heading) from None


def _parse_plain(text: str, source: str) -> Fragment:
    lines = text.splitlines()
    h = find_header(lines, _HEADER)
    if h is None:
        raise DumpFormatError("no `POOL SIZE TARGET SIZE RATE ...` header found", source=source, line=1)
    header = split_header(lines[h])
    names = [n for n, _ in header]
    for n in names:
        if n not in _PLAIN_NAMES:
            raise DumpFormatError(f"unknown column {n!r}", source=source, line=h + 1, field=n)
    body = table_body(lines[h + 1:])
    bounds = column_bounds(header, body)
    rows = []
    in_body = set(body)
    for idx in range(h + 1, len(lines)):
        ln = lines[idx]
        if ln not in in_body:
            continue
        cells = split_row(ln, bounds)
        row = {_PLAIN_NAMES[n]: _plain_value(_PLAIN_NAMES[n], c, source, idx + 1, n) for n, c in zip(names, cells, strict=False)}
        if not row.get("pool_name") or row.get("pg_num_target") is None:
            raise DumpFormatError("missing (truncated row?)", source=source, line=idx + 1,
                                  field="POOL" if not row.get("pool_name") else "PG_NUM")
        row["would_adjust"] = row.get("pg_num_final") is not None
        rows.append(row)
    frag = Fragment(kind="autoscale_status", source=source)
    frag.extra["autoscale_status"] = _frame(rows, source)
    if "BULK" in names:
        frag.release = "pacific+"
    elif "EFFECTIVE RATIO" in names:
        frag.release = "pacific"
    else:
        frag.release = "nautilus+"
    return frag


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph osd pool autoscale-status`` output (plain or JSON).

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
        kind ``"autoscale_status"`` with ``extra["autoscale_status"]``.

    Raises
    ------
    DumpFormatError
    """
    return json_or_plain(text, obj, source, accepts=lambda o: isinstance(o, list), expected="a list of pools",
                         parse_json=_parse_json, parse_plain=_parse_plain)
