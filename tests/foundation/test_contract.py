"""The landing contract as data: complete, consistent, and the one source of the dbt sources."""

import re

import pytest
import yaml

from ingestion.contract import CONTRACT_PATH, DUCKDB_TYPES, load_contract, parse_contract
from ingestion.dbt_sources import render_generated, render_sources
from medspa.settings import DBT_PROJECT_DIR

SPEC_TABLE_COUNT = 22  # docs/landing-contract.md: 22 tables across six systems


def test_contract_names_every_system_and_table_of_the_spec():
    contract = load_contract()
    assert contract.systems == ["pms", "pos", "phone", "messaging", "crm", "reviews"]
    assert len(contract.tables) == SPEC_TABLE_COUNT
    assert contract.required_tables == ("pms.locations", "pms.appointments")


#: Key parts where null is a value of its own (spend without a campaign).
NULLABLE_KEY_PARTS = {"crm.marketing_spend.campaign"}


def test_every_column_has_a_known_type_and_keys_are_not_nullable():
    for table in load_contract().tables:
        for col in table.columns:
            assert col.type in DUCKDB_TYPES, f"{table.qualified_name}.{col.name}"
        for key in table.primary_key:
            qualified = f"{table.qualified_name}.{key}"
            assert table.column(key).nullable == (qualified in NULLABLE_KEY_PARTS), qualified


def test_phi_columns_are_exactly_those_marked_in_the_spec():
    phi = {t.qualified_name: set(t.phi_columns) for t in load_contract().tables if t.phi_columns}
    assert phi == {
        "pms.patients": {
            "first_name",
            "last_name",
            "email",
            "phone",
            "date_of_birth",
            "postal_code",
        },
        "phone.calls": {"external_number"},
        "messaging.messages": {"contact_address", "body"},
        "crm.leads": {"first_name", "last_name", "email", "phone"},
        "reviews.reviews": {"reviewer_name"},
    }


def test_committed_dbt_sources_match_the_contract():
    """`medspa contract sync` output is committed; a contract edit without a sync fails here."""
    for path, text in render_generated(DBT_PROJECT_DIR).items():
        assert path.exists(), f"missing {path}: run `medspa contract sync`"
        assert path.read_text(encoding="utf-8") == text, f"stale {path}: run `medspa contract sync`"


def _source_tables():
    """(sources YAML path, contract table, its entry in the generated sources YAML)."""
    contract = load_contract()
    for path, text in render_sources(DBT_PROJECT_DIR).items():
        source = yaml.safe_load(text)["sources"][0]
        system = source["name"].removeprefix("raw_")
        for table_doc in source["tables"]:
            yield path, contract.table(f"{system}.{table_doc['name']}"), table_doc


def test_dbt_sources_carry_every_contract_column_with_its_type():
    for path, table, table_doc in _source_tables():
        assert [c["name"] for c in table_doc["columns"]] == table.column_names, path
        for c in table_doc["columns"]:
            assert c["data_type"] == table.column(c["name"]).duckdb_type.lower()


def test_dbt_tests_every_key_part_not_null_except_those_where_null_is_a_key_value():
    """A spend row without a campaign is valid data: a `not_null` on `campaign` would fail the
    nightly's source tests (at error severity) on it."""
    key_tests = {}
    for _, table, table_doc in _source_tables():
        for c in table_doc["columns"]:
            if c["name"] in table.primary_key:
                key_tests[f"{table.qualified_name}.{c['name']}"] = c.get("data_tests", [])
    assert key_tests["crm.marketing_spend.campaign"] == []
    assert key_tests["pms.appointments.appointment_id"] == ["not_null", "unique"]
    nullable = {k for k, tests in key_tests.items() if "not_null" not in tests}
    assert nullable == NULLABLE_KEY_PARTS


def test_contract_table_names_macro_lists_every_contract_table():
    """The static list models loop over (so dbt records each raw table as their parent)."""
    text = render_generated(DBT_PROJECT_DIR)[DBT_PROJECT_DIR / "macros/contract_table_names.sql"]
    listed = re.findall(r"\['(raw_\w+)', '(\w+)'\]", text)
    expected = sorted((t.dataset, t.name) for t in load_contract().tables)
    assert listed == expected
    assert len(listed) == len(load_contract().tables) > 20


def test_required_tables_outside_the_first_system_are_refused_at_parse_time():
    # The loader checks required tables after preparing their system and before loading any:
    # that is "before loading anything" only while they belong to the first system.
    raw = yaml.safe_load(CONTRACT_PATH.read_text(encoding="utf-8"))
    raw["required_tables"] = [*raw["required_tables"], "pos.invoices"]
    with pytest.raises(ValueError, match=r"required tables must be in the first system"):
        parse_contract(raw)
