"""Where PGs go: PG arithmetic, the OSDMap pipeline (PG → raw → up → acting), objects → PGs, osdmaptool.

What lives here
---------------
:mod:`~pgtools.placement.pgmath`
    PG arithmetic, written once: ``ceph_stable_mod``, masks, split/merge parents and children.
:mod:`~pgtools.placement`
    The OSDMap part of placement as Ceph computes it: pool seeds, CRUSH, upmaps, up, pg_temp, acting.
:mod:`~pgtools.placement.incremental`
    Re-map only the PGs a change can reach.
:mod:`~pgtools.placement.objects`
    Object name → PG (Ceph's string hashes, ``ceph osd map``).
:mod:`~pgtools.placement.osdmaptool`
    ``osdmaptool --test-map-pgs*`` / ``--test-map-object`` output, byte for byte.

Imports: :mod:`pgtools.crush`, :mod:`pgtools.model`, :mod:`pgtools.errors`; never io, mgr, simulate or above.
"""

from . import pgmath
from .pgmath import cbits
from .pipeline import (
    NONE,
    CompiledOSDMap,
    PGMapping,
    PoolInfo,
    PoolMapping,
    adjust_crush_weight,
    calc_mask,
    ceph_stable_mod,
    compile_snapshot,
    map_pgs,
    map_pool_arrays,
    mapping_frame,
    mark_in,
    mark_out,
    mark_up,
    verify_placement,
    with_pg_num,
)

__all__ = ['pgmath', 'NONE', 'PoolInfo', 'PGMapping', 'CompiledOSDMap', 'compile_snapshot', 'map_pgs', 'PoolMapping',
           'map_pool_arrays', 'mapping_frame', 'verify_placement', 'with_pg_num', 'mark_out', 'mark_up', 'mark_in',
           'adjust_crush_weight', 'cbits', 'calc_mask', 'ceph_stable_mod']
