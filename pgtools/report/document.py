"""A self-contained HTML report of a snapshot, for a capacity-planning meeting.

:func:`build_report` returns one HTML document as a string (inline CSS, plots embedded as base64 PNG
``data:`` URIs, no script and no network access); :func:`write_report` writes it to a file.  The numbers
come from :mod:`pgtools.analysis`, :mod:`pgtools.mgr.autoscale` and :mod:`pgtools.placement`; the pictures
from :mod:`pgtools.plotting`.  Sections (each an ``<h2>`` inside ``<section id=...>``):

=============  ====================================================================================
id             content
=============  ====================================================================================
summary        cluster size, pools, PGs, epoch, release, the files the snapshot was read from
health         the cluster's own health checks (when captured) and pgtools' recomputation with numbers
pg-table       the pool × OSD table of PG copies, with a SUM row and column
imbalance      mean, stddev against the stddev of random placement, extremes
autoscale      the pg_autoscaler's recommendation per pool
plots          heatmap, PGs per OSD with the mon_max_pg_per_osd line, histogram, CRUSH tree
verification   placement recomputed with CRUSH against the dump (when a CRUSH map is present)
balance        the mgr's upmap balancer beside pgtools' count balancer, simulated (:mod:`.balance`)
durability     PGs lost / inactive when one or two hosts fail at once, worst failures (:mod:`.balance`)
what-if        the simulated plans given in ``what_if``
=============  ====================================================================================

A section whose inputs are missing from the snapshot says so instead of failing the whole report.

>>> from pgtools.report import write_report                          # doctest: +SKIP
>>> write_report(pgtools.load("capture/"), "report.html")            # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import analysis
from .._version import __version__
from ..mgr.autoscale import autoscale_status, release_for
from ..mgr.options import settings
from ..mgr.releases import VERSIONS
from ..model import NONE, Snapshot
from ..placement.pipeline import verify_placement
from ..text.snapshot import human_bytes
from .balance import balance_section, durability_section
from .html import MAX_PLAN_ROWS
from .html import escape as _e
from .html import figure as _figure
from .html import fmt as _fmt
from .html import guard as _guard
from .html import kv as _kv
from .html import section as _section
from .html import sev as _sev
from .html import table as _table
from .plan import what_if_section

__all__ = ["build_report", "write_report", "SECTIONS"]

#: Section ids in document order.
SECTIONS = ("summary", "health", "pg-table", "imbalance", "autoscale", "plots", "verification", "balance",
            "durability", "what-if")

#: Errors a section may meet on incomplete input; the section then shows the message.

#: Rows shown at most in the tables of a what-if plan.

_CSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 14px; color: #1d2330;
       margin: 0; background: #f4f5f7; }
main { max-width: 1280px; margin: 0 auto; padding: 16px 28px 40px; background: #fff; }
header { border-bottom: 3px solid #2f5d8a; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 12px 0 4px; color: #1f3f5f; }
h2 { font-size: 20px; margin: 28px 0 8px; padding-bottom: 3px; border-bottom: 1px solid #cfd6df;
     color: #1f3f5f; }
h3 { font-size: 16px; margin: 18px 0 6px; }
p.sub { color: #5a6472; margin: 2px 0 10px; }
nav a { margin-right: 14px; color: #2f5d8a; text-decoration: none; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid #d5dbe3; padding: 3px 8px; }
th { background: #eef2f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.kv th { text-align: left; width: 230px; }
table.grid td { text-align: right; font-variant-numeric: tabular-nums; }
table.grid th.pool { font-size: 11px; font-weight: normal; vertical-align: bottom; padding: 4px 2px;
                     min-width: 34px; }
table.grid th.pool span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap;
                          display: inline-block; }
table.grid th.pool b { font-size: 13px; display: block; margin-top: 3px; }
table.grid .sum { background: #e3e9f1; font-weight: 700; }
table.grid th.osd { text-align: left; white-space: nowrap; }
.sev { display: inline-block; padding: 1px 7px; border-radius: 3px; font-weight: 700; font-size: 12px; }
.HEALTH_OK, .OK { background: #d7f0dc; color: #1c6b2d; }
.HEALTH_WARN, .WARN { background: #fff0c2; color: #7a5600; }
.HEALTH_ERR, .ERR { background: #fbd5d5; color: #9b1c1c; }
.INFO { background: #dde8f6; color: #244d7a; }
.note { color: #5a6472; font-style: italic; }
.why { color: #3d4653; font-size: 13px; }
figure { margin: 10px 0 22px; }
figure img { max-width: 100%; border: 1px solid #e1e5ea; }
figcaption { color: #5a6472; font-size: 13px; margin-top: 3px; }
code { background: #f0f2f5; padding: 0 3px; }
ul.sources { columns: 2; font-size: 13px; }
footer { margin-top: 30px; color: #7b8491; font-size: 12px; }
div.scroll { max-width: 100%; overflow-x: auto; }
table.plan td { white-space: nowrap; }
table.plan td.change { white-space: normal; min-width: 10em; max-width: 34em; overflow-wrap: anywhere; }
table.plan td.health { white-space: normal; max-width: 22em; font-size: 12px; }
table.plan tr.gap td { text-align: center; color: #7b8491; background: #f7f8fa; }
ul.health-folded { padding-left: 18px; }
ul.health-folded li { margin: 3px 0; overflow-wrap: anywhere; }
ul.health-folded .steps { color: #5a6472; font-size: 12px; }
p.loss { background: #fdecec; border-left: 4px solid #c62828; padding: 6px 10px; }
p.loss .pgids { display: block; font-family: monospace; font-size: 12px; color: #5a1d1d; overflow-wrap: anywhere; }
"""


