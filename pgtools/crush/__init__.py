"""The CRUSH core: hashes, ``crush_ln``, bucket algorithms, the map model and the mappers.

Bit-exact with Ceph 16.2.15.  :func:`map_values` is the vectorised mapper (NumPy, or the
compiled numba kernel when numba is installed: ``engine="auto"``); :meth:`CrushMap.do_rule`
the scalar reference.
"""

from __future__ import annotations

from .buckets import Bucket
from .crushtool_format import crushtool_test, crushtool_weights, format_mappings
from .map import ITEM_NONE, ChooseArg, CrushMap, Rule, Tunables
from .vector import ENGINES, have_numba, map_values, resolve_engine

__all__ = ["Bucket", "ChooseArg", "CrushMap", "ENGINES", "ITEM_NONE", "Rule", "Tunables", "crushtool_test",
           "crushtool_weights", "format_mappings", "have_numba", "map_values", "resolve_engine"]
