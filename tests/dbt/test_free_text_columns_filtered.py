"""Every contract column people type free text into leaves staging through a filter.

The contract marks PHI columns, and those never leave the raw layer; what people type into
the other text columns (a campaign, a closure's reason, a catalogue name) may hold contact
data all the same. A column added to the contract, or to a staging model, without the
filter would publish what was typed: this test reads each staging model's SQL and finds the
column's projection. Ids (`*_id`), closed vocabularies (`enum`) and checked formats (an IANA
zone) cannot hold free text; the few other exceptions say why.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingestion.contract import load_contract

STAGING = Path(__file__).parents[2] / "dbt_project" / "models" / "staging"

#: macros/free_text.sql: withheld whole, contact data masked inside a name, a closed vocabulary
FILTERS = ("without_contact_data", "contact_data_masked", "sex_code")

#: qualified column -> why it may pass unfiltered
UNFILTERED = {
    "pos.products.sku": "a catalogue code; no model past staging selects it",
}


def _free_text_columns() -> list[tuple[str, str, str]]:
    contract = load_contract()
    return [
        (table.system, table.name, col.name)
        for table in contract.tables
        for col in table.columns
        if col.type == "string"
        and not col.phi
        and not col.enum
        and not col.format
        and not col.name.endswith("_id")
    ]


@pytest.mark.parametrize(
    ("system", "table", "column"),
    _free_text_columns(),
    ids=lambda value: str(value),
)
def test_a_free_text_column_leaves_staging_filtered(system: str, table: str, column: str) -> None:
    qualified = f"{system}.{table}.{column}"
    sql = (STAGING / system / f"stg_{system}__{table}.sql").read_text(encoding="utf-8")
    code = "\n".join(line.split("--")[0] for line in sql.splitlines() if "{#" not in line)
    projections = [
        line.strip()
        for line in code.splitlines()
        if re.search(rf"\bas {re.escape(column)}\b", line)
    ]
    assert projections, f"{qualified}: no projection `... as {column}` in its staging model"
    filtered = all(any(f"{{{{ {name}('{column}')" in p for name in FILTERS) for p in projections)
    if qualified in UNFILTERED:
        assert not filtered, f"{qualified} is filtered now: drop it from UNFILTERED"
    else:
        assert filtered, (
            f"{qualified} leaves staging as typed: {projections}. First ask whether it is "
            "patient data (notes, names, anything a patient wrote or is described by): then it "
            "is PHI, marked `phi: true` in ingestion/contract.yml and never selected past raw. "
            "Otherwise filter it (one of " + ", ".join(FILTERS) + ")."
        )


def test_the_free_text_list_holds_the_columns_people_type_into() -> None:
    """The rule above finds the columns the landing contract's PHI section names."""
    found = {f"{s}.{t}.{c}" for s, t, c in _free_text_columns()}
    assert {
        "pms.patients.acquisition_channel",
        "crm.leads.campaign",
        "crm.marketing_spend.channel",
        "crm.marketing_spend.campaign",
        "phone.calls.tracking_source",
        "pms.location_closures.reason",
        "pms.providers.first_name",
    } <= found
