"""Issue #11: inputs checked against each other and against themselves at load.

Cross-file checks (fsid, epochs, releases, pools, pg_num, OSD ids), truncated or useless input, bounded
reads, CRUSH cycles in every format, and crushtool -d's 3-decimal weights.  Each case is built from the
sample captures.
"""

from __future__ import annotations

import gzip
import json
import lzma
import re
import shutil
import struct
import subprocess
import sys
import time
import warnings

import pytest

import pgtools
from pgtools.analysis import health, imbalance, pg_table
from pgtools.errors import DumpFormatError, PgtoolsError, PgtoolsWarning, SnapshotConflictError
from pgtools.io import crushmap_from_binary, crushmap_from_text
from pgtools.io._common import Fragment
from pgtools.io.consistency import cross_check
from pgtools.model import empty_pgs, empty_pools
from tests.paths import PUBLIC, REPO, SAMPLE_DUMPS

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
    got = crushmap_from_text(p.read_text())
    ref = crushmap_from_binary((tmp_path / "fwd.bin").read_bytes())
    assert got.differences(ref, weight_tolerance=2, shadows=False) == []


def test_binary_cycle_is_refused_at_the_item():
    data = (MIXED / "crushmap.bin").read_bytes()
    pat = struct.pack("<3i", 0, 1, 2)  # host n1 (-3) holds osd.0, osd.1, osd.2
    assert data.count(pat) == 1
    bad = data.replace(pat, struct.pack("<3i", 0, 1, -4))  # ... and now rack r1 (-4), which holds n1
    with pytest.raises(DumpFormatError, match=r"items\[2\]: offset \d+: bucket hierarchy has a cycle: bucket -3 holds -4, which holds it: "
                                                 r"r1 \(-4\) -> n1 \(-3\) -> r1 \(-4\)"):
        crushmap_from_binary(bad, source="cyc.bin")


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


# ------------------------------------------------------------------------------------------ files against each other
SEED = SAMPLE_DUMPS / "seedlike_max300"
SEED_PG = SEED / "pg_dump.txt"
SEED_OSD = SEED / "osd_dump.json"
JEWEL_OSD = PUBLIC / "03_jewel_osd_dump_json_python_crush.txt"


def _no_pgtools_warnings(*paths, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PgtoolsWarning)
        return pgtools.load(list(paths), **kw)


def test_sample_captures_load_without_conflict_or_warning():
    for d in (SEED, SAMPLE_DUMPS / "seedlike_max300_json", MIXED):
        snap = _no_pgtools_warnings(d)
        assert snap.meta["conflicts"] == [] and snap.warnings == []
        assert snap.meta["fsid"]


def test_pacific_pg_dump_with_jewel_osd_dump_is_refused():
    """The issue's case: 5760 PG copies of 15 pools // 3 OSDs of a Jewel osd dump = 1920 per OSD."""
    if not JEWEL_OSD.exists():
        pytest.skip("shared public dumps not available")
    with pytest.raises(SnapshotConflictError) as e:
        pgtools.load([SEED_PG, JEWEL_OSD])
    msg = str(e.value)
    assert "\n" not in msg and str(SEED_PG) in msg and str(JEWEL_OSD) in msg
    assert "jewel" in msg and "5 release(s) apart" in msg
    assert "does not have" in msg  # pools 2..15 and OSDs 3..11


def test_pgs_of_pools_the_osd_dump_does_not_have_are_refused():
    with pytest.raises(SnapshotConflictError,
                       match=r"pg_dump.txt has 1152 PGs of pool\(s\) 7, 8, 9, 10, 11 \(\+4 more\) that .*mixed/osd_dump.json"
                             r" does not have"):
        pgtools.load([SEED_PG, MIXED / "osd_dump.json"])


def test_pgs_on_osds_the_osd_dump_does_not_have_are_refused():
    with pytest.raises(SnapshotConflictError, match=r"maps \d+ PGs to OSD\(s\) osd.12, osd.13 that .*osd_dump.json "
                                                    r"\(max_osd 12"):
        pgtools.load([MIXED / "pg_dump.json.gz", SEED_OSD])


def test_osd_df_rows_beyond_the_osdmap_are_refused():
    with pytest.raises(SnapshotConflictError, match=r"osd_df_tree.json lists OSD\(s\) osd.12, osd.13 that"):
        pgtools.load([MIXED / "osd_df_tree.json", SEED_OSD])


