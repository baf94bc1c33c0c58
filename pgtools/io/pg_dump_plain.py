"""Plain-text ``ceph pg dump`` (``all``, ``summary``, ``pgs``, ``pgs_brief``, ``pools``, ``osds``).

Three renderings exist (see ``pg_dump_formats.md`` §2):

* Hammer/Jewel: lower-case headings, tab separated, timestamps with an inner space, ``pool N`` and
  `` sum`` rows, an ``osdstat kbused kbavail kb hb in hb out`` table in raw KiB.
* Luminous–Nautilus ("style A" TextTable): upper-case headings, one space after every cell (so every
  line ends with a blank), timestamps ``2019-02-27 07:08:43.559261`` (two tokens, or ``0.000000``).
* Octopus+ ("style B" TextTable): two spaces between cells, ISO timestamps (one token); Quincy+ adds
  ``SCRUB_SCHEDULING`` (free text with spaces) followed by numeric columns.

Every column is found by its heading, never by position.  A row is split on whitespace; a pre-Octopus
timestamp counts as one cell, and a free-text column takes whatever the cells on its left and right
leave (tokenised from both ends).  The PG table itself is read by ``pgtools.io._pg_table``, shared with
:mod:`pgtools.io.pg_ls_plain`; this module reads the rest (pool, OSD and sum rows, header lines).

Release detection (``Fragment.release``), from what the format alone tells:

=====================================================  ==============
format                                                 release
=====================================================  ==============
lower-case, tab separated headings                     ``"jewel"``
style A with ``full_ratio`` lines or glued sizes       ``"luminous"``
style A whose OSD table has ``USED_RAW``               ``"nautilus"``
style A, PG table without ``OMAP_BYTES*``              ``"luminous"``
style A otherwise                                      ``"luminous+"``
style B (two spaces, ISO stamps)                       ``"octopus+"``
style B with a ``LOG_DUPS`` or Quincy scrub column     ``"quincy+"``
=====================================================  ==============

``"luminous+"`` here means one of 12.2.13, 13.2.7+ or 14.2.3+ (the OMAP columns); style A never
comes from Octopus or later.  A style A OSD table with spaced sizes (``9.9 GiB``) but no ``USED_RAW``
gives ``"mimic"``.

Performance: the PG table is tokenised with one ``str.split`` per row and converted column by column
(one regex check over each joined column, ``int`` via ``map``, OSD lists decoded with one ``json.loads``);
the cyclic garbage collector is paused while a dump is parsed (restored afterwards).  A 100k-PG
Pacific dump parses in about 0.7 s (``benchmarks/bench_parse.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._common import Fragment, parse_size, strip_noise_lines
from ._pg_table import (
    CELL,
    INT_COLUMNS,
    VEC,
    Table,
    columns,
    dump_error,
    int64_ext,
    int_array,
    no_gc,
    object_array,
    parse_vec,
    pg_frame,
    pg_name,
    read_pg_rows,
    read_rows,
    snake,
    split_heading,
    table_style,
)

__all__ = ["sniff", "parse"]

# ---------------------------------------------------------------------------------------------------
# vocabulary

_OSD_NAMES = {
    "osd_stat": "osd_id", "osdstat": "osd_id",
    "used": "kb_used", "kbused": "kb_used",
    "avail": "kb_avail", "kbavail": "kb_avail",
    "used_raw": "kb_used_raw",
    "total": "kb", "kb": "kb",
    "hb_peers": "hb_peers", "hb_in": "hb_in", "hb_out": "hb_out",
    "pg_sum": "pgs", "primary_pg_sum": "primary_pgs",
}
_OSD_SIZE_COLUMNS = ("kb_used", "kb_avail", "kb_used_raw", "kb")
_OSD_INT_COLUMNS = ("pgs", "primary_pgs")

_POOL_CANON = ["pool_id", "objects", "missing_on_primary", "degraded", "misplaced", "unfound", "bytes",
               "log_size", "ondisk_log_size"]
_POOL_CANON_OMAP = _POOL_CANON[:7] + ["omap_bytes", "omap_keys"] + _POOL_CANON[7:]

_HEADER_KEYS = ("version", "stamp", "last_osdmap_epoch", "last_pg_scan", "full_ratio", "nearfull_ratio")
_TABLE_STARTS = {"PG_STAT", "pg_stat", "POOLID", "OSD_STAT", "osdstat"}

# A Mimic+ size (``9.9 GiB``, ``0 B``) is one cell.
_SIZE_CELL = re.compile(r"-?\d+(?:\.\d+)? (?:[KMGTPE]i?B|B)(?!\S)|\S+")
_JEWEL_POOL = re.compile(r"\s*pool ([0-9]+)[\t ]\s*(?=[0-9])")
_PGROW = re.compile(r"\s*[0-9]+\.[0-9a-fA-F]+\s")


# ---------------------------------------------------------------------------------------------------
# sniffing


def sniff(text: str, obj: object | None) -> bool:
    """True if ``text`` is a plain ``ceph pg dump`` (any sub-dump, any release).

    Looks for a ``PG_STAT``/``pg_stat``, ``POOLID`` or ``OSD_STAT``/``osdstat`` heading line among the
    first lines of the text.  Never raises.

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
            first = line.split(None, 1)[:1]
            if first and first[0] in _TABLE_STARTS and len(line.split()) >= 4:
                return True
        return False
    except Exception:  # noqa: BLE001 - sniff must never raise
        return False


