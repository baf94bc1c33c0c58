"""Parser for binary osdmaps (``ceph osd getmap -o osdmap.bin``, ``osdmaptool --createsimple N``).

A binary osdmap is recognised from its bytes (:func:`sniff_bytes`: the ``OSDMap::encode`` wrapper header)
and decoded by :func:`pgtools.io.osdmap_decode.decode_osdmap` (the encodings Pacific 16.2.15, Reef 18.2.7
and Tentacle 20.2.4 write, checked against each release's osdmaptool; see there).  The result is the
:class:`~pgtools.io.Fragment` the ``osd_dump`` parser builds from ``ceph osd dump -f json`` of the same
map (:func:`~pgtools.io.osd_dump.osdmap_fragment`: the same pools, OSDs and osdmap facts), of kind
``"osdmap_binary"``, with the embedded CRUSH map (:func:`~pgtools.io.crush_binary.crushmap_from_binary`)
and its OSD columns (``device_class``, ``crush_weight``, ``host``).  In a capture it is the most exact
osdmap input (:func:`pgtools.io.load`; :mod:`pgtools.io.consistency` checks the others against it).
"""

from __future__ import annotations

from ..errors import DumpFormatError
from ._common import Fragment
from .crush_binary import crushmap_from_binary
from .crush_dump import crush_fragment, osd_rows
from .osd_dump import osdmap_fragment
from .osdmap_decode import decode_osdmap, is_osdmap_binary

__all__ = ["sniff", "parse", "sniff_bytes", "parse_bytes"]


def sniff(text: str, obj: object | None) -> bool:
    """Always False: a binary osdmap is recognised from its bytes (:func:`sniff_bytes`), never from text."""
    return False


def parse(text: str, *, source: str = "<string>", obj: object | None = None) -> Fragment:
    """Refuse text (a binary osdmap must be read as bytes, :func:`parse_bytes`)."""
    raise DumpFormatError("a binary osdmap must be read as bytes", source=source)


def sniff_bytes(data: bytes) -> bool:
    """True when ``data`` starts like an encoded OSDMap (:func:`is_osdmap_binary`)."""
    return is_osdmap_binary(data)


def parse_bytes(data: bytes, *, source: str = "<bytes>") -> Fragment:
    """Parse a binary osdmap into ``Fragment(kind="osdmap_binary")``: pools, OSDs, osdmap facts, CRUSH map.

    Parameters
    ----------
    data : bytes
        The file's content.
    source : str
        Name for error messages.

    Returns
    -------
    Fragment
        What :func:`~pgtools.io.osd_dump.osdmap_fragment` builds from ``ceph osd dump -f json`` of the same
        map, plus ``crush`` and the CRUSH OSD columns (``crush_weight``, ``host``, ``device_class``);
        ``fsid`` set; ``extra`` holds ``struct_versions``, ``flags_num`` and ``blocklist_entries``.

    Raises
    ------
    DumpFormatError
        Malformed, truncated or unsupported content; the message gives the byte offset
        (``offset N: ...``) and the field.
    """
    obj = decode_osdmap(data, source=source)
    crush_at = obj.pop("crush_offset")

    def build():
        try:
            return crushmap_from_binary(obj.pop("crush_bytes"), source=source)
        except DumpFormatError as e:  # offsets in the embedded map are relative to its start
            raise DumpFormatError(f"embedded CRUSH map at offset {crush_at}: {e.message}", source=source,
                                  field=f"crush.{e.field}" if e.field else "crush") from None

    crush = crush_fragment("osdmap_binary", build, source=source, what="embedded CRUSH map").crush
    frag = osdmap_fragment(obj, source)
    frag.kind = "osdmap_binary"
    frag.crush = crush
    frag.fsid = obj["fsid"]
    cols = osd_rows(crush).set_index("osd_id")[["device_class", "crush_weight", "host"]]
    osds = frag.osds.set_index("osd_id")
    frag.osds = osds.join(cols, how="left").reset_index()
    frag.osds["name"] = [f"osd.{i}" for i in frag.osds["osd_id"]]
    for c in ("exists", "up", "in"):
        frag.osds[c] = frag.osds[c].fillna(False).astype(bool)
    frag.extra = {"struct_versions": obj["struct_versions"], "flags_num": obj["flags_num"],
                  "blocklist_entries": obj["blocklist_entries"]}
    return frag
