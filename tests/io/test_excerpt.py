"""Tests of the excerpt fallback (pasted dumps: fences, prose, prompts, truncated rows, Python repr)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.errors import DumpFormatError
from pgtools.io.bundle import read_file
from pgtools.io.excerpt import merge_excerpt_fragments, parse_excerpt
from tests.paths import PUBLIC

HDR = ("ID  CLASS  WEIGHT    REWEIGHT  SIZE     RAW USE  DATA      OMAP     META     AVAIL    %USE   VAR   PGS"
       "  STATUS")
ROWS = [
    "14    hdd   1.87599   1.00000  1.9 TiB  1.0 TiB   993 GiB  2.1 MiB  9.1 GiB  870 GiB  54.73  0.85   25      up",
    "16    hdd   1.87599   1.00000  1.9 TiB  1.1 TiB  1019 GiB  1.1 MiB   11 GiB  844 GiB  56.07  0.88   18      up",
    "17    hdd   7.50780   1.00000  7.5 TiB  4.3 TiB   4.1 TiB  2.5 MiB   19 GiB  3.2 TiB  57.12  0.89   82      up",
]
CUT = " 1    hdd  11.23239   1.00000   11 Ti"

PG_HDR = "pg_stat\tobjects\tmip\tdegr\tmisp\tunf\tbytes\tlog\tdisklog\tstate\tstate_stamp\tv\treported\tup\t" \
         "up_primary\tacting\tacting_primary\tlast_scrub\tscrub_stamp\tlast_deep_scrub\tdeep_scrub_stamp"
PG_ROW = "0.{ps}\t11\t0\t0\t0\t0\t46137344\t3044\t3044\tactive+clean\t2015-07-02 10:12:40.603692\t226'10652\t" \
         "226:1798\t[4,2,{ps}]\t4\t[4,2,{ps}]\t4\t0'0\t2015-07-01 18:38:33.126953\t0'0\t2015-07-01 18:17:01.904194"


def _load(text, name="paste.txt"):
    return read_file(name, text=text)


def test_fenced_table_with_prose_and_prompt():
    text = "\n".join(["Here is our cluster:", "```", "$ ceph osd df", HDR, *ROWS, "```", "Thanks!"]) + "\n"
    frag = _load(text)
    assert frag.kind == "osd_df"
    assert frag.osds.osd_id.tolist() == [14, 16, 17]
    assert frag.extra["warnings"] == []
    assert frag.extra["excerpt_line"] == 4


@pytest.mark.parametrize("prompt", ["$ ceph osd df", "# ceph osd df", "sh-5.1$ ceph osd df",
                                    "[root@x ~]# ceph osd df", "[ceph: root@c1 /]# ceph osd df",
                                    "root@c-01:~# ceph osd df"])
def test_prompt_lines_dropped(prompt):
    frags = parse_excerpt("\n".join([prompt, HDR, *ROWS]) + "\n", source="p.txt")
    assert len(frags) == 1 and frags[0].osds.osd_id.tolist() == [14, 16, 17]


def test_truncated_last_row_is_a_warning():
    text = "\n".join(["```", HDR, *ROWS, CUT]) + "\n"
    frag = _load(text)
    assert frag.osds.osd_id.tolist() == [14, 16, 17]
    assert frag.extra["warnings"] == ["paste.txt:6: last row truncated, ignored"]


def test_truncated_middle_row_is_an_error_with_file_line():
    text = "\n".join(["Look:", "```", HDR, ROWS[0], CUT, ROWS[1], "```"]) + "\n"
    with pytest.raises(DumpFormatError) as ei:
        _load(text)
    assert ei.value.source == "paste.txt"
    assert ei.value.line == 5
    assert str(ei.value).startswith("paste.txt:5: ")


def test_prose_right_after_table_ends_it():
    text = "\n".join([HDR, *ROWS, "As you can see osd 17 is fuller."]) + "\n"
    frag = _load(text)
    assert frag.osds.osd_id.tolist() == [14, 16, 17]
    assert frag.extra["warnings"] == ["paste.txt:5: text after the table ignored"]


def test_two_tables_keep_first_other_in_extra():
    text = "\n".join(["before:", HDR, ROWS[0], ROWS[1], "", "after:", HDR, ROWS[2]]) + "\n"
    frag = _load(text)
    assert frag.osds.osd_id.tolist() == [14, 16]
    others = frag.extra["other_blocks"]
    assert len(others) == 1
    assert others[0].extra["excerpt_line"] == 7
    assert others[0].osds.osd_id.tolist() == [17]


def test_rows_before_header_ignored_with_warning():
    text = "\n".join([ROWS[2], "", "the old result", "", HDR, ROWS[0]]) + "\n"
    frag = _load(text)
    assert frag.osds.osd_id.tolist() == [14]
    assert frag.extra["warnings"] == ["paste.txt:1: 1 table rows without a header, ignored"]


def test_pg_table_and_osd_table_in_one_paste_are_combined():
    text = "\n".join(["```", "# ceph pg ls", PG_HDR, PG_ROW.format(ps=0), PG_ROW.format(ps=1), "```", "and",
                      "```", HDR, *ROWS, "```"]) + "\n"
    # (read_file would not fall back here: the osd df parser reads this whole text directly)
    frag = merge_excerpt_fragments(parse_excerpt(text, source="p.txt"), source="p.txt")
    assert frag.kind == "pg_dump"
    assert frag.pgs.pgid.tolist() == ["0.0", "0.1"]
    assert frag.pgs.up.tolist() == [(4, 2, 0), (4, 2, 1)]
    assert frag.osds.osd_id.tolist() == [14, 16, 17]
    assert "other_blocks" not in frag.extra


PYREPR = ("{'pgid': '6.3', 'state': 'active+clean', 'up': [1, 2, 0], 'acting': [1, 2, 0], "
          "'up_primary': 1, 'acting_primary': 1, 'stat_sum': {'num_objects': 4, 'num_bytes': 100}}")


def test_python_repr_in_log_line():
    text = "2020-06-11T14:45:33.910 INFO:tasks.ceph.ceph_manager.ceph:" + PYREPR + "\n"
    frag = _load(text)
    assert frag.pgs.pgid.tolist() == ["6.3"]
    assert frag.pgs.up.tolist() == [(1, 2, 0)]
    assert frag.pgs.state.tolist() == ["active+clean"]


def test_python_repr_cut_off_gives_excerpt_fragment():
    text = "INFO:ceph:" + PYREPR[:PYREPR.index(", 'up'") + 8] + "\n"  # cut inside 'up'
    frag = _load(text)
    assert frag.kind == "excerpt"
    assert frag.extra["values"] == {"pgid": "6.3", "state": "active+clean"}
    assert frag.extra["warnings"] == ["paste.txt:1: Python repr cut off, 2 leading keys kept"]


def test_python_repr_never_evaluated():
    text = "INFO:x:{'pgid': __import__('os').getcwd()}\n"
    assert _load(text) is None


def test_json_fragment_with_release_hint():
    text = '    "scrub_schedule": "queued for scrub",\n    "stat_sum": {\n        "num_objects": 5,\n' \
           '        "num_bytes": 1\n'
    frag = _load(text)
    assert frag.kind == "excerpt"
    assert frag.release == "quincy+"
    assert frag.extra["values"] == {"scrub_schedule": "queued for scrub", "stat_sum": {"num_objects": 5}}
    assert frag.extra["warnings"] == ["paste.txt:4: last line of JSON fragment may be cut, ignored"]


def test_fenced_json_document():
    text = "see\n```json\n" + '[{"pgid": "2.1", "state": "active", "up": [3, 1], "acting": [3, 1], ' \
           '"up_primary": 3, "acting_primary": 3}]\n```\n'
    frag = _load(text)
    assert frag.pgs.pgid.tolist() == ["2.1"] and frag.pgs.up.tolist() == [(3, 1)]


def test_garbage_returns_none_or_original_error():
    assert _load("hello\nworld\n") is None
    assert parse_excerpt("hello\n```\nworld\n", source="g.txt") == []
    # a file a parser recognises but is bad (a bad middle row, no blocks around it) keeps its error
    text = "\n".join([HDR, ROWS[0], "14 hdd x y", ROWS[1]]) + "\n"
    with pytest.raises(DumpFormatError) as ei:
        _load(text)
    assert str(ei.value).startswith("paste.txt:3: ")


def test_original_error_raised_when_no_block_found():
    # JSON that the pg dump parser recognises but that is malformed: no excerpt block yields anything
    text = '{"pg_ready": true, "pg_map": {"pg_stats": 5}}\n'
    with pytest.raises(DumpFormatError) as ei:
        read_file("bad.json", text=text, excerpts=False)
    with pytest.raises(DumpFormatError) as ei2:
        read_file("bad.json", text=text)
    assert str(ei2.value) == str(ei.value)


_SAMPLES = [p.read_text() for p in sorted(PUBLIC.glob("*.txt")) if p.stat().st_size < 100_000]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("{}[]'\":,` \n\t$#-.0123456789abcDPGSTAUIWCLtrue_")) ,
               max_size=300))
def test_arbitrary_text_only_dump_format_error(text):
    try:
        parse_excerpt(text, source="h.txt")
        read_file("h.txt", text=text)
    except DumpFormatError:
        pass


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SAMPLES), st.integers(0, 10**9), st.integers(0, 400), st.text(max_size=20))
def test_mutated_public_samples_only_dump_format_error(sample, pos, length, insert):
    pos = pos % (len(sample) + 1)
    text = sample[:pos] + insert + sample[pos + length:]
    try:
        read_file("m.txt", text=text)
    except DumpFormatError:
        pass
