"""``pgtools map`` command lines that skip typer (:data:`pgtools.cli.app.FAST_PATHS`) print, warn, fail and exit
exactly as when typer parses them; lines the fast parser does not take are left to typer."""

from __future__ import annotations

import pytest

from pgtools.cli import main
from pgtools.cli.app import FAST_PATHS
from pgtools.cli.tools import parse_map_fast
from tests.paths import SAMPLE_DUMPS

CAPTURE = str(SAMPLE_DUMPS / "seedlike_max300")
OSD_DUMP = str(SAMPLE_DUMPS / "seedlike_max300" / "osd_dump.json")
CRUSH = str(SAMPLE_DUMPS / "seedlike_max300" / "crush_dump.json")

FAST = [
    ["map", CAPTURE],
    ["map", CAPTURE, "--pool", "1", "--format", "stats"],
    ["map", OSD_DUMP, CRUSH, "--pool", "1", "--format", "dump"],
    ["map", "--osd-dump", OSD_DUMP, "--crush", CRUSH, "--format", "dump-all", "--pg-num", "64", "--pool", "2"],
    ["map", CAPTURE, "--mark-up-in", "--mark-out", "3", "--mark-out", "osd.5", "--pool", "1"],
    ["map", CAPTURE, "--adjust-crush-weight", "1:0.5,2:2", "--adjust-crush-weight", "4:1", "--pool", "1"],
    ["map", CAPTURE, "--pool", "2", "--pool", "1"],
    ["map", CAPTURE, "--pool", "nosuchpool"],
    ["map", CAPTURE, "--pool", "99"],
    ["map", CAPTURE, "--pg-num", "0"],
    ["map", CAPTURE, "--mark-out", "100000", "--pool", "1"],
    ["map", CAPTURE, "--mark-out", "x"],
    ["map", CAPTURE, "--adjust-crush-weight", "x"],
    ["map", CAPTURE + "/nosuchfile.json"],
    ["map"],
]
TYPER = [
    ["map", "--help"],
    ["map", CAPTURE, "--pool=1"],
    ["map", CAPTURE, "--pg-num", "064"],
    ["map", CAPTURE, "--pg-num", "-1"],
    ["map", CAPTURE, "--pg-num", "x"],
    ["map", CAPTURE, "--format", "Stats"],
    ["map", CAPTURE, "--pool"],
    ["map", CAPTURE, "--nosuch"],
    ["map", CAPTURE, "--", "x"],
    ["map", ""],
]


def _run(argv, capsys):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("argv", FAST + TYPER, ids=lambda a: " ".join(a[1:]).replace(CAPTURE, "CAP")[:60])
def test_fast_path_same_as_typer(argv, capsys, monkeypatch):
    assert (parse_map_fast(argv[1:]) is not None) == (argv in FAST)
    fast = _run(argv, capsys)
    monkeypatch.delitem(FAST_PATHS, "map")
    assert fast == _run(argv, capsys)
