"""A small serving.duckdb with the published shape, for building the shipped pages.

Values are synthetic but deterministic (arithmetic on row positions); the renderer's unit tests
use their own hand-checked three-row fixtures. This one exists so every shipped page and the
browser test have every mart they read. `coverage_gap=True` publishes the chain without a phone
system, so pages must say which KPIs that leaves out instead of drawing empty charts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

WEEKS = ["2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"]
MONTHS = ["2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"]
LOCATIONS = [
    ("loc_a", "Austin Downtown", "America/Chicago"),
    ("loc_b", "Boston Back Bay", "America/New_York"),
]

#: kpi, model, label, unit, direction, target_low, target_high, tolerance, play
TARGETS = [
    (
        "net_revenue",
        "kpi_financial",
        "Net revenue",
        "usd",
        "higher_is_better",
        None,
        None,
        0.1,
        None,
    ),
    (
        "gross_margin",
        "kpi_financial",
        "Gross margin",
        "ratio",
        "higher_is_better",
        0.75,
        None,
        0.02,
        "Check product cost and discounting",
    ),
    (
        "membership_revenue_share",
        "kpi_financial",
        "Membership share",
        "ratio",
        "higher_is_better",
        0.20,
        0.30,
        0.02,
        "Promote memberships",
    ),
    (
        "retail_revenue_share",
        "kpi_financial",
        "Retail share",
        "ratio",
        "higher_is_better",
        0.10,
        0.15,
        0.02,
        "Home-care recommendations at checkout",
    ),
    ("mrr", "kpi_financial", "MRR", "usd", "higher_is_better", None, None, 0.05, None),
    (
        "avg_revenue_per_appointment",
        "kpi_financial",
        "Avg revenue per appointment",
        "usd",
        "higher_is_better",
        None,
        None,
        0.1,
        None,
    ),
    (
        "revenue_per_room_hour",
        "kpi_rooms",
        "Revenue per room hour",
        "usd",
        "higher_is_better",
        850,
        None,
        0.05,
        "Fill schedule gaps, review pricing and mix",
    ),
    (
        "room_utilization",
        "kpi_rooms",
        "Room utilisation",
        "ratio",
        "higher_is_better",
        None,
        None,
        0.05,
        "Fill schedule gaps, review pricing and mix",
    ),
    (
        "provider_productive_share",
        "kpi_providers",
        "Provider productive share",
        "ratio",
        "higher_is_better",
        0.80,
        None,
        0.05,
        None,
    ),
    (
        "no_show_rate",
        "kpi_operations",
        "No-show rate",
        "ratio",
        "lower_is_better",
        None,
        None,
        0.02,
        "Deposits for high-value treatments, confirmation escalation",
    ),
    (
        "missed_call_rate",
        "kpi_engagement",
        "Missed-call rate",
        "ratio",
        "lower_is_better",
        None,
        None,
        0.03,
        "Missed-call text-back within 60 s and overflow coverage",
    ),
    (
        "new_leads",
        "kpi_engagement",
        "New leads",
        "count",
        "higher_is_better",
        None,
        None,
        0.2,
        None,
    ),
    (
        "booking_conversion_rate",
        "kpi_engagement",
        "Booking conversion",
        "ratio",
        "higher_is_better",
        None,
        None,
        0.05,
        None,
    ),
    (
        "rebooking_rate",
        "kpi_appointment_engagement",
        "Rebooking rate",
        "ratio",
        "higher_is_better",
        None,
        None,
        0.05,
        "Rebook at checkout; win-back messages at day 3 and day 10",
    ),
    (
        "new_patients",
        "kpi_operations",
        "New patients",
        "count",
        "higher_is_better",
        None,
        None,
        0.2,
        None,
    ),
    ("cac", "kpi_cohorts", "CAC", "usd", "lower_is_better", None, None, 0.1, None),
    ("ltv_12m", "kpi_cohorts", "LTV (12 months)", "usd", "higher_is_better", None, None, 0.1, None),
]
#: kpi -> base value, weekly step (deterministic series).
BASE = {
    "net_revenue": (42000.0, 1500.0),
    "gross_margin": (0.74, 0.01),
    "membership_revenue_share": (0.22, 0.01),
    "retail_revenue_share": (0.09, 0.005),
    "mrr": (18000.0, 250.0),
    "avg_revenue_per_appointment": (410.0, 6.0),
    "revenue_per_room_hour": (820.0, 20.0),
    "room_utilization": (0.62, 0.02),
    "provider_productive_share": (0.78, 0.01),
    "no_show_rate": (0.06, 0.004),
    "missed_call_rate": (0.12, -0.01),
    "new_leads": (60.0, 4.0),
    "booking_conversion_rate": (0.31, 0.01),
    "rebooking_rate": (0.42, 0.01),
    "new_patients": (24.0, 2.0),
    "cac": (180.0, -5.0),
    "ltv_12m": (1450.0, 10.0),
}


def _scorecard_rows(skip: set[str]) -> list[tuple]:
    rows = []
    by_kpi = {t[0]: t for t in TARGETS}
    for grain, periods in (("week", WEEKS), ("month", MONTHS)):
        for li, loc in enumerate(["_all", "loc_a", "loc_b"]):
            for kpi, (base, step) in BASE.items():
                if kpi in skip:
                    continue
                _, model, _, unit, _, low, high, _, _ = by_kpi[kpi]
                prev = None
                for pi, period in enumerate(periods):
                    scale = (
                        2.0
                        if loc == "_all"
                        and unit in ("usd", "count")
                        and kpi
                        not in (
                            "avg_revenue_per_appointment",
                            "revenue_per_room_hour",
                            "cac",
                            "ltv_12m",
                        )
                        else 1.0
                    )
                    value = round(
                        (base + step * pi + (0.003 * li if unit == "ratio" else li * 7)) * scale, 4
                    )
                    denominator = 100.0 + pi
                    numerator = round(value * denominator, 4) if unit == "ratio" else None
                    if low is None and high is None:
                        status = "no_target"
                    elif low is not None and value < low:
                        status = "below"
                    elif high is not None and value > high:
                        status = "above"
                    else:
                        status = "on_target"
                    final = not (grain == "week" and pi == len(periods) - 1)
                    baseline = round(value * 0.97, 4)
                    change = None if prev is None else round(value - prev, 4)
                    rows.append(
                        (
                            grain,
                            period,
                            loc,
                            kpi,
                            value,
                            numerator,
                            denominator if unit == "ratio" else None,
                            low,
                            high,
                            status,
                            final,
                            baseline,
                            change,
                            model,
                        )
                    )
                    prev = value
    return rows


def make_serving_db(path: Path, *, coverage_gap: bool = False) -> Path:
    """Write the fixture serving DB at `path` (replacing it) and return the path."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        _build(con, coverage_gap)
    finally:
        con.close()
    return path


