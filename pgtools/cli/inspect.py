"""What a capture says: ``table``, ``stats``, ``health``, ``limits``, ``verify``, ``autoscale``, ``pgcalc``."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from ..errors import PgtoolsError
from .app import (
    By,
    DumpArg,
    FrameFormat,
    OsdDfOpt,
    OsdDumpOpt,
    SetOptionOpt,
    TableFormat,
    check_release,
    load_dumps,
    with_options,
    write_err,
    write_out,
)


def table(
    dump: DumpArg,
    by: Annotated[By, typer.Option(help="Count membership of the up or acting set, or only primaries.")] = By.up,
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.text,
    osd_dump: OsdDumpOpt = None,
) -> None:
    """Print the pool × OSD table: PG copies of each pool on each OSD.

    Reads any PG dump (plain or JSON `pg dump`, `pg ls`, `pg dump pgs_brief`, `ceph report`) or a capture
    folder.  Each pool column sums to pg_num × size for a healthy pool.  PGs mapped to no OSD (state
    unknown) are credited nowhere and counted on stderr.

    Example:  pgtools table sample_dumps/seedlike_max300 --format csv > table.csv
    """
    from ..analysis import pg_table, unmapped_pgs
    from ..text import snapshot as _format

    snap = load_dumps(dump, [osd_dump])
    tab = pg_table(snap, by=by.value)
    unmapped = len(unmapped_pgs(snap, by=by.value))
    if fmt is TableFormat.csv:
        write_out(_format.table_csv(tab))
    elif fmt is TableFormat.markdown:
        write_out(_format.table_markdown(tab, by.value))
    elif fmt is TableFormat.json:
        write_out(_format.table_json(tab, by.value, unmapped))
    else:
        write_out(_format.table_text(tab, by.value))
    if unmapped:
        write_err(f"note: {unmapped} PGs map to no OSD ({by.value} empty, e.g. state unknown) and are not counted")


def stats(
    dump: DumpArg,
    osd_dump: OsdDumpOpt = None,
    osd_df: OsdDfOpt = None,
    by: Annotated[By, typer.Option(help="Which placement to count.")] = By.up,
    per_pool: Annotated[bool, typer.Option("--per-pool", help="One row per pool and OSD.")] = False,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
) -> None:
    """Weight-aware imbalance: PGs per OSD against each OSD's weight-share target.

    target = Σ over pools of the pool's copies × the OSD's share of the pool's CRUSH root weight
    (crush weight × reweight, in OSDs only).  The summary compares the spread with random placement,
    sqrt(mean·(1−1/N)), which osdmaptool prints as "expected".
    """
    from ..analysis import imbalance, imbalance_summary
    from ..text import snapshot as _format

    snap = load_dumps(dump, [osd_dump, osd_df])
    im = imbalance(snap, by=by.value, per_pool=per_pool)
    summ = imbalance_summary(snap, by=by.value)
    if fmt is FrameFormat.csv:
        write_out(im.to_csv(index=False))
    elif fmt is FrameFormat.json:
        import json

        doc = {"by": by.value, "osds": im.to_dict(orient="records"),
               "summary": {k: (v.item() if hasattr(v, "item") else v) for k, v in summ.items()}}
        write_out(json.dumps(doc, indent=1, default=str) + "\n")
    else:
        write_out(_format.frame_text(im))
        if summ.get("n_osds", 0):
            s = summ
            write_out(f"\n{s['n_osds']} OSDs, {s['total']} PG copies ({by.value}): mean {s['mean']:.2f}, "
                 f"stddev {s['stddev']:.2f}, expected for random placement {s['expected_stddev']:.2f} "
                 f"(ratio {s['stddev_ratio']:.2f})\n"
                 f"min osd.{s['min_osd']} {s['min']}, max osd.{s['max_osd']} {s['max']}; "
                 f"vs weight-share targets: stddev {s['weighted_stddev']:.2f}, expected "
                 f"{s['expected_weighted_stddev']:.2f} (ratio {s['weighted_ratio']:.2f}); "
                 f"deviation from target {s['max_under_target_pct']:+.1f}% .. {s['max_over_target_pct']:+.1f}%\n")


def health(
    dump: DumpArg,
    osd_dump: OsdDumpOpt = None,
    release: Annotated[Optional[str], typer.Option(callback=check_release, help="Release whose defaults apply (e.g. pacific).")] = None,  # noqa: UP045
    mon_max_pg_per_osd: Annotated[Optional[int], typer.Option(help="Override mon_max_pg_per_osd.")] = None,  # noqa: UP045
    mon_pg_warn_min_per_osd: Annotated[Optional[int], typer.Option(help="Override mon_pg_warn_min_per_osd.")] = None,  # noqa: UP045
    hard_ratio: Annotated[Optional[float], typer.Option(help="Override osd_max_pg_per_osd_hard_ratio.")] = None,  # noqa: UP045
    numbers: Annotated[bool, typer.Option("--numbers", help="List every number each finding used.")] = False,
    option: SetOptionOpt = None,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
) -> None:
    """Ceph's PG-count health checks (TOO_MANY_PGS, TOO_FEW_PGS) and the per-OSD hard limit.

    Limits: the options, else the capture's `config dump`, else the value its `health detail` quotes,
    else the release defaults; the source is printed beside each value (see `pgtools limits`).  Each
    finding lists the numbers that produced it.
    """
    from ..analysis import health as health_fn
    from ..text import snapshot as _format

    snap = with_options(load_dumps(dump, [osd_dump]), option)
    findings = health_fn(snap, release=release, mon_max_pg_per_osd=mon_max_pg_per_osd,
                         mon_pg_warn_min_per_osd=mon_pg_warn_min_per_osd,
                         osd_max_pg_per_osd_hard_ratio=hard_ratio)
    if fmt is FrameFormat.json:
        import dataclasses
        import json

        write_out(json.dumps([dataclasses.asdict(f) for f in findings], indent=1, default=str) + "\n")
    elif fmt is FrameFormat.csv:
        import pandas as pd

        write_out(pd.DataFrame([{"code": f.code, "severity": f.severity, "summary": f.summary, "ceph": f.ceph}
                           for f in findings], columns=["code", "severity", "summary", "ceph"])
             .to_csv(index=False))
    else:
        write_out(_format.health_text(findings, numbers=numbers))


def limits(
    dump: DumpArg,
    release: Annotated[Optional[str], typer.Option(callback=check_release, help="Release whose defaults apply (e.g. pacific).")] = None,  # noqa: UP045
    option: SetOptionOpt = None,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
) -> None:
    """Every threshold pgtools uses, its value and where it came from.

    Order: --option, the capture's `config dump`, the value its `health detail` quotes (TOO_MANY_PGS
    "480 > max 300"), the osdmap (full ratios, which the osdmap enforces and therefore come first for
    them), the release default.  Sources that disagree, or a value that cannot be read, give a warning.

    Example:  pgtools limits sample_dumps/seedlike_max300_json
    """
    from ..mgr.options import settings_frame
    from ..text import snapshot as _format

    snap = with_options(load_dumps(dump), option)
    df = settings_frame(snap, release=release)
    if fmt is FrameFormat.json:
        write_out(df.to_json(orient="records", indent=1) + "\n")
    elif fmt is FrameFormat.csv:
        write_out(df.to_csv(index=False))
    else:
        write_out(_format.frame_text(df))


def verify(
    capture: DumpArg,
    limit: Annotated[int, typer.Option(min=0, help="Show at most this many differing PGs.")] = 50,
) -> None:
    """Re-map every PG of a capture and compare with the up/acting sets the dump reports.

    Exit status 0 when every PG matches, 1 when any differs (listed), 2 on bad input.
    """
    from ..placement.osdmap import require_placement
    from ..placement.pipeline import verify_placement
    from ..text import snapshot as _format

    snap = load_dumps(capture)
    require_placement(snap, "verify")
    if not len(snap.pgs):
        raise PgtoolsError("the capture has no PG dump; nothing to verify")
    diff = verify_placement(snap)
    if len(diff):
        write_out(_format.frame_text(diff.head(limit)))
        write_out(f"{len(diff)} of {len(snap.pgs)} PGs differ from the dump\n")
        raise typer.Exit(1)
    write_out(f"all {len(snap.pgs)} PGs match: up, acting and primaries recomputed exactly\n")


class Release(str, Enum):
    nautilus = "nautilus"
    octopus = "octopus"
    pacific = "pacific"
    quincy = "quincy"
    reef = "reef"
    tentacle = "tentacle"


def autoscale(
    capture: DumpArg,
    release: Annotated[Optional[Release], typer.Option(help="Autoscaler version (default: the capture's release, else tentacle, the newest, with a warning).")] = None,  # noqa: UP045
    target_per_osd: Annotated[Optional[int], typer.Option("--target-per-osd", help="mon_target_pg_per_osd (default: capture config, else 100).")] = None,  # noqa: UP045
    explain: Annotated[bool, typer.Option("--explain", help="Also print the reason for each pool.")] = False,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="text (as `ceph osd pool autoscale-status`), csv or json.")] = FrameFormat.text,
) -> None:
    """What `ceph osd pool autoscale-status` would show for this capture, with the reason per pool."""
    from ..mgr.autoscale import autoscale_status, release_for
    from ..mgr.autoscale_output import autoscale_status_json, format_autoscale_status

    snap = load_dumps(capture)
    rel = release.value if release else release_for(snap)
    df = autoscale_status(snap, release=rel, mon_target_pg_per_osd=target_per_osd)
    if fmt is FrameFormat.json:
        write_out(autoscale_status_json(df, release=rel))
    elif fmt is FrameFormat.csv:
        write_out(df.to_csv(index=False))
    else:
        write_out(format_autoscale_status(df, release=rel))
        if explain:
            write_out("\n" + "".join(f"{r.pool_name}: {r.reason}\n" for r in df.itertuples()))


def pgcalc(
    osds: Annotated[int, typer.Option("--osds", help="Number of OSDs.")],
    preset: Annotated[str, typer.Option(help="Use case, as in the calculator: all_in_one, openstack, openstack_rgw, rgw, openstack_rgw_infernalis, rgw_infernalis, rbd; and cephfs (pgtools' own).")] = "openstack",
    target_per_osd: Annotated[int, typer.Option("--target-per-osd", help="Target PGs per OSD: 100 (OSD count not expected to grow), 200 (may double), 300 (the later calculator's 2-3x growth).")] = 100,
    size: Annotated[int, typer.Option(help="Replicas (k+m for EC).")] = 3,
    script: Annotated[bool, typer.Option("--script", help="Round like the calculator's script (floor, power-of-two minimum) instead of its written rules.")] = False,
    fmt: Annotated[FrameFormat, typer.Option("--format", help="Output format.")] = FrameFormat.text,
) -> None:
    """PGCalc: pg_num per pool from target PGs per OSD and each pool's share of the data, steps shown."""
    from ..mgr.pgcalc import pgcalc_preset
    from ..text import snapshot as _format

    df = pgcalc_preset(preset, osds, target_per_osd=target_per_osd, size=size, script=script)
    if fmt is FrameFormat.csv:
        write_out(df.to_csv(index=False))
    elif fmt is FrameFormat.json:
        write_out(df.to_json(orient="records", indent=1) + "\n")
    else:
        write_out(_format.frame_text(df.drop(columns=["reason"])))
        write_out("\n" + "".join(f"{r.pool}: {r.reason}\n" for r in df.itertuples()))
        total = int((df["final"] * df["size"]).sum())
        write_out(f"\ntotal {total} PG replicas = {total / osds:.1f} per OSD (target {target_per_osd})\n")


