"""Where PGs sit in the CRUSH hierarchy: the node table with weight and PG shares, per-OSD load, host-to-host flows.

Computations the treemap, load and flow plots of :mod:`pgtools.plotting` draw; nothing prints.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..mgr.counts import pg_counts, placements
from ..model import NONE, Snapshot
from ..placement.pgmath import ancestor, merge_target
from .distribution import imbalance

__all__ = ["crush_hierarchy", "osd_load", "host_flows"]


def crush_hierarchy(snap: Snapshot, by: str = "up") -> pd.DataFrame:
    """The CRUSH hierarchy as a node table, with each node's share of weight and of PGs.

    The hierarchy comes from ``snap.crush`` (shadow buckets left out), else from the ``ceph osd tree``
    bucket table (``snap.meta["extra"]["osd_tree"]["tree"]``) with the OSDs attached to their host, else
    from ``snap.osds.host`` under a single root named ``default``.

    Returns
    -------
    DataFrame
        One row per node in depth-first order: ``id`` (negative for buckets), ``name``, ``type``
        (``osd`` for devices), ``parent_id`` (nullable), ``depth`` (0 at roots), ``crush_weight``,
        ``device_class`` (OSDs), ``pgs`` (PG copies on the OSDs below, see :func:`pg_counts`),
        ``weight_share`` and ``pg_share`` (fractions of the node's root).
    """
    counts = pg_counts(snap, by) if len(snap.pgs) else pd.Series(dtype=np.int64)
    osds = snap.osds.set_index("osd_id") if len(snap.osds) else pd.DataFrame()
    children: dict[int, list[int]] = {}
    info: dict[int, dict[str, Any]] = {}

    def osd_info(o: int, weight: float | None = None, dclass: Any = None) -> dict[str, Any]:
        row = osds.loc[o] if o in osds.index else None
        if weight is None:
            weight = float(row["crush_weight"]) if row is not None and "crush_weight" in row.index \
                and not pd.isna(row["crush_weight"]) else 0.0
        if dclass is None and row is not None and "device_class" in row.index and not pd.isna(row["device_class"]):
            dclass = row["device_class"]
        name = row["name"] if row is not None and "name" in row.index and not pd.isna(row["name"]) else f"osd.{o}"
        return {"name": name, "type": "osd", "crush_weight": float(weight), "device_class": dclass}

    roots: list[int] = []
    crush = snap.crush
    tree = (snap.meta.get("extra") or {}).get("osd_tree", {}) if isinstance(snap.meta, dict) else {}
    tree = tree.get("tree") if isinstance(tree, dict) else None
    if crush is not None:
        parents = crush.parents()
        for bid, b in crush.buckets.items():
            if "~" in b.name:
                continue
            info[bid] = {"name": b.name, "type": crush.types.get(b.type_id, str(b.type_id)),
                         "crush_weight": b.weight / 0x10000, "device_class": None}
            children[bid] = [int(i) for i in b.items]
            for it, w in zip(b.items, b.weights, strict=True):
                if it >= 0:
                    dclass = crush.devices.get(it, (None, None))[1]
                    info[int(it)] = osd_info(int(it), w / 0x10000, dclass)
            if bid not in parents:
                roots.append(bid)
        roots.sort(reverse=True)
    elif isinstance(tree, pd.DataFrame) and len(tree):
        for r in tree.itertuples(index=False):
            bid = int(r.id)
            info[bid] = {"name": r.name, "type": r.type, "crush_weight": float(r.crush_weight),
                         "device_class": None}
            children.setdefault(bid, [])
        for r in tree.itertuples(index=False):
            if pd.isna(r.parent_id):
                roots.append(int(r.id))
            else:
                children.setdefault(int(r.parent_id), []).append(int(r.id))
        by_name = {v["name"]: k for k, v in info.items()}
        for o in osds.index:
            host = osds.loc[o, "host"] if "host" in osds.columns else None
            if host in by_name:
                info[int(o)] = osd_info(int(o))
                children[by_name[host]].append(int(o))
    else:
        info[-1] = {"name": "default", "type": "root", "crush_weight": 0.0, "device_class": None}
        children[-1] = []
        roots.append(-1)
        hosts: dict[str, int] = {}
        ids = sorted(set(osds.index.astype(int)) | set(int(o) for o in counts.index))
        for o in ids:
            host = osds.loc[o, "host"] if o in osds.index and "host" in osds.columns else None
            host = "(no host)" if host is None or pd.isna(host) else str(host)
            if host not in hosts:
                hosts[host] = -2 - len(hosts)
                info[hosts[host]] = {"name": host, "type": "host", "crush_weight": 0.0, "device_class": None}
                children[hosts[host]] = []
                children[-1].append(hosts[host])
            info[o] = osd_info(o)
            children[hosts[host]].append(o)
        for h in hosts.values():
            info[h]["crush_weight"] = sum(info[o]["crush_weight"] for o in children[h])
        info[-1]["crush_weight"] = sum(info[h]["crush_weight"] for h in hosts.values())

    rows: list[tuple] = []

    def walk(node: int, parent: int | None, depth: int, root: int) -> int:
        if depth > len(info) + 1:
            raise ValueError("the CRUSH hierarchy has a cycle")
        if node >= 0:
            pgs = int(counts.get(node, 0))
            rows.append((node, parent, depth, root, pgs))
            return pgs
        idx = len(rows)
        rows.append((node, parent, depth, root, 0))
        total = sum(walk(c, node, depth + 1, root) for c in children.get(node, []))
        rows[idx] = (node, parent, depth, root, total)
        return total

    for r in roots:
        walk(r, None, 0, r)
    df = pd.DataFrame(rows, columns=["id", "parent_id", "depth", "root", "pgs"])
    df["name"] = [info[i]["name"] for i in df.id]
    df["type"] = [info[i]["type"] for i in df.id]
    df["crush_weight"] = [float(info[i]["crush_weight"]) for i in df.id]
    df["device_class"] = [info[i]["device_class"] for i in df.id]
    root_w = df.root.map(df.set_index("id").crush_weight)
    root_p = df.root.map(df.set_index("id").pgs)
    with np.errstate(divide="ignore", invalid="ignore"):
        df["weight_share"] = np.where(root_w > 0, df.crush_weight / root_w, np.nan)
        df["pg_share"] = np.where(root_p > 0, df.pgs / root_p, np.nan)
    df["parent_id"] = df["parent_id"].astype("Int64")
    return df[["id", "name", "type", "parent_id", "depth", "crush_weight", "device_class", "pgs",
               "weight_share", "pg_share"]]


def osd_load(snap: Snapshot, by: str = "up") -> pd.DataFrame:
    """Per OSD: CRUSH weight, PG copies, and the bytes and objects of those copies, with their shares.

    Bytes and objects come from the PG statistics of the dump (``snap.pgs.bytes``/``objects``): each PG's
    size is credited to every OSD of its ``by`` set (a replica holds the whole PG; for EC pools a shard
    holds about 1/k of it, which this does not model).

    Returns
    -------
    DataFrame
        ``osd_id, host, crush_weight, pgs, bytes, objects`` (+ ``kb_used`` when ``ceph osd df`` was
        loaded), and ``weight_share``, ``pg_share``, ``bytes_share`` (fractions of the column totals).
        OSDs with neither PGs nor weight are left out.
    """
    im = imbalance(snap, by)
    pl = placements(snap, by)
    pgs = snap.pgs
    stats = [c for c in ("bytes", "objects") if c in pgs.columns]
    if stats and len(pl):
        per_pg = pgs[["pgid", *stats]].copy()
        for c in stats:
            per_pg[c] = pd.to_numeric(per_pg[c], errors="coerce").astype("Int64")
        sums = pl[["pgid", "osd_id"]].merge(per_pg, on="pgid", how="left").groupby("osd_id")[stats].sum(
            min_count=1)
    else:
        sums = pd.DataFrame(index=pd.Index([], name="osd_id"))
    out = im[["osd_id", *[c for c in ("host", "crush_weight") if c in im.columns], "pgs"]].copy()
    for c in ("bytes", "objects"):
        col = sums[c] if c in sums.columns else pd.Series(dtype="Int64")
        out[c] = out.osd_id.map(col).astype("Int64")
    if len(snap.osds) and "kb_used" in snap.osds.columns and snap.osds["kb_used"].notna().any():
        out["kb_used"] = out.osd_id.map(snap.osds.set_index("osd_id")["kb_used"]).astype("Int64")
    w = pd.to_numeric(out["crush_weight"], errors="coerce").astype(float) if "crush_weight" in out.columns \
        else pd.Series(1.0, index=out.index)
    for share, col in (("weight_share", w), ("pg_share", out.pgs.astype(float)),
                       ("bytes_share", out["bytes"].astype("Float64").astype(float))):
        tot = float(col.sum(skipna=True))
        out[share] = col / tot if tot > 0 else np.nan
    return out.reset_index(drop=True)


def host_flows(before: pd.DataFrame, after: pd.DataFrame, hosts: pd.Series | dict, *,
               erasure_pools: Any = ()) -> pd.DataFrame:
    """PG copies (shards) that move from one host to another between two placements.

    Each PG of ``after`` is compared with the PG its data was on in ``before``: the same PG, or, when
    pg_num grew, its ancestor (``pgtools.placement.pgmath.ancestor`` with the pool's pg_num in ``before``).  PGs of
    ``before`` merged away (pg_num shrank) are compared with their merge target in ``after``.  Replicated
    pools compare sets: each OSD that leaves is paired, in order, with one that arrives.  Erasure-coded
    pools (``erasure_pools``) compare position by position.  A copy without a counterpart (size change,
    hole ``NONE``, degraded set) comes from or goes to ``"(none)"``.  PGs of pools absent from ``before``
    (created) or ``after`` (deleted) are left out.

    Parameters
    ----------
    before, after : DataFrame
        Placements with ``pgid``, ``pool_id``, ``ps`` and ``up`` (e.g. two ``Plan.mappings``).
    hosts : Series or dict
        ``osd_id -> host``; OSDs not in it count as host ``"(no host)"``.
    erasure_pools : iterable of int
        Pool ids compared position by position.

    Returns
    -------
    DataFrame
        ``from_host, to_host, shards`` (one row per pair with at least one shard), sorted by the hosts.
        ``shards.sum()`` over rows with a real ``to_host`` equals the copies written.
    """
    host_of = dict(hosts.items()) if isinstance(hosts, pd.Series) else dict(hosts)
    ec = {int(p) for p in erasure_pools}

    def name(osd: Any) -> str:
        if osd is None or int(osd) == NONE or int(osd) < 0:
            return "(none)"
        h = host_of.get(int(osd))
        return str(h) if h is not None and not (isinstance(h, float) and np.isnan(h)) else "(no host)"

    def index(frame: pd.DataFrame) -> tuple[dict[tuple[int, int], tuple], dict[int, int]]:
        ups = {(int(p), int(s)): (tuple(u) if isinstance(u, tuple | list) else ())
               for p, s, u in zip(frame["pool_id"], frame["ps"], frame["up"], strict=True)}
        pg_num: dict[int, int] = {}
        for p, s in ups:
            pg_num[p] = max(pg_num.get(p, 0), s + 1)
        return ups, pg_num

    a_up, a_num = index(before)
    b_up, b_num = index(after)
    counts: dict[tuple[str, str], int] = {}

    def add(src: tuple, dst: tuple, pool: int) -> None:
        if pool in ec:
            for i in range(max(len(src), len(dst))):
                o = src[i] if i < len(src) else NONE
                n = dst[i] if i < len(dst) else NONE
                if o != n:
                    key = (name(o), name(n))
                    counts[key] = counts.get(key, 0) + 1
            return
        gone = [o for o in src if o not in dst and o != NONE]
        came = [n for n in dst if n not in src and n != NONE]
        for i in range(max(len(gone), len(came))):
            key = (name(gone[i] if i < len(gone) else None), name(came[i] if i < len(came) else None))
            counts[key] = counts.get(key, 0) + 1

    for (pool, ps), dst in b_up.items():
        if pool not in a_num:
            continue
        src_key = (pool, ps) if (pool, ps) in a_up else (pool, int(ancestor(ps, a_num[pool])))
        if src_key in a_up:
            add(a_up[src_key], dst, pool)
    for (pool, ps), src in a_up.items():
        if (pool, ps) in b_up or pool not in b_num:
            continue
        target = (pool, merge_target(ps, b_num[pool]))
        if target in b_up:
            add(src, b_up[target], pool)
    rows = sorted((f, t, c) for (f, t), c in counts.items() if c)
    return pd.DataFrame(rows, columns=["from_host", "to_host", "shards"]).astype({"shards": np.int64})
