"""The count balancer's speed-ups change nothing: plans pinned from the code before them, batched CRUSH results
equal to the placement engine's.

``tests/data/balance_pins/count_plans.json`` holds the commands and move counts of
``balance_count(..., max_deviation=1, ceph_release="pacific")`` on the two sample captures as computed by
commit 6603627 (one ``map_pool_arrays`` call per pool, PG orders built in full), the mixed capture's re-pinned
when the search went on to the proven bound where ``±1`` is impossible (``tests/test_balance_reach.py``: 2.54
→ 2.23 PGs, the bound); the plans' validity against Ceph is checked elsewhere (``tests/test_balance_count.py``, ``tests/oracle/test_balance_count_oracle.py``).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import pgtools
from pgtools.balance.count import balance_count
from pgtools.balance.work import WorkMap
from pgtools.placement import compile_snapshot
from tests.paths import SAMPLE_DUMPS, TEST_DATA
from tests.test_balance_count import gen_snapshot

PINS = json.loads((TEST_DATA / "balance_pins" / "count_plans.json").read_text())


@pytest.mark.filterwarnings("ignore::pgtools.errors.PgtoolsWarning")  # mixed: ±1 is impossible (test_balance_bound)
@pytest.mark.parametrize("capture", ["seedlike_max300", "mixed"])
def test_plans_are_the_ones_before_the_speedup(capture: str) -> None:
    snap = pgtools.load(SAMPLE_DUMPS / capture)
    plan = balance_count(snap, max_deviation=1, ceph_release="pacific")
    pin = PINS[f"count_{capture}"]
    assert plan.commands == pin["commands"]
    assert plan.moves == pin["moves"]


def _shared_rules_snapshot():
    """gen_snapshot(4) plus a second replicated pool and a second EC pool on the same rules (so that the CRUSH
    step is shared) and one OSD down."""
    snap = gen_snapshot(4, ssd=False)
    pools = snap.pools
    extra = pools.copy()
    extra["pool_id"] = extra["pool_id"] + 10
    extra["pool"] = extra["pool"] + "_2"
    extra["pg_num"] = extra["pgp_num"] = [100, 40]  # not powers of two: stable_mod folds PGs
    osds = snap.osds.copy()
    osds.loc[osds["osd_id"] == 4, "up"] = False
    return snap.replace(pools=pd.concat([pools, extra], ignore_index=True), osds=osds)


@pytest.mark.parametrize("case", ["seedlike_max300", "mixed", "generated"])
def test_batched_crush_rows_equal_map_pool_arrays(case: str) -> None:
    snap = _shared_rules_snapshot() if case == "generated" else pgtools.load(SAMPLE_DUMPS / case)
    c = compile_snapshot(snap, release="pacific")
    maps = [c]
    if case == "generated":
        # OSDs 1 and 7 no longer exist but keep their weight (CRUSH still picks them): the rows drop them
        # (replicated) or hold NONE (EC), as map_pool_arrays does
        exists = c.exists.copy()
        exists[[1, 7]] = False
        maps.append(dataclasses.replace(c, exists=exists))
    for m in maps:
        work = WorkMap(m, "pacific")
        got = work.raw_rows(list(work.pools.values()))
        for pid, pool in m.pools.items():
            want = m.map_pool_arrays(pool).raw
            assert got[pid].shape == want.shape and (got[pid] == want).all(), pid
    if case == "generated":  # the case exercises both removals
        assert any((r == 0x7FFFFFFF).any() for pid, r in got.items() if not m.pools[pid].can_shift_osds())
        assert all(not np.isin(r, [1, 7]).any() for r in got.values())
