"""Exceptions raised by pgtools.

Every error pgtools raises on bad input derives from :class:`PgtoolsError`, so callers (and the CLI)
can catch one class.  Parse errors carry the file, the line and the field they are about, and print
as one line: ``path:line: field: what is wrong``.
"""

from __future__ import annotations

__all__ = [
    "PgtoolsError",
    "DumpFormatError",
    "UnsupportedFeatureError",
    "MappingMismatchError",
    "SnapshotConflictError",
    "MissingInputError",
    "PgtoolsWarning",
    "CephUndefinedBehaviourWarning",
]


class PgtoolsError(Exception):
    """Base class of every pgtools error."""


class DumpFormatError(PgtoolsError, ValueError):
    """Input that pgtools cannot read.

    Parameters
    ----------
    message : str
        What is wrong, in a few words.
    source : str, optional
        The file (or ``<stdin>``/``<string>``) the input came from.
    line : int, optional
        1-based line number in ``source``.
    field : str, optional
        The column, key or field concerned.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"

    def located(self, *, source: str | None = None, line_offset: int = 0) -> DumpFormatError:
        """Return a copy with ``source`` filled in and the line shifted by ``line_offset``."""
        return DumpFormatError(self.message, source=self.source or source,
                               line=None if self.line is None else self.line + line_offset,
                               field=self.field)


class UnsupportedFeatureError(PgtoolsError):
    """The input is valid Ceph, but uses something pgtools does not model (named in the message)."""


class MappingMismatchError(PgtoolsError):
    """A recomputed placement differs from the one a dump reports."""


class SnapshotConflictError(PgtoolsError):
    """Files given together describe different cluster states (for example two osdmap epochs)."""


class MissingInputError(PgtoolsError):
    """The capture lacks a dump the operation needs; the message names it and the ``ceph`` command that makes it."""


class UnknownPoolError(PgtoolsError, KeyError):
    """A pool named or numbered that the snapshot does not have (the message lists the pools it has).

    Also a :class:`KeyError`, as a missing label is in pandas; printed as its message, without quotes.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class PgtoolsWarning(UserWarning):
    """Base class of the warnings pgtools emits (the CLI prints them as one ``warning:`` line each)."""


class CephUndefinedBehaviourWarning(PgtoolsWarning):
    """Ceph's own result for this input is undefined (see :meth:`pgtools.crush.CrushMap.undefined_behaviour`);
    pgtools computes what the code intends, which may differ from what a cluster does."""