# --------------------------------------------------------------------------------------------------
# small HTML helpers


# --------------------------------------------------------------------------------------------------
# sections


def _summary(snap: Snapshot, by: str) -> str:
    pools = snap.pools
    osds = snap.osds
    pairs: list[tuple[str, Any]] = []
    n_osds = len(osds)
    if n_osds:
        n_up = int(osds["up"].fillna(False).astype(bool).sum()) if "up" in osds.columns else None
        n_in = int(osds["in"].fillna(False).astype(bool).sum()) if "in" in osds.columns else None
        text = f"{n_osds}"
        if n_up is not None and n_in is not None:
            text += f" ({n_up} up, {n_in} in)"
        pairs.append(("OSDs", text))
        if "host" in osds.columns:
            pairs.append(("hosts", int(osds["host"].dropna().nunique())))
        if "kb" in osds.columns and osds["kb"].notna().any():
            kb = float(pd.to_numeric(osds["kb"], errors="coerce").sum())
            text = f"{human_bytes(kb * 1024)} raw"
            if "kb_used" in osds.columns and osds["kb_used"].notna().any() and kb > 0:
                used = float(pd.to_numeric(osds["kb_used"], errors="coerce").sum())
                text += f", {human_bytes(used * 1024)} used ({100 * used / kb:.2f} %)"
            pairs.append(("capacity", text))
    pairs.append(("pools", len(pools)))
    pairs.append(("PGs", len(snap.pgs)))
    if len(snap.pgs):
        copies = int(sum(len([o for o in s if o != NONE and o >= 0]) for s in snap.pgs[by]))
        pairs.append((f"PG copies ({by} sets)", copies))
        if n_osds:
            pairs.append(("PG copies per OSD (mean)", f"{copies / max(1, len(analysis.pg_counts(snap, by))):.1f}"))
    pairs.append(("OSDMap epoch", snap.epoch if snap.epoch is not None else "unknown"))
    pairs.append(("release", snap.release or "unknown"))
    pairs.append(("CRUSH map", "present" if snap.crush is not None else "absent"))
    body = _kv(pairs)
    if len(pools):
        cols = [c for c in ("pool_id", "pool", "type", "size", "min_size", "pg_num", "pgp_num", "crush_rule",
                            "pg_autoscale_mode", "application") if c in pools.columns]
        body += "<h3>Pools</h3>" + _table(pools[cols])
    sources = snap.meta.get("sources") or []
    if sources:
        items = "".join(f"<li><code>{_e(Path(str(p)).name)}</code> ({_e(kind)})</li>" for p, kind in sources)
        body += f'<h3>Sources</h3><ul class="sources">{items}</ul>'
    return body


