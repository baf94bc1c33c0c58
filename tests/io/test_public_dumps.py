"""Every public sample under ``shared/data/public_dumps`` loads, and what each yields is pinned."""

from __future__ import annotations

import pytest

import pgtools
from tests.paths import PUBLIC


def _derived(pool: int, pg_num: int, size: int) -> list[str]:
    """The warnings of a PG dump loaded without an osd dump (pools derived from the PGs, see io/derive.py)."""
    return [f"no osd dump: pool settings derived from the PG dump (pool {pool}: pg_num {pg_num}, size {size}, "
            "replicated): pg_num = highest PG seed + 1, pgp_num assumed equal to pg_num, size = longest up/acting "
            "set, type erasure only where EC holes show (else replicated assumed), CRUSH rule and min_size unknown: "
            "add `ceph osd dump -f json` (or `ceph osd pool ls detail -f json`)",
            f"pool names unknown, pools named by id ({pool}): add `ceph osd pool ls detail -f json` or "
            "`ceph df detail -f json`"]


# file prefix -> (pg count, pool count, osd count, source kind, release, warnings (text after "file:"))
EXPECTED: dict[str, tuple[int, int, int, str, str | None, list[str]]] = {
    "01": (4096, 1, 89, "report", "jewel", []),
    "03": (0, 2, 3, "osd_dump", "jewel", []),
    "04": (3, 1, 0, "pg_dump", "jewel", _derived(0, 3, 3)),
    "06": (0, 0, 0, "pg_dump_summary", "octopus+",
           ["7: summary header and sum row on one line",
            "14: POOLID header has 10 headings but the rows have 11 cells; used the standard pool columns"]),
    "07": (0, 0, 0, "excerpt", None, ["3: Python repr cut off, 17 leading keys kept"]),
    "09": (2, 1, 0, "pg_dump", "quincy+", ["6: last row truncated, ignored", *_derived(1, 100, 3),
                                           "pool 1: the PG dump lists 2 PGs but the highest is 1.63: pg_num 100 "
                                           "assumed (at least that; 98 PGs missing from the dump, or it was cut "
                                           "short)"]),
    "11": (0, 0, 0, "excerpt", "quincy+", ["28: last line of JSON fragment may be cut, ignored"]),
    "13": (0, 0, 1, "osd_df", "luminous+", []),
    "14": (0, 0, 5, "osd_df", "nautilus+",
           ["1-5: 5 table rows without a header, ignored", "17: last row truncated, ignored"]),
    "16": (0, 0, 8, "osd_df", "octopus+", ["11: last row truncated, ignored"]),
    "17": (0, 0, 1, "osd_df", "octopus+", ["10: last row truncated, ignored"]),
}

FILES = sorted(PUBLIC.glob("*.txt"))


def _strip_source(w: str, path) -> str:
    prefix = f"{path}:"
    return w[len(prefix):] if w.startswith(prefix) else w


def test_every_public_sample_has_an_expectation():
    assert len(FILES) == 11
    assert sorted(p.name[:2] for p in FILES) == sorted(EXPECTED)


@pytest.fixture(scope="module")
def loaded():
    cache = {}

    def get(path):
        if path not in cache:
            cache[path] = pgtools.load(path)
        return cache[path]
    return get


@pytest.mark.parametrize("path", FILES, ids=[p.name[:2] for p in FILES])
def test_public_sample_counts(path, loaded):
    assert path.name[:2] in EXPECTED, f"no expectation for new public sample {path.name}"
    n_pgs, n_pools, n_osds, kind, release, warns = EXPECTED[path.name[:2]]
    snap = loaded(path)
    assert (len(snap.pgs), len(snap.pools), len(snap.osds)) == (n_pgs, n_pools, n_osds)
    assert [k for _, k in snap.meta["sources"]] == [kind]
    assert snap.meta["release"] == release
    assert [_strip_source(w, path) for w in snap.meta["warnings"]] == warns


def _snap(prefix, loaded):
    return loaded(next(p for p in FILES if p.name.startswith(prefix)))


def test_01_report_values(loaded):
    snap = _snap("01", loaded)
    row = snap.pgs.set_index("pgid").loc["3.fff"]
    assert row.up == (43, 34, 26) and row.acting == (43, 34, 26)
    assert snap.pools.pool.tolist() == ["cephstor3"]


def test_03_osd_dump_values(loaded):
    snap = _snap("03", loaded)
    assert snap.pools.pool.tolist() == ["rbd", "erasure_k2_m1"]
    assert snap.osds.osd_id.tolist() == [0, 1, 2]


def test_04_pg_ls_values(loaded):
    snap = _snap("04", loaded)
    assert snap.pgs.set_index("pgid").loc["0.2"].up == (3, 1, 5)


def test_07_python_repr_cut_off(loaded):
    snap = _snap("07", loaded)
    ex = snap.meta["extra"]["excerpt"]
    assert ex["what"] == "python repr"
    assert ex["values"]["pgid"] == "6.0"
    assert ex["values"]["state"] == "unknown"
    assert ex["keys"][-1] == "log_start"


def test_09_pg_dump_values(loaded):
    snap = _snap("09", loaded)
    assert snap.pgs.pgid.tolist() == ["1.63", "1.62"]
    assert snap.pgs.set_index("pgid").loc["1.62"].up == (2, 0, 1)


def test_11_json_fragment(loaded):
    ex = _snap("11", loaded).meta["extra"]["excerpt"]
    assert ex["release_hints"] == {"scrub_schedule": "quincy+"}
    assert ex["values"]["scrub_schedule"] == "queued for deep scrub"
    assert ex["values"]["stat_sum"]["num_objects"] == 777125
    assert "num_bytes_recovered" not in ex["values"]["stat_sum"]  # the possibly-cut last line


def test_13_two_tables_keeps_first(loaded):
    snap = _snap("13", loaded)
    assert snap.osds.set_index("osd_id").loc[0].crush_weight == pytest.approx(0.0098)
    others = snap.meta["extra"]["osd_df"]["other_blocks"]
    assert [(o.kind, o.extra["excerpt_line"]) for o in others] == [("osd_df", 9)]
    assert others[0].osds.set_index("osd_id").loc[0].crush_weight == pytest.approx(0.36369)


def test_14_second_table_after_prose(loaded):
    snap = _snap("14", loaded)
    assert snap.osds.osd_id.tolist() == [5, 10, 12, 13, 14]
    assert snap.osds.set_index("osd_id").loc[10].crush_weight == pytest.approx(0.105)


def test_16_osd_df_values(loaded):
    snap = _snap("16", loaded)
    assert snap.osds.osd_id.tolist() == [14, 16, 17, 18, 21, 26, 28, 29]
    assert snap.osds.set_index("osd_id").loc[26].crush_weight == pytest.approx(16.88869)


def test_17_osd_df_tree_values(loaded):
    snap = _snap("17", loaded)
    assert snap.osds.osd_id.tolist() == [2]
    assert snap.osds.crush_weight.tolist() == [0.5]
