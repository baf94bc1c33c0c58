"""Ceph's own tools of each release the oracle suites compare with: Pacific on the host, Reef and Tentacle in chroots.

Debian ships the three releases: bookworm 16.2.15 (Pacific, installed on the host, ``apt-get install ceph-base``),
trixie 18.2.7 (Reef) and sid 20.2.4 (Tentacle).  The newer two run from a chroot per release, built with
``mmdebstrap`` (``make ceph-releases`` / ``scripts/ceph_releases.py``) and cached outside the repository under
``/var/cache/pgtools-ceph/<release>`` (``PGTOOLS_CEPH_CACHE`` moves it).  A chroot counts as built when its stamp
file holds the installed ``ceph-base`` version and the executables of its packages are there (Reef's and
Tentacle's chroots also have ``ceph-mon``/``ceph-osd``/``ceph-mgr`` for the live-cluster tests,
:data:`LIVE_RELEASES`); a chroot built before its package list grew gets the missing packages installed at its
own Ceph version; anything else is rebuilt.

:func:`run` runs ``crushtool``/``osdmaptool`` of a release on input files: they are copied into a fresh
directory inside the chroot (under ``/tmp``), the tool runs there (``chroot ROOT sh -c 'cd DIR && exec TOOL
ARGS'``), and stdout, stderr, the return code and the files the tool wrote come back.  Paths in ``args`` are
the input file *names*.  Pacific runs the host's tools the same way (in a temporary directory).

With ``CI=true`` a release that is not available fails the oracle test (``tests/conftest.py`` turns the skip of
:func:`need` into a failure), like a missing host ``crushtool`` always has.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["CACHE", "DAEMONS", "LIVE_RELEASES", "RELEASES", "SUITES", "ToolRun", "available", "build", "ceph_version",
           "live_available", "need", "packages", "root", "run"]

#: where the chroots live (outside the repository: they are ~0.5 GB each)
CACHE = Path(os.environ.get("PGTOOLS_CEPH_CACHE", "/var/cache/pgtools-ceph"))
#: release -> (Debian suite, the Ceph version the oracle expectations were recorded with); Pacific is the host
SUITES = {"pacific": ("bookworm", "16.2.15"), "reef": ("trixie", "18.2.7"), "tentacle": ("sid", "20.2.4")}
#: release -> chroot (None: the host's own tools)
RELEASES: dict[str, Path | None] = {"pacific": None, "reef": CACHE / "reef", "tentacle": CACHE / "tentacle"}
#: packages of every chroot: crushtool and osdmaptool are in ceph-base, ceph in ceph-common
PACKAGES = ("ceph-base", "ceph-common")
TOOLS = ("crushtool", "osdmaptool")
#: releases whose chroot also runs a live cluster (tests/integration), and the daemon packages that adds
LIVE_RELEASES = ("reef", "tentacle")
LIVE_PACKAGES = ("ceph-mon", "ceph-osd", "ceph-mgr")
#: executables (in /usr/bin) a live cluster needs beside TOOLS; ceph and rados come from ceph-common
DAEMONS = ("ceph-mon", "ceph-osd", "ceph-mgr", "ceph", "rados", "monmaptool")
STAMP = ".pgtools-ceph-version"


def root(release: str) -> Path | None:
    """The chroot of ``release`` (``None`` for Pacific, the host)."""
    if release not in RELEASES:
        raise KeyError(f"unknown Ceph release {release!r}; known: {', '.join(RELEASES)}")
    return RELEASES[release]


def packages(release: str) -> tuple[str, ...]:
    """The Debian packages the chroot of ``release`` is built with (the daemons too for :data:`LIVE_RELEASES`)."""
    root(release)
    return PACKAGES + (LIVE_PACKAGES if release in LIVE_RELEASES else ())


def _has(chroot_dir: Path, release: str) -> bool:
    """The chroot has every executable its package list provides (TOOLS, and DAEMONS for a live release)."""
    names = TOOLS + (DAEMONS if release in LIVE_RELEASES else ())
    return all((chroot_dir / "usr" / "bin" / t).exists() for t in names)


def _dpkg_version(chroot_dir: Path | None) -> str | None:
    argv = ["dpkg-query", "-W", "-f", "${Version}", "ceph-base"]
    if chroot_dir is not None:
        argv = ["chroot", str(chroot_dir), *argv]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else None


def ceph_version(release: str) -> str | None:
    """Debian version of ``ceph-base`` of ``release`` (e.g. ``18.2.7+ds-1``), or None when not available.

    For a chroot this is the stamp written when it was built (checked against dpkg by :func:`available`).
    """
    r = root(release)
    if r is None:
        return _dpkg_version(None) if shutil.which("crushtool") else None
    try:
        return (r / STAMP).read_text().strip() or None
    except OSError:
        return None


def available(release: str, *, deep: bool = False) -> bool:
    """Whether the tools of ``release`` can run: the host's for Pacific, else a built chroot.

    A chroot is built when its stamp exists and the tools are there; ``deep=True`` also asks dpkg inside it
    and requires the stamp to match (what the builder checks before it trusts a cached chroot).
    """
    r = root(release)
    if r is None:
        return all(shutil.which(t) for t in TOOLS)
    stamp = ceph_version(release)
    if stamp is None or os.geteuid() != 0:  # chroot(2) needs root
        return False
    if not all((r / "usr" / "bin" / t).exists() for t in TOOLS):
        return False
    return not deep or _dpkg_version(r) == stamp


def live_available(release: str) -> bool:
    """Whether a live cluster of ``release`` can run: the host's daemons for Pacific, else a chroot built with
    the daemon packages (:func:`packages`)."""
    r = root(release)
    if r is None:
        return all(shutil.which(t) for t in DAEMONS)
    return release in LIVE_RELEASES and available(release) and _has(r, release)


def need(release: str) -> None:
    """Skip the calling test when ``release`` is not available (a failure with ``CI=true``, see conftest)."""
    if available(release):
        return
    if root(release) is None:
        pytest.skip("crushtool/osdmaptool not installed (apt-get install ceph-base)")
    pytest.skip(f"no Ceph {release} chroot at {root(release)} (make ceph-releases)")


@dataclass
class ToolRun:
    """One run of a Ceph tool: what it printed, its return code and the files it left in its directory."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    files: dict[str, bytes] = field(default_factory=dict)
    seconds: float = 0.0


