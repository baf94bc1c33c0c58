"""The failure units of a map and the PGs' copysets over them: what :mod:`pgtools.risk` counts on.

A *copyset* is the set of distinct failure units (OSDs, or their hosts, racks, ... at the chosen CRUSH level)
holding a PG's acting set, with the number of copies (shards, for an erasure-coded pool) each unit holds.  A
failure of the units ``F`` loses the PG when fewer than ``need`` copies survive (``need`` = 1 for a
replicated pool, k for an erasure-coded one, as in :mod:`pgtools.simulate.failures`) and leaves it inactive
when fewer than ``min_size`` survive (PeeringState's ``PG_STATE_ACTIVE`` needs ``min_size`` acting shards,
``src/osd/PeeringState.cc``); a lost PG is also inactive, as Ceph counts it.

Everything :func:`failure_risk` needs is reduced here, once per (map, level), to :class:`Copysets`: the
units, and for each subset size ``j`` the distinct ``j``-subsets ``U`` of the copysets with the *Möbius
coefficient* of the "PG lost" (and "inactive") indicator summed over PGs.  For one PG, with ``f(U) = 1`` when
losing the units ``U`` loses it, ``g(U) = sum over V ⊆ U of (-1)^(|U|-|V|) f(V)``; then for any failure set
``F``, ``f(F ∩ S) = sum over U ⊆ F ∩ S of g(U)``, so the number of PGs (or bytes) a failure ``F`` loses is
``sum over U ⊆ F of C(U)`` with ``C`` the coefficients summed over PGs: a few table look-ups per ``F``,
whatever the number of PGs.  The object is plain arrays (picklable): a sweep builds it once per map and level
and scatters it to its workers.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import MissingInputError, PgtoolsError, PgtoolsWarning
from ..model import NONE, Snapshot
from ..placement import map_pool_arrays
from ..simulate.state import up_matrix

__all__ = ["MEASURES", "Copysets", "build_copysets", "check_universe", "encode", "failure_universe", "hyper",
           "level_units", "pg_sets", "pool_needs", "sort_rows", "sorted_unique"]

#: The value columns of the coefficient tables, per pool: PGs lost, bytes lost, PGs inactive.
MEASURES = ("pgs_lost", "bytes_lost", "pgs_inactive")
#: Largest copyset (distinct units of one PG) handled: 2**s subsets per distinct copy pattern.
MAX_UNITS = 16


@dataclass
class Copysets:
    """The copysets of a map at one CRUSH level, reduced to coefficient tables (see the module docstring).

    Attributes
    ----------
    level : str
        ``"osd"`` or a CRUSH bucket type name.
    units : numpy.ndarray of str
        The failure units: the units holding data of any pool of the map, whichever pools are counted
        (:func:`failure_universe`); index ``i`` is unit ``i`` (K failures are drawn among these).
    unit_ids : numpy.ndarray of int64
        Their CRUSH ids (OSD id, or bucket id).
    pools : pandas.DataFrame
        One row per pool: ``pool_id``, ``pool``, ``type``, ``size``, ``min_size``, ``need`` (copies needed to
        exist: 1 or k), ``pgs`` (PGs counted), ``bytes``, ``pgs_short`` (PGs already below ``need`` or
        ``min_size`` before any failure: left out of that measure), ``pgs_shared_unit`` (PGs with two copies
        on one unit), ``max_copies_per_unit``.
    keys : list of numpy.ndarray
        ``keys[j]``: the sorted int64 codes (:func:`encode`) of the distinct ``j``-subsets with a coefficient
        (``keys[0]`` is empty).
    coef : list of numpy.ndarray
        ``coef[j]``: ``(len(keys[j]), n_pools, 3)`` float64, the summed coefficients of :data:`MEASURES`.
    span : int
        The most units one PG spans (coefficients live on subsets of at most this many units).
    warnings : list of str
        The assumptions made (also issued as :class:`~pgtools.errors.PgtoolsWarning`).
    unit_bytes : numpy.ndarray
        Bytes each unit holds, all pools (a replica: the PG's bytes; an EC shard: 1/k of them), from the PG
        table: what its recovery rebuilds.
    """

    level: str
    units: np.ndarray
    unit_ids: np.ndarray
    pools: pd.DataFrame
    keys: list[np.ndarray] = field(default_factory=list)
    coef: list[np.ndarray] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    span: int = 0
    unit_bytes: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def n(self) -> int:
        """Number of failure units."""
        return len(self.units)

    @property
    def jmax(self) -> int:
        """Largest subset size with coefficients."""
        return len(self.keys) - 1


def encode(rows: np.ndarray, n: int) -> np.ndarray:
    """One int64 code per row of sorted unit indices (``((i0 * n + i1) * n + i2) ...``).

    Raises when ``n ** width`` does not fit in 63 bits (a clear error rather than colliding codes).
    """
    width = rows.shape[1]
    if width and n ** width >= 2**63:
        raise PgtoolsError(f"{width}-unit failure sets over {n} units do not fit 63-bit codes; use fewer failures")
    out = np.zeros(len(rows), dtype=np.int64)
    for c in range(width):
        out = out * n + rows[:, c]
    return out


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of an int64 array, sorted (one sort: NumPy 2.4's hash-based ``np.unique`` takes
    seconds on millions of values)."""
    s = np.sort(a)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def sort_rows(a: np.ndarray) -> np.ndarray:
    """Each row sorted: a min/max sorting network for up to 4 columns (faster than ``np.sort(axis=1)``)."""
    pairs = {2: [(0, 1)], 3: [(0, 1), (1, 2), (0, 1)], 4: [(0, 1), (2, 3), (0, 2), (1, 3), (1, 2)]}
    if a.shape[1] not in pairs:
        return np.sort(a, axis=1)
    cols = [a[:, c] for c in range(a.shape[1])]
    for x, y in pairs[a.shape[1]]:
        cols[x], cols[y] = np.minimum(cols[x], cols[y]), np.maximum(cols[x], cols[y])
    return np.stack(cols, axis=1)


def level_units(snap: Snapshot, level: str, osd_ids: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """The CRUSH id of each OSD's ancestor of type ``level`` (the OSD itself for ``"osd"``) and unit names.

    Raises
    ------
    PgtoolsError
        Without a CRUSH map (for a bucket level), for a type the map does not have, or when an OSD holding
        data has no ancestor of that type (naming the first few).
    """
    osd_ids = np.asarray(osd_ids, dtype=np.int64)
    if level in ("osd", "device"):
        crush = snap.crush
        names = {int(o): (crush.item_name(int(o)) if crush is not None else f"osd.{int(o)}") for o in osd_ids}
        return osd_ids.copy(), names
    crush = snap.crush
    if crush is None and level == "host" and "host" in snap.osds.columns and len(snap.osds):
        return _hosts_from_osd_table(snap, osd_ids)
    if crush is None:
        raise MissingInputError(f"failures at the {level} level need the CRUSH map (ceph osd crush dump)")
    type_ids = [t for t, name in crush.types.items() if name == level]
    if not type_ids:
        known = ", ".join(["osd", *sorted(set(crush.types.values()) - {"osd"})])
        raise PgtoolsError(f"the CRUSH map has no bucket type {level!r} (known: {known})")
    tid = type_ids[0]
    out = np.empty(len(osd_ids), dtype=np.int64)
    missing = []
    for i, o in enumerate(osd_ids):
        anc = [b for b in crush.ancestors(int(o)) if crush.buckets[b].type_id == tid]
        if not anc:
            missing.append(int(o))
            out[i] = 0
        else:
            out[i] = anc[0]
    if missing:
        shown = ", ".join(f"osd.{o}" for o in missing[:5]) + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else "")
        raise PgtoolsError(f"{shown}: holds data but has no {level} above it in the CRUSH map; "
                           f"choose a level every OSD sits under")
    names = {int(b): crush.item_name(int(b)) for b in set(out.tolist())}
    return out, names


def _hosts_from_osd_table(snap: Snapshot, osd_ids: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Hosts from the OSD table (``ceph osd tree``'s host column) when the capture has no CRUSH map."""
    host = snap.osds.drop_duplicates("osd_id").set_index("osd_id")["host"].reindex(osd_ids)
    bad = host.isna() | (host.astype(str) == "")
    if bad.any():
        shown = ", ".join(f"osd.{o}" for o in host.index[bad][:5])
        raise PgtoolsError(f"{shown}: holds data but the OSD table gives no host (and the capture has no CRUSH map)")
    names = sorted(set(host.astype(str)))
    code = {h: -1 - i for i, h in enumerate(names)}  # stand-in bucket ids
    return host.astype(str).map(code).to_numpy(np.int64), {v: h for h, v in code.items()}


def pool_needs(snap: Snapshot) -> tuple[pd.DataFrame, list[str]]:
    """Per pool: ``pool_id``, ``pool``, ``type``, ``size``, ``min_size``, ``need`` and the assumption warnings.

    ``need`` is 1 for a replicated pool and k for an erasure-coded one: from ``ec_k``, else ``size - ec_m``;
    with neither (the profile missing from the capture) k is taken to be ``min_size``, the pessimistic
    reading of Ceph's default ``min_size = k + min(1, m - 1)`` (``OSDMonitor::prepare_pool_size``), and a
    warning says so.
    """
    if not len(snap.pools):
        raise PgtoolsError("the capture has no pools: durability needs them (`ceph osd dump -f json` or "
                           "`ceph osd pool ls detail`) and where their PGs sit (`ceph pg dump`, or the CRUSH map)")
    rows, notes = [], []
    for rec in snap.pools.to_dict("records"):
        size = int(rec["size"])
        ms = rec.get("min_size")
        ms = size - size // 2 if ms is None or pd.isna(ms) else int(ms)
        ec = str(rec.get("type", "")).startswith("erasure")
        need = 1
        if ec:
            k, m = rec.get("ec_k"), rec.get("ec_m")
            if k is not None and not pd.isna(k):
                need = int(k)
            elif m is not None and not pd.isna(m):
                need = size - int(m)
            else:
                need = ms
                notes.append(f"pool {rec.get('pool', rec['pool_id'])}: erasure-code profile "
                             f"{rec.get('erasure_code_profile') or '?'} not in the capture; assumed k = min_size = "
                             f"{ms} (m = {size - ms}): a PG counts as lost when fewer than {ms} shards survive")
        rows.append({"pool_id": int(rec["pool_id"]), "pool": rec.get("pool", ""), "type": "erasure" if ec else
                     "replicated", "size": size, "min_size": ms, "need": need})
    cols = ["pool_id", "pool", "type", "size", "min_size", "need"]
    return pd.DataFrame(rows, columns=cols).sort_values("pool_id", ignore_index=True), notes


def _dump_matrix(pgs: pd.DataFrame) -> np.ndarray:
    """The acting sets of a PG dump (up where acting is empty) as an ``(n, width)`` array, -1 = none."""
    act = pgs["acting"].tolist() if "acting" in pgs.columns else [()] * len(pgs)
    up = pgs["up"].tolist() if "up" in pgs.columns else [()] * len(pgs)
    rows = [a if a is not None and len(a) else (u if u is not None else ()) for a, u in zip(act, up, strict=True)]
    width = max([1, *(len(r) for r in rows)])
    out = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    out[out == NONE] = -1
    return out


def pg_sets(snap: Snapshot, pools: pd.DataFrame, source: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Acting sets, pool row index and bytes of every PG of ``pools``, and where the sets came from.

    ``source``: ``"dump"`` (the capture's PG table: acting, else up), ``"computed"`` (recomputed with
    :func:`pgtools.placement.map_pool_arrays`, bytes from the dump when it has them) or ``"auto"`` (the dump
    when it has every PG of these pools, else computed).
    """
    pgs = snap.pgs
    pids = pools["pool_id"].to_numpy()
    have = pgs is not None and len(pgs) > 0 and set(pids.tolist()) <= set(pgs["pool_id"].astype(int).tolist())
    if source == "auto":
        source = "dump" if have else "computed"
    if source == "dump":
        if not have:
            raise MissingInputError("the capture's PG table lacks some pools; use source='computed'")
        sel = pgs[pgs["pool_id"].astype(int).isin(pids)]
        mat = _dump_matrix(sel)
        pool_row = pd.Index(pids).get_indexer(sel["pool_id"].astype(int).to_numpy())
        b = pd.to_numeric(sel["bytes"], errors="coerce").fillna(0).to_numpy(float) if "bytes" in sel else np.zeros(len(sel))
        return mat, pool_row.astype(np.int64), b, "dump"
    if source != "computed":
        raise ValueError(f"source must be auto, dump or computed, not {source!r}")
    parts = map_pool_arrays(snap, [int(p) for p in pids])
    mat = up_matrix(parts, "acting")
    pool_row = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    b = np.zeros(len(mat))
    if pgs is not None and len(pgs) and "bytes" in pgs.columns:
        ids = np.concatenate([p.pgids() for p in parts]) if parts else np.array([], dtype=object)
        s = pd.Series(pd.to_numeric(pgs["bytes"], errors="coerce").to_numpy(float), index=pgs["pgid"])
        b = np.nan_to_num(s[~s.index.duplicated()].reindex(ids).to_numpy(float))
    return mat, pool_row.astype(np.int64), b, "computed"


def _mobius(weights: tuple[int, ...], threshold: int) -> dict[tuple[int, ...], int]:
    """``{positions: g}`` (non-zero g only) of ``f(U) = [sum of weights of U >= threshold]`` over subsets.

    The Möbius transform over the subset lattice, one position at a time (``s * 2**s`` steps).
    """
    s = len(weights)
    masks = np.arange(1 << s)
    tot = np.zeros(1 << s, dtype=np.int64)
    for i, w in enumerate(weights):
        tot += ((masks >> i) & 1) * w
    g = (tot >= threshold).astype(np.int64)
    for i in range(s):
        bit = (masks >> i) & 1 == 1
        g[bit] -= g[masks[bit] ^ (1 << i)]
    return {tuple(i for i in range(s) if (m >> i) & 1): int(g[m]) for m in np.flatnonzero(g)}


def _collapse(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of unit indices (-1 = none) → sorted distinct units (-1 padded, at the end) and copies of each."""
    big = np.iinfo(np.int64).max
    a = sort_rows(np.where(units < 0, big, units))
    width = a.shape[1]
    new = np.ones_like(a, dtype=bool)
    new[:, 1:] = a[:, 1:] != a[:, :-1]
    new &= a != big
    # position of each entry's distinct unit: cumulative count of "new" minus 1
    valid = a != big
    if (new == valid).all():  # no unit holds two copies: the sorted rows are the copysets
        return np.where(valid, a, -1), valid.astype(np.int64)
    pos = np.cumsum(new, axis=1) - 1
    distinct = np.full(a.shape, -1, dtype=np.int64)
    copies = np.zeros(a.shape, dtype=np.int64)
    r = np.repeat(np.arange(len(a)), width).reshape(a.shape)
    distinct[r[new], pos[new]] = a[new]
    np.add.at(copies, (r[valid], pos[valid]), 1)
    return distinct, copies


def _sum_by_code(parts: list[tuple], span: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum the coefficients of equal codes: sorted distinct codes and their ``(lost, lost * bytes, inactive)``.

    ``parts``: ``(codes, lost, inactive, bytes)`` with one coefficient pair per part (a subset position of one
    copy pattern) and the PGs' bytes.  Few possible codes are counted in place; otherwise parts whose three
    values are constant (no coefficient on bytes, or no bytes) need only a sort of their codes and run lengths,
    the rest one argsort and weighted counts, and the groups are merged the same way (a 2-D gather of
    millions of rows is what this avoids).
    """
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 3))
    codes = [p[0] for p in parts]
    n = sum(len(c) for c in codes)
    if span <= max(4 * n, 1 << 16):
        kp = np.concatenate(codes)
        uk = np.flatnonzero(np.bincount(kp, minlength=span))
        w = _weights(parts)
        return uk, np.stack([np.bincount(kp, weights=w[c], minlength=span)[uk] for c in range(3)], axis=1)
    groups: dict[tuple, list] = {}
    for p in parts:
        varies = p[1] != 0 and len(p[3]) and bool(p[3].any())
        groups.setdefault(("bytes",) if varies else (p[1], p[2]), []).append(p)
    out = []
    for sig, ps in groups.items():
        kp = np.concatenate([p[0] for p in ps])
        if sig == ("bytes",):
            out.append(_weighted_runs(kp, _weights(ps)))
            continue
        sk = np.sort(kp)
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        cnt = np.diff(np.r_[starts, len(sk)]).astype(float)
        out.append((sk[starts], np.stack([cnt * sig[0], np.zeros(len(cnt)), cnt * sig[1]])))
    if len(out) == 1:
        uk, w = out[0]
        return uk, w.T.copy()
    uk, w = _weighted_runs(np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out], axis=1))
    return uk, w.T.copy()


def _weights(parts: list[tuple]) -> np.ndarray:
    """``(3, n)``: per code of ``parts``, its (lost, lost * bytes, inactive) coefficients."""
    lens = [len(p[0]) for p in parts]
    lost = np.repeat([float(p[1]) for p in parts], lens)
    inact = np.repeat([float(p[2]) for p in parts], lens)
    lb = np.concatenate([p[1] * np.broadcast_to(p[3], len(p[0])) if p[1] else np.zeros(len(p[0])) for p in parts])
    return np.stack([lost, lb, inact])


def _weighted_runs(keys: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``keys`` and the ``(3, n)`` weights summed per key (one argsort, weighted counts)."""
    order = np.argsort(keys)
    sk = keys[order]
    new = np.r_[True, sk[1:] != sk[:-1]]
    inv = np.empty(len(keys), dtype=np.int64)
    inv[order] = np.cumsum(new) - 1
    m = int(new.sum())
    return sk[new], np.stack([np.bincount(inv, weights=w[c], minlength=m) for c in range(3)])


def assessed_pools(snap: Snapshot, pools: list | None) -> tuple[pd.DataFrame, list[str]]:
    """:func:`pool_needs` restricted to ``pools`` (names or ids; all when None).

    Raises
    ------
    PgtoolsError
        No pool left to assess.
    """
    info, notes = pool_needs(snap)
    if pools is not None:
        want = {snap.pool_id(p) for p in pools}
        info = info[info["pool_id"].isin(want)].reset_index(drop=True)
    if not len(info):
        raise PgtoolsError("no pool to assess")
    return info, notes


def _osd_load(mat: np.ndarray, prow: np.ndarray, nbytes: np.ndarray, info: pd.DataFrame) -> np.ndarray:
    """Bytes stored per OSD id (index: OSD id; a replica holds the PG's bytes, an EC shard 1/k of them), and
    -1 where the OSD holds no copy.  Column by column: no 2-D gather over millions of PGs."""
    share = nbytes / np.where(info["type"].to_numpy() == "erasure", info["need"].to_numpy(), 1)[prow]
    top = int(mat.max()) + 1 if mat.size and mat.max() >= 0 else 0
    held = np.zeros(top, dtype=bool)
    load = np.zeros(top)
    for c in range(mat.shape[1] if top else 0):
        col = mat[:, c]
        on = col >= 0
        ids = col[on]
        held[ids] = True
        if nbytes.any():
            load += np.bincount(ids, weights=share[on], minlength=top)
    return np.where(held, load, -1.0)


def _merge_load(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two :func:`_osd_load` results added (OSDs held by either)."""
    n = max(len(a), len(b))
    a, b = np.pad(a, (0, n - len(a)), constant_values=-1.0), np.pad(b, (0, n - len(b)), constant_values=-1.0)
    return np.where((a >= 0) | (b >= 0), np.maximum(a, 0) + np.maximum(b, 0), -1.0)


def failure_universe(snap: Snapshot, pools: list | None = None, sets: tuple | None = None, source: str = "auto"
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The OSDs K failures are drawn among, and the bytes each holds: every OSD holding data of **any** pool.

    The one rule of :mod:`pgtools.risk` for the failure universe: "K OSDs (hosts, racks ...) fail" means K of
    the units holding data of the map, whichever pools are counted; ``pools`` only selects the PGs counted
    and reported (so ``pools=["meta"]`` gives the figures of the ``meta`` row without the filter).  At a
    bucket level the units are these OSDs' ancestors (:func:`level_units`).

    Parameters
    ----------
    snap : Snapshot
    pools : list, optional
        The counted pools (names or ids; all when None).
    sets : tuple, optional
        :func:`pg_sets` of the counted pools, when the caller has it.  With ``pools`` None these are every
        pool's sets and nothing more is computed; otherwise the other pools' acting sets are added: rows of
        the PG dump (cheap), or, when the dump lacks them or ``source`` is ``"computed"``, their placement
        computed too (:func:`pgtools.placement.map_pool_arrays`: the cost of a correct universe).
    source : str
        As :func:`pg_sets`.

    Returns
    -------
    tuple of numpy.ndarray
        Sorted OSD ids (int64) and the bytes each holds over all pools (float64; zeros without byte counts).
    """
    info, _ = assessed_pools(snap, pools)
    mat, prow, nbytes, _src = pg_sets(snap, info, source) if sets is None else sets
    load = _osd_load(mat, prow, nbytes, info)
    if pools is not None:
        everything, _ = pool_needs(snap)
        others = everything[~everything["pool_id"].isin(info["pool_id"])].reset_index(drop=True)
        if len(others):
            om, op, ob, _ = pg_sets(snap, others, "computed" if source == "computed" else "auto")
            load = _merge_load(load, _osd_load(om, op, ob, others))
    osds = np.flatnonzero(load >= 0)
    return osds, load[osds]


def check_universe(osds: np.ndarray, mat: np.ndarray) -> None:
    """Raise when an OSD of the acting sets is not in the universe (a universe of another map or pools)."""
    held = sorted_unique(mat[mat >= 0])
    pos = np.minimum(np.searchsorted(osds, held), max(len(osds) - 1, 0))
    if len(held) and (not len(osds) or (osds[pos] != held).any()):
        raise PgtoolsError("the failure universe given lacks OSDs holding data of the counted pools: "
                           "build it with failure_universe on the same capture")


def build_copysets(snap: Snapshot, level: str = "osd", *, pools: list | None = None, source: str = "auto",
                   jmax: int | None = None, sets: tuple | None = None, universe: tuple | None = None) -> Copysets:
    """Reduce a snapshot's acting sets at a CRUSH level to :class:`Copysets` (see the module docstring).

    Parameters
    ----------
    snap : Snapshot
    level : str
        ``"osd"`` or a bucket type of the CRUSH map (``"host"``, ``"rack"``, ...).
    pools : list of int or str, optional
        Pools to count (all when None).  The failure units are the units holding data of *any* pool
        (:func:`failure_universe`), so a filter does not change the figures of the pools it keeps; with a
        filter and no PG dump, the other pools' placement is computed too, for that universe.
    source : str
        Where the acting sets come from, see :func:`pg_sets`.
    jmax : int, optional
        Largest subset size to tabulate: the most failures the copysets will be asked about (default: the
        largest copyset; failures of more units need only these: a coefficient is non-zero only on subsets
        of one copyset).
    sets : tuple, optional
        The result of :func:`pg_sets` for these pools, when the caller has it (placement computed once for
        several levels).
    universe : tuple, optional
        The result of :func:`failure_universe` (same capture, pools and source), when the caller has it.
    """
    info, notes = assessed_pools(snap, pools)
    if sets is None:
        sets = pg_sets(snap, info, source)
    mat, prow, nbytes, src = sets
    if universe is None:  # built from these sets: holds their OSDs
        osds, osd_bytes = failure_universe(snap, pools, sets, source)
    else:
        osds, osd_bytes = universe
        check_universe(osds, mat)
    unit_of_osd, names = level_units(snap, level, osds)
    unit_ids = np.unique(unit_of_osd)
    # OSD id -> unit index
    lut = np.full(int(osds.max()) + 1 if len(osds) else 1, -1, dtype=np.int64)
    lut[osds] = np.searchsorted(unit_ids, unit_of_osd)
    units = np.where(mat >= 0, lut[np.maximum(mat, 0)], -1)
    distinct, copies = _collapse(units)
    n_units = len(unit_ids)
    s = (distinct >= 0).sum(1)
    if len(s) and s.max() > MAX_UNITS:
        raise PgtoolsError(f"a PG spans {int(s.max())} {level}s; at most {MAX_UNITS} are supported")
    present = copies.sum(1)
    need = info["need"].to_numpy()[prow]
    ms = info["min_size"].to_numpy()[prow]
    thr_lost = np.maximum(present - need + 1, 0)
    thr_inact = np.maximum(present - ms + 1, 0)
    short = (thr_lost <= 0) | (thr_inact <= 0)
    top = int(s.max()) if len(s) else 0
    jmax = top if jmax is None else min(jmax, top)
    n_pools = len(info)
    # group PGs by copy pattern: (s, copies per position, thresholds), one int64 code per PG
    width = distinct.shape[1]
    cols = [s, *(copies[:, c] for c in range(width)), thr_lost, thr_inact]
    base = max(int(c.max()) for c in cols) + 1 if len(s) else 1
    if base ** len(cols) >= 2**63:
        raise PgtoolsError(f"PGs of {width} copies: too wide to group")
    pcode = np.zeros(len(s), dtype=np.int64)
    for c in cols:
        pcode = pcode * base + c
    _, first, pinv = np.unique(pcode, return_index=True, return_inverse=True)
    upat = np.stack([c[first] for c in cols], axis=1)
    porder = np.argsort(pinv, kind="stable")
    pbounds = np.r_[0, np.cumsum(np.bincount(pinv, minlength=len(upat)))]
    parts: list[list[tuple]] = [[] for _ in range(jmax + 1)]
    for pi, row in enumerate(upat):
        # one pattern: every PG (no gather), else this pattern's PGs
        sel = porder[pbounds[pi]:pbounds[pi + 1]] if len(upat) > 1 else slice(None)
        rows, pool_of, b = distinct[sel], prow[sel], nbytes[sel]
        sn = int(row[0])
        w = tuple(int(x) for x in row[1:1 + sn])
        tl, ti = int(row[1 + width]), int(row[2 + width])
        gl = _mobius(w, tl) if tl > 0 else {}
        gi = _mobius(w, ti) if ti > 0 else {}
        for comb in set(gl) | set(gi):
            j = len(comb)
            if j == 0 or j > jmax:
                continue
            codes = rows[:, comb[0]].copy()
            for c in comb[1:]:
                codes *= n_units
                codes += rows[:, c]
            if n_pools > 1:
                codes *= n_pools
                codes += pool_of
            parts[j].append((codes, gl.get(comb, 0), gi.get(comb, 0), b))
    keys, coef = [np.zeros(0, dtype=np.int64)], [np.zeros((0, n_pools, 3))]
    for j in range(1, jmax + 1):
        if n_units ** j * n_pools >= 2**63:
            raise PgtoolsError(f"{j}-unit sets over {n_units} units and {n_pools} pools do not fit 63-bit codes")
        uk, summed = _sum_by_code(parts[j], n_units ** j * n_pools)
        sets, pool_of = uk // n_pools, uk % n_pools
        first = np.r_[True, sets[1:] != sets[:-1]][:len(sets)]  # codes sorted by set, then pool
        us = sets[first]
        if n_pools == 1:
            table = summed[:, None, :]
        else:
            table = np.zeros((len(us), n_pools, 3))
            table[np.cumsum(first) - 1, pool_of] = summed
        keys.append(us)
        coef.append(table)
    # per-pool summaries
    info = info.copy()
    info["pgs"] = np.bincount(prow, minlength=n_pools)
    info["bytes"] = np.bincount(prow, weights=nbytes, minlength=n_pools)
    info["pgs_short"] = np.bincount(prow, weights=short, minlength=n_pools).astype(np.int64)
    info["pgs_shared_unit"] = np.bincount(prow, weights=s < present, minlength=n_pools).astype(np.int64)
    top_c = np.maximum.reduce([copies[:, c] for c in range(width)]) if len(copies) else np.zeros(0, dtype=np.int64)
    seen = np.bincount(prow * (width + 1) + top_c, minlength=n_pools * (width + 1)).reshape(n_pools, width + 1)
    info["max_copies_per_unit"] = np.where(seen.any(1), width - np.argmax(seen[:, ::-1] > 0, axis=1), 0)
    for p in info.itertuples():
        if p.pgs_short:
            notes.append(f"pool {p.pool}: {p.pgs_short} PGs already have fewer than min_size (or k) copies on "
                         f"their acting sets; they are left out of the failure figures")
    for text in notes:
        warnings.warn(text, PgtoolsWarning, stacklevel=2)
    unit_names = np.array([names[int(u)] for u in unit_ids], dtype=object)
    # bytes each unit holds, all pools: a replica holds the PG's bytes, an EC shard 1/k of them
    unit_bytes = np.bincount(lut[osds], weights=osd_bytes, minlength=n_units)
    cs = Copysets(level=level, units=unit_names, unit_ids=unit_ids, pools=info, keys=keys, coef=coef,
                  warnings=notes, span=top, unit_bytes=unit_bytes)
    cs.pools.attrs["source"] = src
    return cs


def hyper(n: int, j: int, k: int) -> float:
    """P(a given ``j``-set of units is inside a uniform ``k``-subset of ``n``) = C(n-j, k-j) / C(n, k)."""
    if j > k or k > n:
        return 0.0
    return math.comb(n - j, k - j) / math.comb(n, k)
