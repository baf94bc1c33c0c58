"""pgtools.placement.incremental.remap equals a full re-map, on random maps and random changes.

Maps come from the osdmaptool oracle generator (host/rack layouts, every bucket algorithm, tunable profiles,
device classes, choose_args); each snapshot gets random OSD states (reweights below 1, out and down OSDs,
primary affinities, upmap items, pg_temp, pg_upmap_primaries), then a random change (CRUSH weight or reweight
down or up, out, in, down, up, primary affinity, a pg-upmap-primary set or removed).  The incremental result must equal ``map_pool_arrays`` of the changed
snapshot row for row, and for bounded changes it must actually skip PGs.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from pgtools.io import crushmap_from_text
from pgtools.model import Snapshot
from pgtools.placement import adjust_crush_weight, map_pool_arrays, mark_out, mark_up
from pgtools.placement.incremental import reachable_devices, remap
from tests.oracle._maps import osdmap_case

N_CASES = 300


def _wide_map(rng: random.Random) -> tuple[str, int]:
    """A straw2 root with several racks of several hosts (so that most PGs avoid a given subtree)."""
    devs, buckets, racks = [], [], []
    osd, bid = 0, -2
    for r in range(rng.randint(3, 6)):
        hosts = []
        for h in range(rng.randint(2, 5)):
            items = []
            for _ in range(rng.randint(1, 4)):
                devs.append(f"device {osd} osd.{osd}")
                items.append((f"osd.{osd}", rng.choice([0.5, 1.0, 1.0, 2.0, 3.6])))
                osd += 1
            buckets.append("\n".join([f"host h{r}-{h} {{", f"\tid {bid}", "\talg straw2", "\thash 0"]
                                     + [f"\titem {a} weight {w:.4f}" for a, w in items] + ["}"]))
            hosts.append((f"h{r}-{h}", sum(w for _, w in items)))
            bid -= 1
        buckets.append("\n".join([f"rack r{r} {{", f"\tid {bid}", f"\talg {rng.choice(['straw2'] * 4 + ['list'])}",
                                  "\thash 0"] + [f"\titem {a} weight {w:.4f}" for a, w in hosts] + ["}"]))
        racks.append((f"r{r}", sum(w for _, w in hosts)))
        bid -= 1
    buckets.append("\n".join(["root default {", "\tid -1", "\talg straw2", "\thash 0"]
                             + [f"\titem {a} weight {w:.4f}" for a, w in racks] + ["}"]))
    leaf = rng.choice(["host", "rack"])
    rule = ["rule r {", "\tid 0", "\ttype replicated", "\tmin_size 1", "\tmax_size 10", "\tstep take default",
            f"\tstep chooseleaf firstn 0 type {leaf}", "\tstep emit", "}"]
    text = "\n".join(["tunable choose_total_tries 50", "tunable chooseleaf_descend_once 1",
                      "tunable chooseleaf_vary_r 1", "tunable chooseleaf_stable 1", "tunable straw_calc_version 1",
                      "tunable allowed_bucket_algs 54", *devs, "type 0 osd", "type 1 host", "type 3 rack",
                      "type 10 root", *buckets, *rule]) + "\n"
    return text, osd


def _snapshot(seed: int) -> Snapshot:
    rng = random.Random(seed)
    if seed % 2:
        case = osdmap_case(seed)
        text, n = case.crush_text, case.num_osds
    else:
        text, n = _wide_map(rng)
    crush = crushmap_from_text(text)
    reweight = [rng.choice([1.0] * 12 + [0.0, 0.5, 0.9]) for _ in range(n)]
    osds = pd.DataFrame({"osd_id": np.arange(n), "name": [f"osd.{i}" for i in range(n)], "exists": True,
                         "up": [rng.random() > 0.1 for _ in range(n)], "in": [w > 0 for w in reweight],
                         "reweight": reweight,
                         "primary_affinity": [rng.choice([1.0] * 5 + [0.0, 0.5]) for _ in range(n)]})
    pg_num = max(8, n << rng.randint(1, 4))
    size = rng.randint(2, 3)
    pools = pd.DataFrame([{"pool_id": 1, "pool": "rbd", "type": "replicated", "size": size, "min_size": 1,
                           "pg_num": pg_num, "pgp_num": pg_num, "crush_rule": 0, "flags": 1,
                           "flags_names": "hashpspool"}])
    om: dict = {"max_osd": n}
    if rng.random() < 0.5:
        om["pg_upmap_items"] = {f"1.{ps:x}": [[rng.randrange(n), rng.randrange(n)]]
                                for ps in rng.sample(range(pg_num), 3)}
    if rng.random() < 0.3:
        om["pg_temp"] = {f"1.{rng.randrange(pg_num):x}": rng.sample(range(n), min(n, size))}
    if rng.random() < 0.4:
        om["pg_upmap_primaries"] = {f"1.{ps:x}": rng.randrange(n) for ps in rng.sample(range(pg_num), 4)}
    return Snapshot(pools=pools, osds=osds, crush=crush, osdmap=om)


def _change(snap: Snapshot, rng: random.Random) -> tuple[str, Snapshot]:
    osds = snap.osds
    n = len(osds)
    o = rng.randrange(n)
    kind = rng.choice(["crush_down", "crush_down", "crush_zero", "crush_up", "reweight_down", "reweight_up",
                       "out", "down", "up", "affinity", "two_down", "upmap_primary"])
    cw = {b_item: w for b in snap.crush.buckets.values() for b_item, w in zip(b.items, b.weights, strict=True)}
    w = cw.get(o, 0x10000) / 0x10000
    if kind == "crush_down":
        return kind, adjust_crush_weight(snap, {o: w * rng.choice([0.25, 0.5, 0.9])})
    if kind == "crush_zero":
        return kind, adjust_crush_weight(snap, {o: 0.0})
    if kind == "crush_up":
        return kind, adjust_crush_weight(snap, {o: w * 2 + 0.5})
    if kind == "two_down":
        p = rng.randrange(n)
        s = adjust_crush_weight(snap, {o: w * 0.5})
        return kind, mark_out(s, [p])
    if kind == "out":
        return kind, mark_out(snap, [o])
    if kind == "down":
        return kind, mark_up(snap, [o], up=False)
    if kind == "up":
        return kind, mark_up(snap, [o])
    if kind == "upmap_primary":  # set one entry, and drop another one if there is one
        prim = dict(snap.osdmap.pg_upmap_primaries)
        if prim and rng.random() < 0.5:
            prim.pop(rng.choice(sorted(prim)))
        prim[f"1.{rng.randrange(int(snap.pools.pg_num.iloc[0])):x}"] = o
        return kind, snap.replace(osdmap=snap.osdmap.replace(pg_upmap_primaries=prim))
    new = osds.copy()
    if kind == "reweight_down":
        new.loc[new.osd_id == o, "reweight"] = float(new.loc[new.osd_id == o, "reweight"].iloc[0]) * 0.5
    elif kind == "reweight_up":
        new.loc[new.osd_id == o, ["reweight", "in"]] = [1.0, True]
    else:
        new.loc[new.osd_id == o, "primary_affinity"] = rng.choice([0.0, 0.3, 1.0])
    return kind, snap.replace(osds=new)


def _same(a, b) -> bool:
    def rows(x):
        return [[v for v in r if v != -1] for r in x.tolist()]
    return (rows(a.raw) == rows(b.raw) and rows(a.up) == rows(b.up) and rows(a.acting) == rows(b.acting)
            and a.up_primary.tolist() == b.up_primary.tolist()
            and a.acting_primary.tolist() == b.acting_primary.tolist() and a.pps.tolist() == b.pps.tolist())


def test_incremental_equals_full_remap_on_random_maps_and_changes():
    bounded = skipped = 0
    for seed in range(N_CASES):
        snap = _snapshot(seed)
        rng = random.Random(seed + 7)
        before = map_pool_arrays(snap)
        for _ in range(3):
            kind, after = _change(snap, rng)
            stats: dict = {}
            got = remap(snap, after, before, stats=stats)
            want = map_pool_arrays(after)
            assert len(got) == len(want)
            for g, w in zip(got, want, strict=True):
                assert _same(g, w), f"seed {seed}: {kind} differs from a full re-map"
            if not stats["full"]:
                bounded += 1
                skipped += stats["copied"]
    # the bound must be used, not just the fallback
    assert bounded >= N_CASES // 2
    assert skipped > 0


def _flat(num_hosts: int = 30, per_host: int = 10, pg_num: int = 4096) -> Snapshot:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_simulate import build

    return build(num_hosts, per_host, pg_num)


def test_an_out_osd_remaps_only_the_pgs_that_held_it():
    snap = _flat()
    before = map_pool_arrays(snap)
    held = int(np.isin(before[0].raw, [17]).any(axis=1).sum())
    stats: dict = {}
    got = remap(snap, mark_out(snap, [17]), before, stats=stats)
    assert not stats["full"] and stats["remapped"] == held
    assert _same(got[0], map_pool_arrays(mark_out(snap, [17]))[0])


def test_a_crush_weight_increase_is_not_bounded():
    snap = _flat()
    assert reachable_devices(snap, adjust_crush_weight(snap, {3: 2.0})) is None
    assert reachable_devices(snap, adjust_crush_weight(snap, {3: 0.5})) is not None


@pytest.mark.parametrize("reweight", [0.0, 0.5])
def test_a_subtree_with_a_reduced_reweight_is_not_bounded(reweight):
    snap = _flat()
    osds = snap.osds.copy()
    osds.loc[osds.osd_id == 4, "reweight"] = reweight
    snap = snap.replace(osds=osds)
    # osd.3 shares host0 with osd.4: a descent into host0 may reject osd.4 without a trace
    assert reachable_devices(snap, adjust_crush_weight(snap, {3: 0.5})) is None
    # osd.13 is in host1: the draws that change are in host1 and (host1's weight) at the root, whose
    # winners left a trace; an invisible rejection of osd.4 in host0 comes before or after the same draws
    assert reachable_devices(snap, adjust_crush_weight(snap, {13: 0.5})) == frozenset(range(10, 20))


def test_marking_one_osd_out_keeps_the_reweights_of_the_others():
    """A capture without the osd dump's exact 16.16 weights (reweight floats only): marking one OSD out
    adds the exact column for that OSD; the others must keep their reweight (they were read as 1.0)."""
    from pgtools.placement import compile_snapshot

    snap = _flat()
    osds = snap.osds.copy()
    osds.loc[osds.osd_id == 11, "reweight"] = 0.9
    snap = snap.replace(osds=osds)
    after = mark_out(snap, [5])
    assert int(compile_snapshot(after).weight[11]) == round(0.9 * 0x10000)
    assert int(compile_snapshot(after).weight[5]) == 0


def test_whatif_plans_are_the_same_with_and_without_the_incremental_remap(monkeypatch):
    """The what-if engine re-maps through remap(); forcing every step to a full re-map changes nothing."""
    import pgtools
    from pgtools.placement import incremental
    from pgtools.simulate import CrushWeight, Fail, MarkDown, MarkOut, PrimaryAffinity, Reweight, simulate
    from pgtools.simulate import state as sim_state
    from tests.paths import SAMPLE_DUMPS

    plans = {
        "mixed": [MarkOut(4), CrushWeight(3, 0.5), Reweight(7, 0.6), Fail("host=n3"), PrimaryAffinity(1, 0.0),
                  CrushWeight(2, 4.0), MarkDown(9)],
        "seedlike_max300": [Reweight(5, 0.5), MarkOut(2), Fail("osd.7"), CrushWeight(1, 0.25)],
    }
    counted: dict = {}
    real = incremental.remap

    def counting(*a, **k):
        stats = k.setdefault("stats", {})
        out = real(*a, **k)
        counted["copied"] = counted.get("copied", 0) + stats["copied"]
        return out

    for name, changes in plans.items():
        snap = pgtools.load(SAMPLE_DUMPS / name)
        monkeypatch.setattr(sim_state, "remap", counting)  # the name the engine calls
        fast = simulate(snap, changes)
        monkeypatch.setattr(incremental, "_reachable", lambda c0, c1: None)
        full = simulate(snap, changes)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(fast.steps, full.steps)
        pd.testing.assert_frame_equal(fast.movement, full.movement)
        pd.testing.assert_frame_equal(fast.failures, full.failures)
        for a, b in zip(fast.mappings, full.mappings, strict=True):
            pd.testing.assert_frame_equal(a, b)
    assert counted["copied"] > 0  # the bound was used
