"""Durability plots (:mod:`pgtools.risk`): risk vs K per pool, loss probability vs pg_num, copyset overlap.

Each takes the object (a :class:`~pgtools.model.Snapshot` or :class:`~pgtools.risk.Copysets`; a sweep frame
for :func:`loss_vs_pg_num`) or ``data=``, the tidy frame it draws, and draws on ``ax``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..errors import PgtoolsWarning
from ..model import Snapshot
from ..risk import Copysets, failure_risk, pair_overlap
from .base import axes as _axes
from .base import check_choice, missing_columns

__all__ = ["risk_vs_k", "loss_vs_pg_num", "copyset_overlap", "RISK_MEASURES"]

#: What the y axis can show, and its label.
RISK_MEASURES = {
    "p_any_lost": "P(at least one PG lost)",
    "p_any_inactive": "P(at least one PG inactive)",
    "expected_pgs_lost": "expected PGs lost",
    "expected_pgs_inactive": "expected PGs inactive",
    "max_pgs_lost": "most PGs one failure set loses",
    "expected_bytes_lost": "expected bytes lost",
}
_CI = {"p_any_lost": ("method", "ci_low", "ci_high"),
       "p_any_inactive": ("inactive_method", "inactive_ci_low", "inactive_ci_high")}


def _draw_lines(ax: Axes, groups: list[tuple[str, pd.DataFrame, dict]], x: str, measure: str, **kwargs: Any) -> None:
    """One line per group (label and gid = its name, its own style first); sampled points get their 95 %
    interval as error bars."""
    for name, g, style in groups:
        g = g.sort_values(x)
        total = name == "(all)"
        opts: dict[str, Any] = {"marker": "o", "label": name, "lw": 2.4 if total else 1.4}
        if total:
            opts["color"] = "black"
        opts.update(style)
        opts.update(kwargs)
        (line,) = ax.plot(g[x].to_numpy(float), g[measure].to_numpy(float), **opts)
        line.set_gid(name)
        if measure in _CI and {_CI[measure][0], _CI[measure][1]} <= set(g.columns):
            meth, lo, hi = _CI[measure]
            s = g[g[meth] == "sampled"]
            if len(s):
                y = s[measure].to_numpy(float)
                err = np.vstack([y - s[lo].to_numpy(float), s[hi].to_numpy(float) - y])
                ax.errorbar(s[x].to_numpy(float), y, yerr=err, fmt="none", ecolor=line.get_color(), capsize=3,
                            label=f"_{name} 95% interval")


def risk_vs_k(obj: Any = None, *, data: pd.DataFrame | None = None, measure: str = "p_any_lost", level: str = "osd",
              failures: tuple[int, ...] = (1, 2, 3), log: bool = False, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Risk against the number of simultaneous failures K: one line per pool, and all pools in black.

    Parameters
    ----------
    obj : Snapshot or Copysets, optional
        Figures computed with :func:`~pgtools.risk.failure_risk` (``level``, ``failures``).
    data : DataFrame, optional
        A :func:`~pgtools.risk.failure_risk` frame (``failures, pool, <measure>`` [``method, ci_low,
        ci_high, level``]) drawn instead.
    measure : str
        A key of :data:`RISK_MEASURES`.
    log : bool
        Logarithmic y axis (probabilities of 0 are not drawn then).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.plot`.

    Returns
    -------
    Axes
        One line per pool (gid and label = pool name, ``"(all)"`` black), x = K, y = the measure; sampled
        figures carry an error-bar container each (label ``"_<pool> 95% interval"``, in ``ax.containers``)
        with their 95 % Wilson interval.
    """
    check_choice("measure", measure, tuple(RISK_MEASURES))
    if data is None:
        if not isinstance(obj, (Snapshot, Copysets)):
            raise TypeError(f"risk_vs_k needs a Snapshot or Copysets (or data=), not {type(obj).__name__}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PgtoolsWarning)
            data = failure_risk(obj, level=level, failures=failures)
    missing_columns(data, ["failures", "pool", measure])
    if not len(data):
        raise ValueError("no figures to draw")
    ax = _axes(ax, (7.5, 4.5))
    pools = [p for p in dict.fromkeys(data["pool"]) if p != "(all)"] + (["(all)"] if (data["pool"] == "(all)").any()
                                                                      else [])
    _draw_lines(ax, [(str(p), data[data["pool"] == p], {}) for p in pools], "failures", measure, **kwargs)
    ks = sorted(int(k) for k in data["failures"].unique())
    ax.set_xticks(ks)
    lv = data["level"].iloc[0] if "level" in data.columns else level
    ax.set_xlabel(f"K simultaneous {lv} failures (every K-set equally likely)")
    ax.set_ylabel(RISK_MEASURES[measure])
    if log:
        ax.set_yscale("log")
    elif measure.startswith("p_"):
        ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"{RISK_MEASURES[measure]} vs K per pool")
    return ax


