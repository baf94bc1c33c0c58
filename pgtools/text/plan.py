"""Renderings of a :class:`pgtools.simulate.Plan` as strings (text, JSON, CSV); the CLI prints them."""

from __future__ import annotations

import io
from typing import Any

from ..model import split_pgid
from .snapshot import human_bytes

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
        lines.extend(_failure_lines(plan, rec))
        ref = getattr(plan, "refused", None)
        if ref is not None and ref.step == i:
            lines.append(f"  REFUSED by the monitor ({ref.error}): {ref.message.strip()}")
            lines.append(f"  to be accepted: {ref.remedy}")
            lines.append("  the plan stops here: nothing changed at this step and later changes were not simulated")
            continue
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
    ref = getattr(plan, "refused", None)
    if ref is not None:
        lines.append(f"no command for step {ref.step} or later: the monitor would refuse `{ref.command}`")
    return "\n".join(lines) + "\n"


def _pgids(ids: list[str], limit: int = 12) -> str:
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _failure_lines(plan: Any, rec: dict) -> list[str]:
    """The lost / inactive / degraded lines of one step (nothing for a step without a failure)."""
    i = rec["step"]
    f = plan.failures[plan.failures["step"] == i] if len(plan.failures) else plan.failures
    if not len(f):
        return []
    def ids(status: str) -> list[str]:
        return sorted(f.loc[f["status"] == status, "pgid"], key=split_pgid)

    out = []
    lost = ids("lost")
    if lost:
        out.append(f"  {len(lost)} PGs LOST (no surviving copy / fewer than k shards): nothing can recover them; "
                   f"{human_bytes(rec.get('bytes_lost', 0), largest='TiB')} in {rec.get('objects_lost', 0)} "
                   f"objects lost: {_pgids(lost)}")
    out.append(f"  inactive PGs {rec.get('pgs_inactive', 0)} (fewer than min_size copies: I/O blocked until "
               f"recovery), degraded PGs {rec.get('pgs_degraded', 0)}, "
               f"to recover {human_bytes(rec['bytes_to_recover'], largest='TiB')}")
    n_lost, n_inact, n_deg = len(lost), int(rec.get("pgs_inactive", 0)), int(rec.get("pgs_degraded", 0))
    allf = plan.failures
    before = int((allf["lost"].astype(bool) & (allf["step"] < i)).sum()) if len(allf) else 0
    if n_lost or n_inact or before:  # the health lines count inclusively, as Ceph does: say how both relate
        earlier = f" + {before} lost at earlier steps" if before else ""
        out.append(f"  (each PG counted once above, by its worst state; the health lines count as Ceph does: "
                   f"{n_lost + n_inact + before} pgs inactive = {n_lost} lost + {n_inact} inactive{earlier}, "
                   f"{n_inact + n_deg} pgs degraded = {n_inact} inactive + {n_deg} degraded)")
    fp = plan.failure_pools()
    fp = fp[fp["step"] == i]
    for p in fp.to_dict("records"):
        lost_txt = (f", {human_bytes(p['bytes_lost'], largest='TiB')} / {p['objects_lost']} objects lost"
                    if p["pgs_lost"] else "")
        out.append(f"    pool {p['pool']}: lost {p['pgs_lost']}, inactive {p['pgs_inactive']}, "
                   f"degraded {p['pgs_degraded']}{lost_txt}")
    return out


def plan_json(plan: Any, indent: int | None = None) -> str:
    """The JSON contract of :meth:`pgtools.simulate.Plan.to_json`."""
    return plan.to_json(indent=indent)


def plan_csv(plan: Any) -> str:
    """The per-step table (``plan.steps``, with ``pgs_lost, pgs_inactive, pgs_degraded, bytes_lost,
    objects_lost, bytes_to_recover``) as CSV text."""
    buf = io.StringIO()
    plan.steps.to_csv(buf, index=False)
    return buf.getvalue()
