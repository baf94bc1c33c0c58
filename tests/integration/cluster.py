"""A throwaway real Ceph cluster on this machine, for integration tests and sample captures.

One monitor, one manager and N memstore OSDs, all on 127.0.0.1 with authentication off, under one
working directory.  Every daemon is started in the foreground by this process, its PID recorded (also in
``WORKDIR/cluster.json``) and stopped by that PID, never by name.

>>> with MiniCluster(tmp, hosts={"h1": [OsdSpec()] * 3}) as c:     # doctest: +SKIP
...     c.create_pool("rbd", 32)
...     c.wait_clean()
...     c.collect(tmp / "capture")

Later tests drive the cluster with :meth:`MiniCluster.ceph` (``osd pool set``, ``osd crush reweight``,
``osd out``) and :meth:`MiniCluster.add_osd` (an OSD under a new host).

``release="reef"`` or ``"tentacle"`` runs the daemons, the ``ceph`` CLI, ``rados`` and the librados Python of that
release from its chroot (:mod:`tests.ceph_release_tools`, built by ``make ceph-releases``): every such process is
started as ``unshare --mount`` + ``chroot ROOT``, in a private mount namespace where the host's top directory
of the workdir (``/tmp`` for pytest's folders) is bind-mounted at the same path inside the chroot, and ``/proc``
is mounted.  Paths are therefore the same inside and outside; the mounts exist only in that process's own
namespace and vanish with it, so nothing stays mounted whatever happens to the test.  Reef's mgr also gets a
stand-in for ``bcrypt`` bound that way, and starts without the ``restful`` module (:data:`MGR_PYTHON_SHIMS`,
:data:`RELEASE_CONF`: Debian trixie's Python extensions refuse the mgr's sub-interpreters).
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import json as _json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ceph_release_tools import DAEMONS as _CHROOT_DAEMONS
from tests.ceph_release_tools import root as _release_root

__all__ = ["OsdSpec", "MiniCluster", "ClusterError", "CephCommandError", "ceph_installed", "DAEMONS",
           "MGR_MODULE_SETTINGS", "pid_alive", "stop_pids"]

#: executables a cluster needs
DAEMONS = ("ceph", "ceph-mon", "ceph-mgr", "ceph-osd", "monmaptool", "rados")
assert set(DAEMONS) == set(_CHROOT_DAEMONS)

#: run by ``sh`` in a private mount namespace (``unshare --mount``): $0 = chroot, $1 = host directory to
#: bind at the same path inside it, then ``SRC=DST`` pairs (host path bound over chroot path DST) up to ``--``;
#: then chroot and exec the rest (the daemon keeps this process's PID)
_CHROOT_SH = ('r=$0; t=$1; shift; mount -t proc proc "$r/proc" && mount --bind "$t" "$r$t" || exit 1; '
              'while [ "$1" != "--" ]; do mount --bind "${1%%=*}" "$r${1#*=}" || exit 1; shift; done; shift; '
              'exec chroot "$r" "$@"')

#: Debian trixie's Reef mgr loads no Python module at all: Reef runs every mgr module in a Python
#: sub-interpreter (``PyModule::load``: ``Py_NewInterpreter`` always; Tentacle has ``mgr_subinterpreter_modules``,
#: default none) and ``mgr_util.py`` imports ``bcrypt``, whose trixie build (python3-bcrypt 4.2, Rust/PyO3)
#: refuses sub-interpreters ("ImportError: PyO3 modules do not yet support subinterpreters", pyca/bcrypt#694).
#: Without modules there is no ``.mgr`` pool, balancer, pg_autoscaler, ...  So the mgr of these releases sees
#: this stand-in bound over the package directory, in its own mount namespace only (the chroot is not changed);
#: ``mgr_util`` needs bcrypt only to hash dashboard passwords.
MGR_PYTHON_SHIMS: dict[str, dict[str, str]] = {
    "reef": {"/usr/lib/python3/dist-packages/bcrypt": (
        '"""Stand-in for python3-bcrypt in the pgtools test cluster\'s Reef mgr (tests/integration/cluster.py)."""\n'
        "\n\ndef _unavailable(*args, **kwargs):\n"
        '    raise NotImplementedError("bcrypt is not available in this test cluster\'s ceph-mgr")\n'
        "\n\ngensalt = hashpw = checkpw = kdf = _unavailable\n")},
}

#: ``[global]`` lines per release.  Reef enables ``restful`` at the first start (``mgr_initial_modules`` default
#: "restful iostat nfs"; Tentacle dropped the module): it imports python3-cryptography (PyO3) in a second
#: sub-interpreter, which trixie's build refuses, and the cluster would report HEALTH_WARN MGR_MODULE_DEPENDENCY
#: (no real Reef cluster's state); it is left out as a cluster deployed without the REST API would be.
RELEASE_CONF: dict[str, dict[str, str]] = {"reef": {"mgr initial modules": "iostat nfs"}}

#: how each mgr module named in ``mgr_modules_off`` is switched off (always-on modules cannot be disabled)
MGR_MODULE_SETTINGS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "balancer": (("mgr", "mgr/balancer/active", "false"),),
    "devicehealth": (("mgr", "mgr/devicehealth/enable_monitoring", "false"),),
    "pg_autoscaler": (("global", "osd_pool_default_pg_autoscale_mode", "off"),),
}

