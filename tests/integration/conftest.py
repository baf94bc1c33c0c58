"""Integration tests run against a throwaway Ceph cluster (see :mod:`tests.integration.cluster`).

A test that takes the fixture ``release`` runs once per release its module lists for it in
``LIVE_RELEASES = {"test_name": ("pacific", "tentacle")}`` (default: Pacific only); the module-scoped fixtures
built on ``release`` (the module's cluster) are then made once per release.  Pacific runs the host's daemons,
Reef and Tentacle those of their chroots (``make ceph-releases``).

Every test here is skipped when the daemons of its release are not installed; with ``CI=true`` the top-level
``tests/conftest.py`` turns those skips into failures.
"""

from __future__ import annotations

import shutil

import pytest

from tests.ceph_release_tools import root
from tests.integration.cluster import DAEMONS, ceph_installed


def _release_of(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("release", "pacific") if callspec is not None else "pacific"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "release" in metafunc.fixturenames:
        releases = getattr(metafunc.module, "LIVE_RELEASES", {}).get(metafunc.function.__name__, ("pacific",))
        metafunc.parametrize("release", list(releases), indirect=True, scope="module")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" not in item.nodeid.replace("\\", "/"):
            continue
        release = _release_of(item)
        if ceph_installed(release):
            continue
        if root(release) is None:
            missing = [d for d in DAEMONS if not shutil.which(d)]
            reason = (f"Ceph not installed (missing {', '.join(missing)}); "
                      f"apt-get install ceph-mon ceph-osd ceph-mgr ceph-common")
        else:
            reason = f"no Ceph {release} daemons in {root(release)} (make ceph-releases; needs root and unshare)"
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def release(request: pytest.FixtureRequest) -> str:
    """The Ceph release of the module's cluster (parametrized by :func:`pytest_generate_tests`)."""
    return getattr(request, "param", "pacific")


@pytest.fixture(scope="module")
def ceph_workdir(tmp_path_factory: pytest.TempPathFactory):
    """A fresh folder for one module's cluster (short path: admin sockets must stay under 108 bytes)."""
    return tmp_path_factory.mktemp("ceph")
