"""Read the bucket table of a binary CRUSH map (``crushtool -c``/``osdmaptool --export-crush`` output).

Test-only: enough of ``CrushWrapper::encode``'s layout (magic, max_buckets, max_rules, max_devices, then
each bucket: alg, id, type, alg, hash, weight, size, items, and the per-algorithm payload) to show the
node weights Ceph stored for tree buckets, which no text or JSON dump prints.
"""

from __future__ import annotations

import struct
from pathlib import Path

CRUSH_MAGIC = 0x00010000


def tree_node_weights(path: Path) -> dict[int, tuple[list[int], list[int]]]:
    """``{bucket_id: (items, node_weights)}`` for every tree bucket of the map."""
    data = Path(path).read_bytes()
    off = 0

    def take(fmt: str) -> tuple:
        nonlocal off
        vals = struct.unpack_from("<" + fmt, data, off)
        off += struct.calcsize("<" + fmt)
        return vals

    magic, max_buckets, _max_rules, _max_devices = take("IiIi")
    if magic != CRUSH_MAGIC:
        raise ValueError(f"{path}: not a binary CRUSH map (magic {magic:#x})")
    out: dict[int, tuple[list[int], list[int]]] = {}
    for _ in range(max_buckets):
        (alg,) = take("I")
        if alg == 0:
            continue
        bid, _type, _alg8, _hash, _weight, size = take("ihBBII")
        items = list(take(f"{size}i")) if size else []
        if alg == 1:  # uniform: one item weight
            take("I")
        elif alg == 2:  # list: item weight and running sum per item
            take(f"{2 * size}I")
        elif alg == 3:  # tree: u8 num_nodes, then the node weights
            (num_nodes,) = take("B")
            out[bid] = (items, list(take(f"{num_nodes}I")) if num_nodes else [])
        elif alg == 4:  # straw: item weight and straw per item
            take(f"{2 * size}I")
        elif alg == 5:  # straw2: item weights
            take(f"{size}I")
        else:
            raise ValueError(f"{path}: bucket {bid}: unknown algorithm {alg}")
    return out
