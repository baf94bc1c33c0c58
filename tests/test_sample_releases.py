"""The `mixed_reef` and `mixed_tentacle` samples: loaded, recomputed exactly, plain form equal to the JSON form.

``sample_dumps/mixed_<release>/`` is a ``pgtools collect`` bundle of the ``mixed`` layout on Reef 18.2.7 and on
Tentacle 20.2.4 (on both the mgr's pool ``.mgr`` is pool 1, so ``rbd`` is pool 2); ``mixed_<release>_plain/``
holds the plain form of each command, captured at the same osdmap epoch (``scripts/make_sample_dumps.py
--scenario <release>``; see ``sample_dumps/README.md``).  Reef's outputs have no column or field the readers do
not already know from Pacific and Tentacle: its JSON is Tentacle's without the MSR tunables, ``is_stretch_pool``,
``nonprimary_shards`` and ``read_balance.score_type``, its plain tables have Tentacle's columns.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import pgtools
from pgtools.analysis import pg_table
from pgtools.mgr.autoscale import autoscale_status
from pgtools.placement import verify_placement
from tests.ceph_release_tools import need, run
from tests.paths import SAMPLE_DUMPS

#: per release: the capture's osdmap epoch and the default EC plugin (Reef's is still jerasure, Tentacle's isa)
FACTS = {"reef": {"epoch": 94, "plugin": "jerasure"}, "tentacle": {"epoch": 89, "plugin": "isa"}}


def bundle(release: str):
    return SAMPLE_DUMPS / f"mixed_{release}"


def plain_dir(release: str):
    return SAMPLE_DUMPS / f"mixed_{release}_plain"


@pytest.fixture(params=sorted(FACTS), scope="module")
def release(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def snap(release):
    return pgtools.load(bundle(release))


@pytest.fixture(scope="module")
def plain(release):
    return pgtools.load(plain_dir(release))


def test_bundle_loads_with_everything(snap, release):
    meta = json.loads((bundle(release) / "scenario_meta.json").read_text())
    assert snap.release == release and snap.meta["conflicts"] == []
    assert snap.meta["epoch"] == meta["epoch"] == FACTS[release]["epoch"]
    assert snap.warnings == []
    assert (len(snap.pgs), len(snap.pools), len(snap.osds)) == (169, 7, 14)
    pools = snap.pools.set_index("pool")
    assert list(snap.pools.pool) == [".mgr", "rbd", "fast", "byrack", "meta", "ec21", "ec42"]
    assert (pools.loc[".mgr", "pool_id"], pools.loc[".mgr", "pg_num"], pools.loc[".mgr", "application"]) == (
        1, 1, "mgr")
    assert (pools.loc["ec42", "type"], pools.loc["ec42", "ec_k"], pools.loc["ec42", "ec_m"]) == ("erasure", 4, 2)
    assert snap.osdmap["erasure_code_profiles"]["ec-ec42"]["plugin"] == FACTS[release]["plugin"]
    osds = snap.osds.set_index("osd_id")
    assert not osds.loc[meta["out_osd"], "in"]
    assert osds.loc[meta["reweighted_osd"], "reweight"] == pytest.approx(0.8, abs=1e-4)
    assert snap.osdmap["pg_upmap_items"] == {pgid: ((a, b),) for pgid, a, b in meta["upmaps"]}
    assert snap.osdmap["require_osd_release"] == release


def test_placement_recomputed_exactly(snap, release):
    assert len(verify_placement(snap)) == 0
    tab = pg_table(snap)
    assert tab.sum(axis=0).to_dict() == {1: 3, 2: 192, 3: 96, 4: 48, 5: 16, 6: 96, 7: 96}
    assert json.loads((bundle(release) / "scenario_meta.json").read_text())["out_osd"] not in tab.index


def test_reef_and_tentacle_place_alike():
    """The same layout, steps and CRUSH tunables give Reef and Tentacle the same placement, PG for PG."""
    reef, tentacle = (pgtools.load(bundle(r)) for r in ("reef", "tentacle"))
    assert reef.crush.tunables == tentacle.crush.tunables
    assert dict(zip(reef.pgs.pgid, reef.pgs.up, strict=True)) == dict(zip(tentacle.pgs.pgid, tentacle.pgs.up,
                                                                          strict=True))


def test_plain_capture_reads_as_the_json_one(snap, plain, release):
    assert plain.release == release and plain.meta["epoch"] == snap.meta["epoch"] and plain.warnings == []
    key = ["pgid", "state", "up", "up_primary", "acting", "acting_primary", "objects", "bytes"]
    a = snap.pgs[key].sort_values("pgid").reset_index(drop=True)
    b = plain.pgs[key].sort_values("pgid").reset_index(drop=True)
    assert a.astype(str).equals(b.astype(str))
    cols = ["pool_id", "pool", "type", "size", "min_size", "pg_num", "pgp_num", "crush_rule", "pg_autoscale_mode",
            "erasure_code_profile", "application", "flags_names"]
    assert snap.pools[cols].astype(str).equals(plain.pools[cols].astype(str))
    ocols = ["osd_id", "host", "device_class", "crush_weight", "up", "in"]
    assert snap.osds[ocols].astype(str).equals(plain.osds[ocols].astype(str))
    assert (plain.osds.reweight - snap.osds.reweight).abs().max() < 1e-4
    assert snap.health["status"] == plain.health["status"] == "HEALTH_OK"
    assert pg_table(snap).equals(pg_table(plain))


def test_autoscale_reports_no_pool_like_the_mgr(snap, release):
    """Every pool sits under overlapping roots (default and its hdd/ssd shadows): the mgr printed nothing."""
    assert json.loads((bundle(release) / "autoscale_status.json").read_text()) == []
    assert (plain_dir(release) / "autoscale_status.txt").read_text().strip() == ""
    assert bundle(release) / "autoscale_status.json" in [type(bundle(release))(p) for p in snap.meta["skipped"]]
    assert len(autoscale_status(snap)) == 0
    every = autoscale_status(snap, include_skipped=True)
    assert len(every) == 7 and every.skipped.astype(bool).all()


@pytest.mark.oracle
@pytest.mark.parametrize("rel", sorted(FACTS))
def test_map_equals_the_releases_osdmaptool(rel):
    need(rel)
    ref = run(rel, "osdmaptool", ["osdmap.bin", "--test-map-pgs-dump-all"], {"osdmap.bin": bundle(rel) / "osdmap.bin"})
    assert ref.returncode == 0, ref.stderr
    ours = subprocess.run([sys.executable, "-m", "pgtools", "map", str(bundle(rel)), "--format", "dump-all"],
                          capture_output=True, text=True, timeout=120)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == ref.stdout and ref.stdout.count("\n") >= 169
