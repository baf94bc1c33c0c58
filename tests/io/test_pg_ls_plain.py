"""Tests of the plain-text ``ceph pg ls`` parser."""

from __future__ import annotations

import json
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.errors import DumpFormatError
from pgtools.io import pg_dump_plain, pg_ls_plain
from pgtools.io._common import NONE
from tests.paths import PUBLIC, REAL, TEST_DATA

FIX = TEST_DATA / "pg_plain"
LEAD = ["pgid", "pool_id", "ps", "state", "up", "up_primary", "acting", "acting_primary"]


def _parse(path):
    return pg_ls_plain.parse(path.read_text(), source=path.name)


def _row(df, pgid):
    rows = df[df["pgid"] == pgid]
    assert len(rows) == 1
    return rows.iloc[0]


@pytest.fixture(scope="module")
def real_ls():
    return _parse(REAL / "pg_ls.txt")


def test_real_pg_ls(real_ls):
    frag = real_ls
    assert (frag.kind, frag.release) == ("pg_ls", "octopus+")
    pgs = frag.pgs
    assert len(pgs) == 1920
    assert list(pgs.columns) == LEAD + [
        "objects", "bytes", "omap_bytes", "omap_keys", "log_size", "degraded", "misplaced", "unfound",
        "since", "version", "reported", "scrub_stamp", "deep_scrub_stamp"]
    assert pgs["pgid"].iloc[0] == "1.0" and pgs["pgid"].iloc[-1] == "15.7f"
    r = _row(pgs, "1.0")
    assert (r["up"], r["up_primary"], r["acting"], r["acting_primary"]) == ((11, 7, 3), 11, (11, 7, 3), 11)
    assert (r["objects"], r["bytes"], r["since"], r["version"]) == (41, 2625536, "117s", "101'41")
    r = _row(pgs, "15.7f")
    assert (r["up"], r["up_primary"], r["bytes"]) == ((4, 8, 9), 4, 61440)
    assert str(pgs["up_primary"].dtype) == "int64" and str(pgs["objects"].dtype) == "Int64"
    assert frag.extra["notes"][0].startswith("* NOTE:")


def test_real_pg_ls_equals_json_and_dump(real_ls):
    doc = json.loads((REAL / "pg_ls.json").read_text())
    want = {e["pgid"]: (tuple(e["up"]), e["up_primary"], tuple(e["acting"]), e["acting_primary"])
            for e in doc["pg_stats"]}
    pgs = real_ls.pgs
    got = {p: (u, up, a, ap) for p, u, up, a, ap in zip(
        pgs["pgid"], pgs["up"], pgs["up_primary"], pgs["acting"], pgs["acting_primary"], strict=True)}
    assert got == want
    dump = pg_dump_plain.parse((REAL / "pg_dump.txt").read_text()).pgs
    merged = dump.merge(pgs, on="pgid", suffixes=("_d", "_l"))
    assert len(merged) == 1920
    assert (merged["up_d"] == merged["up_l"]).all()
    assert (merged["objects_d"] == merged["objects_l"]).all()


def test_sniff():
    assert pg_ls_plain.sniff((REAL / "pg_ls.txt").read_text(), None)
    for name in ("pg_dump.txt", "pg_dump_pgs_brief.txt", "osd_df.txt", "osd_tree.txt"):
        assert not pg_ls_plain.sniff((REAL / name).read_text(), None), name
    text = (REAL / "pg_ls.json").read_text()
    assert not pg_ls_plain.sniff(text, json.loads(text))
    assert pg_ls_plain.sniff((FIX / "reef_pg_ls.txt").read_text(), None)
    assert pg_ls_plain.sniff((FIX / "nautilus_pg_ls.txt").read_text(), None)


def test_hammer_tabs_public_04():
    frag = _parse(PUBLIC / "04_hammer_pg_ls_plain_tabs.txt")
    assert (frag.kind, frag.release) == ("pg_ls", "jewel")
    assert frag.pgs["pgid"].tolist() == ["0.0", "0.1", "0.2"]
    r = _row(frag.pgs, "0.1")
    assert (r["up"], r["up_primary"], r["objects"], r["bytes"]) == ((2, 4, 1), 2, 7, 25165936)
    assert r["scrub_stamp"] == "2015-07-01 18:38:32.352721"


