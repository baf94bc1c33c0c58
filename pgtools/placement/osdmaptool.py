"""Text identical, byte for byte, to what Ceph 16.2's ``osdmaptool`` prints for its PG-mapping tests.

``osdmaptool <map> --test-map-pgs-dump-all`` / ``--test-map-pgs-dump`` / ``--test-map-pgs``
(with ``--pool P``, ``--pg_num N``, ``--mark-out O``) and ``--test-map-pg X``, reproduced from a
:class:`~pgtools.model.Snapshot` (pools, OSDs, osdmap tables, CRUSH map) with :mod:`pgtools.placement`.

Formatting rules taken from ``src/tools/osdmaptool.cc`` and Ceph's ``operator<<`` for vectors:

* an OSD vector prints as ``[a,b,c]`` (no spaces), a hole as ``2147483647``;
* a pg id prints as ``<pool>.<ps in lowercase hex>``;
* floats print like C++ ``ostream`` defaults (``%g`` with 6 significant digits);
* ``avg`` is an integer division; the stddev sums ``(avg - count)**2`` over the listed OSDs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import NONE, Snapshot
from .mapping import PGMapping, PoolMapping
from .objects import map_object
from .osdmap import compile_snapshot
from .whatif import adjust_crush_weight as adjust_crush_weight_
from .whatif import mark_in, mark_up, with_pg_num
from .whatif import mark_out as mark_out_

__all__ = [
    "format_vector",
    "format_float",
    "format_dump_all_line",
    "render_test_map_pgs",
    "render_test_map_pg",
    "render_test_map_object",
    "osdmaptool",
    "parse_osdmaptool_args",
    "osdmaptool_output",
    "NoSuchPool",
]


class NoSuchPool(PgtoolsError):
    """osdmaptool's ``There is no pool N`` (stderr, exit status 1); ``stdout`` is what it printed before."""

    def __init__(self, pool: int, stdout: str = "") -> None:
        super().__init__(f"There is no pool {pool}")
        self.pool = pool
        self.stdout = stdout


def format_vector(osds: Iterable[int]) -> str:
    """Ceph's ``operator<<(ostream&, vector<int>)``: ``[1,2,2147483647]``."""
    return "[" + ",".join(str(int(o)) for o in osds) + "]"


def format_float(x: float) -> str:
    """A double as C++ ``ostream << double`` prints it with default flags (``%g``, precision 6)."""
    if math.isnan(x):
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def _pgid(pool_id: int, ps: int) -> str:
    return f"{pool_id}.{ps:x}"


def format_dump_all_line(m: PGMapping) -> str:
    """One ``--test-map-pgs-dump-all`` line (without newline)."""
    return (f"{_pgid(m.pool_id, m.ps)} raw ({format_vector(m.raw)}, p{m.raw_primary}) "
            f"up ({format_vector(m.up)}, p{m.up_primary}) "
            f"acting ({format_vector(m.acting)}, p{m.acting_primary})")


def _first_bucket_weights(crush: object) -> dict[int, int]:
    """``CrushWrapper::get_item_weight`` for every item: its weight in the first bucket (id -1, -2, ...) holding it."""
    out: dict[int, int] = {}
    buckets = getattr(crush, "buckets", None) or {}
    for bid in sorted(buckets, reverse=True):
        b = buckets[bid]
        for it, w in zip(b.items, b.weights, strict=False):
            out.setdefault(int(it), int(w))
    return out


