"""Plots of PG placement: matplotlib/seaborn drawings of what :mod:`pgtools.analysis` computes.

Every function takes a :class:`~pgtools.model.Snapshot` (or the DataFrame the matching
:mod:`pgtools.analysis` function returns) first and keyword-only options, draws on ``ax`` (a new figure when
``ax`` is None), returns the :class:`~matplotlib.axes.Axes` and never calls ``plt.show()``.  The numbers come
from :mod:`pgtools.analysis`; nothing here computes anything else.

==================  ===================================================  ==========================================
function            draws                                                numbers from
==================  ===================================================  ==========================================
``pg_heatmap``      pool × OSD (or × host) counts or % deviation         ``pg_table``, ``imbalance``,
                                                                         ``group_imbalance``
``osd_bars``        PGs or %used per OSD, target, ±1 sd band, limit       ``imbalance``, ``expected_spread``,
                                                                         ``osd_utilization``
``pg_histogram``    PGs-per-OSD histogram vs binomial expectation         ``pg_count_histogram``
``crush_tree``      CRUSH hierarchy icicle, weight vs PG share            ``crush_hierarchy``
==================  ===================================================  ==========================================

>>> from pgtools import plotting                                    # doctest: +SKIP
>>> ax = plotting.osd_bars(snap, limit=300)                         # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from . import analysis
from .model import Snapshot

__all__ = ["pg_heatmap", "osd_bars", "pg_histogram", "crush_tree"]

#: Above this many OSDs, per-OSD labels are thinned out and ``pg_heatmap(group="host")`` shows hosts.
MAX_OSD_ROWS = 60

_TARGET_LABEL = "weight-share target"
_UTIL_TARGET_LABEL = "cluster-wide %used"
_BAND_LABEL = "target ± 1 expected stddev"
_EXPECTED_LABEL = "binomial expectation (random placement)"


# --------------------------------------------------------------------------------------------------
# helpers


def _check_choice(name: str, value: Any, options: tuple) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, not {value!r}")


def _snapshot(data: Any, func: str) -> Snapshot:
    if not isinstance(data, Snapshot):
        raise TypeError(f"{func} needs a Snapshot, not {type(data).__name__}")
    return data


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _fig, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _host_of(snap: Snapshot) -> pd.Series:
    """osd_id -> host name ("(no host)" when unknown)."""
    osds = snap.osds
    if len(osds) and "host" in osds.columns:
        s = osds.set_index("osd_id")["host"]
        s.index = s.index.astype(np.int64)
        return s.astype(object).where(s.notna(), "(no host)")
    return pd.Series(dtype=object)


def _osd_order(osd_ids: Any, hosts: pd.Series) -> tuple[list[int], list[str]]:
    """OSDs grouped by host (hosts in the order of their lowest OSD id), and each OSD's host."""
    ids = sorted(int(o) for o in osd_ids)
    host = [str(hosts.get(o, "(no host)")) for o in ids]
    first: dict[str, int] = {}
    for o, h in zip(ids, host, strict=True):
        first.setdefault(h, o)
    order = sorted(range(len(ids)), key=lambda i: (first[host[i]], ids[i]))
    return [ids[i] for i in order], [host[i] for i in order]


def _runs(labels: list[str]) -> list[tuple[str, int, int]]:
    """Consecutive runs ``(label, start, stop)`` of equal labels."""
    out: list[tuple[str, int, int]] = []
    for i, lab in enumerate(labels):
        if out and out[-1][0] == lab:
            out[-1] = (lab, out[-1][1], i + 1)
        else:
            out.append((lab, i, i + 1))
    return out


def _host_colors(hosts: list[str]) -> dict[str, Any]:
    """A colour per host: distinct hues for up to 10 hosts, else two alternating shades."""
    uniq = list(dict.fromkeys(hosts))
    if len(uniq) <= 10:
        pal = plt.get_cmap("tab10").colors
        return {h: pal[i] for i, h in enumerate(uniq)}
    pal = ("#4c72b0", "#8fb0d9")
    return {h: pal[i % 2] for i, h in enumerate(uniq)}


def _thin(n: int, max_labels: int) -> int:
    """A round label step (1, 2, 5, 10, 20, 25, 50, ...) that shows at most ``max_labels`` labels."""
    raw = max(1, math.ceil(n / max_labels))
    mag = 10 ** int(math.floor(math.log10(raw)))
    for m in (1, 2, 2.5, 5, 10):
        step = int(m * mag)
        if step >= raw and float(m * mag).is_integer():
            return step
    return raw


