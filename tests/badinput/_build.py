"""Building bad inputs in a temporary folder from real captures (sample_dumps/, /work/shared/data).

A case's files are a mapping ``name -> builder``; a builder is a callable returning the file's bytes (or
:data:`DIR` for an empty folder).  Sources are named with a prefix: ``S:`` sample_dumps, ``R:`` the real
Pacific capture, ``C:`` the CRUSH oracle cases, ``P:`` public dumps; ``.gz`` sources are decompressed.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable
from functools import cache
from pathlib import Path

from tests.paths import CRUSH_CASES, PUBLIC, REAL, SAMPLE_DUMPS

DIR = object()  #: builder result: make an empty folder
Builder = Callable[[], "bytes | object"]

_ROOTS = {"S": SAMPLE_DUMPS, "R": REAL, "C": CRUSH_CASES, "P": PUBLIC}


def path_of(ref: str) -> Path:
    root, rel = ref.split(":", 1)
    return _ROOTS[root] / rel


@cache
def raw(ref: str) -> bytes:
    """The bytes of a source file (decompressed)."""
    data = path_of(ref).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def have(ref: str) -> bool:
    return path_of(ref).exists()


def src(ref: str) -> Builder:
    return lambda: raw(ref)


def cut(ref: str, frac: float) -> Builder:
    """The first ``frac`` of the file's bytes (cut mid-line, as a dropped connection does)."""
    def build() -> bytes:
        data = raw(ref)
        n = int(len(data) * frac)
        # never end exactly at a line break: a cut file ends mid-row
        while n > 1 and data[n - 1:n] == b"\n":
            n -= 1
        return data[:n]
    return build


def head(ref: str, n_lines: int) -> Builder:
    """The first ``n_lines`` lines (whole lines: a cut at a line boundary)."""
    return lambda: b"".join(raw(ref).splitlines(keepends=True)[:n_lines])


def concat(*builders: Builder) -> Builder:
    """The files one after the other (two dumps pasted into one file)."""
    return lambda: b"".join(b() for b in builders)


def text(s: str | bytes) -> Builder:
    return lambda: s.encode() if isinstance(s, str) else s


def junk(n: int, seed: int = 0) -> Builder:
    return lambda: random.Random(seed).randbytes(n)


def json_edit(ref: str, edit: Callable[[object], object]) -> Builder:
    """The JSON source decoded, changed by ``edit`` (which may modify in place and return None), re-encoded."""
    def build() -> bytes:
        obj = json.loads(raw(ref).decode())
        out = edit(obj)
        return json.dumps(obj if out is None else out).encode()
    return build


def sub(ref: str, old: str, new: str, count: int = 1) -> Builder:
    """The source with ``old`` replaced by ``new`` (``count`` times); fails loudly if ``old`` is absent."""
    def build() -> bytes:
        t = raw(ref).decode()
        if old not in t:
            raise AssertionError(f"{old!r} not in {ref}")
        return t.replace(old, new, count).encode()
    return build


def materialize(tmp: Path, files: dict[str, Builder]) -> None:
    """Write every file of a case under ``tmp`` (folders created as needed)."""
    for name, build in files.items():
        p = tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        data = build()
        if data is DIR:
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.write_bytes(data)


def cut_line(ref: str, line: int, keep: int) -> Builder:
    """The first ``line`` whole lines and the first ``keep`` characters of the next one (``keep < 0``: all of
    it but the last ``-keep`` characters before its line break)."""
    def build() -> bytes:
        lines = raw(ref).splitlines(keepends=True)
        nxt = lines[line].rstrip(b"\r\n")
        return b"".join(lines[:line]) + nxt[:keep]
    return build
