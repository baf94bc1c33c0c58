"""pgtools: understand, recompute and simulate Ceph placement-group placement, offline, from dumps.

>>> import pgtools
>>> snap = pgtools.load("sample_dumps/seedlike_max300")     # doctest: +SKIP
>>> pgtools.pg_table(snap, by="up")                          # doctest: +SKIP
"""

from __future__ import annotations

from ._version import __version__
from .analysis import (
    Finding,
    check_pg_num,
    health,
    imbalance,
    imbalance_summary,
    pg_counts,
    pg_table,
    placements,
    pool_osd_weights,
    unmapped_pgs,
)
from .errors import (
    DumpFormatError,
    MappingMismatchError,
    PgtoolsError,
    SnapshotConflictError,
    UnsupportedFeatureError,
)
from .io import load
from .model import NONE, Snapshot

_SUBMODULES = ("analysis", "autoscale", "collect", "crush", "io", "model", "objects", "pgcalc", "pgnum",
               "placement", "plotting", "simulate")


def __getattr__(name: str):
    """Import submodules on first use (``pgtools.plotting`` pulls in matplotlib only when asked for)."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'pgtools' has no attribute {name!r}")


__all__ = [
    "__version__",
    "load",
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
