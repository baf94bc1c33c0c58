"""Helpers every plot module shares (axes, plan arguments, byte labels): imported by :mod:`pgtools.plotting`
and the plot modules it delegates to, never the other way round."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..model import Snapshot
from ..simulate.plan import Plan
from ..text.snapshot import human_bytes as _format_bytes

__all__ = ["MAX_OSD_ROWS", "axes", "plan_of", "plan_step", "bytes_label", "check_choice", "snapshot_of", "host_of",
           "osd_attr",
           "osd_order", "label_runs", "host_colors", "label_step", "pool_labels", "missing_columns"]

#: Above this many OSDs, per-OSD labels are thinned out and ``pg_heatmap(group="host")`` shows hosts.
MAX_OSD_ROWS = 60


def axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or the axes of a new constrained-layout figure of ``figsize`` inches."""
    if ax is not None:
        return ax
    _fig, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def plan_of(data: Any, func: str) -> Any:
    """``data`` when it is a what-if :class:`~pgtools.simulate.Plan`, else a TypeError naming ``func``."""
    if not isinstance(data, Plan):
        raise TypeError(f"{func} needs a pgtools.simulate.Plan, not {type(data).__name__}")
    return data


def plan_step(plan: Any, step: int, first: int = 0) -> int:
    """``step`` of ``plan`` as an index from ``first`` (negative counts from the end); else a ValueError."""
    n = len(plan.steps)
    k = int(step) + n if int(step) < 0 else int(step)
    if not first <= k < n:
        raise ValueError(f"step {step} is out of range: the plan has steps {first}..{n - 1}")
    return k


def bytes_label(n: float) -> str:
    """A byte count as a short label (``1.5 GiB``)."""
    return _format_bytes(float(n))


def missing_columns(data: pd.DataFrame, needed: set[str] | list[str], what: str = "the table") -> None:
    """A ValueError naming the columns of ``needed`` that ``data`` lacks."""
    missing = set(needed) - set(data.columns)
    if missing:
        raise ValueError(f"{what} has no column(s) {', '.join(sorted(missing))}")


def check_choice(name: str, value: Any, options: tuple) -> None:
    """A ValueError naming ``name`` unless ``value`` is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, not {value!r}")


def snapshot_of(data: Any, func: str) -> Snapshot:
    """``data`` when it is a Snapshot, else a TypeError naming the plot function ``func``."""
    if not isinstance(data, Snapshot):
        raise TypeError(f"{func} needs a Snapshot, not {type(data).__name__}")
    return data



def osd_attr(snap: Snapshot, column: str, missing: str) -> pd.Series:
    """osd_id -> the OSD table's ``column`` (``missing`` where unknown; empty without the column)."""
    osds = snap.osds
    if len(osds) and column in osds.columns:
        s = osds.set_index("osd_id")[column]
        s.index = s.index.astype(np.int64)
        return s.astype(object).where(s.notna(), missing)
    return pd.Series(dtype=object)


def host_of(snap: Snapshot) -> pd.Series:
    """osd_id -> host name ("(no host)" when unknown)."""
    return osd_attr(snap, "host", "(no host)")


def osd_order(osd_ids: Any, hosts: pd.Series) -> tuple[list[int], list[str]]:
    """OSDs grouped by host (hosts in the order of their lowest OSD id), and each OSD's host."""
    ids = sorted(int(o) for o in osd_ids)
    host = [str(hosts.get(o, "(no host)")) for o in ids]
    first: dict[str, int] = {}
    for o, h in zip(ids, host, strict=True):
        first.setdefault(h, o)
    order = sorted(range(len(ids)), key=lambda i: (first[host[i]], ids[i]))
    return [ids[i] for i in order], [host[i] for i in order]


def label_runs(labels: list[str]) -> list[tuple[str, int, int]]:
    """Consecutive runs ``(label, start, stop)`` of equal labels."""
    out: list[tuple[str, int, int]] = []
    for i, lab in enumerate(labels):
        if out and out[-1][0] == lab:
            out[-1] = (lab, out[-1][1], i + 1)
        else:
            out.append((lab, i, i + 1))
    return out


def host_colors(hosts: list[str]) -> dict[str, Any]:
    """A colour per host: distinct hues for up to 10 hosts, else two alternating shades."""
    uniq = list(dict.fromkeys(hosts))
    if len(uniq) <= 10:
        pal = plt.get_cmap("tab10").colors
        return {h: pal[i] for i, h in enumerate(uniq)}
    pal = ("#4c72b0", "#8fb0d9")
    return {h: pal[i % 2] for i, h in enumerate(uniq)}


def label_step(n: int, max_labels: int) -> int:
    """A round label step (1, 2, 5, 10, 20, 25, 50, ...) that shows at most ``max_labels`` labels."""
    raw = max(1, math.ceil(n / max_labels))
    mag = 10 ** int(math.floor(math.log10(raw)))
    for m in (1, 2, 2.5, 5, 10):
        step = int(m * mag)
        if step >= raw and float(m * mag).is_integer():
            return step
    return raw


def pool_labels(snap: Snapshot, pool_ids: list[int]) -> list[str]:
    """Each pool's name (its id when it has none), for axis labels."""
    names: dict[int, str] = {}
    if len(snap.pools) and "pool" in snap.pools.columns:
        names = {int(p): str(n) for p, n in zip(snap.pools.pool_id, snap.pools["pool"], strict=True)
                 if isinstance(n, str) and n}
    return [names.get(int(p), str(p)) for p in pool_ids]
