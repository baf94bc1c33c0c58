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
from collections.abc import Iterable

from .errors import PgtoolsError
from .io._common import NONE
from .model import Snapshot
from .placement import (
    PGMapping,
    adjust_crush_weight,
    compile_snapshot,
    mark_in,
    mark_out,
    mark_up,
    with_pg_num,
)

__all__ = [
    "format_vector",
    "format_float",
    "format_dump_all_line",
    "render_test_map_pgs",
    "render_test_map_pg",
    "render_test_map_object",
    "osdmaptool_output",
]


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


def _crush_item_weight(crush: object, item: int) -> int | None:
    """``CrushWrapper::get_item_weight``: the item's weight in the first bucket (id -1, -2, ...) holding it."""
    buckets = getattr(crush, "buckets", None)
    if not buckets:
        return None
    for bid in sorted(buckets, reverse=True):
        b = buckets[bid]
        for it, w in zip(b.items, b.weights, strict=False):
            if it == item:
                return int(w)
    return None


def mark_up_in(snap: Snapshot, max_osd: int) -> Snapshot:
    """osdmaptool ``--mark-up-in``: OSDs 0..max_osd-1 up and in, and a CRUSH weight of 0 becomes 1.0.

    The weight test looks at the first bucket (id -1, -2, ...) holding the OSD, as
    ``CrushWrapper::get_item_weight`` does, OSD by OSD after the previous ones were raised; an OSD in no
    bucket keeps its (absent) weight.
    """
    ids = range(max_osd)
    snap = mark_in(mark_up(snap, ids), ids)
    for i in ids:  # one OSD at a time: raising one item of a uniform bucket raises them all
        if _crush_item_weight(snap.crush, i) == 0:
            snap = adjust_crush_weight(snap, {i: 1.0})
    return snap


def _f32(x: float) -> float:
    import struct

    return struct.unpack("f", struct.pack("f", x))[0]


def _stats_block(snap: Snapshot, counts: list[int], first: list[int], primary: list[int],
                 sizes: dict[int, int]) -> list[str]:
    c = compile_snapshot(snap)
    n = c.max_osd
    out = ["#osd\tcount\tfirst\tprimary\tc wt\twt"]
    total = 0
    n_in = 0
    min_osd = max_osd = -1
    listed: list[int] = []
    for i in range(n):
        if not c.exists[i] or int(c.weight[i]) == 0:
            continue
        cw = _crush_item_weight(snap.crush, i)
        if cw is None or cw <= 0:
            continue
        n_in += 1
        listed.append(i)
        cwf = _f32(_f32(float(cw)) / _f32(float(0x10000)))
        wf = _f32(_f32(float(int(c.weight[i]))) / _f32(float(0x10000)))
        out.append(f"osd.{i}\t{counts[i]}\t{first[i]}\t{primary[i]}\t{format_float(cwf)}\t{format_float(wf)}")
        total += counts[i]
        if counts[i] and (min_osd < 0 or counts[i] < counts[min_osd]):
            min_osd = i
        if counts[i] and (max_osd < 0 or counts[i] > counts[max_osd]):
            max_osd = i
    avg = total // n_in if n_in else 0
    dev = 0.0
    for i in listed:
        d = avg - counts[i]
        dev += float(d * d)
    if n_in:
        dev = math.sqrt(dev / n_in)
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