def mark_up_in(snap: Snapshot, max_osd: int) -> Snapshot:
    """osdmaptool ``--mark-up-in``: OSDs 0..max_osd-1 up and in, and a CRUSH weight of 0 becomes 1.0.

    The weight test looks at the first bucket (id -1, -2, ...) holding the OSD, as
    ``CrushWrapper::get_item_weight`` does, OSD by OSD after the previous ones were raised; an OSD in no
    bucket keeps its (absent) weight.
    """
    ids = range(max_osd)
    snap = mark_in(mark_up(snap, ids), ids)
    # osdmaptool sets the state of every id below max_osd, listed or not: an osdmap made by
    # `osdmaptool --createsimple N` has N OSD slots that do not exist until --mark-up-in (checked with 16.2.15,
    # 18.2.7 and 20.2.4 on Ceph's own om-simple3 / om-racks / om-500 maps)
    osds = snap.osds
    gone = osds["osd_id"].between(0, max_osd - 1) & ~osds["exists"].astype(bool)
    if gone.any():
        osds = osds.copy()
        osds.loc[gone, "exists"] = True
        snap = snap.replace(osds=osds)
    weights = _first_bucket_weights(snap.crush)
    for i in ids:  # one OSD at a time: raising one item of a uniform bucket raises them all
        if weights.get(i) == 0:
            snap = adjust_crush_weight_(snap, {i: 1.0})
            weights = _first_bucket_weights(snap.crush)
    return snap


_mark_all_up_in = mark_up_in  # for osdmaptool(), whose mark_up_in argument shadows the name


def _f32(x: float) -> float:
    return float(np.float32(x))


def _weight_text(w: np.ndarray) -> list[str]:
    """16.16 fixed-point weights as osdmaptool prints them: ``(float)w / (float)0x10000`` in C ``float``."""
    as_float = w.astype(np.float32) / np.float32(0x10000)
    text = {x: format_float(x) for x in set(as_float.tolist())}
    return [text[x] for x in as_float.tolist()]


def _stats_block(snap: Snapshot, counts: np.ndarray, first: np.ndarray, primary: np.ndarray,
                 sizes: dict[int, int], release: str | None = None) -> list[str]:
    c = compile_snapshot(snap, release=release)
    n = c.max_osd
    item_weight = _first_bucket_weights(snap.crush)
    cw = np.array([item_weight.get(i, 0) for i in range(n)], dtype=np.int64)
    weight = np.asarray(c.weight[:n], dtype=np.int64)
    listed = np.nonzero(np.asarray(c.exists[:n], dtype=bool) & (weight != 0) & (cw > 0))[0]
    out = ["#osd\tcount\tfirst\tprimary\tc wt\twt"]
    cnt, fst, pri = counts[listed].tolist(), first[listed].tolist(), primary[listed].tolist()
    out += [f"osd.{i}\t{a}\t{b}\t{p}\t{x}\t{y}" for i, a, b, p, x, y in zip(
        listed.tolist(), cnt, fst, pri, _weight_text(cw[listed]), _weight_text(weight[listed]), strict=True)]
    n_in = len(listed)
    total = int(counts[listed].sum())
    held = listed[counts[listed] > 0]
    min_osd = int(held[np.argmin(counts[held])]) if len(held) else -1  # first of the smallest, as osdmaptool
    max_osd = int(held[np.argmax(counts[held])]) if len(held) else -1
    avg = total // n_in if n_in else 0
    if n_in:
        dev = math.sqrt(float(((avg - counts[listed]) ** 2).sum()) / n_in)
        edev = math.sqrt(total / n_in * (1.0 - 1.0 / n_in))
    else:
        dev = -math.nan
        edev = -math.nan

    def div(a: float, b: int) -> float:
        if b:
            return a / b
        if math.isnan(a) or a == 0:
            return -math.nan
        return math.inf if a > 0 else -math.inf

    out.append(f" in {n_in}")
    out.append(f" avg {avg} stddev {format_float(dev)} ({format_float(div(dev, avg))}x) "
               f"(expected {format_float(edev)} {format_float(div(edev, avg))}x))")
    if min_osd >= 0:
        out.append(f" min osd.{min_osd} {counts[min_osd]}")
    if max_osd >= 0:
        out.append(f" max osd.{max_osd} {counts[max_osd]}")
    for k in sorted(sizes):
        if sizes[k]:
            out.append(f"size {k}\t{sizes[k]}")
    return out


