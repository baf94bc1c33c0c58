"""Sweeps: the durability figures of a grid of what-if scenarios, as one tidy frame, serially or on Dask.

The grid
--------
A *placement variant* is one choice of pg_num per swept pool (:class:`~pgtools.simulate.SetPgNum`, pgp_num
following as the mgr takes it there) and of size per swept replicated pool
(:class:`~pgtools.simulate.SetPoolSize`, min_size kept unless above the new size); the variants are the
Cartesian product of the values given.  An erasure-code profile cannot change on a live pool (Ceph refuses
``ceph osd pool set <ec pool> size``), and the what-if engine refuses it too: a size axis on an EC pool is
an error before anything runs.  Each variant's placement is computed exactly: :func:`pgtools.simulate.simulate`
on the capture with those changes (the changed pools re-mapped by the placement engine; each new PG's bytes
its exact share of the old PGs' hash space; acting = up, as after recovery).  A change the monitor would
refuse (``check_pg_num``: too many PGs per OSD, pg_num above ``mon_max_pool_pg_num``) gives one row per pool
with ``refused`` = Ceph's message and no figures.

Per variant, two scenario families:

``family = "random"``
    for each level × K: :func:`~pgtools.risk.failure_risk` on the variant's acting sets (K units of the level
    failing, every K-set equally likely): probabilities, expectations, maxima, exact or sampled as it says.
    The units are those holding data of any pool in the variant's map, whatever ``pools`` counts, so
    changing one pool's size or pg_num leaves them alone unless the change really empties a unit (``units``
    says how many there are).
``family = "single"``
    with ``each="host"`` (or any level): for every unit of that level holding data, the what-if engine's
    :class:`~pgtools.simulate.Fail` of exactly that unit after the variant's changes
    (``simulate(snap, [*changes, Fail(unit)])``): PGs lost (no copy / fewer than k shards left), inactive
    (fewer than min_size left, lost ones included, as in :func:`~pgtools.risk.failure_risk`), degraded, bytes
    lost.  The failure is certain there, so ``p_any_lost`` is 0 or 1 and expected = max = the count.

Execution
---------
A variant is one task: its placement is computed once and shared by its levels, Ks and single failures.
``scheduler="serial"`` runs the tasks in this process, in order; otherwise on ``dask.distributed``: the
given ``client``, a scheduler at ``scheduler`` (``"tcp://host:8786"``), or the :func:`local_cluster` of
``workers`` processes (default: one per core, at most one per variant).  The snapshot and the sweep's
settings go to every worker **once** (``client.scatter(..., broadcast=True)``); each task carries only its
variant's changes; the largest variants (most PG shards) are submitted first, with the highest priority,
so that the last tasks to finish are the shortest ones and no worker waits long on another.  Every figure
is a deterministic function of (capture, variant, level, K, seed) -- Monte Carlo draws use ``seed + K`` as
:func:`~pgtools.risk.failure_risk` does --, so the distributed frame equals the serial one exactly, row for
row.  Warnings raised inside the tasks come back with the results and are issued once each by
:func:`sweep`.  Dask is imported only when a sweep runs on it (``pip install 'pgtools[dask]'``).

The workers of :func:`local_cluster` run one thread each (the placement engine and the counting are
CPU-bound Python/NumPy; numba's kernels are held to one thread too, ``NUMBA_NUM_THREADS=1``), and they are
started **without** the ``MALLOC_TRIM_THRESHOLD_=65536`` that Dask's nanny puts in every worker's
environment by default (``distributed.nanny.pre-spawn-environ``).  Setting it turns off glibc's dynamic
mmap threshold, so every NumPy temporary above 128 KiB is a fresh ``mmap`` whose pages the kernel faults in
and zeroes again.  On the 100-scenario benchmark (``benchmarks/bench_sweep.py``) the two workers' system
time with it was 5 to 6.5 times the serial path's (2.1 against 0.45 CPU-s; before the pair-graph counting made
the sweep 3x cheaper: 5.9 against 0.9, the workers spending 40-60% more CPU than the serial path in all,
5% more without it).  A
cluster the sweep does not start (``client=``, ``scheduler=``) is used as it is: start its workers with
``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null`` in the Dask configuration (or
through :func:`local_cluster`) for the same speed.

Imports: :mod:`pgtools.errors`, :mod:`pgtools.model`, :mod:`pgtools.simulate` and this package; dask and
rich lazily, inside the functions that use them.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import Snapshot
from ..placement import map_pool_arrays, mapping_frame
from ..simulate import Fail, SetPgNum, SetPoolSize, simulate
from ..simulate.failures import failure_rows
from ..simulate.state import State, initial_data, pool_meta, up_matrix
from .conditional import RISK_COLUMNS, failure_risk
from .copysets import build_copysets
from .counting import ENUM_MAX

__all__ = ["SWEEP_COLUMNS", "Variant", "evaluate_variant", "local_cluster", "sweep", "sweep_variants"]

#: The columns every sweep frame has, after ``variant`` and the parameter columns ``pg_num:<pool>`` /
#: ``size:<pool>`` of the swept pools: the family, the row pool's settings in the variant, the figures of
#: :data:`~pgtools.risk.RISK_COLUMNS`, the single failures' degraded PGs and the monitor's refusal.
SWEEP_COLUMNS = ["family", "changes", "failed", "pg_num", "size", "min_size", *RISK_COLUMNS, "pgs_degraded",
                 "refused"]


@dataclass(frozen=True)
class Variant:
    """One placement variant: the swept settings (``{"pg_num:rbd": 64, ...}``) and the changes making it."""

    params: tuple[tuple[str, int], ...]
    changes: tuple[Any, ...]


@dataclass(frozen=True)
class _Shared:
    """What every task needs, scattered to the workers once: the capture and the sweep's settings."""

    snap: Snapshot
    levels: tuple[str, ...]
    failures: tuple[int, ...]
    each: str | None
    pools: tuple | None
    trials: int
    seed: int
    enum_max: int


