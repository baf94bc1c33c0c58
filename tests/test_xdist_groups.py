"""The suite's two-worker grouping (tests/xdist_groups.py) really holds: a small project run with ``-n 2``."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import textwrap

import pytest

from tests.paths import REPO
from tests.xdist_groups import group_of, rank

pytest.importorskip("xdist")

TEST_BODY = textwrap.dedent("""\
    import os, time
    import pytest

    @pytest.mark.parametrize("i", range({n}))
    def test_t(i, request):
        time.sleep(0.05)
        with open(os.environ["GROUP_LOG"], "a") as f:
            f.write(os.environ["PYTEST_XDIST_WORKER"] + " " + request.node.nodeid + "\\n")
    """)


def test_group_of(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sweep.py").write_text("def f():\n    from distributed import Client\n")
    (tmp_path / "tests" / "test_other.py").write_text("import numpy  # not dask: dask_like\n")
    assert group_of("tests/integration/test_live.py::test_x[reef]", tmp_path) == "ceph-cluster"
    assert group_of("tests/integration/sub/test_y.py::T::test_z", tmp_path) == "ceph-cluster"
    assert group_of("tests/test_notebook_primer.py::test_a", tmp_path) == "notebooks"
    assert group_of("tests/test_notebooks.py::test_b[01_quickstart.ipynb]", tmp_path) == "notebooks"
    assert group_of("tests/test_sweep.py::test_c", tmp_path) == "dask"
    assert group_of("tests/test_other.py::test_d[a@b]", tmp_path) == "tests/test_other.py"
    assert group_of("tests/test_other.py::test_d@mine", tmp_path) == "mine"
    assert group_of("tests/test_missing.py::test_e", tmp_path) == "tests/test_missing.py"
    assert [rank(g) for g in ("ceph-cluster", "tests/oracle/test_a.py", "dask", "tests/test_b.py")] == [0, 1, 2, 2]


def test_two_workers_keep_each_group_on_one(tmp_path):
    """Integration modules, the notebook pair, a Dask module and plain modules, run by two xdist workers: every
    group on one worker, in order, the live-cluster group first on its worker, and both workers busy."""
    files = {"tests/integration/test_live_a.py": 4, "tests/integration/test_live_b.py": 4,
             "tests/test_notebooks.py": 3, "tests/test_notebook_primer.py": 3, "tests/test_sweep_d.py": 3,
             **{f"tests/test_plain_{k}.py": 3 for k in range(6)}}
    for name, n in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = "\n\ndef _unused():\n    import distributed\n" if "sweep" in name else ""
        path.write_text(TEST_BODY.format(n=n) + extra)
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_collection_modifyitems, pytest_xdist_make_scheduler  # noqa: F401\n")
    log = tmp_path / "log.txt"
    # no plugins but xdist: nbmake's import of nbformat/jsonschema alone takes seconds per process
    env = {**os.environ, "GROUP_LOG": str(log), "PYTHONPATH": str(REPO), "CI": "", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "xdist.plugin", "-n", "2",
                        "--dist", "loadgroup", "--no-loadscope-reorder", "--rootdir", str(tmp_path), str(tmp_path)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    runs = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert len(runs) == sum(files.values())
    workers = collections.defaultdict(set)
    order = collections.defaultdict(list)
    for worker, nodeid in runs:
        group = group_of(nodeid, tmp_path)
        workers[group].add(worker)
        order[worker].append(group)
    assert {g for g in workers} == {"ceph-cluster", "notebooks", "dask"} | {
        f"tests/test_plain_{k}.py" for k in range(6)}
    assert all(len(w) == 1 for w in workers.values()), dict(workers)
    assert len({w for ws in workers.values() for w in ws}) == 2  # both workers ran something
    (cluster_worker,) = workers["ceph-cluster"]
    assert order[cluster_worker][:8] == ["ceph-cluster"] * 8
    live = [nodeid for worker, nodeid in runs if group_of(nodeid, tmp_path) == "ceph-cluster"]
    assert live == sorted(live, key=lambda s: (s.split("::")[0], int(s.split("[")[1].rstrip("]"))))
