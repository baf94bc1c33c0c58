"""The balancer's picture: PGs (or %used) per OSD before and after a plan, grouped by device class and host.

A balance plan is judged against each OSD's own target, not against the mean: an OSD with twice the CRUSH weight
should hold twice the PGs.  :func:`balance` therefore draws the deviation from the weight-share target
(:func:`pgtools.analysis.imbalance`), per OSD, before (a black step line) and after (bars), with OSDs of one
device class side by side (a balancer moves PGs only within a class: a rule takes one class) and, inside a
class, grouped by host.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .. import analysis
from ..balance import PlanWhatIf
from .base import MAX_OSD_ROWS, check_choice, host_of, label_runs, missing_columns, osd_attr
from .base import axes as _axes
from .base import plan_of as _plan
from .base import plan_step as _plan_step

__all__ = ["balance", "balance_frame"]

_VALUES = ("pgs", "utilization")


def balance_frame(plan: Any, *, value: str = "pgs", steps: list[int] | None = None) -> pd.DataFrame:
    """The tidy frame :func:`balance` draws from a what-if plan.

    Parameters
    ----------
    plan : Plan or PlanWhatIf
        A :class:`pgtools.simulate.Plan`, or a balance plan simulated round by round
        (:func:`pgtools.balance.simulate_plan`: its ``simulation``).
    value : {"pgs", "utilization"}
        ``"pgs"``: PG copies per OSD with the weight-share ``target`` of :func:`pgtools.analysis.imbalance`
        (up sets); ``"utilization"``: projected %used (``plan.osd_load``).
    steps : list of int, optional
        The steps to include (default: the first and the last).

    Returns
    -------
    DataFrame
        ``step, osd_id, host, device_class`` and ``pgs, target, deviation`` or ``utilization``.
    """
    plan = _plan(plan.simulation if isinstance(plan, PlanWhatIf) else plan, "balance_frame")
    check_choice("value", value, _VALUES)
    ks = [0, len(plan.steps) - 1] if steps is None else [_plan_step(plan, s) for s in steps]
    parts = []
    for k in dict.fromkeys(ks):
        snap = plan.snapshots[k]
        if value == "pgs":
            im = analysis.imbalance(snap)
            part = im[["osd_id", "pgs", "target", "deviation"]].copy()
        else:
            load = plan.osd_load
            part = load.loc[load["step"] == k, ["osd_id", "utilization"]].copy()
        part["osd_id"] = part["osd_id"].astype(np.int64)
        part.insert(0, "step", k)
        part["host"] = part["osd_id"].map(host_of(snap)).fillna("(no host)")
        part["device_class"] = part["osd_id"].map(osd_attr(snap, "device_class", "")).fillna("")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _order(frame: pd.DataFrame) -> tuple[list[int], list[str], list[str]]:
    """OSDs grouped by device class, then host (each in the order of its lowest OSD id)."""
    last = frame.drop_duplicates("osd_id", keep="last").set_index("osd_id")
    ids = sorted(int(o) for o in last.index)
    host = {o: str(last.at[o, "host"]) if "host" in last else "(no host)" for o in ids}
    cls = {o: str(last.at[o, "device_class"]) if "device_class" in last else "" for o in ids}
    first_c: dict[str, int] = {}
    first_h: dict[tuple[str, str], int] = {}
    for o in ids:
        first_c.setdefault(cls[o], o)
        first_h.setdefault((cls[o], host[o]), o)
    order = sorted(ids, key=lambda o: (first_c[cls[o]], first_h[(cls[o], host[o])], o))
    return order, [host[o] for o in order], [cls[o] for o in order]


def _summary(y: np.ndarray) -> str:
    y = y[np.isfinite(y)]
    if not y.size:
        return "n/a"
    return f"max |dev| {np.max(np.abs(y)):.3g}, rms {np.sqrt(np.mean(y ** 2)):.3g}"


def balance(plan: Any = None, *, data: pd.DataFrame | None = None, value: str = "pgs", step: int = -1,
            ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Per-OSD deviation before and after a balance plan, grouped by device class and host.

    Parameters
    ----------
    plan : Plan or PlanWhatIf, optional
        A :class:`pgtools.simulate.Plan`, or a balance plan simulated round by round
        (:func:`pgtools.balance.simulate_plan`): "before" is step 0, "after" is ``step`` (default the last
        round).
    data : DataFrame, optional
        The tidy frame to draw instead (:func:`balance_frame`): ``step, osd_id`` and, for ``value="pgs"``,
        ``pgs, target`` (the deviation is ``pgs - target``), for ``"utilization"`` ``utilization``; optional
        ``host, device_class``.  Before is its first step, after its ``step``-th.
    value : {"pgs", "utilization"}
        ``"pgs"``: PG copies minus the OSD's weight-share target (the count balancer's objective);
        ``"utilization"``: projected %used minus the mean %used of the OSD's device class (the capacity
        balancer's objective).
    step : int
        The step shown as "after" (default: the last).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.bar`.

    Returns
    -------
    Axes
        ``ax.containers[0]``: the "after" bars (``gid`` = OSD id), one per OSD in the drawn order; the line
        labelled "before" (``ax.collections[0]``, one segment per OSD) holds
        step 0's deviations at the same x.  Device classes are separated by dark
        lines and named at the top of the plot; hosts by light lines.  The title gives the largest absolute deviation
        and the root-mean-square deviation before and after.
    """
    check_choice("value", value, _VALUES)
    if data is None:
        plan = _plan(plan.simulation if isinstance(plan, PlanWhatIf) else plan, "balance")
        k = _plan_step(plan, step)
        data = balance_frame(plan, value=value, steps=[0, k])
        first, last = 0, k
    else:
        missing_columns(data, ["step", "osd_id"] + (["pgs", "target"] if value == "pgs" else ["utilization"]))
        steps = sorted(int(s) for s in data["step"].unique())
        if not steps:
            raise ValueError("nothing to plot: the table is empty")
        if not -len(steps) <= int(step) < len(steps):
            raise ValueError(f"step {step} is out of range: the table has steps {', '.join(map(str, steps))}")
        first, last = steps[0], steps[int(step)]
    frame = data.copy()
    if "device_class" not in frame:
        frame["device_class"] = ""
    if "host" not in frame:
        frame["host"] = "(no host)"
    frame["device_class"] = frame["device_class"].fillna("")
    if value == "pgs":
        frame["dev"] = frame["pgs"].astype(float) - frame["target"].astype(float)
        ylabel = "PG copies − weight-share target"
    else:
        frame["dev"] = frame["utilization"].astype(float) - frame.groupby(
            ["step", "device_class"])["utilization"].transform("mean")
        ylabel = "%used − mean %used of the class (points)"
    order, hosts, classes = _order(frame[frame["step"].isin([first, last])])
    yb = frame[frame["step"] == first].set_index("osd_id")["dev"].reindex(order).to_numpy(dtype=float)
    ya = frame[frame["step"] == last].set_index("osd_id")["dev"].reindex(order).to_numpy(dtype=float)
    n = len(order)
    ax = _axes(ax, (min(max(8.0, 2.5 + 0.3 * n), 16.0), 4.5))
    x = np.arange(n)
    opts: dict[str, Any] = {"width": 0.8 if n <= MAX_OSD_ROWS else 1.0, "linewidth": 0,
                            "color": np.where(ya > 0, "tab:red", "#4c72b0").tolist(), "label": f"after (step {last})"}
    opts.update(kwargs)
    bars = ax.bar(x, ya, **opts)
    for b, o in zip(bars, order, strict=True):
        b.set_gid(str(o))
    ax.hlines(yb, x - 0.45, x + 0.45, color="black", linewidth=1.4, label=f"before (step {first})")
    ax.axhline(0, color="0.3", linewidth=0.8)
    host_runs = label_runs([f"{c}\0{h}" for c, h in zip(classes, hosts, strict=True)])
    class_runs = label_runs(classes)
    if n <= MAX_OSD_ROWS:
        ax.set_xticks(range(n), [str(o) for o in order], fontsize=8 if n > 24 else 9, rotation=90 if n > 30 else 0)
        ax.set_xlabel("OSD (grouped by device class, then host)")
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"{n} OSDs, grouped by device class, then host")
    if len(host_runs) <= 60:
        for _h, start, _stop in host_runs[1:]:
            ax.axvline(start - 0.5, color="0.85", linewidth=0.6, zorder=0)
    for i, (c, start, stop) in enumerate(class_runs):
        if i:
            ax.axvline(start - 0.5, color="0.2", linewidth=1.2, zorder=1)
        ax.text((start + stop - 1) / 2, 0.98, c or "(no class)", transform=ax.get_xaxis_transform(),
                ha="center", va="top", fontsize=8, bbox={"boxstyle": "round", "facecolor": "white",
                                                         "alpha": 0.8, "linewidth": 0})
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_title(f"before: {_summary(yb)}   after: {_summary(ya)}", fontsize=10)
    return ax
