"""Annual figures with correlated failures (pgtools.risk.annual + pgtools.risk.mixed) against a brute force.

The brute force is written independently of the package: it walks the CRUSH map for each OSD's ancestors,
enumerates every set of at most 3 units mixed across the failing levels (OSDs, hosts, racks), downs the OSDs
they cover, counts each PG's surviving copies from its acting set against its pool's ``need``, keeps the
lethal sets with no lethal proper subset, and sums the first-order rate of each directly.  The maps' pools
need at most 3 copies down to lose a PG, so no minimal set has more than 3 units (a minimal cover has at most
as many units as copies to cover) and the enumeration is complete.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings

import pandas as pd
import pytest

import pgtools
from pgtools.cli import main
from pgtools.errors import PgtoolsError, PgtoolsWarning
from pgtools.model import NONE
from pgtools.risk import annual_risk, build_copysets
from pgtools.risk.annual import lethal_threshold, parse_levels
from pgtools.risk.copysets import pool_needs
from pgtools.risk.mixed import minimal_cover_patterns
from tests.paths import SAMPLE_DUMPS
from tests.test_risk import generated

YEAR_H = 365.25 * 24


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)
        return fn(*args, **kw)


def racked(per_host: int = 2, hosts_per_rack: int = 2, racks: int = 3):
    """OSDs in hosts in racks; pools: size 2 across OSDs, size 3 across hosts, EC 2+1 across racks, size 3
    across OSDs (hosts and racks repeat in a PG)."""
    n = per_host * hosts_per_rack * racks
    return pgtools.build_cluster(n, [("host", "straw2", per_host), ("rack", "straw2", hosts_per_rack),
                                     ("root", "straw2", 0)],
                                 pools=[{"pool": "r2osd", "size": 2, "failure_domain": "osd", "pg_num": 16,
                                         "bytes": 16 * 10**9},
                                        {"pool": "r3host", "size": 3, "failure_domain": "host", "pg_num": 16,
                                         "bytes": 32 * 10**9},
                                        {"pool": "ec21", "type": "erasure", "k": 2, "m": 1, "pg_num": 16,
                                         "failure_domain": "rack", "bytes": 8 * 10**9},
                                        {"pool": "r3osd", "size": 3, "failure_domain": "osd", "pg_num": 16,
                                         "bytes": 4 * 10**9}])


def brute_annual(snap, rates: dict, fixed_hours: dict, mbps: float, wait: float = 600.0) -> dict:
    """{pool_id or -1: (rate per year, minimal sets of the smallest size, that size, {combination: rate})}."""
    crush = snap.crush

    def unit_of(o, level):
        if level == "osd":
            return ("osd", o)
        return (level, next(b for b in crush.ancestors(o) if crush.types[crush.buckets[b].type_id] == level))

    need = {}
    for r in snap.pools.to_dict("records"):
        need[r["pool_id"]] = int(r["ec_k"]) if r["type"] == "erasure" else 1
    pgs, osd_bytes = [], {}
    for acting, pid, b in zip(snap.pgs["acting"], snap.pgs["pool_id"], snap.pgs["bytes"], strict=True):
        osds = [o for o in acting if o != NONE and o >= 0]
        pgs.append((pid, osds))
        for o in osds:
            osd_bytes[o] = osd_bytes.get(o, 0.0) + b / need[pid]
    covers: dict[tuple, set] = {}
    for o in osd_bytes:
        for level in rates:
            covers.setdefault(unit_of(o, level), set()).add(o)
    units = sorted(covers, key=str)
    window = {}  # years
    for u in units:
        if u[0] in fixed_hours:
            window[u] = fixed_hours[u[0]] / YEAR_H
        else:
            window[u] = (wait + sum(osd_bytes[o] for o in covers[u]) / (mbps * 1e6)) / (YEAR_H * 3600)
    lam = {u: -math.log(1 - rates[u[0]]) for u in units}

    def lethal(fset, pid):
        down = set().union(*(covers[u] for u in fset))
        return any((pid == -1 or q == pid) and len(osds) >= need[q] and sum(o not in down for o in osds) < need[q]
                   for q, osds in pgs)

    out = {}
    for pid in [*need, -1]:
        rate, smallest, by = 0.0, {}, {}
        for r in range(1, 4):
            for s in itertools.combinations(units, r):
                if lethal(s, pid) and not any(lethal(sub, pid) for k in range(1, r)
                                              for sub in itertools.combinations(s, k)):
                    x = sum(lam[u] * math.prod(lam[v] * window[v] for v in s if v != u) for u in s)
                    rate += x
                    smallest[r] = smallest.get(r, 0) + 1
                    kinds = [sum(u[0] == lv for u in s) for lv in rates]
                    label = " + ".join(f"{c} {lv}" for c, lv in zip(kinds, rates, strict=True) if c)
                    by[label] = by.get(label, 0.0) + x
        size = min(smallest, default=0)
        out[pid] = (rate, smallest.get(size, 0), size, by)
    return out


@pytest.mark.parametrize("rates", [{"osd": 0.02, "host": 0.01}, {"osd": 0.02, "host": 0.01, "rack": 0.004},
                                   {"host": 0.03, "rack": 0.01}, {"osd": 0.015, "rack": 0.02}])
def test_mixed_rate_equals_brute_force(rates):
    """Loss rate, minimal sets of the smallest size and the split by kind equal the brute force, per pool."""
    snap = racked()
    assert lethal_threshold(pool_needs(snap)[0]) == 3  # minimal sets have at most 3 units: enumeration complete
    fixed = {"rack": 30.0} if "rack" in rates else {}  # Ceph marks no OSD of a whole down rack out
    got = quiet(annual_risk, snap, afr=rates, window_hours=fixed or None, recovery_mbps=50)
    want = brute_annual(snap, rates, fixed, 50)
    assert list(got["level"].unique()) == ["+".join(rates)]
    assert got["afr"].isna().all() and got["window_hours_mean"].isna().all()
    assert (got["rates"] == ",".join(f"{lv}={a:g}" for lv, a in rates.items())).all()
    comb = got.attrs["combinations"]
    for r in got.to_dict("records"):
        rate, nsets, size, by = want[r["pool_id"]]
        assert rate > 0
        assert r["loss_rate_per_year"] == pytest.approx(rate, rel=1e-9), r["pool"]
        assert (r["lethal_sets"], r["lethal_size"]) == (nsets, size), r["pool"]
        mine = comb[comb["pool_id"] == r["pool_id"]].set_index("combination")["loss_rate_per_year"]
        assert set(mine.index) == set(by)
        for label, x in by.items():
            assert mine[label] == pytest.approx(x, rel=1e-9)


def test_host_failures_dominate_with_failure_domain_osd():
    """Size 2 across OSDs: both copies of some PGs share a host, so one host failure loses data; at a host
    AFR of 0.1 % those sets are every host holding a whole PG, each at rate λ_host, and dwarf the disk pairs.
    Across hosts, the same host AFR adds little to the disks' own rate."""
    rates = {"osd": 0.015, "host": 0.001}
    for domain, expect in (("osd", "dominate"), ("host", "little")):
        snap = pgtools.build_cluster(20, [("host", "straw2", 4), ("root", "straw2", 0)],
                                     pools=[{"pool": "r2", "size": 2, "failure_domain": domain, "pg_num": 128,
                                             "bytes": 10**12}])
        mixed = quiet(annual_risk, snap, afr=rates).set_index("pool_id").loc[-1]
        disks = quiet(annual_risk, snap, afr=rates["osd"]).set_index("pool_id").loc[-1]
        crush = snap.crush
        whole = {crush.ancestors(a[0])[0] for a in snap.pgs["acting"]
                 if crush.ancestors(a[0])[0] == crush.ancestors(a[1])[0]}
        comb = quiet(annual_risk, snap, afr=rates).attrs["combinations"]
        comb = comb[comb["pool_id"] == -1].set_index("combination")
        if expect == "dominate":
            assert len(whole) >= 3 and mixed["lethal_size"] == 1 and mixed["lethal_sets"] == len(whole)
            assert comb.loc["1 host", "loss_rate_per_year"] == pytest.approx(len(whole) * -math.log(0.999), rel=1e-12)
            assert comb.loc["1 host", "share"] > 0.99
            assert mixed["loss_rate_per_year"] > 100 * disks["loss_rate_per_year"]
        else:
            assert not whole and mixed["lethal_size"] == 2 and "1 host" not in comb.index
            assert disks["loss_rate_per_year"] < mixed["loss_rate_per_year"] < 1.5 * disks["loss_rate_per_year"]
            assert comb.loc["2 osd", "share"] > 0.66


