"""Helpers for property tests: mutate decoded JSON documents (used by the JSON parser tests)."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import strategies as st

#: Values that replace a node: wrong types, out-of-range numbers, empty containers.
JUNK: list[Any] = [None, "x", "", "-1", -1, 0, 1 << 70, -(1 << 70), 1.5, float("nan"), float("inf"), True,
                   False, [], {}, ["x"], [None], [1.5], {"a": 1}, "1.2", "NONE", "3.zz", "-3.1"]


def node_paths(obj: Any, prefix: tuple = (), limit: int = 4000) -> list[tuple]:
    """Every path (tuple of keys/indices) to a node of ``obj``, root excluded, breadth first."""
    out: list[tuple] = []
    todo = [(prefix, obj)]
    while todo and len(out) < limit:
        path, node = todo.pop(0)
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            continue
        for k, v in items:
            out.append(path + (k,))
            todo.append((path + (k,), v))
    return out


def apply(obj: Any, path: tuple, op: str, value: Any) -> Any:
    """A deep copy of ``obj`` with the node at ``path`` replaced by ``value`` (op ``set``) or removed (``del``)."""
    new = copy.deepcopy(obj)
    parent = new
    for k in path[:-1]:
        parent = parent[k]
    last = path[-1]
    if op == "del":
        del parent[last]
    else:
        parent[last] = value
    return new


@st.composite
def mutations(draw: st.DrawFn, obj: Any, max_mutations: int = 3) -> Any:
    """Strategy: ``obj`` with 1..max_mutations nodes replaced by junk or deleted."""
    n = draw(st.integers(1, max_mutations))
    for _ in range(n):
        paths = node_paths(obj)
        if not paths:
            return obj
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["set", "set", "del"]))
        obj = apply(obj, path, op, draw(st.sampled_from(JUNK)))
    return obj


#: Arbitrary text, including things that look like the formats.
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=" \t\n-0123456789.:[]{},\"'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_/%*()",
            max_size=400),
)


@st.composite
def mutated_lines(draw: st.DrawFn, text: str, alphabet: str, *, may_delete_line: bool = False) -> str:
    """Strategy: ``text`` with a slice of one line replaced by up to 4 characters of ``alphabet`` (and, with
    ``may_delete_line``, possibly one line removed): plain tables that are almost right."""
    lines = text.splitlines()
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, max(0, len(lines[i]) - 1)))
    repl = draw(st.text(alphabet=alphabet, max_size=4))
    lines[i] = lines[i][:j] + repl + lines[i][j + draw(st.integers(0, 6)):]
    if may_delete_line and draw(st.booleans()):
        del lines[draw(st.integers(0, len(lines) - 1))]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# byte-level mutations of whole dump files (tests/badinput/test_fuzz.py)

#: Numbers that replace a number of a dump: zero, negative, huge, fractional, not a number.
ODD_NUMBERS = [b"0", b"-1", b"-0", b"99999999", b"18446744073709551616", b"1e308", b"0.5", b"nan", b"-inf",
               b"", b"x", b"1,2", b"[]", b"{}", b"\"\"", b"null"]
_NUMBER = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?")
_TOKEN = re.compile(rb"\S+")


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _op_delete_line(draw, data):
    ls = _lines(data)
    del ls[draw(st.integers(0, len(ls) - 1))]
    return b"".join(ls)


def _op_duplicate_line(draw, data):
    ls = _lines(data)
    i = draw(st.integers(0, len(ls) - 1))
    ls.insert(draw(st.integers(0, len(ls))), ls[i])
    return b"".join(ls)


def _op_swap_lines(draw, data):
    ls = _lines(data)
    i, j = draw(st.integers(0, len(ls) - 1)), draw(st.integers(0, len(ls) - 1))
    ls[i], ls[j] = ls[j], ls[i]
    return b"".join(ls)


def _op_truncate(draw, data):
    return data[:draw(st.integers(0, max(0, len(data) - 1)))]


def _op_flip_bytes(draw, data):
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not buf:
            break
        buf[draw(st.integers(0, len(buf) - 1))] = draw(st.integers(0, 255))
    return bytes(buf)


def _op_change_number(draw, data):
    nums = list(_NUMBER.finditer(data))
    if not nums:
        return data
    m = nums[draw(st.integers(0, len(nums) - 1))]
    return data[:m.start()] + draw(st.sampled_from(ODD_NUMBERS)) + data[m.end():]


def _op_swap_columns(draw, data):
    ls = _lines(data)
    i = draw(st.integers(0, len(ls) - 1))
    toks = list(_TOKEN.finditer(ls[i]))
    if len(toks) < 2:
        return data
    a, b = sorted(draw(st.lists(st.integers(0, len(toks) - 1), min_size=2, max_size=2, unique=True)))
    ta, tb = toks[a], toks[b]
    ln = ls[i]
    ls[i] = ln[:ta.start()] + tb.group() + ln[ta.end():tb.start()] + ta.group() + ln[tb.end():]
    return b"".join(ls)


def _op_insert_junk(draw, data):
    ls = _lines(data)
    junk = draw(st.sampled_from([b"\n", b"dumped all\n", b"```\n", b"\x00\x00\n", b"   \t\n", b"}\n", b"]\n",
                                 b"ID CLASS WEIGHT\n", b"PG_STAT STATE UP\n", b"# begin crush map\n",
                                 b"\xff\xfe\n", "é€\n".encode()]))
    ls.insert(draw(st.integers(0, len(ls))), junk)
    return b"".join(ls)


BYTE_OPS = {
    "delete_line": _op_delete_line, "duplicate_line": _op_duplicate_line, "swap_lines": _op_swap_lines,
    "truncate": _op_truncate, "flip_bytes": _op_flip_bytes, "change_number": _op_change_number,
    "swap_columns": _op_swap_columns, "insert_junk": _op_insert_junk,
}


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes, max_ops: int = 3) -> bytes:
    """Strategy: ``data`` after 1..max_ops mutations of :data:`BYTE_OPS` (line deletions/duplications/swaps,
    a cut at a random byte, byte flips, a number changed to an odd one, two columns swapped, a junk line)."""
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(sorted(BYTE_OPS)))
        data = BYTE_OPS[op](draw, data)
    return data
