#!/usr/bin/env python3
"""Regenerate the sample captures from a fresh throwaway Ceph cluster.

    python scripts/make_sample_dumps.py [--out DIR] [--scenario seedlike|mixed|reef|tentacle|all] [--workdir DIR]

``seedlike`` writes ``DIR/seedlike_max300/`` and ``DIR/seedlike_max300_json/`` with the same file lists as
``sample_dumps/`` (see ``sample_dumps/README.md``): 12 memstore OSDs on 4 hosts, 15 named pools × 128 PGs
× size 3, autoscaler and balancer off, created under ``mon_max_pg_per_osd 1000`` and captured after
lowering it to 300 (``HEALTH_WARN too many PGs per OSD (480 > max 300)``).

``mixed`` writes ``DIR/mixed/`` (a full ``pgtools collect`` bundle, with ``osdmap.bin``): hdd and ssd
classes, unequal CRUSH weights, replicated rules per class, EC 2+1 and 4+2 pools, one OSD out, one
reweighted, a few ``pg-upmap-items``.

``tentacle`` writes ``DIR/mixed_tentacle/`` (the same layout and steps as ``mixed``, on Ceph 20.2.4 from its
chroot, ``make ceph-releases``; the mgr's own pool ``.mgr`` is pool 1 there) and ``DIR/mixed_tentacle_plain/``
(the plain-text form of every command that has one, captured at the same osdmap epoch).  ``reef`` writes
``DIR/mixed_reef/`` and ``DIR/mixed_reef_plain/`` the same way on Ceph 18.2.7 (Reef) from its chroot.

The default ``DIR`` is a new temporary folder (printed at the end); this script never writes into
``sample_dumps/`` unless told to with ``--out sample_dumps``.  Every command run against the cluster and
every step's duration go to ``DIR/<scenario>_meta.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.integration.cluster import MiniCluster, OsdSpec  # noqa: E402

SEEDLIKE_POOLS = ("rbd", "images", "volumes", "vms", "backups", "cephfs_data", "cephfs_metadata", ".rgw.root",
                  "default.rgw.control", "default.rgw.meta", "default.rgw.log", "default.rgw.buckets.index",
                  "default.rgw.buckets.data", "default.rgw.buckets.non-ec", "scratch")
SEEDLIKE_HOSTS = {f"node{i}": [OsdSpec(1.0, "hdd")] * 3 for i in range(1, 5)}

#: file -> ceph arguments, per output folder (all read-only commands)
PLAIN_FILES = {
    "pg_dump.txt": ("pg", "dump"),
    "osd_dump.json": ("osd", "dump", "-f", "json"),
    "crush_dump.json": ("osd", "crush", "dump", "-f", "json"),
    "osd_df.txt": ("osd", "df"),
    "osd_tree.txt": ("osd", "tree"),
    "osd_pool_ls_detail.json": ("osd", "pool", "ls", "detail", "-f", "json"),
    "df_detail.json": ("df", "detail", "-f", "json"),
    "health_detail.txt": ("health", "detail"),
    "config_dump.txt": ("config", "dump"),
    "versions.json": ("versions",),
    "autoscale_status.json": ("osd", "pool", "autoscale-status", "-f", "json"),
}
JSON_FILES = {
    "pg_dump.json.gz": ("pg", "dump", "-f", "json"),
    "osd_dump.json": ("osd", "dump", "-f", "json"),
    "crush_dump.json": ("osd", "crush", "dump", "-f", "json"),
    "osd_df_tree.json": ("osd", "df", "tree", "-f", "json"),
    "osd_tree.json": ("osd", "tree", "-f", "json"),
    "osd_pool_ls_detail.json": ("osd", "pool", "ls", "detail", "-f", "json"),
    "df_detail.json": ("df", "detail", "-f", "json"),
    "health_detail.json": ("health", "detail", "-f", "json"),
    "versions.json": ("versions", "-f", "json"),
    "autoscale_status.json": ("osd", "pool", "autoscale-status", "-f", "json"),
}
#: the plain forms captured beside a Reef or Tentacle bundle (``ceph versions`` has none: JSON, for the release)
CHROOT_PLAIN_FILES = {
    "pg_dump.txt": ("pg", "dump"),
    "osd_dump.txt": ("osd", "dump"),
    "osd_df.txt": ("osd", "df"),
    "osd_df_tree.txt": ("osd", "df", "tree"),
    "osd_tree.txt": ("osd", "tree"),
    "osd_pool_ls_detail.txt": ("osd", "pool", "ls", "detail"),
    "df_detail.txt": ("df", "detail"),
    "health_detail.txt": ("health", "detail"),
    "config_dump.txt": ("config", "dump"),
    "autoscale_status.txt": ("osd", "pool", "autoscale-status"),
    "versions.json": ("versions",),
}


def _application(name: str) -> str:
    if name.startswith("cephfs"):
        return "cephfs"
    if "rgw" in name:
        return "rgw"
    return "rbd"


class Steps:
    """Named step durations, for the meta file and the final report."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.last = self.t0
        self.steps: dict[str, float] = {}

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        self.steps[name] = round(now - self.last, 2)
        self.last = now
        print(f"  {name}: {self.steps[name]:.1f} s", file=sys.stderr)

    @property
    def total(self) -> float:
        return round(time.monotonic() - self.t0, 2)