def render_test_map_pgs(snap: Snapshot, *, mode: str = "stats", pool: int | None = None,
                 pg_num: int | None = None) -> str:
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

    Returns
    -------
    str
        The whole stdout, ending with a newline.
    """
    if mode not in ("stats", "dump", "dump_all"):
        raise ValueError(f"unknown mode {mode!r}")
    c = compile_snapshot(snap)
    if pool is not None and pool not in c.pools:
        raise PgtoolsError(f"There is no pool {pool}")
    if pg_num is not None and pg_num > 0:
        snap = with_pg_num(snap, pg_num, None if pool is None else [pool])
        c = compile_snapshot(snap)
    n = c.max_osd
    counts = [0] * n
    first = [0] * n
    primary = [0] * n
    sizes: dict[int, int] = {}
    lines: list[str] = []
    for pid in sorted(c.pools):
        if pool is not None and pid != pool:
            continue
        p = c.pools[pid]
        lines.append(f"pool {pid} pg_num {p.pg_num}")
        for m in c.map_pool_vector(p):
            osds, prim = m.acting, m.acting_primary
            if mode == "dump":
                lines.append(f"{_pgid(pid, m.ps)}\t{format_vector(osds)}\t{prim}")
            elif mode == "dump_all":
                lines.append(format_dump_all_line(m))
            sizes[len(osds)] = sizes.get(len(osds), 0) + 1
            for o in osds:
                if o != NONE and 0 <= o < n:
                    counts[o] += 1
            if osds and osds[0] != NONE and 0 <= osds[0] < n:
                first[osds[0]] += 1
            if 0 <= prim < n:
                primary[prim] += 1
    lines.extend(_stats_block(snap, counts, first, primary, sizes))
    return "\n".join(lines) + "\n"


def render_test_map_pg(snap: Snapshot, pgid: str) -> str:
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
    c = compile_snapshot(snap)
    m = c.pg_to_up_acting_osds(pool_id, ps)
    return f" parsed '{pgid}' -> {_pgid(pool_id, ps)}\n{format_dump_all_line(m)}\n"


def render_test_map_object(snap: Snapshot, name: str, pool: int) -> str:
    """Output of ``osdmaptool --test-map-object <name> --pool <pool>``: `` object 'name' -> pgid -> [acting]``."""
    from .objects import map_object

    c = compile_snapshot(snap)
    if pool not in c.pools:
        raise PgtoolsError(f"There is no pool {pool}")
    m = map_object(snap, int(pool), name)
    return f" object '{name}' -> {m.pgid} -> {format_vector(m.acting)}\n"


def osdmaptool_output(snap: Snapshot, args: str | list[str]) -> str:
    """Emulate an ``osdmaptool osdmap.bin <args>`` command line (the subset of options above).

    Supports ``--test-map-pgs``, ``--test-map-pgs-dump``, ``--test-map-pgs-dump-all``, ``--pool P``,
    ``--pg_num N``, ``--mark-up-in``, ``--mark-out O``, ``--adjust-crush-weight id:w[,id:w...]``,
    ``--test-map-pg X``; other arguments (such as the map file name) are ignored.  As in osdmaptool,
    ``--mark-up-in`` runs first and also gives CRUSH weight 1.0 to every OSD whose weight (in the first
    bucket holding it) is 0, then ``--mark-out``, then ``--adjust-crush-weight``.

    Parameters
    ----------
    snap : Snapshot
        The state the osdmap file holds.
    args : str or list of str
        The command line after ``osdmaptool``.

    Returns
    -------
    str
        What osdmaptool prints on stdout.
    """
    argv = args.split() if isinstance(args, str) else list(args)
    mode = None
    pool = pg_num = None
    out_osds: list[int] = []
    map_pg = None
    adjust: list[str] = []
    up_in = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--test-map-pgs", "--test_map_pgs"):
            mode = mode or "stats"
        elif a in ("--test-map-pgs-dump", "--test_map_pgs_dump"):
            mode = "dump"
        elif a in ("--test-map-pgs-dump-all", "--test_map_pgs_dump_all"):
            mode = "dump_all"
        elif a in ("--mark-up-in", "--mark_up_in"):
            up_in = True
        elif a in ("--pool", "--pg_num", "--pg-num", "--mark-out", "--mark_out", "--test-map-pg",
                   "--test_map_pg", "--adjust-crush-weight", "--adjust_crush_weight"):
            if i + 1 >= len(argv):
                raise PgtoolsError(f"{a} needs a value")
            v = argv[i + 1]
            i += 1
            if a == "--pool":
                pool = int(v)
            elif a in ("--pg_num", "--pg-num"):
                pg_num = int(v)
            elif a in ("--mark-out", "--mark_out"):
                out_osds.append(int(v))
            elif a in ("--adjust-crush-weight", "--adjust_crush_weight"):
                adjust = [x for x in v.split(",") if x]
            else:
                map_pg = v
        i += 1
    out: list[str] = []
    c = compile_snapshot(snap)
    if up_in:
        out.append("marking all OSDs up and in\n")
        snap = mark_up_in(snap, c.max_osd)
    for out_osd in out_osds:  # osdmaptool takes one --mark-out (the last); pgtools applies each
        if 0 <= out_osd < c.max_osd:
            out.append(f"marking OSD@{out_osd} as out\n")
            snap = mark_out(snap, [out_osd], mark_up=True)
    for item in adjust:
        osd_s, sep, w_s = item.partition(":")
        if not sep:
            raise PgtoolsError("use ':' as separator of osd id and its weight")
        w = _f32(float(w_s))
        snap = adjust_crush_weight(snap, {int(osd_s): w})
        out.append(f"Adjusted osd.{int(osd_s)} CRUSH weight to {format_float(w)}\n")
    if map_pg is not None:
        out.append(render_test_map_pg(snap, map_pg))
    if mode is not None:
        out.append(render_test_map_pgs(snap, mode=mode, pool=pool, pg_num=pg_num))
    return "".join(out)
