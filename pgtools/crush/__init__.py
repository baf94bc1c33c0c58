"""The CRUSH core: hashes, ``crush_ln``, bucket algorithms, the map model and the mappers.

Bit-exact with Ceph 16.2.15.  :func:`map_values` is the vectorised mapper (NumPy, or the
compiled numba kernel when numba is installed: ``engine="auto"``); :meth:`CrushMap.do_rule`
the scalar reference.

Modules: ``constants`` (ITEM_NONE, ITEM_UNDEF, WEIGHT_ONE), ``hash`` (rjenkins1, scalar and NumPy),
``ln`` (``crush_ln``), ``buckets`` (:class:`Bucket` and the five bucket algorithms), ``rule`` (rule
steps, :class:`Rule`, :class:`Tunables`, :class:`ChooseArg`), ``map`` (:class:`CrushMap`),
``reweight`` (``adjust_item_weight`` bookkeeping), ``reference`` (scalar ``crush_do_rule``),
``vecmap``, ``vector`` and ``vecmsr`` (the NumPy engine: bucket choices, rule descent, MSR rules and
:func:`map_values`), ``_numba_buckets``, ``_numba`` and ``_numba_msr`` (the optional compiled engine, loaded only
when used), ``shape`` (what a rule's shape tells before any descent),
``crushtool_format`` (crushtool ``--test`` emulation), ``edit`` (``ceph osd crush ...`` edits) and ``remap``
(the tree walks of the upmap balancer: ``try_remap_rule``, ``get_rule_weight_osd_map``, ``verify_upmap``).

Imports: ``pgtools.errors`` and this package only (numba lazily, from ``vector``).
"""

from __future__ import annotations

from .buckets import Bucket
from .constants import ITEM_NONE
from .crushtool_format import crushtool_test, crushtool_weights, format_mappings
from .map import CrushMap
from .rule import ChooseArg, Rule, Tunables
from .vector import ENGINES, have_numba, map_values, resolve_engine

__all__ = ["Bucket", "ChooseArg", "CrushMap", "ENGINES", "ITEM_NONE", "Rule", "Tunables", "crushtool_test",
           "crushtool_weights", "format_mappings", "have_numba", "map_values", "resolve_engine"]
