"""Differential test against Ceph's own crushtool (random text maps compiled and tested by crushtool)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from pgtools.crush import crushtool_test
from pgtools.io import crushmap_from_text
from tests.crush._gen import random_text_map

CRUSHTOOL = shutil.which("crushtool")

pytestmark = pytest.mark.oracle


def _need_crushtool():
    if CRUSHTOOL is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("crushtool is required when CI=true")
        pytest.skip("crushtool not installed")


def _run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=20, **kw)


def test_random_maps_match_crushtool(tmp_path):
    _need_crushtool()
    compared = maps = 0
    for seed in range(500, 516):
        gm = random_text_map(seed)
        src = tmp_path / f"m{seed}.txt"
        binp = tmp_path / f"m{seed}.bin"
        src.write_text(gm.text)
        if _run([CRUSHTOOL, "-c", str(src), "-o", str(binp)]).returncode != 0:
            continue  # crushtool refuses some generated shapes (e.g. class takes on odd trees)
        maps += 1
        cm = crushmap_from_text(gm.text, source=str(src))
        for rule, num_rep in gm.rules:
            args = [CRUSHTOOL, "-i", str(binp), "--test", "--show-mappings", "--rule", str(rule),
                    "--num-rep", str(num_rep), "--min-x", "0", "--max-x", "99"]
            for osd, w in sorted(gm.reweights.items()):
                args += ["--weight", str(osd), str(w)]
            p = _run(args)
            assert p.returncode == 0, p.stderr
            expected = "".join(ln + "\n" for ln in (p.stdout + p.stderr).splitlines() if ln.startswith("CRUSH "))
            got = crushtool_test(cm, rule, num_rep, 0, 99, gm.reweights)
            assert got == expected, (seed, rule, num_rep)
            compared += 1
    assert maps >= 10
    assert compared >= 60


def test_decompiled_text_roundtrip(tmp_path):
    """crushtool -d output (with shadow ids) parses to a map that maps like crushtool."""
    _need_crushtool()
    done = 0
    for seed in range(600, 612):
        gm = random_text_map(seed, choose_args=False)
        src, binp, dec = tmp_path / "m.txt", tmp_path / "m.bin", tmp_path / "d.txt"
        src.write_text(gm.text)
        if _run([CRUSHTOOL, "-c", str(src), "-o", str(binp)]).returncode != 0:
            continue
        assert _run([CRUSHTOOL, "-d", str(binp), "-o", str(dec)]).returncode == 0
        a = crushmap_from_text(gm.text)
        b = crushmap_from_text(dec.read_text())
        # the decompiled text keeps weights to 3 decimals only; ids, names and shapes must agree
        assert sorted(a.buckets) == sorted(b.buckets)
        assert {k: v.name for k, v in a.buckets.items()} == {k: v.name for k, v in b.buckets.items()}
        assert {k: v.items for k, v in a.buckets.items()} == {k: v.items for k, v in b.buckets.items()}
        assert a.rules.keys() == b.rules.keys()
        assert [r.steps for r in a.rules.values()] == [r.steps for r in b.rules.values()]
        assert a.tunables == b.tunables
        done += 1
    assert done >= 8
