"""Differential suite: ``pg_upmap_primaries`` (Reef's read balancer) on Pacific, Reef and Tentacle.

Each random osdmap (:func:`tests.oracle._maps.osdmap_case`, seeds from 50000) is built by the release's own
tools (:func:`tests.oracle._osdmaps.build`, with the balancer's ``pg_upmap_items`` in half of them), then given
a ``pg_upmap_primaries`` table (:func:`~tests.oracle._osdmaps.with_upmap_primaries`): on Reef and Tentacle
the entries their read balancer proposes (``osdmaptool om --mark-up-in --read FILE --read-pool rbd``) plus
random ones that reach every branch of ``OSDMap::_apply_upmap``: the OSD at a later place of the raw set,
already first, not in the set, out (``--mark-out``), a pg_upmap_items target, an id past ``max_osd``,
negative, ``CRUSH_ITEM_NONE``.  Then, per release:

* the map's Fragment (binary reader) equals the release's ``--dump json`` (the table included);
* ``osdmaptool om --mark-up-in [--mark-out O | --pool 1 --pg_num N] --test-map-pgs-dump-all``: byte for
  byte against :func:`pgtools.placement.osdmaptool.osdmaptool_output` (Reef, Tentacle), and the up/acting
  sets against :func:`pgtools.placement.map_pgs` with ``release=`` that release (vector engine; reference
  engine on every other map);
* Pacific's osdmaptool decodes the same table and ignores it (its ``OSDMap::decode`` stops at client
  ``struct_v`` 9): pinned, ``map_pgs(release="pacific")`` equals it and the default (Reef and later) differs
  on every PG whose entry takes effect.

``PGTOOLS_ORACLE_MAPS=N`` scales the number of maps per release (default 12 with ``CI=true``, 4 locally).
"""

from __future__ import annotations

import random
import re
import time

import pytest

import pgtools
from pgtools.model import NONE
from pgtools.placement import map_pgs
from pgtools.placement.osdmaptool import mark_up_in, osdmaptool_output
from tests.ceph_release_tools import need
from tests.oracle._maps import budget, osdmap_case
from tests.oracle._osdmaps import build, osdmaptool, same_as_dump, with_upmap_primaries

FIRST_SEED = 50_000
RELEASES = ["pacific", "reef", "tentacle"]
_LINE = re.compile(r"^(\S+) raw \(\[([^]]*)\], p-?\d+\) up \(\[([^]]*)\], p(-?\d+)\) "
                   r"acting \(\[([^]]*)\], p(-?\d+)\)$")

pytestmark = pytest.mark.oracle


def _vec(s: str) -> tuple[int, ...]:
    return tuple(int(v) for v in s.split(",")) if s else ()


def _lines(out: str) -> dict[str, tuple]:
    """``pgid -> (raw, up, up_primary, acting, acting_primary)`` of a ``--test-map-pgs-dump-all`` output."""
    got = {}
    for ln in out.splitlines():
        m = _LINE.match(ln)
        if m:
            got[m.group(1)] = (_vec(m.group(2)), _vec(m.group(3)), int(m.group(4)), _vec(m.group(5)),
                               int(m.group(6)))
    return got


def _entries(rng: random.Random, plain: dict[str, tuple], max_osd: int, balancer: dict[str, int],
             upmap_targets: list[int]) -> dict[str, int]:
    """Random ``pg_upmap_primaries`` entries over the PGs of ``plain`` (then the balancer's, which win)."""
    out: dict[str, int] = {}
    pgids = sorted(plain)
    for pgid in rng.sample(pgids, min(len(pgids), rng.randint(1, 48))):
        raw = plain[pgid][0]
        kind = rng.random()
        if kind < 0.5 and len(raw) > 1:
            out[pgid] = rng.choice(raw[1:])
        elif kind < 0.6 and raw:
            out[pgid] = raw[0]
        elif kind < 0.75 and upmap_targets:
            out[pgid] = rng.choice(upmap_targets)
        elif kind < 0.9:
            out[pgid] = rng.randrange(max_osd)
        else:
            out[pgid] = rng.choice([max_osd, max_osd + 7, -1, -5, NONE])
    out.update(balancer)
    return out


def _balancer(release: str, om: bytes) -> dict[str, int]:
    """The ``ceph osd pg-upmap-primary PGID OSD`` commands Reef's read balancer proposes for pool rbd."""
    from tests.ceph_release_tools import run

    p = run(release, "osdmaptool", ["om", "--mark-up-in", "--read", "read.txt", "--read-pool", "rbd"], {"om": om})
    if p.returncode != 0:  # nothing to balance (e.g. one OSD per PG) is not an error of interest here
        return {}
    cmds = re.findall(r"^ceph osd pg-upmap-primary (\S+) (\d+)$", p.files.get("read.txt", b"").decode(), re.M)
    return {pgid: int(osd) for pgid, osd in cmds}


