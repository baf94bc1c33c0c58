"""The teaching notebooks, executed as a reader runs them (``nbclient``, a fresh kernel each), wall time per notebook.

What a newcomer waits for between "Run all" and the last output.  Each notebook runs twice: the first run may
compile numba kernels when their cache is cold (a fresh checkout: ``first_s``), the second is what every later
session sees (``wall_s``).  Target: a notebook runs in under a minute once the kernels are compiled
(``under_a_minute``).  The tests (``tests/test_notebooks.py``) check that they run and what they print, not
how fast.
"""

from __future__ import annotations

import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run(path: Path) -> float:
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=600,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    t0 = time.perf_counter()
    client.execute()
    return time.perf_counter() - t0


def run() -> list[dict]:
    rows = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        first = _run(path)
        wall = _run(path)
        rows.append({"case": path.stem, "first_s": round(first, 2), "wall_s": round(wall, 2),
                     "under_a_minute": wall < 60})
    return rows
