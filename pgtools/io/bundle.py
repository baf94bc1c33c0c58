"""Read a capture: one file or a folder of dumps, sniffed by content and merged into one Snapshot."""

from __future__ import annotations

import importlib
import lzma
import re
import tarfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd

from ..errors import DumpFormatError, PgtoolsWarning, SnapshotConflictError
from ..model import OSD_COLUMNS, PG_COLUMNS, POOL_COLUMNS, Snapshot, empty_osds, empty_pgs, empty_pools
from ._common import Fragment, decompress, loads_json, read_bytes

__all__ = ["load", "read_file", "PARSER_MODULES", "merge_fragments"]

#: Parser modules in sniffing order: the most specific formats first.
PARSER_MODULES = [
    "report",
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
    "pg_dump_plain",
    "pg_ls_plain",
]

#: Which PG table wins when several files carry one (the richest first).
_PG_SOURCE_RANK = {"pg_dump_json": 0, "report": 1, "pg_dump": 2, "pg_ls_json": 3, "pg_ls": 4,
                   "pg_dump_pgs": 5, "pg_dump_pgs_brief_json": 6, "pg_dump_pgs_brief": 7}

_RELEASES = ["hammer", "jewel", "kraken", "luminous", "mimic", "nautilus", "octopus", "pacific", "quincy",
             "reef", "squid", "tentacle"]

# File names never worth sniffing (tool side files in captures).
_SKIP_SUFFIXES = (".stderr", ".md", ".py", ".sh", ".png", ".html")


def _modules() -> list[tuple[str, ModuleType]]:
    mods = []
    for name in PARSER_MODULES:
        try:
            mods.append((name, importlib.import_module(f"pgtools.io.{name}")))
        except ModuleNotFoundError as e:  # a format not implemented in this build
            if e.name != f"pgtools.io.{name}":
                raise
    return mods


def _looks_binary(text: str) -> bool:
    head = text[:4096]
    return "\x00" in head or head.count("\ufffd") > 8


def _read_binary(data: bytes, source: str) -> Fragment | None:
    """The Fragment of a binary format a parser module recognises (``sniff_bytes``), else None."""
    for _name, mod in _modules():
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


def read_file(path: str | Path, *, text: str | None = None, data: bytes | None = None,
              excerpts: bool = True) -> Fragment | None:
    """Parse one file with whichever parser recognises its content.

    Returns None when no parser recognises it.  Raises DumpFormatError when one does but the content is
    malformed.  With ``excerpts`` (default), a file that no parser recognises or whose direct parse fails
    is read again as pasted excerpts (:func:`pgtools.io.excerpt.parse_excerpt`: code fences, prose, prompt
    lines, truncated last rows...); the blocks found are folded into one Fragment
    (:func:`~pgtools.io.excerpt.merge_excerpt_fragments`).  When that finds nothing, the original error
    is raised (or None returned).

    The content is read from ``path`` unless given: ``text`` (already decoded; binary formats are not
    recognised then) or ``data`` (raw bytes, ``.gz``/``.xz`` already decompressed).  Binary formats
    (a binary CRUSH map, :mod:`pgtools.io.crushmap_binary`) are recognised from the bytes first; other
    binary files are skipped (None).
    """
    source = str(path)
    if text is None:
        if data is None:
            data = read_bytes(path)
        frag = _read_binary(data, source)
        if frag is not None:
            return frag
        text = data.decode("utf-8", errors="replace")
    if _looks_binary(text):
        return None
    obj = None
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            obj = loads_json(text, source=source)
        except DumpFormatError:
            obj = None
    if isinstance(obj, dict) and {"commands", "records", "epoch_before"} <= set(obj):
        return Fragment(kind="collect_meta", source=source, extra=obj)
    for _name, mod in _modules():
        try:
            hit = mod.sniff(text, obj)
        except Exception:  # a sniffer must never break loading
            hit = False
        if hit:
            if not excerpts:
                return mod.parse(text, source=source, obj=obj)
            try:
                return mod.parse(text, source=source, obj=obj)
            except DumpFormatError as original:
                return _read_excerpt(text, source, original)
    return _read_excerpt(text, source, None) if excerpts else None


def _read_excerpt(text: str, source: str, original: DumpFormatError | None) -> Fragment | None:
    """The excerpt fallback of :func:`read_file`: raise ``original`` (or return None) if nothing is found."""
    from .excerpt import merge_excerpt_fragments, parse_excerpt

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
    try:
        return tarfile.is_tarfile(p)
    except OSError:
        return False


def _iter_tar(p: Path) -> Iterable[tuple[str, bytes]]:
    try:
        with tarfile.open(p) as tf:
            for m in sorted(tf.getmembers(), key=lambda m: m.name):
                base = m.name.rsplit("/", 1)[-1]
                if not m.isfile() or base.startswith(".") or base.endswith(_SKIP_SUFFIXES):
                    continue
                f = tf.extractfile(m)
                if f is None:
                    continue
                yield f"{p}:{m.name}", decompress(f.read())
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError) as e:
        raise DumpFormatError(f"cannot read archive: {e}", source=str(p)) from None


