"""Parser for ``ceph osd crush dump -f json`` (also accepts the ``crushmap`` section of ``ceph report``)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..crush.map import CrushMap
from ..errors import DumpFormatError, UnsupportedFeatureError
from ._common import Fragment, loads_json
from .crush_json import crushmap_from_dump

__all__ = ["sniff", "parse", "osd_rows"]

_KEYS = ("devices", "types", "buckets", "rules")


def sniff(text: str, obj: object | None) -> bool:
    """True for a decoded crush dump: a JSON object with devices, types, buckets and rules."""
    return isinstance(obj, dict) and all(k in obj for k in _KEYS)


def osd_rows(crush: CrushMap) -> pd.DataFrame:
    """One row per device: ``osd_id, name, device_class, crush_weight, host``.

    ``crush_weight`` is the device's item weight in its (first, non-shadow) parent bucket as a float,
    0.0 for devices in no bucket; ``host`` is the nearest ``host`` ancestor's name, or None.
    """
    par = crush.parents()
    rows = []
    for osd in sorted(set(crush.devices) | {i for i in par if i >= 0}):
        name, cls = crush.devices.get(osd, (f"osd.{osd}", None))
        parent = par.get(osd)
        if parent is None:
            cw = 0.0
        else:
            b = crush.buckets[parent]
            cw = b.weights[b.items.index(osd)] / 0x10000
        rows.append((osd, name, cls, cw, crush.host_of(osd)))
    df = pd.DataFrame(rows, columns=["osd_id", "name", "device_class", "crush_weight", "host"])
    df["osd_id"] = df["osd_id"].astype("int64")
    df["crush_weight"] = df["crush_weight"].astype("float64")
    return df


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Parse a crush dump into ``Fragment(kind="crush_dump", crush=..., osds=...)``.

    Parameters
    ----------
    text : str
        The JSON text (ignored when ``obj`` is given).
    source : str
        Name for error messages.
    obj : object, optional
        The already-decoded JSON.

    Returns
    -------
    Fragment

    Raises
    ------
    DumpFormatError
        For anything that is not a valid crush dump (unsupported features included, as a
        DumpFormatError naming them).
    """
    if obj is None:
        obj = loads_json(text, source=source)
    if isinstance(obj, dict) and "crushmap" in obj and not all(k in obj for k in _KEYS):
        obj = obj["crushmap"]
    return crush_fragment("crush_dump", lambda: crushmap_from_dump(obj, source=source), source=source,
                          what="crush dump")


def crush_fragment(kind: str, build: Callable[[], CrushMap], *, source: str, what: str) -> Fragment:
    """A Fragment with the CrushMap ``build()`` returns and its OSD rows; any failure is a DumpFormatError."""
    try:
        crush = build()
        osds = osd_rows(crush)
    except UnsupportedFeatureError as e:
        raise DumpFormatError(f"unsupported: {e}", source=source) from None
    except DumpFormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, RecursionError) as e:
        raise DumpFormatError(f"invalid {what}: {e}", source=source) from None
    return Fragment(kind=kind, source=source, crush=crush, osds=osds)
