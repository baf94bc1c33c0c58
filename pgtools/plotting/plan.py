"""Plots of a what-if plan (:class:`pgtools.simulate.Plan`): movement per OSD or between hosts, projected
fullness, and the steps of a pg_num/pgp_num change.

Each function takes the Plan, or as ``data=`` the tidy DataFrame it draws (see each function), and keyword-only
options; draws on ``ax`` (a new figure when None), returns the Axes, never shows.
"""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from .. import analysis
from ..mgr import options
from ..model import NONE
from .base import (
    MAX_OSD_ROWS,
    check_choice,
    host_of,
    label_runs,
    label_step,
    missing_columns,
    osd_order,
)
from .base import axes as _axes
from .base import bytes_label as _human_bytes
from .base import plan_of as _plan
from .base import plan_step as _plan_step

__all__ = ["movement", "fullness", "pg_num_steps"]

# --------------------------------------------------------------------------------------------------
# what-if plans (pgtools.simulate.Plan)

_RATIO_STYLE = {"nearfull_ratio": ("nearfull", "tab:orange", ":"),
                "backfillfull_ratio": ("backfillfull", "tab:red", "--"),
                "full_ratio": ("full", "darkred", "-")}


#: The option giving each full ratio when there is no OSD map to read it from.
_RATIO_OPTION = {"nearfull_ratio": "mon_osd_nearfull_ratio", "backfillfull_ratio": "mon_osd_backfillfull_ratio",
                 "full_ratio": "mon_osd_full_ratio"}