def load(path: str | Path | Iterable[str | Path], *, on_conflict: str = "raise") -> Snapshot:
    """Load a capture into a :class:`~pgtools.model.Snapshot`.

    Parameters
    ----------
    path : path-like or iterable of path-likes
        A dump file (any supported format), a folder of dumps or a ``.tar.gz`` of one (a capture or
        ``pgtools collect`` bundle; every file is sniffed by content, unrecognised files are skipped and
        listed in ``snap.meta["skipped"]``), or several of these.
    on_conflict : {"raise", "warn"}
        What to do when files disagree (different osdmap epochs, different up sets for a PG):
        raise :class:`~pgtools.errors.SnapshotConflictError` (default) or warn and keep the first.

    Returns
    -------
    Snapshot

    Raises
    ------
    DumpFormatError
        A file is malformed, or a single file given explicitly is in no supported format.
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
    skipped: list[str] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in _iter_files(p):
                frag = read_file(f)
                if frag is None:
                    skipped.append(str(f))
                else:
                    fragments.append(frag)
        elif p.is_file() and _is_tar(p):
            for name, raw in _iter_tar(p):
                frag = read_file(name, data=raw)
                if frag is None:
                    skipped.append(name)
                else:
                    fragments.append(frag)
        elif p.exists():
            frag = read_file(p)
            if frag is None:
                raise DumpFormatError("not a dump format pgtools recognises", source=str(p))
            fragments.append(frag)
        else:
            raise DumpFormatError("no such file or folder", source=str(p))
    if not fragments:
        raise DumpFormatError("no recognised dump in this folder", source=", ".join(map(str, paths)))
    snap = merge_fragments(fragments, on_conflict=on_conflict)
    snap.meta["skipped"] = skipped
    return snap


def _release_key(r: str | None) -> tuple[int, int]:
    """Order release labels: exact names beat lower bounds (``"octopus+"``) of the same release."""
    if not r:
        return (-1, -1)
    base = r.rstrip("+")
    idx = _RELEASES.index(base) if base in _RELEASES else -1
    return (idx, 0 if r.endswith("+") else 1)


def _combine(frames: list[pd.DataFrame], key: str) -> pd.DataFrame | None:
    """Merge row tables on ``key``: earlier frames win, later ones fill their gaps and add rows."""
    frames = [f for f in frames if f is not None and len(f.columns)]
    if not frames:
        return None
    out = frames[0].set_index(key)
    for f in frames[1:]:
        other = f.set_index(key)
        other = other[~other.index.duplicated()]
        out = out[~out.index.duplicated()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            out = out.combine_first(other) if len(out) else other.copy()
    return out.reset_index()


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

    A binary map (``crushmap_binary``) wins: it is the most exact input (stored straws and tree node
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
    binary = [f for f in frags if f.kind == "crushmap_binary"]
    if not binary:
        return frags[0].crush, []
    chosen = binary[0]
    conflicts = []
    for other in frags:
        if other is chosen:
            continue
        exact = other.kind in ("crushmap_binary", "crush_dump", "report")
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

    # epochs
    epochs = {}
    for f in fragments:
        if f.epoch:
            epochs.setdefault(int(f.epoch), []).append(f.source)
    if len(epochs) > 1:
        desc = "; ".join(f"epoch {e}: {', '.join(s)}" for e, s in sorted(epochs.items()))
        conflicts.append(f"files come from different osdmap epochs ({desc})")
    epoch = max(epochs) if epochs else None

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

    pools = _combine([f.pools for f in fragments if f.pools is not None], "pool_id")
    if pools is None:
        pools = empty_pools()
    # OSD facts: osdmap state first, then CRUSH/tree placement, then usage tables
    osd_order = {"osd_dump": 0, "report": 1, "osd_tree": 2, "crushmap_binary": 3, "crush_dump": 4, "crushmap_text": 5,
                 "osd_df": 6}
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
    for f in fragments:
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
    # pools known only from PG ids
    if not len(pools) and len(pgs):
        ids = sorted(pgs.pool_id.unique())
        pools = pd.DataFrame({"pool_id": ids, "pool": [str(i) for i in ids]})
    pools = _order_columns(pools.sort_values("pool_id").reset_index(drop=True), POOL_COLUMNS)
    if len(pools):
        pools["pool_id"] = pools["pool_id"].astype("int64")
        for c in ("size", "min_size", "pg_num", "pgp_num"):
            if c in pools.columns and not pools[c].isna().any():
                pools[c] = pools[c].astype("int64")

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
        "warnings": [_located(w, f.source) for f in fragments for w in (f.extra or {}).get("warnings", [])],
    }
    if conflicts and on_conflict == "raise":
        raise SnapshotConflictError("; ".join(conflicts))
    if conflicts:
        meta["warnings"].append("; ".join(conflicts))
    for w in meta["warnings"]:
        warnings.warn(w, PgtoolsWarning, stacklevel=3)
    return Snapshot(pgs=pgs, pools=pools, osds=osds, crush=crush, osdmap=osdmap, health=health,
                    config=config, meta=meta, pool_stats=pool_stats, osd_stats=osd_stats)


