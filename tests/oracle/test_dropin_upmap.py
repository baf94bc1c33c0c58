"""``pgtools osdmaptool ... --upmap FILE`` / ``--upmap-cleanup FILE`` (the drop-in over :mod:`pgtools.balance`)
against each release's real osdmaptool, in its deterministic mode (``--osd_calc_pg_upmaps_aggressively=false``):
same stdout apart from the file name, same command file.  ``tests/oracle/test_upmap_balancer.py`` compares the
library on random maps; this checks the command line around it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.ceph_release_tools import RELEASES, need, run
from tests.oracle._dropin_corpus import CLI, run_pgtools

pytestmark = pytest.mark.oracle
OM = CLI / "gen" / "om-racks"

LINES = [
    ["--mark-up-in", "--upmap-max", "11", "--upmap", "out.txt"],
    ["--mark-up-in", "--mark-out", "147", "--upmap-deviation", "1", "--upmap-pool", "rbd", "--upmap", "out.txt"],
    ["--mark-up-in", "--upmap-cleanup", "out.txt"],
    ["--mark-up-in", "--upmap-max", "3", "--upmap", "-"],
]


@pytest.mark.parametrize("release", list(RELEASES))
@pytest.mark.parametrize("line", LINES, ids=["max11", "out147-dev1-pool", "cleanup", "stdout"])
def test_upmap_command_line_equals_osdmaptool(release: str, line: list[str]) -> None:
    need(release)
    if not OM.exists():
        pytest.skip(f"no Ceph CLI corpus at {CLI}")
    argv = ["--osd_calc_pg_upmaps_aggressively=false", "om", *line]
    ref = run(release, "osdmaptool", argv, {"om": OM})
    assert ref.returncode == 0, ref.stderr
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)
        try:
            Path("om").write_bytes(OM.read_bytes())
            rc, out, err = run_pgtools(["osdmaptool", *argv, "--ceph-release", release])
            got_file = Path("out.txt").read_text() if Path("out.txt").exists() else None
        finally:
            os.chdir(cwd)
    assert rc == 0, err
    assert out == ref.stdout
    # (the host's tool runs as /usr/bin/osdmaptool and names itself so)
    assert err.splitlines()[0] == "osdmaptool: osdmap file 'om'"
    assert ref.stderr.splitlines()[0].endswith("osdmaptool: osdmap file 'om'")
    assert "warning" not in err  # one pool, deterministic mode, the release given: nothing assumed
    if "out.txt" in line:
        assert got_file == ref.files["out.txt"].decode()
        assert got_file.count("\n") >= (1 if "cleanup" not in " ".join(line) else 0)


def test_upmap_defaults_say_what_they_assume() -> None:
    if not OM.exists():
        pytest.skip(f"no Ceph CLI corpus at {CLI}")
    rc, out, err = run_pgtools(["osdmaptool", str(OM), "--mark-up-in", "--upmap", "-", "--upmap-max", "2"])
    assert rc == 0 and out.count("ceph osd pg-upmap-items") >= 1
    assert "seeded generator" in err and "osd_calc_pg_upmaps_aggressively=false" in err
    rc, out, err = run_pgtools(["osdmaptool", str(OM), "--upmap", "-", "--test-map-pgs"])
    assert rc == 2 and out == "" and "two commands" in err
