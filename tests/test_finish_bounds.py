"""Library-level bounds behind the CLI checks of issue #11 (bad-input table: cli-fix-*, cli-health-unknown-release)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import pgtools
from pgtools.analysis.recommend import fix_too_many_pgs
from pgtools.errors import PgtoolsError

SEED = Path(__file__).resolve().parents[1] / "sample_dumps" / "seedlike_max300"


@pytest.fixture(scope="module")
def snap():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pgtools.load(SEED)


@pytest.mark.parametrize("kw, match", [({"min_pg_num": -1}, "min_pg_num"), ({"min_pg_num": 0}, "min_pg_num"),
                                       ({"max_per_osd": 0}, "mon_max_pg_per_osd")])
def test_fix_too_many_pgs_refuses_bad_bounds(snap, kw, match):
    with pytest.raises(PgtoolsError, match=match):
        fix_too_many_pgs(snap, **kw)
