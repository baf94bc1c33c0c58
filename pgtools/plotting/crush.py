"""The CRUSH hierarchy as an icicle plot: widths ∝ CRUSH weight, colour = PG share vs weight share."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Rectangle

from .. import analysis
from ..model import Snapshot
from .base import axes as _axes
from .base import (
    check_choice,
    snapshot_of,
)

__all__ = ["crush_tree"]

# --------------------------------------------------------------------------------------------------
# CRUSH hierarchy


def crush_tree(data: Snapshot | pd.DataFrame, *, by: str = "up", ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The CRUSH hierarchy as an icicle: one row per level, widths ∝ CRUSH weight.

    Each rectangle is a bucket or OSD (:func:`~pgtools.analysis.distribution.crush_hierarchy`), labelled with its name,
    weight and share of the PGs when it is wide enough; its colour is how far its PG share is from its
    weight share (%, diverging palette centred on 0).  OSD labels also give the device class.

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or the output of :func:`~pgtools.analysis.distribution.crush_hierarchy`.
    by : {"up", "acting", "up_primary", "acting_primary"}
    ax : Axes, optional
    **kwargs
        Passed to :class:`matplotlib.patches.Rectangle` (e.g. ``edgecolor``, ``linewidth``).

    Returns
    -------
    Axes
        ``ax.patches`` holds one rectangle per node in :func:`~pgtools.analysis.distribution.crush_hierarchy` order,
        each with ``gid`` = the node id as a string.
    """
    check_choice("by", by, analysis.BY_CHOICES)
    if isinstance(data, pd.DataFrame):
        nodes = data
        missing = {"id", "name", "type", "parent_id", "depth", "crush_weight", "device_class", "pg_share",
                   "weight_share"} - set(nodes.columns)
        if missing:
            raise ValueError(f"the table has no column(s) {', '.join(sorted(missing))}")
    else:
        nodes = analysis.crush_hierarchy(snapshot_of(data, "crush_tree"), by)
    ax = _axes(ax, (12.0, 1.2 + 1.1 * (int(nodes.depth.max()) + 1 if len(nodes) else 1)))
    if not len(nodes):
        ax.set_axis_off()
        return ax
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.where(nodes.weight_share > 0, 100.0 * (nodes.pg_share / nodes.weight_share - 1.0), np.nan)
    finite = np.abs(dev[np.isfinite(dev)])
    lim = max(float(finite.max()) if finite.size else 1.0, 1.0)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    cmap = plt.get_cmap("RdBu_r")
    # layout: each root gets a span ∝ its weight; children split their parent's span ∝ weight
    total_w = float(nodes[nodes.depth == 0].crush_weight.sum())
    n_roots = int((nodes.depth == 0).sum())
    x0: dict[int, float] = {}
    width: dict[int, float] = {}
    cursor = 0.0
    kids: dict[int, list[int]] = {}
    for r in nodes.itertuples(index=False):
        if not pd.isna(r.parent_id):
            kids.setdefault(int(r.parent_id), []).append(int(r.id))
    weight = dict(zip(nodes.id.astype(int), nodes.crush_weight.astype(float), strict=True))
    for r in nodes[nodes.depth == 0].itertuples(index=False):
        w = weight[int(r.id)] / total_w if total_w > 0 else 1.0 / n_roots
        x0[int(r.id)], width[int(r.id)] = cursor, w
        cursor += w
    for r in nodes.itertuples(index=False):
        node = int(r.id)
        ch = kids.get(node, [])
        tot = sum(weight[c] for c in ch)
        pos = x0[node]
        for c in ch:
            share = weight[c] / tot if tot > 0 else 1.0 / len(ch)
            x0[c], width[c] = pos, width[node] * share
            pos += width[c]
    fig = ax.figure
    fig_w_px = fig.get_figwidth() * fig.dpi * ax.get_position().width
    rect_opts: dict[str, Any] = {"edgecolor": "white", "linewidth": 0.8}
    for r, d in zip(nodes.itertuples(index=False), dev, strict=True):
        node = int(r.id)
        y = -int(r.depth)
        color = cmap(norm(d)) if np.isfinite(d) else (0.85, 0.85, 0.85, 1.0)
        px = width[node] * fig_w_px
        opts = {**rect_opts, "facecolor": color, "gid": str(node)}
        if px < 4:
            opts["linewidth"] = 0.0
        opts.update(kwargs)
        ax.add_patch(Rectangle((x0[node], y - 0.45), width[node], 0.9, **opts))
        share = f"{100 * r.pg_share:.1f}% PGs" if np.isfinite(r.pg_share) else "no PGs"
        lines = [str(r.name), f"w {r.crush_weight:g}", share]
        if r.type == "osd" and isinstance(r.device_class, str):
            lines.insert(1, r.device_class)
        if px >= 70:
            text = "\n".join(lines)
        elif px >= 12:
            text = str(r.name).replace("osd.", "")
        else:
            continue
        r_, g_, b_ = color[:3]
        dark = 0.299 * r_ + 0.587 * g_ + 0.114 * b_ < 0.5
        ax.text(x0[node] + width[node] / 2, y, text, ha="center", va="center", color="white" if dark else "black",
                fontsize=8 if px >= 70 else 6, rotation=0 if px >= 70 else 90)
    depth_max = int(nodes.depth.max())
    types = nodes.groupby("depth")["type"].agg(lambda s: "/".join(dict.fromkeys(map(str, s))))
    ax.set_yticks([-d for d in range(depth_max + 1)], [types.get(d, "") for d in range(depth_max + 1)])
    ax.set_ylim(-depth_max - 0.55, 0.55)
    ax.set_xlim(0, max(cursor, 1e-9))
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="PG share vs weight share (%)", fraction=0.03, pad=0.01)
    ax.set_title(f"CRUSH hierarchy: width ∝ CRUSH weight, colour = PG share ({by}) vs weight share")
    return ax


