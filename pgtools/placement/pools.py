"""The pools as placement sees them: :class:`PoolInfo`, built from a Snapshot's pool table, and the PG seeds.

Step 1 of the OSDMap pipeline (``ceph_algorithms.md`` section 7): a PG's stored ps
(``pg_pool_t::raw_pg_to_pg``) and its CRUSH input (``pg_pool_t::raw_pg_to_pps``: ``ceph_stable_mod``
by ``pgp_num``, then ``hash2(ps', pool)`` for HASHPSPOOL pools), for one PG or for an array of them.
The arithmetic itself is :mod:`pgtools.placement.pgmath`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..crush.hash import hash2, hash2_vec
from ..errors import PgtoolsError
from .pgmath import pg_num_mask, stable_mod

__all__ = ["REPLICATED", "ERASURE", "PoolInfo", "pool_infos"]

#: ``pg_pool_t::TYPE_REPLICATED`` and ``TYPE_ERASURE``.
REPLICATED = 1
ERASURE = 3
_M32 = 0xFFFFFFFF
_TYPE_IDS = {"replicated": REPLICATED, "rep": REPLICATED, "erasure": ERASURE, "ec": ERASURE}


@dataclass(frozen=True)
class PoolInfo:
    """The placement-relevant fields of one pool."""

    pool_id: int
    name: str
    type: int  # 1 replicated, 3 erasure
    size: int
    pg_num: int
    pgp_num: int
    crush_rule: int
    hashpspool: bool

    @cached_property
    def pg_num_mask(self) -> int:
        """``pg_pool_t::pg_num_mask`` (:func:`~pgtools.placement.pgmath.pg_num_mask` of pg_num)."""
        return pg_num_mask(self.pg_num)

    @cached_property
    def pgp_num_mask(self) -> int:
        """``pg_pool_t::pgp_num_mask`` (:func:`~pgtools.placement.pgmath.pg_num_mask` of pgp_num)."""
        return pg_num_mask(self.pgp_num)

    def can_shift_osds(self) -> bool:
        """Replicated pools shift OSDs left when one is missing; erasure pools keep positions."""
        return self.type == REPLICATED

    def raw_pg_to_pg(self, ps: int) -> int:
        """``pg_pool_t::raw_pg_to_pg``: the stored PG of a raw ps, ``stable_mod(ps, pg_num, pg_num_mask)``."""
        return stable_mod(ps, self.pg_num, self.pg_num_mask)

    def raw_pg_to_pps(self, ps: int) -> int:
        """``pg_pool_t::raw_pg_to_pps``: the CRUSH input of PG ``ps``."""
        s = stable_mod(ps, self.pgp_num, self.pgp_num_mask)
        if self.hashpspool:
            return hash2(s, self.pool_id & _M32)
        return (s + self.pool_id) & _M32

    def raw_pgs_to_pps(self, ps: np.ndarray) -> np.ndarray:
        """:meth:`raw_pg_to_pps` of every entry of an int64 array (int64 result)."""
        s = stable_mod(ps, self.pgp_num, self.pgp_num_mask)
        if self.hashpspool:
            return hash2_vec(s, np.int64(self.pool_id & _M32)).astype(np.int64)
        return (s + self.pool_id) & _M32


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def pool_infos(pools: pd.DataFrame) -> dict[int, PoolInfo]:
    """One :class:`PoolInfo` per row of a Snapshot's pool table, by pool id.

    ``type_id`` (else ``type``: ``replicated``/``erasure`` or the number), ``flags`` (else
    ``flags_names``) for HASHPSPOOL, ``pgp_num`` defaulting to ``pg_num``.

    Raises
    ------
    PgtoolsError
        For a pool type that is neither replicated nor erasure.
    """
    out: dict[int, PoolInfo] = {}
    for rec in pools.to_dict("records"):
        t = rec.get("type_id")
        if _missing(t):
            tv = rec.get("type", "replicated")
            t = _TYPE_IDS.get(str(tv).lower(), None) if not isinstance(tv, (int, np.integer)) else int(tv)
            if t is None:
                raise PgtoolsError(f"pool {rec.get('pool_id')}: unknown pool type {tv!r}")
        flags = rec.get("flags")
        names = rec.get("flags_names")
        if not _missing(flags) and not isinstance(flags, str):
            hashps = bool(int(flags) & 1)
        else:
            hashps = isinstance(names, str) and "hashpspool" in names.split(",")
        pg_num = int(rec["pg_num"])
        pgp = rec.get("pgp_num")
        pgp_num = pg_num if _missing(pgp) else int(pgp)
        pid = int(rec["pool_id"])
        out[pid] = PoolInfo(pool_id=pid, name=str(rec.get("pool", "")), type=int(t), size=int(rec["size"]),
                            pg_num=pg_num, pgp_num=pgp_num, crush_rule=int(rec["crush_rule"]),
                            hashpspool=hashps)
    return out