def test_crush_device_removed_from_the_osdmap_is_normal(tmp_path):
    # a CRUSH device the osdmap no longer has (`ceph osd rm` keeps the CRUSH item, below max_osd; osd tree shows
    # it DNE) is normal: the crush dump is not checked against the osdmap's OSD list, only against max_osd
    d = json.loads(SEED_OSD.read_text())
    d["osds"] = [o for o in d["osds"] if o["osd"] != 11]
    (tmp_path / "osd_dump.json").write_text(json.dumps(d))
    snap = pgtools.load([SEED / "crush_dump.json", tmp_path / "osd_dump.json"])
    assert not any("crush_dump" in w for w in snap.warnings)


def test_crush_map_of_another_cluster_is_refused():
    # devices beyond max_osd: `ceph osd crush add/set` refuse an OSD the osdmap does not have
    with pytest.raises(SnapshotConflictError, match=r"crush_dump.json places OSD\(s\) osd.12, osd.13 that the "
                                                    r"osdmap of .*osd_dump.json \(max_osd 12\) cannot have"):
        pgtools.load([MIXED / "osd_tree.json", MIXED / "crush_dump.json", SEED_OSD])


def test_pool_whose_crush_rule_the_crush_map_lacks_is_refused(tmp_path):
    d = json.loads(SEED_OSD.read_text())
    d["pools"][0]["crush_rule"] = 7
    (tmp_path / "osd_dump.json").write_text(json.dumps(d))
    with pytest.raises(SnapshotConflictError, match=r"pool\(s\) 1 \(rule 7\) whose CRUSH rule .*crush_dump.json"):
        pgtools.load([SEED / "crush_dump.json", tmp_path / "osd_dump.json"])


def _osd_dump(tmp_path, name="osd_dump.json", **changes):
    d = json.loads(SEED_OSD.read_text())
    pool_changes = changes.pop("pool1", {})
    d.update(changes)
    for p in d["pools"]:
        if p["pool"] == 1:
            p.update(pool_changes)
    out = tmp_path / name
    out.write_text(json.dumps(d))
    return out


def test_different_fsid_is_refused(tmp_path):
    other = _osd_dump(tmp_path, fsid="00000000-0000-4000-8000-000000000000")
    with pytest.raises(SnapshotConflictError, match="different clusters .*00000000-0000-4000-8000-000000000000 in "):
        pgtools.load([SEED_PG, SEED / "crush_dump.json", other, SAMPLE_DUMPS / "seedlike_max300_json" / "osd_dump.json"])


def test_two_osdmaps_of_different_epochs_are_refused(tmp_path):
    other = _osd_dump(tmp_path, epoch=105)
    with pytest.raises(SnapshotConflictError, match=r"different osdmap epochs \(epoch 101: .*; epoch 105: "):
        pgtools.load([SEED_PG, SEED_OSD, other])


def test_pg_map_a_few_epochs_behind_the_osdmap_is_a_warning(tmp_path):
    text = SEED_PG.read_text().replace("last_osdmap_epoch 0\n", "last_osdmap_epoch 98\n", 1)
    pg = tmp_path / "pg_dump.txt"
    pg.write_text(text)
    with pytest.warns(PgtoolsWarning, match=r"PG map at osdmap epoch 98, 3 epoch\(s\) behind the osdmap of .*"
                                            r"osd_dump.json \(epoch 101\): normal during a change"):
        snap = pgtools.load([pg, SEED_OSD])
    assert snap.epoch == 101 and len(snap.pgs) == 1920 and snap.meta["conflicts"] == []


@pytest.mark.parametrize("a, b, outcome", [("jewel", "pacific", "conflict"), ("octopus+", "jewel", "conflict"),
                                           ("nautilus", "pacific", "warning"), ("octopus+", "pacific", None),
                                           ("luminous+", "nautilus", None), ("pacific", "pacific", None)])
def test_release_rule(a, b, outcome):
    conflicts, warns, _ = cross_check([Fragment(kind="versions", source="a", release=a),
                                       Fragment(kind="osd_dump", source="b", release=b)],
                                      empty_pgs(), empty_pools(), None)
    assert bool(conflicts) == (outcome == "conflict")
    assert bool(warns) == (outcome == "warning")


def test_pg_beyond_pg_num_is_refused_unless_the_pool_is_merging(tmp_path):
    small = _osd_dump(tmp_path, pool1={"pg_num": 64, "pg_placement_num": 64, "pg_num_target": 64,
                                       "pg_num_pending": 64})
    with pytest.raises(SnapshotConflictError, match=r"PG\(s\) 1\.[0-9a-f]+.* beyond their pool's pg_num .*"
                                                    r"\(pool 1 pg_num 64\)"):
        pgtools.load([SEED_PG, small])
    merging = _osd_dump(tmp_path, "merging.json", pool1={"pg_num_target": 64, "pg_num_pending": 64})
    merging2 = _osd_dump(tmp_path, "merging2.json", pool1={"pg_num": 100, "pg_num_target": 64, "pg_num_pending": 64})
    pgtools.load([SEED_PG, merging])  # pg_num 128 still: nothing beyond it
    with pytest.warns(PgtoolsWarning, match="while their pool is merging PGs"):
        pgtools.load([SEED_PG, merging2])


