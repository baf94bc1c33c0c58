"""``crush_ln``: CRUSH's fixed-point ``2**44 * log2(u + 1)`` used by straw2 (``ceph_algorithms.md`` §2)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._ln_tables import LL_TBL, RH_LH_TBL

__all__ = ["crush_ln", "crush_ln_vec", "ln_table", "LN_CHECKSUM"]

#: Checksum over all 65536 inputs: ``s = (s * 1000003 + crush_ln(u)) mod 2**64``.
LN_CHECKSUM = 10390633211779923000


def crush_ln(u: int) -> int:
    """Return ``crush_ln(u)`` for ``u`` in ``[0, 0xffff]`` (an unsigned 64-bit int).

    Parameters
    ----------
    u : int
        The 16-bit hash value.

    Returns
    -------
    int
        Approximately ``2**44 * log2(u + 1)``, exactly as Ceph computes it.
    """
    x = (u & 0xFFFF) + 1
    iexpon = 15
    if not (x & 0x18000):
        bits = (32 - x.bit_length()) - 16  # leading zeros of a 32-bit value, minus 16
        x <<= bits
        iexpon = 15 - bits
    index1 = (x >> 8) << 1
    rh = RH_LH_TBL[index1 - 256]
    lh = RH_LH_TBL[index1 + 1 - 256]
    xl64 = ((x * rh) & 0xFFFFFFFFFFFFFFFF) >> 48
    ll = LL_TBL[xl64 & 0xFF]
    return (iexpon << 44) + (((lh + ll) & 0xFFFFFFFFFFFFFFFF) >> 4)


@lru_cache(maxsize=1)
def ln_table() -> np.ndarray:
    """All 65536 values of :func:`crush_ln` as a read-only ``int64`` array (computed once per process).

    The same steps as :func:`crush_ln` on every input at once, in ``uint64`` arithmetic (which wraps
    modulo 2**64 as Ceph's ``__u64`` does); ``tests/crush`` checks it against :func:`crush_ln`.
    """
    x = np.arange(1, 0x10001, dtype=np.uint64)
    iexpon = np.full(x.shape, 15, dtype=np.uint64)
    small = (x & np.uint64(0x18000)) == 0
    bits = (16 - np.frexp(x[small].astype(np.float64))[1]).astype(np.uint64)  # frexp's exponent = bit length
    x[small] <<= bits
    iexpon[small] = np.uint64(15) - bits
    index1 = ((x >> np.uint64(8)) << np.uint64(1)).astype(np.int64)
    rh_lh = np.asarray(RH_LH_TBL, dtype=np.uint64)
    rh = rh_lh[index1 - 256]
    lh = rh_lh[index1 + 1 - 256]
    xl64 = (x * rh) >> np.uint64(48)
    ll = np.asarray(LL_TBL, dtype=np.uint64)[(xl64 & np.uint64(0xFF)).astype(np.int64)]
    tbl = ((iexpon << np.uint64(44)) + ((lh + ll) >> np.uint64(4))).astype(np.int64)
    tbl.setflags(write=False)
    return tbl


def crush_ln_vec(u: np.ndarray) -> np.ndarray:
    """Vectorised :func:`crush_ln` (``u`` an integer array of 16-bit values); returns ``int64``."""
    return ln_table()[np.asarray(u).astype(np.int64) & 0xFFFF]
