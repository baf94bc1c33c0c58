"""Tests of pgtools.crush.edit (CRUSH edits returning new maps), with crushtool as oracle."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from pgtools.crush import edit as crush_edit
from pgtools.errors import PgtoolsError
from pgtools.io.crushmap_text import parse as parse_crush_text
from tests.paths import REAL

ONE = 0x10000


@pytest.fixture(scope="module")
def crush():
    text = (REAL / "crushmap.txt").read_text()
    return parse_crush_text(text, source="crushmap.txt").crush


def _by_name(c, name):
    return next(b for b in c.buckets.values() if b.name == name)


def test_add_host_weights_and_shadow(crush):
    new = crush_edit.add_host(crush, "node5", {12: 1.0, 13: 1.0, 14: 2.0})
    host = _by_name(new, "node5")
    assert host.id == -11
    assert host.items == (12, 13, 14)
    assert host.weights == (ONE, ONE, 2 * ONE)
    assert host.weight == 4 * ONE
    assert host.alg == 5
    shadow = _by_name(new, "node5~hdd")
    assert shadow.id == -12 and shadow.items == (12, 13, 14) and shadow.weight == 4 * ONE
    assert new.class_bucket[-11] == {"hdd": -12}
    assert _by_name(new, "default").weight == 16 * ONE
    assert _by_name(new, "default").items[-1] == -11
    assert _by_name(new, "default~hdd").weight == 16 * ONE
    assert _by_name(new, "default~hdd").items[-1] == -12
    assert new.devices[14] == ("osd.14", "hdd")
    assert new.max_devices == 15
    # the original is untouched
    assert _by_name(crush, "default").weight == 12 * ONE and -11 not in crush.buckets


def test_add_host_duplicate_name_raises(crush):
    with pytest.raises(PgtoolsError, match="already exists"):
        crush_edit.add_host(crush, "node1", {12: 1.0})


def test_remove_osd_updates_real_and_shadow(crush):
    new = crush_edit.remove_item(crush, 4)
    assert _by_name(new, "node2").items == (3, 5)
    assert _by_name(new, "node2~hdd").items == (3, 5)
    assert _by_name(new, "node2").weight == 2 * ONE
    assert _by_name(new, "default").weight == 11 * ONE
    assert _by_name(new, "default~hdd").weight == 11 * ONE
    assert 4 not in new.devices


def test_remove_nonempty_bucket_refused(crush):
    with pytest.raises(PgtoolsError, match="not empty"):
        crush_edit.remove_item(crush, "node1")


def test_remove_empty_bucket(crush):
    c = crush
    for o in (9, 10, 11):
        c = crush_edit.remove_item(c, o)
    c = crush_edit.remove_item(c, "node4")
    assert "node4" not in {b.name for b in c.buckets.values()}
    assert "node4~hdd" not in {b.name for b in c.buckets.values()}
    assert _by_name(c, "default").items == (-3, -5, -7)
    assert _by_name(c, "default~hdd").items == (-4, -6, -8)


def test_move_bucket(crush):
    new = crush_edit.move_bucket(crush, "node4", "node3")
    assert _by_name(new, "node3").items == (6, 7, 8, -9)
    assert _by_name(new, "node3").weight == 6 * ONE
    assert _by_name(new, "node3~hdd").items == (6, 7, 8, -10)
    assert _by_name(new, "default").items == (-3, -5, -7)
    assert _by_name(new, "default").weight == 12 * ONE
    with pytest.raises(PgtoolsError, match="under itself"):
        crush_edit.move_bucket(crush, "default", "node1")


def test_reweight_item(crush):
    new = crush_edit.reweight_item(crush, "osd.3", 0.5)
    assert _by_name(new, "node2").weights == (ONE // 2, ONE, ONE)
    assert _by_name(new, "node2~hdd").weight == ONE * 5 // 2
    assert _by_name(new, "default").weight == ONE * 23 // 2


def test_unknown_item(crush):
    with pytest.raises(PgtoolsError, match="no CRUSH item named 'nope'"):
        crush_edit.bucket_id(crush, "nope")


def _add_host_text(text: str) -> str:
    """The capture's decompiled map with host node5 (osd.12-14) added by hand, as an operator would."""
    text = re.sub(r"(device 11 osd\.11 class hdd\n)",
                  r"\1device 12 osd.12 class hdd\ndevice 13 osd.13 class hdd\ndevice 14 osd.14 class hdd\n",
                  text)
    host = ("host node5 {\n\tid -11\n\tid -12 class hdd\n\talg straw2\n\thash 0\n"
            "\titem osd.12 weight 1.00000\n\titem osd.13 weight 1.00000\n\titem osd.14 weight 2.00000\n}\n")
    text = text.replace("root default {", host + "root default {")
    return re.sub(r"(root default \{.*?)(\n\})", r"\1\n\titem node5 weight 4.00000\2", text, count=1, flags=re.S)


@pytest.mark.oracle
@pytest.mark.skipif(shutil.which("crushtool") is None, reason="crushtool not installed")
def test_add_host_matches_crushtool(crush, tmp_path):
    new = crush_edit.add_host(crush, "node5", {12: 1.0, 13: 1.0, 14: 2.0})
    txt = tmp_path / "map.txt"
    txt.write_text(_add_host_text((REAL / "crushmap.txt").read_text()))
    subprocess.run(["crushtool", "-c", str(txt), "-o", str(tmp_path / "map.bin")], check=True,
                   capture_output=True)
    out = subprocess.run(["crushtool", "-i", str(tmp_path / "map.bin"), "--test", "--show-mappings",
                          "--rule", "0", "--num-rep", "3", "--min-x", "0", "--max-x", "999"],
                         check=True, capture_output=True, text=True).stdout
    want = {int(m.group(1)): [int(v) for v in m.group(2).split(",")]
            for m in re.finditer(r"CRUSH rule 0 x (\d+) \[([\d,]+)\]", out)}
    assert len(want) == 1000
    got = {x: new.do_rule(0, x, 3) for x in range(1000)}
    assert got == want
    assert sum(1 for v in want.values() if set(v) & {12, 13, 14}) > 200
