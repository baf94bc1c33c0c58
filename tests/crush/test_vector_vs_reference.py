"""Hypothesis: the vectorised mapper equals the scalar reference on random maps."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.crush import map_values
from pgtools.io import crushmap_from_text
from tests.crush._gen import random_text_map


def _check(seed: int, xs: list[int], reweight_seed: int) -> None:
    gm = random_text_map(seed)
    cm = crushmap_from_text(gm.text)
    rng = np.random.default_rng(reweight_seed)
    weights = [0x10000] * cm.max_devices
    for o in range(cm.max_devices):
        p = rng.random()
        if p < 0.1:
            weights[o] = 0
        elif p < 0.25:
            weights[o] = int(rng.integers(1, 0x10000))
    if rng.random() < 0.2 and weights:
        weights = weights[:-1]  # weight vector shorter than max_devices: the last device is out
    cargs = gm.pool_key
    for rule, num_rep in gm.rules:
        vec = map_values(cm, rule, num_rep, xs, weights, cargs)
        for i, x in enumerate(xs):
            ref = cm.do_rule(rule, x, num_rep, weights, cargs)
            row = [v for v in vec[i].tolist() if v != -1]
            assert row == ref, (seed, rule, num_rep, x)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), xs=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=12),
       reweight_seed=st.integers(0, 2**31))
def test_vector_equals_reference(seed, xs, reweight_seed):
    _check(seed, xs, reweight_seed)


def test_vector_equals_reference_fixed_seeds():
    """A deterministic sweep so a regression fails the same way every run."""
    for seed in range(12):
        _check(seed, list(range(0, 3000, 191)), seed)


def test_each_algorithm_alone():
    for alg in ("uniform", "list", "tree", "straw", "straw2"):
        for seed in range(3):
            gm = random_text_map(1000 + seed, allow_algs=[alg], classes=False)
            cm = crushmap_from_text(gm.text)
            for rule, num_rep in gm.rules:
                xs = list(range(20))
                vec = map_values(cm, rule, num_rep, xs)
                ref = [cm.do_rule(rule, x, num_rep) for x in xs]
                assert [[v for v in r if v != -1] for r in vec.tolist()] == ref