@pytest.mark.parametrize(("maker", "level", "mbps"), [
    (lambda: generated(8, hosts=5, per_host=2, kinds=("r3", "r2", "ec21", "bad")), "osd", 0.001),
    (lambda: generated(3, hosts=6, per_host=2), "host", 0.001),
    (racked, "osd", 50), (racked, "host", 50), (racked, "rack", None)])
def test_single_level_unchanged(maker, level, mbps):
    """One level on the snapshot (the mixed-set path) equals the copysets path (Lethal's minimal sets)."""
    snap = maker()
    windows = {"window_hours": 30.0} if mbps is None else {"recovery_mbps": mbps}  # tiny bytes: slow bandwidth
    cs = quiet(build_copysets, snap, level, jmax=lethal_threshold(pool_needs(snap)[0]))
    old = quiet(annual_risk, cs, afr=0.02, down_out_interval=600, **windows)
    new = quiet(annual_risk, snap, level=level, afr=0.02, **windows)
    assert (old["level"] == level).all() and (new["level"] == level).all()
    pd.testing.assert_frame_equal(old.drop(columns=["loss_rate_per_year", "p_loss_year", "mttdl_years"]),
                                  new.drop(columns=["loss_rate_per_year", "p_loss_year", "mttdl_years"]))
    for col in ("loss_rate_per_year", "p_loss_year", "mttdl_years"):
        assert new[col].to_numpy() == pytest.approx(old[col].to_numpy(), rel=1e-12)
    assert (new["loss_rate_per_year"] > 0).all()


