"""Tests of the plain-text ``ceph pg dump`` parser (all releases, all sub-dumps)."""

from __future__ import annotations

import importlib.util
import json
import re
import textwrap
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.errors import DumpFormatError
from pgtools.io import pg_dump_plain
from pgtools.io._common import NONE
from tests.paths import PUBLIC, REAL, REPO, TEST_DATA

FIX = TEST_DATA / "pg_plain"
LEAD = ["pgid", "pool_id", "ps", "state", "up", "up_primary", "acting", "acting_primary"]


def _parse(path):
    return pg_dump_plain.parse(path.read_text(), source=path.name)


def _row(df, pgid):
    rows = df[df["pgid"] == pgid]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.fixture(scope="module")
def real_dump():
    return _parse(REAL / "pg_dump.txt")


# --------------------------------------------------------------------------------------------------
# the real Pacific 16.2.15 capture


def test_real_pg_dump_counts(real_dump):
    frag = real_dump
    assert frag.kind == "pg_dump"
    assert frag.release == "octopus+"
    assert frag.epoch is None  # last_osdmap_epoch 0 is ignored
    assert len(frag.pgs) == 1920
    assert len(frag.pool_stats) == 15
    assert len(frag.osd_stats) == 12
    assert list(frag.pgs.columns[:8]) == LEAD
    assert "pool" not in frag.pgs.columns
    assert frag.pgs["pgid"].iloc[0] == "15.73"  # input order kept
    assert frag.extra["pgmap_version"] == 172
    assert frag.extra["stamp"] == "2026-11-24T05:37:26.300785+0000"
    assert frag.extra["pg_sum"]["objects"] == 7350
    assert frag.extra["pg_sum"]["bytes"] == 424935493
    assert frag.extra["osd_sum"] == {"kb_used": 1258291, "kb_avail": 124780544, "kb_used_raw": 1258291,
                                     "kb": 125829120}
    assert frag.extra["notes"][0].startswith("* NOTE: Omap statistics")


def test_real_pg_dump_dtypes(real_dump):
    pgs = real_dump.pgs
    assert str(pgs["pool_id"].dtype) == "int64"
    assert str(pgs["ps"].dtype) == "int64"
    assert str(pgs["up_primary"].dtype) == "int64"
    assert str(pgs["acting_primary"].dtype) == "int64"
    for col in ("objects", "bytes", "omap_bytes", "omap_keys", "log_size", "ondisk_log_size",
                "missing_on_primary", "degraded", "misplaced", "unfound", "snaptrimq_len"):
        assert str(pgs[col].dtype) == "Int64", col
    assert list(pgs.columns[8:]) == [
        "objects", "bytes", "omap_bytes", "omap_keys", "log_size", "ondisk_log_size", "missing_on_primary",
        "degraded", "misplaced", "unfound", "state_stamp", "version", "reported", "last_scrub", "scrub_stamp",
        "last_deep_scrub", "deep_scrub_stamp", "snaptrimq_len"]


def test_real_pg_1_0_matches_text(real_dump):
    text = (REAL / "pg_dump.txt").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("1.0 "))
    cells = line.split()
    up = tuple(int(x) for x in cells[15][1:-1].split(","))
    acting = tuple(int(x) for x in cells[17][1:-1].split(","))
    row = _row(real_dump.pgs, "1.0")
    assert row["up"] == up and row["acting"] == acting
    assert row["up_primary"] == int(cells[16]) and row["acting_primary"] == int(cells[18])
    # and hard-coded
    assert row["up"] == (11, 7, 3)
    assert row["acting"] == (11, 7, 3)
    assert row["up_primary"] == 11 and row["acting_primary"] == 11
    assert row["pool_id"] == 1 and row["ps"] == 0
    assert row["objects"] == 41 and row["bytes"] == 2625536 and row["log_size"] == 41
    assert row["state"] == "active+clean"
    assert row["state_stamp"] == "2026-11-24T05:35:32.384736+0000"
    assert row["version"] == "101'41" and row["reported"] == "101:108"


