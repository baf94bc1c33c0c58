"""Byte units and their formatting, for every layer (imports nothing from pgtools).

Ceph reports space in bytes (``ceph pg dump``: ``num_bytes``) and in KiB (``ceph osd df``: ``kb``,
``kb_used``, ``kb_avail``); pgtools prints them in binary units, as ``ceph df`` does.
"""

from __future__ import annotations

__all__ = ["TIB_KB", "human_bytes"]

#: KiB in one TiB (``ceph osd df`` counts space in KiB): a new OSD of CRUSH weight ``w`` gets ``w × TIB_KB``.
TIB_KB = 1 << 30


def human_bytes(n: float, *, largest: str = "PiB") -> str:
    """``123456789 -> '117.7 MiB'`` (binary units, one decimal; no unit above ``largest``)."""
    n = float(n)
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    for unit in units[: units.index(largest) + 1]:
        if abs(n) < 1024 or unit == largest:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover
