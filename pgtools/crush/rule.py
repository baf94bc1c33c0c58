"""The records a CRUSH map is made of besides its buckets: rule steps, tunables and choose_args.

:data:`OPS` holds the rule step opcodes (``crush.h``), :class:`Rule` a rule as ``(op, arg1, arg2)``
steps, :class:`Tunables` the map's tunables (and :data:`TUNABLE_PROFILES` Ceph's named profiles) and
:class:`ChooseArg` one bucket's choose_args entry (weight sets and straw2 hash ids).  The model
(:mod:`.map`), the mappers (:mod:`.reference`, :mod:`.vector`) and the parsers read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPS", "OP_NAMES", "RULE_TYPES", "MSR_FIRSTN", "MSR_INDEP", "MSR_CONFIG_OPS", "TUNABLE_PROFILES",
           "Tunables", "Rule", "ChooseArg"]

#: Rule step opcodes (``crush.h``).
OPS = {
    "noop": 0, "take": 1, "choose_firstn": 2, "choose_indep": 3, "emit": 4,
    "chooseleaf_firstn": 6, "chooseleaf_indep": 7, "set_choose_tries": 8, "set_chooseleaf_tries": 9,
    "set_choose_local_tries": 10, "set_choose_local_fallback_tries": 11, "set_chooseleaf_vary_r": 12,
    "set_chooseleaf_stable": 13,
    # MSR rules (Squid and later): ``crush.h`` CRUSH_RULE_SET_MSR_DESCENTS, _SET_MSR_COLLISION_TRIES, _CHOOSE_MSR
    "set_msr_descents": 14, "set_msr_collision_tries": 15, "choosemsr": 16,
}
OP_NAMES = {v: k for k, v in OPS.items()}
#: The steps an MSR rule may start with (``crush_msr_scan_config_steps``).
MSR_CONFIG_OPS = (OPS["set_msr_descents"], OPS["set_msr_collision_tries"])

#: Rule types (``crush.h`` ``crush_rule_type``): the two MSR types (Squid and later) select
#: ``crush_msr_do_rule`` and give the output order of the whole rule.
MSR_FIRSTN = 4
MSR_INDEP = 5
RULE_TYPES = {"replicated": 1, "erasure": 3, "msr_firstn": MSR_FIRSTN, "msr_indep": MSR_INDEP}

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
    #: MSR tunables (Squid and later; ``CrushWrapper::set_default_msr_tunables``: 100 and 100, also what a
    #: map encoded without them decodes to).  Used by MSR rules only.
    msr_descents: int = 100
    msr_collision_tries: int = 100

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
    ``type`` is the rule type (``RULE_TYPES``): 1 replicated, 3 erasure, and since Squid 4 ``msr_firstn``
    and 5 ``msr_indep`` (:attr:`is_msr`), whose steps are ``set_msr_*`` then ``take``/``choosemsr``/``emit``.
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

    @property
    def is_msr(self) -> bool:
        """True for an MSR rule (type ``msr_firstn`` or ``msr_indep``), mapped by ``crush_msr_do_rule``."""
        return self.type in (MSR_FIRSTN, MSR_INDEP)


@dataclass(frozen=True)
class ChooseArg:
    """choose_args entry of one bucket: ``ids`` (hash inputs) and ``weight_set`` (positions x items)."""

    ids: tuple[int, ...] | None = None
    weight_set: tuple[tuple[int, ...], ...] | None = None