def _pool_labels(snap: Snapshot, pool_ids: list[int]) -> list[str]:
    names: dict[int, str] = {}
    if len(snap.pools) and "pool" in snap.pools.columns:
        names = {int(p): str(n) for p, n in zip(snap.pools.pool_id, snap.pools["pool"], strict=True)
                 if isinstance(n, str) and n}
    return [names.get(int(p), str(p)) for p in pool_ids]


# --------------------------------------------------------------------------------------------------
# pool × OSD heatmap


def pg_heatmap(data: Snapshot | pd.DataFrame, *, by: str = "up", normalize: bool = False, group: str | None = "host",
               max_rows: int = MAX_OSD_ROWS, annot: bool | None = None, ax: Axes | None = None,
               **kwargs: Any) -> Axes:
    """Pool × OSD heatmap of PG copies (the seed memo's table as a picture).

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or an already computed OSD × pool table (e.g. :func:`~pgtools.analysis.pg_table`,
        a ``total`` row/column is dropped) drawn as given, without host grouping.
    by : {"up", "acting", "up_primary", "acting_primary"}
        Which mapping to count (see :func:`pgtools.analysis.pg_table`).
    normalize : bool
        False: raw counts (:func:`~pgtools.analysis.pg_table`).  True: % deviation of each cell from
        its weight-share target (:func:`~pgtools.analysis.imbalance` with ``per_pool=True``) on a diverging
        palette centred on 0; cells with no target are blank.  For a DataFrame, only selects that palette.
    group : {"host", None}
        ``"host"``: rows are OSDs grouped by host, with separators and host names on the right; above
        ``max_rows`` OSDs, one row per host (sums, see :func:`~pgtools.analysis.group_imbalance`).
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

    _check_choice("by", by, analysis.BY_CHOICES)
    _check_choice("group", group, ("host", None))
    if isinstance(data, pd.DataFrame):
        table, row_labels, col_labels, row_hosts, by_host = _given_table(data)
    else:
        table, row_labels, col_labels, row_hosts, by_host = _heatmap_table(
            _snapshot(data, "pg_heatmap"), by, normalize, group, max_rows)
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
    step = _thin(nrows, 60)
    with warnings.catch_warnings():
        # seaborn 0.13 calls Colormap.set_bad, which matplotlib 3.11 announces it will deprecate
        warnings.filterwarnings("ignore", message="The set_bad function", category=PendingDeprecationWarning)
        sns.heatmap(frame, ax=ax, yticklabels=step, xticklabels=True, **opts)
    ax.tick_params(axis="x", labelrotation=90, labelsize=8 if ncols > 10 else 9)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8 if nrows > 20 else 9)
    ax.set_xlabel("pool")
    ax.set_ylabel("host" if by_host else "OSD")
    if row_hosts:
        runs = _runs(row_hosts)
        trans = blended_transform_factory(ax.transAxes, ax.transData)
        label_every = _thin(len(runs), 40)
        for i, (h, start, stop) in enumerate(runs):
            if start > 0:
                ax.axhline(start, color="black", linewidth=1.2 if len(runs) <= 40 else 0.5)
            if i % label_every == 0:
                ax.text(1.01, (start + stop) / 2, h, transform=trans, ha="left", va="center",
                        fontsize=8 if len(runs) > 10 else 9, clip_on=False)
    what = "% deviation from target" if normalize else "PG copies"
    suffix = "" if isinstance(data, pd.DataFrame) else f" ({by})"
    ax.set_title(f"{what} per {'host' if by_host else 'OSD'} and pool{suffix}")
    return ax


def _given_table(data: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str], list[str], bool]:
    table = data.drop(columns="total", errors="ignore").drop(index="total", errors="ignore")
    if table.empty:
        raise ValueError("nothing to plot: the table is empty")
    rows = [f"osd.{o}" if isinstance(o, (int, np.integer)) else str(o) for o in table.index]
    return table, rows, [str(c) for c in table.columns], [], False


def _heatmap_table(snap: Snapshot, by: str, normalize: bool, group: str | None,
                   max_rows: int) -> tuple[pd.DataFrame, list[str], list[str], list[str], bool]:
    """The table to draw, its row and column labels, each row's host (for separators), by-host flag."""
    hosts = _host_of(snap)
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
        order, row_hosts = _osd_order(table.index, hosts)
        table = table.reindex(index=order)
        row_labels = [f"osd.{o}" for o in order]
    else:
        table = table.sort_index()
        row_hosts = []
        row_labels = [f"osd.{o}" for o in table.index]
    return table, row_labels, _pool_labels(snap, pool_ids), row_hosts, by_host


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
        :func:`~pgtools.analysis.expected_spread` or :func:`~pgtools.analysis.osd_utilization`.
    by : {"up", "acting", "up_primary", "acting_primary"}
        Which mapping to count (``value="pgs"``).
    value : {"pgs", "utilization"}
        ``"pgs"``: PG copies per OSD (:func:`~pgtools.analysis.imbalance`), with the weight-share target as
        a line and a band of ± 1 standard deviation of random placement around it
        (:func:`~pgtools.analysis.expected_spread`; with equal weights the ``expected_stddev`` of
        :func:`~pgtools.analysis.imbalance_summary`).  ``"utilization"``: %used per OSD
        (:func:`~pgtools.analysis.osd_utilization`) against the cluster-wide %used.
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
    _check_choice("by", by, analysis.BY_CHOICES)
    _check_choice("value", value, ("pgs", "utilization"))
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
        snap = _snapshot(data, "osd_bars")
        hosts = _host_of(snap)
        df = analysis.imbalance(snap, by) if value == "pgs" else analysis.osd_utilization(snap)
    heights, targets = df.set_index("osd_id")[value], df.set_index("osd_id").target
    order, osd_hosts = _osd_order(heights.index, hosts)
    n = len(order)
    x = np.arange(n)
    y = heights.reindex(order).to_numpy(dtype=float)
    t = targets.reindex(order).to_numpy(dtype=float)
    ax = _axes(ax, (min(max(7.5, 0.35 * n + 4.0), 16.0), 4.5))
    colors = _host_colors(osd_hosts)
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
    runs = _runs(osd_hosts)
    if n <= MAX_OSD_ROWS:
        ax.set_xticks(x, [str(o) for o in order], fontsize=8 if n > 24 else 9,
                      rotation=90 if n > 30 else 0)
        ax.set_xlabel("OSD (grouped by host)")
    else:
        every = _thin(len(runs), 60)
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

    The expectation is :func:`~pgtools.analysis.pg_count_histogram`: Binomial(copies, 1/N) scaled to N OSDs
    for equal weights, the sum of each OSD's Binomial(copies, weight share) otherwise.

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or the output of :func:`~pgtools.analysis.pg_count_histogram`.
    by : {"up", "acting", "up_primary", "acting_primary"}
    bins : int
        About how many bins (see :func:`~pgtools.analysis.pg_count_histogram`).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.bar` for the observed histogram.

    Returns
    -------
    Axes
        Observed bins are ``ax.containers[0]`` (heights = OSDs per bin); the line labelled
        "binomial expectation (random placement)" has the expected OSDs per bin at the bin centres.
    """
    _check_choice("by", by, analysis.BY_CHOICES)
    snap: Snapshot | None = None
    if isinstance(data, pd.DataFrame):
        h = data
        missing = {"left", "right", "osds", "expected"} - set(h.columns)
        if missing:
            raise ValueError(f"the table has no column(s) {', '.join(sorted(missing))}")
    else:
        snap = _snapshot(data, "pg_histogram")
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


# --------------------------------------------------------------------------------------------------
# CRUSH hierarchy


def crush_tree(data: Snapshot | pd.DataFrame, *, by: str = "up", ax: Axes | None = None, **kwargs: Any) -> Axes:
    """The CRUSH hierarchy as an icicle: one row per level, widths ∝ CRUSH weight.

    Each rectangle is a bucket or OSD (:func:`~pgtools.analysis.crush_hierarchy`), labelled with its name,
    weight and share of the PGs when it is wide enough; its colour is how far its PG share is from its
    weight share (%, diverging palette centred on 0).  OSD labels also give the device class.

    Parameters
    ----------
    data : Snapshot or DataFrame
        A snapshot, or the output of :func:`~pgtools.analysis.crush_hierarchy`.
    by : {"up", "acting", "up_primary", "acting_primary"}
    ax : Axes, optional
    **kwargs
        Passed to :class:`matplotlib.patches.Rectangle` (e.g. ``edgecolor``, ``linewidth``).

    Returns
    -------
    Axes
        ``ax.patches`` holds one rectangle per node in :func:`~pgtools.analysis.crush_hierarchy` order,
        each with ``gid`` = the node id as a string.
    """
    _check_choice("by", by, analysis.BY_CHOICES)
    if isinstance(data, pd.DataFrame):
        nodes = data
        missing = {"id", "name", "type", "parent_id", "depth", "crush_weight", "device_class", "pg_share",
                   "weight_share"} - set(nodes.columns)
        if missing:
            raise ValueError(f"the table has no column(s) {', '.join(sorted(missing))}")
    else:
        nodes = analysis.crush_hierarchy(_snapshot(data, "crush_tree"), by)
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