def test_reef_pg_ls_fixture():
    frag = _parse(FIX / "reef_pg_ls.txt")
    assert (frag.kind, frag.release) == ("pg_ls", "quincy+")
    pgs = frag.pgs
    assert pgs["pgid"].tolist() == ["1.0", "4.1", "5.0"]
    assert pgs["scrub_schedule"].tolist() == [
        "periodic scrub scheduled @ 2024-01-14T18:03:34.044849+0530", "queued for deep scrub", "--"]
    assert pgs["since"].tolist() == ["5m", "2h", "3d"]
    assert pgs["last_scrub_duration"].tolist() == [3, 0, 0]
    assert pgs["log_dups_size"].tolist() == [0, 0, 0]
    ec = _row(pgs, "4.1")
    assert (ec["up"], ec["up_primary"], ec["acting"], ec["acting_primary"]) == (
        (NONE, 4, 3), 4, (NONE, 4, 3), 4)
    u = _row(pgs, "5.0")
    assert (u["state"], u["up"], u["up_primary"], u["acting"], u["acting_primary"]) == (
        "unknown", (), -1, (), -1)


def test_nautilus_pg_ls_fixture():
    frag = _parse(FIX / "nautilus_pg_ls.txt")
    assert (frag.kind, frag.release) == ("pg_ls", "mimic+")
    r = _row(frag.pgs, "2.1a")
    assert (r["up"], r["up_primary"]) == ((1, NONE, 5), 1)
    assert r["state_stamp"] == "2019-02-27 07:08:43.559261"
    r = _row(frag.pgs, "1.0")
    assert r["scrub_stamp"] == "0.000000" and r["deep_scrub_stamp"] == "2019-02-27 07:08:43.559261"
    assert r["log_size"] == 30


def test_luminous_pg_stat_table():
    frag = pg_ls_plain.parse((FIX / "luminous_pg_dump.txt").read_text())
    assert (frag.kind, frag.release) == ("pg_ls", "luminous")
    assert frag.pgs["pgid"].tolist() == ["3.7", "3.10", "0.0"]


def test_empty_output_is_empty_table():
    frag = pg_ls_plain.parse("")
    assert frag.kind == "pg_ls" and len(frag.pgs) == 0
    assert list(frag.pgs.columns) == LEAD
    assert len(pg_ls_plain.parse("\n  \n").pgs) == 0


def test_errors_are_located():
    text = (FIX / "reef_pg_ls.txt").read_text().replace("[NONE,4,3]p4  ", "[NONE,4,3]  ", 1)
    with pytest.raises(DumpFormatError) as ei:
        pg_ls_plain.parse(text, source="ls.txt")
    assert (ei.value.source, ei.value.line, ei.value.field) == ("ls.txt", 3, "UP")
    with pytest.raises(DumpFormatError, match="no pg ls table"):
        pg_ls_plain.parse("some words\n", source="ls.txt")
    dup = textwrap.dedent("""\
        PG   OBJECTS  STATE         UP         ACTING
        1.0        1  active+clean  [0,1]p0    [0,1]p0
        1.0        1  active+clean  [0,1]p0    [0,1]p0
        """)
    with pytest.raises(DumpFormatError, match="duplicate pgid") as ei:
        pg_ls_plain.parse(dup)
    assert ei.value.line == 3


_LS_LINES = (REAL / "pg_ls.txt").read_text().splitlines()
_SMALL = _LS_LINES[:8] + _LS_LINES[-3:]
_TOKENS = st.sampled_from(["", " ", "  ", "\t", "NONE", "[", "]", "p", "p-1", ",", "-1", "0",
                           "99999999999999999999", "PG", "PG_STAT", "1.0", "x", "\n", "dumped all",
                           "2019-02-27 07:08:43.559261"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    assert pg_ls_plain.sniff(text, None) in (True, False)
    try:
        pg_ls_plain.parse(text)
    except DumpFormatError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_SMALL) - 1), st.integers(0, 250), st.integers(0, 6), _TOKENS),
                min_size=1, max_size=4))
def test_mutated_real_lines(edits):
    lines = list(_SMALL)
    for idx, pos, cut, tok in edits:
        ln = lines[idx]
        pos = min(pos, len(ln))
        lines[idx] = ln[:pos] + tok + ln[pos + cut:]
    text = "\n".join(lines)
    assert pg_ls_plain.sniff(text, None) in (True, False)
    try:
        frag = pg_ls_plain.parse(text)
    except DumpFormatError:
        pass
    else:
        assert frag.kind == "pg_ls"
