"""The thresholds pgtools compares against, resolved from the cluster, each with where it came from.

One resolver for every limit the checks, the what-if engine, the recommendations, the report and the
plots use, so that one capture gets one answer whatever its file format.  For each option the first
source that has a readable value wins:

1. ``argument`` — the command-line option or function argument, or a value set on the snapshot with
   :func:`with_overrides` (what ``--option NAME=VALUE`` does), which every later computation sees;
2. ``config dump`` — ``ceph config dump`` in the capture (``snap.config``);
3. ``health detail`` — a value the cluster's own health report quotes: ``TOO_MANY_PGS`` "too many
   PGs per OSD (480 > max 300)" gives ``mon_max_pg_per_osd`` 300, ``TOO_FEW_PGS`` "(… < min 30)"
   gives ``mon_pg_warn_min_per_osd`` 30 (``snap.health``);
4. ``osdmap`` — the full ratios the OSDMap carries (``full_ratio``, ``backfillfull_ratio``,
   ``nearfull_ratio``);
5. ``<release> default`` — Ceph's default for the release :func:`pgtools.mgr.releases.choose` picks: an
   argument, else the capture's own release, else the newest pgtools models (assumed, with a warning when
   the releases it could be have different defaults).  The defaults of Pacific 16.2.15, Reef 18.2.7 and
   Tentacle 20.2.4 are :data:`pgtools.mgr.releases.DEFAULTS` (each with its source file and tag, checked
   against each release's ``ceph-conf``); older releases use the documented values below.

An option Ceph renamed is looked up in the config dump under the chosen release's name
(``mgr_max_pg_creating`` for Tentacle's ``mon_osd_max_creating_pgs``); an option the release does not
have (the autoscaler's ``threshold`` module option before Reef) ignores the config dump, with a warning.

The full ratios are the exception to that order: Ceph copies ``mon_osd_*_ratio`` into the OSDMap only
when the cluster is created and enforces the OSDMap's values from then on (``ceph osd
set-full-ratio``), so for them the OSDMap comes before the config dump (docs/ceph_algorithms.md §11.4).

Sources that disagree give one :class:`~pgtools.errors.PgtoolsWarning` naming both values and sources;
a value that cannot be read (``mon_max_pg_per_osd = lots``) gives a warning naming the value used
instead.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import PgtoolsError, PgtoolsWarning
from ..model import Snapshot
from . import releases

__all__ = ["Setting", "OPTIONS", "ALIASES", "MON_MAX_PG_PER_OSD", "resolve", "settings", "settings_frame", "full_ratios",
           "with_overrides", "release_base", "format_value"]

#: ``mon_max_pg_per_osd`` default per release (ceph_algorithms.md §11.2; Pacific, Reef and Tentacle checked
#: against their ``ceph-conf``: :data:`pgtools.mgr.releases.DEFAULTS`).  Jewel and older used
#: ``mon_pg_warn_max_per_osd`` = 300 for the same check.
MON_MAX_PG_PER_OSD = {
    "hammer": 300, "jewel": 300, "kraken": 300,
    "luminous": 250,   # 200 in 12.2.0–12.2.8, 250 from 12.2.9
    "mimic": 250,      # 13.2.2+
    "nautilus": 250, "octopus": 250, "pacific": 250, "quincy": 250, "reef": 250,
    "squid": 250, "tentacle": 250,
}
_OLD = ("hammer", "jewel", "kraken", "luminous", "mimic")


@dataclass(frozen=True)
class _Option:
    kind: type  # int or float
    default: Any  # a value, or a callable(release) -> value
    osdmap_key: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    since: str | None = None  # the first release that has the option (None: every release pgtools knows)

    def default_for(self, release: str) -> Any:
        """The documented default (for releases outside :data:`pgtools.mgr.releases.MODELLED`)."""
        return self.default(release) if callable(self.default) else self.default

    def exists_in(self, release: str) -> bool:
        return self.since is None or releases.order(release) >= releases.order(self.since)


#: Every option the resolver knows: type, default (per release), the OSDMap key carrying it, bounds.
OPTIONS: dict[str, _Option] = {
    "mon_max_pg_per_osd": _Option(int, lambda r: MON_MAX_PG_PER_OSD.get(r, 250), minimum=1,
                                  help="TOO_MANY_PGS above this average; pool creation / pg_num refusal"),
    "mon_target_pg_per_osd": _Option(int, 100, minimum=1, help="the autoscaler's PG target per OSD"),
    "mon_pg_warn_min_per_osd": _Option(int, lambda r: 30 if r in _OLD else 0, minimum=0,
                                       help="TOO_FEW_PGS below this average (0: off)"),
    "osd_max_pg_per_osd_hard_ratio": _Option(float, lambda r: 2.0 if r == "luminous" else 3.0, minimum=1.0,
                                             help="an OSD refuses new PGs above mon_max_pg_per_osd × this"),
    "mon_max_pool_pg_num": _Option(int, 65536, minimum=1, help="largest pg_num the mon accepts"),
    "mgr_max_pg_num_change": _Option(int, 128, minimum=1,
                                     help="the mgr grows pg_num at most this far ahead of pgp_num"),
    "mon_osd_max_creating_pgs": _Option(int, 1024, minimum=0, help="the mgr's budget of PGs creating at once"),
    "target_max_misplaced_ratio": _Option(float, 0.05, minimum=0.0, maximum=1.0,
                                          help="the mgr's misplaced budget for pgp_num steps"),
    "mon_osd_nearfull_ratio": _Option(float, 0.85, "nearfull_ratio", 0.0, 1.0, help="OSD_NEARFULL"),
    "mon_osd_backfillfull_ratio": _Option(float, 0.90, "backfillfull_ratio", 0.0, 1.0, help="OSD_BACKFILLFULL"),
    "mon_osd_full_ratio": _Option(float, 0.95, "full_ratio", 0.0, 1.0, help="OSD_FULL; MAX AVAIL"),
    "mon_osd_down_out_interval": _Option(int, 600, minimum=0,
                                         help="seconds until a down OSD is out and recovery starts"),
    "mgr/pg_autoscaler/threshold": _Option(float, 3.0, minimum=1.0, since="reef",
                                           help="autoscaler acts past this factor (Pacific: fixed 3.0)"),
}
#: Ceph's later names for options of :data:`OPTIONS` (resolve accepts either)
ALIASES = {new: old for old, names in releases.RENAMED.items() for new in names.values()}

_HEALTH_QUOTES = {
    # check code -> (option, pattern); the value is the pattern's group 1
    "TOO_MANY_PGS": ("mon_max_pg_per_osd", re.compile(r"too many PGs per OSD \(\d+ > max (\S+?)\)")),
    "TOO_FEW_PGS": ("mon_pg_warn_min_per_osd", re.compile(r"too few PGs per OSD \(\d+ < min (\S+?)\)")),
}


@dataclass(frozen=True)
class Setting:
    """One resolved threshold.

    Attributes
    ----------
    name : str
        Ceph's option name (``mon_max_pg_per_osd``, ``mon_osd_full_ratio``, ...).
    value : int or float
    source : str
        ``argument``, ``config dump``, ``health detail``, ``osdmap`` or ``<release> default``.
    """

    name: str
    value: Any
    source: str

    def __str__(self) -> str:
        return f"{self.name} {format_value(self.value)} ({self.source})"


def format_value(v: Any) -> str:
    """A threshold as Ceph prints it: ``300``, ``0.95`` (float32 OSDMap ratios shown to 6 digits)."""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def release_base(release: str | None) -> str:
    """``"octopus+"`` → ``"octopus"``; None → the newest release pgtools models (``"tentacle"``)."""
    return (release or releases.NEWEST).rstrip("+")


def _read(opt: _Option, raw: Any) -> Any:
    """``raw`` as the option's type, or None when it is not a readable value within Ceph's bounds."""
    if isinstance(raw, bool):
        return None
    try:
        v = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    if opt.kind is int:
        if v != int(v):
            return None
        v = int(v)
    if (opt.minimum is not None and v < opt.minimum) or (opt.maximum is not None and v > opt.maximum):
        return None
    return v


def _health_quotes(health: Mapping[str, Any] | None) -> dict[str, str]:
    """Option -> the raw value quoted by the capture's health report."""
    out: dict[str, str] = {}
    if not health:
        return out
    texts: list[tuple[str, str]] = []
    for code, c in (health.get("checks") or {}).items():
        if isinstance(c, Mapping):
            texts.append((code, str(c.get("summary", ""))))
    for s in health.get("summary") or []:  # Jewel: no codes, only summaries
        text = str(s.get("summary", "")) if isinstance(s, Mapping) else str(s)
        texts.extend((code, text) for code in _HEALTH_QUOTES)
    for code, text in texts:
        if code in _HEALTH_QUOTES:
            name, pat = _HEALTH_QUOTES[code]
            m = pat.search(text)
            if m and name not in out:
                out[name] = m.group(1)
    return out


def _same(a: Any, b: Any) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)


def _canonical(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in OPTIONS:
        raise KeyError(f"unknown option {name!r} (known: {', '.join(OPTIONS)})")
    return name


def _default(name: str, opt: _Option, rel: str) -> Any:
    d = releases.default(name, rel)
    return d.value if d is not None else opt.default_for(rel)


def _candidates(snap: Snapshot, name: str, opt: _Option, quotes: dict[str, str],
                choice: releases.ReleaseChoice, warn: bool) -> list[tuple[str, Any]]:
    """(source, raw value) in the order they are tried (after an argument)."""
    out: list[tuple[str, Any]] = []
    cfg = snap.config or {}
    rel = choice.name
    if opt.exists_in(rel):
        mine = releases.ceph_name(name, rel)
        # an assumed release may be wrong: the name the config dump uses then tells which it is
        names = [mine] + ([releases.ceph_name(name, r) for r in choice.candidates] if choice.assumed else [])
        for n in dict.fromkeys(names):
            if n in cfg:
                out.append(("config dump", cfg[n]))
                break
        else:
            other = {name, *(releases.ceph_name(name, r) for r in releases.KNOWN)} - {mine}
            for n in sorted(other & set(cfg)):
                if warn:
                    warnings.warn(f"{n}: config dump sets {cfg[n]!r}, but Ceph {choice.label} reads {mine} "
                                  f"instead; not used", PgtoolsWarning, stacklevel=5)
    elif name in cfg and warn:
        warnings.warn(f"{name}: config dump sets {cfg[name]!r}, but Ceph {choice.label} has no such option "
                      f"(from {opt.since} on); using {format_value(_default(name, opt, rel))}", PgtoolsWarning,
                      stacklevel=5)
    if name in quotes:
        out.append(("health detail", quotes[name]))
    value = getattr(snap.osdmap, opt.osdmap_key) if opt.osdmap_key else None
    if value is not None:
        # Ceph enforces the OSDMap's ratios; the mon_osd_*_ratio options only seed a new cluster
        out.insert(0, ("osdmap", value))
    return out


def _resolve(snap: Snapshot, name: str, given: Any, release: str | None, quotes: dict[str, str],
             warn: bool) -> Setting:
    name = _canonical(name)
    opt = OPTIONS[name]
    choice = releases.choose(snap, release)
    rel = choice.name
    shown = releases.ceph_name(name, rel)
    default = Setting(shown, _default(name, opt, rel), f"{rel} default")
    found: list[Setting] = []
    unreadable: list[tuple[str, Any]] = []
    for source, raw in _candidates(snap, name, opt, quotes, choice, warn):
        v = _read(opt, raw)
        if v is None:
            unreadable.append((source, raw))
        else:
            found.append(Setting(shown, v, source))
    if given is None:
        overrides = snap.meta.get("option_overrides") or {}
        given = overrides.get(name, overrides.get(shown))
    if given is not None:
        v = _read(opt, given)
        if v is None:
            bounds = "".join([f", at least {format_value(opt.minimum)}" if opt.minimum is not None else "",
                              f", at most {format_value(opt.maximum)}" if opt.maximum is not None else ""])
            raise PgtoolsError(f"{name}: {given!r} is not a valid value (a{'n integer' if opt.kind is int else ' number'}"
                               f"{bounds})")
        chosen = Setting(shown, v, "argument")
    else:
        chosen = found[0] if found else default
    if warn and given is None:
        if chosen is default:
            values = {format_value(_default(name, opt, r)) for r in choice.candidates}
            releases.warn_if_assumed(choice, f"{name} default", differs=len(values) > 1, stacklevel=5)
        for source, raw in unreadable:
            warnings.warn(f"{name}: {source} has {raw!r}, not a usable value; using {format_value(chosen.value)} "
                          f"({chosen.source}) instead", PgtoolsWarning, stacklevel=4)
        for other in found[1:]:
            if not _same(other.value, chosen.value):
                warnings.warn(f"{name}: {chosen.source} says {format_value(chosen.value)} but {other.source} "
                              f"says {format_value(other.value)}; using {format_value(chosen.value)} "
                              f"({chosen.source})", PgtoolsWarning, stacklevel=4)
    return chosen


def resolve(snap: Snapshot, name: str, given: Any = None, *, release: str | None = None,
            warn: bool = True) -> Setting:
    """One threshold of a capture, with its source (see the module documentation for the order).

    Parameters
    ----------
    snap : Snapshot
    name : str
        An option of :data:`OPTIONS`.
    given : int or float, optional
        A value from the command line or a function argument: it wins (source ``argument``).
    release : str, optional
        Ceph release whose defaults apply (:func:`pgtools.mgr.releases.choose`: default the snapshot's
        :func:`~pgtools.mgr.releases.with_ceph_release` choice, else the capture's release, else the newest
        modelled, assumed).
    warn : bool
        Emit a :class:`~pgtools.errors.PgtoolsWarning` when sources disagree or a value is unreadable.

    Returns
    -------
    Setting

    Raises
    ------
    KeyError
        Unknown option name.
    PgtoolsError
        ``given`` is not a valid value for the option.
    """
    return _resolve(snap, name, given, release, _health_quotes(snap.health), warn)


def settings(snap: Snapshot, names: Iterable[str] | None = None, *, release: str | None = None,
             overrides: Mapping[str, Any] | None = None, warn: bool = True) -> dict[str, Setting]:
    """Several thresholds at once (default: every option of :data:`OPTIONS`), name → :class:`Setting`.

    ``overrides`` maps option names to given values (None entries are ignored).
    """
    overrides = overrides or {}
    quotes = _health_quotes(snap.health)
    return {n: _resolve(snap, n, overrides.get(n), release, quotes, warn) for n in (names or OPTIONS)}


def settings_frame(snap: Snapshot, names: Iterable[str] | None = None, *, release: str | None = None,
                   overrides: Mapping[str, Any] | None = None, warn: bool = True) -> pd.DataFrame:
    """:func:`settings` as a tidy table: ``name, value, source, default, meaning`` (``name`` is Ceph's name
    in the chosen release, ``default`` that release's default)."""
    rel = releases.choose(snap, release).name
    res = settings(snap, names, release=release, overrides=overrides, warn=warn)
    rows = []
    for key, s in res.items():
        key = _canonical(key)
        rows.append({"name": s.name, "value": format_value(s.value), "source": s.source,
                     "default": format_value(_default(key, OPTIONS[key], rel)), "meaning": OPTIONS[key].help})
    return pd.DataFrame(rows, columns=["name", "value", "source", "default", "meaning"])


def full_ratios(snap: Snapshot, *, release: str | None = None, warn: bool = True) -> dict[str, Setting]:
    """The three full ratios keyed as the OSDMap names them: ``nearfull_ratio``, ``backfillfull_ratio``,
    ``full_ratio`` → :class:`Setting` (whose ``name`` is the option, ``mon_osd_full_ratio`` ...)."""
    res = settings(snap, ("mon_osd_nearfull_ratio", "mon_osd_backfillfull_ratio", "mon_osd_full_ratio"),
                   release=release, warn=warn)
    return {OPTIONS[n].osdmap_key: s for n, s in res.items()}


def with_overrides(snap: Snapshot, values: Mapping[str, Any]) -> Snapshot:
    """A copy of ``snap`` whose thresholds ``values`` (name → value) win over every source (``argument``).

    Raises
    ------
    KeyError
        Unknown option name.
    PgtoolsError
        A value that is not valid for its option.
    """
    have = dict(snap.meta.get("option_overrides") or {})
    for name, v in values.items():
        name = ALIASES.get(name, name)
        opt = OPTIONS.get(name)
        if opt is None:
            raise PgtoolsError(f"unknown option {name!r} (known: {', '.join(OPTIONS)})")
        if _read(opt, v) is None:
            raise PgtoolsError(f"{name}: {v!r} is not a valid value")
        have[name] = _read(opt, v)
    return snap.replace(meta={**snap.meta, "option_overrides": have})