def _values(name: str, axis: Mapping[Any, Iterable[int]] | None, snap: Snapshot) -> list[tuple[str, list[int]]]:
    """``[(pool name, [values...]), ...]`` of one axis, pools resolved and values checked."""
    out = []
    for pool, vals in (axis or {}).items():
        pname = str(snap.pool(pool)["pool"])  # UnknownPoolError names the pools there are
        if isinstance(vals, (int, np.integer)):
            vals = [vals]
        try:
            got = [int(v) for v in vals]
        except (TypeError, ValueError):
            raise PgtoolsError(f"{name} of pool {pname}: {vals!r} is not a list of integers") from None
        if not got or min(got) < 1:
            raise PgtoolsError(f"{name} of pool {pname}: give positive integers, not {vals!r}")
        out.append((pname, list(dict.fromkeys(got))))
    return out


def sweep_variants(snap: Snapshot, pg_num: Mapping[Any, Iterable[int]] | None = None,
                   size: Mapping[Any, Iterable[int]] | None = None) -> list[Variant]:
    """The placement variants of a grid: the Cartesian product of every pool's pg_num and size values.

    The first variant varies first in the last axis (``itertools.product`` order over the pg_num axes, then
    the size axes, in the order given).  No axis: one variant, the capture as it is.

    Raises
    ------
    PgtoolsError
        An unknown pool, a value that is not a positive integer, or a size axis on an erasure-coded pool
        (checked on the capture, before any placement runs).
    """
    pg_axes, size_axes = _values("pg_num", pg_num, snap), _values("size", size, snap)
    for pname, _ in size_axes:
        if str(snap.pool(pname)["type"]).startswith("erasure"):
            raise PgtoolsError(f"size of pool {pname}: an erasure-coded pool's size (k + m) is fixed by its "
                               "profile; Ceph cannot change it on a live pool")
    axes = [("pg_num", p, v) for p, v in pg_axes] + [("size", p, v) for p, v in size_axes]
    out = []
    for combo in itertools.product(*[vals for _, _, vals in axes]):
        params, changes = [], []
        for (kind, pname, _), v in zip(axes, combo, strict=True):
            params.append((f"{kind}:{pname}", int(v)))
            changes.append(SetPgNum(pname, int(v)) if kind == "pg_num" else SetPoolSize(pname, int(v)))
        out.append(Variant(tuple(params), tuple(changes)))
    return out


