"""Renderings of a :class:`pgtools.simulate.Plan` as strings (text, JSON, CSV); the CLI prints them."""

from __future__ import annotations

import io
from typing import Any

from ._format import human_bytes

__all__ = ["plan_text", "plan_json", "plan_csv"]


def plan_text(plan: Any) -> str:
    """A human-readable summary: one block per step, then the commands to run.

    Parameters
    ----------
    plan : Plan

    Returns
    -------
    str
    """
    lines = []
    for rec in plan.steps.to_dict("records"):
        i = rec["step"]
        lines.append(f"step {i}: {rec['change']}")
        lines.append(f"  PGs remapped {rec['pgs_moved']}, shards moved {rec['shards_moved']}, "
                     f"data moved {human_bytes(rec['bytes_moved'], largest='TiB')} ({rec['objects_moved']} objects)")
        lines.append(f"  PGs per OSD: max {rec['max_pgs_per_osd']}, min {rec['min_pgs_per_osd']}")
        if rec.get("pgs_degraded"):
            lines.append(f"  degraded PGs {rec['pgs_degraded']}, inactive {rec['pgs_inactive']}, "
                         f"to recover {human_bytes(rec['bytes_to_recover'], largest='TiB')}")
        h = plan.health[plan.health["step"] == i]
        if len(h):
            for code, sev, summ in zip(h["code"], h["severity"], h["summary"], strict=True):
                lines.append(f"  {sev} {code}: {summ}")
        else:
            lines.append("  HEALTH_OK")
    cmds = list(plan.commands)
    if cmds:
        lines.append("commands (not executed):")
        lines.extend(f"  {c}" for c in cmds)
    return "\n".join(lines) + "\n"


def plan_json(plan: Any, indent: int | None = None) -> str:
    """The JSON contract of :meth:`pgtools.simulate.Plan.to_json`."""
    return plan.to_json(indent=indent)


def plan_csv(plan: Any) -> str:
    """The per-step table (``plan.steps``) as CSV text."""
    buf = io.StringIO()
    plan.steps.to_csv(buf, index=False)
    return buf.getvalue()
