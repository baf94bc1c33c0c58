"""Durability: what failures of OSDs, hosts, racks ... do to this map's PGs, counted on its real acting sets.

What lives here
---------------
:mod:`~pgtools.risk.copysets`
    The failure units of a CRUSH level and the PGs' copysets over them, reduced once to coefficient tables
    (:class:`Copysets`, :func:`build_copysets`): plain arrays a sweep can scatter to its workers.
:mod:`~pgtools.risk.counting`
    Counting K-sets over the tables: exact expectations, exact P(any loss) by enumeration or by counting
    the minimal lethal sets, Monte Carlo with a Wilson interval where counting does not reach.
:mod:`~pgtools.risk.annual`
    Over time: annual loss probability and MTTDL from a failure rate and recovery windows
    (:func:`annual_risk`), on the map's minimal lethal sets.
:mod:`~pgtools.risk.conditional`
    The entry points: :func:`failure_risk` (one tidy row per pool and K), :func:`risk_for` (one K on
    prepared copysets, for sweeps), :func:`worst_failures`, :func:`domain_check`.

Imports: :mod:`pgtools.errors`, :mod:`pgtools.model`, :mod:`pgtools.placement` (recomputed acting sets when
the capture has no PG table), :mod:`pgtools.simulate` (its acting-set matrix); never analysis or above.
"""

from .annual import DEFAULT_AFR, DEFAULT_RECOVERY_MBPS, annual_risk
from .conditional import RISK_COLUMNS, domain_check, failure_risk, risk_for, worst_failures
from .copysets import Copysets, build_copysets

__all__ = ["DEFAULT_AFR", "DEFAULT_RECOVERY_MBPS", "RISK_COLUMNS", "Copysets", "annual_risk", "build_copysets",
           "domain_check", "failure_risk", "risk_for", "worst_failures"]