def _build(con: duckdb.DuckDBPyConnection, coverage_gap: bool) -> None:
    phone_kpis = {"missed_call_rate"}
    con.execute("create schema marts; create schema ops")
    con.execute(
        "create table marts.dim_locations (location_id varchar, location_name varchar, "
        "timezone varchar)"
    )
    con.executemany("insert into marts.dim_locations values (?, ?, ?)", LOCATIONS)
    con.execute("""create table marts.dim_providers as select * from (values
        ('prov_1', 'Maria Alvarez', 'np', 'loc_a', true),
        ('prov_2', 'Sam Okafor', 'rn', 'loc_b', true),
        ('prov_3', 'Lee Front', 'front_desk', 'loc_a', false))
        t(provider_id, provider_name, role, home_location_id, is_revenue_generating)""")
    con.execute("""create table marts.dim_rooms as select * from (values
        ('room_a1', 'loc_a', 'Suite 1', 'treatment', true),
        ('room_a2', 'loc_a', 'Suite 2', 'treatment', true),
        ('room_b1', 'loc_b', 'Laser room', 'treatment', true))
        t(room_id, location_id, room_name, room_type, is_treatment_room)""")
    con.execute("""create table marts.dim_devices as select * from (values
        ('dev_1', 'loc_a', 'room_a1', 'GentleMax', 'laser'),
        ('dev_2', 'loc_b', 'room_b1', 'CoolSculpt', 'body_contouring'))
        t(device_id, location_id, room_id, device_name, device_type)""")
    con.execute(
        "create table marts.kpi_targets (kpi varchar, model varchar, label varchar, "
        "unit varchar, direction varchar, target_low double, target_high double, "
        "tolerance double, play varchar)"
    )
    con.executemany("insert into marts.kpi_targets values (?, ?, ?, ?, ?, ?, ?, ?, ?)", TARGETS)
    con.execute("""create table marts.kpi_scorecard (grain varchar, period_start date,
        location_id varchar, kpi varchar, value double, numerator double, denominator double,
        target_low double, target_high double, status varchar, is_final boolean,
        baseline_12m double, change_vs_prior double, model varchar)""")
    con.executemany(
        "insert into marts.kpi_scorecard values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        _scorecard_rows(phone_kpis if coverage_gap else set()),
    )
    families = sorted({t[1] for t in TARGETS} | {"kpi_appointment_engagement"})
    for fam in families:
        con.execute(f"""create table marts.{fam} as select grain, period_start, location_id, kpi,
            value, numerator, denominator, is_final from marts.kpi_scorecard where model = '{fam}'""")
    con.execute("""create table marts.kpi_alerts as select grain, period_start, location_id,
        s.kpi, t.label, value, s.target_low, s.target_high, status,
        'misses target' as reason, t.play
        from marts.kpi_scorecard s join marts.kpi_targets t using (kpi)
        where status in ('below', 'above') and is_final""")
    _detail(con)
    _facts(con)
    _ops(con, coverage_gap)


