"""``pgtools risk``: what K simultaneous failures at a CRUSH level do to a capture's PGs (:mod:`pgtools.risk`)."""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Annotated, Optional

import typer

from ..errors import PgtoolsError
from .app import DumpArg, json_number, load_dumps, write_out


class RiskFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise PgtoolsError(f"--failures {text}: give positive integers separated by commas (e.g. 1,2,3)") from None
    if not ks or ks[0] < 1:
        raise PgtoolsError(f"--failures {text}: give positive integers separated by commas (e.g. 1,2,3)")
    return ks


def _prob(p: float, lo: float, hi: float) -> str:
    text = "0" if p == 0 else "1" if p == 1 else f"{p:.3g}"
    return text if math.isnan(lo) else f"{text} [{lo:.3g}, {hi:.3g}]"


def _json(df, level: str, annual=None) -> str:
    out = []
    worst = df.attrs.get("worst_sets", {})
    for r in df.to_dict("records"):
        rec = {
            "level": level, "failures": int(r["failures"]), "pool_id": int(r["pool_id"]), "pool": r["pool"],
            "units": int(r["units"]), "n_sets": int(r["n_sets"]), "pgs": int(r["pgs"]),
            "p_any_lost": float(r["p_any_lost"]), "expected_pgs_lost": float(r["expected_pgs_lost"]),
            "max_pgs_lost": int(r["max_pgs_lost"]), "expected_bytes_lost": float(r["expected_bytes_lost"]),
            "p_any_inactive": float(r["p_any_inactive"]), "expected_pgs_inactive": float(r["expected_pgs_inactive"]),
            "max_pgs_inactive": int(r["max_pgs_inactive"]), "method": r["method"],
            "interval": None if r["method"] == "exact" else [json_number(r["ci_low"]), json_number(r["ci_high"])],
            "inactive_method": r["inactive_method"],
            "inactive_interval": None if r["inactive_method"] == "exact" else [json_number(r["inactive_ci_low"]),
                                                                                json_number(r["inactive_ci_high"])],
            "max_method": r["max_method"], "inactive_max_method": r["inactive_max_method"],
            "trials": int(r["trials"]),
        }
        if r["pool_id"] == -1:
            rec["worst_sets"] = worst.get(int(r["failures"]), [])
        out.append(rec)
    doc = {"level": level, "pools": df.attrs["pools"].to_dict("records"), "warnings": df.attrs.get("warnings", []),
           "results": out}
    if annual is not None:
        doc["annual"] = _records(annual)
        doc["annual_combinations"] = _records(annual.attrs.get("combinations"))
    return json.dumps(doc, indent=1, default=str) + "\n"


def _records(frame) -> list[dict]:
    """Rows as dicts, inf and NaN as null (JSON has neither)."""
    if frame is None:
        return []
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def _table(df, level: str, annual=None) -> str:
    import pandas as pd

    from ..text.snapshot import frame_text
    from ..units import human_bytes

    rows = []
    for r in df.to_dict("records"):
        rows.append({
            "K": r["failures"], "pool": r["pool"],
            "P(any lost)": _prob(r["p_any_lost"], r["ci_low"], r["ci_high"]),
            "E[PGs lost]": f"{r['expected_pgs_lost']:.3g}", "max lost": r["max_pgs_lost"],
            "E[bytes lost]": human_bytes(r["expected_bytes_lost"]),
            "P(any inactive)": _prob(r["p_any_inactive"], r["inactive_ci_low"], r["inactive_ci_high"]),
            "E[PGs inactive]": f"{r['expected_pgs_inactive']:.3g}", "max inactive": r["max_pgs_inactive"],
            "method": "/".join(dict.fromkeys([r["method"], r["inactive_method"], r["max_method"],
                                              r["inactive_max_method"]])),
        })
    units = int(df["units"].iloc[0]) if len(df) else 0
    ks = ", ".join(str(int(k)) for k in df["failures"].unique())
    lines = [f"K = {ks} of the {units} {level}s holding data fail at once, each K-set equally likely; "
             "[interval] = sampled (95 % Wilson)\n", frame_text(pd.DataFrame(rows))]
    for k, sets in df.attrs.get("worst_sets", {}).items():
        if sets:
            lines.append(f"\nworst {k}-{level} failures ({sets[0]['method']}):\n")
            for w in sets:
                lines.append(f"  {'+'.join(w['units'])}: {w['pgs_lost']} PGs lost "
                             f"({human_bytes(w['bytes_lost'])}), {w['pgs_inactive']} inactive\n")
    if annual is not None:
        a = annual.iloc[-1]
        windows = ", ".join(f"{w.replace('=', ' ')} h" for w in a["windows_hours"].split(","))
        lines.append(f"\nover a year ({a['level']} failing, AFR {a['rates'].replace(',', ', ')}; recovery windows "
                     f"{windows} on average; independent failures):\n")
        tab = pd.DataFrame({"pool": annual["pool"], "minimal lethal sets": [
            f"{n} sets of {s}" if n else "none" for n, s in zip(annual["lethal_sets"], annual["lethal_size"], strict=True)],
            "P(loss in a year)": [f"{p:.3g}" for p in annual["p_loss_year"]],
            "MTTDL (years)": [f"{m:.3g}" for m in annual["mttdl_years"]]})
        lines.append(frame_text(tab))
        comb = annual.attrs.get("combinations")
        if comb is not None and "+" in str(a["level"]):
            mine = comb[comb["pool_id"] == -1]
            if len(mine):
                lines.append("\nloss rate by kind of minimal lethal set (all pools): " + "; ".join(
                    f"{r['combination']}: {100 * r['share']:.3g} % ({r['lethal_sets']} sets)" for r in mine.to_dict("records"))
                    + "\n")
    return "".join(lines)


