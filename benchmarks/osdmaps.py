"""Osdmaps for the benchmarks and the balancer oracle tests, built with Ceph's own ``crushtool``/``osdmaptool``.

* :func:`simple` — ``crushtool --build`` layers, ``osdmaptool --createsimple N --with-default-pool``,
  ``--import-crush``: one replicated pool (``rbd``), as the placement benchmarks use.
* :func:`random_map` — a seeded map of hosts holding ``hdd`` and ``ssd`` OSDs of unequal CRUSH weights, class
  rules (``take default class C``; weights equal, mildly or strongly uneven by ``seed % 3``) and several pools: replicated on each class, erasure-coded (``indep``) on
  ``hdd``, sometimes a replicated pool over both classes.

Both write the map's files into a directory: ``om`` (the binary osdmap, for ``osdmaptool --mark-up-in``),
``crush.bin``, ``crush_dump.json`` (``crushtool --dump``) and ``osd_dump.json`` (``osdmaptool --dump json`` with
every OSD written up and in: ``--createsimple`` OSDs exist only once ``--mark-up-in`` marks them, in memory).

No release's osdmaptool creates more than one pool or an erasure-coded one (only a monitor does), so
:func:`random_map` writes its pools into the encoded map: each pool is the ``pg_pool_t`` that ``--createsimple
--pg-bits B`` encoded (``pg_num``, ``pgp_num`` and their targets ``N << B``), with ``type`` (3: erasure),
``size``, ``crush_rule``, ``min_size``, ``stripe_width`` and ``erasure_code_profile`` set, under its own id and
name; the erasure-code profiles go into the map's profile table; the client section's and the wrapper's
lengths and the wrapper's crc32c are recomputed.  The builder then checks that pgtools' decoder and the
osdmaptool that wrote the map (``--dump json``) both read back exactly the pools asked for, so the map is what
Ceph reads, not what this encoder meant.  Offsets inside ``pg_pool_t`` are those of the v29 encoding
(Pacific 16.2.15, ``pg_pool_t::encode``) of a pool without snapshots, tiers or properties: type +6, size +7,
crush_rule +8, min_size +70, stripe_width +135, erasure_code_profile +171 (after the 6-byte ``ENCODE_START``).
"""

from __future__ import annotations

import json
import random
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PoolSpec", "apply_commands", "pools_for", "random_map", "simple", "tool"]

_TUNABLES = """tunable choose_local_tries 0
tunable choose_local_fallback_tries 0
tunable choose_total_tries 50
tunable chooseleaf_descend_once 1
tunable chooseleaf_vary_r 1
tunable chooseleaf_stable 1
tunable straw_calc_version 1
tunable allowed_bucket_algs 54
"""
#: fixed offsets inside a fresh v29 ``pg_pool_t`` (module docstring)
_TYPE, _SIZE, _RULE, _MIN_SIZE, _STRIPE, _PROFILE = 6, 7, 8, 70, 135, 171
_POOLS_AT = 48  # wrapper and client ENCODE_START (6 + 6), fsid 16, epoch 4, created 8, modified 8


def tool(*argv: str, cwd: Path) -> str:
    """Stdout of ``argv`` run in ``cwd`` (an error if it fails)."""
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True).stdout


def _finish(d: Path, num_osds: int) -> None:
    """``crush_dump.json`` and ``osd_dump.json`` (every OSD up and in) of ``d/om`` and ``d/crush.bin``."""
    (d / "crush_dump.json").write_text(tool("crushtool", "-i", "crush.bin", "--dump", cwd=d))
    dump = json.loads(tool("osdmaptool", "om", "--dump", "json", cwd=d))
    dump["osds"] = [{"osd": i, "uuid": "00000000-0000-0000-0000-000000000000", "up": 1, "in": 1, "weight": 1.0,
                     "primary_affinity": 1.0, "state": ["exists", "up"]} for i in range(num_osds)]
    dump["max_osd"] = num_osds
    (d / "osd_dump.json").write_text(json.dumps(dump))


def _createsimple(d: Path, name: str, num_osds: int, pg_bits: int) -> None:
    tool("osdmaptool", name, "--createsimple", str(num_osds), "--with-default-pool", "--clobber",
         "--pg-bits", str(pg_bits), "--pgp-bits", str(pg_bits), cwd=d)


