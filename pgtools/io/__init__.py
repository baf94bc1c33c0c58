"""Readers for every dump format pgtools understands.

One module per source format; :func:`load` sniffs each file by content and merges what it finds.
"""

from __future__ import annotations

from ._common import NONE, Fragment, loads_json, read_text

__all__ = ["Fragment", "NONE", "loads_json", "read_text"]
