"""The self-contained HTML report of a snapshot (and of a what-if plan), for a capacity-planning meeting.

:mod:`~pgtools.report.document` assembles it; :mod:`~pgtools.report.plan` writes the what-if section;
:mod:`~pgtools.report.html` holds the HTML pieces both use.

Imports: :mod:`pgtools.plotting`, :mod:`pgtools.text`, :mod:`pgtools.analysis` and below; never the CLI.
"""

from .document import SECTIONS, build_report, write_report

__all__ = ['build_report', 'write_report', 'SECTIONS']
