"""ltv_12m's patient-day neighbours (macros/ltv.sql) equal one sort per scope, row for row.

Why: kpi_financial sorts the revenue days once per patient and reuses the neighbours of a
patient seen at one location for both its location and the chain ('_all'); only patients seen
at several locations are sorted again per scope. The large demo chain has no such patient, so
the golden KPI test and the large incremental-equals-full check never reach that branch. This
test compiles the macro with dbt and runs it in DuckDB on hand-made revenue days:

- p_a, L1 only: 2026-01-01 and 2026-03-01 -> at L1 and `_all`: (01-01: none, 03-01),
  (03-01: 01-01, none).
- p_b, L1 and L2 on the same day 01-10, L1 again on 02-01 -> L1: (01-10: none, 02-01),
  (02-01: 01-10, none); L2: (01-10: none, none); `_all` counts 01-10 once: (01-10: none,
  02-01), (02-01: 01-10, none).
- p_c, L2 only, one day 01-15 -> (01-15: none, none) at L2 and `_all`.
- p_d, L1 01-05, L2 01-20, L1 02-10 -> L1: (01-05: none, 02-10), (02-10: 01-05, none);
  L2: (01-20: none, none); `_all`: (01-05: none, 01-20), (01-20: 01-05, 02-10),
  (02-10: 01-20, none).

and on seeded random days of many patients (some at several locations, some on the same day
at two), against the formulation it replaced (every scope's days sorted on their own).
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import duckdb
import pytest
from dbt_runner import dbt

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_ltv_neighbours")]

HAND_DAYS = [
    ("L1", "2026-01-01", "p_a"),
    ("L1", "2026-03-01", "p_a"),
    ("L1", "2026-01-10", "p_b"),
    ("L2", "2026-01-10", "p_b"),
    ("L1", "2026-02-01", "p_b"),
    ("L2", "2026-01-15", "p_c"),
    ("L1", "2026-01-05", "p_d"),
    ("L2", "2026-01-20", "p_d"),
    ("L1", "2026-02-10", "p_d"),
]

#: (scope, patient, day, previous day, next day), worked out by hand (module docstring).
HAND_EXPECTED = {
    ("L1", "p_a", "2026-01-01", None, "2026-03-01"),
    ("L1", "p_a", "2026-03-01", "2026-01-01", None),
    ("_all", "p_a", "2026-01-01", None, "2026-03-01"),
    ("_all", "p_a", "2026-03-01", "2026-01-01", None),
    ("L1", "p_b", "2026-01-10", None, "2026-02-01"),
    ("L1", "p_b", "2026-02-01", "2026-01-10", None),
    ("L2", "p_b", "2026-01-10", None, None),
    ("_all", "p_b", "2026-01-10", None, "2026-02-01"),
    ("_all", "p_b", "2026-02-01", "2026-01-10", None),
    ("L2", "p_c", "2026-01-15", None, None),
    ("_all", "p_c", "2026-01-15", None, None),
    ("L1", "p_d", "2026-01-05", None, "2026-02-10"),
    ("L1", "p_d", "2026-02-10", "2026-01-05", None),
    ("L2", "p_d", "2026-01-20", None, None),
    ("_all", "p_d", "2026-01-05", None, "2026-01-20"),
    ("_all", "p_d", "2026-01-20", "2026-01-05", "2026-02-10"),
    ("_all", "p_d", "2026-02-10", "2026-01-20", None),
}

#: The formulation the macro replaced: each scope's days (chain-wide: distinct) sorted apart.
REFERENCE = """
scoped as (
    select location_id as scope, patient_key, issued_date from revenue_days
    union all
    select distinct '_all' as scope, patient_key, issued_date from revenue_days
),
reference as (
    select
        scope,
        patient_key,
        issued_date,
        lag(issued_date) over w as previous_date,
        lead(issued_date) over w as next_date
    from scoped
    window w as (partition by scope, patient_key order by issued_date)
)
"""


@pytest.fixture(scope="module")
def neighbours_sql(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The macro's CTEs compiled by dbt, over a CTE `revenue_days` the query defines."""
    work = tmp_path_factory.mktemp("ltv_neighbours")
    inline = "{{ ltv_patient_neighbours('revenue_days', 'neighbours') }}"
    proc = dbt(
        ["compile", "--quiet", "--output", "json", "--inline", inline],
        warehouse=work / "warehouse.duckdb",
        work=work,
    )
    return json.loads(proc.stdout[proc.stdout.index("{") :])["compiled"]


def _run(neighbours: str, days: list[tuple[str, str, str]], select: str) -> list[tuple]:
    """The rows of `select` over `days` as revenue_days, sorted (duplicates kept)."""
    con = duckdb.connect()
    try:
        con.execute(
            "create table days (location_id varchar, issued_date date, patient_key varchar)"
        )
        con.executemany("insert into days values (?, ?, ?)", days)
        sql = f"with revenue_days as (select * from days), {neighbours}, {REFERENCE} {select}"
        rows = [
            tuple(str(v) if isinstance(v, date) else v for v in row)
            for row in con.execute(sql).fetchall()
        ]
        return sorted(rows, key=repr)
    finally:
        con.close()


COLUMNS = "scope, patient_key, issued_date, previous_date, next_date"


def test_hand_worked_neighbours(neighbours_sql: str) -> None:
    got = _run(neighbours_sql, HAND_DAYS, f"select {COLUMNS} from neighbours")
    assert got == sorted(HAND_EXPECTED, key=repr)


def test_random_days_equal_one_sort_per_scope(neighbours_sql: str) -> None:
    rng = random.Random(17)
    start = date(2025, 1, 1)
    days: set[tuple[str, str, str]] = set()
    for patient in range(300):
        # a third of the patients visit several of the 3 locations, some on the same day
        locations = ["L1", "L2", "L3"] if patient % 3 == 0 else [f"L{1 + patient % 3}"]
        for _ in range(rng.randint(1, 12)):
            day = start + timedelta(days=rng.randint(0, 500))
            days.add((rng.choice(locations), day.isoformat(), f"p{patient}"))
    rows = sorted(days)
    got = _run(neighbours_sql, rows, f"select {COLUMNS} from neighbours")
    want = _run(neighbours_sql, rows, f"select {COLUMNS} from reference")
    assert got == want
    assert len(got) > len(rows)  # every day at its location, and the chain-wide days
    multi_day_patients = _run(
        neighbours_sql,
        rows,
        "select count(distinct patient_key) from ("
        " select patient_key, issued_date from revenue_days group by 1, 2 having count(*) > 1)",
    )
    assert multi_day_patients[0][0] > 0  # the same-day-at-two-locations case occurs