def _epoch(c: MiniCluster) -> int:
    return int(c.ceph("osd", "dump", json=True)["epoch"])


def capture(c: MiniCluster, folder: Path, files: dict[str, tuple[str, ...]], tries: int = 3) -> int:
    """Run ``files``' commands into ``folder``; retry until the osdmap epoch is the same before and after."""
    for _ in range(tries):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        before = _epoch(c)
        for name, args in files.items():
            text = c.ceph(*args)
            if name.endswith(".gz"):
                # mtime 0: the same dump gives the same bytes
                with open(folder / name, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                                     filename="") as gz:
                    gz.write(text.encode())
            else:
                (folder / name).write_text(text)
        if _epoch(c) == before:
            return before
    raise RuntimeError(f"osdmap kept changing while capturing {folder}")


def wait_health(c: MiniCluster, code: str, timeout: float = 120.0) -> None:
    c.wait_for(f"health check {code}", lambda: code in c.health_detail().get("checks", {}), timeout)


def seedlike(out: Path, workdir: Path) -> dict:
    """The seed memo's cluster; writes ``out/seedlike_max300`` and ``out/seedlike_max300_json``."""
    step = Steps()
    with MiniCluster(workdir, hosts=SEEDLIKE_HOSTS, config={"mon_max_pg_per_osd": 1000}) as c:
        step("cluster_up (12 OSDs, mgr available)")
        c.create_pools([{"name": n, "pg_num": 128, "size": 3, "application": _application(n)}
                        for n in SEEDLIKE_POOLS])
        step("create 15 pools")
        c.wait_clean(timeout=600)
        step("1920 PGs active+clean")
        # data as in the shared capture: pool i gets 20*i objects of 4096*i bytes, plus rados bench on rbd
        for i, name in enumerate(SEEDLIKE_POOLS, start=1):
            c.write_objects(name, 20 * i, size=4096 * i)
        hostname = Path("/etc/hostname")
        for name in SEEDLIKE_POOLS:
            if hostname.exists():
                c.rados("-p", name, "put", f"hostname-{name}", str(hostname))
        c.rados("bench", "-p", "rbd", "5", "write", "--no-cleanup", "-b", "65536", "-t", "4", timeout=120)
        step("write objects + rados bench")
        c.set_config([("global", "mon_max_pg_per_osd", 300)])
        wait_health(c, "TOO_MANY_PGS")
        c.wait_clean(timeout=300)
        step("mon_max_pg_per_osd 300, TOO_MANY_PGS raised")
        epoch = capture(c, out / "seedlike_max300", PLAIN_FILES)
        epoch_json = capture(c, out / "seedlike_max300_json", JSON_FILES)
        step("capture")
        health = c.health_detail()
    return {"scenario": "seedlike", "epoch": epoch, "epoch_json": epoch_json, "steps": step.steps,
            "total_s": step.total, "health": health, "folders": ["seedlike_max300", "seedlike_max300_json"]}


MIXED_HOSTS = {
    "n1": [OsdSpec(1.0, "hdd"), OsdSpec(1.0, "hdd"), OsdSpec(0.5, "ssd")],
    "n2": [OsdSpec(2.0, "hdd"), OsdSpec(0.5, "ssd")],
    "n3": [OsdSpec(1.0, "hdd"), OsdSpec(1.5, "hdd"), OsdSpec(0.25, "ssd")],
    "n4": [OsdSpec(1.0, "hdd"), OsdSpec(0.5, "ssd")],
    "n5": [OsdSpec(0.75, "hdd"), OsdSpec(1.0, "hdd")],
    "n6": [OsdSpec(1.25, "hdd"), OsdSpec(0.5, "ssd")],
}
MIXED_RACKS = {"n1": "r1", "n2": "r1", "n3": "r2", "n4": "r2", "n5": "r3", "n6": "r3"}


