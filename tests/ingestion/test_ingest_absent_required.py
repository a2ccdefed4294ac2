"""Required tables, absent systems/tables, declared systems, and the CLI's exit codes."""

from __future__ import annotations

import argparse
import shutil

import ingest_bad_landing
import pytest
from ingest_fixtures import (
    appointment,
    csv_text,
    header,
    query,
    settings_for,
    write,
    write_required,
)

from ingestion.pipeline import MissingRequiredTablesError, ingest
from ingestion.report import NEVER_DELIVERED, NO_NEW_EXTRACT
from medspa.commands import ingest as ingest_command

pytestmark = pytest.mark.xdist_group("ingest_absent")


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    ingest_command.add_arguments(parser)
    return ingest_command.run(parser.parse_args(list(argv)))


def test_an_empty_or_missing_landing_folder_is_named_as_such(tmp_root):
    """A first run pointed at the wrong folder: the error says the folder holds nothing at all
    and what to do, not only which tables are missing."""
    settings = settings_for(tmp_root)  # <root>/landing does not exist
    with pytest.raises(MissingRequiredTablesError) as excinfo:
        ingest(settings)
    assert excinfo.value.missing == ["pms.locations", "pms.appointments"]
    assert "holds no extract at all: point MEDSPA_LANDING_DIR at" in str(excinfo.value)
    # a folder with an extract (not the required ones) is not called empty
    write(tmp_root, "landing/crm/leads/2026-11-20.csv", csv_text(header("crm.leads"), []))
    with pytest.raises(MissingRequiredTablesError) as excinfo:
        ingest(settings)
    assert "holds no extract at all" not in str(excinfo.value)


def test_missing_required_table_stops_before_loading_anything(tmp_root):
    write(tmp_root, "landing/pms/locations/2026-11-20.csv", "location_id\n")
    write(tmp_root, "landing/crm/leads/2026-11-20.csv", csv_text(header("crm.leads"), []))
    settings = settings_for(tmp_root)
    with pytest.raises(MissingRequiredTablesError) as excinfo:
        ingest(settings)
    assert excinfo.value.missing == ["pms.appointments"]
    assert "pms.appointments" in str(excinfo.value)
    assert query(settings, "select count(*) from raw_meta.loaded_files") == [(0,)]


def test_a_required_table_whose_only_extract_is_refused_stops_before_loading_anything(
    tmp_root, capsys
):
    # Loading the rest would build and publish marts with no appointments (every KPI empty)
    # and call it a success: the run fails as if the table had no extract at all.
    landing = tmp_root / "landing"
    write_required(landing)
    columns = [c for c in header("pms.appointments") if c != "booking_channel"]
    write(landing, "pms/appointments/2026-11-20.csv", csv_text(columns, [appointment("A1")]))
    settings = settings_for(tmp_root)
    with pytest.raises(MissingRequiredTablesError) as excinfo:
        ingest(settings)
    assert excinfo.value.missing == ["pms.appointments"]
    assert str(excinfo.value) == (
        "cannot load: no extract of required table(s) pms.appointments could be loaded and "
        "none was loaded before (pms.appointments: pms/appointments/2026-11-20.csv: missing "
        "contract column(s) booking_channel; the table's load stops until this file is replaced "
        "or removed); nothing was loaded"
    )
    assert query(settings, "select count(*) from raw_meta.loaded_files") == [(0,)]
    assert query(settings, "select count(*) from raw_pms.locations") == [(0,)]
    rc = run_cli("--data-dir", str(tmp_root / "data"), "--landing", str(landing))
    assert rc == 2 and "booking_channel" in capsys.readouterr().err


def test_cli_exits_2_naming_the_missing_required_tables(tmp_root, capsys):
    rc = run_cli("--data-dir", str(tmp_root / "data"), "--landing", str(tmp_root / "landing"))
    assert rc == 2
    err = capsys.readouterr().err
    assert "pms.locations" in err and "pms.appointments" in err


#: One lead: the CRM system is delivered (a header-only file would be refused as malformed).
ONE_LEAD = csv_text(
    header("crm.leads"),
    [
        {
            "lead_id": "LD1",
            "location_id": "L1",
            "created_at": "2026-11-01T09:00:00Z",
            "channel": "web_form",
            "status": "new",
            "updated_at": "2026-11-01T09:00:00Z",
        }
    ],
)


def test_absent_systems_and_tables_are_reported_and_not_errors(tmp_root):
    write_required(tmp_root / "landing")
    write(tmp_root, "landing/crm/leads/2026-11-20.csv", ONE_LEAD)
    report = ingest(settings_for(tmp_root))
    assert report.ok, report.errors
    assert report.absent_systems == ["pos", "phone", "messaging", "reviews"]
    assert "crm.marketing_spend" in report.absent_tables
    assert "pms.patients" in report.absent_tables
    assert "pos.invoices" not in report.absent_tables  # covered by the absent system
    assert report.table("crm", "marketing_spend").state == NEVER_DELIVERED
    text = report.to_text()
    assert "absent systems (never delivered): pos, phone, messaging, reviews" in text


def test_second_run_tells_no_new_extract_from_never_delivered(tmp_root):
    write_required(tmp_root / "landing")
    settings = settings_for(tmp_root)
    ingest(settings)
    # the extracts were loaded; the landing folder may since have been cleaned up
    shutil.rmtree(tmp_root / "landing" / "pms")
    write(
        tmp_root,
        "landing/pms/appointments/2026-11-21.csv",
        csv_text(header("pms.appointments"), [appointment("A2")]),
    )
    report = ingest(settings)
    assert report.ok
    assert report.table("pms", "locations").state == NO_NEW_EXTRACT
    assert report.table("pms", "patients").state == NEVER_DELIVERED
    assert report.table("pms", "appointments").rows_inserted == 1


def test_declared_system_never_delivered_is_an_error(tmp_root):
    write_required(tmp_root / "landing")
    report = ingest(settings_for(tmp_root, declared_systems=("pms", "crm")))
    assert not report.ok
    assert report.errors == [
        "system crm is declared (MEDSPA_SYSTEMS) but no extract of it was ever delivered"
    ]
    assert "pos" in report.absent_systems  # undeclared and absent: simply absent


def test_systems_filter_loads_only_the_named_systems(tmp_root):
    write_required(tmp_root / "landing")
    write(tmp_root, "landing/crm/leads/2026-11-20.csv", csv_text(header("crm.leads"), []))
    report = ingest(settings_for(tmp_root), systems=["crm"])
    assert [t.qualified_name for t in report.tables] == ["crm.leads", "crm.marketing_spend"]
    with pytest.raises(ValueError, match="unknown system"):
        ingest(settings_for(tmp_root), systems=["erp"])


def test_cli_prints_summary_exits_1_on_refusal_and_never_prints_phi(tmp_root, capsys):
    ingest_bad_landing.build(tmp_root / "landing")
    rc = run_cli("--data-dir", str(tmp_root / "data"), "--landing", str(tmp_root / "landing"))
    out = capsys.readouterr()
    assert rc == 1
    assert "pos/products/2026-11-20.csv: missing contract column(s) product_type" in out.out
    assert "drift: new column(s) promo_code" in out.out
    for value in ingest_bad_landing.PHI_VALUES:
        assert value not in out.out + out.err
