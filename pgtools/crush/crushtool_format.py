"""crushtool ``--test --show-mappings`` emulation and output formatting."""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CephUndefinedBehaviourWarning, PgtoolsError, PgtoolsWarning
from .constants import WEIGHT_ONE
from .hash import hash2_vec
from .vector import map_values

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["format_mappings", "crushtool_weights", "crushtool_test", "iter_crushtool_test"]


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
