"""Build a CRUSH map from a layer description, as ``crushtool --build`` does.

``crushtool --build --num_osds N  layer1 alg1 size1  layer2 alg2 size2 ...`` (``src/tools/crushtool.cc``, the
``build`` branch) creates the devices ``osd.0 .. osd.N-1`` (weight 1.0 each), then each layer in turn:
its items (the devices, then the previous layer's buckets) are cut into consecutive groups of ``size``
(``0``: one bucket holding them all) and each group becomes a bucket of the layer's type, named
``<layer><index>`` (or just ``<layer>`` when the layer has size 0), with ids taken from -1 downwards in
creation order and weights summed from its items.  Type ids are 0 ``osd`` then 1, 2, ... in layer order.
The map gets the default ("optimal") tunables and one rule, ``replicated_rule``: ``take <the last bucket
created>; chooseleaf firstn 0 type <the first layer's type>; emit`` (min_size 1, max_size 10) -- with one
layer, that is the single bucket of that layer, exactly as crushtool writes it.

Checked against 16.2.15's ``crushtool --build`` in ``tests/oracle/test_build.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .buckets import ALG_IDS, Bucket
from .constants import WEIGHT_ONE
from .edit import weight16
from .map import CrushMap
from .rule import OPS, Rule, Tunables

__all__ = ["build_crush"]

def build_crush(num_osds: int, layers: Sequence[tuple[str, str, int]], *,
                weights: Sequence[float] | None = None) -> CrushMap:
    """The CRUSH map ``crushtool --build --num_osds num_osds <layers>`` writes.

    Parameters
    ----------
    num_osds : int
        Devices ``osd.0 .. osd.{num_osds-1}``.
    layers : sequence of (type name, algorithm, size)
        Bottom-up, as on crushtool's command line: e.g. ``[("host", "straw2", 4), ("rack", "straw2", 3),
        ("root", "straw2", 0)]`` (4 OSDs per host, 3 hosts per rack, one root).  Algorithms: ``uniform``,
        ``list``, ``tree``, ``straw``, ``straw2``.
    weights : sequence of float, optional
        Per-OSD CRUSH weights (crushtool gives every device 1.0; other weights are what ``ceph osd crush
        reweight`` would set afterwards, the bucket weights summed from them).

    Returns
    -------
    CrushMap

    Raises
    ------
    ValueError
        No OSD, no layer, a negative size, an unknown algorithm, a repeated or reserved type name
        (``osd``), or weights of the wrong length or negative.
    """
    n = int(num_osds)
    if n <= 0:
        raise ValueError(f"num_osds {num_osds}: a map needs at least one OSD")
    if not layers:
        raise ValueError("give at least one layer, e.g. [('host', 'straw2', 4), ('root', 'straw2', 0)]")
    w = [WEIGHT_ONE] * n if weights is None else [weight16(x) for x in weights]
    if len(w) != n:
        raise ValueError(f"{len(w)} weights for {n} OSDs")
    types = {0: "osd"}
    for i, layer in enumerate(layers, start=1):
        if len(layer) != 3:
            raise ValueError(f"layer {layer!r}: give (type name, algorithm, size)")
        name, alg, size = layer
        if name in types.values():
            raise ValueError(f"layer type {name!r} appears twice (or is the device type 'osd')")
        if alg not in ALG_IDS:
            raise ValueError(f"layer {name!r}: unknown bucket algorithm {alg!r}; use one of {', '.join(ALG_IDS)}")
        if int(size) < 0:
            raise ValueError(f"layer {name!r}: size {size} is negative (0 puts every item in one bucket)")
        types[i] = str(name)
    buckets: dict[int, Bucket] = {}
    items, item_weights = list(range(n)), w
    next_id = -1
    for type_id, (name, alg, size) in enumerate(layers, start=1):
        size = int(size)
        groups = [items] if size == 0 else [items[k:k + size] for k in range(0, len(items), size)]
        gweights = [item_weights] if size == 0 else [item_weights[k:k + size] for k in range(0, len(items), size)]
        new_items, new_weights = [], []
        for j, (g, gw) in enumerate(zip(groups, gweights, strict=True)):
            bname = str(name) if size == 0 else f"{name}{j}"
            buckets[next_id] = Bucket(next_id, bname, type_id, ALG_IDS[alg], 0, tuple(g), tuple(gw), sum(gw))
            new_items.append(next_id)
            new_weights.append(sum(gw))
            next_id -= 1
        items, item_weights = new_items, new_weights
    root = next_id + 1
    rule = Rule(0, "replicated_rule", 0, 1, 1, 10,
                ((OPS["take"], root, 0), (OPS["chooseleaf_firstn"], 0, 1), (OPS["emit"], 0, 0)))
    return CrushMap(devices={i: (f"osd.{i}", None) for i in range(n)}, types=types, buckets=buckets,
                    rules={0: rule}, tunables=Tunables(), max_devices=n)

