"""Reading extracts back the way a loader would: every value as text, nulls as None."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.contract import Table


def extract_files(root: Path, table: Table) -> list[Path]:
    folder = root / table.system / table.name
    return sorted(folder.glob("*")) if folder.exists() else []


def read_text(path: Path) -> pd.DataFrame:
    """One extract as a DataFrame of strings (None for null), whatever its format."""
    if path.name.endswith(".jsonl"):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        cols = list(rows[0]) if rows else []
        return pd.DataFrame(
            {c: [None if r[c] is None else str(r[c]) for r in rows] for c in cols}, dtype=object
        )
    p = str(path).replace("'", "''")
    source = (
        f"read_parquet('{p}')"
        if path.name.endswith(".parquet")
        else f"read_csv('{p}', all_varchar=true, header=true)"
    )
    with duckdb.connect() as con:
        df = con.execute(f"select columns(*)::varchar from {source}").df()
    return df.astype(object).where(df.notna(), None)


def read_table(root: Path, table: Table) -> pd.DataFrame:
    """All extracts of a table, with the extract id, in extract order."""
    frames = []
    for path in extract_files(root, table):
        df = read_text(path)
        df["_extract"] = path.name.split(".")[0]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
