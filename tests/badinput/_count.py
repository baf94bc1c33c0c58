"""Examples run per fuzz target in this session (printed by ``conftest.pytest_terminal_summary``)."""

from collections import Counter

COUNTS: Counter = Counter()
