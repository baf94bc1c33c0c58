"""Paths used by the tests: the repository, its test data, and the shared reference material."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
TEST_DATA = TESTS / "data"
SAMPLE_DUMPS = REPO / "sample_dumps"
#: ../shared beside the clone (reference data; CI places it there)
SHARED = REPO.parent / "shared"
REAL = SHARED / "data" / "real" / "seedlike_max300"
PUBLIC = SHARED / "data" / "public_dumps"
CRUSH_CASES = SHARED / "data" / "crush"
