"""Text renderings (plain, Markdown, CSV, JSON) of analysis results and what-if plans, returned as strings.

The CLI, the report and the notebooks print what these return; nothing here prints.

Imports: :mod:`pgtools.analysis`, :mod:`pgtools.simulate`, :mod:`pgtools.model` and below.
"""

from .plan import plan_csv, plan_json, plan_text
from .snapshot import (
    frame_text,
    health_text,
    human_bytes,
    table_csv,
    table_json,
    table_markdown,
    table_text,
)

__all__ = ['human_bytes', 'table_text', 'table_csv', 'table_markdown', 'table_json', 'frame_text', 'health_text',
           'plan_text', 'plan_json', 'plan_csv']
