"""pgtools' own capacity balancer: projected %used per OSD from per-PG bytes, the fullest OSD brought down.

The fullest OSD under a pool's rule sets the pool's MAX AVAIL (``PGMap::get_rule_avail``, see
:func:`pgtools.mgr.capacity.pool_max_avail`), so every move here takes a PG copy off the fullest OSD that has
one that helps.  A PG's copy weighs ``(bytes + omap_bytes) / k`` (``k`` = 1 for a replicated pool, the data
chunks of an erasure-coded one: the convention of :func:`pgtools.simulate.metrics.osd_load`); an OSD's
projected used space is its reported ``kb_used`` plus what moved in minus what moved out.

Each step takes the fullest OSD ``a`` (then the next ones, if ``a`` has nothing to give) and, over its PG copies
and the valid targets ``b`` (least full first; :meth:`pgtools.balance.search.Layout.candidate`: Ceph's upmap
checks), picks the move that minimises ``max(used'(a), used'(b))``, which must stay below ``a``'s current
%used; ``b`` must stay below the backfillfull ratio.  Moves that remove an upmap pair are preferred when
equal.  Deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..mgr.capacity import pool_max_avail
from ..mgr.options import full_ratios
from ..model import Snapshot
from .search import BalancePlan, Layout

__all__ = ["balance_capacity"]

_NONE = 0x7FFFFFFF
#: sources (fullest first) examined per step
_SOURCES = 8
#: targets (least full first) examined per PG copy
_TARGETS = 24


def _pg_bytes(snap: Snapshot) -> dict[str, float]:
    pgs = snap.pgs
    if pgs is None or not len(pgs) or "bytes" not in pgs.columns:
        raise PgtoolsError("capacity balancing needs per-PG bytes: the capture has no PG dump with statistics "
                           "(`ceph pg dump`)")
    b = pd.to_numeric(pgs["bytes"], errors="coerce").fillna(0.0).to_numpy(float)
    if "omap_bytes" in pgs.columns:
        b = b + pd.to_numeric(pgs["omap_bytes"], errors="coerce").fillna(0.0).to_numpy(float)
    return dict(zip(pgs["pgid"].astype(str), b, strict=True))


def _osd_space(snap: Snapshot, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(size, used)`` per OSD id in bytes (NaN-free; 0 size where unknown)."""
    src = snap.osd_stats if snap.osd_stats is not None and "kb_used" in snap.osd_stats.columns else snap.osds
    if src is None or "kb" not in src.columns or "kb_used" not in src.columns:
        raise PgtoolsError("capacity balancing needs OSD sizes and usage (`ceph osd df` or the PG dump's OSD "
                           "statistics)")
    st = src.drop_duplicates("osd_id").set_index("osd_id")
    size, used = np.zeros(n), np.zeros(n)
    ids = [i for i in st.index.astype(int) if 0 <= i < n]
    size[ids] = pd.to_numeric(st.loc[ids, "kb"], errors="coerce").fillna(0.0).to_numpy(float) * 1024.0
    used[ids] = pd.to_numeric(st.loc[ids, "kb_used"], errors="coerce").fillna(0.0).to_numpy(float) * 1024.0
    return size, used


def balance_capacity(snap: Snapshot, *, pools=None, max_moves: int | None = None, min_gain: float = 0.0,
                     ceph_release: str | None = None) -> BalancePlan:
    """Capacity balancing with ``pg-upmap-items``: lower the fullest OSDs' projected %used.

    Parameters
    ----------
    snap : Snapshot
        Needs placement (osd dump, CRUSH map), per-PG bytes (PG dump) and OSD sizes (``osd df``).
    pools : iterable of int or str, optional
        Pools whose PGs may move (default: all).
    max_moves : int, optional
        Stop after this many PG moves.
    min_gain : float
        A move must lower the source's %used by more than this fraction (of 1).
    ceph_release : str, optional
        As in :func:`pgtools.balance.calc_pg_upmaps`.

    Returns
    -------
    BalancePlan
        ``osds``: ``used_before``/``used_after`` fractions; ``pools``: ``max_avail_before``/``after`` (bytes, as
        ``ceph df``); ``summary``: ``spread_before``/``after`` (max − min %used of the OSDs under the moved
        pools, as fractions), ``max_used_before``/``after``, ``bytes_moved``, ``backfillfull_ratio``.
    """
    if max_moves is not None and max_moves < 0:
        raise PgtoolsError("max_moves must be >= 0")
    lay = Layout(snap, pools, ceph_release)
    pgb = _pg_bytes(snap)
    size, used0 = _osd_space(snap, lay.n)
    used = used0.copy()
    bff = float(full_ratios(snap, warn=False)["backfillfull_ratio"].value)
    shard: dict[int, np.ndarray] = {}
    for pid, pl in lay.pools.items():
        k = 1
        if pl.ec:
            row = snap.pools.loc[snap.pools["pool_id"] == pid]
            k = int(row["ec_k"].iloc[0]) if "ec_k" in row and pd.notna(row["ec_k"].iloc[0]) else 0
            if k <= 0:
                raise PgtoolsError(f"pool {pl.name}: erasure-coded but its profile's k is unknown")
        shard[pid] = np.array([pgb.get(f"{pid}.{ps:x}", 0.0) / k for ps in range(len(pl.cur))])
    holders = np.zeros(lay.n, dtype=bool)
    for pl in lay.pools.values():
        holders |= pl.eligible | (pl.count > 0)
    holders &= size > 0
    frac = np.where(size > 0, used / np.where(size > 0, size, 1), 0.0)
    before_frac = frac.copy()
    while max_moves is None or lay.moves < max_moves:
        frac = np.where(size > 0, used / np.where(size > 0, size, 1), 0.0)
        if not _step(lay, shard, size, used, frac, holders, bff, min_gain):
            break
    frac = np.where(size > 0, used / np.where(size > 0, size, 1), 0.0)
    return _report(snap, lay, shard, size, used0, used, before_frac, frac, holders, bff)


