"""Readers for every dump format pgtools understands.

One module per source format (``pg_dump_plain``, ``pg_dump_json``, ``osd_dump``, ``crush_dump``, ...), each
with ``sniff(text, obj)`` and ``parse(text, source=..., obj=...)``; a binary format (``crushmap_binary``: the
binary CRUSH map) also has ``sniff_bytes(data)`` and ``parse_bytes(data, source=...)``, tried on a file's bytes
first.  :func:`load` sniffs every file of a capture by content and merges what it finds into one
:class:`~pgtools.model.Snapshot`.
"""

from __future__ import annotations

from ._common import NONE, Fragment, loads_json, read_text
from .bundle import PARSER_MODULES, load, merge_fragments, read_file

__all__ = ["Fragment", "NONE", "PARSER_MODULES", "load", "loads_json", "merge_fragments", "read_file",
           "read_text"]
