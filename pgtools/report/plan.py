"""The what-if section of the HTML report (:mod:`pgtools.report`): one summary row per step, folded health
messages, the PGs a failure loses, and PG copies per OSD before and after.

A plan is any object with some of ``steps``, ``health``, ``movement``, ``osd_load`` (DataFrames with a
``step`` column) and ``failures`` (:class:`pgtools.simulate.Plan`); missing parts are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..model import split_pgid
from ..text.snapshot import human_bytes
from .html import MAX_PLAN_ROWS
from .html import escape as _e
from .html import figure as _figure
from .html import guard as _guard
from .html import sev as _sev
from .html import table as _table

__all__ = ["what_if_section", "step_ranges", "fold_health", "step_summary"]

#: Steps shown at the end of a long plan (the first MAX_PLAN_ROWS - TAIL_ROWS are shown too).
TAIL_ROWS = 10
#: Lost pgids named at most per step.
MAX_PGIDS = 24


def _frame(obj: Any) -> pd.DataFrame | None:
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, Sequence) and not isinstance(obj, str) and obj:
        try:
            return pd.DataFrame([vars(x) if hasattr(x, "__dict__") else x for x in obj])
        except (TypeError, ValueError):
            return None
    return None


def _plan_title(plan: Any, i: int) -> str:
    for name in ("title", "name", "description"):
        v = getattr(plan, name, None)
        if isinstance(v, str) and v:
            return v
    changes = getattr(plan, "changes", None)
    if changes:
        try:
            return "; ".join(c.describe() if hasattr(c, "describe") else str(c) for c in changes)
        except (TypeError, AttributeError):
            pass
    return f"plan {i + 1}"


def step_ranges(steps: Sequence[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0–2, 5, 7–8"``."""
    s = sorted({int(x) for x in steps})
    out: list[str] = []
    start = prev = None
    for x in s:
        if start is None:
            start = prev = x
        elif x == prev + 1:
            prev = x
        else:
            out.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = prev = x
    if start is not None:
        out.append(f"{start}" if start == prev else f"{start}–{prev}")
    return ", ".join(out)


