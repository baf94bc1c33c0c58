"""Durability figures (pgtools.risk) against a brute-force count over every K-set of failing units.

The brute force is written independently of the package: for each K-subset of the units that hold data, a
plain loop over the PGs' acting sets counts the copies left (OSDs whose unit did not fail) against the pool's
``need`` (1, or k) and ``min_size``.  Generated maps mix replicated pools (size 2 and 3), EC 4+2 and 2+1,
several OSDs per host, a pool whose "rule" ignores hosts (two copies on one host), EC holes and short sets.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import pgtools
from pgtools.cli import main
from pgtools.errors import PgtoolsError, PgtoolsWarning
from pgtools.mgr.options import with_overrides
from pgtools.model import NONE, Snapshot, pgid_str
from pgtools.placement import map_pgs
from pgtools.risk import annual_risk, build_copysets, domain_check, failure_risk, worst_failures
from tests.paths import SAMPLE_DUMPS, TEST_DATA

TOY = TEST_DATA / "risk_toy"


def generated(seed: int, hosts: int = 5, per_host: int = 2, pg_num: int = 24, kinds=("r3", "r2", "ec42", "bad")
              ) -> Snapshot:
    """A random map: each pool places its PGs on distinct hosts (``bad``: on any OSDs, hosts repeat)."""
    rng = np.random.default_rng(seed)
    n = hosts * per_host
    osds = pd.DataFrame({"osd_id": np.arange(n), "name": [f"osd.{i}" for i in range(n)],
                         "host": [f"h{i // per_host}" for i in range(n)], "up": True, "in": True})
    spec = {"r3": ("replicated", 3, 2, None), "r2": ("replicated", 2, 1, None), "r1": ("replicated", 1, 1, None),
            "ec42": ("erasure", 6, 5, (4, 2)), "ec21": ("erasure", 3, 2, (2, 1)), "bad": ("replicated", 3, 2, None)}
    pools, rows = [], []
    for pid, kind in enumerate(kinds, start=1):
        typ, size, ms, km = spec[kind]
        pools.append({"pool_id": pid, "pool": kind, "type": typ, "size": size, "min_size": ms,
                      "ec_k": km[0] if km else pd.NA, "ec_m": km[1] if km else pd.NA, "pg_num": pg_num})
        for ps in range(pg_num):
            if kind == "bad":
                acting = [int(o) for o in rng.choice(n, size=size, replace=False)]
            else:
                hs = rng.choice(hosts, size=min(size, hosts), replace=False)
                acting = [int(h * per_host + rng.integers(per_host)) for h in hs]
            if typ == "erasure" and rng.random() < 0.1:
                acting[rng.integers(len(acting))] = NONE  # a hole
            elif typ == "replicated" and size > 1 and rng.random() < 0.1:
                acting = acting[:-1]  # a short set
            rows.append({"pgid": pgid_str(pid, ps), "pool_id": pid, "ps": ps, "pool": kind, "state": "active",
                         "up": tuple(acting), "acting": tuple(acting), "bytes": int(rng.integers(1, 1000))})
    return Snapshot(pgs=pd.DataFrame(rows), pools=pd.DataFrame(pools), osds=osds)


def brute(snap: Snapshot, level: str, k: int) -> dict:
    """{(pool_id or -1, figure): value} over every K-set of units; figures as failure_risk names them."""
    unit = {int(o): (f"osd.{int(o)}" if level == "osd" else str(h)) for o, h in zip(snap.osds["osd_id"],
                                                                                  snap.osds["host"], strict=True)}
    if snap.crush is not None and level != "osd":
        unit = {o: next(snap.crush.item_name(b) for b in snap.crush.ancestors(o)
                        if snap.crush.types[snap.crush.buckets[b].type_id] == level) for o in snap.crush.devices}
    pools = {}
    for rec in snap.pools.to_dict("records"):
        ec = rec["type"] == "erasure"
        pools[rec["pool_id"]] = (int(rec["min_size"]), int(rec["ec_k"]) if ec else 1)
    pgs = []
    for acting, pid, b in zip(snap.pgs["acting"], snap.pgs["pool_id"], snap.pgs["bytes"], strict=True):
        osds = [o for o in acting if o != NONE and o >= 0]
        pgs.append((pid, [unit[o] for o in osds], b))
    units = sorted({u for _, us, _ in pgs for u in us})
    keys = [*pools, -1]
    stats = {(p, f): [] for p in keys for f in ("lost", "bytes", "inactive")}
    for failed in itertools.combinations(units, k):
        failed = set(failed)
        lost = dict.fromkeys(keys, 0)
        nbytes = dict.fromkeys(keys, 0)
        inact = dict.fromkeys(keys, 0)
        for pid, us, b in pgs:
            ms, need = pools[pid]
            left = sum(u not in failed for u in us)
            if len(us) >= need and left < need:
                for key in (pid, -1):
                    lost[key] += 1
                    nbytes[key] += b
            if len(us) >= ms and left < ms:
                for key in (pid, -1):
                    inact[key] += 1
        for key in keys:
            stats[key, "lost"].append(lost[key])
            stats[key, "bytes"].append(nbytes[key])
            stats[key, "inactive"].append(inact[key])
    out = {}
    for key in keys:
        lo, by, ia = (np.array(stats[key, f]) for f in ("lost", "bytes", "inactive"))
        out[key] = {"n_sets": len(lo), "p_any_lost": (lo > 0).mean(), "expected_pgs_lost": lo.mean(),
                    "max_pgs_lost": lo.max(), "expected_bytes_lost": by.mean(), "p_any_inactive": (ia > 0).mean(),
                    "expected_pgs_inactive": ia.mean(), "max_pgs_inactive": ia.max()}
    return out


def check(df: pd.DataFrame, ref: dict, k: int, exact_only: bool = True) -> None:
    rows = df[df["failures"] == k].set_index("pool_id")
    assert set(rows.index) == set(ref)
    for pid, want in ref.items():
        got = rows.loc[pid]
        for name, value in want.items():
            if exact_only or (name.startswith("p_any") and got["method" if "lost" in name else "inactive_method"]
                              == "exact") or name.startswith(("expected", "n_sets")):
                assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (pid, k, name)


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)
        return fn(*args, **kw)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("level", ["osd", "host"])
def test_enumeration_equals_brute_force(seed, level):
    snap = generated(seed)
    df = quiet(failure_risk, snap, level=level, failures=(1, 2, 3))
    assert (df["method"] == "exact").all() and (df["inactive_method"] == "exact").all()
    for k in (1, 2, 3):
        check(df, brute(snap, level, k), k)


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_counting_paths_equal_brute_force(seed):
    """enum_max=0: no enumeration; K = t and K = t + 1 by counting minimal lethal sets, the rest sampled."""
    snap = generated(seed, hosts=6, per_host=2, kinds=("r3", "ec42", "r2"))
    df = quiet(failure_risk, snap, level="osd", failures=(1, 2, 3, 4), enum_max=0, trials=20_000)
    exact = df[(df["method"] == "exact")]
    assert len(exact) >= 8  # K = 1, 2 always; K = 3 for some columns
    for k in (1, 2, 3, 4):
        check(df, brute(snap, "osd", k), k, exact_only=False)
        rows = df[df["failures"] == k]
        for _, r in rows.iterrows():  # an exact max equals the brute force's; a sampled one is at most it
            ref = brute_cache(seed, k)[r["pool_id"]]
            for m, meth in (("max_pgs_lost", "max_method"), ("max_pgs_inactive", "inactive_max_method")):
                if r[meth] == "exact":
                    assert r[m] == ref[m], (k, r["pool"], m)
                else:
                    assert r[m] <= ref[m]
        ws = df.attrs["worst_sets"][k]
        if ws and ws[0]["method"] == "exact":  # the worst set found loses the most PGs
            assert ws[0]["pgs_lost"] == brute_cache(seed, k)[-1]["max_pgs_lost"]


_BRUTE: dict = {}


def brute_cache(seed: int, k: int) -> dict:
    if (seed, k) not in _BRUTE:
        _BRUTE[seed, k] = brute(generated(seed, hosts=6, per_host=2, kinds=("r3", "ec42", "r2")), "osd", k)
    return _BRUTE[seed, k]


def test_monte_carlo_within_its_interval():
    """On a map too big to enumerate cheaply for K = 4, sampling brackets the exact (enumerated) figure."""
    snap = generated(11, hosts=8, per_host=3, pg_num=64, kinds=("r3", "r2"))
    exact = quiet(failure_risk, snap, level="osd", failures=(4,))
    sampled = quiet(failure_risk, snap, level="osd", failures=(4,), enum_max=0, trials=200_000, seed=3)
    assert (exact["method"] == "exact").all()
    both = exact.merge(sampled, on="pool_id", suffixes=("", "_mc"))
    mc = both[both["method_mc"] == "sampled"]
    assert len(mc)
    for _, r in mc.iterrows():
        assert r["ci_low_mc"] <= r["p_any_lost"] <= r["ci_high_mc"]
        assert r["ci_high_mc"] - r["ci_low_mc"] < 0.01
    for _, r in both.iterrows():
        assert r["expected_pgs_lost_mc"] == pytest.approx(r["expected_pgs_lost"], rel=1e-12)


def test_two_copies_on_one_host():
    snap = generated(2)
    dc = quiet(domain_check, snap, "host").set_index("pool")
    assert dc.loc["bad", "pgs_shared_unit"] > 0 and not dc.loc["bad", "separated"]
    assert dc.loc["r3", "separated"] and dc.loc["ec42", "max_copies_per_unit"] == 1
    # one host failure loses a size-2 copyset placed on one host: the brute force agrees (checked above);
    # here: the worst host takes the most
    w = quiet(worst_failures, snap, "host", 1, n=3)
    ref = brute(snap, "host", 1)[-1]
    assert w["pgs_lost"].iloc[0] == ref["max_pgs_lost"] and (w["method"] == "exact").all()


def test_ceph_docs_toy():
    """doc/rados/operations/placement-groups.rst: 10 OSDs, 512 PGs, size 3, ~150 PGs per OSD (CRUSH-generated map).

    The docs estimate ~17 PGs left with one copy after a second failure and ~2 lost after a third; counted on
    the map, any two failed OSDs leave 512 * C(3,2) / C(10,2) = 34.1 PGs on one copy on average and any three
    lose 512 / C(10,3) = 4.27 (the docs' 150 / 9 counts each PG's two other copies once): exact, whatever the
    placement; the maxima depend on this map.
    """
    snap = pgtools.load(TOY)
    df = quiet(failure_risk, snap, failures=(1, 2, 3)).set_index(["failures", "pool_id"])
    cs = quiet(build_copysets, snap, "osd")
    assert cs.pools["pgs"].iloc[0] == 512 and cs.n == 10
    per_osd = 512 * 3 / 10
    assert per_osd == pytest.approx(153.6)
    assert df.loc[(2, -1), "expected_pgs_inactive"] == pytest.approx(512 * 3 / 45)
    assert df.loc[(3, -1), "expected_pgs_lost"] == pytest.approx(512 / 120)
    assert df.loc[(1, -1), "p_any_inactive"] == 0 and df.loc[(2, -1), "p_any_lost"] == 0
    assert df.loc[(3, -1), "p_any_lost"] == 1.0  # 512 PGs over 120 triples: every triple holds some PG
    snap_pgs = snap.replace(pgs=map_pgs(snap).assign(bytes=0))
    ref = brute(snap_pgs, "osd", 3)[-1]
    assert df.loc[(3, -1), "max_pgs_lost"] == ref["max_pgs_lost"]


def test_mixed_capture_racks_and_ec_profile():
    snap = pgtools.load(SAMPLE_DUMPS / "mixed")
    df = quiet(failure_risk, snap, level="rack", failures=(1, 2))
    for k in (1, 2):
        check(df, brute(snap, "rack", k), k)


def test_missing_profile_warns_and_assumes_min_size():
    snap = generated(3, hosts=6, kinds=("ec42",))
    pools = snap.pools.assign(ec_k=pd.NA, ec_m=pd.NA)
    with pytest.warns(PgtoolsWarning, match="assumed k = min_size = 5"):
        build_copysets(snap.replace(pools=pools), "osd")


def test_more_failures_than_units():
    snap = pgtools.load(SAMPLE_DUMPS / "mixed")
    with pytest.warns(PgtoolsWarning, match="only 3 racks hold data: no figures for 4, 5 failures"):
        df = failure_risk(snap, level="rack", failures=(1, 4, 3, 5))
    assert sorted(df["failures"].unique()) == [1, 3]
    assert df[df["failures"] == 3]["p_any_inactive"].max() == 1.0  # every rack down


def test_bad_level():
    snap = pgtools.load(SAMPLE_DUMPS / "mixed")
    with pytest.raises(PgtoolsError, match="no bucket type 'shelf'"):
        quiet(failure_risk, snap, level="shelf")
    with pytest.raises(PgtoolsError, match=r"osd.0, .* \(\+8 more\): holds data but has no row above it"):
        quiet(failure_risk, snap, level="row")


def test_cli(capsys):
    assert main(["risk", str(SAMPLE_DUMPS / "mixed"), "--level", "host", "--failures", "1,2",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    by_k = {r["failures"]: r for r in out["results"]}
    assert set(by_k) == {1, 2}
    assert by_k[2]["p_any_lost"] == pytest.approx(1.0) and by_k[2]["method"] == "exact"
    assert by_k[2]["worst_sets"][0]["pgs_lost"] == by_k[2]["max_pgs_lost"]
    assert main(["risk", str(SAMPLE_DUMPS / "mixed"), "--failures", "2"]) == 0
    text = capsys.readouterr().out
    assert "P(any lost)" in text and "(all)" in text and "osd." in text  # the table and the worst sets
    assert main(["risk", str(SAMPLE_DUMPS / "mixed"), "--level", "row"]) == 2


@pytest.mark.parametrize(("level", "down_out"), [("osd", None), ("host", 1800)])
def test_annual_rate_equals_brute_force_over_minimal_lethal_sets(level, down_out):
    """The loss rate sums, over the minimal lethal sets found by brute force, the first-order rate that all
    their units are down at once (each unit down for mon_osd_down_out_interval plus its bytes / bandwidth;
    the interval is Ceph's default 600 s, or the capture's setting)."""
    snap = generated(8, hosts=5, per_host=2, kinds=("r3", "r2", "ec21", "bad"))
    if down_out is not None:
        snap = with_overrides(snap, {"mon_osd_down_out_interval": down_out})
    afr, mbps = 0.02, 0.001  # a slow "bandwidth" for the tiny byte counts: windows of hours
    got = quiet(annual_risk, snap, level=level, afr=afr, recovery_mbps=mbps).set_index("pool_id")
    unit = {o: (f"osd.{o}" if level == "osd" else h) for o, h in zip(snap.osds["osd_id"], snap.osds["host"],
                                                                      strict=True)}
    spec = {r["pool_id"]: (int(r["ec_k"]) if r["type"] == "erasure" else 1) for r in snap.pools.to_dict("records")}
    pgs, held = [], {}
    for acting, pid, b in zip(snap.pgs["acting"], snap.pgs["pool_id"], snap.pgs["bytes"], strict=True):
        us = [unit[o] for o in acting if o != NONE and o >= 0]
        pgs.append((pid, us))
        for u in us:
            held[u] = held.get(u, 0.0) + b / spec[pid]
    lam = -math.log(1 - afr)  # per year
    wait = 600 if down_out is None else down_out
    window = {u: (wait + b / (mbps * 1e6)) / (365.25 * 24 * 3600) for u, b in held.items()}  # years
    units = sorted(held)

    def lethal(fset, pid):
        return any((pid == -1 or q == pid) and len(us) >= spec[q] and sum(u not in fset for u in us) < spec[q]
                   for q, us in pgs)

    for pid in [*spec, -1]:
        rate = 0.0
        for r in range(1, 4):
            for s in itertools.combinations(units, r):
                if lethal(set(s), pid) and not any(lethal(set(sub), pid) for k in range(1, r)
                                                   for sub in itertools.combinations(s, k)):
                    rate += sum(lam * math.prod(lam * window[v] for v in s if v != u) for u in s)
        assert got.loc[pid, "loss_rate_per_year"] == pytest.approx(rate, rel=1e-9, abs=1e-300), pid
        assert got.loc[pid, "p_loss_year"] == pytest.approx(-math.expm1(-rate), rel=1e-9, abs=1e-300)


def test_annual_toy_closed_form():
    """Every one of the toy's 120 OSD triples holds a PG: rate = 120 * 3 * λ³ * T² with a fixed window."""
    snap = pgtools.load(TOY)
    got = quiet(annual_risk, snap, window_hours=24).set_index("pool_id").loc[-1]
    lam, t = -math.log(1 - 0.015), 1 / 365.25
    assert got["lethal_sets"] == 120 and got["lethal_size"] == 3
    assert got["loss_rate_per_year"] == pytest.approx(120 * 3 * lam**3 * t**2, rel=1e-12)
    with pytest.raises(PgtoolsError, match="no PG byte counts"):
        quiet(annual_risk, snap)


