"""Random CRUSH maps with MSR rules (Squid and later) for the Tentacle oracle and the engine property tests (test helper).

:func:`msr_case`: root -> optional racks -> hosts -> OSDs of every bucket algorithm, zero weights, device classes,
``msr_descents``/``msr_collision_tries`` tunables (in two thirds of the maps; Ceph's defaults, 100 and 100, in the
others), compat weight sets with positions, and 3-5 ``msr_firstn``/``msr_indep`` rules of several shapes
(``choosemsr`` over hosts then OSDs, over racks, hosts and OSDs, straight over OSDs, ``set_msr_*`` prefixes, two
``take ... emit`` blocks, class takes, a bucket take, malformed rules), ``--weight`` reweights and ``--pool-id``.
Used by ``tests/oracle/test_crushtool_msr.py`` (against Tentacle's crushtool) and ``tests/crush/test_msr.py``
(the engines against each other, no Ceph needed).
"""

from __future__ import annotations

import random

from tests.oracle._maps import CrushCase

__all__ = ["FIRST_SEED", "msr_case"]

#: the first seed of the oracle's maps
FIRST_SEED = 40_000
_ALGS = ("straw2", "straw2", "straw2", "list", "straw", "uniform", "tree")


def _weight(rng: random.Random) -> float:
    return rng.choice([0.5, 1.0, 1.0, 2.0, 3.5, 0.0]) if rng.random() < 0.9 else 0.01


