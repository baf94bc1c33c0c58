"""CRUSH's rjenkins1 hashes (``crush_hash32_2`` .. ``crush_hash32_5``), on Python ints and NumPy arrays.

The scalar functions (:func:`hash2` ... :func:`hash5`, and :func:`mix`) take Python integers (negative
ids are taken modulo 2**32, as C's cast to ``__u32`` does) and return an int in ``[0, 2**32)``.  They
are written in the subset of Python numba compiles (integers, tuples, module constants): the compiled
engine (:mod:`pgtools.crush._numba`) compiles these very functions instead of carrying a copy, so this
module must not import numba.  The ``*_vec`` twins take anything NumPy can broadcast to ``uint32``
arrays and return a ``uint32`` array.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SEED", "mix", "hash1", "hash2", "hash3", "hash4", "hash5", "hash2_vec", "hash3_vec", "hash4_vec",
           "hash5_vec", "as_u32"]

#: Initial value of every hash (``crush_hash_seed``).
SEED = 1315423911
_X = 231232
_Y = 1232
_M = 0xFFFFFFFF


def mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    """Jenkins' 96-bit mix on three u32 values; returns the updated triple (``crush_hashmix``).

    Every step masks to 32 bits, so it gives the same result on Python ints and on numba's int64.
    """
    a = ((a - b - c) & _M) ^ (c >> 13)
    b = ((b - c - a) & _M) ^ ((a << 8) & _M)
    c = ((c - a - b) & _M) ^ (b >> 13)
    a = ((a - b - c) & _M) ^ (c >> 12)
    b = ((b - c - a) & _M) ^ ((a << 16) & _M)
    c = ((c - a - b) & _M) ^ (b >> 5)
    a = ((a - b - c) & _M) ^ (c >> 3)
    b = ((b - c - a) & _M) ^ ((a << 10) & _M)
    c = ((c - a - b) & _M) ^ (b >> 15)
    return a, b, c


def hash1(a: int) -> int:
    """``crush_hash32_rjenkins1(a)``."""
    a &= _M
    h = SEED ^ a
    b = a
    x, y = _X, _Y
    b, x, h = mix(b, x, h)
    y, a, h = mix(y, a, h)
    return h


def hash2(a: int, b: int) -> int:
    """``crush_hash32_rjenkins1_2(a, b)`` on Python ints."""
    a &= _M
    b &= _M
    h = SEED ^ a ^ b
    x, y = _X, _Y
    a, b, h = mix(a, b, h)
    x, a, h = mix(x, a, h)
    b, y, h = mix(b, y, h)
    return h


def hash3(a: int, b: int, c: int) -> int:
    """``crush_hash32_rjenkins1_3(a, b, c)`` on Python ints."""
    a &= _M
    b &= _M
    c &= _M
    h = SEED ^ a ^ b ^ c
    x, y = _X, _Y
    a, b, h = mix(a, b, h)
    c, x, h = mix(c, x, h)
    y, a, h = mix(y, a, h)
    b, x, h = mix(b, x, h)
    y, c, h = mix(y, c, h)
    return h


def hash4(a: int, b: int, c: int, d: int) -> int:
    """``crush_hash32_rjenkins1_4(a, b, c, d)`` on Python ints."""
    a &= _M
    b &= _M
    c &= _M
    d &= _M
    h = SEED ^ a ^ b ^ c ^ d
    x, y = _X, _Y
    a, b, h = mix(a, b, h)
    c, d, h = mix(c, d, h)
    a, x, h = mix(a, x, h)
    y, b, h = mix(y, b, h)
    c, x, h = mix(c, x, h)
    y, d, h = mix(y, d, h)
    return h


def hash5(a: int, b: int, c: int, d: int, e: int) -> int:
    """``crush_hash32_rjenkins1_5(a, b, c, d, e)`` on Python ints."""
    a &= _M
    b &= _M
    c &= _M
    d &= _M
    e &= _M
    h = SEED ^ a ^ b ^ c ^ d ^ e
    x, y = _X, _Y
    a, b, h = mix(a, b, h)
    c, d, h = mix(c, d, h)
    e, x, h = mix(e, x, h)
    y, a, h = mix(y, a, h)
    b, x, h = mix(b, x, h)
    y, c, h = mix(y, c, h)
    d, x, h = mix(d, x, h)
    y, e, h = mix(y, e, h)
    return h


# ---------------------------------------------------------------------------------------------
# NumPy twins.  Arrays are uint32, so wrap-around is native; every step works in place.

def as_u32(v: object) -> np.ndarray:
    """Convert ints (possibly negative) or an integer array to ``uint32`` with C's wrap-around."""
    arr = np.asarray(v)
    if arr.dtype == np.uint32:
        return arr
    return (arr.astype(np.int64) & _M).astype(np.uint32)