# ---------------------------------------------------------------------------------------------------
# pool, OSD and sum rows


def _stats_frame(table: Table, source: str, names: list[str]) -> pd.DataFrame:
    """Pool rows (``names`` starts with pool_id) as a DataFrame of integers."""
    cols = columns(table)
    heading = dict(zip(table.names, table.headings, strict=False))
    frame: dict[str, object] = {}
    for name in names:
        if name == "pool_id":
            frame[name] = int_array(cols[name], table, heading[name], source)
        elif name in INT_COLUMNS:
            frame[name] = int64_ext(cols[name], table, heading[name], source)
        else:
            frame[name] = cols[name]
    return pd.DataFrame(frame)


def _kib(cell: str, jewel: bool) -> int:
    if jewel:
        if not re.fullmatch(r"-?[0-9]{1,18}", cell):
            raise ValueError(cell)
        return int(cell)
    kib = int(round(parse_size(cell) / 1024))
    if not -2**63 <= kib < 2**63:
        raise ValueError(cell)
    return kib


def _osd_frame(table: Table, source: str) -> tuple[pd.DataFrame, dict]:
    """OSD rows -> osd_stats DataFrame, and the ``sum`` row as a dict."""
    jewel = "osdstat" in table.headings
    cols = {n: [] for n in table.names}
    summary: dict[str, int] = {}
    for cells, lineno in zip(table.rows, table.linenos, strict=False):
        if cells[0] == "sum":
            for name, head, cell in zip(table.names[1:], table.headings[1:], cells[1:], strict=False):
                if name in _OSD_SIZE_COLUMNS:
                    summary[name] = _osd_cell(name, head, cell, lineno, source, jewel)
            continue
        if len(cells) != len(table.names):
            raise dump_error(f"expected {len(table.names)} cells, found {len(cells)}", source, lineno)
        for name, head, cell in zip(table.names, table.headings, cells, strict=False):
            cols[name].append(_osd_cell(name, head, cell, lineno, source, jewel))
    frame: dict[str, object] = {}
    for name, values in cols.items():
        if name == "osd_id":
            frame[name] = np.array(values, dtype=np.int64)
        elif name in _OSD_SIZE_COLUMNS or name in _OSD_INT_COLUMNS:
            frame[name] = pd.array(values, dtype="Int64")
        elif name in ("hb_peers", "hb_in", "hb_out"):
            frame[name] = object_array(values)
        else:
            frame[name] = values
    if "hb_peers" not in frame and "hb_in" in frame:
        frame["hb_peers"] = frame["hb_in"]
    return pd.DataFrame(frame), summary


