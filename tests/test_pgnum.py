"""pg_num arithmetic (masks, stable_mod, split, merge) and the mgr's pg_num/pgp_num stepping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgtools
from pgtools.errors import PgtoolsError
from pgtools.mgr.pgnum import pgp_num_steps, pool_pgp_num_steps, seed_change_misplaced
from pgtools.placement import cbits
from pgtools.placement.pgmath import (
    ancestor,
    get_parent,
    is_merge_source,
    is_merge_target,
    is_split,
    merge_sources,
    merge_target,
    pg_num_mask,
    seed_changes,
    split_children,
    split_map,
    stable_mod,
)
from tests.paths import SAMPLE_DUMPS


def _stable_mod_ref(x: int, b: int, bmask: int) -> int:
    """Straight from the definition in ceph_algorithms.md §7.1 (scalar, no numpy)."""
    return x & bmask if (x & bmask) < b else x & (bmask >> 1)


def _mask_ref(n: int) -> int:
    bits = 0
    v = n - 1
    while v:
        bits += 1
        v >>= 1
    return (1 << bits) - 1


# ------------------------------------------------------------------------------------ masks
def test_cbits_and_masks_examples():
    assert [cbits(v) for v in (0, 1, 2, 3, 4, 7, 8, 255, 256)] == [0, 1, 2, 2, 3, 3, 4, 8, 9]
    assert pg_num_mask(12) == 15 and pg_num_mask(8) == 7 and pg_num_mask(1) == 0 and pg_num_mask(9) == 15
    assert cbits(np.array([0, 1, 8, 1000])).tolist() == [0, 1, 4, 10]
    assert pg_num_mask(np.array([1, 8, 12, 128, 129])).tolist() == [0, 7, 15, 127, 255]
    with pytest.raises(ValueError):
        pg_num_mask(0)
    with pytest.raises(ValueError):
        cbits(-1)


def test_stable_mod_examples():
    # pg_num 12, mask 15: 13 & 15 = 13 >= 12 so 13 & 7 = 5; 11 stays 11
    assert stable_mod(13, 12, 15) == 5
    assert stable_mod(11, 12, 15) == 11
    assert stable_mod(13, 12) == 5  # default mask
    assert stable_mod(np.arange(16), 12).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 4, 5, 6, 7]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 70000))
def test_stable_mod_scalar_array_and_reference_agree(x, b):
    m = _mask_ref(b)
    assert pg_num_mask(b) == m
    expected = _stable_mod_ref(x, b, m)
    assert stable_mod(x, b, m) == expected
    assert int(stable_mod(np.array([x]), b, m)[0]) == expected
    assert 0 <= expected < b


# ------------------------------------------------------------------------------------ split
def test_split_examples_from_the_spec():
    assert split_children(3, 8, 32) == [11, 19, 27]
    # 12 -> 16 splits only 4..7, into 12..15
    m = split_map(12, 16)
    assert m.child.tolist() == [12, 13, 14, 15] and m.parent.tolist() == [4, 5, 6, 7]
    assert [ps for ps in range(12) if is_split(ps, 12, 16)] == [4, 5, 6, 7]
    # 12 -> 32: 1 -> {17}, 9 -> {25}, 4 -> {12, 20, 28}, 0 -> {16}
    assert split_children(1, 12, 32) == [17]
    assert split_children(9, 12, 32) == [25]
    assert split_children(4, 12, 32) == [12, 20, 28]
    assert split_children(0, 12, 32) == [16]
    assert split_children(5, 16, 16) == []
    assert len(split_map(12, 32)) == 20 and split_map(32, 8).empty
    with pytest.raises(ValueError):
        split_children(12, 12, 32)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300))
def test_split_map_matches_the_set_definition(a, b):
    old, new = min(a, b), max(a, b)
    m = split_map(old, new)
    assert m.child.tolist() == list(range(old, new))
    mask = (1 << old.bit_length()) - 1  # 2^cbits(old) - 1, as §9.1 states it
    for child, parent in zip(m.child, m.parent, strict=True):
        assert parent == _stable_mod_ref(int(child), old, mask)
        assert 0 <= parent < old
    for ps in {0, old - 1, (old - 1) // 2}:
        assert split_children(ps, old, new) == [c for c in range(old, new) if _stable_mod_ref(c, old, mask) == ps]


# ------------------------------------------------------------------------------------ merge
def test_parent_and_merge_examples():
    assert get_parent(11) == 3 and get_parent(27) == 11 and get_parent(1) == 0 and get_parent(16) == 0
    with pytest.raises(ValueError):
        get_parent(0)
    m = merge_sources(16, 12)
    assert m.source.tolist() == [15, 14, 13, 12]
    assert m.target.tolist() == [7, 6, 5, 4]
    assert m.pg_num_before.tolist() == [16, 15, 14, 13]
    # 32 -> 12: source 28 first merges into 12, which itself merges into 4 later
    m = merge_sources(32, 12).set_index("source")
    assert m.loc[28, "target"] == 12 and m.loc[28, "final_target"] == 4
    assert m.loc[12, "target"] == 4 and m.loc[12, "final_target"] == 4
    assert is_merge_source(13, 16, 12) and not is_merge_source(11, 16, 12)
    assert is_merge_target(4, 16, 12) and not is_merge_target(3, 16, 12)
    assert merge_sources(8, 8).empty


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300))
def test_merge_is_the_inverse_of_split(a, b):
    new, old = min(a, b), max(a, b)
    ms = merge_sources(old, new)
    assert len(ms) == old - new
    final = dict(zip(ms.source.tolist(), ms.final_target.tolist(), strict=True))
    sm = dict(zip(split_map(new, old).child.tolist(), split_map(new, old).parent.tolist(), strict=True))
    assert final == sm
    for src, tgt in final.items():
        assert merge_target(src, new) == tgt == int(ancestor(src, new))
        assert is_merge_source(src, old, new)
    targets = set(final.values())
    assert {ps for ps in range(new) if is_merge_target(ps, old, new)} == targets


def test_seed_changes_when_pgp_num_moves():
    # pg_num 128, pgp 32 -> 35: the PGs whose ps & 63 is 32, 33 or 34 get a new CRUSH input
    assert seed_changes(128, 32, 35).tolist() == [32, 33, 34, 96, 97, 98]
    assert seed_changes(128, 128, 128).tolist() == []
    assert len(seed_changes(128, 64, 128)) == 64


# ------------------------------------------------------------------------------------ stepping
def test_observed_pacific_split_32_to_128():
    """The real 12-OSD Pacific cluster (~3000 objects): pg_num jumps to 128, pgp_num walks by 3."""
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=3000)
    assert steps.pg_num.tolist() == [32] + [128] * 33
    assert steps.pgp_num.tolist() == [32, 32] + list(range(35, 129, 3))
    assert steps.pgp_num.drop_duplicates().tolist() == list(range(32, 129, 3))
    assert steps.action.tolist() == ["start", "split"] + ["pgp"] * 32
    assert set(steps.estmax[2:]) == {3}
    assert steps.iloc[-1][["pg_num", "pgp_num", "pg_num_pending"]].tolist() == [128, 128, 128]


def test_nearly_empty_pool_jumps():
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32, "objects": 128}, target_pg_num=128)
    assert steps.pgp_num.tolist() == [32, 32, 128]
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32, "objects": 129}, target_pg_num=128)
    assert steps.pgp_num.tolist()[:4] == [32, 32, 35, 38]


def test_misplaced_ratio_shrinks_the_step_and_defers():
    # constant 3 % misplaced: room = min(0.05 - 0.03, 0.025) = 0.02, estmax = int(128 * 0.02) = 2
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=10**6, misplaced_fn=0.03)
    assert steps.pgp_num.tolist()[:5] == [32, 32, 34, 36, 38] and len(steps) == 2 + 48
    # a callback: above 5 % on even ticks -> those ticks wait
    def fn(state):
        return 0.06 if state["tick"] % 2 == 0 else 0.0
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=10**6, misplaced_fn=fn)
    assert steps.action.tolist()[:5] == ["start", "split", "wait", "pgp", "wait"]
    assert steps.pgp_num.tolist()[:5] == [32, 32, 32, 35, 35]
    assert "misplaced 0.0600 > 0.05" in steps.reason[2]
    with pytest.raises(PgtoolsError, match="did not reach"):
        pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=10**6, misplaced_fn=0.2,
                      max_ticks=50)


def test_split_limited_by_creating_pgs():
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=4096, objects=10**7,
                          max_pg_num_change=10**6)
    assert steps.pg_num.drop_duplicates().tolist() == [32, 1056, 2080, 3104, 4096]
    # pgp_num moves in the same tick as the next split, bounded by the tick's starting pg_num
    assert steps.pgp_num.tolist()[:5] == [32, 32, 32 + 26, 58 + 52, 110 + 77]
    assert steps.iloc[-1].pgp_num == 4096


def test_split_stays_within_mgr_max_pg_num_change_of_pgp_num():
    # DaemonServer::adjust_pgs (16.2.15): add = min(left, max_jump - (pg_num - pgp_num), target - pg_num),
    # nothing while pg_num - pgp_num >= mgr_max_pg_num_change ("must scale pgp_num first")
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=4096, objects=10**7)
    assert steps.pg_num.tolist()[:2] == [32, 160]
    gap = steps.pg_num - steps.pgp_num
    assert gap.max() <= 128 and (steps.pg_num.diff().dropna() <= 128).all()
    assert steps.iloc[-1][["pg_num", "pgp_num"]].tolist() == [4096, 4096]
    assert "mgr_max_pg_num_change 128" in steps.reason[1]
    small = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=256, objects=10**7, max_pg_num_change=64)
    assert small.pg_num.tolist()[1] == 96 and (small.pg_num - small.pgp_num).max() <= 64


def test_merge_128_to_32():
    steps = pgp_num_steps({"pg_num": 128, "pgp_num": 128}, target_pg_num=32, objects=3000)
    assert steps.iloc[1][["pg_num", "pgp_num", "action"]].tolist() == [128, 125, "pgp"]
    assert steps.iloc[2][["pg_num", "pgp_num", "action"]].tolist() == [127, 125, "merge"]
    assert steps.reason[2] == "merge PG 7f into 3f"
    assert (steps.action == "merge").sum() == 96
    assert steps.iloc[-1][["pg_num", "pgp_num", "pg_num_pending"]].tolist() == [32, 32, 32]
    # pgp_num never runs more than max(8, 5 % of pg_num) ahead of the merges, never above pg_num
    assert (steps.pgp_num <= steps.pg_num).all()
    assert ((steps.pg_num - steps.pgp_num) <= 8).all()


def test_pool_caught_mid_change_and_pgp_only():
    row = {"pg_num": 128, "pgp_num": 64, "pg_num_target": 128, "pgp_num_target": 128, "pg_num_pending": 128}
    steps = pgp_num_steps(row, objects=10**6)
    assert steps.pgp_num.tolist()[:3] == [64, 67, 70] and steps.iloc[-1].pgp_num == 128
    steps = pgp_num_steps({"pg_num": 128, "pgp_num": 128}, 120, objects=10**6)
    assert steps.pgp_num.tolist() == [128, 125, 122, 120] and set(steps.pg_num) == {128}
    # a merge already pending completes first
    steps = pgp_num_steps({"pg_num": 64, "pgp_num": 62, "pg_num_target": 62, "pgp_num_target": 62,
                           "pg_num_pending": 63}, objects=10**6)
    assert steps.pg_num.tolist() == [64, 63, 62] and steps.action.tolist() == ["start", "merge", "merge"]


def test_stepping_rejects_inconsistent_input():
    with pytest.raises(ValueError):
        pgp_num_steps({"pg_num": 32, "pgp_num": 64})
    with pytest.raises(ValueError):
        pgp_num_steps({"pg_num": 32, "pgp_num": 32}, 64)
    with pytest.raises(ValueError):
        pgp_num_steps({"pgp_num": 32})
    assert len(pgp_num_steps({"pg_num": 32, "pgp_num": 32})) == 1


def test_pessimistic_misplaced_model():
    # nothing recovers: after 32 -> 35, 6 of 128 PGs (4.6875 %) are misplaced, so room = 0.003125 and
    # the next step is 1; after 35 -> 36 only PGs 35 and 99 moved (1.5625 %): room back to 0.025, step 3
    fn = seed_change_misplaced(3000)
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=3000, misplaced_fn=fn)
    assert steps.pgp_num.tolist()[:7] == [32, 32, 35, 36, 39, 40, 43]
    assert steps.misplaced_ratio.tolist()[2:5] == [0.0, 6 / 128, 2 / 128]
    # in a cluster ten times bigger the pool's share is a tenth: the step stays 3
    fn = seed_change_misplaced(3000, 30000)
    steps = pgp_num_steps({"pg_num": 32, "pgp_num": 32}, target_pg_num=128, objects=3000, misplaced_fn=fn)
    assert steps.pgp_num.drop_duplicates().tolist() == list(range(32, 129, 3))
    with pytest.raises(ValueError):
        seed_change_misplaced(0)


def test_pool_steps_from_the_capture():
    snap = pgtools.load(SAMPLE_DUMPS / "seedlike_max300")
    # rbd: 4956 objects, 128 -> 256: pgp_num steps by int(256 x 0.025) = 6
    steps = pool_pgp_num_steps(snap, "rbd", 256)
    assert steps.pg_num.tolist()[:2] == [128, 256]
    assert steps.pgp_num.drop_duplicates().tolist() == list(range(128, 255, 6)) + [256]
    # images: 41 objects <= 256 -> nearly empty, pgp_num jumps
    assert pool_pgp_num_steps(snap, 2, 256).pgp_num.tolist() == [128, 128, 256]
    assert len(pool_pgp_num_steps(snap, "rbd")) == 1  # already at its targets
    with pytest.raises(KeyError):
        pool_pgp_num_steps(snap, "nope")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 300), st.integers(0, 5000),
       st.floats(0.0, 0.05))
def test_stepping_always_reaches_the_targets(pg_num, pgp_frac, target, objects, misplaced):
    pgp_num = max(1, pg_num * pgp_frac // 300)
    kwargs = {"target_pg_num": target, "objects": objects, "misplaced_fn": misplaced}
    if pgp_num != pg_num and (target < pgp_num or (target > pg_num and target > pgp_num + 128)):
        # pgp_num_target does not track pg_num and stays above the new pg_num: Ceph's merge stalls;
        # or stays more than mgr_max_pg_num_change below the split's target: Ceph's split stalls
        with pytest.raises(PgtoolsError, match="cannot reach"):
            pgp_num_steps({"pg_num": pg_num, "pgp_num": pgp_num}, **kwargs)
        return
    steps = pgp_num_steps({"pg_num": pg_num, "pgp_num": pgp_num}, **kwargs)
    last = steps.iloc[-1]
    assert last.pg_num == target and last.pg_num_pending == target
    # pgp_num follows pg_num's target only if it tracked it (pgp == pg at the start)
    assert last.pgp_num == (target if pgp_num == pg_num else pgp_num)
    assert (steps.pgp_num <= steps.pg_num).all()
    assert (steps.pg_num_pending == steps.pg_num).all()
    moves = steps.pgp_num.diff().abs().iloc[1:]
    jumps = steps.reason.str.contains("jumps").iloc[1:]
    assert (moves[~jumps] <= steps.estmax.iloc[1:][~jumps].clip(lower=8)).all()
    assert steps.tick.tolist() == list(range(len(steps)))
