"""crushtool ``--test --show-mappings`` emulation and output formatting."""

from __future__ import annotations

import math
import struct
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CephUndefinedBehaviourWarning, PgtoolsError, PgtoolsWarning
from .constants import ITEM_NONE, WEIGHT_ONE
from .hash import hash2_vec
from .vector import map_values

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["format_mappings", "crushtool_weights", "crushtool_test", "iter_crushtool_test", "crushtool_tester",
           "max_affected_by_rule"]


def format_mappings(rule: int, results: np.ndarray | Sequence[Sequence[int]],
                    xs: Iterable[int] | None = None) -> str:
    """Format mappings exactly like ``crushtool --test --show-mappings``.

    Parameters
    ----------
    rule : int
        Rule id printed on each line.
    results : 2-D array or sequence of sequences
        One mapping per input (as returned by :func:`~pgtools.crush.map_values`); ``-1`` entries are
        padding and are dropped, ``ITEM_NONE`` is printed as ``2147483647`` like crushtool does.
    xs : iterable of int, optional
        The x printed on each line (default 0, 1, 2, ...).

    Returns
    -------
    str
        Lines ``CRUSH rule R x X [a,b,c]``, each ending in a newline.
    """
    rows = results.tolist() if isinstance(results, np.ndarray) else [list(r) for r in results]
    xs_list = list(range(len(rows))) if xs is None else [int(v) for v in xs]
    if len(xs_list) != len(rows):
        raise ValueError("xs and results differ in length")
    out = []
    for x, row in zip(xs_list, rows, strict=False):
        vals = ",".join(str(int(v)) for v in row if v != -1)
        out.append(f"CRUSH rule {rule} x {x} [{vals}]\n")
    return "".join(out)


def _cli_weight(f: float) -> int:
    """``CrushTester::set_device_weight``: ``(int)(f * 0x10000)`` with f a float, clamped to [0, 0x10000]."""
    f32 = struct.unpack("f", struct.pack("f", float(f)))[0]
    prod = f32 * 65536.0
    if prod != prod:
        w = 0
    else:
        w = int(max(min(prod, 2.0 ** 31), -(2.0 ** 31)))
    return max(0, min(WEIGHT_ONE, w))


def crushtool_weights(crush: CrushMap, overrides: Mapping[int, float] | None = None) -> list[int]:
    """The weight vector crushtool's tester uses, with ``--weight OSD W`` overrides applied.

    Devices present in a bucket get 0x10000, other ids below ``max_devices`` get 0; an override
    becomes ``(int)(W * 0x10000)`` computed in float32 and clamped to [0, 0x10000].  Overrides for
    ids outside ``[0, max_devices)`` are ignored, as crushtool 16.2.15 ignores them (checked: ``--weight 999
    0.5`` prints the same mappings), with a :class:`~pgtools.errors.PgtoolsWarning` saying so.
    """
    w = crush.default_weights()
    for osd, f in (overrides or {}).items():
        if 0 <= osd < len(w):
            w[osd] = _cli_weight(f)
        else:
            warnings.warn(f"--weight {osd}={f:g}: no device {osd} in this CRUSH map (max_devices {len(w)}); "
                          "ignored, as crushtool ignores it", PgtoolsWarning, stacklevel=2)
    return w


#: crushtool reads ``--min-x``/``--max-x`` as a C ``int``: it refuses anything outside this range.
X_RANGE = (-(1 << 31), (1 << 31) - 1)
#: Inputs mapped at a time by :func:`iter_crushtool_test` (memory stays bounded whatever the range).
CHUNK = 1 << 16


def crushtool_test(crush: CrushMap, rule: int, num_rep: int, min_x: int = 0, max_x: int = 1023,
                   weights: Mapping[int, float] | None = None, pool_id: int = -1) -> str:
    """Reproduce ``crushtool -i map --test --show-mappings --rule R --num-rep N`` output.

    Parameters
    ----------
    crush : CrushMap
    rule : int
        Rule id.
    num_rep : int
        ``--num-rep``.  Negative (crushtool's "not given"): every size from the rule's ``min_size`` to its
        ``max_size``, one block of mappings per size, as crushtool 16.2.15 prints them.
    min_x, max_x : int
        ``--min-x``/``--max-x`` (inclusive), C ints as crushtool reads them (:data:`X_RANGE`).
    weights : mapping, optional
        ``--weight OSD W`` overrides (W a float in [0, 1]).
    pool_id : int
        ``--pool-id``: when not -1, the input is ``hash2(x, pool_id)``.  choose_args are always looked up
        with key 0 (falling back to -1), as crushtool does.

    Returns
    -------
    str
        The mapping lines, byte-identical to crushtool's.  Empty when the rule does not exist or
        every device weight is 0 (crushtool prints nothing then).  For a large range use
        :func:`iter_crushtool_test`, which yields the same text in bounded pieces.

    Raises
    ------
    PgtoolsError
        ``min_x``/``max_x`` outside :data:`X_RANGE` (crushtool: "The option value ... seems to be invalid").
    """
    return "".join(iter_crushtool_test(crush, rule, num_rep, min_x, max_x, weights, pool_id))


