"""Every bad-input case of the contract, loaded once: exact quarantined rows, valid rows kept."""

from __future__ import annotations

import ingest_bad_landing
import pytest
from ingest_fixtures import query, settings_for

from ingestion.contract import load_contract
from ingestion.pipeline import ingest

pytestmark = pytest.mark.xdist_group("ingest_bad_input")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    ingest_bad_landing.build(root / "landing")
    settings = settings_for(root)
    return settings, ingest(settings)


def quarantined(settings, table: str) -> list[tuple]:
    return query(
        settings,
        """select source_file, row_number, column_name, reason
        from raw_quarantine.rejected_rows where table_name = ? order by row_number""",
        [table],
    )


def keys(settings, qualified: str, key: str) -> list[str]:
    return [r[0] for r in query(settings, f"select {key} from raw_{qualified} order by 1")]


def test_wrong_type_values_are_quarantined_and_valid_rows_load(loaded):
    settings, _ = loaded
    f = "pos/invoice_lines/2026-11-20.csv"
    assert quarantined(settings, "invoice_lines") == [
        (f, 2, "unit_price", "not a decimal amount"),
        (f, 4, "quantity", "not an integer"),
    ]
    assert query(
        settings,
        "select invoice_line_id, unit_price::varchar, quantity "
        "from raw_pos.invoice_lines order by 1",
    ) == [("IL1", "350.00", 1), ("IL3", "1.50", 1)]


def test_impossible_date_missing_primary_key_and_unknown_time_zone(loaded):
    # A zone DuckDB's conversion does not know (or one not spelled exactly) would fail the dbt
    # build in timezone() for the whole chain: the location row is quarantined instead.
    settings, _ = loaded
    f = "pms/locations/2026-11-20.csv"
    zone = "unknown time zone (not an IANA name such as America/New_York)"
    assert quarantined(settings, "locations") == [
        (f, 2, "opened_on", "not a valid date (YYYY-MM-DD)"),
        (f, 3, "location_id", "missing primary key"),
        (f, 4, "timezone", zone),
        (f, 5, "timezone", zone),
    ]
    assert keys(settings, "pms.locations", "location_id") == ["L1"]


def test_unknown_enum_duplicate_key_and_offsetless_timestamp(loaded):
    settings, _ = loaded
    f = "pms/appointments/2026-11-20.csv"
    dup = "duplicate primary key within the extract (rows 3, 4)"
    assert quarantined(settings, "appointments") == [
        (
            f,
            2,
            "booking_channel",
            "unknown enum value (not one of phone, online, in_person, sms, instagram, other)",
        ),
        (f, 3, "appointment_id", dup),
        (f, 4, "appointment_id", dup),
        (f, 5, "scheduled_start", "not an ISO 8601 timestamp with offset"),
    ]
    assert keys(settings, "pms.appointments", "appointment_id") == ["A1"]


def test_truncated_row_quarantined_rows_before_it_load(loaded):
    settings, _ = loaded
    f = "pms/services/2026-11-20.csv"
    assert quarantined(settings, "services") == [
        (f, 2, "is_consultation", "not a boolean (true/false)"),
        (f, 3, None, "truncated row: fewer fields than the header"),
    ]
    assert keys(settings, "pms.services", "service_id") == ["S1"]


def test_bad_quoting_quarantines_the_row_only(loaded):
    settings, _ = loaded
    f = "pms/rooms/2026-11-20.csv"
    assert quarantined(settings, "rooms") == [
        (f, 2, None, "bad quoting (unterminated or stray quote)")
    ]
    assert query(settings, "select room_id, name from raw_pms.rooms order by 1") == [
        ("R1", 'Room "One"'),
        ("R3", "Room 3"),
    ]


def test_wrong_encoding_row_quarantined(loaded):
    settings, _ = loaded
    assert quarantined(settings, "providers") == [
        ("pms/providers/2026-11-20.csv", 2, None, "not valid UTF-8")
    ]
    assert keys(settings, "pms.providers", "provider_id") == ["PR1"]


def test_empty_file_is_refused_and_recorded(loaded):
    settings, report = loaded
    entry = report.table("pms", "devices")
    assert entry.files_refused == 1
    assert entry.refusals == [
        "pms/devices/2026-11-20.csv: empty file (0 bytes): no header row, nothing to load"
    ]
    assert query(
        settings, "select status, rows_read from raw_meta.loaded_files where table_name = 'devices'"
    ) == [("refused", 0)]


def test_header_only_file_is_refused_as_malformed(loaded):
    # The contract counts it as malformed: an export that died after writing its header
    # looks exactly like this, so it is reported rather than taken as "nothing changed".
    settings, report = loaded
    entry = report.table("pms", "location_closures")
    assert (entry.files_loaded, entry.files_refused, entry.rows_read) == (0, 1, 0)
    reason = (
        "pms/location_closures/2026-11-20.csv: header-only file: a header row but no data rows "
        "(an extract with nothing new belongs out of the landing folder)"
    )
    assert entry.refusals == [reason]
    assert f"refused {reason}" in report.errors
    assert query(
        settings,
        "select status, refusal_reason from raw_meta.loaded_files "
        "where table_name = 'location_closures'",
    ) == [("refused", reason)]


