"""The compiled (numba) CRUSH engine equals the NumPy engine and the scalar reference, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.crush import crushtool_weights, map_values
from pgtools.crush.hash import hash2_vec
from pgtools.crush.vector import resolve_engine
from tests.crush._gen import random_text_map
from tests.crush.test_shared_cases import CASES, _maps, _parse_cmd
from tests.paths import CRUSH_CASES

numba = pytest.importorskip("numba")
from pgtools.crush._numba import map_values_numba  # noqa: E402
from pgtools.io import crushmap_from_text  # noqa: E402


def _rows(a: np.ndarray) -> list[list[int]]:
    return [[v for v in r if v != -1] for r in a.tolist()]


def _reweights(max_devices: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    weights = [0x10000] * max_devices
    for o in range(max_devices):
        p = rng.random()
        if p < 0.1:
            weights[o] = 0
        elif p < 0.25:
            weights[o] = int(rng.integers(1, 0x10000))
    if rng.random() < 0.2 and weights:
        weights = weights[:-1]
    return weights


def _check_random(seed: int, xs: list[int], reweight_seed: int) -> int:
    gm = random_text_map(seed)
    cm = crushmap_from_text(gm.text)
    weights = _reweights(cm.max_devices, reweight_seed)
    checked = 0
    for rule, num_rep in gm.rules:
        nb = map_values(cm, rule, num_rep, xs, weights, gm.pool_key, engine="numba")
        npy = map_values(cm, rule, num_rep, xs, weights, gm.pool_key, engine="numpy")
        assert nb.dtype == np.int64 and nb.shape == (len(xs), num_rep)
        assert np.array_equal(nb, npy), (seed, rule, num_rep)
        for i, x in enumerate(xs):
            assert _rows(nb[i:i + 1])[0] == cm.do_rule(rule, x, num_rep, weights, gm.pool_key), (seed, rule, x)
            checked += 1
    return checked


def test_resolve_engine(monkeypatch):
    monkeypatch.delenv("PGTOOLS_CRUSH_ENGINE", raising=False)
    assert resolve_engine("auto") == "numba"
    assert resolve_engine("numpy") == "numpy"
    monkeypatch.setenv("PGTOOLS_CRUSH_ENGINE", "numpy")
    assert resolve_engine("auto") == "numpy"
    assert resolve_engine("numba") == "numba"
    with pytest.raises(ValueError, match="unknown CRUSH engine 'gpu'"):
        resolve_engine("gpu")


def test_auto_engine_skips_loading_numba_for_small_jobs(monkeypatch):
    import sys

    from pgtools.crush import vector

    monkeypatch.delenv("PGTOOLS_CRUSH_ENGINE", raising=False)
    monkeypatch.delitem(sys.modules, "pgtools.crush._numba", raising=False)  # as in a fresh process
    assert resolve_engine("auto", vector.AUTO_NUMBA_MIN_INPUTS - 1) == "numpy"
    assert resolve_engine("auto", vector.AUTO_NUMBA_MIN_INPUTS) == "numba"
    assert resolve_engine("auto") == "numba"  # size unknown
    assert resolve_engine("numba", 10) == "numba"  # asked for explicitly
    monkeypatch.setitem(sys.modules, "pgtools.crush._numba", object())  # loaded: no start-up cost left
    assert resolve_engine("auto", 10) == "numba"


@pytest.mark.parametrize("case,t", CASES)
def test_shared_cases_numba(case, t):
    """Every input of every crushtool output of the shared cases (compared with crushtool's own text)."""
    expected = (case / t["output"]).read_text().splitlines()
    weights, pool = _parse_cmd(t["cmd"])
    cm = _maps(case)[0]
    wv = np.asarray(crushtool_weights(cm, weights), dtype=np.int64)
    xs = np.arange(t["min_x"], t["max_x"] + 1, dtype=np.int64)
    assert len(xs) == len(expected)
    cx = hash2_vec(xs, pool).astype(np.int64) if pool != -1 else xs
    nb = map_values(cm, t["rule"], t["num_rep"], cx, wv, 0, engine="numba")
    npy = map_values(cm, t["rule"], t["num_rep"], cx, wv, 0, engine="numpy")
    assert np.array_equal(nb, npy)
    got = [f"CRUSH rule {t['rule']} x {x} [{','.join(map(str, r))}]" for x, r in zip(xs.tolist(), _rows(nb),
                                                                                    strict=True)]
    assert got == expected


def test_random_maps_fixed_seeds():
    """Every algorithm, firstn/indep, choose_args, tunable profiles, reweights: 24 maps, all rules."""
    total = sum(_check_random(seed, list(range(0, 4000, 151)), seed + 7) for seed in range(24))
    assert total > 1000


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), xs=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=12),
       reweight_seed=st.integers(0, 2**31))
def test_random_maps_hypothesis(seed, xs, reweight_seed):
    _check_random(seed, xs, reweight_seed)