_STATE_FILE = "cluster.json"
_SYSTEM_PYTHON = "/usr/bin/python3"
#: run by the system python3 (which has Ceph's ``rados`` binding): mon commands from stdin, results out
_BATCH_SCRIPT = """
import json, sys, rados
cmds = json.load(sys.stdin)
r = rados.Rados(conffile=sys.argv[1])
r.connect(timeout=60)
out = []
for c in cmds:
    if c.get("prefix", "").startswith(("pg dump", "pg ls", "pg stat", "osd df", "osd pool autoscale-status",
                                       "balancer")):
        ret, buf, err = r.mgr_command(json.dumps(c), b"", timeout=60)
    else:
        ret, buf, err = r.mon_command(json.dumps(c), b"", timeout=60)
    out.append((ret, buf.decode("utf-8", "replace"), err))
    if ret != 0:
        break
r.shutdown()
json.dump(out, sys.stdout)
"""

_WRITE_SCRIPT = """
import os, sys, rados
conf, pool, n, size, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = rados.Rados(conffile=conf)
r.connect(timeout=60)
io = r.open_ioctx(pool)
data = os.urandom(size)
for i in range(n):
    io.write_full("%s%05d" % (prefix, i), data)
io.close()
r.shutdown()
"""


def _batch_available(wrap: Callable[[list[str]], list[str]] = list) -> bool:
    try:
        return subprocess.run(wrap([_SYSTEM_PYTHON, "-c", "import rados"]), capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class ClusterError(RuntimeError):
    """The cluster did not start, did not reach a state in time, or could not be stopped."""


class CephCommandError(ClusterError):
    """A ``ceph`` CLI call failed; ``returncode`` and ``stderr`` hold what it said."""

    def __init__(self, argv: list[str], returncode: int, stderr: str):
        self.argv, self.returncode, self.stderr = argv, returncode, stderr
        super().__init__(f"{' '.join(argv)} -> exit {returncode}: {stderr.strip()[-1500:]}")


@dataclass(frozen=True)
class OsdSpec:
    """One OSD to create: CRUSH weight and device class (written to the data dir's ``crush_device_class``)."""

    weight: float = 1.0
    device_class: str = "hdd"


@dataclass
class _Osd:
    id: int
    host: str
    spec: OsdSpec
    uuid: str
    rack: str | None = None


def ceph_installed(release: str = "pacific") -> bool:
    """True if every executable in :data:`DAEMONS` is on PATH (Pacific) or in the release's chroot."""
    r = _release_root(release)
    if r is None:
        return all(shutil.which(d) for d in DAEMONS)
    return os.geteuid() == 0 and shutil.which("unshare") is not None and all(
        (r / "usr" / "bin" / d).exists() for d in DAEMONS)


def pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def stop_pids(pids: Iterable[int], *, must_contain: str | None = None, timeout: float = 20.0) -> list[int]:
    """SIGTERM each live PID (only if its command line contains ``must_contain``), SIGKILL after ``timeout``.

    Returns the PIDs that were signalled.  Raises ClusterError if one survives SIGKILL.
    """
    sent = []
    for pid in pids:
        if pid_alive(pid) and (must_contain is None or must_contain in _cmdline(pid)):
            try:
                os.kill(pid, signal.SIGTERM)
                sent.append(pid)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    while any(pid_alive(p) for p in sent) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in sent:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in sent) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [p for p in sent if pid_alive(p)]
    if left:
        raise ClusterError(f"daemons still running after SIGKILL: {left}")
    return sent


def _free_port_pair() -> int:
    """A port P such that P and P+1 are both free on 127.0.0.1 (msgr v2 on P, v1 on P+1)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s2:
                s2.bind(("127.0.0.1", port + 1))
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s1:
                s1.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise ClusterError("no free port pair on 127.0.0.1")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """preexec_fn: the daemon gets SIGKILL if the Python process that started it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    os.setsid()


_LIVE: set[MiniCluster] = set()
_LIVE_LOCK = threading.Lock()


def _stop_all_at_exit() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    for c in live:
        try:
            c.stop()
        except ClusterError:
            pass


atexit.register(_stop_all_at_exit)


def _config_triple(key: str, value: Any) -> tuple[str, str, Any]:
    """``"mon_max_pg_per_osd"`` -> global; ``"osd/osd_max_backfills"`` -> osd; ``"mgr/balancer/active"`` -> mgr."""
    if key.startswith("mgr/"):
        return "mgr", key, value
    who, sep, opt = key.partition("/")
    if sep and who.split(".")[0] in ("global", "mon", "mgr", "osd", "client"):
        return who, opt, value
    return "global", key, value


@dataclass
class _Timing:
    steps: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, t0: float) -> None:
        self.steps[name] = round(time.monotonic() - t0, 2)


