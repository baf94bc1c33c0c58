"""Read dump *excerpts*: what operators paste into tickets, chats and mailing lists.

This is the fallback :func:`pgtools.io.bundle.read_file` uses when a file is in no format directly, or
when its direct parse fails.  The text is cut into candidate blocks, each block is handed to the ordinary
parsers, and what they yield is returned as a list of :class:`~pgtools.io._common.Fragment`.

What is recognised
------------------
* Markdown code fences (a line starting with three backticks) end a block; prose between tables too:
  a table block starts at a recognised header line (``PG_STAT``, ``pg_stat``, ``ID CLASS WEIGHT``,
  ``OSD_STAT``, ``POOLID``, ...) and runs until a blank line, a fence, a prompt line or the next header.
* Shell prompt lines (``$ ceph ...``, ``# ceph ...``, ``sh-5.1$ ...``, ``[root@x ~]# ...``,
  ``[ceph: root@c1 /]# ...``, ``root@host:~# ...``) are dropped.
* A line of prose right after a table (no blank line between) ends it, with the warning
  ``"<source>:<line>: text after the table ignored"``.
* Table rows that appear before any header (an excerpt that starts mid-table) are ignored, with a
  warning.
* A truncated LAST row of a block (the parser fails on exactly that line) is dropped with the warning
  ``"<source>:<line>: last row truncated, ignored"``.  A bad row anywhere else is still an error, raised
  with the line number in the original file.
* Log lines carrying a Python ``repr`` of a ``pg_stat`` entry (``{'pgid': '6.0', ...}``) are decoded
  with :func:`ast.literal_eval` (never ``eval``) and parsed as the JSON list of ``pg_stats``.  When the
  repr is cut off, the complete leading key/value pairs are recovered; without ``up``/``acting`` that is
  not a PG row, so the result is an ``"excerpt"`` fragment that records the pairs (no tables).
* A JSON fragment (lines of ``"key": value``, possibly starting and ending inside an object) is wrapped,
  its possibly-cut last line dropped and its brackets closed.  If some parser recognises the result it is
  used; otherwise the result is an ``"excerpt"`` fragment recording the keys found and the release they
  imply (``scrub_schedule`` -> ``"quincy+"``), with no tables.  Such a fragment tells that the paste is a
  PG statistics excerpt but carries no placement facts.

* Two PG tables in one file (two dumps pasted together): an error naming the second table's line when
  it has other PGs or other up/acting sets than the first (pgtools will not pick one); a warning, and the
  repeat ignored, when it repeats the first (or part of it) unchanged.

Each fragment's ``extra`` holds ``"excerpt_line"`` (1-based first line of its block in the original
text) and ``"warnings"`` (list of strings).  When nothing in the text yields a fragment the caller raises
its original error.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from ..errors import DumpFormatError
from ._common import Fragment, loads_json
from .sniff import read_text

__all__ = ["parse_excerpt", "merge_excerpt_fragments"]

_FENCE = re.compile(r"^\s*(```|~~~)")
_PROMPT = re.compile(
    r"^\s*(?:\$ |# |\S*sh-[\d.]+\$ |\[[^\]]*\][#$] ?|[\w.-]+@[\w.-]+:[^\s#$]*[#$] )"
)
_HEADER = re.compile(
    r"^\s*(?:PG_STAT\s|pg_stat\s|PG\s+OBJECTS|ID\s+CLASS\s|ID\s+WEIGHT\s|OSD_STAT\s|OSD\s+USED|POOLID\s|"
    r"POOL\s+ID\s|POOL\s+SIZE|ID\s+CLASS$)"
)
_DATA_ROW = re.compile(r"^\s*-?\d+(?:\.[0-9a-f]+)?\s")
_JSON_KV = re.compile(r'^\s*"[^"]*"\s*:')
_JSON_START = re.compile(r"^\s*[\[{]\s*$|^[\[{]")
#: A line of prose (three or more plain words): ends a table pasted without a blank line after it.
_PROSE = re.compile(r"^\s*[A-Za-z][a-z']*(?: [A-Za-z][a-z',.:;!?()]*){2,}")
_MAX_REPR_CHARS = 200_000
_PYREPR = re.compile(r"\{'[A-Za-z_]+':")

#: Keys whose presence tells a lower bound of the release (pg_stat JSON).
RELEASE_HINTS = {"scrub_schedule": "quincy+"}

_MAX_REPR_TRIES = 400


def _err(e: DumpFormatError, source: str, offset: int) -> DumpFormatError:
    line = None if e.line is None else e.line + offset
    return DumpFormatError(e.message, source=source, line=line, field=e.field)


class _Block:
    """Candidate block: kind ``"table"``, ``"json"``, ``"jsonfrag"`` or ``"pyrepr"``; lines with their
    1-based numbers in the original text."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.lines: list[tuple[int, str]] = []