def test_cli_impossible_failure_count_is_one_error_line(capsys):
    """More failures than units holding data: one error line (not a warning repeating it), exit 2."""
    assert main(["risk", str(SAMPLE_DUMPS / "mixed"), "--level", "host", "--failures", "7"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["pgtools: error: only 6 hosts hold data: no figures for 7 failures"]
    assert main(["risk", str(SAMPLE_DUMPS / "mixed"), "--level", "bogus"]) == 2
    err = capsys.readouterr().err
    known = err.split("known: ")[1].rstrip(")\n").split(", ")
    assert len(known) == len(set(known)) and "osd" in known


@pytest.mark.parametrize("cmd", [["risk"], ["sweep", "--pg-num", "rbd=4"]])
@pytest.mark.parametrize("name", ["osd_df.txt", "osd_tree.txt", "crush_dump.json"])
def test_cli_capture_without_pools_is_one_error_line(capsys, cmd, name):
    """A dump that holds no pools (an OSD table, a CRUSH map): one error line saying what to add, exit 2."""
    assert main([cmd[0], str(SAMPLE_DUMPS / "seedlike_max300" / name), *cmd[1:], "--failures", "2"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pgtools: error: ")
    assert "pools" in lines[0] and "NaN" not in lines[0]
    with pytest.raises(PgtoolsError, match="no pools"):
        quiet(failure_risk, pgtools.load([SAMPLE_DUMPS / "seedlike_max300" / name]))
