"""The HTML report: sections, table values, health text, embedded PNGs, escaping, what-if plans, and a
headless Chromium screenshot."""

from __future__ import annotations

import base64
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import pgtools
from pgtools.report import SECTIONS, build_report, write_report
from pgtools.report.document import MAX_PLAN_ROWS as MAX_ROWS
from tests.paths import SAMPLE_DUMPS

SAMPLE = SAMPLE_DUMPS / "seedlike_max300"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_PNG = "data:image/png;base64,"


class _Doc(HTMLParser):
    """Collects section ids, h2 titles, <img> sources, all text, and the rows of table#pool-osd."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.h2: list[str] = []
        self.imgs: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.links: list[str] = []
        self.grid: list[list[str]] = []
        self._in_grid = False
        self._in_h2 = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "section":
            self.sections.append(a.get("id"))
        elif tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        elif tag == "img":
            self.imgs.append(a.get("src", ""))
        elif tag in ("a", "link") and "href" in a:
            self.links.append(a["href"])
        elif tag == "table" and a.get("id") == "pool-osd":
            self._in_grid = True
        elif self._in_grid and tag == "tr":
            self.grid.append([])
        elif self._in_grid and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        elif tag == "table" and self._in_grid:
            self._in_grid = False
        elif self._in_grid and tag in ("td", "th") and self._cell is not None:
            self.grid[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self.text.append(data)
        if self._in_h2:
            self.h2[-1] += data
        if self._cell is not None:
            self._cell.append(data)


def _parse(doc: str) -> _Doc:
    p = _Doc()
    p.feed(doc)
    p.close()
    return p


@pytest.fixture(scope="module")
def snap():
    return pgtools.load(SAMPLE)


@pytest.fixture(scope="module")
def report(snap):
    before = set(plt.get_fignums())
    doc = build_report(snap)
    assert set(plt.get_fignums()) == before  # no figure left open
    return doc


@pytest.fixture(scope="module")
def parsed(report):
    return _parse(report)


def _pngs(srcs: list[str]) -> list[bytes]:
    return [base64.b64decode(s[len(DATA_PNG):], validate=True) for s in srcs if s.startswith(DATA_PNG)]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_sections_in_order(parsed):
    assert parsed.sections == list(SECTIONS)
    assert parsed.h2 == ["Summary", "Health", "PGs per pool and OSD", "Imbalance", "Autoscaler recommendations",
                         "Plots", "Placement verification", "Balancer plans", "Durability", "What-if plans"]
    assert parsed.links == [f"#{s}" for s in SECTIONS]


def test_summary_numbers(parsed):
    text = "".join(parsed.text)
    assert "1,920 PGs in 15 pools on 12 OSDs · osdmap epoch 101 · Ceph pacific" in text and "<Snapshot" not in text
    assert "12 (12 up, 12 in)" in text
    assert "120.0 GiB raw, 1.2 GiB used (1.00 %)" in text
    assert "pg_dump.txt" in text and "osd_pool_ls_detail.json" in text


def test_pool_osd_table_values(parsed):
    rows = {r[0]: r for r in parsed.grid[1:]}
    header = parsed.grid[0]
    assert header[:2] == ["OSD", "host"] and header[-1] == "SUM"
    assert header[2] == "rbd1" and header[16] == "scratch15"  # vertical name, then pool id
    assert len(rows) == 13 and list(rows)[-1] == "SUM"
    assert rows["osd.0"][1] == "node1"
    assert rows["osd.0"][-1] == "470"
    assert rows["osd.0"][2:5] == ["37", "30", "35"]
    assert rows["osd.7"][-1] == "495" and rows["osd.3"][-1] == "461"
    assert rows["SUM"][2:-1] == ["384"] * 15
    assert rows["SUM"][-1] == "5760"


def test_health_and_statistics(parsed):
    text = "".join(parsed.text)
    assert text.count("too many PGs per OSD (480 > max 300)") == 2  # what the cluster said, and ours
    assert "5760 PG copies (max of Σ|up| 5760 and 1920 PGs) // 12 in OSDs = 480 > mon_max_pg_per_osd 300" in text
    assert "12 of 12 OSDs hold more than mon_max_pg_per_osd 300 PGs (range 461..495)" in text
    assert ("mean 480.0. Against each OSD's weight-share target the deviations have an RMS of 11.62, where random "
            "placement with these weights gives 20.98 (ratio 0.55: tighter than random placement" in text)
    assert "osd.3: 461" in text and "osd.7: 495" in text
    assert "recommends a different pg_num for 15 of 15 pools; it would act on 0" in text
    assert "PG copies now 5760, with the recommendations 1440 (about 120 per OSD)" in text
    assert "agrees with the dump for all 1920 PGs" in text
    assert "No what-if plan was given" in text
    assert "Not available" not in text


def test_images_are_embedded_pngs(parsed, report):
    assert len(parsed.imgs) == 5  # four plots and the balancer's before/after
    assert all(s.startswith(DATA_PNG) for s in parsed.imgs)
    sizes = [_png_size(d) for d in _pngs(parsed.imgs)]
    assert len(sizes) == 5 and all(w > 300 and h > 200 for w, h in sizes)
    assert sizes[0][0] == 13 * 90  # 13 in at 90 dpi
    # self-contained: no script, no external resource
    assert "<script" not in report and "http://" not in report and "https://" not in report


def test_text_is_escaped(snap):
    pools = snap.pools.copy()
    pools.loc[pools.pool_id == 1, "pool"] = "<script>alert('x')</script>&"
    doc = build_report(snap.replace(pools=pools), title="A <b>title</b>")
    assert "<script" not in doc and "<b>title</b>" not in doc
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;" in doc
    p = _parse(doc)
    assert "<script>alert('x')</script>&" in p.text
    assert p.grid[0][2] == "<script>alert('x')</script>&1"


def test_without_crush_and_health(snap):
    doc = build_report(snap.replace(crush=None, health=None), by="acting")
    p = _parse(doc)
    text = "".join(p.text)
    assert "The capture has no CRUSH map: placement cannot be recomputed." in text
    assert "No ceph health detail in the capture." in text
    assert len(p.imgs) == 3  # no crush tree, no balancer plan
    assert "counted over the acting sets" in text


def test_bad_by_raises(snap):
    with pytest.raises(ValueError, match="by must be 'up' or 'acting'"):
        build_report(snap, by="primary")


def _stand_in_plan(snap) -> SimpleNamespace:
    """The attributes of pgtools.simulate.Plan that the report reads: all 15 pools 128 -> 64."""
    osds = np.arange(12)
    now = pgtools.analysis.pg_counts(snap).reindex(osds).to_numpy()
    load = pd.DataFrame({"step": np.repeat([0, 1], 12), "osd_id": np.tile(osds, 2),
                         "pgs": np.concatenate([now, now // 2]), "bytes": 0, "utilization": 1.0})
    steps = pd.DataFrame({"step": [0, 1], "change": ["(now)", "pg_num 128 -> 64 on all 15 pools"],
                          "pgs_moved": [0, 960], "max_pgs_per_osd": [495, 247]})
    movement = pd.DataFrame({"step": [1] * 12, "osd_id": osds, "pgs_in": 10, "pgs_out": 12,
                             "bytes_in": 1 << 20, "bytes_out": 1 << 21})
    health = pd.DataFrame({"step": [0], "code": ["TOO_MANY_PGS"], "severity": ["HEALTH_WARN"],
                           "summary": ["too many PGs per OSD (480 > max 300)"]})
    return SimpleNamespace(title="merge every pool to 64 PGs", steps=steps, movement=movement, osd_load=load,
                           health=health, to_json=lambda: "{}")


def test_what_if_plan_is_rendered(snap):
    doc = build_report(snap, what_if=[_stand_in_plan(snap), SimpleNamespace()])
    p = _parse(doc)
    text = "".join(p.text)
    assert len(p.imgs) == 6  # the four plots, the balancer's and the plan's before/after bars
    assert all(_png_size(d)[0] > 0 for d in _pngs(p.imgs))
    assert "merge every pool to 64 PGs" in text
    assert "pg_num 128 -> 64 on all 15 pools" in text
    assert "Most PG copies on one OSD: 495 now, peak 495, 247 at the end." in text
    # movement summed over the 12 OSDs of step 1
    assert "120 144 12.0 MiB 24.0 MiB" in " ".join(t.strip() for t in p.text if t.strip())
    assert "plan 2" in text and "SimpleNamespace has no steps, health, movement or osd_load." in text


def test_what_if_with_simulate(snap):
    simulate = pytest.importorskip("pgtools.simulate")
    pools = [int(x) for x in snap.pools.pool_id]
    plan = simulate.simulate(snap, [simulate.SetPgNum(pid, 64) for pid in pools])
    doc = build_report(snap, what_if=[plan])
    p = _parse(doc)
    assert len(p.imgs) == 6
    assert "Not available" not in "".join(p.text)


def test_write_report(snap, tmp_path):
    out = write_report(snap, tmp_path / "r.html", title="Capacity meeting")
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<title>Capacity meeting</title>" in text
    assert text.count(DATA_PNG) == 5


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.integration
def test_chromium_renders_the_report(snap, tmp_path):
    exe = _chromium()
    if exe is None:  # with CI=true, conftest turns this skip of an integration test into a failure
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    html_path = write_report(snap, tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1400,3000",
           html_path.resolve().as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=25)
    assert shot.exists() and shot.stat().st_size > 10_000
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[:2] == (3000, 1400)
    rgb = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours = np.unique(rgb[::7], axis=0)
    assert len(colours) > 500  # text, tables and plots, not a blank page
    # the page background is not uniform: the top rows hold the title in dark blue on white
    top = rgb.reshape(3000, 1400, 3)[:120]
    assert (top.sum(axis=2) < 300).sum() > 200


def test_mixed_capture_with_ec_pools_and_skipped_autoscale():
    snap = pgtools.load(SAMPLE_DUMPS / "mixed")
    p = _parse(build_report(snap))
    text = "".join(p.text)
    rows = {r[0]: r for r in p.grid[1:]}
    assert p.grid[0][2:-1] == ["rbd1", "fast2", "byrack3", "meta4", "ec215", "ec426"]
    assert rows["SUM"][2:] == ["192", "96", "48", "16", "96", "96", "544"]  # EC: pg_num × (k+m) shards
    assert rows["osd.6"][-1] == "90" and "osd.5" not in rows  # osd.5 holds no PG
    assert "recommends a different pg_num for 0 of 1 pools" in text
    assert "5 pools are skipped by the autoscaler" in text
    assert "skipped: CRUSH root -2 overlaps another pool's root (-1, -2)" in text
    assert "mon_max_pg_per_osd = 1000 is far above the fullest OSD (90) and not drawn." in text
    assert "agrees with the dump for all 168 PGs" in text
    assert "HEALTH_OK" in text and "Not available" not in text
    assert len(p.imgs) == 5


# ------------------------------------------------------------------------------------------ what-if section
def _what_if_html(doc: str) -> str:
    return doc[doc.index('<section id="what-if">'):]


def test_what_if_failure_names_lost_pgs():
    from pgtools.simulate import Fail, simulate

    snap = pgtools.load(SAMPLE_DUMPS / "mixed")
    plan = simulate(snap, [Fail("r1")])
    section = _what_if_html(build_report(snap, what_if=[plan]))
    text = " ".join(t.strip() for t in _parse(section).text if t.strip())
    assert ("7 PGs LOST (no surviving copy / fewer than k shards): nothing can recover them; 240.0 KiB in 15 "
            "objects lost.") in text
    assert "4.3, 5.2, 5.b, 5.f, 5.13, 5.15, 5.16" in text
    # per pool: ec21 loses 6 PGs and 240 KiB; the step row says lost / inactive / degraded
    assert "1 ec21 6 0 17 240.0 KiB 15 416.0 KiB" in text
    assert "7 / 44 / 97" in text
    # sizes are humanised: no raw byte count of the plan appears
    for raw in (plan.steps.bytes_moved.iloc[1], plan.steps.bytes_lost.iloc[1], plan.steps.bytes_to_recover.iloc[1]):
        assert str(int(raw)) not in section
    assert "5.1 MiB" in text
    assert '<div class="scroll"><table class="data plan">' in section
    assert "Not available" not in text
    # the failure plot (lost / inactive / degraded per pool) and the before/after bars
    assert len(_parse(section).imgs) == 2 and "Step 1: PGs each pool has left short of copies" in text


def test_what_if_health_is_folded_and_long_plans_are_cut():
    n = 103
    steps = pd.DataFrame({"step": range(n), "change": ["input"] + [f"grow pool x: pg_num {64 + i}" for i in range(1, n)],
                          "pgs_moved": 1, "shards_moved": 3, "bytes_moved": 3 << 20, "max_pgs_per_osd": 100})
    health = pd.DataFrame({"step": np.repeat(np.arange(n), 2), "code": ["TOO_MANY_PGS", "OSD_ABOVE"] * n,
                           "severity": ["HEALTH_WARN", "INFO"] * n,
                           "summary": ["too many PGs per OSD (480 > max 300)", "12 of 12 OSDs above"] * n})
    plan = SimpleNamespace(steps=steps, health=health)
    snap = pgtools.load(SAMPLE)
    section = _what_if_html(build_report(snap, what_if=[plan]))
    text = " ".join(t.strip() for t in _parse(section).text if t.strip())
    # 206 health rows: each message once, with its steps
    assert section.count("too many PGs per OSD (480 &gt; max 300)") == 1
    assert section.count("12 of 12 OSDs above") == 1
    assert "— steps 0–102 (103 of 103)" in text
    # one row per step, the middle of a long plan left out with a marker
    assert section.count("<tr>") == 1 + MAX_ROWS
    assert '<tr class="gap">' in section
    assert f"{n - MAX_ROWS} steps between step 29 and step 93 not shown ({n} in all)." in text
    # the stepwise prefix is said once, the rows keep what changes
    assert "Every step after 0 is part of grow pool x" in text and "pg_num 65" in text
    assert "grow pool x: pg_num 65" not in text
    assert "3.0 MiB" in text and str(3 << 20) not in section


def test_health_with_changing_numbers_is_one_item():
    from pgtools.report.plan import _health_list, fold_health, step_ranges

    assert step_ranges([5, 0, 1, 2, 7, 8, 2]) == "0–2, 5, 7–8"
    h = pd.DataFrame({"step": [0, 1, 2, 3], "code": "C", "severity": "INFO",
                      "summary": ["range 1..5", "range 2..5", "range 3..5", "range 2..5"]})
    f = fold_health(h)
    assert f["steps"].tolist() == ["0", "1, 3", "2"]
    out = _health_list(h, 4)
    assert out.count("<li>") == 3  # the check, its first and its last message
    assert "3 different messages" in out and "first: range 1..5" in out and "last: range 2..5" in out
