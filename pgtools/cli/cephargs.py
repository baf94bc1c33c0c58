"""Ceph's command-line argument helpers (``src/common/ceph_argparse.cc``), as crushtool and osdmaptool use them.

The drop-in commands (:mod:`.dropin`) read their argv with these so an operator's command line means what it
means to Ceph's tools:

* an option name matches with ``-`` and ``_`` interchangeable after its first character
  (``ceph_argparse_flag``/``dashes_match``: ``--pg_num`` and ``--pg-num``, ``--show_mappings``);
* an option with a value takes it as the next argument or after ``=`` (``--rule 0``, ``--rule=0``);
  a missing value is ``Option --rule requires an argument.`` and exit status 1;
* an integer value goes through ``strict_strtol`` (base 10, whole string, C ``int`` range):
  ``The option value 'abc' is invalid`` / ``The option value '99999999999' seems to be invalid``;
* ``--`` ends the options (``ceph_argparse_double_dash``).

Each helper consumes what it matched from the list, as the C++ helpers erase from ``args``; what is left at the
end is what the tool calls ``unrecognized arguments``.
"""

from __future__ import annotations

import re

__all__ = ["ToolExit", "Args", "strict_int", "c_atof", "format_arg_list"]


class ToolExit(Exception):  # noqa: N818 (an exit, like SystemExit)
    """The tool stops here: ``stderr`` (may be empty) is printed and the process exits with ``code``."""

    def __init__(self, code: int, stderr: str = "", stdout: str = "") -> None:
        super().__init__(stderr.strip())
        self.code = code
        self.stderr = stderr
        self.stdout = stdout


def _norm(name: str) -> str:
    return name[:1] + name[1:].replace("_", "-")


def strict_int(text: str) -> int:
    """``strict_strtol(text, 10)`` as ``ceph_argparse_withint`` uses it; a bad value exits like the tools (1)."""
    t = text.lstrip(" \t\n\r\f\v")
    if not re.fullmatch(r"[+-]?[0-9]+", t):
        raise ToolExit(1, f"The option value '{text}' is invalid\n")
    v = int(t)
    if not -(1 << 31) <= v < (1 << 31):
        raise ToolExit(1, f"The option value '{text}' seems to be invalid\n")
    return v


def c_atof(text: str) -> float:
    """C ``atof``: the longest leading decimal float (leading blanks skipped), 0.0 when there is none."""
    m = re.match(r"[ \t\n\r\f\v]*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)", text)
    if m is None:
        m2 = re.match(r"[ \t\n\r\f\v]*([+-]?(?:inf(?:inity)?|nan))", text, re.IGNORECASE)
        return float(m2.group(1)) if m2 else 0.0
    return float(m.group(1))


def format_arg_list(args: list[str]) -> str:
    """Ceph's ``operator<<(ostream&, vector<const char*>)``: ``[a,b,c]``."""
    return "[" + ",".join(args) + "]"


class Args:
    """argv being consumed the way ``ceph_argparse`` consumes it (see the module docstring)."""

    def __init__(self, argv: list[str]) -> None:
        self.rest = list(argv)
        self.i = 0
        self.done_options = False

    def more(self) -> bool:
        return self.i < len(self.rest)

    def peek(self) -> str:
        return self.rest[self.i]

    def skip(self) -> None:
        """Leave the current argument (a positional, or one the caller reports as unrecognized)."""
        self.i += 1

    def double_dash(self) -> bool:
        if self.rest[self.i] == "--":
            del self.rest[self.i]
            self.done_options = True
            return True
        return False

    def flag(self, *names: str) -> bool:
        if _norm(self.rest[self.i]) in {_norm(n) for n in names}:
            del self.rest[self.i]
            return True
        return False

    def witharg(self, *names: str) -> str | None:
        """The value of option ``names`` at the current position (``--opt v`` or ``--opt=v``), else None."""
        a = self.rest[self.i]
        wanted = {_norm(n) for n in names}
        key, eq, val = a.partition("=")
        if eq and _norm(key) in wanted:
            del self.rest[self.i]
            return val
        if _norm(a) in wanted:
            if self.i + 1 >= len(self.rest):
                raise ToolExit(1, f"Option {a} requires an argument.\n\n")
            val = self.rest[self.i + 1]
            del self.rest[self.i:self.i + 2]
            return val
        return None

    def withint(self, *names: str) -> int | None:
        v = self.witharg(*names)
        return None if v is None else strict_int(v)

    def following(self, option: str) -> str:
        """The argument after an option's own value (``--weight OSD W``): crushtool's ``expecting additional
        argument to OPTION`` when there is none."""
        if self.i >= len(self.rest):
            raise ToolExit(1, f"expecting additional argument to {option}\n")
        return self.rest.pop(self.i)

    def option_name(self) -> str:
        """The current argument's option name (without ``=value``)."""
        return self.rest[self.i].partition("=")[0]
