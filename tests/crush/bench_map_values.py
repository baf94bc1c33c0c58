"""Timing script (not a test): map_values on a 1,000-OSD straw2 map.

Run with ``python -m tests.crush.bench_map_values``.  Builds 50 hosts x 20 OSDs under one straw2
root, maps 32,768 inputs with a 3-replica chooseleaf firstn rule and a 6-shard chooseleaf indep rule,
prints the best of three runs, and checks the first 300 rows against the scalar reference.
"""

from __future__ import annotations

import time

import numpy as np

from pgtools.crush import CrushMap, Tunables, map_values
from pgtools.crush.buckets import Bucket
from pgtools.crush.hash import hash2_vec
from pgtools.crush.rule import OPS, Rule


def build_map(hosts: int = 50, per_host: int = 20) -> CrushMap:
    """A straw2 map: ``hosts`` hosts of ``per_host`` OSDs each, under root ``default`` (-1)."""
    buckets: dict[int, Bucket] = {}
    host_ids = []
    for h in range(hosts):
        bid = -2 - h
        items = tuple(range(h * per_host, (h + 1) * per_host))
        ws = tuple(0x10000 + (i % 7) * 0x1000 for i in items)
        buckets[bid] = Bucket(bid, f"host{h}", 1, 5, 0, items, ws, sum(ws))
        host_ids.append(bid)
    hw = tuple(buckets[b].weight for b in host_ids)
    buckets[-1] = Bucket(-1, "default", 10, 5, 0, tuple(host_ids), hw, sum(hw))
    take, emit = (OPS["take"], -1, 0), (OPS["emit"], 0, 0)
    rules = {
        0: Rule(0, "replicated", 0, 1, 1, 10, (take, (OPS["chooseleaf_firstn"], 0, 1), emit)),
        1: Rule(1, "ec", 1, 3, 3, 20, ((OPS["set_chooseleaf_tries"], 5, 0), (OPS["set_choose_tries"], 100, 0),
                                       take, (OPS["chooseleaf_indep"], 0, 1), emit)),
    }
    n = hosts * per_host
    return CrushMap({i: (f"osd.{i}", None) for i in range(n)}, {0: "osd", 1: "host", 10: "root"}, buckets,
                    rules, Tunables(), max_devices=n)


def main() -> None:
    cm = build_map()
    xs = hash2_vec(np.arange(32768), 1)
    map_values(cm, 0, 3, xs[:10])  # warm the crush_ln table
    for rule, nrep in ((0, 3), (1, 6)):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            res = map_values(cm, rule, nrep, xs)
            best = min(best, time.perf_counter() - t)
        ref = [cm.do_rule(rule, int(x), nrep) for x in xs[:300]]
        same = [[v for v in r if v != -1] for r in res[:300].tolist()] == ref
        print(f"rule {rule} num_rep {nrep}: {len(xs)} inputs, best of 3 = {best:.3f} s, "
              f"reference agrees on 300 rows: {same}")


if __name__ == "__main__":
    main()
