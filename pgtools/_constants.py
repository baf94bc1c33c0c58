"""Constants shared by every layer (kept dependency-free to avoid import cycles)."""

#: CRUSH_ITEM_NONE: an empty position (EC hole) in an up/acting vector, as Ceph prints it in JSON.
NONE = 0x7FFFFFFF
