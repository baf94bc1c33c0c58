"""Ceph's own CLI test maps (``../shared/data/peer/ceph_cli``) replayed with the crushtool and osdmaptool of every
release, against the outputs Ceph 16.2.15 printed for them.

The corpus (see its ``PROVENANCE.md``) holds Ceph's ``src/test/cli/crushtool`` and ``osdmaptool`` maps and
python-crush's maps, ``cases.json`` (each case's runs) and ``expected/`` (what 16.2.15 printed).  Here:

* every crushtool run of a case (``--rule R --num-rep N --min-x A --max-x B [--weight O W] [--pool-id P]``) with
  ``crushtool -i MAP --test --show-mappings`` of the release; binary inputs as they are, text inputs compiled by
  the same release's ``crushtool -c`` first (JSON inputs are pgtools-only: crushtool cannot read them);
* every osdmaptool case (``--test-map-pgs[-dump[-all]]``, ``--mark-up-in``, ``--mark-out``, ``--pg_num``,
  ``--adjust-crush-weight`` on three Pacific-encoded osdmaps) with the release's osdmaptool, whole stdout.

A case whose output differs from 16.2.15 on a newer release must be listed in :data:`DIFFERS` with the reason
(and in ``tests/oracle/README.md``); an unlisted difference, or a listed one that is gone, fails.  Pacific is
not replayed here: ``expected/`` is 16.2.15's own output (replayed this way it matched all 134 cases, 746
tool runs, when this test was written), and pgtools is checked against it elsewhere.  The cases run in
two worker threads (70-100 s per release on 2 busy cores; the racks osdmaptool and jewel/hammer tunables maps
take most of it).
"""

from __future__ import annotations

import json
import shlex
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ceph_release_tools import RELEASES, ceph_version, need, run
from tests.oracle._dropin_corpus import crush_test_args
from tests.paths import SHARED

CLI = SHARED / "data" / "peer" / "ceph_cli"
CRUSH_MAGIC = b"\x00\x00\x01\x00"  # CRUSH_MAGIC 0x00010000, little-endian, first word of a binary map

#: Reef and later refuse to decode a binary map in which a rule's ruleset differs from its id (rulesets were
#: removed in Quincy: ``CrushWrapper::decode`` throws, crushtool prints ``unable to decode`` and then crashes in
#: ``~CrushWrapper``, signal 11); 16.2.15 maps them, and so does pgtools.  Ceph's own ``check-overlapped-rules``
#: (rules 1-4 in ruleset 0) and ``test-map-big-1`` (rule 6 in ruleset 7) are such maps.
RULESET_NOT_ID = "unable to decode m.bin"
#: release -> {case id: what the release prints instead of 16.2.15's output (a substring of the difference)}
DIFFERS: dict[str, dict[str, str]] = {
    "reef": {"sweep__check-overlapped-rules.crushmap": RULESET_NOT_ID,
             "sweep__test-map-big-1.crushmap": RULESET_NOT_ID},
    "tentacle": {"sweep__check-overlapped-rules.crushmap": RULESET_NOT_ID,
                 "sweep__test-map-big-1.crushmap": RULESET_NOT_ID},
}

pytestmark = pytest.mark.oracle


def _cases() -> list[dict]:
    if not (CLI / "cases.json").exists():
        return []
    return json.loads((CLI / "cases.json").read_text())["cases"]


def _first_line(text: str) -> str:
    return next((ln for ln in text.splitlines() if ln.strip()), "")


def _crush_case(release: str, case: dict) -> str | None:
    """None when the release prints 16.2.15's mappings for every run of ``case``, else the first difference."""
    compiled: dict[str, bytes] = {}
    got = []
    for r in case["runs"]:
        path, args = crush_test_args(r["args"])
        data = (CLI / path).read_bytes()
        if not data.startswith(CRUSH_MAGIC):
            if path not in compiled:
                c = run(release, "crushtool", ["-c", "m.txt", "-o", "m.bin"], {"m.txt": data})
                if c.returncode != 0:
                    return f"crushtool -c refuses {path}: {_first_line(c.stderr)}"
                compiled[path] = c.files["m.bin"]
            data = compiled[path]
        p = run(release, "crushtool", ["-i", "m.bin", *args], {"m.bin": data})
        if p.returncode != 0:
            return f"crushtool {' '.join(args)}: rc {p.returncode}: {_first_line(p.stderr)}"
        got += [ln for ln in (p.stdout + p.stderr).splitlines() if ln.startswith("CRUSH ")]
    expected = [ln for ln in (CLI / case["expected"]).read_text().splitlines() if ln.startswith("CRUSH ")]
    for i, (a, b) in enumerate(zip(expected, got, strict=False)):
        if a != b:
            return f"line {i}: 16.2.15 {a!r}, {release} {b!r}"
    if len(expected) != len(got):
        return f"{len(expected)} mapping lines in 16.2.15, {len(got)} in {release}"
    return None


def _osdmaptool_case(release: str, case: dict) -> str | None:
    """None when the release's osdmaptool prints 16.2.15's stdout for ``case``, else the first difference."""
    argv = shlex.split(case["ceph_cmd"])
    assert argv[0] == "osdmaptool", argv
    name = argv[1]
    p = run(release, "osdmaptool", argv[1:], {name: CLI / "gen" / name}, timeout=120)
    if p.returncode != case.get("osdmaptool_rc", 0):
        return f"rc {p.returncode}: {_first_line(p.stderr)}"
    expected = (CLI / case["expected"]).read_text().splitlines()
    got = p.stdout.splitlines()
    for i, (a, b) in enumerate(zip(expected, got, strict=False)):
        if a != b:
            return f"line {i}: 16.2.15 {a!r}, {release} {b!r}"
    if len(expected) != len(got):
        return f"{len(expected)} lines in 16.2.15, {len(got)} in {release}"
    return None


def _replay(release: str, case: dict) -> str | None:
    if case["group"] == "osdmaptool":
        return _osdmaptool_case(release, case)
    return _crush_case(release, case)


@pytest.mark.parametrize("release", [r for r in RELEASES if RELEASES[r] is not None])
def test_ceph_cli_cases_per_release(release: str) -> None:
    need(release)
    cases = [c for c in _cases() if c["group"] == "osdmaptool" or c["input_form"] in ("binary", "text")]
    if not cases:
        pytest.skip(f"no Ceph CLI corpus at {CLI}")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as ex:
        results = list(ex.map(lambda c: _replay(release, c), cases))
    differs = {c["id"]: why for c, why in zip(cases, results, strict=True) if why is not None}
    runs = sum(len(c["runs"]) for c in cases)
    print(f"\nCeph CLI corpus, Ceph {release} {ceph_version(release)}: {len(cases)} cases, {runs} runs, "
          f"{len(differs)} differ from 16.2.15, {time.perf_counter() - t0:.1f} s")
    for cid, why in sorted(differs.items()):
        print(f"  {cid}: {why}")
    assert sorted(differs) == sorted(DIFFERS[release]), differs
    for cid, what in DIFFERS[release].items():
        assert what in differs[cid], (cid, differs[cid])