def _plan_hosts(plan: Any, steps: list[int]) -> pd.Series:
    """osd_id -> host over the given steps' snapshots (later steps win)."""
    parts = [host_of(plan.snapshots[k]) for k in steps if k < len(plan.snapshots)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.Series(dtype=object)
    s = pd.concat(parts)
    return s[~s.index.duplicated(keep="last")]


def _osd_xaxis(ax: Axes, order: list[int], osd_hosts: list[str]) -> None:
    """OSD ids as ticks when readable, else host names at their group centres (as :func:`osd_bars`)."""
    n = len(order)
    runs = label_runs(osd_hosts)
    if n <= MAX_OSD_ROWS:
        ax.set_xticks(range(n), [str(o) for o in order], fontsize=8 if n > 24 else 9, rotation=90 if n > 30 else 0)
        ax.set_xlabel("OSD (grouped by host)")
    else:
        # label hosts left to right, skipping those too close to the last label to be read
        centres: list[float] = []
        names: list[str] = []
        for h, a, b in runs:
            c = (a + b - 1) / 2
            if not centres or c - centres[-1] >= n / 70:
                centres.append(c)
                names.append(h)
        ax.set_xticks(centres, names, rotation=90, fontsize=7)
        ax.set_xlabel(f"{n} OSDs, grouped by host")
    for _h, start, _stop in runs[1:]:
        if len(runs) <= 40:
            ax.axvline(start - 0.5, color="0.8", linewidth=0.6, zorder=0)
    ax.set_xlim(-0.6, n - 0.4)



def _step_title(plan: Any, step: int | None) -> str:
    if step is None:
        last = len(plan.steps) - 1
        return f"all {last} step{'s' if last != 1 else ''}"
    return f"step {step}: {plan.steps['change'].iloc[step]}"


def movement(plan: Any = None, *, data: pd.DataFrame | None = None, step: int | None = None, by: str = "osd",
             ax: Axes | None = None, **kwargs: Any) -> Axes:
    """What a what-if plan moves: PG copies in/out per OSD, or a from → to matrix of shards by host.

    Parameters
    ----------
    plan : Plan, optional
        The result of :func:`pgtools.simulate.simulate`.  Without ``data``, the frame drawn comes from it;
        with ``data``, it only supplies the hosts, the title and (``by="osd"``) the OSDs that move nothing.
    data : DataFrame, optional
        The tidy frame drawn, instead of the plan's.  ``by="osd"``: one row per OSD (and step), columns
        ``osd_id``, ``pgs_in``, ``pgs_out``, optional ``step`` (rows of other steps are left out when
        ``step`` is given) and ``host`` (else the plan's hosts): ``plan.movement``.  ``by="host"``: columns
        ``from_host``, ``to_host``, ``shards`` (:func:`pgtools.analysis.distribution.host_flows`), optional
        ``step``.
    step : int, optional
        One step (1 .. last, negative counts from the end; step 0 is the input and moves nothing), or
        None for the sum over all steps (a PG that moves twice counts twice, as backfill does).
    by : {"osd", "host"}
        ``"osd"``: per OSD, bars up for PG copies arriving (``plan.movement.pgs_in``) and bars down for
        copies leaving (``pgs_out``), OSDs grouped by host.  ``"host"``: a heatmap whose cell (A, B) is the
        number of shards moving from host A to host B (:func:`pgtools.analysis.distribution.host_flows` between
        consecutive ``plan.mappings``, summed over the steps); ``(none)`` is a copy created or dropped
        without a counterpart (failures, size changes).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.bar` (``by="osd"``) or :func:`seaborn.heatmap` (``by="host"``).

    Returns
    -------
    Axes
        ``by="osd"``: ``ax.containers[0]`` are the "in" bars (heights = ``pgs_in``) and
        ``ax.containers[1]`` the "out" bars (heights = ``-pgs_out``), one per OSD in plotted order, each bar
        with ``gid`` = the OSD id as a string.  ``by="host"``: ``ax.collections[0]`` is the heatmap, rows =
        source host, columns = destination host (same order); above 20 hosts, only hosts that send are rows
        and only hosts that receive are columns.
    """
    check_choice("by", by, ("osd", "host"))
    if data is not None:
        return _movement_of_frame(plan, data, step, by, ax, kwargs)
    plan = _plan(plan, "movement")
    last = len(plan.steps) - 1
    if last < 1:
        raise ValueError("the plan has no step after the input: nothing moves")
    k = None if step is None else _plan_step(plan, step, first=1)
    steps = list(range(1, last + 1)) if k is None else [k]
    hosts = _plan_hosts(plan, [0, *steps] if k is None else [k - 1, k])
    pgs = plan.steps.loc[steps, "pgs_moved"].sum()
    nbytes = plan.steps.loc[steps, "bytes_moved"].sum()
    title = f"Movement, {_step_title(plan, k)}\n{int(pgs)} PGs moved, {_human_bytes(nbytes)} written"
    lost = int(plan.steps.loc[steps, "pgs_lost"].sum()) if "pgs_lost" in plan.steps.columns else 0
    if lost:
        title += f"; {lost} PGs LOST (nothing can recover them)"
    if by == "host":
        return _draw_host_flows(_host_flows(plan, steps, hosts), hosts, title, ax, kwargs)
    mv = plan.movement[plan.movement["step"].isin(steps)].groupby("osd_id")[["pgs_in", "pgs_out"]].sum()
    return _draw_movement(mv, _plan_osds(plan, steps), hosts, title, ax, kwargs)


def _plan_osds(plan: Any, steps: list[int]) -> set[int]:
    """The OSDs of the plan's OSD map before and at ``steps`` (moving or not)."""
    load = plan.osd_load
    return {int(o) for s in (steps[0] - 1, *steps) for o in load.loc[load["step"] == s, "osd_id"]}


def _movement_of_frame(plan: Any, data: pd.DataFrame, step: int | None, by: str, ax: Axes | None,
                       kwargs: dict[str, Any]) -> Axes:
    """:func:`movement` of a given frame (``plan`` optional: hosts, title, OSDs moving nothing)."""
    if plan is not None:
        plan = _plan(plan, "movement")
    cols = ["from_host", "to_host", "shards"] if by == "host" else ["osd_id", "pgs_in", "pgs_out"]
    missing_columns(data, cols)
    k = None
    if step is not None:
        k = _plan_step(plan, step, first=1) if plan is not None else int(step)
        missing_columns(data, ["step"], "the table (given step=)")
        data = data[data["step"] == k]
    steps = ([k] if k is not None else list(range(1, len(plan.steps)))) if plan is not None else []
    hosts = _plan_hosts(plan, [0, *steps] if k is None else [k - 1, k]) if plan is not None else pd.Series(dtype=object)
    title = f"Movement, {_step_title(plan, k)}" if plan is not None else (
        "Movement" if k is None else f"Movement, step {k}")
    if by == "host":
        flows = data.groupby(["from_host", "to_host"], as_index=False)["shards"].sum()
        return _draw_host_flows(flows, hosts, title, ax, kwargs)
    if "host" in data.columns:
        given = data.drop_duplicates("osd_id", keep="last").set_index("osd_id")["host"].astype(object)
        given.index = given.index.astype(np.int64)
        hosts = given.fillna("(no host)")
    mv = data.groupby("osd_id")[["pgs_in", "pgs_out"]].sum()
    mv.index = mv.index.astype(np.int64)
    ids = _plan_osds(plan, steps) if plan is not None and steps else set()
    title += f"\n{int(mv['pgs_in'].sum())} PG copies arriving, {int(mv['pgs_out'].sum())} leaving"
    return _draw_movement(mv, ids | {int(o) for o in mv.index}, hosts, title, ax, kwargs)


def _draw_movement(mv: pd.DataFrame, ids: set[int], hosts: pd.Series, title: str, ax: Axes | None,
                   kwargs: dict[str, Any]) -> Axes:
    """In/out bars per OSD of ``mv`` (``pgs_in``, ``pgs_out`` by ``osd_id``; ``ids`` moving nothing get 0)."""
    ids = ids | {int(o) for o in mv.index}
    order, osd_hosts = osd_order(ids, hosts)
    mv = mv.reindex(order).fillna(0).astype(np.int64)
    n = len(order)
    ax = _axes(ax, (min(max(6.0, 2.5 + 0.35 * n), 16.0), 4.5))
    x = np.arange(n)
    opts: dict[str, Any] = {"width": 0.8 if n <= MAX_OSD_ROWS else 1.0, "linewidth": 0}
    opts.update(kwargs)
    bars_in = ax.bar(x, mv["pgs_in"].to_numpy(), color=opts.pop("color", "tab:green"),
                     label="PG copies arriving (backfill target)", **opts)
    bars_out = ax.bar(x, -mv["pgs_out"].to_numpy(), color="tab:red", label="PG copies leaving", **opts)
    for bars in (bars_in, bars_out):
        for b, o in zip(bars, order, strict=True):
            b.set_gid(str(o))
    ax.axhline(0, color="black", linewidth=0.8)
    _osd_xaxis(ax, order, osd_hosts)
    top = float(max(mv["pgs_in"].max(), mv["pgs_out"].max(), 1)) if n else 1.0
    ax.set_ylim(-top * 1.15, top * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{abs(v):g}")
    ax.set_ylabel("PG copies out ↓ / in ↑")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(title)
    return ax


def _host_flows(plan: Any, steps: list[int], hosts: pd.Series) -> pd.DataFrame:
    """Shards moved from host to host (``from_host``, ``to_host``, ``shards``), summed over ``steps``."""
    ec = set()
    for s in (steps[0] - 1, *steps):
        pools = plan.snapshots[s].pools
        if len(pools) and "type" in pools.columns:
            ec |= {int(p) for p in pools.loc[pools["type"] == "erasure", "pool_id"]}
    frames = [analysis.host_flows(plan.mappings[s - 1], plan.mappings[s], hosts, erasure_pools=ec) for s in steps]
    return pd.concat(frames).groupby(["from_host", "to_host"], as_index=False)["shards"].sum()


def _draw_host_flows(flows: pd.DataFrame, hosts: pd.Series, title: str, ax: Axes | None,
                     kwargs: dict[str, Any]) -> Axes:
    """The from → to host heatmap of ``flows`` (hosts in ``hosts`` order, then the others sorted)."""
    import seaborn as sns

    order = list(dict.fromkeys(osd_order(hosts.index, hosts)[1])) if len(hosts) else []
    extra = sorted((set(flows.from_host) | set(flows.to_host)) - set(order) - {"(none)"})
    order += extra
    if "(none)" in set(flows.from_host) | set(flows.to_host):
        order.append("(none)")
    table = flows.pivot(index="from_host", columns="to_host", values="shards")
    table = table.reindex(index=order, columns=order).fillna(0).astype(np.int64)
    total = int(table.to_numpy().sum())
    within = int(np.trace(table.to_numpy()))
    hidden = ""
    if len(order) > 20:  # many hosts: rows = hosts that send, columns = hosts that receive
        rows = [h for h in order if table.loc[h].sum()]
        cols = [h for h in order if table[h].sum()]
        hidden = f" ({len(order) - len(cols)} hosts receive nothing, {len(order) - len(rows)} send nothing)"
        table = table.reindex(index=rows, columns=cols)
    nh = max(table.shape)
    ax = _axes(ax, (min(3.5 + 0.5 * table.shape[1], 14.0), min(3.0 + 0.45 * table.shape[0], 13.0)))
    opts: dict[str, Any] = {"annot": nh <= 20, "fmt": "d", "cmap": "Blues", "linewidths": 0.5 if nh <= 40 else 0,
                            "linecolor": "white", "square": nh <= 20,
                            "cbar_kws": {"label": "shards moved"}}
    if nh > 10:
        opts["annot_kws"] = {"fontsize": 7}
    opts.update(kwargs)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The set_bad function", category=PendingDeprecationWarning)
        sns.heatmap(table, ax=ax, xticklabels=label_step(table.shape[1], 60), yticklabels=label_step(table.shape[0], 60),
                    **opts)
    ax.tick_params(axis="x", labelrotation=90, labelsize=8 if nh > 10 else 9)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8 if nh > 10 else 9)
    ax.set_xlabel("to host" + hidden)
    ax.set_ylabel("from host")
    ax.set_title(f"{title}; {total} shards ({within} within a host)", fontsize=10)
    return ax


def fullness(plan: Any = None, *, data: pd.DataFrame | None = None, step: int = -1, ax: Axes | None = None,
             **kwargs: Any) -> Axes:
    """Projected %used per OSD after a plan step, against before, with the full ratios.

    Parameters
    ----------
    plan : Plan, optional
        The result of :func:`pgtools.simulate.simulate`; %used is ``plan.osd_load.utilization`` (projected,
        see :mod:`pgtools.simulate`).  With ``data``, it only supplies the hosts, the full ratios and the title.
    data : DataFrame, optional
        The tidy frame drawn instead of ``plan.osd_load``: one row per OSD and step, columns ``step``,
        ``osd_id``, ``utilization`` (%used), optional ``host``.  Without a plan the ratios are Ceph's
        defaults (``mon_osd_nearfull_ratio`` 0.85, ``mon_osd_backfillfull_ratio`` 0.90,
        ``mon_osd_full_ratio`` 0.95).
    step : int
        The step to show (default: the last, negative counts from the end); "before" is step 0 (without a
        plan: the first and the ``step``-th of the steps in ``data``).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.bar`.

    Returns
    -------
    Axes
        ``ax.containers[0]`` holds the bars labelled "after (step k)": %used at ``step`` per OSD (grouped by
        host, ``gid`` = OSD id; NaN for an OSD gone by then), coloured by the band they fall in (below
        nearfull, nearfull, backfillfull or above).  The line labelled "before (step 0)"
        has step 0's %used at the same x (NaN for OSDs added later).  Horizontal lines labelled ``nearfull``,
        ``backfillfull`` and ``full`` sit at 100 × the ratios of the step's OSD map (0.85/0.90/0.95 when
        unknown); when every OSD is far below nearfull they are off the y range, which a note says.
    """
    if plan is not None or data is None:
        plan = _plan(plan, "fullness")
    load = plan.osd_load if data is None else data
    missing_columns(load, ["step", "osd_id", "utilization"])
    if plan is not None:
        first, k = 0, _plan_step(plan, step)
        hosts = _plan_hosts(plan, [0, k])
        ratios = {key: 100.0 * float(st.value) for key, st in options.full_ratios(plan.snapshots[k]).items()}
        title = _step_title(plan, k)
    else:
        steps = sorted(int(s) for s in load["step"].unique())
        if not steps:
            raise ValueError("nothing to plot: the table is empty")
        if not -len(steps) <= int(step) < len(steps):
            raise ValueError(f"step {step} is out of range: the table has steps {', '.join(map(str, steps))}")
        first, k = steps[0], steps[int(step)]
        hosts = pd.Series(dtype=object)
        ratios = {key: 100.0 * float(options.OPTIONS[name].default) for key, name in _RATIO_OPTION.items()}
        title = f"step {k}"
    if "host" in load.columns:
        given = load.drop_duplicates("osd_id", keep="last").set_index("osd_id")["host"].astype(object)
        given.index = given.index.astype(np.int64)
        hosts = given.fillna("(no host)")
    before = load[load["step"] == first].set_index("osd_id")["utilization"].astype(float)
    after = load[load["step"] == k].set_index("osd_id")["utilization"].astype(float)
    order, osd_hosts = osd_order(set(before.index) | set(after.index), hosts)
    yb = before.reindex(order).to_numpy(dtype=float)
    ya = after.reindex(order).to_numpy(dtype=float)
    n = len(order)
    ax = _axes(ax, (min(max(8.0, 2.5 + 0.35 * n), 16.0), 4.5))
    x = np.arange(n)
    band = np.select([ya >= ratios["backfillfull_ratio"], ya >= ratios["nearfull_ratio"]], [2, 1], 0)
    palette = np.array(["#4c72b0", "tab:orange", "tab:red"], dtype=object)
    opts: dict[str, Any] = {"width": 0.8 if n <= MAX_OSD_ROWS else 1.0, "linewidth": 0,
                            "color": list(palette[band]), "label": f"after (step {k})"}
    opts.update(kwargs)
    bars = ax.bar(x, ya, **opts)
    for b, o in zip(bars, order, strict=True):
        b.set_gid(str(o))
    ax.plot(x, yb, drawstyle="steps-mid", color="black", linewidth=1.2, label="before (step 0)")
    finite = np.concatenate([yb[np.isfinite(yb)], ya[np.isfinite(ya)]])
    top = float(finite.max()) if finite.size else 0.0
    show_ratios = top >= 0.25 * ratios["nearfull_ratio"]
    for key, (name, color, style) in _RATIO_STYLE.items():
        ax.axhline(ratios[key], color=color, linestyle=style, linewidth=1.3, label=f"{name} {ratios[key]:.0f} %")
    if show_ratios:
        ax.set_ylim(0, max(top, ratios["full_ratio"]) * 1.08)
    else:
        ax.set_ylim(0, top * 1.25 if top > 0 else 1.0)
        ax.text(0.99, 0.97, "nearfull {:.0f} %, backfillfull {:.0f} %, full {:.0f} %: above this range".format(
            *(ratios[k_] for k_ in _RATIO_STYLE)), transform=ax.transAxes, ha="right", va="top", fontsize=8,
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "linewidth": 0})
    _osd_xaxis(ax, order, osd_hosts)
    ax.set_ylabel("%used (projected)")
    handles, labels = ax.get_legend_handles_labels()
    if not show_ratios:
        keep = [i for i, lab in enumerate(labels) if lab.split(" ")[0] not in ("nearfull", "backfillfull", "full")]
        handles, labels = [handles[i] for i in keep], [labels[i] for i in keep]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(f"%used per OSD, before vs after\n{title}")
    return ax


