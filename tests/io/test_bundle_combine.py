"""Merging row tables (:func:`pgtools.io.bundle._combine_first`) gives exactly ``DataFrame.combine_first``: the same
values, dtypes, column order and index, on random tables and on every table the sample captures merge."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import pgtools
from pgtools.io import bundle
from tests.paths import SAMPLE_DUMPS


def _same(want: pd.DataFrame, got: pd.DataFrame) -> None:
    assert list(want.columns) == list(got.columns)
    assert_frame_equal(want, got, check_exact=True, check_column_type=True, check_index_type=True)
    assert want.columns.dtype == got.columns.dtype and want.index.name == got.index.name


def _column(rng: random.Random, n: int, kind: str, missing: bool) -> np.ndarray | pd.Series:
    make = {"int": lambda: pd.Series([rng.randint(0, 5) for _ in range(n)], dtype="int64"),
            "float": lambda: pd.Series([rng.random() for _ in range(n)]),
            "bool": lambda: pd.Series([rng.random() < .5 for _ in range(n)]),
            "str": lambda: pd.Series([rng.choice("abc") for _ in range(n)]),
            "object": lambda: pd.Series([rng.choice("abc") for _ in range(n)], dtype=object),
            "list": lambda: pd.Series([[rng.randint(0, 3)] for _ in range(n)], dtype=object),
            "mixed": lambda: pd.Series([rng.choice([1, "x", 2.5, None]) for _ in range(n)], dtype=object),
            "boolean": lambda: pd.Series([rng.random() < .5 for _ in range(n)], dtype="boolean")}
    s = make[kind]()
    if missing and n:
        if kind == "int":
            s = s.astype("float64")
        elif kind == "bool":
            s = s.astype(object)
        s = s.copy()
        s.iloc[[i for i in range(n) if rng.random() < .4] or [0]] = None if s.dtype == object else np.nan
    return s.to_numpy() if isinstance(s.dtype, np.dtype) and rng.random() < .5 else s


def test_random_tables_merge_as_combine_first():
    rng = random.Random(14)
    kinds = ["int", "float", "bool", "str", "object", "list", "mixed", "boolean"]
    fast = 0
    for _ in range(400):
        keys = list(range(rng.randint(1, 5)))

        def table(keys):
            cols = rng.sample([f"c{i}" for i in range(6)], rng.randint(0, 5))
            data = {c: _column(rng, len(keys), rng.choice(kinds), rng.random() < .4) for c in cols}
            return pd.DataFrame({c: v.to_numpy() if isinstance(v, pd.Series) else v for c, v in data.items()},
                                index=pd.Index(keys, name="k"))

        k1, k2 = keys[:], keys[:] if rng.random() < .75 else keys + [9]
        rng.shuffle(k1)
        if rng.random() < .5:
            rng.shuffle(k2)
        a, b = table(k1), table(k2)
        if not len(a.columns):
            continue
        fast += set(k1) == set(k2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            want = a.combine_first(b)
        _same(want, bundle._combine_first(a, b))
    assert fast > 200  # most cases take the column-wise path, not combine_first itself


@pytest.mark.parametrize("capture", ["seedlike_max300", "mixed", "mixed_reef_plain", "mixed_tentacle"])
def test_capture_tables_merge_as_combine_first(capture, monkeypatch):
    calls = []

    def checked(out, other):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            want = out.combine_first(other)
        got = reference(out, other)
        _same(want, got)
        calls.append(out.shape)
        return got

    reference = bundle._combine_first
    monkeypatch.setattr(bundle, "_combine_first", checked)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pgtools.load(SAMPLE_DUMPS / capture, on_conflict="warn")
    assert len(calls) >= 3