def test_minimal_covers():
    """Abstract minimal covers: a unit adding nothing is never in one; all minimal, none missing."""
    # positions 0,1,2; units: osd0, osd1, osd2, host{0,1}, host{2}
    covers = [0b001, 0b010, 0b100, 0b011, 0b100]
    got = set(minimal_cover_patterns(covers, 3))
    want = set()

    def cov(t):
        m = 0
        for a in t:
            m |= covers[a]
        return bin(m).count("1")

    for r in range(1, 4):
        for s in itertools.combinations(range(5), r):
            if cov(s) >= 3 and all(cov(sub) < 3 for sub in itertools.combinations(s, r - 1)):
                want.add(s)
    assert got == want == {(0, 1, 2), (0, 1, 4), (2, 3), (3, 4)}


def test_windows_ceph_does_not_start():
    """A rack (or a host alone in its rack) is never marked out by Ceph, nor anything with a down-out
    interval of 0: refused without a fixed window, named."""
    snap = racked()
    with pytest.raises(PgtoolsError, match=r"rack.*does not mark its OSDs out.*window_hours for rack"):
        quiet(annual_risk, snap, afr={"osd": 0.01, "rack": 0.01})
    ok = quiet(annual_risk, snap, afr={"osd": 0.01, "rack": 0.01}, down_out_subtree_limit="root")
    assert ok["loss_rate_per_year"].iloc[-1] > 0
    lone = racked(hosts_per_rack=1)
    with pytest.raises(PgtoolsError, match=r"host.*a whole rack subtree is down"):
        quiet(annual_risk, lone, level="host")
    assert quiet(annual_risk, racked(), level="host")["loss_rate_per_year"].iloc[-1] > 0  # 2 hosts per rack
    with pytest.raises(PgtoolsError, match="mon_osd_down_out_interval is 0"):
        quiet(annual_risk, snap, down_out_interval=0)
    for bad in (1.5, 1.0, 0.0, -0.01):
        with pytest.raises(PgtoolsError, match=r"afr -?[0-9.]+ for host: .* greater than 0 and less than 1"):
            quiet(annual_risk, snap, afr={"osd": 0.01, "host": bad})
    with pytest.raises(PgtoolsError, match="not a failing level"):
        quiet(annual_risk, snap, afr={"osd": 0.01}, window_hours={"host": 3})
    assert parse_levels("0.015", "--afr", "host") == {"host": 0.015}
    assert parse_levels("osd=0.015, host=0.01", "--afr", "osd") == {"osd": 0.015, "host": 0.01}
    with pytest.raises(PgtoolsError, match="given twice"):
        parse_levels("osd=1,device=2", "--afr", "osd")
    with pytest.raises(PgtoolsError, match="not a number"):
        parse_levels("osd=x", "--afr", "osd")


def test_cli_mixed_levels(capsys):
    """--afr LEVEL=RATE pairs combine levels (rows say which); --afr 0.015 stays the --level unit."""
    cap = str(SAMPLE_DUMPS / "mixed")
    assert main(["risk", cap, "--failures", "1", "--afr", "osd=0.015,host=0.01", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["pool"]: r for r in doc["annual"]}
    assert rows["(all)"]["level"] == "osd+host" and rows["(all)"]["rates"] == "osd=0.015,host=0.01"
    snap = quiet(pgtools.load, SAMPLE_DUMPS / "mixed")
    want = quiet(annual_risk, snap, afr={"osd": 0.015, "host": 0.01}).set_index("pool")
    assert rows["(all)"]["loss_rate_per_year"] == pytest.approx(want.loc["(all)", "loss_rate_per_year"], rel=1e-12)
    kinds = {r["combination"] for r in doc["annual_combinations"] if r["pool_id"] == -1}
    assert "1 osd + 1 host" in kinds and "2 host" in kinds
    assert main(["risk", cap, "--failures", "1", "--level", "host", "--afr", "0.02", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    single = quiet(annual_risk, snap, level="host", afr=0.02).set_index("pool")
    row = next(r for r in doc["annual"] if r["pool"] == "(all)")
    assert row["level"] == "host" and row["afr"] == 0.02
    assert row["loss_rate_per_year"] == pytest.approx(single.loc["(all)", "loss_rate_per_year"], rel=1e-12)
    assert main(["risk", cap, "--failures", "1", "--afr", "osd=0.015,rack=0.005"]) == 2
    assert "window_hours for rack" in capsys.readouterr().err
    assert main(["risk", cap, "--failures", "1", "--afr", "osd=0.015,rack=0.005", "--window-hours", "rack=48"]) == 0
    text = capsys.readouterr().out
    assert "osd+rack failing" in text and "rack 48 h" in text and "by kind of minimal lethal set" in text
