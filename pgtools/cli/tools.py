"""crushtool- and osdmaptool-like commands (``crush-test``, ``map``, ``map-object``), ``collect`` from a live
cluster and the ``demo``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import PgtoolsError, PgtoolsWarning
from .app import (
    FAST_PATHS,
    MarkOutOpt,
    OsdDumpOpt,
    OutputAliasOpt,
    load_dumps,
    lookup_pool_id,
    merge_alias,
    parse_osd_id,
    write_err,
    write_out,
)


class MapFormat(str, Enum):
    dump_all = "dump-all"
    dump = "dump"
    stats = "stats"


CrushOpt = Annotated[Optional[Path], typer.Option("--crush", help="`ceph osd crush dump -f json`, crushtool text, or the binary map (ceph osd getcrushmap -o).")]  # noqa: UP045
CaptureArg = Annotated[Optional[list[Path]], typer.Argument(help="Capture folder or files (instead of / besides --osd-dump and --crush).", show_default=False)]  # noqa: UP045


def _load_map(capture: list[Path] | None, osd_dump: Path | None, crush: Path | None):
    paths = [*(capture or []), *[p for p in (osd_dump, crush) if p is not None]]
    if not paths:
        raise typer.BadParameter("give a capture folder, or --osd-dump and --crush")
    from ..placement.osdmap import require_placement

    snap = load_dumps(paths)
    require_placement(snap, "mapping")
    return snap


def crush_test(
    capture: Annotated[Optional[list[Path]], typer.Argument(help="A CRUSH map file or a capture folder holding one (instead of --crush).", show_default=False)] = None,  # noqa: UP045
    crush: Annotated[Optional[Path], typer.Option("--crush", help="`ceph osd crush dump -f json`, crushtool's text map (crushtool -d), or the binary map (ceph osd getcrushmap -o, crushtool -c -o).")] = None,  # noqa: UP045
    rule: Annotated[int, typer.Option("--rule", help="Rule id.")] = 0,
    num_rep: Annotated[int, typer.Option("--num-rep", help="Number of replicas (result size); negative: every size from the rule's min_size to max_size, as crushtool.")] = 3,
    min_x: Annotated[int, typer.Option("--min-x", help="First input value.")] = 0,
    max_x: Annotated[int, typer.Option("--max-x", help="Last input value (inclusive); --min-x/--max-x are 32-bit ints, as crushtool reads them; the output is streamed.")] = 1023,
    weight: Annotated[Optional[list[str]], typer.Option("--weight", help="OSD=W device weight override in [0,1] (crushtool --weight OSD W; repeatable).")] = None,  # noqa: UP045
    pool_id: Annotated[int, typer.Option("--pool-id", help="Hash x with this pool id, as crushtool --pool-id.")] = -1,
) -> None:
    """Run a CRUSH rule on raw inputs, printed exactly like `crushtool -i map --test --show-mappings`.

    Lines read `CRUSH rule R x X [a,b,c]`, so the output diffs cleanly against crushtool's.

    Example:  pgtools crush-test --crush crush_dump.json --rule 0 --num-rep 3 --max-x 9
              pgtools crush-test crush.bin --rule 0 --num-rep 3 --max-x 9   (ceph osd getcrushmap -o crush.bin)
    """
    from ..crush.crushtool_format import iter_crushtool_test

    paths = [*(capture or []), *([crush] if crush is not None else [])]
    if not paths:
        raise typer.BadParameter("give the CRUSH map: a file or capture folder, or --crush FILE")
    where = ", ".join(map(str, paths))
    snap = load_dumps(paths)
    if snap.crush is None:
        raise PgtoolsError(f"{where}: no CRUSH map here: add `ceph osd crush dump -f json` "
                           "(or `ceph osd getcrushmap -o crush.bin`)")
    weights: dict[int, float] = {}
    for w in weight or []:
        osd, sep, val = w.replace(":", "=").partition("=")
        try:
            weights[int(osd)] = float(val)
        except ValueError:
            raise typer.BadParameter(f"--weight wants OSD=W, not {w!r}") from None
        if not sep or not 0.0 <= weights[int(osd)] <= 1.0:
            raise typer.BadParameter(f"--weight wants OSD=W with W in [0, 1], not {w!r}")
    if min_x > max_x:
        raise typer.BadParameter("--min-x must not exceed --max-x")
    if rule not in snap.crush.rules:  # crushtool prints nothing then; say why
        raise PgtoolsError(f"{where}: no rule {rule} in this CRUSH map (rules: "
                           f"{', '.join(map(str, sorted(snap.crush.rules))) or 'none'})")
    for piece in iter_crushtool_test(snap.crush, rule, num_rep, min_x, max_x, weights=weights or None,
                                     pool_id=pool_id):  # streamed: memory stays bounded for any range
        write_out(piece)


def map_cmd(
    capture: CaptureArg = None,
    osd_dump: OsdDumpOpt = None,
    crush: CrushOpt = None,
    pool: Annotated[Optional[str], typer.Option(help="Only this pool, by name or id (osdmaptool --pool ID).")] = None,  # noqa: UP045
    pg_num: Annotated[Optional[int], typer.Option("--pg-num", help="Override pg_num of the mapped pools; pgp_num is kept (osdmaptool --pg_num).")] = None,  # noqa: UP045
    mark_up_in: Annotated[bool, typer.Option("--mark-up-in", help="Mark every OSD up and in, and give CRUSH weight 1 to those at 0 (osdmaptool --mark-up-in).")] = False,
    mark_out: MarkOutOpt = None,
    adjust_crush_weight: Annotated[Optional[list[str]], typer.Option("--adjust-crush-weight", help="OSD:WEIGHT (repeatable, or comma-separated as in osdmaptool).")] = None,  # noqa: UP045
    fmt: Annotated[MapFormat, typer.Option("--format", help="dump-all, dump or stats, as osdmaptool --test-map-pgs[-dump[-all]].")] = MapFormat.stats,
) -> None:
    """Recompute every PG's mapping exactly as Ceph does, printed byte for byte like osdmaptool.

    dump-all: `osdmaptool om --test-map-pgs-dump-all`; dump: `--test-map-pgs-dump`; stats: `--test-map-pgs`.
    So you can diff pgtools against osdmaptool, then ask what-ifs osdmaptool cannot.

    Example:  pgtools map sample_dumps/seedlike_max300 --pool 1 --pg-num 256 --format dump-all
    """
    from ..placement.osdmaptool import osdmaptool

    snap = _load_map(capture, osd_dump, crush)
    if pg_num is not None:  # no pool can hold more; also what keeps a typo from allocating gigabytes
        from ..mgr.options import resolve

        mx = resolve(snap, "mon_max_pool_pg_num")
        if not 0 < pg_num <= mx.value:
            raise typer.BadParameter(f"--pg-num {pg_num}: a pool's pg_num must be from 1 to mon_max_pool_pg_num "
                                     f"{mx.value} ({mx.source})")
    pairs = []
    for a in (a for arg in adjust_crush_weight or [] for a in arg.split(",") if a):  # repeated, or osdmaptool's a,b
        osd, _, w = a.partition(":")
        try:
            if not osd.isdigit():
                raise ValueError(osd)
            pairs.append((int(osd), float(w)))
        except ValueError:
            raise typer.BadParameter(f"--adjust-crush-weight wants OSD:WEIGHT, not {a!r}") from None
    mode = {"dump-all": "dump_all", "dump": "dump", "stats": "stats"}[fmt.value]
    write_out(osdmaptool(snap, test_map_pgs=mode, pool=None if pool is None else lookup_pool_id(snap, pool), pg_num=pg_num,
                    mark_up_in=mark_up_in, mark_out=[parse_osd_id(o, "--mark-out") for o in mark_out or []],
                    adjust_crush_weight=pairs))


def parse_map_fast(args: list[str]) -> Callable[[], None] | None:
    """:func:`map_cmd` with the arguments of a plain ``pgtools map`` command line (``args`` after ``map``), or None.

    Plain: dump paths and ``--osd-dump``/``--crush``/``--pool``/``--pg-num``/``--format``/``--mark-out``/
    ``--adjust-crush-weight`` each followed by its value, and ``--mark-up-in``; values as typer reads them
    (paths, the pool text, ``--pg-num`` in decimal digits, a ``--format`` choice; the last of a repeated
    single option wins).  Anything else (``--help``, ``--pool=1``, a value starting with ``-``, an unknown
    option or format, a ``--pg-num`` that is not plain digits) returns None and typer parses the line.
    """
    kw: dict = {"capture": [], "osd_dump": None, "crush": None, "pool": None, "pg_num": None,
                "mark_up_in": False, "mark_out": [], "adjust_crush_weight": [], "fmt": MapFormat.stats}
    formats = {f.value: f for f in MapFormat}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--mark-up-in":
            kw["mark_up_in"] = True
            i += 1
            continue
        if not a or (a.startswith("-") and a not in _MAP_VALUE_OPTIONS):
            return None
        if not a.startswith("-"):
            kw["capture"].append(Path(a))
            i += 1
            continue
        if i + 1 >= len(args) or not args[i + 1] or args[i + 1].startswith("-"):
            return None
        name, v = _MAP_VALUE_OPTIONS[a], args[i + 1]
        if name in ("osd_dump", "crush"):
            kw[name] = Path(v)
        elif name == "pg_num":
            if not (v.isascii() and v.isdigit()) or (len(v) > 1 and v[0] == "0"):
                return None
            kw[name] = int(v)
        elif name == "fmt":
            if v not in formats:
                return None
            kw[name] = formats[v]
        elif name in ("mark_out", "adjust_crush_weight"):
            kw[name].append(v)
        else:
            kw[name] = v
        i += 2
    return lambda: map_cmd(**kw)


_MAP_VALUE_OPTIONS = {"--osd-dump": "osd_dump", "--crush": "crush", "--pool": "pool", "--pg-num": "pg_num",
                      "--format": "fmt", "--mark-out": "mark_out", "--adjust-crush-weight": "adjust_crush_weight"}
FAST_PATHS["map"] = parse_map_fast


def map_object_cmd(
    name: Annotated[str, typer.Argument(help="Object name.")],
    capture: CaptureArg = None,
    osd_dump: OsdDumpOpt = None,
    crush: CrushOpt = None,
    pool: Annotated[str, typer.Option(help="Pool name or id.")] = "",
    namespace: Annotated[str, typer.Option(help="RADOS namespace.")] = "",
    key: Annotated[str, typer.Option(help="Object locator key (hashed instead of the name).")] = "",
    capture_alias: Annotated[Optional[list[Path]], typer.Option("--capture", hidden=True, help="Old spelling of the CAPTURE arguments.")] = None,  # noqa: UP045
) -> None:
    """Where does an object live?  Prints what `ceph osd map POOL NAME [NAMESPACE]` prints.

    Example:  pgtools map-object rbd_data.1 sample_dumps/seedlike_max300 --pool rbd
    """
    from ..placement.objects import format_osd_map, map_object

    if not pool:
        raise typer.BadParameter("--pool is required")
    snap = _load_map(merge_alias(capture, capture_alias, "CAPTURE", "--capture"), osd_dump, crush)
    write_out(format_osd_map(map_object(snap, pool, name, namespace, key=key)))


def demo(
    capture: Annotated[Path, typer.Argument(help="Capture folder.")] = Path("sample_dumps/seedlike_max300"),
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Folder to write the outputs to.  [default: out]")] = None,  # noqa: UP045
    out_alias: OutputAliasOpt = None,
) -> None:
    """Run the main job on a capture: table, stats, health and the HTML report, written to the -o folder."""
    from ..analysis import health as health_fn
    from ..analysis import imbalance, pg_table
    from ..text import snapshot as _format

    out = merge_alias(output, out_alias, "-o/--output", "--out") or Path("out")
    if out.exists() and not out.is_dir():
        raise PgtoolsError(f"{out}: exists and is not a folder (demo writes several files into a folder)")
    snap = load_dumps([capture])
    tab = pg_table(snap, "up")
    from ..report.document import build_report

    files = {
        "table.txt": _format.table_text(tab, "up"),
        "table.csv": _format.table_csv(tab),
        "stats.csv": imbalance(snap).to_csv(index=False),
        "health.txt": _format.health_text(health_fn(snap)),
        "report.html": build_report(snap),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
    write_out(f"{snap!r}\n\n")
    write_out(files["table.txt"] + "\n")
    write_out(files["health.txt"])
    write_err(f"wrote {', '.join(str(out / n) for n in files)}")


def collect(
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Bundle folder to write (or NAME.tar.gz with --tar); required.", show_default=False)] = None,  # noqa: UP045
    conf: Annotated[Optional[str], typer.Option("--conf", help="ceph.conf of the cluster.")] = None,  # noqa: UP045
    cluster: Annotated[Optional[str], typer.Option("--cluster", help="Cluster name.")] = None,  # noqa: UP045
    tar: Annotated[bool, typer.Option("--tar", help="Write a .tar.gz instead of a folder.")] = False,
    ceph: Annotated[str, typer.Option("--ceph", help="The ceph executable.")] = "ceph",
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds allowed per ceph command (killed and recorded as failed after).")] = 120.0,
    connect_timeout: Annotated[float, typer.Option("--connect-timeout", min=1, help="Seconds allowed for the first connection check, `ceph --connect-timeout N status`; nothing is collected when it fails.")] = 15.0,
    force: Annotated[bool, typer.Option("--force", help="Write into an output folder that is not empty (or over an existing archive); refused otherwise.")] = False,
    out_alias: OutputAliasOpt = None,
) -> None:
    """Collect a capture from a live cluster with read-only ceph commands (pg dump, osd dump, ...).

    First checks that the cluster answers (`ceph --connect-timeout N status`), then runs each command with
    --timeout seconds, printing one progress line per command on stderr.  Every command is recorded with
    its exit status in collect_meta.json; a failing command is reported and the rest are still collected.
    Each output is read back with pgtools' parsers: one that is empty or not what the command prints
    counts as failed.  An output folder that is not empty is refused unless --force.
    Nothing is ever written to the cluster.
    """
    from ..io.collect import COMMANDS
    from ..io.collect import collect as collect_fn

    out = merge_alias(output, out_alias, "-o/--output", "--out")
    if out is None:
        raise typer.BadParameter("give the bundle to write: -o/--output FOLDER (or NAME.tar.gz with --tar)")

    said: list[dict] = []

    def start(i: int, n: int, cmd) -> None:
        what = "checking the connection" if i == 0 else f"[{i}/{n}]"
        write_err(f"collect: {what}: ceph {' '.join(cmd.args)}")

    def step(i: int, n: int, cmd, rec: dict) -> None:
        if rec["status"] == 125:  # not run: the cluster stopped answering (said once for all the rest)
            if not said:
                said.append(rec)
                write_err(f"collect: [{i}-{n}/{n}] {rec['stderr'][:300]}")
            return
        if rec["status"] != 0:
            write_err(f"collect: [{i}/{n}] failed ({rec['status']}) after {rec['seconds']:g} s: {rec['command']}: "
                 f"{rec['stderr'][:200]}")
        elif rec.get("invalid"):
            write_err(f"collect: [{i}/{n}] failed: {rec['command']} exited 0 but its output {rec['file']} is not "
                 f"usable: {rec['invalid'][:200]}")

    res = collect_fn(out, ceph=ceph, conf=conf, cluster=cluster, tar=tar, timeout=timeout,
                     connect_timeout=connect_timeout, force=force, progress=step, on_start=start)
    ok = len(res.records) - len(res.failed)
    note = f" (osdmap epoch {res.epoch_before})" if res.consistent else ""
    write_err(f"wrote {res.path}: {ok}/{len(res.records)} commands succeeded{note}")
    if res.epoch_before is None or res.epoch_after is None:
        warnings.warn("could not read the osdmap epoch before and after collecting: consistency unknown",
                      PgtoolsWarning, stacklevel=1)
    elif not res.consistent:
        warnings.warn(f"osdmap epoch changed during collection ({res.epoch_before} -> {res.epoch_after}): the "
                      "files may describe different cluster states", PgtoolsWarning, stacklevel=1)
    required = {c.filename for c in COMMANDS if c.required}
    if any(r["file"] in required for r in res.failed):
        raise typer.Exit(1)


