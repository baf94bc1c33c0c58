"""The bad-input table of issue #11: every case is (id, files built in a temporary folder, argv, outcome).

Outcome classes (asserted by ``test_table.py``):

``ok``
    exit 0, no ``pgtools: warning:`` and no ``pgtools: error:`` line.
``warning``
    exit 0 and a ``pgtools: warning:`` line matching ``match``.
``error``
    exit 2, exactly one ``pgtools: error:`` line, matching ``match`` (which names the file and the field
    or line), and none of the case's ``outputs`` written.

Every case: no traceback, no ``internal error``, under ``timeout`` seconds.  ``{d}`` in argv is the
case's temporary folder.  ``xfail`` names the helper of issue #11 whose fix the case waits for.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.badinput._build import (
    DIR,
    Builder,
    concat,
    cut,
    cut_line,
    head,
    json_edit,
    junk,
    path_of,
    raw,
    src,
    sub,
    text,
)


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, Builder]
    argv: list[str]
    expect: str
    match: str = ""
    xfail: str | None = None
    outputs: tuple[str, ...] = ()
    stdout: str = ""          #: regex the standard output must match (ok/warning cases)
    #: a case with no result by then is a hang; generous because the first placement in a fresh checkout compiles
    #: numba's CRUSH kernels (about 20 s on CI's two busy cores; the hang-prone inputs get :data:`HANG`)
    timeout: float = 90.0
    subprocess: bool = False  #: run in a child process (hang-prone cases), killed after ``timeout``


OK, WARN, ERR = "ok", "warning", "error"
#: Seconds an input that could hang gets (in a child process): a refusal or a bounded read takes far less.
HANG = 8.0
C: list[Case] = []


def case(id: str, files: dict, argv: list[str], expect: str, match: str = "", **kw) -> None:  # noqa: A002
    C.append(Case(id, files, argv, expect, match, **kw))


R = "R:"
PGD = src("R:pg_dump.txt")
OSDJ = src("R:osd_dump.json")
CRUSHJ = src("R:crush_dump.json")
SEED = {"pg_dump.txt": PGD, "osd_dump.json": OSDJ, "crush_dump.json": CRUSHJ}  # the seed cluster
SEEDF = ["{d}/pg_dump.txt", "{d}/osd_dump.json", "{d}/crush_dump.json"]
MIXED = {f"mixed/{n}": src(f"S:mixed/{n}") for n in
         ("pg_dump.txt", "osd_dump.json", "crush_dump.json", "osd_tree.json", "osd_pool_ls_detail.json")}
# owners of the fixes (issue #11 helpers)
INPUT, LIMITS, TICKET, LOSS = "#11 input", "#11 limits", "#11 ticket", "#11 loss"

# ---------------------------------------------------------------------------------------------------
# good inputs: every command once (a bad-input suite must not flag good input)
case("ok-table-plain", SEED, ["table", *SEEDF], OK, stdout=r"SUM:.*\| 5760")
case("ok-table-folder-mixed", MIXED, ["table", "{d}/mixed"], OK, stdout=r"SUM")
case("ok-stats", SEED, ["stats", *SEEDF], OK, stdout=r"12 OSDs")
case("ok-health", SEED, ["health", *SEEDF], OK, stdout=r"TOO_MANY_PGS")
case("ok-whatif", SEED, ["whatif", *SEEDF, "--pg-num", "rbd=64"], OK)
case("ok-fix-too-many-pgs", SEED, ["fix-too-many-pgs", *SEEDF], OK)
case("ok-autoscale", SEED, ["autoscale", *SEEDF], OK, stdout=r"rbd")
case("ok-crush-test", {"crush.json": src("C:01_flat10_hosts_straw2_firstn/crush.json")},
     ["crush-test", "--crush", "{d}/crush.json", "--max-x", "3"], OK, stdout=r"CRUSH rule 0 x 3 \[")
case("ok-map", {"osd_dump.json": OSDJ, "crush_dump.json": src("R:crush_dump.json")},
     ["map", "{d}/osd_dump.json", "{d}/crush_dump.json", "--pool", "1", "--format", "stats"], OK)
case("ok-map-object", {"osd_dump.json": OSDJ, "crush_dump.json": src("R:crush_dump.json")},
     ["map-object", "--capture", "{d}/osd_dump.json", "--capture", "{d}/crush_dump.json", "--pool", "rbd",
      "obj1"], OK, stdout=r"osdmap e101 pool 'rbd'")
case("ok-pgcalc", {}, ["pgcalc", "--osds", "12"], OK)
case("ok-report", SEED, ["report", *SEEDF, "-o", "{d}/r.html"], OK)
case("ok-crushtool-text-and-binary",
     {"cap/pg_dump.txt": src("S:mixed/pg_dump.txt"), "cap/osd_dump.json": src("S:mixed/osd_dump.json"),
      "cap/crushmap.bin": lambda: _odd_weight_map()[0], "cap/crushmap.txt": lambda: _odd_weight_map()[1]},
     ["table", "{d}/cap"], OK)

# ---------------------------------------------------------------------------------------------------
# nonexistent paths
for cmd in (["table"], ["stats"], ["health"], ["autoscale"], ["verify"], ["fix-too-many-pgs"]):
    case(f"missing-path-{cmd[0]}", {}, [*cmd, "{d}/nope.txt"], ERR, r"nope\.txt: no such file")
case("missing-osd-dump-option", SEED, ["table", "{d}/pg_dump.txt", "--osd-dump", "{d}/nope.json"], ERR,
     r"nope\.json: no such file")
case("missing-osd-df-option", SEED, ["stats", *SEEDF, "--osd-df", "{d}/nope.txt"], ERR, r"nope\.txt: no such file")
case("missing-crush-test-crush", {}, ["crush-test", "--crush", "{d}/nope.bin"], ERR, r"nope\.bin")
case("missing-map-osd-dump", {}, ["map", "--osd-dump", "{d}/nope.json"], ERR, r"nope\.json")
case("missing-map-object-capture", {}, ["map-object", "--capture", "{d}/nope", "--pool", "rbd", "o"], ERR, r"nope")
case("missing-report-nothing-written", {}, ["report", "{d}/nope", "-o", "{d}/r.html"], ERR, r"nope",
     outputs=("r.html",))
case("missing-demo-nothing-written", {}, ["demo", "{d}/nope", "-o", "{d}/out"], ERR, r"nope", outputs=("out",))

# ---------------------------------------------------------------------------------------------------
# empty files and folders with nothing usable
for name in ("pg_dump.txt", "pg_dump.json", "osd_dump.json", "crush_dump.json", "osd_tree.txt"):
    case(f"empty-file-{name}", {name: text("")}, ["table", f"{{d}}/{name}"], ERR, rf"{name.replace('.', '[.]')}")
case("empty-whitespace-only", {"pg_dump.txt": text("\n\n   \n\t\n")}, ["table", "{d}/pg_dump.txt"], ERR,
     r"pg_dump\.txt")
case("empty-dumped-all-only", {"pg_dump.txt": text("dumped all\n")}, ["table", "{d}/pg_dump.txt"], ERR,
     r"pg_dump\.txt")
case("empty-osd-dump-beside-pg-dump", {"pg_dump.txt": PGD, "osd_dump.json": text("")},
     ["table", "{d}/pg_dump.txt", "--osd-dump", "{d}/osd_dump.json"], ERR, r"osd_dump\.json")
case("empty-crush-for-crush-test", {"c.txt": text("")}, ["crush-test", "--crush", "{d}/c.txt"], ERR, r"c\.txt")
case("empty-dev-null", {}, ["table", "/dev/null"], ERR, r"/dev/null")
case("empty-folder", {"cap": lambda: DIR}, ["table", "{d}/cap"], ERR, r"cap")
case("empty-folder-of-empty-files", {"cap/pg_dump.txt": text(""), "cap/osd_dump.json": text("")},
     ["table", "{d}/cap"], ERR, r"cap")
case("folder-only-side-files", {"cap/pg_dump.txt.stderr": text("dumped all\n"), "cap/README.md": text("# x\n")},
     ["table", "{d}/cap"], ERR, r"cap")
case("folder-only-garbage", {"cap/a.bin": junk(3000, 1), "cap/b.txt": text("hello world\n")},
     ["table", "{d}/cap"], ERR, r"cap")
case("folder-nested-empty", {"cap/a/b": lambda: DIR}, ["table", "{d}/cap"], ERR, r"cap")
case("folder-collect-all-failed",
     {"cap/collect_meta.json": text('{"commands": [], "records": [{"cmd": "ceph pg dump", "rc": 1, '
                                    '"file": "pg_dump.json"}], "epoch_before": null}'),
      "cap/pg_dump.json": text(""), "cap/pg_dump.json.stderr": text("error: no monitors\n")},
     ["table", "{d}/cap"], ERR, r"cap")

# ---------------------------------------------------------------------------------------------------
# garbage and binary data
case("garbage-random-bytes", {"x.bin": junk(5000)}, ["table", "{d}/x.bin"], ERR, r"x\.bin: not a dump")
case("garbage-random-text", {"x.txt": text("the quick brown fox\njumps over\n")}, ["table", "{d}/x.txt"], ERR,
     r"x\.txt: not a dump")
case("garbage-nul-bytes", {"x": text(b"\0" * 4096)}, ["table", "{d}/x"], ERR, r"x: not a dump")
case("garbage-png", {"x.png.txt": text(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)}, ["table", "{d}/x.png.txt"], ERR,
     r"x\.png\.txt")
case("garbage-bad-gzip", {"pg_dump.txt.gz": text(b"\x1f\x8b\x08\x00garbage")}, ["table", "{d}/pg_dump.txt.gz"],
     ERR, r"pg_dump\.txt\.gz: cannot decompress")
case("garbage-bad-xz", {"pg_dump.txt.xz": text(b"\xfd7zXZ\x00garbage")}, ["table", "{d}/pg_dump.txt.xz"], ERR,
     r"pg_dump\.txt\.xz: cannot decompress")
case("garbage-bad-tar", {"cap.tar.gz": text(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)},
     ["table", "{d}/cap.tar.gz"], ERR, r"cap\.tar\.gz")
case("garbage-json-object", {"x.json": text('{"a": 1, "b": [1, 2]}')}, ["table", "{d}/x.json"], ERR,
     r"x\.json: not a dump")
case("garbage-json-null", {"x.json": text("null")}, ["table", "{d}/x.json"], ERR, r"x\.json")
case("garbage-json-list-of-numbers", {"x.json": text("[1, 2, 3]")}, ["table", "{d}/x.json"], ERR, r"x\.json")
case("garbage-json-deep-nesting", {"x.json": text("[" * 100000 + "]" * 100000)}, ["table", "{d}/x.json"], ERR,
     r"x\.json")
case("garbage-one-huge-line", {"x.txt": text("7" * 3_000_000)}, ["table", "{d}/x.txt"], ERR, r"x\.txt")
case("garbage-crush-binary-magic-only", {"c.bin": text(b"\x00\x00\x01\x00" + b"\xff" * 64)},
     ["crush-test", "--crush", "{d}/c.bin"], ERR, r"c\.bin")
case("garbage-crush-binary-random", {"c.bin": lambda: b"\x00\x00\x01\x00" + junk(2000, 7)()},
     ["crush-test", "--crush", "{d}/c.bin"], ERR, r"c\.bin")
case("garbage-crushtool-text-device-id-2-64",  # found by test_fuzz (OverflowError in pandas)
     {"c.txt": sub("C:01_flat10_hosts_straw2_firstn/crushmap.txt", "device 0 osd.0", "device 18446744073709551616 osd.0")},
     ["crush-test", "--crush", "{d}/c.txt"], ERR, r"c\.txt:12: device id: .*out of range")
case("garbage-utf16-pg-dump", {"pg_dump.txt": lambda: raw_utf16()}, ["table", "{d}/pg_dump.txt"], ERR,
     r"pg_dump\.txt")
case("garbage-html-error-page", {"pg_dump.txt": text("<html><body>502 Bad Gateway</body></html>\n")},
     ["table", "{d}/pg_dump.txt"], ERR, r"pg_dump\.txt")


def raw_utf16() -> bytes:
    from tests.badinput._build import raw

    return raw("R:pg_dump.txt").decode().encode("utf-16")


# ---------------------------------------------------------------------------------------------------
# wrong file for a command
case("wrong-crush-test-given-pg-dump", {"pg_dump.txt": PGD}, ["crush-test", "--crush", "{d}/pg_dump.txt"], ERR,
     r"pg_dump\.txt: .*(?i:crush)")
case("wrong-crush-test-given-osd-dump-json", {"osd_dump.json": OSDJ},
     ["crush-test", "--crush", "{d}/osd_dump.json"], ERR, r"osd_dump\.json: .*(?i:crush)")
case("wrong-crush-test-given-health", {"h.json": src("R:health_detail.json")},
     ["crush-test", "--crush", "{d}/h.json"], ERR, r"h\.json: .*(?i:crush)")
case("wrong-map-without-crush", {"osd_dump.json": OSDJ}, ["map", "{d}/osd_dump.json"], ERR,
     r"(?i)crush")
case("wrong-map-given-pg-dump", {"pg_dump.txt": PGD}, ["map", "{d}/pg_dump.txt"], ERR, r"(?i)crush")
case("wrong-map-object-given-tree", {"t.txt": src("R:osd_tree.txt")},
     ["map-object", "--capture", "{d}/t.txt", "--pool", "rbd", "o"], ERR, r"(?i)crush|osd dump")
case("wrong-verify-given-osd-dump-only", {"osd_dump.json": OSDJ}, ["verify", "{d}/osd_dump.json"], ERR,
     r"(?i)pg dump|PGs|crush")
case("wrong-table-given-versions", {"versions.json": src("R:versions.json")}, ["table", "{d}/versions.json"], ERR,
     r"versions\.json")
case("wrong-table-given-osd-tree-alone", {"osd_tree.txt": src("R:osd_tree.txt")}, ["table", "{d}/osd_tree.txt"],
     ERR, r"osd_tree\.txt")
case("wrong-table-given-ceph-status", {"status.json": src("R:status.json")}, ["table", "{d}/status.json"], ERR,
     r"status\.json")
case("wrong-table-given-config-dump", {"config_dump.txt": src("R:config_dump.txt")},
     ["table", "{d}/config_dump.txt"], ERR, r"config_dump\.txt")
case("wrong-health-given-crushmap-text", {"crushmap.txt": src("R:crushmap.txt")}, ["health", "{d}/crushmap.txt"],
     ERR, r"crushmap\.txt")
case("wrong-stats-given-health-only", {"h.txt": src("R:health_detail.txt")}, ["stats", "{d}/h.txt"], ERR,
     r"h\.txt")
case("wrong-pgcalc-unknown-preset", {}, ["pgcalc", "--osds", "12", "--preset", "nosuch"], ERR, r"(?i)preset.*nosuch|nosuch")

# ticket case: a plain pg dump and an osd tree, no osd dump
TICKET_FILES = {"pg_dump.txt": PGD, "osd_tree.txt": src("R:osd_tree.txt")}
TICKETF = ["{d}/pg_dump.txt", "{d}/osd_tree.txt"]
case("ticket-table", TICKET_FILES, ["table", *TICKETF], WARN, r"(?i)derived|assum", stdout=r"SUM:.*\| 5760")
case("ticket-fix-too-many-pgs", TICKET_FILES, ["fix-too-many-pgs", *TICKETF], ERR,
     r"(?i)needs the CRUSH map.*crush dump")
case("ticket-whatif-pg-num", TICKET_FILES, ["whatif", *TICKETF, "--pg-num", "rbd=64"], ERR,
     r"(?i)needs the CRUSH map.*crush dump")
case("ticket-autoscale", TICKET_FILES, ["autoscale", *TICKETF], WARN, r"(?i)assum|derived")

# ---------------------------------------------------------------------------------------------------
# cut (truncated) files, every parser.  A plain table cut mid-row: the rows before the cut are usable and
# the loss is said (warning naming the file); a JSON document cut anywhere: one error naming file and line.
PG_TRUNC = r"pg_dump[^:]*\.txt:\d+: .*(?i:truncat)"
case("cut-pg-dump-plain", {"pg_dump.txt": cut("R:pg_dump.txt", 0.3)}, ["table", "{d}/pg_dump.txt"], WARN,
     r"pg_dump\.txt:\d+: .*(?i:truncat)")
case("cut-pg-dump-plain-with-osd-dump", {"pg_dump.txt": cut("R:pg_dump.txt", 0.3), "osd_dump.json": OSDJ, "crush_dump.json": CRUSHJ},
     ["table", *SEEDF], WARN, r"(?i)(\d+ of 1920 PGs|fewer PGs|pg_num)")
case("cut-pg-dump-plain-header-only", {"pg_dump.txt": head("R:pg_dump.txt", 2)}, ["table", "{d}/pg_dump.txt"], ERR,
     r"pg_dump\.txt: not a dump")
case("cut-pg-dump-json", {"pg_dump.json": cut("R:pg_dump.json", 0.5)}, ["table", "{d}/pg_dump.json"], ERR,
     r"pg_dump\.json:\d+: .*JSON")
case("cut-pg-dump-json-early", {"pg_dump.json": cut("R:pg_dump.json", 0.01)}, ["table", "{d}/pg_dump.json"], ERR,
     r"pg_dump\.json:\d+: .*JSON")
case("cut-pg-dump-json-last-byte", {"pg_dump.json": cut("R:pg_dump.json", 0.99999)}, ["table", "{d}/pg_dump.json"],
     ERR, r"pg_dump\.json:\d+: .*JSON")
case("cut-pgs-brief-plain", {"b.txt": cut("R:pg_dump_pgs_brief.txt", 0.5)}, ["table", "{d}/b.txt"], WARN,
     r"b\.txt:\d+: .*(?i:truncat)")
case("cut-pgs-brief-json", {"b.json": cut("R:pg_dump_pgs_brief.json", 0.5)}, ["table", "{d}/b.json"], ERR,
     r"b\.json:\d+: .*JSON")
case("cut-pg-ls-plain", {"pg_ls.txt": cut("R:pg_ls.txt", 0.5)}, ["table", "{d}/pg_ls.txt"], WARN,
     r"pg_ls\.txt:\d+: .*(?i:truncat|cut)")
case("cut-pg-ls-plain-in-last-stamp", {"pg_ls.txt": cut_line("R:pg_ls.txt", 500, -8)}, ["table", "{d}/pg_ls.txt"], WARN,
     r"pg_ls\.txt:501: .*NOTE.*cut")
case("cut-pg-ls-plain-row-boundary", {"pg_ls.txt": head("R:pg_ls.txt", 700)}, ["table", "{d}/pg_ls.txt"], WARN,
     r"pg_ls\.txt:700: .*NOTE.*cut")
case("cut-pg-dump-plain-row-boundary", {"pg_dump.txt": head("R:pg_dump.txt", 700)}, ["table", "{d}/pg_dump.txt"], WARN,
     r"pg_dump\.txt:\d+: .*(?i:truncat|cut|missing)")
case("cut-pgs-brief-row-boundary", {**SEED, "pg_dump.txt": head("R:pg_dump_pgs_brief.txt", 700)}, ["table", *SEEDF], WARN,
     r"(?i)(699 of 1920|fewer PGs|pg_num)")
case("cut-pg-ls-json", {"pg_ls.json": cut("R:pg_ls.json", 0.5)}, ["table", "{d}/pg_ls.json"], ERR,
     r"pg_ls\.json:\d+: .*JSON")
case("cut-pg-dump-pools-plain", {"pg_dump.txt": PGD, "pools.txt": cut("R:pg_dump_pools.txt", 0.5)},
     ["table", "{d}/pg_dump.txt", "{d}/pools.txt"], WARN, r"pools\.txt:\d+: .*(?i:truncat)")
case("cut-osd-dump-json", {**SEED, "osd_dump.json": cut("R:osd_dump.json", 0.5)},
     ["table", *SEEDF], ERR, r"osd_dump\.json:\d+: .*JSON")
case("cut-osd-dump-plain-in-pools", {"pg_dump.txt": PGD, "osd_dump.txt": cut("R:osd_dump.txt", 0.5)},
     ["health", "{d}/pg_dump.txt", "{d}/osd_dump.txt"], ERR, r"osd_dump\.txt: not a dump")
case("cut-osd-dump-plain-in-osd-line", {"pg_dump.txt": PGD, "osd_dump.txt": cut_line("R:osd_dump.txt", 30, 40)},
     ["health", "{d}/pg_dump.txt", "{d}/osd_dump.txt"], ERR, r"osd_dump\.txt:31: state: .*cut")
case("cut-osd-dump-plain-in-uuid", {"pg_dump.txt": PGD, "osd_dump.txt": cut_line("R:osd_dump.txt", 30, -1)},
     ["health", "{d}/pg_dump.txt", "{d}/osd_dump.txt"], ERR, r"osd_dump\.txt:31: uuid: .*cut")
case("cut-osd-dump-plain-after-osd-dot", {"pg_dump.txt": PGD, "osd_dump.txt": cut_line("R:osd_dump.txt", 30, 10)},
     ["health", "{d}/pg_dump.txt", "{d}/osd_dump.txt"], ERR, r"osd_dump\.txt:31: osd: ")
case("cut-osd-dump-plain-pool-key", {"pg_dump.txt": PGD, "osd_dump.txt": lambda: cut_line("R:osd_dump.txt", 13, -3)() + b"\n" + b"".join(_lines("R:osd_dump.txt")[14:])},
     ["health", "{d}/pg_dump.txt", "{d}/osd_dump.txt"], ERR, r"osd_dump\.txt:14: ")
case("cut-osd-df-plain", {**SEED, "osd_df.txt": cut("R:osd_df.txt", 0.5)},
     ["stats", *SEEDF, "--osd-df", "{d}/osd_df.txt"], WARN, r"osd_df\.txt:\d+: .*(?i:truncat)")
case("cut-osd-df-json", {**SEED, "osd_df.json": cut("R:osd_df.json", 0.5)},
     ["stats", *SEEDF, "--osd-df", "{d}/osd_df.json"], ERR, r"osd_df\.json:\d+: .*JSON")
case("cut-osd-df-tree-plain", {**SEED, "t.txt": cut("R:osd_df_tree.txt", 0.5)},
     ["stats", *SEEDF, "--osd-df", "{d}/t.txt"], WARN, r"t\.txt:\d+: .*(?i:truncat)")
case("cut-osd-df-tree-json", {**SEED, "t.json": cut("R:osd_df_tree.json", 0.5)},
     ["stats", *SEEDF, "--osd-df", "{d}/t.json"], ERR, r"t\.json:\d+: .*JSON")
case("cut-osd-tree-plain-in-status", {**SEED, "t.txt": cut_line("R:osd_tree.txt", 8, -20)}, ["stats", *SEEDF, "{d}/t.txt"],
     WARN, r"t\.txt:9: .*(?i:truncat)")
case("cut-osd-tree-plain-in-pri-aff", {**SEED, "t.txt": cut_line("R:osd_tree.txt", 8, -5)}, ["stats", *SEEDF, "{d}/t.txt"],
     WARN, r"t\.txt:9: .*(?i:truncat)")
case("cut-osd-tree-json", {**SEED, "t.json": cut("R:osd_tree.json", 0.5)}, ["stats", *SEEDF, "{d}/t.json"], ERR,
     r"t\.json:\d+: .*JSON")
case("cut-crush-dump", {"c.json": cut("R:crush_dump.json", 0.5)}, ["crush-test", "--crush", "{d}/c.json"], ERR,
     r"c\.json:\d+: .*JSON")
case("cut-crushtool-text-mid-line", {"c.txt": cut("R:crushmap.txt", 0.6)}, ["crush-test", "--crush", "{d}/c.txt"],
     ERR, r"c\.txt:\d+: ")
case("cut-crushtool-text-before-rules", {"c.txt": lambda: _before("R:crushmap.txt", "# rules")},
     ["crush-test", "--crush", "{d}/c.txt"], ERR, r"(?i)rule 0")
case("cut-crush-binary", {"c.bin": cut("R:crushmap.bin", 0.5)}, ["crush-test", "--crush", "{d}/c.bin"], ERR,
     r"c\.bin")
case("cut-crush-binary-in-capture", {**SEED, "crushmap.bin": cut("R:crushmap.bin", 0.7)}, ["table", "{d}"], ERR,
     r"crushmap\.bin")
case("cut-pool-ls-detail-plain", {"pg_dump.txt": PGD, "p.txt": cut("R:osd_pool_ls_detail.txt", 0.5)},
     ["autoscale", "{d}/pg_dump.txt", "{d}/p.txt"], ERR, r"p\.txt:8: key without a value")
case("cut-pool-ls-detail-json", {"pg_dump.txt": PGD, "p.json": cut("R:osd_pool_ls_detail.json", 0.5)},
     ["autoscale", "{d}/pg_dump.txt", "{d}/p.json"], ERR, r"p\.json:\d+: .*JSON")
case("cut-df-detail-plain", {**SEED, "df.txt": cut_line("R:df_detail.txt", 14, -40)}, ["autoscale", *SEEDF, "{d}/df.txt"],
     ERR, r"df\.txt:15: QUOTA BYTES: missing")
case("cut-df-detail-json", {**SEED, "df.json": cut("R:df_detail.json", 0.5)}, ["autoscale", *SEEDF, "{d}/df.json"],
     ERR, r"df\.json:\d+: .*JSON")
case("cut-health-detail-plain", {**SEED, "h.txt": cut_line("R:health_detail.txt", 1, -10)},
     ["health", *SEEDF, "{d}/h.txt"], ERR, r"h\.txt:2: TOO_MANY_PGS: .*cut")
case("cut-health-detail-json", {**SEED, "h.json": cut("R:health_detail.json", 0.5)},
     ["health", *SEEDF, "{d}/h.json"], ERR, r"h\.json:\d+: .*JSON")
case("cut-config-dump-plain", {**SEED, "c.txt": cut_line("R:config_dump.txt", 3, 50)}, ["health", *SEEDF, "{d}/c.txt"],
     ERR, r"c\.txt:4: VALUE: missing")
case("cut-config-dump-json", {**SEED, "c.json": cut("S:mixed/config_dump.json", 0.5)},
     ["health", *SEEDF, "{d}/c.json"], ERR, r"c\.json:\d+: .*JSON")
case("cut-versions-json", {**SEED, "v.json": cut("R:versions.json", 0.5)}, ["health", *SEEDF, "{d}/v.json"], WARN,
     r"v\.json:\d+: .*cut")
case("cut-autoscale-status-plain", {**SEED, "a.txt": cut_line("R:autoscale_status.txt", 5, -20)},
     ["autoscale", *SEEDF, "{d}/a.txt"], WARN, r"a\.txt:\d+: .*(?i:truncat)")
case("cut-autoscale-status-json", {**SEED, "a.json": cut("R:autoscale_status.json", 0.5)},
     ["autoscale", *SEEDF, "{d}/a.json"], ERR, r"a\.json:\d+: .*JSON")
case("cut-report-json", {"r.json": cut("P:01_jewel_ceph_report_python_crush.txt", 0.5)}, ["table", "{d}/r.json"],
     ERR, r"r\.json:\d+: .*JSON")
case("cut-in-folder", {"cap/pg_dump.txt": PGD, "cap/osd_dump.json": cut("R:osd_dump.json", 0.4)},
     ["table", "{d}/cap"], WARN, r"osd_dump\.json:\d+: .*JSON.*skipped")
case("cut-gzip-stream", {"pg_dump.json.gz": lambda: _gz_cut("R:pg_dump.json")}, ["table", "{d}/pg_dump.json.gz"],
     ERR, r"pg_dump\.json\.gz: cannot decompress")


def _odd_weight_map() -> tuple[bytes, bytes]:
    """A binary CRUSH map with an OSD weight of 119236/65536 (1.81940) and crushtool 16.2.15's text of it,
    which prints 1.819: the two describe the same map."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        t = subprocess.run(["crushtool", "-d", str(path_of("S:mixed/crushmap.bin"))], check=True,
                           capture_output=True, text=True).stdout
        t = t.replace("item osd.0 weight 1.000", "item osd.0 weight 1.81940", 1)
        Path(d, "m.txt").write_text(t)
        subprocess.run(["crushtool", "-c", f"{d}/m.txt", "-o", f"{d}/m.bin"], check=True, capture_output=True)
        text_out = subprocess.run(["crushtool", "-d", f"{d}/m.bin"], check=True, capture_output=True).stdout
        return Path(d, "m.bin").read_bytes(), text_out


