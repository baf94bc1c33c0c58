"""Plain-text tables as Ceph's TextTable prints them: column bounds from the header and the blank gaps."""

from __future__ import annotations

import re

from ._common import strip_noise_lines

#: headings that contain a space in Ceph's tables (merged when the header is split on whitespace)
MULTIWORD_HEADINGS = {
    ("RAW", "USE"), ("TYPE", "NAME"), ("MAX", "AVAIL"), ("QUOTA", "OBJECTS"), ("QUOTA", "BYTES"),
    ("USED", "COMPR"), ("UNDER", "COMPR"), ("RAW", "USED"), ("%RAW", "USED"), ("TARGET", "SIZE"),
    ("RAW", "CAPACITY"), ("TARGET", "RATIO"), ("EFFECTIVE", "RATIO"), ("NEW", "PG_NUM"),
}

#: `osd df` footer lines
MINMAX_LINE = re.compile(r"^\s*MIN/MAX VAR:\s*(\S+)/(\S+)\s+STDDEV:\s*(\S+)\s*$")
TOTAL_LINE = re.compile(r"^\s*TOTAL\s")

_FENCE = re.compile(r"^\s*(```|~~~).*$")


def split_header(line: str) -> list[tuple[str, int]]:
    """Split a TextTable header into ``(heading, start offset)`` pairs, merging two-word headings.

    Parameters
    ----------
    line : str
        The header line.

    Returns
    -------
    list of (str, int)
    """
    toks = [(m.group(0), m.start()) for m in re.finditer(r"\S+", line)]
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(toks):
        word, start = toks[i]
        if i + 1 < len(toks) and (word, toks[i + 1][0]) in MULTIWORD_HEADINGS:
            out.append((f"{word} {toks[i + 1][0]}", start))
            i += 2
            continue
        out.append((word, start))
        i += 1
    return out


def split_row(line: str, starts: list[int]) -> list[str]:
    """Cut a table row into cells, one per column, by the columns' start offsets.

    A whitespace-separated token belongs to the last column whose start is at or before the token's
    first character; tokens of one column are joined with one space.  Empty cells are ``""``.

    Parameters
    ----------
    line : str
    starts : list of int
        Start offsets of the columns (from :func:`column_bounds`, or the heading offsets of
        :func:`split_header` when every heading is left-aligned).

    Returns
    -------
    list of str
    """
    cells: list[list[str]] = [[] for _ in starts]
    for m in re.finditer(r"\S+", line):
        idx = 0
        for j, s in enumerate(starts):
            if s <= m.start():
                idx = j
            else:
                break
        cells[idx].append(m.group(0))
    return [" ".join(c) for c in cells]


def column_bounds(header: list[tuple[str, int]], rows: list[str]) -> list[int]:
    """Start offsets of the columns of a TextTable, from its header and its data rows.

    Headings may be left- or right-aligned and cells may be wider than their heading, so the
    boundary between two columns is placed just after the last position, between the end of one
    heading and the start of the next, that is blank in the header and in every row.

    Parameters
    ----------
    header : list of (str, int)
        From :func:`split_header`.
    rows : list of str
        The table's data rows (no footers).

    Returns
    -------
    list of int
        One start offset per column, for :func:`split_row`.
    """
    if not header:
        return []
    width = max([len(r) for r in rows] + [header[-1][1] + len(header[-1][0])])
    blank = [True] * (width + 1)
    for r in rows:
        for i, ch in enumerate(r):
            if ch != " ":
                blank[i] = False
    bounds = [0]
    for (name, start), (_, nxt) in zip(header, header[1:], strict=False):
        end = start + len(name)
        cut = nxt
        for p in range(nxt - 1, end - 1, -1):
            if blank[p]:
                cut = p + 1
                break
        bounds.append(cut)
    return bounds


def table_body(lines: list[str]) -> list[str]:
    """The data rows of a table: up to a closing fence, without blank, noise and footer lines."""
    body: list[str] = []
    for ln in lines:
        if is_fence(ln) and body:
            break
        if (not ln.strip() or is_fence(ln) or MINMAX_LINE.match(ln) or TOTAL_LINE.match(ln)
                or not strip_noise_lines([ln])):
            continue
        body.append(ln)
    return body


def find_header(lines: list[str], pattern: re.Pattern) -> int | None:
    """Index of the first line matching ``pattern``.

    Parameters
    ----------
    lines : list of str
    pattern : re.Pattern

    Returns
    -------
    int or None
        None when no line matches.
    """
    for i, ln in enumerate(lines):
        if pattern.match(ln):
            return i
    return None


def is_fence(line: str) -> bool:
    """True for a Markdown code fence line (```` ``` ```` or ``~~~``)."""
    return bool(_FENCE.match(line))


# --------------------------------------------------------------------------------------------------
# sniff
# --------------------------------------------------------------------------------------------------


def nearest_host(osd: int, parent: dict[int, int], types: dict[int, str], names: dict[int, str]) -> str | None:
    """Name of the nearest ancestor of type ``host`` of ``osd`` in a parent map.

    Parameters
    ----------
    osd : int
        Item id to start from.
    parent : dict
        Item id -> id of the bucket holding it.
    types, names : dict
        Bucket id -> type name / bucket name.

    Returns
    -------
    str or None
        None when no ancestor is a ``host`` (stray OSDs, or a tree without hosts).
    """
    cur = parent.get(osd)
    guard = 0
    while cur is not None and guard < 1000:
        if types.get(cur) == "host":
            return names.get(cur)
        cur = parent.get(cur)
        guard += 1
    return None