def loss_vs_pg_num(frame: pd.DataFrame | None = None, *, data: pd.DataFrame | None = None, pool: str | None = None,
                   measure: str = "p_any_lost", log: bool = False, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Loss probability (or another measure) of a pool against its pg_num, from a sweep: one line per level × K.

    More PGs on the same OSDs mean more distinct copysets, so more K-sets of failures cover some PG: the
    probability of losing *something* rises with pg_num while the expected loss stays put.

    Parameters
    ----------
    frame, data : DataFrame
        A :func:`~pgtools.risk.sweep` frame (``variant, family, level, failures, pool, pg_num:<pool>,
        <measure>`` ...); ``data=`` is the same.
    pool : str, optional
        The swept pool (default: the first ``pg_num:`` column); its rows are drawn.
    measure : str
        A key of :data:`RISK_MEASURES`.

    Returns
    -------
    Axes
        One line per (level, K) (line style and marker per level) and, when other settings were swept too, per their values (gid = label,
        e.g. ``"osd K=3"``); x = the pool's pg_num, y = the measure; sampled points with error bars.
    """
    df = data if data is not None else frame
    if not isinstance(df, pd.DataFrame):
        raise TypeError("loss_vs_pg_num needs a sweep frame (pgtools.risk.sweep)")
    check_choice("measure", measure, tuple(RISK_MEASURES))
    swept = [c for c in df.columns if str(c).startswith("pg_num:")]
    if not swept:
        raise ValueError("the frame has no pg_num:<pool> column: sweep pg_num (pgtools.risk.sweep(pg_num=...))")
    col = f"pg_num:{pool}" if pool is not None else swept[0]
    if col not in df.columns:
        raise ValueError(f"pool {pool!r} was not swept (swept: {', '.join(c[7:] for c in swept)})")
    name = col[7:]
    missing_columns(df, ["family", "level", "failures", "pool", "refused", measure])
    rows = df[(df["family"] == "random") & (df["pool"] == name) & (df["refused"] == "")]
    if not len(rows):
        raise ValueError(f"the sweep has no random-failure figures for pool {name}")
    others = [c for c in df.columns if str(c).startswith(("pg_num:", "size:")) and c != col
              and rows[c].nunique() > 1]
    groups = []
    levels = list(dict.fromkeys(rows["level"]))
    dashes = ["-", "--", ":", "-."]
    for key, g in rows.groupby(["level", "failures", *others], sort=True):
        label = f"{key[0]} K={int(key[1])}" + "".join(f", {c}={v}" for c, v in zip(others, key[2:], strict=True))
        style = {"linestyle": dashes[levels.index(key[0]) % 4], "marker": "os^D"[levels.index(key[0]) % 4]}
        groups.append((label, g, style))
    ax = _axes(ax, (7.5, 4.5))
    _draw_lines(ax, groups, col, measure, **kwargs)
    xs = sorted(int(x) for x in rows[col].unique())
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.minorticks_off()
    ax.set_xlabel(f"pg_num of pool {name}")
    ax.set_ylabel(RISK_MEASURES[measure] + f" ({name})")
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"pool {name}: {RISK_MEASURES[measure]} vs pg_num\n(more PGs, more distinct copysets)")
    return ax


def copyset_overlap(obj: Snapshot | None = None, *, data: pd.DataFrame | None = None, level: str = "osd",
                    pools: list | None = None, ax: Axes | None = None, cmap: str = "viridis", **kwargs: Any) -> Axes:
    """The copyset-overlap picture: a unit × unit matrix of the PGs each pair of units holds together.

    Parameters
    ----------
    obj : Snapshot, optional
        Counted with :func:`~pgtools.risk.pair_overlap` (``level``, ``pools``).
    data : DataFrame, optional
        A :func:`~pgtools.risk.pair_overlap` frame (``a, b, pgs`` [``unit_a``, ``unit_b``], unit names in
        ``attrs["units"]``, else from ``unit_a``/``unit_b``).
    ax : Axes, optional
    **kwargs
        Passed to :meth:`Axes.imshow`.

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the matrix (``get_array()``: PGs shared by units i and j off the diagonal,
        PGs on unit i on it, which is masked so the pairs keep the colour scale); tick labels are the units.
    """
    if data is None:
        if not isinstance(obj, Snapshot):
            raise TypeError(f"copyset_overlap needs a Snapshot (or data=), not {type(obj).__name__}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PgtoolsWarning)
            data = pair_overlap(obj, level, pools=pools)
    missing_columns(data, ["a", "b", "pgs"])
    units = data.attrs.get("units")
    if units is None:
        missing_columns(data, ["unit_a"])
        names = dict(zip(data["a"], data["unit_a"], strict=True))
        units = [names.get(i, str(i)) for i in range(int(max(data["a"].max(), data["b"].max())) + 1)]
    n = len(units)
    m = np.zeros((n, n))
    m[data["a"].to_numpy(int), data["b"].to_numpy(int)] = data["pgs"].to_numpy(float)
    shown = np.ma.masked_array(m, mask=np.eye(n, dtype=bool))
    ax = _axes(ax, (min(6.0 + 0.25 * n, 14.0), min(5.0 + 0.25 * n, 13.0)))
    im = ax.imshow(shown, cmap=cmap, interpolation="nearest", **kwargs)
    step = max(1, n // 40)
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [units[i] for i in ticks], rotation=90, fontsize=7)
    ax.set_yticks(ticks, [units[i] for i in ticks], fontsize=7)
    lv = data.attrs.get("level", level)
    ax.figure.colorbar(im, ax=ax, label="PGs on both", shrink=0.8)
    off = m[~np.eye(n, dtype=bool)]
    top = f"; most shared: {int(off.max())} PGs" if len(off) else ""
    ax.set_title(f"PGs shared by each pair of {lv}s\n(diagonal masked{top})", fontsize=10)
    return ax
