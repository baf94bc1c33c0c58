"""``pgtools crushtool`` and ``pgtools osdmaptool``: Ceph's own command lines, Ceph's output byte for byte.

Operators' scripts call ``crushtool -i MAP --test --show-mappings ...`` and ``osdmaptool OSDMAP --test-map-pgs
...``; put ``pgtools`` in front and the same line prints what that release's tool prints, on the same streams,
with the same exit status: no Ceph install needed, and pgtools' what-ifs one step away.

* argv is read as the tools read it (:mod:`.cephargs`: ``--pg_num``/``--pg-num``, ``--rule=0``, Ceph's integer
  checks and messages, ``unrecognized arguments: [...]``);
* ``--ceph-release pacific|reef|tentacle`` (pgtools' own option) picks whose behaviour to reproduce where the
  releases differ (16.2 tests a rule's min_size..max_size without ``--num-rep``, 18.2 and 20.2 ask for it and
  know ``--min-rep``/``--max-rep``; 18.2 and 20.2 cannot decode a binary map whose rule ruleset differs from
  its id; the compilers refuse different text maps).  Default: the map's own release where it says
  (an osdmap's ``require_osd_release``; a text CRUSH map with ``min_size`` is a pre-Quincy map), else the
  newest;
* an option of the tools that pgtools does not implement is one error naming it, exit status 2, never ignored.

The work is done by :func:`pgtools.crush.crushtool_format.crushtool_tester` and
:func:`pgtools.placement.osdmaptool.osdmaptool`; a text CRUSH map is taken as ``crushtool -c`` would compile
it (refused where that release's compiler refuses it, with its message, :func:`text_map_refusal`).
"""

from __future__ import annotations

import re
import struct
import sys
import warnings
from pathlib import Path

import typer

from ..errors import PgtoolsError
from .app import FAST_PATHS
from .cephargs import Args, ToolExit, c_atof, format_arg_list, strict_int

__all__ = ["RELEASES", "crushtool_main", "osdmaptool_main", "text_map_refusal", "crush_slots"]

#: the releases whose tools the drop-ins reproduce, oldest first (checked against 16.2.15, 18.2.7, 20.2.4)
RELEASES = ("pacific", "reef", "tentacle")
CRUSH_MAGIC = b"\x00\x00\x01\x00"
#: CRUSH_MAX_DEVICE_WEIGHT (crush/crush.h): what the compiler accepts for a device's item weight
MAX_DEVICE_WEIGHT = 100 * 0x10000

_CRUSHTOOL_DONE = ("-i --infn, --test/-t, --show-mappings, --show-statistics, --show-utilization, "
                   "--show-utilization-all, --show-bad-mappings, --rule, --min-rule, --max-rule, --num-rep, "
                   "--min-rep/--max-rep (18.2+), --x, --min-x, --max-x, --weight/-w, --pool-id, --ceph-release")
_OSDMAPTOOL_DONE = ("--test-map-pgs, --test-map-pgs-dump, --test-map-pgs-dump-all, --test-map-object, "
                    "--test-map-pg, --pool, --pg_num, --mark-up-in, --mark-out, --adjust-crush-weight, --upmap, "
                    "--upmap-cleanup, --upmap-max, --upmap-deviation, --upmap-pool, "
                    "--osd_calc_pg_upmaps_aggressively, --read, --read-pool, --vstart (with --read), --ceph-release")


