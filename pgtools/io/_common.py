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

import gzip
import json
import lzma
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._constants import NONE
from ..errors import DumpFormatError

__all__ = ["Fragment", "read_text", "loads_json", "NONE", "strip_noise_lines", "parse_size"]



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


def decompress(raw: bytes) -> bytes:
    """``raw`` gunzipped or un-xz'd when it starts with that format's magic, else as it is.

    Raises what :mod:`gzip`/:mod:`lzma` raise on corrupt data (OSError, EOFError, LZMAError).
    """
    if raw[:2] == b"\x1f\x8b":
        return gzip.decompress(raw)
    if raw[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(raw)
    return raw


def read_bytes(path: str | Path) -> bytes:
    """Read a dump file's bytes (``.gz`` and ``.xz`` are decompressed)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise DumpFormatError(f"cannot read: {e.strerror or e}", source=str(path)) from None
    try:
        return decompress(raw)
    except (OSError, EOFError, lzma.LZMAError) as e:
        raise DumpFormatError(f"cannot decompress: {e}", source=str(path)) from None


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
    lines = text.splitlines()
    # drop status/noise lines that are not part of the document
    kept = [ln if not _is_noise(ln) else "" for ln in lines]
    body = "\n".join(kept)
    stripped = body.strip()
    if not stripped:
        raise DumpFormatError("empty input, expected JSON", source=source, line=1)
    if _NAN_TOKEN.search(body):
        body = _NAN_TOKEN.sub(lambda m: '"__pgtools_' + m.group(1) + '__"', body)
        hook = True
    else:
        hook = False
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as e:
        raise DumpFormatError(f"invalid JSON: {e.msg}", source=source, line=e.lineno) from None
    except RecursionError:
        raise DumpFormatError("invalid JSON: nested too deeply", source=source) from None
    if hook:
        obj = _restore_nan(obj)
    return obj


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