def _pool_settings(snap: Snapshot) -> dict[int, tuple[int, int, int]]:
    return {int(r["pool_id"]): (int(r["pg_num"]), int(r["size"]), int(r["min_size"]))
            for r in snap.pools.to_dict("records")}


def _single_rows(sh: _Shared, vsnap: Snapshot, pools: pd.DataFrame) -> list[dict]:
    """One row per pool and (all) for each unit of ``sh.each`` failing alone, counted by the what-if engine.

    The variant's state (its placement, acting = up, and data per PG) is the what-if engine's
    :class:`~pgtools.simulate.state.State`; each unit's OSDs are what :class:`~pgtools.simulate.Fail` of that
    unit takes down, and :func:`~pgtools.simulate.failures.failure_rows` classifies every PG exactly as a
    ``Fail`` step of :func:`~pgtools.simulate.simulate` does (the step's later re-mapping, which does not
    change these counts, is skipped: one placement per variant instead of one per unit).
    """
    cs = build_copysets(vsnap, sh.each, pools=list(sh.pools) if sh.pools else None, source="dump", jmax=1)
    parts = map_pool_arrays(vsnap, reuse=True)
    mapping = mapping_frame(parts)
    b, o = initial_data(vsnap, mapping)
    state = State(vsnap, parts, mapping, b, o, pool_meta(vsnap), up_matrix(parts))
    rows = []
    for unit in cs.units:
        fr = failure_rows(state, Fail(str(unit)).osds(vsnap), 1)
        st = fr["status"].to_numpy()
        fpid = fr["pool_id"].astype(int).to_numpy()
        part = []
        for rec in pools.to_dict("records"):
            sel = fpid == int(rec["pool_id"])
            lost = int((st[sel] == "lost").sum())
            inact = lost + int((st[sel] == "inactive").sum())
            deg = int((st[sel] == "degraded").sum())
            blost = float(fr["bytes_lost"].to_numpy()[sel].sum())
            part.append(_single(sh.each, str(unit), cs.n, rec, lost, inact, deg, blost))
        tot = {"pool_id": -1, "pool": "(all)", "pgs": int(pools["pgs"].sum()), "bytes": float(pools["bytes"].sum())}
        part.append(_single(sh.each, str(unit), cs.n, tot, *(sum(r[c] for r in part) for c in (
            "max_pgs_lost", "max_pgs_inactive", "pgs_degraded", "expected_bytes_lost"))))
        rows.extend(part)
    return rows


def _single(level: str, unit: str, n: int, rec: dict, lost: int, inact: int, deg: int, blost: float) -> dict:
    return {"family": "single", "failed": unit, "level": level, "failures": 1, "pool_id": int(rec["pool_id"]),
            "pool": rec["pool"], "units": n, "n_sets": 1, "pgs": int(rec["pgs"]), "bytes": float(rec["bytes"]),
            "p_any_lost": float(lost > 0), "ci_low": np.nan, "ci_high": np.nan, "expected_pgs_lost": float(lost),
            "max_pgs_lost": lost, "expected_bytes_lost": blost, "p_any_inactive": float(inact > 0),
            "inactive_ci_low": np.nan, "inactive_ci_high": np.nan, "expected_pgs_inactive": float(inact),
            "max_pgs_inactive": inact, "method": "exact", "inactive_method": "exact", "max_method": "exact",
            "inactive_max_method": "exact", "trials": 0, "pgs_degraded": deg}