@pytest.mark.parametrize("alg", ["uniform", "list", "tree", "straw", "straw2"])
def test_each_algorithm_alone(alg):
    for seed in range(4):
        gm = random_text_map(2000 + seed, allow_algs=[alg], classes=False)
        cm = crushmap_from_text(gm.text)
        for rule, num_rep in gm.rules:
            xs = list(range(64))
            nb = map_values(cm, rule, num_rep, xs, engine="numba")
            assert np.array_equal(nb, map_values(cm, rule, num_rep, xs, engine="numpy"))
            assert _rows(nb) == [cm.do_rule(rule, x, num_rep) for x in xs]


def test_parallel_and_serial_kernels_agree():
    cm = _maps(CRUSH_CASES / "01_flat10_hosts_straw2_firstn")[0]
    xs = np.arange(20000, dtype=np.int64)
    w = np.asarray(cm.default_weights(), dtype=np.int64)
    ser = map_values_numba(cm, 0, 3, xs, w, None, parallel=False)
    par = map_values_numba(cm, 0, 3, xs, w, None, parallel=True)
    assert np.array_equal(ser, par)
    assert np.array_equal(ser[:500], map_values(cm, 0, 3, xs[:500], engine="numpy"))
    # every row is a full set of 3 distinct devices (10 hosts, no reweights)
    assert (ser >= 0).all() and all(len(set(r)) == 3 for r in ser[:1000].tolist())


def test_edge_cases():
    cm = _maps(CRUSH_CASES / "01_flat10_hosts_straw2_firstn")[0]
    res = map_values(cm, 0, 11, [0, 1, 2], engine="numba")
    assert res.shape == (3, 11) and res.dtype == np.int64
    assert (res[:, 10] == -1).all()
    assert np.array_equal(res, map_values(cm, 0, 11, [0, 1, 2], engine="numpy"))
    assert map_values(cm, 99, 3, [0, 1], engine="numba").tolist() == [[-1, -1, -1], [-1, -1, -1]]
    assert map_values(cm, 0, 0, [0, 1], engine="numba").shape == (2, 0)
    assert map_values(cm, 0, 3, [], engine="numba").shape == (0, 3)
    # negative inputs are taken as u32, like the other engines
    assert np.array_equal(map_values(cm, 0, 3, [-1, -5], engine="numba"),
                          map_values(cm, 0, 3, [2**32 - 1, 2**32 - 5], engine="numpy"))


def test_choose_args_mapping_and_cache():
    """An explicit {bucket: ChooseArg} mapping is not cached; int keys are cached on the map."""
    gm = next(g for g in (random_text_map(s) for s in range(100)) if g.pool_key is not None)
    cm = crushmap_from_text(gm.text)
    key = gm.pool_key
    assert cm.choose_args
    rule = gm.rules[0][0]
    xs = list(range(300))
    a = map_values(cm, rule, 3, xs, None, key, engine="numba")
    assert ("numba", key) in cm._cache
    b = map_values(cm, rule, 3, xs, None, cm.choose_args[key], engine="numba")
    assert np.array_equal(a, b)
    assert np.array_equal(a, map_values(cm, rule, 3, xs, None, key, engine="numpy"))


# ------------------------------------------------------------------------------ end to end (placement)
from pgtools.placement import map_pgs, verify_placement  # noqa: E402
from pgtools.placement.osdmaptool import osdmaptool_output  # noqa: E402
from tests.paths import REAL  # noqa: E402
from tests.test_placement import _assert_same_text, _oracle_tests, case_snapshot, real_snapshot  # noqa: E402


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("case, args, expected", _oracle_tests())
def test_osdmaptool_byte_identical_per_engine(engine, case, args, expected, monkeypatch):
    monkeypatch.setenv("PGTOOLS_CRUSH_ENGINE", engine)
    _assert_same_text(osdmaptool_output(case_snapshot(case), args), expected.read_text())


@pytest.mark.skipif(not REAL.exists(), reason="real capture not present")
def test_real_capture_both_engines(monkeypatch):
    snap = real_snapshot()
    frames = {}
    for engine in ("numpy", "numba"):
        monkeypatch.setenv("PGTOOLS_CRUSH_ENGINE", engine)
        assert len(verify_placement(snap)) == 0
        frames[engine] = map_pgs(snap)
    assert len(frames["numba"]) == 1920
    pd.testing.assert_frame_equal(frames["numba"], frames["numpy"])


def test_cached_kernels_are_dropped_when_any_compiled_source_changes(tmp_path):
    """numba's cache only checks each function's own file: pgtools drops its kernels when any source changed."""
    from pgtools.crush._numba_buckets import KERNEL_SOURCES, purge_stale_kernels

    (tmp_path / "_numba.bucket_choose-1.py311.nbi").write_bytes(b"old")
    (tmp_path / "_numba.bucket_choose-1.py311.1.nbc").write_bytes(b"old")
    (tmp_path / "pgtools-numba.sha256").write_text("digest of older sources")
    assert purge_stale_kernels(tmp_path) is True
    assert not list(tmp_path.glob("*.nb?"))
    (tmp_path / "kept.nbi").write_bytes(b"compiled from these sources")
    assert purge_stale_kernels(tmp_path) is False  # same sources: the cache stays
    assert (tmp_path / "kept.nbi").exists()
    assert "hash.py" in KERNEL_SOURCES and "_numba_buckets.py" in KERNEL_SOURCES
