"""Balancers: Ceph's own upmap balancer (``OSDMap::calc_pg_upmaps``) and upmap hygiene (``clean_pg_upmaps``).

What lives here
---------------
:mod:`~pgtools.balance.plan`
    The entry points: :func:`calc_pg_upmaps`, :func:`clean_pg_upmaps`, :func:`osdmaptool_upmap`
    (``osdmaptool --upmap`` / ``--upmap-cleanup`` output, byte for byte) and :class:`UpmapPlan`.
:mod:`~pgtools.balance.upmap`
    ``calc_pg_upmaps`` step for step (deterministic mode exact; aggressive mode with a seeded shuffle).
:mod:`~pgtools.balance.clean`
    ``check_pg_upmaps`` / ``clean_pg_upmaps``.
:mod:`~pgtools.balance.count`, :mod:`~pgtools.balance.capacity`
    pgtools' own balancers: :func:`balance_count` (PG counts per pool and summed, few upmap entries) and
    :func:`balance_capacity` (projected %used from per-PG bytes); both return a :class:`BalancePlan`.
:mod:`~pgtools.balance.search`
    Their shared move machinery (every move checked as Ceph checks upmaps).
:mod:`~pgtools.balance.work`
    The working OSDMap copy (upmap tables over fixed CRUSH results) and the ``Incremental`` upmap fields.

The CRUSH-side helpers (``try_remap_rule``, ``get_rule_weight_osd_map``, ``verify_upmap``) are in
:mod:`pgtools.crush.remap`.

Imports: :mod:`pgtools.crush`, :mod:`pgtools.model`, :mod:`pgtools.placement`, :mod:`pgtools.mgr`,
:mod:`pgtools.errors`; never simulate or above.
"""

from .capacity import balance_capacity
from .count import balance_count, count_deviation
from .plan import UpmapPlan, calc_pg_upmaps, clean_pg_upmaps, osdmaptool_upmap, work_map
from .search import BalancePlan

__all__ = ["BalancePlan", "UpmapPlan", "balance_capacity", "balance_count", "calc_pg_upmaps", "clean_pg_upmaps",
           "count_deviation", "osdmaptool_upmap", "work_map"]