def _detail(con: duckdb.DuckDBPyConnection) -> None:
    def detail(table: str, dim: str, values: list[str], kpis: list[tuple[str, float]]) -> None:
        parts = []
        for pi, period in enumerate(WEEKS):
            for di, d in enumerate(values):
                loc = "loc_a" if di % 2 == 0 else "loc_b"
                for kpi, base in kpis:
                    value = round(base * (1 + 0.05 * di) + pi * base * 0.01, 4)
                    parts.append(
                        f"('week', date '{period}', '{loc}', '{kpi}', {value}, "
                        f"{pi < len(WEEKS) - 1}, '{d}')"
                    )
        con.execute(f"""create table marts.{table} as select * from (values {", ".join(parts)})
            t(grain, period_start, location_id, kpi, value, is_final, {dim})""")

    detail(
        "kpi_by_room",
        "room_id",
        ["room_a1", "room_a2", "room_b1"],
        [("revenue_per_room_hour", 800.0), ("room_utilization", 0.6)],
    )
    detail("kpi_by_device", "device_id", ["dev_1", "dev_2"], [("device_utilization", 0.35)])
    detail(
        "kpi_by_provider",
        "provider_id",
        ["prov_1", "prov_2"],
        [
            ("revenue_per_provider", 15000.0),
            ("provider_productive_share", 0.79),
            ("rebooking_rate", 0.4),
            ("confirmation_response_rate", 0.7),
            ("retention_12m", 0.6),
        ],
    )
    detail(
        "kpi_by_service_category",
        "service_category",
        ["neurotoxin", "filler", "laser"],
        [("net_revenue", 9000.0)],
    )
    detail(
        "kpi_by_line_type",
        "line_type",
        ["service", "retail_product", "membership_fee"],
        [("net_revenue", 6000.0)],
    )
    detail(
        "kpi_by_patient_type",
        "patient_type",
        ["new", "returning"],
        [("completed_visits", 40.0), ("no_show_rate", 0.05)],
    )
    detail(
        "kpi_by_channel",
        "channel",
        ["google_ads", "instagram", "referral"],
        [
            ("new_leads", 20.0),
            ("contact_rate", 0.6),
            ("booking_conversion_rate", 0.3),
            ("cac", 150.0),
        ],
    )
    parts = []
    for ci, cohort in enumerate(["2025-01-01", "2025-02-01", "2025-03-01"]):
        for kpi, base in (("retention_12m", 0.6), ("visits_first_year", 3.2)):
            parts.append(
                f"('month', date '{cohort}', '_all', '{kpi}', {base + 0.02 * ci}, true, "
                f"date '{cohort}')"
            )
    con.execute(f"""create table marts.kpi_by_cohort as select * from (values {", ".join(parts)})
        t(grain, period_start, location_id, kpi, value, is_final, cohort_month)""")


