"""The PG table of plain-text ``ceph pg dump`` and ``ceph pg ls``, shared by their two readers.

:mod:`pgtools.io.pg_dump_plain` and :mod:`pgtools.io.pg_ls_plain` read the same table (``PG_STAT``/``PG``
heading, one row per PG) in the three renderings of ``pg_dump_formats.md`` §2: Jewel's tab-separated
lower-case table, Luminous–Nautilus "style A" (one blank after every cell) and Octopus+ "style B" (two
blanks between cells).  This module holds what both need: the heading vocabulary, the :class:`Table` of
cells, splitting a heading line and the rows under it, and turning the cells into the ``pgs`` DataFrame.

Every column is found by its heading, never by position.  A row is split on whitespace; a pre-Octopus
timestamp counts as one cell (:data:`CELL`), and a free-text column (Quincy's ``SCRUB_SCHEDULING``) takes
whatever the cells on its left and right leave (tokenised from both ends).

Performance: the PG table is tokenised with one ``str.split`` per row and converted column by column
(one regex check over each joined column, ``int`` via ``map``, OSD lists decoded with one ``json.loads``);
readers pause the cyclic garbage collector while a dump is parsed (:func:`no_gc`).
"""

from __future__ import annotations

import gc
import json
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import pandas as pd

from ..errors import DumpFormatError
from ._common import NONE

__all__ = ["CELL", "INT_COLUMNS", "VEC", "Table", "columns", "dump_error", "int64_ext", "int_array", "no_gc",
           "object_array", "parse_vec", "pg_frame", "pg_name", "read_pg_rows", "read_rows", "snake",
           "split_heading", "table_style"]

# ---------------------------------------------------------------------------------------------------
# vocabulary

#: heading (lower case, ``*`` removed) -> column name in ``pgs``
_PG_NAMES = {
    "pg_stat": "pgid", "pg": "pgid",
    "objects": "objects",
    "mip": "missing_on_primary", "missing_on_primary": "missing_on_primary",
    "degr": "degraded", "degraded": "degraded",
    "misp": "misplaced", "misplaced": "misplaced",
    "unf": "unfound", "unfound": "unfound",
    "bytes": "bytes",
    "omap_bytes": "omap_bytes", "omap_keys": "omap_keys",
    "log": "log_size", "log_dups": "log_dups_size",
    "disklog": "ondisk_log_size", "disk_log": "ondisk_log_size",
    "v": "version",
    "scrub_scheduling": "scrub_schedule",
}
#: Integer columns of the PG, pool and sum tables (nullable ``Int64`` in the output).
INT_COLUMNS = {"objects", "bytes", "omap_bytes", "omap_keys", "log_size", "ondisk_log_size",
               "missing_on_primary", "degraded", "misplaced", "unfound", "log_dups_size",
               "snaptrimq_len", "last_scrub_duration", "objects_scrubbed", "objects_trimmed"}
#: Columns whose cells may contain spaces.
_FREE_COLUMNS = {"scrub_schedule"}
_STAT_ORDER = ["objects", "bytes", "omap_bytes", "omap_keys", "log_size", "ondisk_log_size",
               "missing_on_primary", "degraded", "misplaced", "unfound"]
_PG_LEAD = ["pgid", "pool_id", "ps", "state", "up", "up_primary", "acting", "acting_primary"]

#: A row's cells where a pre-Octopus timestamp (two whitespace tokens) is one cell.
CELL = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?|\S+")
_PGIDS = re.compile(r"(?:[0-9]{1,18}\.[0-9a-f]{1,15}\n)*[0-9]{1,18}\.[0-9a-f]{1,15}")
_PGID = re.compile(r"[0-9]{1,18}\.[0-9a-f]{1,15}")
_VEC_ITEM = r"(?:[0-9]{1,18}|NONE)"
#: An OSD list cell: ``[1,2,NONE]``.
VEC = re.compile(rf"\[(?:{_VEC_ITEM}(?:,{_VEC_ITEM})*)?\]")


