"""Landing tables read straight from the files, independently of ingestion and dbt.

The end-to-end checks recompute numbers and collect PHI values from what the clinic
delivered, so they must not reuse the code under test: this reads every extract of a table
(csv, csv.gz, jsonl, parquet) with pandas and keeps the newest `updated_at` per primary key,
the merge rule the landing contract states.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingestion.contract import Table, load_contract


def _read_file(path: Path) -> pd.DataFrame:
    name = path.name
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith(".jsonl"):
        return pd.read_json(path, lines=True, dtype=False)
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    raise ValueError(f"unexpected landing file type: {name}")


def read_table(landing: Path, table: Table) -> pd.DataFrame:
    """Every extract of one contract table, merged on its primary key (newest updated_at)."""
    folder = landing / table.system / table.name
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    if not files:
        return pd.DataFrame(columns=table.column_names)
    frame = pd.concat([_read_file(p) for p in files], ignore_index=True)
    frame["_updated"] = pd.to_datetime(frame["updated_at"], utc=True, format="ISO8601")
    frame = frame.sort_values("_updated", kind="stable")
    frame = frame.drop_duplicates(subset=list(table.primary_key), keep="last")
    return frame.drop(columns="_updated").reset_index(drop=True)


def read(landing: Path, qualified_name: str) -> pd.DataFrame:
    """One table by its contract name (`pos.invoices`)."""
    return read_table(landing, load_contract().table(qualified_name))


def local_dates(instants: pd.Series, zones: pd.Series) -> pd.Series:
    """The local calendar date of each instant in its row's IANA time zone."""
    utc = pd.to_datetime(instants, utc=True, format="ISO8601")
    out = pd.Series(pd.NaT, index=instants.index, dtype="object")
    for zone in zones.dropna().unique():
        rows = zones == zone
        out[rows] = utc[rows].dt.tz_convert(zone).dt.date
    return out
