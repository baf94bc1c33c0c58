"""The failure plot of a what-if plan: PGs lost / inactive / degraded per pool (see :func:`failures`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .base import axes as _axes
from .base import bytes_label as _human_bytes
from .base import missing_columns
from .base import plan_of as _plan
from .base import plan_step as _plan_step

__all__ = ["failures", "FAILURE_COLOURS"]

#: Bar colour of each class, worst first.
FAILURE_COLOURS = {"lost": "#b71c1c", "inactive": "#ef8f00", "degraded": "#f2d24b"}


def failures(plan: Any = None, *, data: pd.DataFrame | None = None, step: int | None = None, ax: Axes | None = None,
             **kwargs: Any) -> Axes:
    """What a failure step does to each pool: PGs lost, inactive and degraded, as stacked horizontal bars.

    Parameters
    ----------
    plan : Plan, optional
        The result of :func:`pgtools.simulate.simulate` with a ``Fail`` change.  With ``data``, it only supplies
        the step's change (title) and each pool's pg_num before the step.
    data : DataFrame, optional
        The tidy frame drawn instead of ``plan.failure_pools()``: one row per failure step and pool, columns
        ``step``, ``pool_id``, ``pool``, ``pgs_lost``, ``pgs_inactive``, ``pgs_degraded``, optional
        ``bytes_lost`` and ``objects_lost`` (the title when PGs are lost) and ``pg_num`` (the "of N" labels
        without a plan).
    step : int, optional
        The failure step to show (negative counts from the end); default: the failure step with the most
        PGs lost (then inactive, then degraded).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.barh`.

    Returns
    -------
    Axes
        ``ax.containers`` are the ``lost``, ``inactive`` and ``degraded`` bars (labels start with those
        words), one bar per pool of ``plan.failure_pools()`` at that step, pools top to bottom in id order,
        each bar with ``gid`` = the pool name.  The title names the step and, when PGs are lost, says
        that nothing can recover them.

    Raises
    ------
    ValueError
        When the plan (or ``step``) has no failure.
    """

    if plan is not None or data is None:
        plan = _plan(plan, "failures")
    fp = plan.failure_pools() if data is None else data
    missing_columns(fp, ["step", "pool_id", "pool", "pgs_lost", "pgs_inactive", "pgs_degraded"])
    if not len(fp):
        raise ValueError("the plan has no failure step (pgtools.simulate.Fail)")
    if step is None:
        tot = fp.groupby("step")[["pgs_lost", "pgs_inactive", "pgs_degraded"]].sum()
        k = int(tot.sort_values(["pgs_lost", "pgs_inactive", "pgs_degraded"], ascending=False).index[0])
    elif plan is not None:
        k = _plan_step(plan, step, first=1)
    else:
        k = int(step) if int(step) >= 0 else int(sorted(fp["step"].unique())[int(step)])
    change = f"step {k}: {plan.steps['change'].iloc[k]}" if plan is not None else f"step {k}"
    rows = fp[fp["step"] == k].sort_values("pool_id")
    if not len(rows):
        what = f"step {k} ({plan.steps['change'].iloc[k]})" if plan is not None else f"step {k}"
        raise ValueError(f"{what} leaves no PG short of copies")
    n = len(rows)
    ax = _axes(ax, (9.0, 1.6 + 0.45 * n))
    y = np.arange(n)[::-1]
    left = np.zeros(n)
    names = [str(p) for p in rows["pool"]]
    for status, colour in FAILURE_COLOURS.items():
        vals = rows[f"pgs_{status}"].to_numpy(dtype=float)
        total = int(vals.sum())
        label = {"lost": f"lost ({total}): no copy / fewer than k shards left",
                 "inactive": f"inactive ({total}): fewer than min_size, I/O blocked",
                 "degraded": f"degraded ({total}): fewer than size"}[status]
        opts: dict[str, Any] = {"color": colour, "height": 0.6, "label": label}
        opts.update(kwargs)
        bars = ax.barh(y, vals, left=left, **opts)
        for b, name in zip(bars, names, strict=True):
            b.set_gid(name)
        left += vals
    if plan is not None:
        pg_num = plan.pools[plan.pools["step"] == k - 1].set_index("pool_id")["pg_num"]
    else:
        pg_num = rows.set_index("pool_id")["pg_num"] if "pg_num" in rows.columns else pd.Series(dtype=np.int64)
    for yi, (pid, width) in enumerate(zip(rows["pool_id"], left, strict=True)):
        of = pg_num.get(pid)
        ax.text(width, y[yi], f" {int(width)}" + (f" of {int(of)}" if of is not None else ""), va="center",
                fontsize=8)
    ax.set_yticks(y, names)
    ax.set_xlabel("PGs")
    ax.set_xlim(0, max(float(left.max()), 1.0) * 1.18)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    lost = int(rows["pgs_lost"].sum())
    head = change
    if lost:
        head += f"\n{lost} PGs LOST: nothing can recover them"
        if {"bytes_lost", "objects_lost"} <= set(rows.columns):
            head += f" ({_human_bytes(rows['bytes_lost'].sum())}, {int(rows['objects_lost'].sum())} objects)"
    ax.set_title(head, color="#b71c1c" if lost else "black")
    return ax
