"""What a snapshot says about PG distribution: the pool × OSD table, weight-aware imbalance, the hierarchy.

Everything takes a :class:`~pgtools.model.Snapshot` and returns tidy pandas objects; nothing prints.

What lives here
---------------
:mod:`~pgtools.analysis.distribution`
    The pool × OSD table, weight shares and targets, imbalance and its summaries, the spread to expect.
:mod:`~pgtools.analysis.hierarchy`
    The CRUSH hierarchy with weight and PG shares, per-OSD load, host-to-host flows between placements.
:mod:`~pgtools.analysis.recommend`
    Ranks ways out of ``TOO_MANY_PGS`` by simulating each.

The counting (:func:`placements`, :func:`pg_counts`, ...), the health checks and MAX AVAIL are what the mgr and
mon compute: they live in :mod:`pgtools.mgr` and are re-exported here.

Imports: :mod:`pgtools.simulate`, :mod:`pgtools.mgr`, :mod:`pgtools.placement`, :mod:`pgtools.model`
and below; never plotting, report, text or the CLI.
"""

from ..mgr.capacity import pool_max_avail
from ..mgr.counts import BY_CHOICES, pg_counts, placements, require_pgs, unmapped_pgs
from ..mgr.health import MON_MAX_PG_PER_OSD, Finding, check_pg_num, health, health_limits
from .distribution import (
    expected_spread,
    group_imbalance,
    imbalance,
    imbalance_summary,
    osd_utilization,
    pg_count_histogram,
    pg_table,
    pool_osd_weights,
)
from .hierarchy import crush_hierarchy, host_flows, osd_load

__all__ = ['BY_CHOICES', 'placements', 'pg_table', 'unmapped_pgs', 'pg_counts', 'imbalance', 'imbalance_summary',
           'pool_osd_weights', 'pool_max_avail', 'Finding', 'health', 'check_pg_num', 'health_limits',
           'MON_MAX_PG_PER_OSD', 'group_imbalance', 'expected_spread', 'pg_count_histogram', 'osd_utilization',
           'crush_hierarchy', 'osd_load', 'host_flows', 'require_pgs']
