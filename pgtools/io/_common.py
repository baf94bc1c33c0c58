"""Shared plumbing for the parsers: reading text, tolerant JSON, the :class:`Fragment` every parser returns.

A parser module in :mod:`pgtools.io` exposes two functions:

``sniff(text: str, obj: object | None) -> bool``
    True if the text (``obj`` is the decoded JSON value, or None when the text is not JSON) is in
    this module's format.  Sniffing is by content, never by file name.
``parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment``
    Parse it.  Raise :class:`~pgtools.errors.DumpFormatError` (with source, line and field) on
    malformed input and nothing else.

The fragments of all files of a capture are merged by :func:`pgtools.io.load`.
"""

from __future__ import annotations

import json
import lzma
import os
import re
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..crush.constants import ITEM_NONE as NONE
from ..errors import DumpFormatError

__all__ = ["Fragment", "read_text", "read_bytes", "decompress", "loads_json", "NONE", "strip_noise_lines",
           "parse_size", "max_input_bytes", "MAX_INPUT_BYTES", "MAX_STREAM_BYTES"]



@dataclass
class Fragment:
    """What one input file contributes to a snapshot.

    Every table is optional; a parser fills what its format carries.  Column names follow
    :mod:`pgtools.model` (``PG_COLUMNS``, ``POOL_COLUMNS``, ``OSD_COLUMNS``); extra columns are allowed.

    Attributes
    ----------
    kind : str
        Format name, e.g. ``"pg_dump"``, ``"pg_dump_json"``, ``"osd_dump"``, ``"crush_dump"``.
    source : str
        Where it came from (a path, or ``<string>``).
    release : str or None
        Release family detected from the format (``"jewel"``, ``"luminous"``, ``"nautilus"``,
        ``"octopus"``, ``"pacific"``, ``"quincy"``, ``"reef"``, ``"squid"``), or a lower bound such as
        ``"octopus+"`` when the format only tells that much.
    epoch : int or None
        The osdmap epoch the content belongs to, when the format states it.
    pgs, pools, osds : DataFrame or None
        One row per PG / pool / OSD.
    pool_stats, osd_stats : DataFrame or None
        Usage per pool (``pool_id, objects, bytes, stored, ...``) / per OSD (``osd_id, kb, kb_used, ...``).
    crush : pgtools.crush.CrushMap or None
    osdmap : dict or None
        OSDMap facts that are not per-pool/per-OSD rows: ``max_osd``, ``flags``, ``full_ratio``,
        ``backfillfull_ratio``, ``nearfull_ratio``, ``require_osd_release``, ``pg_upmap``
        (pgid -> tuple), ``pg_upmap_items`` (pgid -> tuple of (from, to)), ``pg_temp`` (pgid -> tuple),
        ``primary_temp`` (pgid -> int), ``erasure_code_profiles`` (name -> dict).
    health : dict or None
        ``{"status": ..., "checks": {CODE: {"severity":..., "summary":..., "detail": [...]}}}``.
    config : dict or None
        Option name -> value (strings), from ``ceph config dump`` and similar.
    extra : dict
        Anything else worth keeping (raw autoscale-status rows, versions, ...).
    fsid : str or None
        The cluster fsid the file states (``osd dump``, ``ceph status``, ``ceph report``), filled in by
        :func:`pgtools.io.read_file`; files of different fsids are not one capture.
    """

    kind: str
    source: str = "<string>"
    release: str | None = None
    epoch: int | None = None
    pgs: pd.DataFrame | None = None
    pools: pd.DataFrame | None = None
    osds: pd.DataFrame | None = None
    pool_stats: pd.DataFrame | None = None
    osd_stats: pd.DataFrame | None = None
    crush: Any = None
    osdmap: dict | None = None
    health: dict | None = None
    config: dict | None = None
    extra: dict = field(default_factory=dict)
    fsid: str | None = None


#: Default bound on the bytes pgtools reads from one input file, and on what one file decompresses to:
#: 2 GiB (a ``ceph pg dump -f json`` of a million PGs is about 1 GiB).  Override with the
#: ``PGTOOLS_MAX_INPUT_BYTES`` environment variable or ``load(..., max_bytes=)``.
MAX_INPUT_BYTES = 2 << 30