def snake(heading: str) -> str:
    """A heading as a column name: lower case, runs of other characters as one ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", heading.lower()).strip("_") or "column"


def pg_name(heading: str) -> str:
    """The ``pgs`` column name of a PG table heading (``PG_STAT`` -> ``pgid``, ``MISP`` -> ``misplaced``)."""
    key = snake(heading)
    return _PG_NAMES.get(key, key)


def dump_error(message: str, source: str, line: int | None = None, field: str | None = None) -> DumpFormatError:
    """The DumpFormatError for ``message`` at ``line`` (and column ``field``) of ``source``."""
    return DumpFormatError(message, source=source, line=line, field=field)


# ---------------------------------------------------------------------------------------------------
# tokenising


@dataclass
class Table:
    """A table as read from the text: headings, column names and its cells (strings).

    PG tables keep their cells in one flat row-major list (``flat``); other tables keep ``rows``.
    Rows are consecutive entries of ``lines`` from index ``start``, so line numbers are looked up there.
    """

    headings: list[str]
    names: list[str]
    header_line: int
    tabs: bool
    rows: list[list[str]] = field(default_factory=list)
    linenos: list[int] = field(default_factory=list)
    flat: list[str] | None = None
    lines: list[tuple[int, str]] | None = None
    start: int = 0

    def lineno(self, k: int) -> int:
        """The line number of data row ``k``."""
        if self.flat is not None and self.lines is not None:
            return self.lines[self.start + k][0]
        return self.linenos[k]


def split_heading(line: str) -> tuple[list[str], bool]:
    """Headings of a table header line, and whether the table is tab separated."""
    if "\t" in line:
        cells = [c.strip() for c in line.split("\t")]
        return [c for c in cells if c], True
    body = re.sub(r"\bhb (in|out)\b", r"hb_\1", line)
    return body.split(), False


def _split_cells(line: str, tabs: bool, ncols: int, free: int | None, cell_re: re.Pattern | None,
                 ) -> list[str]:
    """Cells of one data row (see the module docstring for the rules)."""
    if tabs:
        cells = [c.strip() for c in line.split("\t")]
        while len(cells) > ncols and cells[-1] == "":
            cells.pop()
        return cells
    toks = line.split()
    if free is None and len(toks) == ncols:
        return toks
    if cell_re is not None:
        toks = cell_re.findall(line)
    if free is not None and len(toks) >= ncols - 1:
        right = ncols - free - 1
        end = len(toks) - right
        toks = toks[:free] + [" ".join(toks[free:end])] + toks[end:]
    return toks


def read_pg_rows(table: Table, lines: list[tuple[int, str]], i: int, source: str, *,
                 cell_re: re.Pattern | None) -> int:
    """Read PG rows (lines whose first cell starts with a digit) into ``table.flat``; return next index."""
    ncols = len(table.names)
    free = next((k for k, n in enumerate(table.names) if n in _FREE_COLUMNS), None)
    fast = free is None and not table.tabs
    flat: list[str] = []
    extend = flat.extend
    table.flat, table.lines, table.start = flat, lines, i
    n = len(lines)
    while i < n:
        line = lines[i][1]
        toks = line.split()
        if not toks or not toks[0][:1].isdigit():
            break
        if not (fast and len(toks) == ncols):
            toks = _split_cells(line, table.tabs, ncols, free, cell_re)
            if len(toks) != ncols:
                raise dump_error(f"expected {ncols} cells under the header of line {table.header_line}, "
                                 f"found {len(toks)}", source, lines[i][0])
        extend(toks)
        i += 1
    return i


def read_rows(table: Table, lines: list[tuple[int, str]], i: int, source: str, *,
              cell_re: re.Pattern | None, firsts: tuple[str, ...] = ()) -> int:
    """Append rows (first cell starts with a digit, or is in ``firsts``); short rows allowed."""
    ncols = len(table.names)
    n = len(lines)
    while i < n:
        lineno, line = lines[i]
        toks = line.split()
        if not toks or not (toks[0][:1].isdigit() or toks[0] in firsts):
            break
        cells = _split_cells(line, table.tabs, ncols, None, cell_re)
        if not 0 < len(cells) <= ncols:
            raise dump_error(f"expected {ncols} cells under the header of line {table.header_line}, "
                             f"found {len(cells)}", source, lineno)
        table.rows.append(cells)
        table.linenos.append(lineno)
        i += 1
    return i


def columns(table: Table) -> dict[str, list[str]]:
    """Column name -> list of cells."""
    ncols = len(table.names)
    if table.flat is not None:
        return {name: table.flat[k::ncols] for k, name in enumerate(table.names)}
    cols = list(zip(*table.rows, strict=False)) if table.rows else [()] * ncols
    return {name: list(col) for name, col in zip(table.names, cols, strict=False)}


# ---------------------------------------------------------------------------------------------------
# cell conversion (vectorised where it matters)

_INT_CELL = re.compile(r"-?[0-9]{1,18}")


def int_array(values: list, table: Table, heading: str, source: str) -> np.ndarray:
    """int64 array from integer cells; DumpFormatError naming the first bad cell."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    try:
        joined = "\n".join(values)
        if (joined.isascii() and "_" not in joined and "+" not in joined and " " not in joined
                and max(map(len, values)) <= 18):
            with warnings.catch_warnings():
                # numpy warns (here: raises) when it cannot read the text to its end
                warnings.simplefilter("error")
                arr = np.fromstring(joined, dtype=np.int64, sep="\n")
            if len(arr) == len(values):
                return arr
    except (ValueError, OverflowError, TypeError, DeprecationWarning):
        pass
    k = next((k for k, v in enumerate(values) if v is None or not _INT_CELL.fullmatch(v)), None)
    if k is None:  # every cell is a plain integer of at most 18 digits
        return np.fromiter(map(int, values), dtype=np.int64, count=len(values))
    raise dump_error(f"not an integer: {str(values[k])[:40]!r}", source, table.lineno(k), heading)


