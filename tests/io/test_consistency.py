"""Issue #11: inputs checked against each other and against themselves at load.

Cross-file checks (fsid, epochs, releases, pools, pg_num, OSD ids), truncated or useless input, bounded
reads, CRUSH cycles in every format, and crushtool -d's 3-decimal weights.  Each case is built from the
sample captures.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import time

import pytest

import pgtools
from pgtools.crush import CrushMap
from pgtools.errors import DumpFormatError, SnapshotConflictError
from tests.paths import SAMPLE_DUMPS

MIXED = SAMPLE_DUMPS / "mixed"


# ------------------------------------------------------------------------------------------ CRUSH cycles
def _cyclic_dump(tmp_path, holder: int, held: int):
    d = json.loads((MIXED / "crush_dump.json").read_text())
    for b in d["buckets"]:
        if b["id"] == holder:
            b["items"].append({"id": held, "weight": 65536, "pos": len(b["items"])})
    p = tmp_path / "crush_dump.json"
    p.write_text(json.dumps(d))
    return p


@pytest.mark.parametrize("holder, held, names", [(-3, -4, r"r1 \(-4\) -> n1 \(-3\) -> r1 \(-4\)"),
                                                 (-3, -3, r"n1 \(-3\) -> n1 \(-3\)")])
def test_crush_dump_cycle_is_refused_naming_the_buckets(tmp_path, holder, held, names):
    p = _cyclic_dump(tmp_path, holder, held)
    t0 = time.monotonic()
    with pytest.raises(DumpFormatError, match="buckets.items: bucket hierarchy has a cycle: " + names) as e:
        pgtools.load(p)
    assert str(p) in str(e.value)
    assert time.monotonic() - t0 < 30


def _text(replacement: str) -> str:
    text = subprocess.run(["crushtool", "-d", str(MIXED / "crushmap.bin")], check=True, capture_output=True,
                          text=True).stdout
    anchor = "\titem osd.2 weight 0.500\n"
    assert anchor in text
    return text.replace(anchor, anchor + replacement, 1)


@pytest.fixture(scope="module")
def have_crushtool():
    if shutil.which("crushtool") is None:
        pytest.skip("crushtool not installed")


def test_crushtool_text_cycle_is_refused(tmp_path, have_crushtool):
    p = tmp_path / "map.txt"
    p.write_text(_text("\titem r1 weight 1.000\n"))
    # crushtool itself refuses it (bucket 'r1' and bucket 'n1' are included each other)
    assert subprocess.run(["crushtool", "-c", str(p), "-o", str(tmp_path / "x.bin")], capture_output=True).returncode
    with pytest.raises(DumpFormatError, match=r"map.txt:\d+: item: bucket hierarchy has a cycle: n1 -> r1 -> n1"):
        pgtools.load(p)
    p.write_text(_text("\titem n1 weight 1.000\n"))
    with pytest.raises(DumpFormatError, match=r"map.txt:\d+: item: bucket 'n1' holds itself"):
        pgtools.load(p)


def test_crushtool_text_forward_reference_is_accepted_like_crushtool(tmp_path, have_crushtool):
    """crushtool compiles a bucket that holds a bucket defined further down; so does pgtools."""
    text = _text("")
    i, j = text.index("host n1 {"), text.index("host n2 {")
    block, rest = text[i:j], text[:i] + text[j:]
    k = rest.index("host n3 {")
    p = tmp_path / "fwd.txt"
    p.write_text(rest[:k] + block + rest[k:])
    subprocess.run(["crushtool", "-c", str(p), "-o", str(tmp_path / "fwd.bin")], check=True)
    got = CrushMap.from_text(p.read_text())
    ref = CrushMap.from_binary((tmp_path / "fwd.bin").read_bytes())
    assert got.differences(ref, weight_tolerance=2, shadows=False) == []


def test_binary_cycle_is_refused_at_the_item():
    data = (MIXED / "crushmap.bin").read_bytes()
    pat = struct.pack("<3i", 0, 1, 2)  # host n1 (-3) holds osd.0, osd.1, osd.2
    assert data.count(pat) == 1
    bad = data.replace(pat, struct.pack("<3i", 0, 1, -4))  # ... and now rack r1 (-4), which holds n1
    with pytest.raises(DumpFormatError, match=r"items\[2\]: offset \d+: bucket hierarchy has a cycle: bucket -3 holds -4"):
        CrushMap.from_binary(bad, source="cyc.bin")


def test_crush_dump_item_that_does_not_exist_is_refused(tmp_path):
    p = _cyclic_dump(tmp_path, -3, -99)
    with pytest.raises(DumpFormatError, match="bucket -3 holds missing bucket -99"):
        pgtools.load(p)


# ------------------------------------------------------------------------------------------ crushtool -d precision
def _reweighted_capture(tmp_path, text_weight: str | None = None):
    """A folder with a binary map where osd.0 weighs 119236/65536 and crushtool -d's text of it."""
    cap = tmp_path / "cap"
    cap.mkdir()
    subprocess.run(["crushtool", "-i", str(MIXED / "crushmap.bin"), "--reweight-item", "osd.0", "1.81939697",
                    "-o", str(cap / "crushmap.bin")], check=True, capture_output=True)
    text = subprocess.run(["crushtool", "-d", str(cap / "crushmap.bin")], check=True, capture_output=True,
                          text=True).stdout
    assert "item osd.0 weight 1.819\n" in text  # crushtool 16.2.15 prints 3 decimals
    if text_weight is not None:
        text = text.replace("item osd.0 weight 1.819\n", f"item osd.0 weight {text_weight}\n")
    (cap / "crushmap.txt").write_text(text)
    return cap


def test_binary_map_and_its_own_3_decimal_text_are_one_map(tmp_path, have_crushtool):
    snap = pgtools.load(_reweighted_capture(tmp_path))
    assert snap.meta["conflicts"] == []
    assert snap.crush.buckets[-3].weights[0] == 119236  # the binary map's exact weight wins


@pytest.mark.parametrize("weight", ["1.820", "1.818", "1.900"])
def test_text_weight_off_by_one_printed_digit_is_still_a_conflict(tmp_path, have_crushtool, weight):
    with pytest.raises(SnapshotConflictError, match="different CRUSH maps: bucket -3 \\(n1\\) item weights"):
        pgtools.load(_reweighted_capture(tmp_path, weight))
