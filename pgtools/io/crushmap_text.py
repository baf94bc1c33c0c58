"""Parser for crushtool's decompiled text map (``crushtool -d crushmap.bin``)."""

from __future__ import annotations

import re

from ._common import Fragment
from .crush_dump import crush_fragment
from .crush_text import crushmap_from_text

__all__ = ["sniff", "parse"]

_DEVICE = re.compile(r"^\s*device\s+\d+\s+\S+", re.M)
_TYPE = re.compile(r"^\s*type\s+\d+\s+\S+", re.M)
#: Item weights (``item osd.0 weight 1.819``) and weight-set rows (``[ 1.819 1.000 ]``): their decimals.
_ITEM_WEIGHT = re.compile(r"^\s*item\s+\S+\s+weight\s+\d+(?:\.(\d*))?", re.M)
_SET_ROW = re.compile(r"^\s*\[([0-9.\s]*)\]", re.M)


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
    frag = crush_fragment("crushmap_text", lambda: crushmap_from_text(text, source=source), source=source,
                          what="crush map text")
    decimals = weight_decimals(text)
    if decimals is not None:
        frag.extra["weight_decimals"] = decimals
    return frag


def weight_decimals(text: str) -> int | None:
    """The fewest decimals any item or weight-set weight of the text is printed with (None: no weights).

    crushtool 16.2.15 prints 3 (``1.819`` for 119236/65536), older releases 5; a map read back from the
    text is exact only to that precision (see :func:`pgtools.io.bundle.merge_fragments`).
    """
    found = [len(m.group(1) or "") for m in _ITEM_WEIGHT.finditer(text)]
    for m in _SET_ROW.finditer(text):
        found += [len(tok.partition(".")[2]) for tok in m.group(1).split()]
    return min(found) if found else None