def evaluate_variant(shared: _Shared, variant: Variant) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one placement variant (every level × K, and the single failures) and its warnings.

    The task a sweep runs (on a worker, with ``shared`` scattered there once); pure: the same inputs give
    the same frame wherever it runs.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = simulate(shared.snap, list(variant.changes), checks=False)
        vsnap = plan.snapshots[-1]
        settings = _pool_settings(vsnap)
        frames = []
        if plan.refused is not None:
            rows = [{"family": "random", "pool_id": pid, "pool": name, "refused": f"{plan.refused.error}: "
                     f"{plan.refused.message.strip()}"}
                    for pid, name in zip(vsnap.pools["pool_id"].astype(int), vsnap.pools["pool"], strict=True)]
            frames.append(pd.DataFrame(rows))
        else:
            pools = list(shared.pools) if shared.pools else None
            cs_pools = None
            for level in shared.levels:
                cs = build_copysets(vsnap, level, pools=pools, source="dump", jmax=max(shared.failures))
                cs_pools = cs.pools
                ks = [k for k in shared.failures if k <= cs.n]
                if not ks:
                    continue
                df = failure_risk(cs, failures=ks, trials=shared.trials, seed=shared.seed,
                                  enum_max=shared.enum_max, worst=0)
                df.attrs = {}  # per-K worst sets and pool tables: not carried into the sweep frame
                frames.append(df.assign(family="random", failed=""))
                if len(ks) < len(shared.failures):
                    warnings.warn(f"only {cs.n} {level}s hold data: no figures for "
                                  f"{[k for k in shared.failures if k > cs.n]} failures", PgtoolsWarning,
                                  stacklevel=1)
            if shared.each:
                if cs_pools is None:
                    cs_pools = build_copysets(vsnap, shared.each, pools=pools, source="dump", jmax=1).pools
                frames.append(pd.DataFrame(_single_rows(shared, vsnap, cs_pools)))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SWEEP_COLUMNS)
    pid = out["pool_id"].astype(int)
    for i, col in enumerate(("pg_num", "size", "min_size")):
        out[col] = pd.array([settings[p][i] if p in settings else pd.NA for p in pid], dtype="Int64")
    out["changes"] = "; ".join(c.describe() for c in variant.changes) or "as captured"
    if "refused" not in out.columns:
        out["refused"] = ""
    out["refused"] = out["refused"].fillna("")
    for c in SWEEP_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    for name, value in variant.params:
        out[name] = value
    # pgtools' own warnings (the assumptions made) travel with the result; library noise stays on the worker
    notes = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, PgtoolsWarning)))
    return out[[name for name, _ in variant.params] + SWEEP_COLUMNS], notes


def _progress_bar(progress: bool | None, total: int) -> Any:
    """A rich progress bar on stderr (None when off: ``progress`` False, or None and stderr not a TTY)."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=False)
    bar.start()
    bar.add_task("variants", total=total)
    return bar


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise PgtoolsError("a sweep on Dask needs dask.distributed (pip install 'pgtools[dask]'); "
                           "or run it with scheduler='serial'") from None
    return distributed


_TRIM = "MALLOC_TRIM_THRESHOLD_"


def local_cluster(workers: int, **kwargs: Any) -> Any:
    """A :class:`distributed.LocalCluster` of ``workers`` single-threaded processes, set up for sweeps.

    The cluster :func:`sweep` starts when given neither ``client`` nor ``scheduler``; start one yourself to
    run several sweeps on the same workers (``sweep(..., client=Client(cluster))``).  Unlike Dask's default
    workers, these are spawned without ``MALLOC_TRIM_THRESHOLD_`` (page faults on the sweep's NumPy
    temporaries: see the module docstring), even when this process's environment has it (it is restored
    once the workers have started), and with ``NUMBA_NUM_THREADS=1`` (one core per worker); each worker
    imports this module (pgtools, pandas, the what-if engine) as it starts, not in its first task; no
    dashboard, logs at ERROR only.

    Parameters
    ----------
    workers : int
        Worker processes.
    **kwargs
        Further :class:`~distributed.LocalCluster` arguments (they override the ones above).

    Returns
    -------
    distributed.LocalCluster
        Close it when done (``with local_cluster(2) as cluster: ...``).
    """
    if int(workers) < 1:
        raise PgtoolsError(f"workers must be a positive integer, not {workers}")
    distributed = _import_distributed()
    import dask

    args: dict[str, Any] = {
        "n_workers": int(workers), "threads_per_worker": 1, "processes": True, "silence_logs": logging.ERROR,
        # the worker's own environment, set after it is spawned and before it imports numba
        "env": {"NUMBA_NUM_THREADS": "1"},
        # imported as each worker starts (pgtools, pandas, the what-if engine...), not in its first task
        "preload": [__name__],
        # no dashboard; its HTTP server (always started) on a free port, not 8787
        "dashboard_address": None, "scheduler_kwargs": {"dashboard_address": ":0"}}
    args.update(kwargs)
    # The nanny reads pre-spawn-environ when the LocalCluster starts its workers, i.e. inside this block (a
    # key set to None is not exported: distributed.nanny._get_env_variables).  A spawned worker inherits
    # this process's environment too, where an earlier Dask cluster's nanny may have left the variable
    # (it exports pre-spawn-environ into its own process): it is taken out while the workers start.
    saved = os.environ.pop(_TRIM, None)
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{_TRIM}": None}):
            return distributed.LocalCluster(**args)
    finally:
        if saved is not None:
            os.environ[_TRIM] = saved


def _shards(snap: Snapshot, variant: Variant) -> int:
    """PG shards of a variant (Σ pg_num × size over the pools): what its task's run time grows with."""
    pools = snap.pools
    per = {str(name): [int(n), int(z)] for name, n, z in zip(pools["pool"], pools["pg_num"], pools["size"],
                                                                strict=True)}
    for name, value in variant.params:
        kind, _, pname = name.partition(":")
        per[pname][0 if kind == "pg_num" else 1] = int(value)
    return sum(n * z for n, z in per.values())


