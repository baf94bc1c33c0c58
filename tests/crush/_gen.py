"""Random CRUSH maps in crushtool's text syntax (test helper)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

PROFILES = ["argonaut", "bobtail", "firefly", "hammer", "jewel"]
_PROFILE_VALUES = {
    "argonaut": (2, 5, 19, 0, 0, 0, 0),
    "bobtail": (0, 0, 50, 1, 0, 0, 0),
    "firefly": (0, 0, 50, 1, 1, 0, 0),
    "hammer": (0, 0, 50, 1, 1, 0, 1),
    "jewel": (0, 0, 50, 1, 1, 1, 1),
}
_TUN_NAMES = ("choose_local_tries", "choose_local_fallback_tries", "choose_total_tries",
              "chooseleaf_descend_once", "chooseleaf_vary_r", "chooseleaf_stable", "straw_calc_version")
ALGS = ["uniform", "list", "tree", "straw", "straw2"]
TYPES = ["osd", "host", "rack", "row", "root"]


@dataclass
class GenMap:
    text: str
    rules: list[tuple[int, int]]  # (rule id, num_rep)
    max_osd: int
    reweights: dict[int, float] = field(default_factory=dict)
    pool_key: int | None = None


def _w(rng: random.Random) -> float:
    return rng.choice([0.0, 0.00002, 0.1, 0.5, 1.0, 1.0, 1.0, 2.0, 3.5, 7.25])


def random_text_map(seed: int, *, allow_algs: list[str] | None = None, classes: bool = True,
                    choose_args: bool = True) -> GenMap:
    """A random map: depth 1..4, every algorithm, tunable profiles, rules of every kind."""
    rng = random.Random(seed)
    algs = allow_algs or ALGS
    prof = rng.choice(PROFILES)
    vals = list(_PROFILE_VALUES[prof])
    if rng.random() < 0.2:
        vals[0] = rng.choice([0, 1, 2])
        vals[1] = rng.choice([0, 2, 5])
    lines = [f"tunable {n} {v}" for n, v in zip(_TUN_NAMES, vals, strict=False)]
    depth = rng.randint(1, 4)
    fanout = [rng.randint(1, 4) for _ in range(depth)]
    devs: list[tuple[int, str | None]] = []
    buckets: list[str] = []
    next_osd = [0]
    next_id = [-1]
    use_classes = classes and rng.random() < 0.4
    straw2: list[tuple[int, int]] = []

    def make(level: int, name: str) -> tuple[str, float]:
        """Create a bucket at ``level`` (1 = host) and return (name, weight)."""
        alg = rng.choice(algs)
        bid = next_id[0]
        next_id[0] -= 1
        items: list[tuple[str, float]] = []
        n = rng.randint(1, 5) if level == 1 else fanout[level - 1]
        if rng.random() < 0.05:
            n = 0
        for i in range(n):
            if level == 1:
                osd = next_osd[0]
                next_osd[0] += 1
                cls = rng.choice(["hdd", "ssd"]) if use_classes else None
                devs.append((osd, cls))
                items.append((f"osd.{osd}", _w(rng)))
            else:
                items.append(make(level - 1, f"{name}-{i}"))
        if alg == "uniform" and items:
            uw = items[0][1] if items[0][1] > 0 else 1.0
            if level > 1:
                uw = rng.choice([1.0, 2.0])
            items = [(nm, uw) for nm, _ in items]
        if alg == "straw2":
            straw2.append((bid, len(items)))
        body = [f"{TYPES[level]} {name} {{", f"\tid {bid}", f"\talg {alg}", "\thash 0"]
        total = 0.0
        for nm, w in items:
            body.append(f"\titem {nm} weight {w:.5f}")
            total += w
        body.append("}")
        buckets.append("\n".join(body))
        return name, total

    top_level = depth
    root_name, _ = make(top_level, "b")
    if top_level < 4:
        # wrap into a root bucket so rules can always take "root"
        bid = next_id[0]
        next_id[0] -= 1
        buckets.append("\n".join(["root root {", f"\tid {bid}", f"\talg {rng.choice(algs)}", "\thash 0",
                                  f"\titem {root_name}", "}"]))
        root_name = "root"
    max_osd = next_osd[0]
    dev_lines = []
    for osd, cls in devs:
        dev_lines.append(f"device {osd} osd.{osd}" + (f" class {cls}" if cls else ""))
    type_lines = [f"type {i} {t}" for i, t in enumerate(TYPES)]
    rules_txt = []
    rules: list[tuple[int, int]] = []
    leaf_type = rng.choice(TYPES[1:depth + 1] if depth >= 1 else ["host"])
    take = root_name
    present = sorted({c for _, c in devs if c})
    if present and rng.random() < 0.7:
        take = f"{root_name} class {rng.choice(present)}"
    shapes = [
        ("replicated", [f"step take {take}", f"step chooseleaf firstn 0 type {leaf_type}", "step emit"]),
        ("erasure", ["step set_chooseleaf_tries 5", "step set_choose_tries 100", f"step take {take}",
                     f"step chooseleaf indep 0 type {leaf_type}", "step emit"]),
        ("replicated", [f"step take {take}", "step choose firstn 0 type osd", "step emit"]),
        ("erasure", [f"step take {take}", f"step choose indep 0 type {leaf_type}",
                     "step choose indep 1 type osd", "step emit"]),
        ("replicated", [f"step take {take}", f"step choose firstn {rng.randint(1, 2)} type {leaf_type}",
                        "step chooseleaf firstn 2 type osd", "step emit"]),
        ("replicated", ["step set_chooseleaf_vary_r 0", "step set_chooseleaf_stable 0",
                        "step set_choose_local_tries 1", "step set_choose_local_fallback_tries 3",
                        f"step take {take}", f"step chooseleaf firstn -1 type {leaf_type}", "step emit"]),
    ]
    for rid, (kind, steps) in enumerate(shapes):
        rules_txt.append("\n".join([f"rule r{rid} {{", f"\tid {rid}", f"\ttype {kind}", "\tmin_size 1",
                                    "\tmax_size 20"] + ["\t" + s for s in steps] + ["}"]))
        rules.append((rid, rng.randint(1, 6)))
    reweights = {}
    for osd in range(max_osd):
        if rng.random() < 0.15:
            reweights[osd] = rng.choice([0.0, 0.3, 0.5, 0.9])
    cargs_txt: list[str] = []
    pool_key = None
    if choose_args and straw2 and rng.random() < 0.5:
        pool_key = rng.choice([0, 1])
        npos = rng.randint(1, 3)
        cargs_txt.append(f"choose_args {pool_key} {{")
        for bid, size in straw2:
            if rng.random() < 0.2:
                continue
            cargs_txt.append("  {")
            cargs_txt.append(f"    bucket_id {bid}")
            if rng.random() < 0.8:
                cargs_txt.append("    weight_set [")
                for _ in range(npos):
                    cargs_txt.append("      [ " + " ".join(f"{_w(rng):.5f}" for _ in range(size)) + " ]")
                cargs_txt.append("    ]")
            if rng.random() < 0.4:
                cargs_txt.append("    ids [ " + " ".join(str(-100 - rng.randint(0, 50)) for _ in range(size))
                                 + " ]")
            cargs_txt.append("  }")
        cargs_txt.append("}")
    text = "\n".join(lines + dev_lines + type_lines + buckets + rules_txt + cargs_txt) + "\n"
    return GenMap(text, rules, max_osd, reweights, pool_key)
