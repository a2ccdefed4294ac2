"""Deliberate bad rows (`--inject-bad-rows RATE`) so the quarantine path has work to do.

Only big fact tables get defects, never the small dimensions a whole load depends on. Each
chosen row gets one realistic defect: `n/a` in a money column, an impossible date
(`2026-13-45`), an unknown enum value, a missing primary key, or a primary key duplicated from
the row before it in the same extract. Choices come from a stream keyed by seed, extract date
and table, so the same command writes the same defects.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from demo.rand import Stream, day_rng
from ingestion.contract import Table, load_contract

FACT_TABLES = frozenset(
    {
        "pms.appointments",
        "pms.intake_forms",
        "pos.invoices",
        "pos.invoice_lines",
        "phone.calls",
        "messaging.messages",
        "crm.leads",
        "crm.marketing_spend",
        "reviews.reviews",
        "reviews.surveys",
    }
)
KINDS = ("bad_money", "bad_date", "bad_enum", "missing_pk", "duplicate_pk")
BAD_VALUE = {"bad_money": "n/a", "bad_date": "2026-13-45", "bad_enum": "pending_review"}


def _as_text(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_timestamp(arr.type):
        return pc.strftime(arr, format="%Y-%m-%dT%H:%M:%SZ")
    return arr.cast(pa.string())


def _candidates(table: Table) -> dict[str, list[str]]:
    """Columns each defect kind can hit (keys excluded: they get their own kinds)."""
    cols = [c for c in table.columns if c.name not in table.primary_key]
    return {
        "bad_money": [c.name for c in cols if c.type == "decimal"],
        "bad_date": [
            c.name
            for c in cols
            if c.type in ("date", "timestamp") and not c.nullable and c.name != "updated_at"
        ],
        "bad_enum": [c.name for c in cols if c.enum and c.type == "string"],
        "missing_pk": [table.primary_key[0]],
        "duplicate_pk": list(table.primary_key),
    }


def inject(
    tbl: pa.Table, table: Table, rate: float, seed: int, day: int
) -> tuple[pa.Table, dict[str, int]]:
    """Return the table with about `rate` of its rows broken, and counts per defect kind."""
    if rate <= 0 or table.qualified_name not in FACT_TABLES or tbl.num_rows < 2:
        return tbl, {}
    index = [t.qualified_name for t in load_contract().tables].index(table.qualified_name)
    rng = day_rng(seed, day, Stream.DEFECTS, index)
    bad = np.flatnonzero(rng.random(tbl.num_rows) < rate)
    cands = {k: v for k, v in _candidates(table).items() if v}
    kinds = np.array(list(cands))
    chosen = kinds[rng.integers(0, len(kinds), len(bad))]
    counts: dict[str, int] = {}
    columns = {name: tbl.column(name) for name in tbl.column_names}
    edits: dict[str, dict[int, str | tuple[str, int] | None]] = {}
    for row, kind in zip(bad, chosen, strict=True):
        counts[kind] = counts.get(kind, 0) + 1
        if kind in BAD_VALUE:
            col = cands[kind][int(rng.integers(0, len(cands[kind])))]
            edits.setdefault(col, {})[int(row)] = BAD_VALUE[kind]
        elif kind == "missing_pk":
            edits.setdefault(table.primary_key[0], {})[int(row)] = None
        else:
            src = int(row) - 1 if row > 0 else int(row) + 1
            for col in table.primary_key:
                edits.setdefault(col, {})[int(row)] = ("copy", src)
    for col, changes in edits.items():
        text = _as_text(columns[col]).to_pylist()
        for row, value in changes.items():
            text[row] = text[value[1]] if isinstance(value, tuple) else value
        columns[col] = pa.chunked_array([pa.array(text, pa.string())])
    return pa.table(columns), counts
