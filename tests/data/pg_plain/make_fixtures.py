"""Write the synthetic plain ``pg dump``/``pg ls`` fixtures of this folder (run once; output is committed).

The tables are rendered the way Ceph's TextTable does (``pg_dump_formats.md`` §2.2): headings
left-aligned, cells padded to the widest value, style A = one blank after every cell (Luminous to
Nautilus), style B = two blanks between cells (Octopus+); Jewel tables are tab separated.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTE = (
    "* NOTE: Omap statistics are gathered during deep scrub and may be inaccurate soon afterwards "
    "depending on utilization. See http://docs.ceph.com/en/latest/dev/placement-group/#omap-statistics "
    "for further details."
)


def table(head, rows, style, left=("PG_STAT", "PG", "SCRUB_SCHEDULING", "OSD_STAT")):
    """Render ``rows`` (lists of str) under ``head``; a row may be shorter than the header."""
    n = len(head)
    widths = [max([len(head[k])] + [len(r[k]) for r in rows if k < len(r)]) for k in range(n)]
    lefts = [h in left or (h == "" and k == 0) for k, h in enumerate(head)]

    def render(cells, is_head):
        out = []
        for k in range(n):
            c = cells[k] if k < len(cells) else ""
            w = widths[k]
            out.append(c.ljust(w) if (is_head or lefts[k]) else c.rjust(w))
        if style == "A":
            return "".join(c + " " for c in out)
        return "  ".join(out)

    lines = [render(head, True)]
    lines += [render(r, False) for r in rows]
    if style == "B":
        lines[0] = lines[0].rstrip() if not lefts[-1] else lines[0]
    return lines


# --- Jewel: tabs ---------------------------------------------------------------------------------
J_HEAD = (
    "pg_stat objects mip degr misp unf bytes log disklog state state_stamp v reported up up_primary "
    "acting acting_primary last_scrub scrub_stamp last_deep_scrub deep_scrub_stamp"
).split()
J_ROWS = [
    [
        "1.0",
        "12",
        "0",
        "0",
        "0",
        "0",
        "50331648",
        "30",
        "30",
        "active+clean",
        "2017-05-18 10:12:40.603692",
        "42'30",
        "42:88",
        "[4,2,0]",
        "4",
        "[4,2,0]",
        "4",
        "40'28",
        "2017-05-18 09:38:33.126953",
        "0'0",
        "2017-05-17 18:17:01.904194",
    ],
    [
        "2.1a",
        "3",
        "0",
        "3",
        "0",
        "0",
        "12582912",
        "3",
        "3",
        "active+undersized+degraded",
        "2017-05-18 10:13:00.000001",
        "42'3",
        "42:19",
        "[1,NONE,5]",
        "1",
        "[1,NONE,5]",
        "1",
        "0'0",
        "2017-05-17 18:17:01.904198",
        "0'0",
        "2017-05-17 18:17:01.904198",
    ],
    [
        "1.1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "creating",
        "0.000000",
        "0'0",
        "0:0",
        "[]",
        "-1",
        "[]",
        "-1",
        "0'0",
        "0.000000",
        "0'0",
        "0.000000",
    ],
]


def jewel_pg_dump() -> str:
    out = [
        "dumped all in format plain",
        "version 1234",
        "stamp 2017-05-18 10:14:00.123456",
        "last_osdmap_epoch 42",
        "last_pg_scan 40",
        "full_ratio 0.95",
        "nearfull_ratio 0.85",
    ]
    out.append("\t".join(J_HEAD))
    out += ["\t".join(r) for r in J_ROWS]
    out.append("pool 1\t12\t0\t0\t0\t0\t50331648\t30\t30")
    out.append("pool 2\t3\t0\t3\t0\t0\t12582912\t3\t3")
    out.append(" sum\t15\t0\t3\t0\t0\t62914560\t33\t33")
    out.append("osdstat\tkbused\tkbavail\tkb\thb in\thb out")
    out.append("0\t1048576\t9437184\t10485760\t[1,2,4,5]\t[]")
    out.append("1\t2097152\t8388608\t10485760\t[0,2,4,5]\t[]")
    out.append("2\t0\t0\t0\t[]\t[]")
    out.append(" sum\t3145728\t17825792\t31457280")
    return "\n".join(out) + "\n"


def jewel_pgs_brief() -> str:
    out = ["dumped pgs_brief in format plain", "pg_stat\tstate\tup\tup_primary\tacting\tacting_primary"]
    out.append("2.1a\tactive+undersized+degraded\t[1,2147483647,5]\t1\t[1,2147483647,5]\t1")
    out.append("1.0\tactive+clean\t[4,2,0]\t4\t[4,2,0]\t4")
    return "\n".join(out) + "\n"


# --- Luminous 12.2.5: style A, no OMAP, two-token stamps, glued sizes ------------------------------
L_HEAD = (
    "PG_STAT OBJECTS MISSING_ON_PRIMARY DEGRADED MISPLACED UNFOUND BYTES LOG DISK_LOG STATE STATE_STAMP "
    "VERSION REPORTED UP UP_PRIMARY ACTING ACTING_PRIMARY LAST_SCRUB SCRUB_STAMP LAST_DEEP_SCRUB "
    "DEEP_SCRUB_STAMP SNAPTRIMQ_LEN"
).split()
L_ROWS = [
    [
        "3.7",
        "120",
        "0",
        "0",
        "0",
        "0",
        "503316480",
        "1520",
        "1520",
        "active+clean",
        "2018-06-01 08:00:01.000100",
        "57'1520",
        "57:2011",
        "[2,0,1]",
        "2",
        "[2,0,1]",
        "2",
        "57'1500",
        "2018-06-01 07:00:00.000001",
        "50'1400",
        "2018-05-30 07:00:00.000001",
        "0",
    ],
    [
        "3.10",
        "7",
        "0",
        "14",
        "7",
        "0",
        "29360128",
        "50",
        "50",
        "active+remapped+backfill_wait",
        "2018-06-01 08:05:11.123456",
        "57'50",
        "57:90",
        "[1,2,0]",
        "1",
        "[0,2,1]",
        "0",
        "0'0",
        "0.000000",
        "0'0",
        "0.000000",
        "2",
    ],
    [
        "0.0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "unknown",
        "0.000000",
        "0'0",
        "0:0",
        "[]",
        "-1",
        "[]",
        "-1",
        "0'0",
        "0.000000",
        "0'0",
        "0.000000",
        "0",
    ],
]


def luminous_pg_dump() -> str:
    out = [
        "dumped all",
        "version 88",
        "stamp 2018-06-01 08:10:00.000001",
        "last_osdmap_epoch 0",
        "last_pg_scan 0",
        "full_ratio 0.95",
        "nearfull_ratio 0.85",
    ]
    out += table(L_HEAD, L_ROWS, "A")
    pools = [
        ["3", "127", "0", "14", "7", "0", "532676608", "1570", "1570"],
        ["0", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]
    out += table([""] * 9, pools, "A")
    out += table([""] * 9, [["sum", "127", "0", "14", "7", "0", "532676608", "1570", "1570"]], "A")
    osd = [
        ["2", "1.00GiB", "9.00GiB", "10.0GiB", "[0,1]", "3", "1"],
        ["1", "1.00GiB", "9.00GiB", "10.0GiB", "[0,2]", "3", "1"],
        ["0", "288KiB", "9.99GiB", "10.0GiB", "[1,2]", "3", "1"],
    ]
    out += table(
        "OSD_STAT USED AVAIL TOTAL HB_PEERS PG_SUM PRIMARY_PG_SUM".split(),
        osd + [["sum", "2.00GiB", "28.0GiB", "30.0GiB"]],
        "A",
    )
    return "\n".join(out) + "\n"


# --- Nautilus 14.2.x: style A, OMAP, USED_RAW, spaced sizes -------------------------------------------
N_HEAD = L_HEAD[:7] + ["OMAP_BYTES*", "OMAP_KEYS*"] + L_HEAD[7:]
N_ROWS = [r[:7] + om + r[7:] for r, om in zip(L_ROWS, [["1024", "12"], ["0", "0"], ["0", "0"]], strict=False)]


def nautilus_pg_dump() -> str:
    out = ["version 99", "stamp 2019-02-27 07:08:43.559261", "last_osdmap_epoch 0", "last_pg_scan 0"]
    out += table(N_HEAD, N_ROWS, "A")
    pools = [
        ["3", "127", "0", "14", "7", "0", "532676608", "1024", "12", "1570", "1570"],
        ["0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]
    out += table([""] * 11, pools, "A")
    out += table(
        [""] * 11, [["sum", "127", "0", "14", "7", "0", "532676608", "1024", "12", "1570", "1570"]], "A"
    )
    osd = [
        ["2", "1.0 GiB", "9.0 GiB", "1.1 GiB", "10 GiB", "[0,1]", "3", "1"],
        ["1", "1.0 GiB", "9.0 GiB", "1.1 GiB", "10 GiB", "[0,2]", "3", "1"],
        ["0", "288 KiB", "10 GiB", "1.3 MiB", "10 GiB", "[1,2]", "3", "1"],
    ]
    out += table(
        "OSD_STAT USED AVAIL USED_RAW TOTAL HB_PEERS PG_SUM PRIMARY_PG_SUM".split(),
        osd + [["sum", "2.0 GiB", "28 GiB", "2.2 GiB", "30 GiB"]],
        "A",
    )
    out += ["", NOTE, "dumped all"]
    return "\n".join(out) + "\n"


# --- Reef 18.2.x: style B, LOG_DUPS, scrub columns, SCRUB_SCHEDULING free text, EC holes, unknown ---
R_HEAD = (
    "PG_STAT OBJECTS MISSING_ON_PRIMARY DEGRADED MISPLACED UNFOUND BYTES OMAP_BYTES* OMAP_KEYS* LOG "
    "LOG_DUPS DISK_LOG STATE STATE_STAMP VERSION REPORTED UP UP_PRIMARY ACTING ACTING_PRIMARY LAST_SCRUB "
    "SCRUB_STAMP LAST_DEEP_SCRUB DEEP_SCRUB_STAMP SNAPTRIMQ_LEN LAST_SCRUB_DURATION SCRUB_SCHEDULING "
    "OBJECTS_SCRUBBED OBJECTS_TRIMMED"
).split()
T = "2024-01-13T18:03:34.044849+0530"
R_ROWS = [
    [
        "1.63",
        "10",
        "0",
        "0",
        "0",
        "0",
        "41943040",
        "0",
        "0",
        "10",
        "0",
        "10",
        "active+clean",
        T,
        "18'10",
        "18:21",
        "[1,0,2]",
        "1",
        "[1,0,2]",
        "1",
        "18'9",
        T,
        "0'0",
        T,
        "0",
        "2",
        "periodic scrub scheduled @ 2024-01-14T18:03:34.044849+0530",
        "10",
        "0",
    ],
    [
        "4.0s0",
        "5",
        "0",
        "0",
        "0",
        "0",
        "20971520",
        "0",
        "0",
        "5",
        "3",
        "5",
        "active+clean",
        T,
        "18'5",
        "18:14",
        "[3,NONE,5]",
        "3",
        "[3,NONE,5]",
        "3",
        "0'0",
        T,
        "0'0",
        T,
        "0",
        "0",
        "queued for deep scrub",
        "0",
        "0",
    ],
    [
        "4.1",
        "1",
        "0",
        "1",
        "0",
        "0",
        "4194304",
        "0",
        "0",
        "1",
        "0",
        "1",
        "active+undersized+degraded",
        T,
        "18'1",
        "18:9",
        "[NONE,4,3]",
        "4",
        "[NONE,4,3]",
        "4",
        "0'0",
        T,
        "0'0",
        T,
        "1",
        "0",
        "--",
        "0",
        "7",
    ],
    [
        "5.0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "unknown",
        "0.000000",
        "0'0",
        "0:0",
        "[]",
        "-1",
        "[]",
        "-1",
        "0'0",
        "0.000000",
        "0'0",
        "0.000000",
        "0",
        "0",
        "--",
        "0",
        "0",
    ],
    [
        "1.62",
        "3",
        "0",
        "0",
        "0",
        "0",
        "12582912",
        "0",
        "0",
        "3",
        "0",
        "3",
        "active+clean+scrubbing",
        T,
        "18'3",
        "18:14",
        "[2,0,1]",
        "2",
        "[2,0,1]",
        "2",
        "0'0",
        T,
        "0'0",
        T,
        "0",
        "0",
        "scrubbing for 12s",
        "2",
        "0",
    ],
]


def reef_pg_dump() -> str:
    # sample 4.0s0 would be invalid (no shard suffix in pg dump); use 4.0
    rows = [list(r) for r in R_ROWS]
    rows[1][0] = "4.0"
    out = [
        "dumped all",
        "version 5100",
        "stamp 2024-01-13T18:05:00.000001+0530",
        "last_osdmap_epoch 0",
        "last_pg_scan 0",
    ]
    out += table(R_HEAD, rows, "B")
    pools = [
        ["5", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
        ["4", "6", "0", "1", "0", "0", "25165824", "0", "0", "6", "6"],
        ["1", "13", "0", "0", "0", "0", "54525952", "0", "0", "13", "13"],
    ]
    out += table([""] * 11, pools, "B")
    out += table([""] * 11, [["sum", "19", "0", "1", "0", "0", "79691776", "0", "0", "19", "19"]], "B")
    osd = [
        ["5", "20 MiB", "100 GiB", "1.0 GiB", "101 GiB", "[3,4]", "2", "1"],
        ["4", "20 MiB", "100 GiB", "1.0 GiB", "101 GiB", "[3,5]", "2", "1"],
        ["3", "0 B", "0 B", "0 B", "0 B", "[]", "0", "0"],
    ]
    out += table(
        "OSD_STAT USED AVAIL USED_RAW TOTAL HB_PEERS PG_SUM PRIMARY_PG_SUM".split(),
        osd + [["sum", "40 MiB", "200 GiB", "2.0 GiB", "202 GiB"]],
        "B",
    )
    out += ["", NOTE, "dumped all"]
    return "\n".join(out) + "\n"


# --- pg ls: Reef (SINCE, LOG_DUPS, scrub columns last) and Nautilus (style A, 2147483647 holes) -------
def reef_pg_ls() -> str:
    head = (
        "PG OBJECTS DEGRADED MISPLACED UNFOUND BYTES OMAP_BYTES* OMAP_KEYS* LOG LOG_DUPS STATE SINCE "
        "VERSION REPORTED UP ACTING SCRUB_STAMP DEEP_SCRUB_STAMP LAST_SCRUB_DURATION SCRUB_SCHEDULING"
    ).split()
    rows = [
        [
            "1.0",
            "41",
            "0",
            "0",
            "0",
            "2625536",
            "0",
            "0",
            "41",
            "0",
            "active+clean",
            "5m",
            "101'41",
            "101:108",
            "[11,7,3]p11",
            "[11,7,3]p11",
            T,
            T,
            "3",
            "periodic scrub scheduled @ 2024-01-14T18:03:34.044849+0530",
        ],
        [
            "4.1",
            "1",
            "1",
            "0",
            "0",
            "4194304",
            "0",
            "0",
            "1",
            "0",
            "active+undersized+degraded",
            "2h",
            "18'1",
            "18:9",
            "[NONE,4,3]p4",
            "[NONE,4,3]p4",
            T,
            T,
            "0",
            "queued for deep scrub",
        ],
        [
            "5.0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "unknown",
            "3d",
            "0'0",
            "0:0",
            "[]p-1",
            "[]p-1",
            "0.000000",
            "0.000000",
            "0",
            "--",
        ],
    ]
    out = table(head, rows, "B") + ["", NOTE]
    return "\n".join(out) + "\n"


def nautilus_pg_ls() -> str:
    head = (
        "PG OBJECTS DEGRADED MISPLACED UNFOUND BYTES OMAP_BYTES* OMAP_KEYS* LOG STATE STATE_STAMP VERSION "
        "REPORTED UP ACTING SCRUB_STAMP DEEP_SCRUB_STAMP"
    ).split()
    s = "2019-02-27 07:08:43.559261"
    rows = [
        [
            "2.1a",
            "3",
            "3",
            "0",
            "0",
            "12582912",
            "0",
            "0",
            "3",
            "active+undersized+degraded",
            s,
            "42'3",
            "42:19",
            "[1,2147483647,5]p1",
            "[1,2147483647,5]p1",
            s,
            s,
        ],
        [
            "1.0",
            "12",
            "0",
            "0",
            "0",
            "50331648",
            "0",
            "0",
            "30",
            "active+clean",
            s,
            "42'30",
            "42:88",
            "[4,2,0]p4",
            "[4,2,0]p4",
            "0.000000",
            s,
        ],
    ]
    out = table(head, rows, "A") + ["", NOTE]
    return "\n".join(out) + "\n"


FIXTURES = {
    "jewel_pg_dump.txt": jewel_pg_dump,
    "jewel_pgs_brief.txt": jewel_pgs_brief,
    "luminous_pg_dump.txt": luminous_pg_dump,
    "nautilus_pg_dump.txt": nautilus_pg_dump,
    "reef_pg_dump.txt": reef_pg_dump,
    "reef_pg_ls.txt": reef_pg_ls,
    "nautilus_pg_ls.txt": nautilus_pg_ls,
}

if __name__ == "__main__":
    for name, make in FIXTURES.items():
        (HERE / name).write_text(make())