USAGE = {
    "crushtool": "usage: pgtools crushtool -i MAP --test [--show-mappings] [--show-statistics] [--show-utilization]\n"
                 "         [--show-utilization-all] [--show-bad-mappings] [--rule R | --min-rule A --max-rule B]\n"
                 "         [--num-rep N | --min-rep A --max-rep B] [--x X | --min-x A --max-x B] [--weight OSD W]...\n"
                 "         [--pool-id P] [--ceph-release pacific|reef|tentacle]\n"
                 "Prints what that release's `crushtool` prints for the same line (MAP: binary, text or JSON).\n",
    "osdmaptool": "usage: pgtools osdmaptool OSDMAP [--test-map-pgs | --test-map-pgs-dump | --test-map-pgs-dump-all]\n"
                  "         [--test-map-object NAME] [--test-map-pg PGID] [--pool P] [--pg_num N] [--mark-up-in]\n"
                  "         [--mark-out OSD] [--adjust-crush-weight OSD:W[,OSD:W...]] [--ceph-release R]\n"
                  "       pgtools osdmaptool OSDMAP [--mark-up-in] [--mark-out OSD] --upmap FILE|--upmap-cleanup FILE\n"
                  "         [--upmap-max N] [--upmap-deviation D] [--upmap-pool P]... "
                  "[--osd_calc_pg_upmaps_aggressively=false]\n"
                  "       pgtools osdmaptool OSDMAP [--mark-up-in] [--mark-out OSD] --read FILE --read-pool POOL "
                  "[--vstart] [--ceph-release reef|tentacle]\n"
                  "Prints what `osdmaptool` prints for the same line (OSDMAP: osdmap.bin or a capture pgtools reads).\n",
}


def _help(tool: str, args: Args) -> None:
    if args.flag("-h", "--help"):
        raise ToolExit(0, "", USAGE[tool])


def _not_implemented(tool: str, option: str, done: str) -> ToolExit:
    return ToolExit(2, f"pgtools {tool}: {option}: not implemented by pgtools (it implements {done})\n")


def _release_option(args: Args) -> str | None:
    v = args.witharg("--ceph-release")
    if v is None:
        return None
    if v.strip().lower() not in RELEASES:
        raise ToolExit(2, f"pgtools: --ceph-release {v!r}: one of {', '.join(RELEASES)}\n")
    return v.strip().lower()


def crush_slots(data: bytes) -> tuple[int, int] | None:
    """``(max_buckets, max_rules)`` from a binary CRUSH map's header (magic, max_buckets, max_rules, ...)."""
    if len(data) < 12 or not data.startswith(CRUSH_MAGIC):
        return None
    max_buckets, max_rules = struct.unpack_from("<iI", data, 4)
    return max_buckets, max_rules


def _compiled_slots(crush) -> tuple[int, int]:
    """The slot counts ``crushtool -c`` gives a compiled text map: ``crush_add_bucket`` grows the bucket array
    from 8 by doubling (``crush/builder.c``); ``crush_add_rule`` grows the rules to the highest id + 1."""
    need = max((-b for b in crush.buckets), default=0)
    max_buckets = 0
    while max_buckets < need:
        max_buckets = max_buckets * 2 if max_buckets else 8
    return max_buckets, (max(crush.rules) + 1 if crush.rules else 0)


_RULE_RE = re.compile(r"^\s*rule\s+\S+\s*\{")


def text_map_refusal(text: str, name: str, crush, release: str) -> str | None:
    """Why ``crushtool -c`` of ``release`` refuses a text map pgtools loads as ``crush``, in its words; None if it
    compiles it.

    * 16.2's grammar needs ``min_size`` and ``max_size`` in every rule: without them the parse stops before that
      rule and reports the line before it (``FILE:LINE error: parse error at 'TEXT'``, the text after the
      previous element's closing brace when it shares that line);
    * every release refuses a device item weight above 100 (``device weight limited to 100``).
    """
    lines = text.split("\n")
    if release == "pacific":
        start = None
        for no, line in enumerate(lines):
            body = line.split("#", 1)[0]
            if _RULE_RE.match(body):
                start = no
            elif start is not None and re.match(r"^\s*\}", body):
                block = [ln.split("#", 1)[0] for ln in lines[start:no + 1]]
                if not any(re.match(r"^\s*min_size\b", b) for b in block) or \
                        not any(re.match(r"^\s*max_size\b", b) for b in block):
                    prev = start - 1
                    shown = lines[prev] if prev >= 0 else ""
                    if re.match(r"^\s*\}", shown.split("#", 1)[0]):
                        shown = shown[shown.index("}") + 1:]
                    return f"{name}:{prev + 1} error: parse error at '{shown}'"
                start = None
    for b in crush.buckets.values():
        for item, w in zip(b.items, b.weights, strict=False):
            if item >= 0 and w > MAX_DEVICE_WEIGHT:
                return "device weight limited to 100"
    return None


