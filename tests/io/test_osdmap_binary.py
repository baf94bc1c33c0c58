"""The binary osdmap reader (:mod:`pgtools.io.osdmap_binary`) against Ceph 16.2.15's osdmaptool.

Oracles: ``osdmaptool FILE --dump json`` parsed by pgtools' own ``osd dump`` parser must give the same
Fragment (pools, OSDs, osdmap facts) as the binary; :func:`pgtools.placement.map_pgs` on the loaded binary
must give ``osdmaptool FILE --test-map-pgs-dump-all``'s up/acting.  Maps: the real captures in
``../shared/data`` and maps made here with ``osdmaptool --createsimple`` / ``--create-from-conf``, modified
with ``--upmap ... --save`` and ``--adjust-crush-weight ... --save``.  Every prefix of a map is one
DumpFormatError naming a byte offset.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import pgtools
from pgtools.errors import DumpFormatError, SnapshotConflictError
from pgtools.io import osd_dump, osdmap_binary
from pgtools.io.osdmap_decode import decode_osdmap, is_osdmap_binary
from pgtools.placement import map_pgs
from pgtools.placement.osdmaptool import mark_up_in
from tests.paths import CRUSH_CASES, REAL

OSDMAPTOOL = shutil.which("osdmaptool")
REAL_MAPS = sorted([REAL / "osdmap.bin", *CRUSH_CASES.glob("*/osdmap.bin")])
_LINE = re.compile(r"^(\S+) raw \(\[[^]]*\], p-?\d+\) up \(\[([^]]*)\], p(-?\d+)\) acting \(\[([^]]*)\], p(-?\d+)\)$")
_OSD_COLUMNS = ["osd_id", "name", "exists", "up", "in", "reweight", "primary_affinity", "weight_fixed",
                "primary_affinity_fixed"]


def _need(path: Path | None = None) -> None:
    if OSDMAPTOOL is None:
        pytest.skip("osdmaptool not installed")
    if path is not None and not path.exists():
        pytest.skip(f"{path} not available")


def _tool(*args: str, cwd: Path | None = None) -> str:
    p = subprocess.run([OSDMAPTOOL, *args], capture_output=True, text=True, timeout=120, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return p.stdout


def assert_same_as_dump(path: Path) -> pgtools.io.Fragment:
    """The binary's Fragment equals what the osd_dump parser makes of ``osdmaptool --dump json``."""
    frag = osdmap_binary.parse_bytes(path.read_bytes(), source=str(path))
    ref = osd_dump.parse(_tool(str(path), "--dump", "json"), source="dump")
    assert frag.kind == "osdmap_binary" and frag.epoch == ref.epoch and frag.release == ref.release
    pd.testing.assert_frame_equal(frag.pools, ref.pools)
    pd.testing.assert_frame_equal(frag.osds[_OSD_COLUMNS], ref.osds[_OSD_COLUMNS])
    assert frag.osdmap == ref.osdmap
    assert frag.crush is not None
    return frag


def _vec(s: str) -> tuple[int, ...]:
    return tuple(int(v) for v in s.split(",")) if s else ()


def _up_in(snap, n: int):
    """osdmaptool ``--mark-up-in`` on a ``--createsimple`` map: its OSDs were never created, yet osdmaptool
    maps to them (the quirk issue #13 notes; the osdmaptool oracle rewrites the dump's OSDs the same way)."""
    osds = snap.osds.copy()
    osds["exists"] = True
    return mark_up_in(snap.replace(osds=osds), n)


def assert_maps_like_osdmaptool(path: Path, *, up_in: int | None = None) -> int:
    """map_pgs of every pool on the loaded binary == osdmaptool's dump-all lines; returns the PG count."""
    args = ["--mark-up-in"] if up_in is not None else []
    out = _tool(str(path), *args, "--test-map-pgs-dump-all")
    expected = {}
    for ln in out.splitlines():
        m = _LINE.match(ln)
        if m:
            expected[m.group(1)] = (_vec(m.group(2)), int(m.group(3)), _vec(m.group(4)), int(m.group(5)))
    snap = pgtools.load(path)
    if up_in is not None:
        snap = _up_in(snap, up_in)
    got = {}
    for pool in snap.pools.pool_id:
        for r in map_pgs(snap, int(pool)).itertuples():
            got[r.pgid] = (tuple(r.up), r.up_primary, tuple(r.acting), r.acting_primary)
    assert got == expected
    return len(got)


