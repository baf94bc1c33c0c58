"""The `mixed` sample: device classes, EC pools, an out OSD, a reweight and upmaps, recomputed exactly."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import pgtools
from pgtools.analysis import pg_table
from pgtools.placement import verify_placement
from tests.paths import SAMPLE_DUMPS

MIXED = SAMPLE_DUMPS / "mixed"


@pytest.fixture(scope="module")
def snap():
    return pgtools.load(MIXED)


def test_mixed_loads_with_everything(snap):
    assert len(snap.pgs) == 168 and len(snap.pools) == 6 and len(snap.osds) == 14
    pools = snap.pools.set_index("pool")
    assert pools.loc["ec42", "type"] == "erasure" and (pools.loc["ec42", "ec_k"], pools.loc["ec42", "ec_m"]) == (4, 2)
    osds = snap.osds.set_index("osd_id")
    assert not osds.loc[5, "in"] and osds.loc[3, "reweight"] == pytest.approx(0.8, abs=1e-4)
    assert set(osds.device_class) == {"hdd", "ssd"}
    assert snap.osdmap["pg_upmap_items"] == {"1.0": ((12, 0),), "1.2": ((11, 1),), "1.3": ((1, 6),)}
    assert snap.meta["conflicts"] == []


def test_mixed_placement_recomputed_exactly(snap):
    assert len(verify_placement(snap)) == 0
    tab = pg_table(snap)
    assert tab.sum(axis=0).to_dict() == {1: 192, 2: 96, 3: 48, 4: 16, 5: 96, 6: 96}
    assert 5 not in tab.index  # the out OSD holds nothing
    ssd = set(snap.osds[snap.osds.device_class == "ssd"].osd_id)
    assert set(tab.index[tab[2] > 0]) <= ssd  # the ssd-rule pool lives on ssd OSDs only


@pytest.mark.oracle
def test_mixed_map_equals_osdmaptool():
    if not shutil.which("osdmaptool"):
        pytest.skip("osdmaptool not installed")
    ref = subprocess.run(["osdmaptool", str(MIXED / "osdmap.bin"), "--test-map-pgs-dump-all"],
                         capture_output=True, text=True, timeout=60)
    ours = subprocess.run([sys.executable, "-m", "pgtools", "map", str(MIXED), "--format", "dump-all"],
                          capture_output=True, text=True, timeout=120)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == ref.stdout


def test_mixed_autoscale_equals_the_mgr(snap):
    """The real mgr skips pools under overlapping roots (default vs default~hdd); so do we."""
    from pgtools.mgr.autoscale import autoscale_status
    from pgtools.mgr.autoscale_output import compare_autoscale_status

    cmp = compare_autoscale_status(snap)
    assert len(cmp) and cmp.match.all()
    df = autoscale_status(snap, include_skipped=True)
    skipped = df[df.skipped.astype(bool)]
    assert set(skipped.pool_name) == {"rbd", "byrack", "meta", "ec21", "ec42"}
    assert skipped.reason.str.contains("overlap").all()