def test_real_pg_dump_equals_json(real_dump):
    doc = json.loads((REAL / "pg_dump.json").read_text())
    want = {e["pgid"]: (tuple(e["up"]), e["up_primary"], tuple(e["acting"]), e["acting_primary"], e["state"])
            for e in doc["pg_map"]["pg_stats"]}
    pgs = real_dump.pgs
    got = {p: (u, up, a, ap, s) for p, u, up, a, ap, s in zip(
        pgs["pgid"], pgs["up"], pgs["up_primary"], pgs["acting"], pgs["acting_primary"], pgs["state"],
        strict=True)}
    assert len(want) == 1920
    assert got == want
    objects = {e["pgid"]: e["stat_sum"]["num_objects"] for e in doc["pg_map"]["pg_stats"]}
    assert dict(zip(pgs["pgid"], pgs["objects"].astype(int), strict=True)) == objects


def test_real_pg_dump_up_sizes_per_pool(real_dump):
    pgs = real_dump.pgs
    per_pool = pgs.assign(n=pgs["up"].map(len)).groupby("pool_id")["n"].sum()
    assert sorted(per_pool.index) == list(range(1, 16))
    assert set(per_pool) == {384}
    assert Counter(pgs["pool_id"]) == {p: 128 for p in range(1, 16)}


def test_real_pool_rows_and_osd_table(real_dump):
    ps = real_dump.pool_stats
    assert list(ps.columns) == ["pool_id", "objects", "missing_on_primary", "degraded", "misplaced",
                                "unfound", "bytes", "omap_bytes", "omap_keys", "log_size", "ondisk_log_size"]
    assert ps["pool_id"].tolist()[:3] == [15, 14, 1]
    r = ps[ps["pool_id"] == 1].iloc[0]
    assert (r["objects"], r["bytes"], r["log_size"]) == (4956, 323436571, 4956)
    osd = real_dump.osd_stats
    assert list(osd.columns) == ["osd_id", "kb_used", "kb_avail", "kb_used_raw", "kb", "hb_peers", "pgs",
                                 "primary_pgs"]
    o = osd[osd["osd_id"] == 11].iloc[0]
    assert o["kb_used"] == 123 * 1024
    assert o["kb_avail"] == round(9.9 * 1024 * 1024)
    assert o["kb"] == 10 * 1024 * 1024
    assert o["hb_peers"] == (0, 1, 2, 3, 4, 5, 6, 7, 8, 10)
    assert (o["pgs"], o["primary_pgs"]) == (493, 154)
    assert int(osd["primary_pgs"].sum()) == 1920


def test_real_pgs_brief():
    frag = _parse(REAL / "pg_dump_pgs_brief.txt")
    assert frag.kind == "pg_dump_pgs_brief"
    assert frag.release == "octopus+"
    assert list(frag.pgs.columns) == LEAD
    assert len(frag.pgs) == 1920
    r = _row(frag.pgs, "6.78")
    assert (r["state"], r["up"], r["up_primary"], r["acting"], r["acting_primary"]) == (
        "active+clean", (1, 11, 5), 1, (1, 11, 5), 1)
    doc = json.loads((REAL / "pg_dump_pgs_brief.json").read_text())
    want = {e["pgid"]: (tuple(e["up"]), tuple(e["acting"])) for e in doc["pg_stats"]}
    got = dict(zip(frag.pgs["pgid"], zip(frag.pgs["up"], frag.pgs["acting"], strict=True), strict=True))
    assert got == want


def test_real_pools():
    frag = _parse(REAL / "pg_dump_pools.txt")
    assert frag.kind == "pg_dump_pools"
    assert frag.release == "octopus+"
    assert frag.pgs is None and frag.osd_stats is None
    ps = frag.pool_stats
    assert len(ps) == 15
    r = ps[ps["pool_id"] == 13].iloc[0]
    assert (r["objects"], r["bytes"], r["ondisk_log_size"]) == (261, 13844483, 261)
    assert int(ps["objects"].sum()) == 7350


