"""One flag vocabulary across the CLI; the old spellings still work (hidden from --help)."""

from __future__ import annotations

import pytest
import typer

from pgtools import cli
from pgtools.cli import main

from .paths import SAMPLE_DUMPS

SEED = str(SAMPLE_DUMPS / "seedlike_max300")


def _visible_options() -> dict[str, set[str]]:
    cmd = typer.main.get_command(cli.app)
    return {name: {o for p in c.params if p.param_type_name == "option" and not p.hidden for o in p.opts}
            for name, c in cmd.commands.items()}


def test_one_spelling_per_concept_in_help():
    opts = _visible_options()
    for name, o in opts.items():
        assert "--out" not in o and "--out-osd" not in o and "--capture" not in o and "--max-per-osd" not in o, name
    for name in ("report", "demo", "collect"):
        assert {"-o", "--output"} <= opts[name], name
    for name in ("whatif", "report", "map"):
        assert "--mark-out" in opts[name], name
    assert "--mon-max-pg-per-osd" in opts["fix-too-many-pgs"] and "--mon-max-pg-per-osd" in opts["health"]


@pytest.fixture
def spy(monkeypatch):
    calls = []

    def fake_plan(snap, changes, stepwise, checks=True, assume_clean=False):
        calls.append(changes)
        raise typer.Exit(0)

    monkeypatch.setattr(cli.whatif, "_run_plan", fake_plan)
    return calls


@pytest.mark.parametrize("flag", ["--mark-out", "--out"])
def test_whatif_mark_out_and_its_old_spelling(flag, spy):
    assert main(["whatif", SEED, flag, "osd.3", flag, "4"]) == 0
    assert [c.osd for c in spy[0]] == [3, 4]


def test_report_mark_out_old_spelling_and_output_alias(spy, tmp_path):
    main(["report", SEED, "--out", str(tmp_path / "r.html"), "--out-osd", "3", "--mark-out", "osd.5"])
    assert sorted(c.osd for c in spy[0]) == [3, 5]


def test_fix_too_many_pgs_limit_alias(monkeypatch):
    seen = []
    monkeypatch.setattr("pgtools.analysis.recommend.fix_too_many_pgs", lambda snap, **kw: seen.append(kw) or [])
    assert main(["fix-too-many-pgs", SEED, "--max-per-osd", "300"]) == 0
    assert main(["fix-too-many-pgs", SEED, "--mon-max-pg-per-osd", "301"]) == 0
    assert [k["max_per_osd"] for k in seen] == [300, 301]


def test_map_object_positional_capture_and_old_option(capsys):
    assert main(["map-object", "test-object-1", SEED, "--pool", "rbd"]) == 0
    new = capsys.readouterr().out
    assert main(["map-object", "--capture", SEED, "--pool", "rbd", "test-object-1"]) == 0
    assert capsys.readouterr().out == new and "-> up ([" in new


def test_map_mark_out_accepts_osd_names(capsys):
    assert main(["map", SEED, "--pool", "2", "--mark-out", "osd.3", "--format", "dump"]) == 0
    a = capsys.readouterr().out
    assert main(["map", SEED, "--pool", "2", "--mark-out", "3", "--format", "dump"]) == 0
    assert capsys.readouterr().out == a


def test_demo_output_old_spelling_and_given_twice(tmp_path, capsys, monkeypatch):
    rc = main(["demo", SEED, "-o", str(tmp_path / "a"), "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err
    assert rc == 2 and "give -o/--output once" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_collect_needs_an_output(capsys):
    rc = main(["collect"])
    assert rc == 2 and "-o/--output" in capsys.readouterr().err


def test_map_pool_by_name_or_id(capsys):
    assert main(["map", SEED, "--pool", "rbd"]) == 0
    by_name = capsys.readouterr().out
    assert main(["map", SEED, "--pool", "1"]) == 0
    assert capsys.readouterr().out == by_name and by_name.startswith("pool 1 pg_num 128")
    assert main(["map", SEED, "--pool", "nope"]) == 2
    assert "--pool nope: no such pool" in capsys.readouterr().err


def test_crush_test_takes_the_map_positionally(capsys):
    crush = str(SAMPLE_DUMPS / "seedlike_max300" / "crush_dump.json")
    outs = []
    for argv in (["--crush", crush], [crush], [SEED]):
        assert main(["crush-test", *argv, "--max-x", "4"]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] == outs[2] and outs[0].count("\n") == 5
    assert main(["crush-test", "--max-x", "4"]) == 2


def test_whatif_text_format_and_its_old_name(capsys):
    outs = []
    for fmt in ("text", "table", None):
        assert main(["whatif", SEED, "--reweight", "3=0.9", *(["--format", fmt] if fmt else [])]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] == outs[2] and "osd reweight 3 0.9" in outs[0]
