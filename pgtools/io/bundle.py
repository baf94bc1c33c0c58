"""Read a capture: one file or a folder of dumps, sniffed by content and merged into one Snapshot."""

from __future__ import annotations

import lzma
import re
import tarfile
import warnings
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DumpFormatError, PgtoolsWarning, SnapshotConflictError
from ..model import OSD_COLUMNS, PG_COLUMNS, POOL_COLUMNS, Snapshot, empty_osds, empty_pgs, empty_pools
from ._common import Fragment, decompress, max_input_bytes, read_bytes
from .consistency import PG_KINDS, RELEASES, cross_check
from .derive import derive_pools
from .excerpt import merge_excerpt_fragments, parse_excerpt
from .sniff import PARSER_MODULES, looks_binary, read_binary, read_text

__all__ = ["load", "read_file", "PARSER_MODULES", "merge_fragments"]

#: Which PG table wins when several files carry one (the richest first).
_PG_SOURCE_RANK = {"pg_dump_json": 0, "report": 1, "pg_dump": 2, "pg_ls_json": 3, "pg_ls": 4,
                   "pg_dump_pgs": 5, "pg_dump_pgs_brief_json": 6, "pg_dump_pgs_brief": 7}

_RELEASES = RELEASES

# File names never worth sniffing (tool side files in captures).
_SKIP_SUFFIXES = (".stderr", ".md", ".py", ".sh", ".png", ".html")


def read_file(path: str | Path, *, text: str | None = None, data: bytes | None = None,
              excerpts: bool = True, max_bytes: int | None = None) -> Fragment | None:
    """Parse one file with whichever parser recognises its content.

    Returns None when no parser recognises it.  Raises DumpFormatError when one does but the content is
    malformed.  With ``excerpts`` (default), a file that no parser recognises or whose direct parse fails
    is read again as pasted excerpts (:func:`pgtools.io.excerpt.parse_excerpt`: code fences, prose, prompt
    lines, truncated last rows...); the blocks found are folded into one Fragment
    (:func:`~pgtools.io.excerpt.merge_excerpt_fragments`).  When that finds nothing, the original error
    is raised (or None returned).

    The content is read from ``path`` unless given: ``text`` (already decoded; binary formats are not
    recognised then) or ``data`` (raw bytes, ``.gz``/``.xz`` already decompressed).  Binary formats
    (a binary CRUSH map, :mod:`pgtools.io.crushmap_binary`; a binary osdmap, :mod:`pgtools.io.osdmap_binary`)
    are recognised from the bytes first; other
    binary files are skipped (None).  A file is read up to ``max_bytes`` (see
    :func:`~pgtools.io._common.read_bytes`: 2 GiB, 256 MiB from a pipe or device, or
    ``$PGTOOLS_MAX_INPUT_BYTES``).

    The fragment's ``fsid`` is set when the file states the cluster's (:func:`~pgtools.io.consistency.fsid_of`).
    """
    return _read_file(path, text=text, data=data, excerpts=excerpts, max_bytes=max_bytes)


def _read_file(path: str | Path, *, text: str | None, data: bytes | None, excerpts: bool,
               max_bytes: int | None) -> Fragment | None:
    source = str(path)
    if text is None:
        if data is None:
            data = read_bytes(path, max_bytes=max_bytes)
        if not data.strip():
            return None  # empty or blank: nothing to sniff
        frag = read_binary(data, source)
        if frag is not None:
            return frag
        text = data.decode("utf-8", errors="replace")
    return read_text(text, source, _read_excerpt if excerpts else None)


def _read_excerpt(text: str, source: str, original: DumpFormatError | None) -> Fragment | None:
    """The excerpt fallback of :func:`read_file`: raise ``original`` (or return None) if nothing is found."""
    frags = parse_excerpt(text, source=source)
    if not frags:
        if original is not None:
            raise original
        return None
    return merge_excerpt_fragments(frags, source=source)


def _iter_files(path: Path) -> Iterable[Path]:
    for p in sorted(path.rglob("*")):
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_SKIP_SUFFIXES):
            yield p


def _is_tar(p: Path) -> bool:
    """A tar archive holding at least one member.

    An archive without members is not taken for one: a file of NUL bytes reads as an empty tar (two zero
    blocks end an archive) and must be reported as "not a dump", not as an empty capture.  A compressed
    file that is not a tar, or a corrupt one, is not a tar either: reading it then says what is wrong
    ("cannot decompress").
    """
    try:
        if not tarfile.is_tarfile(p):
            return False
        with tarfile.open(p) as tf:
            return tf.next() is not None
    except (OSError, EOFError, tarfile.TarError, lzma.LZMAError, zlib.error):
        return False