def _vector_texts(pm: PoolMapping, which: str) -> list[str]:
    """Each PG's ``which`` vector as Ceph prints a vector: ``[1,2,2147483647]``."""
    return ["[" + ",".join(map(str, r)) + "]" for r in pm.lists(which)]


def _dump_lines(pm: PoolMapping, mode: str) -> list[str]:
    pgids = pm.pgids().tolist()
    acting = _vector_texts(pm, "acting")
    aprim = pm.acting_primary.tolist()
    if mode == "dump":
        return [f"{g}\t{a}\t{p}" for g, a, p in zip(pgids, acting, aprim, strict=True)]
    raw = _vector_texts(pm, "raw")
    up = raw if pm.up is pm.raw else _vector_texts(pm, "up")
    if pm.acting is pm.up:
        acting = up
    return [f"{g} raw ({r}, p{rp}) up ({u}, p{up_}) acting ({a}, p{ap})" for g, r, rp, u, up_, a, ap in zip(
        pgids, raw, _raw_primaries(pm), up, pm.up_primary.tolist(), acting, aprim, strict=True)]


def _raw_primaries(pm: PoolMapping) -> list[int]:
    """The raw primary osdmaptool prints: the first OSD of the raw vector that is not a hole, else -1."""
    raw = pm.raw
    if raw.shape[1] == 0:
        return [-1] * len(pm)
    ok = (raw != -1) & (raw != NONE)
    first = np.where(ok.any(axis=1), raw[np.arange(len(raw)), ok.argmax(axis=1)], -1)
    return first.tolist()


def render_test_map_pgs(snap: Snapshot, *, mode: str = "stats", pool: int | None = None,
                        pg_num: int | None = None, release: str | None = None) -> str:
    """Output of ``osdmaptool --test-map-pgs`` / ``--test-map-pgs-dump`` / ``--test-map-pgs-dump-all``.

    Parameters
    ----------
    snap : Snapshot
        The cluster state (pools, OSDs, osdmap tables, CRUSH map).
    mode : {"stats", "dump", "dump_all"}
        Which of the three options.
    pool : int, optional
        ``--pool``: only this pool.
    pg_num : int, optional
        ``--pg_num``: override pg_num of the mapped pools (pgp_num unchanged).
    release : str, optional
        Whose osdmaptool to emulate (:func:`~pgtools.placement.compile_snapshot`; None: Reef and later).

    Returns
    -------
    str
        The whole stdout, ending with a newline.
    """
    if mode not in ("stats", "dump", "dump_all"):
        raise ValueError(f"unknown mode {mode!r}")
    c = compile_snapshot(snap, release=release)
    if pool is not None and pool not in c.pools:
        raise NoSuchPool(pool)
    if pg_num is not None and pg_num > 0:
        snap = with_pg_num(snap, pg_num, None if pool is None else [pool])
        c = compile_snapshot(snap, release=release)
    n = c.max_osd
    counts = np.zeros(n, dtype=np.int64)
    first = np.zeros(n, dtype=np.int64)
    primary = np.zeros(n, dtype=np.int64)
    sizes: dict[int, int] = {}
    lines: list[str] = []
    for pid in sorted(c.pools):
        if pool is not None and pid != pool:
            continue
        p = c.pools[pid]
        lines.append(f"pool {pid} pg_num {p.pg_num}")
        pm = c.map_pool_arrays(p)
        if mode != "stats":
            lines += _dump_lines(pm, mode)
        a = pm.acting
        counts += np.bincount(a[(a >= 0) & (a < n)], minlength=n)[:n]
        if a.shape[1]:
            f = a[:, 0]
            first += np.bincount(f[(f >= 0) & (f < n)], minlength=n)[:n]
        ap = pm.acting_primary
        primary += np.bincount(ap[(ap >= 0) & (ap < n)], minlength=n)[:n]
        lengths, num = np.unique(pm.lengths("acting"), return_counts=True)
        for k, v in zip(lengths.tolist(), num.tolist(), strict=True):
            sizes[k] = sizes.get(k, 0) + v
    lines.extend(_stats_block(snap, counts, first, primary, sizes, release))
    return "\n".join(lines) + "\n"