@pytest.mark.parametrize("path", REAL_MAPS, ids=lambda p: p.parent.name)
def test_real_captures(path: Path) -> None:
    _need(path)
    frag = assert_same_as_dump(path)
    assert frag.extra["struct_versions"] == {"wrapper": 8, "client": 9, "osd": 9}
    assert assert_maps_like_osdmaptool(path) > 0


def test_real_capture_agrees_with_its_osd_dump_json() -> None:
    path = REAL / "osdmap.bin"
    _need(path)
    frag = osdmap_binary.parse_bytes(path.read_bytes(), source="bin")
    ref = osd_dump.parse((REAL / "osd_dump.json").read_text(), source="json")
    pd.testing.assert_frame_equal(frag.pools, ref.pools)
    assert frag.osdmap == ref.osdmap
    assert frag.fsid == "297711d7-5078-4928-b4ed-b1aba3699317"


def _made(tmp: Path, recipe: str) -> tuple[Path, int]:
    om = tmp / "om"
    if recipe == "conf":
        conf = tmp / "c.conf"
        conf.write_text("[global]\n" + "".join(f"[osd.{i}]\nhost = h{i % 3}\n" for i in range(7)))
        _tool("om", "--create-from-conf", "-c", str(conf), "--with-default-pool", "--clobber", cwd=tmp)
        return om, 7
    n = {"simple": 5, "upmap": 12, "adjust": 9}[recipe]
    _tool("om", "--createsimple", str(n), "--with-default-pool", "--pg-bits", "4", "--pgp-bits", "3",
          "--clobber", cwd=tmp)
    if recipe == "upmap":  # 4 hosts of unequal weights, so the balancer has work
        hosts = [f"host h{h} {{\n\tid {-2 - h}\n\talg straw2\n\thash 0\n"
                 + "".join(f"\titem osd.{3 * h + k} weight {1 + (h * 3 + k) % 4}.000\n" for k in range(3)) + "}\n"
                 for h in range(4)]
        (tmp / "crush.txt").write_text(
            "".join(f"device {i} osd.{i}\n" for i in range(12)) + "type 0 osd\ntype 1 host\ntype 10 root\n"
            + "".join(hosts) + "root default {\n\tid -1\n\talg straw2\n\thash 0\n"
            + "".join(f"\titem h{h} weight {sum(1 + (h * 3 + k) % 4 for k in range(3))}.000\n" for h in range(4))
            + "}\nrule replicated_rule {\n\tid 0\n\ttype replicated\n\tmin_size 1\n\tmax_size 10\n"
            "\tstep take default\n\tstep chooseleaf firstn 0 type host\n\tstep emit\n}\n")
        subprocess.run([shutil.which("crushtool") or "crushtool", "-c", "crush.txt", "-o", "crush.bin"], cwd=tmp,
                       check=True, capture_output=True)
        _tool("om", "--import-crush", "crush.bin", cwd=tmp)
        _tool("om", "--adjust-crush-weight", "0:3,5:0.25", "--save", cwd=tmp)
        _tool("om", "--mark-up-in", "--upmap", "up.txt", "--upmap-deviation", "1", "--upmap-max", "50", "--save",
              cwd=tmp)
    if recipe == "adjust":
        _tool("om", "--adjust-crush-weight", "1:0,2:2.5", "--save", cwd=tmp)
    return om, n


@pytest.mark.parametrize("recipe", ["simple", "conf", "upmap", "adjust"])
def test_osdmaptool_made_maps(tmp_path: Path, recipe: str) -> None:
    _need()
    om, n = _made(tmp_path, recipe)
    frag = assert_same_as_dump(om)
    if recipe == "upmap":
        assert frag.osdmap["pg_upmap_items"], "the balancer made no upmaps"
    assert assert_maps_like_osdmaptool(om, up_in=n) > 0
    snap = _up_in(pgtools.load(om), n)
    for extra in (["--pool", "1", "--pg_num", "37"], ["--mark-out", "1"]):
        out = _tool(str(om), "--mark-up-in", *extra, "--test-map-pgs-dump-all")
        got = pgtools.placement.osdmaptool.osdmaptool_output(snap, ["--mark-up-in", *extra,
                                                                    "--test-map-pgs-dump-all"])
        assert got == out


