"""A small serving.duckdb with the published shape, for building the shipped pages.

Values are synthetic but deterministic (arithmetic on row positions); the renderer's unit tests
use their own hand-checked fixture (conftest.py). This one exists so every shipped page and the
browser test have every mart they read, with the column names the dbt marts publish.
`coverage_gap=True` publishes the chain without a phone system, so pages must say which KPIs
that leaves out instead of drawing empty charts.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb

from dashboards import build_site
from dashboards.site import DEFAULT_PAGES_DIR, SiteReport

WEEKS = ["2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"]
MONTHS = ["2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01"]
LOCATIONS = [
    ("loc_a", "Austin Downtown", "America/Chicago"),
    ("loc_b", "Boston Back Bay", "America/New_York"),
]
HIB, LIB = "higher_is_better", "lower_is_better"
#: The data's as-of time (`reporting_periods.as_of_at`): 07:40 UTC is 02:40 in Boston.
AS_OF = "2026-11-17 07:40:12+00"
_FAMILIES = {
    "kpi_financial": "financial",
    "kpi_rooms": "rooms",
    "kpi_providers": "providers",
    "kpi_operations": "operations",
    "kpi_engagement": "engagement",
    "kpi_appointment_engagement": "engagement",
    "kpi_cohorts": "cohorts",
}

# fmt: off
#: kpi, model, label, unit, direction, target_low, target_high, tolerance, play, base, step
KPIS = [
    ("net_revenue", "kpi_financial", "Net revenue", "usd", HIB, None, None, 0.1, None, 42000, 1500),
    ("gross_margin", "kpi_financial", "Gross margin", "ratio", HIB, 0.75, None, 0.02,
     "Check product cost and discounting", 0.74, 0.01),
    ("membership_revenue_share", "kpi_financial", "Membership share", "ratio", "band", 0.20, 0.30,
     0.02, "Promote memberships", 0.22, 0.01),
    ("retail_revenue_share", "kpi_financial", "Retail share", "ratio", HIB, 0.10, 0.15, 0.02,
     "Home-care recommendations at checkout", 0.09, 0.005),
    ("mrr", "kpi_financial", "MRR", "usd", HIB, None, None, 0.05, None, 18000, 250),
    ("avg_revenue_per_appointment", "kpi_financial", "Avg revenue per appointment", "usd", HIB,
     None, None, 0.1, None, 410, 6),
    ("revenue_per_room_hour", "kpi_rooms", "Revenue per room hour", "usd", HIB, 850, None, 0.05,
     "Fill schedule gaps, review pricing and mix", 820, 20),
    ("room_utilization", "kpi_rooms", "Room utilisation", "ratio", HIB, None, None, 0.05,
     "Fill schedule gaps, review pricing and mix", 0.62, 0.02),
    ("provider_productive_share", "kpi_providers", "Provider productive share", "ratio", HIB,
     0.80, None, 0.05, None, 0.78, 0.01),
    ("no_show_rate", "kpi_operations", "No-show rate", "ratio", LIB, None, None, 0.02,
     "Deposits for high-value treatments, confirmation escalation", 0.06, 0.004),
    ("completed_visits", "kpi_operations", "Completed visits", "count", HIB, None, None, 0.1,
     None, 210, 5),
    ("new_patients", "kpi_operations", "New patients", "count", HIB, None, None, 0.2, None, 24, 2),
    ("missed_call_rate", "kpi_engagement", "Missed-call rate", "ratio", LIB, None, None, 0.03,
     "Missed-call text-back within 60 s and overflow coverage", 0.12, -0.01),
    ("lead_response_minutes", "kpi_engagement", "Lead response time", "minutes", LIB, None, None,
     2, "Instant reply, after-hours coverage", 18, -1),
    ("new_leads", "kpi_engagement", "New leads", "count", HIB, None, None, 0.2, None, 60, 4),
    ("booking_conversion_rate", "kpi_engagement", "Booking conversion", "ratio", HIB, None, None,
     0.05, None, 0.31, 0.01),
    ("confirmation_response_rate", "kpi_appointment_engagement", "Confirmation response",
     "ratio", HIB, None, None, 0.05, "Change reminder timing, escalate no-responses", 0.7, 0.01),
    ("rebooking_rate", "kpi_appointment_engagement", "Rebooking rate", "ratio", HIB, None, None,
     0.05, "Rebook at checkout; win-back messages at day 3 and day 10", 0.42, 0.01),
    ("retention_12m", "kpi_cohorts", "Retention (12 months)", "ratio", HIB, 0.65, None, 0.02,
     "Review retention by provider", 0.6, 0.01),
    ("visits_first_year", "kpi_cohorts", "Visits in first year", "count", "band", 3, 4, 0.1, None,
     3.1, 0.05),
    ("cac", "kpi_cohorts", "CAC", "usd", LIB, None, None, 0.1, None, 180, -5),
    ("ltv_12m", "kpi_cohorts", "LTV (12 months)", "usd", HIB, None, None, 0.1, None, 1450, 10),
]
#: A band KPI's play for a value above the middle of its band (`kpi_targets.play_above`).
PLAYS_ABOVE = {
    "membership_revenue_share": "Check that treatment revenue keeps pace",
    "visits_first_year": "Review first-year treatment plans",
}
#: KPIs that add up over locations (chain-wide = 2 × a location's value in this fixture).
ADDITIVE = {"net_revenue", "mrr", "completed_visits", "new_patients", "new_leads"}
# fmt: on


def _status(value: float, low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return "no_target"
    if low is not None and value < low:
        return "below"
    if high is not None and value > high:
        return "above"
    return "on_target"


def _scorecard_rows(skip: set[str]) -> list[tuple]:
    rows = []
    for kpi, _, _, unit, _, low, high, _, _, base, step in KPIS:
        if kpi in skip:
            continue
        for grain, periods in (("week", WEEKS), ("month", MONTHS)):
            for li, loc in enumerate(["_all", "loc_a", "loc_b"]):
                prev = None
                scale = 2.0 if loc == "_all" and kpi in ADDITIVE else 1.0
                for pi, period in enumerate(periods):
                    bump = 0.003 * li if unit == "ratio" else li * 7
                    value = round((base + step * pi + bump) * scale, 4)
                    denominator = 100.0 + pi if unit == "ratio" else None
                    numerator = round(value * denominator, 4) if denominator else None
                    final = pi < len(periods) - 1  # the newest period is still running
                    change = None if prev is None else round(value - prev, 4)
                    rows.append(
                        (grain, period, loc, kpi, value, numerator, denominator, low, high,
                         _status(value, low, high), final, round(value * 0.97, 4), change)
                    )  # fmt: skip
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
    con.execute("create schema marts; create schema ops")
    con.execute(
        "create table marts.dim_locations (location_id varchar, location_name varchar, "
        "timezone varchar)"
    )
    con.executemany("insert into marts.dim_locations values (?, ?, ?)", LOCATIONS)
    con.execute("""create table marts.dim_providers as select * from (values
        ('prov_1', 'Maria Alvarez', 'np', 'loc_a', true, date '2023-01-09', null::date),
        ('prov_2', 'Sam Okafor', 'rn', 'loc_b', true, date '2023-01-09', null::date),
        ('prov_3', 'Lee Front', 'front_desk', 'loc_a', false, date '2023-01-09', null::date),
        ('prov_4', 'Maria Acosta', 'rn', 'loc_b', true, date '2023-01-09', null::date))
        t(provider_id, provider_name, role, home_location_id, is_revenue_generating, hired_on,
          terminated_on)""")
    con.execute("""create table marts.dim_rooms as select * from (values
        ('room_a1', 'loc_a', 'Suite 1', 'treatment', true, date '2024-01-01', null::date),
        ('room_a2', 'loc_a', 'Suite 2', 'treatment', true, date '2024-01-01', null::date),
        ('room_b1', 'loc_b', 'Laser room', 'treatment', true, date '2024-01-01', null::date))
        t(room_id, location_id, room_name, room_type, is_treatment_room, active_from,
          active_to)""")
    con.execute("""create table marts.dim_devices as select * from (values
        ('dev_1', 'loc_a', 'room_a1', 'GentleMax', 'laser'),
        ('dev_2', 'loc_b', 'room_b1', 'CoolSculpt', 'body_contouring'))
        t(device_id, location_id, room_id, device_name, device_type)""")
    con.execute(
        "create table marts.kpi_targets (kpi varchar, model varchar, label varchar, "
        "unit varchar, direction varchar, target_low double, target_high double, "
        "tolerance double, play varchar, play_above varchar, family varchar, priority integer)"
    )
    con.executemany(
        "insert into marts.kpi_targets values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*k[:9], PLAYS_ABOVE.get(k[0]), _FAMILIES[k[1]], i) for i, k in enumerate(KPIS, start=1)],
    )
    con.execute("""create table marts.kpi_scorecard (grain varchar, period_start date,
        location_id varchar, kpi varchar, value double, numerator double, denominator double,
        target_low double, target_high double, status varchar, is_final boolean,
        baseline_12m double, change_vs_prior double)""")
    skip = {"missed_call_rate"} if coverage_gap else set()
    con.executemany(
        "insert into marts.kpi_scorecard values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        _scorecard_rows(skip),
    )
    # as the reporting_periods mart defines it: the newest period with final chain-wide KPIs
    # as_of_at: the data's as-of time, the newest update loaded (AS_OF)
    con.execute(f"""create table marts.reporting_periods as
        select g.grain, max(s.period_start) as period_start,
            cast(null as date) as period_end, timestamptz '{AS_OF}' as as_of_at
        from (values ('week'), ('month')) as g (grain)
        left join marts.kpi_scorecard as s
            on s.grain = g.grain and s.location_id = '_all' and s.is_final
        group by g.grain""")
    for family in sorted({k[1] for k in KPIS}):
        con.execute(f"""create table marts.{family} as select grain, period_start, location_id,
            kpi, value, numerator, denominator, is_final
            from marts.kpi_scorecard join marts.kpi_targets using (kpi)
            where model = '{family}'""")
    # as the mart picks it: a band KPI above the middle of its band gets play_above
    con.execute("""create table marts.kpi_alerts as select grain, period_start, location_id,
        s.kpi, t.label, t.model, value, s.target_low, s.target_high, status,
        s.baseline_12m as trailing_mean, 0.0 as relative_change, t.tolerance, t.direction,
        'missed_target' as alert_reason,
        case
            when t.direction = 'band' and value > (s.target_low + s.target_high) / 2
                then t.play_above
            else t.play
        end as play
        from marts.kpi_scorecard s join marts.kpi_targets t using (kpi)
        where status in ('below', 'above') and is_final""")
    # consecutive weekly alerts of a KPI and location: the first is new, the rest ongoing
    con.execute("""create or replace table marts.kpi_alerts as select *,
        row_number() over (partition by grain, location_id, kpi order by period_start)
            as periods_running,
        periods_running = 1 as is_new
        from marts.kpi_alerts""")
    _detail(con)
    _provider_cohorts_and_nps(con)
    _facts(con)
    _coverage(con, coverage_gap)
    _ops(con)


#: Detail-mart KPIs that are ratios: they carry a numerator and denominator, as in the marts.
_DETAIL_RATIOS = {
    "room_utilization", "device_utilization", "provider_productive_share", "rebooking_rate",
    "confirmation_response_rate", "no_show_rate", "contact_rate", "booking_conversion_rate",
}  # fmt: skip


def _detail(con: duckdb.DuckDBPyConnection) -> None:
    def detail(table: str, dim: str, values: list[str], kpis: list[tuple[str, float]]) -> None:
        parts = []
        for grain, periods in (("week", WEEKS), ("month", MONTHS)):
            for pi, period in enumerate(periods):
                for di, d in enumerate(values):
                    locs = ["loc_a" if di % 2 == 0 else "loc_b"]
                    locs += [] if table == "kpi_by_device" else ["_all"]  # devices: no chain rows
                    for loc in locs:
                        for kpi, base in kpis:
                            value = round(base * (1 + 0.05 * di) + pi * base * 0.01, 4)
                            final = pi < len(periods) - 1
                            ratio = kpi in _DETAIL_RATIOS
                            numerator = round(value * 100, 4) if ratio else "null"
                            denominator = 100.0 if ratio else "null"
                            parts.append(
                                f"('{grain}', date '{period}', '{loc}', '{kpi}', {value}, "
                                f"{numerator}::double, {denominator}::double, {final}, '{d}')"
                            )
        con.execute(f"""create table marts.{table} as select * from (values {", ".join(parts)})
            t(grain, period_start, location_id, kpi, value, numerator, denominator, is_final,
              {dim})""")

    detail("kpi_by_room", "room_id", ["room_a1", "room_a2", "room_b1"],
           [("revenue_per_room_hour", 800.0), ("room_utilization", 0.6)])  # fmt: skip
    detail("kpi_by_device", "device_id", ["dev_1", "dev_2"], [("device_utilization", 0.35)])
    detail("kpi_by_provider", "provider_id", ["prov_1", "prov_2"],
           [("revenue_per_provider", 15000.0), ("provider_productive_share", 0.79),
            ("rebooking_rate", 0.4), ("confirmation_response_rate", 0.7)])  # fmt: skip
    detail("kpi_by_service_category", "service_category", ["neurotoxin", "filler", "laser"],
           [("net_revenue", 9000.0)])  # fmt: skip
    detail("kpi_by_line_type", "line_type", ["service", "retail_product", "membership_fee"],
           [("net_revenue", 6000.0)])  # fmt: skip
    detail("kpi_by_patient_type", "patient_type", ["new", "returning"],
           [("no_show_rate", 0.05), ("rebooking_rate", 0.4),
            ("avg_revenue_per_appointment", 380.0)])  # fmt: skip
    detail("kpi_by_channel", "lead_channel", ["google_ads", "instagram", "referral"],
           [("new_leads", 20.0), ("contact_rate", 0.6), ("booking_conversion_rate", 0.3),
            ("cac", 150.0)])  # fmt: skip
    parts = []
    for ci, cohort in enumerate(["2025-01-01", "2025-02-01", "2025-03-01"]):
        for chi, channel in enumerate(["google_ads", "referral"]):
            for kpi, base in (("retention_12m", 0.6), ("visits_first_year", 3.2)):
                parts.append(
                    f"('month', date '{cohort}', date '{cohort}', '_all', '{channel}', "
                    f"'{kpi}', {base + 0.02 * ci + 0.01 * chi}, true)"
                )
    con.execute(f"""create table marts.kpi_by_cohort as select * from (values {", ".join(parts)})
        t(grain, period_start, cohort_month, location_id, acquisition_channel, kpi, value,
          is_final)""")


def _provider_cohorts_and_nps(con: duckdb.DuckDBPyConnection) -> None:
    """Retention by first-visit provider and NPS by provider, numbers worked by hand.

    kpi_by_cohort_provider, final up to the cohort of October 2026 as the fixture's scorecard
    has its cohort KPIs (the pages' newest final cohort, `_cohort`): prov_1 (loc_a) has 0 of 50
    retained in October 2025, 6 of 10 (30 visits) in each of November 2025 to April 2026, 8 of
    10 (30 visits) in each of May to October 2026, and 1 of 1 (5 visits) in November 2026, not
    final. The 12 cohort months up to the newest final one are November 2025 to October 2026:
    (6 x 6 + 6 x 8) / 120 = 84 / 120 = 70.0 %, 360 / 120 = 3.00 visits. prov_2 (loc_b): 1 of 1
    (2 visits) in September 2026, 3 of 9 (27 visits) in October 2026: 4 / 10 = 40.0 % pooled
    (the mean of the two months would be 66.7 %), 29 / 10 = 2.90 visits. Every provider row is
    also published at its location, as the mart does.

    kpi_by_provider's monthly nps (reporting month October 2026: the last three complete
    months are August to October): prov_1 200 / 10, -100 / 5, 300 / 5, so 400 / 20 = 20;
    prov_2 0 / 2, 100 / 1, -300 / 7, so -200 / 10 = -20. Outside the window, July (+100 on
    10 responses each) and November (not final, -100 on 10 each). prov_1's week of
    2026-11-09 holds one detractor (-100 / 1), which the provider's page does not show as a
    card.
    """
    retention = {"prov_1": [("2025-10-01", 0, 50, 50, True)], "prov_2": []}
    for month in range(11, 23):  # November 2025 to October 2026
        cohort = f"{2025 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}-01"
        retention["prov_1"].append((cohort, 6 if month < 17 else 8, 10, 30, True))
    retention["prov_1"].append(("2026-11-01", 1, 1, 5, False))
    retention["prov_2"] += [("2026-09-01", 1, 1, 2, True), ("2026-10-01", 3, 9, 27, True)]
    home = {"prov_1": "loc_a", "prov_2": "loc_b"}
    parts = []
    for provider, cohorts in retention.items():
        for cohort, retained, patients, visits, final in cohorts:
            for loc in ("_all", home[provider]):
                for kpi, numerator in (("retention_12m", retained), ("visits_first_year", visits)):
                    parts.append(
                        f"('month', date '{cohort}', '{loc}', date '{cohort}', '{provider}', "
                        f"'{kpi}', {numerator / patients}, {numerator}.0, {patients}.0, {final})"
                    )
    con.execute(f"""create table marts.kpi_by_cohort_provider as
        select * from (values {", ".join(parts)})
        t(grain, period_start, location_id, cohort_month, provider_id, kpi, value, numerator,
          denominator, is_final)""")
    nps = {
        "prov_1": [("2026-07-01", 1000, 10), ("2026-08-01", 200, 10), ("2026-09-01", -100, 5),
                   ("2026-10-01", 300, 5), ("2026-11-01", -1000, 10)],
        "prov_2": [("2026-07-01", 1000, 10), ("2026-08-01", 0, 2), ("2026-09-01", 100, 1),
                   ("2026-10-01", -300, 7), ("2026-11-01", -1000, 10)],
    }  # fmt: skip
    rows = [
        ("month", month, loc, "nps", points / responses, points, responses, month < "2026-11",
         provider)
        for provider, months in nps.items()
        for month, points, responses in months
        for loc in ("_all", home[provider])
    ]  # fmt: skip
    rows.append(("week", "2026-11-09", "_all", "nps", -100.0, -100, 1, True, "prov_1"))
    con.executemany(
        "insert into marts.kpi_by_provider (grain, period_start, location_id, kpi, value,"
        " numerator, denominator, is_final, provider_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _facts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""create table marts.fct_appointments as
        select 'appt_' || i as appointment_id,
            case when i % 2 = 0 then 'loc_a' else 'loc_b' end as location_id,
            case when i % 3 = 0 then 'room_a1' when i % 3 = 1 then 'room_b1' else 'room_a2' end
                as room_id,
            'treatment' as room_type,
            case when i % 2 = 0 then 'prov_1' else 'prov_2' end as provider_id,
            'pk_' || (i % 7) as patient_key,
            timestamp '2026-11-09 09:00' + to_hours(cast(i * 5 % 9 as bigint))
                + to_days(cast(i % 6 as bigint)) as scheduled_start_local,
            case when i % 10 = 0 then 'no_show' else 'completed' end as status,
            1.0 as duration_hours
        from range(60) r(i)""")
    # the instant (UTC here): the first one, 2026-11-09 09:00, is where the history on file
    # begins for the Patients page
    con.execute("""alter table marts.fct_appointments add column scheduled_start timestamptz;
        update marts.fct_appointments set scheduled_start = timezone('UTC', scheduled_start_local)
        """)
    # 10 patients a cohort (first-visit month), all created on or after that first appointment
    con.execute(f"""create table marts.dim_patients as
        select 'pk_' || m || '_' || i as patient_key,
            case when i % 2 = 0 then 'loc_a' else 'loc_b' end as home_location_id,
            case when i % 2 = 0 then 'referral' else 'instagram' end as acquisition_channel,
            timestamptz '2026-11-09 09:00:00+00' as created_at,
            cast(month as date) as cohort_month
        from (values {", ".join(f"({i}, '{m}')" for i, m in enumerate(MONTHS))}) c(m, month),
            range(10) r(i)""")
    # Paid lines of the week of 2026-11-09 that no revenue-generating provider is attributed:
    # chain net revenue 93,000 (the scorecard) - providers 15,450 + 16,200 (kpi_by_provider)
    # = 61,350 = membership fees 40,000 + retail 20,000 without a provider + 1,000 sold by the
    # front desk (prov_3) + a gift card 350; a voided gift card does not count.
    con.execute("""create table marts.fct_invoice_lines as
        select 'line_' || row_number() over () as invoice_line_id, *,
            date '2026-11-09' as week_start
        from (values
            ('paid', 'loc_a', 'membership_fee', null, 40000.00),
            ('paid', 'loc_a', 'retail_product', null, 20000.00),
            ('paid', 'loc_b', 'retail_product', 'prov_3', 1000.00),
            ('paid', 'loc_b', 'gift_card', null, 350.00),
            ('void', 'loc_b', 'gift_card', null, 500.00),
            ('paid', 'loc_a', 'service', 'prov_1', 15450.00),
            ('paid', 'loc_b', 'service', 'prov_2', 16200.00))
            t(invoice_status, location_id, line_type, attributed_provider_id, net_amount)""")
    con.execute("""create table marts.fct_leads as
        select 'lk_' || i as lead_key,
            case when i % 2 = 0 then 'loc_a' else 'loc_b' end as location_id,
            case i % 3 when 0 then 'google_ads' when 1 then 'instagram' else 'referral' end
                as channel,
            timestamptz '2026-11-09 08:00:00+00' + to_hours(cast(i as bigint)) as created_at,
            i % 4 <> 0 as is_responded,
            i % 3 = 0 as is_booked_in_window,
            case when i % 4 <> 0 then (i * 7) % 95 end as response_minutes
        from range(40) r(i)""")
    # Shifts: Austin Monday to Friday 08:30-18:00 (open 09:00-18:00), Boston Tuesday to
    # Saturday 09:30-17:00 (open 10:00-17:00), every week of WEEKS; nobody on Sundays.
    con.execute("""create table marts.fct_provider_shifts as
        select
            'sh_' || row_number() over () as shift_id,
            case when location_id = 'loc_a' then 'prov_1' else 'prov_2' end as provider_id,
            location_id,
            true as is_revenue_generating,
            day + opens as shift_start_local,
            day as shift_date,
            cast(date_trunc('week', day) as date) as week_start,
            cast(date_trunc('month', day) as date) as month_start,
            hours
        from (
            select cast(d as date) as day, l.*
            from range(date '2026-10-19', date '2026-11-23', interval 1 day) as r (d),
                (values ('loc_a', 1, 5, interval 510 minute, 9.5::double),
                        ('loc_b', 2, 6, interval 570 minute, 7.5::double))
                    as l (location_id, first_day, last_day, opens, hours)
            where isodow(d) between first_day and last_day
        )""")
    # as the mart has them: the lead's local date and ISO week in its location's time zone
    con.execute("""create or replace table marts.fct_leads as
        select f.*, cast(timezone(l.timezone, f.created_at) as date) as created_local_date,
            cast(date_trunc('week', timezone(l.timezone, f.created_at)) as date) as week_start
        from marts.fct_leads as f
        left join marts.dim_locations as l on f.location_id = l.location_id""")