def _load_crush(path: str, release: str | None):
    """The CRUSH map of ``-i PATH``, its slot counts and the release it tells (or None)."""
    from ..io import crushmap_from_binary, crushmap_from_text, load

    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ToolExit(1, f"crushtool: error reading '{path}': can't open {path}: ({e.errno}) {e.strerror}\n") from None
    slots = crush_slots(data)
    if slots is not None:
        crush = crushmap_from_binary(data, source=path)
        said = "pacific" if any(r.ruleset is not None and r.ruleset != r.id for r in crush.rules.values()) else None
        return crush, slots, said, None
    text = data.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        snap = load([Path(path)])
        if snap.crush is None:
            raise PgtoolsError(f"{path}: no CRUSH map in this file")
        return snap.crush, _compiled_slots(snap.crush), None, None
    crush = crushmap_from_text(text, source=path)
    said = "pacific" if any(r.min_size is not None for r in crush.rules.values()) else None
    return crush, _compiled_slots(crush), said, text


def _run_tool(tool, argv: list[str]) -> int:
    """Run a drop-in; a :class:`ToolExit` prints its streams and gives its exit status."""
    try:
        return tool(argv)
    except ToolExit as e:
        sys.stdout.write(e.stdout)
        sys.stderr.write(e.stderr)
        return e.code


def crushtool_main(argv: list[str]) -> int:
    """``pgtools crushtool ARGS``: print what ``crushtool ARGS`` prints; returns the exit status."""
    return _run_tool(_crushtool, argv)


