"""Every crushtool output of the shared oracle cases, reproduced byte for byte."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest

from pgtools.crush import crushtool_test, crushtool_weights, format_mappings, map_values
from pgtools.crush.hash import hash2
from pgtools.io import crushmap_from_dump, crushmap_from_text
from tests.paths import CRUSH_CASES


def _cases():
    out = []
    if not CRUSH_CASES.is_dir():
        return out
    for case in sorted(CRUSH_CASES.iterdir()):
        cj = case / "case.json"
        if not cj.is_file():
            continue
        for t in json.loads(cj.read_text())["tests"]:
            if t.get("kind") == "crushtool_mappings":
                out.append(pytest.param(case, t, id=f"{case.name}:{t['output'].split('/')[-1]}"))
    return out


CASES = _cases()


def _parse_cmd(cmd: str) -> tuple[dict[int, float], int]:
    args = shlex.split(cmd)
    weights: dict[int, float] = {}
    pool = -1
    for i, a in enumerate(args):
        if a == "--weight":
            weights[int(args[i + 1])] = float(args[i + 2])
        elif a == "--pool-id":
            pool = int(args[i + 1])
    return weights, pool


_MAPS: dict = {}


def _maps(case):
    if case not in _MAPS:
        _MAPS[case] = (crushmap_from_dump(json.loads((case / "crush.json").read_text()), source=str(case)),
                       crushmap_from_text((case / "crushmap.txt").read_text(), source=str(case)))
    return _MAPS[case]


def test_shared_cases_present():
    assert len(CASES) == 39


@pytest.mark.parametrize("case,t", CASES)
def test_crushtool_output_vector(case, t):
    expected = (case / t["output"]).read_text()
    weights, pool = _parse_cmd(t["cmd"])
    dump_map, text_map = _maps(case)
    for cm in (dump_map, text_map):
        got = crushtool_test(cm, t["rule"], t["num_rep"], t["min_x"], t["max_x"], weights, pool)
        assert got == expected


@pytest.mark.parametrize("case,t", CASES[::4])
def test_crushtool_output_reference(case, t):
    """The scalar reference agrees too (every 4th output, first 256 inputs, to keep this quick)."""
    expected = (case / t["output"]).read_text().splitlines(keepends=True)[:256]
    weights, pool = _parse_cmd(t["cmd"])
    cm = _maps(case)[0]
    wv = crushtool_weights(cm, weights)
    xs = list(range(t["min_x"], t["min_x"] + len(expected)))
    rows = [cm.do_rule(t["rule"], hash2(x, pool) if pool != -1 else x, t["num_rep"], wv, 0) for x in xs]
    assert format_mappings(t["rule"], rows, xs) == "".join(expected)


def test_dump_and_text_agree():
    for case in sorted({p.values[0] for p in CASES}):
        a, b = _maps(case)
        assert a.buckets == b.buckets
        assert a.rules == b.rules
        assert a.tunables == b.tunables
        assert a.max_devices == b.max_devices


def test_format_mappings_exact():
    res = np.array([[3, 1, 8], [2, -1, -1], [0x7FFFFFFF, 4, 5]])
    assert format_mappings(0, res) == ("CRUSH rule 0 x 0 [3,1,8]\nCRUSH rule 0 x 1 [2]\n"
                                       "CRUSH rule 0 x 2 [2147483647,4,5]\n")
    assert format_mappings(2, [[]], xs=[17]) == "CRUSH rule 2 x 17 []\n"


def test_crushtool_weights_semantics():
    case = CRUSH_CASES / "17_rules_multistep_firstn"
    cm = _maps(case)[0]
    w = crushtool_weights(cm, {2: 0, 3: 0, 7: 0.2, 9: 1.5, 99: 0.5})
    assert w[2] == 0 and w[3] == 0
    assert w[7] == 13107  # (int)(0.2f * 65536)
    assert w[9] == 0x10000  # clamped
    assert len(w) == cm.max_devices == 24


def test_map_values_shape_and_padding():
    cm = _maps(CRUSH_CASES / "01_flat10_hosts_straw2_firstn")[0]
    res = map_values(cm, 0, 11, [0, 1, 2])
    assert res.shape == (3, 11)
    assert res.dtype == np.int64
    assert (res[:, 10] == -1).all()  # 10 hosts: an 11th replica cannot be placed
    assert map_values(cm, 99, 3, [0, 1]).tolist() == [[-1, -1, -1], [-1, -1, -1]]