def simple(d: Path, num_osds: int, layers: list[str], *, pg_bits: int = 6, pg_num: int | None = None) -> Path:
    """A ``crushtool --build --num_osds N LAYERS`` map with ``--createsimple``'s pool ``rbd`` (``N << pg_bits``
    PGs; ``pg_num`` given: written into ``osd_dump.json`` only, pgp_num kept, as ``osdmaptool --pg_num``)."""
    if (d / "osd_dump.json").exists():
        return d
    d.mkdir(parents=True, exist_ok=True)
    tool("crushtool", "-o", "crush.bin", "--build", "--num_osds", str(num_osds), *layers, cwd=d)
    _createsimple(d, "om", num_osds, pg_bits)
    tool("osdmaptool", "om", "--import-crush", "crush.bin", cwd=d)
    _finish(d, num_osds)
    if pg_num is not None:
        dump = json.loads((d / "osd_dump.json").read_text())
        for p in dump["pools"]:
            p["pg_num"] = p["pg_num_target"] = p["pg_num_pending"] = pg_num
        (d / "osd_dump.json").write_text(json.dumps(dump))
    return d


@dataclass(frozen=True)
class PoolSpec:
    """One pool of :func:`random_map`: ``pg_num = num_osds << pg_bits``; ``k``/``m`` make it erasure-coded."""

    name: str
    rule: int
    size: int
    pg_bits: int
    k: int = 0
    m: int = 0
    device_class: str = ""


#: CRUSH weights of the OSDs, by ``seed % 3``: equal, mildly and strongly uneven
WEIGHTS = ([1.0], [1.0, 1.0, 1.25], [1.0, 1.0, 1.0, 1.5, 2.0])


