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
:mod:`~pgtools.balance.work`
    The working OSDMap copy (upmap tables over fixed CRUSH results) and the ``Incremental`` upmap fields.

The CRUSH-side helpers (``try_remap_rule``, ``get_rule_weight_osd_map``, ``verify_upmap``) are in
:mod:`pgtools.crush.remap`.

Imports: :mod:`pgtools.crush`, :mod:`pgtools.model`, :mod:`pgtools.placement`, :mod:`pgtools.mgr`,
:mod:`pgtools.errors`; never simulate or above.
"""

from .plan import UpmapPlan, calc_pg_upmaps, clean_pg_upmaps, osdmaptool_upmap, work_map

__all__ = ["UpmapPlan", "calc_pg_upmaps", "clean_pg_upmaps", "osdmaptool_upmap", "work_map"]
