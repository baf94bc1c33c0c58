"""The mgr's other gates in pgp_num/pg_num stepping (``DaemonServer::adjust_pgs``, Pacific).

Inactive, degraded or unknown PGs defer pgp_num; a split needs every PG of the pool active or peered;
creating + unknown PGs count against ``mon_osd_max_creating_pgs``; a merge needs its source and target
without upmaps (the mgr removes them), active+clean and with equal acting sets.  Plus the misplaced
ratio's step shrinking with a ratio that follows the simulated movement (§9.4).
"""

from __future__ import annotations

from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgtools
from pgtools.mgr.pgnum import ClusterState, cluster_state, pgp_num_steps, pool_pgp_num_steps, pool_upmaps
from pgtools.placement import map_pgs
from tests.paths import SAMPLE_DUMPS

CLEAN_RBD_256 = list(range(128, 255, 6)) + [256]


@pytest.fixture(scope="module")
def seed():
    return pgtools.load(SAMPLE_DUMPS / "seedlike_max300")


@pytest.fixture(scope="module")
def mixed():
    return pgtools.load(SAMPLE_DUMPS / "mixed")


def _degrade(snap, pgids, state="active+undersized+degraded", objects=True):
    """The capture with ``pgids`` in ``state``; their objects all degraded when ``objects``."""
    pgs = snap.pgs.copy()
    sel = pgs["pgid"].isin(pgids)
    pgs.loc[sel, "state"] = state
    if objects:
        pgs.loc[sel, "degraded"] = pgs.loc[sel, "objects"]
    return snap.replace(pgs=pgs)


# ------------------------------------------------------------------------------------ reading the capture
def test_cluster_state_of_a_clean_capture(seed):
    cs = cluster_state(seed, "rbd")
    assert (cs.num_pgs, cs.inactive, cs.unknown, cs.creating, cs.degraded) == (1920, 0, 0, 0, 0)
    assert (cs.degraded_ratio, cs.misplaced_ratio, cs.pool_not_active, cs.pool_creating) == (0.0, 0.0, 0, False)
    assert len(cs.pg_states) == 128 and cs.pg_states[0x7f] == "active+clean"
    assert cs.pg_acting[0] == tuple(seed.pgs.set_index("pgid").loc["1.0", "acting"])
    assert not cs.defers_pgp
    assert cluster_state(seed.replace(pgs=seed.pgs.iloc[0:0])) is None


def test_cluster_state_counts_and_ratios(seed):
    snap = _degrade(seed, ["1.7d", "1.7c", "1.7b"])   # 37 + 32 + 34 objects, all degraded
    pgs = snap.pgs.copy()
    pgs.loc[pgs["pgid"] == "2.0", "state"] = "unknown"
    pgs.loc[pgs["pgid"] == "2.1", "state"] = "undersized+degraded+peered"
    pgs.loc[pgs["pgid"] == "3.0", "state"] = "creating+peering"
    pgs.loc[pgs["pgid"] == "1.1", "misplaced"] = 50
    cs = cluster_state(snap.replace(pgs=pgs), 2)
    # inactive = not active and not unknown: the peered and the creating+peering PG
    assert (cs.inactive, cs.unknown, cs.creating, cs.degraded) == (2, 1, 1, 4)
    assert cs.degraded_ratio == pytest.approx(103 / (7350 * 3))
    assert cs.misplaced_ratio == pytest.approx(50 / (7350 * 3))
    assert cs.pool_not_active == 1     # 2.0 unknown: neither active nor peered; 2.1 peered is fine
    assert cs.summary() == "2 PGs inactive, 4 PGs degraded (0.47% of object copies), 1 PGs unknown"
    assert pool_upmaps(seed, "rbd") == []


def test_pool_upmaps(mixed):
    assert pool_upmaps(mixed, "rbd") == [0, 2, 3]
    assert pool_upmaps(mixed, 2) == []
    with pytest.raises(KeyError):
        pool_upmaps(mixed, "nope")


