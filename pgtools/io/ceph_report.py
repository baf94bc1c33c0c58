"""``ceph report`` (JSON): the monitors' whole view in one document.

Members used:

* ``osdmap`` — same layout as ``ceph osd dump -f json``: pools, OSDs and OSDMap facts, read by
  :func:`pgtools.io.osd_dump.osdmap_fragment`; the pool rows come from
  :func:`pgtools.io.pool_ls_detail.pools_frame` (with the map's erasure-code profiles).
* ``crushmap`` — same layout as ``ceph osd crush dump -f json``, read by
  :func:`pgtools.io.crush_json.crushmap_from_dump`.
* ``pgmap`` — present up to Mimic (the mgr owns it from Nautilus on): the ``pg dump -f json`` body, read
  by :func:`pgtools.io.pg_dump_json.pgmap_fragment` (``pgs``, ``pool_stats``, ``osd_stats``).
* ``health`` — read by :func:`pgtools.io.health.health_from_json`.
* ``version`` — ``"10.2.7-7-g5e27fb4"`` → ``Fragment.release`` (``"jewel"``).

``extra`` keeps ``version``, ``commit``, ``timestamp``, ``cluster_fingerprint`` and the pgmap's own
extras (``pgmap_version``, ``stamp``...).  ``Fragment.epoch`` is the osdmap epoch.

A CRUSH map using a feature pgtools does not model raises
:class:`~pgtools.errors.UnsupportedFeatureError` (from ``crushmap_from_dump``); anything malformed raises
:class:`~pgtools.errors.DumpFormatError`.
"""

from __future__ import annotations

from typing import Any

from ..errors import DumpFormatError, PgtoolsError
from ._common import Fragment, loads_json
from ._json import as_dict, type_name
from .crush_json import crushmap_from_dump
from .health import health_from_json
from .osd_dump import osdmap_fragment
from .pg_dump_json import pgmap_fragment
from .pool_ls_detail import pools_frame
from .versions import release_of

__all__ = ["sniff", "parse"]


def _is_report(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    if "cluster_fingerprint" in obj:
        return True
    return isinstance(obj.get("osdmap"), dict) and isinstance(obj.get("crushmap"), dict) and "monmap" in obj


def sniff(text: str, obj: object | None) -> bool:
    """True for ``ceph report`` JSON.

    Parameters
    ----------
    text : str
    obj : object or None
        The decoded JSON, None when the text is not JSON.

    Returns
    -------
    bool
    """
    return obj is not None and _is_report(obj)


def _guard(what: str, where: str, fn, *args, **kwargs):
    """Call another module's reader; programming errors on odd input become DumpFormatError."""
    try:
        return fn(*args, **kwargs)
    except PgtoolsError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as e:
        raise DumpFormatError(f"malformed {what}: {type(e).__name__}: {e}"[:300], source=where,
                              field=what) from None


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph report`` JSON.

    Parameters
    ----------
    text : str
        The file's text.
    source : str
        Name of the input, for error messages.
    obj : object, optional
        The decoded JSON, when the caller already has it.

    Returns
    -------
    Fragment
        kind ``"report"`` with whatever the report carries: ``pgs``, ``pool_stats``, ``osd_stats``,
        ``pools``, ``osds``, ``osdmap``, ``crush``, ``health``, ``release``, ``epoch``.

    Raises
    ------
    DumpFormatError
        Malformed input.
    UnsupportedFeatureError
        The CRUSH map uses something pgtools does not model.
    """
    if obj is None:
        obj = loads_json(text, source=source)
    if not isinstance(obj, dict):
        raise DumpFormatError(f"expected a ceph report object, got {type_name(obj)}", source=source)
    frag = Fragment(kind="report", source=source)
    for key in ("version", "commit", "timestamp", "cluster_fingerprint"):
        if isinstance(obj.get(key), str):
            frag.extra[key] = obj[key]
    if isinstance(obj.get("version"), str):
        frag.release = release_of(obj["version"])

    if obj.get("pgmap") is not None:
        pm = pgmap_fragment(as_dict(obj["pgmap"], source, "pgmap"), source, kind="report")
        frag.pgs, frag.pool_stats, frag.osd_stats = pm.pgs, pm.pool_stats, pm.osd_stats
        frag.extra.update({k: v for k, v in pm.extra.items()})
        frag.epoch = pm.epoch
        frag.release = frag.release or pm.release

    if obj.get("osdmap") is not None:
        osdmap = as_dict(obj["osdmap"], source, "osdmap")
        profiles = as_dict(osdmap.get("erasure_code_profiles", {}), source, "osdmap.erasure_code_profiles")
        frag.pools = pools_frame(osdmap.get("pools", []), source, profiles=profiles, where="osdmap.pools")
        om = _guard("osdmap", source, osdmap_fragment, osdmap, source)
        frag.osds = om.osds
        frag.osdmap = om.osdmap
        if om.pools is not None:
            extra_cols = [c for c in om.pools.columns if c not in frag.pools.columns]
            if extra_cols and len(om.pools) == len(frag.pools):
                frag.pools = frag.pools.merge(om.pools[["pool_id"] + extra_cols], on="pool_id", how="left")
        if om.epoch is not None:
            frag.epoch = om.epoch

    if obj.get("crushmap") is not None:
        frag.crush = _guard("crushmap", source, crushmap_from_dump, as_dict(obj["crushmap"], source, "crushmap"),
                            source=source)

    if obj.get("health") is not None:
        frag.health = health_from_json(obj["health"], source, "health.")
    return frag
