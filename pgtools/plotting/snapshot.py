"""Plots of one snapshot: the pool × OSD heatmap, PGs per OSD as bars, and their histogram.

Each function takes a :class:`~pgtools.model.Snapshot`, or as ``data=`` the tidy DataFrame it draws (see each
function), and keyword-only options; draws on ``ax`` (a new figure when None), returns the Axes, never shows.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from .. import analysis
from ..model import Snapshot
from .base import (
    MAX_OSD_ROWS,
    check_choice,
    host_colors,
    host_of,
    label_runs,
    label_step,
    osd_order,
    pool_labels,
    snapshot_of,
)
from .base import axes as _axes

__all__ = ["pg_heatmap", "osd_bars", "pg_histogram"]

_TARGET_LABEL = "weight-share target"
_UTIL_TARGET_LABEL = "cluster-wide %used"
_BAND_LABEL = "target ± 1 expected stddev"
_EXPECTED_LABEL = "binomial expectation (random placement)"

# --------------------------------------------------------------------------------------------------
# pool × OSD heatmap


def pg_heatmap(data: Snapshot | pd.DataFrame, *, by: str = "up", normalize: bool = False, group: str | None = "host",
               max_rows: int = MAX_OSD_ROWS, annot: bool | None = None, ax: Axes | None = None,
               **kwargs: Any) -> Axes:
    """Pool × OSD heatmap of PG copies (the seed memo's table as a picture).

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or the frame to draw, one of:

        - tidy, one row per OSD and pool: ``osd_id``, ``pool_id`` and the value, ``pgs`` (or
          ``deviation_pct`` with ``normalize=True``); optional ``pool`` (names for the columns) and ``host``
          (rows grouped by host when ``group="host"``): :func:`~pgtools.analysis.imbalance` with
          ``per_pool=True``;
        - the placements, one row per PG copy: ``pgid``, ``pool_id``, ``osd_id``, optional ``pool``
          (:func:`pgtools.placements`, whose ``by`` decides what is counted), or one row per PG: ``pgid``,
          ``pool_id`` and the ``by`` column (``up``, ``acting``: lists of OSD ids; ``up_primary``,
          ``acting_primary``: an OSD id) as in ``snap.pgs``, counted with :func:`~pgtools.analysis.pg_table`;
        - wide, OSD × pool (:func:`~pgtools.analysis.pg_table`; a ``total`` row/column is dropped), drawn as
          given, without host grouping.
    by : {"up", "acting", "up_primary", "acting_primary"}
        Which mapping to count (see :func:`pgtools.analysis.pg_table`).
    normalize : bool
        False: raw counts (:func:`~pgtools.analysis.pg_table`).  True: % deviation of each cell from
        its weight-share target (:func:`~pgtools.analysis.imbalance` with ``per_pool=True``) on a diverging
        palette centred on 0; cells with no target are blank.  For a DataFrame, only selects that palette.
    group : {"host", None}
        ``"host"``: rows are OSDs grouped by host, with separators and host names on the right; above
        ``max_rows`` OSDs, one row per host (sums, see :func:`~pgtools.analysis.distribution.group_imbalance`).
        None: one row per OSD in id order, labels thinned out when there are many.
    max_rows : int
        OSD count above which ``group="host"`` aggregates to hosts.
    annot : bool, optional
        Write the value in each cell; default: when there are at most 400 cells.
    ax : Axes, optional
    **kwargs
        Passed to :func:`seaborn.heatmap` (e.g. ``cmap``, ``vmin``, ``vmax``, ``linewidths``).

    Returns
    -------
    Axes
        The heatmap is ``ax.collections[0]`` (a QuadMesh whose array holds the drawn values, rows × pools).
    """
    import seaborn as sns

    check_choice("by", by, analysis.BY_CHOICES)
    check_choice("group", group, ("host", None))
    if isinstance(data, pd.DataFrame):
        table, row_labels, col_labels, row_hosts, by_host = _given_table(data, by, normalize, group)
    else:
        table, row_labels, col_labels, row_hosts, by_host = _heatmap_table(
            snapshot_of(data, "pg_heatmap"), by, normalize, group, max_rows)
    values = table.to_numpy(dtype=float)
    nrows, ncols = values.shape
    ax = _axes(ax, (min(4.0 + 0.55 * ncols, 16.0), min(2.5 + 0.3 * nrows, 14.0)))
    if annot is None:
        annot = nrows * ncols <= 400
    opts: dict[str, Any] = {"annot": annot, "linewidths": 0.5 if nrows * ncols <= 2000 else 0.0,
                            "linecolor": "white", "square": False}
    integer = bool(np.isfinite(values).all() and (values == np.round(values)).all())
    if normalize:
        finite = np.abs(values[np.isfinite(values)])
        lim = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        opts.update(cmap="RdBu_r", center=0.0, vmin=-lim, vmax=lim, fmt=".0f",
                    cbar_kws={"label": "% deviation from weight-share target"})
    else:
        opts.update(cmap="viridis", fmt="d" if integer else ".3g",
                    cbar_kws={"label": "PG copies per host" if by_host else "PG copies per OSD"})
    if annot:
        opts["annot_kws"] = {"fontsize": 7 if ncols > 10 else 8}
        if normalize:  # annotate rounded values so that -0.3 % reads "0", not "-0"
            opts["annot"] = np.round(values) + 0.0
    opts["cbar_kws"]["pad"] = 0.1 if row_hosts else 0.02
    if "cbar_kws" in kwargs:
        opts["cbar_kws"].update(kwargs.pop("cbar_kws"))
    opts.update(kwargs)
    cells = values.astype(np.int64) if integer and not normalize else values
    frame = pd.DataFrame(cells, index=row_labels, columns=col_labels)
    step = label_step(nrows, 60)
    with warnings.catch_warnings():
        # seaborn 0.13 calls Colormap.set_bad, which matplotlib 3.11 announces it will deprecate
        warnings.filterwarnings("ignore", message="The set_bad function", category=PendingDeprecationWarning)
        sns.heatmap(frame, ax=ax, yticklabels=step, xticklabels=True, **opts)
    ax.tick_params(axis="x", labelrotation=90, labelsize=8 if ncols > 10 else 9)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8 if nrows > 20 else 9)
    ax.set_xlabel("pool")
    ax.set_ylabel("host" if by_host else "OSD")
    if row_hosts:
        runs = label_runs(row_hosts)
        trans = blended_transform_factory(ax.transAxes, ax.transData)
        label_every = label_step(len(runs), 40)
        for i, (h, start, stop) in enumerate(runs):
            if start > 0:
                ax.axhline(start, color="black", linewidth=1.2 if len(runs) <= 40 else 0.5)
            if i % label_every == 0:
                ax.text(1.01, (start + stop) / 2, h, transform=trans, ha="left", va="center",
                        fontsize=8 if len(runs) > 10 else 9, clip_on=False)
    what = "% deviation from target" if normalize else "PG copies"
    suffix = "" if isinstance(data, pd.DataFrame) and by not in data.columns else f" ({by})"
    ax.set_title(f"{what} per {'host' if by_host else 'OSD'} and pool{suffix}")
    return ax


def _given_table(data: pd.DataFrame, by: str, normalize: bool,
                 group: str | None) -> tuple[pd.DataFrame, list[str], list[str], list[str], bool]:
    """The table of a given frame (tidy, placements or wide: see :func:`pg_heatmap`) and its labels."""
    value = "deviation_pct" if normalize else "pgs"
    if {"pgid", "pool_id", "osd_id"} <= set(data.columns) and value not in data.columns:  # one row per PG copy
        if normalize:
            raise ValueError("normalize=True needs a snapshot or a tidy frame with deviation_pct, not placements")
        extra = {"pool": ("pool", "first")} if "pool" in data.columns else {}
        data = data.groupby(["osd_id", "pool_id"], as_index=False).agg(pgs=("pgid", "size"), **extra)
    if {"osd_id", "pool_id", value} <= set(data.columns):  # tidy: one row per OSD and pool
        if data.empty:
            raise ValueError("nothing to plot: the table is empty")
        table = data.pivot_table(index="osd_id", columns="pool_id", values=value, aggfunc="sum", dropna=False)
        table.index = table.index.astype(np.int64)
        if not normalize:
            table = table.fillna(0)
        names = _pool_names(data)
        cols = [names.get(int(p), str(p)) for p in table.columns]
        if group == "host" and "host" in data.columns:
            hosts = data.drop_duplicates("osd_id").set_index("osd_id")["host"].astype(object).fillna("(no host)")
            hosts.index = hosts.index.astype(np.int64)
            order, row_hosts = osd_order(table.index, hosts)
            table = table.reindex(index=order)
            return table, [f"osd.{o}" for o in order], cols, row_hosts, False
        table = table.sort_index()
        return table, [f"osd.{o}" for o in table.index], cols, [], False
    if {"pool_id", by} <= set(data.columns) and ("pgid" in data.columns or "ps" in data.columns):  # placements
        if normalize:
            raise ValueError("normalize=True needs a snapshot or a tidy frame with deviation_pct, not placements")
        names = _pool_names(data)
        data = analysis.pg_table(data, by)
        if data.empty:
            raise ValueError(f"nothing to plot: no PG maps to an OSD ({by})")
    else:
        names = {}
    table = data.drop(columns="total", errors="ignore").drop(index="total", errors="ignore")
    if table.empty:
        raise ValueError("nothing to plot: the table is empty")
    rows = [f"osd.{o}" if isinstance(o, (int, np.integer)) else str(o) for o in table.index]
    return table, rows, [names.get(c, str(c)) for c in table.columns], [], False


def _pool_names(data: pd.DataFrame) -> dict[int, str]:
    """pool_id -> name from a frame's ``pool`` column (pools without a name are left out)."""
    if "pool" not in data.columns:
        return {}
    return {int(p): str(n) for p, n in zip(data["pool_id"], data["pool"], strict=True) if isinstance(n, str) and n}


def _heatmap_table(snap: Snapshot, by: str, normalize: bool, group: str | None,
                   max_rows: int) -> tuple[pd.DataFrame, list[str], list[str], list[str], bool]:
    """The table to draw, its row and column labels, each row's host (for separators), by-host flag."""
    hosts = host_of(snap)
    if normalize:
        long = analysis.imbalance(snap, by, per_pool=True)
        table = long.pivot(index="osd_id", columns="pool_id", values="deviation_pct")
        pool_ids = sorted(set(int(p) for p in table.columns)
                          | set(int(p) for p in analysis.pg_table(snap, by).columns))
        table = table.reindex(columns=pool_ids)
    else:
        table = analysis.pg_table(snap, by)
        pool_ids = [int(p) for p in table.columns]
    if table.empty:
        raise ValueError(f"nothing to plot: no PG maps to an OSD ({by})")
    table.index = table.index.astype(np.int64)
    by_host = group == "host" and len(table) > max_rows
    if by_host:
        if normalize:
            im = long.copy()
            im["host"] = im.osd_id.map(hosts).fillna("(no host)")
            g = analysis.group_imbalance(im, "host")
            table = g.pivot(index="host", columns="pool_id", values="deviation_pct")
            row_order = list(dict.fromkeys(g.host))
        else:
            im = analysis.imbalance(snap, by, per_pool=True)
            im["host"] = im.osd_id.map(hosts).fillna("(no host)")
            g = analysis.group_imbalance(im, "host")
            table = g.pivot(index="host", columns="pool_id", values="pgs").fillna(0).astype(np.int64)
            row_order = list(dict.fromkeys(g.host))
        table = table.reindex(index=row_order, columns=pool_ids)
        row_labels = [str(h) for h in row_order]
        row_hosts: list[str] = []
    elif group == "host":
        order, row_hosts = osd_order(table.index, hosts)
        table = table.reindex(index=order)
        row_labels = [f"osd.{o}" for o in order]
    else:
        table = table.sort_index()
        row_hosts = []
        row_labels = [f"osd.{o}" for o in table.index]
    return table, row_labels, pool_labels(snap, pool_ids), row_hosts, by_host


# --------------------------------------------------------------------------------------------------
# per-OSD bars


def osd_bars(data: Snapshot | pd.DataFrame, *, by: str = "up", value: str = "pgs", limit: float | None = None,
             ax: Axes | None = None, **kwargs: Any) -> Axes:
    """PGs (or %used) per OSD as bars coloured by host, against the weight-share target.

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or a computed per-OSD table with ``osd_id``, the ``value`` column and ``target``
        (optional ``host``, and ``expected_stddev`` for the band): :func:`~pgtools.analysis.imbalance`,
        :func:`~pgtools.analysis.distribution.expected_spread` or :func:`~pgtools.analysis.distribution.osd_utilization`.
    by : {"up", "acting", "up_primary", "acting_primary"}
        Which mapping to count (``value="pgs"``).
    value : {"pgs", "utilization"}
        ``"pgs"``: PG copies per OSD (:func:`~pgtools.analysis.imbalance`), with the weight-share target as
        a line and a band of ± 1 standard deviation of random placement around it
        (:func:`~pgtools.analysis.distribution.expected_spread`; with equal weights the ``expected_stddev`` of
        :func:`~pgtools.analysis.imbalance_summary`).  ``"utilization"``: %used per OSD
        (:func:`~pgtools.analysis.distribution.osd_utilization`) against the cluster-wide %used.
    limit : float, optional
        Draw a horizontal limit line, e.g. ``mon_max_pg_per_osd`` (or a nearfull % for utilization).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.bar`.

    Returns
    -------
    Axes
        Bars are ``ax.containers[0]`` in the plotted order (OSDs grouped by host); the target, band and
        limit are the artists labelled "weight-share target", "target ± 1 expected stddev" and
        "mon_max_pg_per_osd = …".
    """
    check_choice("by", by, analysis.BY_CHOICES)
    check_choice("value", value, ("pgs", "utilization"))
    snap: Snapshot | None = None
    if isinstance(data, pd.DataFrame):
        df = data
        missing = {"osd_id", value, "target"} - set(df.columns)
        if missing:
            raise ValueError(f"the table has no column(s) {', '.join(sorted(missing))}")
        hosts = (df.set_index("osd_id")["host"].astype(object).fillna("(no host)") if "host" in df.columns
                 else pd.Series(dtype=object))
        hosts.index = hosts.index.astype(np.int64)
    else:
        snap = snapshot_of(data, "osd_bars")
        hosts = host_of(snap)
        df = analysis.imbalance(snap, by) if value == "pgs" else analysis.osd_utilization(snap)
    heights, targets = df.set_index("osd_id")[value], df.set_index("osd_id").target
    order, osd_hosts = osd_order(heights.index, hosts)
    n = len(order)
    x = np.arange(n)
    y = heights.reindex(order).to_numpy(dtype=float)
    t = targets.reindex(order).to_numpy(dtype=float)
    ax = _axes(ax, (min(max(7.5, 0.35 * n + 4.0), 16.0), 4.5))
    colors = host_colors(osd_hosts)
    bar_opts: dict[str, Any] = {"width": 0.8 if n <= MAX_OSD_ROWS else 1.0,
                                "linewidth": 0 if n > MAX_OSD_ROWS else 0.5, "edgecolor": "white"}
    bar_opts["color"] = [colors[h] for h in osd_hosts]
    bar_opts.update(kwargs)
    ax.bar(x, y, **bar_opts)
    ax.plot(x, t, drawstyle="steps-mid", color="black", linewidth=1.2,
            label=_TARGET_LABEL if value == "pgs" else _UTIL_TARGET_LABEL)
    if value == "pgs" and (snap is not None or "expected_stddev" in df.columns):
        src = analysis.expected_spread(snap, by) if snap is not None else df
        spread = src.set_index("osd_id").expected_stddev
        sd = spread.reindex(order).to_numpy(dtype=float)
        if np.isfinite(sd).any():
            ax.fill_between(x, t - sd, t + sd, step="mid", color="grey", alpha=0.3, linewidth=0,
                            label=_BAND_LABEL)
    if value == "pgs" and snap is not None:
        summary = analysis.imbalance_summary(snap, by)
        if int(summary.get("n_osds", 0)):
            note = f"stddev {float(summary['stddev']):.1f}\nexpected {float(summary['expected_stddev']):.1f}"
            if len(spread) and not np.allclose(spread, spread.iloc[0]):  # unequal weights
                note = (f"stddev {float(summary['stddev']):.1f}\n(equal weights would give "
                        f"{float(summary['expected_stddev']):.1f})\n"
                        f"rms(pgs − target) {float(summary['weighted_stddev']):.1f}")
            ax.text(1.02, 0.0, note, transform=ax.transAxes, ha="left", va="bottom", fontsize=8)
    if limit is not None:
        lab = f"mon_max_pg_per_osd = {limit:g}" if value == "pgs" else f"limit = {limit:g} %"
        ax.axhline(float(limit), color="tab:red", linestyle="--", linewidth=1.5, label=lab)
    # x axis: OSD ids when readable, else host names at their group centre
    runs = label_runs(osd_hosts)
    if n <= MAX_OSD_ROWS:
        ax.set_xticks(x, [str(o) for o in order], fontsize=8 if n > 24 else 9,
                      rotation=90 if n > 30 else 0)
        ax.set_xlabel("OSD (grouped by host)")
    else:
        every = label_step(len(runs), 60)
        centres = [(a + b - 1) / 2 for _h, a, b in runs][::every]
        ax.set_xticks(centres, [h for h, _a, _b in runs][::every], rotation=90, fontsize=7)
        ax.set_xlabel(f"{n} OSDs, grouped by host")
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylabel("PG copies" if value == "pgs" else "%used")
    top = np.nanmax(np.concatenate([y, t, [float(limit) if limit is not None else 0.0]])) if n else 1.0
    ax.set_ylim(0, top * 1.18 if top > 0 else 1.0)
    handles, labels = ax.get_legend_handles_labels()
    uniq = list(dict.fromkeys(osd_hosts))
    if len(uniq) <= 10:
        handles += [Rectangle((0, 0), 1, 1, color=colors[h]) for h in uniq]
        labels += uniq
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    what = f"PG copies per OSD ({by})" if value == "pgs" else "%used per OSD"
    ax.set_title(what)
    return ax


# --------------------------------------------------------------------------------------------------
# histogram


def pg_histogram(data: Snapshot | pd.DataFrame, *, by: str = "up", bins: int = 20, ax: Axes | None = None,
                 **kwargs: Any) -> Axes:
    """Distribution of PGs per OSD against the binomial spread of uniformly random placement.

    The expectation is :func:`~pgtools.analysis.distribution.pg_count_histogram`: Binomial(copies, 1/N) scaled to N OSDs
    for equal weights, the sum of each OSD's Binomial(copies, weight share) otherwise.

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or the output of :func:`~pgtools.analysis.distribution.pg_count_histogram`.
    by : {"up", "acting", "up_primary", "acting_primary"}
    bins : int
        About how many bins (see :func:`~pgtools.analysis.distribution.pg_count_histogram`).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.bar` for the observed histogram.

    Returns
    -------
    Axes
        Observed bins are ``ax.containers[0]`` (heights = OSDs per bin); the line labelled
        "binomial expectation (random placement)" has the expected OSDs per bin at the bin centres.
    """
    check_choice("by", by, analysis.BY_CHOICES)
    snap: Snapshot | None = None
    if isinstance(data, pd.DataFrame):
        h = data
        missing = {"left", "right", "osds", "expected"} - set(h.columns)
        if missing:
            raise ValueError(f"the table has no column(s) {', '.join(sorted(missing))}")
    else:
        snap = snapshot_of(data, "pg_histogram")
        h = analysis.pg_count_histogram(snap, by, bins=bins)
    ax = _axes(ax, (7.0, 4.0))
    left = h.left.to_numpy(dtype=float)
    width = (h.right - h.left).to_numpy(dtype=float)
    opts: dict[str, Any] = {"color": "#4c72b0", "edgecolor": "white", "linewidth": 0.5,
                            "label": "observed OSDs"}
    opts.update(kwargs)
    ax.bar(left, h.osds.to_numpy(dtype=float), width=width, align="edge", **opts)
    ax.plot(left + width / 2, h.expected.to_numpy(dtype=float), color="tab:orange", marker="o",
            markersize=3, linewidth=1.5, label=_EXPECTED_LABEL)
    if len(h) and snap is not None:
        summary = analysis.imbalance_summary(snap, by)
        ax.axvline(float(summary["mean"]), color="black", linestyle=":", linewidth=1, label="mean")
        ax.text(0.99, 0.97,
                f"{h.attrs['n_osds']} OSDs, {h.attrs['n']} copies\nmean {float(summary['mean']):.1f}\n"
                f"stddev {float(summary['stddev']):.1f} (expected {float(summary['expected_stddev']):.1f})"
                + ("" if h.attrs["equal_weights"] else
                   f"\nunequal weights: rms(pgs − target) {float(summary['weighted_stddev']):.1f}"),
                transform=ax.transAxes, ha="right", va="top", fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "linewidth": 0})
    ax.set_xlabel(f"PG copies per OSD ({by})")
    ax.set_ylabel("OSDs")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    top = max(float(h.osds.max()), float(h.expected.max())) if len(h) else 1.0
    ax.set_ylim(0, top * 1.4)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("PGs per OSD vs random placement")
    return ax