def int64_ext(values: list, table: Table, heading: str, source: str) -> pd.arrays.IntegerArray:
    """Nullable Int64 from integer cells."""
    arr = int_array(values, table, heading, source)
    return pd.arrays.IntegerArray(arr, np.zeros(len(arr), dtype=bool))


def parse_vec(text: str) -> tuple[int, ...]:
    """An OSD list cell (``[1,2,NONE]``, already checked against :data:`VEC`) as a tuple."""
    inner = text[1:-1]
    if not inner:
        return ()
    return tuple(NONE if t == "NONE" else int(t) for t in inner.split(","))


_VECS = re.compile(rf"(?:\[(?:{_VEC_ITEM}(?:,{_VEC_ITEM})*)?\]\n)*\[(?:{_VEC_ITEM}(?:,{_VEC_ITEM})*)?\]")


def _vec_column(values: list, table: Table, heading: str, source: str) -> list[tuple[int, ...]]:
    """``[1,2,NONE]`` cells -> tuples (holes are NONE whether printed NONE or 2147483647)."""
    if not values:
        return []
    joined = "\n".join(values) if None not in values else None
    if joined is None or not _VECS.fullmatch(joined):
        k = next(k for k, v in enumerate(values) if v is None or not VEC.fullmatch(v))
        raise dump_error(f"not an OSD list: {str(values[k])[:40]!r}", source, table.lineno(k), heading)
    body = joined.replace("NONE", str(NONE)).replace("\n", ",")
    return list(map(tuple, json.loads("[" + body + "]")))


def object_array(items: list) -> np.ndarray:
    """A 1-D object array of ``items`` (tuples stay elements, not a second dimension)."""
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


def _pgid_columns(values: list, table: Table, heading: str, source: str,
                  ) -> tuple[list[str], np.ndarray, np.ndarray]:
    joined = "\n".join(values) if None not in values else None
    if values and (joined is None or not _PGIDS.fullmatch(joined)):
        k = next(k for k, v in enumerate(values) if v is None or not _PGID.fullmatch(v))
        raise dump_error(f"not a pgid: {str(values[k])[:40]!r}", source, table.lineno(k), heading)
    parts = joined.replace(".", "\n").split("\n") if values else []
    pool_arr = np.fromiter(map(int, parts[0::2]), dtype=np.int64, count=len(values))
    ps_arr = np.fromiter(map(int, parts[1::2], repeat(16)), dtype=np.int64, count=len(values))
    return values, pool_arr, ps_arr


