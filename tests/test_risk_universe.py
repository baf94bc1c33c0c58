"""The failure universe: K failing units are drawn among the units holding data of *any* pool.

``pools=`` (``--pool``) only chooses which pools' PGs are counted and reported; it must not change the units
that fail.  So a filtered result equals the same pool's row of the unfiltered one, in ``failure_risk``, the
annual figures, a sweep (over each variant's whole map) and the CLI; and on a small generated map the
filtered figures equal a brute-force count over every K-set of all the map's units.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import pgtools
from pgtools.cli import main
from pgtools.errors import PgtoolsError
from pgtools.risk import annual_risk, build_copysets, failure_risk, pair_overlap, sweep
from pgtools.risk.copysets import assessed_pools, failure_universe, pg_sets
from pgtools.simulate import SetPoolSize, simulate
from tests.paths import SAMPLE_DUMPS
from tests.test_risk import brute, generated, quiet

#: The columns a filter must leave alone (the figures of the pools it keeps, and the universe's size).
SAME = ["units", "n_sets", "pgs", "bytes", "p_any_lost", "p_any_inactive", "expected_pgs_lost",
        "expected_bytes_lost", "expected_pgs_inactive", "max_pgs_lost", "max_pgs_inactive", "method",
        "inactive_method"]


@pytest.fixture(scope="module")
def mixed():
    return quiet(pgtools.load, SAMPLE_DUMPS / "mixed")


def _row(df, pool, k):
    return df[(df["pool"] == pool) & (df["failures"] == k)].iloc[0]


def _same(got, want, cols=SAME):
    for c in cols:
        if isinstance(want[c], str):
            assert got[c] == want[c], c
        else:
            assert got[c] == pytest.approx(want[c], rel=1e-12, abs=1e-12), c


@pytest.mark.parametrize("level", ["osd", "host"])
def test_filter_gives_the_unfiltered_row(mixed, level):
    """The user's case: --pool meta gave P(any lost) 0.178 over meta's 10 OSDs, the meta row 0.103 over 13."""
    full = quiet(failure_risk, mixed, level=level, failures=(1, 2, 3))
    held = {int(o) for a in mixed.pgs["acting"] for o in a if 0 <= o < 2**31 - 1}
    meta_held = {int(o) for a, p in zip(mixed.pgs["acting"], mixed.pgs["pool"], strict=True) if p == "meta"
                 for o in a if 0 <= o < 2**31 - 1}
    assert meta_held < held  # meta leaves OSDs out: the old universe was smaller
    for pools in (["meta"], ["meta", 5], [4]):
        got = quiet(failure_risk, mixed, level=level, failures=(1, 2, 3), pools=pools)
        assert (got["units"] == full["units"].iloc[0]).all()
        for k in (1, 2, 3):
            _same(_row(got, "meta", k), _row(full, "meta", k))
    if level == "osd":
        assert _row(full, "meta", 2)["units"] == len(held) == 13
        assert _row(full, "meta", 2)["p_any_lost"] == pytest.approx(0.103, abs=5e-4)
    # one pool alone: its (all) row is its own row
    only = quiet(failure_risk, mixed, level=level, failures=(2,), pools=["meta"])
    _same(_row(only, "(all)", 2), _row(full, "meta", 2), [c for c in SAME if c not in ("pgs", "bytes")])


def test_universe_with_given_sets_and_computed_placement(mixed):
    """Precomputed sets of the counted pools still give the all-pools universe; so does computed placement
    (the other pools' placement computed too); a universe lacking the sets' OSDs is refused."""
    info, _ = assessed_pools(mixed, ["meta"])
    sets = pg_sets(mixed, info)
    osds, osd_bytes = failure_universe(mixed, ["meta"], sets)
    all_osds, all_bytes = failure_universe(mixed)
    assert np.array_equal(osds, all_osds) and np.allclose(osd_bytes, all_bytes) and len(osds) == 13
    ref = quiet(build_copysets, mixed, "host")
    for cs in (quiet(build_copysets, mixed, "host", pools=["meta"], sets=sets),
               quiet(build_copysets, mixed, "host", pools=["meta"], sets=sets, universe=(osds, osd_bytes))):
        assert list(cs.units) == list(ref.units) and np.allclose(cs.unit_bytes, ref.unit_bytes)
    comp = quiet(failure_risk, mixed, failures=(2,), pools=["meta"], source="computed")
    comp_full = quiet(failure_risk, mixed, failures=(2,), source="computed")
    _same(_row(comp, "meta", 2), _row(comp_full, "meta", 2))
    with pytest.raises(PgtoolsError, match="lacks OSDs"):
        build_copysets(mixed, "osd", pools=["meta"], sets=sets, universe=(osds[:3], osd_bytes[:3]))


def test_annual_and_overlap_ignore_the_filter(mixed):
    """The annual figures (lethal sets, windows from every byte a unit holds) and the overlap's units."""
    for afr in (0.02, {"osd": 0.015, "host": 0.01}):
        full = quiet(annual_risk, mixed, afr=afr).set_index("pool")
        got = quiet(annual_risk, mixed, afr=afr, pools=["meta"]).set_index("pool")
        for c in ("lethal_sets", "lethal_size", "loss_rate_per_year"):
            assert got.loc["meta", c] == pytest.approx(full.loc["meta", c], rel=1e-12), c
        assert got.loc["meta", "windows_hours"] == full.loc["meta", "windows_hours"]
    ov = quiet(pair_overlap, mixed, "osd", pools=["meta"])
    assert ov.attrs["units"] == quiet(pair_overlap, mixed, "osd").attrs["units"]


def test_sweep_units_do_not_shrink_with_the_swept_pool(mixed):
    """The user's sweep: size meta=1,2 with --pool meta had units 7 and 10; now every row has the map's 13,
    and each row is the meta row of failure_risk on that variant's whole map."""
    sw = quiet(sweep, mixed, size={"meta": [1, 2]}, pools=["meta"], failures=(1, 2), scheduler="serial")
    assert set(sw["units"]) == {13}
    for size in (1, 2):
        vsnap = simulate(mixed, [SetPoolSize("meta", size)], checks=False).snapshots[-1]
        want = quiet(failure_risk, vsnap, failures=(1, 2), source="dump")
        for k in (1, 2):
            got = sw[(sw["size:meta"] == size) & (sw["failures"] == k)]
            _same(got[got["pool"] == "meta"].iloc[0], _row(want, "meta", k))
            _same(got[got["pool"] == "(all)"].iloc[0], _row(want, "meta", k),
                  [c for c in SAME if c not in ("pgs", "bytes")])


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("level", ["osd", "host"])
def test_filtered_figures_equal_brute_force_over_all_units(seed, level):
    """A pool of few PGs on part of the map: its figures over every K-set of all the map's units."""
    snap = generated(seed, hosts=6, per_host=2, pg_num=3, kinds=("r2", "ec21", "r3", "bad"))
    small = {o for a, p in zip(snap.pgs["acting"], snap.pgs["pool_id"], strict=True) if p == 1 for o in a
             if 0 <= o < 2**31 - 1}
    assert len(small) < len({o for a in snap.pgs["acting"] for o in a if 0 <= o < 2**31 - 1})
    for pools in ([1], ["r2", "ec21"]):
        df = quiet(failure_risk, snap, level=level, failures=(1, 2, 3), pools=pools)
        for k in (1, 2, 3):
            ref = brute(snap, level, k)
            for pid in (1, 2)[:len(pools)]:
                got = df[(df["failures"] == k) & (df["pool_id"] == pid)].iloc[0]
                assert got["n_sets"] == ref[pid]["n_sets"]
                for name, value in ref[pid].items():
                    assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (pools, k, pid, name)


def test_cli_pool_filter_and_messages(mixed, capsys):
    """--pool meta prints the meta row of the full table; --afr 0 is refused with the right range; a window
    that cannot be sized names the CLI flag (a warning when annual figures were not asked for, else an
    error)."""
    cap = str(SAMPLE_DUMPS / "mixed")
    docs = []
    for extra in (["--pool", "meta"], []):
        assert main(["risk", cap, "--failures", "2", "--format", "json", *extra]) == 0
        docs.append({r["pool"]: r for r in json.loads(capsys.readouterr().out)["results"]})
    for c in ("units", "n_sets", "p_any_lost", "p_any_inactive", "expected_pgs_lost", "max_pgs_lost"):
        assert docs[0]["meta"][c] == pytest.approx(docs[1]["meta"][c], rel=1e-12), c
    assert main(["risk", cap, "--afr", "0"]) == 2
    assert "greater than 0 and less than 1" in capsys.readouterr().err
    assert main(["risk", cap, "--level", "rack", "--failures", "1"]) == 0
    assert "warning: no annual figures" in capsys.readouterr().err
    assert main(["risk", cap, "--failures", "1", "--afr", "rack=0.01"]) == 2
    assert "(--window-hours rack=HOURS)" in capsys.readouterr().err
