"""`pgtools crush-test` against every crushtool oracle of the shared cases, byte for byte."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest

from pgtools.cli import main
from tests.paths import CRUSH_CASES


def _cases():
    for case in sorted(CRUSH_CASES.glob("*/case.json")):
        doc = json.loads(case.read_text())
        for t in doc["tests"]:
            if t["kind"] == "crushtool_mappings":
                yield pytest.param(case.parent, t["cmd"], t["output"], id=f"{case.parent.name[:2]}-{t['output']}")


def _translate(cmd: str) -> list[str]:
    """crushtool's flags → pgtools crush-test's (--weight OSD W → --weight OSD=W)."""
    argv = shlex.split(cmd)[1:]
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "-i":
            i += 2
            continue
        if a in ("--test", "--show-mappings"):
            pass
        elif a == "--weight":
            out += ["--weight", f"{argv[i + 1]}={argv[i + 2]}"]
            i += 2
        else:
            out.append(a)
        i += 1
    return out


@pytest.mark.parametrize(("case", "cmd", "output"), list(_cases()))
@pytest.mark.parametrize("source", ["crush.json", "crushmap.txt"])
def test_crush_test_matches_crushtool(case, cmd, output, source, capsys):
    rc = main(["crush-test", "--crush", str(case / source), *_translate(cmd)])
    out = capsys.readouterr().out
    assert rc == 0
    assert out == (case / output).read_text()


def test_crush_test_entry_point_and_errors():
    case = CRUSH_CASES / "01_flat10_hosts_straw2_firstn"
    r = subprocess.run([sys.executable, "-m", "pgtools", "crush-test", "--crush", str(case / "crush.json"),
                        "--rule", "0", "--num-rep", "3", "--max-x", "4"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    expected = "".join((case / "crushtool" / "rule0_rep3.txt").read_text().splitlines(keepends=True)[:5])
    assert r.stdout == expected
    bad = subprocess.run([sys.executable, "-m", "pgtools", "crush-test", "--crush", str(case / "crush.json"),
                          "--weight", "3=7"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.oracle
@pytest.mark.parametrize("key", [0, 1])
def test_crushtool_uses_choose_args_key_0_whatever_the_pool_id(key, tmp_path, capsys):
    """crushtool --test asks for choose_args index 0 (then -1) even with --pool-id; a set keyed 1 is ignored."""
    import shutil

    from tests.paths import TEST_DATA

    if not shutil.which("crushtool"):
        pytest.skip("crushtool not installed")
    text = (TEST_DATA / "crush" / "choose_args_key1.txt").read_text().replace("choose_args 1 {", f"choose_args {key} {{")
    (tmp_path / "m.txt").write_text(text)
    subprocess.run(["crushtool", "-c", str(tmp_path / "m.txt"), "-o", str(tmp_path / "m.bin")], check=True)
    ref = subprocess.run(["crushtool", "-i", str(tmp_path / "m.bin"), "--test", "--show-mappings", "--rule", "0",
                          "--num-rep", "1", "--pool-id", "1"], capture_output=True, text=True, check=True).stdout
    rc = main(["crush-test", "--crush", str(tmp_path / "m.txt"), "--rule", "0", "--num-rep", "1", "--pool-id", "1"])
    assert rc == 0
    assert capsys.readouterr().out == ref


def test_negative_num_rep_runs_every_rule_size_like_crushtool(capsys):
    """crushtool 16.2.15 treats --num-rep -1 as "not given": every size from the rule's min_size to max_size."""
    case = CRUSH_CASES / "01_flat10_hosts_straw2_firstn"
    rc = main(["crush-test", "--crush", str(case / "crush.json"), "--rule", "0", "--num-rep", "-1",
               "--min-x", "0", "--max-x", "9"])
    out = capsys.readouterr().out
    assert rc == 0
    # rule 0 has min_size 1, max_size 10; the stored crushtool oracles cover sizes 1..4 and 10
    blocks = [out.splitlines(keepends=True)[i * 10:(i + 1) * 10] for i in range(10)]
    assert len(out.splitlines()) == 100
    for n in (1, 2, 3, 4, 10):
        want = (case / "crushtool" / f"rule0_rep{n}.txt").read_text().splitlines(keepends=True)[:10]
        assert blocks[n - 1] == want
    assert "[]" not in out


@pytest.mark.parametrize(("args", "what"), [(["--rule", "9"], "no rule 9"),
                                            (["--min-x", "5", "--max-x", "2"], "--min-x")])
def test_crush_test_bad_ranges_are_errors(args, what, capsys):
    case = CRUSH_CASES / "01_flat10_hosts_straw2_firstn"
    rc = main(["crush-test", "--crush", str(case / "crush.json"), *args])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert what in err and len(err.strip().splitlines()) == 1