#: Default bound for a file that is not a regular file (a pipe, ``/dev/stdin``, a device such as
#: ``/dev/zero``): its size is unknown until read, so less is read before giving up (256 MiB) unless
#: ``PGTOOLS_MAX_INPUT_BYTES`` or ``max_bytes`` says otherwise.
MAX_STREAM_BYTES = 256 << 20

_CHUNK = 1 << 20


def max_input_bytes(max_bytes: int | None = None, *, regular: bool = True) -> int:
    """The read bound in effect: ``max_bytes``, else ``$PGTOOLS_MAX_INPUT_BYTES``, else the default.

    Raises DumpFormatError when the environment variable is not a positive integer (``2147483648``,
    ``512M``, ``2G`` and ``2GiB`` are accepted).
    """
    if max_bytes is not None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        return int(max_bytes)
    env = os.environ.get("PGTOOLS_MAX_INPUT_BYTES")
    if env:
        try:
            val = parse_size(env)
        except ValueError:
            val = 0
        if val <= 0:
            raise DumpFormatError(f"not a positive size: {env!r}", source="$PGTOOLS_MAX_INPUT_BYTES")
        return val
    return MAX_INPUT_BYTES if regular else MAX_STREAM_BYTES


def _too_large(what: str, limit: int) -> str:
    return (f"{what} more than {limit} bytes, the input limit (set PGTOOLS_MAX_INPUT_BYTES or "
            "load(max_bytes=) to read more)")


def decompress(raw: bytes, *, limit: int | None = None, source: str | None = None) -> bytes:
    """``raw`` gunzipped or un-xz'd when it starts with that format's magic, else as it is.

    At most ``limit`` bytes (default :func:`max_input_bytes`) are produced: a larger output (a
    decompression bomb) is a DumpFormatError naming ``source``.  Concatenated gzip members are all read,
    as :func:`gzip.decompress` does.  Raises what :mod:`zlib`/:mod:`lzma` raise on corrupt data
    (``zlib.error``, EOFError, LZMAError).
    """
    if raw[:2] != b"\x1f\x8b" and raw[:6] != b"\xfd7zXZ\x00":
        return raw
    limit = max_input_bytes() if limit is None else limit
    out = bytearray()
    rest = raw
    while rest:
        if rest[:2] == b"\x1f\x8b":
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif rest[:6] == b"\xfd7zXZ\x00":
            d = lzma.LZMADecompressor()
        else:
            break  # bytes after the last stream are ignored, as gzip/lzma.decompress do
        chunk = rest
        while not d.eof:
            piece = d.decompress(chunk, limit + 1 - len(out))
            out += piece
            if len(out) > limit:
                raise DumpFormatError(_too_large("decompresses to", limit), source=source)
            chunk = getattr(d, "unconsumed_tail", b"")
            if not piece and not chunk and not d.eof:
                raise EOFError("compressed file ended before the end-of-stream marker was reached")
        rest = d.unused_data
    return bytes(out)


def read_bytes(path: str | Path, *, max_bytes: int | None = None) -> bytes:
    """Read a dump file's bytes (``.gz`` and ``.xz`` are decompressed), bounded.

    A regular file larger than the limit (:func:`max_input_bytes`, 2 GiB by default) is refused before
    it is read; a pipe or device is read up to its limit (256 MiB by default) and refused when it has
    more, so ``/dev/zero`` ends in an error rather than a hang; decompressed output has the same bound.

    Raises
    ------
    DumpFormatError
        Unreadable, too large, or corrupt compressed data; the message names the file.
    """
    source = str(path)
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            regular = stat.S_ISREG(st.st_mode)
            limit = max_input_bytes(max_bytes, regular=regular)
            if regular and st.st_size > limit:
                raise DumpFormatError(_too_large(f"{st.st_size} bytes:", limit), source=source)
            buf = bytearray()
            while len(buf) <= limit:
                piece = fh.read(min(_CHUNK, limit + 1 - len(buf)))
                if not piece:
                    break
                buf += piece
            if len(buf) > limit:
                raise DumpFormatError(_too_large("not a regular file, and" if not regular else "grew to",
                                                 limit), source=source)
    except OSError as e:
        raise DumpFormatError(f"cannot read: {e.strerror or e}", source=source) from None
    try:
        return decompress(bytes(buf), limit=max_input_bytes(max_bytes), source=source)
    except (OSError, EOFError, lzma.LZMAError, zlib.error) as e:
        raise DumpFormatError(f"cannot decompress: {e}", source=source) from None


