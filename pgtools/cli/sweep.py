"""``pgtools sweep``: durability over a grid of pg_num / size scenarios, serially or on Dask (:mod:`pgtools.risk.sweep`).

Dask is imported inside :func:`pgtools.risk.sweep.sweep`, only when the sweep runs on it.
"""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Annotated, Optional

import typer

from ..errors import PgtoolsError
from .app import DumpArg, load_dumps, write_out


class SweepFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _axis(option: str, items: list[str] | None) -> dict[str, list[int]]:
    """``["rbd=32,64", "1=8"]`` -> ``{"rbd": [32, 64], 1: [8]}``; a one-line error naming the bad item."""
    out: dict = {}
    for item in items or []:
        pool, sep, vals = item.partition("=")
        try:
            nums = [int(v) for v in vals.split(",") if v.strip()]
        except ValueError:
            nums = []
        if not sep or not pool.strip() or not nums or min(nums) < 1:
            raise PgtoolsError(f"{option} {item}: give POOL=N[,N...] with positive integers (e.g. rbd=32,64,128)")
        key = int(pool) if pool.strip().isdigit() else pool.strip()
        out.setdefault(key, []).extend(nums)
    return out


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        ks = []
    if not ks or ks[0] < 1:
        raise PgtoolsError(f"--failures {text}: give positive integers separated by commas (e.g. 2,3)")
    return ks


def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return "0" if x == 0 else "1" if x == 1 else f"{x:.3g}"


def _table(df) -> str:
    import pandas as pd

    from ..text.snapshot import frame_text

    params = [c for c in df.columns if c.startswith(("pg_num:", "size:"))]
    rows = []
    for r in df.to_dict("records"):
        row = {"variant": r["variant"], **{c: r[c] for c in params}, "failure": (
            "-" if r["refused"] else r["failed"] if r["family"] == "single" else f"{int(r['failures'])} {r['level']}"),
            "pool": r["pool"]}
        if r["refused"]:
            row.update({"P(any lost)": "refused", "note": r["refused"]})
        else:
            lost = _fmt(r["p_any_lost"]) + ("" if r["method"] == "exact" else " ~")
            row.update({"P(any lost)": lost, "E[PGs lost]": _fmt(r["expected_pgs_lost"]),
                        "max lost": int(r["max_pgs_lost"]),
                        "P(any inactive)": _fmt(r["p_any_inactive"]) + ("" if r["inactive_method"] == "exact" else " ~"),
                        "max inactive": int(r["max_pgs_inactive"]),
                        "degraded": "-" if r["family"] != "single" else int(r["pgs_degraded"])})
        rows.append(row)
    head = (f"{df.attrs.get('variants', 0)} placement variants, {df.attrs.get('scenarios', 0)} scenarios "
            f"({df.attrs.get('executor', '')}); random: K units of the level fail, every K-set equally likely; "
            "single: that unit fails; ~ = sampled\n")
    return head + frame_text(pd.DataFrame(rows).fillna(""))


def _plain(v):
    """A JSON-ready scalar: NaN and pandas' NA as null, NumPy scalars as Python ones."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ == "NAType":
        return None
    return v.item() if hasattr(v, "item") else v


def _json(df) -> str:
    recs = [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]
    doc = {"variants": df.attrs.get("variants"), "executor": df.attrs.get("executor"),
           "warnings": df.attrs.get("warnings", []), "results": recs}
    return json.dumps(doc, indent=1, default=str) + "\n"


def sweep(
    capture: DumpArg,
    pg_num: Annotated[Optional[list[str]], typer.Option("--pg-num", help="POOL=N,N,... pg_num values of a pool; repeat per pool.")] = None,  # noqa: UP045
    size: Annotated[Optional[list[str]], typer.Option("--size", help="POOL=N,N,... sizes of a replicated pool; repeat.")] = None,  # noqa: UP045
    failures: Annotated[str, typer.Option(help="Numbers of simultaneous failures K, comma-separated.")] = "2,3",
    level: Annotated[Optional[list[str]], typer.Option("--level", help="Failing unit of the K failures (osd, host, rack...); repeat.")] = None,  # noqa: UP045
    each: Annotated[Optional[str], typer.Option("--each", help="Also fail every unit of this level alone (e.g. host).")] = None,  # noqa: UP045
    pool: Annotated[Optional[list[str]], typer.Option("--pool", help="Pool (name or id) to count; repeat; default all.")] = None,  # noqa: UP045
    scheduler: Annotated[Optional[str], typer.Option(help="Dask scheduler address (tcp://host:8786), or 'serial'.")] = None,  # noqa: UP045
    workers: Annotated[Optional[int], typer.Option(min=1, help="Worker processes of the local Dask cluster.")] = None,  # noqa: UP045
    trials: Annotated[int, typer.Option(min=1, help="Monte Carlo draws where exact counting does not reach.")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the Monte Carlo draws.")] = 0,
    fmt: Annotated[SweepFormat, typer.Option("--format", help="Output format.")] = SweepFormat.table,
) -> None:
    """Durability over a grid of scenarios: pg_num and size per pool x failure level x K (and each unit alone).

    Every placement variant (one pg_num per --pg-num pool, one size per --size pool) is placed exactly by the
    what-if engine; for each, K random failures at each --level (as pgtools risk) and, with --each, every unit
    of that level failing alone.  Runs on a local Dask cluster (one worker process per core), on the cluster
    at --scheduler ADDRESS, or in this process with --scheduler serial; the figures are the same.

    Example:  pgtools sweep sample_dumps/mixed --pg-num rbd=32,64,128 --failures 2,3 --level osd --level host
    """
    from ..risk.sweep import sweep as run_sweep

    if workers is not None and scheduler is not None:
        raise PgtoolsError("--workers sizes the local Dask cluster; it cannot be combined with --scheduler")
    ks = _ks(failures)
    pg_axis, size_axis = _axis("--pg-num", pg_num), _axis("--size", size)
    if scheduler is not None and scheduler != "serial" and "://" not in scheduler:
        raise PgtoolsError(f"--scheduler {scheduler}: give a Dask scheduler address (tcp://host:8786) or 'serial'")
    snap = load_dumps(capture)
    pools = [int(p) if p.isdigit() else p for p in pool] if pool else None
    df = run_sweep(snap, pg_num=pg_axis, size=size_axis, level=level or ["osd"], failures=ks, each=each,
                   pools=pools, scheduler=scheduler, workers=workers, trials=trials, seed=seed)
    if fmt is SweepFormat.json:
        write_out(_json(df))
    elif fmt is SweepFormat.csv:
        write_out(df.to_csv(index=False))
    else:
        write_out(_table(df))
