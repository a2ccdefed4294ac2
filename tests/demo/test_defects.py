"""`--inject-bad-rows` breaks about the asked share of big-fact rows, visibly, and nothing else."""

from __future__ import annotations

import pyarrow as pa

from demo import defects
from ingestion.contract import load_contract
from tests.demo.helpers import extract_files, read_text

CONTRACT = load_contract()


def test_defects_hit_only_fact_tables_at_about_the_rate(defect_chain, snapshot_chain):
    root, report = defect_chain
    assert set(report.defects) <= defects.FACT_TABLES
    injected = sum(sum(h.values()) for h in report.defects.values())
    fact_rows = sum(n for name, n in report.rows.items() if name in defects.FACT_TABLES)
    assert 0.015 < injected / fact_rows < 0.025
    kinds = {k for h in report.defects.values() for k in h}
    assert kinds == set(defects.KINDS)
    for table in CONTRACT.tables:
        if table.qualified_name in defects.FACT_TABLES:
            continue
        clean = extract_files(snapshot_chain[0], table)[0].read_bytes()
        assert extract_files(root, table)[0].read_bytes() == clean, table.qualified_name


def test_every_injected_defect_is_in_the_file(defect_chain):
    root, report = defect_chain
    for name, hits in report.defects.items():
        table = CONTRACT.table(name)
        df = read_text(extract_files(root, table)[0])
        assert (df == "n/a").any(axis=1).sum() == hits.get("bad_money", 0)
        assert (df == "2026-13-45").any(axis=1).sum() == hits.get("bad_date", 0)
        assert (df == "pending_review").any(axis=1).sum() == hits.get("bad_enum", 0)
        key = list(table.primary_key)
        missing = df[key[0]].isna().sum()
        dups = df[df[key[0]].notna()].duplicated(key).sum()
        broken = hits.get("missing_pk", 0) + hits.get("duplicate_pk", 0)
        assert abs(missing + dups - broken) <= 2, name  # a copy of a missing key stays missing


def test_injection_is_deterministic_and_off_by_default():
    table = CONTRACT.table("phone.calls")
    tbl = pa.table({c: pa.array([f"{c}-{i}" for i in range(400)]) for c in table.column_names})
    first = defects.inject(tbl, table, 0.05, seed=1, day=20_000)
    again = defects.inject(tbl, table, 0.05, seed=1, day=20_000)
    assert first[0].equals(again[0]) and first[1] == again[1]
    assert defects.inject(tbl, table, 0.0, seed=1, day=20_000) == (tbl, {})
    dim = CONTRACT.table("pms.locations")
    loc = pa.table({c: pa.array(["x"] * 50) for c in dim.column_names})
    assert defects.inject(loc, dim, 0.5, seed=1, day=20_000) == (loc, {})