def pg_frame(table: Table, source: str, *, glued: bool = False) -> pd.DataFrame:
    """The ``pgs`` DataFrame of a full or brief PG table (``glued``: ``pg ls`` ``[1,2]p1`` cells)."""
    cols = columns(table)
    table.flat = [] if table.flat is not None else None  # the cells now live in cols only
    heading = dict(zip(table.names, table.headings, strict=False))
    for need in ("pgid", "state", "up", "acting") if glued else ("pgid", "state", "up", "up_primary",
                                                                   "acting", "acting_primary"):
        if need not in cols:
            raise dump_error(f"PG table without a {need} column", source, table.header_line)
    data: dict[str, object] = {}
    pgids, pools, ps = _pgid_columns(cols["pgid"], table, heading["pgid"], source)
    data["pgid"] = pgids
    data["pool_id"] = pools
    data["ps"] = ps
    data["state"] = cols["state"]
    vec: list = []
    for key in ("up", "acting"):
        if glued:
            vec, prim = _glued_column(cols[key], table, heading[key], source)
        else:
            if key == "acting" and cols["acting"] == cols["up"]:
                pass  # the same cells: reuse the tuples of up
            else:
                vec = _vec_column(cols[key], table, heading[key], source)
            prim = int_array(cols[f"{key}_primary"], table, heading[f"{key}_primary"], source)
        data[key] = object_array(vec)
        data[f"{key}_primary"] = prim
    frame = {c: data[c] for c in _PG_LEAD}
    for name in _STAT_ORDER:
        if name in cols:
            frame[name] = int64_ext(cols.pop(name), table, heading[name], source)
    for name in table.names:
        if name in frame or name in ("up_primary", "acting_primary") or name not in cols:
            continue
        if name in INT_COLUMNS:
            frame[name] = int64_ext(cols.pop(name), table, heading[name], source)
        else:
            frame[name] = cols[name]
    return pd.DataFrame(frame)


_GLUED = re.compile(rf"(\[(?:{_VEC_ITEM}(?:,{_VEC_ITEM})*)?\])p(-?[0-9]{{1,18}})")


def _glued_column(values: list, table: Table, heading: str, source: str,
                  ) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """``[1,2,0]p1`` cells (``pg ls``, Mimic+) -> (tuples, primaries)."""
    cache: dict[str, tuple[tuple[int, ...], int]] = {}
    vecs: list[tuple[int, ...]] = []
    prims = np.empty(len(values), dtype=np.int64)
    for k, v in enumerate(values):
        hit = cache.get(v)
        if hit is None:
            m = _GLUED.fullmatch(v) if v is not None else None
            if m is None:
                raise dump_error(f"not an OSD list with primary: {str(v)[:40]!r}", source, table.lineno(k),
                                 heading)
            hit = cache[v] = (parse_vec(m.group(1)), int(m.group(2)))
        vecs.append(hit[0])
        prims[k] = hit[1]
    return vecs, prims


# ---------------------------------------------------------------------------------------------------
# the table's style, and parsing without the cyclic GC


def table_style(line: str, tabs: bool) -> str:
    """``tab``, ``A`` (one blank after every cell) or ``B`` (two blanks between cells)."""
    if tabs or line.split(None, 1)[0] in ("pg_stat", "osdstat"):
        return "tab"  # Jewel's lower-case headings (tabs possibly expanded to spaces)
    gaps = [len(g) for g in re.findall(r"(?<=\S)\s+(?=\S)", line.strip())]
    if gaps and min(gaps) == 1:
        return "A"
    return "B"


@contextmanager
def no_gc():
    """Pause the cyclic GC while millions of small objects are made (it rescans them all otherwise)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