def _crushtool(argv: list[str]) -> int:
    from ..crush.crushtool_format import crushtool_tester

    args = Args(argv)
    o: dict = {"infn": None, "test": False, "display": False, "min_x": -1, "max_x": -1, "min_rule": -1,
               "max_rule": -1, "min_rep": -1, "max_rep": -1, "pool_id": -1, "mappings": False, "statistics": False,
               "utilization": False, "utilization_all": False, "bad_mappings": False, "release": None}
    weights: dict[int, float] = {}
    late: list[int] = []  # where --min-rep/--max-rep (known from 18.2 on) and their values are in args.rest
    reps: dict[str, str] = {}
    ints = {"--num-rep": ("min_rep", "max_rep"), "--min-x": ("min_x",), "--max-x": ("max_x",),
            "--x": ("min_x", "max_x"), "--rule": ("min_rule", "max_rule"), "--min-rule": ("min_rule",),
            "--max-rule": ("max_rule",), "--pool-id": ("pool_id",)}
    shows = {"--show-mappings": "mappings", "--show-statistics": "statistics", "--show-utilization": "utilization",
             "--show-utilization-all": "utilization_all", "--show-bad-mappings": "bad_mappings"}
    while args.more():
        if args.double_dash():
            break
        _help("crushtool", args)
        if (v := _release_option(args)) is not None:
            o["release"] = v
            continue
        if (v := args.witharg("-i", "--infn")) is not None:
            o["infn"] = v
            continue
        if args.flag("-t", "--test"):
            o["test"] = True
            continue
        hit = next((s for s in shows if args.flag(s)), None)
        if hit is not None:
            o["display"] = True
            o[shows[hit]] = True
            continue
        name = None
        for n, keys in ints.items():
            v = args.witharg(n)
            if v is not None:
                val = strict_int(v)
                for k in keys:
                    o[k] = val
                name = n
                break
        if name is not None:
            continue
        if (v := args.witharg("--weight", "-w")) is not None:
            osd = strict_int(v)
            weights[osd] = c_atof(args.following("--weight"))
            continue
        opt = args.option_name().replace("_", "-")
        if opt in ("--min-rep", "--max-rep"):  # 18.2+ read them; 16.2 leaves them unrecognized (decided below)
            a = args.peek()
            late.append(args.i)
            args.skip()
            if "=" in a:
                val = a.partition("=")[2]
            elif args.more():
                late.append(args.i)
                val = args.peek()
                args.skip()
            else:
                raise ToolExit(1, f"Option {a} requires an argument.\n\n")
            reps[opt] = val
            continue
        a = args.peek()
        if a.startswith("-") and a != "-":
            raise _not_implemented("crushtool", args.option_name(), _CRUSHTOOL_DONE)
        args.skip()
    if o["infn"] is None:
        raise ToolExit(2, "pgtools crushtool: give the map with -i MAP (binary, or crushtool's text, or "
                          "`ceph osd crush dump -f json`)\n")
    crush, slots, said, text = _load_crush(o["infn"], o["release"])
    release = o["release"] or said or RELEASES[-1]
    if release != "pacific":
        for opt, val in reps.items():
            o[opt[2:].replace("-", "_")] = strict_int(val)
    leftovers = [a for k, a in enumerate(args.rest) if release == "pacific" or k not in late]
    if leftovers:
        raise ToolExit(1, f"unrecognized arguments: {format_arg_list(leftovers)}\n")
    if release != "pacific" and slots is not None and text is None and \
            any(r.ruleset is not None and r.ruleset != r.id for r in crush.rules.values()):
        raise ToolExit(1, f"crushtool: unable to decode {o['infn']}\n")
    if text is not None:
        why = text_map_refusal(text, o["infn"], crush, release)
        if why is not None:
            raise ToolExit(1, why + "\n")
    if not o["test"]:
        raise _not_implemented("crushtool", "an action other than --test", _CRUSHTOOL_DONE)
    if not o["display"]:
        sys.stderr.write("WARNING: no output selected; use --output-csv or --show-X\n")
    if release != "pacific" and o["min_rep"] < 0 and o["max_rep"] < 0:
        raise ToolExit(1, "must specify --num-rep or both --min-rep and --max-rep\n")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*ignored, as crushtool ignores it")
        pieces = crushtool_tester(
            crush, min_x=o["min_x"], max_x=o["max_x"], min_rule=o["min_rule"], max_rule=o["max_rule"],
            min_rep=o["min_rep"], max_rep=o["max_rep"], weights=weights, pool_id=o["pool_id"],
            mappings=o["mappings"], statistics=o["statistics"], utilization=o["utilization"],
            utilization_all=o["utilization_all"], bad_mappings=o["bad_mappings"], max_rules=slots[1],
            max_buckets=slots[0], sizes_from_rule=release == "pacific")
        for stream, piece in pieces:
            (sys.stdout if stream == 1 else sys.stderr).write(piece)
    return 0


def osdmaptool_main(argv: list[str]) -> int:
    """``pgtools osdmaptool ARGS``: print what ``osdmaptool ARGS`` prints; returns the exit status."""
    return _run_tool(_osdmaptool, argv)


