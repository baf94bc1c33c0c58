"""Which Ceph release a capture's mgr and mon behave like, and that release's defaults, with provenance.

pgtools reproduces three releases exactly: Pacific 16.2.15, Reef 18.2.7 and Tentacle 20.2.4
(:data:`MODELLED`).  This module holds

* :data:`DEFAULTS` — per release, the compiled-in default of every option pgtools uses, each with the Ceph
  source file that defines it and the release tag.  The values of options Ceph compiles in were read from
  that release's own ``ceph-conf -D`` (Debian ``ceph-common`` 16.2.15+ds-0+deb12u2, 18.2.7+ds-1+deb13u1,
  20.2.4+ds-2), and ``tests/oracle/test_release_defaults.py`` checks every one of them against the binaries
  again; mgr *module* options (the autoscaler's ``threshold``) are not in ``ceph-conf`` and come from the
  module's source (``src/pybind/mgr/pg_autoscaler/module.py``, as Debian's ``ceph-mgr-modules-core`` of the
  same version installs it).
* :func:`choose` — the release whose defaults and behaviour apply to a capture: an argument
  (``ceph_release=``, or :func:`with_ceph_release` on the snapshot), else the release the capture itself
  names (``ceph versions`` / ``ceph report``: :mod:`pgtools.io.versions`), else the newest modelled release,
  **assumed** — and then a :class:`~pgtools.errors.PgtoolsWarning` is given wherever the assumption can
  change an answer (:func:`warn_if_assumed`).

What differs between the three releases in what pgtools emulates (the functions' source compared between
the releases; see each module for the implementation):

* option rename — ``mon_osd_max_creating_pgs`` (mon.yaml.in, Pacific/Reef) became ``mgr_max_pg_creating``
  (mgr.yaml.in, Tentacle; same default 1024), read by ``DaemonServer::adjust_pgs``
  (:mod:`pgtools.mgr.pgnum`); otherwise ``adjust_pgs`` is the same in Reef and Tentacle (one log wording);
* ``OSDMonitor::check_pg_num`` — Reef rewrote it: Σ ``pg_num_target × size`` over the pools of the same
  CRUSH rule, divided by the OSDs under the rule's roots (at least 3), against ``mon_max_pg_per_osd``; new
  message "... would result in N cumulative PGs per OSD (...)" (:mod:`pgtools.mgr.health`); same in Tentacle;
* ``pg_autoscaler`` — Reef: ``threshold`` becomes a module option (``mgr/pg_autoscaler/threshold``, default
  3.0, at least 1.0; Pacific fixes 3.0), usage is ``bytes_used`` not ``stored``, the ``noautoscale`` OSDMap
  flag shows every pool as ``off`` (Pacific: a module option that switched each pool's mode), warn-mode
  pools whose NEW PG_NUM equals PG_NUM no longer count as ``POOL_TOO_MANY_PGS``
  (:func:`pgtools.mgr.autoscale_output.pool_pg_count_checks`); Tentacle: a dynamic
  threshold when scaling up (NEW PG_NUM 512 or 1024: factor 1.0, 2048: 2.0) and ``would_adjust`` no longer
  requires mode ``on`` or a ratio within [0, 1] (:mod:`pgtools.mgr.autoscale`);
* ``PGMap::get_health_checks`` ``TOO_MANY_PGS`` / ``TOO_FEW_PGS`` and ``OSDMap::check_health``
  ``OSD_NEARFULL`` / ``OSD_BACKFILLFULL`` / ``OSD_FULL``: no difference in what pgtools computes.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import Snapshot

__all__ = ["MODELLED", "VERSIONS", "NEWEST", "KNOWN", "Default", "DEFAULTS", "RENAMED", "ReleaseChoice", "choose", "capture_version",
           "with_ceph_release", "ceph_name", "default", "defaults_frame", "warn_if_assumed", "order"]

#: the releases pgtools reproduces exactly, oldest first
MODELLED = ("pacific", "reef", "tentacle")
#: the point release of each that pgtools was checked against
VERSIONS = {"pacific": "16.2.15", "reef": "18.2.7", "tentacle": "20.2.4"}
#: what a capture that does not say its release is taken to be
NEWEST = MODELLED[-1]
#: every release name pgtools accepts, oldest first (releases outside :data:`MODELLED` get documented values
#: that were not checked against binaries: see :mod:`pgtools.mgr.options`)
KNOWN = ("hammer", "jewel", "kraken", "luminous", "mimic", "nautilus", "octopus", "pacific", "quincy", "reef",
         "squid", "tentacle")

_TAG = {r: "v" + v for r, v in VERSIONS.items()}
#: Pacific predates the YAML option files (Quincy moved the option table to ``src/common/options/*.yaml.in``)
_PACIFIC_OPTIONS = "src/common/options.cc"
_AUTOSCALER = "src/pybind/mgr/pg_autoscaler/module.py"


@dataclass(frozen=True)
class Default:
    """One compiled-in default of one release.

    Attributes
    ----------
    name : str
        Ceph's name for the option in that release (``mgr_max_pg_creating`` in Tentacle for what earlier
        releases call ``mon_osd_max_creating_pgs``).
    value : int or float
    file : str
        The Ceph source file that defines the default.
    tag : str
        The release tag (``v18.2.7``).
    checked : str
        ``"ceph-conf"`` (checked against that release's ``ceph-conf -D`` by the oracle test) or
        ``"module source"`` (an mgr module option: read from the module's source of that release).
    """

    name: str
    value: Any
    file: str
    tag: str
    checked: str = "ceph-conf"

    @property
    def provenance(self) -> str:
        return f"{self.file} @ {self.tag}"


def _conf(release: str, values: dict[str, tuple[Any, str]]) -> dict[str, Default]:
    return {k: Default(RENAMED.get(k, {}).get(release, k), v, f if release != "pacific" else _PACIFIC_OPTIONS,
                       _TAG[release]) for k, (v, f) in values.items()}


#: pgtools option -> {release from which Ceph calls it differently: that name}
RENAMED: dict[str, dict[str, str]] = {"mon_osd_max_creating_pgs": {"tentacle": "mgr_max_pg_creating"}}

_GLOBAL, _MON, _MGR = "src/common/options/global.yaml.in", "src/common/options/mon.yaml.in", \
    "src/common/options/mgr.yaml.in"


def _release_table(release: str) -> dict[str, Default]:
    creating_file = _MGR if release == "tentacle" else _MON
    out = _conf(release, {
        "mon_max_pg_per_osd": (250, _GLOBAL),
        "mon_target_pg_per_osd": (100, _MGR),
        "mon_pg_warn_min_per_osd": (0, _MGR),
        "osd_max_pg_per_osd_hard_ratio": (3.0, _GLOBAL),
        "mon_max_pool_pg_num": (65536, _MON),
        "mgr_max_pg_num_change": (128, _MGR),
        "mon_osd_max_creating_pgs": (1024, creating_file),
        "target_max_misplaced_ratio": (0.05, _GLOBAL),
        "mon_osd_nearfull_ratio": (0.85, _GLOBAL),
        "mon_osd_backfillfull_ratio": (0.90, _GLOBAL),
        "mon_osd_full_ratio": (0.95, _GLOBAL),
        "mon_osd_down_out_interval": (600, _MON),  # ``default: 10_min``
    })
    # Pacific: ``_get_pool_status(..., threshold=3.0)``, a fixed argument; Reef+: the module option
    # ``threshold`` (``Option(name='threshold', type='float', default=3.0, min=1.0)``)
    out["mgr/pg_autoscaler/threshold"] = Default("mgr/pg_autoscaler/threshold" if release != "pacific" else
                                                 "threshold (fixed argument)", 3.0, _AUTOSCALER, _TAG[release],
                                                 "module source")
    return out


#: release -> pgtools option -> :class:`Default`
DEFAULTS: dict[str, dict[str, Default]] = {r: _release_table(r) for r in MODELLED}


def order(release: str) -> int:
    """Index of ``release`` in :data:`KNOWN` (``"octopus+"`` counts as octopus); ValueError if unknown."""
    base = release.rstrip("+")
    if base not in KNOWN:
        raise ValueError(f"unknown Ceph release {release!r} (known: {', '.join(KNOWN)})")
    return KNOWN.index(base)


def ceph_name(option: str, release: str) -> str:
    """Ceph's name in ``release`` for pgtools' ``option`` (``mon_osd_max_creating_pgs`` is
    ``mgr_max_pg_creating`` from Tentacle on)."""
    names = RENAMED.get(option, {})
    name = option
    for since, new in names.items():
        if release.rstrip("+") in KNOWN and order(release) >= order(since):
            name = new
    return name


def default(option: str, release: str) -> Default | None:
    """The :class:`Default` of ``option`` in a modelled ``release`` (None for other releases)."""
    table = DEFAULTS.get(release.rstrip("+"))
    return None if table is None else table.get(option)


def defaults_frame(releases: Iterable[str] = MODELLED) -> pd.DataFrame:
    """:data:`DEFAULTS` as a table: ``option, release, version, ceph_name, value, file, tag, checked``."""
    rows = [{"option": k, "release": r, "version": VERSIONS[r], "ceph_name": d.name, "value": d.value,
             "file": d.file, "tag": d.tag, "checked": d.checked}
            for r in releases for k, d in DEFAULTS[r].items()]
    return pd.DataFrame(rows, columns=["option", "release", "version", "ceph_name", "value", "file", "tag",
                                       "checked"])


@dataclass(frozen=True)
class ReleaseChoice:
    """The release that applies to a capture, and how it was chosen.

    Attributes
    ----------
    name : str
        Release codename (``reef``).
    source : str
        ``argument`` (a ``ceph_release=`` argument or :func:`with_ceph_release`), ``capture`` (what the
        capture says: ``ceph versions``, ``ceph report`` or ``require_osd_release``) or ``assumed``.
    candidates : tuple of str
        When assumed: the modelled releases the capture could be from (all of them, or those at or after a
        lower bound such as ``octopus+`` that its formats give); else ``(name,)``.
    capture_version : str or None
        The version the capture's ``ceph versions`` / ``ceph report`` names (``"18.2.4"``), whatever was
        chosen; pgtools models the point release :data:`VERSIONS` of each release.
    """

    name: str
    source: str
    candidates: tuple[str, ...]
    capture_version: str | None = None

    @property
    def assumed(self) -> bool:
        return self.source == "assumed"

    @property
    def modelled(self) -> bool:
        return self.name in MODELLED

    @property
    def label(self) -> str:
        """``"reef 18.2.7"``, ``"quincy"``."""
        return f"{self.name} {VERSIONS[self.name]}" if self.modelled else self.name


def _check(name: str, what: str) -> str:
    base = str(name).strip().lower().rstrip("+")
    if base not in KNOWN:
        raise PgtoolsError(f"{what}: unknown Ceph release {name!r} (known: {', '.join(KNOWN)}; modelled exactly: "
                           f"{', '.join(MODELLED)})")
    return base


def choose(snap: Snapshot, ceph_release: str | None = None) -> ReleaseChoice:
    """The release whose defaults and behaviour apply to ``snap``.

    Parameters
    ----------
    snap : Snapshot
    ceph_release : str, optional
        Forces the release (``"pacific"``, ``"reef"``, ``"tentacle"``; older names are accepted with the
        defaults pgtools documents for them).

    Returns
    -------
    ReleaseChoice
        ``ceph_release`` (source ``argument``); else the snapshot's :func:`with_ceph_release` choice; else the
        release the capture names exactly (source ``capture``); else :data:`NEWEST` (source ``assumed``) —
        a capture whose formats only bound its release (``octopus+``) is assumed to be the newest too.

    Raises
    ------
    PgtoolsError
        An unknown release name.
    """
    version = capture_version(snap)
    if ceph_release is not None:
        name = _check(ceph_release, "ceph_release")
        return ReleaseChoice(name, "argument", (name,), version)
    forced = (snap.meta or {}).get("ceph_release")
    if forced:
        name = _check(forced, "ceph_release")
        return ReleaseChoice(name, "argument", (name,), version)
    rel = snap.release
    if rel and not rel.endswith("+") and rel in KNOWN:
        return ReleaseChoice(rel, "capture", (rel,), version)
    lo = order(rel) if rel and rel.rstrip("+") in KNOWN else 0
    cands = tuple(r for r in MODELLED if order(r) >= lo) or (NEWEST,)
    return ReleaseChoice(NEWEST, "assumed", cands, version)


def capture_version(snap: Snapshot) -> str | None:
    """The Ceph version number a capture names: ``ceph versions`` (its monitors'), else ``ceph report``."""
    extra = (snap.meta or {}).get("extra") or {}
    v = (extra.get("versions") or {}).get("ceph_version")
    if not v:
        rep = str((extra.get("report") or {}).get("version") or "")
        m = re.search(r"(\d+\.\d+\.\d+)", rep)
        v = m.group(1) if m else None
    return str(v) if v else None


def with_ceph_release(snap: Snapshot, ceph_release: str | None) -> Snapshot:
    """A copy of ``snap`` whose release is ``ceph_release`` for every later computation (what a command-line
    ``--ceph-release`` sets); None returns ``snap`` unchanged.

    Raises
    ------
    PgtoolsError
        An unknown release name.
    """
    if ceph_release is None:
        return snap
    return snap.replace(meta={**snap.meta, "ceph_release": _check(ceph_release, "ceph_release")})


def warn_if_assumed(choice: ReleaseChoice, what: str, differs: bool = True, stacklevel: int = 3) -> None:
    """One :class:`~pgtools.errors.PgtoolsWarning` when ``choice`` was assumed and ``differs`` (the
    releases it could be give different answers for ``what``).

    The message is the same for every caller with the same ``what``, so the CLI prints it once.
    """
    if not choice.assumed or not differs:
        return
    could = ", ".join(choice.candidates)
    warnings.warn(f"{what}: the capture does not say which Ceph release it is from (add `ceph versions`); "
                  f"assuming {choice.label}, the newest pgtools models (the capture could be {could}, which "
                  f"differ here); pass ceph_release= to choose", PgtoolsWarning, stacklevel=stacklevel)
