"""The cluster model: one :class:`Snapshot` per capture, made of tidy tables.

Column vocabulary (used by every parser, by placement, simulation, analysis and plots):

``pgs`` — one row per PG (``PG_COLUMNS`` first, then whatever statistics the dump carried)
    =================  =========  ==============================================================
    pgid               str        ``"<pool_id>.<ps hex>"``, e.g. ``"3.1f"``
    pool_id            int64      pool id
    ps                 int64      placement seed (the part after the dot), < pg_num
    pool               str        pool name (filled in when a pool table is known, else ``""``)
    state              str        ``active+clean``, ``unknown``, ...
    up, acting         object     tuple of int OSD ids in CRUSH order; an EC hole is ``NONE``
                                  (2147483647, CRUSH_ITEM_NONE); an unmapped PG has ``()``
    up_primary         int64      OSD id, -1 when none
    acting_primary     int64      OSD id, -1 when none
    objects, bytes     Int64      from the dump's stats (``<NA>`` when the format has none)
    omap_bytes, omap_keys, log_size, ondisk_log_size, missing_on_primary, degraded, misplaced,
    unfound            Int64      likewise
    =================  =========  ==============================================================

``pools`` — one row per pool (``POOL_COLUMNS``; more may follow)
    pool_id, pool (name), type (``replicated``/``erasure``), size, min_size, pg_num, pgp_num,
    pg_num_target, pgp_num_target, pg_num_pending, crush_rule, object_hash, flags (int),
    flags_names (str), erasure_code_profile, ec_k, ec_m, pg_autoscale_mode, target_size_ratio,
    target_size_bytes, pg_num_min, pg_num_max, bias, bulk, application; pools whose settings were derived
    from a PG dump alone (:func:`pgtools.io.derive.derive_pools`) carry ``derived`` (the derived fields,
    comma-separated; ``""`` for pools read from a pool table), see :func:`derived_pools`

``osds`` — one row per OSD id (``OSD_COLUMNS``; more may follow)
    osd_id, name (``osd.N``), host, device_class, crush_weight (float, as ``ceph osd tree``),
    reweight (float 0..1, the OSDMap weight), exists, up, in (bool), primary_affinity (float 0..1),
    kb, kb_used, kb_avail (KiB), utilization (%), pgs (PG count reported by the dump, if any)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .crush.constants import ITEM_NONE as NONE
from .errors import UnknownPoolError

__all__ = [
    "NONE",
    "PG_COLUMNS",
    "PG_STAT_COLUMNS",
    "POOL_COLUMNS",
    "OSD_COLUMNS",
    "Snapshot",
    "OSDMap",
    "empty_pgs",
    "empty_pools",
    "empty_osds",
    "pgid_str",
    "split_pgid",
    "row_value",
    "derived_pools",
    "id_ranges",
    "OSD_DUMP_HINT",
]

PG_COLUMNS = ["pgid", "pool_id", "ps", "pool", "state", "up", "up_primary", "acting", "acting_primary"]
PG_STAT_COLUMNS = ["objects", "bytes", "omap_bytes", "omap_keys", "log_size", "ondisk_log_size",
                   "missing_on_primary", "degraded", "misplaced", "unfound"]
POOL_COLUMNS = ["pool_id", "pool", "type", "size", "min_size", "pg_num", "pgp_num", "pg_num_target",
                "pgp_num_target", "pg_num_pending", "crush_rule", "object_hash", "flags", "flags_names",
                "erasure_code_profile", "ec_k", "ec_m", "pg_autoscale_mode", "target_size_ratio",
                "target_size_bytes", "pg_num_min", "pg_num_max", "bias", "bulk", "application"]
OSD_COLUMNS = ["osd_id", "name", "host", "device_class", "crush_weight", "reweight", "exists", "up", "in",
               "primary_affinity", "kb", "kb_used", "kb_avail", "utilization", "pgs"]


def pgid_str(pool_id: int, ps: int) -> str:
    """``(3, 31) -> "3.1f"`` (lowercase hex, no padding, as Ceph prints it)."""
    return f"{pool_id}.{ps:x}"


def split_pgid(pgid: str) -> tuple[int, int]:
    """``"3.1f" -> (3, 31)``.  Raises ValueError on anything else."""
    pool, _, ps = pgid.partition(".")
    if not _ or not pool or not ps:
        raise ValueError(f"not a pgid: {pgid!r}")
    p = int(pool, 10)
    s = int(ps, 16)
    if p < 0 or s < 0:
        raise ValueError(f"not a pgid: {pgid!r}")
    return p, s


def empty_pgs() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype="object") for c in PG_COLUMNS})
    for c in ("pool_id", "ps", "up_primary", "acting_primary"):
        df[c] = df[c].astype("int64")
    return df


def empty_pools() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in POOL_COLUMNS})


def empty_osds() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in OSD_COLUMNS})


@dataclass(frozen=True)
class OSDMap(Mapping):
    """The OSDMap facts of a capture beyond its pool and OSD rows (``ceph osd dump -f json``), typed.

    Every field is optional: a capture without an OSD dump has the defaults.  The PG-keyed tables map a
    pgid string (``"1.2f"``) to what ``ceph osd dump`` lists for it.  Read fields as attributes
    (``snap.osdmap.max_osd``); the object is also a read-only mapping of every field (so
    ``dict(snap.osdmap)`` and ``{**snap.osdmap, "pg_temp": {}}`` work; an unset field reads ``None``
    or empty), and :meth:`replace` returns a changed copy.  Treat the tables as read-only too: build new ones and :meth:`replace`.
    """

    #: OSDMap epoch.
    epoch: int | None = None
    #: ``max_osd``: OSD ids are below it.
    max_osd: int | None = None
    #: Cluster flags as Ceph prints them, comma-separated (``"sortbitwise,recovery_deletes"``).
    flags: str = ""
    full_ratio: float | None = None
    backfillfull_ratio: float | None = None
    nearfull_ratio: float | None = None
    require_osd_release: str | None = None
    require_min_compat_client: str | None = None
    #: The highest pool id ever allocated (``pool_max``): a new pool gets ``pool_max + 1``.
    pool_max: int | None = None
    crush_version: int | None = None
    #: ``pg_upmap``: pgid -> the full up set (tuple of OSD ids).
    pg_upmap: dict = field(default_factory=dict)
    #: ``pg_upmap_items``: pgid -> tuple of ``(from_osd, to_osd)`` pairs.
    pg_upmap_items: dict = field(default_factory=dict)
    #: ``pg_temp``: pgid -> the acting set the OSDs asked for.
    pg_temp: dict = field(default_factory=dict)
    #: ``primary_temp``: pgid -> primary OSD id.
    primary_temp: dict = field(default_factory=dict)
    #: ``pg_upmap_primaries`` (Reef's read balancer): pgid -> primary OSD id.
    pg_upmap_primaries: dict = field(default_factory=dict)
    #: Erasure-code profiles by name (each a dict of strings, as ``ceph osd erasure-code-profile get``).
    erasure_code_profiles: dict = field(default_factory=dict)
    #: Blocklisted client addresses.
    blocklist: list = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> OSDMap:
        """From a mapping of field name -> value (``None`` values keep the default); unknown names are an error."""
        if isinstance(d, OSDMap):
            return d
        d = dict(d or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise TypeError(f"OSDMap has no field {', '.join(unknown)} (fields: {', '.join(sorted(names))})")
        return cls(**{k: v for k, v in d.items() if v is not None})

    def replace(self, **changes: Any) -> OSDMap:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **changes)

    def __getitem__(self, key: str) -> Any:
        if key not in _OSDMAP_FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_OSDMAP_FIELDS)

    def __len__(self) -> int:
        return len(_OSDMAP_FIELDS)

    __hash__ = None  # type: ignore[assignment]  # holds dicts; compare with ==


_OSDMAP_FIELDS = tuple(f.name for f in dataclasses.fields(OSDMap))


@dataclass(frozen=True)
class Snapshot:
    """One cluster state, as read from a capture (a folder of dumps) or a single dump.

    Attributes
    ----------
    pgs, pools, osds : DataFrame
        See the module documentation for their columns.  Empty (with the right columns) when no
        input carried them.
    crush : pgtools.crush.CrushMap or None
        The CRUSH map, when a ``crush dump``, ``ceph report`` or crushtool text map was given.
    osdmap : OSDMap
        OSDMap facts beyond the pool and OSD rows (epoch, max_osd, flags, full ratios, upmaps, pg_temp, ...);
        a mapping given here (or to :meth:`replace`) is converted with :meth:`OSDMap.from_dict`.
    health : dict or None
        The cluster's own health report, when a ``health detail`` dump was given.
    config : dict
        Options found in the capture (``ceph config dump``), name -> string value.
    meta : dict
        ``release`` (detected), ``epoch``, ``sources`` (list of ``(path, kind)``), ``extra`` per kind.
    pool_stats, osd_stats : DataFrame or None
        Per-pool and per-OSD usage when the capture had it.
    """

    pgs: pd.DataFrame = field(default_factory=empty_pgs)
    pools: pd.DataFrame = field(default_factory=empty_pools)
    osds: pd.DataFrame = field(default_factory=empty_osds)
    crush: Any = None
    osdmap: OSDMap = field(default_factory=OSDMap)
    health: dict | None = None
    config: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    pool_stats: pd.DataFrame | None = None
    osd_stats: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.osdmap, OSDMap):
            object.__setattr__(self, "osdmap", OSDMap.from_dict(self.osdmap))

    def replace(self, **changes: Any) -> Snapshot:
        """A copy with some attributes replaced (the original is never modified)."""
        return dataclasses.replace(self, **changes)

    @property
    def warnings(self) -> list[str]:
        """What loading assumed or dropped, one line each (``file:line: what``), in the order found.

        The same lines are emitted as :class:`~pgtools.errors.PgtoolsWarning` when the snapshot is
        loaded (the CLI prints each as ``pgtools: warning: ...``); the report and notebooks show them.
        Code that derives a snapshot adds its own with :meth:`with_warnings`.
        """
        return list(self.meta.get("warnings", []))

    def with_warnings(self, *lines: str) -> Snapshot:
        """A copy whose :attr:`warnings` end with ``lines`` (duplicates dropped); does not emit them."""
        have = self.warnings
        new = [w for w in lines if w not in have]
        return self.replace(meta={**self.meta, "warnings": have + new}) if new else self

    def pool(self, pool: int | str) -> pd.Series:
        """The row of :attr:`pools` for a pool given by name or id, as ``ceph osd pool ...`` takes it.

        An ``int`` is a pool id.  A string is a pool name first (Ceph allows a pool named ``"5"``), then,
        if it is all digits and no pool has that name, a pool id.

        Raises
        ------
        UnknownPoolError
            No such pool; the message lists the pools the snapshot has, ``name (id)``.
        """
        pools = self.pools
        hit = pools.iloc[0:0]
        if isinstance(pool, str) and "pool" in pools.columns:
            hit = pools[pools["pool"].astype(str) == pool]
        if not len(hit) and (not isinstance(pool, str) or pool.strip().lstrip("-").isdigit()):
            try:
                hit = pools[pools["pool_id"].astype("int64") == int(pool)]
            except (TypeError, ValueError):
                hit = pools.iloc[0:0]
        if not len(hit):
            names = pools["pool"] if "pool" in pools.columns else pools["pool_id"]
            known = ", ".join(f"{n} ({i})" for i, n in zip(pools["pool_id"], names, strict=True))
            raise UnknownPoolError(f"no pool {pool!r} (pools: {known or 'none'})")
        return hit.iloc[0]

    def pool_id(self, pool: int | str) -> int:
        """The id of a pool given by name or id (see :meth:`pool`)."""
        return int(self.pool(pool)["pool_id"])

    @property
    def release(self) -> str | None:
        return self.meta.get("release")

    @property
    def epoch(self) -> int | None:
        return self.meta.get("epoch")

    def __repr__(self) -> str:
        parts = [f"{len(self.pgs)} PGs", f"{len(self.pools)} pools", f"{len(self.osds)} OSDs"]
        if self.crush is not None:
            parts.append("crush")
        if self.epoch is not None:
            parts.append(f"epoch {self.epoch}")
        if self.release:
            parts.append(self.release)
        return f"<Snapshot {', '.join(parts)}>"


def row_value(row: Any, key: str, default: Any = None) -> Any:
    """``row[key]`` of a mapping or a Series row, with a missing key, None and NaN/NA all read as ``default``."""
    try:
        v = row.get(key, default)
    except AttributeError:
        return default
    if v is None:
        return default
    try:
        if pd.isna(v):
            return default
    except (TypeError, ValueError):  # arrays, tuples: a value
        pass
    return v


#: What to add to a capture for the real pool settings (when :func:`derived_pools` is not empty).
OSD_DUMP_HINT = "add `ceph osd dump -f json` (or `ceph osd pool ls detail -f json`)"


def derived_pools(pools: pd.DataFrame) -> dict[int, list[str]]:
    """``{pool_id: [derived fields]}`` of the pools :func:`pgtools.io.derive.derive_pools` filled in (empty when none)."""
    if pools is None or "derived" not in pools.columns:
        return {}
    return {int(p): str(d).split(",") for p, d in zip(pools["pool_id"], pools["derived"], strict=True)
            if isinstance(d, str) and d}


def id_ranges(ids: list[int]) -> str:
    """Sorted ids as runs, for messages: ``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    out: list[str] = []
    start = prev = None
    for i in ids:
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    if start is not None:
        out.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(out)
