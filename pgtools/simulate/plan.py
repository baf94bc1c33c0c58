"""Data shares under pg_num changes and the :class:`Plan` returned by :func:`pgtools.simulate.simulate`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..model import Snapshot, split_pgid
from ..placement.pgmath import pg_num_mask, stable_mod


# ------------------------------------------------------------------------------------------ data shares
def hash_shares(old: int, new: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How a pool's hash space is shared between pg_num ``old`` and ``new``.

    Returns
    -------
    (old_ps, new_ps, share) : arrays
        One entry per (old PG, new PG) pair that share hashes; ``share`` is the fraction of the old PG's
        hashes that now map to the new PG (the shares of one old PG sum to 1).
    """
    r = np.arange(pg_num_mask(max(old, new)) + 1, dtype=np.int64)  # every hash value, up to the mask
    o, q = stable_mod(r, old), stable_mod(r, new)
    key = o * (int(new) + 1) + q
    uk, cnt = np.unique(key, return_counts=True)
    op, qp = uk // (new + 1), uk % (new + 1)
    per_old = np.bincount(o, minlength=old)
    return op, qp, cnt / per_old[op]


# ------------------------------------------------------------------------------------------ the plan
@dataclass
class Plan:
    """The outcome of :func:`simulate`.

    Attributes
    ----------
    steps : DataFrame
        One row per step: ``step, change, pgs_moved, shards_moved, bytes_moved, objects_moved,
        max_pgs_per_osd, min_pgs_per_osd, pgs_lost, pgs_inactive, pgs_degraded, bytes_lost, objects_lost,
        bytes_to_recover, health``.  The failure columns are non-zero on ``Fail`` steps only and count
        each PG once, in its worst class: ``pgs_lost`` (no copy left, or fewer than k shards: nothing can
        recover them), ``pgs_inactive`` (not lost, fewer than min_size copies), ``pgs_degraded`` (neither,
        fewer than size copies); ``bytes_lost``/``objects_lost`` are the lost PGs' data,
        ``bytes_to_recover`` the copies recovery writes back for the others.
    movement : DataFrame
        ``step, osd_id, pgs_in, pgs_out, bytes_in, bytes_out`` (steps ≥ 1, OSDs with any movement).
    osd_load : DataFrame
        ``step, osd_id, pgs, bytes, utilization`` (projected %used).
    health : DataFrame
        ``step, code, severity, summary``.
    pools : DataFrame
        ``step, pool_id, pool, pg_num, pgp_num, size, max_avail`` (bytes).
    failures : DataFrame
        For ``Fail`` steps, one row per PG left short of copies: ``step, pgid, pool_id, status`` (``"lost"``,
        ``"inactive"`` or ``"degraded"``), ``copies_lost`` (on the failed OSDs), ``remaining`` (copies or
        shards left in the acting set), ``size, min_size, k`` (1 for replicated pools), ``inactive`` (fewer
        than min_size left, lost PGs included), ``lost``, ``bytes`` (to recover; 0 for a lost PG),
        ``bytes_lost, objects_lost``.  See :meth:`failure_pools` for counts per pool.
    mappings : list of DataFrame
        The :func:`~pgtools.placement.map_pgs` frame of each step (plus ``bytes``/``objects``).
    snapshots : list of Snapshot
    changes : list of Change
    commands : list of str
        The ``ceph`` commands an operator would run (pools named), never executed; none for a refused
        change or the changes after it.
    refused : Refusal or None
        The change the monitor would refuse, where the plan stops (``steps.refused`` holds its message
        at that step, "" elsewhere); None when every change is accepted.
    """

    steps: pd.DataFrame
    movement: pd.DataFrame
    osd_load: pd.DataFrame
    health: pd.DataFrame
    pools: pd.DataFrame
    failures: pd.DataFrame
    mappings: list[pd.DataFrame]
    snapshots: list[Snapshot] = field(repr=False, default_factory=list)
    changes: list[Any] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    refused: Any = None

    @property
    def peak_pgs_per_osd(self) -> int:
        """Largest PG count on one OSD over all steps."""
        return int(self.osd_load["pgs"].max()) if len(self.osd_load) else 0

    def diff(self, a: int = 0, b: int = -1) -> pd.DataFrame:
        """Per-PG changes between two steps: ``pgid, up_a, up_b, acting_a, acting_b`` for PGs whose up
        or acting differ (PGs present in one step only have ``()`` on the other side)."""
        ma, mb = self.mappings[a], self.mappings[b]
        m = ma[["pgid", "up", "acting"]].merge(mb[["pgid", "up", "acting"]], on="pgid", how="outer",
                                               suffixes=("_a", "_b"))
        for c in ("up_a", "up_b", "acting_a", "acting_b"):
            m[c] = m[c].apply(lambda v: v if isinstance(v, tuple) else ())
        keep = (m["up_a"] != m["up_b"]) | (m["acting_a"] != m["acting_b"])
        out = m[keep].reset_index(drop=True)
        key = out["pgid"].map(split_pgid)
        return out.iloc[sorted(range(len(out)), key=lambda i: key.iloc[i])].reset_index(drop=True)

    def failure_pools(self) -> pd.DataFrame:
        """Failure outcome per step and pool: ``step, pool_id, pool, pgs_lost, pgs_inactive, pgs_degraded,
        bytes_lost, objects_lost, bytes_to_recover`` (steps with a failure, pools it touched).

        A lost PG (no copy left, or fewer than k shards) cannot be recovered by anything.
        """
        cols = ["step", "pool_id", "pool", *_FAIL_COUNTS]
        f = self.failures
        if not len(f):
            return pd.DataFrame(columns=cols)
        g = f.assign(pgs_lost=f["status"] == "lost", pgs_inactive=f["status"] == "inactive",
                     pgs_degraded=f["status"] == "degraded", bytes_to_recover=f["bytes"])
        out = g.groupby(["step", "pool_id"], as_index=False)[list(_FAIL_COUNTS)].sum()
        names = self.pools.drop_duplicates(["step", "pool_id"]).set_index(["step", "pool_id"])["pool"]
        out.insert(2, "pool", [names.get((s, p), str(p)) for s, p in zip(out["step"], out["pool_id"], strict=True)])
        for c in _FAIL_COUNTS:
            out[c] = out[c].astype(np.int64)
        return out[cols]

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: ``{"steps": [...], "final": {...}, "refused": {...} or null}`` (see :meth:`to_json`)."""
        steps = []
        f = self.failures
        fp = self.failure_pools()
        for i, row in enumerate(self.steps.to_dict("records")):
            pools = self.pools[self.pools["step"] == i]
            m = self.mappings[i]
            fi = f[f["step"] == i]

            steps.append({
                "step": i, "change": row["change"],
                "pools": {str(int(p)): {"pg_num": int(a), "pgp_num": int(b)}
                          for p, a, b in zip(pools["pool_id"], pools["pg_num"], pools["pgp_num"], strict=True)},
                "pgs_moved": int(row["pgs_moved"]), "shards_moved": int(row["shards_moved"]),
                "bytes_moved": int(row["bytes_moved"]), "max_pgs_per_osd": int(row["max_pgs_per_osd"]),
                **{f"pgs_{s}": sorted(fi.loc[fi["status"] == s, "pgid"], key=split_pgid)
                   for s in ("lost", "inactive", "degraded")},
                "bytes_lost": int(row.get("bytes_lost", 0)), "objects_lost": int(row.get("objects_lost", 0)),
                "bytes_to_recover": int(row.get("bytes_to_recover", 0)),
                "failure_pools": {str(int(r["pool_id"])): {"pool": str(r["pool"]),
                                                           **{c: int(r[c]) for c in _FAIL_COUNTS}}
                                  for r in fp[fp["step"] == i].to_dict("records")},
                "health": list(self.health.loc[self.health["step"] == i, "summary"]),
                "pgs": [{"pgid": g, "up": [int(x) for x in u], "acting": [int(x) for x in a]}
                        for g, u, a in zip(m["pgid"], m["up"], m["acting"], strict=True)],
                "refused": (self.refused.to_dict() if self.refused is not None and i == self.refused.step
                            else None),
            })
        return {"steps": steps, "final": steps[-1],
                "refused": self.refused.to_dict() if self.refused is not None else None}

    def to_json(self, **kwargs: Any) -> str:
        """JSON text: one object ``{"steps": [...], "final": {...}, "refused": ...}``.

        Each step has ``step``, ``change``, ``pools`` (``{"<pool_id>": {"pg_num", "pgp_num"}}``),
        ``pgs_moved``, ``shards_moved``, ``bytes_moved``,
        ``max_pgs_per_osd``, ``pgs_lost``, ``pgs_inactive``, ``pgs_degraded`` (lists of pgids: PGs a failure
        leaves with no copy / fewer than k shards, with fewer than min_size, with fewer than size; each PG in
        its worst class only), ``bytes_lost``, ``objects_lost`` (the lost PGs' data: nothing can recover
        it), ``bytes_to_recover``, ``failure_pools`` (``{"<pool_id>": {"pool", "pgs_lost", "pgs_inactive",
        "pgs_degraded", "bytes_lost", "objects_lost", "bytes_to_recover"}}`` for the pools a failure touched,
        else ``{}``), ``health`` (messages), ``pgs`` (``pgid, up, acting`` of every PG) and ``refused``:
        null, or at the step the monitor refuses ``{"step", "change", "command", "error", "message",
        "remedy"}`` (repeated at the top level; the plan stops at that step).
        """
        return json.dumps(self.to_dict(), **kwargs)


_FAIL_COUNTS = ("pgs_lost", "pgs_inactive", "pgs_degraded", "bytes_lost", "objects_lost", "bytes_to_recover")

