"""Ceph 20.2.4 (Tentacle) output, read by content: excerpts of real output (``tests/data/tentacle/README.md``).

What Tentacle prints differently from Pacific and what it means here:

* ``pool ...`` lines (``osd dump``, ``osd pool ls detail``) end with ``read_balance_score N`` (Reef+) and, for the
  mgr's own pool ``.mgr``, carry ``pg_num_max 32 pg_num_min 1``; ``bulk`` is a pool flag.
* ``pg dump`` has ``LOG_DUPS`` after ``LOG`` and ``OBJECTS_SCRUBBED OBJECTS_TRIMMED`` after the free-text
  ``SCRUB_SCHEDULING`` column (Quincy+).
* ``osd pool autoscale-status`` prints ``NEW PG_NUM`` only where the mgr would act (``would_adjust``); its JSON may
  be ``[]`` (every pool under overlapping CRUSH roots is skipped), which ``pgtools collect`` accepts.
"""

from __future__ import annotations

import json
import shutil
import stat
import sys
import textwrap

import pandas as pd
import pytest

from pgtools.io.bundle import read_file
from pgtools.io.collect import COMMANDS, collect
from tests.paths import SAMPLE_DUMPS, TEST_DATA

DATA = TEST_DATA / "tentacle"


def _read(path):
    frag = read_file(path, excerpts=False)
    assert frag is not None, path
    return frag


def test_pool_lines_with_read_balance_score_bulk_and_pg_num_bounds():
    frag = _read(DATA / "osd_pool_ls_detail_excerpt.txt")
    assert frag.kind == "pool_ls_detail"
    pools = frag.pools.set_index("pool")
    assert list(pools.index) == [".mgr", "big"] and list(pools.pool_id) == [1, 3]
    mgr, big = pools.loc[".mgr"], pools.loc["big"]
    assert (mgr.pg_num, mgr.pgp_num, mgr.pg_num_min, mgr.pg_num_max, mgr.application) == (1, 1, 1, 32, "mgr")
    assert (big.pg_num, bool(big.bulk), big.target_size_ratio, big.flags_names) == (8, True, 0.5, "hashpspool,bulk")
    assert pd.isna(big.pg_num_min) and not bool(mgr.bulk)
    assert set(pools.pg_autoscale_mode) == {"off"} and set(pools["size"]) == {3}


def test_pg_dump_with_log_dups_and_objects_scrubbed_columns():
    frag = _read(DATA / "pg_dump_excerpt.txt")
    assert frag.kind == "pg_dump" and frag.release == "quincy+"
    pgs = frag.pgs.set_index("pgid")
    assert list(pgs.index) == ["7.a", "2.3f"]
    assert pgs.loc["7.a", "up"] == (9, 0, 12, 7, 11, 3) and pgs.loc["7.a", "acting_primary"] == 9
    assert pgs.loc["2.3f", "up"] == (1, 11, 8) and pgs.loc["2.3f", "acting"] == (1, 11, 8)
    assert (pgs.loc["2.3f", "objects"], pgs.loc["2.3f", "bytes"], pgs.loc["2.3f", "log_size"]) == (2, 32768, 2)
    # the free-text column takes the words between its numeric neighbours, which stay numbers
    assert pgs.loc["2.3f", "scrub_schedule"] == "periodic scrub scheduled @ 2026-12-08T04:55:18.851121+0000"
    assert list(pgs.objects_scrubbed) == [0, 0] and list(pgs.objects_trimmed) == [0, 0]
    assert list(pgs.log_dups_size) == [0, 0] and set(pgs.state) == {"active+clean"}


def test_autoscale_status_plain_equals_json_where_plain_tells():
    plain = _read(DATA / "autoscale_status.txt").extra["autoscale_status"].set_index("pool_name")
    js = _read(DATA / "autoscale_status.json").extra["autoscale_status"].set_index("pool_name")
    assert list(plain.index) == [".mgr", "rbd", "small", "big"] == list(js.index)
    for col in ("pg_num_target", "pg_autoscale_mode", "bulk", "target_bytes", "target_ratio", "raw_used_rate",
                "subtree_capacity", "would_adjust", "bias"):
        assert list(plain[col]) == list(js[col]), col
    assert list(plain.capacity_ratio) == [round(v, 4) for v in js.capacity_ratio]
    # NEW PG_NUM is printed only where the mgr would act: big (bulk, target ratio 0.5) 8 -> 64
    assert plain.loc["big", "pg_num_final"] == js.loc["big", "pg_num_final"] == 64
    assert plain.pg_num_final.drop("big").isna().all()
    assert list(js.pg_num_final) == [1, 32, 32, 64]  # the JSON has the value even where nothing would change


def test_health_detail_plain():
    health = _read(DATA / "health_detail.txt").health
    assert health["status"] == "HEALTH_WARN"
    assert health["checks"]["TOO_MANY_PGS"]["summary"] == "too many PGs per OSD (89 > max 50)"


@pytest.fixture()
def tentacle_ceph(tmp_path):
    """A `ceph` that answers every collect command from the Tentacle sample (autoscale-status: ``[]``)."""
    src = SAMPLE_DUMPS / "mixed_tentacle"
    files = {" ".join(c.args): c.filename for c in COMMANDS}
    script = tmp_path / "ceph"
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import gzip, shutil, sys
        args = sys.argv[1:]
        if args[:1] == ["--connect-timeout"]:
            args = args[2:]
        src = {str(src)!r}
        if "-o" in args:
            shutil.copy(src + "/" + {files!r}[" ".join(args[:args.index("-o")])], args[args.index("-o") + 1])
            sys.exit(0)
        if args[:1] == ["status"]:
            print('{{"health": {{"status": "HEALTH_OK"}}}}')
            sys.exit(0)
        name = {files!r}[" ".join(args)]
        if name == "pg_dump.json":
            sys.stdout.write(gzip.open(src + "/pg_dump.json.gz", "rt").read())
        else:
            sys.stdout.write(open(src + "/" + name).read())
        """))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_collect_accepts_tentacles_outputs_and_an_empty_autoscale_status(tmp_path, tentacle_ceph):
    res = collect(tmp_path / "b", ceph=str(tentacle_ceph))
    assert res.failed == [] and res.consistent and res.epoch_before == 89
    assert (tmp_path / "b" / "autoscale_status.json").read_text().strip() == "[]"
    # an empty list that is not autoscale-status's answer is still refused
    broken = tmp_path / "ceph2"
    shutil.copy(tentacle_ceph, broken)
    broken.write_text(broken.read_text().replace('if name == "pg_dump.json":',
                                                 'if name == "osd_pool_ls_detail.json":\n    print("[]")\n'
                                                 'elif name == "pg_dump.json":'))
    res = collect(tmp_path / "c", ceph=str(broken))
    assert [(r["file"], r["invalid"]) for r in res.failed] == [
        ("osd_pool_ls_detail.json", "not recognised as `ceph osd pool ls detail -f json` output")]
    assert json.loads((tmp_path / "c" / "osd_pool_ls_detail.json").read_text()) == []
