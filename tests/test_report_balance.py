"""The report's balance and durability sections (pgtools.report.balance)."""

from __future__ import annotations

import pytest

import pgtools
from pgtools.balance import plan
from pgtools.report import balance as rb
from pgtools.report import build_report
from tests.paths import SAMPLE_DUMPS


@pytest.fixture(scope="module")
def mixed():
    return pgtools.load(SAMPLE_DUMPS / "mixed")


def test_balance_section_puts_both_plans_side_by_side(mixed):
    html = rb.balance_section(mixed)
    assert "mgr&#x27;s balancer (upmap mode, its settings)" in html and "pgtools count balancer" in html
    own = plan(mixed, "count").commands
    assert own[0] in html and f"and {len(own) - rb.MAX_COMMANDS} more" in html
    assert html.count("<img") == 1


def test_durability_section_counts_host_failures(mixed):
    html = rb.durability_section(mixed)
    assert "hosts failed" in html and "(all)" in html and "n5+n3" in html
    assert "Pools with copies of a PG in one rack" in html and "byrack" not in html.split("one rack")[1]


def test_sections_say_what_to_run_on_a_capture_too_big_for_the_report(mixed, monkeypatch):
    monkeypatch.setattr(rb, "MAX_BALANCE_PGS", 10)
    doc = build_report(mixed)
    assert "pgtools balance CAPTURE --mode count" in doc and "pgtools risk CAPTURE --level host" in doc
    assert "not computed for the report: 168 PGs" in doc


def test_no_crush_map_is_a_note_not_a_failure(mixed):
    html = build_report(mixed.replace(crush=None))
    start = html.index('<section id="balance">')
    assert "Not available" in html[start:html.index('<section id="what-if">')]


def test_impossible_bounds_are_notes_in_the_section(mixed, recwarn):
    """The count balancer's proofs that ±1 is impossible (pool byrack: 3 racks) are shown, not lost on stderr."""
    html = rb.balance_section(mixed)
    assert "±1 is impossible for pool byrack" in html and "exactly 2.23 PGs" in html
    assert not [w for w in recwarn if "impossible" in str(w.message)]
