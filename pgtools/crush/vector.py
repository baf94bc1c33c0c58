"""Vectorised ``crush_do_rule``: map many inputs at once with NumPy, bit-exact with :mod:`.reference`.

Every step works on arrays of inputs: a bucket choice evaluates the hashes and draws of all the
inputs currently in buckets of one algorithm at once (:mod:`.vecmap`: straw2 and straw buckets are
padded to a common width; uniform, list and tree buckets are grouped per bucket), and retries are
handled by masks.  Loops run over replica ranks, retry rounds and descent levels, never over inputs.
MSR rules (``msr_firstn``/``msr_indep``, ``crush_msr_do_rule``) are mapped the same way by :mod:`.vecmsr`.

:func:`map_values` dispatches on ``engine``: this NumPy code, or the compiled kernel of
:mod:`pgtools.crush._numba` (optional dependency numba, ``pip install pgtools[fast]``) which gives the same
result 2-3x faster; ``"auto"`` (the default) picks numba when it is installed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .buckets import UNIFORM
from .constants import ITEM_NONE, ITEM_UNDEF
from .hash import as_u32
from .rule import OPS
from .shape import places_nothing, relative_cost
from .vecmap import VecMap, is_out_vec, vec_map
from .vecmsr import map_msr_vec

if TYPE_CHECKING:
    from .map import CrushMap

__all__ = ["map_values", "ENGINES", "have_numba", "resolve_engine"]

#: Accepted ``engine=`` values of :func:`map_values`.
ENGINES = ("auto", "numpy", "numba")

_IGN = -(1 << 40)  # unused column marker (never equal to an item)


class _Params:
    __slots__ = ("tries", "recurse_tries", "local_retries", "fallback", "vary_r", "stable")

    def __init__(self, tries: int, recurse_tries: int, local_retries: int, fallback: int, vary_r: int,
                 stable: int):
        self.tries = tries
        self.recurse_tries = recurse_tries
        self.local_retries = local_retries
        self.fallback = fallback
        self.vary_r = vary_r
        self.stable = stable


def _firstn_rep(vm: VecMap, wts: np.ndarray, x: np.ndarray, start: np.ndarray, rep: np.ndarray,
                parent_r: np.ndarray, outpos: np.ndarray, out: np.ndarray, out2: np.ndarray | None,
                want_type: int, tries: int, prm: _Params, recurse_to_leaf: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One replica rank of ``crush_choose_firstn`` for every row; returns (ok, item, leaf)."""
    n = len(x)
    in_b = start.copy()
    ftotal = np.zeros(n, dtype=np.int64)
    flocal = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    item_res = np.zeros(n, dtype=np.int64)
    leaf_res = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    cols = np.arange(out.shape[1])
    while True:
        A = np.nonzero(active)[0]
        if not len(A):
            break
        xa = x[A]
        ib = in_b[A]
        fl = flocal[A]
        r = rep[A] + parent_r[A] + ftotal[A]
        size = vm.bsize[-1 - ib]
        nz = size > 0
        item = np.zeros(len(A), dtype=np.int64)
        if prm.fallback > 0:
            use_perm = nz & (fl >= (size >> 1)) & (fl > prm.fallback)
        else:
            use_perm = np.zeros(len(A), dtype=bool)
        normal = np.nonzero(nz & ~use_perm)[0]
        if len(normal):
            item[normal] = vm.choose(ib[normal], xa[normal], r[normal], outpos[A][normal])
        pidx = np.nonzero(use_perm)[0]
        for bid in np.unique(ib[pidx]):
            m = pidx[ib[pidx] == bid]
            item[m] = vm.perm_choose(int(bid), xa[m], r[m])
        skip = nz & (item >= vm.max_devices)
        itype = vm.item_type(np.where(nz & ~skip, item, 0))
        mismatch = nz & ~skip & (itype != want_type)
        isb = vm.is_bucket(item)
        skip |= mismatch & ~isb
        descend = mismatch & isb
        matched = nz & ~skip & ~mismatch
        oa = out[A]
        collide = matched & ((oa == item[:, None]) & (cols[None, :] < outpos[A][:, None])).any(axis=1)
        reject = ~nz
        leaf = item.copy()
        cand = matched & ~collide
        if recurse_to_leaf:
            sub = np.nonzero(cand & (item < 0))[0]
            if len(sub):
                if prm.vary_r:
                    sub_r = r[sub] >> (prm.vary_r - 1)
                else:
                    sub_r = np.zeros(len(sub), dtype=np.int64)
                op = outpos[A[sub]]
                irep = np.zeros(len(sub), dtype=np.int64) if prm.stable else op
                iok, ileaf, _ = _firstn_rep(vm, wts, xa[sub], item[sub], irep, sub_r, op,
                                            out2[A[sub]], None, 0, prm.recurse_tries, prm, False)
                reject[sub[~iok]] = True
                leaf[sub] = ileaf
        dev = np.nonzero(cand & ~reject & (itype == 0))[0]
        if len(dev):
            reject[dev] = is_out_vec(wts, item[dev], xa[dev])
        success = matched & ~collide & ~reject
        fail = ~nz | (matched & (collide | reject))
        # successes
        s = A[success]
        ok[s] = True
        item_res[s] = item[success]
        leaf_res[s] = leaf[success]
        active[s] = False
        active[A[skip]] = False
        # descents: same r, next bucket
        in_b[A[descend]] = item[descend]
        # failures
        fidx = np.nonzero(fail)[0]
        if len(fidx):
            Af = A[fidx]
            ftotal[Af] += 1
            flocal[Af] += 1
            flf = flocal[Af]
            rb = collide[fidx] & (flf <= prm.local_retries)
            if prm.fallback > 0:
                rb |= flf <= size[fidx] + prm.fallback
            rd = ~rb & (ftotal[Af] < tries)
            gone = ~rb & ~rd
            active[Af[gone]] = False
            back = Af[rd]
            in_b[back] = start[back]
            flocal[back] = 0
    return ok, item_res, leaf_res