def _on_dask(shared: _Shared, variants: Sequence[Variant], client: Any, scheduler: str | None,
             workers: int | None, tick: Callable[[], None]) -> list[tuple[pd.DataFrame, list[str]]]:
    """Run the variants on dask.distributed: the shared inputs scattered once, one task per variant, the
    largest first (longest processing time first: the shortest tasks fill in at the end)."""
    distributed = _import_distributed()
    Client, as_completed = distributed.Client, distributed.as_completed
    owned: list[Any] = []
    try:
        if client is None:
            if scheduler:
                try:
                    client = Client(scheduler, timeout="10s")
                except OSError as e:
                    raise PgtoolsError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
                owned.append(client)
            else:
                cluster = local_cluster(workers or max(1, min(os.cpu_count() or 1, len(variants))))
                owned.append(cluster)
                client = Client(cluster)
                owned.append(client)
        [shared_f] = client.scatter([shared], broadcast=True, hash=False)
        token = uuid.uuid4().hex[:12]
        # submitted largest first (a scheduler with idle workers starts each task as it arrives), with
        # priorities in the same order for the tasks it queues
        size = [_shards(shared.snap, v) for v in variants]
        order = sorted(range(len(variants)), key=lambda i: (-size[i], i))
        futures: list[Any] = [None] * len(variants)
        for rank, i in enumerate(order):
            futures[i] = client.submit(evaluate_variant, shared_f, variants[i], key=f"pgtools-sweep-{token}-{i}",
                                       pure=False, priority=len(variants) - rank)
        for _ in as_completed(futures):
            tick()
        results = client.gather(futures)
        client.cancel([shared_f, *futures])
        return results
    finally:
        for obj in reversed(owned):
            obj.close()