def _split(lines: list[str], source: str, warnings: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    cur: _Block | None = None
    orphans: list[int] = []

    def close() -> None:
        nonlocal cur
        if cur is not None and cur.lines:
            blocks.append(cur)
        cur = None

    def flush_orphans() -> None:
        if orphans:
            first, last = orphans[0], orphans[-1]
            where = f"{first}" if first == last else f"{first}-{last}"
            warnings.append(f"{source}:{where}: {len(orphans)} table rows without a header, ignored")
            orphans.clear()

    for no, raw in enumerate(lines, 1):
        line = raw.rstrip("\r")
        if _FENCE.match(line) or not line.strip():
            if cur is not None and cur.kind == "json" and not _FENCE.match(line):
                cur.lines.append((no, line))  # blank lines inside a JSON document
                continue
            close()
            flush_orphans()
            continue
        if _PROMPT.match(line) and not _JSON_KV.match(line):
            close()
            flush_orphans()
            continue
        m = _PYREPR.search(line)
        if m and not line.lstrip().startswith(("{", "[")):
            close()
            blk = _Block("pyrepr")
            blk.lines.append((no, line[m.start():]))
            blocks.append(blk)
            continue
        if _HEADER.match(line):
            close()
            flush_orphans()
            cur = _Block("table")
            cur.lines.append((no, line))
            continue
        if cur is not None and cur.kind in ("json", "jsonfrag", "table"):
            cur.lines.append((no, line))
            continue
        if _JSON_START.match(line):
            flush_orphans()
            cur = _Block("json")
            cur.lines.append((no, line))
            continue
        if _JSON_KV.match(line):
            flush_orphans()
            cur = _Block("jsonfrag")
            cur.lines.append((no, line))
            continue
        if _DATA_ROW.match(line):
            orphans.append(no)
        # anything else is prose: ignored
    close()
    flush_orphans()
    return blocks


def _direct(source: str, text: str) -> Fragment | None:
    return read_text(text, source)


def _dedent(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    widths = [len(s) - len(s.lstrip()) for _, s in lines if s.strip()]
    cut = min(widths) if widths else 0
    header_indent = len(lines[0][1]) - len(lines[0][1].lstrip()) if lines else 0
    cut = min(cut, header_indent)
    return [(n, s[cut:]) for n, s in lines]


def _parse_table(blk: _Block, source: str, warnings: list[str]) -> Fragment | None:
    lines = _dedent(blk.lines)
    # the block's lines are contiguous except where prompt lines were dropped; parse them as one text and
    # map the parser's line numbers back through this list
    while lines:
        text = "\n".join(s for _, s in lines) + "\n"
        try:
            frag = _direct(source, text)
        except DumpFormatError as e:
            if e.line is not None and e.line == len(lines) and len(lines) > 1 \
                    and not _PROSE.match(lines[-1][1]):
                warnings.append(f"{source}:{lines[-1][0]}: last row truncated, ignored")
                lines = lines[:-1]
                continue
            if e.line is not None and 1 < e.line <= len(lines) and _PROSE.match(lines[e.line - 1][1]):
                warnings.append(f"{source}:{lines[e.line - 1][0]}: text after the table ignored")
                lines = lines[:e.line - 1]
                continue
            if e.line is not None and 1 <= e.line <= len(lines):
                raise DumpFormatError(e.message, source=source, line=lines[e.line - 1][0],
                                      field=e.field) from None
            raise DumpFormatError(e.message, source=source, line=lines[0][0], field=e.field) from None
        return frag
    return None


def _close_json(lines: list[str]) -> Any | None:
    """Wrap key/value lines (maybe starting and ending inside objects) into one JSON object."""
    body: list[str] = []
    depth = 0
    stack: list[str] = []
    for s in lines:
        t = s.strip()
        for ch in _strip_strings(t):
            if ch in "{[":
                stack.append("}" if ch == "{" else "]")
            elif ch in "}]":
                if stack:
                    stack.pop()
                else:
                    depth += 1  # closes an object opened before the excerpt: drop from here on
        if depth:
            break
        body.append(t)
    text = "\n".join(body).rstrip().rstrip(",")
    if text.endswith(("{", "[", ":")):
        return None
    closers = "".join(reversed(stack))
    try:
        obj = json.loads("{" + text + closers + "}")
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) and obj else None


def _strip_strings(t: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', t)


def _keys(obj: Any, out: list[str]) -> list[str]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(str(k))
            _keys(v, out)
    return out


def _excerpt_fragment(source: str, first_line: int, obj: dict, what: str) -> Fragment:
    keys = _keys(obj, [])
    hints = sorted({RELEASE_HINTS[k] for k in keys if k in RELEASE_HINTS})
    release = hints[-1] if hints else None
    return Fragment(kind="excerpt", source=source, release=release,
                    extra={"excerpt_line": first_line, "what": what, "keys": keys, "values": obj,
                           "release_hints": {k: RELEASE_HINTS[k] for k in keys if k in RELEASE_HINTS}})


def _parse_jsonfrag(blk: _Block, source: str, warnings: list[str]) -> Fragment | None:
    texts = [s for _, s in blk.lines]
    if not texts:
        return None
    last = texts[-1].rstrip()
    if len(texts) > 1 and not last.endswith((",", "{", "[", "}", "]")):
        warnings.append(f"{source}:{blk.lines[-1][0]}: last line of JSON fragment may be cut, ignored")
        texts = texts[:-1]
    obj = _close_json(texts)
    if obj is None:
        return None
    frag = _from_obj(obj, source)
    if frag is not None:
        return frag
    return _excerpt_fragment(source, blk.lines[0][0], obj, "json fragment")


def _from_obj(obj: Any, source: str) -> Fragment | None:
    if isinstance(obj, dict) and "pgid" in obj and "up" in obj and "acting" in obj:
        obj = [obj]
    try:
        return _direct(source, json.dumps(obj))
    except DumpFormatError:
        return None


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _parse_pyrepr(blk: _Block, source: str, warnings: list[str]) -> Fragment | None:
    no, text = blk.lines[0]
    text = text.rstrip()
    obj = _literal(text)
    truncated = False
    if not isinstance(obj, dict):
        # cut off: keep the longest prefix of complete top-level pairs
        obj = None
        pos = len(text)
        for _ in range(_MAX_REPR_TRIES if len(text) <= _MAX_REPR_CHARS else 0):
            pos = text.rfind(", '", 0, pos)
            if pos <= 0:
                break
            cand = _literal(text[:pos] + "}")
            if isinstance(cand, dict):
                obj = cand
                truncated = True
                break
    if not isinstance(obj, dict) or not obj:
        return None
    try:
        obj = json.loads(json.dumps(obj, default=str))
    except (ValueError, TypeError):
        return None
    if truncated:
        warnings.append(f"{source}:{no}: Python repr cut off, {len(obj)} leading keys kept")
    frag = _from_obj(obj, source)
    if frag is not None:
        return frag
    return _excerpt_fragment(source, no, obj, "python repr")


def _parse_json(blk: _Block, source: str, warnings: list[str]) -> Fragment | None:
    text = "\n".join(s for _, s in blk.lines)
    try:
        obj = loads_json(text, source=source)
    except DumpFormatError:
        obj = None
    if obj is not None:
        try:
            return _direct(source, text)
        except DumpFormatError as e:
            raise _err(e, source, blk.lines[0][0] - 1) from None
    inner = [s for _, s in blk.lines]
    if inner and inner[0].strip() in ("{", "["):
        inner = inner[1:]
    frag = _parse_jsonfrag(_with_lines(blk, inner), source, warnings)
    return frag


def _with_lines(blk: _Block, texts: list[str]) -> _Block:
    out = _Block(blk.kind)
    skip = len(blk.lines) - len(texts)
    out.lines = [(n, t) for (n, _), t in zip(blk.lines[skip:], texts, strict=True)]
    return out


def parse_excerpt(text: str, *, source: str = "<string>") -> list[Fragment]:
    """Parse the dump excerpts found in a pasted text.

    Parameters
    ----------
    text : str
        The text: Markdown, a chat log, a ticket comment, a dump with a cut end...
    source : str
        Name used in messages (the file path).

    Returns
    -------
    list of Fragment
        One per block some parser recognised, in text order (possibly empty).  Each has
        ``extra["excerpt_line"]`` and ``extra["warnings"]``; the warnings not tied to a block (table rows
        without a header) go on the first fragment.

    Raises
    ------
    DumpFormatError
        A recognised block is malformed other than by a truncated last row; the line is the line in
        ``text``.
    """
    warnings: list[str] = []
    blocks = _split(text.splitlines(), source, warnings)
    out: list[Fragment] = []
    for blk in blocks:
        before = len(warnings)
        if blk.kind == "table":
            frag = _parse_table(blk, source, warnings)
        elif blk.kind == "pyrepr":
            frag = _parse_pyrepr(blk, source, warnings)
        elif blk.kind == "json":
            frag = _parse_json(blk, source, warnings)
        else:
            frag = _parse_jsonfrag(blk, source, warnings)
        if frag is None:
            del warnings[before:]
            continue
        frag.extra = dict(frag.extra or {})
        frag.extra.setdefault("excerpt_line", blk.lines[0][0])
        frag.extra["warnings"] = warnings[before:]
        out.append(frag)
    if out:
        used = {w for f in out for w in f.extra["warnings"]}
        rest = [w for w in warnings if w not in used]
        out[0].extra["warnings"] = sorted(rest + out[0].extra["warnings"], key=_warn_key)
    return out


def _warn_key(w: str) -> int:
    m = re.search(r":(\d+)(?:-\d+)?: ", w)
    return int(m.group(1)) if m else 0


_TABLE_FIELDS = ("pgs", "pools", "osds", "pool_stats", "osd_stats", "crush", "osdmap", "health", "config")


def merge_excerpt_fragments(fragments: list[Fragment], *, source: str) -> Fragment:
    """Fold the fragments of one excerpt file into one.

    The first fragment gives the kind, release and epoch; each table (``pgs``, ``osds``, ...) comes from
    the first fragment that has it.  A later fragment whose tables are all already taken (the "after" of a
    before/after pair of ``osd df`` tables) is kept whole in ``extra["other_blocks"]`` (a list of
    Fragments) instead of being mixed in.  ``extra["warnings"]`` gathers every fragment's warnings.

    Parameters
    ----------
    fragments : list of Fragment
        From :func:`parse_excerpt`, non-empty.
    source : str
        The file.

    Returns
    -------
    Fragment
    """
    first = fragments[0]
    merged = Fragment(kind=first.kind, source=source, release=first.release, epoch=first.epoch)
    extra: dict[str, Any] = dict(first.extra or {})
    extra["warnings"] = []
    others: list[Fragment] = []
    for frag in fragments:
        extra["warnings"].extend((frag.extra or {}).get("warnings", []))
        have = [f for f in _TABLE_FIELDS if _present(getattr(frag, f))]
        if frag is not first and "pgs" in have and _present(merged.pgs):
            extra["warnings"].append(_second_pg_table(merged, frag, source))
            continue
        if frag is not first and (not have or any(_present(getattr(merged, f)) for f in have)):
            others.append(frag)
            continue
        for f in have:
            setattr(merged, f, getattr(frag, f))
        if frag is not first:
            for k, v in (frag.extra or {}).items():
                extra.setdefault(k, v)
    if others:
        extra["other_blocks"] = others
    extra["excerpt"] = True
    merged.extra = extra
    return merged


def _second_pg_table(merged: Fragment, frag: Fragment, source: str) -> str:
    """A second PG table in one file (two dumps pasted together): an error unless it repeats the first.

    Returns the warning for a repeat (the same PGs, or some of them, with the same up/acting sets).
    """
    line = (frag.extra or {}).get("excerpt_line")
    first_line = (merged.extra or {}).get("excerpt_line") or 1
    cols = [c for c in ("pgid", "up", "acting") if c in merged.pgs.columns and c in frag.pgs.columns]
    a = merged.pgs[cols].drop_duplicates("pgid").set_index("pgid")
    b = frag.pgs[cols].drop_duplicates("pgid").set_index("pgid")
    extra_pgs = sorted(set(b.index) - set(a.index))
    common = b.index.intersection(a.index)
    differ = [p for p in common if any(a.at[p, c] != b.at[p, c] for c in cols[1:])]
    what = "a second PG table (two dumps pasted into one file?)"
    if differ:
        p = differ[0]
        raise DumpFormatError(f"{what} whose up/acting differ from the table at line {first_line} for {len(differ)} "
                              f"PG(s) (pg {p}: up {_vec(a.at[p, 'up'])} / {_vec(b.at[p, 'up'])}): give each dump "
                              "its own file", source=source, line=line, field="pgid")
    if extra_pgs:
        raise DumpFormatError(f"{what} with {len(extra_pgs)} PG(s) the table at line {first_line} does not have "
                              f"(pg {extra_pgs[0]}): give each dump its own file", source=source, line=line,
                              field="pgid")
    return f"{source}:{line}: {what} repeating {len(b)} PGs of the table at line {first_line} unchanged; ignored"


def _vec(v: Any) -> str:
    return "[" + ",".join(map(str, v)) + "]" if v is not None else "[]"


def _present(v: Any) -> bool:
    if v is None:
        return False
    if hasattr(v, "__len__"):
        return len(v) > 0
    return True