def test_missing_contract_column_refuses_file_naming_file_and_column(loaded):
    settings, report = loaded
    reason = (
        "pos/products/2026-11-20.csv: missing contract column(s) product_type; the table's load "
        "stops until this file is replaced or removed"
    )
    assert f"refused {reason}" in report.errors
    assert f"pos.products not loaded (0 new file(s) held back): {reason}" in report.errors
    assert query(settings, "select count(*) from raw_pos.products") == [(0,)]
    # other tables of the same system and load still loaded
    assert keys(settings, "pos.invoice_lines", "invoice_line_id") == ["IL1", "IL3"]
    assert not report.ok


def test_unknown_column_is_loaded_and_recorded_as_drift(loaded):
    settings, report = loaded
    assert report.table("pms", "membership_plans").drift_columns == ["promo_code"]
    assert query(settings, "select file_path, column_name from raw_meta.schema_drift") == [
        ("pms/membership_plans/2026-11-20.csv", "promo_code")
    ]
    assert query(settings, "select plan_id, promo_code from raw_pms.membership_plans") == [
        ("MP1", "WINTER")
    ]
    # MP2 has billing_period_months = 2: not one of 1, 3, 12
    assert quarantined(settings, "membership_plans") == [
        (
            "pms/membership_plans/2026-11-20.csv",
            2,
            "billing_period_months",
            "unknown enum value (not one of 1, 3, 12)",
        )
    ]


def test_jsonl_malformed_line_and_out_of_range_value(loaded):
    settings, _ = loaded
    f = "reviews/reviews/2026-11-20.jsonl"
    assert quarantined(settings, "reviews") == [
        (f, 2, None, "malformed JSON line"),
        (f, 3, "rating", "out of range [1, 5]"),
    ]
    assert query(settings, "select review_id, rating from raw_reviews.reviews") == [("RV1", 5)]


def test_parquet_extract_types_and_enum_check(loaded):
    settings, _ = loaded
    assert quarantined(settings, "invoices") == [
        (
            "pos/invoices/2026-11-20.parquet",
            2,
            "status",
            "unknown enum value (not one of open, paid, void, refunded)",
        )
    ]
    assert query(settings, "select invoice_id, issued_at::varchar from raw_pos.invoices") == [
        ("I1", "2026-11-05 16:00:00+00")
    ]


def test_raw_record_keeps_the_rejected_row_in_the_raw_layer(loaded):
    settings, _ = loaded
    (record,) = query(
        settings,
        """select raw_record from raw_quarantine.rejected_rows
        where table_name = 'patients'""",
    )[0]
    assert '"first_name":"Zelda"' in record and '"date_of_birth":"1990-02-30"' in record


def test_no_phi_value_in_any_message(loaded):
    settings, report = loaded
    texts = [report.to_text(), *report.errors, *report.warnings]
    texts += [r for t in report.tables for r in t.refusals]
    texts += [
        str(v) for t in report.tables for v in report.table_metadata(t.system, t.table).values()
    ]
    texts += [
        r[0] or "" for r in query(settings, "select refusal_reason from raw_meta.loaded_files")
    ]
    texts += [r[0] for r in query(settings, "select reason from raw_quarantine.rejected_rows")]
    for value in ingest_bad_landing.PHI_VALUES:
        assert not any(value in text for text in texts), value


def test_paths_outside_the_table_folders_are_ignored_and_shown_on_the_ledger(loaded):
    _, report = loaded
    ignored = "pms/unknown_table/2026-11-20.csv: unknown table pms.unknown_table"
    assert f"ignored {ignored}" in report.warnings
    ledger = report.ledger_metadata()
    assert (ledger["files_ignored"], ledger["ignored"]) == (1, ignored)


def test_a_file_of_another_format_in_a_table_folder_is_refused_and_recorded(loaded):
    """An export saved as a spreadsheet is a night's data that did not load: the table's
    check fails and the ledger names the file, while the table's CSV extract still loads."""
    settings, report = loaded
    reason = (
        "pms/locations/2026-11-20.xlsx: unsupported format (.xlsx): the loader reads .csv.gz, "
        ".csv, .parquet, .jsonl; export it as one of them"
    )
    entry = report.table("pms", "locations")
    assert (entry.files_loaded, entry.files_refused, entry.refusals) == (1, 1, [reason])
    assert f"refused {reason}" in report.errors
    assert query(
        settings,
        "select status, refusal_reason from raw_meta.loaded_files "
        "where table_name = 'locations' order by file_path",
    ) == [("loaded", None), ("refused", reason)]


def test_raw_tables_keep_contract_types_and_are_not_duplicated(loaded):
    settings, _ = loaded
    contract = load_contract()
    for table in contract.tables:
        described = dict(
            query(
                settings,
                f"""select column_name, data_type
            from information_schema.columns where table_schema = '{table.dataset}'
            and table_name = '{table.name}'""",
            )
        )
        assert {c.name: described[c.name] for c in table.columns} == {
            c.name: c.duckdb_type for c in table.columns
        }, table.qualified_name
        assert not [c for c in described if "__v_" in c], table.qualified_name
    tables = query(
        settings,
        """select table_schema, table_name, count(*) from
        information_schema.tables where table_schema like 'raw\\_%' escape '\\'
        group by all having count(*) > 1""",
    )
    assert tables == []