def test_real_osds():
    frag = _parse(REAL / "pg_dump_osds.txt")
    assert frag.kind == "pg_dump_osds"
    assert frag.release == "octopus+"
    osd = frag.osd_stats
    assert osd["osd_id"].tolist() == [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    o = osd[osd["osd_id"] == 7].iloc[0]
    assert (o["kb_used"], o["kb_used_raw"], o["pgs"], o["primary_pgs"]) == (122 * 1024, 122 * 1024, 495, 177)
    assert o["hb_peers"] == (0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11)
    assert frag.extra["osd_sum"]["kb"] == 120 * 1024 * 1024


def test_sniff_real_files():
    for name in ("pg_dump.txt", "pg_dump_pgs_brief.txt", "pg_dump_pools.txt", "pg_dump_osds.txt"):
        assert pg_dump_plain.sniff((REAL / name).read_text(), None), name
    assert not pg_dump_plain.sniff((REAL / "pg_ls.txt").read_text(), None)
    assert not pg_dump_plain.sniff((REAL / "osd_df.txt").read_text(), None)
    text = (REAL / "pg_dump.json").read_text()
    assert not pg_dump_plain.sniff(text, json.loads(text))


# --------------------------------------------------------------------------------------------------
# public samples


def test_public_04_hammer_pg_ls_tabs():
    frag = _parse(PUBLIC / "04_hammer_pg_ls_plain_tabs.txt")
    assert frag.release == "jewel"
    assert frag.pgs["pgid"].tolist() == ["0.0", "0.1", "0.2"]
    r = _row(frag.pgs, "0.2")
    assert (r["up"], r["up_primary"], r["acting"], r["acting_primary"]) == ((3, 1, 5), 3, (3, 1, 5), 3)
    assert (r["objects"], r["bytes"], r["log_size"], r["ondisk_log_size"]) == (18, 75497472, 3039, 3039)
    assert r["state_stamp"] == "2015-07-02 10:12:39.569630"
    assert r["version"] == "226'17447"
    assert r["deep_scrub_stamp"] == "2015-07-01 18:17:01.904199"


def test_public_06_octopus_summary_pools_osds():
    frag = _parse(PUBLIC / "06_octopus_pg_dump_summary_pools_osds_plain.txt")
    assert frag.kind == "pg_dump_summary"
    assert frag.release == "octopus+"
    assert frag.pgs is None
    assert frag.extra["pgmap_version"] == 129636
    assert frag.extra["pg_sum"] == {"objects": 25009, "missing_on_primary": 0, "degraded": 0, "misplaced": 0,
                                    "unfound": 0, "bytes": 55473487490, "omap_bytes": 1279458,
                                    "omap_keys": 98929}
    # the damaged POOLID header (MISSING_ON_PRIMARY lost) is repaired from the standard columns
    ps = frag.pool_stats
    assert len(ps) == 16
    r = ps[ps["pool_id"] == 32].iloc[0]
    assert (r["objects"], r["bytes"], r["omap_bytes"], r["omap_keys"], r["log_size"]) == (
        12038, 50237747772, 1175, 103, 230054)
    assert any("POOLID header" in w for w in frag.extra["warnings"])
    osd = frag.osd_stats
    assert osd["osd_id"].tolist() == [6, 1, 0, 2, 3, 4, 5]
    o5 = osd[osd["osd_id"] == 5].iloc[0]
    assert (o5["kb"], o5["hb_peers"], o5["pgs"]) == (0, (), 0)
    o4 = osd[osd["osd_id"] == 4].iloc[0]
    assert (o4["kb"], o4["kb_avail"], o4["primary_pgs"]) == (100 * 1024 * 1024, 69 * 1024 * 1024, 151)
    assert frag.extra["osd_sum"]["kb"] == 350 * 1024 * 1024


def test_public_09_quincy_scrub_columns():
    path = PUBLIC / "09_quincy_dev_pg_dump_objects_scrubbed_pr42735.txt"
    text = path.read_text()
    # the excerpt ends in a truncated row: that is an error, with its line
    with pytest.raises(DumpFormatError) as ei:
        pg_dump_plain.parse(text, source=path.name)
    assert ei.value.line == 6 and ei.value.source == path.name
    whole = "\n".join(text.splitlines()[:5]) + "\n"
    frag = pg_dump_plain.parse(whole, source=path.name)
    assert frag.release == "quincy+"
    assert frag.pgs["pgid"].tolist() == ["1.63", "1.62"]
    r = _row(frag.pgs, "1.63")
    assert r["scrub_schedule"] == "queued for scrub"
    assert (r["up"], r["acting_primary"], r["objects"], r["objects_scrubbed"]) == ((1, 0, 2), 1, 10, 0)
    assert r["last_scrub_duration"] == 0 and r["snaptrimq_len"] == 0
    assert r["state_stamp"] == "2022-01-13T18:03:34.044849+0530"


# --------------------------------------------------------------------------------------------------
# synthetic fixtures (tests/data/pg_plain, written by make_fixtures.py)


def test_jewel_tabs():
    frag = _parse(FIX / "jewel_pg_dump.txt")
    assert (frag.kind, frag.release, frag.epoch) == ("pg_dump", "jewel", 42)
    assert frag.osdmap == {"full_ratio": 0.95, "nearfull_ratio": 0.85}
    pgs = frag.pgs
    assert pgs["pgid"].tolist() == ["1.0", "2.1a", "1.1"]
    ec = _row(pgs, "2.1a")
    assert (ec["pool_id"], ec["ps"]) == (2, 26)
    assert ec["up"] == (1, NONE, 5) and ec["acting"] == (1, NONE, 5)
    assert ec["state_stamp"] == "2017-05-18 10:13:00.000001"
    assert ec["degraded"] == 3 and ec["missing_on_primary"] == 0
    new = _row(pgs, "1.1")
    assert (new["state"], new["up"], new["up_primary"], new["acting"], new["acting_primary"]) == (
        "creating", (), -1, (), -1)
    assert new["scrub_stamp"] == "0.000000"
    assert frag.pool_stats["pool_id"].tolist() == [1, 2]
    assert frag.pool_stats["bytes"].tolist() == [50331648, 12582912]
    assert frag.extra["pg_sum"]["objects"] == 15
    osd = frag.osd_stats
    assert osd["osd_id"].tolist() == [0, 1, 2]
    assert osd["kb_used"].tolist() == [1048576, 2097152, 0]
    assert osd["hb_peers"].tolist() == [(1, 2, 4, 5), (0, 2, 4, 5), ()]
    assert osd["hb_out"].tolist() == [(), (), ()]
    assert frag.extra["osd_sum"] == {"kb_used": 3145728, "kb_avail": 17825792, "kb": 31457280}


def test_jewel_pgs_brief_holes():
    frag = _parse(FIX / "jewel_pgs_brief.txt")
    assert (frag.kind, frag.release) == ("pg_dump_pgs_brief", "jewel")
    r = _row(frag.pgs, "2.1a")
    assert r["up"] == (1, NONE, 5) and r["acting"] == (1, NONE, 5)


def test_luminous_style_a():
    frag = _parse(FIX / "luminous_pg_dump.txt")
    assert (frag.kind, frag.release) == ("pg_dump", "luminous")
    pgs = frag.pgs
    assert len(pgs) == 3 and "omap_bytes" not in pgs.columns
    r = _row(pgs, "3.10")
    assert r["up"] == (1, 2, 0) and r["acting"] == (0, 2, 1)
    assert (r["up_primary"], r["acting_primary"]) == (1, 0)
    assert r["state"] == "active+remapped+backfill_wait"
    assert r["state_stamp"] == "2018-06-01 08:05:11.123456"
    assert r["scrub_stamp"] == "0.000000" and r["last_deep_scrub"] == "0'0"
    assert r["snaptrimq_len"] == 2 and r["misplaced"] == 7
    u = _row(pgs, "0.0")
    assert (u["state"], u["up"], u["up_primary"]) == ("unknown", (), -1)
    assert frag.pool_stats["pool_id"].tolist() == [3, 0]
    assert frag.extra["pg_sum"]["bytes"] == 532676608
    osd = frag.osd_stats
    assert osd["kb_used"].tolist() == [1048576, 1048576, 288]
    assert osd["kb"].tolist() == [10485760] * 3
    assert frag.extra["osd_sum"]["kb_avail"] == 28 * 1024 * 1024


def test_nautilus_omap_style_a():
    frag = _parse(FIX / "nautilus_pg_dump.txt")
    assert (frag.kind, frag.release) == ("pg_dump", "nautilus")
    r = _row(frag.pgs, "3.7")
    assert (r["omap_bytes"], r["omap_keys"], r["log_size"]) == (1024, 12, 1520)
    assert r["deep_scrub_stamp"] == "2018-05-30 07:00:00.000001"
    assert list(frag.pool_stats.columns)[7:9] == ["omap_bytes", "omap_keys"]
    assert frag.pool_stats["omap_keys"].tolist() == [12, 0]
    osd = frag.osd_stats
    assert osd["kb_used_raw"].tolist() == [round(1.1 * 1024 * 1024), round(1.1 * 1024 * 1024), 1331]
    assert frag.extra["notes"] and frag.extra["osd_sum"]["kb_used_raw"] == round(2.2 * 1024 * 1024)


def test_reef_scrub_scheduling_free_text():
    frag = _parse(FIX / "reef_pg_dump.txt")
    assert (frag.kind, frag.release) == ("pg_dump", "quincy+")
    pgs = frag.pgs
    assert pgs["pgid"].tolist() == ["1.63", "4.0", "4.1", "5.0", "1.62"]
    assert pgs["scrub_schedule"].tolist() == [
        "periodic scrub scheduled @ 2024-01-14T18:03:34.044849+0530", "queued for deep scrub", "--", "--",
        "scrubbing for 12s"]
    assert pgs["objects_scrubbed"].tolist() == [10, 0, 0, 0, 2]
    assert pgs["objects_trimmed"].tolist() == [0, 0, 7, 0, 0]
    assert pgs["last_scrub_duration"].tolist() == [2, 0, 0, 0, 0]
    assert pgs["log_dups_size"].tolist() == [0, 3, 0, 0, 0]
    ec = _row(pgs, "4.1")
    assert ec["up"] == (NONE, 4, 3) and ec["acting"] == (NONE, 4, 3) and ec["up_primary"] == 4
    unknown = _row(pgs, "5.0")
    assert (unknown["up"], unknown["up_primary"], unknown["acting"], unknown["acting_primary"]) == (
        (), -1, (), -1)
    assert unknown["state_stamp"] == "0.000000"
    assert frag.pool_stats["pool_id"].tolist() == [5, 4, 1]
    o3 = frag.osd_stats[frag.osd_stats["osd_id"] == 3].iloc[0]
    assert (o3["kb"], o3["hb_peers"]) == (0, ())
    assert frag.extra["osd_sum"]["kb_used"] == 40 * 1024


# --------------------------------------------------------------------------------------------------
# hand-written edge cases


def _reef_lines():
    return (FIX / "reef_pg_dump.txt").read_text().splitlines()


def test_bad_up_cell_is_located():
    lines = _reef_lines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("4.1 "))
    lines[k] = lines[k].replace("[NONE,4,3]", "[NONE,4;3]", 1)
    with pytest.raises(DumpFormatError) as ei:
        pg_dump_plain.parse("\n".join(lines), source="bad.txt")
    e = ei.value
    assert (e.source, e.line, e.field) == ("bad.txt", k + 1, "UP")
    assert str(e) == f"bad.txt:{k + 1}: UP: not an OSD list: '[NONE,4;3]'"


