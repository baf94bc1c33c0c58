"""MSR rules (Squid and later) without Ceph: parsing, the engines against each other, refusals.

The bit-exactness with Ceph is proven by ``tests/oracle/test_crushtool_msr.py`` (Tentacle's crushtool); here
the three engines (the scalar reference, the vectorised NumPy engine of :mod:`pgtools.crush.vecmsr`, the numba
kernel) must agree on every input, of a fixed map and of random MSR maps (:func:`msr_case`), malformed rules map
to nothing, and the shapes Ceph's ``crush_msr_do_rule`` has no defined result for are refused by all.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.crush import crushtool_weights, have_numba, map_values
from pgtools.crush.reference import msr_retry_value
from pgtools.errors import UnsupportedFeatureError
from pgtools.io import crushmap_from_text
from tests.oracle._msr_maps import msr_case

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


# ------------------------------------------------------------------------ the NumPy engine on random MSR maps
def _random_msr(seed: int, small: bool) -> tuple[object, list[int], dict[int, tuple[int, int]]]:
    """The map of :func:`msr_case` ``seed`` (Ceph's default MSR tunables replaced by 3 and 4 when ``small``: the
    scalar reference pays 100 x 100 descents per stride on an input that cannot be fully mapped), a reweight
    vector with random partial and zero reweights, and the rules' num_rep ranges."""
    case = msr_case(seed)
    text = case.text
    if small and "tunable msr_" not in text:
        text = "tunable msr_descents 3\ntunable msr_collision_tries 4\n" + text
    cm = crushmap_from_text(text)
    rng = np.random.default_rng(seed)
    wts = crushtool_weights(cm, case.reweights)
    for d in range(len(wts)):
        p = rng.random()
        if p < 0.08:
            wts[d] = 0
        elif p < 0.2:
            wts[d] = int(rng.integers(1, 0x10000))
    return cm, wts, case.rules


def _reference_rows(cm, rule: int, num_rep: int, xs, wts) -> list[list[int]] | str:
    """The reference's rows, or the message of the UnsupportedFeatureError it raises first."""
    try:
        return [cm.do_rule(rule, int(x), num_rep, wts) for x in xs]
    except UnsupportedFeatureError as e:
        return str(e)


def _numpy_rows(cm, rule: int, num_rep: int, xs, wts) -> list[list[int]] | str:
    try:
        got = map_values(cm, rule, num_rep, xs, wts, engine="numpy")
    except UnsupportedFeatureError as e:
        return str(e)
    return [[v for v in row if v != -1] for row in got.tolist()]


def _check_numpy_vs_reference(seed: int, xs: list[int]) -> int:
    cm, wts, rules = _random_msr(seed, small=True)
    n = 0
    for rule, (lo, hi) in sorted(rules.items()):
        for num_rep in range(lo, hi + 1):
            want = _reference_rows(cm, rule, num_rep, xs, wts)
            got = _numpy_rows(cm, rule, num_rep, xs, wts)
            assert got == want, (seed, rule, num_rep, cm.rules[rule].steps)
            n += len(xs)
    return n


def test_numpy_equals_reference_random_maps():
    """Seeded sweep: the vectorised NumPy engine equals the scalar reference on every input of 12 random MSR maps
    (racks, classes, weight sets with positions, every bucket algorithm, out and partly reweighted devices,
    malformed rules, two take/emit blocks)."""
    rng = np.random.default_rng(13)
    n = 0
    for seed in range(7000, 7012):
        n += _check_numpy_vs_reference(seed, rng.integers(0, 1 << 32, 16).tolist())
    assert n > 12 * 16 * 3


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), xs=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=16))
def test_numpy_equals_reference_hypothesis(seed, xs):
    _check_numpy_vs_reference(seed, xs)


@pytest.mark.skipif(not have_numba(), reason="numba not installed (pip install 'pgtools[fast]')")
def test_numpy_equals_numba_many_inputs():
    """Many inputs, Ceph's default MSR tunables kept (100 descents x 100 collision tries): NumPy equals numba."""
    xs = np.arange(256) * 7919
    seen = 0
    for seed in (40001, 40007, 7102, 7103):  # 40001 keeps the defaults; racks in 40007 and 7103
        cm, wts, rules = _random_msr(seed, small=False)
        for rule, (lo, hi) in sorted(rules.items()):
            for num_rep in (lo, hi):
                try:
                    want = map_values(cm, rule, num_rep, xs, wts, engine="numba")
                except UnsupportedFeatureError as e:
                    with pytest.raises(UnsupportedFeatureError, match=re.escape(str(e))):
                        map_values(cm, rule, num_rep, xs, wts, engine="numpy")
                    continue
                got = map_values(cm, rule, num_rep, xs, wts, engine="numpy")
                assert np.array_equal(got, want), (seed, rule, num_rep)
                seen += (want != -1).sum()
    assert seen > 3_000


def test_undefined_descents_after_a_valid_redraw_do_not_count():
    """The NumPy engine draws ``msr_collision_tries`` redraws in batches: a redraw reaching an empty bucket after
    the first valid one must not raise (Ceph stops at the valid one), one before it must.  Input by input, the
    NumPy engine raises exactly where the reference does, and maps the same elsewhere."""
    text = MAP.replace("tunable msr_descents 5\ntunable msr_collision_tries 7\n",
                       "tunable msr_descents 4\ntunable msr_collision_tries 12\n")
    text = text.replace("\titem empty weight 1.0\n", "\titem empty weight 0.3\n")
    cm = crushmap_from_text(text + _rule(0, "msr_indep", "take withempty", "choosemsr 0 type osd", "emit")
                            + _rule(1, "msr_firstn", "take withempty", "choosemsr 0 type osd", "emit"))
    outcomes = {"raise": 0, "map": 0}
    for rule in (0, 1):
        for x in range(160):
            want = _reference_rows(cm, rule, 2, [x], None)
            got = _numpy_rows(cm, rule, 2, [x], None)
            assert got == want, (rule, x)
            outcomes["raise" if isinstance(want, str) else "map"] += 1
        # on many inputs at once, the error is the one of the first input (in order) the reference refuses
        xs = list(range(160))
        assert _numpy_rows(cm, rule, 2, xs, None) == _reference_rows(cm, rule, 2, xs, None)
    assert min(outcomes.values()) >= 20, outcomes


def test_device_step_reaching_a_type0_bucket_is_refused():
    """A bucket of type 0 below a ``choosemsr N type osd`` step: Ceph's ``is_out`` reads ``weight[bucket id]``, out of
    bounds (Tentacle's crushtool happened to drop it: holes); every engine refuses it instead of emitting the bucket."""
    text = ("device 0 osd.0\ndevice 1 osd.1\ndevice 2 osd.2\ntype 0 osd\ntype 1 root\n"
            "osd b {\n\tid -2\n\talg straw2\n\thash 0\n\titem osd.0 weight 1.0\n\titem osd.1 weight 1.0\n}\n"
            "root default {\n\tid -1\n\talg straw2\n\thash 0\n\titem b weight 2.0\n\titem osd.2 weight 1.0\n}\n"
            + _rule(0, "msr_indep", "take default", "choosemsr 2 type osd", "emit"))
    cm = crushmap_from_text(text)
    with pytest.raises(UnsupportedFeatureError, match="reaches bucket -2, whose type is 0"):
        cm.do_rule(0, 0, 2)
    for e in ENGINES:
        with pytest.raises(UnsupportedFeatureError, match="reaches bucket -2, whose type is 0"):
            map_values(cm, 0, 2, np.arange(10), engine=e)