def fold_health(health: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct (severity, code, message): ``severity, code, summary, steps, n_steps``, in the
    order of first appearance."""
    cols = [c for c in ("severity", "code", "summary") if c in health.columns]
    if not len(health) or not cols or "step" not in health.columns:
        return pd.DataFrame(columns=[*cols, "steps", "n_steps"])
    h = health.assign(_order=np.arange(len(health)))
    g = h.groupby(cols, sort=False, dropna=False).agg(first=("_order", "min"), steps=("step", list))
    g = g.sort_values("first").reset_index()
    g["n_steps"] = g["steps"].map(lambda s: len(set(s)))
    g["steps"] = g["steps"].map(step_ranges)
    return g[[*cols, "steps", "n_steps"]]


def _common_prefix(labels: list[str]) -> str:
    """The ``"X: "`` prefix every label shares (the change a stepwise plan expands), or ``""``."""
    if len(labels) < 2:
        return ""
    head = labels[0].split(": ")[0] + ": "
    return head if all(lab.startswith(head) and len(lab) > len(head) for lab in labels) else ""


def _sum_by_step(mv: pd.DataFrame | None, col: str) -> pd.Series | None:
    if mv is None or col not in mv.columns or "step" not in mv.columns:
        return None
    return mv.groupby("step")[col].sum()


def step_summary(plan: Any) -> pd.DataFrame:
    """One display row per step (text cells, units humanised).

    Columns, when the plan has the data: ``step, change, PGs remapped, copies written, copies removed,
    data written, data removed, PGs/OSD max, PGs/OSD min, lost / inactive / degraded, health``.
    """
    steps = _frame(getattr(plan, "steps", None))
    if steps is None or "step" not in steps.columns:
        return pd.DataFrame()
    mv = _frame(getattr(plan, "movement", None))
    hl = _frame(getattr(plan, "health", None))
    out = pd.DataFrame({"step": steps["step"].astype(int)})
    if "change" in steps.columns:
        out["change"] = steps["change"].astype(str)
        prefix = _common_prefix(list(out["change"].iloc[1:]))
        if prefix:
            out.attrs["change_prefix"] = prefix
            out.loc[out.index[1:], "change"] = out["change"].iloc[1:].str.slice(len(prefix))
    idx = steps["step"].astype(int)

    def col(name: str, series: pd.Series | None, fmt: Any = int) -> None:
        if series is not None:
            out[name] = [fmt(v) for v in series.reindex(idx).fillna(0).to_numpy()]

    by_step = steps.set_index(steps["step"].astype(int))
    if "pgs_moved" in steps.columns:
        col("PGs remapped", by_step["pgs_moved"])
    ins = _sum_by_step(mv, "pgs_in")
    col("copies written", ins if ins is not None else by_step.get("shards_moved"))
    col("copies removed", _sum_by_step(mv, "pgs_out"))
    bin_ = _sum_by_step(mv, "bytes_in")
    col("data written", bin_ if bin_ is not None else by_step.get("bytes_moved"), human_bytes)
    col("data removed", _sum_by_step(mv, "bytes_out"), human_bytes)
    if "max_pgs_per_osd" in steps.columns:
        col("PGs/OSD max", by_step["max_pgs_per_osd"])
    if "min_pgs_per_osd" in steps.columns:
        col("PGs/OSD min", by_step["min_pgs_per_osd"])
    if {"pgs_lost", "pgs_inactive", "pgs_degraded"} <= set(steps.columns):
        lid = by_step[["pgs_lost", "pgs_inactive", "pgs_degraded"]].astype(int)
        if lid.to_numpy().any():
            out["lost / inactive / degraded"] = [
                "" if not (a or b or c) else f"{a} / {b} / {c}" for a, b, c in lid.reindex(idx).to_numpy()]
    if hl is not None and {"step", "code"} <= set(hl.columns):
        codes = hl.groupby("step")["code"].agg(lambda s: ", ".join(dict.fromkeys(map(str, s))))
        out["health"] = [codes.get(s, "HEALTH_OK") for s in idx]
    elif "health" in steps.columns:
        out["health"] = steps["health"].astype(str).str.replace("; ", ", ").to_numpy()
    return out


def _shown(df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows to show of a long table (head and tail) and a note on what was left out."""
    if len(df) <= MAX_PLAN_ROWS:
        return df, ""
    head = MAX_PLAN_ROWS - TAIL_ROWS
    left = len(df) - MAX_PLAN_ROWS
    return (pd.concat([df.head(head), df.tail(TAIL_ROWS)]),
            f'<p class="note">{left} steps between step {df["step"].iloc[head - 1]} and step '
            f'{df["step"].iloc[-TAIL_ROWS]} not shown ({len(df)} in all).</p>')


def _steps_table(df: pd.DataFrame) -> str:
    """The step summary as an HTML table: the change column wraps, numbers and sizes align right, and a
    marker row stands where the middle of a long plan is left out."""
    shown, note = _shown(df)
    cut = MAX_PLAN_ROWS - TAIL_ROWS if note else None
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    right = {c for c in df.columns if c not in ("change", "health")}
    rows = []
    for n, rec in enumerate(shown.to_dict("records")):
        if n == cut:
            rows.append(f'<tr class="gap"><td colspan="{len(df.columns)}">…</td></tr>')
        cells = "".join(f'<td class="{"num" if c in right else _e(c)}">{_e(v)}</td>' for c, v in rec.items())
        rows.append(f"<tr>{cells}</tr>")
    return (f'<div class="scroll"><table class="data plan"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>{note}')


def _health_list(health: pd.DataFrame, n_steps: int) -> str:
    """Health messages folded: each message once with its steps; a check whose message changes from step
    to step (numbers in it) is one item with its first and last messages and the number of variants."""
    folded = fold_health(health)
    if not len(folded):
        return ""
    folded = folded.assign(_first=range(len(folded)))
    key = [c for c in ("severity", "code") if c in folded.columns]
    items = []

    def where(steps: str, n: int) -> str:
        return f"step {steps}" if n == 1 else f"steps {steps} ({n} of {n_steps})"

    for _, g in folded.groupby(key, sort=False) if key else [(None, folded)]:
        rec = g.iloc[0]
        label = f"{_sev(str(rec.get('severity', '')))} <b>{_e(rec.get('code', ''))}</b>"
        if len(g) <= 2:
            for r in g.to_dict("records"):
                items.append(f"<li>{label}: {_e(r.get('summary', ''))} "
                             f'<span class="steps">— {_e(where(r["steps"], r["n_steps"]))}</span></li>')
            continue
        sel = health.loc[(health[key] == pd.Series(rec[key])).all(axis=1)] if key else health
        all_steps = sorted({int(x) for x in sel["step"]})
        final = str(sel.loc[sel["step"].idxmax(), "summary"]) if len(sel) else ""
        hit = g[g["summary"] == final]
        last = hit.iloc[0] if len(hit) else g.iloc[-1]
        items.append(
            f"<li>{label}: {len(g)} different messages, "
            f'<span class="steps">{_e(where(step_ranges(all_steps), len(all_steps)))}</span>'
            f"<ul><li>first: {_e(rec.get('summary', ''))} <span class=\"steps\">— {_e(where(rec['steps'], rec['n_steps']))}"
            f"</span></li><li>last: {_e(last.get('summary', ''))} <span class=\"steps\">— "
            f"{_e(where(last['steps'], last['n_steps']))}</span></li></ul></li>")
    return f'<ul class="health-folded">{"".join(items)}</ul>'


def _loss(plan: Any, steps: pd.DataFrame) -> str:
    """The lost PGs of each failure step, said plainly, and the per-pool outcome of each failure."""
    f = _frame(getattr(plan, "failures", None))
    if f is None or not len(f) or "status" not in f.columns:
        return ""
    parts = []
    changes = dict(zip(steps["step"].astype(int), steps.get("change", steps["step"]).astype(str), strict=True))
    for step, g in f.groupby("step", sort=True):
        lost = sorted(g.loc[g["status"] == "lost", "pgid"], key=split_pgid)
        if not lost:
            continue
        nbytes = int(g["bytes_lost"].sum()) if "bytes_lost" in g.columns else 0
        nobj = int(g["objects_lost"].sum()) if "objects_lost" in g.columns else 0
        more = f" and {len(lost) - MAX_PGIDS} more" if len(lost) > MAX_PGIDS else ""
        parts.append(f'<p class="loss">{_sev("HEALTH_ERR")} Step {int(step)} ({_e(changes.get(int(step), ""))}): '
                     f"<b>{len(lost)} PGs LOST</b> (no surviving copy / fewer than k shards): nothing can recover "
                     f"them; {_e(human_bytes(nbytes))} in {nobj} objects lost. "
                     f"<span class=\"pgids\">{_e(', '.join(lost[:MAX_PGIDS]))}{_e(more)}</span></p>")
    fp = plan.failure_pools() if hasattr(plan, "failure_pools") else None
    if fp is not None and len(fp):
        t = pd.DataFrame({
            "step": fp["step"].astype(int), "pool": fp["pool"], "lost": fp["pgs_lost"],
            "inactive": fp["pgs_inactive"], "degraded": fp["pgs_degraded"],
            "data lost": fp["bytes_lost"].map(human_bytes), "objects lost": fp["objects_lost"],
            "to recover": fp["bytes_to_recover"].map(human_bytes)})
        parts.append('<p class="sub">PGs a failure leaves short of copies, per pool (lost: no copy / fewer '
                     "than k shards left; inactive: fewer than min_size, I/O blocked until recovery; "
                     "degraded: fewer than size):</p>" + f'<div class="scroll">{_table(t, cls="data plan")}</div>')
    return "\n".join(parts)


def _load_figure(osd_load: pd.DataFrame, limit: int) -> str:
    """PGs per OSD at the first and last step of a plan (bars), with the limit line."""
    steps = sorted(osd_load["step"].unique())
    first, last = steps[0], steps[-1]
    wide = osd_load.pivot_table(index="osd_id", columns="step", values="pgs", aggfunc="sum").fillna(0)

    peak = float(wide.to_numpy().max()) if wide.size else 0.0
    # a limit far above every OSD would squash the bars to the bottom: name it instead of drawing it
    draw_limit = peak == 0 or limit <= 2 * peak

    def draw(ax: Any) -> None:
        x = np.arange(len(wide))
        w = 0.4
        ax.bar(x - w / 2, wide[first], w, label=f"step {first}", color="#9db4cf")
        ax.bar(x + w / 2, wide[last], w, label=f"step {last}", color="#2f5d8a")
        if draw_limit:
            ax.axhline(limit, color="#c62828", lw=1.5, ls="--", label=f"mon_max_pg_per_osd = {limit}")
        ax.set_xticks(x, [f"osd.{int(o)}" for o in wide.index], rotation=90 if len(x) > 24 else 0, fontsize=8)
        ax.set_ylabel("PG copies")
        top = max(peak, float(limit)) if draw_limit else peak
        ax.set_ylim(0, max(top, 1.0) * 1.22)
        ax.legend(loc="upper center", ncols=3, fontsize=8, frameon=False)

    note = "" if draw_limit else f" mon_max_pg_per_osd = {limit} is far above the fullest OSD and not drawn."
    return _figure(draw, (13.0, 3.6), f"PG copies per OSD before (step {first}) and after (step {last}).{note}")


def _failure_figure(plan: Any) -> str:
    """:func:`pgtools.plotting.failures` of each failure step of the plan."""
    from .. import plotting

    fp = plan.failure_pools()
    out = []
    for step in sorted(set(fp["step"].astype(int))):
        n = int((fp["step"] == step).sum())
        out.append(_figure(lambda ax, s=step: plotting.failures(plan, step=s, ax=ax), (11.0, 1.8 + 0.45 * n),
                           f"Step {step}: PGs each pool has left short of copies, worst class first."))
    return "\n".join(out)


def _plan(plan: Any, i: int, limit: int) -> str:
    parts = [f"<h3>{_e(_plan_title(plan, i))}</h3>"]
    steps = _frame(getattr(plan, "steps", None))
    if steps is not None and "step" in steps.columns:
        parts.append(_guard(lambda: _loss(plan, steps)))
        summary = step_summary(plan)
        prefix = summary.attrs.get("change_prefix", "")
        every = f" Every step after 0 is part of <b>{_e(prefix.rstrip(': '))}</b>." if prefix else ""
        parts.append(f'<p class="sub">{len(summary)} steps (step 0 is the cluster as it is now); one row per '
                     f"step, movement summed over the OSDs.{every}</p>" + _steps_table(summary))
    hl = _frame(getattr(plan, "health", None))
    if hl is not None and len(hl):
        n = len(steps) if steps is not None else int(hl["step"].nunique())
        parts.append(f'<p class="sub">Health messages ({len(hl)} in all, each shown once with the steps it '
                     "appears at):</p>" + _health_list(hl, n))
    elif hl is not None:
        parts.append(f"<p>{_sev('HEALTH_OK')} no PG-count check fires at any step.</p>")
    if hasattr(plan, "failure_pools") and len(getattr(plan, "failures", ())):
        parts.append(_guard(lambda: _failure_figure(plan)))
    load = _frame(getattr(plan, "osd_load", None))
    if load is not None and len(load) and {"step", "osd_id", "pgs"} <= set(load.columns):
        peak = load.groupby("step")["pgs"].max()
        parts.append(f"<p>Most PG copies on one OSD: {_e(int(peak.iloc[0]))} now, peak "
                     f"{_e(int(peak.max()))}, {_e(int(peak.iloc[-1]))} at the end.</p>")
        parts.append(_guard(lambda: _load_figure(load, limit)))
    if len(parts) == 1:
        parts.append(f'<p class="note">{_e(type(plan).__name__)} has no steps, health, movement or osd_load.</p>')
    return "\n".join(parts)


def what_if_section(what_if: Sequence[Any] | None, limit: int) -> str:
    """The body of the report's what-if section (``limit``: mon_max_pg_per_osd for the bar plot)."""
    if not what_if:
        return '<p class="note">No what-if plan was given (see <code>pgtools.simulate</code>).</p>'
    return "\n".join(_guard(lambda p=p, i=i: _plan(p, i, limit)) for i, p in enumerate(what_if))
