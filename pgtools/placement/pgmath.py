"""PG arithmetic: masks, ``ceph_stable_mod``, split and merge relations, seeds that change with pgp_num.

Pure arithmetic on placement seeds (``ps``); no CRUSH placement is needed.  The one home of these
definitions: placement, objects, the what-if engine and the mgr's stepping all call them.  They follow
Ceph Pacific (``include/rados.h``, ``osd/osd_types.cc``: ``pg_t::is_split``, ``get_parent``,
``get_ancestor``, ``is_merge_source``/``target``, ``pg_pool_t::calc_pg_masks``), described in
``docs/ceph_algorithms.md`` §7.1.

Vocabulary
----------
``old`` / ``new``
    pg_num before and after a change.
child (split)
    A PG ``x`` with ``old <= x < new`` whose ancestor (``stable_mod(x, old, ...)``) is ``ps``.
merge source / target
    When pg_num shrinks from ``old`` to ``new``, every PG ``new <= ps < old`` is a source and is folded
    into the PG found by clearing its highest bit until the value is below ``new`` (the target).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "cbits",
    "pg_num_mask",
    "stable_mod",
    "ancestor",
    "get_parent",
    "valid_pg_num",
    "split_children",
    "split_map",
    "is_split",
    "merge_target",
    "merge_sources",
    "is_merge_source",
    "is_merge_target",
    "seed_changes",
]

# --------------------------------------------------------------------------------------------- masks
def cbits(v: Any) -> Any:
    """Number of significant bits: 0 for 0, else ``floor(log2(v)) + 1``.

    Parameters
    ----------
    v : int or array_like of int
        Non-negative value(s).

    Returns
    -------
    int or ndarray of int64
    """
    if np.ndim(v) == 0:
        iv = int(v)
        if iv < 0:
            raise ValueError(f"cbits of a negative value: {iv}")
        return iv.bit_length()
    a = np.asarray(v, dtype=np.int64)
    if (a < 0).any():
        raise ValueError("cbits of a negative value")
    out = np.zeros(a.shape, dtype=np.int64)
    rest = a.copy()
    while (rest > 0).any():
        nz = rest > 0
        out[nz] += 1
        rest >>= 1
    return out


def pg_num_mask(pg_num: Any) -> Any:
    """``2**cbits(pg_num - 1) - 1`` (``pg_pool_t::calc_pg_masks``): 12 -> 15, 8 -> 7, 1 -> 0.

    Parameters
    ----------
    pg_num : int or array_like of int
        pg_num (or pgp_num), at least 1.

    Returns
    -------
    int or ndarray of int64
    """
    if np.ndim(pg_num) == 0:
        n = int(pg_num)
        if n < 1:
            raise ValueError(f"pg_num must be at least 1, not {n}")
        return (1 << cbits(n - 1)) - 1
    a = np.asarray(pg_num, dtype=np.int64)
    if (a < 1).any():
        raise ValueError("pg_num must be at least 1")
    return (np.int64(1) << cbits(a - 1)) - 1


def stable_mod(x: Any, b: Any, bmask: Any = None) -> Any:
    """``ceph_stable_mod``: ``x & bmask`` if that is below ``b``, else ``x & (bmask >> 1)``.

    Parameters
    ----------
    x : int or array_like of int
        The value(s) to reduce (a placement seed, or a raw hash).
    b : int or array_like of int
        The modulus (pg_num or pgp_num).
    bmask : int or array_like of int, optional
        The mask; defaults to :func:`pg_num_mask` of ``b``.

    Returns
    -------
    int or ndarray of int64
        Always below ``b`` when ``bmask`` is the mask of ``b``.

    Examples
    --------
    >>> stable_mod(13, 12, 15), stable_mod(11, 12, 15)
    (5, 11)
    """
    if bmask is None:
        bmask = pg_num_mask(b)
    if type(x) is int and type(b) is int and type(bmask) is int:  # the per-PG path: no NumPy
        r = x & bmask
        return r if r < b else x & (bmask >> 1)
    if np.ndim(x) == 0 and np.ndim(b) == 0 and np.ndim(bmask) == 0:
        xi, bi, mi = int(x), int(b), int(bmask)
        r = xi & mi
        return r if r < bi else xi & (mi >> 1)
    xa = np.asarray(x, dtype=np.int64)
    ba = np.asarray(b, dtype=np.int64)
    ma = np.asarray(bmask, dtype=np.int64)
    r = xa & ma
    return np.where(r < ba, r, xa & (ma >> 1))


def ancestor(ps: Any, old: int) -> Any:
    """``pg_t::get_ancestor(old)``: the PG that ``ps`` descends from when pg_num was ``old``.

    ``stable_mod(ps, old, 2**cbits(old) - 1)``; a PG below ``old`` is its own ancestor.

    Parameters
    ----------
    ps : int or array_like of int
    old : int
        The earlier pg_num (at least 1).

    Returns
    -------
    int or ndarray of int64
    """
    old = valid_pg_num(old, "old")
    return stable_mod(ps, old, (1 << cbits(old)) - 1)


def get_parent(ps: int) -> int:
    """``pg_t::get_parent``: ``ps`` with its highest set bit cleared.

    Raises
    ------
    ValueError
        For ``ps <= 0`` (PG 0 has no parent).
    """
    ps = int(ps)
    if ps <= 0:
        raise ValueError(f"PG {ps} has no parent")
    return ps & ~(1 << (ps.bit_length() - 1))


def valid_pg_num(v: Any, name: str) -> int:
    try:
        iv = int(v)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be an integer, not {v!r}") from e
    if iv < 1:
        raise ValueError(f"{name} must be at least 1, not {iv}")
    return iv


# --------------------------------------------------------------------------------------------- split
def split_children(ps: int, old: int, new: int) -> list[int]:
    """The PGs created from ``ps`` when pg_num grows from ``old`` to ``new``.

    ``{x : old <= x < new and ancestor(x, old) == ps}``, ascending.  Empty when ``new <= old`` or
    when ``ps`` does not split (non-power-of-two steps split only some PGs).

    Examples
    --------
    >>> split_children(3, 8, 32)
    [11, 19, 27]
    >>> split_children(1, 12, 32), split_children(9, 12, 32)
    ([17], [25])
    """
    old = valid_pg_num(old, "old")
    new = valid_pg_num(new, "new")
    ps = int(ps)
    if not 0 <= ps < old:
        raise ValueError(f"ps {ps} is not a PG of a pool with pg_num {old}")
    if new <= old:
        return []
    xs = np.arange(old, new, dtype=np.int64)
    return [int(x) for x in xs[ancestor(xs, old) == ps]]


def is_split(ps: int, old: int, new: int) -> bool:
    """True if PG ``ps`` gets at least one child when pg_num goes from ``old`` to ``new``."""
    return bool(split_children(ps, old, new))


def split_map(old: int, new: int) -> pd.DataFrame:
    """Every child of a split ``old -> new`` with its parent.

    Returns
    -------
    DataFrame
        ``child, parent`` (int64), one row per new PG (``old <= child < new``), ordered by child.
        Empty when ``new <= old``.
    """
    old = valid_pg_num(old, "old")
    new = valid_pg_num(new, "new")
    xs = np.arange(old, max(old, new), dtype=np.int64)
    parents = ancestor(xs, old) if len(xs) else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"child": xs, "parent": np.asarray(parents, dtype=np.int64)})


# --------------------------------------------------------------------------------------------- merge
def merge_target(ps: int, new: int) -> int:
    """Where merge source ``ps`` ends up when pg_num shrinks to ``new``.

    Repeats :func:`get_parent` until the value is below ``new`` (equal to ``ancestor(ps, new)``).
    A PG already below ``new`` is returned unchanged.
    """
    new = valid_pg_num(new, "new")
    ps = int(ps)
    if ps < 0:
        raise ValueError(f"negative ps {ps}")
    while ps >= new:
        ps = get_parent(ps)
    return ps


def merge_sources(old: int, new: int) -> pd.DataFrame:
    """The merges of a shrink ``old -> new``, in the order the mgr performs them.

    The mgr merges one PG at a time: at pg_num ``N`` the source is ``N - 1`` and its target is
    ``get_parent(N - 1)``; a target that is itself at or above ``new`` is merged again later.

    Returns
    -------
    DataFrame
        ``step`` (1-based), ``pg_num_before``, ``source``, ``target`` (the immediate parent, which is
        what Ceph merges into at that step) and ``final_target`` (where the source's objects end up
        when pg_num reaches ``new``).  Empty when ``new >= old``.
    """
    old = valid_pg_num(old, "old")
    new = valid_pg_num(new, "new")
    src = np.arange(old - 1, new - 1, -1, dtype=np.int64) if new < old else np.zeros(0, dtype=np.int64)
    rows = {
        "step": np.arange(1, len(src) + 1, dtype=np.int64),
        "pg_num_before": src + 1,
        "source": src,
        "target": np.array([get_parent(int(s)) for s in src], dtype=np.int64),
        "final_target": np.array([merge_target(int(s), new) for s in src], dtype=np.int64),
    }
    return pd.DataFrame(rows)


def is_merge_source(ps: int, old: int, new: int) -> bool:
    """``pg_t::is_merge_source``: ``new <= ps < old`` (pg_num shrinking from ``old`` to ``new``)."""
    return int(new) <= int(ps) < int(old)


def is_merge_target(ps: int, old: int, new: int) -> bool:
    """``pg_t::is_merge_target``: ``ps < new`` and ``ps`` would split when going from ``new`` to ``old``."""
    ps, old, new = int(ps), int(old), int(new)
    return ps < new < old and is_split(ps, new, old)


def seed_changes(pg_num: int, old_pgp: int, new_pgp: int) -> np.ndarray:
    """The PGs whose CRUSH seed changes when pgp_num goes from ``old_pgp`` to ``new_pgp``.

    The CRUSH input of PG ``ps`` is derived from ``stable_mod(ps, pgp_num, pgp_num_mask)``; a PG whose
    reduced seed differs is remapped (its placement is recomputed from a different input, so most of
    its copies move).  This is the pure-arithmetic part of "how much moves"; how many OSDs actually
    change needs placement (:mod:`pgtools.placement`).

    Returns
    -------
    ndarray of int64
        Sorted ps values (``0 <= ps < pg_num``).
    """
    pg_num = valid_pg_num(pg_num, "pg_num")
    old_pgp = valid_pg_num(old_pgp, "old_pgp")
    new_pgp = valid_pg_num(new_pgp, "new_pgp")
    ps = np.arange(pg_num, dtype=np.int64)
    return ps[stable_mod(ps, old_pgp) != stable_mod(ps, new_pgp)]