# ------------------------------------------------------------------------------------ pgp_num: recovery
def test_degraded_capture_defers_the_first_pgp_step(seed):
    snap = _degrade(seed, ["1.7d", "1.7c", "1.7b"])
    steps = pool_pgp_num_steps(snap, "rbd", 256)
    # tick 1 splits (degraded PGs are active); tick 2 is the first pgp_num decision: deferred
    assert steps.action.tolist()[:4] == ["start", "split", "wait", "pgp"]
    assert steps.reason[2] == "3 PGs degraded (0.47% of object copies): pgp_num deferred"
    assert steps.deferred_by.tolist()[:4] == ["", "", "recovery", ""]
    assert steps.pgp_num.tolist()[:4] == [128, 128, 128, 134]
    # then the clean walk, one tick later
    assert steps.pgp_num.drop_duplicates().tolist() == CLEAN_RBD_256
    assert len(steps) == len(pool_pgp_num_steps(seed, "rbd", 256)) + 1
    # assuming a clean cluster ignores the capture's PG states
    clean = pool_pgp_num_steps(snap, "rbd", 256, cluster=None)
    assert clean.equals(pool_pgp_num_steps(seed, "rbd", 256))
    assert pool_pgp_num_steps(snap, "rbd", 256, cluster="clean").equals(clean)
    with pytest.raises(ValueError):
        pool_pgp_num_steps(snap, "rbd", 256, cluster="dirty")


def test_degraded_pgs_without_objects_do_not_defer(seed):
    # Ceph tests the degraded *object* ratio: an empty undersized+degraded PG defers nothing
    snap = _degrade(seed, ["2.7e", "2.7f"])
    assert int(snap.pgs.loc[snap.pgs["pgid"].isin(["2.7e", "2.7f"]), "objects"].sum()) == 0
    steps = pool_pgp_num_steps(snap, "rbd", 256)
    assert "wait" not in steps.action.tolist()
    # without per-PG degraded counts the PG state stands in for the ratio
    pgs = snap.pgs.drop(columns=["degraded"])
    steps = pool_pgp_num_steps(snap.replace(pgs=pgs), "rbd", 256)
    assert steps.reason[2] == "2 PGs degraded: pgp_num deferred"


def test_capture_mid_change_stalls_while_degraded():
    # the Pacific cluster seen stalled at pgp_num 140 of 256 while PGs were degraded
    row = {"pg_num": 256, "pgp_num": 140, "pg_num_target": 256, "pgp_num_target": 256, "pool_id": 7}
    cs = ClusterState(num_pgs=800, degraded=4, degraded_ratio=0.002)
    steps = pgp_num_steps(row, objects=10**6, cluster=cs)
    assert steps.pgp_num.tolist()[:4] == [140, 140, 146, 152]
    assert steps.action.tolist()[:3] == ["start", "wait", "pgp"]
    assert steps.reason[1] == "4 PGs degraded (0.20% of object copies): pgp_num deferred"
    # inactive and unknown PGs defer too; aggressive mode ignores all of it
    steps = pgp_num_steps(row, objects=10**6, cluster=ClusterState(inactive=2, unknown=1))
    assert steps.reason[1] == "2 PGs inactive, 1 PGs unknown: pgp_num deferred"
    steps = pgp_num_steps(row, objects=10**6, cluster=cs, aggressive=True)
    assert steps.pgp_num.tolist() == [140, 256]


def test_capture_misplaced_ratio_is_seen_at_the_first_decision():
    row = {"pg_num": 256, "pgp_num": 140, "pg_num_target": 256, "pgp_num_target": 256}
    # 4 % misplaced: room = min(0.01, 0.025), estmax = int(2.56) = 2; then clean again
    steps = pgp_num_steps(row, objects=10**6, cluster=ClusterState(misplaced_ratio=0.04))
    assert steps.pgp_num.tolist()[:4] == [140, 142, 148, 154]
    assert steps.estmax.tolist()[1:3] == [2, 6]
    # 6 %: one deferred tick
    steps = pgp_num_steps(row, objects=10**6, cluster=ClusterState(misplaced_ratio=0.06))
    assert steps.reason[1] == "misplaced 0.0600 > 0.05: pgp_num deferred" and steps.deferred_by[1] == "misplaced"
    assert steps.pgp_num.tolist()[:3] == [140, 140, 146]


