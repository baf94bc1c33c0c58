"""What a rule's shape tells before any descent: whether it can place anything, and how much work one input is.

:func:`places_nothing` answers a rule whose every reachable device is out (the descents would only run out
of tries); :func:`relative_cost` weighs a rule's work per input so that :func:`pgtools.crush.vector.map_values`
picks the compiled engine for big jobs.

Imports: numpy and :mod:`.rule` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .rule import OPS

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["REFERENCE_DRAWS", "places_nothing", "relative_cost"]


def places_nothing(crush: CrushMap, rule: int, num_rep: int, weights: np.ndarray) -> int | None:
    """When every device the rule can reach is out, how ``crush_do_rule`` ends: ``0`` (firstn: an empty
    result) or the number of ``ITEM_NONE`` holes (indep); None when that is not certain from the rule's shape.

    A device whose weight is 0 (or has no weight) fails every ``is_out`` test, so every leaf choice is
    rejected and every descent runs out of tries (``choose_total_tries`` each: minutes for a large map,
    in crushtool and osdmaptool too).  Handled shapes: every ``take`` a bucket followed by firstn choose
    steps whose last one picks devices (``chooseleaf_firstn`` or ``choose_firstn`` of type 0) before its
    ``emit``; or a single ``take`` / ``chooseleaf_indep`` (or ``choose_indep`` of type 0) / ``emit``, which
    leaves ``min(numrep, num_rep)`` holes.  Anything else (a take of a device, choose steps emitting
    buckets, mixed modes) is left to the engines.
    """
    r = crush.rules.get(rule)
    if r is None or r.is_msr:  # MSR rules descend differently (crush_msr_do_rule)
        return None
    set_ops = {v for k, v in OPS.items() if k.startswith("set_")}
    ops = [(op, a1, a2) for op, a1, a2 in r.steps if op not in set_ops]
    segments, cur = [], None
    for op, a1, a2 in ops:
        if op == OPS["take"]:
            if a1 >= 0 or a1 not in crush.buckets or cur is not None:
                return None
            cur = [a1, []]
        elif op == OPS["emit"]:
            if cur is None or not cur[1]:
                return None
            segments.append(cur)
            cur = None
        elif op in (OPS["choose_firstn"], OPS["chooseleaf_firstn"], OPS["choose_indep"], OPS["chooseleaf_indep"]):
            if cur is None or (a1 if a1 > 0 else a1 + num_rep) <= 0:  # a skipped step: the bucket stays in w
                return None
            cur[1].append((op, a1, a2))
        else:
            return None
    if cur is not None or not segments:
        return None
    for take, steps in segments:
        op, _, kind = steps[-1]
        if not (op in (OPS["chooseleaf_firstn"], OPS["chooseleaf_indep"]) or kind == 0):
            return None
        for d in crush.subtree_devices(take):
            if 0 <= d < len(weights) and weights[d] != 0:
                return None
    firstn = {OPS["choose_firstn"], OPS["chooseleaf_firstn"]}
    if all(op in firstn for _, steps in segments for op, _, _ in steps):
        return 0
    if len(segments) == 1 and len(segments[0][1]) == 1:
        numrep = segments[0][1][0][1]
        if numrep <= 0:
            numrep += num_rep
        return max(0, min(numrep, num_rep))
    return None


#: straw2 draws per input of the map :data:`AUTO_NUMBA_MIN_INPUTS` was measured on (50 hosts of 20 OSDs, 3
#: replicas: 3 x (50 + 20))
REFERENCE_DRAWS = 210


def relative_cost(crush: CrushMap, rule: int, num_rep: int) -> float:
    """CRUSH work per input of ``rule`` relative to the reference map: bucket items visited by one descent
    per replica (the widest path below each ``take``), so that a few inputs through huge buckets also count
    as a large job."""
    r = crush.rules.get(rule)
    if r is None:
        return 1.0
    memo: dict[int, int] = {}

    def widest(item: int, depth: int = 0) -> int:
        b = crush.buckets.get(item)
        if b is None or depth > 64:
            return 0
        got = memo.get(item)
        if got is None:
            memo[item] = 0  # a cycle (refused at load) cannot recurse forever
            got = memo[item] = len(b.items) + max((widest(i, depth + 1) for i in b.items if i < 0), default=0)
        return got

    draws = max((widest(a1) for op, a1, _ in r.steps if op == OPS["take"]), default=0) * max(num_rep, 1)
    return max(draws / REFERENCE_DRAWS, 1e-3)
