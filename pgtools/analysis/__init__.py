"""What a snapshot says about PG distribution: the pool × OSD table, weight-aware imbalance, health.

Everything takes a :class:`~pgtools.model.Snapshot` and returns tidy pandas objects; nothing prints.
:mod:`~pgtools.analysis.recommend` ranks ways out of ``TOO_MANY_PGS`` by simulating each.

Imports: :mod:`pgtools.simulate`, :mod:`pgtools.mgr`, :mod:`pgtools.placement`, :mod:`pgtools.model`
and below; never plotting, report, text or the CLI.
"""

from .distribution import (
    BY_CHOICES,
    MON_MAX_PG_PER_OSD,
    Finding,
    check_pg_num,
    crush_hierarchy,
    expected_spread,
    group_imbalance,
    health,
    health_limits,
    host_flows,
    imbalance,
    imbalance_summary,
    osd_load,
    osd_utilization,
    pg_count_histogram,
    pg_counts,
    pg_table,
    placements,
    pool_max_avail,
    pool_osd_weights,
    require_pgs,
    unmapped_pgs,
)

__all__ = ['BY_CHOICES', 'placements', 'pg_table', 'unmapped_pgs', 'pg_counts', 'imbalance', 'imbalance_summary',
           'pool_osd_weights', 'pool_max_avail', 'Finding', 'health', 'check_pg_num', 'health_limits',
           'MON_MAX_PG_PER_OSD', 'group_imbalance', 'expected_spread', 'pg_count_histogram', 'osd_utilization',
           'crush_hierarchy', 'osd_load', 'host_flows', 'require_pgs']
