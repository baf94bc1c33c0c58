"""Object name to placement group: Ceph's string hashes and ``ceph osd map``.

An object is placed by hashing its name (or its locator key), optionally prefixed by its namespace,
with the pool's ``object_hash`` function; the 32-bit result is the *raw* placement seed, which
``ceph_stable_mod`` (:func:`~pgtools.placement.pgmath.stable_mod`) folds into ``[0, pg_num)``.  See
``ceph_algorithms.md`` section 8.

Functions
---------
ceph_str_hash_rjenkins, ceph_str_hash_linux, ceph_str_hash
    The string hashes (``common/ceph_hash.cc``).
object_to_pg
    ``(pool row, object name) -> (raw ps, ps)``.
map_object, format_osd_map
    The whole ``ceph osd map`` chain on a :class:`~pgtools.model.Snapshot`, and its plain output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import PgtoolsError
from ..model import NONE, Snapshot
from .osdmap import compile_snapshot
from .pgmath import stable_mod

__all__ = [
    "CEPH_STR_HASH_LINUX",
    "CEPH_STR_HASH_RJENKINS",
    "ceph_str_hash_rjenkins",
    "ceph_str_hash_linux",
    "ceph_str_hash",
    "hash_key",
    "object_to_pg",
    "ObjectMapping",
    "map_object",
    "format_osd_map",
]

CEPH_STR_HASH_LINUX = 1
CEPH_STR_HASH_RJENKINS = 2

_M32 = 0xFFFFFFFF


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    """Robert Jenkins' 96-bit mix (all arithmetic mod 2**32); returns the new ``(a, b, c)``."""
    a = ((a - b - c) & _M32) ^ (c >> 13)
    b = ((b - c - a) & _M32) ^ ((a << 8) & _M32)
    c = ((c - a - b) & _M32) ^ (b >> 13)
    a = ((a - b - c) & _M32) ^ (c >> 12)
    b = ((b - c - a) & _M32) ^ ((a << 16) & _M32)
    c = ((c - a - b) & _M32) ^ (b >> 5)
    a = ((a - b - c) & _M32) ^ (c >> 3)
    b = ((b - c - a) & _M32) ^ ((a << 10) & _M32)
    c = ((c - a - b) & _M32) ^ (b >> 15)
    return a, b, c


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8", errors="surrogateescape") if isinstance(data, str) else bytes(data)


def ceph_str_hash_rjenkins(data: str | bytes) -> int:
    """Ceph's ``ceph_str_hash_rjenkins`` (Jenkins' lookup2 string hash) of ``data``.

    Parameters
    ----------
    data : str or bytes
        The string to hash (a ``str`` is encoded as UTF-8).

    Returns
    -------
    int
        The unsigned 32-bit hash.

    Examples
    --------
    >>> hex(ceph_str_hash_rjenkins("test-object-1"))
    '0x74dc35e2'
    """
    k = _as_bytes(data)
    n = len(k)
    a = b = 0x9E3779B9
    c = 0
    i = 0
    while n - i >= 12:
        a = (a + int.from_bytes(k[i:i + 4], "little")) & _M32
        b = (b + int.from_bytes(k[i + 4:i + 8], "little")) & _M32
        c = (c + int.from_bytes(k[i + 8:i + 12], "little")) & _M32
        a, b, c = _mix(a, b, c)
        i += 12
    c = (c + n) & _M32
    rest = k[i:]
    for j, ch in enumerate(rest):
        if j < 4:
            a = (a + (ch << (8 * j))) & _M32
        elif j < 8:
            b = (b + (ch << (8 * (j - 4)))) & _M32
        else:
            # the low byte of c holds the length
            c = (c + (ch << (8 * (j - 7)))) & _M32
    a, b, c = _mix(a, b, c)
    return c


def ceph_str_hash_linux(data: str | bytes) -> int:
    """Ceph's ``ceph_str_hash_linux`` (the old dcache hash) of ``data``, an unsigned 32-bit int.

    Examples
    --------
    >>> hex(ceph_str_hash_linux("foo"))
    '0x24db2a'
    """
    h = 0
    for ch in _as_bytes(data):
        h = ((h + (ch << 4) + (ch >> 4)) * 11) & _M32
    return h


def ceph_str_hash(hash_type: int, data: str | bytes) -> int:
    """Dispatch on a pool's ``object_hash`` (1 linux, 2 rjenkins); any other type gives ``0xffffffff``."""
    if hash_type == CEPH_STR_HASH_LINUX:
        return ceph_str_hash_linux(data)
    if hash_type == CEPH_STR_HASH_RJENKINS:
        return ceph_str_hash_rjenkins(data)
    return _M32


def hash_key(hash_type: int, key: str | bytes, namespace: str | bytes = "") -> int:
    """``pg_pool_t::hash_key``: hash ``key``, prefixed by ``namespace + "\\x1f"`` when there is one."""
    k = _as_bytes(key)
    ns = _as_bytes(namespace)
    if ns:
        k = ns + b"\x1f" + k
    return ceph_str_hash(hash_type, k)


