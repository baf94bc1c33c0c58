"""A bounded little-endian cursor over a binary file, shared by the binary readers of the io package.

Every read names its field, so a malformed file gives one :class:`~pgtools.errors.DumpFormatError` with the
byte offset and the field; ``end`` is a hard limit (a section of an encoded struct may lower it).
"""

from __future__ import annotations

import struct
from typing import Any

from ..errors import DumpFormatError

__all__ = ["ByteReader"]


class ByteReader:
    """Little-endian cursor over ``data``; reads never go past :attr:`end`."""

    def __init__(self, data: bytes, source: str):
        self.data = memoryview(data)
        self.off = 0
        self.end = len(data)
        self.source = source

    def error(self, msg: str, fld: str, offset: int | None = None) -> DumpFormatError:
        """The error of field ``fld`` at ``offset`` (default: the cursor)."""
        off = self.off if offset is None else offset
        return DumpFormatError(f"offset {off}: {msg}", source=self.source, field=fld)

    def remaining(self) -> int:
        """Bytes left before :attr:`end`."""
        return self.end - self.off

    def need(self, n: int, fld: str) -> None:
        """Raise unless ``n`` more bytes can be read."""
        if n > self.end - self.off:
            raise self.error(f"truncated: needs {n} bytes, {self.end - self.off} left", fld)

    def _one(self, fmt: str, n: int, fld: str) -> Any:
        self.need(n, fld)
        (v,) = struct.unpack_from(fmt, self.data, self.off)
        self.off += n
        return v

    def u8(self, fld: str) -> int:
        return self._one("<B", 1, fld)

    def u16(self, fld: str) -> int:
        return self._one("<H", 2, fld)

    def u32(self, fld: str) -> int:
        return self._one("<I", 4, fld)

    def s32(self, fld: str) -> int:
        return self._one("<i", 4, fld)

    def u64(self, fld: str) -> int:
        return self._one("<Q", 8, fld)

    def s64(self, fld: str) -> int:
        return self._one("<q", 8, fld)

    def f32(self, fld: str) -> float:
        return self._one("<f", 4, fld)

    def f64(self, fld: str) -> float:
        return self._one("<d", 8, fld)

    def array(self, code: str, count: int, fld: str) -> tuple[int, ...]:
        """``count`` 4-byte values of struct code ``code`` (``I``, ``i``)."""
        n = 4 * count
        self.need(n, fld)
        vals = struct.unpack_from(f"<{count}{code}", self.data, self.off) if count else ()
        self.off += n
        return vals

    def skip(self, n: int, fld: str) -> None:
        self.need(n, fld)
        self.off += n

    def raw(self, n: int, fld: str) -> bytes:
        self.need(n, fld)
        out = bytes(self.data[self.off:self.off + n])
        self.off += n
        return out