def msr_case(seed: int) -> CrushCase:
    """A random map with 3-5 MSR rules, tested for one num_rep range (Tentacle has no per-rule sizes).

    96 inputs, 32 when the map keeps Ceph's default MSR tunables (an input that cannot be fully mapped then
    costs 100 x 100 descents per stride).
    """
    rng = random.Random(seed * 104729 + 3)
    classes = rng.random() < 0.35
    racks = rng.randint(2, 4) if rng.random() < 0.4 else 0
    lines = ["tunable choose_local_tries 0", "tunable choose_local_fallback_tries 0",
             "tunable choose_total_tries 50", "tunable chooseleaf_descend_once 1", "tunable chooseleaf_vary_r 1",
             "tunable chooseleaf_stable 1", "tunable straw_calc_version 1", "tunable allowed_bucket_algs 54"]
    # Ceph's defaults (100 and 100) in a third of the maps: an input that cannot be fully mapped then costs
    # msr_descents x msr_collision_tries descents per stride (crushtool's C too, ~10x faster than numba)
    small = rng.random() < 0.67
    if small:
        lines.append(f"tunable msr_descents {rng.choice([1, 2, 3, 5, 12])}")
        lines.append(f"tunable msr_collision_tries {rng.choice([1, 2, 4, 9])}")
    # no uniform (crushtool cannot clone it) nor tree (cloned with uninitialised nodes) under class takes
    algs = [a for a in _ALGS if not classes or a in ("straw2", "list", "straw")]
    hosts: list[list[int]] = []
    osd = 0
    for _ in range(max(racks, 1) * rng.randint(2, 4) if racks else rng.randint(3, 7)):
        n = rng.randint(2 if classes else 1, 5)
        hosts.append(list(range(osd, osd + n)))
        osd += n
    devs = []
    for h in hosts:
        for k, d in enumerate(h):
            cls = ("hdd", "ssd")[k] if k < 2 else rng.choice(["hdd", "ssd"])
            devs.append(f"device {d} osd.{d}" + (f" class {cls}" if classes else ""))
    lines += devs + ["type 0 osd", "type 1 host", "type 2 rack", "type 3 root"]
    straw2: list[tuple[int, int]] = []  # (bucket id, size)

    def bucket(kind: str, name: str, bid: int, items: list[tuple[str, float]]) -> float:
        alg = rng.choice(algs)
        if alg == "uniform":
            w = items[0][1] or 1.0
            items = [(i, w) for i, _ in items]
        elif alg == "straw2":
            straw2.append((bid, len(items)))
        lines.append(f"{kind} {name} {{\n\tid {bid}\n\talg {alg}\n\thash 0\n"
                     + "".join(f"\titem {i} weight {w:.5f}\n" for i, w in items) + "}")
        return sum(w for _, w in items)

    host_w = [(f"h{k}", bucket("host", f"h{k}", -2 - k, [(f"osd.{d}", _weight(rng)) for d in h]))
              for k, h in enumerate(hosts)]
    top = host_w
    if racks:
        per = len(hosts) // racks
        top = [(f"k{r}", bucket("rack", f"k{r}", -100 - r, host_w[r * per:(r + 1) * per if r < racks - 1 else None]))
               for r in range(racks)]
    bucket("root", "default", -1, top)
    need = rng.randint(2, 6)
    rules = []
    shapes = ["hosts", "hosts", "hosts0", "osds", "two", "config", "bad"] + (["racks", "racks"] if racks else [])
    for rid in range(rng.randint(3, 5)):
        shape = rng.choice(shapes)
        kind = rng.choice(["msr_indep", "msr_firstn"])
        take = "default class hdd" if classes and rng.random() < 0.5 else "default"
        a, b = rng.choice([(2, 1), (2, 2), (3, 1), (3, 2), (4, 1), (2, 3)])
        if shape == "hosts":
            steps = [f"take {take}", f"choosemsr {a} type host", f"choosemsr {b} type osd", "emit"]
        elif shape == "hosts0":
            steps = [f"take {take}", "choosemsr 0 type host", "choosemsr 1 type osd", "emit"]
        elif shape == "racks":
            steps = [f"take {take}", f"choosemsr {rng.choice([0, 2])} type rack", f"choosemsr {a} type host",
                     f"choosemsr {b} type osd", "emit"]
        elif shape == "osds":
            steps = ([f"take {take}"] if rng.random() < 0.6 else
                     ["set_msr_descents 3", "set_msr_collision_tries 5", "take h0"]) + ["choosemsr 0 type osd", "emit"]
        elif shape == "two":
            steps = [f"take {take}", f"choosemsr {a} type host", "choosemsr 1 type osd", "emit",
                     f"take {take}", f"choosemsr {rng.choice([0, 1, 2])} type osd", "emit"]
        elif shape == "config":
            steps = [f"set_msr_descents {rng.randint(1, 4)}", f"set_msr_collision_tries {rng.randint(1, 4)}",
                     f"take {take}", f"choosemsr {a} type host", f"choosemsr {b} type osd", "emit"]
        else:  # malformed: crush_msr_do_rule maps nothing (a chooseleaf step, a device step before a host step)
            steps = rng.choice([[f"take {take}", "chooseleaf firstn 0 type host", "emit"],
                                [f"take {take}", "choosemsr 2 type osd", "choosemsr 1 type host", "emit"],
                                ["set_msr_descents 2", f"take {take}", f"choosemsr {a} type host"]])
        rules.append(f"rule r{rid} {{\n\tid {rid}\n\ttype {kind}\n" + "".join(f"\tstep {s}\n" for s in steps) + "}")
    lines += rules
    if straw2 and not classes and rng.random() < 0.5:  # compat weight set, 1-3 positions (position = stride)
        npos = rng.randint(1, 3)
        body = "".join(f"  {{\n    bucket_id {bid}\n    weight_set [\n"
                       + "".join("      [ " + " ".join(f"{rng.choice([0.5, 1.0, 2.0, 3.0]):.5f}" for _ in range(size))
                                 + " ]\n" for _ in range(npos)) + "    ]\n  }\n"
                       for bid, size in straw2 if rng.random() < 0.7)
        if body:
            lines.append(f"choose_args 0 {{\n{body}}}")
    reweights = {}
    for d in rng.sample(range(osd), k=min(osd, rng.choice([0, 0, 1, 2, 4]))):
        reweights[d] = rng.choice([0.0, 0.0, 0.5, 0.25])
    lo = max(1, need - 1)
    rule_ids = dict.fromkeys(range(len(rules)), (lo, need + 2))
    return CrushCase(seed, "\n".join(lines) + "\n", rule_ids, 96 if small else 32, reweights,
                     rng.choice([-1, -1, -1, 3]))
