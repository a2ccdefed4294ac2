"""A column added to the contract reaches an existing deployment's raw table at the next load.

The raw tables are created from the contract on the first load. A contract that later gains
`pms.appointments.referral_source` must not leave the older warehouse without it: staging
selects every contract column, and a raw table without it failed dbt with a binder error
("Column referral_source referenced ... cannot be referenced before it is defined") while the
real cause, a file without the new column, was reported elsewhere. `ensure_raw_tables` now
adds the missing column; the rows already loaded get null in it.
"""

from __future__ import annotations

import duckdb
import yaml

from ingestion.contract import CONTRACT_PATH, parse_contract
from ingestion.raw_schema import ensure_raw_tables


def _contract_with_referral_source():
    raw = yaml.safe_load(CONTRACT_PATH.read_text(encoding="utf-8"))
    columns = raw["systems"]["pms"]["tables"]["appointments"]["columns"]
    columns["referral_source"] = {"type": "string"}
    return parse_contract(raw)


def test_a_new_contract_column_is_added_to_the_existing_raw_table(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    try:
        ensure_raw_tables(con)  # the deployment's first load, on the contract before
        con.execute(
            "insert into raw_pms.appointments (appointment_id, status) values ('A1', 'completed')"
        )
        ensure_raw_tables(con, _contract_with_referral_source())  # the upgraded code's load
        columns = [r[0] for r in con.execute("describe raw_pms.appointments").fetchall()]
        assert columns[-1] == "referral_source"
        rows = con.execute("select appointment_id, referral_source from raw_pms.appointments")
        assert rows.fetchall() == [("A1", None)]
        ensure_raw_tables(con, _contract_with_referral_source())  # again: nothing to add
        assert [r[0] for r in con.execute("describe raw_pms.appointments").fetchall()] == columns
    finally:
        con.close()
