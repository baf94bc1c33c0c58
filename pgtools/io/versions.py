"""``ceph versions`` (JSON; the command has no plain form).

``{"mon": {"ceph version 16.2.15 (<sha1>) pacific (stable)": 1}, "mgr": {...}, "osd": {...},
"mds": {}, "overall": {...}}``.

``Fragment.release`` is the release codename of the **monitors** (they compute the OSDMap), falling back
to ``overall``; with mixed versions, the oldest one.  The codename is the word printed after the
sha1 (``pacific``), or derived from the major version (10 jewel … 20 tentacle) when absent.

``extra["versions"]`` keeps the raw mapping; ``extra["versions_table"]`` is a DataFrame
``daemon_type, version, release, count``; ``extra["mixed_versions"]`` is True when more than one
version string appears under ``overall``; ``extra["ceph_version"]`` is the version number (``"16.2.15"``)
of the daemons ``Fragment.release`` comes from (the oldest of them), which
:func:`pgtools.mgr.releases.choose` reports beside the release whose defaults and behaviour it applies.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..errors import DumpFormatError
from ._common import Fragment, loads_json
from ._json import as_dict, to_int, type_name

__all__ = ["sniff", "parse", "release_of", "version_of", "RELEASES"]

#: major version → codename
RELEASES = {0: "hammer", 10: "jewel", 11: "kraken", 12: "luminous", 13: "mimic", 14: "nautilus",
            15: "octopus", 16: "pacific", 17: "quincy", 18: "reef", 19: "squid", 20: "tentacle"}
_ORDER = ["hammer", "infernalis", "jewel", "kraken", "luminous", "mimic", "nautilus", "octopus", "pacific",
          "quincy", "reef", "squid", "tentacle"]
_VERSION = re.compile(r"^ceph version (\S+)(?: \(([0-9a-f]+)\))?(?: (\w+) \((\w+)\))?")
_DAEMONS = {"mon", "mgr", "osd", "mds", "rgw", "overall", "rbd-mirror", "cephfs-mirror", "tcmu-runner",
            "iscsi", "nfs", "crash", "ceph-exporter"}


def release_of(version: str) -> str | None:
    """Release codename of a ``ceph version ...`` string.

    Parameters
    ----------
    version : str
        E.g. ``"ceph version 16.2.15 (618f4408...) pacific (stable)"`` or ``"10.2.7-7-g5e27fb4"``.

    Returns
    -------
    str or None
        ``"pacific"``, or None when the string is not recognised.
    """
    m = _VERSION.match(version)
    if m and m.group(3):
        return m.group(3)
    num = m.group(1) if m else version.strip()
    mm = re.match(r"^v?([0-9]+)\.([0-9]+)", num)
    if not mm:
        return None
    major, minor = int(mm.group(1)), int(mm.group(2))
    if major == 0:
        return {94: "hammer", 87: "giant", 80: "firefly"}.get(minor)
    return RELEASES.get(major)


def version_of(version: str) -> str | None:
    """The version number of a ``ceph version ...`` string: ``"16.2.15"``, or None when there is none.

    Examples
    --------
    >>> version_of("ceph version 18.2.7 (6b0e988052ec84cf2d4a54ff9bbbc5e720b621ad) reef (stable)")
    '18.2.7'
    >>> version_of("10.2.7-7-g5e27fb4")
    '10.2.7'
    """
    m = _VERSION.match(version)
    num = m.group(1) if m else version.strip()
    mm = re.match(r"^v?([0-9]+\.[0-9]+(?:\.[0-9]+)?)", num)
    return mm.group(1) if mm else None


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def _is_versions(obj: Any) -> bool:
    if not isinstance(obj, dict) or "overall" not in obj or not isinstance(obj["overall"], dict):
        return False
    return all(isinstance(v, dict) for v in obj.values()) and all(
        isinstance(k, str) and k.startswith("ceph version") for k in obj["overall"])


def sniff(text: str, obj: object | None) -> bool:
    """True for ``ceph versions`` JSON.

    Parameters
    ----------
    text : str
    obj : object or None
        The decoded JSON, None when the text is not JSON.

    Returns
    -------
    bool
    """
    return obj is not None and _is_versions(obj)


def _oldest(names: list[str]) -> str | None:
    known = [n for n in names if n in _ORDER]
    if not known:
        return names[0] if names else None
    return min(known, key=_ORDER.index)


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse ``ceph versions`` JSON.

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
        kind ``"versions"`` with ``release`` and ``extra["versions"]``, ``extra["versions_table"]``.

    Raises
    ------
    DumpFormatError
    """
    if obj is None:
        obj = loads_json(text, source=source)
    if not isinstance(obj, dict):
        raise DumpFormatError(f"expected an object, got {type_name(obj)}", source=source)
    rows = []
    for daemon, versions in obj.items():
        versions = as_dict(versions, source, str(daemon))
        for ver, count in versions.items():
            if not isinstance(ver, str) or not ver.startswith("ceph version"):
                raise DumpFormatError(f"not a ceph version string: {str(ver)[:60]!r}", source=source,
                                      field=str(daemon))
            rows.append({"daemon_type": str(daemon), "version": ver, "release": release_of(ver),
                         "count": to_int(count, source, f"{daemon}.{ver[:40]}")})
    if "overall" not in obj:
        raise DumpFormatError("missing", source=source, field="overall")
    table = pd.DataFrame(rows, columns=["daemon_type", "version", "release", "count"])
    table["count"] = table["count"].astype("int64")
    frag = Fragment(kind="versions", source=source)
    mons = [r["release"] for r in rows if r["daemon_type"] == "mon" and r["release"]]
    overall = [r["release"] for r in rows if r["daemon_type"] == "overall" and r["release"]]
    frag.release = _oldest(mons) or _oldest(overall)
    for daemon in ("mon", "overall"):
        nums = [version_of(r["version"]) for r in rows if r["daemon_type"] == daemon and r["release"] == frag.release]
        nums = [n for n in nums if n]
        if nums:
            frag.extra["ceph_version"] = min(nums, key=_version_key)
            break
    frag.extra["versions"] = obj
    frag.extra["versions_table"] = table
    frag.extra["mixed_versions"] = len(obj["overall"]) > 1
    return frag
