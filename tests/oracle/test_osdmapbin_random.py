"""Differential suite: random binary osdmaps made by ``osdmaptool``, read by :mod:`pgtools.io.osdmap_binary`.

Each case (:func:`tests.oracle._maps.osdmap_case`: random CRUSH maps, tunable profiles, pg/pgp bits, saved
``--adjust-crush-weight`` and balancer ``--upmap`` changes) is built with crushtool + osdmaptool; the binary
map's Fragment must equal what pgtools' ``osd dump`` parser makes of ``osdmaptool --dump json`` (pools, OSDs,
osdmap facts: upmaps, flags, ratios...), and :func:`pgtools.placement.map_pgs` on the loaded binary must give
``osdmaptool --mark-up-in --test-map-pgs-dump-all``'s up/acting sets.

``PGTOOLS_ORACLE_MAPS=N`` sets the number of osdmaps (default: 150 with ``CI=true``, 40 locally).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.io.test_osdmap_binary import assert_maps_like_osdmaptool, assert_same_as_dump
from tests.oracle._maps import budget, osdmap_case, run_tool

CRUSHTOOL = shutil.which("crushtool")
OSDMAPTOOL = shutil.which("osdmaptool")
FIRST_SEED = 40_000

pytestmark = pytest.mark.oracle


def _run(d: Path, *args: str) -> None:
    p = run_tool(list(args), timeout=60, cwd=d)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")


def test_random_binary_osdmaps_match_osdmaptool(tmp_path: Path) -> None:
    if CRUSHTOOL is None or OSDMAPTOOL is None:
        pytest.skip("crushtool/osdmaptool not installed")
    n = budget(150, 40)
    t0 = time.perf_counter()
    pgs = upmapped = 0
    for seed in range(FIRST_SEED, FIRST_SEED + n):
        case = osdmap_case(seed)
        d = tmp_path / f"om{seed}"
        d.mkdir()
        (d / "crush.txt").write_text(case.crush_text)
        _run(d, CRUSHTOOL, "-c", "crush.txt", "-o", "crush.bin")
        _run(d, OSDMAPTOOL, "om", "--createsimple", str(case.num_osds), "--with-default-pool", "--pg-bits",
             str(case.pg_bits), "--pgp-bits", str(case.pgp_bits), "--clobber")
        _run(d, OSDMAPTOOL, "om", "--import-crush", "crush.bin")
        if case.save_adjust:
            _run(d, OSDMAPTOOL, "om", "--adjust-crush-weight", ",".join(f"{o}:{w}" for o, w in case.save_adjust),
                 "--save")
        if case.upmap:
            dev, mx = case.upmap
            _run(d, OSDMAPTOOL, "om", "--mark-up-in", "--upmap", "upmap.txt", "--upmap-deviation", str(dev),
                 "--upmap-max", str(mx), "--save")
        try:
            frag = assert_same_as_dump(d / "om")
            pgs += assert_maps_like_osdmaptool(d / "om", up_in=case.num_osds)
        except AssertionError as e:
            pytest.fail(f"seed {seed}: {e}\n--- crush.txt ---\n{case.crush_text}")
        upmapped += bool(frag.osdmap["pg_upmap_items"])
    print(f"\nbinary osdmap oracle: {n} osdmaps ({upmapped} with pg_upmap_items), {pgs} PG mappings, "
          f"{time.perf_counter() - t0:.1f} s")
    assert pgs >= n
