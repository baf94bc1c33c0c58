"""pgtools.load: sniffing by content, merging a capture, conflicts."""

from __future__ import annotations

import shutil

import pytest

import pgtools
from pgtools.errors import DumpFormatError, SnapshotConflictError
from pgtools.placement import map_pgs, verify_placement
from tests.paths import REAL, SAMPLE_DUMPS


def test_load_plain_capture():
    snap = pgtools.load(SAMPLE_DUMPS / "seedlike_max300")
    assert len(snap.pgs) == 1920
    assert len(snap.pools) == 15 and list(snap.pools.pool_id) == list(range(1, 16))
    assert list(snap.osds.osd_id) == list(range(12))
    assert snap.pools.set_index("pool_id").loc[13, "pool"] == "default.rgw.buckets.data"
    assert (snap.pgs.pool != "").all()
    assert snap.crush is not None
    assert snap.epoch == 101
    assert snap.config.get("mon_max_pg_per_osd") in ("300", 300)
    assert snap.meta["conflicts"] == []
    assert set(snap.osds.host) == {"node1", "node2", "node3", "node4"}


def test_json_capture_equals_plain_capture():
    a = pgtools.load(SAMPLE_DUMPS / "seedlike_max300")
    b = pgtools.load(SAMPLE_DUMPS / "seedlike_max300_json")
    ka = a.pgs.set_index("pgid")[["up", "acting", "up_primary", "acting_primary"]].sort_index()
    kb = b.pgs.set_index("pgid")[["up", "acting", "up_primary", "acting_primary"]].sort_index()
    assert ka.equals(kb)
    assert list(a.pools.pool) == list(b.pools.pool)


def test_single_file_and_several_files():
    snap = pgtools.load(REAL / "pg_dump.txt")
    assert len(snap.pgs) == 1920
    both = pgtools.load([REAL / "pg_dump.txt", REAL / "osd_dump.json"])
    assert both.pools.pool.iloc[0] == "rbd"


def test_conflicting_pg_tables_are_reported(tmp_path):
    shutil.copy(REAL / "pg_dump.txt", tmp_path / "a.txt")
    text = (REAL / "pg_dump_pgs_brief.txt").read_text()
    # move PG 1.0's up set somewhere else in the second file
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("1.0 "):
            cells = ln.split()
            cells[2] = "[11,10,9]"
            lines[i] = "  ".join(cells)
    (tmp_path / "b.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(SnapshotConflictError, match="1.0"):
        pgtools.load(tmp_path)
    with pytest.warns(UserWarning):
        snap = pgtools.load(tmp_path, on_conflict="warn")
    assert snap.meta["conflicts"]


def test_different_epochs_are_a_conflict(tmp_path):
    import json

    doc = json.loads((REAL / "osd_dump.json").read_text())
    (tmp_path / "one.json").write_text(json.dumps(doc))
    doc["epoch"] = 99
    (tmp_path / "two.json").write_text(json.dumps(doc))
    with pytest.raises(SnapshotConflictError, match="epoch"):
        pgtools.load(tmp_path)


def test_unrecognised_inputs(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello\nworld\n")
    with pytest.raises(DumpFormatError, match="notes.txt"):
        pgtools.load(f)
    with pytest.raises(DumpFormatError, match="no recognised dump"):
        pgtools.load(tmp_path)
    with pytest.raises(DumpFormatError, match="no such file"):
        pgtools.load(tmp_path / "missing")
    # a folder skips what it does not know
    shutil.copy(REAL / "pg_dump.txt", tmp_path / "pg.txt")
    snap = pgtools.load(tmp_path)
    assert str(f) in snap.meta["skipped"]


def test_snapshot_recomputes_its_own_placement():
    snap = pgtools.load(SAMPLE_DUMPS / "seedlike_max300_json")
    assert len(verify_placement(snap)) == 0
    m = map_pgs(snap, 5)
    assert len(m) == 128 and set(m.pool_id) == {5}
    ref = snap.pgs.set_index("pgid").loc[list(m.pgid)]
    assert list(ref.up) == list(m.up)


def test_submodules_are_reachable_lazily():
    import sys

    assert pgtools.placement.map_pgs is not None
    assert pgtools.placement.pgmath.split_children(3, 8, 32) == [11, 19, 27]
    assert "pgtools.plotting" in sys.modules or pgtools.plotting.pg_heatmap is not None
    with pytest.raises(AttributeError):
        pgtools.nosuchthing  # noqa: B018


def test_snapshot_pool_by_name_or_id():
    from pgtools.errors import UnknownPoolError

    snap = pgtools.load(SAMPLE_DUMPS / "seedlike_max300")
    first = snap.pools.iloc[0]
    assert snap.pool(first["pool"])["pool_id"] == first["pool_id"]
    assert snap.pool(int(first["pool_id"]))["pool"] == first["pool"]
    assert snap.pool(str(first["pool_id"]))["pool"] == first["pool"]  # digits: an id when no pool has that name
    assert snap.pool_id(first["pool"]) == first["pool_id"]
    named = snap.replace(pools=snap.pools.assign(pool=snap.pools["pool"].where(snap.pools.index != 1, "1")))
    assert named.pool("1")["pool_id"] == named.pools.iloc[1]["pool_id"]  # a pool named "1" wins over id 1
    for bad in ("nosuchpool", 999, "999", None):
        with pytest.raises(UnknownPoolError, match=r"no pool .* \(pools: .*\(\d+\)"):
            snap.pool(bad)
    with pytest.raises(LookupError):  # a LookupError, like a missing key in pandas
        snap.pool("nosuchpool")


def test_two_clusters_one_readable_error():
    """Two clusters' captures disagree on nearly everything: the error names the decisive conflicts (fsid, epoch)
    and counts the rest, instead of a line of thousands of characters; on_conflict='warn' keeps them all."""
    paths = [SAMPLE_DUMPS / "mixed", SAMPLE_DUMPS / "seedlike_max300"]
    with pytest.raises(SnapshotConflictError) as err:
        pgtools.load(paths)
    msg = str(err.value)
    assert msg.startswith("files come from different clusters (fsid ") and "different osdmap epochs" in msg
    assert len(msg) < 800 and msg.endswith("more disagreements (pgtools.load(..., on_conflict='warn') lists them all)")
    with pytest.warns(Warning):
        snap = pgtools.load(paths, on_conflict="warn")
    n = int(msg.rsplit("; and ", 1)[1].split()[0])
    assert sum(w.count("; ") for w in snap.warnings) >= n + 1