def _spawn(argv: list[str], cwd: str | None, timeout: float) -> subprocess.CompletedProcess:
    # retried on EFAULT like tests.oracle._maps.run_tool (vfork-based spawn from worker threads, 2 cores)
    for attempt in range(3):
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=timeout)
        except OSError as e:
            if e.errno != errno.EFAULT or attempt == 2:
                raise
    raise AssertionError("unreachable")


def run(release: str, tool: str, args: list[str], files: dict[str, Path | str | bytes] | None = None, *,
        timeout: float = 60) -> ToolRun:
    """Run ``tool ARGS`` of ``release`` in a fresh directory holding ``files`` (name -> path, text or bytes).

    Returns the tool's output and every regular file in the directory afterwards (inputs included, so an
    ``-o`` output is ``files[name]``).  The directory is removed.
    """
    if tool not in TOOLS:
        raise ValueError(f"tool must be one of {TOOLS}, not {tool!r}")
    r = root(release)
    base = None if r is None else r / "tmp"
    work = Path(tempfile.mkdtemp(prefix="pgtools-oracle-", dir=base))
    try:
        for name, content in (files or {}).items():
            if "/" in name or name in ("", ".", ".."):
                raise ValueError(f"input file names are plain names, not {name!r}")
            if isinstance(content, Path):
                shutil.copyfile(content, work / name)
            elif isinstance(content, bytes):
                (work / name).write_bytes(content)
            else:
                (work / name).write_text(content)
        if r is None:
            argv = [shutil.which(tool) or tool, *args]
            cwd = str(work)
        else:
            inside = "/" + str(work.relative_to(r))
            argv = ["chroot", str(r), "/bin/sh", "-c", 'cd "$0" && exec "$@"', inside, tool, *args]
            cwd = None
        t0 = time.perf_counter()
        p = _spawn(argv, cwd, timeout)
        out = {f.name: f.read_bytes() for f in work.iterdir() if f.is_file()}
        return ToolRun(argv, p.returncode, p.stdout, p.stderr, out, time.perf_counter() - t0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _remove(path: Path) -> None:
    """``rm -rf path``, refused while anything is mounted below it (an interrupted mmdebstrap can leave its
    /proc and /dev mounts in the chroot; removing through them would reach the host's)."""
    if not path.exists():
        return
    real = str(path.resolve())
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split()[4] for line in f]
    busy = [m for m in mounts if m == real or m.startswith(real + "/")]
    if busy:
        raise RuntimeError(f"{path} has mounts below it ({', '.join(busy)}); unmount them first")
    shutil.rmtree(path)