# ------------------------------------------------------------------------------------ pg_num: split gates
def test_split_waits_for_inactive_pgs_of_the_pool():
    cs = ClusterState(num_pgs=96, inactive=3, pool_not_active=3)
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=3000, cluster=cs)
    assert steps.action.tolist()[:4] == ["start", "wait", "split", "pgp"]
    assert steps.reason[1] == "split waits: 3 PGs of the pool are not active or peered"
    assert steps.deferred_by[1] == "pool_not_active"
    assert steps.pgp_num.drop_duplicates().tolist() == list(range(32, 129, 3))


def test_creating_and_unknown_pgs_count_against_max_creating():
    start = {"pg_num": 32, "pgp_num": 32}
    steps = pgp_num_steps(start, target_pg_num=4096, objects=10**7, cluster=ClusterState(creating=1000, unknown=24),
                          max_pg_num_change=10**6)
    assert steps.action.tolist()[:3] == ["start", "wait", "split"]
    assert steps.reason[1] == "1024 PGs creating or unknown >= mon_osd_max_creating_pgs 1024: the mgr changes nothing"
    assert steps.pg_num.drop_duplicates().tolist() == [32, 1056, 2080, 3104, 4096]
    # below the limit what is left is what the split may add at the first tick
    steps = pgp_num_steps(start, target_pg_num=4096, objects=10**7, cluster=ClusterState(creating=1000),
                          max_pg_num_change=10**6)
    assert steps.reason[1] == "split 32 -> 56 (max 1024 creating PGs, 1000 creating or unknown)"
    assert steps.pg_num.drop_duplicates().tolist() == [32, 56, 1080, 2104, 3128, 4096]


def test_pool_still_creating_leaves_pg_num_alone():
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=64, objects=10,
                          cluster=ClusterState(pool_creating=True))
    assert steps.action.tolist() == ["start", "wait", "split", "pgp"]
    assert steps.reason[1] == "pool still creating its initial PGs: pg_num waits"


# ------------------------------------------------------------------------------------ pg_num: merge gates
def test_merge_participants_with_upmaps(mixed):
    steps = pool_pgp_num_steps(mixed, "rbd", 32)
    gated = steps[steps.deferred_by != ""]
    assert gated.pg_num.tolist() == [36, 35, 33]
    assert gated.upmaps_removed.tolist() == [("1.3",), ("1.2",), ("1.0",)]
    assert gated.action.tolist() == ["pgp+rm-upmap"] * 3
    assert gated.reason.iloc[0] == ("merge blocked until pgp_num drops below pg_num 36; merge target 1.3 has upmap: "
                                    "the mgr removes it (osd rm-pg-upmap, osd rm-pg-upmap-items 1.3); "
                                    "pgp_num 36 -> 35 (estmax 1, room 0.0250)")
    # the merge of 1.23 into 1.3 follows in the next tick
    nxt = steps.loc[gated.index[0] + 1]
    assert (nxt.action, nxt.reason, nxt.pg_num) == ("merge", "merge PG 23 into 3", 35)
    assert steps.iloc[-1][["pg_num", "pgp_num"]].tolist() == [32, 32]
    # a source with an upmap: removed at the first tick, while pgp_num still blocks the merge
    steps = pgp_num_steps({"pg_num": 64, "pgp_num": 64, "pool_id": 1}, target_pg_num=32, objects=10**6, upmaps=[63])
    assert steps.reason[1] == ("merge blocked until pgp_num drops below pg_num 64; merge source 1.3f has upmap: "
                               "the mgr removes it (osd rm-pg-upmap, osd rm-pg-upmap-items 1.3f); "
                               "pgp_num 64 -> 63 (estmax 1, room 0.0250)")
    assert steps.upmaps_removed[1] == ("1.3f",) and (steps.upmaps_removed.iloc[2:] == ()).all()