def _small_map() -> bytes:
    path = CRUSH_CASES / "01_flat10_hosts_straw2_firstn" / "osdmap.bin"
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path.read_bytes()


def test_every_prefix_is_one_error_with_an_offset() -> None:
    data = _small_map()
    assert decode_osdmap(data)["epoch"] > 0
    for n in range(len(data)):
        with pytest.raises(DumpFormatError, match=r"offset \d+") as e:
            osdmap_binary.parse_bytes(data[:n], source="cut")
        assert e.value.field or "offset" in str(e.value)


def test_corrupted_bytes_never_break_differently() -> None:
    data = _small_map()
    rng = random.Random(13)
    for _ in range(600):
        b = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        try:
            osdmap_binary.parse_bytes(bytes(b), source="bad")
        except DumpFormatError as e:
            assert "offset" in str(e) or "invalid" in str(e) or "unsupported" in str(e)


def test_bad_crc_and_trailing_bytes() -> None:
    data = bytearray(_small_map())
    data[20] ^= 0xFF  # inside the fsid: only the crc notices
    with pytest.raises(DumpFormatError, match=r"offset \d+: bad crc"):
        decode_osdmap(bytes(data))
    with pytest.raises(DumpFormatError, match="bytes after the map"):
        decode_osdmap(_small_map() + b"\0")


def test_sniffing_tells_osdmaps_from_crush_maps() -> None:
    data = _small_map()
    assert is_osdmap_binary(data)
    crush = REAL / "crushmap.bin"
    if crush.exists():
        assert not is_osdmap_binary(crush.read_bytes())
    assert not is_osdmap_binary(b"\x08\x07" + b"\0" * 10)
    frag = pgtools.io.read_file("x", data=data)
    assert frag.kind == "osdmap_binary"


def test_load_alone_in_a_folder_and_conflicting(tmp_path: Path) -> None:
    path = REAL / "osdmap.bin"
    if not path.exists():
        pytest.skip(f"{path} not available")
    alone = pgtools.load(path)
    assert alone.meta["epoch"] == 101 and len(alone.pools) == 15 and alone.crush is not None
    assert alone.osdmap.max_osd == 12
    (tmp_path / "osdmap.bin").write_bytes(path.read_bytes())
    (tmp_path / "osd_dump.json").write_text((REAL / "osd_dump.json").read_text())
    both = pgtools.load(tmp_path)
    assert not both.meta["conflicts"]
    pd.testing.assert_frame_equal(both.pools, alone.pools)
    text = (REAL / "osd_dump.json").read_text().replace('"pg_autoscale_mode":"off"', '"pg_autoscale_mode":"on"', 1)
    (tmp_path / "osd_dump.json").write_text(text)
    with pytest.raises(SnapshotConflictError, match="different osdmaps"):
        pgtools.load(tmp_path)


def test_cli_map_stats() -> None:
    path = REAL / "osdmap.bin"
    if not path.exists():
        pytest.skip(f"{path} not available")
    p = subprocess.run([sys.executable, "-m", "pgtools", "map", str(path), "--pool", "1", "--format", "stats"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "pool 1 pg_num 128" in p.stdout and "osd.11" in p.stdout


@pytest.mark.parametrize("how", ["cut", "padded"])
def test_a_cut_or_padded_file_is_read_as_an_osdmap_and_refused_with_its_offset(tmp_path, how):
    """A damaged osdmap.bin is recognised by its header: the error says where it ends, not "not a dump format"."""
    data = (REAL / "osdmap.bin").read_bytes()
    bad = tmp_path / "osdmap.bin"
    bad.write_bytes(data[:1500] if how == "cut" else data + b"junk\n")
    want = r"offset \d+: truncated" if how == "cut" else r"offset \d+: 5 bytes after the map"
    with pytest.raises(DumpFormatError, match=want):
        pgtools.load(bad)
