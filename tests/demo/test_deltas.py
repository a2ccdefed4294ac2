"""`--advance` writes nightly deltas; merged by the contract's rule they give the later snapshot."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from demo.state import read_marker
from demo.writer import FORMATS
from ingestion.contract import load_contract
from tests.demo.conftest import ADVANCE_DAYS, END
from tests.demo.helpers import extract_files, read_table, read_text

CONTRACT = load_contract()
DAYS = [(END + dt.timedelta(days=i)).isoformat() for i in range(1, ADVANCE_DAYS + 1)]


def test_advance_writes_one_delta_per_day_and_moves_the_marker(advanced_chain):
    root, report = advanced_chain
    files = extract_files(root, CONTRACT.table("pms.appointments"))
    assert [f.name.split(".")[0] for f in files] == [END.isoformat(), *DAYS]
    assert read_marker(root).last_extract == END + dt.timedelta(days=ADVANCE_DAYS)
    assert report.total_rows > 0


def test_delta_holds_new_rows_and_changes_to_old_rows(advanced_chain):
    root, _ = advanced_chain
    table = CONTRACT.table("pms.appointments")
    delta = read_text(extract_files(root, table)[1])
    booked_day = delta["booked_at"].str[:10]
    assert (booked_day == DAYS[0]).any(), "no appointment booked that day"
    changed = delta[booked_day < DAYS[0]]
    assert len(changed) > 0, "no older appointment changed that day"
    assert set(changed["status"]) & {"completed", "cancelled", "no_show"}


@pytest.mark.parametrize(
    "name", [t.qualified_name for t in CONTRACT.tables if FORMATS[t.system] != "parquet"]
)
def test_delta_rows_were_updated_within_their_day(advanced_chain, name):
    root, _ = advanced_chain
    table = CONTRACT.table(name)
    for path in extract_files(root, table)[1:]:
        df = read_text(path)
        assert (df["updated_at"].str[:10] == path.name.split(".")[0]).all()


def test_old_leads_change_in_deltas(advanced_chain):
    """Leads created before a delta's day reappear in it when they convert or are lost."""
    root, _ = advanced_chain
    table = CONTRACT.table("crm.leads")
    deltas = pd.concat(
        [read_text(p).assign(_day=p.name[:10]) for p in extract_files(root, table)[1:]]
    )
    old = deltas[deltas["created_at"].str[:10] < deltas["_day"]]
    assert set(old["status"]) & {"booked", "lost"}
    assert old.loc[old["status"] == "booked", "patient_id"].notna().all()


def _merged(root, table) -> pd.DataFrame:
    """The contract's merge rule: per key the highest updated_at wins, ties to later extracts."""
    df = read_table(root, table)
    df["_t"] = pd.to_datetime(df["updated_at"], utc=True, format="ISO8601")
    df = df.sort_values(["_t", "_extract"], kind="stable")
    df = df.drop_duplicates(list(table.primary_key), keep="last")
    return _normal(df.drop(columns=["_t", "_extract"]), table)


def _normal(df: pd.DataFrame, table) -> pd.DataFrame:
    return df.sort_values(list(table.primary_key), ignore_index=True)[table.column_names]


@pytest.mark.parametrize("name", [t.qualified_name for t in CONTRACT.tables])
def test_snapshot_plus_merged_deltas_equals_later_snapshot(advanced_chain, later_snapshot, name):
    table = CONTRACT.table(name)
    merged = _merged(advanced_chain[0], table)
    later = _normal(read_table(later_snapshot, table).drop(columns="_extract"), table)
    pd.testing.assert_frame_equal(merged, later)