def test_fewer_pgs_than_pg_num_is_a_warning(tmp_path):
    more = _osd_dump(tmp_path, pool1={"pg_num": 256, "pg_placement_num": 256, "pg_num_target": 256,
                                      "pg_num_pending": 256})
    with pytest.warns(PgtoolsWarning, match=r"pg_dump.txt has 128 of the 256 PGs of pool\(s\) 1 \(128/256\)"):
        snap = pgtools.load([SEED_PG, more])
    assert len(snap.pgs) == 1920


# ------------------------------------------------------------------------------------------ truncated input
@pytest.mark.parametrize("frac", [0.05, 0.3, 0.5, 0.9, 0.97])
def test_plain_pg_dump_cut_mid_row_warns_twice(tmp_path, frac):
    data = SEED_PG.read_bytes()
    cut = tmp_path / "pg_dump.txt"
    n = int(len(data) * frac)
    if data[n - 1:n] == b"\n":
        n -= 3
    cut.write_bytes(data[:n])
    with pytest.warns(PgtoolsWarning) as rec:
        snap = pgtools.load([cut, SEED_OSD])
    msgs = [str(w.message) for w in rec]
    assert any("last row truncated" in m or "without a header" in m for m in msgs), msgs
    if frac < 0.9:
        assert any(re.search(rf"has {len(snap.pgs)} of the 1920 PGs", m) for m in msgs), msgs


@pytest.mark.parametrize("frac", [0.1, 0.5, 0.9])
def test_plain_pg_dump_cut_at_a_line_end_warns(tmp_path, frac):
    text = SEED_PG.read_text()
    i = text.index("\n", int(len(text) * frac)) + 1
    cut = tmp_path / "pg_dump.txt"
    cut.write_text(text[:i])
    with pytest.warns(PgtoolsWarning, match=r"pg_dump.txt:\d+: ends after \d+ PGs, without the pool and OSD sums"):
        snap = pgtools.load(cut)
    assert 0 < len(snap.pgs) < 1920
    # one line for one cut: the parser's "no `* NOTE:` line" is folded into it
    cut_lines = [w for w in snap.warnings if "NOTE" in w or "ends after" in w]
    assert len(cut_lines) == 1, cut_lines


@pytest.mark.parametrize("frac", [0.001, 0.01, 0.5, 0.99])
def test_json_pg_dump_cut_is_an_error_naming_the_offset(tmp_path, frac):
    data = gzip.decompress((SAMPLE_DUMPS / "seedlike_max300_json" / "pg_dump.json.gz").read_bytes())
    cut = tmp_path / "pg_dump.json"
    cut.write_bytes(data[:int(len(data) * frac)])
    with pytest.raises(DumpFormatError, match=r"pg_dump.json:\d+: invalid JSON: the document stops at offset \d+ "
                                              r"before it is complete \(the file is cut short\?\)"):
        pgtools.load(cut)


