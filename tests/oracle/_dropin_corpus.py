"""The Ceph CLI corpus (``../shared/data/peer/ceph_cli``) as drop-in command lines: helpers for
``test_dropin_releases.py``."""

from __future__ import annotations

import contextlib
import io
import json
import shlex

from pgtools.cli import main
from tests.paths import SHARED

CLI = SHARED / "data" / "peer" / "ceph_cli"
CRUSH_MAGIC = b"\x00\x00\x01\x00"
#: crushtool options of the corpus commands that pgtools does not implement (the command must name one)
UNIMPLEMENTED = ("--set-choose-local-tries", "--set-choose-local-fallback-tries", "--set-choose-total-tries",
                 "--set-chooseleaf-descend-once", "--set-chooseleaf-vary-r", "--set-straw-calc-version",
                 "--show-choose-tries", "--reweight", "--force", "-v")


def cases() -> list[dict]:
    if not (CLI / "cases.json").exists():
        return []
    return json.loads((CLI / "cases.json").read_text())["cases"]


def run_pgtools(argv: list[str]) -> tuple[int, str, str]:
    """``pgtools ARGV`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def crush_test_args(args: list[str]) -> tuple[str, list[str]]:
    """(input file, crushtool --test arguments) of one ``crush-test`` run of cases.json (``args``: its ``args``)."""
    assert args[0] == "crush-test", args
    it = iter(args[1:])
    path, out = None, ["--test", "--show-mappings"]
    for opt in it:
        val = next(it)
        if opt == "--crush":
            path = val
        elif opt == "--weight":
            out += ["--weight", *val.split("=")]
        elif opt in ("--rule", "--num-rep", "--min-x", "--max-x", "--pool-id"):
            out += [opt, val]
        else:
            raise AssertionError(f"unknown crush-test option {opt}")
    return path, out


def crushtool_argv(run: dict, form: str) -> tuple[str, list[str]]:
    """(map path, crushtool arguments after ``-i MAP``) of one ``crush-test`` run of cases.json."""
    path, out = crush_test_args(run["args"])
    if form == "json":
        path = {"src/python-crush/sample-ceph-crushmap.txt": "src/python-crush/sample-ceph-crushmap.json"}.get(path,
                                                                                                            path)
    return path, out


def ceph_cmd_argv(case: dict) -> list[str]:
    """The case's own command line after the tool name, with ``$TESTDIR``/``$map`` left as names."""
    return shlex.split(case["ceph_cmd"].replace('"', ""))[1:]
