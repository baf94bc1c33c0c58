"""CLI output paths that cannot be written end in one clear error (exit 2), never an internal error."""

from __future__ import annotations

from pgtools.cli import main

from .paths import SAMPLE_DUMPS

SEED = SAMPLE_DUMPS / "seedlike_max300"


def test_demo_output_is_an_existing_file(tmp_path, capsys):
    f = tmp_path / "out"
    f.write_text("keep me")
    rc = main(["demo", str(SEED), "-o", str(f)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "pgtools: error:" in err and "not a folder" in err and "internal error" not in err
    assert f.read_text() == "keep me"


def test_report_output_is_a_folder(tmp_path, capsys):
    rc = main(["report", str(SEED), "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "is a folder" in err and "internal error" not in err
    assert list(tmp_path.iterdir()) == []


def test_report_output_under_a_file(tmp_path, capsys):
    f = tmp_path / "f"
    f.write_text("")
    rc = main(["report", str(SEED), "-o", str(f / "r.html")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("pgtools: error:") and "internal error" not in err