def mixed(out: Path, workdir: Path, release: str = "pacific", folder: str = "mixed") -> dict:
    """Classes, unequal weights, racks, EC 2+1 and 4+2, one OSD out, one reweight, a few upmaps."""
    step = Steps()
    with MiniCluster(workdir, hosts=MIXED_HOSTS, racks=MIXED_RACKS, config={"mon_max_pg_per_osd": 1000},
                     release=release) as c:
        step("cluster_up (14 OSDs)")
        c.ceph("osd", "crush", "rule", "create-replicated", "rep_hdd", "default", "host", "hdd")
        c.ceph("osd", "crush", "rule", "create-replicated", "rep_ssd", "default", "host", "ssd")
        c.ceph("osd", "crush", "rule", "create-replicated", "rep_rack", "default", "rack")
        c.create_pools([
            {"name": "rbd", "pg_num": 64, "size": 3, "rule": "rep_hdd"},
            {"name": "fast", "pg_num": 32, "size": 3, "rule": "rep_ssd"},
            {"name": "byrack", "pg_num": 16, "size": 3, "rule": "rep_rack"},
            {"name": "meta", "pg_num": 8, "size": 2},
            {"name": "ec21", "pg_num": 32, "application": "rgw",
             "ec_profile": {"k": 2, "m": 1, "crush-failure-domain": "host", "crush-device-class": "hdd"}},
            {"name": "ec42", "pg_num": 16, "application": "rgw",
             "ec_profile": {"k": 4, "m": 2, "crush-failure-domain": "host"}},
        ])
        step("rules + 6 pools")
        c.wait_clean(timeout=600)
        step("clean")
        for name, n in (("rbd", 200), ("ec21", 100), ("fast", 50)):
            c.write_objects(name, n, size=16384)
        step("objects")
        c.ceph("osd", "set-require-min-compat-client", "luminous")
        osds = {o.id: o for o in c.osds}
        pgs = {p["pgid"]: p for p in c.ceph("pg", "dump", "pgs_brief", json=True)["pg_stats"]}
        rbd = next(p["pool_id"] for p in c.pools() if p["pool_name"] == "rbd")  # 1, or 2 after .mgr
        out_osd = next(o.id for o in c.osds if o.host == "n3" and o.spec.device_class == "hdd")
        upmaps = []
        # rbd (rep_hdd, host failure domain): move one copy of 3 PGs that avoid the OSD marked out below
        # to an hdd OSD on an unused host, a different target each time
        hdd = [o.id for o in c.osds if o.spec.device_class == "hdd" and o.id != out_osd]
        for pgid in [p for p in sorted(pgs, key=lambda p: int(p.split(".")[1], 16))
                     if p.startswith(f"{rbd}.") and out_osd not in pgs[p]["up"]][:3]:
            up = pgs[pgid]["up"]
            used = {osds[o].host for o in up}
            target = next(t for t in hdd if osds[t].host not in used and t not in [u[2] for u in upmaps])
            c.ceph("osd", "pg-upmap-items", pgid, up[-1], target)
            upmaps.append((pgid, up[-1], target))
        c.ceph("osd", "out", out_osd)
        rew = next(o.id for o in c.osds if o.host == "n2" and o.spec.device_class == "hdd")
        c.ceph("osd", "reweight", rew, "0.8")
        step("upmaps, out, reweight")
        c.wait_clean(timeout=600)
        step("clean again")
        res = c.collect(out / folder)
        if not res.consistent or res.failed:
            raise RuntimeError(f"{folder} capture not clean: failed={res.failed} epochs "
                               f"{res.epoch_before}->{res.epoch_after}")
        folders = [folder]
        if release != "pacific":
            epoch = capture(c, out / f"{folder}_plain", CHROOT_PLAIN_FILES)
            if epoch != res.epoch_before or _epoch(c) != epoch:
                raise RuntimeError(f"{folder}_plain is at osdmap epoch {epoch}, the bundle at {res.epoch_before}")
            folders.append(f"{folder}_plain")
        step("collect")
    return {"scenario": folder, "release": release, "epoch": res.epoch_before, "steps": step.steps,
            "total_s": step.total, "upmaps": upmaps, "out_osd": out_osd, "reweighted_osd": rew, "folders": folders}


def tentacle(out: Path, workdir: Path) -> dict:
    """The ``mixed`` scenario on Ceph 20.2.4 (Tentacle), plus its plain-text captures."""
    return mixed(out, workdir, release="tentacle", folder="mixed_tentacle")


def reef(out: Path, workdir: Path) -> dict:
    """The ``mixed`` scenario on Ceph 18.2.7 (Reef), plus its plain-text captures."""
    return mixed(out, workdir, release="reef", folder="mixed_reef")


SCENARIOS = {"seedlike": seedlike, "mixed": mixed, "reef": reef, "tentacle": tentacle}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=None, help="target folder (default: a new temp dir)")
    ap.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="seedlike")
    ap.add_argument("--workdir", type=Path, default=None, help="cluster working dir (default: temp)")
    args = ap.parse_args(argv)
    out = (args.out or Path(tempfile.mkdtemp(prefix="pgtools-samples-"))).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work_root = args.workdir or Path(tempfile.mkdtemp(prefix="pgtools-cluster-"))
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    for name in names:
        print(f"{name}:", file=sys.stderr)
        meta = SCENARIOS[name](out, Path(work_root) / name)
        (out / f"{name}_meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        print(f"{name}: {meta['total_s']:.1f} s -> {', '.join(str(out / f) for f in meta['folders'])}",
              file=sys.stderr)
    if args.workdir is None:
        shutil.rmtree(work_root, ignore_errors=True)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
