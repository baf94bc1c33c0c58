"""The ticket case: a user sends only a plain `ceph pg dump` and an `osd tree` (no osd dump, no CRUSH map)."""

from __future__ import annotations

import shutil
import warnings

import pandas as pd
import pytest

import pgtools
from pgtools.cli import main
from pgtools.errors import MissingInputError, PgtoolsWarning
from pgtools.io.derive import derive_pools
from pgtools.model import NONE, derived_pools

from .paths import SAMPLE_DUMPS

SEED = SAMPLE_DUMPS / "seedlike_max300"


@pytest.fixture
def ticket(tmp_path):
    for name in ("pg_dump.txt", "osd_tree.txt"):
        shutil.copy(SEED / name, tmp_path / name)
    return tmp_path


def _load(path):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        snap = pgtools.load(path)
    return snap, [str(x.message) for x in w if issubclass(x.category, PgtoolsWarning)]


def test_pools_derived_from_the_pg_dump_with_warnings(ticket):
    snap, warned = _load(ticket)
    full = pgtools.load(SEED)
    assert sorted(snap.pools.pool_id) == sorted(full.pools.pool_id)
    got = snap.pools.set_index("pool_id")
    want = full.pools.set_index("pool_id")
    assert (got["pg_num"] == want["pg_num"]).all() and (got["size"] == want["size"]).all()
    assert (got.pgp_num == got.pg_num).all()
    assert set(derived_pools(snap.pools)) == set(want.index)
    assert "pg_num" in derived_pools(snap.pools)[1]
    assert any("no osd dump" in w and "ceph osd dump -f json" in w for w in warned)
    assert any("pool names unknown" in w for w in warned)
    assert any("derived from the PG dump" in w for w in snap.warnings)


def test_full_capture_derives_nothing():
    snap = pgtools.load(SEED)
    assert derived_pools(snap.pools) == {}
    assert "derived" not in snap.pools.columns
    assert not any("derived" in w for w in snap.warnings)


def test_names_from_df_detail(ticket):
    shutil.copy(SEED / "df_detail.json", ticket / "df_detail.json")
    snap, warned = _load(ticket)
    full = pgtools.load(SEED)
    assert dict(zip(snap.pools.pool_id, snap.pools.pool, strict=True)) == dict(zip(full.pools.pool_id, full.pools.pool, strict=True))
    assert not any("pool names unknown" in w for w in warned)


def _pgs(rows):
    return pd.DataFrame([{"pool_id": p, "ps": s, "up": u, "acting": u} for p, s, u in rows])


def test_derive_counts_ec_holes_and_flags_missing_pgs():
    pgs = _pgs([(1, 0, (0, NONE, 2)), (1, 1, (1, 2, 0)), (1, 3, (2, 0, 1)),  # 1.2 missing, EC hole
                (2, 0, (0, 1)), (2, 1, (1,))])
    pools, warns = derive_pools(pd.DataFrame({"pool_id": pd.Series(dtype="int64")}), pgs)
    p = pools.set_index("pool_id")
    assert p.at[1, "pg_num"] == 4 and p.at[1, "size"] == 3 and p.at[1, "type"] == "erasure"
    assert p.at[2, "pg_num"] == 2 and p.at[2, "size"] == 2 and p.at[2, "type"] == "replicated"
    assert any("pool 1: the PG dump lists 3 PGs but the highest is 1.3" in w for w in warns)
    assert not any(w.startswith("pool 2:") for w in warns)


@pytest.mark.parametrize("args", [["fix-too-many-pgs"], ["whatif", "--pg-num", "1=64"], ["verify"], ["map"],
                                  ["map-object", "obj", "--pool", "1"]])
def test_commands_needing_the_maps_refuse_clearly(ticket, args, capsys):
    rc = main([*args, str(ticket)])
    err = capsys.readouterr().err
    assert rc == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("pgtools: error:")]
    assert len(lines) == 1
    assert "ceph osd dump -f json" in lines[0] and "ceph osd crush dump -f json" in lines[0]
    assert "internal error" not in err and "'pgp_num'" not in err
    assert all(ln.startswith("pgtools: ") for ln in err.splitlines())  # no stray blank line before the error


def test_only_crush_missing_names_only_the_crush_map(ticket, capsys):
    shutil.copy(SEED / "osd_dump.json", ticket / "osd_dump.json")
    rc = main(["verify", str(ticket)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "needs the CRUSH map: add `ceph osd crush dump -f json`" in err and "ceph osd dump" not in err


def test_library_raises_missing_input(ticket):
    snap, _ = _load(ticket)
    from pgtools.simulate import SetPgNum, simulate

    with pytest.raises(MissingInputError, match="ceph osd dump -f json"):
        simulate(snap, [SetPgNum(1, 64)])
    with pytest.raises(MissingInputError):
        pgtools.placement.map_pgs(snap)


def test_autoscale_on_derived_pools(ticket, capsys):
    rc = main(["autoscale", str(ticket), "--format", "csv"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    df = pd.read_csv(__import__("io").StringIO(out))
    assert (df.pg_num_target == 128).all() or (df.get("pg_num", df.iloc[:, 0]) != 0).all()
    assert "autoscale: pools 1-15 known only from the PG dump" in err
    assert "no CRUSH map" in err
    rc = main(["autoscale", str(ticket)])
    out = capsys.readouterr().out
    rows = [ln.split() for ln in out.splitlines()[1:] if ln.strip()]
    assert rows and all(r[2] != "0.0" for r in rows)  # RATE (the pool size), never 0
    assert all("128" in r for r in rows)  # PG_NUM as derived, never 0


def test_mixed_sample_sizes_and_ec_assumption_said(tmp_path, capsys):
    mixed = SAMPLE_DUMPS / "mixed"
    shutil.copy(mixed / "pg_dump.txt", tmp_path / "pg_dump.txt")
    snap, warned = _load(tmp_path)
    full = pgtools.load(mixed)
    got, want = snap.pools.set_index("pool_id"), full.pools.set_index("pool_id")
    assert (got["size"] == want["size"]).all() and (got["pg_num"] == want["pg_num"]).all()
    assert main(["autoscale", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "assumes pools 1-6 are replicated" in err


def test_derive_fills_a_pool_table_without_pg_num_and_adds_no_pool():
    pgs = _pgs([(1, 0, (0, 1)), (1, 1, (1, 0)), (7, 0, (0, 1))])
    pools, warns = derive_pools(pd.DataFrame({"pool_id": [1], "pool": ["rbd"]}), pgs)
    assert pools.pool_id.tolist() == [1]  # pool 7 is a cross-file inconsistency, not guessed here
    assert pools.pg_num.tolist() == [2] and pools["pool"].tolist() == ["rbd"]
    assert derived_pools(pools) == {1: ["pg_num", "pgp_num", "size", "type"]}
    assert not any("pool names unknown" in w for w in warns)
