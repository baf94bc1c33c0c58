"""Balancers: Ceph's own upmap balancer (``OSDMap::calc_pg_upmaps``), upmap hygiene and drains, Reef's read
(primary) balancer (``OSDMap::balance_primaries``), plans as what-ifs.

What lives here
---------------
:mod:`~pgtools.balance.plan`
    The entry points: :func:`calc_pg_upmaps`, :func:`clean_pg_upmaps`, :func:`osdmaptool_upmap`
    (``osdmaptool --upmap`` / ``--upmap-cleanup`` output, byte for byte) and :class:`UpmapPlan`.
:mod:`~pgtools.balance.primary`
    Reef's read balancer: :func:`read_balance_score` (``calc_read_balance_score``), :func:`balance_primaries`
    (``pg-upmap-primary`` commands), exact.
:mod:`~pgtools.balance.readtool`
    :func:`osdmaptool_read`: what ``osdmaptool --read FILE --read-pool P`` prints and writes, byte for byte.
:mod:`~pgtools.balance.upmap`
    ``calc_pg_upmaps`` step for step (deterministic mode exact; aggressive mode with a seeded shuffle).
:mod:`~pgtools.balance.clean`
    ``check_pg_upmaps`` / ``clean_pg_upmaps``.
:mod:`~pgtools.balance.count`, :mod:`~pgtools.balance.capacity`
    pgtools' own balancers: :func:`balance_count` (PG counts per pool and summed, few upmap entries) and
    :func:`balance_capacity` (projected %used from per-PG bytes); both return a :class:`BalancePlan`.
:mod:`~pgtools.balance.moves`
    The count balancer's moves: per-pool and total bounds, single moves, two-move chains and swaps.
:mod:`~pgtools.balance.search`
    Their shared move machinery (every move checked as Ceph checks upmaps).
:mod:`~pgtools.balance.feasible`
    :func:`~pgtools.balance.feasible.count_bound`: whether ``±D`` is reachable at all (exact max-flow model of
    what upmaps can do, a relaxation for rules it cannot model) and the smallest max deviation.
:mod:`~pgtools.balance.compare`
    :func:`~pgtools.balance.compare.compare_plans`: plans side by side (pgtools' and the mgr's).
:mod:`~pgtools.balance.work`
    The working OSDMap copy (upmap tables over fixed CRUSH results) and the ``Incremental`` upmap fields.
:mod:`~pgtools.balance.hygiene`
    :func:`upmap_issues` / :func:`clean_upmaps` (Ceph's cleanup plus entries that change nothing),
    :func:`pin_remapped` (upmap-remapped) and :func:`unpin`.
:mod:`~pgtools.balance.drain`
    :func:`drain`: PGs off OSDs or hosts, spread by weight, capped moves per OSD.
:mod:`~pgtools.balance.whatif`
    :func:`order_rounds` (``target_max_misplaced_ratio``, backfillfull) and :func:`simulate_plan`.
:mod:`~pgtools.balance.modes`
    :func:`plan`, the one entry point of the balancer modes, and :func:`mgr_balancer` (the mgr's upmap run).

The CRUSH-side helpers (``try_remap_rule``, ``get_rule_weight_osd_map``, ``verify_upmap``) are in
:mod:`pgtools.crush.remap`.

Imports: :mod:`pgtools.crush`, :mod:`pgtools.model`, :mod:`pgtools.placement`, :mod:`pgtools.mgr`,
:mod:`pgtools.simulate` (what-ifs), :mod:`pgtools.errors`; never analysis or above.
"""

from .capacity import balance_capacity
from .count import balance_count, count_deviation
from .drain import drain
from .hygiene import HygienePlan, clean_upmaps, pin_remapped, unpin, upmap_issues
from .modes import mgr_balancer, mgr_settings, plan
from .plan import UpmapPlan, calc_pg_upmaps, clean_pg_upmaps, osdmaptool_upmap, work_map
from .primary import balance_primaries, read_balance_score
from .readtool import osdmaptool_read
from .search import BalancePlan
from .whatif import PlanWhatIf, Rounds, order_rounds, simulate_plan

__all__ = ["BalancePlan", "HygienePlan", "PlanWhatIf", "Rounds", "UpmapPlan", "balance_capacity", "balance_count",
           "balance_primaries", "calc_pg_upmaps", "clean_pg_upmaps", "clean_upmaps", "count_deviation", "drain",
           "mgr_balancer", "mgr_settings", "order_rounds", "osdmaptool_read", "osdmaptool_upmap", "pin_remapped",
           "plan", "read_balance_score", "simulate_plan", "unpin", "upmap_issues", "work_map"]