def _exists_all(snap, n: int):
    """osdmaptool ``--mark-up-in`` on a ``--createsimple`` map maps to OSDs the map never created: make them
    exist (as ``tests/io/test_osdmap_binary.py`` does), then mark up and in."""
    osds = snap.osds.copy()
    osds["exists"] = True
    return mark_up_in(snap.replace(osds=osds), n)


def _frame_lines(frame) -> dict[str, tuple]:
    return {r.pgid: (tuple(r.raw), tuple(r.up), r.up_primary, tuple(r.acting), r.acting_primary)
            for r in frame.itertuples()}


def _check(release: str, seed: int, tmp_path) -> tuple[int, int, int]:
    """One map; returns (entries, PGs whose placement the entries change, PG mappings compared)."""
    case = osdmap_case(seed)
    rng = random.Random(seed)
    built = build(release, case)
    plain = _lines(osdmaptool(release, built.om, ["--mark-up-in", "--test-map-pgs-dump-all"]))
    balancer = _balancer(release, built.om) if release != "pacific" else {}
    frag0 = same_as_dump(release, built.om)
    targets = sorted({int(b) for v in frag0.osdmap["pg_upmap_items"].values() for _a, b in v})
    entries = _entries(rng, plain, case.num_osds, balancer, targets)
    om = with_upmap_primaries(built.om, entries)
    # Pacific's decoder stops before the table: its dump has none
    frag = same_as_dump(release, om, unread=("pg_upmap_primaries",) if release == "pacific" else ())
    assert frag.osdmap["pg_upmap_primaries"] == entries
    path = tmp_path / f"om{seed}-{release}"
    path.write_bytes(om)
    snap = _exists_all(pgtools.load(path), case.num_osds)
    named = [o for o in entries.values() if 0 <= o < case.num_osds]
    variants: list[list[str]] = [[]]
    if named:
        variants.append(["--mark-out", str(rng.choice(named))])
    if rng.random() < 0.5:
        variants.append(["--pool", "1", "--pg_num", str(rng.randint(1, len(plain) + 40))])
    compared = 0
    what = f"{release} seed {seed}\nbuild:\n{built.script}\nentries: {entries}"
    for extra in variants:
        args = ["--mark-up-in", *extra, "--test-map-pgs-dump-all"]
        ref = osdmaptool(release, om, args)
        if release != "pacific":
            got = osdmaptool_output(snap, args)
            assert got == ref, f"osdmaptool_output {' '.join(args)} differs\n{what}"
        compared += len(_lines(ref))
    ref = _lines(osdmaptool(release, om, ["--mark-up-in", "--test-map-pgs-dump-all"]))
    engines = ["vector"] + (["reference"] if seed % 2 == 0 and len(ref) <= 512 else [])
    for engine in engines:
        got = _frame_lines(map_pgs(snap, 1, engine=engine, release=release))
        assert got == ref, f"map_pgs(engine={engine!r}, release={release!r}) differs\n{what}"
    default = _frame_lines(map_pgs(snap, 1))
    changed = {g for g in ref if default[g] != plain[g]}
    if release == "pacific":
        assert ref == plain  # Pacific ignores the table
    else:
        assert default == ref
    # where the default (Reef and later) placement moved a primary, the entry is why: its OSD was in the up set
    # (all OSDs up: the raw set after pg_upmap_items), after the first place
    for g in changed:
        assert g in entries and default[g][2] == entries[g] and entries[g] in plain[g][1][1:], (g, what)
    return len(entries), len(changed), compared


@pytest.mark.parametrize("release", RELEASES)
def test_upmap_primaries_match_osdmaptool(release: str, tmp_path) -> None:
    need(release)
    n = budget(12, 4)
    t0 = time.perf_counter()
    n_entries = n_changed = pgs = 0
    for seed in range(FIRST_SEED, FIRST_SEED + n):
        e, c, k = _check(release, seed, tmp_path)
        n_entries += e
        n_changed += c
        pgs += k
    print(f"\npg_upmap_primaries oracle ({release}): {n} osdmaps, {n_entries} entries, {n_changed} PGs whose "
          f"primary they move (Reef and later), {pgs} PG mappings, {time.perf_counter() - t0:.1f} s")
    assert n_changed >= n  # the entries really moved primaries