def iter_crushtool_test(crush: CrushMap, rule: int, num_rep: int, min_x: int = 0, max_x: int = 1023,
                        weights: Mapping[int, float] | None = None, pool_id: int = -1) -> Iterator[str]:
    """:func:`crushtool_test` in pieces of at most :data:`CHUNK` lines: memory does not grow with the range."""
    for name, v in (("--min-x", min_x), ("--max-x", max_x)):
        if not X_RANGE[0] <= int(v) <= X_RANGE[1]:
            raise PgtoolsError(f"{name} {v}: crushtool reads it as a 32-bit int, from {X_RANGE[0]} to {X_RANGE[1]} "
                               f"(crushtool: \"The option value '{v}' seems to be invalid\")")
    if rule not in crush.rules:
        return
    for msg in crush.undefined_behaviour(rule):
        warnings.warn(msg, CephUndefinedBehaviourWarning, stacklevel=3)
    wv = crushtool_weights(crush, weights)
    if sum(wv) == 0:
        return
    if num_rep >= 0:
        sizes = [num_rep]
    else:
        r = crush.rules[rule]
        if r.min_size is None or r.max_size is None:
            raise PgtoolsError(f"--num-rep {num_rep}: crushtool then tests every size from the rule's min_size to "
                               f"its max_size, but rule {rule} has none (a Quincy or later map): give --num-rep N >= 0")
        sizes = list(range(r.min_size, r.max_size + 1))
    # CrushTester always asks for choose_args index 0 (then the -1 fallback), whatever --pool-id says:
    # checked with crushtool 16.2.15 (a weight set keyed 1 is ignored with --pool-id 1, one keyed 0 is used)
    for n in sizes:
        for lo in range(int(min_x), int(max_x) + 1, CHUNK):
            xs = np.arange(lo, min(lo + CHUNK - 1, int(max_x)) + 1, dtype=np.int64)
            real = hash2_vec(xs, pool_id) if pool_id != -1 else xs
            yield format_mappings(rule, map_values(crush, rule, n, real, wv, choose_args=0), xs)


# ---------------------------------------------------------------------------------------------------------------
# crushtool --test with its display options (CrushTester::test, src/crush/CrushTester.cc)


def max_affected_by_rule(crush: CrushMap, rule: int, max_buckets: int) -> int:
    """``CrushTester::get_maximum_affected_by_rule``: the cap on the replicas the tester expects per input.

    Every step whose op is 2 or more but not ``emit`` (4) contributes its type (``arg2``; set_* steps give type
    0 with their value as the "replication"); the count of a type is the number of named buckets of that type,
    counted once per occurrence of the type among the steps (as the C++ loops do); a type asked for ``n > 0``
    replicas caps its count at ``n``.  The result is the smallest positive count, else
    ``max(max_buckets, max_devices)``.
    """
    steps = crush.rules[rule].steps
    affected = [int(a2) for op, _a1, a2 in steps if op >= 2 and op != 4]
    replications = {int(a2): int(a1) for op, a1, a2 in steps if op >= 2 and op != 4}
    per_type: dict[int, int] = {}
    for t in affected:
        per_type[t] = per_type.get(t, 0) + sum(1 for b in crush.buckets.values() if b.name and b.type_id == t)
    for t in affected:
        if 0 < replications[t] < per_type.get(t, 0):
            per_type[t] = replications[t]
    out = max(max_buckets, crush.max_devices)
    for t in affected:
        if 0 < per_type.get(t, 0) < out:
            out = per_type[t]
    return out


def _i32(v: int) -> int:
    """A C ``int`` result (two's-complement wrap), as the tester's int arithmetic gives it."""
    return (int(v) + (1 << 31)) % (1 << 32) - (1 << 31)


