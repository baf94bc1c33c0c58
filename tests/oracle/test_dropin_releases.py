"""``pgtools crushtool`` / ``pgtools osdmaptool`` (the drop-ins) against Ceph's own tools of every release.

* Ceph's CLI corpus (``../shared/data/peer/ceph_cli``, see ``test_ceph_cli_releases.py``): the first run of every
  crushtool case and the osdmaptool cases on the two small osdmaps, as crushtool/osdmaptool command lines
  through ``pgtools.cli.main``, byte for byte against what 16.2.15 printed (``expected/``); every case command
  that uses an option pgtools does not implement gives one error naming it, exit status 2;
* command lines exercising each display option, Ceph's argv rules and the release differences, run by the
  real tool of each release (:mod:`tests.ceph_release_tools`) and by the drop-in with ``--ceph-release``:
  same stdout, same stderr, same exit status.
"""

from __future__ import annotations

import pytest

from tests.ceph_release_tools import RELEASES, need, run
from tests.oracle._dropin_corpus import CLI, UNIMPLEMENTED, cases, ceph_cmd_argv, crushtool_argv, run_pgtools

pytestmark = pytest.mark.oracle
SRC = CLI / "src" / "crushtool"


def test_corpus_through_dropin() -> None:
    cs = cases()
    if not cs:
        pytest.skip(f"no Ceph CLI corpus at {CLI}")
    bad, refused, n = [], [], 0
    for c in cs:
        if c["group"] == "osdmaptool":
            if "om-simple3" not in c["ceph_cmd"]:
                continue
            argv = ceph_cmd_argv(c)
            argv[0] = str(CLI / "gen" / argv[0])
            rc, out, err = run_pgtools(["osdmaptool", *argv, "--ceph-release", "pacific"])
            n += 1
            if rc != 0 or out != (CLI / c["expected"]).read_text() or err != f"osdmaptool: osdmap file '{argv[0]}'\n":
                bad.append((c["id"], rc, err[-200:]))
            continue
        if c["input_form"] == "json":  # python-crush's JSON numbers the rule 0 where crushtool's text says 3
            continue
        if any(u in c["ceph_cmd"].split() for u in UNIMPLEMENTED):
            rc, out, err = run_pgtools(["crushtool", *ceph_cmd_argv(c)])
            assert rc == 2 and out == "" and "not implemented by pgtools" in err and err.count("\n") == 1, (c["id"], err)
            refused.append(c["id"])
        r = c["runs"][0]
        path, args = crushtool_argv(r, c["input_form"])
        rc, out, err = run_pgtools(["crushtool", "-i", str(CLI / path), *args, "--ceph-release", "pacific"])
        n += 1
        expected = (CLI / c["expected"]).read_text().splitlines(keepends=True)
        want = [ln for ln in expected if ln.startswith(f"CRUSH rule {r['rule']} ")]
        if c["id"].startswith(("bad-mappings", "test-map-firstn-indep-rule")):  # recorded with --show-bad-mappings
            want = None
        if rc != 0 or err or (want is not None and out != "".join(want[:r["lines"]])):
            bad.append((c["id"], rc, err[-200:]))
    print(f"\nCLI corpus through the drop-ins: {n} command lines, {len(refused)} case commands refused as not "
          f"implemented")
    assert not bad, bad


