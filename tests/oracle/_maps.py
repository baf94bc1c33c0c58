"""Random CRUSH maps and osdmap recipes for the differential oracle suite (test helper).

Builds on :func:`tests.crush._gen.random_text_map` (hierarchies of every bucket algorithm, depths 1-4,
zero and tiny weights, device classes, choose_args, tunable profiles, firstn/indep rules) and adds what
the oracle suite needs on top: a ``num_rep`` range per rule (crushtool then tests every size in one run),
multi-take/multi-emit rules, odd tunables, ``--weight`` reweights and ``--pool-id`` inputs.
"""

from __future__ import annotations

import errno
import os
import random
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from tests.crush._gen import random_text_map

__all__ = ["CrushCase", "OsdmapCase", "add_shadow_ids", "budget", "crush_case", "delete_lines", "osdmap_case",
           "prefetched", "run_tool"]


#: ``PGTOOLS_ORACLE_KNOWN_BUGS=1`` stops steering the generators away from inputs where Ceph's own result is
#: undefined (class takes through tree buckets: ``CrushMap.undefined_behaviour``); expect mismatches then
WITH_KNOWN_BUGS = os.environ.get("PGTOOLS_ORACLE_KNOWN_BUGS", "") not in ("", "0")


def budget(ci_default: int, local_default: int) -> int:
    """Number of random maps to test: ``PGTOOLS_ORACLE_MAPS`` if set, else the CI or local default."""
    env = os.environ.get("PGTOOLS_ORACLE_MAPS", "").strip()
    if env:
        return max(1, int(env))
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return ci_default if in_ci else local_default


@dataclass
class CrushCase:
    """One random map and the crushtool ``--test`` run to compare."""

    seed: int
    text: str
    rules: dict[int, tuple[int, int]]  # rule id -> (min_size, max_size): crushtool tests every size
    num_x: int
    reweights: dict[int, float] = field(default_factory=dict)
    pool_id: int = -1

    def test_args(self) -> list[str]:
        """crushtool arguments after ``-c map.txt`` / ``-i map.bin``."""
        args = ["--test", "--show-mappings", "--min-x", "0", "--max-x", str(self.num_x - 1)]
        for osd, w in sorted(self.reweights.items()):
            args += ["--weight", str(osd), repr(w)]
        if self.pool_id != -1:
            args += ["--pool-id", str(self.pool_id)]
        return args


_RULE_RE = re.compile(r"rule r(\d+) \{")


def _extra_rules(rng: random.Random, text: str, first_id: int) -> list[str]:
    """Multi-take / multi-emit rules using the same take target as the generated rules."""
    m = re.search(r"step take (\S+(?: class \S+)?)\n", text)
    take = m.group(1) if m else "root"
    types = [t for t in ("host", "rack", "row") if f"\n{t} " in text] or ["osd"]
    t1, t2 = rng.choice(types), rng.choice(types)
    shapes = [
        ("replicated", [f"step take {take}", f"step chooseleaf firstn 1 type {t1}", "step emit",
                        f"step take {take}", f"step chooseleaf firstn -1 type {t2}", "step emit"]),
        ("erasure", [f"step take {take}", f"step chooseleaf indep 2 type {t1}", "step emit",
                     f"step take {take}", "step choose indep 0 type osd", "step emit"]),
        ("replicated", [f"step take {take}", f"step choose firstn 2 type {t1}", "step choose firstn 1 type osd",
                        "step emit", f"step take {take}", "step choose firstn 0 type osd", "step emit"]),
        ("replicated", ["step set_choose_tries 3", "step set_chooseleaf_tries 2", f"step take {take}",
                        f"step chooseleaf firstn 0 type {t1}", "step emit"]),
    ]
    out = []
    for k, (kind, steps) in enumerate(rng.sample(shapes, rng.randint(1, len(shapes)))):
        rid = first_id + k
        out.append("\n".join([f"rule x{rid} {{", f"\tid {rid}", f"\ttype {kind}", "\tmin_size 1",
                              "\tmax_size 20"] + ["\t" + s for s in steps] + ["}"]))
    return out


