"""The package layout of issue #12, enforced: one home per Ceph concept, imports pointing one way.

Layers, lowest first (a module may import its own package and any lower layer, never a higher one):

    errors, units                         what every layer may use
    crush                                 the CRUSH core (hash, ln, buckets, map, mappers, edits)
    model                                 the Snapshot and its tables
    placement                             PG arithmetic, the OSDMap pipeline, objects, osdmaptool
    io                                    the only place that converts a file format into the model
    mgr                                   what Ceph's mgr and mon decide (stepping, autoscaler, health, ...)
    simulate, balance, risk               the what-if engine; the balancers; durability (may import each other,
                                          without cycles: balance and risk build on simulate)
    analysis                              what a snapshot says (tables, imbalance, recommendations)
    text, plotting                        renderings
    report                                the HTML report
    cli                                   the only printer

Also: no import cycle, no private name imported from another module, imports at module top (except the
deliberately lazy ones listed below) and no file over 600 lines (the generated ``crush_ln`` tables excepted).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "pgtools"

LAYERS = [
    {"pgtools", "pgtools.errors", "pgtools.units", "pgtools._version"},
    {"pgtools.crush"},
    {"pgtools.model"},
    {"pgtools.placement"},
    {"pgtools.io"},
    {"pgtools.mgr"},
    {"pgtools.simulate", "pgtools.balance", "pgtools.risk"},
    {"pgtools.analysis"},
    {"pgtools.text", "pgtools.plotting"},
    {"pgtools.report"},
    {"pgtools.cli", "pgtools.__main__"},
]
#: Imports inside functions, allowed where they are deliberate: the package's lazy top level and CLI (start-up
#: time), optional or heavy dependencies (numba, matplotlib, ipywidgets) and the parser registry.
LAZY_OK = {"pgtools", "pgtools.__main__"}
LAZY_OK_PREFIXES = ("pgtools.cli",)
LAZY_OK_TARGETS = {"pgtools.crush._numba", "pgtools.plotting"}
MAX_LINES = 600
#: Known departures from the rules above, one per line as ``kind: what``; remove a line when it is fixed (the
#: tests fail both on a new departure and on a recorded one that no longer occurs).
DEBT = """

"""
LONG_OK = {"pgtools/crush/_ln_tables.py"}


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(ROOT.rglob("*.py")):
        rel = p.relative_to(ROOT.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = p
    return out


MODULES = _modules()


def _layer(mod: str) -> int:
    for i, names in enumerate(LAYERS):
        for n in names:
            if mod == n or (n != "pgtools" and mod.startswith(n + ".")):
                return i
    raise AssertionError(f"{mod} belongs to no layer: add it to LAYERS in {__file__}")


def _imports(mod: str, path: Path) -> list[tuple[str, list[str], bool, int]]:
    """``(target module, names, at top level, line)`` for every pgtools import of ``mod``."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):  # imports only for type checkers are not imports at run time
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            node.body = []
    top = {id(n) for n in tree.body}
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = pkg.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if not base.startswith("pgtools"):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                if sub in MODULES:
                    out.append((sub, [], id(node) in top, node.lineno))
                else:
                    out.append((base, [a.name], id(node) in top, node.lineno))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("pgtools"):
                    out.append((a.name, [], id(node) in top, node.lineno))
    return out


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_module_has_a_layer():
    for m in MODULES:
        _layer(m)


def _check(kind: str, found: set[str]) -> None:
    """``found`` must be empty but for the recorded debt of ``kind`` (and every debt entry must still occur)."""
    debt = {line.split(": ", 1)[1] for line in DEBT.strip().splitlines() if line.startswith(kind + ": ")}
    new = sorted(found - debt)
    assert not new, "\n".join(new)
    paid = sorted(debt - found)
    assert not paid, "fixed, now remove from DEBT in tests/test_architecture.py:\n" + "\n".join(paid)


def test_no_upward_import():
    _check("upward", {f"{m} imports {t}" for m, imps in GRAPH.items() for t, _, _, _ in imps
                      if t in MODULES and _layer(t) > _layer(m)})


def test_no_import_cycle():
    edges = {m: {t for t, _, _, _ in imps if t in MODULES and t != m} for m, imps in GRAPH.items()}
    # a package's __init__ importing its own submodules is not a cycle with them
    for m in edges:
        edges[m] = {t for t in edges[m] if not (MODULES[m].name == "__init__.py" and t.startswith(m + "."))}
        edges[m] = {t for t in edges[m] if not (MODULES.get(t) and MODULES[t].name == "__init__.py"
                                                  and m.startswith(t + "."))}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:
        state[v] = 1
        stack.append(v)
        for w in sorted(edges[v]):
            if state.get(w) == 1:
                cycles.append(stack[stack.index(w):] + [w])
            elif w not in state:
                visit(w)
        stack.pop()
        state[v] = 2

    for v in sorted(edges):
        if v not in state:
            visit(v)
    _check("cycle", {" -> ".join(c) for c in cycles})


def test_no_private_name_across_modules():
    _check("private", {f"{m} imports {t}.{n}" for m, imps in GRAPH.items() for t, names, _, _ in imps
                       for n in names if n.startswith("_") and t != m and not n.startswith("__")})


def test_imports_at_module_top():
    _check("lazy", {f"{m} imports {t} inside a function" for m, imps in GRAPH.items() for t, _, top, _ in imps
                    if not top and m not in LAZY_OK and not m.startswith(LAZY_OK_PREFIXES)
                    and t not in LAZY_OK_TARGETS})


def test_file_size():
    _check("long", {str(p.relative_to(ROOT.parent)) for p in ROOT.rglob("*.py")
                    if str(p.relative_to(ROOT.parent)) not in LONG_OK and len(p.read_text().splitlines()) > MAX_LINES})


def test_packages_say_what_they_hold_and_may_import():
    _check("docstring", {m for m, p in MODULES.items() if p.name == "__init__.py" and m != "pgtools"
                         and "Imports:" not in (ast.get_docstring(ast.parse(p.read_text())) or "")})
