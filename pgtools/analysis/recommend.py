"""Ways out of ``TOO_MANY_PGS``, each simulated exactly and ranked by the data it moves.

For a cluster like the seed memo's (12 OSDs, 15 pools × 128 PGs × size 3: ``480 > max 300``) the options are:

* **lower pg_num, least data first** — halve pg_num (to the next lower power of two) on the pools whose merge moves
  the fewest bytes per PG copy saved, greedily, until the average fits;
* **lower pg_num on every pool** — halve all pools together, repeatedly, until it fits;
* **delete unused pools** — only pools that hold no object; Ceph cannot merge pools, so consolidating pools that hold
  data means migrating it (outside pgtools' scope), which the option's note says;
* **add hosts** — hosts like the existing ones (median OSDs per host and CRUSH weight) until the average fits;
* **raise mon_max_pg_per_osd** — no data moves, but each OSD keeps as many PGs (memory, peering) and the hard limit
  ``mon_max_pg_per_osd × osd_max_pg_per_osd_hard_ratio`` moves with it.

Every option except the last is run through :func:`pgtools.simulate.simulate`, so its movement, PGs per OSD and health
are those of the exact placement, not estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..mgr.counts import num_in, pg_counts
from ..mgr.health import health, health_limits
from ..model import Snapshot
from ..placement.osdmap import require_placement
from ..simulate import AddHost, DeletePool, SetPgNum, simulate

__all__ = ["Option", "fix_too_many_pgs", "options_frame"]


@dataclass
class Option:
    """One way to bring PGs per OSD under the limit, with its simulated consequences."""

    name: str
    changes: list = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    per_osd: int = 0
    max_pgs_per_osd: int = 0
    pgs_moved: int = 0
    bytes_moved: int = 0
    clears: bool = False
    health: list[str] = field(default_factory=list)
    note: str = ""
    plan: Any = None


def _prev_pow2(n: int) -> int:
    return 1 << (int(n).bit_length() - 1) if n > 1 else 1


def _pg_copies(snap: Snapshot) -> int:
    return int(max(sum(len(u) for u in snap.pgs.up), len(snap.pgs)))


def _floor(pool: Any, min_pg_num: int) -> int:
    v = getattr(pool, "pg_num_min", None)
    return max(int(min_pg_num), int(v) if v is not None and not pd.isna(v) else 0)


def _evaluate(snap: Snapshot, name: str, changes: list, limit: int, note: str = "") -> Option:
    plan = simulate(snap, changes)
    final = plan.steps.iloc[-1]
    final_snap = plan.snapshots[-1]
    per = _pg_copies(final_snap) // max(num_in(final_snap), 1)
    codes = [c for c in str(final["health"]).split("; ") if c]
    return Option(name=name, changes=changes, commands=list(plan.commands), per_osd=int(per),
                  max_pgs_per_osd=int(final["max_pgs_per_osd"]), pgs_moved=int(plan.steps.pgs_moved.sum()),
                  bytes_moved=int(plan.steps.bytes_moved.sum()), clears=per <= limit and "TOO_MANY_PGS" not in codes,
                  health=codes, note=note, plan=plan)


def fix_too_many_pgs(snap: Snapshot, *, max_per_osd: int | None = None, release: str | None = None,
                     min_pg_num: int = 8) -> list[Option]:
    """Rank the ways to clear ``TOO_MANY_PGS`` (see the module documentation).

    Parameters
    ----------
    snap : Snapshot
        Needs PGs, pools, OSDs and the CRUSH map.
    max_per_osd : int, optional
        The limit to get under (default: ``mon_max_pg_per_osd`` from the capture or the release default).
    min_pg_num : int
        No pool is lowered below this (nor below its ``pg_num_min``).

    Returns
    -------
    list of Option
        Options that move data, sorted: those that clear the warning first, then by bytes moved, then by the
        fullest OSD; raising ``mon_max_pg_per_osd`` comes last.  Empty when the cluster is already under the
        limit.
    """
    if int(min_pg_num) < 1:
        raise PgtoolsError(f"min_pg_num {min_pg_num}: a pool's pg_num is at least 1")
    lim = health_limits(snap, release=release, mon_max_pg_per_osd=max_per_osd)
    limit = int(lim["mon_max_pg_per_osd"])
    n_in = num_in(snap)
    copies = _pg_copies(snap)
    per = copies // max(n_in, 1)
    if per <= limit:
        return []
    require_placement(snap, "simulating the fixes of TOO_MANY_PGS")
    excess = copies - ((limit + 1) * n_in - 1)  # copies to shed so that copies // n_in <= limit
    pools = snap.pools.set_index("pool_id")
    options: list[Option] = []

    # cost of one halving per pool, from the exact simulation of that pool alone
    cost = {}
    for pid, p in pools.iterrows():
        new = _prev_pow2(int(p.pg_num) - 1) if int(p.pg_num) > 1 else 1
        if new < _floor(p, min_pg_num) or new >= int(p.pg_num):
            continue
        plan = simulate(snap, [SetPgNum(int(pid), new)], checks=False)
        saved = (int(p.pg_num) - new) * int(p["size"])
        cost[int(pid)] = (float(plan.steps.bytes_moved.sum()) / saved, new, saved)

    # 1. greedy: cheapest bytes per saved copy first, halving again if needed
    target = {int(pid): int(p.pg_num) for pid, p in pools.iterrows()}
    left = excess
    ranked = sorted(cost.items(), key=lambda kv: (kv[1][0], kv[0]))
    while left > 0 and ranked:
        progressed = False
        for pid, (_c, _new, _saved) in ranked:
            p = pools.loc[pid]
            cur = target[pid]
            nxt = _prev_pow2(cur - 1) if cur > 1 else 1
            if nxt < _floor(p, min_pg_num) or nxt >= cur:
                continue
            target[pid] = nxt
            left -= (cur - nxt) * int(p["size"])
            progressed = True
            if left <= 0:
                break
        if not progressed:
            break
    greedy = [SetPgNum(pools.loc[pid, "pool"], n) for pid, n in target.items() if n != int(pools.loc[pid, "pg_num"])]
    if greedy:
        options.append(_evaluate(snap, f"lower pg_num on {len(greedy)} pools, least data moved first", greedy, limit))

    # 2. all pools together
    uniform: dict[int, int] = {int(pid): int(p.pg_num) for pid, p in pools.iterrows()}
    while True:
        total = sum(uniform[pid] * int(pools.loc[pid, "size"]) for pid in uniform)
        if total // max(n_in, 1) <= limit:
            break
        changed = False
        for pid in uniform:
            nxt = _prev_pow2(uniform[pid] - 1) if uniform[pid] > 1 else 1
            if nxt >= _floor(pools.loc[pid], min_pg_num) and nxt < uniform[pid]:
                uniform[pid] = nxt
                changed = True
        if not changed:
            break
    uni = [SetPgNum(pools.loc[pid, "pool"], n) for pid, n in uniform.items() if n != int(pools.loc[pid, "pg_num"])]
    if uni and [(c.pool, c.n) for c in uni] != [(c.pool, c.n) for c in greedy]:
        options.append(_evaluate(snap, "lower pg_num on every pool", uni, limit))

    # 3. unused pools
    objects = snap.pgs.groupby("pool_id")["objects"].sum() if "objects" in snap.pgs.columns else pd.Series(dtype=float)
    empty = [int(pid) for pid in pools.index if pid in objects.index and not pd.isna(objects[pid]) and objects[pid] == 0]
    if empty:
        options.append(_evaluate(snap, f"delete {len(empty)} unused pools", [DeletePool(pools.loc[p, "pool"]) for p in empty],
                                 limit, note="only pools with no objects; check no client uses them"))

    # 4. add hosts like the existing ones
    osds = snap.osds
    if len(osds) and "host" in osds.columns and osds.host.notna().any():
        live = osds[osds.get("in", True).astype(bool)] if "in" in osds.columns else osds
        per_host = int(live.groupby("host").size().median())
        weight = float(np.median(live.crush_weight.dropna())) if "crush_weight" in live.columns else 1.0
        cls = live.device_class.mode().iloc[0] if "device_class" in live.columns and live.device_class.notna().any() \
            else "hdd"
        need = copies // (limit + 1) + 1  # in OSDs so that copies // n <= limit
        hosts = math.ceil(max(need - n_in, 0) / max(per_host, 1))
        if hosts:
            existing = set(osds.host.dropna())
            names, i = [], 1
            while len(names) < hosts:
                n = f"newhost{i}"
                if n not in existing:
                    names.append(n)
                i += 1
            adds = [AddHost(n, per_host, weight, cls) for n in names]
            options.append(_evaluate(snap, f"add {hosts} hosts of {per_host} × {weight:g} {cls} OSDs", adds, limit,
                                     note="placed under the root 'default'"))

    options.sort(key=lambda o: (not o.clears, o.bytes_moved, o.max_pgs_per_osd))

    # 5. raise the limit: a policy change rather than a fix, listed last
    hard = lim["osd_max_pg_per_osd_hard_ratio"]
    fh = [f.code for f in health(snap, release=release, mon_max_pg_per_osd=per)]
    options.append(Option(
        name=f"raise mon_max_pg_per_osd to {per}", commands=[f"ceph config set global mon_max_pg_per_osd {per}"],
        per_osd=per, max_pgs_per_osd=int(pg_counts(snap).max()) if len(snap.pgs) else 0,
        clears=True, health=[c for c in fh if c != "OSD_ABOVE_MAX_PG_PER_OSD"],
        note=f"no data moves, but OSDs keep their PGs (memory, peering); the hard limit becomes {per * hard:g}"))
    return options


def options_frame(options: list[Option]) -> pd.DataFrame:
    """The options as a table (one row each)."""
    return pd.DataFrame([{"option": o.name, "clears": o.clears, "pgs_per_osd": o.per_osd,
                          "max_pgs_per_osd": o.max_pgs_per_osd, "pgs_moved": o.pgs_moved, "bytes_moved": o.bytes_moved,
                          "health": "; ".join(o.health), "note": o.note, "commands": o.commands} for o in options])