def render_test_map_pg(snap: Snapshot, pgid: str, release: str | None = None) -> str:
    """Output of ``osdmaptool --test-map-pg <pgid>`` (two lines).

    PG ids past ``pg_num`` are accepted and folded the way Ceph does.
    """
    text = pgid.strip()
    pool_s, dot, ps_s = text.partition(".")
    try:
        if not dot:
            raise ValueError
        pool_id, ps = int(pool_s, 10), int(ps_s, 16)
        if pool_id < 0 or ps < 0 or ps > 0xFFFFFFFF:
            raise ValueError
    except ValueError:
        raise PgtoolsError(f"failed to parse pg '{pgid}") from None
    c = compile_snapshot(snap, release=release)
    m = c.pg_to_up_acting_osds(pool_id, ps)
    return f" parsed '{pgid}' -> {_pgid(pool_id, ps)}\n{format_dump_all_line(m)}\n"


def render_test_map_object(snap: Snapshot, name: str, pool: int, release: str | None = None) -> str:
    """Output of ``osdmaptool --test-map-object <name> --pool <pool>``: `` object 'name' -> pgid -> [acting]``."""
    c = compile_snapshot(snap, release=release)
    if pool not in c.pools:
        raise NoSuchPool(pool)
    m = map_object(snap, int(pool), name, release=release)
    return f" object '{name}' -> {m.pgid} -> {format_vector(m.acting)}\n"


def parse_osdmaptool_args(args: str | Sequence[str]) -> dict[str, Any]:
    """The keyword arguments of :func:`osdmaptool` for an ``osdmaptool`` command line (after the program name).

    Understands ``--test-map-pgs[-dump[-all]]``, ``--pool P``, ``--pg_num N``, ``--mark-up-in``,
    ``--mark-out O``, ``--adjust-crush-weight id:w[,id:w...]``, ``--test-map-pg X`` (dashes or
    underscores); other arguments (such as the map file name) are ignored.
    """
    argv = args.split() if isinstance(args, str) else list(args)
    kw: dict[str, Any] = {"mark_out": [], "adjust_crush_weight": []}
    modes = {"--test-map-pgs": "stats", "--test-map-pgs-dump": "dump", "--test-map-pgs-dump-all": "dump_all"}
    i = 0
    while i < len(argv):
        a = argv[i].replace("_", "-")
        if a in modes:
            if modes[a] != "stats" or "test_map_pgs" not in kw:
                kw["test_map_pgs"] = modes[a]
        elif a == "--mark-up-in":
            kw["mark_up_in"] = True
        elif a in ("--pool", "--pg-num", "--mark-out", "--test-map-pg", "--adjust-crush-weight"):
            if i + 1 >= len(argv):
                raise PgtoolsError(f"{argv[i]} needs a value")
            i += 1
            v = argv[i]
            if a == "--pool":
                kw["pool"] = int(v)
            elif a == "--pg-num":
                kw["pg_num"] = int(v)
            elif a == "--mark-out":
                kw["mark_out"].append(int(v))
            elif a == "--test-map-pg":
                kw["test_map_pg"] = v
            else:
                kw["adjust_crush_weight"] = []  # osdmaptool keeps the last option's list
                for item in (x for x in v.split(",") if x):
                    osd_s, sep, w_s = item.partition(":")
                    if not sep:
                        raise PgtoolsError("use ':' as separator of osd id and its weight")
                    kw["adjust_crush_weight"].append((int(osd_s), float(w_s)))
        i += 1
    return kw