def test_bad_integer_cell_is_located():
    lines = _reef_lines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("1.62 "))
    lines[k] = re.sub(r"^1\.62(\s+)3 ", r"1.62\g<1>x ", lines[k])
    with pytest.raises(DumpFormatError) as ei:
        pg_dump_plain.parse("\n".join(lines), source="bad.txt")
    assert (ei.value.line, ei.value.field) == (k + 1, "OBJECTS")


def test_short_row_and_bad_pgid():
    text = textwrap.dedent("""\
        PG_STAT  STATE         UP       UP_PRIMARY  ACTING   ACTING_PRIMARY
        1.0      active+clean  [0,1,2]           0  [0,1,2]               0
        1.1      active+clean  [0,1,2]           0
        """)
    with pytest.raises(DumpFormatError) as ei:
        pg_dump_plain.parse(text, source="s.txt")
    assert ei.value.line == 3
    with pytest.raises(DumpFormatError) as ei:
        pg_dump_plain.parse(text.replace("1.0 ", "1.g ").replace("0\n1.1", "0\n"), source="s.txt")
    assert (ei.value.line, ei.value.field) == (2, "PG_STAT")


def test_no_table_and_duplicate_pgid():
    with pytest.raises(DumpFormatError, match="no pg dump table"):
        pg_dump_plain.parse("hello\nworld\n", source="x")
    with pytest.raises(DumpFormatError, match="no pg dump table"):
        pg_dump_plain.parse("", source="x")
    text = textwrap.dedent("""\
        PG_STAT  STATE         UP       UP_PRIMARY  ACTING   ACTING_PRIMARY
        1.0      active+clean  [0,1,2]           0  [0,1,2]               0
        1.0      active+clean  [0,1,2]           0  [0,1,2]               0
        """)
    with pytest.raises(DumpFormatError, match="duplicate pgid 1.0"):
        pg_dump_plain.parse(text, source="x")


