"""Differential suite: random binary osdmaps made by each release's ``osdmaptool``, read by :mod:`pgtools.io.osdmap_binary`.

Each case (:func:`tests.oracle._maps.osdmap_case`: random CRUSH maps, tunable profiles, pg/pgp bits, saved
``--adjust-crush-weight`` and balancer ``--upmap`` changes) is built with the crushtool + osdmaptool of a
release (:func:`tests.oracle._osdmaps.build`: Pacific 16.2.15 on the host, Reef 18.2.7 and Tentacle 20.2.4 in
their chroots, so the map is in that release's own encoding: OSDMap client data v9 in Pacific, v10 in Reef
and Tentacle; ``pg_pool_t`` v29 in Pacific and Reef, v32 in Tentacle); the binary map's Fragment must equal
what pgtools' ``osd dump`` parser makes of the same release's ``osdmaptool --dump json`` (pools, OSDs, osdmap
facts: upmaps, flags, ratios...), and :func:`pgtools.placement.map_pgs` on the loaded binary must give the
release's ``osdmaptool --mark-up-in --test-map-pgs-dump-all`` up/acting sets.

Pacific runs every map; Reef and Tentacle the first sixth of the same seeds (:data:`SHARE`).
``PGTOOLS_ORACLE_MAPS=N`` sets the number of osdmaps (default: 150 with ``CI=true``, 40 locally).  The maps are
built in two worker threads ahead of the comparison (:func:`tests.oracle._maps.prefetched`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import pgtools
from pgtools.placement import map_pgs
from tests.ceph_release_tools import need
from tests.io.test_osdmap_binary import _up_in
from tests.oracle._maps import budget, osdmap_case, prefetched
from tests.oracle._osdmaps import build, osdmaptool, same_as_dump

FIRST_SEED = 40_000
#: maps per release: Pacific all, Reef and Tentacle the first sixth of the same seeds (25 with CI=true)
SHARE = {"pacific": 1, "reef": 6, "tentacle": 6}
#: the encodings each release writes (``struct_versions`` of the wrapper, client and OSD sections)
ENCODINGS = {"pacific": {"wrapper": 8, "client": 9, "osd": 9}, "reef": {"wrapper": 8, "client": 10, "osd": 9},
             "tentacle": {"wrapper": 8, "client": 10, "osd": 9}}
_LINE = re.compile(r"^(\S+) raw \(\[[^]]*\], p-?\d+\) up \(\[([^]]*)\], p(-?\d+)\) acting \(\[([^]]*)\], p(-?\d+)\)$")

pytestmark = pytest.mark.oracle


def _vec(s: str) -> tuple[int, ...]:
    return tuple(int(v) for v in s.split(",")) if s else ()


def _maps_like_osdmaptool(release: str, om: bytes, path: Path, num_osds: int) -> int:
    """map_pgs of every pool on the loaded binary == the release's dump-all lines; returns the PG count."""
    out = osdmaptool(release, om, ["--mark-up-in", "--test-map-pgs-dump-all"])
    expected = {}
    for ln in out.splitlines():
        m = _LINE.match(ln)
        if m:
            expected[m.group(1)] = (_vec(m.group(2)), int(m.group(3)), _vec(m.group(4)), int(m.group(5)))
    path.write_bytes(om)
    snap = _up_in(pgtools.load(path), num_osds)
    got = {}
    for pool in snap.pools.pool_id:
        for r in map_pgs(snap, int(pool), release=release).itertuples():
            got[r.pgid] = (tuple(r.up), r.up_primary, tuple(r.acting), r.acting_primary)
    assert got == expected
    return len(got)


@pytest.mark.parametrize("release", list(SHARE))
def test_random_binary_osdmaps_match_osdmaptool(release: str, tmp_path: Path) -> None:
    need(release)
    n = max(1, budget(150, 40) // SHARE[release])
    t0 = time.perf_counter()
    pgs = upmapped = 0
    # the builds (eight tool runs a map) of the next maps go on in worker threads while this one is compared
    for case, built in prefetched(osdmap_case, lambda c: build(release, c), range(FIRST_SEED, FIRST_SEED + n)):
        seed = case.seed
        try:
            frag = same_as_dump(release, built.om)
            assert frag.extra["struct_versions"] == ENCODINGS[release]
            pgs += _maps_like_osdmaptool(release, built.om, tmp_path / f"om{seed}", case.num_osds)
        except AssertionError as e:
            pytest.fail(f"{release} seed {seed}: {e}\nbuild:\n{built.script}\n--- crush.txt ---\n{case.crush_text}")
        upmapped += bool(frag.osdmap["pg_upmap_items"])
    print(f"\nbinary osdmap oracle ({release}): {n} osdmaps ({upmapped} with pg_upmap_items), {pgs} PG mappings, "
          f"{time.perf_counter() - t0:.1f} s")
    assert pgs >= n
