"""Pool settings derived from a PG dump when the capture has no osd dump (the "ticket" case).

A user who sends only ``ceph pg dump`` and ``ceph osd tree`` gives pgtools the PGs and the OSDs, not the
pools: no pg_num, size, type, CRUSH rule or name.  :func:`derive_pools` reconstructs what the PGs prove
and records every assumption as a warning line:

* ``pg_num`` = highest placement seed + 1 of the pool's PGs (checked against the number of PGs listed);
* ``pgp_num`` = ``pg_num`` (assumed: the PG dump does not show it);
* ``size`` = the longest up or acting set (an EC hole, ``NONE``, counts as a position);
* ``type`` = ``erasure`` when a hole is seen, else ``replicated`` (assumed: a clean EC pool looks the same);
* the pool name from a usage table (``pg dump`` has none; ``ceph df``/``osd pool ls detail`` do), else the id.

Derived pools carry a ``derived`` column naming the derived fields (``""`` for pools read from a pool
table), so downstream code can refuse what needs the real values (placement, simulation; see
:func:`pgtools.placement.require_placement`) and say what is assumed elsewhere.
"""

from __future__ import annotations

import pandas as pd

from ..crush.constants import ITEM_NONE as NONE
from ..model import OSD_DUMP_HINT, id_ranges

__all__ = ["derive_pools"]

def _missing(pools: pd.DataFrame, col: str) -> pd.Series:
    if col not in pools.columns:
        return pd.Series(True, index=pools.index)
    return pools[col].isna()


def derive_pools(pools: pd.DataFrame, pgs: pd.DataFrame,
                 pool_stats: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Fill the pools a PG dump proves but no pool table describes.

    Parameters
    ----------
    pools : DataFrame
        The merged pool table: empty (every pool of ``pgs`` is then derived), or lacking ``pg_num``/``size``
        for some pools (those are filled in).
    pgs : DataFrame
        The merged PG table (``pool_id, ps, up, acting``).
    pool_stats : DataFrame, optional
        Usage tables (``pool_id``, ``pool`` name) from ``pg dump``/``df``.

    Returns
    -------
    (DataFrame, list of str)
        The pool table with the derived values (a ``derived`` column naming the derived fields, added only
        when something was derived) and one warning line per assumption.
    """
    if pgs is None or not len(pgs):
        return pools, []
    pools = pools.copy()
    if not len(pools):
        # no pool table at all: every pool the PGs name.  (PGs of a pool missing from a pool table are a
        # cross-file inconsistency, left to the load checks: guessing that pool would hide it.)
        pools = pd.DataFrame({"pool_id": sorted(int(i) for i in pgs["pool_id"].unique())})
    names = pd.Series(dtype=object)
    if pool_stats is not None and "pool" in pool_stats.columns:
        names = pool_stats.dropna(subset=["pool"]).drop_duplicates("pool_id").set_index("pool_id")["pool"]

    by_pool = {int(k): g for k, g in pgs.groupby("pool_id")}
    warns: list[str] = []
    derived_rows: dict[int, list[str]] = {}
    summary: dict[tuple, list[int]] = {}
    for idx in pools.index[_missing(pools, "pg_num") | _missing(pools, "size")]:
        pid = int(pools.at[idx, "pool_id"])
        g = by_pool.get(pid)
        if g is None:
            continue
        fields: list[str] = []
        if _missing(pools, "pg_num")[idx]:
            pg_num = int(g["ps"].max()) + 1
            pools.loc[idx, "pg_num"] = pg_num
            fields.append("pg_num")
            listed = int(g["ps"].nunique())
            if listed != pg_num:
                warns.append(f"pool {pid}: the PG dump lists {listed} PGs but the highest is "
                             f"{pid}.{pg_num - 1:x}: pg_num {pg_num} assumed (at least that; {pg_num - listed} PGs "
                             f"missing from the dump, or it was cut short)")
            if _missing(pools, "pgp_num")[idx]:
                pools.loc[idx, "pgp_num"] = pg_num
                fields.append("pgp_num")
        vecs = list(g["up"]) + list(g["acting"])
        holes = any(NONE in tuple(v) for v in vecs)
        if _missing(pools, "size")[idx]:
            size = max((len(tuple(v)) for v in vecs), default=0)
            if size:
                pools.loc[idx, "size"] = size
                fields.append("size")
            else:
                warns.append(f"pool {pid}: size unknown (no PG of the pool maps to any OSD): {OSD_DUMP_HINT}")
        if _missing(pools, "type")[idx]:
            pools.loc[idx, "type"] = "erasure" if holes else "replicated"
            fields.append("type")
        if _missing(pools, "pool")[idx] or str(pools.at[idx, "pool"]) in ("", "nan"):
            name = names.get(pid)
            pools.loc[idx, "pool"] = str(pid) if name is None or pd.isna(name) else str(name)
            fields.append("pool")
        derived_rows[pid] = fields
        size = pools.at[idx, "size"]
        key = (int(pools.at[idx, "pg_num"]), "?" if pd.isna(size) else int(size), str(pools.at[idx, "type"]))
        summary.setdefault(key, []).append(pid)
    if not derived_rows:
        return pools, warns
    ids = sorted(derived_rows)
    unnamed = [p for p in ids if "pool" in derived_rows[p] and
               str(pools.loc[pools.pool_id == p, "pool"].iloc[0]) == str(p)]
    desc = "; ".join(f"pool{'s' if len(p) > 1 else ''} {id_ranges(p)}: pg_num {n}, size {sz}, {t}"
                     for (n, sz, t), p in sorted(summary.items(), key=lambda kv: kv[1][0]))
    warns.insert(0, f"no osd dump: pool settings derived from the PG dump ({desc}): "
                    "pg_num = highest PG seed + 1, pgp_num assumed equal to pg_num, size = longest up/acting set, "
                    "type erasure only where EC holes show (else replicated assumed), CRUSH rule and min_size "
                    f"unknown: {OSD_DUMP_HINT}")
    if unnamed:
        warns.insert(1, f"pool names unknown, pools named by id ({id_ranges(unnamed)}): add `ceph osd pool ls "
                        "detail -f json` or `ceph df detail -f json`")
    pools["derived"] = [",".join(derived_rows.get(int(p), [])) for p in pools["pool_id"]]
    return pools, warns