def test_dumped_lines_anywhere_and_unknown_columns():
    text = textwrap.dedent("""\
        dumped pgs_brief
        PG_STAT  STATE         UP         UP_PRIMARY  ACTING     ACTING_PRIMARY  NEW_THING*
        2.3      active+clean  [0,1,2]             0  [0,1,2]                 0  abc
        dumped pgs_brief
        2.4      active+clean  [1,NONE]            1  [1,NONE]                1  def
        Warning: due to ceph-mgr restart, some PG states may not be up to date
        """)
    frag = pg_dump_plain.parse(text)
    assert frag.pgs["pgid"].tolist() == ["2.3", "2.4"]
    assert frag.pgs["new_thing"].tolist() == ["abc", "def"]
    assert frag.pgs["up"].tolist() == [(0, 1, 2), (1, NONE)]


def test_pg_row_after_the_table_is_an_error():
    text = textwrap.dedent("""\
        PG_STAT  STATE         UP       UP_PRIMARY  ACTING   ACTING_PRIMARY
        1.0      active+clean  [0,1,2]           0  [0,1,2]               0

        1.1      active+clean  [0,1,2]           0  [0,1,2]               0
        """)
    with pytest.raises(DumpFormatError) as ei:
        pg_dump_plain.parse(text)
    assert ei.value.line == 4


