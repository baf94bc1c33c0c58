"""Which parser reads a file: the sniffing order, and one file's text or bytes read by the parser that recognises it.

:mod:`pgtools.io.bundle` (folders, archives, whole captures) and :mod:`pgtools.io.excerpt` (pasted snippets)
both read single pieces of text through :func:`read_text`; neither imports the other for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

from ..errors import DumpFormatError
from ._common import Fragment, loads_json
from .consistency import fsid_of

__all__ = ["PARSER_MODULES", "parser_modules", "looks_binary", "read_binary", "read_text"]

#: Parser modules in sniffing order: the most specific formats first.
PARSER_MODULES = [
    "ceph_report",
    "pg_dump_json",
    "osd_dump",
    "crush_dump",
    "osd_df",
    "osd_tree",
    "pool_ls_detail",
    "df_detail",
    "autoscale_status",
    "health",
    "config_dump",
    "versions",
    "crushmap_text",
    "crushmap_binary",
    "osdmap_binary",
    "pg_dump_plain",
    "pg_ls_plain",
]


def parser_modules() -> list[tuple[str, ModuleType]]:
    """``(name, module)`` of every parser in :data:`PARSER_MODULES`, in sniffing order."""
    return [(name, importlib.import_module(f"{__package__}.{name}")) for name in PARSER_MODULES]


def looks_binary(text: str) -> bool:
    """True when decoded text is really binary (NUL bytes or many replacement characters near the start)."""
    head = text[:4096]
    return "\x00" in head or head.count("\ufffd") > 8


def read_binary(data: bytes, source: str) -> Fragment | None:
    """The Fragment of a binary format a parser module recognises (``sniff_bytes``), else None."""
    for _name, mod in parser_modules():
        sniff_bytes = getattr(mod, "sniff_bytes", None)
        if sniff_bytes is None:
            continue
        try:
            hit = sniff_bytes(data)
        except Exception:  # a sniffer must never break loading
            hit = False
        if hit:
            return mod.parse_bytes(data, source=source)
    return None


#: ``fallback(text, source, error)``: what to return when no parser recognises ``text`` (``error`` is then
#: the JSON decoding error, if the text looked like JSON) or when the recognising parser raised ``error``.
Fallback = Callable[[str, str, DumpFormatError | None], Fragment | None]


def read_text(text: str, source: str, fallback: Fallback | None = None) -> Fragment | None:
    """Parse ``text`` with the first parser whose ``sniff`` recognises it.

    Returns None when the text is binary, or when no parser recognises it and there is no ``fallback``.
    Without ``fallback`` a recognised but malformed text raises the parser's :class:`DumpFormatError`;
    with one, that error (or the JSON decoding error of text no parser recognised) is handed to it.
    The fragment's ``fsid`` is set when the text states the cluster's (:func:`~pgtools.io.consistency.fsid_of`).
    """
    if looks_binary(text):
        return None
    obj = None
    json_error: DumpFormatError | None = None
    if text.lstrip()[:1] in ("{", "["):
        try:
            obj = loads_json(text, source=source)
        except DumpFormatError as e:
            obj, json_error = None, e
    if isinstance(obj, dict) and {"commands", "records", "epoch_before"} <= set(obj):
        return Fragment(kind="collect_meta", source=source, extra=obj)
    for _name, mod in parser_modules():
        try:
            hit = mod.sniff(text, obj)
        except Exception:  # a sniffer must never break loading
            hit = False
        if not hit:
            continue
        if fallback is None:
            return _with_fsid(mod.parse(text, source=source, obj=obj), text, obj)
        try:
            return _with_fsid(mod.parse(text, source=source, obj=obj), text, obj)
        except DumpFormatError as original:
            return fallback(text, source, original)
    return fallback(text, source, json_error) if fallback is not None else None


def _with_fsid(frag: Fragment, text: str, obj: object | None) -> Fragment:
    if frag is not None and frag.fsid is None:
        frag.fsid = fsid_of(text, obj)
    return frag
