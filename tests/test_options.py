"""pgtools.mgr.options: one resolver for every threshold, with its source, whatever the capture's format."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import pytest

import pgtools
from pgtools.analysis import check_pg_num, health, health_limits, pool_max_avail
from pgtools.errors import PgtoolsError, PgtoolsWarning
from pgtools.mgr.options import (
    OPTIONS,
    Setting,
    full_ratios,
    resolve,
    settings,
    settings_frame,
    with_overrides,
)
from pgtools.mgr.pgnum import pool_pgp_num_steps
from tests.paths import REAL, SAMPLE_DUMPS

JSON_FILES = ["osd_dump", "pg_dump", "crush_dump", "health_detail", "osd_df_tree", "df_detail", "versions",
              "osd_pool_ls_detail"]


@pytest.fixture(scope="module")
def json_capture(tmp_path_factory):
    """The real capture's JSON dumps only: a health detail quoting "max 300", no config dump."""
    d = tmp_path_factory.mktemp("json_capture")
    for name in JSON_FILES:
        shutil.copy(REAL / f"{name}.json", d / f"{name}.json")
    return d


@pytest.fixture(scope="module")
def jsnap(json_capture):
    return pgtools.load(json_capture)


@pytest.fixture(scope="module")
def plain():
    return pgtools.load(SAMPLE_DUMPS / "seedlike_max300")


def _quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PgtoolsWarning)
        return fn(*a, **kw)


def test_json_capture_takes_the_limit_from_its_health_detail(jsnap):
    assert not jsnap.config
    st = _quiet(resolve, jsnap, "mon_max_pg_per_osd")
    assert st == Setting("mon_max_pg_per_osd", 300, "health detail")
    assert str(st) == "mon_max_pg_per_osd 300 (health detail)"
    f = [x for x in _quiet(health, jsnap) if x.code == "TOO_MANY_PGS"][0]
    assert f.summary == "too many PGs per OSD (480 > max 300)"  # was "max 250", a release default
    assert "mon_max_pg_per_osd 300 (health detail)" in f.why
    # the same cluster gets the same limit from its plain-text capture (config dump) and the sample JSON one
    assert _quiet(health_limits, pgtools.load(SAMPLE_DUMPS / "seedlike_max300_json"))["mon_max_pg_per_osd"] == 300


def test_config_dump_beats_health_detail_and_disagreement_warns(jsnap, plain):
    assert _quiet(resolve, plain, "mon_max_pg_per_osd") == Setting("mon_max_pg_per_osd", 300, "config dump")
    other = jsnap.replace(config={"mon_max_pg_per_osd": "250"})
    with pytest.warns(PgtoolsWarning) as rec:
        st = resolve(other, "mon_max_pg_per_osd")
    assert st == Setting("mon_max_pg_per_osd", 250, "config dump")
    msg = str(rec[0].message)
    assert "config dump says 250" in msg and "health detail says 300" in msg


def test_unreadable_value_warns_and_names_what_is_used(jsnap):
    lots = jsnap.replace(config={"mon_max_pg_per_osd": "lots", "target_max_misplaced_ratio": "7"})
    with pytest.warns(PgtoolsWarning, match=r"mon_max_pg_per_osd: config dump has 'lots'.*using 300 \(health detail\)"):
        assert resolve(lots, "mon_max_pg_per_osd").value == 300
    with pytest.warns(PgtoolsWarning, match=r"target_max_misplaced_ratio: config dump has '7'.*using 0.05 \(pacific default\)"):
        assert resolve(lots, "target_max_misplaced_ratio") == Setting("target_max_misplaced_ratio", 0.05,
                                                                       "pacific default")
    bare = lots.replace(health=None)
    with pytest.warns(PgtoolsWarning, match=r"using 250 \(pacific default\)"):
        assert resolve(bare, "mon_max_pg_per_osd").value == 250


