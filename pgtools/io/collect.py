"""Collect a capture from a live cluster with read-only ``ceph`` commands.

The list of commands lives here, in :data:`COMMANDS`, and nowhere else.  Every command in it is a read
(``dump``, ``ls``, ``df``, ``tree``, ``status``, ``get*map``); :func:`assert_read_only` checks that against
:data:`READ_ONLY_PREFIXES` and the test suite calls it.  pgtools never changes a cluster.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import tarfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import DumpFormatError, PgtoolsError
from .bundle import read_file

__all__ = ["Command", "COMMANDS", "READ_ONLY_PREFIXES", "CollectResult", "collect", "assert_read_only",
           "PG_CONFIG_OPTIONS", "CONNECT_CHECK", "ClusterUnreachableError"]


@dataclass(frozen=True)
class Command:
    """One ``ceph`` invocation: its arguments (without ``ceph`` and connection options) and output file.

    ``binary`` commands write their output with ``-o FILE`` instead of stdout.  ``kind`` is the
    :class:`~pgtools.io.Fragment` kind pgtools' parsers must recognise in the output ("" for a file
    pgtools does not parse: it must only be non-empty).
    """

    filename: str
    args: tuple[str, ...]
    binary: bool = False
    required: bool = False
    kind: str = ""


COMMANDS: tuple[Command, ...] = (
    Command("osd_dump.json", ("osd", "dump", "-f", "json"), required=True, kind="osd_dump"),
    Command("pg_dump.json", ("pg", "dump", "-f", "json"), required=True, kind="pg_dump_json"),
    Command("pg_dump.txt", ("pg", "dump"), kind="pg_dump"),
    Command("osd_df_tree.json", ("osd", "df", "tree", "-f", "json"), kind="osd_df"),
    Command("osd_df_tree.txt", ("osd", "df", "tree"), kind="osd_df"),
    Command("osd_tree.json", ("osd", "tree", "-f", "json"), kind="osd_tree"),
    Command("crush_dump.json", ("osd", "crush", "dump", "-f", "json"), required=True, kind="crush_dump"),
    Command("osd_pool_ls_detail.json", ("osd", "pool", "ls", "detail", "-f", "json"), kind="pool_ls_detail"),
    Command("df_detail.json", ("df", "detail", "-f", "json"), kind="df_detail"),
    Command("autoscale_status.json", ("osd", "pool", "autoscale-status", "-f", "json"), kind="autoscale_status"),
    Command("health_detail.json", ("health", "detail", "-f", "json"), kind="health"),
    Command("versions.json", ("versions", "-f", "json"), kind="versions"),
    Command("config_dump.json", ("config", "dump", "-f", "json")),
    Command("osdmap.bin", ("osd", "getmap"), binary=True),
    Command("crushmap.bin", ("osd", "getcrushmap"), binary=True, kind="crushmap_binary"),
)

#: The first command, run with ``--connect-timeout``: does the cluster answer at all?
CONNECT_CHECK = Command("", ("status", "-f", "json"))


class ClusterUnreachableError(PgtoolsError):
    """The connection check (``ceph --connect-timeout N status``) failed: nothing was collected."""


#: Command prefixes that only read.  Anything else in COMMANDS is a bug.
READ_ONLY_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("pg", "dump"), ("pg", "ls"), ("osd", "dump"), ("osd", "df"), ("osd", "tree"), ("osd", "crush", "dump"),
    ("osd", "pool", "ls"), ("df",), ("osd", "pool", "autoscale-status"), ("health",), ("status",),
    ("versions",), ("config", "dump"), ("osd", "getmap"), ("osd", "getcrushmap"), ("report",),
)

#: Options kept from ``config dump`` (the rest may hold secrets and is not written).
PG_CONFIG_OPTIONS = (
    "mon_max_pg_per_osd", "mon_target_pg_per_osd", "mon_pg_warn_min_per_osd", "mon_pg_warn_max_per_osd",
    "osd_max_pg_per_osd_hard_ratio", "osd_pool_default_size", "osd_pool_default_min_size",
    "osd_pool_default_pg_num", "osd_pool_default_pgp_num", "osd_pool_default_pg_autoscale_mode",
    "target_max_misplaced_ratio", "mon_osd_max_creating_pgs", "mgr_max_pg_num_change", "mon_max_pool_pg_num",
    "mon_osd_full_ratio", "mon_osd_backfillfull_ratio", "mon_osd_nearfull_ratio", "osd_crush_chooseleaf_type",
    "osd_pool_default_crush_rule",
)


def assert_read_only(commands: tuple[Command, ...] = COMMANDS) -> None:
    """Raise ValueError if any command is not a known read-only ceph command."""
    for c in commands:
        if not any(c.args[: len(p)] == p for p in READ_ONLY_PREFIXES):
            raise ValueError(f"not a read-only ceph command: ceph {' '.join(c.args)}")
        if any(a in ("set", "rm", "reweight", "out", "in", "create", "delete", "purge") for a in c.args):
            raise ValueError(f"command looks like a write: ceph {' '.join(c.args)}")


@dataclass
class CollectResult:
    """What :func:`collect` did: the folder (or archive) written and one record per command."""

    path: Path
    records: list[dict]
    epoch_before: int | None
    epoch_after: int | None

    @property
    def failed(self) -> list[dict]:
        """Commands that failed, or whose output pgtools cannot read (``record["invalid"]`` says why)."""
        return [r for r in self.records if r["status"] != 0 or r.get("invalid")]

    @property
    def consistent(self) -> bool:
        return self.epoch_before is not None and self.epoch_before == self.epoch_after


def _epoch(path: Path) -> int | None:
    try:
        return int(json.loads(path.read_text() or "{}").get("epoch"))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def _filter_config(text: str) -> str:
    try:
        rows = json.loads(text)
    except ValueError:
        return text
    if not isinstance(rows, list):
        return text
    keep = [r for r in rows if isinstance(r, dict)
            and (r.get("name") in PG_CONFIG_OPTIONS or str(r.get("name", "")).startswith(
                ("mgr/balancer/", "mgr/pg_autoscaler/")))]
    return json.dumps(keep, indent=1) + "\n"


def _connect_check(base: list[str], ceph: str, connect_timeout: float, tail: str = "; nothing collected") -> None:
    """Run ``ceph --connect-timeout N status``; raise :class:`ClusterUnreachableError` unless it answers."""
    n = max(1, math.ceil(connect_timeout))
    argv = [*base, "--connect-timeout", str(n), *CONNECT_CHECK.args]
    shown = " ".join(shlex.quote(a) for a in ["ceph", "--connect-timeout", str(n), *CONNECT_CHECK.args])
    hint = "check the monitors, --conf/--cluster and the keyring, or raise --connect-timeout"
    try:
        # the ceph CLI's own timeout first; ours (a few seconds later) in case it does not honour it
        proc = subprocess.run(argv, capture_output=True, timeout=n + 5, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ClusterUnreachableError(f"{ceph}: command not found (give the ceph executable with --ceph)") from None
    except subprocess.TimeoutExpired:
        raise ClusterUnreachableError(f"cannot reach the cluster: `{shown}` did not answer within {n + 5} s: "
                                      f"{hint}{tail}") from None
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ClusterUnreachableError(f"cannot reach the cluster: `{shown}` failed (exit {proc.returncode}"
                                      f"{': ' + why[-1][:300] if why else ''}): {hint}{tail}")


def _check_output(cmd: Command, path: Path) -> str:
    """Why the output of ``cmd`` in ``path`` is not usable ("" when it is): missing, empty, not what
    pgtools' parsers recognise as ``cmd.kind``, or malformed."""
    if not path.is_file() or path.stat().st_size == 0:
        return "no output"
    if cmd.filename == "config_dump.json":  # filtered to PG options: JSON list expected
        try:
            ok = isinstance(json.loads(path.read_text()), list)
        except ValueError:
            ok = False
        return "" if ok else "not the JSON list `config dump -f json` prints"
    if not cmd.kind:
        return ""
    if cmd.kind == "autoscale_status" and path.read_text().strip() == "[]":
        # a valid answer: the mgr reports no pool (Tentacle skips every pool under overlapping CRUSH roots);
        # nothing to parse, and pgtools.load skips the file (an empty list says nothing about its command)
        return ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frag = read_file(path, excerpts=False)
    except DumpFormatError as e:
        return f"malformed: {e}"
    except Exception as e:  # noqa: BLE001 - any parse failure makes the output unusable
        return f"unreadable: {e}"
    if frag is None:
        return f"not recognised as `ceph {' '.join(cmd.args)}` output"
    if frag.kind != cmd.kind:
        return f"read as {frag.kind.replace('_', ' ')}, not `ceph {' '.join(cmd.args)}` output"
    return ""