#: (tool, input files, argv): crushtool lines use the map names in SRC / gen
LINES = [
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-statistics --x 3 --rule 2"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-statistics --show-mappings "
                                             "--x 3 --rule 2 --num-rep 2"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-utilization --min-x 0 --max-x 9 "
                                             "--num-rep 3"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-utilization-all --min_x=0 "
                                             "--max-x 5 --rule 1 --num_rep 12 --weight 1 0.5"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-bad-mappings --x 3 --rule 2 "
                                             "--min-rep 4 --max-rep 7"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-mappings --max-x 3 --rule 0 "
                                             "--num-rep 2"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-mappings --min-x 5 --max-x 3 "
                                             "--num-rep 2 --show-statistics --rule 9"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --x 3 --num-rep 2"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-mappings --x abc"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-mappings --x 99999999999"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-mappings --x 1 extra more"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-mappings --x 1 --weight 1"),
    ("crushtool", ["five-devices.crushmap"], "-i five-devices.crushmap --test --show-mappings --num-rep"),
    ("crushtool", ["test-map-vary-r.crushmap"], "-i test-map-vary-r.crushmap --test --show-statistics "
                                                "--show-utilization --rule 3 --num-rep 3 --weight 0 0 --weight 4 0 "
                                                "--pool-id 7 --max-x 99 --min-x 0"),
    ("crushtool", ["test-map-indep.crushmap"], "-i test-map-indep.crushmap --test --show-bad-mappings "
                                               "--show-statistics --num-rep 10 --max-x 200 --min-x 0"),
    ("crushtool", ["check-overlapped-rules.crushmap"], "-i check-overlapped-rules.crushmap --test --show-mappings "
                                                       "--num-rep 2 --x 1"),
    ("crushtool", ["nofile-here"], "-i missing.crushmap --test --show-mappings --num-rep 1"),
    ("osdmaptool", ["om-simple3"], "om-simple3 --test-map-object foo"),
    ("osdmaptool", ["om-simple3"], "om-simple3 --mark-up-in --test-map-object foo --pool 1"),
    ("osdmaptool", ["om-simple3"], "om-simple3 --test-map-pgs --pool 7"),
    ("osdmaptool", ["om-simple3"], "om-simple3 --mark-up-in --mark-out 1 --test-map-pg 1.0 --test-map-pgs-dump "
                                   "--pg_num 16"),
    ("osdmaptool", ["om-simple3"], "om-simple3 --mark-up-in --adjust-crush-weight 0:0.5,2:3 --test-map-pgs "
                                   "--pg-num 64 --pool 1"),
    ("osdmaptool", ["om-simple3"], "om-simple3 --pool abc --test-map-pgs"),
    ("osdmaptool", ["om-simple3"], "om-simple3"),
    ("osdmaptool", ["om-simple3"], "missing-om --test-map-pgs"),
]


def _file(name: str):
    for base in (SRC, CLI / "gen"):
        if (base / name).exists():
            return base / name
    return None


@pytest.mark.parametrize("release", [r for r in RELEASES])
def test_command_lines_per_release(release: str, tmp_path, monkeypatch) -> None:
    need(release)
    if not cases():
        pytest.skip(f"no Ceph CLI corpus at {CLI}")
    monkeypatch.chdir(tmp_path)
    differ = []
    for tool, names, line in LINES:
        files = {n: _file(n) for n in names if _file(n) is not None}
        for n, p in files.items():
            (tmp_path / n).write_bytes(p.read_bytes())
        argv = line.split()
        real = run(release, tool, argv, files, timeout=120)
        rc, out, err = run_pgtools([tool, "--ceph-release", release, *argv])
        real_err = real.stderr.replace("/usr/bin/" + tool, tool)
        if real.returncode < 0:  # Reef+ dies (signal 11) after "unable to decode": pgtools exits 1
            real_rc, real_err = 1, real_err.splitlines(keepends=True)[0]
        else:
            real_rc = real.returncode
        if tool == "osdmaptool" and real_rc == 1 and "no action specified" in real_err:
            real_out = ""  # osdmaptool prints its usage on stdout there; pgtools does not copy it
        else:
            real_out = real.stdout.replace("/usr/bin/" + tool, tool)
        if (rc, out, err) != (real_rc, real_out, real_err):
            differ.append((line, (real_rc, real_out[-300:], real_err[-300:]), (rc, out[-300:], err[-300:])))
    assert not differ, differ


@pytest.mark.parametrize("release", [r for r in RELEASES])
def test_text_maps_refused_like_the_compiler(release: str, tmp_path, monkeypatch) -> None:
    """A text map the release's ``crushtool -c`` refuses is refused by the drop-in with the same message."""
    need(release)
    if not cases():
        pytest.skip(f"no Ceph CLI corpus at {CLI}")
    monkeypatch.chdir(tmp_path)
    names = ["large-device-weight.crushmap.txt", "max-device-weight.crushmap.txt", "simple.template.adj.four",
             "too-large-device-weight.crushmap.txt", "bad-mappings.crushmap.txt", "simple.template.adj.one"]
    for n in names:
        (tmp_path / n).write_bytes((SRC / n).read_bytes())
        comp = run(release, "crushtool", ["-c", n, "-o", "m.bin"], {n: SRC / n})
        rc, out, err = run_pgtools(["crushtool", "-i", n, "--test", "--show-mappings", "--num-rep", "2", "--x", "1",
                                    "--ceph-release", release])
        if comp.returncode != 0:
            want = [ln for ln in comp.stderr.splitlines(keepends=True) if not ln.startswith("WARNING:")]
            assert (rc, out, err) == (1, "", "".join(want)), (n, comp.stderr, err)
        else:
            assert rc == 0 and out.startswith("CRUSH rule 0 x 1 ["), (n, err)
