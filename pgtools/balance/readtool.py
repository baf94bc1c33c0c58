"""``osdmaptool MAP [--mark-up-in] [--mark-out N] --read FILE --read-pool POOL [--vstart]`` (Reef 18.2, Tentacle 20.2).

What Ceph's ``src/tools/osdmaptool.cc`` prints around ``OSDMap::balance_primaries`` (:mod:`.primary`): the lines
it flushes (``marking ...``, ``writing upmap command output to: FILE``), then either `` Unable to find further
optimization, or distribution is already perfect`` or the BEFORE / AFTER report (per OSD with up primaries:
its primary affinity, ``%g`` of a C float, and its number of primaries; the pool's ``score_stable``) and
``num changes: N``; the ``pg-upmap-primary`` commands go to FILE (``print_inc_upmaps``).  Errors go to stderr
with exit status 1: an unknown pool, an erasure-coded pool, a score with an error message (``Error balancing
primaries...``).  Pacific's osdmaptool has no ``--read`` (the drop-in answers as it does).
"""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedFeatureError
from ..model import Snapshot
from ..placement import compile_snapshot
from ..placement import mark_out as mark_out_
from ..placement.osdmaptool import mark_up_in as mark_up_in_
from .plan import UpmapPlan
from .primary import (
    PoolState,
    balance_primaries_work,
    existing_osds,
    format_cfloat,
    osd_counts,
    read_work_map,
    refuse_read_ratio,
)
from .work import pgid_text

__all__ = ["STDOUT_BUFFER", "osdmaptool_read"]


def _prims_block(title: str, prims: dict[int, int], affinity: dict[int, np.float32], name: str,
                 score: np.float32) -> list[str]:
    out = [f"---------- {title} ------------ "]
    out += [f" osd.{o} | primary affinity: {format_cfloat(affinity[o])} | number of prims: {n}"
            for o, n in sorted(prims.items())]
    return out + [" ", f"read_balance_score of '{name}': {format_cfloat(score)}", "", ""]


#: glibc's stdout buffer when stdout is a pipe or a file (``st_blksize``): osdmaptool's report is written
#: through it, the ``--read -`` commands straight to file descriptor 1
STDOUT_BUFFER = 4096


def osdmaptool_read(snap: Snapshot, *, read_file: str, read_pool: str, vstart: bool = False,
                    mark_up_in: bool = False, mark_out: int | None = None,
                    ceph_release: str | None = None) -> tuple[str, str, UpmapPlan | None, int]:
    """``osdmaptool MAP [--mark-up-in] [--mark-out N] --read FILE --read-pool POOL [--vstart]`` of Reef/Tentacle.

    Parameters
    ----------
    snap : Snapshot
        The osdmap.
    read_file : str
        ``--read``'s FILE; ``"-"``: the commands go to stdout.
    read_pool : str
        ``--read-pool``: a pool name.
    vstart : bool
        ``--vstart``: commands start with ``./bin/ceph``.
    mark_up_in, mark_out
        ``--mark-up-in``, ``--mark-out N`` (as in :func:`pgtools.balance.osdmaptool_upmap`).
    ceph_release : str, optional
        ``"reef"`` or ``"tentacle"`` (they print the same).

    Returns
    -------
    (stdout, stderr, plan, status)
        What osdmaptool prints after its ``osdmap file`` line, the plan (None on failure; ``plan.text`` is
        what it writes to FILE) and its exit status.  With ``read_file="-"`` the commands are in ``stdout``
        where osdmaptool's writes put them: after the lines it flushed (``std::endl``), before its buffered
        report (written at exit).

    Raises
    ------
    UnsupportedFeatureError
        A pool with no PG mapped (osdmaptool then reads an uninitialised score), or ``read_file="-"`` with a
        report longer than glibc's buffer (the interleaving then depends on how stdout is buffered).
    """
    flushed: list[str] = []
    max_osd = compile_snapshot(snap).max_osd
    if mark_up_in:
        flushed.append("marking all OSDs up and in")
        snap = existing_osds(mark_up_in_(snap, max_osd), max_osd)
    if mark_out is not None and 0 <= mark_out < max_osd:
        flushed.append(f"marking OSD@{mark_out} as out")
        snap = mark_out_(snap, [mark_out], mark_up=True)
    if read_file != "-":
        flushed.append(f"writing upmap command output to: {read_file}")
    work = read_work_map(snap, ceph_release)
    by_name = {p.name: pid for pid, p in work.pools.items()}
    text = "".join(s + "\n" for s in flushed)
    if read_pool not in by_name:
        return text, f" pool {read_pool} does not exist\n", None, 1
    pool = work.pools[by_name[read_pool]]
    if pool.type != 1:
        return text, f"{read_pool} is an erasure coded pool; please try again with a replicated pool.\n", None, 1
    refuse_read_ratio(snap, work, [pool.pool_id])
    if not osd_counts(PoolState.of(work.map, pool), pool).pgs:
        raise UnsupportedFeatureError(f"pool {read_pool!r} has no PG mapped to an up OSD: osdmaptool then reads "
                                      "an uninitialised score (undefined behaviour: 18.2.7 printed an error, "
                                      "20.2.4 aborted on ceph_assert(read_balance_score_before >= 0))")
    res = balance_primaries_work(work, pool)
    if res.num_changes < 0:
        return text, "Error balancing primaries. Rerun with at least --debug-osd=10 for more details.\n", None, 1
    if res.num_changes == 0:
        text += " Unable to find further optimization, or distribution is already perfect\n"
        return text, "", UpmapPlan({}, [], [], 0, work.release, True), 0
    assert res.after is not None
    report = [" "] + _prims_block("BEFORE", res.prims_before, res.affinity, read_pool, res.before.score_stable)
    report += _prims_block("AFTER", res.prims_after, res.affinity, read_pool, res.after.score_stable)
    report.append(f"num changes: {res.num_changes}")
    buffered = "".join(s + "\n" for s in report)
    prefix = "./bin/ceph" if vstart else "ceph"
    cmds = [f"{prefix} osd pg-upmap-primary {pgid_text(pg)} {o}" for pg, o in res.new_pg_upmap_primary.items()]
    plan = UpmapPlan({}, [], [], res.num_changes, work.release, True, cmds,
                     new_pg_upmap_primary={pgid_text(pg): o for pg, o in res.new_pg_upmap_primary.items()})
    if read_file == "-":
        if len(buffered) > STDOUT_BUFFER:
            raise UnsupportedFeatureError(f"--read -: osdmaptool's report ({len(buffered)} bytes) outgrows stdout's "
                                          f"{STDOUT_BUFFER}-byte buffer, so where its commands land in it depends on "
                                          "how stdout is buffered; write them to a file (--read FILE)")
        return text + plan.text + buffered, "", plan, 0
    return text + buffered, "", plan, 0