def crush_case(seed: int, *, num_x: int = 64) -> CrushCase:
    """A random map with several rules, each tested for ``num_rep`` in a small random range."""
    rng = random.Random(seed * 7919 + 17)
    # crushtool cannot build class shadow trees through uniform buckets (the compiler then refuses
    # ``take X class C``): half of the maps leave uniform out so that class takes really get tested
    # tree buckets are left out of those too unless PGTOOLS_ORACLE_KNOWN_BUGS=1: Ceph clones tree buckets
    # into shadow trees with uninitialised node weights (test_osdmaptool_random.test_class_take_tree_bucket)
    gm = random_text_map(seed, allow_algs=None if rng.random() < 0.5 else
                         ["list", "tree", "straw", "straw2"] if WITH_KNOWN_BUGS else ["list", "straw", "straw2"])
    text = add_shadow_ids(gm.text)
    if rng.random() < 0.25:  # odd tunables on top of the profile
        text = re.sub(r"tunable choose_total_tries \d+", f"tunable choose_total_tries {rng.choice([1, 2, 3, 7])}",
                      text)
    if rng.random() < 0.15:
        text = re.sub(r"tunable chooseleaf_descend_once \d", f"tunable chooseleaf_descend_once {rng.randint(0, 1)}",
                      text)
    n_rules = len(_RULE_RE.findall(text))
    if rng.random() < 0.6:
        rules_part = _extra_rules(rng, text, n_rules)
        # rules must come before choose_args
        idx = text.find("choose_args ")
        block = "\n".join(rules_part) + "\n"
        text = text + block if idx < 0 else text[:idx] + block + text[idx:]
    rules: dict[int, tuple[int, int]] = {}

    def sizes(m: re.Match) -> str:
        lo = rng.choice([1, 1, 1, 2])
        hi = lo + rng.randint(0, 4)
        rules[len(rules)] = (lo, hi)
        return f"min_size {lo}\n\tmax_size {hi}"

    text = re.sub(r"min_size 1\n\tmax_size 20", sizes, text)
    reweights = dict(gm.reweights)
    if rng.random() < 0.3:
        for osd in range(gm.max_osd):
            if rng.random() < 0.2:
                reweights[osd] = rng.choice([0.0, 0.01, 0.25, 0.75, 0.999, 1.0])
    pool_id = -1
    if rng.random() < 0.4:
        pool_id = gm.pool_key if gm.pool_key is not None and rng.random() < 0.6 else rng.randint(0, 40)
    if re.search(r"step take \S+ class ", text) and ("\talg uniform\n" in text or (
            "\talg tree\n" in text and not WITH_KNOWN_BUGS)):
        # crushtool cannot clone uniform buckets into shadow trees; tree buckets cloned into shadow
        # trees get uninitialised node weights in Ceph (see test_crushtool_random.test_class_take_tree_ub)
        text = re.sub(r"(step take \S+) class \S+", r"\1", text)
    return CrushCase(seed, text, rules, num_x, reweights, pool_id)


