"""The recomputed PG-count health against the cluster's own ``health detail`` in the capture.

A capture whose PG dump is incomplete (cut short, PGs still creating) can recompute to ``HEALTH_OK``
while the cluster itself reported ``TOO_MANY_PGS``: that disagreement must be said, not hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["COMPARED", "disagreements"]

#: The checks pgtools recomputes exactly as Ceph does: only these are compared.
COMPARED = ("TOO_MANY_PGS", "TOO_FEW_PGS")


def _captured(health: Mapping[str, Any] | None) -> dict[str, str]:
    """code -> summary of the capture's compared checks ({} when none); Jewel summaries by their text."""
    out: dict[str, str] = {}
    if not health:
        return out
    for code, c in (health.get("checks") or {}).items():
        if code in COMPARED:
            summ = c.get("summary") if isinstance(c, Mapping) else c
            out[code] = str(summ.get("message", summ) if isinstance(summ, Mapping) else summ)
    for s in health.get("summary") or []:
        text = str(s.get("summary", "") if isinstance(s, Mapping) else s)
        if "too many pgs per osd" in text.lower():
            out.setdefault("TOO_MANY_PGS", text)
        elif "too few pgs per osd" in text.lower():
            out.setdefault("TOO_FEW_PGS", text)
    return out


def disagreements(health: Mapping[str, Any] | None, findings: Sequence[Any]) -> list[str]:
    """One message per compared check the capture's health and the recomputed ``findings`` disagree on.

    Parameters
    ----------
    health : mapping or None
        ``snap.health`` (parsed ``ceph health detail``); nothing to compare without it.
    findings : sequence of Finding
        :func:`pgtools.analysis.health` findings.
    """
    if not health:
        return []
    had = _captured(health)
    got = {f.code: f.summary for f in findings if f.code in COMPARED}
    status = str(health.get("status") or health.get("overall_status") or "").strip()
    out = []
    for code in COMPARED:
        if code in had and code not in got:
            out.append(f"the capture's own health detail reports {status or 'HEALTH_WARN'} {code}: {had[code]}, "
                       f"but the PGs pgtools read give no {code} (recomputed "
                       f"{', '.join(f.code for f in findings) or 'HEALTH_OK'}): the PG data is incomplete or the "
                       "cluster changed between the captures; trust neither blindly")
        elif code in got and code not in had:
            out.append(f"pgtools recomputes {code}: {got[code]}, but the capture's own health detail "
                       f"({status or 'no status'}) does not report it: the PG data or the thresholds differ "
                       "from the cluster's")
    return out