def risk(
    capture: DumpArg,
    level: Annotated[str, typer.Option(help="Failing unit: osd, host, rack or any CRUSH bucket type.")] = "osd",
    failures: Annotated[str, typer.Option(help="Numbers of simultaneous failures K, comma-separated.")] = "1,2,3",
    pool: Annotated[Optional[list[str]], typer.Option("--pool", help="Pool (name or id) to assess; repeat; default all.")] = None,  # noqa: UP045
    trials: Annotated[int, typer.Option(min=1, help="Monte Carlo draws where exact counting does not reach.")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Seed of the Monte Carlo draws.")] = 0,
    worst: Annotated[int, typer.Option(min=0, help="How many worst K-sets to list.")] = 5,
    afr: Annotated[Optional[str], typer.Option(help="Annualized failure rate for the annual figures: one number for the --level unit (default 0.015), or LEVEL=RATE pairs of levels failing together, e.g. osd=0.015,host=0.01 (disks at 1.5 %/year, hosts as a whole at 1 %).")] = None,  # noqa: UP045
    recovery_mbps: Annotated[float, typer.Option("--recovery-mbps", help="MB/s at which one failed unit's data is rebuilt.")] = 100.0,
    window_hours: Annotated[Optional[str], typer.Option("--window-hours", help="Fixed recovery window (hours) instead of bytes / bandwidth: one number for every level, or LEVEL=HOURS pairs (rack=48).")] = None,  # noqa: UP045
    fmt: Annotated[RiskFormat, typer.Option("--format", help="Output format.")] = RiskFormat.table,
) -> None:
    """Durability on the capture's real acting sets: K simultaneous failures of OSDs, hosts, racks ...

    For each K, over the K-subsets of the units holding data of any pool (all equally likely; --pool only
    chooses the pools counted and shown, not the units that fail): the probability that some PG is lost (no
    copy / fewer than k shards left) or inactive (fewer than min_size), the expected and largest number of
    PGs (and bytes) lost, per pool and overall, and the worst K-sets.  Exact by enumeration or counting;
    sampled (with a 95 % interval) only where counting does not reach, and then marked "sampled".

    Over a year: the probability of losing data and the MTTDL, units failing independently at --afr per year
    and each staying down for its recovery window (mon_osd_down_out_interval, then the bytes it held over
    --recovery-mbps; or --window-hours), summed over the map's minimal lethal sets (see pgtools.risk.annual).
    --afr osd=0.015,host=0.01 combines levels: disks fail at their rate and hosts (racks ...) as a unit at
    theirs, a host taking its OSDs down; the minimal lethal sets then mix units, and the rate is split by
    kind.  A unit whose failure leaves a whole mon_osd_down_out_subtree_limit subtree (rack) down is never
    marked out by Ceph: give its level a fixed window (--window-hours rack=48).  Without --afr and
    --window-hours the annual figures are an extra: when they cannot be sized, a warning says why and the
    K-failure table is still printed; asked for with either flag, the same problem is an error (exit 2).

    Example:  pgtools risk sample_dumps/mixed --level host --failures 1,2
    Example:  pgtools risk sample_dumps/mixed --afr osd=0.015,host=0.01
    """
    import warnings

    from ..errors import PgtoolsWarning
    from ..risk import annual_risk, build_copysets, failure_risk
    from ..risk.annual import DEFAULT_AFR, lethal_threshold, parse_levels
    from ..risk.copysets import assessed_pools, failure_universe, pg_sets

    ks = _ks(failures)
    rates = parse_levels(afr, "--afr", level) if afr is not None else {level: DEFAULT_AFR}
    windows = parse_levels(window_hours, "--window-hours", level) if window_hours is not None else None
    if windows is not None and "=" not in window_hours:
        windows = float(window_hours)
    snap = load_dumps(capture)
    pools = [int(p) if p.isdigit() else p for p in pool] if pool else None
    info, _ = assessed_pools(snap, pools)
    sets = pg_sets(snap, info)
    universe = failure_universe(snap, pools, sets)  # the units of every pool, whatever --pool counts
    cs = build_copysets(snap, level, pools=pools, jmax=max(ks[-1], lethal_threshold(info)), sets=sets,
                        universe=universe)
    df = failure_risk(cs, failures=ks, trials=trials, seed=seed, worst=worst)
    annual = None
    if afr is not None or window_hours is not None or cs.unit_bytes.sum() > 0:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PgtoolsWarning)  # the copysets said them already
                annual = annual_risk(snap, level=level, afr=rates, recovery_mbps=recovery_mbps,
                                     window_hours=windows, pools=pools, sets=sets, universe=universe)
        except PgtoolsError as exc:
            if afr is not None or window_hours is not None:
                raise
            warnings.warn(f"no annual figures: {exc}", PgtoolsWarning, stacklevel=2)
    if fmt is RiskFormat.json:
        write_out(_json(df, level, annual))
    elif fmt is RiskFormat.csv:
        write_out(df.to_csv(index=False))
    else:
        write_out(_table(df, level, annual))
