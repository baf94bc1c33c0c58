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
``movement``        a what-if Plan: PG copies in/out per OSD, or          ``Plan.movement``, ``host_flows``
                    shards from host → to host
``fullness``        a Plan: projected %used before/after, full ratios     ``Plan.osd_load``
``pg_num_steps``    a stepwise Plan: pg_num/pgp_num, moved %, peak PGs    ``Plan.pools``, ``Plan.steps``
``failures``        a failure step: PGs lost / inactive / degraded per     ``Plan.failure_pools()``
                    pool
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

from .. import analysis
from ..model import Snapshot
from .base import axes as _axes
from .base import bytes_label as _human_bytes
from .base import plan_of as _plan
from .base import plan_step as _plan_step
from .failures import failures

__all__ = ["pg_heatmap", "osd_bars", "pg_histogram", "crush_tree", "movement", "fullness", "pg_num_steps",
           "failures"]

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


# --------------------------------------------------------------------------------------------------
# what-if plans (pgtools.simulate.Plan)

_RATIO_STYLE = {"nearfull_ratio": ("nearfull", "tab:orange", ":"),
                "backfillfull_ratio": ("backfillfull", "tab:red", "--"),
                "full_ratio": ("full", "darkred", "-")}


def _plan_hosts(plan: Any, steps: list[int]) -> pd.Series:
    """osd_id -> host over the given steps' snapshots (later steps win)."""
    parts = [_host_of(plan.snapshots[k]) for k in steps if k < len(plan.snapshots)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.Series(dtype=object)
    s = pd.concat(parts)
    return s[~s.index.duplicated(keep="last")]


def _osd_xaxis(ax: Axes, order: list[int], osd_hosts: list[str]) -> None:
    """OSD ids as ticks when readable, else host names at their group centres (as :func:`osd_bars`)."""
    n = len(order)
    runs = _runs(osd_hosts)
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


def movement(plan: Any, *, step: int | None = None, by: str = "osd", ax: Axes | None = None,
             **kwargs: Any) -> Axes:
    """What a what-if plan moves: PG copies in/out per OSD, or a from → to matrix of shards by host.

    Parameters
    ----------
    plan : Plan
        The result of :func:`pgtools.simulate.simulate`.
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
    plan = _plan(plan, "movement")
    _check_choice("by", by, ("osd", "host"))
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
        return _movement_by_host(plan, steps, hosts, title, ax, kwargs)
    mv = plan.movement[plan.movement["step"].isin(steps)].groupby("osd_id")[["pgs_in", "pgs_out"]].sum()
    ids = set(int(o) for o in mv.index)
    for s in (steps[0] - 1, *steps):
        ids |= set(int(o) for o in plan.osd_load.loc[plan.osd_load["step"] == s, "osd_id"])
    order, osd_hosts = _osd_order(ids, hosts)
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


def _movement_by_host(plan: Any, steps: list[int], hosts: pd.Series, title: str, ax: Axes | None,
                      kwargs: dict[str, Any]) -> Axes:
    import seaborn as sns

    ec = set()
    for s in (steps[0] - 1, *steps):
        pools = plan.snapshots[s].pools
        if len(pools) and "type" in pools.columns:
            ec |= {int(p) for p in pools.loc[pools["type"] == "erasure", "pool_id"]}
    frames = [analysis.host_flows(plan.mappings[s - 1], plan.mappings[s], hosts, erasure_pools=ec) for s in steps]
    flows = pd.concat(frames).groupby(["from_host", "to_host"], as_index=False)["shards"].sum()
    order = list(dict.fromkeys(_osd_order(hosts.index, hosts)[1])) if len(hosts) else []
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
        sns.heatmap(table, ax=ax, xticklabels=_thin(table.shape[1], 60), yticklabels=_thin(table.shape[0], 60),
                    **opts)
    ax.tick_params(axis="x", labelrotation=90, labelsize=8 if nh > 10 else 9)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8 if nh > 10 else 9)
    ax.set_xlabel("to host" + hidden)
    ax.set_ylabel("from host")
    ax.set_title(f"{title}; {total} shards ({within} within a host)", fontsize=10)
    return ax


def fullness(plan: Any, *, step: int = -1, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Projected %used per OSD after a plan step, against before, with the full ratios.

    Parameters
    ----------
    plan : Plan
        The result of :func:`pgtools.simulate.simulate`; %used is ``plan.osd_load.utilization`` (projected,
        see :mod:`pgtools.simulate`).
    step : int
        The step to show (default: the last); "before" is step 0.
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
    plan = _plan(plan, "fullness")
    k = _plan_step(plan, step)
    load = plan.osd_load
    before = load[load["step"] == 0].set_index("osd_id")["utilization"].astype(float)
    after = load[load["step"] == k].set_index("osd_id")["utilization"].astype(float)
    hosts = _plan_hosts(plan, [0, k])
    order, osd_hosts = _osd_order(set(before.index) | set(after.index), hosts)
    yb = before.reindex(order).to_numpy(dtype=float)
    ya = after.reindex(order).to_numpy(dtype=float)
    from ..mgr import options

    ratios = {key: 100.0 * float(st.value) for key, st in options.full_ratios(plan.snapshots[k]).items()}
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
    ax.set_title(f"%used per OSD, before vs after\n{_step_title(plan, k)}")
    return ax


def pg_num_steps(plan: Any, *, pool: int | str | None = None, ax: Any = None, **kwargs: Any) -> list[Axes]:
    """A stepwise pg_num/pgp_num plan over its steps: the pool's pg_num and pgp_num, and what each step moves.

    Parameters
    ----------
    plan : Plan
        The result of :func:`pgtools.simulate.simulate` (usually with ``stepwise=True``).
    pool : int or str, optional
        Pool id or name; default: the pool whose pgp_num changes over most steps.
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
    from ..model import NONE

    plan = _plan(plan, "pg_num_steps")
    pools = plan.pools
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
    top.set_title(f"pool {name}: pg_num {int(start.pg_num)} → {int(end.pg_num)}, pgp_num {int(start.pgp_num)} → "
                  f"{int(end.pgp_num)} in {len(plan.steps) - 1} step{'s' if len(plan.steps) != 2 else ''}")
    steps = plan.steps
    sx = steps["step"].to_numpy(dtype=np.int64)
    copies = np.array([sum(sum(1 for o in u if o != NONE) for u in m["up"]) for m in plan.mappings], dtype=float)
    pct = np.where(copies > 0, 100.0 * steps["shards_moved"].to_numpy(dtype=float) / np.maximum(copies, 1), 0.0)
    opts: dict[str, Any] = {"color": "#8fb0d9", "width": 0.8, "label": "% of PG copies written in the step"}
    opts.update(kwargs)
    bottom.bar(sx, pct, **opts)
    bottom.set_ylabel("% of PG copies moved")
    bottom.set_xlabel("step")
    bottom.set_ylim(0, max(float(pct.max()) * 1.6, 1.0))
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    twin = bottom.twinx()
    twin.plot(sx, steps["max_pgs_per_osd"].to_numpy(dtype=np.int64), color="black", marker=".",
              linewidth=1.2, label="peak PGs per OSD")
    limit = float(analysis.health_limits(plan.snapshots[0])["mon_max_pg_per_osd"])
    twin.axhline(limit, color="tab:red", linestyle="--", linewidth=1.3, label=f"mon_max_pg_per_osd = {limit:g}")
    peak = float(steps["max_pgs_per_osd"].max())
    twin.set_ylim(0, max(peak, limit) * 1.25)
    twin.set_ylabel("PG copies on the fullest OSD")
    h1, l1 = bottom.get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    bottom.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3, fontsize=8,
                  frameon=False)
    bottom.set_title(f"moved per step (total {_human_bytes(steps['bytes_moved'].sum())} written)")
    return [top, bottom, twin]