def _coverage(con: duckdb.DuckDBPyConnection, coverage_gap: bool) -> None:
    con.execute("""create table marts.data_coverage (table_key varchar, system varchar,
        table_name varchar, raw_rows bigint, files_loaded bigint, files_refused bigint,
        first_extract_id varchar, last_extract_id varchar,
        last_loaded_at timestamp with time zone, status varchar, system_status varchar)""")
    tables = [
        ("pms", "appointments", 1200), ("pos", "invoices", 900), ("phone", "calls", 300),
        ("crm", "leads", 150), ("messaging", "messages", 800), ("reviews", "reviews", 40),
    ]  # fmt: skip
    rows = []
    for system, table, n in tables:
        gone = coverage_gap and system == "phone"
        status = "absent" if gone else "present"
        extract = None if gone else "x1"
        loaded = None if gone else "2026-11-16 06:55:00+00"
        rows.append((f"{system}.{table}", system, table, 0 if gone else n, 0 if gone else 1, 0,
                     extract, extract, loaded, status, status))  # fmt: skip
    con.executemany("insert into marts.data_coverage values (?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.execute("""create table marts.kpi_coverage (kpi varchar, computable boolean,
        missing_tables varchar, reason varchar)""")
    con.executemany(
        "insert into marts.kpi_coverage values (?, ?, ?, ?)",
        [
            ("missed_call_rate", not coverage_gap, "phone.calls" if coverage_gap else None,
             "needs the phone system's calls" if coverage_gap else None),
            ("net_revenue", True, None, None),
        ],
    )  # fmt: skip


def _ops(con: duckdb.DuckDBPyConnection) -> None:
    """The ops tables exactly as serving/publish.py creates them."""
    con.execute("""create table ops.check_results (check_name varchar, asset varchar,
        severity varchar, passed boolean, description varchar,
        evaluated_at timestamp with time zone, run_id varchar)""")
    con.execute("""insert into ops.check_results values
        ('not_null_appointment_id', 'stg_pms__appointments', 'ERROR', true, 'ids present',
         timestamptz '2026-11-16 07:00:00+00', 'run_1'),
        ('quarantine_share', 'raw_pos/invoices', 'WARN', false, '1.5% of rows quarantined',
         timestamptz '2026-11-16 07:00:00+00', 'run_1')""")
    con.execute("""create table ops.quarantine_summary (system varchar, table_name varchar,
        source_file varchar, reason varchar, rows bigint, rows_replaced bigint)""")
    con.execute("""insert into ops.quarantine_summary values
        ('pos', 'invoices', 'landing/pos/invoices/x1.csv', 'bad enum status', 14, 0)""")
    con.execute("""create table ops.loaded_files (load_id varchar, file_path varchar,
        system varchar, table_name varchar, extract_id varchar, status varchar,
        refusal_reason varchar, rows_read bigint, rows_inserted bigint, rows_updated bigint,
        rows_unchanged bigint, rows_quarantined bigint, loaded_at timestamp with time zone)""")
    con.execute("""insert into ops.loaded_files values
        ('l1', 'landing/pos/invoices/x1.csv', 'pos', 'invoices', 'x1', 'loaded', null, 914, 900,
         0, 0, 14, timestamptz '2026-11-16 06:55:00+00')""")
    con.execute("""create table ops.run_log (run_id varchar, started_at timestamp with time zone,
        finished_at timestamp with time zone, rows_loaded bigint, checks_passed bigint,
        checks_warned bigint, checks_failed bigint, status varchar, blocked_by varchar,
        demo_key_on_real_data boolean)""")
    con.execute("""insert into ops.run_log values ('run_0', timestamptz '2026-11-15 06:50:00+00',
        timestamptz '2026-11-15 07:01:00+00', 3300, 39, 1, 1, 'blocked',
        'raw_pms/appointments:quarantine_share', false),
        ('run_1', timestamptz '2026-11-16 06:50:00+00',
        timestamptz '2026-11-16 07:02:00+00', 3400, 41, 1, 0, 'published', null, false)""")


def build_shipped_pages(serving: Path, root: Path, *names: str) -> SiteReport:
    """Build only the shipped pages `names` (e.g. "rooms.md") from `serving` into `root/site`,
    failing the test if a page fails; the pages are copied to `root/pages` first."""
    pages = root / "pages"
    pages.mkdir()
    for name in names:
        shutil.copy(DEFAULT_PAGES_DIR / name, pages / name)
    report = build_site(serving, root / "site", pages_dir=pages)
    assert report.ok, report.pages_failed
    return report


def table_rows(html: str) -> list[list[str]]:
    """The text cells of each non-empty `<tr>` of an HTML fragment (header rows have none)."""
    rows = [
        re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", html)
    ]
    return [row for row in rows if row]


def page_html(site: Path, name: str) -> str:
    """A built page's HTML."""
    return (site / name).read_text(encoding="utf-8")


def page_text(html: str) -> str:
    """A page's words: tags dropped, whitespace folded, as a reader sees them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