def _lines(ref: str) -> list[bytes]:
    return raw(ref).splitlines(keepends=True)


def _before(ref: str, marker: str) -> bytes:
    from tests.badinput._build import raw

    t = raw(ref)
    return t[:t.index(marker.encode())]


def _gz_cut(ref: str) -> bytes:
    import gzip

    from tests.badinput._build import raw

    z = gzip.compress(raw(ref))
    return z[:len(z) // 2]


# ---------------------------------------------------------------------------------------------------
# files of two different clusters (or releases, epochs) combined
OTHER = "S:mixed/"
case("mix-pg-dump-seed-osd-dump-mixed", {**SEED, "osd_dump.json": src("S:mixed/osd_dump.json")},
     ["table", *SEEDF], ERR, r"(?i)osd_dump\.json.*(pg_dump|cluster|fsid|pool)|pg_dump\.txt.*osd_dump\.json")
case("mix-pg-dump-pacific-osd-dump-jewel", {**SEED, "osd_dump.json": src("P:03_jewel_osd_dump_json_python_crush.txt")},
     ["table", *SEEDF], ERR, r"osd_dump\.json")
case("mix-osd-dump-seed-crush-mixed", {"osd_dump.json": OSDJ, "crush_dump.json": src("S:mixed/crush_dump.json")},
     ["map", "{d}/osd_dump.json", "{d}/crush_dump.json", "--format", "stats"], ERR,
     r"crush_dump\.json places OSD\(s\) osd\.12, osd\.13 that the osdmap of .*max_osd 12")
case("mix-pool-ls-detail-other-cluster", {**SEED, "p.json": src("S:mixed/osd_pool_ls_detail.json")},
     ["table", *SEEDF, "{d}/p.json"], ERR,
     r"p\.json and .*osd_dump\.json list different pools \(pool\(s\) 2 \(images / fast\)")
case("mix-two-pg-dumps", {"a.txt": PGD, "b.txt": src("S:mixed/pg_dump.txt")}, ["table", "{d}/a.txt", "{d}/b.txt"],
     ERR, r"a\.txt|b\.txt")
case("mix-two-osd-dumps", {"pg_dump.txt": PGD, "a.json": OSDJ, "b.json": src("S:mixed/osd_dump.json")},
     ["table", "{d}/pg_dump.txt", "{d}/a.json", "{d}/b.json"], ERR, r"a\.json|b\.json")
case("mix-epoch-few-behind", {"pg_dump.json": src("R:pg_dump.json"),
                              "osd_dump.json": json_edit("R:osd_dump.json", lambda o: o.update(epoch=o["epoch"] + 2))},
     ["table", "{d}/pg_dump.json", "{d}/osd_dump.json"], WARN,
     r"pg_dump\.json: its newest PG report is at osdmap epoch 101, 2 epoch\(s\) behind.*epoch 103")
case("mix-pasted-two-dumps-one-file", {"x.txt": concat(PGD, src("S:mixed/pg_dump.txt"))}, ["table", "{d}/x.txt"],
     ERR, r"x\.txt:\d+: pgid: a second PG table .*up/acting differ")
case("mix-pasted-same-dump-twice", {"x.txt": concat(PGD, PGD)}, ["table", "{d}/x.txt"],
     WARN, r"x\.txt:\d+: a second PG table .*repeating 1920 PGs .* unchanged; ignored")
case("mix-pg-dump-more-pgs-than-pg-num",
     {**SEED, "osd_dump.json": json_edit("R:osd_dump.json", lambda o: o["pools"][0].update(pg_num=64,
                                                                                                       pgp_num=64))},
     ["table", *SEEDF], ERR, r"(?i)pg_num")
case("mix-pg-on-osd-beyond-max-osd",
     {**SEED, "osd_dump.json": json_edit("R:osd_dump.json", lambda o: o.update(max_osd=6))},
     ["table", *SEEDF], ERR, r"(?i)max_osd")

# ---------------------------------------------------------------------------------------------------
# absurd numbers and unknown names on the command line
W = ["whatif", *SEEDF]
case("cli-whatif-pg-num-huge", SEED, [*W, "--pg-num", "rbd=99999999"], WARN, r"would be refused.*65536", timeout=HANG,
     subprocess=True)
# the mon refuses pg_num 0 / -5 (ERANGE): a what-if stops there, marked refused, with the mon's message
case("cli-whatif-pg-num-zero", SEED, [*W, "--pg-num", "rbd=0"], WARN, r"pg_num 0\) would be refused.*ERANGE",
     stdout=r"REFUSED")
case("cli-whatif-pg-num-negative", SEED, [*W, "--pg-num", "rbd=-5"], WARN, r"pg_num -5\) would be refused.*ERANGE",
     stdout=r"REFUSED")
case("cli-whatif-pg-num-not-a-number", SEED, [*W, "--pg-num", "rbd=lots"], ERR, r"(?i)pg.?num.*lots|lots")
case("cli-whatif-pg-num-unknown-pool", SEED, [*W, "--pg-num", "nosuch=64"], ERR, r"nosuch")
case("cli-whatif-pg-num-no-equals", SEED, [*W, "--pg-num", "rbd"], ERR, r"(?i)pool=n|rbd")
case("cli-whatif-pgp-num-above-pg-num", SEED, [*W, "--pgp-num", "rbd=4096"], WARN, r"would be refused.*pgp_num 4096")
case("cli-whatif-reweight-negative", SEED, [*W, "--reweight", "osd.0=-1"], ERR, r"(?i)reweight|weight")
case("cli-whatif-reweight-above-one", SEED, [*W, "--reweight", "osd.0=1.5"], ERR, r"(?i)reweight|weight")
case("cli-whatif-crush-weight-negative", SEED, [*W, "--crush-weight", "osd.0=-2"], ERR, r"(?i)weight")
case("cli-whatif-crush-weight-unknown-osd", SEED, [*W, "--crush-weight", "osd.999=1"], ERR, r"999")
case("cli-whatif-out-unknown-osd", SEED, [*W, "--out", "999"], ERR, r"999")
case("cli-whatif-fail-unknown-host", SEED, [*W, "--fail", "host=nosuch"], ERR, r"nosuch")
case("cli-whatif-fail-unknown-osd", SEED, [*W, "--fail", "osd.999"], ERR, r"999")
case("cli-whatif-add-host-zero-osds", SEED, [*W, "--add-host", "h9:0:1.0"], OK)  # an empty host: nothing moves
case("cli-whatif-add-host-negative-count", SEED, [*W, "--add-host", "h9:-2:1.0"], ERR, r"(?i)h9|count|osd")
case("cli-whatif-add-host-negative-weight", SEED, [*W, "--add-host", "h9:2:-1"], ERR, r"(?i)weight|h9")
case("cli-whatif-change-unknown-kind", SEED, [*W, "--change", "frobnicate:1"], ERR, r"frobnicate")
case("cli-whatif-upmap-unknown-osd", SEED, [*W, "--change", "upmap:1.0=0:999"], WARN, r"would be refused.*999")
case("cli-whatif-upmap-unknown-pg", SEED, [*W, "--change", "upmap:1.fff=0:1"], WARN, r"would be refused.*1\.fff")
# crush-test prints what crushtool 16.2.15 prints (checked against `crushtool -i crushmap.bin --test
# --show-mappings --rule 0 --min-x 0 --max-x 3 --num-rep N` on the same capture): --num-rep -1 is "not given",
# every size from the rule's min_size (1) to max_size (10); --num-rep 0 maps to [] for every x
case("cli-crush-test-num-rep-negative", {"c.json": src("R:crush_dump.json")},
     ["crush-test", "--crush", "{d}/c.json", "--num-rep", "-1", "--max-x", "3"], OK,
     stdout=r"^CRUSH rule 0 x 0 \[3\]\n(.*\n){3}CRUSH rule 0 x 0 \[3,7\]\n(.*\n){6}CRUSH rule 0 x 3 \[0,4,6\]\n"
            r"(.*\n){3}CRUSH rule 0 x 3 \[0,4,6,10\]\n(.*\n){23}CRUSH rule 0 x 3 \[0,4,6,10\]\n$")
case("cli-crush-test-num-rep-zero", {"c.json": src("R:crush_dump.json")},
     ["crush-test", "--crush", "{d}/c.json", "--num-rep", "0", "--max-x", "2"], OK,
     stdout=r"^CRUSH rule 0 x 0 \[\]\nCRUSH rule 0 x 1 \[\]\nCRUSH rule 0 x 2 \[\]\n$")
case("cli-crush-test-unknown-rule", {"c.json": src("R:crush_dump.json")},
     ["crush-test", "--crush", "{d}/c.json", "--rule", "99"], ERR, r"(?i)rule.*99|99")
case("cli-crush-test-min-above-max", {"c.json": src("R:crush_dump.json")},
     ["crush-test", "--crush", "{d}/c.json", "--min-x", "10", "--max-x", "2"], ERR, r"(?i)min.x|max.x")
case("cli-crush-test-weight-above-one", {"c.json": src("R:crush_dump.json")},
     ["crush-test", "--crush", "{d}/c.json", "--weight", "0=2", "--max-x", "2"], ERR, r"(?i)weight")
case("cli-crush-test-weight-negative", {"c.json": src("R:crush_dump.json")},
     ["crush-test", "--crush", "{d}/c.json", "--weight", "0=-1", "--max-x", "2"], ERR, r"(?i)weight")
case("cli-crush-test-weight-unknown-osd", {"c.json": src("R:crush_dump.json")},
     ["crush-test", "--crush", "{d}/c.json", "--weight", "999=0.5", "--max-x", "2"], WARN,
     r"--weight 999=0.5: no device 999.*ignored", stdout=r"^CRUSH rule 0 x 0 \[3,7,2\]\n")  # crushtool ignores it
case("cli-map-unknown-pool", {"o.json": OSDJ, "c.json": src("R:crush_dump.json")},
     ["map", "{d}/o.json", "{d}/c.json", "--pool", "99"], ERR, r"99")
case("cli-map-pg-num-zero", {"o.json": OSDJ, "c.json": src("R:crush_dump.json")},
     ["map", "{d}/o.json", "{d}/c.json", "--pool", "1", "--pg-num", "0"], ERR, r"(?i)pg.num")
case("cli-map-pg-num-negative", {"o.json": OSDJ, "c.json": src("R:crush_dump.json")},
     ["map", "{d}/o.json", "{d}/c.json", "--pool", "1", "--pg-num", "-8"], ERR, r"(?i)pg.num")
case("cli-map-pg-num-huge", {"o.json": OSDJ, "c.json": src("R:crush_dump.json")},
     ["map", "{d}/o.json", "{d}/c.json", "--pool", "1", "--pg-num", "99999999", "--format", "stats"], ERR,
     r"(?i)pg.num", timeout=HANG, subprocess=True)
case("cli-map-mark-out-unknown-osd", {"o.json": OSDJ, "c.json": src("R:crush_dump.json")},
     ["map", "{d}/o.json", "{d}/c.json", "--pool", "1", "--mark-out", "999"], WARN,
     r"--mark-out 999: no OSD 999.*ignored")  # osdmaptool skips it without a word
case("cli-map-adjust-weight-negative", {"o.json": OSDJ, "c.json": src("R:crush_dump.json")},
     ["map", "{d}/o.json", "{d}/c.json", "--pool", "1", "--adjust-crush-weight", "0:-1"], ERR, r"(?i)weight")
case("cli-map-object-unknown-pool", {"o.json": OSDJ, "c.json": src("R:crush_dump.json")},
     ["map-object", "--capture", "{d}/o.json", "--capture", "{d}/c.json", "--pool", "nosuch", "o"], ERR, r"nosuch")
case("cli-pgcalc-zero-osds", {}, ["pgcalc", "--osds", "0"], ERR, r"(?i)osds")
case("cli-pgcalc-negative-osds", {}, ["pgcalc", "--osds", "-3"], ERR, r"(?i)osds")
case("cli-pgcalc-size-zero", {}, ["pgcalc", "--osds", "12", "--size", "0"], ERR, r"(?i)size")
case("cli-pgcalc-negative-target", {}, ["pgcalc", "--osds", "12", "--target-per-osd", "-100"], ERR, r"(?i)target")
case("cli-pgcalc-osds-huge", {}, ["pgcalc", "--osds", "99999999"], WARN, r"above mon_max_pool_pg_num 65536")
case("cli-fix-max-per-osd-zero", SEED, ["fix-too-many-pgs", *SEEDF, "--max-per-osd", "0"], ERR, r"(?i)max.per.osd",
     subprocess=True, timeout=HANG)
case("cli-fix-min-pg-num-negative", SEED, ["fix-too-many-pgs", *SEEDF, "--min-pg-num", "-1"], ERR,
     r"(?i)min.pg.num")
case("cli-health-negative-max-pg", SEED, ["health", *SEEDF, "--mon-max-pg-per-osd", "-1"], ERR,
     r"(?i)mon.max.pg.per.osd")
case("cli-health-negative-hard-ratio", SEED, ["health", *SEEDF, "--hard-ratio", "-2"], ERR, r"(?i)hard.ratio")
case("cli-health-unknown-release", SEED, ["health", *SEEDF, "--release", "nosuch"], ERR,
     r"nosuch.*known: .*pacific")
case("cli-autoscale-target-zero", SEED, ["autoscale", *SEEDF, "--target-per-osd", "0"], ERR, r"(?i)target")
case("cli-autoscale-target-negative", SEED, ["autoscale", *SEEDF, "--target-per-osd", "-5"], ERR, r"(?i)target")
case("cli-table-unknown-format", SEED, ["table", *SEEDF, "--format", "xml"], ERR, r"xml")
case("cli-unknown-command", {}, ["frobnicate"], ERR, r"frobnicate")
case("cli-verify-limit-negative", SEED, ["verify", *SEEDF, "--limit", "-1"], ERR, r"(?i)limit")
case("cli-report-pg-num-huge", SEED, ["report", *SEEDF, "--pg-num", "rbd=99999999", "-o", "{d}/r.html"], WARN,
     r"would be refused",
     timeout=HANG, subprocess=True)
case("cli-demo-out-is-a-file", {**SEED, "out": text("x")}, ["demo", "{d}", "-o", "{d}/out"], ERR, r"out")
case("cli-collect-no-ceph", {}, ["collect", "-o", "{d}/cap", "--ceph", "{d}/no-such-ceph"], ERR,
     r"no-such-ceph", outputs=("cap",))

# ---------------------------------------------------------------------------------------------------
# unbounded inputs: a child process, killed at the time bound
case("hang-dev-zero-table", {}, ["table", "/dev/zero"], ERR, r"/dev/zero", subprocess=True, timeout=HANG)
case("hang-dev-zero-crush", {}, ["crush-test", "--crush", "/dev/zero"], ERR, r"/dev/zero", subprocess=True,
     timeout=HANG)
case("hang-crush-bucket-contains-itself",
     {"c.json": json_edit("C:01_flat10_hosts_straw2_firstn/crush.json", lambda o: _add_item(o, "host0", "host0"))},
     ["crush-test", "--crush", "{d}/c.json", "--max-x", "3"], ERR, r"c\.json.*(?i:cycle|itself|loop)",
     subprocess=True, timeout=HANG)
case("hang-crush-cycle-of-two-buckets",
     {"c.json": json_edit("C:01_flat10_hosts_straw2_firstn/crush.json", lambda o: _add_item(o, "host0", "root"))},
     ["crush-test", "--crush", "{d}/c.json", "--max-x", "3"], ERR, r"c\.json.*(?i:cycle|itself|loop)",
     subprocess=True, timeout=HANG)

# ---------------------------------------------------------------------------------------------------
# the balancer and durability commands (issues #14, #15): good input once, then the wrong file, a cut file,
# absurd arguments
MIXF = ["{d}/mixed"]
case("ok-balance-commands", MIXED, ["balance", *MIXF, "--format", "commands"], WARN, r"±1 is impossible for pool ec42",
     stdout=r"ceph osd pg-upmap-items ")
case("ok-upmaps-clean", MIXED, ["upmaps", *MIXF, "--clean"], OK)
case("ok-risk", SEED, ["risk", *SEEDF, "--failures", "1,2"], OK, stdout=r"(?i)p_any_lost|lost")
case("ok-sweep-serial", SEED, ["sweep", *SEEDF, "--pg-num", "rbd=64,128", "--failures", "2", "--scheduler",
                               "serial"], OK, stdout=r"rbd")
case("balance-cut-osd-dump", {"osd_dump.json": cut("R:osd_dump.json", 0.5), "crush_dump.json": CRUSHJ},
     ["balance", "{d}/osd_dump.json", "{d}/crush_dump.json"], ERR, r"osd_dump\.json.*(cut|incomplete|stops)")
case("balance-pg-dump-only", {"pg_dump.txt": PGD}, ["balance", "{d}/pg_dump.txt"], ERR, r"CRUSH map")
case("balance-unknown-pool", MIXED, ["balance", *MIXF, "--pool", "nope"], ERR, r"'nope'")
case("balance-primary-on-pacific", MIXED, ["balance", *MIXF, "--mode", "primary", "--release", "pacific"], ERR,
     r"(?i)read balancer.*Reef")
case("upmaps-drain-unknown-osd", MIXED, ["upmaps", *MIXF, "--drain", "osd.99"], ERR, r"osd\.99")
case("risk-crush-map-only", {"crush_dump.json": CRUSHJ}, ["risk", "{d}/crush_dump.json"], ERR, r"no pools")
case("risk-osd-table-only", {"osd_tree.txt": src("R:osd_tree.txt")}, ["risk", "{d}/osd_tree.txt"], ERR,
     r"no pools")
case("risk-cut-pg-dump", {"pg_dump.txt": cut("R:pg_dump.txt", 0.5)}, ["risk", "{d}/pg_dump.txt"], WARN,
     r"PGs missing from the dump, or it was cut short")
case("risk-unknown-level", SEED, ["risk", *SEEDF, "--level", "datacentre"], ERR, r"datacentre")
case("risk-more-failures-than-osds", SEED, ["risk", *SEEDF, "--failures", "13"], ERR, r"12 osds hold data")
case("risk-afr-above-one", SEED, ["risk", *SEEDF, "--afr", "1.5"], ERR, r"afr 1\.5")
case("sweep-unknown-pool", SEED, ["sweep", *SEEDF, "--pg-num", "nope=64", "--scheduler", "serial"], ERR,
     r"'nope'")
case("sweep-bad-scheduler-address", SEED, ["sweep", *SEEDF, "--pg-num", "rbd=64", "--scheduler",
                                           "tcp://127.0.0.1:9"], ERR, r"127\.0\.0\.1:9", timeout=60)


def _add_item(crush: dict, bucket: str, item: str) -> None:
    """Put bucket ``item`` into bucket ``bucket`` of a crush dump (a cycle when ``item`` holds ``bucket``)."""
    ids = {b["name"]: b["id"] for b in crush["buckets"]}
    b = next(b for b in crush["buckets"] if b["name"] == bucket)
    b["items"].append({"id": ids[item], "weight": 65536, "pos": len(b["items"])})


CASES = {c.id: c for c in C}
assert len(CASES) == len(C), "duplicate case ids"