MID_MERGE = {"pg_num": 128, "pgp_num": 120, "pg_num_target": 64, "pgp_num_target": 64}


def test_merge_waits_for_active_clean_source_and_target():
    cs = ClusterState(pg_states={127: "active+remapped+backfilling", 63: "active+clean"})
    steps = pgp_num_steps(MID_MERGE, objects=10**6, cluster=cs)
    # pgp_num may not run more than max(8, 5 % of 128) ahead of the merges: it stays at 120
    assert steps.iloc[1][["pg_num", "pgp_num", "action", "deferred_by"]].tolist() == [128, 120, "wait",
                                                                                      "merge_not_clean"]
    assert steps.reason[1].startswith("merge source 7f not clean (active+remapped+backfilling)")
    assert (steps.reason[2], steps.pg_num[2]) == ("merge PG 7f into 3f", 127)
    steps = pgp_num_steps(MID_MERGE, objects=10**6, cluster=ClusterState(pg_states={63: "active+clean"}))
    assert steps.reason[1].startswith("no state for merge source 7f")
    cs = ClusterState(pg_states={127: "active+clean", 63: "active+clean+scrubbing"},
                      pg_acting={127: (1, 2, 3), 63: (1, 2, 4)})
    steps = pgp_num_steps({**MID_MERGE, "pool_id": 5}, objects=10**6, cluster=cs)
    assert steps.reason[1].startswith("merge target 5.3f acting [1, 2, 4] does not match source [1, 2, 3]")
    assert steps.deferred_by[1] == "merge_acting"
    # equal acting sets, both active+clean (scrubbing is fine): the merge goes ahead at once
    cs = ClusterState(pg_states={127: "active+clean", 63: "active+clean+scrubbing"},
                      pg_acting={127: (1, 2, 3), 63: (1, 2, 3)})
    assert pgp_num_steps(MID_MERGE, objects=10**6, cluster=cs).action[1] == "merge"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.integers(1, 200), st.integers(0, 5), st.integers(0, 5), st.integers(0, 5),
       st.integers(0, 1100), st.integers(0, 5), st.lists(st.integers(0, 199), max_size=6))
def test_gates_only_delay(pg_num, target, inactive, degraded, unknown, creating, not_active, upmaps):
    """Whatever the first tick's PG map, the mgr gets to the same targets, held back at most one tick by it."""
    start = {"pg_num": pg_num, "pgp_num": pg_num}
    cs = ClusterState(inactive=inactive, degraded=degraded, unknown=unknown, creating=creating,
                      pool_not_active=not_active)
    clean = pgp_num_steps(start, target_pg_num=target, objects=10**6)
    steps = pgp_num_steps(start, target_pg_num=target, objects=10**6, cluster=cs, upmaps=upmaps)
    assert steps.iloc[-1][["pg_num", "pgp_num"]].tolist() == clean.iloc[-1][["pg_num", "pgp_num"]].tolist()
    held = steps.deferred_by.str.contains("creating_pgs|pool_not_active|recovery")
    assert held.sum() <= 1
    removed = sum(len(t) for t in steps.upmaps_removed)
    assert removed == len({u for u in upmaps if u < pg_num and target < pg_num and (
        u >= target or any(u == s & ~(1 << (s.bit_length() - 1)) for s in range(target, pg_num)))})
    assert len(steps) <= len(clean) + 1 + (steps.upmaps_removed.map(len) > 0).sum()


