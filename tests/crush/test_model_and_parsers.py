"""CrushMap model helpers, parser errors, and the io parser modules (including fuzzing)."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgtools
from pgtools.crush import map_values
from pgtools.errors import DumpFormatError, UnsupportedFeatureError
from pgtools.io import crush_dump, crushmap_from_dump, crushmap_from_text, crushmap_text
from pgtools.io._common import loads_json
from tests.paths import CRUSH_CASES, SAMPLE_DUMPS

CASE17 = CRUSH_CASES / "17_rules_multistep_firstn"
DUMP17 = json.loads((CASE17 / "crush.json").read_text())
TEXT17 = (CASE17 / "crushmap.txt").read_text()

CLASS_TEXT = """\
tunable choose_local_tries 0
tunable choose_local_fallback_tries 0
tunable choose_total_tries 50
tunable chooseleaf_descend_once 1
tunable chooseleaf_vary_r 1
tunable chooseleaf_stable 1
tunable straw_calc_version 1
device 0 osd.0 class hdd
device 1 osd.1 class ssd
device 2 osd.2 class hdd
device 3 osd.3 class ssd
type 0 osd
type 1 host
type 10 root
host h1 {
\tid -2
\tid -5 class hdd
\tid -6 class ssd
\talg straw2
\thash 0
\titem osd.0 weight 1.000
\titem osd.1 weight 0.500
}
host h2 {
\tid -3
\tid -7 class hdd
\tid -8 class ssd
\talg straw2
\thash 0
\titem osd.2 weight 2.000
\titem osd.3 weight 0.250
}
root default {
\tid -1
\tid -4 class hdd
\tid -9 class ssd
\talg straw2
\thash 0
\titem h1 weight 1.500
\titem h2 weight 2.250
}
rule ssd_rule {
\tid 0
\ttype replicated
\tmin_size 1
\tmax_size 10
\tstep take default class ssd
\tstep chooseleaf firstn 0 type host
\tstep emit
}
choose_args 3 {
  {
    bucket_id -1
    weight_set [
      [ 1.000 4.000 ]
      [ 4.000 1.000 ]
    ]
    ids [ -100 -200 ]
  }
}
"""


def test_from_dump_basics():
    cm = crushmap_from_dump(DUMP17)
    assert cm.max_devices == 24
    assert cm.buckets[-1].name == "default"
    assert cm.buckets[-1].weight == 2392064
    assert cm.rules[1].steps == ((1, -1, 0), (2, 2, 3), (6, 2, 1), (4, 0, 0))
    assert cm.rules[6].steps[:2] == ((12, 0, 0), (13, 0, 0))
    assert cm.find_rule(0, 1, 3) == 0
    assert cm.subtree_devices(-3) == [6, 7, 8, 9, 10, 11]
    assert cm.ancestors(8) == [-10, -3, -1]
    assert cm.host_of(8) == "rack1-host1"


def test_from_text_classes_and_choose_args():
    cm = crushmap_from_text(CLASS_TEXT)
    assert cm.class_bucket[-1] == {"hdd": -4, "ssd": -9}
    assert cm.buckets[-9].name == "default~ssd"
    assert cm.buckets[-9].items == (-6, -8)
    assert cm.buckets[-9].weights == (0x8000, 0x4000)
    assert cm.buckets[-6].items == (1,)
    assert cm.rules[0].steps[0] == (1, -9, 0)
    ca = cm.choose_args[3][-1]
    assert ca.ids == (-100, -200)
    assert ca.weight_set == ((0x10000, 0x40000), (0x40000, 0x10000))
    # like crushtool's compiler (shadow trees cloned at the first rule, choose_args parsed after the
    # rules), the shadow root has no weight set: it maps with its item weights
    assert -9 not in cm.choose_args[3]
    res = map_values(cm, 0, 2, range(50))
    assert set(res.ravel().tolist()) <= {1, 3}
    assert res[:, 0].tolist() == [cm.do_rule(0, x, 2)[0] for x in range(50)]


def test_with_item_weight_and_frames():
    cm = crushmap_from_dump(DUMP17)
    cm2 = cm.with_item_weight(8, 0x20000)
    assert cm2 is not cm
    assert cm.buckets[-10].weights == (0x8000, 0x8000)
    assert cm2.buckets[-10].weights == (0x20000, 0x8000)
    assert cm2.buckets[-10].weight == 0x28000
    assert cm2.buckets[-3].weights[1] == 0x28000
    assert cm2.buckets[-1].weight == cm.buckets[-1].weight + 0x18000
    frames = cm.to_frames()
    assert list(frames["devices"].columns) == ["osd_id", "name", "device_class"]
    assert len(frames["devices"]) == 24
    items = frames["items"]
    row = items[(items.bucket_id == -10) & (items.pos == 1)].iloc[0]
    assert (row["item"], row["weight"]) == (9, 0.5)
    assert frames["buckets"].set_index("bucket_id").loc[-1, "type_name"] == "root"


def _bad(d, field_part):
    with pytest.raises(DumpFormatError) as ei:
        crushmap_from_dump(d, source="x.json")
    assert field_part in str(ei.value)
    assert str(ei.value).startswith("x.json")


def test_from_dump_errors():
    d = copy.deepcopy(DUMP17)
    del d["buckets"][0]["items"]
    _bad(d, "buckets[0].items: missing key")
    d = copy.deepcopy(DUMP17)
    d["buckets"][0]["alg"] = "bogus"
    _bad(d, "buckets[0].alg: unknown bucket algorithm 'bogus'")
    d = copy.deepcopy(DUMP17)
    d["buckets"][0]["items"][0]["weight"] = "heavy"
    _bad(d, "buckets[0].items[0].weight: expected an integer")
    d = copy.deepcopy(DUMP17)
    d["rules"][0]["steps"][0]["item"] = -99
    _bad(d, "rules.steps.item: rule 0 takes missing bucket -99")
    d = copy.deepcopy(DUMP17)
    d["buckets"][0]["items"][0]["id"] = -77
    _bad(d, "buckets.items: bucket -1 holds missing bucket -77")
    d = copy.deepcopy(DUMP17)
    d["rules"][0]["steps"][1] = {"op": "choose_msr", "num": 0, "type": "host"}  # Ceph dumps it as "choosemsr"
    _bad(d, "rules[0].steps[1].op: unknown rule step 'choose_msr'")
    d["rules"][0]["steps"][1] = {"op": "choosemsr", "num": 0, "type": "host"}
    assert crushmap_from_dump(d).rules[0].steps[1] == (16, 0, 1)


def test_from_text_errors():
    with pytest.raises(DumpFormatError) as ei:
        crushmap_from_text(TEXT17.replace("alg straw2", "alg straw9", 1), source="m.txt")
    assert str(ei.value).startswith("m.txt:")
    assert "unknown bucket algorithm 'straw9'" in str(ei.value)
    with pytest.raises(DumpFormatError) as ei:
        crushmap_from_text(TEXT17.replace("item osd.0 ", "item osd.99 "), source="m.txt")
    assert "unknown item 'osd.99'" in str(ei.value)
    with pytest.raises(DumpFormatError, match="no 'ssd' shadow"):
        crushmap_from_text(TEXT17.replace("step take default\n", "step take default class ssd\n", 1))
    # two steps on one line: crushtool's grammar refuses it; pgtools used to keep only the first step
    one_line = TEXT17.replace("step take default\n", "step take default step emit\n", 1)
    assert one_line != TEXT17
    with pytest.raises(DumpFormatError, match="unexpected 'step' in 'step take'") as ei:
        crushmap_from_text(one_line, source="m.txt")
    assert str(ei.value).startswith("m.txt:")
    with pytest.raises(DumpFormatError, match="unexpected 'x' in 'step emit'"):
        crushmap_from_text(TEXT17.replace("step emit\n", "step emit x\n", 1))


def test_io_modules_sniff_and_parse():
    text = (CASE17 / "crush.json").read_text()
    obj = loads_json(text)
    assert crush_dump.sniff(text, obj)
    assert not crush_dump.sniff(TEXT17, None)
    assert crushmap_text.sniff(TEXT17, None)
    assert not crushmap_text.sniff(text, obj)
    f = crush_dump.parse(text, source="crush.json")
    assert f.kind == "crush_dump"
    assert f.osds.loc[f.osds.osd_id == 9, ["crush_weight", "host"]].values.tolist() == [[0.5, "rack1-host1"]]
    g = crushmap_text.parse(TEXT17, source="crushmap.txt")
    assert g.kind == "crushmap_text"
    assert g.crush.buckets == f.crush.buckets
    # the crushmap section of `ceph report`
    h = crush_dump.parse(json.dumps({"crushmap": obj}), source="report.json")
    assert h.crush.rules == f.crush.rules


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_parsers_raise_only_dumpformaterror_on_text(s):
    for mod in (crushmap_text, crush_dump):
        try:
            mod.parse(s, source="fuzz")
        except DumpFormatError:
            pass


_LINES = TEXT17.splitlines()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_LINES) - 1), st.sampled_from(["drop", "dup", "junk", "cut"]),
                          st.text(max_size=12)), min_size=1, max_size=4))
def test_text_parser_mutations(muts):
    lines = list(_LINES)
    for idx, kind, junk in muts:
        idx %= len(lines)
        if kind == "drop":
            del lines[idx]
        elif kind == "dup":
            lines.insert(idx, lines[idx])
        elif kind == "junk":
            lines[idx] = lines[idx] + " " + junk
        else:
            lines[idx] = lines[idx][: len(lines[idx]) // 2]
        if not lines:
            lines = ["x"]
    try:
        crushmap_text.parse("\n".join(lines), source="fuzz")
    except DumpFormatError:
        pass


def _mutate_json(obj, path_choices, value):
    if not path_choices:
        return value
    if isinstance(obj, dict) and obj:
        keys = sorted(obj)
        k = keys[path_choices[0] % len(keys)]
        out = dict(obj)
        out[k] = _mutate_json(obj[k], path_choices[1:], value)
        return out
    if isinstance(obj, list) and obj:
        i = path_choices[0] % len(obj)
        out = list(obj)
        out[i] = _mutate_json(obj[i], path_choices[1:], value)
        return out
    return value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 50), min_size=1, max_size=5),
       st.one_of(st.none(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True), st.text(max_size=5),
                 st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers())))
def test_dump_parser_mutations(path, value):
    mutated = _mutate_json(DUMP17, path, value)
    try:
        crush_dump.parse(json.dumps(mutated), source="fuzz", obj=mutated)
    except DumpFormatError:
        pass


def test_tree_bucket_size_limit():
    from pgtools.crush.buckets import tree_num_nodes

    assert tree_num_nodes(64) == 128
    with pytest.raises(UnsupportedFeatureError, match="65 items"):
        tree_num_nodes(65)
    text = TEXT17.replace("alg straw2", "alg tree")
    assert crushmap_from_text(text).buckets[-1].alg == 3


def test_quincy_style_rules_without_ruleset():
    d = copy.deepcopy(DUMP17)
    for r in d["rules"]:
        for k in ("ruleset", "min_size", "max_size"):
            r.pop(k, None)
    cm = crushmap_from_dump(d)
    assert cm.rules[2].ruleset is None and cm.rules[2].min_size is None
    assert cm.find_rule(2, 1, 40) == 2
    assert cm.find_rule(2, 3, 3) == -1


def _tree_class_map(n_items: int, take: str) -> str:
    devs = "".join(f"device {i} osd.{i} class ssd\n" for i in range(n_items))
    items = "".join(f"\titem osd.{i} weight 1.000\n" for i in range(n_items))
    return (f"{devs}type 0 osd\ntype 1 host\ntype 10 root\n"
            f"host h {{\n\tid -2\n\tid -3 class ssd\n\talg tree\n\thash 0\n{items}}}\n"
            f"root default {{\n\tid -1\n\tid -4 class ssd\n\talg straw2\n\thash 0\n\titem h weight {n_items}.000\n}}\n"
            f"rule r {{\n\tid 0\n\ttype replicated\n\tstep take {take}\n\tstep chooseleaf firstn 0 type osd\n"
            "\tstep emit\n}\n")


def test_undefined_behaviour_of_cloned_tree_buckets(recwarn):
    import warnings

    from pgtools.crush import crushtool_test
    from pgtools.errors import CephUndefinedBehaviourWarning

    cm = crushmap_from_text(_tree_class_map(3, "default class ssd"))
    assert cm.buckets[-3].name == "h~ssd" and cm.buckets[-3].alg == 3
    (msg,) = cm.undefined_behaviour(0)
    assert msg.startswith("rule 0: h~ssd (-3) is a class shadow tree bucket of 3 items")
    assert cm.undefined_behaviour() == [msg.removeprefix("rule 0: ")]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        crushtool_test(cm, 0, 2, 0, 3)
    assert [w.category for w in seen] == [CephUndefinedBehaviourWarning]
    # a plain take never enters the shadow tree; the original tree bucket is built whole (clean)
    plain = crushmap_from_text(_tree_class_map(3, "default"))
    assert plain.undefined_behaviour(0) == [] and len(plain.undefined_behaviour()) == 1
    # two items: crush_add_tree_bucket_item initialises every node it uses
    assert crushmap_from_text(_tree_class_map(2, "default class ssd")).undefined_behaviour() == []


WS_TEXT = """device 0 osd.0
device 1 osd.1
device 2 osd.2
type 0 osd
type 1 host
type 10 root
host a {
\tid -2
\talg straw2
\thash 0
\titem osd.0 weight 1.000
\titem osd.1 weight 1.000
}
host b {
\tid -3
\talg straw2
\thash 0
\titem osd.2 weight 2.000
}
root default {
\tid -1
\talg straw2
\thash 0
\titem a weight 2.000
\titem b weight 2.000
}
rule r {
\tid 0
\ttype replicated
\tstep take default
\tstep chooseleaf firstn 0 type host
\tstep emit
}
choose_args 18446744073709551615 {
  {
    bucket_id -1
    weight_set [
      [ 3.000 1.000 ]
    ]
  }
  {
    bucket_id -2
    ids [ -20 -21 ]
  }
}
"""


def test_reweight_updates_weight_sets_like_ceph():
    """``adjust_item_weight(update_weight_sets=true)``: every bucket gets a weight set, the OSD's entries take
    the new weight and parents' entries become the sums of their children's weight sets."""
    cm = crushmap_from_text(WS_TEXT)
    assert list(cm.choose_args) == [-1]  # the u64 key of the compat weight set
    assert cm.choose_args[-1][-1].weight_set == ((0x30000, 0x10000),)
    new = cm.with_item_weight(1, 0x8000)
    ca = new.choose_args[-1]
    assert ca[-2].weight_set == ((0x10000, 0x8000),) and ca[-2].ids == (-20, -21)
    assert ca[-3].weight_set == ((0x20000,),)
    assert ca[-1].weight_set == ((0x18000, 0x20000),)  # was [3, 1]: now the sums
    assert new.buckets[-1].weights == (0x18000, 0x20000)
    # a map with ids only keeps its choose_args as they are
    ids_only = WS_TEXT.replace("    weight_set [\n      [ 3.000 1.000 ]\n    ]\n", "    ids [ -10 -11 ]\n")
    cm2 = crushmap_from_text(ids_only)
    assert cm2.with_item_weight(1, 0x8000).choose_args == cm2.choose_args


def test_rule_takes_are_the_roots_every_layer_uses():
    """One definition of the roots a rule takes: the mgr's autoscaler root and the devices a pool can use."""
    from pgtools.crush.rule import OPS, Rule
    from pgtools.mgr.autoscale import _rule_root  # the mgr's get_rule_root, tested here
    from pgtools.mgr.counts import rule_devices

    r = Rule(0, "two", None, 1, None, None, ((OPS["take"], -1, 0), (OPS["chooseleaf_firstn"], 0, 1),
                                              (OPS["emit"], 0, 0), (OPS["take"], -2, 0), (OPS["emit"], 0, 0)))
    assert r.takes == (-1, -2)
    assert Rule(1, "none", None, 1, None, None, ((OPS["emit"], 0, 0),)).takes == ()
    snap = pgtools.load(SAMPLE_DUMPS / "seedlike_max300")
    rule = snap.crush.rules[0]
    assert _rule_root(snap.crush, 0) == rule.takes[0]
    assert rule_devices(snap, 0) == set(snap.crush.subtree_devices(rule.takes[0]))