def _iter_tar(p: Path, max_bytes: int | None = None) -> Iterable[tuple[str, bytes]]:
    """Members of a tar archive (``.tar``, ``.tar.gz``, ``.tar.xz``), each bounded like a file."""
    limit = max_input_bytes(max_bytes)
    try:
        with tarfile.open(p) as tf:
            for m in sorted(tf.getmembers(), key=lambda m: m.name):
                base = m.name.rsplit("/", 1)[-1]
                if not m.isfile() or base.startswith(".") or base.endswith(_SKIP_SUFFIXES):
                    continue
                name = f"{p}:{m.name}"
                if m.size > limit:
                    raise DumpFormatError(f"{m.size} bytes: more than {limit} bytes, the input limit (set "
                                          "PGTOOLS_MAX_INPUT_BYTES or load(max_bytes=) to read more)", source=name)
                f = tf.extractfile(m)
                if f is None:
                    continue
                yield name, decompress(f.read(), limit=limit, source=name)
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as e:
        raise DumpFormatError(f"cannot read archive: {e}", source=str(p)) from None


def load(path: str | Path | Iterable[str | Path], *, on_conflict: str = "raise",
         max_bytes: int | None = None) -> Snapshot:
    """Load a capture into a :class:`~pgtools.model.Snapshot`.

    Parameters
    ----------
    path : path-like or iterable of path-likes
        A dump file (any supported format), a folder of dumps or a ``.tar.gz`` of one (a capture or
        ``pgtools collect`` bundle; every file is sniffed by content, unrecognised files are skipped and
        listed in ``snap.meta["skipped"]``, why in ``snap.meta["skipped_reasons"]``), or several of these.
    on_conflict : {"raise", "warn"}
        What to do when files contradict each other (different clusters, osdmap epochs or releases, PGs of
        pools or on OSDs the osdmap does not have, different up sets for a PG; see
        :mod:`pgtools.io.consistency`): raise :class:`~pgtools.errors.SnapshotConflictError` (default) or
        warn and keep the first.  Soft disagreements (a PG map a few epochs behind the osdmap, fewer PGs
        than pg_num) are always warnings (``snap.warnings``).
    max_bytes : int, optional
        Read at most this many bytes from one file, and decompress one file to at most this many bytes.
        Default: ``$PGTOOLS_MAX_INPUT_BYTES``, else 2 GiB for a regular file and 256 MiB for a pipe or
        device (``/dev/stdin``); more is a DumpFormatError naming the file.

    Returns
    -------
    Snapshot

    Raises
    ------
    DumpFormatError
        A file is malformed or too large; a file given explicitly is in no supported format or contributes
        nothing (no PG, pool, OSD, CRUSH, health or config data); a folder or archive holds nothing usable
        (the message lists what was skipped and why).
    SnapshotConflictError
        Files describe different cluster states and ``on_conflict="raise"``.

    Examples
    --------
    >>> snap = pgtools.load("sample_dumps/seedlike_max300")          # doctest: +SKIP
    >>> snap.pgs[["pgid", "up", "acting"]].head()                      # doctest: +SKIP
    """
    if on_conflict not in ("raise", "warn"):
        raise ValueError("on_conflict must be 'raise' or 'warn'")
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    fragments: list[Fragment] = []
    skipped: list[tuple[str, str]] = []
    broken: list[str] = []
    for p in paths:
        p = Path(p)
        found: list[Fragment] = []
        skipped_here: list[tuple[str, str]] = []
        if p.is_dir():
            members = ((str(f), None) for f in _iter_files(p))
        elif p.is_file() and _is_tar(p):
            members = _iter_tar(p, max_bytes)
        elif p.exists():
            frag = read_file(p, max_bytes=max_bytes)
            if frag is None:
                raise DumpFormatError(f"not a dump format pgtools recognises ({_why_skipped(p, None)})",
                                      source=str(p))
            if not _contributes(frag):
                raise DumpFormatError(f"{_kind_label(frag)} with nothing pgtools can use ({_empty_why(frag)})",
                                      source=str(p))
            fragments.append(frag)
            continue
        else:
            raise DumpFormatError("no such file or folder", source=str(p))
        for name, raw in members:
            try:
                frag = read_file(name, data=raw, max_bytes=max_bytes)
            except DumpFormatError as e:
                if not e.message.startswith("invalid JSON"):
                    raise
                # a JSON file that does not decode is skipped with a warning: a folder may hold other JSON
                # (tool side files), and a cut dump must not pass unnoticed
                skipped_here.append((name, e.message))
                broken.append(str(e))
                continue
            if frag is None:
                skipped_here.append((name, _why_skipped(name, raw)))
            elif frag.kind != "collect_meta" and not _contributes(frag):
                skipped_here.append((name, f"{_kind_label(frag)} with nothing usable ({_empty_why(frag)})"))
            else:
                found.append(frag)
        if not any(f.kind != "collect_meta" for f in found):
            raise DumpFormatError(_nothing_usable(found, skipped_here), source=str(p))
        fragments += found
        skipped += skipped_here
    for b in broken:
        warnings.warn(f"{b}: skipped", PgtoolsWarning, stacklevel=2)
    snap = merge_fragments(fragments, on_conflict=on_conflict)
    snap.meta["skipped"] = [name for name, _why in skipped]
    snap.meta["skipped_reasons"] = dict(skipped)
    snap.meta["warnings"][:0] = [f"{b}: skipped" for b in broken]
    return snap