# --------------------------------------------------------------------------------------------------
# robustness (hypothesis)

_REAL_LINES = (REAL / "pg_dump.txt").read_text().splitlines()
_BASES = [_REAL_LINES[:12] + _REAL_LINES[1925:]] + [
    (FIX / name).read_text().splitlines() for name in ("jewel_pg_dump.txt", "luminous_pg_dump.txt",
                                                        "reef_pg_dump.txt")]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_arbitrary_text_raises_only_dump_format_error(text):
    assert pg_dump_plain.sniff(text, None) in (True, False)
    try:
        pg_dump_plain.parse(text)
    except DumpFormatError:
        pass


_TOKENS = st.sampled_from(["", " ", "  ", "\t", "\t\t", " sum\t", "hb in", "queued for scrub", "NONE",
                           "[", "]", ",", "-1", "0", "99999999999999999999",
                           "sum", "pool 1", "PG_STAT", "OSD_STAT", "POOLID", "1.0", "x", "GiB", " B",
                           "dumped all", "* NOTE:", "\n", "2019-02-27 07:08:43.559261", "[1,2]p1"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_BASES) - 1),
       st.lists(st.tuples(st.integers(0, 80), st.integers(0, 400), st.integers(0, 6), _TOKENS),
                min_size=1, max_size=4))