def pg_num_steps(plan: Any = None, *, data: pd.DataFrame | None = None, pool: int | str | None = None,
                 limit: float | None = None, ax: Any = None, **kwargs: Any) -> list[Axes]:
    """A stepwise pg_num/pgp_num plan over its steps: the pool's pg_num and pgp_num, and what each step moves.

    Parameters
    ----------
    plan : Plan, optional
        The result of :func:`pgtools.simulate.simulate` (usually with ``stepwise=True``).
    data : DataFrame, optional
        The tidy frame drawn instead of the plan's: one row per step and pool, columns ``step``, ``pool_id``,
        ``pg_num``, ``pgp_num``, optional ``pool`` (name), and per step (the same on every pool's row)
        ``moved_pct`` (% of the PG copies written in the step: the bottom bars), ``max_pgs_per_osd`` and
        ``bytes_moved``; the panels of missing columns stay empty.  From a plan, this is ``plan.pools``
        joined with ``plan.steps`` on ``step``, plus ``moved_pct``.
    pool : int or str, optional
        Pool id or name; default: the pool whose pgp_num changes over most steps.
    limit : float, optional
        The ``mon_max_pg_per_osd`` line; default: the plan's (:func:`pgtools.analysis.health_limits` of step
        0), none without a plan.
    ax : sequence of two Axes, optional
        Top and bottom panels to draw on; default: a new figure with two panels sharing the x axis.
    **kwargs
        Passed to :meth:`Axes.bar` for the moved-% bars.

    Returns
    -------
    list of Axes
        ``[top, bottom, bottom_twin]``.  Top: lines labelled ``pg_num`` and ``pgp_num`` whose x data are the
        steps and y data ``plan.pools`` values for the pool (drawn as steps).  Bottom: ``containers[0]`` bars =
        % of the PG copies of that step that were written (``100 × shards_moved / copies in
        plan.mappings[step]``).  Bottom twin (right axis): the line labelled "peak PGs per OSD" =
        ``plan.steps.max_pgs_per_osd``, and a dashed ``mon_max_pg_per_osd`` line
        (:func:`pgtools.analysis.health_limits` of step 0).
    """
    if plan is not None or data is None:
        plan = _plan(plan, "pg_num_steps")
    pools = _pg_num_frame(plan) if data is None else data
    missing_columns(pools, ["step", "pool_id", "pg_num", "pgp_num"])
    if limit is None and plan is not None:
        limit = float(analysis.health_limits(plan.snapshots[0])["mon_max_pg_per_osd"])
    if not len(pools):
        raise ValueError("the plan has no pools")
    if pool is None:
        changes = pools.groupby("pool_id").agg(a=("pgp_num", "nunique"), b=("pg_num", "nunique"))
        score = changes.a + changes.b
        if int(score.max()) <= 2:
            raise ValueError("no pool's pg_num or pgp_num changes in this plan; pass pool=")
        pid = int(score.idxmax())
    elif isinstance(pool, str) and not pool.lstrip("-").isdigit():
        hit = pools.loc[pools["pool"] == pool, "pool_id"]
        if not len(hit):
            raise ValueError(f"no pool named {pool!r} in the plan")
        pid = int(hit.iloc[0])
    else:
        pid = int(pool)
        if pid not in set(int(p) for p in pools["pool_id"]):
            raise ValueError(f"no pool {pid} in the plan")
    rows = pools[pools["pool_id"] == pid].sort_values("step")
    name = str(rows["pool"].iloc[-1]) if "pool" in rows.columns else str(pid)
    if ax is None:
        fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8.0, 6.0), layout="constrained",
                                          height_ratios=(1.0, 1.2))
    else:
        try:
            top, bottom = ax
        except (TypeError, ValueError):
            raise TypeError("ax must be a pair of Axes (top, bottom)") from None
    x = rows["step"].to_numpy(dtype=np.int64)
    top.plot(x, rows["pg_num"].to_numpy(dtype=np.int64), drawstyle="steps-post", color="tab:blue", marker="o",
             markersize=3, linewidth=1.8, label="pg_num")
    top.plot(x, rows["pgp_num"].to_numpy(dtype=np.int64), drawstyle="steps-post", color="tab:orange",
             marker="o", markersize=3, linewidth=1.5, label="pgp_num")
    top.set_ylabel("PGs")
    top.legend(loc="lower right", fontsize=8)
    start, end = rows.iloc[0], rows.iloc[-1]
    steps = pools.drop_duplicates("step").sort_values("step")
    n = len(steps)
    top.set_title(f"pool {name}: pg_num {int(start.pg_num)} → {int(end.pg_num)}, pgp_num {int(start.pgp_num)} → "
                  f"{int(end.pgp_num)} in {n - 1} step{'s' if n != 2 else ''}")
    sx = steps["step"].to_numpy(dtype=np.int64)
    pct = steps["moved_pct"].to_numpy(dtype=float) if "moved_pct" in steps.columns else np.full(n, np.nan)
    opts: dict[str, Any] = {"color": "#8fb0d9", "width": 0.8, "label": "% of PG copies written in the step"}
    opts.update(kwargs)
    bottom.bar(sx, pct, **opts)
    bottom.set_ylabel("% of PG copies moved")
    bottom.set_xlabel("step")
    bottom.set_ylim(0, max(float(np.nanmax(pct, initial=0.0)) * 1.6, 1.0))
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    twin = bottom.twinx()
    peak = 0.0
    if "max_pgs_per_osd" in steps.columns:
        twin.plot(sx, steps["max_pgs_per_osd"].to_numpy(dtype=np.int64), color="black", marker=".",
                  linewidth=1.2, label="peak PGs per OSD")
        peak = float(steps["max_pgs_per_osd"].max())
    if limit is not None:
        twin.axhline(float(limit), color="tab:red", linestyle="--", linewidth=1.3,
                     label=f"mon_max_pg_per_osd = {float(limit):g}")
    twin.set_ylim(0, max(peak, float(limit or 0.0), 1.0) * 1.25)
    twin.set_ylabel("PG copies on the fullest OSD")
    h1, l1 = bottom.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    bottom.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, fontsize=8,
                  frameon=False)
    if "bytes_moved" in steps.columns:
        bottom.set_title(f"moved per step (total {_human_bytes(steps['bytes_moved'].sum())} written)")
    else:
        bottom.set_title("moved per step")
    return [top, bottom, twin]


def _pg_num_frame(plan: Any) -> pd.DataFrame:
    """What :func:`pg_num_steps` draws of a plan: ``plan.pools`` with the step's ``moved_pct`` (% of the PG copies
    of ``plan.mappings[step]`` written), ``max_pgs_per_osd`` and ``bytes_moved``."""
    steps = plan.steps
    copies = np.array([sum(sum(1 for o in u if o != NONE) for u in m["up"]) for m in plan.mappings], dtype=float)
    pct = np.where(copies > 0, 100.0 * steps["shards_moved"].to_numpy(dtype=float) / np.maximum(copies, 1), 0.0)
    per_step = pd.DataFrame({"step": steps["step"].to_numpy(), "moved_pct": pct,
                             "max_pgs_per_osd": steps["max_pgs_per_osd"].to_numpy(),
                             "bytes_moved": steps["bytes_moved"].to_numpy()})
    return plan.pools.merge(per_step, on="step", how="left")