_BOOKKEEPING = {"warnings", "notes", "pgmap_version", "stamp", "last_pg_scan", "last_osdmap_epoch", "pg_ready",
                "pg_sum", "osd_sum"}


def _contributes(frag: Fragment) -> bool:
    """Whether a parsed file holds anything a snapshot uses (a PG dump must hold PGs)."""
    tables = (frag.pgs, frag.pools, frag.osds, frag.pool_stats, frag.osd_stats)
    if any(t is not None and len(t) for t in tables) or frag.crush is not None:
        return True
    if frag.kind in PG_KINDS:
        return False
    if frag.osdmap or frag.health or frag.config:
        return True
    return any(_nonempty(v) for k, v in (frag.extra or {}).items() if k not in _BOOKKEEPING)


def _nonempty(v: Any) -> bool:
    if v is None:
        return False
    try:
        return len(v) > 0
    except TypeError:  # a number, a bool: a stated value
        return True


def _kind_label(frag: Fragment) -> str:
    return frag.kind.replace("_", " ")


def _empty_why(frag: Fragment) -> str:
    warns = (frag.extra or {}).get("warnings") or []
    if frag.kind in PG_KINDS:
        return "no PG rows" + (f"; {warns[0]}" if warns else "")
    return "no rows" + (f"; {warns[0]}" if warns else "")


def _why_skipped(name: str | Path, raw: bytes | None) -> str:
    """Why a file was not recognised, in a few words."""
    if raw is None:
        try:
            raw = read_bytes(name)
        except DumpFormatError as e:
            return e.message
    if not raw.strip():
        return "empty"
    text = raw[:4096].decode("utf-8", errors="replace")
    if looks_binary(text):
        return "binary, not a CRUSH map"
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if re.match(r"(Error|error|\[errno|ERROR)", first) or "Error E" in first:
        return f"an error message: {first[:100]!r}"
    return f"not a format pgtools recognises, starts {first[:60]!r}"


def _nothing_usable(found: list[Fragment], skipped: list[tuple[str, str]]) -> str:
    """The message of a folder or archive in which nothing usable was found."""
    parts = []
    failed = [r for f in found if f.kind == "collect_meta" for r in (f.extra or {}).get("records", [])
              if r.get("status")]
    if failed:
        first = failed[0]
        why = f"status {first.get('status')}" + (f": {str(first.get('stderr'))[:100]}" if first.get("stderr") else "")
        parts.append(f"{len(failed)} command(s) failed, "
                     + ", ".join(f"`{r.get('command')}`" for r in failed[:3])
                     + (f" (+{len(failed) - 3} more)" if len(failed) > 3 else "") + f", the first with {why}")
    if skipped:
        parts.append("skipped: " + "; ".join(f"{Path(n).name}: {why}" for n, why in skipped[:8])
                     + (f" (+{len(skipped) - 8} more)" if len(skipped) > 8 else ""))
    if not parts:
        parts.append("no files")
    return "no recognised dump here (" + "; ".join(parts) + "); add e.g. `ceph pg dump -f json` and `ceph osd dump -f json`"


