"""Notebook 05 (the RADOS/PG primer) runs top to bottom, is stored without outputs, and prints the facts it
teaches for the sample capture."""

from __future__ import annotations

import pytest

from tests.paths import REPO

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from tests.test_notebooks import _execute, _text  # noqa: E402  (after the importorskips)

NAME = "05_rados_primer.ipynb"


def test_primer_runs_quickly_without_errors():
    nb, seconds = _execute(NAME)
    assert seconds < 60
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 14
    assert all(c.get("execution_count") for c in code)
    assert [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"] == []
    # the straw2 draw tables: root + host for each of the 3 replicas
    tables = [o for c in code for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert len(tables) == 6
    assert "winner" in tables[0]["data"]["text/html"] and "node1" in tables[0]["data"]["text/html"]


def test_primer_follows_hello_world_through_placement():
    text = _text(_execute(NAME)[0])
    assert "rjenkins('hello-world') = 0x26d9c939 = 651807033" in text
    assert "hash & mask    = 0111001 = 57  (< pg_num: kept)" in text
    assert "ps             = 57  ->  PG id 1.39" in text
    assert "hashpspool True: pps = hash2(57, 1) = 0x842a4d69 = 2217364841" in text
    assert "step take default\nstep chooseleaf firstn 0 type host\n" in text
    assert "replica 0:\n  r=0: bucket 'default' draws -> node1\n" in text
    assert "  r=0: bucket 'node1' draws -> osd.0\n" in text
    assert "  -> replica 0 on osd.0\n" in text and "  -> replica 2 on osd.6\n" in text
    assert "our walk: [0, 5, 6]  CRUSH (pgtools.crush.do_rule): [0, 5, 6]" in text
    # host collisions and retries, replayed and checked against CRUSH
    assert "  replica 1, r=1: node3 already chosen: collision, retry with r=2\n" in text
    assert "PG 1.1 (pps 0xc5343f38) -> [7, 0, 11] after 4 retries" in text
    assert "PG 1.2 (pps 0xe38efe44) -> [11, 0, 4] after 1 retry" in text
    assert ("osdmap e101 pool 'rbd' (1) object 'hello-world' -> pg 1.26d9c939 (1.39) -> up ([0, 5, 6], p0) "
            "acting ([0, 5, 6], p0)") in text
    assert "pg dump says: 1.39 [0, 5, 6] [0, 5, 6]" in text
    assert "with pg_temp [1, 2, 3]: up [0, 5, 6] (primary 0), acting [1, 2, 3] (primary 1)" in text


def test_primer_ec_and_pg_num_facts():
    text = _text(_execute(NAME)[0])
    assert "5 shards on 4 hosts: ['osd.0', 'osd.4', 'osd.6', 'osd.9', 'NONE']" in text
    assert "EC   99.1: up [7, 9, 4, 1] -> [7, 'NONE', 4, 1]" in text
    assert "rep  1.39: up [0, 5, 6] -> [0, 6] (primary 0 -> 0)" in text
    assert "4: '2/16', 5: '2/16', 6: '2/16', 7: '2/16', 8: '1/16'" in text


def test_primer_stored_without_outputs():
    nb = nbformat.read(REPO / "notebooks" / NAME, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None
    assert nb.metadata["kernelspec"]["name"] == "python3"
