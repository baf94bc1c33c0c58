"""§13 test vectors: hashes, crush_ln, straws, single-bucket choices, the small map table."""

from __future__ import annotations

import numpy as np
import pytest

from pgtools.crush import ChooseArg, CrushMap, Tunables, map_values
from pgtools.crush._ln_tables import LL_TBL, RH_LH_TBL
from pgtools.crush.buckets import (
    Bucket,
    calc_straws,
    list_choose,
    list_sum_weights,
    perm_choose,
    straw2_choose,
    straw_choose,
    tree_choose,
    tree_node_weights,
)
from pgtools.crush.hash import hash1, hash2, hash2_vec, hash3, hash3_vec, hash4, hash4_vec, hash5, hash5_vec
from pgtools.crush.ln import LN_CHECKSUM, crush_ln, crush_ln_vec, ln_table
from pgtools.crush.rule import OPS, Rule


def test_hash_vectors():
    assert hash1(0) == 398764043
    assert hash1(12345) == 3450610134
    assert hash2(0, 0) == 430787817
    assert hash2(1, 2) == 3079532188
    assert hash2(0xFFFFFFFF, 7) == 2874985758
    assert hash3(1, 2, 3) == 1935332395
    assert hash3(123456, -2, 0) == 1270885767
    assert hash4(1, 2, 3, 4) == 1768759062
    assert hash5(1, 2, 3, 4, 5) == 1262657953


def test_hash_vec_matches_scalar():
    rng = np.random.default_rng(1)
    a = rng.integers(-(2**31), 2**32, 500)
    b = rng.integers(-(2**31), 2**32, 500)
    c = rng.integers(0, 2**32, 500)
    d = rng.integers(0, 2**32, 500)
    assert hash2_vec(a, b).tolist() == [hash2(int(p), int(q)) for p, q in zip(a, b, strict=False)]
    assert hash3_vec(a, b, c).tolist() == [hash3(int(p), int(q), int(r)) for p, q, r in zip(a, b, c, strict=False)]
    assert hash4_vec(a, b, c, d).tolist() == [hash4(*map(int, t)) for t in zip(a, b, c, d, strict=False)]
    assert hash5_vec(a, b, c, d, a).tolist() == [hash5(*map(int, t)) for t in zip(a, b, c, d, a, strict=False)]
    assert hash3_vec(123456, np.array([-2]), 0).dtype == np.uint32


def test_ln_tables_shape():
    assert len(RH_LH_TBL) == 258
    assert len(LL_TBL) == 256
    assert RH_LH_TBL[257] == 0x0000FFFF00000000


def test_crush_ln_values():
    us = [0, 1, 2, 3, 255, 256, 1000, 32767, 32768, 32769, 43981, 65534, 65535]
    expected = [0, 17592186044416, 27882955186109, 35184372088832, 140737488355328, 140836779814266,
                175345047775141, 263882790666240, 263883565195424, 263884683044076, 271353073090888,
                281474932780304, 281474708275200]
    assert [crush_ln(u) for u in us] == expected
    assert crush_ln_vec(np.array(us)).tolist() == expected


def test_crush_ln_checksum():
    s = 0
    for v in ln_table().tolist():
        s = (s * 1000003 + v) % (1 << 64)
    assert s == LN_CHECKSUM == 10390633211779923000
    # the vectorised table is the scalar crush_ln on every input
    assert ln_table().tolist() == [crush_ln(u) for u in range(0x10000)]


W5 = (0x10000, 0x20000, 0x8000, 0x30000, 0x10000)
ITEMS5 = (0, 1, 2, 3, 4)
XS = (7, 1007, 2007, 3007, 4007, 5007)


def _choices(fn):
    return " ".join(str(fn(x, r)) for x in XS for r in range(3))


def test_straws():
    assert calc_straws(W5, 0) == [76651, 93878, 65536, 109524, 76651]
    assert calc_straws(W5, 1) == [75909, 91232, 65536, 105268, 75909]
    assert calc_straws((0, 0x10000), 1) == [0, 65536]


