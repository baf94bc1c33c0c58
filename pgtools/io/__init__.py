"""Readers for every dump format pgtools understands.

One module per source format (``pg_dump_plain``, ``pg_dump_json``, ``osd_dump``, ``crush_dump``, ...), each
with ``sniff(text, obj)`` and ``parse(text, source=..., obj=...)``; a binary format (``crushmap_binary``: the
binary CRUSH map) also has ``sniff_bytes(data)`` and ``parse_bytes(data, source=...)``, tried on a file's bytes
first.  :func:`load` sniffs every file of a capture by content and merges what it finds into one
:class:`~pgtools.model.Snapshot`.  A CRUSH map alone reads with :func:`crushmap_from_text` (crushtool's
decompiled text), :func:`crushmap_from_dump` (``ceph osd crush dump``) or :func:`crushmap_from_binary`.

Imports: :mod:`pgtools.model`, :mod:`pgtools.crush`, :mod:`pgtools.placement` (PG arithmetic and the
pipeline, to derive what a capture lacks) and :mod:`pgtools.errors`; never mgr, simulate or above.
"""

from __future__ import annotations

from ._common import NONE, Fragment, loads_json, read_text
from .bundle import load, merge_fragments, read_file
from .crush_binary import crushmap_from_binary
from .crush_json import crushmap_from_dump
from .crush_text import crushmap_from_text
from .sniff import PARSER_MODULES

__all__ = ["Fragment", "NONE", "PARSER_MODULES", "load", "loads_json", "merge_fragments", "read_file",
           "read_text", "crushmap_from_text", "crushmap_from_dump", "crushmap_from_binary"]
