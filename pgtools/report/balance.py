"""The balance and durability sections of the HTML report (:mod:`pgtools.report`).

* **balance**: what the mgr's upmap balancer would do with its settings (:func:`pgtools.balance.mgr_balancer`)
  beside pgtools' count balancer, both simulated round by round (:func:`pgtools.balance.simulate_plan`): upmap
  commands, deviation from the weight-share targets before/after, PGs and bytes moved, rounds, and the per-OSD
  picture of pgtools' plan; the first commands, and the CLI line that prints them all.
* **durability**: P(some PG lost / inactive) and the expected and largest numbers of PGs lost when K units of the
  failure domain fail at once (:func:`pgtools.risk.failure_risk`, exact where countable), the worst failure sets,
  and pools whose copies share a unit of that level (:func:`pgtools.risk.domain_check`).

Both are computed on the capture; a capture too large to search in report time (``MAX_BALANCE_PGS``) gets a
note naming the command to run instead.
"""

from __future__ import annotations

import warnings

import pandas as pd

from ..balance import plan as balance_plan
from ..balance import simulate_plan
from ..errors import PgtoolsError, PgtoolsWarning
from ..model import Snapshot
from ..plotting import balance as balance_plot
from ..risk import domain_check, failure_risk, worst_failures
from ..text.snapshot import human_bytes
from .html import escape as _e
from .html import figure as _figure
from .html import fmt as _fmt
from .html import table as _table

__all__ = ["balance_section", "durability_section", "MAX_BALANCE_PGS"]

#: Above this many PGs the report does not run the balancers (minutes at 1,000 OSDs): it names the command.
MAX_BALANCE_PGS = 100_000
#: Commands listed in the report (the CLI prints them all).
MAX_COMMANDS = 20


def _too_big(snap: Snapshot, what: str, command: str) -> str | None:
    n = len(snap.pgs)
    if n > MAX_BALANCE_PGS:
        return (f'<p class="note">{_e(what)} not computed for the report: {n:,} PGs (the report runs it up to '
                f"{MAX_BALANCE_PGS:,}). Run <code>{_e(command)}</code>.</p>")
    return None


def balance_section(snap: Snapshot) -> str:
    """The mgr's balancer and pgtools' count balancer on ``snap``, side by side."""
    big = _too_big(snap, "The balancer", "pgtools balance CAPTURE --mode count")
    if big:
        return big
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PgtoolsWarning)
        plans = {"mgr's balancer (upmap mode, its settings)": balance_plan(snap, "count", like_mgr=True),
                 "pgtools count balancer (±1 per pool and summed)": balance_plan(snap, "count")}
    notes = list(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, PgtoolsWarning)))
    rows, results = [], {}
    for name, p in plans.items():
        if not p.commands:
            rows.append({"plan": name, "commands": 0, "max deviation": "nothing to do"})
            continue
        w = simulate_plan(snap, p)
        results[name] = w
        sm = w.summary
        rows.append({"plan": name, "commands": sm["items"],
                     "max deviation": f"{_fmt(sm['max_deviation_before'])} → {_fmt(sm['max_deviation_after'])}",
                     "PGs moved": sm["pgs_moved"], "data moved": human_bytes(sm["bytes_moved"]),
                     "rounds": sm["rounds"], "peak PGs on an OSD": sm["peak_pgs_per_osd"]})
    parts = ["<p>Upmap plans computed on this capture and simulated exactly, round by round under "
             "<code>target_max_misplaced_ratio</code> (nothing is run). The deviation is |PG copies − the OSD's "
             "weight-share target|, summed over pools, on the worst OSD.</p>",
             _table(pd.DataFrame(rows))]
    parts += [f'<p class="note">{_e(n)}</p>' for n in notes]
    own_name = next(iter(reversed(plans)))
    own = results.get(own_name)
    if own is not None:
        parts.append(_figure(lambda ax: balance_plot(own, ax=ax), (10, 3.6),
                             "pgtools' plan: each OSD's deviation from its target before (marks) and after (bars), "
                             "grouped by device class and host"))
        cmds = plans[own_name].commands
        more = f" … and {len(cmds) - MAX_COMMANDS} more" if len(cmds) > MAX_COMMANDS else ""
        parts.append("<p>pgtools' commands (all of them, in rounds: <code>pgtools balance CAPTURE --mode count</code>; "
                     "only the commands: <code>--format commands</code>):</p>"
                     f"<pre>{_e(chr(10).join(cmds[:MAX_COMMANDS]))}{_e(more)}</pre>")
    return "\n".join(parts)


def _level(snap: Snapshot) -> str:
    """The failure domain the report assesses: host when the CRUSH map has hosts, else osd."""
    types = set(snap.crush.types.values()) if snap.crush is not None else set()
    return "host" if "host" in types else "osd"


def durability_section(snap: Snapshot) -> str:
    """Data loss and inactivity when 1 or 2 units of the failure domain fail at once."""
    big = _too_big(snap, "The durability figures", "pgtools risk CAPTURE --level host")
    if big:
        return big
    level = _level(snap)
    risk = failure_risk(snap, level=level, failures=(1, 2), worst=3)
    cols = {"failures": f"{level}s failed", "pool": "pool", "p_any_lost": "P(some PG lost)",
            "expected_pgs_lost": "E[PGs lost]", "max_pgs_lost": "max lost", "p_any_inactive": "P(some PG inactive)",
            "expected_pgs_inactive": "E[PGs inactive]", "method": "method"}
    shown = risk[list(cols)].rename(columns=cols)
    parts = [f"<p>Every way {_e(level)}s can fail at once, equally likely, counted on the PGs' real acting sets "
             "(<i>lost</i>: no copy left, or fewer than k shards; <i>inactive</i>: fewer than min_size, I/O "
             "blocks until recovery). <code>pgtools risk CAPTURE</code> gives more (other levels and K, bytes, "
             "loss per year).</p>",
             _table(shown)]
    worst_rows = []
    for k in sorted(set(risk["failures"])):
        w = worst_failures(snap, level, int(k), n=3)
        for r in w.itertuples():
            worst_rows.append({"failed together": r.units, "PGs lost": r.pgs_lost, "PGs inactive": r.pgs_inactive,
                               "method": r.method})
    if worst_rows:
        parts += [f"<p>The worst {_e(level)} failures:</p>", _table(pd.DataFrame(worst_rows))]
    racks = [b for b in (snap.crush.buckets.values() if snap.crush is not None else [])
             if snap.crush.types.get(b.type_id) == "rack" and "~" not in b.name]
    if racks:
        try:
            dc = domain_check(snap, "rack")
        except PgtoolsError as exc:  # some OSDs under no rack: the check does not apply
            return "\n".join([*parts, f'<p class="note">Rack separation not checked: {_e(exc)}</p>'])
        bad = dc[~dc["separated"].astype(bool)]
        if len(bad):
            parts.append(f"<p>Pools with copies of a PG in one rack (a rack failure takes them together): "
                         f"{_e(', '.join(f'{p} ({n} PGs)' for p, n in zip(bad['pool'], bad['pgs_shared_unit'], strict=True)))}."
                         "</p>")
    return "\n".join(parts)
