"""Maps whose every device is out: ``map_values`` answers from the rule's shape (``places_nothing``) instead
of running every descent out of tries, and must give exactly what the reference ``crush_do_rule`` gives."""

from __future__ import annotations

import numpy as np
import pytest

import pgtools
from pgtools.crush.shape import places_nothing
from pgtools.crush.vector import map_values
from pgtools.io import crushmap_from_text
from tests.crush._gen import random_text_map
from tests.paths import SAMPLE_DUMPS

XS = np.array([0, 1, 7, 100, 4096, 123457, 2**31 + 5, 2**32 - 1], dtype=np.int64)


def _check(crush, rule: int, num_rep: int) -> int | None:
    w = np.zeros(max(crush.max_devices, 1), dtype=np.int64)
    width = places_nothing(crush, rule, num_rep, w)
    got = map_values(crush, rule, num_rep, XS, w, engine="numpy")
    for x, row in zip(XS.tolist(), got.tolist(), strict=True):
        want = list(crush.do_rule(rule, int(x), num_rep, w.tolist()))
        assert [v for v in row if v != -1] == want, (rule, num_rep, x)
    return width


def test_random_maps_all_out_equal_the_reference():
    hits = {"firstn": 0, "indep": 0, "engine": 0}
    for seed in range(16):
        g = random_text_map(7000 + seed)
        crush = crushmap_from_text(g.text)
        for rule, num_rep in g.rules:
            width = _check(crush, rule, num_rep)
            hits["engine" if width is None else ("firstn" if width == 0 else "indep")] += 1
    # the shortcut is taken for both modes, and other shapes are left to the engines
    assert all(hits.values()), hits


@pytest.mark.parametrize("sample", ["mixed", "seedlike_max300"])
def test_sample_rules_all_out(sample):
    crush = pgtools.load(SAMPLE_DUMPS / sample).crush
    for rule in crush.rules:
        for num_rep in (1, 3, 6):
            _check(crush, rule, num_rep)


def test_shapes_left_to_the_engines():
    crush = crushmap_from_text("""
device 0 osd.0
device 1 osd.1
type 0 osd
type 1 host
type 2 root
host h0 {
    id -2
    alg straw2
    hash 0
    item osd.0 weight 1.000
}
host h1 {
    id -3
    alg straw2
    hash 0
    item osd.1 weight 1.000
}
root default {
    id -1
    alg straw2
    hash 0
    item h0 weight 1.000
    item h1 weight 1.000
}
rule hosts {
    id 0
    type replicated
    step take default
    step choose firstn 0 type host
    step emit
}
rule dev {
    id 1
    type replicated
    step take osd.0
    step emit
}
rule leaf {
    id 2
    type replicated
    step take default
    step chooseleaf firstn 0 type host
    step emit
}
rule skip {
    id 3
    type replicated
    step take default
    step chooseleaf firstn -3 type host
    step emit
}
""")
    w = np.zeros(2, dtype=np.int64)
    assert places_nothing(crush, 0, 2, w) is None  # emits hosts: is_out never tested
    assert places_nothing(crush, 1, 2, w) is None  # a device taken directly is emitted as it is
    assert places_nothing(crush, 2, 2, w) == 0
    assert places_nothing(crush, 3, 2, w) is None  # numrep -3 + 2 <= 0: the step is skipped
    assert places_nothing(crush, 2, 2, np.array([0, 1], dtype=np.int64)) is None  # one device may be in
    for rule in range(4):
        _check(crush, rule, 2)