def _mix_vec(a: np.ndarray, b: np.ndarray, c: np.ndarray, t: np.ndarray) -> None:
    """In-place mix of three uint32 arrays of one shape; ``t`` is scratch space."""
    for (p, q, s), (sh, left) in zip(
        ((a, b, c), (b, c, a), (c, a, b)) * 3,
        ((13, False), (8, True), (13, False), (12, False), (16, True), (5, False),
         (3, False), (10, True), (15, False)), strict=False,
    ):
        # p = (p - q - s) ^ (s shifted)
        np.subtract(p, q, out=p)
        np.subtract(p, s, out=p)
        if left:
            np.left_shift(s, sh, out=t)
        else:
            np.right_shift(s, sh, out=t)
        np.bitwise_xor(p, t, out=p)


def _prep(*args: object) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    arrs = [as_u32(v) for v in args]
    shape = np.broadcast_shapes(*(v.shape for v in arrs))
    work = [np.array(np.broadcast_to(v, shape), dtype=np.uint32) for v in arrs]
    h = np.full(shape, SEED, dtype=np.uint32)
    for v in work:
        np.bitwise_xor(h, v, out=h)
    t = np.empty(shape, dtype=np.uint32)
    return work, h, t


def _const(shape: tuple[int, ...], value: int) -> np.ndarray:
    return np.full(shape, value, dtype=np.uint32)


def hash2_vec(a: object, b: object) -> np.ndarray:
    """Vectorised :func:`hash2`; arguments broadcast, result is ``uint32``."""
    (a, b), h, t = _prep(a, b)
    x, y = _const(h.shape, _X), _const(h.shape, _Y)
    _mix_vec(a, b, h, t)
    _mix_vec(x, a, h, t)
    _mix_vec(b, y, h, t)
    return h


def hash3_vec(a: object, b: object, c: object) -> np.ndarray:
    """Vectorised :func:`hash3`; arguments broadcast, result is ``uint32``."""
    (a, b, c), h, t = _prep(a, b, c)
    x, y = _const(h.shape, _X), _const(h.shape, _Y)
    _mix_vec(a, b, h, t)
    _mix_vec(c, x, h, t)
    _mix_vec(y, a, h, t)
    _mix_vec(b, x, h, t)
    _mix_vec(y, c, h, t)
    return h


def hash4_vec(a: object, b: object, c: object, d: object) -> np.ndarray:
    """Vectorised :func:`hash4`; arguments broadcast, result is ``uint32``."""
    (a, b, c, d), h, t = _prep(a, b, c, d)
    x, y = _const(h.shape, _X), _const(h.shape, _Y)
    _mix_vec(a, b, h, t)
    _mix_vec(c, d, h, t)
    _mix_vec(a, x, h, t)
    _mix_vec(y, b, h, t)
    _mix_vec(c, x, h, t)
    _mix_vec(y, d, h, t)
    return h


def hash5_vec(a: object, b: object, c: object, d: object, e: object) -> np.ndarray:
    """Vectorised :func:`hash5`; arguments broadcast, result is ``uint32``."""
    (a, b, c, d, e), h, t = _prep(a, b, c, d, e)
    x, y = _const(h.shape, _X), _const(h.shape, _Y)
    _mix_vec(a, b, h, t)
    _mix_vec(c, d, h, t)
    _mix_vec(e, x, h, t)
    _mix_vec(y, a, h, t)
    _mix_vec(b, x, h, t)
    _mix_vec(y, c, h, t)
    _mix_vec(d, x, h, t)
    _mix_vec(y, e, h, t)
    return h
