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
