"""Helpers every plot module shares (axes, plan arguments, byte labels): imported by :mod:`pgtools.plotting`
and the plot modules it delegates to, never the other way round."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from ..text.snapshot import human_bytes as _format_bytes

__all__ = ["axes", "plan_of", "plan_step", "bytes_label"]


def axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _fig, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def plan_of(data: Any, func: str) -> Any:
    from ..simulate.plan import Plan

    if not isinstance(data, Plan):
        raise TypeError(f"{func} needs a pgtools.simulate.Plan, not {type(data).__name__}")
    return data


def plan_step(plan: Any, step: int, first: int = 0) -> int:
    n = len(plan.steps)
    k = int(step) + n if int(step) < 0 else int(step)
    if not first <= k < n:
        raise ValueError(f"step {step} is out of range: the plan has steps {first}..{n - 1}")
    return k


def bytes_label(n: float) -> str:
    """A byte count as a short label (``1.5 GiB``)."""
    return _format_bytes(float(n))
