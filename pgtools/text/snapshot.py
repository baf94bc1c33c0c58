"""Text renderings of analysis results (returned as strings; the CLI prints them)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ..mgr.health import Finding
from ..units import human_bytes

__all__ = ["human_bytes", "table_text", "table_csv", "table_markdown", "table_json", "frame_text", "health_text"]


def _with_margins(tab: pd.DataFrame) -> pd.DataFrame:
    out = tab.copy()
    out["total"] = out.sum(axis=1)
    return out


def table_text(tab: pd.DataFrame, by: str = "up") -> str:
    """The seed memo's layout: OSD rows, one column per pool id, a SUM column, a SUM row."""
    t = _with_margins(tab)
    pool_ids = [str(c) for c in tab.columns]
    rows = [[f"osd.{i}", *[str(int(v)) for v in r[:-1]], str(int(r[-1]))] for i, r in zip(t.index, t.to_numpy(),
                                                                                         strict=True)]
    sums = [str(int(v)) for v in t.sum(axis=0).to_numpy()]
    head = [f"pool ({by}):", *pool_ids, "SUM"]
    foot = ["SUM:", *sums]
    widths = [max(len(x[i]) for x in [head, foot, *rows]) for i in range(len(head))]

    def fmt(cells: list[str]) -> str:
        left = cells[0].ljust(widths[0])
        mid = " ".join(c.rjust(w) for c, w in zip(cells[1:-1], widths[1:-1], strict=True))
        return f"{left} {mid} | {cells[-1].rjust(widths[-1])}"

    rule = "-" * len(fmt(head))
    return "\n".join([fmt(head), rule, *(fmt(r) for r in rows), rule, fmt(foot)]) + "\n"


def table_csv(tab: pd.DataFrame) -> str:
    """``osd_id,<pool_id>,...,total``; one row per OSD; no sum row."""
    lines = [",".join(["osd_id", *[str(c) for c in tab.columns], "total"])]
    for osd, r in zip(tab.index, tab.to_numpy(), strict=True):
        lines.append(",".join([str(int(osd)), *[str(int(v)) for v in r], str(int(r.sum()))]))
    return "\n".join(lines) + "\n"


def table_markdown(tab: pd.DataFrame, by: str = "up") -> str:
    t = _with_margins(tab)
    head = ["OSD", *[f"pool {c}" for c in tab.columns], "SUM"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for osd, r in zip(t.index, t.to_numpy(), strict=True):
        lines.append("| " + " | ".join([f"osd.{osd}", *[str(int(v)) for v in r]]) + " |")
    lines.append("| " + " | ".join(["**SUM**", *[f"**{int(v)}**" for v in t.sum(axis=0)]]) + " |")
    return "\n".join(lines) + "\n"


def table_json(tab: pd.DataFrame, by: str, unmapped: int) -> str:
    sums = {str(c): int(tab[c].sum()) for c in tab.columns}
    sums["total"] = int(tab.to_numpy().sum())
    doc: dict[str, Any] = {
        "by": by,
        "pool_ids": [int(c) for c in tab.columns],
        "rows": [{"osd_id": int(osd), "counts": {str(c): int(v) for c, v in zip(tab.columns, r, strict=True)},
                  "total": int(r.sum())} for osd, r in zip(tab.index, tab.to_numpy(), strict=True)],
        "sum": sums,
        "unmapped_pgs": unmapped,
    }
    return json.dumps(doc, indent=1) + "\n"


def frame_text(df: pd.DataFrame, floatfmt: str = "{:.2f}") -> str:
    """A plain aligned rendering of a small DataFrame (no index)."""
    cols = list(df.columns)
    cells = [[str(c) for c in cols]]
    for r in df.itertuples(index=False):
        row = []
        for v in r:
            if isinstance(v, float):
                row.append("" if pd.isna(v) else floatfmt.format(v))
            else:
                row.append("" if v is None or (not isinstance(v, (tuple, list)) and pd.isna(v)) else str(v))
        cells.append(row)
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells) + "\n"


_SEV = {"HEALTH_WARN": "WRN", "HEALTH_ERR": "ERR", "INFO": "INF", "ERANGE": "ERR"}


def health_text(findings: list[Finding], *, numbers: bool = False) -> str:
    """Ceph's ``health detail`` layout for the Ceph checks, then pgtools' own findings.

    Each finding is followed by its ``why`` line; ``numbers=True`` also lists every number used.
    """
    ceph = [f for f in findings if f.ceph]
    status = "HEALTH_OK"
    if any(f.severity == "HEALTH_ERR" for f in ceph):
        status = "HEALTH_ERR"
    elif ceph:
        status = "HEALTH_WARN"
    lines = [status + (" " + "; ".join(f.summary for f in ceph) if ceph else "")]
    for f in findings:
        tag = _SEV.get(f.severity, f.severity)
        origin = "" if f.ceph else " (pgtools)"
        lines.append(f"[{tag}] {f.code}{origin}: {f.summary}")
        if f.why:
            lines.append(f"    why: {f.why}")
        elif f.detail:
            lines.extend(f"    {d}" for d in f.detail)
        if numbers and f.numbers:
            shown = {k: v for k, v in f.numbers.items() if not isinstance(v, dict)}
            lines.append("    numbers: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    return "\n".join(lines) + "\n"