def _firstn_call(vm: VecMap, wts: np.ndarray, x: np.ndarray, start: np.ndarray, numrep: int,
                 want_type: int, cap: np.ndarray, prm: _Params, recurse_to_leaf: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-level ``crush_choose_firstn`` (outpos 0); returns (out, out2, count) per row."""
    n = len(x)
    width = max(0, min(numrep, int(cap.max()) if n else 0))
    out = np.full((n, width), _IGN, dtype=np.int64)
    out2 = np.full((n, width), _IGN, dtype=np.int64)
    outpos = np.zeros(n, dtype=np.int64)
    count = cap.copy()
    for rep in range(numrep):
        act = np.nonzero(count > 0)[0]
        if not len(act):
            break
        ok, item, leaf = _firstn_rep(vm, wts, x[act], start[act], np.full(len(act), rep, dtype=np.int64),
                                     np.zeros(len(act), dtype=np.int64), outpos[act], out[act],
                                     out2[act], want_type, prm.tries, prm, recurse_to_leaf)
        rows = act[ok]
        out[rows, outpos[rows]] = item[ok]
        out2[rows, outpos[rows]] = leaf[ok]
        outpos[rows] += 1
        count[rows] -= 1
    return out, out2, outpos


def _indep_descend(vm: VecMap, x: np.ndarray, start: np.ndarray, rbase: np.ndarray, ftotal: int,
                   numrep: int, want_type: int, position: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Descend from ``start`` to an item of ``want_type``.

    Returns (code, item, r): code 0 = empty bucket (slot stays UNDEF), 1 = slot becomes NONE,
    2 = candidate found.
    """
    n = len(x)
    code = np.zeros(n, dtype=np.int64)
    item_res = np.zeros(n, dtype=np.int64)
    r_res = np.zeros(n, dtype=np.int64)
    in_b = start.copy()
    active = np.ones(n, dtype=bool)
    while True:
        A = np.nonzero(active)[0]
        if not len(A):
            break
        ib = in_b[A]
        s = -1 - ib
        size = vm.bsize[s]
        uni = (vm.balg[s] == UNIFORM) & (size % numrep == 0)
        r = rbase[A] + np.where(uni, (numrep + 1) * ftotal, numrep * ftotal)
        nz = size > 0
        active[A[~nz]] = False  # code 0
        B = np.nonzero(nz)[0]
        if not len(B):
            continue
        AB = A[B]
        item = vm.choose(ib[B], x[AB], r[B], position[AB])
        bad = item >= vm.max_devices
        itype = vm.item_type(np.where(bad, 0, item))
        mismatch = ~bad & (itype != want_type)
        isb = vm.is_bucket(item)
        none = bad | (mismatch & ~isb)
        code[AB[none]] = 1
        active[AB[none]] = False
        desc = mismatch & isb
        in_b[AB[desc]] = item[desc]
        found = ~bad & ~mismatch
        code[AB[found]] = 2
        item_res[AB[found]] = item[found]
        r_res[AB[found]] = r[B][found]
        active[AB[found]] = False
    return code, item_res, r_res


def _indep_call(vm: VecMap, wts: np.ndarray, x: np.ndarray, start: np.ndarray, left: np.ndarray,
                numrep: int, want_type: int, tries: int, recurse_tries: int, recurse_to_leaf: bool
                ) -> tuple[np.ndarray, np.ndarray]:
    """Top-level ``crush_choose_indep`` (outpos 0); returns (out, out2) with ``left`` columns per row."""
    n = len(x)
    width = int(left.max()) if n else 0
    cols = np.arange(width)
    used = cols[None, :] < left[:, None]
    out = np.where(used, ITEM_UNDEF, _IGN).astype(np.int64)
    out2 = out.copy()
    zeros = np.zeros(n, dtype=np.int64)
    for ftotal in range(tries):
        if not (out == ITEM_UNDEF).any():
            break
        for rep in range(width):
            act = np.nonzero(out[:, rep] == ITEM_UNDEF)[0]
            if not len(act):
                continue
            xa = x[act]
            code, item, r = _indep_descend(vm, xa, start[act], np.full(len(act), rep, dtype=np.int64),
                                           ftotal, numrep, want_type, zeros[act])
            nn = act[code == 1]
            out[nn, rep] = ITEM_NONE
            out2[nn, rep] = ITEM_NONE
            f = np.nonzero(code == 2)[0]
            if not len(f):
                continue
            rows = act[f]
            it = item[f]
            collide = ((out[rows] == it[:, None]) & used[rows]).any(axis=1)
            good = ~collide
            leaf = it.copy()
            if recurse_to_leaf:
                sub = np.nonzero(good & (it < 0))[0]
                if len(sub):
                    leaf[sub] = _indep_leaf(vm, wts, x[rows[sub]], it[sub], rep, numrep, recurse_tries,
                                            r[f][sub])
                    good[sub] &= leaf[sub] != ITEM_NONE
                    out2[rows[sub], rep] = leaf[sub]
                d = np.nonzero(good & (it >= 0))[0]
                out2[rows[d], rep] = it[d]
            itype = vm.item_type(it)
            dev = np.nonzero(good & (itype == 0))[0]
            if len(dev):
                good[dev] &= ~is_out_vec(wts, it[dev], x[rows[dev]])
            out[rows[good], rep] = it[good]
    out[out == ITEM_UNDEF] = ITEM_NONE
    out2[out2 == ITEM_UNDEF] = ITEM_NONE
    return out, out2


def _indep_leaf(vm: VecMap, wts: np.ndarray, x: np.ndarray, start: np.ndarray, rep: int, numrep: int,
                tries: int, parent_r: np.ndarray) -> np.ndarray:
    """The recursive ``crush_choose_indep`` call of chooseleaf (left 1, outpos ``rep``, type 0)."""
    n = len(x)
    res = np.full(n, ITEM_UNDEF, dtype=np.int64)
    pos = np.full(n, rep, dtype=np.int64)
    for ftotal in range(tries):
        act = np.nonzero(res == ITEM_UNDEF)[0]
        if not len(act):
            break
        code, item, _ = _indep_descend(vm, x[act], start[act], rep + parent_r[act], ftotal, numrep, 0,
                                       pos[act])
        res[act[code == 1]] = ITEM_NONE
        f = np.nonzero(code == 2)[0]
        if len(f):
            it = item[f]
            good = ~is_out_vec(wts, it, x[act[f]])
            res[act[f][good]] = it[good]
    res[res == ITEM_UNDEF] = ITEM_NONE
    return res


def have_numba() -> bool:
    """True if the optional compiled engine (``pip install pgtools[fast]``, numba) can be imported."""
    global _HAVE_NUMBA
    if _HAVE_NUMBA is None:
        try:
            from . import _numba  # noqa: F401
        except ImportError:
            _HAVE_NUMBA = False
        else:
            _HAVE_NUMBA = True
    return _HAVE_NUMBA


_HAVE_NUMBA: bool | None = None


#: ``engine="auto"`` uses numba for at least this many CRUSH inputs while numba is not yet loaded: loading
#: it and its compiled kernels costs about 0.6 s, which the NumPy engine's extra ~4 µs per input only
#: reaches past about 150,000 inputs (``make bench`` measures both).
AUTO_NUMBA_MIN_INPUTS = 150_000


def resolve_engine(engine: str = "auto", num_inputs: int | None = None) -> str:
    """Turn an ``engine=`` value into ``"numpy"`` or ``"numba"``.

    ``"auto"`` is ``"numba"`` when numba is installed and either its kernels are already loaded in this
    process or the job has at least :data:`AUTO_NUMBA_MIN_INPUTS` inputs (``num_inputs``; unknown counts
    as large), else ``"numpy"``: both give identical results, and a short command is faster without
    loading numba.  The environment variable ``PGTOOLS_CRUSH_ENGINE`` (``numpy``/``numba``/``auto``)
    replaces ``"auto"`` when set.  ``"numba"`` without numba installed raises ImportError.

    Parameters
    ----------
    engine : {"auto", "numpy", "numba"}
    num_inputs : int, optional
        How many CRUSH inputs the call maps.

    Returns
    -------
    str
        ``"numpy"`` or ``"numba"``.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown CRUSH engine {engine!r} (expected one of {', '.join(ENGINES)})")
    if engine == "auto":
        env = os.environ.get("PGTOOLS_CRUSH_ENGINE", "auto").strip().lower() or "auto"
        if env not in ENGINES:
            raise ValueError(f"PGTOOLS_CRUSH_ENGINE={env!r}: expected one of {', '.join(ENGINES)}")
        engine = env
    if engine == "auto":
        loaded = __name__.rpartition(".")[0] + "._numba" in sys.modules
        small = num_inputs is not None and num_inputs < AUTO_NUMBA_MIN_INPUTS
        if small and not loaded:
            return "numpy"
        return "numba" if have_numba() else "numpy"
    if engine == "numba" and not have_numba():
        raise ImportError("engine='numba' needs numba (pip install 'pgtools[fast]')")
    return engine


def map_values(crush: CrushMap, rule: int, num_rep: int, xs: Sequence[int] | np.ndarray,
               weights: Sequence[int] | np.ndarray | None = None, choose_args: object = None,
               engine: str = "auto") -> np.ndarray:
    """Map many CRUSH inputs through a rule at once (vectorised ``crush_do_rule``).

    Parameters
    ----------
    crush : CrushMap
    rule : int
        Rule id (not a ruleset; use :meth:`CrushMap.find_rule` first for Pacific pool semantics).
    num_rep : int
        ``result_max`` (the pool size).
    xs : array-like of int
        CRUSH inputs (PG pps values), taken as u32.
    weights : array-like of int, optional
        Reweight vector (16.16, index = device id); default: 0x10000 for every device in the map.
    choose_args : int or mapping, optional
        choose_args key (looked up with the -1 fallback) or a ``{bucket_id: ChooseArg}`` mapping.
    engine : {"auto", "numpy", "numba"}, default "auto"
        ``"numpy"``: the NumPy code of this module (the reference-tested default without numba);
        ``"numba"``: the compiled kernel of :mod:`pgtools.crush._numba`; ``"auto"``: numba when it is
        installed (see :func:`resolve_engine`).  Both give identical results.

    Returns
    -------
    numpy.ndarray
        int64 array of shape ``(len(xs), num_rep)``: the mapping of each input, padded with -1 after
        a short (firstn) result; indep holes are ``ITEM_NONE`` (0x7fffffff).
    """
    x = as_u32(np.asarray(xs, dtype=np.int64).reshape(-1))
    r = crush.rules.get(rule)
    if r is not None and num_rep > 0 and len(x):
        wts0 = np.asarray(crush.default_weights() if weights is None else weights, dtype=np.int64).reshape(-1)
        width = places_nothing(crush, rule, num_rep, wts0)
        if width is not None:  # every leaf is out: the result is known without the (long) failed descents
            out = np.full((len(x), num_rep), -1, dtype=np.int64)
            out[:, :width] = ITEM_NONE
            return out
    if resolve_engine(engine, round(len(x) * relative_cost(crush, rule, num_rep))) == "numba":
        from ._numba import map_values_numba

        if weights is None:
            wts_n = np.asarray(crush.default_weights(), dtype=np.int64)
        else:
            wts_n = np.asarray(weights, dtype=np.int64).reshape(-1)
        return map_values_numba(crush, rule, num_rep, x, wts_n, choose_args)
    n = len(x)
    result = np.full((n, max(num_rep, 0)), -1, dtype=np.int64)
    if r is None or num_rep <= 0 or n == 0:
        return result
    if weights is None:
        wts = np.asarray(crush.default_weights(), dtype=np.int64)
    else:
        wts = np.asarray(weights, dtype=np.int64).reshape(-1)
    vm = vec_map(crush, choose_args)
    if r.is_msr:  # crush_do_rule dispatches on the rule type
        return map_msr_vec(crush, vm, rule, num_rep, x, wts, choose_args)
    t = crush.tunables
    choose_tries = t.choose_total_tries + 1
    choose_leaf_tries = 0
    local_retries = t.choose_local_tries
    fallback = t.choose_local_fallback_tries
    vary_r = t.chooseleaf_vary_r
    stable = t.chooseleaf_stable
    result_max = num_rep
    rlen = np.zeros(n, dtype=np.int64)
    rows_all = np.arange(n)
    w = np.zeros((n, 0), dtype=np.int64)
    wsize = np.zeros(n, dtype=np.int64)
    for op, arg1, arg2 in r.steps:
        if op == OPS["take"]:
            if (0 <= arg1 < crush.max_devices) or arg1 in crush.buckets:
                w = np.full((n, 1), arg1, dtype=np.int64)
                wsize = np.ones(n, dtype=np.int64)
        elif op == OPS["set_choose_tries"]:
            if arg1 > 0:
                choose_tries = arg1
        elif op == OPS["set_chooseleaf_tries"]:
            if arg1 > 0:
                choose_leaf_tries = arg1
        elif op == OPS["set_choose_local_tries"]:
            if arg1 >= 0:
                local_retries = arg1
        elif op == OPS["set_choose_local_fallback_tries"]:
            if arg1 >= 0:
                fallback = arg1
        elif op == OPS["set_chooseleaf_vary_r"]:
            if arg1 >= 0:
                vary_r = arg1
        elif op == OPS["set_chooseleaf_stable"]:
            if arg1 >= 0:
                stable = arg1
        elif op in (OPS["choose_firstn"], OPS["choose_indep"], OPS["chooseleaf_firstn"],
                    OPS["chooseleaf_indep"]):
            if not wsize.any():
                continue
            firstn = op in (OPS["choose_firstn"], OPS["chooseleaf_firstn"])
            leafy = op in (OPS["chooseleaf_firstn"], OPS["chooseleaf_indep"])
            numrep = arg1
            if numrep <= 0:
                numrep += result_max
            o = np.full((n, result_max), _IGN, dtype=np.int64)
            c = np.full((n, result_max), _IGN, dtype=np.int64)
            osize = np.zeros(n, dtype=np.int64)
            if numrep > 0:
                if choose_leaf_tries:
                    recurse_tries = choose_leaf_tries
                elif firstn and t.chooseleaf_descend_once:
                    recurse_tries = 1
                elif firstn:
                    recurse_tries = choose_tries
                else:
                    recurse_tries = 1
                prm = _Params(choose_tries, recurse_tries, local_retries, fallback, vary_r, stable)
                for i in range(w.shape[1]):
                    valid = (i < wsize) & vm.is_bucket(w[:, i])
                    if firstn:
                        sel = np.nonzero(valid & (result_max - osize > 0))[0]
                        if not len(sel):
                            continue
                        out, out2, cnt = _firstn_call(vm, wts, x[sel], w[sel, i], numrep, arg2,
                                                      result_max - osize[sel], prm, leafy)
                    else:
                        sel = np.nonzero(valid)[0]
                        left = np.minimum(numrep, result_max - osize[sel])
                        sel = sel[left > 0]
                        left = left[left > 0]
                        if not len(sel):
                            continue
                        out, out2 = _indep_call(vm, wts, x[sel], w[sel, i], left, numrep, arg2, choose_tries,
                                                recurse_tries, leafy)
                        cnt = left
                    for j in range(out.shape[1]):
                        m = j < cnt
                        rr = sel[m]
                        o[rr, osize[rr] + j] = out[m, j]
                        c[rr, osize[rr] + j] = out2[m, j]
                    osize[sel] += cnt
            w = c if leafy else o
            wsize = osize
        elif op == OPS["emit"]:
            for j in range(w.shape[1]):
                m = np.nonzero((j < wsize) & (rlen < result_max))[0]
                if not len(m):
                    continue
                result[rows_all[m], rlen[m]] = w[m, j]
                rlen[m] += 1
            wsize = np.zeros(n, dtype=np.int64)
    return result

