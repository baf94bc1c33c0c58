"""PGCalc: the classic "Ceph PGs per Pool Calculator" (ceph.com/pgcalc, later ``doc/rados/operations/pgcalc``).

The calculator's published logic, step by step:

1. ``raw = target_per_osd × osds × percent_data / 100 / size`` (``size`` = replicas, or ``k + m`` for EC);
2. if that is below ``osds / size``, use ``osds / size`` ("at least one primary or secondary PG per OSD
   per pool");
3. round to the nearest power of two;
4. if that power of two is more than 25 % below the value of step 2, use the next higher one.

"Nearest" is taken on the log2 scale (``2 ** round(log2(x))``, halves rounding up, as the web page's
script did); with step 4 the result is the same as with the linear nearest: the lower power ``p`` is kept
while ``x <= 4/3 p``, otherwise ``2p`` is used.

Targets per OSD the page offered: 100 (cluster size not expected to grow), 200 (expected to double),
300 (expected to grow 2-3×, older page).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

__all__ = ["PRESETS", "TARGETS_PER_OSD", "pgcalc", "pgcalc_preset", "pgcalc_nearest_power_of_two"]

#: Target PGs per OSD offered by the calculator, by expected growth.
TARGETS_PER_OSD = {"no growth": 100, "double": 200, "2-3x": 300}

#: Use-case presets: pool name -> %data.  The OpenStack split (backups 25, volumes 53, vms 15, images 7)
#: follows the calculator's "OpenStack" use case (cinder-backup / cinder-volumes / ephemeral-vms /
#: glance-images) as we remember it; the RGW split gives each small RGW metadata pool 0.1 % as the
#: calculator did and the index pool a few percent; "cephfs" gives metadata 5 %; "rbd" is one pool.
#: These are starting points, not measurements: edit the %data column to match your data.
PRESETS: dict[str, dict[str, float]] = {
    "openstack": {"images": 7.0, "volumes": 53.0, "vms": 15.0, "backups": 25.0},
    "openstack_rgw": {
        "images": 5.0, "volumes": 40.0, "vms": 10.0, "backups": 20.0,
        ".rgw.root": 0.1, "default.rgw.control": 0.1, "default.rgw.meta": 0.1, "default.rgw.log": 0.1,
        "default.rgw.buckets.index": 1.6, "default.rgw.buckets.data": 23.0,
    },
    "rgw": {
        ".rgw.root": 0.1, "default.rgw.control": 0.1, "default.rgw.meta": 0.1, "default.rgw.log": 0.1,
        "default.rgw.buckets.index": 3.0, "default.rgw.buckets.non-ec": 0.6,
        "default.rgw.buckets.data": 96.0,
    },
    "cephfs": {"cephfs_data": 95.0, "cephfs_metadata": 5.0},
    "rbd": {"rbd": 100.0},
}

_COLUMNS = ["pool", "size", "percent_data", "osds", "target_per_osd", "raw", "min_floor", "value",
            "nearest_pow2", "final", "pgs_per_osd", "reason"]


def pgcalc_nearest_power_of_two(x: float) -> tuple[int, int]:
    """Steps 3 and 4 of PGCalc for a value ``x > 0``.

    Returns
    -------
    (nearest, final) : tuple of int
        ``nearest = 2 ** round(log2(x))`` (halves up) and ``final``: ``nearest``, or ``2 × nearest`` if
        ``nearest < 0.75 × x``.

    Examples
    --------
    >>> pgcalc_nearest_power_of_two(48), pgcalc_nearest_power_of_two(44), pgcalc_nearest_power_of_two(42)
    ((64, 64), (32, 64), (32, 32))
    """
    if not x > 0 or math.isinf(x):
        raise ValueError(f"PGCalc needs a positive finite value, not {x!r}")
    nearest = 2 ** max(0, math.floor(math.log2(x) + 0.5))
    final = nearest * 2 if nearest < x * 0.75 else nearest
    return int(nearest), int(final)


def _check_positive_int(v: object, name: str) -> int:
    if isinstance(v, bool):
        raise ValueError(f"{name} must be a positive integer, not {v!r}")
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a positive integer, not {v!r}") from e
    if not f.is_integer() or f < 1:
        raise ValueError(f"{name} must be a positive integer, not {v!r}")
    return int(f)


def pgcalc(osds: int, pools: pd.DataFrame | Sequence[tuple[str, int, float]], *,
           target_per_osd: int = 100) -> pd.DataFrame:
    """Suggested pg_num per pool, with every step of the PGCalc formula as a column.

    Parameters
    ----------
    osds : int
        OSD count (used for pools without their own ``osds`` column value).
    pools : DataFrame or sequence of (pool, size, percent_data)
        Columns ``pool``, ``size`` (replicas, or ``k + m``), ``percent_data`` (0-100) and optionally
        ``osds`` (OSDs under the pool's rule) and ``target_per_osd``.
    target_per_osd : int
        Target PGs per OSD (100, 200 or 300 on the calculator).

    Returns
    -------
    DataFrame
        ``pool, size, percent_data, osds, target_per_osd, raw`` (step 1), ``min_floor`` (osds / size),
        ``value`` (step 2), ``nearest_pow2`` (step 3), ``final`` (step 4), ``pgs_per_osd``
        (``final × size / osds``, this pool's PG replicas per OSD) and ``reason``.

    Raises
    ------
    ValueError
        Non-positive OSD count, size or target; %data outside 0-100; missing columns.

    Examples
    --------
    >>> r = pgcalc(10, [("volumes", 3, 53.0)])
    >>> round(float(r.raw[0]), 2), int(r.nearest_pow2[0]), int(r.final[0])
    (176.67, 128, 256)
    """
    default_osds = _check_positive_int(osds, "osds")
    default_target = _check_positive_int(target_per_osd, "target_per_osd")
    if isinstance(pools, pd.DataFrame):
        frame = pools
    else:
        frame = pd.DataFrame(list(pools), columns=["pool", "size", "percent_data"])
    missing = [c for c in ("pool", "size", "percent_data") if c not in frame.columns]
    if missing:
        raise ValueError(f"pools lacks column(s) {', '.join(missing)}")
    rows = []
    for r in frame.itertuples(index=False):
        d = r._asdict()
        name = str(d["pool"])
        size = _check_positive_int(d["size"], f"size of {name}")
        pct = float(d["percent_data"])
        if not 0.0 <= pct <= 100.0:
            raise ValueError(f"percent_data of {name} must be within 0-100, not {pct}")
        n_osds = default_osds if pd.isna(d.get("osds", None)) else _check_positive_int(d["osds"], f"osds of {name}")
        tgt = default_target if pd.isna(d.get("target_per_osd", None)) else \
            _check_positive_int(d["target_per_osd"], f"target_per_osd of {name}")
        raw = tgt * n_osds * pct / 100.0 / size
        floor = n_osds / size
        value = max(raw, floor)
        nearest, final = pgcalc_nearest_power_of_two(value)
        why = [f"{tgt} × {n_osds} OSDs × {pct:g}% / size {size} = {raw:.2f}"]
        if raw < floor:
            why.append(f"below OSDs/size = {floor:.2f}, raised to it")
        why.append(f"nearest power of two {nearest}")
        if final != nearest:
            why.append(f"{nearest} is more than 25% below {value:.2f}: next higher {final}")
        rows.append([name, size, pct, n_osds, tgt, raw, floor, value, nearest, final, final * size / n_osds,
                     "; ".join(why)])
    out = pd.DataFrame(rows, columns=_COLUMNS)
    for c in ("size", "osds", "target_per_osd", "nearest_pow2", "final"):
        out[c] = out[c].astype("int64")
    return out


def pgcalc_preset(name: str, osds: int, target_per_osd: int = 100, size: int = 3) -> pd.DataFrame:
    """:func:`pgcalc` for one of the :data:`PRESETS` use cases, every pool with the same ``size``.

    Raises
    ------
    ValueError
        Unknown preset name (the message lists the known ones).
    """
    if name not in PRESETS:
        raise ValueError(f"unknown PGCalc preset {name!r}; known: {', '.join(PRESETS)}")
    pools = [(pool, size, pct) for pool, pct in PRESETS[name].items()]
    return pgcalc(osds, pools, target_per_osd=target_per_osd)