def _osdmaptool(argv: list[str]) -> int:
    from ..mgr.releases import choose
    from ..placement.osdmaptool import NoSuchPool, osdmaptool

    me = "osdmaptool"
    args = Args(argv)
    kw: dict = {"mark_out": [], "adjust_crush_weight": []}
    upmap: dict = {}  # --upmap / --upmap-cleanup and their settings
    read: dict = {}  # --read / --read-pool / --vstart (Reef's read balancer)
    release = None
    obj = None
    pool = -1
    modes = {"--test-map-pgs": "stats", "--test-map-pgs-dump": "dump", "--test-map-pgs-dump-all": "dump_all"}
    while args.more():
        if args.double_dash():
            break
        _help("osdmaptool", args)
        if (v := _release_option(args)) is not None:
            release = v
            continue
        hit = next((m for m in modes if args.flag(m)), None)
        if hit is not None:  # the last one given wins, as in osdmaptool (one test_map_pgs_dump level)
            kw["test_map_pgs"] = modes[hit] if modes[hit] != "stats" or "test_map_pgs" not in kw else kw["test_map_pgs"]
            continue
        if args.flag("--mark-up-in"):
            kw["mark_up_in"] = True
            continue
        if (v := args.withint("--mark-out")) is not None:
            kw["mark_out"] = [v]  # osdmaptool keeps one --mark-out: the last
            continue
        if (v := args.withint("--pool")) is not None:
            pool = v
            continue
        if (v := args.withint("--pg_num")) is not None:
            kw["pg_num"] = v
            continue
        if (v := args.witharg("--test-map-object")) is not None:
            obj = v
            continue
        if (v := args.witharg("--test-map-pg")) is not None:
            kw["test_map_pg"] = v
            continue
        if (v := args.witharg("--adjust-crush-weight")) is not None:
            kw["adjust_crush_weight"] = _adjust_pairs(v)
            continue
        if (v := args.witharg("--upmap")) is not None:
            upmap.update(file=v, cleanup_only=False)
            continue
        if (v := args.witharg("--upmap-cleanup")) is not None:
            upmap.update(file=v, cleanup_only=True)
            continue
        if (v := args.withint("--upmap-max")) is not None:
            upmap["upmap_max"] = v
            continue
        if (v := args.withint("--upmap-deviation")) is not None:
            upmap["upmap_deviation"] = v
            continue
        if (v := args.witharg("--upmap-pool")) is not None:
            upmap.setdefault("upmap_pools", []).append(v)
            continue
        if (v := args.witharg("--osd-calc-pg-upmaps-aggressively")) is not None:
            upmap["aggressive"] = _ceph_bool("--osd_calc_pg_upmaps_aggressively", v)
            continue
        if (v := args.witharg("--read")) is not None:
            read["file"] = v
            continue
        if (v := args.witharg("--read-pool")) is not None:
            read["pool"] = v
            continue
        if args.flag("--vstart"):
            read["vstart"] = True
            continue
        a = args.peek()
        if a.startswith("-") and a != "-":
            raise _not_implemented("osdmaptool", args.option_name(), _OSDMAPTOOL_DONE)
        args.skip()
    if not args.rest:
        raise ToolExit(1, f"{me}: must specify osdmap filename\n")
    if len(args.rest) > 1:
        raise ToolExit(1, f"{me}: too many arguments\n")
    fn = args.rest[0]
    snap = None
    if read:
        if "file" not in read:
            raise ToolExit(2, "pgtools osdmaptool: --read-pool/--vstart without --read (upmap output with --vstart) "
                              "is not implemented\n")
        if release == "pacific":
            raise ToolExit(1, f"{me}: too many arguments\n")  # 16.2 knows none of them: they stay in its argv
        snap = _load_osdmap(me, fn) if release is None and Path(fn).exists() else None
        if snap is not None and choose(snap).name == "pacific":  # the map's own release
            raise ToolExit(1, f"{me}: too many arguments\n")
    sys.stderr.write(f"{me}: osdmap file '{fn}'\n")
    if read:
        return _osdmaptool_read(me, fn, snap or _load_osdmap(me, fn), read, upmap, kw, obj, release)
    if "file" in upmap:
        return _osdmaptool_upmap(me, fn, upmap, kw, obj, release)
    if "test_map_pgs" not in kw and "test_map_pg" not in kw and obj is None:
        raise ToolExit(1, f"{me}: no action specified?\n")
    snap = _load_osdmap(me, fn)
    # --ceph-release: osdmaptool 16.2.15, 18.2.7 and 20.2.4 print the same for the options pgtools implements
    # (Ceph's CLI tests, random osdmaps), except that Pacific ignores pg_upmap_primaries (Reef's read balancer)
    if pool != -1:
        kw["pool"] = pool
    if kw.get("pg_num") is not None and kw["pg_num"] <= 0:  # osdmaptool overrides pg_num only when > 0
        kw.pop("pg_num")
    try:
        text = osdmaptool(snap, test_map_object=obj, me=me, release=release, **kw)
    except NoSuchPool as e:
        raise ToolExit(1, f"{e}\n", e.stdout) from None
    sys.stdout.write(text)
    return 0