def _add_packages(release: str, r: Path, version: str, log) -> bool:
    """Install the packages a built chroot lacks (a chroot built before the list grew), at its own Ceph version.

    What mmdebstrap would have installed from scratch: the same packages without Recommends, pinned to the
    stamped ``ceph-base`` version, and the apt lists removed afterwards.  False (the caller rebuilds) when the
    archive no longer has that version or anything else fails.
    """
    want = [f"{p}={version}" for p in packages(release)]
    log(f"{release}: {r} lacks packages of {', '.join(packages(release))}; installing them at {version}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    t0 = time.perf_counter()
    steps = (["apt-get", "-qq", "-o", "Acquire::Check-Valid-Until=false", "update"],
             ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *want],
             ["apt-get", "clean"])
    try:
        for argv in steps:
            p = subprocess.run(["chroot", str(r), *argv], capture_output=True, text=True, env=env, timeout=900)
            if p.returncode != 0:
                log(f"{release}: {' '.join(argv[:3])} failed ({p.stderr.strip()[-500:]}); rebuilding")
                return False
    finally:
        lists = r / "var" / "lib" / "apt" / "lists"
        for f in lists.glob("*") if lists.is_dir() else ():
            if f.is_file() and f.name != "lock":
                f.unlink()
    ok = _dpkg_version(r) == version and _has(r, release)
    log(f"{release}: packages added in {time.perf_counter() - t0:.0f} s" if ok else
        f"{release}: adding packages left the chroot incomplete; rebuilding")
    return ok


def build(release: str, *, force: bool = False, log=print) -> str:
    """Build (or keep) the chroot of ``release`` with mmdebstrap; returns the installed ``ceph-base`` version.

    Idempotent: a chroot whose stamp matches dpkg inside it is kept unless ``force``.  A new chroot is built
    beside the old one (``ROOT.new``) and moved into place only when complete, so an interrupted build
    leaves nothing that looks built.  Needs root and ``mmdebstrap`` (installed with apt-get when missing).
    """
    r = root(release)
    if r is None:
        raise ValueError("pacific is the host's Ceph (apt-get install ceph-base ceph-common)")
    if not force and available(release, deep=True):
        version = ceph_version(release)
        if _has(r, release):
            log(f"{release}: {r} is built (ceph-base {version})")
            return version
        if _add_packages(release, r, version, log):
            return version
    if os.geteuid() != 0:
        raise PermissionError("building a chroot needs root (mmdebstrap and chroot)")
    if shutil.which("mmdebstrap") is None:
        log("installing mmdebstrap")
        subprocess.run(["apt-get", "install", "-y", "-qq", "mmdebstrap"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    suite, expected = SUITES[release]
    new = r.with_name(r.name + ".new")
    _remove(new)
    r.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    log(f"{release}: mmdebstrap {suite} -> {r} ...")
    subprocess.run(["mmdebstrap", "--variant=apt", "--include=" + ",".join(packages(release)),
                    "--aptopt=Acquire::Check-Valid-Until \"false\"", suite, str(new)], check=True)
    version = _dpkg_version(new)
    if version is None or not _has(new, release):
        raise RuntimeError(f"{release}: the chroot {new} lacks ceph-base or an executable of "
                           f"{', '.join(packages(release))}")
    (new / STAMP).write_text(version + "\n")
    old = r.with_name(r.name + ".old")
    if r.exists():
        _remove(old)
        r.rename(old)
    new.rename(r)
    _remove(old)
    log(f"{release}: ceph-base {version} in {time.perf_counter() - t0:.0f} s")
    if not version.startswith(expected + "+") and not version.startswith(expected + "-"):
        log(f"{release}: WARNING: Debian {suite} now has Ceph {version}, the oracle expectations were recorded "
            f"with {expected}")
    return version
