"""Where PGs go: PG arithmetic, the OSDMap pipeline (PG → raw → up → acting), objects → PGs, osdmaptool.

What lives here
---------------
:mod:`~pgtools.placement.pgmath`
    PG arithmetic, written once: ``ceph_stable_mod``, masks, split/merge parents and children.
:mod:`~pgtools.placement.pools`
    :class:`PoolInfo`: a pool as placement sees it, and its PG seeds (``raw_pg_to_pps``).
:mod:`~pgtools.placement.osdmap`
    :class:`CompiledOSDMap` (:func:`compile_snapshot`): the OSDMap steps as Ceph computes them: CRUSH,
    upmaps, up, primary affinity, pg_temp, acting; one PG at a time or a whole pool with NumPy.
:mod:`~pgtools.placement.mapping`
    The results: :class:`PGMapping` (one PG), :class:`PoolMapping` (a pool's arrays), :func:`mapping_frame`.
:mod:`~pgtools.placement.pipeline`
    The entry points: :func:`map_pgs`, :func:`map_pool_arrays`, :func:`verify_placement`.
:mod:`~pgtools.placement.whatif`
    Snapshot → Snapshot transforms: :func:`with_pg_num`, :func:`mark_out`, :func:`mark_up`, :func:`mark_in`,
    :func:`adjust_crush_weight`.
:mod:`~pgtools.placement.incremental`
    Re-map only the PGs a change can reach.
:mod:`~pgtools.placement.objects`
    Object name → PG (Ceph's string hashes, ``ceph osd map``).
:mod:`~pgtools.placement.osdmaptool`
    ``osdmaptool --test-map-pgs*`` / ``--test-map-object`` output, byte for byte.
:mod:`~pgtools.placement.build`
    :func:`build_cluster`: a Snapshot of a cluster that does not exist yet (``crushtool --build`` layers, pools).

Imports: :mod:`pgtools.crush`, :mod:`pgtools.model`, :mod:`pgtools.errors`; never io, mgr, simulate or above.
"""

from ..model import NONE
from . import pgmath
from .build import build_cluster
from .mapping import PGMapping, PoolMapping, mapping_frame
from .osdmap import (
           PLACEMENT_RELEASES,
           CompiledOSDMap,
           compile_snapshot,
           require_placement,
           upmap_primaries_apply,
)
from .pgmath import cbits
from .pipeline import map_pgs, map_pool_arrays, verify_placement
from .pools import PoolInfo
from .whatif import adjust_crush_weight, mark_in, mark_out, mark_up, with_pg_num

__all__ = ['pgmath', 'NONE', 'PoolInfo', 'PGMapping', 'CompiledOSDMap', 'compile_snapshot', 'require_placement',
           'PLACEMENT_RELEASES', 'upmap_primaries_apply',
           'map_pgs', 'PoolMapping', 'map_pool_arrays', 'mapping_frame', 'verify_placement', 'with_pg_num',
           'mark_out', 'mark_up', 'mark_in', 'adjust_crush_weight', 'cbits', 'build_cluster']