def _osd_cell(name: str, heading: str, cell: str, lineno: int, source: str, jewel: bool) -> object:
    try:
        if name == "osd_id" or name in _OSD_INT_COLUMNS:
            if not re.fullmatch(r"-?[0-9]{1,18}", cell):
                raise ValueError(cell)
            return int(cell)
        if name in _OSD_SIZE_COLUMNS:
            return _kib(cell, jewel)
        if name in ("hb_peers", "hb_in", "hb_out"):
            if not VEC.fullmatch(cell):
                raise ValueError(cell)
            return parse_vec(cell)
    except (ValueError, OverflowError):
        raise dump_error(f"bad value {cell[:40]!r}", source, lineno, heading) from None
    return cell


def _sum_dict(cells: list[str], names: list[str], lineno: int, source: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, cell in zip(names, cells, strict=False):
        if name in INT_COLUMNS:
            if not re.fullmatch(r"-?[0-9]{1,18}", cell):
                raise dump_error(f"not an integer: {cell[:40]!r}", source, lineno, name)
            out[name] = int(cell)
        else:
            out[name] = cell
    return out


# ---------------------------------------------------------------------------------------------------
# the parser


@dataclass
class _State:
    source: str
    meta: dict = field(default_factory=dict)
    pg_tables: list = field(default_factory=list)
    brief_tables: list = field(default_factory=list)
    pool_tables: list = field(default_factory=list)
    osd_tables: list = field(default_factory=list)
    pg_sum: dict | None = None
    osd_sum: dict | None = None
    style: str | None = None
    glued_sizes: bool = False
    spaced_sizes: bool = False
    table_style: str | None = None
    has_summary: bool = False
    warnings: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _pool_row_names(n: int, omap: bool | None) -> list[str] | None:
    if n == len(_POOL_CANON_OMAP) and omap is not False:
        return _POOL_CANON_OMAP
    if n == len(_POOL_CANON) and omap is not True:
        return _POOL_CANON
    return None


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse a plain ``ceph pg dump`` (any sub-dump, Hammer to Tentacle).

    Parameters
    ----------
    text : str
        The dump as printed by the CLI; ``dumped ...`` status lines, ``* NOTE:`` lines and prose
        around the tables are ignored.
    source : str
        File name used in error messages.
    obj : object or None
        Unused (plain text is never JSON); accepted for the parser protocol.

    Returns
    -------
    Fragment
        ``kind`` is ``"pg_dump"`` (a full PG table), ``"pg_dump_pgs_brief"``, ``"pg_dump_summary"``,
        ``"pg_dump_pools"`` or ``"pg_dump_osds"``.  ``pgs`` has ``pgid, pool_id, ps, state, up,
        up_primary, acting, acting_primary``, the statistics present (``Int64``) and the other columns
        snake-cased (timestamps kept as printed, ``SCRUB_SCHEDULING`` as ``scrub_schedule``, ``LOG_DUPS``
        as ``log_dups_size``).  ``pool_stats`` has ``pool_id`` and the pool rows' counters;
        ``osd_stats`` has ``osd_id, kb_used, kb_avail, [kb_used_raw,] kb, hb_peers, pgs, primary_pgs``
        (sizes in KiB, rounded as printed).  ``epoch`` is ``last_osdmap_epoch`` unless it is 0.
        ``extra`` holds ``pgmap_version``, ``stamp``, ``pg_sum``/``osd_sum`` (the ``sum`` rows),
        ``warnings`` and ``skipped_lines``.

    Raises
    ------
    DumpFormatError
        When no table is found, or a row does not fit its header or holds a bad cell.
    """
    if not isinstance(text, str):
        raise dump_error("expected text", source)
    with no_gc():
        return _parse(text, source)


def _parse(text: str, source: str) -> Fragment:
    st = _State(source)
    lines = strip_noise_lines(text.splitlines())
    i, n = 0, len(lines)
    last = None  # the kind of the section just read
    while i < n:
        lineno, line = lines[i]
        s = line.strip()
        if not s:
            i += 1
            continue
        first = s.split(None, 1)[0]
        if first in ("PG_STAT", "pg_stat"):
            i, last = _read_pg_table(st, lines, i)
        elif first == "POOLID":
            i = _read_pool_table(st, lines, i)
            last = "pools"
        elif first in ("OSD_STAT", "osdstat"):
            i = _read_osd_table(st, lines, i)
            last = "osds"
        elif first == "sum" and last in ("pgs", "pool_rows", "pools"):
            cells = s.split("\t") if "\t" in s else s.split()
            cells = [c.strip() for c in cells]
            names = (_POOL_CANON_OMAP if len(cells) == len(_POOL_CANON_OMAP) else _POOL_CANON)[1:]
            st.pg_sum = _sum_dict(cells[1:], names, lineno, source)
            last = "sum"
            i += 1
        elif first == "pool" and _JEWEL_POOL.match(line) and (st.pg_tables or st.style == "tab"):
            i = _read_jewel_pool_rows(st, lines, i)
            last = "pool_rows"
        elif last in ("pgs", "pool_rows") and first.isdigit() and _pool_row_names(
                len(s.split()), _omap(st)) is not None:
            i = _read_headerless_pool_rows(st, lines, i)
            last = "pool_rows"
        elif s.startswith("* NOTE:"):
            st.notes.append(s)
            i += 1
        elif first in _HEADER_KEYS and len(s.split()) >= 2:
            _header_line(st, first, s[len(first):].strip(), lineno)
            i += 1
        elif (st.pg_tables or st.brief_tables) and _PGROW.match(line + " "):
            raise dump_error("PG row outside the PG table (blank line inside the table?)", source, lineno)
        else:
            if len(st.skipped) < 100:
                st.skipped.append(lineno)
            i += 1
    starred = _omap(st) or any("omap_bytes" in names for _t, names in st.pool_tables)
    if starred and not st.notes and st.osd_sum is None:
        # Ceph ends a dump with OMAP_BYTES* columns with a `* NOTE:` line, after the OSD table's sum row when
        # there is one: with neither, the output was cut, possibly at a row boundary, and what followed
        # (later PGs, pools, OSDs) is missing.
        last_line = next((no for no, ln in reversed(lines) if ln.strip()), 1)
        st.warnings.append(f"line {last_line}: no `* NOTE:` line at the end: the output may be cut after this line")
    return _fragment(st)


def _omap(st: _State) -> bool | None:
    if not st.pg_tables:
        return None
    return "omap_bytes" in st.pg_tables[-1].names


def _header_line(st: _State, key: str, value: str, lineno: int) -> None:
    """``version N``, ``stamp T``, ``last_osdmap_epoch N``, ... (a line that does not fit is skipped)."""
    if key in ("version", "last_osdmap_epoch", "last_pg_scan"):
        ok = re.fullmatch(r"[0-9]{1,18}", value)
        val: object = int(value) if ok else None
    elif key in ("full_ratio", "nearfull_ratio"):
        ok = re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value)
        val = float(value) if ok else None
    else:
        ok = re.fullmatch(r"[0-9][0-9:. T+-]*", value)
        val = value
    if ok:
        st.meta[key] = val
    elif len(st.skipped) < 100:
        st.skipped.append(lineno)


def _read_pg_table(st: _State, lines: list, i: int) -> tuple[int, str]:
    lineno, line = lines[i]
    headings, tabs = split_heading(line)
    style = table_style(line, tabs)
    st.style = st.style or style
    names = [pg_name(h) for h in headings]
    if "sum" in names and "state" not in names:
        # a summary header glued to its sum row (damaged paste): split there
        k = names.index("sum")
        headings, names = headings[:k], names[:k]
        cells = line.split()[k:]
        st.pg_sum = _sum_dict(cells[1:], names[1:], lineno, st.source)
        st.has_summary = True
        st.warnings.append(f"line {lineno}: summary header and sum row on one line")
        return i + 1, "sum"
    if len(set(names)) != len(names):
        raise dump_error("duplicate column heading", st.source, lineno)
    table = Table(headings, names, lineno, tabs)
    if "state" not in names:
        # summary: a headed table holding only the sum row
        st.has_summary = True
        i += 1
        if i < len(lines):
            lno, row = lines[i]
            cells = [c.strip() for c in row.split("\t")] if tabs else row.split()
            if cells and cells[0] == "sum":
                st.pg_sum = _sum_dict(cells[1:], names[1:], lno, st.source)
                i += 1
        return i, "sum"
    cell_re = CELL if style in ("A", "tab") else None
    i = read_pg_rows(table, lines, i + 1, st.source, cell_re=cell_re)
    if "objects" in names:
        st.pg_tables.append(table)
    else:
        st.brief_tables.append(table)
    return i, "pgs"


def _read_pool_table(st: _State, lines: list, i: int) -> int:
    lineno, line = lines[i]
    headings, tabs = split_heading(line)
    names = [pg_name(h) for h in headings]
    names[0] = "pool_id"
    st.table_style = st.table_style or table_style(line, tabs)
    table = Table(headings, names, lineno, tabs)
    # pool rows are numbers only: count cells, not header positions
    j = i + 1
    rows, linenos = [], []
    while j < len(lines):
        lno, row = lines[j]
        s = row.strip()
        if not s or not s[:1].isdigit():
            break
        rows.append([c.strip() for c in row.split("\t")] if tabs else s.split())
        linenos.append(lno)
        j += 1
    if rows:
        counts = {len(r) for r in rows}
        if counts != {len(names)}:
            canon = _pool_row_names(len(rows[0]), "omap_bytes" in names or None) if len(counts) == 1 else None
            if canon is None:
                bad = next(k for k, r in enumerate(rows) if len(r) != len(names))
                raise dump_error(f"expected {len(names)} cells, found {len(rows[bad])}", st.source, linenos[bad])
            st.warnings.append(f"line {lineno}: POOLID header has {len(names)} headings but the rows have "
                               f"{len(canon)} cells; used the standard pool columns")
            table.names = list(canon)
            table.headings = [n.upper() for n in canon]
    table.rows, table.linenos = rows, linenos
    st.pool_tables.append((table, list(table.names)))
    return j


def _read_headerless_pool_rows(st: _State, lines: list, i: int) -> int:
    lineno, line = lines[i]
    names = _pool_row_names(len(line.split()), _omap(st))
    table = Table([n.upper() for n in names], list(names), lineno, False)
    j = i
    while j < len(lines):
        lno, row = lines[j]
        cells = row.split()
        if not cells or not cells[0].isdigit():
            break
        if len(cells) != len(names):
            raise dump_error(f"expected {len(names)} cells in a pool row, found {len(cells)}", st.source, lno)
        table.rows.append(cells)
        table.linenos.append(lno)
        j += 1
    st.pool_tables.append((table, list(names)))
    return j


def _read_jewel_pool_rows(st: _State, lines: list, i: int) -> int:
    lineno, _ = lines[i]
    names = list(_POOL_CANON)
    table = Table(["pool"] + names[1:], names, lineno, True)
    j = i
    while j < len(lines):
        lno, row = lines[j]
        m = _JEWEL_POOL.match(row)
        if not m:
            break
        rest = row[m.end():]
        cells = [m.group(1)] + ([c.strip() for c in rest.split("\t")] if "\t" in rest else rest.split())
        while len(cells) > len(names) and cells[-1] == "":
            cells.pop()
        if len(cells) != len(names):
            raise dump_error(f"expected {len(names)} cells in a pool row, found {len(cells)}", st.source, lno)
        table.rows.append(cells)
        table.linenos.append(lno)
        j += 1
    st.pool_tables.append((table, names))
    return j


def _read_osd_table(st: _State, lines: list, i: int) -> int:
    lineno, line = lines[i]
    headings, tabs = split_heading(line)
    names = [_OSD_NAMES.get(snake(h), snake(h)) for h in headings]
    if len(set(names)) != len(names):
        raise dump_error("duplicate column heading", st.source, lineno)
    st.table_style = st.table_style or table_style(line, tabs)
    table = Table(headings, names, lineno, tabs)
    i = read_rows(table, lines, i + 1, st.source, cell_re=_SIZE_CELL, firsts=("sum",))
    if not tabs and any(re.fullmatch(r"[0-9.]+[KMGTPE]iB|[0-9.]+B", c) for r in table.rows for c in r[1:3]):
        st.glued_sizes = True
    if not tabs and any(" " in c for r in table.rows for c in r[1:3]):
        st.spaced_sizes = True
    frame, summary = _osd_frame(table, st.source)
    if summary:
        st.osd_sum = summary
    if len(frame):
        st.osd_tables.append(frame)
    elif not summary:
        st.osd_tables.append(frame)
    return i


def _release(st: _State) -> str | None:
    """Release (or lower bound) from the format; see the module docstring."""
    heads: set[str] = set()
    for t in st.pg_tables + st.brief_tables:
        heads.update(t.names)
    osd_raw = any("kb_used_raw" in f.columns for f in st.osd_tables) or (
        st.osd_sum is not None and "kb_used_raw" in st.osd_sum)
    style = st.style or st.table_style
    if style == "tab":
        return "jewel"
    if style == "A":
        if "full_ratio" in st.meta or st.glued_sizes:
            return "luminous"
        if osd_raw:
            return "nautilus"
        if st.spaced_sizes:
            return "mimic"
        if heads and "omap_bytes" not in heads:
            return "luminous"
        return "luminous+"
    if style == "B":
        if heads & {"log_dups_size", "scrub_schedule", "last_scrub_duration", "objects_scrubbed",
                    "objects_trimmed"}:
            return "quincy+"
        return "octopus+"
    return None


def _fragment(st: _State) -> Fragment:
    source = st.source
    if not (st.pg_tables or st.brief_tables or st.pool_tables or st.osd_tables or st.has_summary
            or st.osd_sum):
        raise dump_error("no pg dump table found (no PG_STAT, POOLID or OSD_STAT header)", source)
    pgs = None
    if st.pg_tables:
        frames = [pg_frame(t, source) for t in st.pg_tables]
        kind = "pg_dump"
    elif st.brief_tables:
        frames = [pg_frame(t, source) for t in st.brief_tables]
        kind = "pg_dump_pgs_brief"
    else:
        frames = []
        kind = ("pg_dump_summary" if st.has_summary else "pg_dump_pools" if st.pool_tables
                else "pg_dump_osds")
    if frames:
        pgs = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        dup = pgs["pgid"].duplicated()
        if dup.any():
            raise dump_error(f"duplicate pgid {pgs['pgid'][dup].iloc[0]}", source)
    pool_stats = None
    if st.pool_tables:
        pframes = [_stats_frame(t, source, names) for t, names in st.pool_tables]
        pool_stats = pframes[0] if len(pframes) == 1 else pd.concat(pframes, ignore_index=True)
    osd_stats = None
    if st.osd_tables:
        osd_stats = st.osd_tables[0] if len(st.osd_tables) == 1 else pd.concat(st.osd_tables,
                                                                                ignore_index=True)
    epoch = st.meta.get("last_osdmap_epoch") or None
    osdmap = {k: st.meta[k] for k in ("full_ratio", "nearfull_ratio") if k in st.meta} or None
    extra: dict[str, object] = {}
    if "version" in st.meta:
        extra["pgmap_version"] = st.meta["version"]
    for key in ("stamp", "last_pg_scan"):
        if key in st.meta:
            extra[key] = st.meta[key]
    if st.pg_sum is not None:
        extra["pg_sum"] = st.pg_sum
    if st.osd_sum is not None:
        extra["osd_sum"] = st.osd_sum
    if st.warnings:
        extra["warnings"] = st.warnings
    if st.skipped:
        extra["skipped_lines"] = st.skipped
    if st.notes:
        extra["notes"] = st.notes
    return Fragment(kind=kind, source=source, release=_release(st), epoch=epoch, pgs=pgs,
                    pool_stats=pool_stats, osd_stats=osd_stats, osdmap=osdmap, extra=extra)
