"""Durability: what failures of OSDs, hosts, racks ... do to this map's PGs, counted on its real acting sets.

What lives here
---------------
:mod:`~pgtools.risk.copysets`
    The failure units of a CRUSH level and the PGs' copysets over them, reduced once to coefficient tables
    (:class:`Copysets`, :func:`build_copysets`): plain arrays a sweep can scatter to its workers.
:mod:`~pgtools.risk.counting`
    Counting K-sets over the tables: exact expectations, exact P(any loss) by enumeration or by counting
    the minimal lethal sets (every K <= 3), Monte Carlo with a Wilson interval where counting does not reach.
:mod:`~pgtools.risk.pairgraph`
    The graph of lethal pairs: triangles, cherries and the heaviest of them, for the K = 3 counts (numba
    when installed, imported on first use).
:mod:`~pgtools.risk.annual`
    Over time: annual loss probability and MTTDL from failure rates and recovery windows
    (:func:`annual_risk`), on the map's minimal lethal sets; one level, or several failing together.
:mod:`~pgtools.risk.mixed`
    Correlated failures: the minimal lethal sets of mixed units (OSDs, hosts, racks ... each failing as a
    unit), exact from the acting sets (:func:`~pgtools.risk.mixed.mixed_lethal_sets`).
:mod:`~pgtools.risk.conditional`
    The entry points: :func:`failure_risk` (one tidy row per pool and K), :func:`risk_for` (one K on
    prepared copysets, for sweeps), :func:`worst_failures`, :func:`domain_check`.
:mod:`~pgtools.risk.failset`
    :func:`failure_set`: the PGs (bytes) lost and inactive when exactly the given units fail together.
:mod:`~pgtools.risk.overlap`
    :func:`pair_overlap`: the PGs each pair of units holds together (the copyset-overlap picture).
:mod:`~pgtools.risk.sweep`
    :func:`sweep`: grids of scenarios (pg_num / size per pool × level × K, and every unit failing alone
    through the what-if engine) as one tidy frame, serially or on dask.distributed (the capture scattered to
    the workers once; identical results).

Imports: :mod:`pgtools.errors`, :mod:`pgtools.model`, :mod:`pgtools.placement` (recomputed acting sets when
the capture has no PG table), :mod:`pgtools.simulate` (its acting-set matrix; the what-if engine for sweeps);
never analysis or above.  Dask (optional) is imported only inside :func:`sweep` when it runs on Dask; numba
(optional) only when :mod:`~pgtools.risk.pairgraph` first counts.
"""

from .annual import DEFAULT_AFR, DEFAULT_RECOVERY_MBPS, annual_risk
from .conditional import RISK_COLUMNS, domain_check, failure_risk, risk_for, worst_failures
from .copysets import Copysets, build_copysets
from .failset import FAILURE_SET_COLUMNS, failure_set
from .overlap import pair_overlap
from .sweep import SWEEP_COLUMNS, sweep

__all__ = ["DEFAULT_AFR", "DEFAULT_RECOVERY_MBPS", "FAILURE_SET_COLUMNS", "RISK_COLUMNS", "SWEEP_COLUMNS", "Copysets",
           "annual_risk", "build_copysets", "domain_check", "failure_risk", "failure_set", "pair_overlap", "risk_for",
           "sweep", "worst_failures"]