def read_text(path: str | Path) -> str:
    """Read a dump file as text (``.gz`` and ``.xz`` are decompressed).  Invalid UTF-8 is replaced."""
    return read_bytes(path).decode("utf-8", errors="replace")


_NAN_TOKEN = re.compile(r"(?<=[:\[,\s])(-?nan|-?inf)(?=\s*[,\]}])")


def loads_json(text: str, *, source: str = "<string>") -> Any:
    """Decode JSON as Ceph's CLI prints it.

    Tolerates the empty line(s) the CLI prints before JSON, bare ``nan``/``-nan``/``inf`` tokens
    (decoded as float NaN/inf), and status lines such as ``dumped all`` before or after the document.
    Raises DumpFormatError with the line of the decoding error.
    """
    if any(c in text for c in _OTHER_BREAKS) or any(w in text for w in _NOISE_WORDS):
        # drop status/noise lines that are not part of the document
        body = "\n".join(ln if not _is_noise(ln) else "" for ln in text.splitlines())
    else:  # no noise line and "\n" the only line break: the same document (up to trailing blank lines)
        body = text
    stripped = body.strip()
    if not stripped:
        raise DumpFormatError("empty input, expected JSON", source=source, line=1)
    if _has_nan_token(body):
        body = _NAN_TOKEN.sub(lambda m: '"__pgtools_' + m.group(1) + '__"', body)
        hook = True
    else:
        hook = False
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as e:
        end = len(body.rstrip())
        if e.pos >= end or e.msg.startswith("Unterminated string"):
            raise DumpFormatError(f"invalid JSON: the document stops at offset {end} before it is complete (the "
                                  "file is cut short?)", source=source, line=body.count("\n", 0, end) + 1) from None
        raise DumpFormatError(f"invalid JSON: {e.msg} at offset {e.pos}", source=source, line=e.lineno) from None
    except RecursionError:
        raise DumpFormatError("invalid JSON: nested too deeply", source=source) from None
    if hook:
        obj = _restore_nan(obj)
    return obj


def _has_nan_token(body: str) -> bool:
    """``_NAN_TOKEN.search(body)``, trying the pattern only where ``nan``/``inf`` occurs (a whole-text regex
    scan costs ~0.1 s on a 10,000-OSD dump)."""
    for tok in ("nan", "inf"):
        i = body.find(tok)
        while i >= 0:
            if _NAN_TOKEN.match(body, i) or (i and _NAN_TOKEN.match(body, i - 1)):
                return True
            i = body.find(tok, i + 1)
    return False


def _restore_nan(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _restore_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_restore_nan(v) for v in obj]
    if isinstance(obj, str) and obj.startswith("__pgtools_") and obj.endswith("__"):
        tok = obj[len("__pgtools_"):-2]
        return float(tok.replace("nan", "nan").replace("inf", "inf"))
    return obj


_NOISE = re.compile(
    r"^\s*(dumped \S+( in format \S+)?|Warning: due to ceph-mgr restart.*|\*\*\* DEVELOPER MODE.*)\s*$"
)


#: What a noise line holds (one of these is in every line :data:`_NOISE` matches).
_NOISE_WORDS = ("dumped ", "Warning: due to ceph-mgr restart", "*** DEVELOPER MODE")
#: The line breaks of ``str.splitlines`` other than ``"\\n"``.
_OTHER_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _is_noise(line: str) -> bool:
    return bool(_NOISE.match(line))


def strip_noise_lines(lines: list[str]) -> list[tuple[int, str]]:
    """Return ``(lineno, line)`` pairs (1-based) without CLI status lines such as ``dumped all``."""
    return [(i + 1, ln) for i, ln in enumerate(lines) if not _is_noise(ln)]


_UNITS = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50, "E": 1 << 60}
_SIZE = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([KMGTPE]?)(i?B)?\s*$")


def parse_size(text: str) -> int:
    """Parse a Ceph size cell (``9.9 GiB``, ``1.00GiB``, ``288KiB``, ``0 B``, ``10.1G``, ``512``) into bytes.

    Binary units throughout (Ceph's ``byte_u_t``).  Raises ValueError on anything else.
    """
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r}")
    num, unit = m.group(1), m.group(2)
    return int(round(float(num) * _UNITS[unit]))