def _facts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""create table marts.fct_appointments as
        select 'appt_' || i as appointment_id,
            case when i % 2 = 0 then 'loc_a' else 'loc_b' end as location_id,
            case when i % 3 = 0 then 'room_a1' when i % 3 = 1 then 'room_b1' else 'room_a2' end
                as room_id,
            case when i % 2 = 0 then 'prov_1' else 'prov_2' end as provider_id,
            'pk_' || (i % 7) as patient_key,
            timestamp '2026-11-09 09:00' + to_hours(cast(i * 5 % 9 as bigint))
                + to_days(cast(i % 6 as bigint)) as scheduled_start_local,
            case when i % 10 = 0 then 'no_show' else 'completed' end as status,
            1.0 as duration_hours
        from range(60) r(i)""")
    con.execute("""create table marts.fct_leads as
        select 'lk_' || i as lead_key,
            case when i % 2 = 0 then 'loc_a' else 'loc_b' end as location_id,
            case i % 3 when 0 then 'google_ads' when 1 then 'instagram' else 'referral' end
                as channel,
            timestamp '2026-11-09 08:00' + to_hours(cast(i as bigint)) as created_at,
            i % 4 <> 0 as is_contacted,
            i % 3 = 0 as is_booked,
            case when i % 4 <> 0 then (i * 7) % 95 end as response_minutes
        from range(40) r(i)""")


def _ops(con: duckdb.DuckDBPyConnection, coverage_gap: bool) -> None:
    con.execute("""create table marts.data_coverage (system varchar, table_name varchar,
        status varchar, rows bigint, last_extract_id varchar)""")
    tables = [
        ("pms", "appointments", 1200),
        ("pos", "invoices", 900),
        ("phone", "calls", 300),
        ("crm", "leads", 150),
        ("messaging", "messages", 800),
        ("reviews", "reviews", 40),
    ]
    con.executemany(
        "insert into marts.data_coverage values (?, ?, ?, ?, ?)",
        [
            (
                s,
                t,
                "absent" if coverage_gap and s == "phone" else "present",
                0 if coverage_gap and s == "phone" else n,
                None if coverage_gap and s == "phone" else "x1",
            )
            for s, t, n in tables
        ],
    )
    con.execute("""create table marts.kpi_coverage (kpi varchar, computable boolean,
        missing_tables varchar, reason varchar)""")
    con.executemany(
        "insert into marts.kpi_coverage values (?, ?, ?, ?)",
        [
            (
                "missed_call_rate",
                not coverage_gap,
                "phone.calls" if coverage_gap else None,
                "needs the phone system's calls" if coverage_gap else None,
            ),
            ("net_revenue", True, None, None),
        ],
    )
    con.execute("""create table ops.check_results (check_name varchar, asset varchar,
        severity varchar, passed boolean, description varchar,
        evaluated_at timestamp with time zone, run_id varchar)""")
    con.execute("""insert into ops.check_results values
        ('not_null_appointment_id', 'stg_pms__appointments', 'ERROR', true, 'ids present',
         timestamptz '2026-11-16 07:00:00+00', 'run_1'),
        ('quarantine_share', 'raw_pos/invoices', 'WARN', false, '1.5% of rows quarantined',
         timestamptz '2026-11-16 07:00:00+00', 'run_1')""")
    con.execute("""create table ops.quarantine_summary (system varchar, table_name varchar,
        source_file varchar, reason varchar, rows bigint)""")
    con.execute("""insert into ops.quarantine_summary values
        ('pos', 'invoices', 'landing/pos/invoices/x1.csv', 'bad enum status', 14)""")
    con.execute("""create table ops.loaded_files (load_id varchar, file_path varchar,
        system varchar, table_name varchar, extract_id varchar, status varchar,
        refusal_reason varchar, rows_read bigint, rows_inserted bigint, rows_updated bigint,
        rows_unchanged bigint, rows_quarantined bigint, loaded_at timestamp with time zone)""")
    con.execute("""insert into ops.loaded_files values
        ('l1', 'landing/pos/invoices/x1.csv', 'pos', 'invoices', 'x1', 'loaded', null, 914, 900,
         0, 0, 14, timestamptz '2026-11-16 06:55:00+00')""")
    con.execute("""create table ops.run_log (run_id varchar, started_at timestamp with time zone,
        finished_at timestamp with time zone, rows_loaded bigint, checks_passed bigint,
        checks_warned bigint, checks_failed bigint)""")
    con.execute("""insert into ops.run_log values ('run_1', timestamptz '2026-11-16 06:50:00+00',
        timestamptz '2026-11-16 07:02:00+00', 3400, 41, 1, 0)""")
