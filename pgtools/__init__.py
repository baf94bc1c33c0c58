"""pgtools: understand, recompute and simulate Ceph placement-group placement, offline, from dumps.

>>> import pgtools
>>> snap = pgtools.load("sample_dumps/seedlike_max300")     # doctest: +SKIP
>>> pgtools.pg_table(snap, by="up")                          # doctest: +SKIP
"""

from __future__ import annotations

from ._version import __version__

#: Public names and the submodule each comes from: imported on first use, so that ``import pgtools`` (and
#: every CLI command) costs only what it uses (pandas, matplotlib and numba are loaded when needed).
_NAMES = {
    "load": "io", "Snapshot": "model", "NONE": "model", "build_cluster": "placement.build",
    **{n: "mgr.health" for n in ("Finding", "check_pg_num", "health")},
    **{n: "mgr.counts" for n in ("pg_counts", "placements", "unmapped_pgs")},
    **{n: "analysis.distribution" for n in ("imbalance", "imbalance_summary", "pg_table", "pool_osd_weights")},
    **{n: "errors" for n in ("DumpFormatError", "MappingMismatchError", "PgtoolsError", "SnapshotConflictError",
                             "UnsupportedFeatureError")},
}
_SUBMODULES = ("analysis", "balance", "crush", "errors", "io", "mgr", "model", "placement", "plotting", "report", "risk",
               "simulate", "text")


def __getattr__(name: str):
    """Import submodules and public names on first use (``pgtools.plotting`` pulls in matplotlib only then)."""
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pgtools' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES) | set(_SUBMODULES))


__all__ = [
    "__version__",
    "load",
    "build_cluster",
    "Snapshot",
    "NONE",
    "pg_table",
    "placements",
    "pg_counts",
    "unmapped_pgs",
    "imbalance",
    "imbalance_summary",
    "pool_osd_weights",
    "health",
    "check_pg_num",
    "Finding",
    "PgtoolsError",
    "DumpFormatError",
    "UnsupportedFeatureError",
    "MappingMismatchError",
    "SnapshotConflictError",
]
