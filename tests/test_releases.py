"""pgtools.mgr.releases: which release applies to a capture, its defaults, and the behaviour that differs by release."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import pgtools
from pgtools.errors import PgtoolsError, PgtoolsWarning
from pgtools.io import crushmap_from_text, versions
from pgtools.mgr import releases
from pgtools.mgr.autoscale import autoscale_status, release_for
from pgtools.mgr.autoscale_output import autoscale_status_json, format_autoscale_status, pool_pg_count_checks
from pgtools.mgr.health import check_pg_num
from pgtools.mgr.options import resolve, settings_frame
from pgtools.model import Snapshot
from tests.paths import SAMPLE_DUMPS
from tests.test_autoscale import _snap


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PgtoolsWarning)
        return fn(*a, **kw)


# ------------------------------------------------------------------------------------------- choosing
def test_the_capture_names_its_release_and_version():
    snap = _quiet(pgtools.load, SAMPLE_DUMPS / "mixed")
    c = releases.choose(snap)
    assert (c.name, c.source, c.assumed, c.capture_version, c.label) == ("pacific", "capture", False, "16.2.15",
                                                                          "pacific 16.2.15")
    assert releases.choose(snap, "reef").source == "argument"
    forced = releases.with_ceph_release(snap, "Tentacle")
    assert releases.choose(forced).name == "tentacle" and releases.choose(forced).source == "argument"
    assert releases.with_ceph_release(snap, None) is snap
    with pytest.raises(PgtoolsError, match="unknown Ceph release 'bobtail'"):
        releases.with_ceph_release(snap, "bobtail")


def test_a_capture_without_a_release_is_the_newest_assumed():
    c = releases.choose(Snapshot())
    assert (c.name, c.assumed, c.candidates) == ("tentacle", True, releases.MODELLED)
    lower = releases.choose(Snapshot(meta={"release": "reef+"}))  # a format only bounds it
    assert (lower.name, lower.candidates) == ("tentacle", ("reef", "tentacle"))
    with pytest.warns(PgtoolsWarning, match=r"the autoscaler: .* assuming tentacle 20.2.4.*pacific, reef, tentacle"):
        assert release_for(Snapshot()) == "tentacle"
    # nothing to warn about when the candidates agree
    assert _quiet(release_for, Snapshot(meta={"release": "tentacle+"})) == "tentacle"
    # the defaults of the three releases agree: no warning for them
    assert _quiet(resolve, Snapshot(), "mon_max_pg_per_osd").source == "tentacle default"


def test_versions_keeps_the_monitors_version_number():
    obj = {"mon": {"ceph version 18.2.4 (aaa) reef (stable)": 2, "ceph version 18.2.7 (bbb) reef (stable)": 1},
           "osd": {"ceph version 20.2.4 (ccc) tentacle (stable)": 3},
           "overall": {"ceph version 18.2.4 (aaa) reef (stable)": 2, "ceph version 20.2.4 (ccc) tentacle (stable)": 3}}
    frag = versions.parse(json.dumps(obj))
    assert (frag.release, frag.extra["ceph_version"]) == ("reef", "18.2.4")
    assert versions.version_of("ceph version 16.2.15 (618f) pacific (stable)") == "16.2.15"
    assert versions.version_of("nonsense") is None


# ------------------------------------------------------------------------------------------- defaults
def test_defaults_table_has_provenance():
    df = releases.defaults_frame()
    assert set(df.release) == set(releases.MODELLED)
    row = df[(df.option == "mon_osd_max_creating_pgs") & (df.release == "tentacle")].iloc[0]
    assert (row.ceph_name, row.value, row.file, row.tag) == ("mgr_max_pg_creating", 1024,
                                                             "src/common/options/mgr.yaml.in", "v20.2.4")
    assert releases.default("mon_max_pg_per_osd", "pacific").provenance == "src/common/options.cc @ v16.2.15"
    assert releases.default("mon_target_pg_per_osd", "reef").file == "src/common/options/mgr.yaml.in"


def test_renamed_option_is_read_under_the_release_name():
    cfg_new = {"mgr_max_pg_creating": "512"}
    cfg_old = {"mon_osd_max_creating_pgs": "256"}
    tent = Snapshot(config=cfg_new, meta={"release": "tentacle"})
    st = _quiet(resolve, tent, "mon_osd_max_creating_pgs")
    assert (st.name, st.value, st.source) == ("mgr_max_pg_creating", 512, "config dump")
    assert _quiet(resolve, tent, "mgr_max_pg_creating").value == 512  # Ceph's new name is accepted too
    # a Tentacle cluster does not read the old name
    with pytest.warns(PgtoolsWarning, match="mon_osd_max_creating_pgs: config dump sets '256', but Ceph tentacle "
                                            "20.2.4 reads mgr_max_pg_creating instead; not used"):
        st = resolve(Snapshot(config=cfg_old, meta={"release": "tentacle"}), "mon_osd_max_creating_pgs")
    assert (st.value, st.source) == (1024, "tentacle default")
    reef = _quiet(resolve, Snapshot(config=cfg_old, meta={"release": "reef"}), "mon_osd_max_creating_pgs")
    assert (reef.name, reef.value) == ("mon_osd_max_creating_pgs", 256)
    # release assumed: the name the config dump uses is taken
    assert _quiet(resolve, Snapshot(config=cfg_old), "mon_osd_max_creating_pgs").value == 256
    frame = _quiet(settings_frame, tent, ["mon_osd_max_creating_pgs"])
    assert frame.iloc[0].to_dict()["name"] == "mgr_max_pg_creating"


def test_autoscaler_threshold_is_a_module_option_from_reef():
    cfg = {"mgr/pg_autoscaler/threshold": "2.0"}
    assert _quiet(resolve, Snapshot(config=cfg, meta={"release": "reef"}), "mgr/pg_autoscaler/threshold").value == 2.0
    with pytest.warns(PgtoolsWarning, match="has no such option"):
        st = resolve(Snapshot(config=cfg, meta={"release": "pacific"}), "mgr/pg_autoscaler/threshold")
    assert (st.value, st.source) == (3.0, "pacific default")
    # pool at pg_num 32 whose NEW PG_NUM is 64: a factor 2 -> acts only with threshold below 2
    pools = [{"pool_id": 1, "pool": "p", "pg_num_target": 32}]
    stored = {1: 700_000_000}  # 700e6 x 3 / 30.72e9 = 6.8 % of 1000 PG replicas = 68 / 3 -> 16, pg_num_min 32
    base = _snap(pools, stored, release="reef")
    final = int(autoscale_status(base).pg_num_final.iloc[0])
    assert final == 32
    grow = _snap(pools, {1: 3_000_000_000}, release="reef")  # 29 % -> 293 / 3 = 97.7 -> 128, factor 4
    assert bool(autoscale_status(grow).would_adjust.iloc[0])
    pools2 = [{"pool_id": 1, "pool": "p", "pg_num_target": 64}]
    two = _snap(pools2, {1: 3_000_000_000}, release="reef")  # 128 vs 64: factor 2
    assert not bool(autoscale_status(two).would_adjust.iloc[0])
    tuned = two.replace(config={"mgr/pg_autoscaler/threshold": "1.5"})
    assert bool(_quiet(autoscale_status, tuned).would_adjust.iloc[0])
    # Pacific ignores the option (its threshold is fixed at 3.0)
    with pytest.warns(PgtoolsWarning, match="has no such option"):
        pac = autoscale_status(tuned.replace(meta={"release": "pacific"}))
    assert not bool(pac.would_adjust.iloc[0])


# ------------------------------------------------------------------------------------------- autoscaler
def _big_pool(pg_num_target: int, stored: int, release: str, mode: str = "on", bias: float = 1.0) -> pd.Series:
    pools = [{"pool_id": 1, "pool": "p", "pg_num_target": pg_num_target, "pg_autoscale_mode": mode, "bias": bias}]
    return autoscale_status(_snap(pools, {1: stored}, n_osds=40, release=release)).iloc[0]


@pytest.mark.parametrize("current, stored, bias, final, reef_acts, tentacle_acts", [
    (256, 18_000_000_000, 1.0, 512, False, True),     # 512 > 256 x 1.0, not > 256 x 3
    (257, 18_000_000_000, 1.0, 512, False, True),
    (512, 36_000_000_000, 1.0, 1024, False, True),    # 1024 > 512 x 1.0
    (256, 36_000_000_000, 1.0, 1024, True, True),     # a factor 4 either way
    (700, 31_500_000_000, 2.0, 2048, False, True),    # 2048 > 700 x 2.0, not > 700 x 3
    (1024, 31_500_000_000, 2.0, 2048, False, False),  # 2048 is not > 1024 x 2.0
    (1024, 18_000_000_000, 1.0, 512, False, False),   # scaling down keeps the threshold 3: 512 > 1024 / 3
    (2048, 18_000_000_000, 1.0, 512, True, True),     # 512 < 2048 / 3
])
def test_tentacle_dynamic_threshold(current, stored, bias, final, reef_acts, tentacle_acts):
    # 40 OSDs x 100 = 4000 PG replicas; raw use = stored x 3 of 122.88e9 bytes
    reef, tent = _big_pool(current, stored, "reef", bias=bias), _big_pool(current, stored, "tentacle", bias=bias)
    assert reef.pg_num_final == tent.pg_num_final == final
    assert (bool(reef.would_adjust), bool(tent.would_adjust)) == (reef_acts, tentacle_acts)


def test_tentacle_would_adjust_ignores_the_mode():
    stored = int(0.45 * 120e9) // 3  # NEW PG_NUM 512
    tent = _big_pool(32, stored, "tentacle", mode="warn")
    reef = _big_pool(32, stored, "reef", mode="warn")
    assert bool(tent.would_adjust) and not bool(reef.would_adjust)
    assert "the mgr changes nothing: autoscale mode is warn" in tent.reason
    table = format_autoscale_status(pd.DataFrame([tent]), release="tentacle")
    assert table.splitlines()[1].split()[-3:] == ["512", "warn", "False"]  # NEW PG_NUM shown, as Tentacle prints


def test_noautoscale_flag_shows_off_in_reef_json():
    pools = [{"pool_id": 1, "pool": "p", "pg_num_target": 32}]
    snap = _snap(pools, {1: 3_000_000_000}, release="reef")
    df = autoscale_status(snap, noautoscale=True)
    assert json.loads(autoscale_status_json(df, release="reef"))[0]["pg_autoscale_mode"] == "off"
    assert bool(df.would_adjust.iloc[0])  # decided before the mode is overwritten, as the module does
    pac = autoscale_status(snap.replace(meta={"release": "pacific"}), noautoscale=True)
    assert pac.pg_autoscale_mode.iloc[0] == "on"


# ------------------------------------------------------------------------------------------- check_pg_num
_CRUSH = """
device 0 osd.0
device 1 osd.1
device 2 osd.2
device 3 osd.3
type 0 osd
type 10 root
root default {
\tid -1
\talg straw2
\thash 0
\titem osd.0 weight 1.000
\titem osd.1 weight 1.000
\titem osd.2 weight 1.000
\titem osd.3 weight 1.000
}
rule a {
\tid 0
\ttype replicated
\tstep take default
\tstep choose firstn 0 type osd
\tstep emit
}
rule b {
\tid 1
\ttype replicated
\tstep take default
\tstep choose firstn 0 type osd
\tstep emit
}
"""


def _pg_snap(release: str) -> Snapshot:
    pools = pd.DataFrame([
        {"pool_id": 1, "pool": "a1", "size": 3, "pg_num": 128, "pg_num_target": 128, "crush_rule": 0},
        {"pool_id": 2, "pool": "a2", "size": 3, "pg_num": 128, "pg_num_target": 256, "crush_rule": 0},
        {"pool_id": 3, "pool": "b", "size": 3, "pg_num": 512, "pg_num_target": 512, "crush_rule": 1},
    ])
    return Snapshot(pools=pools, crush=crushmap_from_text(_CRUSH), meta={"release": release})


@pytest.mark.parametrize("release", ["reef", "tentacle"])
def test_reef_check_pg_num_counts_the_pools_of_the_rule(release):
    snap = _pg_snap(release)
    f = _quiet(check_pg_num, snap, None, 64, size=3, crush_rule=0)
    # 64x3 + 128x3 + 256x3 = 1344 PG replicas of rule 0 (pool b, rule 1, on the same OSDs does not count) // 4
    assert f.summary == (" pg_num 64 size 3 for this pool would result in 336 cumulative PGs per OSD (1344 total "
                         "PG replicas on 4 'in' root OSDs by crush rule) which exceeds the mon_max_pg_per_osd value "
                         "of 250")
    assert (f.numbers["form"], f.numbers["per_osd"], f.numbers["max_pgs"]) == ("reef", 336, 1003)
    # an existing pool: its own term is the requested pg_num x size
    g = _quiet(check_pg_num, snap, "a1", 256)
    assert g.summary.startswith("pool id 1 pg_num 256 size 3 for this pool would result in 384 cumulative")
    # rounding down: 1003 replicas // 4 = 250 is within the limit, 1004 // 4 = 251 is not
    small = snap.replace(pools=snap.pools.iloc[:1].assign(pg_num_target=1))
    assert _quiet(check_pg_num, small, None, 333, size=3, crush_rule=0, mon_max_pg_per_osd=250) is None  # 1002
    assert _quiet(check_pg_num, small, None, 334, size=3, crush_rule=0) is not None  # 1005 // 4 = 251
    with pytest.raises(PgtoolsError, match="has no CRUSH map"):
        check_pg_num(snap.replace(crush=None), None, 64, crush_rule=0)


def test_pacific_check_pg_num_keeps_its_form():
    snap = _pg_snap("pacific")  # no PGs: the Pacific form falls back to Σ pg_num × size over all pools
    f = _quiet(check_pg_num, snap, None, 64, size=3, crush_rule=0)
    assert f.summary == (" pg_num 64 size 3 would mean 2880 total pgs, which exceeds max 750 (mon_max_pg_per_osd "
                         "250 * num_in_osds 3)")
    with pytest.warns(PgtoolsWarning, match="check_pg_num: the capture does not say"):
        assumed = check_pg_num(snap.replace(meta={}), None, 64, size=3, crush_rule=0)
    assert "cumulative PGs per OSD" in assumed.summary


def test_pool_too_few_and_too_many_pgs_by_release():
    pools = [{"pool_id": 1, "pool": "grow", "pg_num_target": 64, "pg_autoscale_mode": "warn"},   # -> 128
             {"pool_id": 2, "pool": "fits", "pg_num_target": 32, "pg_autoscale_mode": "warn"},   # -> 32
             {"pool_id": 3, "pool": "shrink", "pg_num_target": 256, "pg_autoscale_mode": "warn"},  # -> 32
             {"pool_id": 4, "pool": "on", "pg_num_target": 256}]
    stored = {1: 3_000_000_000, 2: 1_000_000, 3: 1_000_000, 4: 1_000_000}
    got = {}
    for rel in ("pacific", "reef", "tentacle"):
        df = autoscale_status(_snap(pools, stored, release=rel))
        assert df.set_index("pool_name").pg_num_final.to_dict() == {"grow": 128, "fits": 32, "shrink": 32, "on": 32}
        got[rel] = {f.code: (f.summary, f.detail) for f in pool_pg_count_checks(df, release=rel)}
    few = ("1 pools have too few placement groups", ["Pool grow has 64 placement groups, should have 128"])
    assert got["reef"] == got["tentacle"] == {"POOL_TOO_FEW_PGS": few, "POOL_TOO_MANY_PGS": (
        "1 pools have too many placement groups", ["Pool shrink has 256 placement groups, should have 32"])}
    assert got["pacific"] == {"POOL_TOO_FEW_PGS": few, "POOL_TOO_MANY_PGS": (  # 16.2.15's else: counts "fits"
        "2 pools have too many placement groups", ["Pool fits has 32 placement groups, should have 32",
                                                    "Pool shrink has 256 placement groups, should have 32"])}
    with pytest.raises(PgtoolsError, match="not octopus"):
        pool_pg_count_checks(df, release="octopus")
