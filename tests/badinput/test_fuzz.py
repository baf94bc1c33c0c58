"""Hypothesis fuzzing of every parser and of the CLI entry on mutated real dumps (issue #11).

Each example is a real dump after a few mutations (:func:`tests.io._mutate.mutated_bytes`: lines deleted,
duplicated or swapped, a cut at a random byte, flipped bytes, a number made odd, two columns swapped, a junk
line; and for JSON documents, nodes replaced by junk or deleted).  The outcome must be a Fragment (or None:
not recognised) or a :class:`~pgtools.errors.PgtoolsError`; on the command line, exit 0 or one
``pgtools: error:`` line and exit 2 -- never another exception, never a hang.

Budget: ``PGTOOLS_FUZZ_EXAMPLES`` examples per target (default :data:`DEFAULT_EXAMPLES`, about 1.5 minutes for
the module on a 2-core machine), derandomized (the same examples every run) unless ``PGTOOLS_FUZZ_RANDOM=1``.
The number of cases run is printed at the end of the session (``fuzz: N cases over M targets``).
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import io
import json
import os
import signal
import tempfile
import warnings
from datetime import timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgtools.errors import PgtoolsError
from pgtools.io import Fragment, read_file
from tests.badinput._count import COUNTS
from tests.io._mutate import mutated_bytes, mutations
from tests.paths import CRUSH_CASES, PUBLIC, REAL, SAMPLE_DUMPS, TEST_DATA

DEFAULT_EXAMPLES = 25
EXAMPLES = int(os.environ.get("PGTOOLS_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
#: An example slower than this fails (hypothesis deadline) ...
DEADLINE = timedelta(seconds=float(os.environ.get("PGTOOLS_FUZZ_DEADLINE", 2)))
#: ... and one that runs this long is stopped (a hang).
HANG_SECONDS = 20

FUZZ = settings(max_examples=EXAMPLES, deadline=DEADLINE, derandomize=os.environ.get("PGTOOLS_FUZZ_RANDOM") != "1",
                database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                print_blob=True)

C01 = CRUSH_CASES / "01_flat10_hosts_straw2_firstn"
PG_PLAIN = TEST_DATA / "pg_plain"


def _shrink(obj, n: int = 8):
    """``obj`` with every list cut to its first ``n`` items (a real document, small enough to fuzz fast)."""
    if isinstance(obj, list):
        return [_shrink(x, n) for x in obj[:n]]
    if isinstance(obj, dict):
        return {k: _shrink(v, n) for k, v in obj.items()}
    return obj


def _read(p: Path) -> bytes:
    data = p.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _json(p: Path, n: int = 8) -> bytes:
    return json.dumps(_shrink(json.loads(_read(p)), n), indent=1).encode()


#: parser module -> seed files (bytes), real dumps of its format
SEEDS = {
    "pg_dump_plain": lambda: [_read(PG_PLAIN / f) for f in ("jewel_pg_dump.txt", "luminous_pg_dump.txt",
                                                            "nautilus_pg_dump.txt", "reef_pg_dump.txt",
                                                            "jewel_pgs_brief.txt")]
    + [_read(PUBLIC / "06_octopus_pg_dump_summary_pools_osds_plain.txt")],
    "pg_ls_plain": lambda: [_read(PG_PLAIN / "nautilus_pg_ls.txt"), _read(PG_PLAIN / "reef_pg_ls.txt"),
                            _read(PUBLIC / "04_hammer_pg_ls_plain_tabs.txt")],
    "pg_dump_json": lambda: [_json(REAL / "pg_dump.json"), _json(REAL / "pg_dump_pgs_brief.json"),
                             _json(REAL / "pg_ls.json"), _json(REAL / "pg_dump_pools.json"),
                             _read(TEST_DATA / "json" / "pgs_brief_mimic_bare_ec.json")],
    "osd_dump": lambda: [_json(REAL / "osd_dump.json"), _read(REAL / "osd_dump.txt"), _read(C01 / "osd_dump.txt")],
    "osd_df": lambda: [_read(REAL / f) for f in ("osd_df.txt", "osd_df_tree.txt")]
    + [_json(REAL / "osd_df.json"), _json(REAL / "osd_df_tree.json")],
    "osd_tree": lambda: [_read(REAL / "osd_tree.txt"), _read(C01 / "osd_tree.txt"), _read(REAL / "osd_tree.json")],
    "crush_dump": lambda: [_read(C01 / "crush.json")],
    "crushmap_text": lambda: [_read(C01 / "crushmap.txt"), _read(REAL / "crushmap.txt")],
    "crushmap_binary": lambda: [_read(C01 / "crushmap.bin"), _read(REAL / "crushmap.bin")],
    "pool_ls_detail": lambda: [_read(REAL / "osd_pool_ls_detail.txt"), _json(REAL / "osd_pool_ls_detail.json")],
    "df_detail": lambda: [_read(REAL / "df_detail.txt"), _json(REAL / "df_detail.json")],
    "health": lambda: [_read(REAL / "health_detail.txt"), _read(REAL / "health_detail.json"),
                       _json(REAL / "status.json")],
    "config_dump": lambda: [_read(REAL / "config_dump.txt"), _read(SAMPLE_DUMPS / "mixed" / "config_dump.json")],
    "versions": lambda: [_read(REAL / "versions.json")],
    "autoscale_status": lambda: [_read(REAL / "autoscale_status.txt"), _json(REAL / "autoscale_status.json")],
    "ceph_report": lambda: [_json(PUBLIC / "01_jewel_ceph_report_python_crush.txt", 4)],
}


@cache
def seeds(target: str) -> tuple[bytes, ...]:
    return tuple(SEEDS[target]())


class Hang(BaseException):
    """An example ran for :data:`HANG_SECONDS` (a BaseException: no ``except Exception`` in pgtools hides it)."""


@contextlib.contextmanager
def bounded(seconds: float = HANG_SECONDS):
    def alarm(signum, frame):  # noqa: ANN001
        raise Hang(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _as_json(data: bytes):
    try:
        return json.loads(data)
    except ValueError:  # plain text (which may start with "[", as a pasted prompt does)
        return None


def inputs(target: str):
    """Strategy: a mutated seed of ``target`` (bytes); JSON seeds also get node-level mutations."""
    def of(seed: bytes):
        strategies = [mutated_bytes(seed)]
        obj = _as_json(seed)
        if obj is not None:
            strategies.append(mutations(obj).map(lambda o: json.dumps(o).encode()))
        return st.one_of(*strategies)
    return st.sampled_from(range(len(seeds(target)))).flatmap(lambda i: of(seeds(target)[i]))


def parse_one(target: str, data: bytes) -> None:
    """The parser module itself on ``data`` (sniffed or not), then the loader's path (sniff, parse, excerpt)."""
    mod = importlib.import_module(f"pgtools.io.{target}")
    source = f"fuzz/{target}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if hasattr(mod, "parse_bytes"):
                out = mod.parse_bytes(data, source=source)
            else:
                text = data.decode("utf-8", errors="replace")
                try:
                    obj = json.loads(text) if text.lstrip()[:1] in ("{", "[") else None
                except ValueError:
                    obj = None
                out = mod.parse(text, source=source, obj=obj)
            assert isinstance(out, Fragment), type(out)
        except PgtoolsError:
            pass
        try:
            out = read_file(source, data=data)
            assert out is None or isinstance(out, Fragment), type(out)
        except PgtoolsError:
            pass


