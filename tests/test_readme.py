"""The README's CLI tour is real: every `$ pgtools ...` block is re-run and compared with what it shows."""

from __future__ import annotations

import os
import re
import shlex

import pytest

from pgtools.cli import main
from tests.paths import REPO


def _tour_blocks():
    """Every `$ pgtools ...` command shown in a code block of the README, with the output shown under it."""
    text = (REPO / "README.md").read_text()
    for block in text.split("```")[1::2]:
        if not block.lstrip("\n").startswith("$ pgtools"):
            continue
        for b in re.split(r"^\$ ", block.lstrip("\n"), flags=re.M)[1:]:
            cmd, _, out = b.partition("\n")
            yield pytest.param(cmd, out.rstrip("\n"), id=cmd[:60])


@pytest.mark.parametrize(("cmd", "expected"), list(_tour_blocks()))
def test_readme_tour_output(cmd, expected, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    pipe = None
    if "|" in cmd:
        cmd, pipe = (c.strip() for c in cmd.split("|", 1))
    argv = shlex.split(cmd)
    assert argv[0] == "pgtools"
    main(argv[1:])
    cap = capsys.readouterr()
    lines = (cap.out + cap.err).rstrip("\n").split("\n")
    if pipe:
        m = re.fullmatch(r"(head|tail) -(\d+)", pipe)
        assert m, pipe
        n = int(m.group(2))
        lines = lines[:n] if m.group(1) == "head" else lines[-n:]
    assert "\n".join(lines).rstrip() == expected.rstrip(), f"README output of `{cmd}` is stale"
    assert os.environ.get("PGTOOLS_DEBUG") is None
