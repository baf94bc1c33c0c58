"""Run every benchmark (`benchmarks/bench_*.py`, each with a ``run() -> dict | list[dict]``) and print results.

Targets live here, never in unit tests.  Benchmarks that compare with Ceph's own tools (crushtool, osdmaptool)
run them in the same invocation and print the ratio.  ``python benchmarks/run.py [NAME ...]`` runs a subset.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str]) -> int:
    wanted = set(argv)
    results = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem[len("bench_"):]
        if wanted and name not in wanted:
            continue
        mod = _load(path)
        t0 = time.perf_counter()
        res = mod.run()
        for r in res if isinstance(res, list) else [res]:
            r = {"benchmark": name, **r}
            results.append(r)
            print(json.dumps(r), flush=True)
        print(f"# {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    out = HERE.parent / "out"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
