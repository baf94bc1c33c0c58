#!/usr/bin/env python3
"""Build (or check) the chroots with Ceph's tools of each newer release the oracle suites compare with.

    python scripts/ceph_releases.py [--check] [--force] [RELEASE ...]      (default: reef tentacle)

One chroot per release, built with ``mmdebstrap`` from Debian (trixie: Reef 18.2.7, sid: Tentacle 20.2.4) and
cached outside the repository in ``/var/cache/pgtools-ceph/<release>`` (``PGTOOLS_CEPH_CACHE``); a chroot
whose stamp matches its installed ``ceph-base`` is kept, anything else is rebuilt.  Pacific (16.2.15) is the
host's own Ceph.  ``--check`` builds nothing and exits 1 when a chroot is missing.  Needs root.  The logic
lives in :mod:`tests.ceph_release_tools` (the tests use it to run the tools).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.ceph_release_tools import RELEASES, SUITES, available, build, ceph_version, root  # noqa: E402

NEWER = [r for r in RELEASES if RELEASES[r] is not None]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("releases", nargs="*", metavar="RELEASE", help=f"releases to build (default: {' '.join(NEWER)})")
    ap.add_argument("--check", action="store_true", help="build nothing; exit 1 when a chroot is missing")
    ap.add_argument("--force", action="store_true", help="rebuild even when the chroot is built")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.releases) - set(NEWER))
    if unknown:
        ap.error(f"unknown release(s) {', '.join(unknown)}; choose from {', '.join(NEWER)}")
    missing = 0
    for release in args.releases or NEWER:
        if args.check:
            ok = available(release, deep=True)
            missing += not ok
            print(f"{release}: {root(release)} " + (f"ceph-base {ceph_version(release)}" if ok else "MISSING")
                  + f" (Debian {SUITES[release][0]})")
            continue
        build(release, force=args.force)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