def _ceph_bool(option: str, value: str) -> bool:
    """A Ceph boolean config value on the command line (``true``/``false``, ``1``/``0``, ``yes``/``no``)."""
    v = value.strip().lower()
    if v in ("true", "1", "yes", "on"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise ToolExit(1, f"{option}: invalid boolean value {value!r}\n")


def _osdmaptool_upmap(me: str, fn: str, upmap: dict, kw: dict, obj: str | None, release: str | None) -> int:
    """``osdmaptool OSDMAP [--mark-up-in] [--mark-out N] --upmap FILE | --upmap-cleanup FILE ...``: Ceph's upmap
    balancer (``OSDMap::calc_pg_upmaps``) and cleanup, with :func:`pgtools.balance.osdmaptool_upmap`.

    Exact (osdmaptool's output byte for byte) with ``--osd_calc_pg_upmaps_aggressively=false`` and one pool;
    osdmaptool's default search shuffles with ``std::random_device``, and it balances several pools in a random
    order: pgtools then runs the same search with a seeded generator / in pool id order, and says so.
    """
    from ..balance import osdmaptool_upmap

    others = [o for o, on in (("--test-map-pgs*", "test_map_pgs" in kw), ("--test-map-pg", "test_map_pg" in kw),
                              ("--test-map-object", obj is not None), ("--pg_num", kw.get("pg_num") is not None),
                              ("--adjust-crush-weight", bool(kw["adjust_crush_weight"])),
                              ("--pool", "pool" in kw)) if on]
    if others:
        raise ToolExit(2, f"pgtools osdmaptool: --upmap/--upmap-cleanup together with {', '.join(others)} is not "
                          "implemented; run them as two commands\n")
    snap = _load_osdmap(me, fn)
    aggressive = upmap.get("aggressive", True)
    if aggressive and not upmap.get("cleanup_only"):
        sys.stderr.write(f"pgtools: warning: {me}'s default upmap search (osd_calc_pg_upmaps_aggressively=true) "
                         "shuffles with std::random_device, so no two runs agree; this is the same search with a "
                         "seeded generator (seed 0), not osdmaptool's answer; --osd_calc_pg_upmaps_aggressively=false "
                         "gives the deterministic search, reproduced exactly\n")
    try:
        plan = osdmaptool_upmap(snap, upmap_file=upmap["file"], cleanup_only=upmap.get("cleanup_only", False),
                                upmap_max=upmap.get("upmap_max", 10), upmap_deviation=upmap.get("upmap_deviation", 5),
                                upmap_pools=upmap.get("upmap_pools", ()), mark_up_in=kw.get("mark_up_in", False),
                                mark_out=(kw["mark_out"] or [None])[-1], aggressive=aggressive,
                                seed=0 if aggressive else None, ceph_release=release)
    except PgtoolsError as e:
        raise ToolExit(1, f"{me}: {e}\n") from None
    pools_line = next((ln for ln in plan.stdout.splitlines() if ln.startswith("pools ")), "")
    if len(pools_line.split()) > 2:
        sys.stderr.write(f"pgtools: warning: {me} balances several pools in a random order (its 'pools' line); "
                         "pgtools takes them in pool id order\n")
    if upmap["file"] not in ("-", ""):
        Path(upmap["file"]).write_text(plan.text)
    sys.stdout.write(plan.stdout)
    return 0


def _osdmaptool_read(me: str, fn: str, snap, read: dict, upmap: dict, kw: dict, obj: str | None,
                     release: str | None) -> int:
    """``osdmaptool OSDMAP [--mark-up-in] [--mark-out N] --read FILE --read-pool POOL [--vstart]`` (Reef's read
    balancer, 18.2.7 and 20.2.4 alike; exact: it is deterministic), with :func:`pgtools.balance.osdmaptool_read`.
    The release is ``--ceph-release``, else the map's (a Pacific map: 16.2's ``too many arguments``)."""
    from ..balance import osdmaptool_read

    others = [o for o, on in (("--upmap/--upmap-cleanup", "file" in upmap), ("--test-map-pgs*", "test_map_pgs" in kw),
                              ("--test-map-pg", "test_map_pg" in kw), ("--test-map-object", obj is not None),
                              ("--pg_num", kw.get("pg_num") is not None),
                              ("--adjust-crush-weight", bool(kw["adjust_crush_weight"]))) if on]
    if others:
        raise ToolExit(2, f"pgtools osdmaptool: --read together with {', '.join(others)} is not implemented; run "
                          "them as two commands\n")
    try:
        out, err, plan, status = osdmaptool_read(snap, read_file=read["file"], read_pool=read.get("pool", ""),
                                                 vstart=read.get("vstart", False),
                                                 mark_up_in=kw.get("mark_up_in", False),
                                                 mark_out=(kw["mark_out"] or [None])[-1], ceph_release=release)
    except PgtoolsError as e:
        raise ToolExit(2, f"pgtools osdmaptool: {e}\n") from None
    if read["file"] not in ("-", ""):
        Path(read["file"]).write_text(plan.text if plan is not None else "")  # osdmaptool opens it first
    sys.stdout.write(out)
    sys.stderr.write(err)
    return status


def _adjust_pairs(value: str) -> list[tuple[int, float]]:
    """``--adjust-crush-weight osd:w[,osd:w...]`` as osdmaptool splits it (``atoi``/``atof`` of each side)."""
    pairs = []
    for item in (x for x in value.split(",") if x):
        osd, sep, w = item.partition(":")
        if not sep:
            raise ToolExit(1, "use ':' as separator of osd id and its weight\n")
        pairs.append((strict_int(osd), c_atof(w)))
    return pairs


def _load_osdmap(me: str, fn: str):
    """The snapshot of ``OSDMAP`` (``osdmap.bin``, or any capture pgtools reads that has the placement state)."""
    from ..io import load
    from ..placement.osdmap import require_placement

    p = Path(fn)
    if not p.exists():
        raise ToolExit(255, f"{me}: couldn't open {fn}: can't open {fn}: (2) No such file or directory\n")
    snap = load([p])
    require_placement(snap, "mapping")
    return snap


#: typer settings of the two entries: every argument goes to the drop-in's own parser
PASS_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def crushtool_cmd(ctx: typer.Context) -> None:
    """Ceph's `crushtool -i MAP --test --show-...` line, Ceph's output byte for byte (--ceph-release R)."""
    raise typer.Exit(crushtool_main(list(ctx.args)))


def osdmaptool_cmd(ctx: typer.Context) -> None:
    """Ceph's `osdmaptool OSDMAP --test-map-pgs...` line, Ceph's output byte for byte."""
    raise typer.Exit(osdmaptool_main(list(ctx.args)))


FAST_PATHS["crushtool"] = lambda argv: (lambda: crushtool_main(argv))
FAST_PATHS["osdmaptool"] = lambda argv: (lambda: osdmaptool_main(argv))
