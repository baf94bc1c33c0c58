"""The bad-input table (:mod:`tests.badinput.cases`): each case ends in its intended outcome class."""

from __future__ import annotations

import re

import pytest

from tests.badinput._build import materialize
from tests.badinput._run import run_child, run_inprocess
from tests.badinput.cases import CASES, ERR, OK, WARN, Case


def _params():
    for c in CASES.values():
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        yield pytest.param(c, id=c.id, marks=marks)


def check(c: Case, tmp_path) -> None:
    materialize(tmp_path, c.files)
    argv = [a.replace("{d}", str(tmp_path)) for a in c.argv]
    res = (run_child if c.subprocess else run_inprocess)(argv, c.timeout)
    both = res.out + res.err
    assert res.rc is not None, f"no result after {c.timeout} s (hang)"
    assert "Traceback" not in both, both[-3000:]
    assert "internal error" not in both, res.err[-2000:]
    errors = [ln for ln in res.err.splitlines() if ln.startswith("pgtools: error:")]
    warns = [ln for ln in res.err.splitlines() if ln.startswith("pgtools: warning:")]
    if c.expect == ERR:
        assert res.rc == 2, f"exit {res.rc}, expected 2; stderr: {res.err[-1500:]!r}"
        assert len(errors) == 1, f"expected one error line, got {res.err[-1500:]!r}"
        assert re.search(c.match, errors[0]), f"{errors[0]!r} does not match {c.match!r}"
        for o in c.outputs:
            assert not (tmp_path / o).exists(), f"{o} written although the command failed"
        return
    assert res.rc == 0, f"exit {res.rc}, expected 0; stderr: {res.err[-1500:]!r}"
    assert not errors, errors
    if c.expect == WARN:
        assert any(re.search(c.match, w) for w in warns), f"no warning matching {c.match!r} in {warns!r}"
    else:
        assert c.expect == OK
        assert not warns, warns
    if c.stdout:
        assert re.search(c.stdout, res.out), f"stdout does not match {c.stdout!r}: {res.out[:800]!r}"


@pytest.mark.parametrize("c", list(_params()))
def test_case(c: Case, tmp_path):
    check(c, tmp_path)


def test_table_size():
    """Issue #11 asks for at least 100 cases, covering every outcome class."""
    kinds = {c.expect for c in CASES.values()}
    assert len(CASES) >= 100 and kinds == {OK, WARN, ERR}