def test_single_bucket_choices():
    assert _choices(lambda x, r: perm_choose(-10, ITEMS5, x, r)) == "1 0 3 2 4 0 2 4 3 3 2 1 2 0 4 1 0 3"
    sw = list_sum_weights(W5)
    assert _choices(lambda x, r: list_choose(-11, ITEMS5, W5, sw, x, r)) == \
        "3 1 1 0 3 0 1 3 4 0 3 3 3 1 3 0 3 1"
    nw = tree_node_weights(W5)
    assert nw == [0, 65536, 196608, 131072, 425984, 32768, 229376, 196608, 491520, 65536, 65536, 0, 65536,
                  0, 0, 0]
    assert _choices(lambda x, r: tree_choose(-12, ITEMS5, nw, x, r)) == "0 0 0 4 3 1 1 3 0 1 3 3 0 3 4 4 3 1"
    st = calc_straws(W5, 1)
    assert _choices(lambda x, r: straw_choose(ITEMS5, st, x, r)) == "1 4 1 3 3 1 1 4 1 3 4 3 1 4 1 3 1 3"
    # straw2 with all-zero weights returns item 0
    assert straw2_choose(ITEMS5, (0,) * 5, ITEMS5, 7, 0) == 0


def test_single_bucket_choices_vectorised():
    """The vectorised bucket choices agree with the §13 vectors (one-bucket maps, choose firstn 1)."""
    from pgtools.crush.vecmap import VecMap

    for alg, bid, expect in ((1, -10, "1 0 3 2 4 0 2 4 3 3 2 1 2 0 4 1 0 3"),
                             (2, -11, "3 1 1 0 3 0 1 3 4 0 3 3 3 1 3 0 3 1"),
                             (3, -12, "0 0 0 4 3 1 1 3 0 1 3 3 0 3 4 4 3 1"),
                             (4, -13, "1 4 1 3 3 1 1 4 1 3 4 3 1 4 1 3 1 3")):
        w = (0x10000,) * 5 if alg == 1 else W5
        b = Bucket(bid, "b", 1, alg, 0, ITEMS5, w, sum(w))
        cm = CrushMap({i: (f"osd.{i}", None) for i in ITEMS5}, {0: "osd", 1: "host"}, {bid: b}, {},
                      max_devices=5)
        vm = VecMap(cm, None)
        xs = np.repeat(np.array(XS, dtype=np.uint32), 3)
        rs = np.tile(np.arange(3), len(XS))
        got = vm.choose(np.full(len(xs), bid), xs, rs, np.zeros(len(xs), dtype=np.int64))
        assert " ".join(map(str, got.tolist())) == expect


PPS = [91478055, 3308535608, 3817799236, 1156777298, 1039746536, 4119553837, 3614737657, 1337247920]


def small_map(tunables: Tunables, choose_args: dict | None = None) -> CrushMap:
    def b(bid, items, weights, t=1, name=None):
        return Bucket(bid, name or f"host{-bid}", t, 5, 0, tuple(items), tuple(weights), sum(weights))
    buckets = {
        -2: b(-2, [0, 1], [0x10000, 0x10000]),
        -3: b(-3, [2, 3], [0x10000, 0x10000]),
        -4: b(-4, [4, 5], [0x10000, 0x20000]),
        -1: b(-1, [-2, -3, -4], [0x20000, 0x20000, 0x30000], t=10, name="default"),
    }
    take, emit = (OPS["take"], -1, 0), (OPS["emit"], 0, 0)
    rules = {
        0: Rule(0, "r0", 0, 1, 1, 10, (take, (OPS["chooseleaf_firstn"], 0, 1), emit)),
        1: Rule(1, "r1", 1, 3, 3, 20, ((OPS["set_chooseleaf_tries"], 5, 0), (OPS["set_choose_tries"], 100, 0),
                                       take, (OPS["chooseleaf_indep"], 0, 1), emit)),
        2: Rule(2, "r2", 2, 1, 1, 10, (take, (OPS["choose_firstn"], 0, 0), emit)),
    }
    return CrushMap({i: (f"osd.{i}", None) for i in range(6)}, {0: "osd", 1: "host", 10: "root"}, buckets,
                    rules, tunables=tunables, choose_args=choose_args or {}, max_devices=6)


W_ALL = [0x10000] * 6
W2 = [0x10000, 0, 0x8000, 0x10000, 0x10000, 0x10000]


