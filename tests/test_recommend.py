"""fix-too-many-pgs: the seed memo's 480 > 300, and its ways out, each simulated."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pgtools
from pgtools.analysis.recommend import fix_too_many_pgs, options_frame
from tests.paths import SAMPLE_DUMPS


@pytest.fixture(scope="module")
def options():
    return fix_too_many_pgs(pgtools.load(SAMPLE_DUMPS / "seedlike_max300"), max_per_osd=300)


def test_every_option_clears_and_the_cheapest_comes_first(options):
    names = [o.name for o in options]
    assert names[0] == "lower pg_num on 12 pools, least data moved first"
    assert names[-1] == "raise mon_max_pg_per_osd to 480"
    assert all(o.clears for o in options)
    moving = [o for o in options if o.bytes_moved]
    assert [o.bytes_moved for o in moving] == sorted(o.bytes_moved for o in moving)


def test_greedy_option_numbers(options):
    g = options[0]
    # 12 pools 128 -> 64 at size 3 shed 12 * 192 copies: (5760 - 2304) // 12 = 288 per OSD
    assert g.per_osd == 288
    assert len(g.commands) == 12 and all(c.endswith("pg_num 64") for c in g.commands)
    assert "ceph osd pool set rbd pg_num 64" not in g.commands  # rbd holds the data: merging it moves the most
    assert "TOO_MANY_PGS" not in g.health
    uniform = next(o for o in options if o.name == "lower pg_num on every pool")
    assert uniform.per_osd == 240 and uniform.bytes_moved > 5 * g.bytes_moved


def test_add_hosts_option(options):
    add = next(o for o in options if o.name.startswith("add "))
    assert add.name == "add 3 hosts of 3 × 1 hdd OSDs"
    assert add.per_osd == 5760 // 21 == 274


def test_healthy_cluster_needs_nothing():
    assert fix_too_many_pgs(pgtools.load(SAMPLE_DUMPS / "mixed")) == []


def test_frame_and_cli(options):
    df = options_frame(options)
    assert list(df.columns[:4]) == ["option", "clears", "pgs_per_osd", "max_pgs_per_osd"]
    r = subprocess.run([sys.executable, "-m", "pgtools", "fix-too-many-pgs", str(SAMPLE_DUMPS / "seedlike_max300"),
                        "--max-per-osd", "300"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "1. lower pg_num on 12 pools, least data moved first" in r.stdout
    assert "   ceph osd pool set images pg_num 64" in r.stdout
