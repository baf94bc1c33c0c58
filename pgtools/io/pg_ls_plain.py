"""Plain-text ``ceph pg ls`` / ``pg ls-by-pool|osd|primary``, every release.

* Hammer/Jewel: the 21 tab-separated lower-case columns of the Jewel ``pg dump`` PG table (holes
  printed ``2147483647``).
* Luminous 12.2: the ``PG_STAT`` table of ``pg dump`` (without ``SNAPTRIMQ_LEN``), + NOTE.
* Mimic 13.2+: ``PG OBJECTS ... UP ACTING SCRUB_STAMP DEEP_SCRUB_STAMP`` where ``UP``/``ACTING`` are
  ``[1,2,0]p1`` (set and primary glued); holes ``2147483647`` up to Nautilus, ``NONE`` from Octopus;
  later releases add ``OMAP_BYTES* OMAP_KEYS* LOG_DUPS``, replace ``STATE_STAMP`` by ``SINCE`` (a
  relative age such as ``117s``) and append ``LAST_SCRUB_DURATION SCRUB_SCHEDULING``.

``sniff`` claims only the Mimic+ ``PG`` table: the older forms cannot be told apart from a
``pg dump pgs`` table and are claimed by :mod:`pgtools.io.pg_dump_plain` (``parse`` here reads
them too, with kind ``"pg_ls"``).

Release detection: tabs -> ``"jewel"``; ``PG_STAT`` TextTable -> ``"luminous"``; ``PG`` table in
style A (one blank after every cell) -> ``"mimic+"`` (13.2–14.2); style B -> ``"octopus+"``, or
``"quincy+"`` with ``LOG_DUPS``/``LAST_SCRUB_DURATION``/``SCRUB_SCHEDULING``.
"""

from __future__ import annotations

import pandas as pd

from ..errors import DumpFormatError
from ..model import empty_pgs
from . import pg_dump_plain
from ._common import Fragment, strip_noise_lines
from ._pg_table import CELL, Table, no_gc, pg_frame, pg_name, read_pg_rows, split_heading, table_style

__all__ = ["sniff", "parse"]

_QUINCY_COLUMNS = {"log_dups_size", "last_scrub_duration", "scrub_schedule", "objects_scrubbed",
                   "objects_trimmed"}


def _is_ls_header(line: str) -> bool:
    toks = line.split()
    return len(toks) >= 4 and toks[0] == "PG" and "STATE" in toks and "UP" in toks and "ACTING" in toks


def sniff(text: str, obj: object | None) -> bool:
    """True if ``text`` is a Mimic+ plain ``ceph pg ls`` (header ``PG OBJECTS ... UP ACTING ...``).

    Never raises.

    Parameters
    ----------
    text : str
        The file's text.
    obj : object or None
        The decoded JSON value, or None when the text is not JSON.

    Returns
    -------
    bool
    """
    try:
        if obj is not None or not isinstance(text, str):
            return False
        for line in text[:65536].splitlines()[:200]:
            if _is_ls_header(line):
                return True
        return False
    except Exception:  # noqa: BLE001 - sniff must never raise
        return False


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse a plain ``ceph pg ls`` (any release).

    Parameters
    ----------
    text : str
        The CLI output; ``dumped``/NOTE lines and prose around the table are ignored.  Empty (or
        blank) text is an empty result, as ``pg ls`` prints nothing when no PG matches.
    source : str
        File name used in error messages.
    obj : object or None
        Unused; accepted for the parser protocol.

    Returns
    -------
    Fragment
        ``kind="pg_ls"``; ``pgs`` with ``pgid, pool_id, ps, state, up, up_primary, acting,
        acting_primary``, the statistics present (``Int64``) and the other columns snake-cased
        (``since``, ``state_stamp``, ``scrub_stamp``, ``deep_scrub_stamp``, ``scrub_schedule`` ...).

    Raises
    ------
    DumpFormatError
        When no PG table is found in non-blank text, or a row is malformed.
    """
    if not isinstance(text, str):
        raise DumpFormatError("expected text", source=source)
    if not text.strip():
        return Fragment(kind="pg_ls", source=source, pgs=_empty_pgs())
    with no_gc():
        lines = strip_noise_lines(text.splitlines())
        for i, (_lineno, line) in enumerate(lines):
            if _is_ls_header(line):
                return _parse_ls(lines, i, source)
            first = line.split(None, 1)[:1]
            if first and first[0] in ("PG_STAT", "pg_stat"):
                return _parse_old(text, source)
        if not any(line.strip() for _, line in lines):
            return Fragment(kind="pg_ls", source=source, pgs=_empty_pgs())
    raise DumpFormatError("no pg ls table found (no PG or PG_STAT header)", source=source)


def _empty_pgs() -> pd.DataFrame:
    return empty_pgs().drop(columns=["pool"])


def _parse_old(text: str, source: str) -> Fragment:
    frag = pg_dump_plain.parse(text, source=source)
    if frag.pgs is None:
        raise DumpFormatError("no PG table found", source=source)
    release = frag.release
    if release in ("luminous+", "nautilus", "luminous"):
        release = "luminous"
    return Fragment(kind="pg_ls", source=source, release=release, pgs=frag.pgs,
                    extra={k: v for k, v in frag.extra.items() if k in ("warnings", "notes")})


def _parse_ls(lines: list[tuple[int, str]], i: int, source: str) -> Fragment:
    lineno, line = lines[i]
    headings, tabs = split_heading(line)
    names = [pg_name(h) for h in headings]
    if len(set(names)) != len(names):
        raise DumpFormatError("duplicate column heading", source=source, line=lineno)
    style = table_style(line, tabs)
    table = Table(headings, names, lineno, tabs)
    end = read_pg_rows(table, lines, i + 1, source, cell_re=CELL if style != "B" else None)
    pgs = pg_frame(table, source, glued=True)
    dup = pgs["pgid"].duplicated()
    if dup.any():
        raise DumpFormatError(f"duplicate pgid {pgs['pgid'][dup].iloc[0]}", source=source,
                              line=table.lineno(int(dup.to_numpy().nonzero()[0][0])), field=headings[0])
    if style == "A":
        release = "mimic+"
    elif set(names) & _QUINCY_COLUMNS:
        release = "quincy+"
    else:
        release = "octopus+"
    extra: dict[str, object] = {}
    notes = [ln.strip() for _, ln in lines[end:] if ln.strip().startswith("* NOTE:")]
    if notes:
        extra["notes"] = notes
    elif any(h.endswith("*") for h in headings) and len(pgs):
        # Ceph closes a table with starred (OMAP_BYTES*) columns with a `* NOTE:` line: without it the
        # output was cut, possibly at a row boundary, and later PGs are missing.
        last = table.lineno(len(pgs) - 1)
        extra["warnings"] = [f"line {last}: no `* NOTE:` line after the table: the output may be cut after "
                             f"this line ({len(pgs)} PGs read)"]
    return Fragment(kind="pg_ls", source=source, release=release, pgs=pgs, extra=extra)