@pytest.mark.parametrize("target", sorted(SEEDS))
def test_parser(target):
    for s in seeds(target):  # the seeds themselves parse (and warm the caches before the deadline applies)
        parse_one(target, s)

    @FUZZ
    @given(inputs(target))
    def run(data: bytes) -> None:
        COUNTS[target] += 1
        with bounded():
            parse_one(target, data)

    run()


# ---------------------------------------------------------------------------------------------------
# the command line on mutated files

#: (argv with {f} for the mutated file and {d} for the folder, the seed file mutated, other files copied)
CLI_CASES = [
    (["table", "{f}"], PG_PLAIN / "nautilus_pg_dump.txt", []),
    (["health", "{f}"], PG_PLAIN / "reef_pg_dump.txt", []),
    (["stats", "{d}/pg_dump.txt", "{f}"], REAL / "osd_tree.txt", [(REAL / "pg_dump_pgs_brief.txt", "pg_dump.txt")]),
    (["crush-test", "--crush", "{f}", "--max-x", "3"], C01 / "crushmap.txt", []),
    (["crush-test", "--crush", "{f}", "--max-x", "3"], C01 / "crushmap.bin", []),
    (["map", "{f}", "{d}/crush.json", "--format", "stats"], C01 / "osd_dump.json", [(C01 / "crush.json", "crush.json")]),
    (["autoscale", "{d}/osd_dump.json", "{d}/crush.json", "{f}"], REAL / "df_detail.json",
     [(REAL / "osd_dump.json", "osd_dump.json"), (REAL / "crush_dump.json", "crush.json")]),
]


def run_cli(argv: list[str]) -> tuple[int, str]:
    from pgtools.cli import main

    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("default")
        rc = main(argv)
    return rc, err.getvalue()


@pytest.fixture(scope="module")
def compiled_engine():
    """Compile the numba engine once, outside the hang bound: a mutated dump with a huge pg_num maps with it,
    and its first compilation (over 10 s on a busy 2-core machine without numba's cache) is not a hang."""
    from pgtools.crush import have_numba
    from pgtools.io import crushmap_from_text

    if have_numba():
        from pgtools.crush._numba import map_values_numba

        cm = crushmap_from_text((C01 / "crushmap.txt").read_text())
        weights = np.asarray(cm.default_weights(), dtype=np.int64)
        for parallel in (False, True):  # both kernels
            map_values_numba(cm, 0, 3, np.arange(8, dtype=np.int64), weights, parallel=parallel)


@settings(FUZZ, max_examples=max(1, EXAMPLES * 2), deadline=None)
@given(st.sampled_from(range(len(CLI_CASES))).flatmap(
    lambda i: st.tuples(st.just(i), mutated_bytes(_read(CLI_CASES[i][1])))))
def test_cli(compiled_engine, case):
    i, data = case
    argv, seed, others = CLI_CASES[i]
    COUNTS["cli"] += 1
    with tempfile.TemporaryDirectory() as d:
        for src, name in others:
            Path(d, name).write_bytes(_read(src))
        f = Path(d, "mutated" + seed.suffix)
        f.write_bytes(data)
        with bounded():
            rc, err = run_cli([a.replace("{f}", str(f)).replace("{d}", d) for a in argv])
    assert "internal error" not in err and "Traceback" not in err, err
    errors = [ln for ln in err.splitlines() if ln.startswith("pgtools: error:")]
    assert (rc, len(errors)) in ((0, 0), (2, 1)), (rc, err[-1500:])
