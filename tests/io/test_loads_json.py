"""loads_json's fast paths (no per-line filter, nan/inf tokens looked for where they occur) decode exactly what
the plain per-line filter and whole-text token scan decode, errors (message and line) included."""

from __future__ import annotations

import json
import math

import pytest

from pgtools.errors import DumpFormatError
from pgtools.io import _common
from pgtools.io._common import loads_json


def _reference(text: str, source: str = "<string>"):
    """loads_json as it was written before the fast paths: every line filtered, the whole text scanned."""
    body = "\n".join("" if _common._NOISE.match(ln) else ln for ln in text.splitlines())
    if not body.strip():
        raise DumpFormatError("empty input, expected JSON", source=source, line=1)
    hook = bool(_common._NAN_TOKEN.search(body))
    if hook:
        body = _common._NAN_TOKEN.sub(lambda m: '"__pgtools_' + m.group(1) + '__"', body)
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as e:
        end = len(body.rstrip())
        if e.pos >= end or e.msg.startswith("Unterminated string"):
            raise DumpFormatError(f"invalid JSON: the document stops at offset {end} before it is complete (the "
                                  "file is cut short?)", source=source, line=body.count("\n", 0, end) + 1) from None
        raise DumpFormatError(f"invalid JSON: {e.msg} at offset {e.pos}", source=source, line=e.lineno) from None
    return _common._restore_nan(obj) if hook else obj


def _outcome(fn, text):
    try:
        v = fn(text)
    except DumpFormatError as e:
        return ("error", str(e))
    return ("ok", json.dumps(v, sort_keys=True, default=str).replace("NaN", "nan"))


TEXTS = [
    '{"a": 1}\n',
    '\n\n{"a": [1, 2,\n 3]}\n\n\n',
    'dumped all\n{"a": 1}\n',
    '{"a": 1}\ndumped pgs_brief in format json\n',
    '{"a": nan, "b": [-nan, inf], "c": -inf}',
    '{"info": "inf", "nan": 1, "x": "-nan"}',
    '{"a": "in\\u2028side", "b": "raw\u2028break"}',
    '{"a": 1,\r\n "b": 2}\r\n',
    '{"a": 1,\r "b": }\r',
    '{"a": 1,\n "b": }\n',
    '{"a": "cut short',
    '{"a": [1, 2\n\n\n',
    '   \n\t\n',
    '*** DEVELOPER MODE: setting PATH\n{"a": 1}',
    '{"a": 1}\x0c\n',
    '{"a": 1, "b": \x85 2}',
    '{"a": infinity}',
    '{"a":nan}',
    '{"a": [nan]}\n',
]


@pytest.mark.parametrize("text", TEXTS)
def test_same_as_the_per_line_filter(text):
    assert _outcome(loads_json, text) == _outcome(_reference, text)


def test_nan_tokens_decoded():
    v = loads_json('{"info": "inf", "a": nan, "b": [1, -inf]}')
    assert v["info"] == "inf" and math.isnan(v["a"]) and v["b"] == [1, -math.inf]
