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


# Two workers (``make test``): tests/xdist_groups.py says which tests share one and why.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.xdist_groups import GroupScheduling

    return GroupScheduling(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker: the groups one after the other, heaviest first (the same order on every worker)."""
    if not hasattr(config, "workerinput") or config.getvalue("dist") != "loadgroup":
        return
    from tests.xdist_groups import group_of, rank

    groups = {item.nodeid: group_of(item.nodeid, config.rootpath) for item in items}
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        first.setdefault(groups[item.nodeid], i)
    items.sort(key=lambda it: (rank(groups[it.nodeid]), first[groups[it.nodeid]]))
