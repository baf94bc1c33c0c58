"""What Ceph's mgr and mon decide from a cluster state, recomputed offline.

What lives here
---------------
:mod:`~pgtools.mgr.releases`
    Which Ceph release applies to a capture (Pacific 16.2.15, Reef 18.2.7, Tentacle 20.2.4 modelled), each
    release's defaults with their provenance, and what differs between the releases.
:mod:`~pgtools.mgr.options`
    The thresholds (``mon_max_pg_per_osd``, full ratios, ...), resolved from the capture with their source.
:mod:`~pgtools.mgr.counts`
    PGs per OSD from the up and acting sets, ``num_in_osds``, the OSDs under a CRUSH rule.
:mod:`~pgtools.mgr.health`
    The PG-count health checks (``TOO_MANY_PGS``, ``TOO_FEW_PGS``) and the mon's ``check_pg_num`` refusal;
    :mod:`~pgtools.mgr.health_compare` holds them against the capture's own ``health detail``.
:mod:`~pgtools.mgr.capacity`
    MAX AVAIL per pool, as ``ceph df`` computes it.
:mod:`~pgtools.mgr.pgnum`
    pg_num/pgp_num stepping (``DaemonServer::adjust_pgs``), tick by tick; :mod:`~pgtools.mgr.pgnum_gates` holds
    one tick's gates and decisions (creating PGs, merge readiness, upmap cleanup, split, the pgp_num budget).
:mod:`~pgtools.mgr.autoscale`
    The ``pg_autoscaler`` module (``ceph osd pool autoscale-status``);
    :mod:`~pgtools.mgr.autoscale_output` prints it as Ceph does and compares it with the capture's.
:mod:`~pgtools.mgr.reweight`
    ``ceph osd reweight-by-utilization`` / ``reweight-by-pg``.
:mod:`~pgtools.mgr.pgcalc`
    The classic PG calculator that the docs published before the autoscaler.

Imports: :mod:`pgtools.placement`, :mod:`pgtools.crush`, :mod:`pgtools.model`, :mod:`pgtools.errors`;
never io, simulate, analysis or presentation.
"""
