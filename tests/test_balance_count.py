"""pgtools' own balancers (count and capacity) without Ceph's tools: validity, objective, item economy.

Every plan is applied (``UpmapPlan.apply``) and re-placed from scratch with the placement engine: the up sets
must be the ones the balancer predicted (per-OSD counts, bytes), ``clean_pg_upmaps`` must find nothing to
cancel, and every moved PG's up set must pass ``verify_upmap`` and the rule's device class / weight checks.
Maps: the two sample captures (replicated; racks, hdd+ssd, EC 2+1 and 4+2, an out OSD, existing upmaps) and
generated ones (hosts of unequal weights, two device classes, replicated and EC 4+2 pools, PG sizes spread
over two orders of magnitude).  Real Ceph's checks are in ``tests/oracle/test_balance_count_oracle.py``.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

import pgtools
from pgtools.balance import calc_pg_upmaps, clean_pg_upmaps, osdmaptool_upmap
from pgtools.balance.capacity import balance_capacity
from pgtools.balance.count import balance_count, count_deviation
from pgtools.balance.search import Layout
from pgtools.errors import PgtoolsError
from pgtools.io import crushmap_from_text
from pgtools.model import Snapshot
from pgtools.placement import compile_snapshot
from tests.paths import SAMPLE_DUMPS

NONE = 0x7FFFFFFF


def gen_snapshot(seed: int, *, hosts: int = 10, per_host: int = 3, ec: bool = True, ssd: bool = True) -> Snapshot:
    """Hosts of 2-``per_host`` hdd OSDs (weights 1-2) plus one ssd each; pools: replicated hdd (size 3), EC 4+2
    hdd (host failure domain), replicated ssd; PG bytes log-uniform over 100x; OSDs 10 % used before data."""
    rng = random.Random(seed)
    devs, buckets, host_items = [], [], []
    osd, bid = 0, -2
    for h in range(hosts):
        items = []
        for _ in range(rng.randint(min(2, per_host), per_host)):
            devs.append(f"device {osd} osd.{osd} class hdd")
            items.append((osd, rng.choice([1.0, 1.5, 2.0])))
            osd += 1
        if ssd:
            devs.append(f"device {osd} osd.{osd} class ssd")
            items.append((osd, 0.5))
            osd += 1
        buckets.append("\n".join([f"host h{h} {{", f"\tid {bid}", "\talg straw2", "\thash 0"]
                                 + [f"\titem osd.{o} weight {w:.4f}" for o, w in items] + ["}"]))
        host_items.append((f"h{h}", sum(w for _, w in items)))
        bid -= 1
    buckets.append("\n".join(["root default {", "\tid -1", "\talg straw2", "\thash 0"]
                             + [f"\titem {n} weight {w:.4f}" for n, w in host_items] + ["}"]))
    rules = []
    for rid, (name, typ, take, step) in enumerate([("rep_hdd", "replicated", "default class hdd", "chooseleaf firstn 0"),
                                                    ("ec_hdd", "erasure", "default class hdd", "chooseleaf indep 0"),
                                                    ("rep_ssd", "replicated", "default class ssd", "chooseleaf firstn 0")]
                                                   [: 3 if ssd else 2]):
        rules.append("\n".join([f"rule {name} {{", f"\tid {rid}", f"\ttype {typ}", "\tmin_size 1", "\tmax_size 10",
                                f"\tstep take {take}", f"\tstep {step} type host", "\tstep emit", "}"]))
    text = "\n".join(["tunable choose_total_tries 50", "tunable chooseleaf_descend_once 1",
                      "tunable chooseleaf_vary_r 1", "tunable chooseleaf_stable 1", "tunable straw_calc_version 1",
                      "tunable allowed_bucket_algs 54", *devs, "type 0 osd", "type 1 host", "type 10 root",
                      *buckets, *rules]) + "\n"
    crush = crushmap_from_text(text)
    n = osd
    cw: dict[int, float] = {}
    for line in "\n".join(buckets).splitlines():
        if line.startswith("\titem osd."):
            cw[int(line.split()[1][4:])] = float(line.split()[3])
    kb = np.array([rng.choice([1, 2, 4]) * 1_000_000_000 for _ in range(n)], dtype=float)  # KiB
    pools = [{"pool_id": 1, "pool": "rbd", "type": "replicated", "size": 3, "pg_num": 128, "crush_rule": 0, "ec_k": None}]
    if ec:
        pools.append({"pool_id": 2, "pool": "ec42", "type": "erasure", "size": 6, "pg_num": 64, "crush_rule": 1,
                      "ec_k": 4})
    if ssd:
        pools.append({"pool_id": 3, "pool": "fast", "type": "replicated", "size": 2, "pg_num": 32, "crush_rule": 2,
                      "ec_k": None})
    pool_df = pd.DataFrame([{**p, "min_size": 1, "pgp_num": p["pg_num"], "flags": 1, "flags_names": "hashpspool",
                             "ec_m": 2 if p["type"] == "erasure" else None} for p in pools])
    rows = []
    for p in pools:
        for ps in range(p["pg_num"]):
            rows.append({"pgid": f"{p['pool_id']}.{ps:x}", "pool_id": p["pool_id"], "ps": ps,
                         "bytes": int(10 ** rng.uniform(8, 10)), "omap_bytes": int(rng.random() * 1e6)})
    pgs = pd.DataFrame(rows)
    osds = pd.DataFrame({"osd_id": np.arange(n), "name": [f"osd.{i}" for i in range(n)], "exists": True, "up": True,
                         "in": True, "reweight": 1.0, "primary_affinity": 1.0, "kb": kb,
                         "crush_weight": [cw[i] for i in range(n)]})
    snap = Snapshot(pools=pool_df, osds=osds, crush=crush, pgs=pgs,
                    osdmap={"max_osd": n, "backfillfull_ratio": 0.9, "full_ratio": 0.95, "nearfull_ratio": 0.85},
                    meta={"release": "pacific"})
    # used = 10 % base + the PG copies each OSD holds (so that %used follows the data)
    c = compile_snapshot(snap)
    used = kb * 1024 * 0.1
    for p in pools:
        up = c.map_pool_arrays(c.pools[p["pool_id"]]).up
        k = p["ec_k"] or 1
        b = pgs.loc[pgs.pool_id == p["pool_id"], ["bytes", "omap_bytes"]].sum(axis=1).to_numpy(float) / k
        for ps in range(p["pg_num"]):
            for o in up[ps]:
                if 0 <= o < n:
                    used[o] += b[ps]
    osds["kb_used"] = used / 1024
    osds["kb_avail"] = kb - used / 1024
    return snap.replace(osds=osds)


def _up(snap: Snapshot) -> dict[int, np.ndarray]:
    c = compile_snapshot(snap, release="pacific")
    return {pid: c.map_pool_arrays(p).up for pid, p in c.pools.items()}


def _check_valid(snap: Snapshot, plan) -> Snapshot:
    """The plan as Ceph would take it: clean finds nothing, moved PGs pass the rule, counts as predicted."""
    after = plan.apply(snap)
    assert clean_pg_upmaps(after, ceph_release="pacific").num_changed == 0
    lay = Layout(after, ceph_release="pacific")
    for pgid, items in plan.new_pg_upmap_items.items():
        pid, ps = (int(pgid.split(".")[0]), int(pgid.split(".")[1], 16))
        pl = lay.pools[pid]
        assert len(items) <= pl.size
        assert all(a in pl.raw[ps] and a != NONE for a, _ in items)
        assert lay.valid_vector(pl, pl.cur[ps])
        assert all(pl.target[o] > 0 for o in pl.cur[ps] if o != NONE)
    ups = _up(after)
    for pgid, want in zip(plan.pgs["pgid"], plan.pgs["after"], strict=True):  # the predicted up sets
        pid, ps = (int(pgid.split(".")[0]), int(pgid.split(".")[1], 16))
        if all(lay.is_up[o] for o in want if o != NONE):
            assert tuple(int(x) for x in ups[pid][ps] if x != -1) == want
    assert len(plan.pgs) == len(plan.new_pg_upmap_items) + len(plan.old_pg_upmap_items)
    tot = np.zeros(lay.n, dtype=np.int64)
    for pid, up in ups.items():
        if pid in set(plan.pools["pool_id"]):
            np.add.at(tot, up[(up >= 0) & (up != NONE)], 1)
    if "pgs_after" in plan.osds:
        assert (tot[plan.osds["osd_id"]] == plan.osds["pgs_after"].to_numpy()).all()
    return after


@pytest.fixture(scope="module")
def seed() -> Snapshot:
    return pgtools.load(SAMPLE_DUMPS / "seedlike_max300")


@pytest.fixture(scope="module")
def mixed() -> Snapshot:
    return pgtools.load(SAMPLE_DUMPS / "mixed")


def test_seed_reaches_one_pg_per_pool_and_total_with_fewer_items_than_cephs(seed: Snapshot) -> None:
    plan = balance_count(seed, max_deviation=1, ceph_release="pacific")
    s = plan.summary
    assert s["max_dev_before"] >= 10 and s["violation_before"] > 100
    assert s["max_dev_after"] <= 1 and s["total_dev_after"] <= 1 and s["violation_after"] == 0
    after = _check_valid(seed, plan)
    assert count_deviation(after, ceph_release="pacific")["max_dev"] <= 1
    assert s["items_after"] == len(plan.new_pg_upmap_items) <= plan.moves


def test_mixed_capture_ec_classes_existing_items(mixed: Snapshot) -> None:
    plan = balance_count(mixed, max_deviation=1, ceph_release="pacific")
    s = plan.summary
    assert s["violation_after"] < s["violation_before"] / 5
    assert s["total_dev_after"] < 1.5 < s["total_dev_before"]
    _check_valid(mixed, plan)
    # nothing left for a second run to do
    again = balance_count(plan.apply(mixed), max_deviation=1, ceph_release="pacific")
    assert again.summary["violation_after"] == again.summary["violation_before"] == s["violation_after"]
    assert again.moves == 0


@pytest.mark.parametrize("gen_seed", [1, 2, 3])
def test_generated_maps(gen_seed: int) -> None:
    snap = gen_snapshot(gen_seed)
    plan = balance_count(snap, max_deviation=1, ceph_release="pacific")
    s = plan.summary
    assert s["violation_before"] > 50 and s["violation_after"] == 0
    assert s["max_dev_after"] <= 1 and s["total_dev_after"] <= 1
    _check_valid(snap, plan)
    # Ceph's balancer (deterministic mode) with osdmaptool's --upmap-deviation 1 --upmap-max 10000
    ceph = osdmaptool_upmap(snap, upmap_max=10000, upmap_deviation=1, ceph_release="pacific")
    theirs = count_deviation(ceph.apply(snap), ceph_release="pacific")
    assert s["items_after"] <= theirs["items"] and theirs["violation"] > 0
    # a replicated-only map of equal hosts: a ±1 solution exists and is reached
    rep = gen_snapshot(gen_seed, ec=False, ssd=False, hosts=10, per_host=1)
    plan = balance_count(rep, max_deviation=1, ceph_release="pacific")
    assert plan.summary["max_dev_after"] <= 1 and plan.summary["violation_after"] == 0
    _check_valid(rep, plan)
    assert plan.commands == balance_count(rep, max_deviation=1, ceph_release="pacific").commands  # deterministic


def test_moving_back_removes_the_pair(seed: Snapshot) -> None:
    ceph = calc_pg_upmaps(seed, max_deviation=1, max_optimizations=50, pools=["rbd"], ceph_release="pacific")
    upm = ceph.apply(seed)
    lay = Layout(upm, pools=["rbd"], ceph_release="pacific")
    pl = lay.pools[1]
    pgid, items = next(iter(ceph.new_pg_upmap_items.items()))
    ps = int(pgid.split(".")[1], 16)
    a, b = items[0]
    pos = pl.cur[ps].index(b)
    assert lay.undo_position(pl, ps, pos) == a
    got = lay.candidate(pl, ps, pos, a)
    assert got is not None and got[1] == tuple(items[1:])
    # a second move of the same PG replaces its pair instead of stacking one
    other = next(o for o in range(lay.n) if pl.eligible[o] and o not in pl.cur[ps] and o not in pl.raw[ps]
                 and lay.candidate(pl, ps, pos, o) is not None)
    assert sorted(lay.candidate(pl, ps, pos, other)[1]) == sorted(((a, other), *items[1:]))
    # a balanced map with Ceph's items: pgtools removes or reuses entries rather than adding
    plan = balance_count(upm, pools=["rbd"], max_deviation=1, ceph_release="pacific")
    assert plan.summary["items_after"] <= plan.summary["items_before"] + plan.summary["violation_before"]
    _check_valid(upm, plan)


def test_max_moves_and_errors(seed: Snapshot) -> None:
    plan = balance_count(seed, max_moves=7, ceph_release="pacific")
    assert plan.moves <= 7 and 0 < len(plan.commands) <= 7
    _check_valid(seed, plan)
    with pytest.raises(PgtoolsError):
        balance_count(seed, max_deviation=0)
    with pytest.raises(PgtoolsError):
        balance_capacity(Snapshot(pools=seed.pools, osds=seed.osds, crush=seed.crush, osdmap=seed.osdmap),
                         ceph_release="pacific")


def test_capacity_halves_the_spread_below_backfillfull() -> None:
    snap = gen_snapshot(5, ec=True, ssd=False, hosts=8, per_host=3)
    plan = balance_capacity(snap, ceph_release="pacific")
    s = plan.summary
    assert s["spread_after"] <= s["spread_before"] / 2
    assert s["max_used_after"] < s["max_used_before"]
    assert s["bytes_moved"] > 0 and (plan.osds["used_after"] <= s["backfillfull_ratio"]).all()
    assert (plan.pools["max_avail_after"] >= plan.pools["max_avail_before"]).all()
    assert (plan.pools["max_avail_after"] > plan.pools["max_avail_before"]).any()
    after = _check_valid(snap, plan)
    # the projected usage follows the moved PG copies: recompute it from the applied plan's up sets
    pgb = (snap.pgs["bytes"] + snap.pgs["omap_bytes"]).to_numpy(float)
    key = dict(zip(snap.pgs["pgid"], pgb, strict=True))
    used = np.zeros(len(snap.osds))
    used0 = np.zeros(len(snap.osds))
    for ups, acc in ((_up(after), used), (_up(snap), used0)):
        for pid, up in ups.items():
            k = 4 if pid == 2 else 1
            for ps in range(up.shape[0]):
                for o in up[ps]:
                    if 0 <= o < len(acc):
                        acc[o] += key[f"{pid}.{ps:x}"] / k
    size = snap.osds["kb"].to_numpy(float) * 1024
    want = (snap.osds["kb_used"].to_numpy(float) * 1024 + used - used0) / size
    got = plan.osds.set_index("osd_id")["used_after"].reindex(range(len(size))).to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_capacity_never_passes_backfillfull() -> None:
    snap = gen_snapshot(6, ec=False, ssd=False, hosts=6, per_host=2)
    osds = snap.osds.copy()
    # every OSD 88 % used: backfillfull (90 %) blocks whatever a big PG would push over it
    osds["kb_used"] = osds["kb"] * 0.88
    snap = snap.replace(osds=osds)
    plan = balance_capacity(snap, ceph_release="pacific")
    assert (plan.osds["used_after"] <= plan.summary["backfillfull_ratio"] + 1e-12).all()
    _check_valid(snap, plan)


@pytest.mark.parametrize("cap", ["mixed", "mixed_tentacle", "seedlike_max300"])
def test_sink_filter_keeps_every_sink_ceph_accepts(cap: str) -> None:
    """:meth:`Layout.sinks_for` (the failure-domain pre-filter of the search) only drops sinks that
    :meth:`Layout.candidate` (Ceph's upmap checks) refuses, and does drop some where a domain is taken."""
    snap = pgtools.load(SAMPLE_DUMPS / cap)
    lay = Layout(snap, ceph_release="tentacle" if "tentacle" in cap else "pacific")
    everyone = np.arange(lay.n)
    dropped = 0
    for pl in lay.pools.values():
        for ps in range(0, len(pl.cur), 3):
            for pos in range(len(pl.cur[ps])):
                kept = set(lay.sinks_for(pl, ps, pos, everyone).tolist())
                ok = {b for b in range(lay.n) if lay.candidate(pl, ps, pos, b) is not None}
                assert ok <= kept, (pl.name, ps, pos, sorted(ok - kept))
                dropped += lay.n - len(kept)
    assert dropped > 0