def _run(argv: list[str], ceph: str, timeout: float, env: dict) -> tuple[int, bytes, str]:
    """One ceph command: ``(status, stdout, stderr)``; 127 when ceph is missing, 124 when it timed out."""
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")
    except FileNotFoundError:
        return 127, b"", f"{ceph}: command not found"
    except subprocess.TimeoutExpired:
        return 124, b"", f"timed out after {timeout:g} s"


def collect(out: str | Path, *, ceph: str = "ceph", conf: str | None = None, cluster: str | None = None,
            timeout: float = 120.0, connect_timeout: float = 15.0, tar: bool = False, force: bool = False,
            progress: Callable[[int, int, Command, dict], None] | None = None,
            on_start: Callable[[int, int, Command], None] | None = None) -> CollectResult:
    """Run :data:`COMMANDS` against a live cluster and write a capture folder that :func:`pgtools.load` reads.

    Parameters
    ----------
    out : path
        Folder to create (or ``name.tar.gz`` with ``tar=True``: the folder is then archived and removed).
    ceph : str
        The ceph CLI executable.
    conf, cluster : str, optional
        Passed as ``--conf`` / ``--cluster``.
    timeout : float
        Seconds allowed per command (the command is killed and recorded as failed, status 124).  After a
        timeout the connection check runs again: when the cluster no longer answers, the remaining commands
        are not run (status 125, "not run: the cluster stopped answering ...").
    connect_timeout : float
        Seconds allowed for the first connection check, ``ceph --connect-timeout N status`` (whole seconds,
        rounded up; the process itself gets 5 s more).  When it fails nothing is collected.
    force : bool
        Write into ``out`` even when it is a folder that is not empty (or, with ``tar``, an existing
        archive): its files of the same names are overwritten.  Refused otherwise, before anything runs.
    progress : callable, optional
        Called after each command with ``(index, total, command, record)``.
    on_start : callable, optional
        Called before each command that is run with ``(index, total, command)``; index 0 is the connection
        check (:data:`CONNECT_CHECK`).

    Returns
    -------
    CollectResult
        A command that fails is recorded (status, stderr) and the rest are still collected.  Each output
        is read back with pgtools' parsers: one that is empty, unrecognised or malformed is recorded as
        ``record["invalid"]`` (and counts in ``result.failed``).  The osdmap
        epoch is read before and after; ``result.consistent`` is False when the cluster changed meanwhile.

    Raises
    ------
    PgtoolsError
        ``out`` exists and is not empty (without ``force``).
    ClusterUnreachableError
        The connection check failed or timed out (nothing is written).
    ValueError
        A timeout is not positive.
    """
    assert_read_only((*COMMANDS, CONNECT_CHECK))
    if not timeout > 0 or not connect_timeout > 0:
        raise ValueError("timeouts must be positive")
    out = Path(out)
    folder = out.with_suffix("").with_suffix("") if tar and out.name.endswith(".tar.gz") else out
    base = [ceph]
    if conf:
        base += ["--conf", conf]
    if cluster:
        base += ["--cluster", cluster]
    final = folder.parent / (folder.name + ".tar.gz") if tar else folder
    if not force:
        if folder.is_dir() and any(folder.iterdir()):
            raise PgtoolsError(f"{folder}: the folder exists and is not empty: collect would overwrite its files; "
                               "give a new or empty folder, or --force")
        if folder.exists() and not folder.is_dir():
            raise PgtoolsError(f"{folder}: exists and is not a folder")
        if tar and final.exists():
            raise PgtoolsError(f"{final}: exists: collect would overwrite it; give another name, or --force")
    if on_start is not None:
        on_start(0, len(COMMANDS), CONNECT_CHECK)
    _connect_check(base, ceph, connect_timeout)
    folder.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    env = dict(os.environ)
    lost: str | None = None  # why the cluster stopped answering, once it has
    for i, cmd in enumerate(COMMANDS):
        target = folder / cmd.filename
        argv = [*base, *cmd.args] + (["-o", str(target)] if cmd.binary else [])
        if on_start is not None and lost is None:
            on_start(i + 1, len(COMMANDS), cmd)
        t0 = time.monotonic()
        if lost is not None:
            status, stdout, stderr, seconds = 125, b"", f"not run: {lost}", 0.0
        else:
            status, stdout, stderr = _run(argv, ceph, timeout, env)
            seconds = time.monotonic() - t0
            if status == 124:  # slow command, or the cluster went away?  ask once, briefly
                try:
                    _connect_check(base, ceph, connect_timeout, tail="")
                except ClusterUnreachableError as e:
                    lost = f"the cluster stopped answering ({e})"
        rec = {"file": cmd.filename, "command": " ".join(shlex.quote(a) for a in ["ceph", *cmd.args]),
               "status": status, "seconds": round(seconds, 3), "stderr": stderr.strip()[-2000:]}
        if status == 0 and not cmd.binary:
            text = stdout.decode("utf-8", "replace")
            if cmd.filename == "config_dump.json":
                text = _filter_config(text)
            target.write_text(text)
        if status == 0:
            problem = _check_output(cmd, target)
            if problem:
                rec["invalid"] = problem
        records.append(rec)
        if progress is not None:
            progress(i + 1, len(COMMANDS), cmd, rec)
    before = _epoch(folder / "osd_dump.json")
    # read the epoch again: a capture is consistent only if the osdmap did not change meanwhile
    after = None
    if lost is None:  # (not asked again when the cluster is gone)
        try:
            proc = subprocess.run([*base, "osd", "dump", "-f", "json"], capture_output=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
            after = int(json.loads(proc.stdout or b"{}").get("epoch")) if proc.returncode == 0 else None
        except (FileNotFoundError, subprocess.TimeoutExpired, ValueError, TypeError):
            after = None
    meta = {"commands": [asdict(c) for c in COMMANDS], "records": records, "epoch_before": before,
            "epoch_after": after, "collected_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (folder / "collect_meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    path = folder
    if tar:
        path = final
        with tarfile.open(path, "w:gz") as tf:
            tf.add(folder, arcname=folder.name)
        for name in [c.filename for c in COMMANDS] + ["collect_meta.json"]:  # only what collect wrote
            (folder / name).unlink(missing_ok=True)
        if not any(folder.iterdir()):
            folder.rmdir()
    return CollectResult(path=path, records=records, epoch_before=before, epoch_after=after)
