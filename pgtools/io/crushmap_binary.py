"""Parser for binary CRUSH maps (``ceph osd getcrushmap -o crush.bin``, ``crushtool -c map.txt -o map.bin``).

Binary files are recognised by their first four bytes (the CRUSH magic ``00 00 01 00``), so this
module works on bytes: :func:`sniff_bytes` and :func:`parse_bytes`, which :func:`pgtools.io.read_file`
tries before it skips a file as binary.  ``sniff``/``parse`` exist for the text interface every
parser module has; text never is a binary map.
"""

from __future__ import annotations

from ..errors import DumpFormatError
from ._common import Fragment
from .crush_binary import crushmap_from_binary, is_crush_binary
from .crush_dump import crush_fragment

__all__ = ["sniff", "parse", "sniff_bytes", "parse_bytes"]


def sniff(text: str, obj: object | None) -> bool:
    """Always False: a binary map is recognised from its bytes (:func:`sniff_bytes`), never from text."""
    return False


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Refuse text (a binary map must be read as bytes, :func:`parse_bytes`)."""
    raise DumpFormatError("a binary CRUSH map must be read as bytes", source=source)


def sniff_bytes(data: bytes) -> bool:
    """True when ``data`` starts with the CRUSH magic ``00 00 01 00``."""
    return is_crush_binary(data)


def parse_bytes(data: bytes, *, source: str = "<bytes>") -> Fragment:
    """Parse a binary CRUSH map into ``Fragment(kind="crushmap_binary", crush=..., osds=...)``.

    Parameters
    ----------
    data : bytes
        The file's content.
    source : str
        Name for error messages.

    Returns
    -------
    Fragment

    Raises
    ------
    DumpFormatError
        Malformed, truncated or unsupported content; the message gives the byte offset
        (``offset N: ...``) and the field.
    """
    return crush_fragment("crushmap_binary", lambda: crushmap_from_binary(data, source=source), source=source,
                          what="binary CRUSH map")