def test_mutated_real_lines_raise_only_dump_format_error(base, edits):
    lines = list(_BASES[base])
    for idx, pos, cut, tok in edits:
        idx %= len(lines)
        ln = lines[idx]
        pos = min(pos, len(ln))
        lines[idx] = ln[:pos] + tok + ln[pos + cut:]
    text = "\n".join(lines)
    assert pg_dump_plain.sniff(text, None) in (True, False)
    try:
        frag = pg_dump_plain.parse(text)
    except DumpFormatError as e:  # an inserted "\n" token adds lines: count them in the text
        assert e.line is None or 1 <= e.line <= text.count("\n") + 1
    else:
        assert frag.kind.startswith("pg_dump")


# --------------------------------------------------------------------------------------------------
# performance (the benchmark's synthetic 100k-PG dump)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_parse", REPO / "benchmarks" / "bench_parse.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_synthetic_dump_rows():
    bench = _bench()
    text = bench.synthetic_pg_dump(n_pgs=20_000)
    frag = pg_dump_plain.parse(text)
    assert len(frag.pgs) == 20_000
    assert Counter(frag.pgs["pool_id"]) == {1: 8192, 2: 8192, 3: 3616}
    assert frag.pgs["pgid"].iloc[8192] == "2.0"
    assert all(len(u) == 3 for u in frag.pgs["up"])
    assert (frag.pgs["up_primary"] == frag.pgs["up"].map(lambda u: u[0])).all()


def test_benchmark_100k_pgs():
    result = _bench().run()
    assert result["pgs"] == 100_000
    # the target is 1 s on an idle machine; the bounds leave room for a shared CI box
    assert result["cpu_seconds"] < 3.0
    assert result["seconds"] < 20.0
    assert result["rss_mb"] > 0


def test_jewel_with_tabs_expanded_to_spaces():
    text = (FIX / "jewel_pg_dump.txt").read_text().expandtabs(4)
    frag = pg_dump_plain.parse(text)
    assert frag.release == "jewel"
    r = _row(frag.pgs, "2.1a")
    assert (r["up"], r["state_stamp"], r["deep_scrub_stamp"]) == (
        (1, NONE, 5), "2017-05-18 10:13:00.000001", "2017-05-17 18:17:01.904198")
    assert frag.pool_stats["pool_id"].tolist() == [1, 2]
    assert frag.osd_stats["hb_in"].tolist() == [(1, 2, 4, 5), (0, 2, 4, 5), ()]
    assert frag.extra["osd_sum"]["kb"] == 31457280


