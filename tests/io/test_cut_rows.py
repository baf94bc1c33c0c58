"""A dump cut inside its last row or line: each parser names the line and field (issue #11).

Before these checks the cut rows were read as data: an osd tree status ``u``, a reweight ``1.``, a pg ls or
pg dump with no closing ``* NOTE:`` line (cut at a row boundary), a df detail row with empty cells, a config
dump option without a value, a plain osd dump ``osd.1 up in weigh`` line (ignored) or a pool line ending in
a key without a value, a health detail check line cut in its summary.
"""

from __future__ import annotations

import pytest

from pgtools.errors import DumpFormatError
from pgtools.io import (
    config_dump,
    df_detail,
    health,
    osd_dump,
    osd_tree,
    pg_dump_plain,
    pg_ls_plain,
    read_text,
)
from tests.paths import REAL


def _cut(name: str, line: int, keep: int) -> str:
    """The first ``line`` lines of a real dump and ``keep`` characters of the next (negative: all but)."""
    lines = read_text(REAL / name).splitlines(keepends=True)
    return "".join(lines[:line]) + lines[line].rstrip("\n")[:keep]


@pytest.mark.parametrize("mod,name,line,keep,where", [
    (osd_tree, "osd_tree.txt", 8, -20, (9, "STATUS")),      # 'u'
    (osd_tree, "osd_tree.txt", 8, -5, (9, "PRI-AFF")),      # '1.'
    (osd_tree, "osd_tree.txt", 8, -12, (9, "REWEIGHT")),    # '1.00'
    (df_detail, "df_detail.txt", 14, -40, (15, "QUOTA BYTES")),
    (config_dump, "config_dump.txt", 3, 50, (4, "VALUE")),
    (osd_dump, "osd_dump.txt", 30, 40, (31, "state")),
    (osd_dump, "osd_dump.txt", 30, -1, (31, "uuid")),
    (osd_dump, "osd_dump.txt", 30, 10, (31, "osd")),
    (health, "health_detail.txt", 1, -10, (2, "TOO_MANY_PGS")),
    (health, "health_detail.txt", 1, 4, (2, "check")),
])
def test_cut_last_row_is_an_error_at_its_line(mod, name, line, keep, where):
    with pytest.raises(DumpFormatError) as e:
        mod.parse(_cut(name, line, keep), source=name)
    assert (e.value.line, e.value.field) == where
    assert "cut" in e.value.message or "truncated" in e.value.message


def test_osd_dump_pool_line_cut_after_a_key():
    lines = read_text(REAL / "osd_dump.txt").splitlines()
    lines[13] = lines[13][:-3]  # '... application rbd' -> '... application'
    with pytest.raises(DumpFormatError) as e:
        osd_dump.parse("\n".join(lines), source="o")
    assert (e.value.line, e.value.field) == (14, "application")


def test_weightf_zero_and_dash_are_whole_values():
    """Ceph prints a weight below 1e-6 as ``0`` (weightf_t), not as a cut number."""
    t = read_text(REAL / "osd_tree.txt").replace("up   1.00000  1.00000", "up         0  1.00000", 1)
    assert 0.0 in set(osd_tree.parse(t).osds.reweight)


@pytest.mark.parametrize("mod,name,n", [(pg_ls_plain, "pg_ls.txt", 700), (pg_dump_plain, "pg_dump.txt", 700)])
def test_missing_note_footer_says_the_output_may_be_cut(mod, name, n):
    text = "".join(read_text(REAL / name).splitlines(keepends=True)[:n])
    frag = mod.parse(text, source=name)
    [w] = frag.extra["warnings"]
    assert w.startswith(f"line {n}: no `* NOTE:` line") and "may be cut" in w
    assert "warnings" not in mod.parse(read_text(REAL / name), source=name).extra
