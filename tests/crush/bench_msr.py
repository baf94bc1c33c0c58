"""Timing script (not a test): MSR rules on a 1,000-OSD straw2 map, the three engines.

Run with ``python -m tests.crush.bench_msr [reference_inputs]``.  The map of :mod:`tests.crush.bench_map_values`
(50 hosts x 20 OSDs) with 5 % of the OSDs reweighted to 0 and 5 % to 0.5 (so out devices are retried), and three
MSR rules: ``msr_firstn`` over hosts then one OSD (3 replicas), ``msr_indep`` over 6 hosts then one OSD (4+2),
``msr_indep`` over 4 hosts then 2 OSDs each (6+2).  32,768 inputs with the NumPy engine (best of 3) and with numba
(if installed, compiled before timing); the scalar reference maps the first ``reference_inputs`` (default 2,000)
inputs and its time is scaled to 32,768; all engines must agree on those rows.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from pgtools.crush import have_numba, map_values
from pgtools.crush.hash import hash2_vec
from pgtools.crush.rule import MSR_FIRSTN, MSR_INDEP, OPS, Rule
from tests.crush.bench_map_values import build_map

N = 32768


def main() -> None:
    nref = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    cm = build_map()
    take, emit, msr = (OPS["take"], -1, 0), (OPS["emit"], 0, 0), OPS["choosemsr"]
    cm.rules[2] = Rule(2, "msr3", 2, MSR_FIRSTN, None, None, (take, (msr, 0, 1), (msr, 1, 0), emit))
    cm.rules[3] = Rule(3, "msr42", 3, MSR_INDEP, None, None, (take, (msr, 6, 1), (msr, 1, 0), emit))
    cm.rules[4] = Rule(4, "msr62", 4, MSR_INDEP, None, None, (take, (msr, 4, 1), (msr, 2, 0), emit))
    rng = np.random.default_rng(7)
    wts = np.full(cm.max_devices, 0x10000, dtype=np.int64)
    pick = rng.permutation(cm.max_devices)
    wts[pick[:50]] = 0
    wts[pick[50:100]] = 0x8000
    xs = hash2_vec(np.arange(N), 1).astype(np.int64)
    engines = ["numpy"] + (["numba"] if have_numba() else [])
    for rule, nrep in ((2, 3), (3, 6), (4, 8)):
        times = {}
        rows = {}
        for e in engines:
            map_values(cm, rule, nrep, xs[:10], wts, engine=e)  # warm up (crush_ln table, numba compile)
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                rows[e] = map_values(cm, rule, nrep, xs, wts, engine=e)
                best = min(best, time.perf_counter() - t)
            times[e] = best
        t = time.perf_counter()
        ref = [cm.do_rule(rule, int(x), nrep, list(wts)) for x in xs[:nref]]
        times["reference"] = (time.perf_counter() - t) * N / nref
        same = all([[v for v in r if v != -1] for r in rows[e][:nref].tolist()] == ref for e in engines)
        same = same and all(np.array_equal(rows[e], rows["numpy"]) for e in engines)
        figures = ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
        print(f"rule {cm.rules[rule].name} num_rep {nrep}: {N} inputs: {figures} (reference scaled from {nref}); "
              f"reference/numpy = {times['reference'] / times['numpy']:.0f}x; engines agree: {same}")


if __name__ == "__main__":
    main()