def _pool_get(pool_row: Any, name: str, default: Any = None) -> Any:
    try:
        v = pool_row[name]
    except (KeyError, IndexError, TypeError):
        return default
    try:
        if v is None or v != v:  # NaN / NA
            return default
    except (TypeError, ValueError):
        return default
    return v


_HASH_NAMES = {"rjenkins": CEPH_STR_HASH_RJENKINS, "linux": CEPH_STR_HASH_LINUX}


def _object_hash(pool_row: Any) -> int:
    h = _pool_get(pool_row, "object_hash", CEPH_STR_HASH_RJENKINS)
    if isinstance(h, str):
        return _HASH_NAMES.get(h.strip().lower(), int(h) if h.strip().isdigit() else -1)
    return int(h)


def object_to_pg(pool_row: Mapping[str, Any] | Any, name: str | bytes, namespace: str | bytes = "",
                 key: str | bytes = "") -> tuple[int, int]:
    """Place an object in a pool: ``(raw_ps, ps)``.

    Parameters
    ----------
    pool_row : mapping or pandas Series
        A pool with at least ``pg_num`` (and ``object_hash``: 2/``"rjenkins"`` by default, 1/``"linux"``).
    name : str or bytes
        Object name.
    namespace : str or bytes, optional
        RADOS namespace (``""`` for none).
    key : str or bytes, optional
        Locator key; hashed instead of the name when non-empty.

    Returns
    -------
    tuple of int
        The raw 32-bit hash (``raw_pgid``'s ps) and the PG's ps (``< pg_num``).
    """
    pg_num = int(_pool_get(pool_row, "pg_num", 0) or 0)
    if pg_num <= 0:
        raise PgtoolsError("pool has no pg_num")
    raw = hash_key(_object_hash(pool_row), key if key else name, namespace)
    return raw, stable_mod(raw, pg_num)


class ObjectMapping(tuple):
    """``(pgid, up, acting)`` as returned by :func:`map_object`, with the details as attributes."""

    epoch: int | None
    pool: str
    pool_id: int
    objname: str
    raw_pgid: str
    up_primary: int
    acting_primary: int

    def __new__(cls, pgid: str, up: tuple[int, ...], acting: tuple[int, ...], **details: Any):
        self = super().__new__(cls, (pgid, up, acting))
        for k, v in details.items():
            setattr(self, k, v)
        return self

    @property
    def pgid(self) -> str:
        return self[0]

    @property
    def up(self) -> tuple[int, ...]:
        return self[1]

    @property
    def acting(self) -> tuple[int, ...]:
        return self[2]


def map_object(snap: Snapshot, pool: str | int, name: str, namespace: str = "", *,
               key: str = "", release: str | None = None) -> ObjectMapping:
    """Run ``ceph osd map <pool> <name> [<namespace>]`` offline.

    Parameters
    ----------
    snap : Snapshot
        Needs pools, osds, the osdmap dict and the CRUSH map.
    pool : str or int
        Pool name or id.
    name : str
        Object name.
    namespace : str, optional
        RADOS namespace.
    key : str, optional
        Locator key.

    Returns
    -------
    ObjectMapping
        A tuple ``(pgid, up, acting)``; also has attributes ``raw_pgid``, ``up_primary``,
        ``acting_primary``, ``pool``, ``pool_id``, ``objname``, ``epoch``.
    """
    row = snap.pool(pool)
    pool_id = int(row["pool_id"])
    raw, ps = object_to_pg(row, name, namespace, key)
    compiled = compile_snapshot(snap, release=release)
    res = compiled.pg_to_up_acting_osds(pool_id, ps)
    objname = f"{namespace}/{name}" if namespace else name
    return ObjectMapping(f"{pool_id}.{ps:x}", tuple(res.up), tuple(res.acting),
                         epoch=snap.epoch if snap.epoch is not None else snap.osdmap.epoch,
                         pool=str(row["pool"]), pool_id=pool_id, objname=objname,
                         raw_pgid=f"{pool_id}.{raw:x}", up_primary=res.up_primary,
                         acting_primary=res.acting_primary)


def _osd_list(osds: tuple[int, ...] | list[int]) -> str:
    return "[" + ",".join("NONE" if o == NONE else str(o) for o in osds) + "]"


def format_osd_map(m: ObjectMapping) -> str:
    """The plain-text line ``ceph osd map`` prints for a :func:`map_object` result (with newline).

    ``osdmap e<epoch> pool '<pool>' (<id>) object '<name>' -> pg <raw pgid> (<pgid>) -> up ([..], pN)
    acting ([..], pN)``.
    """
    epoch = m.epoch if m.epoch is not None else 0
    return (f"osdmap e{epoch} pool '{m.pool}' ({m.pool_id}) object '{m.objname}' -> pg {m.raw_pgid} "
            f"({m.pgid}) -> up ({_osd_list(m.up)}, p{m.up_primary}) "
            f"acting ({_osd_list(m.acting)}, p{m.acting_primary})\n")