def test_argument_and_override_win(jsnap):
    assert _quiet(resolve, jsnap, "mon_max_pg_per_osd", 400) == Setting("mon_max_pg_per_osd", 400, "argument")
    over = with_overrides(jsnap.replace(config={"mon_max_pg_per_osd": "250"}), {"mon_max_pg_per_osd": "500"})
    assert _quiet(resolve, over, "mon_max_pg_per_osd") == Setting("mon_max_pg_per_osd", 500, "argument")
    assert not [f for f in _quiet(health, over) if f.code == "TOO_MANY_PGS"]
    with pytest.raises(PgtoolsError, match="not a valid value"):
        resolve(jsnap, "mon_max_pg_per_osd", "lots")
    with pytest.raises(PgtoolsError, match="unknown option"):
        with_overrides(jsnap, {"mon_max_pgs": 3})
    with pytest.raises(KeyError):
        resolve(jsnap, "nope")


def test_full_ratios_come_from_the_osdmap_that_enforces_them(jsnap):
    fr = _quiet(full_ratios, jsnap)
    assert {k: (round(v.value, 4), v.source) for k, v in fr.items()} == {
        "nearfull_ratio": (0.85, "osdmap"), "backfillfull_ratio": (0.9, "osdmap"), "full_ratio": (0.95, "osdmap")}
    cfg = jsnap.replace(config={"mon_osd_full_ratio": "0.97"})
    with pytest.warns(PgtoolsWarning, match=r"mon_osd_full_ratio: osdmap says 0.95 but config dump says 0.97"):
        assert resolve(cfg, "mon_osd_full_ratio").source == "osdmap"
    no_map = jsnap.replace(osdmap={k: v for k, v in jsnap.osdmap.items() if "ratio" not in k})
    assert _quiet(resolve, no_map, "mon_osd_full_ratio") == Setting("mon_osd_full_ratio", 0.95, "pacific default")
    # MAX AVAIL follows the resolved ratio
    assert (_quiet(pool_max_avail, jsnap, full_ratio=0.5) < _quiet(pool_max_avail, jsnap)).all()


def test_release_defaults_and_frame(jsnap):
    bare = jsnap.replace(health=None, config={})
    assert resolve(bare, "mon_max_pg_per_osd", release="jewel") == Setting("mon_max_pg_per_osd", 300, "jewel default")
    assert resolve(bare, "mon_pg_warn_min_per_osd", release="mimic").value == 30
    assert resolve(bare, "osd_max_pg_per_osd_hard_ratio", release="luminous").value == 2.0
    s = settings(bare)
    assert set(s) == set(OPTIONS)
    assert (s["mon_max_pool_pg_num"].value, s["mgr_max_pg_num_change"].value) == (65536, 128)
    df = settings_frame(bare)
    assert df.columns.tolist() == ["name", "value", "source", "default", "meaning"] and len(df) == len(OPTIONS)


def test_every_consumer_uses_the_resolver(jsnap):
    # check_pg_num (the mon's refusal) and the mgr stepping read the same values
    f = _quiet(check_pg_num, jsnap, "rbd", 256)
    assert "max 3600 (mon_max_pg_per_osd 300 * num_in_osds 12)" in f.summary
    slow = jsnap.replace(config={"target_max_misplaced_ratio": "0.01", "mgr_max_pg_num_change": "16"})
    steps = _quiet(pool_pgp_num_steps, slow, "rbd", 256, cluster=None)
    assert (steps.pg_num - steps.pgp_num).max() <= 16
    assert steps.estmax.max() <= int(256 * 0.005) + 1


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgtools", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_cli_limits_and_health_show_the_source(json_capture):
    r = run("limits", json_capture, "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = {x["name"]: x for x in json.loads(r.stdout)}
    assert (rows["mon_max_pg_per_osd"]["value"], rows["mon_max_pg_per_osd"]["source"]) == ("300", "health detail")
    r = run("health", json_capture)
    assert r.returncode == 0 and "mon_max_pg_per_osd 300 (health detail)" in r.stdout
    assert "(480 > max 300)" in r.stdout
    r = run("health", json_capture, "--option", "mon_max_pg_per_osd=100")
    assert "mon_max_pg_per_osd 100 (argument)" in r.stdout
    r = run("limits", json_capture, "--option", "mon_max_pg_per_osd=lots")
    assert r.returncode == 2 and r.stderr.startswith("pgtools: error: mon_max_pg_per_osd") and not r.stdout
