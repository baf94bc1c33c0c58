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

def field_error(msg: str, source: str, field: str | None) -> DumpFormatError:
    """The DumpFormatError for a bad value at ``field`` of ``source``."""
    return DumpFormatError(msg, source=source, field=field)


def as_dict(value: Any, source: str, field: str) -> dict:
    """``value`` if it is a JSON object, else a DumpFormatError naming ``field``."""
    if not isinstance(value, dict):
        raise field_error(f"expected an object, got {type_name(value)}", source, field)
    return value


def as_list(value: Any, source: str, field: str) -> list:
    """``value`` if it is a JSON array, else a DumpFormatError naming ``field``."""
    if not isinstance(value, list):
        raise field_error(f"expected an array, got {type_name(value)}", source, field)
    return value


def type_name(value: Any) -> str:
    """How a decoded JSON value is named in an error message (``null``, ``number 3``, ``array``, ...)."""
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


#: the range of a signed 64-bit integer (Ceph's counters)
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


def _check_i64(value: int, source: str, field: str) -> int:
    if not I64_MIN <= value <= I64_MAX:
        raise field_error(f"integer out of range: {value}", source, field)
    return value


def to_int(value: Any, source: str, field: str) -> int:
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
    raise field_error(f"expected an integer, got {type_name(value)}", source, field)


def to_float(value: Any, source: str, field: str) -> float:
    """A float from a JSON number or a decimal string; null is NaN."""
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
    raise field_error(f"expected a number, got {type_name(value)}", source, field)


def to_bool(value: Any, source: str, field: str) -> bool:
    """A boolean from a JSON boolean, 0/1, or the strings ``0``, ``1``, ``true``, ``false``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    raise field_error(f"expected a boolean, got {type_name(value)}", source, field)


def to_str(value: Any, source: str, field: str) -> str:
    """A string from a JSON string or number."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise field_error(f"expected a string, got {type_name(value)}", source, field)


def _get(d: dict, key: str, conv, source: str, where: str, default: Any = _MISSING) -> Any:
    """``conv(d[key])``; a missing key returns ``default`` or raises when no default is given."""
    field = f"{where}{key}"
    if key not in d:
        if default is _MISSING:
            raise field_error("missing", source, field)
        return default
    return conv(d[key], source, field)


def get_int(d: dict, key: str, source: str, where: str = "", default: Any = _MISSING) -> Any:
    """``d[key]`` as an integer (:func:`to_int`); ``default`` when missing, else an error."""
    return _get(d, key, to_int, source, where, default)


def get_float(d: dict, key: str, source: str, where: str = "", default: Any = _MISSING) -> Any:
    """``d[key]`` as a float (:func:`to_float`); ``default`` when missing, else an error."""
    return _get(d, key, to_float, source, where, default)


def get_str(d: dict, key: str, source: str, where: str = "", default: Any = _MISSING) -> Any:
    """``d[key]`` as a string (:func:`to_str`); ``default`` when missing, else an error."""
    return _get(d, key, to_str, source, where, default)


def get_bool(d: dict, key: str, source: str, where: str = "", default: Any = _MISSING) -> Any:
    """``d[key]`` as a boolean (:func:`to_bool`); ``default`` when missing, else an error."""
    return _get(d, key, to_bool, source, where, default)


def int_tuple(value: Any, source: str, field: str) -> tuple[int, ...]:
    """A JSON array of integer OSD ids as a tuple (``up``, ``acting``)."""
    items = as_list(value, source, field)
    out = []
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, int):
            raise field_error(f"expected an integer OSD id, got {type_name(v)}", source, f"{field}[{i}]")
        out.append(v)
    return tuple(out)


def int64_col(values: list) -> pd.Series:
    """A nullable ``Int64`` array from Python integers and Nones."""
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
            raise DumpFormatError(f"expected {expected}, got {type_name(obj)}", source=source)
        return parse_json(obj, source)
    return parse_plain(text, source)
