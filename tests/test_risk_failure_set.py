"""pgtools.risk.failure_set (one given failure set) against a plain loop over the PGs' acting sets."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import pgtools
from pgtools.errors import PgtoolsError, PgtoolsWarning
from pgtools.model import NONE, Snapshot
from pgtools.risk import build_copysets, failure_risk, failure_set
from tests.paths import SAMPLE_DUMPS
from tests.test_risk import generated


def unit_names(snap: Snapshot, level: str) -> dict[int, str]:
    if level == "osd":
        return {int(o): f"osd.{int(o)}" for o in snap.osds["osd_id"]}
    if snap.crush is None:
        return {int(o): str(h) for o, h in zip(snap.osds["osd_id"], snap.osds["host"], strict=True)}
    c = snap.crush
    return {o: next(c.item_name(b) for b in c.ancestors(o) if c.types[c.buckets[b].type_id] == level)
            for o in c.devices}


def brute_one(snap: Snapshot, level: str, failed: set[str]) -> dict[int, tuple[int, float, int]]:
    """{pool_id (-1: all): (PGs lost, bytes lost, PGs inactive incl. lost)} when the units ``failed`` fail."""
    unit = unit_names(snap, level)
    pools = {r["pool_id"]: (int(r["min_size"]), int(r["ec_k"]) if r["type"] == "erasure" else 1)
             for r in snap.pools.to_dict("records")}
    out = {p: [0, 0.0, 0] for p in [*pools, -1]}
    for acting, pid, b in zip(snap.pgs["acting"], snap.pgs["pool_id"], snap.pgs["bytes"], strict=True):
        osds = [o for o in acting if o != NONE and o >= 0]
        ms, need = pools[pid]
        left = sum(unit[o] not in failed for o in osds)
        for key in (pid, -1):  # a measure the PG was short of before the failure does not count it
            out[key][0] += len(osds) >= need and left < need
            out[key][1] += b if len(osds) >= need and left < need else 0.0
            out[key][2] += len(osds) >= ms and left < ms
    return {p: tuple(v) for p, v in out.items()}


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)
        return fn(*args, **kw)


def check(df, ref) -> None:
    got = df.set_index("pool_id")
    assert set(got.index) == set(ref)
    for pid, (lost, nbytes, inact) in ref.items():
        assert (got.loc[pid, "pgs_lost"], got.loc[pid, "pgs_inactive"]) == (lost, inact), pid
        assert got.loc[pid, "bytes_lost"] == pytest.approx(nbytes, abs=1e-9), pid


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("level", ["osd", "host"])
def test_every_small_set_equals_brute_force(seed, level):
    snap = generated(seed, kinds=("r3", "r2", "ec42", "ec21", "bad", "r1"))
    names = sorted(set(unit_names(snap, level).values()))
    cs = quiet(build_copysets, snap, level)  # tabulated to the span: any set size
    seen_lost = seen_inactive = 0
    for k in (1, 2, 3):
        for failed in itertools.islice(itertools.combinations(names, k), 40):
            ref = brute_one(snap, level, set(failed))
            check(failure_set(cs, failed), ref)
            seen_lost += ref[-1][0] > 0
            seen_inactive += ref[-1][2] > ref[-1][0]
    assert seen_lost and seen_inactive  # the comparison saw both kinds of damage
    # straight from the snapshot, names in any order and repeated
    ref = brute_one(snap, level, {names[2], names[0]})
    check(quiet(failure_set, snap, [names[2], names[0], names[2]], level), ref)


def test_agrees_with_worst_failures_and_the_maximum():
    snap = generated(3, hosts=5, kinds=("r3", "r2", "ec21"))
    df = quiet(failure_risk, snap, level="host", failures=(2,), worst=10)
    for w in df.attrs["worst_sets"][2]:
        one = failure_set(quiet(build_copysets, snap, "host"), w["units"]).set_index("pool_id").loc[-1]
        assert (one["pgs_lost"], one["pgs_inactive"]) == (w["pgs_lost"], w["pgs_inactive"])
    best = max(failure_set(quiet(build_copysets, snap, "host"), s).set_index("pool_id").loc[-1, "pgs_lost"]
               for s in itertools.combinations(sorted(set(snap.osds["host"])), 2))
    assert best == df.set_index("pool_id").loc[-1, "max_pgs_lost"]


def test_crush_ids_names_and_units_without_data():
    snap = pgtools.load(SAMPLE_DUMPS / "mixed")
    racks = sorted(set(unit_names(snap, "rack").values()))
    by_name = quiet(failure_set, snap, racks[:2], "rack")
    check(by_name, brute_one(snap, "rack", set(racks[:2])))
    cs = quiet(build_copysets, snap, "rack")
    rack_ids = [int(cs.unit_ids[list(cs.units).index(r)]) for r in racks[:2]]
    assert failure_set(cs, rack_ids).equals(failure_set(cs, racks[:2]))
    osd = int(snap.osds["osd_id"].iloc[0])
    assert failure_set(quiet(build_copysets, snap, "osd"), [osd]).equals(
        failure_set(quiet(build_copysets, snap, "osd"), [f"osd.{osd}"]))
    # a host of the map that holds none of one pool's data (mixed: n5 and pool 2) costs that pool nothing; it
    # holds other pools' data, so it is a failure unit all the same (the universe is every pool's units)
    cs2 = quiet(build_copysets, snap, "host", pools=[2])
    assert "n5" in set(map(str, cs2.units))
    df = quiet(failure_set, snap, ["n5"], "host", pools=[2])
    assert list(df["units"]) == ["n5", "n5"] and (df[["pgs_lost", "pgs_inactive"]] == 0).all().all()
    assert failure_set(cs2, ["n5"]).equals(df)
    # osd.5 holds no data at all: named from the capture it costs nothing, copysets alone cannot tell it
    # from a typo
    df = quiet(failure_set, snap, ["osd.5"], "osd", pools=[2])
    assert list(df["units"]) == ["osd.5", "osd.5"] and (df[["pgs_lost", "pgs_inactive"]] == 0).all().all()
    with pytest.raises(PgtoolsError, match="'osd.5' is not a osd holding data"):
        failure_set(quiet(build_copysets, snap, "osd", pools=[2]), ["osd.5"])

def test_errors():
    snap = generated(1)
    with pytest.raises(PgtoolsError, match="'nohost' is not a host holding data"):
        quiet(failure_set, snap, ["nohost"], "host")
    with pytest.raises(PgtoolsError, match="at least one failed unit"):
        quiet(failure_set, snap, [], "host")
    cs = quiet(build_copysets, snap, "osd", jmax=1)
    with pytest.raises(PgtoolsError, match="tabulated up to 1 failures; rebuild them for 2"):
        failure_set(cs, ["osd.0", "osd.1"])
    assert np.isclose(failure_set(cs, ["osd.0"])["pgs"].iloc[-1], len(snap.pgs))
