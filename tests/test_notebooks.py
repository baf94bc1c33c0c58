"""Run every notebook top to bottom (nbclient) and fail on any error; check they are stored without outputs."""

from __future__ import annotations

import sys
import time

import pytest

from tests.paths import REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = REPO / "notebooks"
NAMES = ["01_quickstart.ipynb", "02_imbalance.ipynb", "03_pg_num_whatif.ipynb", "04_crush_tuning.ipynb",
         "06_balancer.ipynb", "07_durability.ipynb"]


def _kernel_name() -> str:
    """A kernel spec that runs this interpreter: the default ``python3`` when it is ours, else one we install."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    try:
        spec = ksm.get_kernel_spec("python3")
        # jupyter_client swaps a bare "python" for sys.executable when it launches the kernel
        if spec.argv and spec.argv[0] in ("python", "python3", sys.executable):
            return "python3"
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(user=True, kernel_name="pgtools-test", display_name="pgtools tests")
    return "pgtools-test"


_EXECUTED: dict[str, tuple[object, float]] = {}


def _execute(name: str):
    """Execute a copy of the notebook once per test session; return it and its run time in seconds."""
    if name not in _EXECUTED:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        # a cell may compile numba kernels on a fresh checkout (tens of seconds on two busy cores): the timeout
        # guards against a hang, not a speed target (those live in benchmarks/)
        client = nbclient.NotebookClient(nb, kernel_name=_kernel_name(), timeout=300,
                                         resources={"metadata": {"path": str(NOTEBOOKS)}})
        start = time.monotonic()
        client.execute()  # raises CellExecutionError on the first failing cell
        _EXECUTED[name] = (nb, time.monotonic() - start)
    return _EXECUTED[name]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name):
    nb, _seconds = _execute(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    images = sum(1 for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert images >= 3


def _text(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_quickstart_prints_the_health_warning():
    text = _text(_execute("01_quickstart.ipynb")[0])
    assert "TOO_MANY_PGS               HEALTH_WARN  too many PGs per OSD (480 > max 300)" in text
    assert "cluster said: too many PGs per OSD (480 > max 300)" in text


def test_imbalance_prints_observed_and_expected_stddev():
    text = _text(_execute("02_imbalance.ipynb")[0])
    assert "observed stddev 11.62, expected for random placement 20.98" in text
    assert "host stddev 19.1; Binomial(1920, 1/4): 19.0" in text
    assert "correlation with kb_used: PG count 0.37, PG bytes 1.00" in text


def test_balancer_notebook_puts_pgtools_beside_the_mgr():
    text = _text(_execute("06_balancer.ipynb")[0])
    assert "seed: 12 OSDs, 5760 PG copies, 461..495 per OSD (target 480; stddev 11.62)" in text
    assert "MgrSettings(max_deviation=5, max_deviation_source='default', max_optimizations=10" in text
    # seed: integer per-pool targets, the shuffling mgr pushed to ±1 gets there too, with more commands than
    # pgtools, which stops at ±1; mixed (fractional targets): pgtools ends far closer
    line = next(t for t in text.splitlines() if t.startswith("mgr at ±1: summed deviation 19 -> "))
    mgr_cmds = int(line.split(" with ")[1].split()[0])
    assert "pgtools count: -> 1 with " in line and int(line.rsplit(" with ", 1)[1]) < mgr_cmds
    mixed = next(t for t in text.splitlines() if t.startswith("mixed: mgr at ±1 -> "))
    mgr_dev = float(mixed.split("-> ")[1].split()[0])
    ours = float(mixed.split("pgtools count -> ")[1].split()[0])
    assert ours <= 1.5 < mgr_dev
    assert "drain host n2: " in text and "for the next ones" in text
    assert "24 pg-upmap-primary commands, no data moved" in text


def test_durability_notebook_counts_the_docs_example_exactly():
    text = _text(_execute("07_durability.ipynb")[0])
    assert "PG copies per OSD: mean 153.6, range 138..178" in text
    # 512 x 3 / 45 pairs and 512 / 120 triples: every PG's three OSDs are one triple (tests/test_risk.py pins the toy)
    assert "two OSDs down: 34.1 PGs on one copy on average (docs: about 17), up to 49" in text
    assert "three OSDs down: 4.27 PGs lost on average (docs: about 2), up to 9; P(some PG lost) = 1.000 (exact)" in text
    # disks alone vs disks and hosts failing as units (tests/test_risk_annual.py checks the sets by brute force)
    assert "MTTDL with disks alone: 4.26e+06 years; disks and hosts: 1.89e+06 years" in text


@pytest.mark.parametrize("name", NAMES)
def test_notebook_stored_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None
    assert nb.metadata["kernelspec"]["name"] == "python3"