def _crush_text(rng: random.Random, num_osds: int, hosts: int, weights: list[float]) -> str:
    per = num_osds // hosts
    devices, buckets = [], []
    bid = -1
    for h in range(hosts):
        ids = range(h * per, (h + 1) * per)
        ssd = set(rng.sample(list(ids), max(1, per // 4)))
        host_items = []
        for o in ids:
            devices.append(f"device {o} osd.{o} class {'ssd' if o in ssd else 'hdd'}")
            host_items.append(f"\titem osd.{o} weight {rng.choice(weights):.3f}")
        buckets.append(f"host host{h} {{\n\tid {bid}\n\tid {bid - 1} class hdd\n\tid {bid - 2} class ssd\n"
                       f"\talg straw2\n\thash 0\n" + "\n".join(host_items) + "\n}")
        bid -= 3
    items = [f"\titem host{h}" for h in range(hosts)]  # weight: the host's, summed by crushtool
    buckets.append(f"root default {{\n\tid {bid}\n\tid {bid - 1} class hdd\n\tid {bid - 2} class ssd\n"
                   "\talg straw2\n\thash 0\n" + "\n".join(items) + "\n}")
    rules = []
    for rid, (name, typ, take, choose) in enumerate([
            ("replicated_rule", "replicated", "default", "chooseleaf firstn 0 type host"),
            ("replicated_hdd", "replicated", "default class hdd", "chooseleaf firstn 0 type host"),
            ("replicated_ssd", "replicated", "default class ssd", "chooseleaf firstn 0 type host"),
            ("ec_hdd", "erasure", "default class hdd", "chooseleaf indep 0 type host")]):
        tries = "\tstep set_chooseleaf_tries 5\n\tstep set_choose_tries 100\n" if typ == "erasure" else ""
        rules.append(f"rule {name} {{\n\tid {rid}\n\ttype {typ}\n\tmin_size 1\n\tmax_size 20\n{tries}"
                     f"\tstep take {take}\n\tstep {choose}\n\tstep emit\n}}")
    return (_TUNABLES + "\n".join(devices) + "\ntype 0 osd\ntype 1 host\ntype 11 root\n" + "\n".join(buckets)
            + "\n" + "\n".join(rules) + "\n")


def pools_for(rng: random.Random, num_osds: int, hosts: int) -> list[PoolSpec]:
    """The pools of a :func:`random_map`: replicated on hdd and on ssd, EC on hdd (``k + m <= hosts``),
    sometimes a replicated pool over both classes; about 100-200 PG shards per OSD in all."""
    k, m = (2, 1) if hosts < 6 else rng.choice([(4, 2), (3, 2)])
    base = 3 if num_osds < 50 else 2
    out = [PoolSpec("rep_hdd", 1, 3, base + rng.choice([0, 1]), device_class="hdd"),
           PoolSpec("rep_ssd", 2, 3, base - 1, device_class="ssd"),
           PoolSpec("ec_hdd", 3, k + m, base - 1 + rng.choice([0, 1]), k=k, m=m, device_class="hdd")]
    if rng.random() < 0.5:
        out.append(PoolSpec("rep_all", 0, rng.choice([2, 3]), base - 1))
    return out


def _string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<I", len(b)) + b


def _skip_string(data: bytes, off: int) -> int:
    return off + 4 + struct.unpack_from("<I", data, off)[0]


def _pool_bytes(src: bytes, spec: PoolSpec) -> bytes:
    """``--createsimple``'s pool 1 of ``src`` as ``spec``."""
    (n,) = struct.unpack_from("<I", src, _POOLS_AT)
    assert n == 1
    at = _POOLS_AT + 4 + 8
    v, _compat, length = struct.unpack_from("<BBI", src, at)
    if v != 29:
        raise ValueError(f"pg_pool_t v{v}: the offsets here are those of v29 (Pacific)")
    p = bytearray(src[at:at + 6 + length])
    assert struct.unpack_from("<I", p, _PROFILE)[0] == 0, "expected an empty erasure_code_profile"
    p[_TYPE], p[_SIZE], p[_RULE] = (3 if spec.k else 1), spec.size, spec.rule
    p[_MIN_SIZE] = spec.k + 1 if spec.k else spec.size - spec.size // 2
    struct.pack_into("<I", p, _STRIPE, 4096 * spec.k)
    prof = _string(f"ec_{spec.name}" if spec.k else "")
    p[_PROFILE:_PROFILE + 4] = prof
    struct.pack_into("<I", p, 2, len(p) - 6)
    return bytes(p)


def _with_pools(om: bytes, pools: list[tuple[PoolSpec, bytes]], profiles: dict[str, dict[str, str]]) -> bytes:
    """``om`` with its pools, pool names, pool_max and erasure-code profiles replaced."""
    from pgtools.io.osdmap_decode import crc32c, decode_osdmap

    dec = decode_osdmap(om)
    data = bytearray(om)
    off = _POOLS_AT
    (n,) = struct.unpack_from("<I", data, off)
    off += 4
    for _ in range(n):
        off += 8
        off += 6 + struct.unpack_from("<I", data, off + 2)[0]
    (n,) = struct.unpack_from("<I", data, off)
    off += 4
    for _ in range(n):
        off = _skip_string(data, off + 8)
    off += 4  # pool_max
    new = bytearray(struct.pack("<I", len(pools)))
    for pid, (_spec, body) in enumerate(pools, start=1):
        new += struct.pack("<q", pid) + body
    new += struct.pack("<I", len(pools))
    for pid, (spec, _body) in enumerate(pools, start=1):
        new += struct.pack("<q", pid) + _string(spec.name)
    new += struct.pack("<i", len(pools))
    grow = len(new) - (off - _POOLS_AT)
    data[_POOLS_AT:off] = new
    # erasure_code_profiles: right after the CRUSH map
    at = dec["crush_offset"] + len(dec["crush_bytes"]) + grow
    end = at + 4
    for _ in range(struct.unpack_from("<I", data, at)[0]):
        end = _skip_string(data, end)
        m = struct.unpack_from("<I", data, end)[0]
        end += 4
        for _ in range(2 * m):
            end = _skip_string(data, end)
    table = bytearray(struct.pack("<I", len(profiles)))
    for name in sorted(profiles):
        table += _string(name) + struct.pack("<I", len(profiles[name]))
        for k in sorted(profiles[name]):
            table += _string(k) + _string(profiles[name][k])
    grow2 = len(table) - (end - at)
    data[at:end] = table
    grow += grow2
    clen = struct.unpack_from("<I", data, 8)[0]
    struct.pack_into("<I", data, 8, clen + grow)
    struct.pack_into("<I", data, 2, struct.unpack_from("<I", data, 2)[0] + grow)
    osd_at = 12 + clen + grow
    crc_at = osd_at + 6 + struct.unpack_from("<I", data, osd_at + 2)[0]
    crc = crc32c(0xFFFFFFFF, bytes(data[:crc_at]))
    crc = crc32c(crc, bytes(data[crc_at + 4:]))
    struct.pack_into("<I", data, crc_at, crc)
    return bytes(data)


def _check(dump: dict, pools: list[PoolSpec], num_osds: int, profiles: dict, who: str) -> None:
    got = [(p["pool"], p["pool_name"], p["type"], p["size"], p["crush_rule"], p["pg_num"], p["pg_placement_num"],
            p["erasure_code_profile"]) for p in dump["pools"]]
    want = [(i, s.name, 3 if s.k else 1, s.size, s.rule, num_osds << s.pg_bits, num_osds << s.pg_bits,
             f"ec_{s.name}" if s.k else "") for i, s in enumerate(pools, start=1)]
    if got != want or dump["erasure_code_profiles"] != profiles:
        raise AssertionError(f"{who} reads other pools than written:\n{got}\n{want}")


def random_map(d: Path, seed: int, num_osds: int, hosts: int) -> tuple[Path, list[PoolSpec]]:
    """The seeded map of ``num_osds`` OSDs on ``hosts`` hosts (module docstring) in ``d``; its pools."""
    rng = random.Random(seed * 7919 + num_osds)
    pools = pools_for(rng, num_osds, hosts)
    crush = _crush_text(rng, num_osds, hosts, WEIGHTS[seed % 3])
    if (d / "osd_dump.json").exists() and (d / "crush.txt").read_text() == crush:
        return d, pools
    d.mkdir(parents=True, exist_ok=True)
    (d / "crush.txt").write_text(crush)
    tool("crushtool", "-c", "crush.txt", "-o", "crush.bin", cwd=d)
    bodies = {}
    for b in sorted({p.pg_bits for p in pools}):
        _createsimple(d, f"om_bits{b}", num_osds, b)
        bodies[b] = (d / f"om_bits{b}").read_bytes()
        (d / f"om_bits{b}").unlink()
    _createsimple(d, "om", num_osds, pools[0].pg_bits)
    tool("osdmaptool", "om", "--import-crush", "crush.bin", cwd=d)
    profiles = {"default": {"k": "2", "m": "2", "plugin": "jerasure", "technique": "reed_sol_van"}}
    for p in pools:
        if p.k:
            profiles[f"ec_{p.name}"] = {"k": str(p.k), "m": str(p.m), "plugin": "jerasure",
                                        "technique": "reed_sol_van", "crush-root": "default",
                                        "crush-failure-domain": "host", "crush-device-class": p.device_class}
    om = _with_pools((d / "om").read_bytes(), [(p, _pool_bytes(bodies[p.pg_bits], p)) for p in pools], profiles)
    from pgtools.io.osdmap_decode import decode_osdmap

    _check(decode_osdmap(om), pools, num_osds, profiles, "pgtools")
    (d / "om").write_bytes(om)
    _check(json.loads(tool("osdmaptool", "om", "--dump", "json", cwd=d)), pools, num_osds, profiles,
           "osdmaptool")
    _finish(d, num_osds)
    return d, pools


_CMD = re.compile(r"^ceph osd pg-upmap-items (\S+)((?: -?\d+ -?\d+)+)$", re.MULTILINE)
_RM = re.compile(r"^ceph osd rm-pg-upmap-items (\S+)$", re.MULTILINE)


def apply_commands(snap, text: str):
    """``snap`` with the ``ceph osd pg-upmap-items`` / ``rm-pg-upmap-items`` lines of ``text`` (osdmaptool
    ``--upmap`` output) applied to its ``pg_upmap_items``, as the monitor would store them."""
    items = dict(snap.osdmap.pg_upmap_items)
    for pg in _RM.findall(text):
        items.pop(pg, None)
    for pg, pairs in _CMD.findall(text):
        v = [int(x) for x in pairs.split()]
        items[pg] = tuple(zip(v[::2], v[1::2], strict=True))
    return snap.replace(osdmap=snap.osdmap.replace(pg_upmap_items=items))
