"""tests/badinput: print how many fuzz cases ran, over how many targets (issue #11: report the number)."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ANN001
    from tests.badinput._count import COUNTS

    if COUNTS:
        per = ", ".join(f"{k} {v}" for k, v in sorted(COUNTS.items()))
        terminalreporter.write_line(f"fuzz: {sum(COUNTS.values())} cases over {len(COUNTS)} targets ({per})")