def test_summary_style_b_and_jewel():
    text = textwrap.dedent("""\
        version 10
        stamp 2024-01-13T18:05:00.000001+0530
        last_osdmap_epoch 0
        last_pg_scan 0
        PG_STAT  OBJECTS  DEGRADED  MISPLACED  UNFOUND  BYTES     OMAP_BYTES*  OMAP_KEYS*  LOG  DISK_LOG
        sum           19         1          0        0  79691776            0           0   19        19
        OSD_STAT  USED    AVAIL    USED_RAW  TOTAL
        sum       40 MiB  200 GiB   2.0 GiB  202 GiB

        * NOTE: Omap statistics are gathered during deep scrub
        """)
    frag = pg_dump_plain.parse(text)
    assert (frag.kind, frag.release, frag.pgs, frag.osd_stats) == ("pg_dump_summary", "octopus+", None, None)
    assert frag.extra["pg_sum"] == {"objects": 19, "degraded": 1, "misplaced": 0, "unfound": 0,
                                    "bytes": 79691776, "omap_bytes": 0, "omap_keys": 0, "log_size": 19,
                                    "ondisk_log_size": 19}
    assert frag.extra["osd_sum"] == {"kb_used": 40960, "kb_avail": 209715200, "kb_used_raw": 2097152,
                                     "kb": 211812352}
    jewel = ("version 5\nstamp 2017-05-18 10:14:00.123456\nlast_osdmap_epoch 42\nlast_pg_scan 40\n"
             "full_ratio 0.95\nnearfull_ratio 0.85\n"
             "pg_stat\tobjects\tmip\tdegr\tmisp\tunf\tbytes\tlog\tdisklog\n"
             " sum\t15\t0\t3\t0\t0\t62914560\t33\t33\n"
             "osdstat\tkbused\tkbavail\tkb\n sum\t3145728\t17825792\t31457280\n")
    frag = pg_dump_plain.parse(jewel)
    assert (frag.kind, frag.release, frag.epoch) == ("pg_dump_summary", "jewel", 42)
    assert frag.extra["pg_sum"]["degraded"] == 3
    assert frag.extra["osd_sum"] == {"kb_used": 3145728, "kb_avail": 17825792, "kb": 31457280}


def test_fixtures_match_their_generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIX / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, make in mod.FIXTURES.items():
        assert (FIX / name).read_text() == make(), name


def test_texttable_pgs_brief_with_hole_numbers():
    text = textwrap.dedent("""\
        PG_STAT  STATE                       UP                UP_PRIMARY  ACTING            ACTING_PRIMARY
        7.1f     active+undersized+degraded  [2147483647,3,1]           3  [2147483647,3,1]               3
        7.1e     unknown                     []                        -1  []                            -1
        dumped pgs_brief
        """)
    frag = pg_dump_plain.parse(text)
    assert (frag.kind, frag.release) == ("pg_dump_pgs_brief", "octopus+")
    assert frag.pgs["up"].tolist() == [(NONE, 3, 1), ()]
    assert frag.pgs["ps"].tolist() == [31, 30]
    assert frag.pgs["acting_primary"].tolist() == [3, -1]


def test_pools_and_osds_together():
    text = (REAL / "pg_dump_pools.txt").read_text() + (REAL / "pg_dump_osds.txt").read_text()
    frag = pg_dump_plain.parse(text)
    assert frag.kind == "pg_dump_pools"
    assert (len(frag.pool_stats), len(frag.osd_stats)) == (15, 12)


def test_real_pool_and_osd_tables_agree_with_json(real_dump):
    doc = json.loads((REAL / "pg_dump.json").read_text())["pg_map"]
    pools = {p["poolid"]: (p["stat_sum"]["num_objects"], p["stat_sum"]["num_bytes"], p["log_size"],
                           p["ondisk_log_size"]) for p in doc["pool_stats"]}
    ps = real_dump.pool_stats
    got = {int(r.pool_id): (int(r.objects), int(r.bytes), int(r.log_size), int(r.ondisk_log_size))
           for r in ps.itertuples()}
    assert got == pools
    osd = real_dump.osd_stats.set_index("osd_id")
    for o in doc["osd_stats"]:
        row = osd.loc[o["osd"]]
        assert row["hb_peers"] == tuple(o["hb_peers"])
        assert row["pgs"] == o["num_pgs"]
        assert row["kb"] == o["kb"]
        # plain sizes carry two or three significant digits
        assert abs(row["kb_used_raw"] - o["kb_used"]) <= 0.01 * o["kb_used"]
        assert abs(row["kb_avail"] - o["kb_avail"]) <= 0.01 * o["kb_avail"]
