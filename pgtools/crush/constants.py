"""CRUSH constants, defined once for every layer (``include/crush.h``, ``crush/crush.h`` in Ceph).

Dependency-free: the model, the parsers, placement and the engines all import from here.
"""

__all__ = ["ITEM_NONE", "ITEM_UNDEF", "WEIGHT_ONE"]

#: ``CRUSH_ITEM_NONE``: an empty position (an erasure-coded hole) in a CRUSH result or an up/acting vector;
#: Ceph prints it as ``2147483647`` (plain dumps before Octopus, JSON) or ``NONE``.
ITEM_NONE = 0x7FFFFFFF
#: ``CRUSH_ITEM_UNDEF``: a position not yet chosen during an indep descent.
ITEM_UNDEF = 0x7FFFFFFE
#: 1.0 in CRUSH's 16.16 fixed point (weights, reweights, primary affinity): ``0x10000``.
WEIGHT_ONE = 0x10000
