"""Which tests share a worker when the suite runs on two (``make test``: pytest-xdist, ``-n 2 --dist loadgroup``).

A *group* runs whole on one worker, its tests in collection order.  Every test belongs to exactly one:

``ceph-cluster``
    Everything in ``tests/integration``.  A MiniCluster probes for a free port pair on 127.0.0.1 and binds it
    later (two clusters starting at once can race for it), spawns a mon, a mgr and OSDs, and for Reef/Tentacle
    runs them in ``unshare --mount`` + ``chroot`` namespaces; the tests' timeouts (``wait_clean``, heartbeats)
    were measured with one cluster at a time.  One worker runs them all, one module after the other.
``dask``
    Test modules that import ``dask``/``distributed``: each starts a LocalCluster of worker *processes*; one
    at a time keeps two of them from sharing the two cores with everything else.
``notebooks``
    ``tests/test_notebooks.py`` and ``tests/test_notebook_primer.py`` share one in-process cache of the executed
    notebooks (``_EXECUTED``: each notebook runs once) and may install the ``pgtools-test`` kernel spec into
    ``~/.local`` (``ipykernel.kernelspec.install`` removes and rewrites the folder: two at once could clash).
the test's module, otherwise
    Module-scoped fixtures (loaded captures, oracle maps and their prefetch threads) are built once, as in a
    serial run, and a module's tests keep their order.

Why not ``@pytest.mark.xdist_group``: xdist carries the mark from the worker to the scheduler by appending
``@group`` to the test's node id, which pytest 9.2's structured node ids silently ignore (pytest-xdist#1386:
the tests are then spread over the workers as if unmarked).  The group is therefore a function of the node id
alone, computed by the scheduler (:class:`GroupScheduling`, installed by ``tests/conftest.py``).  A new test
needs nothing: integration tests and Dask modules are recognised by where they are and what they import; a new
cross-module group goes into :data:`SHARED_GROUPS`.

The workers order the groups heaviest first (:func:`rank`: live clusters, then oracle modules, then the rest;
``--no-loadscope-reorder`` keeps that order instead of xdist's by number of tests), so that the long groups
start early and the short ones fill the end.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

#: groups spanning several modules, by module path (relative to the repository, as in node ids)
SHARED_GROUPS = {
    "tests/test_notebooks.py": "notebooks",
    "tests/test_notebook_primer.py": "notebooks",
}
INTEGRATION = "tests/integration/"
#: ``import dask``, ``from distributed import ...``, ``pytest.importorskip("distributed")``
_DASK_IMPORT = re.compile(r"^\s*(?:import|from)\s+(?:dask|distributed)\b"
                          r"|importorskip\(\s*[\"'](?:dask|distributed)\b", re.M)


@cache
def _imports_dask(path: Path) -> bool:
    try:
        return _DASK_IMPORT.search(path.read_text(encoding="utf-8")) is not None
    except OSError:
        return False


def group_of(nodeid: str, root: Path) -> str:
    """The group of the test ``nodeid`` (relative to the repository ``root``); see the module docstring."""
    if nodeid.rfind("@") > nodeid.rfind("]"):  # an xdist_group mark that xdist could still carry (pytest < 9.2)
        return nodeid.rsplit("@", 1)[1]
    module = nodeid.split("::", 1)[0].replace("\\", "/")
    if module.startswith(INTEGRATION):
        return "ceph-cluster"
    if module in SHARED_GROUPS:
        return SHARED_GROUPS[module]
    if module.endswith(".py") and _imports_dask(root / module):
        return "dask"
    return module


def rank(group: str) -> int:
    """Scheduling order of a group: 0 the live clusters, 1 the oracle modules, 2 the rest."""
    return 0 if group == "ceph-cluster" else 1 if group.startswith("tests/oracle/") else 2


class GroupScheduling(LoadScopeScheduling):
    """xdist's scheduling by scope, the scope of a test being its :func:`group_of`."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid, Path(self.config.rootpath))
