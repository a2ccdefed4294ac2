"""A KPI whose input tables were never delivered has no rows anywhere, never a row of nulls.

The seeded two-location chain (`dbt_core_chain`) without `pms.location_hours`,
`pms.services` and `pms.provider_shifts`: kpi_coverage says the room, device and provider KPIs
that read them are not computable, and then the scorecard, the family marts and the drill-downs
(kpi_by_room, kpi_by_device, kpi_by_provider) have no row for them (before the fix they had one
per cell: value null, numerator filled, denominator 0). The KPIs that need none of those tables
(revenue_per_treatment_hour, rebooking_rate) keep their rows, so the gate is per KPI, not per
mart. The singular dbt test assert_no_rows_for_kpis_not_computable passes on this warehouse
and fails on a row planted for such a KPI.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, build_chain
from engagement_fixture import table_rows

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

DROPPED = (("pms", "location_hours"), ("pms", "services"), ("pms", "provider_shifts"))
#: Not computable without the dropped tables (seeds/kpi_requirements.csv).
NOT_COMPUTABLE = {
    "room_utilization",  # pms.location_hours
    "revenue_per_room_hour",  # pms.location_hours
    "device_utilization",  # pms.location_hours
    "patient_throughput",  # pms.location_hours
    "consult_conversion_rate",  # pms.services
    "provider_productive_share",  # pms.provider_shifts
    "revenue_per_provider",  # pms.provider_shifts (its denominator: rostered providers)
}
#: The marts these KPIs would otherwise show up in.
MARTS = (
    "kpi_scorecard",
    "kpi_alerts",
    "kpi_rooms",
    "kpi_providers",
    "kpi_operations",
    "kpi_by_room",
    "kpi_by_device",
    "kpi_by_provider",
)
SINGULAR_TEST = "assert_no_rows_for_kpis_not_computable"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain without the dropped tables, its KPI marts built (models and seeds only),
    then the singular test run on it (it must pass)."""
    work = tmp_path_factory.mktemp("kpis_not_computable")
    chain = build_chain()
    partial = Chain(
        as_of=chain.as_of, tables={k: v for k, v in chain.tables.items() if k not in DROPPED}
    )
    path = write_chain(work / "warehouse.duckdb", partial)
    dbt(["seed"], path, work)  # `dbt run` loads no seeds; the marts read them
    dbt(["run", "--select", f"+{SINGULAR_TEST}"], path, work)
    dbt(["test", "--select", SINGULAR_TEST], path, work)
    return path


def test_coverage_names_them_not_computable(warehouse: Path) -> None:
    """The chain has no CRM, phone, messaging or reviews either: their KPIs are listed too."""
    rows = table_rows(warehouse, "select kpi, computable, missing_tables from marts.kpi_coverage")
    computable = {kpi for kpi, ok, _ in rows if ok}
    missing = {kpi: tables for kpi, ok, tables in rows if not ok}
    assert set(missing) >= NOT_COMPUTABLE
    assert {"revenue_per_treatment_hour", "rebooking_rate", "completed_visits"} <= computable
    assert missing["room_utilization"] == "pms.location_hours"
    assert missing["revenue_per_provider"] == "pms.provider_shifts"
    assert missing["provider_productive_share"] == "pms.provider_shifts"


@pytest.mark.parametrize("mart", MARTS)
def test_no_rows_for_them_in_the_scorecard_and_drill_downs(warehouse: Path, mart: str) -> None:
    listed = ", ".join(f"'{kpi}'" for kpi in sorted(NOT_COMPUTABLE))
    rows = table_rows(
        warehouse,
        f"select kpi, count(*) from marts.{mart} where kpi in ({listed}) group by kpi",
    )
    assert rows == []


def test_kpis_that_need_none_of_them_keep_theirtable_rows(warehouse: Path) -> None:
    """The gate is per KPI: the rooms and providers marts still publish the others."""

    def kpis(mart: str) -> set[str]:
        return {r[0] for r in table_rows(warehouse, f"select distinct kpi from marts.{mart}")}

    assert kpis("kpi_rooms") == {"revenue_per_treatment_hour"}
    assert kpis("kpi_by_room") == {"revenue_per_treatment_hour"}
    assert kpis("kpi_by_device") == set()
    assert kpis("kpi_providers") == set()
    assert {"rebooking_rate", "confirmation_response_rate"} <= kpis("kpi_by_provider")
    assert "revenue_per_treatment_hour" in kpis("kpi_scorecard")


def test_the_singular_test_fails_on_a_row_for_them(warehouse: Path, tmp_path: Path) -> None:
    """The data test catches the defect it guards against: one null row of device_utilization
    planted in kpi_by_device (what the mart published before it joined kpi_coverage)."""
    planted = tmp_path / "warehouse.duckdb"
    planted.write_bytes(warehouse.read_bytes())
    con = duckdb.connect(str(planted))
    try:
        con.execute(
            "insert into marts.kpi_by_device values ('week', date '2025-11-10', 'L1', 'D1', "
            "'device_utilization', null, 12.0, 0.0, false)"
        )
    finally:
        con.close()
    failed = dbt(["test", "--select", SINGULAR_TEST], planted, tmp_path, check=False)
    assert failed.returncode != 0
    assert "Got 1 result" in failed.stdout
