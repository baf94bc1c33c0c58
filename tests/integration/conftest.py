"""Integration tests run against a throwaway Ceph cluster (see :mod:`tests.integration.cluster`).

Every test here is skipped when Ceph's daemons are not installed; with ``CI=true`` the top-level
``tests/conftest.py`` turns those skips into failures.
"""

from __future__ import annotations

import shutil

import pytest

from tests.integration.cluster import DAEMONS, ceph_installed


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ceph_installed():
        return
    missing = [d for d in DAEMONS if not shutil.which(d)]
    skip = pytest.mark.skip(reason=f"Ceph not installed (missing {', '.join(missing)}); "
                                   f"apt-get install ceph-mon ceph-osd ceph-mgr ceph-common")
    for item in items:
        if "tests/integration/" in item.nodeid.replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def ceph_workdir(tmp_path_factory: pytest.TempPathFactory):
    """A fresh folder for one module's cluster (short path: admin sockets must stay under 108 bytes)."""
    return tmp_path_factory.mktemp("ceph")
