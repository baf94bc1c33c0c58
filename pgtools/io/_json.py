"""Typed access to decoded JSON for the parsers: every wrong type becomes a DumpFormatError naming the field."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ._common import Fragment, loads_json

_MISSING = object()


# --------------------------------------------------------------------------------------------------
# typed accessors for decoded JSON (shared by the JSON parsers of pgtools.io)
# --------------------------------------------------------------------------------------------------

def _err(msg: str, source: str, field: str | None) -> DumpFormatError:
    return DumpFormatError(msg, source=source, field=field)


def _as_dict(value: Any, source: str, field: str) -> dict:
    if not isinstance(value, dict):
        raise _err(f"expected an object, got {_tname(value)}", source, field)
    return value


def _as_list(value: Any, source: str, field: str) -> list:
    if not isinstance(value, list):
        raise _err(f"expected an array, got {_tname(value)}", source, field)
    return value


def _tname(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        return f"string {value[:40]!r}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def _check_i64(value: int, source: str, field: str) -> int:
    if not _I64_MIN <= value <= _I64_MAX:
        raise _err(f"integer out of range: {value}", source, field)
    return value


def _to_int(value: Any, source: str, field: str) -> int:
    """An integer from a JSON int, an integral float, or a decimal string (Ceph's stringified ints)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return _check_i64(value, source, field)
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return _check_i64(int(value), source, field)
    if isinstance(value, str):
        s = value.strip()
        body = s[1:] if s[:1] in ("+", "-") else s
        if body and body.isdigit() and body.isascii() and len(body) < 25:
            return _check_i64(int(s), source, field)
    raise _err(f"expected an integer, got {_tname(value)}", source, field)


def _to_float(value: Any, source: str, field: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if value is None:
        return math.nan
    raise _err(f"expected a number, got {_tname(value)}", source, field)


def _to_bool(value: Any, source: str, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise _err(f"expected a boolean, got {_tname(value)}", source, field)


def _to_str(value: Any, source: str, field: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _err(f"expected a string, got {_tname(value)}", source, field)


def _get(d: dict, key: str, conv, source: str, where: str, default: Any = _MISSING) -> Any:
    """``conv(d[key])``; a missing key returns ``default`` or raises when no default is given."""
    field = f"{where}{key}"
    if key not in d:
        if default is _MISSING:
            raise _err("missing", source, field)
        return default
    return conv(d[key], source, field)


def _get_int(d: dict, key: str, source: str, where: str = "", default: Any = _MISSING) -> Any:
    return _get(d, key, _to_int, source, where, default)


def _get_float(d: dict, key: str, source: str, where: str = "", default: Any = _MISSING) -> Any:
    return _get(d, key, _to_float, source, where, default)


def _get_str(d: dict, key: str, source: str, where: str = "", default: Any = _MISSING) -> Any:
    return _get(d, key, _to_str, source, where, default)


def _get_bool(d: dict, key: str, source: str, where: str = "", default: Any = _MISSING) -> Any:
    return _get(d, key, _to_bool, source, where, default)


def _int_tuple(value: Any, source: str, field: str) -> tuple[int, ...]:
    items = _as_list(value, source, field)
    out = []
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, int):
            raise _err(f"expected an integer OSD id, got {_tname(v)}", source, f"{field}[{i}]")
        out.append(v)
    return tuple(out)


def _int64_col(values: list) -> pd.Series:
    return pd.array(values, dtype="Int64")


# --------------------------------------------------------------------------------------------------
# format detection
# --------------------------------------------------------------------------------------------------


def json_or_plain(text: str, obj: Any, source: str, *, accepts: Callable[[Any], bool], expected: str,
                  parse_json: Callable[[Any, str], Fragment],
                  parse_plain: Callable[[str, str], Fragment]) -> Fragment:
    """Run the JSON or the plain-text branch of a parser that reads both forms of one command.

    The text is decoded as JSON when ``obj`` is not given and it starts like JSON; a document whose shape
    ``accepts`` rejects is a DumpFormatError ("expected <expected>, got ...").
    """
    if obj is None and text.lstrip()[:1] in ("{", "["):
        obj = loads_json(text, source=source)
    if obj is not None:
        if not accepts(obj):
            raise DumpFormatError(f"expected {expected}, got {_tname(obj)}", source=source)
        return parse_json(obj, source)
    return parse_plain(text, source)
