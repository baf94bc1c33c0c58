"""The autoscaler's output as Ceph prints it, and the comparison with the capture's own ``autoscale-status``.

:func:`autoscale_status_json` and :func:`format_autoscale_status` render a
:func:`~pgtools.mgr.autoscale.autoscale_status` result as ``ceph osd pool autoscale-status`` does (``-f json``
and the plain table, per release); :func:`compare_autoscale_status` holds it against the captured one.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from ..errors import PgtoolsError
from ..model import Snapshot
from .autoscale import AUTOSCALE_FIELDS, autoscale_status, check_release, release_for
from .health import Finding

__all__ = ["autoscale_status_json", "format_bytes", "format_autoscale_status", "compare_autoscale_status",
           "pool_pg_count_checks"]

_FIELDS_BY_RELEASE = {
    "nautilus": [f for f in AUTOSCALE_FIELDS if f not in ("effective_target_ratio", "bulk")],
    "octopus": [f for f in AUTOSCALE_FIELDS if f != "bulk"],
    "pacific": AUTOSCALE_FIELDS,
    "quincy": AUTOSCALE_FIELDS,
    "reef": AUTOSCALE_FIELDS,
    "tentacle": AUTOSCALE_FIELDS,
}
_WITH_BULK = ("pacific", "quincy", "reef", "tentacle")


def _py(v: Any) -> Any:
    """numpy scalar -> Python scalar (for JSON and exact int/float types)."""
    return v.item() if isinstance(v, np.generic) else v


# ------------------------------------------------------------------------------------------- output
def autoscale_status_json(df: pd.DataFrame, *, release: str = "pacific") -> str:
    """``ceph osd pool autoscale-status -f json`` text: ``json.dumps(rows, indent=4, sort_keys=True)``.

    Parameters
    ----------
    df : DataFrame
        From :func:`autoscale_status`.  Skipped rows (``include_skipped=True``) are left out, as Ceph
        leaves them out.
    release : str
        Selects the fields (Nautilus has no ``effective_target_ratio``/``bulk``, Octopus no ``bulk``).

    Returns
    -------
    str
        The JSON text, without the CLI's leading blank line.
    """
    fields = _FIELDS_BY_RELEASE[check_release(release)]
    keep = df[~df["skipped"].astype(bool)] if "skipped" in df.columns else df
    recs = []
    for r in keep.itertuples(index=False):
        d = r._asdict()
        recs.append({f: _py(d[f]) for f in fields})
    return json.dumps(recs, indent=4, sort_keys=True)


def format_bytes(n: float, width: int) -> str:
    """``mgr_util.format_bytes(n, width)``: binary units, ``width`` characters, as the mgr prints sizes.

    The value is scaled by 1024 until its integer part fits in ``width - 1`` characters; a scaled value is
    cut (not rounded) to ``width - 1`` characters of ``'%f'``, and a trailing ``.`` becomes a leading
    space; unscaled values are right-aligned integers followed by a space.

    Examples
    --------
    >>> format_bytes(323436571, 6), format_bytes(1310723, 6), format_bytes(128849018880, 6)
    ('308.4M', ' 1280k', '120.0G')
    """
    units = [" ", "k", "M", "G", "T", "P", "E"]
    unit = 0
    while len(str(int(n) // (1024 ** unit))) > width - 1 and unit < len(units) - 1:
        unit += 1
    if unit > 0:
        s = ("%f" % (n / float(1024 ** unit)))[0:width - 1]
        if s[-1] == ".":
            s = " " + s[:-1]
    else:
        s = ("%" + str(width - 1) + "d") % n
    return s + units[unit]


def _plain_table(header: list[str], rows: list[list[str]], align: dict[str, str], right_pad: int) -> str:
    """PrettyTable with ``border=False``, left padding 0: every cell justified then padded on the right."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        out = []
        for h, c, w in zip(header, cells, widths, strict=True):
            out.append((c.ljust(w) if align.get(h, "r") == "l" else c.rjust(w)) + " " * right_pad)
        return "".join(out)

    return "\n".join([line(header), *(line(r) for r in rows)])