def add_shadow_ids(text: str) -> str:
    """Declare a shadow bucket id (``id N class C``) in every bucket for every device class in the map.

    crushtool's compiler accepts ``step take X class C`` only when bucket X declares its shadow id for
    class C (as decompiled maps do); without them it refuses with "has no class information".
    """
    classes = sorted(set(re.findall(r"^device \d+ \S+ class (\S+)$", text, flags=re.M)))
    if not classes:
        return text
    ids = [int(v) for v in re.findall(r"^\s*id (-\d+)", text, flags=re.M)]
    next_id = [min(ids, default=-1) - 1000]

    def add(m: re.Match) -> str:
        extra = []
        for c in classes:
            extra.append(f"\tid {next_id[0]} class {c}")
            next_id[0] -= 1
        return m.group(0) + "\n" + "\n".join(extra)

    return re.sub(r"^\tid -\d+$", add, text, flags=re.M)


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line index of every ``name {`` ... ``}`` block and every deletable single line."""
    out = []
    i = 0
    while i < len(lines):
        ln = lines[i].strip()
        if ln.endswith("{") and not ln.startswith("{") and not ln.startswith("choose_args"):
            j = i
            while j < len(lines) and lines[j].strip() != "}":
                j += 1
            out.append((i, j))
        elif ln == "{":  # one choose_args entry
            j = i
            while j < len(lines) and lines[j].strip() != "}":
                j += 1
            out.append((i, j))
        elif ln.startswith(("item ", "device ", "step set_", "tunable ", "ids ", "[ ")):
            out.append((i, i))
        i += 1
    return out


def delete_lines(text: str, keep: Callable[[str], bool]) -> str:
    """Greedy shrinker: drop blocks (buckets, rules, choose_args entries) and single lines (items, devices,
    tunables, weight-set rows) while ``keep(candidate)`` stays true; repeated until nothing more goes."""
    lines = text.split("\n")
    changed = True
    while changed:
        changed = False
        for a, b in reversed(_blocks(lines)):
            if b >= len(lines):
                continue
            cand = lines[:a] + lines[b + 1:]
            if keep("\n".join(cand)):
                lines = cand
                changed = True
    return "\n".join(lines)


_OSD_W = [0.0001, 0.5, 1.0, 1.0, 1.8, 2.0, 3.6, 7.2]


@dataclass
class OsdmapCase:
    """One random osdmap recipe: a CRUSH text map plus the osdmaptool options to build and test it."""

    seed: int
    crush_text: str
    num_osds: int
    pg_bits: int
    pgp_bits: int
    save_adjust: list[tuple[int, float]] = field(default_factory=list)  # --adjust-crush-weight ... --save
    upmap: tuple[int, int] | None = None  # (--upmap-deviation, --upmap-max) ... --save
    test_variants: list[list[str]] = field(default_factory=list)  # extra args of --test-map-pgs-dump-all runs


def osdmap_case(seed: int) -> OsdmapCase:
    """Host/rack layouts with unequal weights, device classes, several tunable profiles and rules."""
    from tests.crush._gen import _PROFILE_VALUES, _TUN_NAMES, PROFILES

    rng = random.Random(seed * 104729 + 3)
    prof = rng.choice(PROFILES[1:] + ["jewel", "jewel"])
    lines = [f"tunable {n} {v}" for n, v in zip(_TUN_NAMES, _PROFILE_VALUES[prof], strict=True)]
    use_racks = rng.random() < 0.5
    n_racks = rng.randint(1, 3) if use_racks else 1
    classes = rng.random() < 0.4
    # crushtool cannot clone uniform buckets into class shadow trees
    # (and, unless PGTOOLS_ORACLE_KNOWN_BUGS=1, class maps leave tree buckets out: undefined in Ceph)
    algs = ["straw2"] * 6 + ["straw", "list"] + (["tree"] if WITH_KNOWN_BUGS or not classes else []) \
        + ([] if classes else ["uniform"])
    devs: list[str] = []
    buckets: list[str] = []
    next_id = [-2]
    osd = 0
    rack_items = []
    for r in range(n_racks):
        host_items = []
        for h in range(rng.randint(1, 4)):
            alg = rng.choice(algs)
            items = []
            uw = rng.choice(_OSD_W[1:])
            for _ in range(rng.randint(1, 4)):
                cls = f" class {rng.choice(['hdd', 'ssd'])}" if classes else ""
                devs.append(f"device {osd} osd.{osd}{cls}")
                items.append((f"osd.{osd}", uw if alg == "uniform" else rng.choice(_OSD_W)))
                osd += 1
            name = f"host-{r}-{h}"
            bid = next_id[0]
            next_id[0] -= 1
            buckets.append("\n".join([f"host {name} {{", f"\tid {bid}", f"\talg {alg}", "\thash 0"]
                                     + [f"\titem {n} weight {w:.4f}" for n, w in items] + ["}"]))
            host_items.append((name, sum(w for _, w in items)))
        if use_racks:
            bid = next_id[0]
            next_id[0] -= 1
            alg = rng.choice([a for a in algs if a != "uniform"])
            buckets.append("\n".join([f"rack rack-{r} {{", f"\tid {bid}", f"\talg {alg}", "\thash 0"]
                                     + [f"\titem {n} weight {w:.4f}" for n, w in host_items] + ["}"]))
            rack_items.append((f"rack-{r}", sum(w for _, w in host_items)))
        else:
            rack_items = host_items
    buckets.append("\n".join(["root default {", "\tid -1", f"\talg {rng.choice(['straw2', 'straw2', 'straw'])}",
                              "\thash 0"] + [f"\titem {n} weight {w:.4f}" for n, w in rack_items] + ["}"]))
    types = ["type 0 osd", "type 1 host", "type 3 rack", "type 10 root"]
    present = sorted({d.rsplit(" ", 1)[1] for d in devs if " class " in d})
    take = "default"
    if present and rng.random() < 0.6:
        take = f"default class {rng.choice(present)}"
    leaf = rng.choice(["host", "host", "osd"] + (["rack"] if use_racks else []))
    if rng.random() < 0.8:
        steps = [f"step take {take}", f"step chooseleaf firstn 0 type {leaf}", "step emit"]
    else:
        steps = [f"step take {take}", f"step choose firstn 0 type {leaf}", "step chooseleaf firstn 1 type osd",
                 "step emit"]
    rule = "\n".join(["rule replicated_rule {", "\tid 0", "\ttype replicated", "\tmin_size 1", "\tmax_size 10"]
                     + ["\t" + s for s in steps] + ["}"])
    text = add_shadow_ids("\n".join(lines + devs + types + buckets + [rule]) + "\n")
    if rng.random() < 0.3:
        text += _random_choose_args(rng, text)
    n = osd
    case = OsdmapCase(seed, text, n, rng.randint(0, 5), 0)
    case.pgp_bits = rng.randint(max(0, case.pg_bits - 2), case.pg_bits)
    if rng.random() < 0.3:
        case.save_adjust = [(rng.randrange(n), rng.choice([0.0, 0.3, 1.5, 4.0])) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.5:
        case.upmap = (rng.choice([1, 2, 5]), rng.choice([3, 10, 50]))
    case.test_variants = [[]]
    if rng.random() < 0.6:
        case.test_variants.append(["--pool", "1", "--pg_num", str(rng.randint(1, (n << case.pg_bits) + 40))])
    if rng.random() < 0.5:
        case.test_variants.append(["--mark-out", str(rng.randrange(n))])
    if rng.random() < 0.3:
        adj = ",".join(f"{rng.randrange(n)}:{rng.choice([0, 0.5, 2, 3.25])}" for _ in range(rng.randint(1, 2)))
        case.test_variants.append(["--adjust-crush-weight", adj])
    return case


_BUCKET_RE = re.compile(r"^\S+ \S+ \{\n\tid (-\d+)\n(?:\tid -\d+ class \S+\n)*\talg (\w+)\n\thash 0\n((?:\titem .*\n)*)\}",
                        re.MULTILINE)


def _random_choose_args(rng: random.Random, text: str) -> str:
    """A ``choose_args`` block for the map's straw2 buckets (some of them): key -1 (the balancer's compat
    weight set, one position) or 1 (pool 1, one to three positions), random weights, sometimes ids."""
    key = rng.choice([-1, 1])  # -1: written as the u64 18446744073709551615, as crushtool -d does
    npos = 1 if key == -1 else rng.randint(1, 3)
    out = [f"choose_args {key % (1 << 64)} {{"]
    for m in _BUCKET_RE.finditer(text):
        size = m.group(3).count("\titem ")
        if m.group(2) != "straw2" or size == 0 or rng.random() < 0.3:
            continue
        out += ["  {", f"    bucket_id {m.group(1)}"]
        if rng.random() < 0.85:
            out.append("    weight_set [")
            out += ["      [ " + " ".join(f"{rng.choice(_OSD_W + [0.0]):.5f}" for _ in range(size)) + " ]"
                    for _ in range(npos)]
            out.append("    ]")
        if rng.random() < 0.3:
            out.append("    ids [ " + " ".join(str(-200 - rng.randint(0, 50)) for _ in range(size)) + " ]")
        out.append("  }")
    return "\n".join(out + ["}"]) + "\n"


def run_tool(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    """``subprocess.run(argv, capture_output=True, text=True, **kwargs)``, retried when starting the process
    fails with EFAULT: with the reference runs going on in worker threads, CPython's vfork-based spawn has
    been seen to fail once ("[Errno 14] Bad address: '/usr/bin/crushtool'") on this 2-core machine."""
    for attempt in range(3):
        try:
            return subprocess.run(argv, capture_output=True, text=True, **kwargs)
        except OSError as e:
            if e.errno != errno.EFAULT or attempt == 2:
                raise
    raise AssertionError("unreachable")


def prefetched(make: Callable[[int], object], run: Callable[[object], object], seeds: Iterable[int],
               ahead: int = 3) -> Iterator[tuple[object, object]]:
    """Yield ``(case, run(case))`` for ``case = make(seed)`` in seed order, with the next ``ahead`` reference
    runs (the Ceph tools, in subprocesses) already going in worker threads while the caller compares."""
    seeds = list(seeds)
    with ThreadPoolExecutor(max_workers=2) as ex:

        def submit(seed: int) -> Future:
            return ex.submit(lambda: (lambda c: (c, run(c)))(make(seed)))

        pending = [submit(s) for s in seeds[:ahead]]
        for k in range(len(seeds)):
            if k + ahead < len(seeds):
                pending.append(submit(seeds[k + ahead]))
            yield pending.pop(0).result()