def _both(cm, rule, weights, cargs=None):
    ref = [cm.do_rule(rule, x, 3, weights, cargs) for x in PPS]
    vec = map_values(cm, rule, 3, PPS, weights, cargs).tolist()
    assert vec == ref
    return ref


JEWEL_TABLE = {
    (0, "w"): [[3, 0, 5], [5, 2, 0], [2, 4, 0], [3, 5, 0], [1, 5, 2], [2, 4, 0], [5, 2, 1], [5, 3, 1]],
    (0, "w2"): [[3, 0, 5], [5, 2, 0], [3, 4, 0], [3, 5, 0], [5, 3, 0], [4, 0, 3], [5, 2, 0], [5, 3, 0]],
    (1, "w"): [[3, 0, 5], [5, 0, 2], [2, 0, 4], [3, 5, 0], [1, 5, 2], [2, 5, 0], [5, 0, 3], [5, 2, 0]],
    (1, "w2"): [[3, 0, 5], [5, 0, 2], [3, 0, 4], [3, 5, 0], [0, 5, 3], [3, 5, 0], [5, 0, 3], [5, 3, 0]],
    (2, "w"): [[3, 0, 5], [5, 2, 0], [2, 3, 4], [3, 5, 0], [1, 5, 4], [2, 4, 0], [5, 4, 2], [5, 3, 1]],
}


@pytest.mark.parametrize("key", sorted(JEWEL_TABLE))
def test_small_map_jewel(key):
    rule, wname = key
    cm = small_map(Tunables.profile("jewel"))
    assert _both(cm, rule, W_ALL if wname == "w" else W2) == JEWEL_TABLE[key]


def test_small_map_argonaut():
    cm = small_map(Tunables.profile("argonaut"))
    assert _both(cm, 0, W2) == [[3, 0, 5], [5, 3, 0], [3, 4, 0], [3, 5, 0], [0, 5, 3], [3, 4, 0], [5, 3, 0],
                                [5, 3, 0]]
    assert _both(cm, 1, W2) == [[3, 0, 5], [5, 0, 2], [3, 0, 4], [3, 5, 0], [0, 5, 3], [3, 5, 0], [5, 0, 3],
                                [5, 3, 0]]


def test_small_map_choose_args():
    ws = ((0x10000, 0x40000, 0x10000), (0x40000, 0x10000, 0x10000))
    cm = small_map(Tunables.profile("jewel"), {-1: {-1: ChooseArg(None, ws)}})
    assert _both(cm, 0, W_ALL, -1) == [[3, 0, 5], [3, 5, 0], [2, 1, 4], [3, 5, 1], [3, 0, 5], [2, 4, 0],
                                       [3, 0, 4], [3, 1, 4]]
    assert _both(cm, 1, W_ALL, -1) == [[3, 0, 5], [3, 5, 0], [2, 0, 5], [3, 5, 0], [3, 0, 4], [2, 0, 5],
                                       [3, 4, 0], [3, 1, 4]]
    # key 5 falls back to -1
    assert _both(cm, 0, W_ALL, 5)[1] == [3, 5, 0]
    cm2 = small_map(Tunables.profile("jewel"), {-1: {-1: ChooseArg((-100, -200, -300), ws)}})
    assert _both(cm2, 0, W_ALL, -1) == [[3, 5, 0], [3, 1, 5], [2, 0, 4], [3, 1, 5], [3, 0, 5], [1, 5, 3],
                                        [3, 0, 5], [5, 1, 2]]
    # without a selector the weight set is ignored
    assert _both(cm2, 0, W_ALL)[1] == [5, 2, 0]


def test_pps_chain():
    from pgtools.crush.hash import hash2
    # pool 1, pg_num 8, HASHPSPOOL: pps = hash2(ps, pool)
    assert [hash2(ps, 1) for ps in range(8)] == PPS


def test_find_rule():
    cm = small_map(Tunables())
    assert cm.find_rule(0, 1, 3) == 0
    assert cm.find_rule(1, 3, 3) == 1
    assert cm.find_rule(1, 3, 2) == -1
    assert cm.find_rule(0, 3, 3) == -1
    assert cm.find_rule(2, 1, 11) == -1