def osdmaptool(snap: Snapshot, *, test_map_pgs: str | None = None, pool: int | None = None,
               pg_num: int | None = None, mark_up_in: bool = False, mark_out: Iterable[int] = (),
               adjust_crush_weight: Iterable[tuple[int, float]] = (), test_map_pg: str | None = None,
               test_map_object: str | None = None, me: str = "osdmaptool", release: str | None = None) -> str:
    """What ``osdmaptool osdmap.bin`` prints on stdout with the corresponding options.

    As in osdmaptool, ``mark_up_in`` runs first and also gives CRUSH weight 1.0 to every OSD whose
    weight (in the first bucket holding it) is 0, then ``mark_out``, then ``adjust_crush_weight``, then
    ``test_map_pg``, then ``test_map_pgs``.

    Parameters
    ----------
    snap : Snapshot
        The state the osdmap file holds.
    test_map_pgs : {"stats", "dump", "dump_all"}, optional
        ``--test-map-pgs``, ``--test-map-pgs-dump`` or ``--test-map-pgs-dump-all``.
    pool, pg_num : int, optional
        ``--pool`` and ``--pg_num``.
    mark_up_in : bool
        ``--mark-up-in``.
    mark_out : iterable of int
        ``--mark-out`` (osdmaptool takes one, the last; pgtools applies each).  An id outside
        ``[0, max_osd)`` is ignored as osdmaptool ignores it, with a :class:`~pgtools.errors.PgtoolsWarning`.
    adjust_crush_weight : iterable of (osd, weight)
        ``--adjust-crush-weight osd:weight,...`` (weights go through C ``float``).
    test_map_pg : str, optional
        ``--test-map-pg``.
    test_map_object : str, optional
        ``--test-map-object NAME`` (in ``pool``; without one osdmaptool says ``{me}: assuming pool 1 (use --pool
        to override)`` and uses pool 1), after ``--test-map-pg`` and before ``--test-map-pgs``.
    me : str
        The program name osdmaptool prints (its ``argv[0]``).
    release : str, optional
        Whose osdmaptool to emulate: Pacific ignores ``pg_upmap_primaries``, Reef and later apply them (the
        default, None); see :func:`~pgtools.placement.compile_snapshot`.

    Returns
    -------
    str
    """
    out: list[str] = []
    c = compile_snapshot(snap)
    if mark_up_in:
        out.append("marking all OSDs up and in\n")
        snap = _mark_all_up_in(snap, c.max_osd)
    for out_osd in mark_out:
        if 0 <= out_osd < c.max_osd:
            out.append(f"marking OSD@{out_osd} as out\n")
            snap = mark_out_(snap, [out_osd], mark_up=True)
        else:  # osdmaptool 16.2.15 skips it without a word (checked on an --createsimple map)
            warnings.warn(f"--mark-out {out_osd}: no OSD {out_osd} in this osdmap (max_osd {c.max_osd}); ignored, "
                          "as osdmaptool ignores it", PgtoolsWarning, stacklevel=2)
    for osd, weight in adjust_crush_weight:
        w = _f32(weight)
        snap = adjust_crush_weight_(snap, {int(osd): w})
        out.append(f"Adjusted osd.{int(osd)} CRUSH weight to {format_float(w)}\n")
    try:
        if test_map_pg is not None:
            out.append(render_test_map_pg(snap, test_map_pg, release))
        if test_map_object is not None:
            if pool is None:
                out.append(f"{me}: assuming pool 1 (use --pool to override)\n")
            out.append(render_test_map_object(snap, test_map_object, 1 if pool is None else pool, release))
        if test_map_pgs is not None:
            out.append(render_test_map_pgs(snap, mode=test_map_pgs, pool=pool, pg_num=pg_num, release=release))
    except NoSuchPool as e:
        raise NoSuchPool(e.pool, "".join(out)) from None
    return "".join(out)


def osdmaptool_output(snap: Snapshot, args: str | Sequence[str]) -> str:
    """Emulate an ``osdmaptool osdmap.bin <args>`` command line: :func:`osdmaptool` with
    :func:`parse_osdmaptool_args`."""
    return osdmaptool(snap, **parse_osdmaptool_args(args))