def _health(snap: Snapshot) -> str:
    parts = []
    if snap.health:
        status = str(snap.health.get("status", "unknown"))
        parts.append(f"<h3>The cluster said</h3><p>{_sev(status)}</p>")
        checks = snap.health.get("checks") or {}
        if checks:
            items = []
            for code, chk in checks.items():
                detail = "".join(f"<li>{_e(d)}</li>" for d in (chk.get("detail") or []))
                items.append(f"<li>{_sev(chk.get('severity', ''))} <b>{_e(code)}</b>: {_e(chk.get('summary', ''))}"
                             + (f"<ul>{detail}</ul>" if detail else "") + "</li>")
            parts.append(f"<ul>{''.join(items)}</ul>")
    else:
        parts.append('<p class="note">No <code>ceph health detail</code> in the capture.</p>')
    findings = analysis.health(snap)
    parts.append("<h3>Recomputed by pgtools</h3>")
    if not findings:
        parts.append(f"<p>{_sev('HEALTH_OK')} no PG-count check fires.</p>")
    lim = analysis.health_limits(snap)
    for f in findings:
        origin = "Ceph check" if f.ceph else "pgtools check"
        detail = ""
        if f.detail and not f.why:
            detail = f'<p class="why">{_e("; ".join(f.detail[:12]))}{" …" if len(f.detail) > 12 else ""}</p>'
        parts.append(f"<p>{_sev(f.severity)} <b>{_e(f.code)}</b> ({origin}): {_e(f.summary)}</p>"
                     f'<p class="why">{_e(f.why)}</p>{detail}')
    parts.append("<p class=\"why\">Limits: " + _e(", ".join(
        f"{k} = {_fmt(lim[k])} ({lim[k + '_from']})"
        for k in ("mon_max_pg_per_osd", "mon_pg_warn_min_per_osd", "osd_max_pg_per_osd_hard_ratio"))
        + "; " + ", ".join(str(st) for name, st in settings(snap).items() if name not in lim)) + "</p>")
    return "\n".join(parts)