class MiniCluster:
    """A 1-mon, 1-mgr, N-OSD memstore Ceph cluster under ``workdir``; a context manager.

    Parameters
    ----------
    workdir : path
        Everything (conf, mon store, OSD dirs, logs, ``cluster.json``) goes here.  A previous cluster's
        leftovers in it are stopped (by the PIDs in its ``cluster.json``) and wiped.
    hosts : mapping of host name to list of OsdSpec
        CRUSH layout; OSD ids are given in order (first host's OSDs first).
    racks : mapping of host name to rack name, optional
        Puts those hosts under ``rack=R`` in CRUSH (``root=default rack=R host=H``).
    osd_bytes : int
        Size each OSD reports (``memstore_device_bytes``).
    config : mapping, optional
        Options set in the mon config database before the mgr starts: ``{"mon_max_pg_per_osd": 300}`` is
        set for ``global``; keys ``"WHO/option"`` with WHO in mon/mgr/osd/client set for that section;
        keys starting with ``mgr/`` are mgr module options.
    conf : mapping, optional
        Extra ``[global]`` lines for ceph.conf (these override the config database; prefer ``config``).
    mgr_modules_off : iterable of str
        Modules switched off before the mgr starts (see :data:`MGR_MODULE_SETTINGS`).
    release : str
        ``"pacific"`` (default): the host's Ceph.  ``"reef"``, ``"tentacle"`` (any release of
        :data:`tests.ceph_release_tools.LIVE_RELEASES`): that release's chroot (see the module docstring);
        the workdir must then be outside the chroot, and a directory named like its top-level one
        (``/tmp``) must exist inside it or is created there (empty).
    detach : bool
        True: daemons outlive this Python process (for ``scripts/cluster.py start``); stop them later with
        :meth:`stop_workdir`.  False (default): they are stopped on ``__exit__``, at interpreter exit and
        (via ``PR_SET_PDEATHSIG``) if this process dies.
    """

    def __init__(self, workdir: str | Path, *, hosts: Mapping[str, list[OsdSpec]] | None = None,
                 racks: Mapping[str, str] | None = None, osd_bytes: int = 10 << 30,
                 config: Mapping[str, Any] | None = None, conf: Mapping[str, Any] | None = None,
                 mgr_modules_off: Iterable[str] = ("balancer", "devicehealth", "pg_autoscaler"),
                 detach: bool = False, ceph_timeout: float = 60.0, start_timeout: float = 120.0,
                 release: str = "pacific"):
        self.workdir = Path(workdir).resolve()
        self.release = release
        self.root = _release_root(release)
        if self.root is not None:
            top = Path(self.workdir.parts[0], self.workdir.parts[1])
            if self.workdir.is_relative_to(self.root.resolve()) or top == Path("/"):
                raise ValueError(f"{self.workdir}: a {release} cluster's workdir must be outside its chroot "
                                 f"{self.root}, below a top-level directory")
            self._top = str(top)
        if hosts is None:
            hosts = {"node1": [OsdSpec()] * 3}
        self.hosts = {h: list(specs) for h, specs in hosts.items()}
        self.racks = dict(racks or {})
        self.osd_bytes = int(osd_bytes)
        self.config = dict(config or {})
        self.conf_extra = dict(conf or {})
        self.mgr_modules_off = tuple(mgr_modules_off)
        unknown = set(self.mgr_modules_off) - set(MGR_MODULE_SETTINGS)
        if unknown:
            raise ValueError(f"unknown mgr modules {sorted(unknown)}; known: {sorted(MGR_MODULE_SETTINGS)}")
        self.detach = detach
        self.ceph_timeout = ceph_timeout
        self.start_timeout = start_timeout
        self.conf_path = self.workdir / "ceph.conf"
        self.fsid = str(uuid.uuid4())
        self.port = 0
        self.osds: list[_Osd] = []
        self.pids: dict[str, int] = {}
        self._procs: dict[str, subprocess.Popen] = {}
        self.timing = _Timing()
        self._batch: bool | None = None
        self._stopped: set[str] = set()
        self.running = False

    # ------------------------------------------------------------------------------------------ conf
    def _conf_text(self) -> str:
        w = self.workdir
        mon_host = f"[v2:127.0.0.1:{self.port},v1:127.0.0.1:{self.port + 1}]"
        glob = {
            "fsid": self.fsid,
            "mon host": mon_host,
            "public addr": "127.0.0.1",
            "cluster addr": "127.0.0.1",
            "ms bind ipv6": "false",
            "auth cluster required": "none",
            "auth service required": "none",
            "auth client required": "none",
            "run dir": f"{w}/run",
            "crash dir": f"{w}/crash",
            "log file": f"{w}/log/$name.log",
            "mon cluster log file": f"{w}/log/cluster.log",
            "osd objectstore": "memstore",
            "memstore device bytes": str(self.osd_bytes),
            "osd pool default size": "3",
            "osd heartbeat grace": "60",
            "mon warn on insecure global id reclaim allowed": "false",
            "mon data avail warn": "2",
            "mon data avail crit": "1",
            "mon allow pool delete": "true",
            "osd op num shards": "2",
            "osd op num threads per shard": "1",
            "ms async op threads": "2",
            "mgr stats period": "2",
        }
        glob.update(RELEASE_CONF.get(self.release, {}))
        glob.update({k: str(v) for k, v in self.conf_extra.items()})
        lines = ["[global]"] + [f"\t{k} = {v}" for k, v in glob.items()]
        lines += ["", "[client]", f"\tlog file = {w}/log/client.log", "\tkeyring = /dev/null"]
        lines += ["", "[mon]", f"\tmon data = {w}/mon/$name", f"\tadmin socket = {w}/run/$name.asok",
                  # commit map changes after 0.1 s instead of 1 s: each `osd new`, crush move, pool
                  # create is one proposal (placement does not depend on it)
                  "\tpaxos propose interval = 0.1"]
        lines += ["", "[mgr]", f"\tmgr data = {w}/mgr/$name", f"\tadmin socket = {w}/run/$name.asok"]
        lines += ["", "[osd]", f"\tosd data = {w}/osd/$id", f"\tadmin socket = {w}/run/$name.asok"]
        for o in self.osds:
            loc = "root=default" + (f" rack={o.rack}" if o.rack else "") + f" host={o.host}"
            lines += ["", f"[osd.{o.id}]", f"\tcrush location = {loc}",
                      f"\tosd crush initial weight = {o.spec.weight:g}"]
        return "\n".join(lines) + "\n"

    def _write_conf(self) -> None:
        self.conf_path.write_text(self._conf_text())

    def _save_state(self, running: bool = True) -> None:
        state = {"fsid": self.fsid, "port": self.port, "conf": str(self.conf_path), "release": self.release,
                 "pids": self.pids if running else {},
                 "osds": [{"id": o.id, "host": o.host, "rack": o.rack, "weight": o.spec.weight,
                           "device_class": o.spec.device_class, "uuid": o.uuid} for o in self.osds]}
        (self.workdir / _STATE_FILE).write_text(_json.dumps(state, indent=1) + "\n")

    # ------------------------------------------------------------------------------------------ CLI
    def wrap(self, argv: list[str], binds: Iterable[tuple[str, str]] = ()) -> list[str]:
        """``argv`` as run for this cluster's release: unchanged for the host, else inside its chroot (the
        process keeps the PID; see the module docstring).  ``binds``: (host path, chroot path) pairs bound
        in that process's mount namespace too."""
        if self.root is None:
            return list(argv)
        (self.root / self._top.lstrip("/")).mkdir(exist_ok=True)
        return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", _CHROOT_SH, str(self.root),
                self._top, *(f"{src}={dst}" for src, dst in binds), "--", *map(str, argv)]

    def _mgr_binds(self) -> list[tuple[str, str]]:
        """The :data:`MGR_PYTHON_SHIMS` of this release, written below the workdir, as ``wrap`` binds."""
        binds = []
        for i, (dst, text) in enumerate(sorted(MGR_PYTHON_SHIMS.get(self.release, {}).items())):
            shim = self.workdir / "mgr_shims" / str(i)
            shim.mkdir(parents=True, exist_ok=True)
            (shim / "__init__.py").write_text(text)
            binds.append((str(shim), dst))
        return binds

    @property
    def ceph_executable(self) -> str:
        """An executable that runs this release's ``ceph`` CLI (for ``pgtools collect --ceph``): ``ceph`` on
        the host, else a script ``WORKDIR/bin/ceph`` that runs it in the chroot.  Output paths (``-o``) must
        be below the workdir's top-level directory (``/tmp``)."""
        if self.root is None:
            return "ceph"
        script = self.workdir / "bin" / "ceph"
        if not script.exists():
            script.parent.mkdir(parents=True, exist_ok=True)
            script.write_text("#!/bin/sh\nexec " + " ".join(shlex.quote(a) for a in self.wrap(["ceph"]))
                              + ' "$@"\n')
            script.chmod(0o755)
        return str(script)

    def ceph_argv(self, *args: str) -> list[str]:
        """The argv of ``ceph`` against this cluster."""
        return self.wrap(["ceph", "--conf", str(self.conf_path), "--connect-timeout", str(int(self.ceph_timeout)),
                          *map(str, args)])

    def ceph_run(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
        """Run ``ceph ARGS`` and return the completed process (text), whatever its exit status."""
        argv = self.ceph_argv(*args)
        try:
            return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=timeout or self.ceph_timeout + 30)
        except subprocess.TimeoutExpired as e:
            raise CephCommandError(argv, 124, f"timed out after {e.timeout} s") from None

    def ceph(self, *args: Any, json: bool = False, timeout: float | None = None) -> Any:
        """Run ``ceph ARGS`` against this cluster; stdout as text, or decoded with ``json=True``.

        Raises
        ------
        CephCommandError
            On a non-zero exit status (``.stderr`` holds e.g. ``Error ERANGE: ...``).
        """
        args = tuple(map(str, args)) + (("-f", "json") if json else ())
        proc = self.ceph_run(*args, timeout=timeout)
        if proc.returncode != 0:
            raise CephCommandError(proc.args, proc.returncode, proc.stderr)
        if json:
            text = proc.stdout.strip()
            return _json.loads(text) if text else None
        return proc.stdout

    def mon_commands(self, commands: list[dict], timeout: float | None = None) -> list[str]:
        """Send several mon commands (JSON dicts, as ``ceph --format json`` would) over one connection.

        Uses the system ``python3`` with its ``rados`` binding (one process instead of one ``ceph`` CLI
        start, about 0.7 s, per command).  Returns each command's output; raises CephCommandError on the
        first failure.
        """
        argv = self.wrap([_SYSTEM_PYTHON, "-c", _BATCH_SCRIPT, str(self.conf_path)])
        try:
            proc = subprocess.run(argv, input=_json.dumps(commands), capture_output=True, text=True,
                                  timeout=timeout or self.ceph_timeout + 10 * len(commands))
        except subprocess.TimeoutExpired as e:
            raise CephCommandError(argv[:1], 124, f"timed out after {e.timeout} s") from None
        if proc.returncode != 0:
            raise CephCommandError([*argv[:1], "<mon batch>"], proc.returncode, proc.stderr)
        results = _json.loads(proc.stdout)
        for cmd, (ret, _out, err) in zip(commands, results, strict=False):
            if ret != 0:  # report it as the CLI would: exit status errno, "Error ENAME: message"
                raise CephCommandError(["ceph", _json.dumps(cmd)], abs(ret),
                                       f"Error {errno.errorcode.get(abs(ret), str(abs(ret)))}: {err}")
        return [out for _, out, _ in results]

    def query(self, *commands: tuple[str, ...]) -> list[Any]:
        """Several read commands (``("osd", "dump")``, ``("status",)``), decoded JSON, in one go if possible."""
        if self._batch is None:
            self._batch = _batch_available(self.wrap)
        if self._batch:
            outs = self.mon_commands([{"prefix": " ".join(c), "format": "json"} for c in commands])
            return [_json.loads(o) if o.strip() else None for o in outs]
        return [self.ceph(*c, json=True) for c in commands]

    def set_config(self, settings: Iterable[tuple[str, str, Any]]) -> None:
        """``ceph config set WHO OPTION VALUE`` for each triple (``--force`` for mgr module options,
        which the mon does not know before the mgr has reported them)."""
        cmds = [{"prefix": "config set", "who": who, "name": opt,
                 "value": str(v).lower() if isinstance(v, bool) else str(v), **({"force": True} if "/" in opt
                                                                                else {})}
                for who, opt, v in settings]
        if self._batch is None:
            self._batch = _batch_available(self.wrap)
        if self._batch:
            self.mon_commands(cmds)
            return
        for c in cmds:
            self.ceph("config", "set", c["who"], c["name"], c["value"], *(("--force",) if c.get("force") else ()))

    def rados(self, *args: Any, timeout: float | None = None) -> str:
        """Run ``rados ARGS`` against this cluster and return stdout."""
        argv = self.wrap(["rados", "--conf", str(self.conf_path), *map(str, args)])
        proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=timeout or self.ceph_timeout + 30)
        if proc.returncode != 0:
            raise CephCommandError(argv, proc.returncode, proc.stderr)
        return proc.stdout

    # ------------------------------------------------------------------------------------------ daemons
    def _spawn(self, name: str, argv: list[str], binds: Iterable[tuple[str, str]] = ()) -> None:
        log = open(self.workdir / "log" / f"{name}.stdout", "ab")  # noqa: SIM115 - owned by the child
        try:
            proc = subprocess.Popen(self.wrap(argv, binds), stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT,
                                    cwd=self.workdir,
                                    preexec_fn=None if self.detach else _die_with_parent,
                                    start_new_session=self.detach)
        finally:
            log.close()
        self._procs[name] = proc
        self.pids[name] = proc.pid
        self._save_state()

    def _run_tool(self, argv: list[str], timeout: float = 60.0) -> str:
        proc = subprocess.run(self.wrap(argv), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              timeout=timeout, cwd=self.workdir)
        if proc.returncode != 0:
            raise ClusterError(f"{' '.join(argv)} -> exit {proc.returncode}: {proc.stderr.strip()[-1500:]}")
        return proc.stdout

    def _check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self._procs.items() if p.poll() is not None}
        if dead:
            raise ClusterError(f"daemons exited: {dead}; see {self.workdir / 'log'}")

    def wait_for(self, what: str, cond: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
        """Poll ``cond()`` until it returns something truthy (returned); ClusterError after ``timeout`` s.

        A failing ``ceph`` call inside ``cond`` counts as not yet; a daemon that exited fails at once.
        """
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            self._check_alive()
            try:
                last = cond()
            except CephCommandError as e:
                last = e
            if last and not isinstance(last, Exception):
                return last
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out after {timeout:g} s waiting for {what}; last: {last!r}"[:3000])
            time.sleep(interval)

    # ------------------------------------------------------------------------------------------ lifecycle
    def __enter__(self) -> MiniCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> MiniCluster:
        """Create and start the cluster; return when all OSDs are up/in and the mgr is available."""
        t0 = time.monotonic()
        self.stop()  # this object's earlier daemons, if start() is called again
        self.osds, self.pids, self._stopped = [], {}, set()
        self.stop_workdir(self.workdir)
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        for d in ("run", "log", "mon", "mgr", "osd", "crash"):
            (self.workdir / d).mkdir(parents=True, exist_ok=True)
        self.port = _free_port_pair()
        self._write_conf()
        if not self.detach:
            with _LIVE_LOCK:
                _LIVE.add(self)
        self.running = True
        try:
            self._start_mon()
            self.timing.mark("mon", t0)
            settings = [s for m in self.mgr_modules_off for s in MGR_MODULE_SETTINGS[m]]
            settings += [_config_triple(k, v) for k, v in self.config.items()]
            self.set_config(settings)
            self.timing.mark("config", t0)
            self._spawn("mgr.x", ["ceph-mgr", "-f", "-i", "x", "-c", str(self.conf_path)], self._mgr_binds())
            specs = [(h, s) for h, ss in self.hosts.items() for s in ss]
            self._add_osds(specs)
            self.timing.mark("osds_started", t0)
            self.wait_osds_up()
            self.timing.mark("osds_up", t0)
            self.wait_for("mgr available", lambda: self.ceph("mgr", "dump", json=True)["available"],
                          self.start_timeout)
            self.wait_for("mgr PG stats", lambda: self.ceph("pg", "stat", json=True) is not None,
                          self.start_timeout)
            default_size = int(self.conf_extra.get("osd pool default size", 3))
            if self.root is not None and len(self.osds) >= default_size:
                # since Quincy the mgr creates its pool ``.mgr`` (1 PG) by itself once as many OSDs are up and
                # in as ``osd_pool_default_size`` (MgrModule.have_enough_osds, from devicehealth's serve loop,
                # even with monitoring off): wait for it, so that it is pool 1 as on a real cluster and the
                # pools a test creates get the ids after it.  (With fewer OSDs it appears when enough are added.)
                self.wait_for("the mgr's .mgr pool", lambda: any(
                    p["pool_name"] == ".mgr" for p in self.ceph("osd", "pool", "ls", "detail", json=True)),
                    self.start_timeout)
            self.timing.mark("ready", t0)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_mon(self) -> None:
        monmap = self.workdir / "monmap"
        self._run_tool(["monmaptool", "--create", "--clobber", "--fsid", self.fsid, "--addv", "a",
                        f"[v2:127.0.0.1:{self.port},v1:127.0.0.1:{self.port + 1}]", str(monmap)])
        self._run_tool(["ceph-mon", "--mkfs", "-i", "a", "-c", str(self.conf_path), "--monmap", str(monmap)])
        self._spawn("mon.a", ["ceph-mon", "-f", "-i", "a", "-c", str(self.conf_path)])
        self.wait_for("mon quorum", lambda: self.ceph("mon", "stat", json=True, timeout=20).get("quorum"),
                      self.start_timeout)

    def _add_osds(self, specs: list[tuple[str, OsdSpec]]) -> list[int]:
        new: list[_Osd] = []
        uuids = [str(uuid.uuid4()) for _ in specs]
        if self._batch is None:
            self._batch = _batch_available(self.wrap)
        if self._batch:
            ids = [int(_json.loads(out)["osdid"]) for out in self.mon_commands(
                [{"prefix": "osd new", "uuid": u, "format": "json"} for u in uuids])]
        else:
            ids = [int(self.ceph("osd", "new", u).strip()) for u in uuids]
        for (host, spec), u, osd_id in zip(specs, uuids, ids, strict=True):
            o = _Osd(osd_id, host, spec, u, self.racks.get(host))
            new.append(o)
            self.osds.append(o)
            (self.workdir / "osd" / str(osd_id)).mkdir(parents=True, exist_ok=True)
        self._write_conf()
        # place each OSD in CRUSH now, in id order, as its own boot would (``osd crush update on start``):
        # bucket ids then do not depend on which OSD happens to boot first
        place = []
        for o in new:
            loc = ["root=default"] + ([f"rack={o.rack}"] if o.rack else []) + [f"host={o.host}"]
            place.append({"prefix": "osd crush set-device-class", "class": o.spec.device_class,
                          "ids": [f"osd.{o.id}"]})
            place.append({"prefix": "osd crush create-or-move", "id": o.id, "weight": o.spec.weight,
                          "args": loc})
        if self._batch:
            self.mon_commands(place)
        else:
            for c in place:
                if c["prefix"].endswith("set-device-class"):
                    self.ceph("osd", "crush", "set-device-class", c["class"], *c["ids"])
                else:
                    self.ceph("osd", "crush", "create-or-move", f"osd.{c['id']}", f"{c['weight']:g}",
                              *c["args"])
        mkfs = [subprocess.Popen(self.wrap(["ceph-osd", "-i", str(o.id), "--mkfs", "--osd-uuid", o.uuid,
                                            "-c", str(self.conf_path)]), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.workdir)
                for o in new]
        for o, p in zip(new, mkfs, strict=True):
            out, _ = p.communicate(timeout=120)
            if p.returncode != 0:
                raise ClusterError(f"ceph-osd --mkfs osd.{o.id} failed: {out.decode(errors='replace')[-1500:]}")
            (self.workdir / "osd" / str(o.id) / "crush_device_class").write_text(o.spec.device_class + "\n")
        for o in new:
            self._spawn(f"osd.{o.id}", ["ceph-osd", "-f", "-i", str(o.id), "-c", str(self.conf_path)])
        return [o.id for o in new]

    def add_osd(self, host: str, spec: OsdSpec = OsdSpec(), *, rack: str | None = None,
                wait: bool = True) -> int:
        """Create and start one more OSD under ``host`` (a new host bucket if it does not exist yet)."""
        if rack is not None:
            self.racks[host] = rack
        self.hosts.setdefault(host, []).append(spec)
        (osd_id,) = self._add_osds([(host, spec)])
        if wait:
            self.wait_osds_up([osd_id])
        return osd_id

    def wait_osds_up(self, ids: Iterable[int] | None = None, timeout: float | None = None) -> dict:
        """Wait until the OSDs ``ids`` (default: every OSD this cluster started) are up and in.

        Returns ``osd dump``.
        """
        want = {o.id for o in self.osds} if ids is None else {int(i) for i in ids}

        def ok() -> dict | None:
            d = self.ceph("osd", "dump", json=True)
            up = {o["osd"] for o in d["osds"] if o["up"] == 1 and o["in"] == 1}
            return d if want <= up else None

        return self.wait_for(f"{len(want)} OSDs up and in", ok, timeout or self.start_timeout)

    def stop(self) -> None:
        """Stop every daemon this object started, by PID; idempotent."""
        t0 = time.monotonic()
        procs = dict(self._procs)
        # OSDs first (they tell the mon they are going down; with the mon gone each waits 5 s), then mgr, mon
        order = sorted(procs, key=lambda n: (not n.startswith("osd."), n.startswith("mon.")))
        for group in ([n for n in order if n.startswith("osd.")], [n for n in order if not n.startswith("osd.")]):
            for name in group:
                if procs[name].poll() is None:
                    procs[name].send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 20
            for name in group:
                p = procs[name]
                try:
                    p.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        self.timing.steps["stopped"] = round(time.monotonic() - t0, 2)
        # daemons recorded but not our children (a detached start in another process)
        others = [pid for name, pid in self.pids.items() if name not in procs and name not in self._stopped]
        stop_pids(others, must_contain=str(self.conf_path))
        self._stopped.update(self.pids)
        self._procs.clear()
        self.running = False
        if self.workdir.exists() and self.pids:
            self._save_state(running=False)  # self.pids keeps the stopped PIDs for checks
        with _LIVE_LOCK:
            _LIVE.discard(self)

    @staticmethod
    def stop_workdir(workdir: str | Path) -> list[int]:
        """Stop the daemons recorded in ``WORKDIR/cluster.json`` (only processes using that conf)."""
        state_file = Path(workdir) / _STATE_FILE
        try:
            state = _json.loads(state_file.read_text())
        except (OSError, ValueError):
            return []
        sent = stop_pids(state.get("pids", {}).values(), must_contain=str(state.get("conf", "")) or None)
        state["pids"] = {}
        state_file.write_text(_json.dumps(state, indent=1) + "\n")
        return sent

    @classmethod
    def attach(cls, workdir: str | Path) -> MiniCluster:
        """A handle on a cluster started (detached) earlier in ``workdir``, e.g. by ``scripts/cluster.py``."""
        workdir = Path(workdir).resolve()
        state = _json.loads((workdir / _STATE_FILE).read_text())
        c = cls(workdir, hosts={}, detach=True, release=state.get("release", "pacific"))
        c.fsid, c.port, c.pids = state["fsid"], state["port"], dict(state["pids"])
        c.osds = [_Osd(o["id"], o["host"], OsdSpec(o["weight"], o["device_class"]), o["uuid"], o.get("rack"))
                  for o in state["osds"]]
        c.running = bool(c.pids) and all(pid_alive(p) for p in c.pids.values())
        return c

    def alive_pids(self) -> dict[str, int]:
        """Recorded daemons that are still running."""
        return {n: p for n, p in self.pids.items() if pid_alive(p)}

    # ------------------------------------------------------------------------------------------ pools, data
    def pool_commands(self, name: str, pg_num: int, size: int = 3, rule: str | None = None,
                      ec_profile: str | Mapping[str, Any] | None = None, application: str | None = "rbd",
                      pgp_num: int | None = None) -> list[dict]:
        """The mon commands :meth:`create_pool` sends (autoscale off), as JSON dicts."""
        cmds: list[dict] = []
        create: dict[str, Any] = {"prefix": "osd pool create", "pool": name, "pg_num": int(pg_num),
                                  "pgp_num": int(pgp_num or pg_num)}
        if ec_profile is not None:
            prof = ec_profile
            if not isinstance(ec_profile, str):
                prof = f"ec-{name}"
                cmds.append({"prefix": "osd erasure-code-profile set", "name": prof,
                             "profile": [f"{k}={v}" for k, v in ec_profile.items()]})
            create.update(pool_type="erasure", erasure_code_profile=prof)
        else:
            create["pool_type"] = "replicated"
        if rule:
            create["rule"] = rule
        create["autoscale_mode"] = "off"
        cmds.append(create)
        if ec_profile is None and size != 3:
            cmds.append({"prefix": "osd pool set", "pool": name, "var": "size", "val": str(size),
                         "yes_i_really_mean_it": True})
        if application:
            cmds.append({"prefix": "osd pool application enable", "pool": name, "app": application})
        return cmds

    def create_pool(self, name: str, pg_num: int, size: int = 3, rule: str | None = None,
                    ec_profile: str | Mapping[str, Any] | None = None, application: str | None = "rbd",
                    pgp_num: int | None = None) -> None:
        """Create a pool with autoscaling off (``--autoscale-mode=off``), then set its size and application.

        ``ec_profile``: a profile name, or a mapping (``{"k": 2, "m": 1, "crush-failure-domain": "host"}``)
        which is created as profile ``ec-NAME``.  ``size`` is ignored for EC pools (k+m).  ``rule``: a CRUSH
        rule name.  Raises CephCommandError when the monitor refuses (e.g. ``Error ERANGE: ...``).
        """
        self.create_pools([dict(name=name, pg_num=pg_num, size=size, rule=rule, ec_profile=ec_profile,
                                application=application, pgp_num=pgp_num)])

    def create_pools(self, pools: Iterable[Mapping[str, Any]]) -> None:
        """Create several pools (each a mapping of :meth:`create_pool` arguments) in one mon session."""
        cmds = [c for p in pools for c in self.pool_commands(**p)]
        if self._batch is None:
            self._batch = _batch_available(self.wrap)
        if self._batch:
            self.mon_commands(cmds)
            return
        for c in cmds:  # the same commands through the CLI
            pre = c["prefix"]
            if pre == "osd pool create":
                args = ["osd", "pool", "create", c["pool"], c["pg_num"], c["pgp_num"], c["pool_type"]]
                args += [c["erasure_code_profile"]] if "erasure_code_profile" in c else []
                args += [c["rule"]] if "rule" in c else []
                self.ceph(*args, "--autoscale-mode=off")
            elif pre == "osd erasure-code-profile set":
                self.ceph("osd", "erasure-code-profile", "set", c["name"], *c["profile"])
            elif pre == "osd pool set":
                self.ceph("osd", "pool", "set", c["pool"], c["var"], c["val"], "--yes-i-really-mean-it")
            else:
                self.ceph("osd", "pool", "application", "enable", c["pool"], c["app"])

    def set_pool(self, pool: str, var: str, value: Any) -> None:
        """``ceph osd pool set POOL VAR VALUE`` (e.g. ``pg_num 64``; the mgr then steps pg_num/pgp_num)."""
        self.ceph("osd", "pool", "set", pool, var, value)

    def crush_reweight(self, osd: int, weight: float) -> None:
        """``ceph osd crush reweight osd.N W``."""
        self.ceph("osd", "crush", "reweight", f"osd.{int(osd)}", weight)

    def reweight(self, osd: int, weight: float) -> None:
        """``ceph osd reweight N W`` (the override weight, 0..1)."""
        self.ceph("osd", "reweight", int(osd), weight)

    def out(self, *osds: int) -> None:
        """``ceph osd out N...``."""
        self.ceph("osd", "out", *map(int, osds))

    def stop_osds(self, *osds: int, timeout: float = 30.0) -> None:
        """Stop the daemons of ``osds`` (SIGTERM, SIGKILL after ``timeout``), as a host failure would;
        the monitor then marks them down.  They stay stopped (``stop`` skips them)."""
        for o in map(int, osds):
            p = self._procs.get(f"osd.{o}")
            if p is None:
                raise ClusterError(f"osd.{o} was not started by this cluster object")
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for o in map(int, osds):
            p = self._procs.pop(f"osd.{o}")
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
            self._stopped.add(f"osd.{o}")

    def pools(self) -> list[dict]:
        """``osd pool ls detail -f json``."""
        return self.ceph("osd", "pool", "ls", "detail", json=True)

    def pg_states(self) -> tuple[dict, dict[str, dict], dict[str, dict] | None]:
        """``(osd dump, {pgid: pgs_brief row} from the mgr, {pgid: pg map} from the mon or None)``.

        The mon's ``pg map`` (up/acting from the current osdmap) is read in the same session when the
        system ``rados`` binding is available; otherwise it is None.
        """
        (d,) = self.query(("osd", "dump"))
        pgids = [f"{p['pool']}.{ps:x}" for p in d["pools"] for ps in range(p["pg_num"])]
        if self._batch:
            outs = self.mon_commands([{"prefix": "pg dump", "dumpcontents": ["pgs_brief"], "format": "json"}]
                                     + [{"prefix": "pg map", "pgid": g, "format": "json"} for g in pgids])
            brief = _json.loads(outs[0])
            mon = {m["pgid"]: m for m in map(_json.loads, outs[1:])}
        else:
            brief, mon = self.ceph("pg", "dump", "pgs_brief", json=True), None
        stats = brief["pg_stats"] if isinstance(brief, dict) else brief
        return d, {p["pgid"]: p for p in stats}, mon

    def wait_clean(self, timeout: float = 120.0, settle: float = 1.0) -> dict:
        """Wait until the PG stats show the current osdmap's placement, all active+clean.

        Conditions: every pool's pg_num/pgp_num reached its target; the mgr's ``pg dump`` lists exactly the
        pools' PGs, all ``active+clean``; each PG's up and acting there equal the mon's ``pg map`` (the PG
        stats lag the osdmap: right after ``osd out`` they still show the old, clean mapping).  They
        must hold for ``settle`` seconds.  Returns ``{pgid: pgs_brief row}``.
        """
        since: list[float] = []

        def ok() -> dict | None:
            d, stats, mon = self.pg_states()
            good = all(p["pg_num"] == p.get("pg_num_target", p["pg_num"])
                       and p["pg_placement_num"] == p.get("pg_placement_num_target", p["pg_placement_num"])
                       for p in d["pools"])
            want = {f"{p['pool']}.{ps:x}" for p in d["pools"] for ps in range(p["pg_num"])}
            good = good and set(stats) == want and all(s["state"] == "active+clean" for s in stats.values())
            if good and mon is not None:
                good = all(stats[g]["up"] == mon[g]["up"] and stats[g]["acting"] == mon[g]["acting"]
                           for g in want)
            if not good:
                since.clear()
                return None
            if not since:
                since.append(time.monotonic())
            return stats if time.monotonic() - since[0] >= settle else None

        return self.wait_for("all PGs active+clean", ok, timeout, interval=1.0)

    def write_objects(self, pool: str, n: int, size: int = 4096, prefix: str = "obj_") -> None:
        """Write ``n`` objects ``PREFIX00000``... of ``size`` random bytes to ``pool``.

        Uses librados from the system ``python3`` (one process) when available, else one ``rados put``
        per object.
        """
        if self._batch is None:
            self._batch = _batch_available(self.wrap)
        if self._batch:
            argv = self.wrap([_SYSTEM_PYTHON, "-c", _WRITE_SCRIPT, str(self.conf_path), pool, str(n), str(size),
                              prefix])
            proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=self.ceph_timeout + n)
            if proc.returncode != 0:
                raise CephCommandError(argv[:2] + ["<write objects>", pool], proc.returncode, proc.stderr)
            return
        src = self.workdir / f"payload_{size}"
        src.write_bytes(os.urandom(size))
        for i in range(n):
            self.rados("-p", pool, "put", f"{prefix}{i:05d}", str(src))

    def health_detail(self) -> dict:
        """``ceph health detail -f json``."""
        return self.ceph("health", "detail", json=True)

    def quick_capture(self, folder: str | Path) -> Path:
        """Write ``osd_dump.json``, ``crush_dump.json`` and ``pg_dump.json`` (enough for
        :func:`pgtools.load` and placement checks) in one session; retried until the osdmap epoch is the
        same before and after."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            osd, crush, pg, osd2 = self.query(("osd", "dump"), ("osd", "crush", "dump"), ("pg", "dump"),
                                              ("osd", "dump"))
            if osd["epoch"] == osd2["epoch"]:
                for name, doc in (("osd_dump.json", osd), ("crush_dump.json", crush), ("pg_dump.json", pg)):
                    (folder / name).write_text(_json.dumps(doc) + "\n")
                return folder
        raise ClusterError("the osdmap kept changing during quick_capture")

    def collect(self, out: str | Path, **kw: Any) -> Any:
        """Capture this cluster with :func:`pgtools.io.collect.collect`; returns its CollectResult."""
        from pgtools.io.collect import collect

        return collect(out, ceph=self.ceph_executable, conf=str(self.conf_path), **kw)
