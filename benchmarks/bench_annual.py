"""Annual figures at scale, correlated failures: 10,000 OSDs (500 hosts of 20, 20 racks), 1,048,576 PGs.

bench_risk's map (bench_placement's ``osds10k_pgs1m``; no PG bytes, so fixed 24 h windows).  The placement is
computed once and not timed here; each case times :func:`pgtools.risk.annual_risk` on those acting sets,
wall and CPU: the copysets path for OSDs alone (build + Lethal), then the mixed-unit path for ``osd``,
``osd+host`` and ``osd+host+rack`` (the racks hold whole PGs: chooseleaf over hosts ignores racks).
"""

from __future__ import annotations

import time
import warnings

from pgtools.errors import PgtoolsWarning

CASES = [{"osd": 0.015}, {"osd": 0.015, "host": 0.01}, {"osd": 0.015, "host": 0.01, "rack": 0.005}]


def _timed(fn, *args, **kw):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return out, round(time.perf_counter() - w0, 2), round(time.process_time() - c0, 2)


def run() -> list[dict]:
    import bench_placement  # sibling module: benchmarks/ is on the path under run.py

    import pgtools
    from pgtools.risk import annual_risk, build_copysets
    from pgtools.risk.copysets import pg_sets, pool_needs

    d = bench_placement._build("osds10k_pgs1m", 10000, ["host", "straw2", "20", "rack", "straw2", "25", "root",
                                                         "straw2", "0"], 1 << 20)
    snap = pgtools.load([d / "osd_dump.json", d / "crush_dump.json"])
    info, _ = pool_needs(snap)
    sets, pw, pc = _timed(pg_sets, snap, info, "computed")
    rows = [{"case": "placement (acting sets, once)", "wall_s": pw, "cpu_s": pc}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PgtoolsWarning)

        def copysets_path():
            return annual_risk(build_copysets(snap, "osd", jmax=3, sets=sets), window_hours=24)

        df, w, c = _timed(copysets_path)
        rows.append(_row("osd (copysets path)", df, w, c))
        for rates in CASES:
            df, w, c = _timed(annual_risk, snap, afr=rates, window_hours=24, sets=sets)
            rows.append(_row("+".join(rates), df, w, c))
    return rows


def _row(case: str, df, wall: float, cpu: float) -> dict:
    r = df.iloc[-1]
    comb = df.attrs["combinations"]
    top = comb[comb["pool_id"] == -1].iloc[0]
    return {"case": case, "wall_s": wall, "cpu_s": cpu, "lethal_sets": int(r["lethal_sets"]),
            "lethal_size": int(r["lethal_size"]), "p_loss_year": float(r["p_loss_year"]),
            "mttdl_years": float(r["mttdl_years"]), "top_kind": top["combination"], "top_share": float(top["share"])}
