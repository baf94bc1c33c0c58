"""Running the CLI on one input: in-process (fast) or in a child process (for inputs that may hang)."""

from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass

from tests.paths import REPO

#: Address space of a child process: a runaway allocation fails instead of swapping the machine.
CHILD_MEMORY = 3 << 30


@dataclass
class Result:
    rc: int | None          #: None: killed at the time bound
    out: str
    err: str


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` of pgtools swallows it."""


def run_inprocess(argv: list[str], timeout: float) -> Result:
    """``pgtools.cli.main(argv)`` with stdout/stderr captured, interrupted after ``timeout`` seconds."""
    from pgtools.cli import main

    def alarm(signum, frame):  # noqa: ANN001
        raise _Timeout

    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            warnings.simplefilter("default")
            rc = main(argv)
    except _Timeout:
        rc = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return Result(rc, out.getvalue(), err.getvalue())


def _limit() -> None:
    os.setsid()
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def run_child(argv: list[str], timeout: float) -> Result:
    """``python -m pgtools argv`` in a child process (own session, memory-capped), killed after ``timeout``."""
    p = subprocess.Popen([sys.executable, "-m", "pgtools", *argv], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, preexec_fn=_limit,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        out, err = p.communicate(timeout=timeout)
        return Result(p.returncode, out, err)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return Result(None, out, err)
