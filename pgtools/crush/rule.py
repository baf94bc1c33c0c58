"""The records a CRUSH map is made of besides its buckets: rule steps, tunables and choose_args.

:data:`OPS` holds the rule step opcodes (``crush.h``), :class:`Rule` a rule as ``(op, arg1, arg2)``
steps, :class:`Tunables` the map's tunables (and :data:`TUNABLE_PROFILES` Ceph's named profiles) and
:class:`ChooseArg` one bucket's choose_args entry (weight sets and straw2 hash ids).  The model
(:mod:`.map`), the mappers (:mod:`.reference`, :mod:`.vector`) and the parsers read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UnsupportedFeatureError

__all__ = ["OPS", "OP_NAMES", "TUNABLE_PROFILES", "Tunables", "Rule", "ChooseArg", "check_msr"]

#: Rule step opcodes (``crush.h``).
OPS = {
    "noop": 0, "take": 1, "choose_firstn": 2, "choose_indep": 3, "emit": 4,
    "chooseleaf_firstn": 6, "chooseleaf_indep": 7, "set_choose_tries": 8, "set_chooseleaf_tries": 9,
    "set_choose_local_tries": 10, "set_choose_local_fallback_tries": 11, "set_chooseleaf_vary_r": 12,
    "set_chooseleaf_stable": 13,
}
OP_NAMES = {v: k for k, v in OPS.items()}
_MSR_OPS = {"choose_msr", "set_msr_descents", "set_msr_collision_tries"}
_CHOOSE_OPS = {2, 3, 6, 7}
_SET_OPS = {8, 9, 10, 11, 12, 13}

_TUNABLE_FIELDS = ("choose_local_tries", "choose_local_fallback_tries", "choose_total_tries",
                   "chooseleaf_descend_once", "chooseleaf_vary_r", "chooseleaf_stable",
                   "straw_calc_version", "allowed_bucket_algs")

#: Named tunable profiles (§4.6): values of ``_TUNABLE_FIELDS`` minus straw_calc_version/allowed algs.
TUNABLE_PROFILES: dict[str, dict[str, int]] = {
    "argonaut": dict(choose_local_tries=2, choose_local_fallback_tries=5, choose_total_tries=19,
                     chooseleaf_descend_once=0, chooseleaf_vary_r=0, chooseleaf_stable=0,
                     straw_calc_version=0, allowed_bucket_algs=22),
    "bobtail": dict(choose_local_tries=0, choose_local_fallback_tries=0, choose_total_tries=50,
                    chooseleaf_descend_once=1, chooseleaf_vary_r=0, chooseleaf_stable=0,
                    straw_calc_version=0, allowed_bucket_algs=22),
    "firefly": dict(choose_local_tries=0, choose_local_fallback_tries=0, choose_total_tries=50,
                    chooseleaf_descend_once=1, chooseleaf_vary_r=1, chooseleaf_stable=0,
                    straw_calc_version=0, allowed_bucket_algs=22),
    "hammer": dict(choose_local_tries=0, choose_local_fallback_tries=0, choose_total_tries=50,
                   chooseleaf_descend_once=1, chooseleaf_vary_r=1, chooseleaf_stable=0,
                   straw_calc_version=1, allowed_bucket_algs=54),
    "jewel": dict(choose_local_tries=0, choose_local_fallback_tries=0, choose_total_tries=50,
                  chooseleaf_descend_once=1, chooseleaf_vary_r=1, chooseleaf_stable=1,
                  straw_calc_version=1, allowed_bucket_algs=54),
}
TUNABLE_PROFILES["legacy"] = TUNABLE_PROFILES["argonaut"]
TUNABLE_PROFILES["optimal"] = TUNABLE_PROFILES["default"] = TUNABLE_PROFILES["jewel"]


@dataclass(frozen=True)
class Tunables:
    """CRUSH tunables.  The defaults are the ``jewel``/``optimal`` profile with straw_calc_version 1."""

    choose_local_tries: int = 0
    choose_local_fallback_tries: int = 0
    choose_total_tries: int = 50
    chooseleaf_descend_once: int = 1
    chooseleaf_vary_r: int = 1
    chooseleaf_stable: int = 1
    straw_calc_version: int = 1
    allowed_bucket_algs: int = 54

    @classmethod
    def profile(cls, name: str) -> Tunables:
        """Return the named profile (argonaut/legacy, bobtail, firefly, hammer, jewel/optimal/default).

        ``straw_calc_version`` is not part of Ceph's named profiles; here argonaut/legacy come with 0
        (``set_tunables_legacy``) and jewel/optimal/default with 1 (``set_tunables_optimal``), and the
        in-between profiles use 0 (bobtail, firefly) and 1 (hammer).  Set it explicitly with
        :func:`dataclasses.replace` when it matters.
        """
        try:
            return cls(**TUNABLE_PROFILES[name])
        except KeyError:
            raise ValueError(f"unknown tunables profile {name!r}") from None


@dataclass(frozen=True)
class Rule:
    """A CRUSH rule: ``steps`` is a tuple of ``(op, arg1, arg2)`` with op codes from :data:`OPS`.

    ``ruleset``, ``min_size`` and ``max_size`` are None when the input (Quincy and later) has none.
    ``type`` is the pool type the rule is for (1 replicated, 3 erasure).
    """

    id: int
    name: str
    ruleset: int | None
    type: int
    min_size: int | None
    max_size: int | None
    steps: tuple[tuple[int, int, int], ...]

    @property
    def takes(self) -> tuple[int, ...]:
        """The items the rule's ``take`` steps start from, in step order (the rule's roots; usually one bucket).

        The mgr's autoscaler takes the first as the pool's CRUSH root (``get_rule_root``); the devices a
        rule can use are those under all of them.
        """
        return tuple(int(a1) for op, a1, _a2 in self.steps if op == OPS["take"])


@dataclass(frozen=True)
class ChooseArg:
    """choose_args entry of one bucket: ``ids`` (hash inputs) and ``weight_set`` (positions x items)."""

    ids: tuple[int, ...] | None = None
    weight_set: tuple[tuple[int, ...], ...] | None = None



def check_msr(op_name: str, source: str) -> None:
    """Raise UnsupportedFeatureError for Squid's MSR rule opcodes."""
    if op_name in _MSR_OPS:
        raise UnsupportedFeatureError(f"{source}: rule step {op_name!r} (MSR rules, Squid) is not supported")

