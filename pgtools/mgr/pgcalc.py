"""PGCalc: the classic "Ceph PGs per Pool Calculator" (ceph.com/pgcalc, later ``doc/rados/operations/pgcalc``).

The calculator's published logic ("Logic behind Suggested PG Count" on the page), step by step:

1. ``raw = target_per_osd × osds × percent_data / 100 / size`` (``size`` = replicas, or ``k + m`` for EC);
2. if that is below ``osds / size``, use ``osds / size`` ("at least one primary or secondary PG per OSD
   per pool");
3. round to the nearest power of two;
4. if that power of two is more than 25 % below the value of step 2, use the next higher one.

"Nearest" is taken on the log2 scale (``2 ** round(log2(x))``, halves rounding up, as the web page's
script did); with step 4 the result is the same as with the linear nearest: the lower power ``p`` is kept
while ``x <= 4/3 p``, otherwise ``2p`` is used.

The page's script (``updatePGCount`` in ``pgcalc.js``) does not do exactly what the text says: it rounds
``floor(raw)`` (steps 3-4), and its minimum is not ``osds / size`` but a power of two, ``steps 3-4 of
floor(osds / size) + 1``, doubled once if that is below the OSD count (64 for 100 OSDs of size 3, where
the text gives 32).  ``pgcalc(..., script=True)`` reproduces the script; the default follows the text.

Targets per OSD the calculator offered (the "Target PGs per OSD" key): 100 if the cluster's OSD count is
not expected to grow, 200 if it may double.  A later revision of the same script pre-fills 200 and offers
200 / 300 for the same two cases.

Source of the presets and of the script's rule (facts, not code, taken from): ceph/ceph
``doc/_static/js/pgcalc.js`` (``presetTables``, ``key_values``, ``nearestPow2``, ``updatePGCount``), the
copy of old.ceph.com/pgcalc the Ceph documentation serves at ``doc/rados/operations/pgcalc/index.rst``;
two revisions of that file were read (targets 100/200, and the later 200/300 one, whose presets are
otherwise identical except that its "All-in-One" row has %Data 200, a value the page itself flags).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import pandas as pd

from ..errors import PgtoolsWarning

__all__ = ["PRESETS", "PRESET_TITLES", "PRESET_DEFAULTS", "TARGETS_PER_OSD", "pgcalc", "pgcalc_preset",
           "pgcalc_nearest_power_of_two", "pgcalc_script_minimum"]

#: Target PGs per OSD offered by the calculator, by expected growth of the OSD count.
TARGETS_PER_OSD = {"no growth": 100, "up to double": 200}

#: The calculator's use cases ("Ceph Use Case Selector"): pool name -> %Data, in the page's row order.
#: Exactly the ``presetTables`` of ceph/ceph ``doc/_static/js/pgcalc.js`` (see the module docstring);
#: keys are pgtools' short names, :data:`PRESET_TITLES` has the page's.  The calculator has no CephFS
#: use case: ``cephfs`` is pgtools' own, by analogy with the page's RGW rows (the omap-heavy bucket index
#: pool gets 3 %, the data pool the rest), and is marked so in its title.
PRESETS: dict[str, dict[str, float]] = {
    "all_in_one": {"rbd": 100.0},
    "openstack": {"cinder-backup": 25.0, "cinder-volumes": 53.0, "ephemeral-vms": 15.0, "glance-images": 7.0},
    "openstack_rgw": {
        ".rgw.root": 0.1, "default.rgw.control": 0.1, "default.rgw.data.root": 0.1, "default.rgw.gc": 0.1,
        "default.rgw.log": 0.1, "default.rgw.intent-log": 0.1, "default.rgw.meta": 0.1,
        "default.rgw.usage": 0.1, "default.rgw.users.keys": 0.1, "default.rgw.users.email": 0.1,
        "default.rgw.users.swift": 0.1, "default.rgw.users.uid": 0.1, "default.rgw.buckets.extra": 1.0,
        "default.rgw.buckets.index": 3.0, "default.rgw.buckets.data": 19.0,
        "cinder-backup": 18.0, "cinder-volumes": 42.8, "ephemeral-vms": 10.0, "glance-images": 5.0,
    },
    "rgw": {
        ".rgw.root": 0.1, "default.rgw.control": 0.1, "default.rgw.data.root": 0.1, "default.rgw.gc": 0.1,
        "default.rgw.log": 0.1, "default.rgw.intent-log": 0.1, "default.rgw.meta": 0.1,
        "default.rgw.usage": 0.1, "default.rgw.users.keys": 0.1, "default.rgw.users.email": 0.1,
        "default.rgw.users.swift": 0.1, "default.rgw.users.uid": 0.1, "default.rgw.buckets.extra": 1.0,
        "default.rgw.buckets.index": 3.0, "default.rgw.buckets.data": 94.8,
    },
    "openstack_rgw_infernalis": {
        ".intent-log": 0.1, ".log": 0.1, ".rgw": 0.1, ".rgw.buckets": 18.0, ".rgw.buckets.extra": 1.0,
        ".rgw.buckets.index": 3.0, ".rgw.control": 0.1, ".rgw.gc": 0.1, ".rgw.root": 0.1, ".usage": 0.1,
        ".users": 0.1, ".users.email": 0.1, ".users.swift": 0.1, ".users.uid": 0.1,
        "cinder-backup": 19.0, "cinder-volumes": 42.9, "ephemeral-vms": 10.0, "glance-images": 5.0,
    },
    "rgw_infernalis": {
        ".intent-log": 0.1, ".log": 0.1, ".rgw": 0.1, ".rgw.buckets": 94.9, ".rgw.buckets.extra": 1.0,
        ".rgw.buckets.index": 3.0, ".rgw.control": 0.1, ".rgw.gc": 0.1, ".rgw.root": 0.1, ".usage": 0.1,
        ".users": 0.1, ".users.email": 0.1, ".users.swift": 0.1, ".users.uid": 0.1,
    },
    "rbd": {"rbd": 75.0, "myObjects": 25.0},
    "cephfs": {"cephfs_data": 97.0, "cephfs_metadata": 3.0},
}

#: The calculator's name of each preset.
PRESET_TITLES = {
    "all_in_one": "All-in-One",
    "openstack": "OpenStack",
    "openstack_rgw": "OpenStack w RGW - Jewel and later",
    "rgw": "Rados Gateway Only - Jewel and later",
    "openstack_rgw_infernalis": "OpenStack w RGW - Infernalis and earlier",
    "rgw_infernalis": "Rados Gateway Only - Infernalis and earlier",
    "rbd": "RBD and libRados",
    "cephfs": "CephFS (pgtools' own split, not a PGCalc use case)",
}

#: What every preset row of the calculator is pre-filled with (the later revision pre-fills target 200).
PRESET_DEFAULTS = {"size": 3, "osds": 100, "target_per_osd": 100}

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


def pgcalc_script_minimum(osds: int, size: int) -> int:
    """The minimum suggestion of the calculator's script (``updatePGCount`` in ``pgcalc.js``).

    Steps 3-4 applied to ``floor(osds / size) + 1``, doubled once if the result is below ``osds``.

    Examples
    --------
    >>> pgcalc_script_minimum(100, 3), pgcalc_script_minimum(12, 3), pgcalc_script_minimum(3, 3)
    (64, 8, 4)
    """
    osds = _check_positive_int(osds, "osds")
    size = _check_positive_int(size, "size")
    low = pgcalc_nearest_power_of_two(osds // size + 1)[1]
    return low * 2 if low < osds else low


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
           target_per_osd: int = 100, script: bool = False, mon_max_pool_pg_num: int = 65536) -> pd.DataFrame:
    """Suggested pg_num per pool, with every step of the PGCalc formula as a column.

    Parameters
    ----------
    osds : int
        OSD count (used for pools without their own ``osds`` column value).
    pools : DataFrame or sequence of (pool, size, percent_data)
        Columns ``pool``, ``size`` (replicas, or ``k + m``), ``percent_data`` (0-100) and optionally
        ``osds`` (OSDs under the pool's rule) and ``target_per_osd``.
    target_per_osd : int
        Target PGs per OSD (100 or 200 on the calculator; 200 or 300 on its later revision).
    script : bool
        Follow the page's script instead of its text: round ``floor(raw)``, and use
        :func:`pgcalc_script_minimum` as the minimum (see the module docstring).
    mon_max_pool_pg_num : int
        Largest pg_num the monitor accepts (Ceph's default 65536): a larger result is kept (it is what
        the calculator says) but its ``reason`` says so and a :class:`~pgtools.errors.PgtoolsWarning`
        is emitted.

    Returns
    -------
    DataFrame
        ``pool, size, percent_data, osds, target_per_osd, raw`` (step 1), ``min_floor`` (osds / size;
        with ``script``, the script's minimum), ``value`` (step 2; with ``script``, ``floor(raw)``),
        ``nearest_pow2`` (step 3), ``final`` (step 4), ``pgs_per_osd`` (``final × size / osds``, this
        pool's PG replicas per OSD) and ``reason``.

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
        why = [f"{tgt} × {n_osds} OSDs × {pct:g}% / size {size} = {raw:.2f}"]
        if script:
            floor = float(pgcalc_script_minimum(n_osds, size))
            value = float(math.floor(raw))
            nearest, calc = pgcalc_nearest_power_of_two(value) if value >= 1 else (0, 0)
            final = max(calc, int(floor))
            why.append(f"floor {value:.0f}: nearest power of two {nearest}")
            if calc != nearest:
                why.append(f"{nearest} is more than 25% below {value:.0f}: next higher {calc}")
            if final != calc:
                why.append(f"below the script's minimum {int(floor)} for {n_osds} OSDs / size {size}: {final}")
        else:
            floor = n_osds / size
            value = max(raw, floor)
            nearest, final = pgcalc_nearest_power_of_two(value)
            if raw < floor:
                why.append(f"below OSDs/size = {floor:.2f}, raised to it")
            why.append(f"nearest power of two {nearest}")
            if final != nearest:
                why.append(f"{nearest} is more than 25% below {value:.2f}: next higher {final}")
        if final > mon_max_pool_pg_num:
            msg = (f"pgcalc: pool {name}: the formula gives pg_num {final}, above mon_max_pool_pg_num "
                   f"{mon_max_pool_pg_num}: the monitor refuses it (ERANGE); use {mon_max_pool_pg_num} or less, "
                   "or raise mon_max_pool_pg_num")
            why.append(f"above mon_max_pool_pg_num {mon_max_pool_pg_num}: the monitor refuses it")
            warnings.warn(msg, PgtoolsWarning, stacklevel=2)
        rows.append([name, size, pct, n_osds, tgt, raw, floor, value, nearest, final, final * size / n_osds,
                     "; ".join(why)])
    out = pd.DataFrame(rows, columns=_COLUMNS)
    for c in ("size", "osds", "target_per_osd", "nearest_pow2", "final"):
        out[c] = out[c].astype("int64")
    return out


def pgcalc_preset(name: str, osds: int = PRESET_DEFAULTS["osds"],
                  target_per_osd: int = PRESET_DEFAULTS["target_per_osd"],
                  size: int = PRESET_DEFAULTS["size"], *, script: bool = False) -> pd.DataFrame:
    """:func:`pgcalc` for one of the :data:`PRESETS` use cases, every pool with the same ``size``.

    Defaults are the calculator's pre-filled values (:data:`PRESET_DEFAULTS`).

    Raises
    ------
    ValueError
        Unknown preset name (the message lists the known ones).

    Examples
    --------
    >>> pgcalc_preset("openstack").final.tolist()
    [1024, 2048, 512, 256]
    """
    if name not in PRESETS:
        raise ValueError(f"unknown PGCalc preset {name!r}; known: {', '.join(PRESETS)}")
    pools = [(pool, size, pct) for pool, pct in PRESETS[name].items()]
    return pgcalc(osds, pools, target_per_osd=target_per_osd, script=script)