def _g(x: float) -> str:
    """A C++ ``ostream << float`` (promoted to double, ``%g``)."""
    if x != x:
        return "-nan" if math.copysign(1.0, x) < 0 else "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def crushtool_tester(crush: CrushMap, *, min_x: int = -1, max_x: int = -1, min_rule: int = -1, max_rule: int = -1,
                     min_rep: int = -1, max_rep: int = -1, weights: Mapping[int, float] | None = None,
                     pool_id: int = -1, mappings: bool = False, statistics: bool = False,
                     utilization: bool = False, utilization_all: bool = False, bad_mappings: bool = False,
                     max_rules: int | None = None, max_buckets: int | None = None,
                     sizes_from_rule: bool = True) -> Iterator[tuple[int, str]]:
    """``CrushTester::test`` of crushtool 16.2 to 20.2: what ``crushtool -i MAP --test --show-...`` prints.

    Yields ``(stream, text)`` pieces in the tool's order: stream 1 is stdout (the tester's stream: mappings,
    ``--show-statistics``, ``--show-utilization[-all]`` device lines, ``--show-bad-mappings``), 2 is stderr
    (the ``devices weights (hex)`` line of ``--show-utilization-all``).  As the tester does:

    * ``min_x``/``max_x``: either one negative (not given) means 0..1023;
    * ``min_rule``/``max_rule``: either negative means every rule slot ``0 .. max_rules-1``; a missing rule
      is ``rule R dne`` with statistics;
    * ``min_rep``/``max_rep`` (``--num-rep N`` sets both): when either is negative, ``sizes_from_rule``
      (16.2's tester) takes the rule's ``min_size .. max_size``;
    * statistics: ``rule R (NAME), x = A..B, numrep = M..N``, then per size ``rule R (NAME) num_rep N result
      size == K:\\tCOUNT/TOTAL`` and, with utilization, ``  device I:\\t\\t stored : S\\t expected : E``
      where E is a C ``float`` computed as the tester does (:func:`max_affected_by_rule`);
    * ``--show-bad-mappings``: ``bad mapping rule R x X num_rep N result [..]`` when the result is short or
      holds ``CRUSH_ITEM_NONE``.

    ``max_rules`` and ``max_buckets`` are the map's slot counts (the binary header; for a compiled text map
    the highest rule id + 1 and crush_add_bucket's doubling from 8); they default to what the map holds.
    """
    rules = crush.rules
    n_rules = max_rules if max_rules is not None else (max(rules) + 1 if rules else 0)
    n_buckets = max_buckets if max_buckets is not None else (max((-b for b in crush.buckets), default=0))
    if min_rule < 0 or max_rule < 0:
        min_rule, max_rule = 0, n_rules - 1
    if min_x < 0 or max_x < 0:
        min_x, max_x = 0, 1023
    statistics = statistics or utilization or utilization_all
    wv = crushtool_weights(crush, weights)
    if utilization_all:
        yield 2, "devices weights (hex): [" + ",".join(f"{w:x}" for w in wv) + "]\n"
    ndev = len(wv)
    w32 = np.asarray(wv, dtype=np.float32)
    total_weight = _i32(sum(wv))
    for r in range(max(min_rule, 0), min(n_rules - 1, max_rule) + 1):
        if r not in rules:
            if statistics:
                yield 1, f"rule {r} dne\n"
            continue
        for msg in crush.undefined_behaviour(r):
            warnings.warn(msg, CephUndefinedBehaviourWarning, stacklevel=2)
        name = rules[r].name
        minr, maxr = min_rep, max_rep
        if sizes_from_rule and (min_rep < 0 or max_rep < 0):
            minr, maxr = rules[r].min_size, rules[r].max_size
            if minr is None or maxr is None:
                raise PgtoolsError(f"rule {r} has no min_size/max_size (a Quincy or later map): Ceph 16.2's "
                                   "crushtool tests those sizes when --num-rep is not given; give --num-rep N")
        if statistics:
            yield 1, f"rule {r} ({name}), x = {min_x}..{max_x}, numrep = {minr}..{maxr}\n"
        num_objects = _i32(max_x - min_x + 1)
        for nr in range(minr, maxr + 1):
            if total_weight == 0:
                continue
            per = np.zeros(ndev, dtype=np.int64)
            sizes: dict[int, int] = {}
            for lo in range(min_x, max_x + 1, CHUNK):
                xs = np.arange(lo, min(lo + CHUNK - 1, max_x) + 1, dtype=np.int64)
                real = hash2_vec(xs, pool_id) if pool_id != -1 else xs
                res = np.asarray(map_values(crush, r, nr, real, wv, choose_args=0))
                if res.ndim != 2:
                    res = res.reshape(len(xs), -1)
                lengths = (res != -1).sum(axis=1)
                holes = (res == ITEM_NONE).any(axis=1)
                ok = (res >= 0) & (res < ndev)
                per += np.bincount(res[ok], minlength=ndev)[:ndev]
                for k, v in zip(*np.unique(lengths, return_counts=True), strict=True):
                    sizes[int(k)] = sizes.get(int(k), 0) + int(v)
                if mappings or bad_mappings:
                    bad = (lengths != nr) | holes if bad_mappings else np.zeros(len(xs), dtype=bool)
                    out = []
                    for x, row, b in zip(xs.tolist(), res.tolist(), bad.tolist(), strict=True):
                        vec = "[" + ",".join(str(v) for v in row if v != -1) + "]"
                        if mappings:
                            out.append(f"CRUSH rule {r} x {x} {vec}\n")
                        if b:
                            out.append(f"bad mapping rule {r} x {x} num_rep {nr} result {vec}\n")
                    yield 1, "".join(out)
            if not statistics:
                continue
            yield 1, "".join(f"rule {r} ({name}) num_rep {nr} result size == {k}:\t{v}/{num_objects}\n"
                             for k, v in sorted(sizes.items()))
            if utilization or utilization_all:
                expected_objects = np.float32(_i32(min(nr, max_affected_by_rule(crush, r, n_buckets)) * num_objects))
                expected = (w32 / np.float32(total_weight)) * expected_objects
                lines = []
                for i in range(ndev):
                    e = float(expected[i])
                    if (e > 0 and per[i] > 0) if utilization else utilization_all:
                        lines.append(f"  device {i}:\t\t stored : {int(per[i])}\t expected : {_g(e)}\n")
                yield 1, "".join(lines)
