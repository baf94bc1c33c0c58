"""Reef's read balancer on the live Tentacle capture ``sample_dumps/mixed_tentacle`` (no Ceph needed).

The bundle's ``osd pool ls detail -f json`` holds the ``read_balance`` section the cluster's monitor computed
at the same epoch: :func:`pgtools.balance.read_balance_score` must give every field (C floats, exactly).
:func:`pgtools.balance.balance_primaries`'s plan, applied, must move the up primaries where it says and
lower (never raise) each pool's score.  The same against ``osdmaptool --read`` of 18.2.7 / 20.2.4 is
``tests/oracle/test_read_balancer.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import pgtools
from pgtools.balance import balance_primaries, read_balance_score
from pgtools.balance.primary import RBI_FIELDS, rbi_round
from pgtools.errors import PgtoolsError, UnsupportedFeatureError
from pgtools.placement import map_pgs
from tests.paths import SAMPLE_DUMPS

BUNDLE = SAMPLE_DUMPS / "mixed_tentacle"


@pytest.fixture(scope="module")
def snap():
    return pgtools.load(BUNDLE)


def test_score_equals_the_monitors(snap):
    theirs = {p["pool_id"]: p for p in json.loads((BUNDLE / "osd_pool_ls_detail.json").read_text())}
    frame = read_balance_score(snap).set_index("pool_id")
    assert sorted(frame.index) == [pid for pid, p in sorted(theirs.items()) if p["type"] == 1]  # no EC rows
    for pid, row in frame.iterrows():
        rb = theirs[pid]["read_balance"]
        assert {k: row[k] for k in RBI_FIELDS} == {k: rb[k] for k in RBI_FIELDS}, pid
        assert row["read_balance_score"] == f"{rb['score_acting']:.2f}" and row["rc"] == 0
        assert row["error_message"] == rb.get("error_message", "")
    assert frame.loc[2, "read_balance_score"] == "1.83" and frame.loc[1, "optimal_score"] == np.float32(0.21)


def test_plan_moves_primaries_and_lowers_the_score(snap):
    before = read_balance_score(snap).set_index("pool_id")
    plan = balance_primaries(snap)
    assert plan.exact and plan.num_changed == len(plan.commands) == len(plan.new_pg_upmap_primary) > 0
    assert plan.commands[0].startswith("ceph osd pg-upmap-primary ")
    after_snap = plan.apply(snap)
    after = read_balance_score(after_snap).set_index("pool_id")
    assert (after["score_stable"] <= before["score_stable"]).all()
    moved = {pg.split(".")[0] for pg in plan.new_pg_upmap_primary}
    for pid in map(int, moved):
        assert after.loc[pid, "score_stable"] < before.loc[pid, "score_stable"], pid
    ups = map_pgs(after_snap).set_index("pgid")["up_primary"]
    assert all(ups[pg] == osd for pg, osd in plan.new_pg_upmap_primary.items())
    # balanced once, nothing more to do
    assert balance_primaries(after_snap).num_changed == 0


def test_pools_and_releases(snap):
    one = balance_primaries(snap, pools=["rbd"])
    assert one.new_pg_upmap_primary and all(pg.startswith("2.") for pg in one.new_pg_upmap_primary)
    assert one.new_pg_upmap_primary == {k: v for k, v in balance_primaries(snap).new_pg_upmap_primary.items()
                                        if k.startswith("2.")}
    with pytest.raises(PgtoolsError, match="erasure coded"):
        balance_primaries(snap, pools=["ec21"])
    with pytest.raises(UnsupportedFeatureError, match="Pacific"):
        read_balance_score(snap, ceph_release="pacific")
    # Tentacle's mgr leaves a pool with a PG merge pending alone
    full = balance_primaries(snap).new_pg_upmap_primary
    assert balance_primaries(snap, like_mgr=True).new_pg_upmap_primary == full
    pools = snap.pools.copy()
    pools.loc[pools["pool_id"] == 2, "pg_num_target"] = 32
    mgr = balance_primaries(snap.replace(pools=pools), like_mgr=True).new_pg_upmap_primary
    assert mgr == {k: v for k, v in full.items() if not k.startswith("2.")} != full
    reef = read_balance_score(snap, ceph_release="reef")
    assert reef.equals(read_balance_score(snap, ceph_release="tentacle"))


def test_rbi_round_is_cephs():
    # f * 100 in float, + 0.5 in double: 1.005f is 1.00499999523..., * 100 rounds to 100.5f: up
    assert rbi_round(np.float32(1.005)) == np.float32(1.01)
    assert rbi_round(np.float32(-1.005)) == np.float32(-1.01)
    assert rbi_round(np.float32(3.6349)) == np.float32(3.63)


def test_balance_mode_primary(snap):
    from pgtools.balance import order_rounds, plan
    from tests.oracle._dropin_corpus import run_pgtools

    got = plan(snap, "primary")
    assert got.commands == balance_primaries(snap).commands
    rounds = order_rounds(snap, got)  # no data moves: one round, misplaced 0, every command
    assert rounds.misplaced_ratio == [0.0] and rounds.plans[0].commands == got.commands
    with pytest.raises(PgtoolsError, match="no such settings"):
        plan(snap, "primary", max_moves=3)
    rc, out, err = run_pgtools(["balance", str(BUNDLE), "--mode", "primary", "--format", "commands"])
    assert rc == 0 and out == got.text, err
