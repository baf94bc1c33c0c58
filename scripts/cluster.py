#!/usr/bin/env python3
"""A throwaway Ceph cluster for humans: ``start``, ``status``, ``collect``, ``stop``.

    python scripts/cluster.py start [--workdir DIR] [--release pacific|reef|tentacle] [--hosts 4]
                                    [--osds-per-host 3] [--scenario seedlike]
    python scripts/cluster.py status  [--workdir DIR]
    python scripts/cluster.py collect [--workdir DIR] -o OUT
    python scripts/cluster.py stop    [--workdir DIR]

``start`` leaves the daemons running after it returns (their PIDs are in ``DIR/cluster.json``) and prints
the ``ceph.conf`` to use: ``ceph --conf DIR/ceph.conf -s``.  ``stop`` stops exactly those PIDs (and only if
they still run with that conf), never by process name.  Needs root and Debian's Ceph 16.2 packages (Pacific,
the default) or, for ``--release reef``/``tentacle``, that release's chroot (``make ceph-releases``); the
workdir must then lie outside the chroot.  ``status``/``collect``/``stop`` use the release recorded at start.
Binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "scripts"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tests.ceph_release_tools import LIVE_RELEASES  # noqa: E402
from tests.integration.cluster import ClusterError, MiniCluster, OsdSpec, ceph_installed  # noqa: E402

DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "pgtools-cluster"


def cmd_start(args: argparse.Namespace) -> int:
    if not ceph_installed(args.release):
        print("Ceph is not installed: apt-get install ceph-mon ceph-osd ceph-mgr ceph-common" if args.release ==
              "pacific" else f"no Ceph {args.release} daemons in its chroot: make ceph-releases (as root)",
              file=sys.stderr)
        return 2
    hosts = {f"node{h}": [OsdSpec(args.weight, args.device_class)] * args.osds_per_host
             for h in range(1, args.hosts + 1)}
    c = MiniCluster(args.workdir, hosts=hosts, osd_bytes=args.osd_gib << 30,
                    config={"mon_max_pg_per_osd": args.mon_max_pg_per_osd}, detach=True, release=args.release)
    c.start()
    print(f"{args.release} cluster up in {c.timing.steps['ready']:.1f} s: {len(c.osds)} OSDs on {args.hosts} hosts",
          file=sys.stderr)
    if args.scenario == "seedlike":
        from make_sample_dumps import SEEDLIKE_POOLS, _application

        c.create_pools([{"name": n, "pg_num": args.pg_num, "size": 3, "application": _application(n)}
                        for n in SEEDLIKE_POOLS])
        c.wait_clean(timeout=600)
        print(f"15 pools x {args.pg_num} PGs active+clean", file=sys.stderr)
    print(f"{c.ceph_executable} --conf {c.conf_path} -s")
    return 0


def _attach(workdir: Path) -> MiniCluster | None:
    try:
        return MiniCluster.attach(workdir)
    except (OSError, ValueError, KeyError):
        print(f"no cluster recorded in {workdir}", file=sys.stderr)
        return None


def cmd_status(args: argparse.Namespace) -> int:
    c = _attach(args.workdir)
    if c is None:
        return 1
    alive = c.alive_pids()
    dead = sorted(set(c.pids) - set(alive))
    print(json.dumps({"workdir": str(c.workdir), "conf": str(c.conf_path), "alive": alive, "dead": dead}, indent=1))
    if alive:
        try:
            print(c.ceph("-s"))
        except ClusterError as e:
            print(e, file=sys.stderr)
            return 1
    return 0 if alive and not dead else 1


def cmd_collect(args: argparse.Namespace) -> int:
    c = _attach(args.workdir)
    if c is None:
        return 1
    res = c.collect(args.out, tar=str(args.out).endswith(".tar.gz"))
    print(f"{res.path}: {len(res.records) - len(res.failed)}/{len(res.records)} commands succeeded, "
          f"epoch {res.epoch_before}->{res.epoch_after}", file=sys.stderr)
    return 0 if not res.failed else 1


def cmd_stop(args: argparse.Namespace) -> int:
    stopped = MiniCluster.stop_workdir(args.workdir)
    print(f"stopped {len(stopped)} daemons: {stopped}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("start", "status", "collect", "stop"):
        sp = sub.add_parser(name)
        sp.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
        if name == "start":
            sp.add_argument("--release", choices=["pacific", *LIVE_RELEASES], default="pacific",
                            help="Ceph release: pacific (the host's) or a chroot's (make ceph-releases)")
            sp.add_argument("--hosts", type=int, default=4)
            sp.add_argument("--osds-per-host", type=int, default=3)
            sp.add_argument("--weight", type=float, default=1.0)
            sp.add_argument("--device-class", default="hdd")
            sp.add_argument("--osd-gib", type=int, default=10)
            sp.add_argument("--mon-max-pg-per-osd", type=int, default=250)
            sp.add_argument("--scenario", choices=["none", "seedlike"], default="none",
                            help="seedlike: the 15 named pools (raise --mon-max-pg-per-osd to 1000 first)")
            sp.add_argument("--pg-num", type=int, default=128)
        if name == "collect":
            sp.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args(argv)
    try:
        return {"start": cmd_start, "status": cmd_status, "collect": cmd_collect, "stop": cmd_stop}[args.cmd](args)
    except ClusterError as e:
        print(f"cluster: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
