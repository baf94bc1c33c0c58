"""MSR rules (Squid and later) without Ceph: parsing, the engines against each other, refusals.

The bit-exactness with Ceph is proven by ``tests/oracle/test_crushtool_msr.py`` (Tentacle's crushtool); here
the NumPy path (the scalar reference) and the numba kernel must agree on every input, malformed rules map to
nothing, and the shapes Ceph's ``crush_msr_do_rule`` has no defined result for are refused by both.
"""

from __future__ import annotations

import numpy as np
import pytest

from pgtools.crush import have_numba, map_values
from pgtools.crush.reference import msr_retry_value
from pgtools.errors import UnsupportedFeatureError
from pgtools.io import crushmap_from_text

ENGINES = ["numpy"] + (["numba"] if have_numba() else [])

MAP = """tunable choose_total_tries 50
tunable chooseleaf_descend_once 1
tunable chooseleaf_vary_r 1
tunable chooseleaf_stable 1
tunable straw_calc_version 1
tunable allowed_bucket_algs 54
tunable msr_descents 5
tunable msr_collision_tries 7
device 0 osd.0
device 1 osd.1
device 2 osd.2
device 3 osd.3
device 4 osd.4
device 5 osd.5
device 6 osd.6
type 0 osd
type 1 host
type 2 root
host h0 {
\tid -2
\talg straw2
\thash 0
\titem osd.0 weight 1.0
\titem osd.1 weight 1.0
}
host h1 {
\tid -3
\talg list
\thash 0
\titem osd.2 weight 1.0
\titem osd.3 weight 2.0
}
host h2 {
\tid -4
\talg uniform
\thash 0
\titem osd.4 weight 1.0
\titem osd.5 weight 1.0
}
host empty {
\tid -5
\talg straw2
\thash 0
}
root default {
\tid -1
\talg straw2
\thash 0
\titem h0 weight 2.0
\titem h1 weight 3.0
\titem h2 weight 2.0
}
root mixed {
\tid -6
\talg straw2
\thash 0
\titem h0 weight 2.0
\titem osd.6 weight 1.0
}
root withempty {
\tid -7
\talg straw2
\thash 0
\titem h0 weight 2.0
\titem empty weight 1.0
}
"""


def _rule(rid: int, kind: str, *steps: str) -> str:
    return f"rule r{rid} {{\n\tid {rid}\n\ttype {kind}\n" + "".join(f"\tstep {s}\n" for s in steps) + "}\n"


RULES = [
    ("msr_indep", "take default", "choosemsr 2 type host", "choosemsr 2 type osd", "emit"),
    ("msr_firstn", "take default", "choosemsr 0 type host", "choosemsr 1 type osd", "emit"),
    ("msr_indep", "set_msr_descents 2", "set_msr_collision_tries 1", "take default", "choosemsr 0 type osd",
     "emit"),
    ("msr_firstn", "take default", "choosemsr 2 type host", "choosemsr 1 type osd", "emit", "take h1",
     "choosemsr 0 type osd", "emit"),
    ("msr_indep", "take default", "chooseleaf indep 0 type host", "emit"),  # malformed: maps nothing
    ("msr_indep", "take default", "choosemsr 2 type osd", "choosemsr 1 type host", "emit"),  # device step first
]


@pytest.fixture(scope="module")
def cmap():
    return crushmap_from_text(MAP + "".join(_rule(i, *r) for i, r in enumerate(RULES)))


def test_parse(cmap):
    assert (cmap.tunables.msr_descents, cmap.tunables.msr_collision_tries) == (5, 7)
    assert cmap.rules[0].type == 5 and cmap.rules[1].type == 4 and cmap.rules[0].is_msr
    assert cmap.rules[0].steps == ((1, -1, 0), (16, 2, 1), (16, 2, 0), (4, 0, 0))
    assert cmap.rules[2].steps[:2] == ((14, 2, 0), (15, 1, 0))
    plain = crushmap_from_text(MAP.replace("tunable msr_descents 5\ntunable msr_collision_tries 7\n", ""))
    assert (plain.tunables.msr_descents, plain.tunables.msr_collision_tries) == (100, 100)


def test_retry_value():
    assert msr_retry_value(4, 1, 2, 3) == ((2 * 4 + 1) << 16) + 3
    assert msr_retry_value(100, 5, 70_000, 9) == ((((70_000 * 100 + 5) << 16) + 9) & 0xFFFFFFFF)


@pytest.mark.parametrize("rule", range(len(RULES)))
def test_engines_agree(cmap, rule):
    xs = np.arange(300)
    weights = [0x10000, 0, 0x8000, 0x10000, 0x10000, 0x4000, 0x10000]
    for num_rep in (1, 3, 4, 6):
        rows = [map_values(cmap, rule, num_rep, xs, weights, engine=e) for e in ENGINES]
        for got in rows[1:]:
            assert np.array_equal(got, rows[0]), (rule, num_rep)
        ref = [cmap.do_rule(rule, int(x), num_rep, weights) for x in xs[:20]]
        assert [list(r[r != -1]) for r in rows[0][:20]] == ref
        if rule == 4:
            assert (rows[0] == -1).all()  # malformed: no result at all, indep included
        elif rule == 5:
            assert (rows[0] == 0x7FFFFFFF).all()  # well formed, but the device step is skipped: all holes
        elif cmap.rules[rule].type == 5:
            assert (rows[0] != -1).all()  # indep: num_rep positions, holes are ITEM_NONE


def test_non_msr_rule_ignores_msr_steps(cmap):
    """``crush_do_rule_no_retry`` skips opcodes it does not know: an MSR step in a replicated rule is a no-op."""
    text = MAP + _rule(0, "replicated", "take default", "choosemsr 2 type host", "chooseleaf firstn 0 type host",
                       "emit") + _rule(1, "replicated", "take default", "chooseleaf firstn 0 type host", "emit")
    cm = crushmap_from_text(text)
    for e in ENGINES:
        assert np.array_equal(map_values(cm, 0, 3, np.arange(64), engine=e),
                              map_values(cm, 1, 3, np.arange(64), engine=e))


@pytest.mark.parametrize(("steps", "match"), [
    (("take osd.0", "emit"), "take of device 0"),
    (("take mixed", "choosemsr 0 type host", "choosemsr 1 type osd", "emit"), "reaches device 6"),
    (("take withempty", "choosemsr 0 type host", "choosemsr 1 type osd", "emit"), "empty bucket -5"),
])
def test_undefined_in_ceph_is_refused(steps, match):
    cm = crushmap_from_text(MAP + _rule(0, "msr_indep", *steps))
    for e in ENGINES:
        with pytest.raises(UnsupportedFeatureError, match=match):
            map_values(cm, 0, 3, np.arange(64), engine=e)