def _pg_table(snap: Snapshot, by: str) -> str:
    tab = analysis.pg_table(snap, by)
    if tab.empty:
        return '<p class="note">No PG is mapped to an OSD.</p>'
    names = {}
    if len(snap.pools) and "pool" in snap.pools.columns:
        names = dict(zip(snap.pools.pool_id.astype(int), snap.pools["pool"].astype(str), strict=True))
    hosts = {}
    if len(snap.osds) and "host" in snap.osds.columns:
        hosts = dict(zip(snap.osds.osd_id.astype(int), snap.osds["host"], strict=True))
    head = '<th class="osd">OSD</th>' + ("<th>host</th>" if hosts else "")
    head += "".join(f'<th class="pool" title="{_e(names.get(int(p), p))}"><span>{_e(names.get(int(p), ""))}</span>'
                    f"<b>{_e(p)}</b></th>" for p in tab.columns)
    head += '<th class="sum">SUM</th>'
    rows = []
    for osd, rec in tab.iterrows():
        cells = "".join(f"<td>{int(v)}</td>" for v in rec)
        host = f"<td>{_e(hosts.get(int(osd), '') or '')}</td>" if hosts else ""
        rows.append(f'<tr><th class="osd">osd.{int(osd)}</th>{host}{cells}<td class="sum">{int(rec.sum())}</td></tr>')
    sums = tab.sum(axis=0)
    rows.append('<tr class="sum"><th class="osd sum">SUM</th>' + ("<td class=\"sum\"></td>" if hosts else "")
                + "".join(f'<td class="sum">{int(v)}</td>' for v in sums)
                + f'<td class="sum">{int(sums.sum())}</td></tr>')
    return (f'<p class="sub">PG copies of each pool (columns: pool id and name) on each OSD, counted over the '
            f'{_e(by)} sets.</p><table class="grid" id="pool-osd"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _imbalance(snap: Snapshot, by: str) -> str:
    s = analysis.imbalance_summary(snap, by)
    if int(s.get("n_osds", 0)) == 0:
        return '<p class="note">No OSD has a placement target.</p>'
    ratio = float(s["weighted_ratio"])
    verdict = ("tighter than random placement (upmap balancer or luck)" if ratio < 0.8 else
               "about as even as random placement" if ratio <= 1.25 else "more uneven than random placement")
    body = (f'<p>PG copies per OSD: mean <b>{s["mean"]:.1f}</b>. Against each OSD\'s weight-share target the '
            f'deviations have an RMS of <b>{s["weighted_stddev"]:.2f}</b>, where random placement with these weights '
            f'gives <b>{s["expected_weighted_stddev"]:.2f}</b> (ratio {ratio:.2f}: {_e(verdict)}).</p>')
    body += _kv([
        ("OSDs with a target", s["n_osds"]),
        ("PG copies", s["total"]),
        ("mean", f"{s['mean']:.2f}"),
        ("stddev (population)", f"{s['stddev']:.2f}"),
        ("expected stddev (random)", f"{s['expected_stddev']:.2f}"),
        ("stddev / expected", f"{float(s['stddev_ratio']):.3f}"),
        ("weighted stddev (vs weight-share target)", f"{s['weighted_stddev']:.2f}"),
        ("expected weighted stddev (random)", f"{s['expected_weighted_stddev']:.2f}"),
        ("weighted stddev / expected", f"{ratio:.3f}"),
        ("least loaded", f"osd.{s['min_osd']}: {s['min']}"),
        ("most loaded", f"osd.{s['max_osd']}: {s['max']}"),
        ("largest excess over target", f"{s['max_over_target_pct']:+.2f} %"),
        ("largest shortfall under target", f"{s['max_under_target_pct']:+.2f} %"),
    ])
    return body


def _autoscale(snap: Snapshot) -> str:
    rel = release_for(snap)
    df = autoscale_status(snap, release=rel, include_skipped=True)
    if df.empty:
        return '<p class="note">The autoscaler considers no pool (no usage statistics?).</p>'
    skipped = df["skipped"].fillna(False).astype(bool) if "skipped" in df.columns else pd.Series(False, df.index)
    cur = snap.pools.set_index("pool_id")["pg_num"] if "pg_num" in snap.pools.columns else pd.Series(dtype=int)
    out = pd.DataFrame({
        "pool": df["pool_name"],
        "mode": df["pg_autoscale_mode"],
        "pg_num": df["pool_id"].map(cur),
        "capacity ratio": df["capacity_ratio"].map(lambda v: "" if pd.isna(v) else f"{v:.4f}"),
        "target ratio": df["target_ratio"],
        "ideal pg_num": df["pg_num_ideal"],
        "recommended pg_num": df["pg_num_final"],
        "would adjust": df["would_adjust"],
    })
    if skipped.any():
        out["note"] = np.where(skipped, df.get("reason", pd.Series("", df.index)).fillna(""), "")
    done = out[~skipped.to_numpy()]
    changes = done[done["recommended pg_num"] != done["pg_num"]]
    lines = (f'<p>The <code>pg_autoscaler</code> ({_e(rel)} rules, target 100 PGs per OSD) recommends a different '
             f"pg_num for <b>{len(changes)}</b> of {len(done)} pools; it would act on "
             f"<b>{int(done['would adjust'].fillna(False).astype(bool).sum())}</b> (mode <code>on</code> and off by "
             f"a factor of 3 or more).</p>")
    if skipped.any():
        lines += (f'<p class="why">{int(skipped.sum())} pools are skipped by the autoscaler, as Ceph does '
                  f"(see the note column).</p>")
    if len(changes) and len(done) == len(out):
        rate = df["raw_used_rate"].round()
        total_now = int((out["pg_num"] * rate).sum())
        total_new = int((out["recommended pg_num"] * rate).sum())
        lines += (f'<p class="why">PG copies now {total_now}, with the recommendations {total_new} '
                  f"(about {total_new / max(1, len(snap.osds)):.0f} per OSD).</p>")
    return lines + _table(out)


def _plots(snap: Snapshot, by: str) -> str:
    from .. import plotting

    limit = analysis.health_limits(snap)["mon_max_pg_per_osd"]
    counts = analysis.pg_counts(snap, by)
    n_osd = max(1, len(counts))
    # a limit far above every OSD would squash the bars to the bottom: name it instead of drawing it
    peak = int(counts.max()) if len(counts) else 0
    draw_limit = peak == 0 or limit <= 2 * peak
    limit_note = (f"red line: mon_max_pg_per_osd = {limit}." if draw_limit else
                  f"mon_max_pg_per_osd = {limit} is far above the fullest OSD ({peak}) and not drawn.")
    rows = min(n_osd, plotting.MAX_OSD_ROWS)
    specs: list[tuple[Callable[[Any], Any], tuple[float, float], str]] = [
        (lambda ax: plotting.pg_heatmap(snap, by=by, ax=ax), (13.0, max(4.0, 0.3 * rows + 2.0)),
         "PG copies per pool (columns) and OSD (rows, grouped by host)."),
        (lambda ax: plotting.osd_bars(snap, by=by, limit=limit if draw_limit else None, ax=ax), (13.0, 4.8),
         f"PG copies per OSD against the weight-share target; {limit_note}"),
        (lambda ax: plotting.pg_histogram(snap, by=by, ax=ax), (9.0, 4.2),
         "Distribution of PG copies per OSD against the binomial spread of random placement."),
    ]
    if snap.crush is not None:
        specs.append((lambda ax: plotting.crush_tree(snap, by=by, ax=ax), (13.0, 4.8),
                      "CRUSH hierarchy: widths are CRUSH weights, colours the PG share against the weight share."))
    return "\n".join(_guard(lambda d=d, f=f, c=c: _figure(d, f, c)) for d, f, c in specs)


def _verification(snap: Snapshot) -> str:
    if snap.crush is None:
        return '<p class="note">The capture has no CRUSH map: placement cannot be recomputed.</p>'
    diff = verify_placement(snap)
    n = len(snap.pgs)
    if diff.empty:
        exact = ", ".join(f"{r.capitalize()} {v}" for r, v in VERSIONS.items())
        return (f'<p>{_sev("OK")} Recomputed placement (CRUSH + OSDMap, bit-exact with Ceph {exact}) agrees with the dump '
                f"for all <b>{n}</b> PGs (up, up_primary, acting, acting_primary).</p>")
    return (f'<p>{_sev("WARN")} <b>{len(diff)}</b> of {n} PGs differ between the dump and the recomputed '
            f"placement (the dump may be mid-change: pg_temp, peering, or a map epoch other than the PG "
            f"dump's).</p>" + _table(diff, max_rows=MAX_PLAN_ROWS))


# --------------------------------------------------------------------------------------------------
# what-if plans (rendered by pgtools.report.plan)


def _what_if(snap: Snapshot, what_if: Sequence[Any] | None) -> str:


    limit = analysis.health_limits(snap)["mon_max_pg_per_osd"] if what_if else 0
    return what_if_section(what_if, limit)


# --------------------------------------------------------------------------------------------------
# public API


def _subtitle(snap: Snapshot) -> str:
    """One readable line on what the report covers: ``1,920 PGs in 15 pools on 12 OSDs · epoch 42 · pacific``."""
    parts = [f"{len(snap.pgs):,} PGs in {len(snap.pools):,} pools on {len(snap.osds):,} OSDs"]
    if snap.crush is None:
        parts.append("no CRUSH map")
    if snap.epoch is not None:
        parts.append(f"osdmap epoch {snap.epoch}")
    if snap.release:
        parts.append(f"Ceph {snap.release}")
    return " · ".join(parts)


def build_report(snap: Snapshot, *, what_if: Sequence[Any] | None = None, title: str | None = None,
                 by: str = "up") -> str:
    """The HTML report of a snapshot, as one self-contained document.

    Parameters
    ----------
    snap : Snapshot
        The cluster state (e.g. ``pgtools.load(folder)``).
    what_if : list of Plan, optional
        Plans from :func:`pgtools.simulate.simulate`, shown in the "what-if" section.  Any object with
        some of the attributes ``steps``, ``health``, ``movement`` (DataFrames with a ``step`` column) and
        ``osd_load`` (``step, osd_id, pgs``) is accepted.
    title : str, optional
        The page title; default ``"PG placement report"`` with the epoch.
    by : {"up", "acting"}
        Which mapping the tables and plots count.

    Returns
    -------
    str
        The HTML document (UTF-8 text; all text escaped, images as base64 PNG ``data:`` URIs).
    """
    if by not in ("up", "acting"):
        raise ValueError(f"by must be 'up' or 'acting', not {by!r}")
    if title is None:
        title = "PG placement report" + (f", epoch {snap.epoch}" if snap.epoch is not None else "")
    bodies = {
        "summary": ("Summary", lambda: _summary(snap, by)),
        "health": ("Health", lambda: _health(snap)),
        "pg-table": ("PGs per pool and OSD", lambda: _pg_table(snap, by)),
        "imbalance": ("Imbalance", lambda: _imbalance(snap, by)),
        "autoscale": ("Autoscaler recommendations", lambda: _autoscale(snap)),
        "plots": ("Plots", lambda: _plots(snap, by)),
        "verification": ("Placement verification", lambda: _verification(snap)),
        "balance": ("Balancer plans", lambda: balance_section(snap)),
        "durability": ("Durability", lambda: durability_section(snap)),
        "what-if": ("What-if plans", lambda: _what_if(snap, what_if)),
    }
    nav = "".join(f'<a href="#{sid}">{_e(bodies[sid][0])}</a>' for sid in SECTIONS)
    sections = "\n".join(_section(sid, bodies[sid][0], _guard(bodies[sid][1])) for sid in SECTIONS)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{_e(title)}</h1><p class=\"sub\">{_e(_subtitle(snap))}</p><nav>{nav}</nav></header>\n"
        f"{sections}\n"
        f"<footer>Generated by pgtools {_e(__version__)} on {_e(stamp)}.</footer>\n"
        "</main>\n</body>\n</html>\n"
    )


def write_report(snap: Snapshot, path: str | Path, **kwargs: Any) -> Path:
    """Write :func:`build_report` to ``path`` (UTF-8) and return the path.

    Parameters
    ----------
    snap : Snapshot
    path : str or Path
        The HTML file to write (its folder must exist).
    **kwargs
        Passed to :func:`build_report` (``what_if``, ``title``, ``by``).

    Returns
    -------
    Path
    """
    path = Path(path)
    path.write_text(build_report(snap, **kwargs), encoding="utf-8")
    return path