def _release_key(r: str | None) -> tuple[int, int]:
    """Order release labels: exact names beat lower bounds (``"octopus+"``) of the same release."""
    if not r:
        return (-1, -1)
    base = r.rstrip("+")
    idx = _RELEASES.index(base) if base in _RELEASES else -1
    return (idx, 0 if r.endswith("+") else 1)


def _combine(frames: list[pd.DataFrame], key: str) -> pd.DataFrame | None:
    """Merge row tables on ``key``: earlier frames win, later ones fill their gaps and add rows.

    The result is ``DataFrame.combine_first`` of the frames in turn (indexed by ``key``, duplicate keys
    dropped), computed by :func:`_combine_first`.
    """
    frames = [f for f in frames if f is not None and len(f.columns)]
    if not frames:
        return None
    out = frames[0].set_index(key)
    for f in frames[1:]:
        other = f.set_index(key)
        other = other[~other.index.duplicated()]
        out = out[~out.index.duplicated()]
        out = _combine_first(out, other) if len(out) else other.copy()
    return out.reset_index()


def _combine_first(out: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """``out.combine_first(other)``, with pandas' work done only on the columns where ``other`` changes something.

    ``combine_first`` treats every column on its own (its index is ``out.index`` when the two are equal, else
    ``Index.join(how="outer")``; its columns are ``out``'s then ``other``'s new ones), at a fixed cost per
    column that dominated loading a capture.  When both frames hold the same unique keys:

    - a column of ``out`` that ``other`` lacks, or where ``other`` holds only missing values, or that has no
      missing value and the same dtype in both, comes out as it is in ``out``;
    - a column only ``other`` has comes out as ``combine_first`` makes it: all missing values, as float NaNs;
      else a NumPy-typed column goes through the DataFrame constructor as an array (so an object column of
      strings becomes ``str``), another as is;
    - only the remaining columns go through ``combine_first``.

    Anything else (new or missing keys, duplicate column names, index dtypes that differ, missing keys) is
    ``combine_first`` itself.
    """
    same_index = out.index.equals(other.index)
    joined = out.index if same_index else out.index.join(other.index, how="outer")
    if not (len(out.columns) and len(other) and len(joined) == len(out) == len(other)
            and out.index.dtype == other.index.dtype and not out.index.hasnans
            and out.columns.is_unique and other.columns.is_unique):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return out.combine_first(other)
    if not same_index:  # the same keys in another order: both in the order combine_first gives
        out, other = out.reindex(joined), other.reindex(joined)
    common = [c for c in out.columns if c in other.columns]
    out_na = out[common].isna().any()
    other_all_na = other.isna().all()
    work = [c for c in common if not other_all_na[c] and (out_na[c] or out[c].dtype != other[c].dtype)]
    cols: dict[Any, Any] = {c: out[c] for c in out.columns}
    if work:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            part = out[work].combine_first(other[work])
        cols.update((c, part[c]) for c in work)
    for c in other.columns:
        if c not in cols:
            v = other[c]
            if other_all_na[c]:  # combine_first keeps the all-missing column its alignment added
                cols[c] = np.full(len(joined), np.nan)
            else:
                cols[c] = v.to_numpy() if isinstance(v.dtype, np.dtype) else v
    return pd.DataFrame(cols, index=joined)


def _order_columns(df: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    cols = [c for c in first if c in df.columns] + [c for c in df.columns if c not in first]
    return df[cols]


def _pg_conflicts(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    m = a[["pgid", "up", "acting"]].merge(b[["pgid", "up", "acting"]], on="pgid", suffixes=("_a", "_b"))
    bad = m[(m.up_a != m.up_b) | (m.acting_a != m.acting_b)]
    return list(bad.pgid[:5]) + (["..."] if len(bad) > 5 else []) if len(bad) else []


#: Weight tolerance (16.16 units per device) between a binary map and crushtool's text of it printed with 5
#: decimals (the float32 read-back drift; see CrushMap.differences).  Fewer decimals widen it: see _text_tolerance.
_TEXT_WEIGHT_TOLERANCE = 2


def _text_tolerance(frag: Fragment) -> int:
    """Per-device weight tolerance of a crushtool text map: half a unit of its last printed decimal, plus drift.

    crushtool 16.2.15 prints weights with 3 decimals (1.819 for 119236/65536, off by up to 33/65536), older
    releases 5; the text parser records the fewest decimals it saw (``extra["weight_decimals"]``).
    """
    decimals = (frag.extra or {}).get("weight_decimals")
    if decimals is None or decimals >= 5:
        return _TEXT_WEIGHT_TOLERANCE
    return int(-(-0x10000 // (2 * 10 ** decimals))) + _TEXT_WEIGHT_TOLERANCE


def _pick_crush(fragments: list[Fragment]) -> tuple[Any, list[str]]:
    """The CRUSH map of a capture, and the conflicts found on the way.

    A binary map (the one a binary osdmap embeds, else ``crushmap_binary``) wins: it is the most exact input (stored straws and tree node
    weights, exact choose_args weights).  Every other CRUSH map of the capture (``osd crush dump``,
    ``ceph report``, crushtool text, another binary) must then describe the same map
    (:meth:`~pgtools.crush.CrushMap.differences`: buckets, items, weights, rules, tunables, device
    classes, choose_args), else it is a conflict.  A crushtool text map is compared as far as it is exact:
    weights within half a unit of the last decimal it prints (3 for crushtool 16.2.15, 5 before; see
    :func:`_text_tolerance`), shadow buckets (which pgtools rebuilds from the declared ids) left out.
    Without a binary map the first CRUSH map found is used, as before.
    """
    frags = [f for f in fragments if f.crush is not None]
    if not frags:
        return None, []
    binary = sorted((f for f in frags if f.kind in ("osdmap_binary", "crushmap_binary")),
                    key=lambda f: f.kind != "osdmap_binary")
    if not binary:
        return frags[0].crush, []
    chosen = binary[0]
    conflicts = []
    for other in frags:
        if other is chosen:
            continue
        exact = other.kind in ("osdmap_binary", "crushmap_binary", "crush_dump", "report")
        diff = chosen.crush.differences(other.crush, weight_tolerance=0 if exact else _text_tolerance(other),
                                        shadows=exact)
        if diff:
            conflicts.append(f"{chosen.source} and {other.source} are different CRUSH maps: {'; '.join(diff)}")
    return chosen.crush, conflicts


def _located(warning: str, source: str | None) -> str:
    """``warning`` as ``file:line: what`` (parsers say ``line N: what`` or already name the file)."""
    if not source or warning.startswith(f"{source}:"):
        return warning
    m = re.match(r"line (\d+): ", warning)
    return f"{source}:{m.group(1)}: {warning[m.end():]}" if m else f"{source}: {warning}"


def merge_fragments(fragments: list[Fragment], *, on_conflict: str = "raise") -> Snapshot:
    """Merge parsed fragments into one Snapshot (see :func:`load`)."""
    conflicts: list[str] = []

    # PGs: the richest source wins; others are checked against it
    pg_frags = sorted((f for f in fragments if f.pgs is not None and len(f.pgs)),
                      key=lambda f: _PG_SOURCE_RANK.get(f.kind, 50))
    if pg_frags:
        pgs = pg_frags[0].pgs.copy()
        for other in pg_frags[1:]:
            diff = _pg_conflicts(pgs, other.pgs)
            if diff:
                conflicts.append(f"{other.source} and {pg_frags[0].source} disagree on up/acting of PGs "
                                 f"{', '.join(diff)}")
    else:
        pgs = empty_pgs()

    # a binary osdmap is the most exact osdmap input: its pools and osdmap facts come first
    by_exactness = sorted(fragments, key=lambda f: f.kind != "osdmap_binary")
    pools = _combine([f.pools for f in by_exactness if f.pools is not None], "pool_id")
    if pools is None:
        pools = empty_pools()
    # OSD facts: osdmap state first, then CRUSH/tree placement, then usage tables
    osd_order = {"osdmap_binary": -1, "osd_dump": 0, "report": 1, "osd_tree": 2, "crushmap_binary": 3, "crush_dump": 4,
                 "crushmap_text": 5, "osd_df": 6}
    osd_frags = sorted((f for f in fragments if f.osds is not None and len(f.osds)),
                       key=lambda f: osd_order.get(f.kind, 9))
    osds = _combine([f.osds for f in osd_frags], "osd_id")
    if osds is None:
        osds = empty_osds()

    pool_stats = _combine([f.pool_stats for f in fragments if f.pool_stats is not None], "pool_id")
    osd_stats = _combine([f.osd_stats for f in fragments if f.osd_stats is not None], "osd_id")

    crush, crush_conflicts = _pick_crush(fragments)
    conflicts += crush_conflicts
    osdmap: dict[str, Any] = {}
    for f in by_exactness:
        if f.osdmap:
            for k, v in f.osdmap.items():
                osdmap.setdefault(k, v)
    health = next((f.health for f in fragments if f.health), None)
    config: dict[str, str] = {}
    for f in fragments:
        if f.config:
            for k, v in f.config.items():
                config.setdefault(k, v)
    release = max((f.release for f in fragments if f.release), key=_release_key, default=None)

    # pool names where only usage tables know them
    if "pool" not in pools.columns or pools["pool"].isna().any():
        if pool_stats is not None and "pool" in pool_stats.columns:
            names = pool_stats.set_index("pool_id")["pool"]
            if len(pools):
                pools["pool"] = pools["pool"].fillna(pools.pool_id.map(names)) if "pool" in pools else \
                    pools.pool_id.map(names)
    # pools known only from PG ids (no osd dump): pg_num, size... derived from the PGs, each assumption a warning
    pools, derived_warnings = derive_pools(pools, pgs, pool_stats)
    pools = _order_columns(pools.sort_values("pool_id").reset_index(drop=True), POOL_COLUMNS)
    if len(pools):
        pools["pool_id"] = pools["pool_id"].astype("int64")
        for c in ("size", "min_size", "pg_num", "pgp_num"):
            if c in pools.columns and not pools[c].isna().any():
                pools[c] = pools[c].astype("int64")

    # the files against each other (pgtools.io.consistency)
    checked, soft, epoch = cross_check(fragments, pgs, pools, pg_frags[0].source if pg_frags else None)
    conflicts = checked + conflicts

    # pool names on PGs
    names = pools.set_index("pool_id")["pool"] if "pool" in pools.columns else pd.Series(dtype=object)
    if len(pgs):
        pgs["pool"] = pgs.pool_id.map(names).fillna("").astype(str)
        pgs = _order_columns(pgs, PG_COLUMNS)
        pgs = pgs.reset_index(drop=True)

    osds = _order_columns(osds.sort_values("osd_id").reset_index(drop=True), OSD_COLUMNS) if len(osds) \
        else osds
    if len(osds):
        osds["osd_id"] = osds["osd_id"].astype("int64")
        if "name" not in osds.columns or osds["name"].isna().any():
            osds["name"] = [f"osd.{i}" for i in osds.osd_id]
        for c in ("exists", "up", "in"):
            if c in osds.columns and not osds[c].isna().any():
                osds[c] = osds[c].astype(bool)
        for c in ("crush_weight", "reweight", "primary_affinity"):
            if c in osds.columns:
                osds[c] = pd.to_numeric(osds[c], errors="coerce").astype("float64")

    meta: dict[str, Any] = {
        "release": release,
        "epoch": epoch,
        "sources": [(f.source, f.kind) for f in fragments],
        "extra": {f.kind: f.extra for f in fragments if f.extra},
        "conflicts": conflicts,
        "warnings": [_located(w, f.source) for f in fragments for w in (f.extra or {}).get("warnings", [])]
        + derived_warnings + soft,
        "fsid": next((f.fsid for f in fragments if f.fsid), None),
    }
    if conflicts and on_conflict == "raise":
        raise SnapshotConflictError(_conflict_message(conflicts))
    if conflicts:
        meta["warnings"].append("; ".join(conflicts))
    for w in meta["warnings"]:
        warnings.warn(w, PgtoolsWarning, stacklevel=3)
    return Snapshot(pgs=pgs, pools=pools, osds=osds, crush=crush, osdmap=osdmap, health=health,
                    config=config, meta=meta, pool_stats=pool_stats, osd_stats=osd_stats)


def _conflict_message(conflicts: list[str], shown: int = 2) -> str:
    """The first ``shown`` conflicts (the decisive ones come first: fsid, release, epoch) and how many more.

    Two clusters' files disagree on nearly everything; one line listing it all runs to thousands of characters.
    The error keeps the line readable; ``load(..., on_conflict="warn")`` lists every conflict in the warnings.
    """
    more = len(conflicts) - shown
    return "; ".join(conflicts[:shown]) + (
        f"; and {more} more disagreement{'s' if more > 1 else ''} (pgtools.load(..., on_conflict='warn') lists "
        "them all)" if more > 0 else "")

