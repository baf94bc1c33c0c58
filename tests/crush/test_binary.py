"""The binary CRUSH map reader (:mod:`pgtools.io.crush_binary`) and what builds on it.

* every shared binary map (``../shared/data/crush/*/crushmap.bin``, the real capture's, ``sample_dumps/mixed``)
  gives the same CrushMap as the JSON dump beside it, the same mappings, and writes back to the same bytes;
* every truncation and random corruption is one DumpFormatError naming the offset and the field;
* Ceph's decode rules: legacy tunables when the tail is missing, 64-bit name-map keys, choose_args fix-ups;
* stored straws / tree node weights: used for mapping, adjusted by ``with_item_weight`` like Ceph, dropped
  when the bucket is edited otherwise; leaves past the last item never crash an engine;
* loading: files, folders (binary + JSON/text dumps: the binary wins, disagreement is a conflict),
  ``.gz``, ``.tar.gz`` bundles; the CLI's ``--crush``.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import struct
import tarfile
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgtools
from pgtools.crush import CrushMap, crushtool_test, have_numba, map_values
from pgtools.crush.buckets import STRAW, calc_straws, tree_choose, tree_node_weights
from pgtools.crush.constants import ITEM_NONE
from pgtools.crush.map import float_to_16_16_f32
from pgtools.errors import CephUndefinedBehaviourWarning, DumpFormatError, SnapshotConflictError
from pgtools.io import crushmap_from_binary, crushmap_from_dump, crushmap_from_text
from pgtools.io.crush_binary import is_crush_binary
from pgtools.placement import verify_placement
from tests.crush._crushbin_tools import STOPS, encode, watched_mapping
from tests.paths import CRUSH_CASES, REAL, SAMPLE_DUMPS, TEST_DATA

BIN = TEST_DATA / "crush" / "binary"
ENGINES = ["numpy"] + (["numba"] if have_numba() else [])


def _shared() -> list[tuple[Path, Path]]:
    """(binary map, JSON dump of the same map) pairs."""
    out = []
    for case in sorted(CRUSH_CASES.glob("*")) if CRUSH_CASES.is_dir() else []:
        if (case / "crushmap.bin").is_file():
            out.append((case / "crushmap.bin", case / "crush.json"))
    for d in (REAL, SAMPLE_DUMPS / "mixed"):
        if (d / "crushmap.bin").is_file():
            out.append((d / "crushmap.bin", d / "crush_dump.json"))
    return out


SHARED = _shared()
IDS = [f"{b.parent.name}" for b, _ in SHARED]


def _max_buckets(data: bytes) -> int:
    return struct.unpack_from("<i", data, 4)[0]


def test_shared_maps_present():
    assert len(SHARED) == 8  # 6 shared CRUSH cases, the real capture, sample_dumps/mixed


@pytest.mark.parametrize("binp,jsonp", SHARED, ids=IDS)
def test_binary_equals_json_dump(binp: Path, jsonp: Path):
    data = binp.read_bytes()
    cb = crushmap_from_binary(data, source=str(binp))
    cj = crushmap_from_dump(json.loads(jsonp.read_text()), source=str(jsonp))
    assert cb.differences(cj) == []
    # all straw2: nothing stored beyond the JSON, so the maps are equal in every field
    assert cb == cj
    assert cb.class_bucket == cj.class_bucket and cb.max_devices == cj.max_devices
    # and the bytes come back
    assert encode(cb, max_buckets=_max_buckets(data)) == data


@pytest.mark.parametrize("binp,jsonp", SHARED, ids=IDS)
def test_binary_maps_like_json_dump(binp: Path, jsonp: Path):
    cb = crushmap_from_binary(binp.read_bytes())
    cj = crushmap_from_dump(json.loads(jsonp.read_text()))
    for rid in cb.rules:
        for nr in (1, 3, 6):
            assert crushtool_test(cb, rid, nr, 0, 255) == crushtool_test(cj, rid, nr, 0, 255)


@pytest.mark.parametrize("case", sorted(p.parent for p, _ in SHARED if p.parent.parent == CRUSH_CASES),
                         ids=lambda p: p.name)
def test_binary_reproduces_shared_crushtool_outputs(case: Path):
    """Every recorded ``crushtool -i crushmap.bin --test`` output of the shared cases, from the binary."""
    cm = crushmap_from_binary((case / "crushmap.bin").read_bytes())
    tests = [t for t in json.loads((case / "case.json").read_text())["tests"] if t.get("kind") == "crushtool_mappings"]
    assert tests
    for t in tests:
        args = t["cmd"].split()
        weights = {int(args[i + 1]): float(args[i + 2]) for i, a in enumerate(args) if a == "--weight"}
        pool = next((int(args[i + 1]) for i, a in enumerate(args) if a == "--pool-id"), -1)
        got = crushtool_test(cm, t["rule"], t["num_rep"], t["min_x"], t["max_x"], weights, pool)
        assert got == (case / t["output"]).read_text(), t["cmd"]


# ------------------------------------------------------------------------------------------ malformed input
def _sample() -> bytes:
    return (CRUSH_CASES / "09_alg_straw2" / "crushmap.bin").read_bytes()


def _names_end(data: bytes) -> int:
    """Offset just after rule_name_map (where the optional tail starts)."""
    cm = crushmap_from_binary(data)
    return len(encode(cm, max_buckets=_max_buckets(data), stop_after="names"))


@pytest.mark.skipif(not SHARED, reason="shared data missing")
def test_every_truncation_is_one_error_or_a_legal_prefix():
    data = _sample()
    tail = _names_end(data)
    legal = {len(encode(crushmap_from_binary(data), max_buckets=_max_buckets(data), stop_after=s)) for s in STOPS}
    for n in range(len(data)):
        try:
            cm = crushmap_from_binary(data[:n], source="cut.bin")
        except DumpFormatError as e:
            assert n < tail or n not in legal, n
            assert e.source == "cut.bin" and e.field and re.match(r"offset \d+: ", e.message), str(e)
            assert int(e.message.split()[1].rstrip(":")) <= n
        else:
            # Ceph's decode accepts a map cut at a section boundary after the names (older encoders)
            assert n >= tail and n in legal, n
            assert cm.buckets == crushmap_from_binary(data).buckets


def test_truncation_message_names_offset_and_field():
    data = _sample()
    with pytest.raises(DumpFormatError) as ei:
        crushmap_from_binary(data[:300], source="crush.bin")
    assert str(ei.value) == "crush.bin: buckets[7].alg: offset 300: truncated: needs 4 bytes, 0 left"
    with pytest.raises(DumpFormatError) as ei:
        crushmap_from_binary(data[:250], source="crush.bin")
    assert str(ei.value) == ("crush.bin: buckets[4].size: offset 240: truncated (or a bad size): 6 items need 24 bytes, "
                             "6 left")
    with pytest.raises(DumpFormatError, match=r"magic: offset 0: bad magic 0x00020000"):
        crushmap_from_binary(b"\x00\x00\x02\x00" + data[4:], source="x")
    with pytest.raises(DumpFormatError, match="offset 0"):
        crushmap_from_binary(b"", source="x")


_CORPUS = [b.read_bytes() for b, _ in SHARED] or [b""]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_CORPUS) - 1), st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 7)),
                                                  min_size=1, max_size=4),
       st.integers(0, 1 << 20))
def test_bit_flips_and_truncations_raise_only_dump_format_errors(which, flips, cut):
    data = bytearray(_CORPUS[which])
    if not data:
        return
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    data = bytes(data[:cut % (len(data) + 1)])
    try:
        cm = crushmap_from_binary(data, source="flipped.bin")
    except DumpFormatError as e:
        assert "offset " in str(e)
        return
    # whatever survives is a consistent map pgtools can map with (unless a flip made the retries huge)
    t = cm.tunables
    sane = max(t.choose_total_tries, t.choose_local_tries, t.choose_local_fallback_tries, t.chooseleaf_vary_r) < 100
    sane &= all(a1 < 100 for r in cm.rules.values() for op, a1, _ in r.steps if op >= 8)
    if sane:
        for rid in list(cm.rules)[:2]:
            crushtool_test(cm, rid, 3, 0, 7)


def test_corruptions_with_their_fields():
    cm = crushmap_from_binary(_sample())
    mb = _max_buckets(_sample())

    def bad(blob: bytes, match: str) -> None:
        with pytest.raises(DumpFormatError, match=match):
            crushmap_from_binary(blob, source="m.bin")

    # a bucket slot holding another id, an unknown algorithm, an unsupported hash
    b = cm.buckets[-2]
    bad(encode(replace(cm, buckets={**cm.buckets, -2: replace(b, hash=1)}, _cache={}), max_buckets=mb),
        r"buckets\[1\]\.hash: offset \d+: unsupported: hash type 1")
    blob = bytearray(encode(cm, max_buckets=mb))
    first = 16  # slot 0: alg u32 at 16, id s32 at 20
    struct.pack_into("<i", blob, first + 4, -7)
    bad(bytes(blob), r"buckets\[0\]\.id: offset 20: bucket slot 0 holds id -7")
    blob = bytearray(encode(cm, max_buckets=mb))
    struct.pack_into("<I", blob, first, 9)
    bad(bytes(blob), r"buckets\[0\]\.alg: offset 16: unsupported bucket algorithm 9")
    # a missing bucket, a take of a missing bucket, unsupported and unknown rule steps
    blob = bytearray(encode(cm, max_buckets=mb))
    struct.pack_into("<i", blob, first + 20 + 3 * 4, -9)  # root's items[3]: after alg, id, type..size (20 bytes)
    bad(bytes(blob), r"buckets\[0\]\.items\[3\]: offset 48: bucket -1 holds missing bucket -9")
    r0 = cm.rules[0]
    blob = encode(replace(cm, rules={**cm.rules, 0: replace(r0, steps=((1, -3, 0),) + r0.steps[1:])}, _cache={}),
                  max_buckets=mb)
    blob = blob.replace(struct.pack("<Iii", 1, -3, 0), struct.pack("<Iii", 1, -9, 0), 1)
    bad(blob, r"rules\[0\]\.steps\[0\]\.arg1: offset \d+: rule 0 takes missing bucket -9")
    blob = encode(replace(cm, rules={**cm.rules, 0: replace(r0, steps=((1, -1, 0), (15, 1, 0), (4, 0, 0)))},
                          _cache={}), max_buckets=mb)
    assert crushmap_from_binary(blob).rules[0].steps[1] == (15, 1, 0)  # set_msr_collision_tries (MSR, Squid)
    blob = encode(replace(cm, rules={**cm.rules, 0: replace(r0, steps=((1, -1, 0), (17, 1, 0), (4, 0, 0)))},
                          _cache={}), max_buckets=mb)
    bad(blob, r"rules\[0\]\.steps\[1\]\.op: offset \d+: unknown rule opcode 17")
    blob = encode(replace(cm, rules={**cm.rules, 0: replace(r0, steps=((1, -1, 0), (5, 1, 0), (4, 0, 0)))},
                          _cache={}), max_buckets=mb)
    bad(blob, r"rules\[0\]\.steps\[1\]\.op: offset \d+: unknown rule opcode 5")
    # choose_args: an index past max_buckets, ids not matching the bucket size
    bad(encode(cm, max_buckets=mb, raw_choose_args={-1: [(mb, [], ())]}), r"bucket index 8 >= max_buckets 8")
    bad(encode(cm, max_buckets=mb, raw_choose_args={-1: [(1, [], (1, 2))]}), r"ids_size 2 differs")


def test_cycle_is_reported_at_the_item():
    cm = crushmap_from_binary(_sample())
    b = cm.buckets[-2]
    # CrushMap itself refuses a cycle (validate), so build the cyclic map to encode with the check off
    with mock.patch.object(CrushMap, "validate", lambda self, source=None: None):
        bad = replace(cm, buckets={**cm.buckets, -2: replace(b, items=b.items + (-1,), weights=b.weights + (1,))},
                      _cache={})
    blob = encode(bad, max_buckets=8)
    with pytest.raises(DumpFormatError, match=r"buckets\[1\]\.items\[3\]: offset \d+: bucket hierarchy has a cycle"):
        crushmap_from_binary(blob)


# ------------------------------------------------------------------------------------------ Ceph's decode rules
def test_missing_tail_keeps_legacy_tunables():
    cm = crushmap_from_binary(_sample())
    legacy = {"choose_local_tries": 2, "choose_local_fallback_tries": 5, "choose_total_tries": 19,
              "chooseleaf_descend_once": 0, "chooseleaf_vary_r": 0, "straw_calc_version": 0,
              "allowed_bucket_algs": 22, "chooseleaf_stable": 0, "msr_descents": 100, "msr_collision_tries": 100}
    # the fields each section of the tail adds, in order (STOPS[k] stops right before group k)
    groups = [("choose_local_tries", "choose_local_fallback_tries", "choose_total_tries"),
              ("chooseleaf_descend_once",), ("chooseleaf_vary_r",), ("straw_calc_version",),
              ("allowed_bucket_algs",), ("chooseleaf_stable",)]
    assert cm.tunables.__dict__ != legacy
    for k, stop in enumerate(STOPS[:7]):
        have = {f: getattr(cm.tunables, f) for g in groups[:k] for f in g}
        got = crushmap_from_binary(encode(cm, stop_after=stop)).tunables.__dict__
        assert got == {**legacy, **have}, stop
    assert crushmap_from_binary(encode(cm, stop_after="classes")).tunables == cm.tunables


def test_64_bit_name_keys_and_trailing_bytes():
    cm = crushmap_from_binary(_sample())
    assert crushmap_from_binary(encode(cm, key64=("type_map", "rule_name_map"))) == cm
    # a negative key written as 64 bits reads as a 4 GiB string, in Ceph too
    with pytest.raises(DumpFormatError, match=r"name_map\[0\]\.name: .*truncated"):
        crushmap_from_binary(encode(cm, key64=("name_map",)))
    # Squid appends the MSR tunables (100 and 100 when absent); what follows them is ignored, as Ceph does
    assert crushmap_from_binary(encode(cm, trailing=struct.pack("<II", 100, 100))) == cm
    got = crushmap_from_binary(encode(cm, trailing=struct.pack("<III", 7, 9, 5))).tunables
    assert (got.msr_descents, got.msr_collision_tries) == (7, 9)
    assert replace(got, msr_descents=100, msr_collision_tries=100) == cm.tunables
    with pytest.raises(DumpFormatError, match=r"tunables\.msr_collision_tries: .*truncated"):
        crushmap_from_binary(encode(cm, trailing=struct.pack("<I", 7)))


def test_choose_args_fixups_of_decode():
    """``update_choose_args`` at the end of decode (checked against crushtool 16.2.15 ``--dump``)."""
    cm = crushmap_from_binary(_sample())
    raw = {-1: [(1, [[0x10000] * 2], ()), (6, [[5, 6]], ())],  # short row: zero-padded; empty slot: dropped
           3: [(2, [[1, 2, 3, 4, 5, 6, 7]] * 2, ())]}         # long rows: cut to the bucket size
    got = crushmap_from_binary(encode(cm, max_buckets=8, raw_choose_args=raw)).choose_args
    assert got == {-1: {-2: pgtools.crush.ChooseArg(None, ((0x10000, 0x10000, 0),))},
                   3: {-3: pgtools.crush.ChooseArg(None, ((1, 2, 3, 4, 5),) * 2)}}
    # positions differing from the map's first weight set are left alone by Ceph: mis-sized is an error
    raw = {-1: [(1, [[1, 1, 1]], ()), (2, [[1, 2], [1, 2]], ())]}
    with pytest.raises(DumpFormatError, match=r"choose_args -1: bucket -3: weight set of 2 positions"):
        crushmap_from_binary(encode(cm, max_buckets=8, raw_choose_args=raw))


# ------------------------------------------------------------------------------------------ stored values
def test_stored_v0_straws_are_used():
    cm = crushmap_from_binary((BIN / "straw_v0_as_v1.bin").read_bytes())
    assert cm.tunables.straw_calc_version == 1
    straw = [b for b in cm.buckets.values() if b.alg == STRAW and b.size]
    assert straw and all(list(b.straws) == calc_straws(b.weights, 0) == cm.straws(b.id) for b in straw)
    assert any(calc_straws(b.weights, 1) != calc_straws(b.weights, 0) for b in straw)
    text = crushmap_from_text((BIN / "straw_v0.txt").read_text())  # same buckets, recomputed straws
    assert cm.differences(replace(text, tunables=cm.tunables)) == []
    for rule in (0, 1):
        expected = (BIN / f"straw_v0_as_v1.rule{rule}.rep3.txt").read_text()
        assert crushtool_test(cm, rule, 3, 0, 255) == expected
        for engine in ENGINES:
            res = map_values(cm, rule, 3, np.arange(256), engine=engine)
            assert pgtools.crush.format_mappings(rule, res) == expected, engine
        # without the stored straws (a JSON dump) version 1 is recomputed: other mappings
        recomputed = replace(text, tunables=cm.tunables)
        assert crushtool_test(recomputed, rule, 3, 0, 255) != expected


def test_with_item_weight_recomputes_straws_and_edits_drop_stored():
    cm = crushmap_from_binary((BIN / "straw_v0_as_v1.bin").read_bytes())
    h0 = cm.buckets[-2]
    new = cm.with_item_weight(3, 0x20000)
    b = new.buckets[-2]
    assert b.weights == (0x10000, 0x10000, 0x20000, 0x20000)
    assert list(b.straws) == calc_straws(b.weights, 1) == new.straws(-2)  # crush_calc_straw, map's version
    assert new.buckets[-1].straws == tuple(calc_straws(new.buckets[-1].weights, 1))  # the parent too
    assert list(new.buckets[-3].straws) == calc_straws(cm.buckets[-3].weights, 0)  # untouched: still v0
    # an edit that bypasses with_item_weight (dataclasses.replace) leaves stale arrays unused
    edited = replace(cm, buckets={**cm.buckets, -2: replace(h0, weights=(1, 2, 3, 4))}, _cache={})
    assert edited.buckets[-2].stored("straws") is None
    assert edited.straws(-2) == calc_straws((1, 2, 3, 4), 1)
    assert cm.buckets[-2].stored("straws") == h0.straws


def test_class_tree_binary_follows_stored_node_weights():
    cm = crushmap_from_binary((BIN / "class_tree.bin").read_bytes())
    sh = cm.buckets[-1005]
    assert sh.name == "host-0-0~ssd" and sh.items == (0, 1, 2)
    assert list(sh.node_weights) != tree_node_weights(sh.weights)  # uninitialised interior nodes
    assert [sh.node_weights[2 * i + 1] for i in range(3)] == list(sh.weights)  # leaves are the item weights
    assert list(cm.buckets[-2].node_weights) == tree_node_weights(cm.buckets[-2].weights)  # built whole: clean
    (msg,) = cm.undefined_behaviour(0)
    assert "host-0-0~ssd (-1005)" in msg and "past its 3 items" in msg and "bad-item" in msg
    expected = (BIN / "class_tree.rule0.rep2.txt").read_text().splitlines()
    with pytest.warns(CephUndefinedBehaviourWarning):
        ours = crushtool_test(cm, 0, 2, 0, 255).splitlines()
    for engine in ENGINES:
        res = map_values(cm, 0, 2, np.arange(256), engine=engine)
        assert pgtools.crush.format_mappings(0, res).splitlines() == ours, engine
    # every x whose descents stay within the items maps like crushtool; where one ends on leaf 3 crushtool
    # read items[3] = 0 (glibc's zeroed padding after the 12-byte array): osd.0
    within = 0
    for x in range(256):
        res, past = watched_mapping(cm, 0, 2, x)
        assert ours[x] == f"CRUSH rule 0 x {x} [{','.join(map(str, res))}]"
        if past:
            zero, _ = watched_mapping(cm, 0, 2, x, past_value=0)
            assert expected[x] == f"CRUSH rule 0 x {x} [{','.join(map(str, zero))}]", x
        else:
            within += 1
            assert expected[x] == ours[x], x
    assert 40 <= within < 200  # 58 here


def test_tree_leaf_past_the_items_is_a_bad_item():
    # node weights sending every descent right, to leaf 3 of a 3-item bucket
    nw = [0, 1, 0, 0, 100, 0, 100, 100]
    assert tree_choose(-1, (5, 6, 7), nw, 1, 0) == ITEM_NONE
    cm = crushmap_from_binary((BIN / "class_tree.bin").read_bytes())
    sh = cm.buckets[-1005]
    forced = replace(sh, node_weights=tuple(nw), stored_for=(sh.items, sh.weights))
    cm2 = replace(cm, buckets={**cm.buckets, -1005: forced}, _cache={})
    ref = [cm2.do_rule(0, x, 2) for x in range(64)]
    assert all(0 not in r and 1 not in r and 2 not in r for r in ref)  # host-0-0~ssd never yields an OSD
    for engine in ENGINES:
        assert map_values(cm2, 0, 2, np.arange(64), engine=engine).tolist() == \
            [r + [-1] * (2 - len(r)) for r in ref], engine


def test_with_item_weight_on_tree_adds_the_difference():
    """``crush_adjust_tree_bucket_item_weight``: leaf and ancestors += diff, garbage kept (crushtool
    ``--reweight-item`` gives the same buckets: tests/oracle/test_crushbin_random.py)."""
    cm = crushmap_from_binary((BIN / "class_tree.bin").read_bytes())
    sh = cm.buckets[-1005]
    new = cm.with_item_weight(1, float_to_16_16_f32(3.0))
    nw = list(sh.node_weights)
    diff = 0x30000 - nw[3]
    for node in (3, 2, 4):  # leaf of item 1, its parent, the root
        nw[node] = (nw[node] + diff) & 0xFFFFFFFF
    assert list(new.buckets[-1005].node_weights) == nw
    assert new.node_weights(-1005) == nw
    assert new.buckets[-1005].weight == (sh.weight + diff) & 0xFFFFFFFF


# ------------------------------------------------------------------------------------------ loading
def test_load_a_binary_file_and_sniffing():
    binp = BIN / "straw_v0_as_v1.bin"
    assert is_crush_binary(binp.read_bytes()) and not is_crush_binary(b"{}")
    snap = pgtools.load(binp)
    assert snap.meta["sources"] == [(str(binp), "crushmap_binary")]
    assert snap.crush == crushmap_from_binary(binp.read_bytes())
    assert list(snap.osds.osd_id) == list(range(8))
    assert snap.osds.set_index("osd_id").crush_weight[2] == 2.0


def test_load_compressed_and_bundled(tmp_path: Path):
    data = (BIN / "class_tree.bin").read_bytes()
    (tmp_path / "crush.bin.gz").write_bytes(gzip.compress(data))
    assert pgtools.load(tmp_path / "crush.bin.gz").crush == crushmap_from_binary(data)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, blob in (("cap/crushmap.bin", data), ("cap/notes.txt", b"hello\n")):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    (tmp_path / "bundle.tar.gz").write_bytes(buf.getvalue())
    snap = pgtools.load(tmp_path / "bundle.tar.gz")
    assert snap.crush == crushmap_from_binary(data)
    assert [k for _, k in snap.meta["sources"]] == ["crushmap_binary"]


def test_malformed_binary_in_a_folder_names_the_file(tmp_path: Path):
    (tmp_path / "crushmap.bin").write_bytes(_sample()[:200])
    with pytest.raises(DumpFormatError, match=r"crushmap\.bin: buckets\[\d\]\.\w+: offset \d+: truncated"):
        pgtools.load(tmp_path)


@pytest.mark.skipif(not REAL.is_dir(), reason="shared data missing")
def test_real_capture_binary_text_and_json_agree():
    snap = pgtools.load(REAL)
    kinds = [k for _, k in snap.meta["sources"]]
    assert {"crushmap_binary", "crush_dump", "crushmap_text"} <= set(kinds)
    assert snap.meta["conflicts"] == []
    assert snap.crush == crushmap_from_binary((REAL / "crushmap.bin").read_bytes())
    assert verify_placement(snap).empty


def test_binary_wins_over_json_and_disagreement_is_a_conflict(tmp_path: Path):
    binp = BIN / "straw_v0_as_v1.bin"
    cm = crushmap_from_binary(binp.read_bytes())
    (tmp_path / "a_crush.json").write_text(json.dumps(_dump_json(cm)))
    (tmp_path / "b_crushmap.bin").write_bytes(binp.read_bytes())
    snap = pgtools.load(tmp_path)
    assert snap.crush is not None and snap.crush.buckets[-2].straws is not None  # the binary's, though read second
    assert snap.crush.straws(-2) == calc_straws(cm.buckets[-2].weights, 0)
    # a JSON dump of another state: conflict (or a warning, keeping the binary)
    other = cm.with_item_weight(0, 0x28000)
    (tmp_path / "a_crush.json").write_text(json.dumps(_dump_json(other)))
    with pytest.raises(SnapshotConflictError, match=r"b_crushmap\.bin and .*a_crush\.json are different CRUSH maps: "
                                                    r".*bucket -2 \(h0\) item weights"):
        pgtools.load(tmp_path)
    with pytest.warns(UserWarning, match="different CRUSH maps"):
        snap = pgtools.load(tmp_path, on_conflict="warn")
    assert snap.crush.buckets[-2].weights[0] == 0x10000


def test_text_map_next_to_binary_within_printed_precision(tmp_path: Path):
    binp = BIN / "class_tree.bin"
    (tmp_path / "crushmap.bin").write_bytes(binp.read_bytes())
    (tmp_path / "crushmap.txt").write_text((TEST_DATA / "oracle" / "class_tree_osdmap.txt").read_text())
    snap = pgtools.load(tmp_path)  # 7.2 and 9.2 are not exact in 16.16: the text is within 2 units
    assert snap.meta["conflicts"] == [] and snap.crush.buckets[-1005].node_weights is not None
    (tmp_path / "crushmap.txt").write_text((TEST_DATA / "oracle" / "class_tree_osdmap.txt").read_text()
                                           .replace("item osd.2 weight 7.2000", "item osd.2 weight 7.3000"))
    with pytest.raises(SnapshotConflictError, match="item weights"):
        pgtools.load(tmp_path)


def _dump_json(cm: CrushMap) -> dict:
    """A ``ceph osd crush dump``-shaped dict of ``cm`` (enough for CrushMap.from_dump)."""
    from pgtools.crush.buckets import ALG_NAMES
    from pgtools.crush.rule import OP_NAMES
    rules = []
    for r in cm.rules.values():
        steps = []
        for op, a1, a2 in r.steps:
            name = OP_NAMES[op]
            if name == "take":
                steps.append({"op": name, "item": a1})
            elif "choose" in name and not name.startswith("set_"):
                steps.append({"op": name, "num": a1, "type": cm.types[a2]})
            else:
                steps.append({"op": name})
        rules.append({"rule_id": r.id, "rule_name": r.name, "ruleset": r.ruleset, "type": r.type,
                      "min_size": r.min_size, "max_size": r.max_size, "steps": steps})
    return {
        "devices": [{"id": d, "name": n} | ({"class": c} if c else {}) for d, (n, c) in cm.devices.items()],
        "types": [{"type_id": t, "name": n} for t, n in cm.types.items()],
        "buckets": [{"id": b.id, "name": b.name, "type_id": b.type_id, "weight": b.weight, "alg": ALG_NAMES[b.alg],
                     "hash": "rjenkins1", "items": [{"id": i, "weight": w, "pos": k}
                                                    for k, (i, w) in enumerate(zip(b.items, b.weights, strict=True))]}
                    for b in cm.buckets.values()],
        "rules": rules, "tunables": dict(cm.tunables.__dict__), "choose_args": {}}


def test_cli_crush_test_and_map_read_the_binary(tmp_path: Path):
    import subprocess
    import sys

    def run(*args: object) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pgtools", *map(str, args)], capture_output=True, text=True,
                              timeout=120)

    binp = BIN / "straw_v0_as_v1.bin"
    r = run("crush-test", "--crush", binp, "--rule", "0", "--num-rep", "3", "--max-x", "255")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (BIN / "straw_v0_as_v1.rule0.rep3.txt").read_text()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(binp.read_bytes()[:100])
    r = run("crush-test", "--crush", cut)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "offset 88: truncated" in r.stderr
    if REAL.is_dir():
        r = run("map", "--osd-dump", REAL / "osd_dump.json", "--crush", REAL / "crushmap.bin", "--format", "dump-all")
        assert r.returncode == 0, r.stderr
        j = run("map", "--osd-dump", REAL / "osd_dump.json", "--crush", REAL / "crush_dump.json", "--format", "dump-all")
        assert r.stdout == j.stdout and r.stdout.count("\n") > 1920