def sweep(snap: Snapshot, *, pg_num: Mapping[Any, Iterable[int]] | None = None,
          size: Mapping[Any, Iterable[int]] | None = None, level: str | Iterable[str] = "osd",
          failures: Iterable[int] = (2, 3), each: str | None = None, pools: list | None = None,
          client: Any = None, scheduler: str | None = None, workers: int | None = None,
          progress: bool | None = None, trials: int = 1_000_000, seed: int = 0,
          enum_max: int = ENUM_MAX) -> pd.DataFrame:
    """Durability over a grid of scenarios, as one tidy frame (see the module docstring).

    Parameters
    ----------
    snap : Snapshot
        The capture (pools, OSDs, CRUSH map: placement is recomputed per variant).
    pg_num : mapping, optional
        ``{pool: [pg_num, ...]}`` (pool names or ids).
    size : mapping, optional
        ``{pool: [size, ...]}`` for replicated pools.
    level : str or iterable of str
        The failing unit(s) of the ``"random"`` family: ``"osd"``, ``"host"``, ``"rack"``, ...
    failures : iterable of int
        The Ks of the ``"random"`` family (empty: none).
    each : str, optional
        A level whose every unit fails alone, through the what-if engine (the ``"single"`` family).
    pools : list, optional
        Pools to count (all when None); the swept pools are changed either way, and the failing units are
        those holding data of any pool of the variant's map either way.
    client : distributed.Client, optional
        An existing Dask client to run on.
    scheduler : str, optional
        ``"serial"`` (no Dask: in this process, in order), or a Dask scheduler address to connect to; None
        (and no ``client``): a LocalCluster of ``workers`` processes for this sweep.
    workers : int, optional
        Worker processes of the LocalCluster (default: cores, at most the number of variants).
    progress : bool, optional
        A progress bar on stderr; None: when stderr is a terminal.
    trials, seed, enum_max
        As :func:`~pgtools.risk.failure_risk` (Monte Carlo draws where counting does not reach, with seed
        ``seed + K``; enumeration bound).

    Returns
    -------
    pandas.DataFrame
        One row per scenario × pool (``pool`` ``"(all)"``, ``pool_id`` -1: every counted pool); a scenario is
        a variant × (level, K) or × failed unit.  ``variant`` numbers the placement variants (0 = first), one column per swept setting (``pg_num:<pool>``,
        ``size:<pool>``), then :data:`SWEEP_COLUMNS`: ``family`` (``"random"`` / ``"single"``), ``changes``
        (what was changed), ``failed`` (the unit of a single failure), ``pg_num``/``size``/``min_size`` of
        the row's pool in the variant, the figures of :func:`~pgtools.risk.failure_risk`, ``pgs_degraded``
        (single failures) and ``refused``.  ``attrs``: ``warnings`` (each once), ``variants``, ``scenarios`` (not refused), ``executor``
        (``"serial"`` or ``"dask"``).
    """
    levels = (level,) if isinstance(level, str) else tuple(dict.fromkeys(level))
    ks = tuple(sorted({int(k) for k in failures}))
    if ks and ks[0] < 1:
        raise PgtoolsError(f"failures must be positive integers, not {ks[0]}")
    if not (ks and levels) and not each:
        raise PgtoolsError("nothing to sweep: give failures (with a level) or each")
    if ks and not levels:
        raise PgtoolsError("failures need at least one level")
    if trials < 1:
        raise PgtoolsError(f"trials must be positive, not {trials}")
    if scheduler is not None and client is not None:
        raise PgtoolsError("give client or scheduler, not both")
    variants = sweep_variants(snap, pg_num, size)
    shared = _Shared(snap=snap, levels=levels if ks else (), failures=ks, each=each,
                     pools=tuple(pools) if pools else None, trials=int(trials), seed=int(seed),
                     enum_max=int(enum_max))
    bar = _progress_bar(progress, len(variants))

    def tick() -> None:
        if bar is not None:
            bar.advance(bar.task_ids[0])

    try:
        if scheduler == "serial":
            results = []
            for v in variants:
                results.append(evaluate_variant(shared, v))
                tick()
            executor = "serial"
        else:
            results = _on_dask(shared, variants, client, scheduler, workers, tick)
            executor = "dask"
    finally:
        if bar is not None:
            bar.stop()
    frames, notes = [], []
    for i, (df, w) in enumerate(results):
        frames.append(df.assign(variant=i))
        notes.extend(w)
    notes = list(dict.fromkeys(notes))
    for text in notes:
        warnings.warn(text, PgtoolsWarning, stacklevel=2)
    out = pd.concat(frames, ignore_index=True)
    params = [c for c in out.columns if c.startswith(("pg_num:", "size:"))]
    out = out[["variant", *params, *SWEEP_COLUMNS]]
    for c in params:
        out[c] = out[c].astype(np.int64)
    scen = out[out["refused"] == ""][["variant", "family", "level", "failures", "failed"]].drop_duplicates()
    out.attrs.update({"warnings": notes, "variants": len(variants), "scenarios": len(scen), "executor": executor})
    return out

