"""Plots of PG placement: matplotlib/seaborn drawings of what :mod:`pgtools.analysis` and :mod:`pgtools.simulate`
compute.

Like seaborn's, each function takes either the object (a :class:`~pgtools.model.Snapshot`, or a what-if
:class:`~pgtools.simulate.Plan`) as its first argument, or ``data=``: the tidy DataFrame it draws, in the
project's vocabulary (``pgid``, ``pool_id``, ``pool``, ``osd_id``, ``host``, ``up``, ``acting``, ``up_primary``,
``acting_primary``, ``crush_weight``, ``reweight``, and the analysis columns ``pgs``, ``target``,
``deviation_pct``, ``expected_stddev``, ``utilization``, ``pgs_in``, ``pgs_out``, ...).  Options are keyword-only;
each draws on ``ax`` (a new figure when None), returns the matplotlib Axes and never shows or saves a figure.
Importing this package loads matplotlib; nothing else in pgtools does.

==================  =========================================  =================================================
function            draws                                      ``data=`` (columns; the frame it comes from)
==================  =========================================  =================================================
``pg_heatmap``      pool × OSD (or × host) counts or %          ``osd_id, pool_id, pgs`` or ``deviation_pct``
                    deviation from target                      [``pool, host``] (``imbalance(per_pool=True)``);
                                                               ``pgid, pool_id, osd_id`` (``placements``);
                                                               ``pgid, pool_id, up``... (``snap.pgs``); or the
                                                               wide ``pg_table``
``osd_bars``        PGs or %used per OSD, target, ±1 sd band,   ``osd_id, pgs`` (or ``utilization``), ``target``
                    limit                                      [``host, expected_stddev``] (``imbalance``,
                                                               ``expected_spread``, ``osd_utilization``)
``pg_histogram``    PGs-per-OSD histogram vs binomial           ``left, right, osds, expected``
                    expectation                                (``pg_count_histogram``)
``crush_tree``      CRUSH hierarchy icicle, weight vs PG share  ``id, name, type, parent_id, depth, crush_weight,
                                                               device_class, pg_share, weight_share``
                                                               (``crush_hierarchy``)
``movement``        PG copies in/out per OSD, or shards from    ``osd_id, pgs_in, pgs_out`` [``step, host``]
                    host → to host                             (``plan.movement``); by host: ``from_host,
                                                               to_host, shards`` [``step``] (``host_flows``)
``fullness``        projected %used before/after, full ratios  ``step, osd_id, utilization`` [``host``]
                                                               (``plan.osd_load``)
``pg_num_steps``    pg_num/pgp_num per step, moved %, peak PGs  ``step, pool_id, pg_num, pgp_num`` [``pool,
                                                               moved_pct, max_pgs_per_osd, bytes_moved``]
                                                               (``plan.pools`` joined with ``plan.steps``)
``balance``         deviation from target per OSD before/after  ``step, osd_id, pgs, target`` (or ``utilization``)
                    a plan, grouped by device class and host   [``host, device_class``] (``balance_frame``)
``failures``        PGs lost / inactive / degraded per pool     ``step, pool_id, pool, pgs_lost, pgs_inactive,
                                                               pgs_degraded`` [``bytes_lost, objects_lost,
                                                               pg_num``] (``plan.failure_pools()``)
``risk_vs_k``       P(any PG lost) (or another measure) vs K    ``failures, pool, p_any_lost`` [``method, ci_low,
                    simultaneous failures, one line per pool   ci_high, level``] (``failure_risk``)
``loss_vs_pg_num``  a pool's loss probability vs its pg_num,   ``family, level, failures, pool, refused,
                    one line per level × K                     pg_num:<pool>, p_any_lost`` (``sweep``)
``copyset_overlap`` unit × unit matrix of the PGs each pair    ``a, b, pgs`` [``unit_a, unit_b``]
                    of OSDs / hosts / ... holds together       (``pair_overlap``)
==================  =========================================  =================================================

>>> from pgtools import plotting                                    # doctest: +SKIP
>>> ax = plotting.osd_bars(snap, limit=300)                         # doctest: +SKIP
>>> ax = plotting.osd_bars(data=pgtools.imbalance(snap), ax=ax)      # doctest: +SKIP

Modules: :mod:`.snapshot` (heatmap, bars, histogram), :mod:`.crush` (the CRUSH tree), :mod:`.plan` (movement,
fullness, pg_num steps), :mod:`.balance`, :mod:`.failures`, :mod:`.risk` (durability), and :mod:`.base` (what they share).

Imports: :mod:`pgtools.analysis`, :mod:`pgtools.simulate`, :mod:`pgtools.risk`, :mod:`pgtools.text` and below; never report or the
CLI.
"""

from .balance import balance, balance_frame
from .base import MAX_OSD_ROWS
from .crush import crush_tree
from .failures import failures
from .plan import fullness, movement, pg_num_steps
from .risk import copyset_overlap, loss_vs_pg_num, risk_vs_k
from .snapshot import osd_bars, pg_heatmap, pg_histogram

__all__ = ['pg_heatmap', 'osd_bars', 'pg_histogram', 'crush_tree', 'movement', 'fullness', 'pg_num_steps',
           'failures', 'balance', 'balance_frame', 'risk_vs_k', 'loss_vs_pg_num', 'copyset_overlap',
           'MAX_OSD_ROWS']
