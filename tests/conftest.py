from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_NEVER_SKIP_IN_CI = ("oracle", "integration")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With CI=true, an oracle or integration test that skips is a failure (CI must run them all)."""
    outcome = yield
    rep = outcome.get_result()
    if IN_CI and rep.skipped and any(item.get_closest_marker(m) for m in _NEVER_SKIP_IN_CI):
        rep.outcome = "failed"
        rep.longrepr = f"skipped with CI=true, which is not allowed for oracle/integration tests: {rep.longrepr}"
