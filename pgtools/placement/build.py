"""A cluster that does not exist yet: a Snapshot built from a layout and pools, for planning and teaching.

:func:`build_cluster` makes the CRUSH map ``crushtool --build`` writes (:func:`pgtools.crush.build.build_crush`),
adds the pools (ids 1, 2, ... in the order given, ``hashpspool``, rjenkins object hash) with the rules Ceph
creates for them, and marks every OSD up and in -- the state ``osdmaptool --createsimple`` / ``--import-crush``
/ ``--mark-up-in`` gives.  Placement is then computed exactly as for a capture; the PG table is built from it
when pools are given bytes, so that what-ifs, fullness and durability have data to move or lose.

Rules (Pacific's ``CrushWrapper::add_simple_rule_at``): a replicated pool whose failure domain is the first layer
uses crushtool's ``replicated_rule`` (id 0); another failure domain gets ``replicated_<domain>``
(``take <root>; chooseleaf firstn 0 type <domain>; emit``, sizes 1..10); an erasure-coded pool gets a rule
named after the pool (type erasure, ``set_chooseleaf_tries 5; set_choose_tries 100; take <root>; chooseleaf indep
0 type <domain>; emit``, sizes 3..k+m), as ``ceph osd pool create NAME erasure PROFILE`` makes one (checked
against the rules of the sample capture ``sample_dumps/mixed``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..crush.build import build_crush
from ..crush.rule import OPS, Rule
from ..model import POOL_COLUMNS, Snapshot
from .osdmap import PLACEMENT_RELEASES
from .pipeline import map_pgs

__all__ = ["build_cluster"]

_POOL_KEYS = {"pool", "pg_num", "pgp_num", "size", "min_size", "type", "k", "m", "failure_domain", "bytes",
              "objects"}


def _rule_for(rules: dict[int, Rule], spec: Mapping[str, Any], name: str, domain: str, type_ids: dict[str, int],
              root: int) -> int:
    """The rule id for a pool (added to ``rules`` when it is new)."""
    erasure = spec.get("type", "replicated") == "erasure"
    if not erasure and type_ids[domain] == 1:
        return 0
    rname = name if erasure else f"replicated_{domain}"
    for rid, r in rules.items():
        if r.name == rname:
            return rid
    rid = max(rules) + 1
    if erasure:
        steps = ((OPS["set_chooseleaf_tries"], 5, 0), (OPS["set_choose_tries"], 100, 0), (OPS["take"], root, 0),
                 (OPS["chooseleaf_indep"], 0, type_ids[domain]), (OPS["emit"], 0, 0))
        rule = Rule(rid, rname, rid, 3, 3, int(spec.get("k", 0)) + int(spec.get("m", 0)), steps)
    else:
        steps = ((OPS["take"], root, 0), (OPS["chooseleaf_firstn"], 0, type_ids[domain]), (OPS["emit"], 0, 0))
        rule = Rule(rid, rname, rid, 1, 1, 10, steps)
    rules[rid] = rule
    return rid


def _pool_row(pool_id: int, spec: Mapping[str, Any], rule: int) -> dict[str, Any]:
    unknown = set(spec) - _POOL_KEYS
    if unknown:
        raise ValueError(f"pool {spec.get('pool', pool_id)!r}: unknown key(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(_POOL_KEYS))}")
    name = str(spec.get("pool", f"pool{pool_id}"))
    pg_num = int(spec.get("pg_num", 32))
    pgp_num = int(spec.get("pgp_num", pg_num))
    if pg_num < 1 or not 1 <= pgp_num <= pg_num:
        raise ValueError(f"pool {name!r}: pg_num {pg_num} / pgp_num {pgp_num} (need 1 <= pgp_num <= pg_num)")
    erasure = spec.get("type", "replicated") == "erasure"
    if spec.get("type", "replicated") not in ("replicated", "erasure"):
        raise ValueError(f"pool {name!r}: type {spec['type']!r} is neither 'replicated' nor 'erasure'")
    if erasure:
        if "k" not in spec or "m" not in spec:
            raise ValueError(f"pool {name!r}: an erasure-coded pool needs k and m")
        k, m = int(spec["k"]), int(spec["m"])
        if k < 1 or m < 0:
            raise ValueError(f"pool {name!r}: k {k} and m {m}: need k >= 1, m >= 0")
        size = k + m
        # OSDMonitor::prepare_pool_size: min_size = k + min(1, m - 1) for erasure-coded pools
        min_size = int(spec.get("min_size", k + min(1, m - 1)))
    else:
        k = m = None
        size = int(spec.get("size", 3))
        if size < 1:
            raise ValueError(f"pool {name!r}: size {size}: a pool keeps at least one copy")
        # osd_pool_default_min_size 0: size - size / 2
        min_size = int(spec.get("min_size", size - size // 2))
    if not 1 <= min_size <= size:
        raise ValueError(f"pool {name!r}: min_size {min_size} outside 1..size {size}")
    row = dict.fromkeys(POOL_COLUMNS)
    row.update(pool_id=pool_id, pool=name, type="erasure" if erasure else "replicated", size=size,
               min_size=min_size, pg_num=pg_num, pgp_num=pgp_num, pg_num_target=pg_num, pgp_num_target=pgp_num,
               pg_num_pending=pg_num, crush_rule=rule, object_hash=2, flags=1, flags_names="hashpspool",
               erasure_code_profile=f"{name}_profile" if erasure else "", ec_k=k, ec_m=m,
               pg_autoscale_mode="off")
    return row


def build_cluster(num_osds: int, layers: Sequence[tuple[str, str, int]], *,
                  pools: Sequence[Mapping[str, Any]] = (), weights: Sequence[float] | None = None,
                  device_class: str | None = None, osd_bytes: float | None = None,
                  release: str | None = None) -> Snapshot:
    """A Snapshot of a cluster built from scratch (see the module docstring for what Ceph would make).

    Parameters
    ----------
    num_osds : int
    layers : sequence of (type name, algorithm, size)
        As :func:`pgtools.crush.build.build_crush` / ``crushtool --build``: e.g. ``[("host", "straw2", 4),
        ("root", "straw2", 0)]``.
    pools : sequence of dict
        One dict per pool: ``pool`` (name), ``pg_num`` (default 32), ``pgp_num`` (default pg_num), ``size``
        (replicated, default 3) or ``type="erasure"`` with ``k`` and ``m``, ``min_size`` (Ceph's default
        when absent), ``failure_domain`` (a layer type; default the first layer), ``bytes`` and ``objects``
        (stored in the pool, spread evenly over its PGs; with them the snapshot has a PG table).
    weights : sequence of float, optional
        Per-OSD CRUSH weights (default 1.0).
    device_class : str, optional
        The class of every device (rules do not select a class).
    osd_bytes : float, optional
        Each OSD's capacity (for %used and fullness).
    release : str, optional
        The Ceph release the cluster would run (``pacific``, ``reef``, ``tentacle``): whose defaults and
        monitor checks apply to it.  None: not said (pgtools assumes the newest it models, with a warning, where
        releases differ).

    Returns
    -------
    Snapshot
        ``meta["source"] = "build_cluster"`` (and ``meta["release"]``); ``pgs`` is the computed placement (with ``bytes``/``objects``)
        when any pool gives bytes, else empty (placement is computed on demand).
    """
    crush = build_crush(num_osds, layers, weights=weights)
    if device_class is not None:
        crush = replace(crush, devices={i: (n, str(device_class)) for i, (n, _c) in crush.devices.items()})
    type_ids = {name: tid for tid, name in crush.types.items()}
    root = min(crush.buckets)  # the last bucket crushtool created
    first = crush.types[1]
    rows, rules = [], dict(crush.rules)
    for i, spec in enumerate(pools, start=1):
        domain = str(spec.get("failure_domain", first))
        if domain not in type_ids:
            raise ValueError(f"pool {spec.get('pool', i)!r}: failure domain {domain!r} is not a layer of the map "
                             f"({', '.join(crush.types.values())})")
        rows.append(_pool_row(i, spec, _rule_for(rules, spec, str(spec.get("pool", f"pool{i}")), domain, type_ids,
                                                   root)))
    crush = replace(crush, rules=rules)
    n = int(num_osds)
    parents = crush.parents()
    host = [crush.buckets[parents[o]].name if o in parents else None for o in range(n)]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    osds = pd.DataFrame({"osd_id": np.arange(n), "name": [f"osd.{i}" for i in range(n)], "host": host,
                         "device_class": device_class, "crush_weight": w, "reweight": 1.0, "exists": True,
                         "up": True, "in": True, "primary_affinity": 1.0})
    if osd_bytes is not None:
        kb = int(float(osd_bytes) // 1024)
        osds = osds.assign(kb=kb, kb_used=0, kb_avail=kb)
    pool_frame = pd.DataFrame(rows, columns=POOL_COLUMNS)
    meta: dict[str, Any] = {"source": "build_cluster"}
    if release is not None:
        if str(release).lower() not in PLACEMENT_RELEASES:
            raise ValueError(f"release {release!r}: pgtools models {', '.join(PLACEMENT_RELEASES)}")
        meta["release"] = str(release).lower()
    snap = Snapshot(pools=pool_frame, osds=osds, crush=crush, osdmap={"max_osd": n}, meta=meta)
    if any("bytes" in p or "objects" in p for p in pools):
        snap = snap.replace(pgs=_pg_table(snap, pools))
    return snap


def _pg_table(snap: Snapshot, pools: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The computed placement as a PG table, each pool's bytes/objects spread evenly over its PGs."""
    m = map_pgs(snap)
    names = dict(zip(snap.pools["pool_id"], snap.pools["pool"], strict=True))
    pgs = m[["pgid", "pool_id", "ps", "up", "up_primary", "acting", "acting_primary"]].copy()
    pgs.insert(3, "pool", pgs["pool_id"].map(names))
    pgs.insert(4, "state", "active+clean")
    for col in ("bytes", "objects"):
        per = {}
        for pid, spec, n in zip(snap.pools["pool_id"], pools, snap.pools["pg_num"], strict=True):
            total = int(spec.get(col, 0))
            if total < 0:
                raise ValueError(f"pool {spec.get('pool', pid)!r}: {col} {total} is negative")
            per[int(pid)] = (total // int(n), total % int(n))
        q = pgs["pool_id"].map(lambda p, per=per: per[int(p)][0])
        r = pgs["pool_id"].map(lambda p, per=per: per[int(p)][1])
        pgs[col] = (q + (pgs["ps"] < r)).astype(np.int64)
    return pgs