def format_autoscale_status(df: pd.DataFrame, *, release: str = "pacific", noautoscale: bool | None = None) -> str:
    """Ceph's plain ``osd pool autoscale-status`` table (what the CLI prints, with a final newline).

    Pacific to Tentacle: ``POOL SIZE TARGET SIZE RATE RAW CAPACITY RATIO TARGET RATIO EFFECTIVE RATIO BIAS
    PG_NUM NEW PG_NUM AUTOSCALE BULK``, right padding 2; Octopus has no ``BULK``; Nautilus has neither
    ``EFFECTIVE RATIO`` nor ``BULK`` and padding 1.

    Parameters
    ----------
    df : DataFrame
        From :func:`autoscale_status` (skipped rows are left out).
    release : str
        Layout to use.
    noautoscale : bool, optional
        Reef+: show every pool's mode as ``off``; default: the ``noautoscale`` column of ``df``.
    """
    release = check_release(release)
    header = ["POOL", "SIZE", "TARGET SIZE", "RATE", "RAW CAPACITY", "RATIO", "TARGET RATIO"]
    if release != "nautilus":
        header.append("EFFECTIVE RATIO")
    header += ["BIAS", "PG_NUM", "NEW PG_NUM", "AUTOSCALE"]
    if release in _WITH_BULK:
        header.append("BULK")
    align = {"POOL": "l", "AUTOSCALE": "l", "BULK": "l"}
    keep = df[~df["skipped"].astype(bool)] if "skipped" in df.columns else df
    rows = []
    for r in keep.itertuples(index=False):
        d = r._asdict()
        off = noautoscale if noautoscale is not None else bool(d.get("noautoscale", False))
        cells = [
            str(d["pool_name"]),
            format_bytes(_py(d["logical_used"]), 6),
            format_bytes(_py(d["target_bytes"]), 6) if d["target_bytes"] > 0 else "",
            str(float(d["raw_used_rate"])),
            format_bytes(_py(d["subtree_capacity"]), 6),
            f"{d['capacity_ratio']:.4f}",
            f"{d['target_ratio']:.4f}" if d["target_ratio"] > 0.0 else "",
        ]
        if release != "nautilus":
            etr = d.get("effective_target_ratio", 0.0)
            cells.append(f"{etr:.4f}" if etr and etr > 0.0 else "")
        cells += [
            str(float(d["bias"])),
            str(int(d["pg_num_target"])),
            str(int(d["pg_num_final"])) if d["would_adjust"] else "",
            "off" if (off and release in ("reef", "tentacle")) else str(d["pg_autoscale_mode"]),
        ]
        if release in _WITH_BULK:
            cells.append(str(bool(d["bulk"])))
        rows.append(cells)
    pad = 1 if release == "nautilus" else 2
    return _plain_table(header, rows, align, pad) + "\n"


# ------------------------------------------------------------------------------------------- health
def pool_pg_count_checks(df: pd.DataFrame, *, release: str) -> list[Finding]:
    """``POOL_TOO_FEW_PGS`` / ``POOL_TOO_MANY_PGS``: what the autoscaler's ``_maybe_adjust`` reports for pools
    in mode ``warn``.

    Every pool in mode ``warn`` (whatever the threshold says) whose NEW PG_NUM is above its PG_NUM has too
    few; Reef and Tentacle count it as too many when NEW PG_NUM is below, while Pacific 16.2.15 counts
    every other warn pool as too many, one already at its NEW PG_NUM included (``else:``, made ``elif
    pg_num_final < pg_num_target`` in Reef).  Detail lines: "Pool NAME has N placement groups, should have
    M", in the autoscaler's order.  With the ``noautoscale`` flag (Reef+) or module option (Pacific) the
    module reports nothing.

    Parameters
    ----------
    df : DataFrame
        From :func:`autoscale_status` run for ``release``.
    release : str
        The autoscaler variant (:data:`pgtools.mgr.autoscale.RELEASES`).
    """
    release = check_release(release)
    if release not in ("pacific", "reef", "tentacle"):
        raise PgtoolsError(f"POOL_TOO_FEW_PGS / POOL_TOO_MANY_PGS are modelled for pacific, reef and tentacle, "
                           f"not {release}")
    keep = df[~df["skipped"].astype(bool)] if "skipped" in df.columns else df
    if len(keep) and "noautoscale" in keep.columns and bool(keep["noautoscale"].iloc[0]):
        return []
    few: list[str] = []
    many: list[str] = []
    for r in keep.itertuples(index=False):
        if str(r.pg_autoscale_mode) != "warn":
            continue
        final, target = int(r.pg_num_final), int(r.pg_num_target)
        msg = f"Pool {r.pool_name} has {target} placement groups, should have {final}"
        if final > target:
            few.append(msg)
        elif final < target or release == "pacific":
            many.append(msg)
    out = []
    for code, lines, what in (("POOL_TOO_FEW_PGS", few, "few"), ("POOL_TOO_MANY_PGS", many, "many")):
        if lines:
            out.append(Finding(code, "HEALTH_WARN", f"{len(lines)} pools have too {what} placement groups",
                               detail=lines, numbers={"count": len(lines), "release": release},
                               why="autoscale mode warn: NEW PG_NUM " + ("above" if what == "few" else
                                   "below" if release != "pacific" else "not above") + " PG_NUM"))
    return out


