"""Parser for crushtool's decompiled text map (``crushtool -d crushmap.bin``)."""

from __future__ import annotations

import re

from ..crush.map import CrushMap
from ._common import Fragment
from .crush_dump import crush_fragment

__all__ = ["sniff", "parse"]

_DEVICE = re.compile(r"^\s*device\s+\d+\s+\S+", re.M)
_TYPE = re.compile(r"^\s*type\s+\d+\s+\S+", re.M)


def sniff(text: str, obj: object | None) -> bool:
    """True for crushtool text: ``# begin crush map``, or ``device N name`` and ``type N name`` lines."""
    if obj is not None:
        return False
    if "# begin crush map" in text[:4096]:
        return True
    return bool(_DEVICE.search(text) and _TYPE.search(text))


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse crushtool text into ``Fragment(kind="crushmap_text", crush=..., osds=...)``.

    Parameters
    ----------
    text : str
        The decompiled map.
    source : str
        Name for error messages.
    obj : object, optional
        Unused (the format is not JSON).

    Returns
    -------
    Fragment

    Raises
    ------
    DumpFormatError
        Syntax or consistency errors, with the line number where known.
    """
    return crush_fragment("crushmap_text", lambda: CrushMap.from_text(text, source=source), source=source,
                          what="crush map text")
