"""``pg_upmap_primaries`` (Reef's read balancer): placement, releases, the what-if changes and their refusals.

The oracle is ``tests/oracle/test_upmap_primary.py`` (Pacific, Reef and Tentacle osdmaptool); here the rules of
``OSDMap::_apply_upmap`` one at a time on a small hand-made map, the two engines against each other on random
maps, and the what-if side.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from pgtools.io import crushmap_from_text
from pgtools.model import NONE, Snapshot
from pgtools.placement import (
    PLACEMENT_RELEASES,
    compile_snapshot,
    map_pgs,
    map_pool_arrays,
    upmap_primaries_apply,
)
from pgtools.simulate import AddUpmapItems, RemovePgUpmapPrimary, SetPgUpmapPrimary, simulate
from pgtools.simulate.refusals import refusal
from tests.test_incremental import _snapshot


def _flat_map(n: int) -> str:
    devs = [f"device {i} osd.{i}" for i in range(n)]
    hosts = []
    for i in range(n):
        hosts.append("\n".join([f"host h{i} {{", f"\tid {-2 - i}", "\talg straw2", "\thash 0",
                                f"\titem osd.{i} weight 1.0000", "}"]))
    root = "\n".join(["root default {", "\tid -1", "\talg straw2", "\thash 0"]
                     + [f"\titem h{i} weight 1.0000" for i in range(n)] + ["}"])
    rules = ["rule rep {", "\tid 0", "\ttype replicated", "\tstep take default",
             "\tstep chooseleaf firstn 0 type host", "\tstep emit", "}",
             "rule ec {", "\tid 1", "\ttype erasure", "\tstep take default",
             "\tstep chooseleaf indep 0 type host", "\tstep emit", "}"]
    return "\n".join(["tunable choose_total_tries 50", "tunable chooseleaf_descend_once 1",
                      "tunable chooseleaf_vary_r 1", "tunable chooseleaf_stable 1", "tunable straw_calc_version 1",
                      *devs, "type 0 osd", "type 1 host", "type 10 root", *hosts, root, *rules]) + "\n"


def _small(osdmap: dict | None = None, *, reweight: dict[int, float] | None = None, down: tuple[int, ...] = (),
           affinity: dict[int, float] | None = None) -> Snapshot:
    n = 8
    rw = [1.0] * n
    for o, w in (reweight or {}).items():
        rw[o] = w
    aff = [1.0] * n
    for o, a in (affinity or {}).items():
        aff[o] = a
    osds = pd.DataFrame({"osd_id": np.arange(n), "name": [f"osd.{i}" for i in range(n)], "exists": True,
                         "up": [i not in down for i in range(n)], "in": [w > 0 for w in rw], "reweight": rw,
                         "primary_affinity": aff})
    pools = pd.DataFrame([
        {"pool_id": 1, "pool": "rbd", "type": "replicated", "size": 3, "min_size": 2, "pg_num": 16, "pgp_num": 16,
         "crush_rule": 0, "flags": 1, "flags_names": "hashpspool"},
        {"pool_id": 2, "pool": "ec", "type": "erasure", "size": 4, "min_size": 3, "pg_num": 8, "pgp_num": 8,
         "crush_rule": 1, "flags": 1, "flags_names": "hashpspool"}])
    return Snapshot(pools=pools, osds=osds, crush=crushmap_from_text(_flat_map(n)), osdmap={"max_osd": n, **(osdmap or {})})


def _row(snap: Snapshot, pgid: str, **kw) -> tuple:
    m = map_pgs(snap, int(pgid.split(".")[0]), **kw)
    r = m[m.pgid == pgid].iloc[0]
    return tuple(r.raw), tuple(r.up), int(r.up_primary), tuple(r.acting), int(r.acting_primary)


def _both(snap: Snapshot, pgid: str, **kw) -> tuple:
    a = _row(snap, pgid, engine="vector", **kw)
    assert a == _row(snap, pgid, engine="reference", **kw)
    return a


def test_the_osd_swaps_with_the_head_of_the_raw_set():
    base = _small()
    raw = _both(base, "1.0")[0]
    got = _both(_small({"pg_upmap_primaries": {"1.0": raw[2]}}), "1.0")
    swapped = (raw[2], raw[1], raw[0])  # a swap, not a rotation
    assert got == (raw, swapped, raw[2], swapped, raw[2])
    # pacific has no pg_upmap_primaries
    assert _both(_small({"pg_upmap_primaries": {"1.0": raw[2]}}), "1.0", release="pacific") == _both(base, "1.0")


@pytest.mark.parametrize("target", ["head", "absent", "out", "past_max_osd", "negative", "none"])
def test_entries_without_effect(target):
    base = _small()
    raw = _both(base, "1.0")[0]
    osd = {"head": raw[0], "absent": next(o for o in range(8) if o not in raw), "out": raw[1],
           "past_max_osd": 8, "negative": -1, "none": NONE}[target]
    snap = _small({"pg_upmap_primaries": {"1.0": osd}}, reweight={raw[1]: 0.0} if target == "out" else None)
    ref = _small(reweight={raw[1]: 0.0} if target == "out" else None)
    assert _both(snap, "1.0") == _both(ref, "1.0")


def test_after_upmap_items_before_down_and_primary_affinity():
    base = _small()
    raw = _both(base, "1.3")[0]
    new = next(o for o in range(8) if o not in raw)
    # pg_upmap_items first: the new OSD can then be made primary
    snap = _small({"pg_upmap_items": {"1.3": [[raw[1], new]]}, "pg_upmap_primaries": {"1.3": new}})
    assert _both(snap, "1.3")[1] == (new, raw[0], raw[2])
    # on the raw set: a down head is dropped after the swap (the OSD stays first)
    snap = _small({"pg_upmap_primaries": {"1.3": raw[2]}}, down=(raw[0],))
    assert _both(snap, "1.3")[1:3] == ((raw[2], raw[1]), raw[2])
    # a down target is swapped in, then dropped: the swap stays, so the second OSD becomes primary (not the
    # old head, as without the entry)
    snap = _small({"pg_upmap_primaries": {"1.3": raw[2]}}, down=(raw[2],))
    assert _both(snap, "1.3")[1:3] == ((raw[1], raw[0]), raw[1])
    # primary affinity 0 of the target: affinity runs after and moves the primary on
    snap = _small({"pg_upmap_primaries": {"1.3": raw[2]}}, affinity={raw[2]: 0.0})
    up, upp = _both(snap, "1.3")[1:3]
    assert upp != raw[2] and up[0] == upp
    # pg_temp/primary_temp decide acting
    snap = _small({"pg_upmap_primaries": {"1.3": raw[2]}, "primary_temp": {"1.3": raw[1]}})
    assert _both(snap, "1.3")[2:] == (raw[2], (raw[2], raw[1], raw[0]), raw[1])


def test_erasure_pools_swap_shards_too():
    """The monitor refuses pg-upmap-primary for EC pools, but ``_apply_upmap`` applies any entry a map holds."""
    base = _small()
    raw = _both(base, "2.1")[0]
    got = _both(_small({"pg_upmap_primaries": {"2.1": raw[3]}}), "2.1")
    assert got[1] == (raw[3], raw[1], raw[2], raw[0])


def test_engines_agree_on_random_maps_with_entries():
    changed = 0
    for seed in range(12):
        snap = _snapshot(seed)
        rng = random.Random(seed)
        pg_num = int(snap.pools.pg_num.iloc[0])
        n = len(snap.osds)
        prim = {f"1.{ps:x}": rng.choice([rng.randrange(n), n + 3, NONE]) for ps in rng.sample(range(pg_num), min(12, pg_num))}
        snap = snap.replace(osdmap=snap.osdmap.replace(pg_upmap_primaries=prim))
        vec = map_pgs(snap, engine="vector")
        ref = map_pgs(snap, engine="reference")
        pd.testing.assert_frame_equal(vec, ref)
        old = map_pgs(snap, release="pacific")
        changed += int((vec.up_primary != old.up_primary).sum())
    assert changed > 0


def test_releases():
    assert PLACEMENT_RELEASES == ("pacific", "quincy", "reef", "squid", "tentacle")
    assert [upmap_primaries_apply(r) for r in (None, *PLACEMENT_RELEASES)] == [True, False, False, True, True, True]
    with pytest.raises(ValueError, match="unknown Ceph release 'octopus'"):
        map_pgs(_small(), release="octopus")
    snap = _small({"pg_upmap_primaries": {"1.0": 1}})
    assert compile_snapshot(snap, release="pacific").pg_upmap_primaries == {}
    assert compile_snapshot(snap).pg_upmap_primaries == {(1, 0): 1}
    # the mapping cache keeps the releases apart
    raw = _both(_small(), "1.0")[0]
    snap = _small({"pg_upmap_primaries": {"1.0": raw[1]}})
    a = map_pool_arrays(snap, 1, reuse=True)[0]
    b = map_pool_arrays(snap, 1, reuse=True, release="pacific")[0]
    assert int(a.up_primary[0]) == raw[1] and int(b.up_primary[0]) == raw[0]


def test_whatif_set_and_remove():
    snap = _small({"require_min_compat_client": "reef"})
    raw = _both(snap, "1.5")[0]
    plan = simulate(snap, [SetPgUpmapPrimary("1.5", raw[1]), RemovePgUpmapPrimary("1.5")])
    m1 = plan.mappings[1]
    assert tuple(m1.loc[m1.pgid == "1.5", "up"].iloc[0]) == (raw[1], raw[0], raw[2])
    assert int(m1.loc[m1.pgid == "1.5", "up_primary"].iloc[0]) == raw[1]
    m2 = plan.mappings[2]
    assert int(m2.loc[m2.pgid == "1.5", "up_primary"].iloc[0]) == raw[0]
    assert SetPgUpmapPrimary("1.5", 3).ceph_commands() == ["ceph osd pg-upmap-primary 1.5 3"]
    assert RemovePgUpmapPrimary("1.5").ceph_commands() == ["ceph osd rm-pg-upmap-primary 1.5"]
    assert SetPgUpmapPrimary("1.0a", 3).apply(snap).osdmap.pg_upmap_primaries == {"1.a": 3}


def test_refusals():
    ok = _small({"require_min_compat_client": "reef"})
    assert refusal(ok, SetPgUpmapPrimary("1.5", 3)) is None
    r = refusal(_small({"require_min_compat_client": "luminous"}), SetPgUpmapPrimary("1.5", 3))
    assert r.error == "EPERM" and r.message.startswith("min_compat_client luminous < reef, which is required for "
                                                       "pg-upmap-primary. Try 'ceph osd set-require-min-compat-client reef'")
    r = refusal(ok, SetPgUpmapPrimary("2.1", 3))
    assert (r.error, r.message) == ("EINVAL", "pg-upmap-primary is only supported for replicated pools")
    assert refusal(ok, SetPgUpmapPrimary("1.10", 3)).message == "pgid '1.10' does not exist"
    assert refusal(ok, SetPgUpmapPrimary("1.5", 30)).message == "osd.30 does not exist"
    # the shared pgid checks still refuse pg-upmap-items as before
    assert refusal(ok, AddUpmapItems("9.0", ((0, 1),))).message == "pgid '9.0' does not exist"


def test_cli_change_spec():
    from pgtools.cli.whatif import _change_spec

    assert _change_spec("upmap-primary:1.5=3") == SetPgUpmapPrimary("1.5", 3)
    assert _change_spec("rm-upmap-primary:1.5") == RemovePgUpmapPrimary("1.5")


def test_optimized_ec_pg_temp_is_refused():
    """Tentacle keeps the pg_temp of an ``allow_ec_optimizations`` pool reordered: not implemented, so refused."""
    from pgtools.errors import UnsupportedFeatureError

    snap = _small({"pg_temp": {"2.1": [0, 1, 2, 3]}})
    assert len(map_pgs(snap)) == 24  # the flag is not set: pg_temp as in every release
    pools = snap.pools.copy()
    pools.loc[pools.pool_id == 2, "flags"] = 1 | (1 << 19)
    flagged = snap.replace(pools=pools)
    for engine in ("vector", "reference"):
        with pytest.raises(UnsupportedFeatureError, match=r"PG 2\.1: pg_temp/primary_temp of a pool with "
                                                           "allow_ec_optimizations"):
            map_pgs(flagged, engine=engine)
    assert len(map_pgs(flagged, 1)) == 16  # other pools map
