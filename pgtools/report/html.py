"""HTML pieces of the report (escaping, tables, figures, guarded sections): shared by :mod:`pgtools.report`
and :mod:`pgtools.report.plan`, importing neither."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import NONE

__all__ = ["MAX_PLAN_ROWS", "SECTION_ERRORS", "escape", "fmt", "is_num", "table", "kv", "sev", "section", "guard",
           "png", "figure"]

#: Rows of a what-if steps table shown before it is cut (head and tail).
MAX_PLAN_ROWS = 40
#: Errors a section builder may raise on incomplete input: the section shows the reason instead.
SECTION_ERRORS = (PgtoolsError, ValueError, KeyError, TypeError, LookupError)


def escape(value: Any) -> str:
    """Escaped text of any value."""
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 2) -> str:
    """A value as short display text (integers without decimals, floats rounded, NA as empty)."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}f}"
    if isinstance(value, (tuple, list)):
        return "[" + ",".join("NONE" if v == NONE else str(v) for v in value) + "]"
    return str(value)


def is_num(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def table(df: pd.DataFrame, *, cls: str = "data", max_rows: int | None = None, index: bool = False) -> str:
    """A DataFrame as an escaped HTML table (numbers right-aligned); ``max_rows`` rows at most."""
    if index:
        df = df.reset_index()
    shown = df if max_rows is None else df.head(max_rows)
    head = "".join(f"<th>{escape(c)}</th>" for c in shown.columns)
    rows = []
    for rec in shown.itertuples(index=False, name=None):
        cells = "".join(f'<td class="num">{escape(fmt(v))}</td>' if is_num(v) else f"<td>{escape(fmt(v))}</td>"
                        for v in rec)
        rows.append(f"<tr>{cells}</tr>")
    more = ""
    if max_rows is not None and len(df) > max_rows:
        more = f'<p class="note">{len(df) - max_rows} more rows not shown ({len(df)} in all).</p>'
    return f'<table class="{escape(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{more}'


def kv(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(fmt(v))}</td></tr>" for k, v in pairs)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


def sev(severity: str) -> str:
    return f'<span class="sev {escape(severity)}">{escape(severity)}</span>'


def section(sid: str, title: str, body: str) -> str:
    return f'<section id="{escape(sid)}">\n<h2>{escape(title)}</h2>\n{body}\n</section>'


def guard(build: Callable[[], str]) -> str:
    """Run a section builder; on incomplete input show the reason instead of failing the report."""
    try:
        return build()
    except SECTION_ERRORS as exc:
        return f'<p class="note">Not available: {escape(type(exc).__name__)}: {escape(exc)}</p>'


def png(fig: Any) -> str:
    """A matplotlib figure as a base64 PNG ``<img>`` tag."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="" src="data:image/png;base64,{data}">'


def figure(draw: Callable[[Any], Any], figsize: tuple[float, float], caption: str) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    try:
        ax = fig.add_subplot()
        draw(ax)
        img = png(fig)
    finally:
        fig.clear()
    return f"<figure>{img}<figcaption>{escape(caption)}</figcaption></figure>"
