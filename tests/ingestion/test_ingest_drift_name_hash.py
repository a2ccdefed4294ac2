"""Extra columns whose names dlt's form cannot tell apart never share a stored column.

dlt keeps only ASCII letters and digits of a name: `備考` (a note) and `紹介者` (a referrer) are
both `x`, so two nights' files merged them into one column `x` and raw_meta.schema_drift
recorded only `x`. Such a name is now stored with `_` and the first 8 hex digits of the SHA-256
of its UTF-8 text (Unicode composed form) added: the same on every load.

Worked out by hand (hashlib.sha256(name.encode()).hexdigest()[:8]):
  備考   -> x_80309c57
  紹介者 -> x_eb308701
  über  -> _ber_b51c8541 (dlt's form `_ber`; ü typed as u + combining diaeresis is the same)
A name dlt spells without loss keeps its form (`Promo Code` -> `promo_code`, as before).
"""

from __future__ import annotations

import hashlib
import unicodedata

import duckdb
from ingest_fixtures import header, query, settings_for, write, write_required

from ingestion.drift_names import stored_drift_names, stored_name
from ingestion.pipeline import ingest

COLUMNS = ",".join(header("pms.membership_plans"))
NOTE, REFERRER = "x_80309c57", "x_eb308701"


def _plans(plan_id: str, extra: str, value: str) -> str:
    return f"{COLUMNS},{extra}\n{plan_id},Gold,10.00,1,2026-11-01T00:00:00Z,{value}\n"


def _stored(name: str) -> str:
    columns = header("pms.membership_plans")
    (stored,) = stored_drift_names(columns, [name], [len(columns) + 1])
    return stored


def test_the_stored_names_are_the_hand_worked_ones():
    assert hashlib.sha256("備考".encode()).hexdigest()[:8] == "80309c57"
    assert hashlib.sha256("紹介者".encode()).hexdigest()[:8] == "eb308701"
    assert hashlib.sha256("\u00fcber".encode()).hexdigest()[:8] == "b51c8541"
    assert [_stored(n) for n in ("備考", "紹介者")] == [NOTE, REFERRER]
    # `ü` composed or as u + combining diaeresis is one name; `!!!` and `???` are two
    composed, decomposed = "\u00fcber", unicodedata.normalize("NFD", "\u00fcber")
    assert _stored(composed) == _stored(decomposed) == "_ber_b51c8541"
    assert _stored("!!!") != _stored("???")
    # names dlt spells without loss keep dlt's form
    assert [_stored(n) for n in ("Promo Code", "promo_code", 'a"b')] == [
        "promo_code",
        "promo_code",
        "a_b",
    ]
    # dlt stores each under exactly that name (it normalises the name again when it loads)
    for name in ("備考", "紹介者", composed, "!!!", "emoji\U0001f600"):
        assert stored_name(_stored(name)) == _stored(name)


def test_extra_columns_of_different_files_stay_apart_and_the_same_name_finds_its_column(
    tmp_root,
):
    landing = tmp_root / "landing"
    write_required(landing)
    write(landing, "pms/membership_plans/2026-11-20.csv", _plans("M1", "備考", "note-A"))
    write(landing, "pms/membership_plans/2026-11-21.csv", _plans("M2", "紹介者", "referrer-B"))
    settings = settings_for(tmp_root)
    report = ingest(settings)
    assert sorted(report.table("pms", "membership_plans").drift_columns) == [NOTE, REFERRER]
    # a later load with the first name again: its column, not a third one
    write(landing, "pms/membership_plans/2026-11-22.csv", _plans("M3", "備考", "note-C"))
    ingest(settings)
    assert query(
        settings,
        f"select plan_id, {NOTE}, {REFERRER} from raw_pms.membership_plans order by 1",
    ) == [("M1", "note-A", None), ("M2", None, "referrer-B"), ("M3", "note-C", None)]
    # the drift record pairs each stored name with the name as the file spells it
    assert query(
        settings,
        "select file_path, column_name, name_in_file from raw_meta.schema_drift order by 1",
    ) == [
        ("pms/membership_plans/2026-11-20.csv", NOTE, "備考"),
        ("pms/membership_plans/2026-11-21.csv", REFERRER, "紹介者"),
        ("pms/membership_plans/2026-11-22.csv", NOTE, "備考"),
    ]


def test_a_warehouse_recorded_before_name_in_file_gets_the_column_and_keeps_its_rows(tmp_root):
    """raw_meta.schema_drift as earlier versions made it (six columns, one drift row) gains
    `name_in_file` on the next load: the old row keeps its values with a null name (it was
    never recorded), the new file's row has its name."""
    landing = tmp_root / "landing"
    write_required(landing)
    settings = settings_for(tmp_root)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema raw_meta")
    con.execute(
        """create table raw_meta.schema_drift (load_id varchar not null,
        file_path varchar not null, system varchar not null, table_name varchar not null,
        column_name varchar not null, detected_at timestamp with time zone not null)"""
    )
    con.execute(
        """insert into raw_meta.schema_drift values ('old', 'pms/membership_plans/2026-11-01.csv',
        'pms', 'membership_plans', 'x', timestamptz '2026-11-01 06:00:00+00')"""
    )
    con.close()
    write(landing, "pms/membership_plans/2026-11-20.csv", _plans("M1", "備考", "note-A"))
    ingest(settings)
    assert query(
        settings,
        "select file_path, column_name, name_in_file from raw_meta.schema_drift order by 1",
    ) == [
        ("pms/membership_plans/2026-11-01.csv", "x", None),
        ("pms/membership_plans/2026-11-20.csv", NOTE, "備考"),
    ]