# ------------------------------------------------------------------------------------------- checking
def _captured_status(snap: Snapshot) -> pd.DataFrame | None:
    got = (snap.meta or {}).get("extra", {}).get("autoscale_status")
    if isinstance(got, dict):
        got = got.get("autoscale_status")
    return got if isinstance(got, pd.DataFrame) else None


_COMPARED = [("pg_num_target", 0.0), ("pg_num_final", 0.0), ("would_adjust", 0.0), ("pg_num_ideal", 0.0),
             ("capacity_ratio", 5e-5), ("effective_target_ratio", 5e-5), ("raw_used_rate", 1e-9),
             ("subtree_capacity", 1.5e-3)]  # plain tables print sizes to 4 significant digits


def compare_autoscale_status(snap: Snapshot, computed: pd.DataFrame | None = None, **kwargs: Any) -> pd.DataFrame:
    """Compare :func:`autoscale_status` with the ``autoscale-status`` the capture itself contains.

    Parameters
    ----------
    snap : Snapshot
        A capture that includes ``ceph osd pool autoscale-status`` (JSON or plain).
    computed : DataFrame, optional
        A result of :func:`autoscale_status`; computed with ``release=release_for(snap)`` and
        ``**kwargs`` when not given.
    **kwargs
        Passed to :func:`autoscale_status`.

    Returns
    -------
    DataFrame
        One row per pool and compared field: ``pool_name, field, reported, computed, match``.
        Fields the capture does not carry (the plain table has no ``pg_num_ideal``, and shows
        ``NEW PG_NUM`` only when it would adjust) are left out; ratios from the plain table are
        compared to their 4 printed decimals.

    Raises
    ------
    PgtoolsError
        The snapshot carries no autoscale-status output.
    """
    reported = _captured_status(snap)
    if reported is None:
        raise PgtoolsError("the capture has no 'ceph osd pool autoscale-status' output to compare with")
    if computed is None:
        kwargs.setdefault("release", release_for(snap))
        computed = autoscale_status(snap, **kwargs)
    comp = computed[~computed["skipped"].astype(bool)] if "skipped" in computed.columns else computed
    comp = comp.set_index("pool_name")
    rows = []
    for _, rep in reported.iterrows():
        name = str(rep["pool_name"])
        have = name in comp.index
        for fld, tol in _COMPARED:
            if fld not in reported.columns:
                continue
            rv = rep[fld]
            if rv is None or (not isinstance(rv, (list, tuple)) and pd.isna(rv)):
                continue
            cv = comp.loc[name, fld] if have and fld in comp.columns else None
            if cv is None or pd.isna(cv):
                ok = False
            elif fld == "would_adjust":
                ok = bool(rv) == bool(cv)
            else:
                ok = abs(float(rv) - float(cv)) <= tol * max(1.0, abs(float(rv))) if tol else float(rv) == float(cv)
            rows.append({"pool_name": name, "field": fld, "reported": _py(rv),
                         "computed": None if cv is None else _py(cv), "match": bool(ok)})
    return pd.DataFrame(rows, columns=["pool_name", "field", "reported", "computed", "match"])