def test_config_of_the_capture_sets_the_budget(seed):
    snap = seed.replace(config={**seed.config, "target_max_misplaced_ratio": "0.1"})
    # estmax = int(256 x min(0.1, 0.05)) = 12
    assert pool_pgp_num_steps(snap, "rbd", 256).pgp_num.drop_duplicates().tolist() == list(range(128, 253, 12)) + [256]
    assert pool_pgp_num_steps(snap, "rbd", 256, max_misplaced=0.05).pgp_num.drop_duplicates().tolist() == CLEAN_RBD_256


# ------------------------------------------------------------------------------------ misplaced ratio over time
def test_steps_shrink_and_defer_with_the_movement_they_cause(seed):
    """§9.4 with a misplaced ratio computed from the placement of the previous steps.

    rbd (4956 of the cluster's 7350 objects) splits 128 -> 256.  Recovery is paused (nothing misplaced
    recovers) until the mgr first defers, then it drains half of what is left every tick.  The ratio seen
    at a tick is the sum of the object copies the earlier pgp_num steps moved (placement recomputed) over
    all object copies.
    """
    per_pg = int(seed.pgs.loc[seed.pgs.pool_id == 1, "objects"].sum()) / 256
    copies = float((seed.pgs["objects"].astype(float) * 3).sum())

    @lru_cache(None)
    def ups(pgp):
        pools = seed.pools.copy()
        pools.loc[pools.pool_id == 1, ["pg_num", "pgp_num", "pg_num_pending"]] = [256, pgp, 256]
        return tuple(map_pgs(seed.replace(pools=pools), 1)["up"])

    def moved(a, b):
        return sum(len(set(y) - set(x)) for x, y in zip(ups(a), ups(b), strict=True)) * per_pg / copies

    model = {"ratio": 0.0, "recovering": False, "seen": set()}

    def misplaced(state):
        if model["recovering"]:
            model["ratio"] /= 2
        step = (state["prev_pgp_num"], state["pgp_num"])
        if state["pg_num"] == 256 and step[0] != step[1] and step not in model["seen"]:
            model["seen"].add(step)
            model["ratio"] += moved(*step)
        if model["ratio"] > 0.05:
            model["recovering"] = True
        return model["ratio"]

    steps = pool_pgp_num_steps(seed, "rbd", 256, misplaced_fn=misplaced)
    assert steps.pgp_num.tolist() == [128, 128, 134, 140, 146, 150, 152, 153, 154, 154] + list(range(160, 257, 6))
    # 128 -> 134 writes 13 PG copies of 4956/256 objects each, of 7350 x 3 object copies
    assert steps.misplaced_ratio[3] == pytest.approx(moved(128, 134)) == pytest.approx(13 * 4956 / 256 / 22050)
    pgp = steps[steps.action == "pgp"]
    r = pgp.misplaced_ratio
    assert pgp.estmax.tolist() == [max(int(256 * min(0.05 - x, 0.025)), 1) for x in r]
    assert (pgp.pgp_num - steps.pgp_num.shift().loc[pgp.index]).tolist() == [
        min(e, 256 - p) for e, p in zip(pgp.estmax, steps.pgp_num.shift().loc[pgp.index], strict=True)]
    # while nothing recovers the steps shrink: 6 6 6 4 2 1 1, then the ratio passes 5 % and the mgr waits
    assert pgp.estmax.tolist()[:7] == [6, 6, 6, 4, 2, 1, 1]
    wait = steps[steps.action == "wait"]
    assert wait.tick.tolist() == [9] and wait.deferred_by.tolist() == ["misplaced"]
    assert wait.reason.iloc[0] == f"misplaced {wait.misplaced_ratio.iloc[0]:.4f} > 0.05: pgp_num deferred"
    assert wait.misplaced_ratio.iloc[0] > 0.05
    # once recovery drains, the full step is back (room capped at max/2)
    assert set(pgp.estmax.iloc[7:]) == {6}
    assert steps.misplaced_ratio[10] == pytest.approx(wait.misplaced_ratio.iloc[0] / 2)
