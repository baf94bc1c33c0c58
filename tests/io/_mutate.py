"""Helpers for property tests: mutate decoded JSON documents (used by the JSON parser tests)."""

from __future__ import annotations

import copy
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