def test_cut_json_in_a_folder_is_skipped_with_a_warning(tmp_path):
    data = gzip.decompress((SAMPLE_DUMPS / "seedlike_max300_json" / "pg_dump.json.gz").read_bytes())
    (tmp_path / "pg_dump.json").write_bytes(data[:len(data) // 2])
    shutil.copy(SEED_PG, tmp_path / "pg_dump.txt")
    with pytest.warns(PgtoolsWarning, match=r"pg_dump.json:\d+: invalid JSON: .* cut short\?\): skipped"):
        snap = pgtools.load(tmp_path)
    assert str(tmp_path / "pg_dump.json") in snap.meta["skipped"]
    assert any("cut short" in w for w in snap.warnings)


# ------------------------------------------------------------------------------------------ useless input
def test_capture_without_pgs_is_an_error_where_pgs_are_needed():
    for f in (MIXED / "osd_tree.json", MIXED / "health_detail.json"):
        snap = pgtools.load(f)
        with pytest.raises(PgtoolsError, match=rf"no PG data in {f.name} .*: cannot compute the pool × OSD table without PGs; "
                                               r"add `ceph pg dump -f json`"):
            pg_table(snap)
        with pytest.raises(PgtoolsError, match="no PG data"):
            imbalance(snap)
        with pytest.raises(PgtoolsError, match="cannot compute the PG-count health checks without PGs"):
            health(snap)  # was HEALTH_OK


def test_cli_table_of_status_only_is_an_error(tmp_path):
    status = {"fsid": "297711d7-5078-4928-b4ed-b1aba3699317", "health": {"status": "HEALTH_OK", "checks": {}},
              "osdmap": {"epoch": 101, "num_osds": 12, "num_up_osds": 12, "num_in_osds": 12}}
    p = tmp_path / "status.json"
    p.write_text(json.dumps(status))
    r = _cli("table", str(p))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("pgtools: error: no PG data in status.json")


def test_explicit_file_with_nothing_usable_is_an_error(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("\n\n")
    with pytest.raises(DumpFormatError, match=r"empty.txt: not a dump format pgtools recognises \(empty\)"):
        pgtools.load(p)
    header_only = tmp_path / "pg_dump.txt"
    header_only.write_text("\n".join(SEED_PG.read_text().splitlines()[:5]) + "\n")
    with pytest.raises(DumpFormatError, match="pg_dump.txt"):
        pgtools.load(header_only)


def test_collect_folder_where_every_command_failed_is_an_error(tmp_path):
    meta = json.loads((MIXED / "collect_meta.json").read_text())
    for r in meta["records"]:
        r["status"], r["stderr"] = 1, "[errno 13] RADOS permission denied (error connecting to the cluster)"
    (tmp_path / "collect_meta.json").write_text(json.dumps(meta))
    (tmp_path / "osd_dump.json").write_text("Error EACCES: access denied\n")
    (tmp_path / "pg_dump.txt").write_text("")
    with pytest.raises(DumpFormatError) as e:
        pgtools.load(tmp_path)
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path}: no recognised dump here")
    assert f"{len(meta['records'])} command(s) failed, `ceph osd dump -f json`" in msg
    assert "RADOS permission denied" in msg
    assert "osd_dump.json: an error message: 'Error EACCES: access denied'" in msg and "pg_dump.txt: empty" in msg


# ------------------------------------------------------------------------------------------ bounded reads
def test_dev_zero_is_refused_quickly():
    t0 = time.monotonic()
    with pytest.raises(DumpFormatError, match=r"/dev/zero: not a regular file, and more than 1048576 bytes"):
        pgtools.load("/dev/zero", max_bytes=1 << 20)
    with pytest.raises(DumpFormatError, match=r"/dev/zero: not a regular file, and more than 268435456 bytes"):
        pgtools.load("/dev/zero")
    assert time.monotonic() - t0 < 30


def test_cli_table_dev_zero_ends_with_an_error(monkeypatch):
    monkeypatch.setenv("PGTOOLS_MAX_INPUT_BYTES", "4M")
    r = _cli("table", "/dev/zero", timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith("pgtools: error: /dev/zero: not a regular file, and more than 4194304 bytes")


def test_regular_file_over_the_limit_is_refused_unread():
    with pytest.raises(DumpFormatError, match=r"osd_dump.json: \d+ bytes: more than 1000 bytes, the input limit"):
        pgtools.load(SEED_OSD, max_bytes=1000)


def test_decompression_is_bounded(tmp_path):
    bomb = tmp_path / "pg_dump.txt.gz"
    bomb.write_bytes(gzip.compress(SEED_PG.read_bytes() * 8, 9))
    with pytest.raises(DumpFormatError, match=r"pg_dump.txt.gz: decompresses to more than 2000000 bytes"):
        pgtools.load(bomb, max_bytes=2_000_000)
    xz = tmp_path / "pg_dump.txt.xz"
    xz.write_bytes(lzma.compress(SEED_PG.read_bytes()))
    with pytest.raises(DumpFormatError, match=r"pg_dump.txt.xz: decompresses to more than 100000 bytes"):
        pgtools.load(xz, max_bytes=100_000)
    assert len(pgtools.load(xz).pgs) == 1920


def test_bad_limit_in_the_environment_is_an_error(monkeypatch):
    monkeypatch.setenv("PGTOOLS_MAX_INPUT_BYTES", "lots")
    with pytest.raises(DumpFormatError, match=r"PGTOOLS_MAX_INPUT_BYTES: not a positive size: 'lots'"):
        pgtools.load(SEED_OSD)


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pgtools", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)


def test_osd_tree_and_crush_dump_of_other_clusters_are_refused():
    # without a binary map nothing compared the two CRUSH sources: the first was used in silence
    with pytest.raises(SnapshotConflictError, match=r"put OSD\(s\) osd.0, .* under other hosts \(osd.0: "):
        pgtools.load([SEED / "osd_tree.txt", MIXED / "crush_dump.json"])
    pgtools.load([SEED / "osd_tree.txt", SEED / "crush_dump.json"])