def _step(lay: Layout, shard: dict, size: np.ndarray, used: np.ndarray, frac: np.ndarray, holders: np.ndarray,
          bff: float, min_gain: float) -> bool:
    picked: set[int] = set()
    for pl in lay.pools.values():  # the fullest OSDs of each pool's OSDs (each device class gets its turn)
        cand = np.flatnonzero(holders & ((pl.count > 0) | pl.eligible))
        picked.update(cand[np.lexsort((cand, -frac[cand]))][:_SOURCES].tolist())
    order = sorted(picked, key=lambda o: (-frac[o], o))
    for a in order:
        best = None
        for pid, pl in lay.pools.items():
            cands = np.flatnonzero(pl.eligible & (size > 0))
            if not len(cands):
                continue
            cands = cands[np.lexsort((cands, frac[cands]))][:_TARGETS * 4]
            for ps in sorted(pl.on[a]):
                if not pl.movable[ps]:
                    continue
                s = shard[pid][ps]
                if s <= 0:
                    continue
                pos = pl.cur[ps].index(a)
                ua = (used[a] - s) / size[a]
                undo = lay.undo_position(pl, ps, pos)
                tried = 0
                for b in ([undo] if undo is not None else []) + cands.tolist():
                    if b == a:
                        continue
                    ub = (used[b] + s) / size[b] if size[b] > 0 else np.inf
                    if ub > bff:
                        continue
                    score = max(ua, ub)
                    if not score < frac[a] - min_gain:
                        if b != undo:
                            break  # the least full targets come first: no later one is better
                        continue
                    key = (round(score, 9), 0 if b == undo else 1, pid, ps, b)
                    if best is not None and key >= best[0]:
                        if b != undo:
                            break
                        continue
                    got = lay.candidate(pl, ps, pos, b)
                    tried += 1
                    if got is not None:
                        best = (key, pl, ps, got, a, b, s)
                        break
                    if tried >= _TARGETS:
                        break
        if best is not None:
            _key, pl, ps, got, a, b, s = best
            lay.apply(pl, ps, *got)
            used[a] -= s
            used[b] += s
            return True
    return False


def _report(snap: Snapshot, lay: Layout, shard: dict, size, used0, used, f0, f1, holders, bff) -> BalancePlan:
    # bytes moved: copies whose OSD differs from the snapshot's
    moved = _bytes_moved(snap, lay, shard)
    ids = np.flatnonzero(holders)
    osds = pd.DataFrame({"osd_id": ids, "kb": size[ids] / 1024.0, "used_before": f0[ids], "used_after": f1[ids]})
    kb = pd.Series(size / 1024.0)
    ma0 = pool_max_avail(snap, kb=kb, kb_avail=pd.Series((size - used0) / 1024.0))
    ma1 = pool_max_avail(snap, kb=kb, kb_avail=pd.Series((size - used) / 1024.0))
    rows = [{"pool_id": pid, "pool": pl.name, "max_avail_before": float(ma0.get(pid, np.nan)),
             "max_avail_after": float(ma1.get(pid, np.nan))} for pid, pl in lay.pools.items()]
    pools = pd.DataFrame(rows, columns=["pool_id", "pool", "max_avail_before", "max_avail_after"])
    h = holders
    summary = {"spread_before": float(f0[h].max() - f0[h].min()) if h.any() else 0.0,
               "spread_after": float(f1[h].max() - f1[h].min()) if h.any() else 0.0,
               "max_used_before": float(f0[h].max()) if h.any() else 0.0,
               "max_used_after": float(f1[h].max()) if h.any() else 0.0,
               "bytes_moved": moved, "backfillfull_ratio": bff,
               "items_before": len(lay.orig_items), "items_after": lay.items_total()}
    return lay.plan(osds=osds, pools=pools, summary=summary)


def _bytes_moved(snap: Snapshot, lay: Layout, shard: dict) -> float:
    """Bytes of the PG copies whose OSD is not the snapshot's (what backfill writes)."""
    start = Layout(snap, list(lay.pools), lay.release)
    total = 0.0
    for pid, ps in lay.changed:
        a, b = start.pools[pid].cur[ps], lay.pools[pid].cur[ps]
        if lay.pools[pid].ec:
            n = sum(1 for x, y in zip(a, b, strict=True) if x != y)
        else:
            n = len(set(b) - set(a))
        total += n * shard[pid][ps]
    return total
