"""SQL of the scorecard checks that need a filter, a join or an aggregate.

Each check query returns one text column that is null for a good row and describes a bad one
(period, location, KPI, amounts), so `ExpectColumnValuesToBeNull` reports exactly what is wrong
and DuckDB does all the work.
"""

from __future__ import annotations

from safeio.sqlquote import sql_str_list

#: Where dbt keeps `int_data_as_of` (the newest `updated_at` loaded: the data's "now").
INTERMEDIATE_SCHEMA = "intermediate"
CHAIN_LOCATION = "_all"
#: Largest allowed |scorecard net_revenue - sum of paid invoice lines|, in USD.
REVENUE_TOLERANCE = 0.01


def _in_list(values: tuple[str, ...]) -> str:
    return sql_str_list(values)


def scorecard_rows(schema: str, kpis: tuple[str, ...]) -> str:
    return f"select * from {schema}.kpi_scorecard where kpi in ({_in_list(kpis)})"


def missing_locations_query(schema: str) -> str:
    return f"""
with has_data as (
    select distinct location_id from {schema}.fct_invoice_lines where is_revenue
),
in_scorecard as (
    select distinct location_id from {schema}.kpi_scorecard
)
select case when in_scorecard.location_id is null then d.location_id end as missing_location_id
from {schema}.dim_locations as d
inner join has_data on d.location_id = has_data.location_id
left join in_scorecard on d.location_id = in_scorecard.location_id
"""


def missing_chain_rows_query(schema: str) -> str:
    return f"""
with per_location as (
    select distinct grain, period_start, kpi from {schema}.kpi_scorecard
    where location_id <> '{CHAIN_LOCATION}'
),
chain as (
    select distinct grain, period_start, kpi from {schema}.kpi_scorecard
    where location_id = '{CHAIN_LOCATION}'
)
select
    case when chain.kpi is null
        then concat_ws(' ', p.grain, p.period_start::varchar, p.kpi) end as missing_chain_row
from per_location as p
left join chain
    on p.grain = chain.grain and p.period_start = chain.period_start and p.kpi = chain.kpi
"""


def missing_grid_cells_query(schema: str) -> str:
    """Cells of `int_kpi_grid` (each computable KPI at each location and `_all`, each started
    period) without a scorecard row: a KPI must not vanish where nothing happened."""
    return f"""
select
    case when s.kpi is null
        then concat_ws(' ', g.grain, g.period_start::varchar, g.location_id, g.kpi) end
        as missing_scorecard_row
from {INTERMEDIATE_SCHEMA}.int_kpi_grid as g
left join {schema}.kpi_scorecard as s
    on g.grain = s.grain and g.period_start = s.period_start
    and g.location_id = s.location_id and g.kpi = s.kpi
"""


def final_before_period_end_query(schema: str) -> str:
    """Rows marked final whose period had not ended at the data's as-of time.

    dbt's `kpi_is_final` calls a row final only once its period (plus the KPI's window) has
    ended in the location's local time at `int_data_as_of`, and `_all` only once it has ended
    in every location (the earliest local clock). A final row must therefore satisfy at least
    "period ended by the local as-of"; a row that does not was finalised too early, and the
    dashboards would lead with a half-counted period. The window is not known here, so a row
    final inside its window is not caught; a period still open always is. The as-of's local
    wall clock comes from `dim_locations.timezone` exactly as the models convert it; a
    location the dimension lacks is judged at the latest clock on earth (UTC+14), which can
    only let a row pass, never fail one the model got right.
    """
    return f"""
with as_of_locations as (
    select d.location_id, timezone(d.timezone, a.as_of_at) as as_of_local
    from {schema}.dim_locations as d
    cross join {INTERMEDIATE_SCHEMA}.int_data_as_of as a
),
as_of_local as (
    select location_id, as_of_local from as_of_locations
    union all
    select '{CHAIN_LOCATION}', min(as_of_local) from as_of_locations
),
judged as (
    select
        s.grain, s.period_start, s.location_id, s.kpi,
        case when s.grain = 'week' then s.period_start + interval 7 day
            else s.period_start + interval 1 month end as period_end,
        coalesce(l.as_of_local, timezone('UTC', a.as_of_at) + interval 14 hour) as as_of_local
    from {schema}.kpi_scorecard as s
    cross join {INTERMEDIATE_SCHEMA}.int_data_as_of as a
    left join as_of_local as l on s.location_id = l.location_id
    where s.is_final
)
select
    case when not coalesce(as_of_local >= period_end, false)
        then concat_ws(' ', grain, period_start::varchar, location_id, kpi)
    end as final_period_still_open
from judged
"""


def revenue_reconciliation_query(schema: str) -> str:
    return f"""
with lines as (
    select location_id, week_start, month_start, net_amount
    from {schema}.fct_invoice_lines
    where is_revenue
),
expected as (
    select 'week' as grain, week_start as period_start, location_id, sum(net_amount) as amount
    from lines group by all
    union all
    select 'week', week_start, '{CHAIN_LOCATION}', sum(net_amount) from lines group by all
    union all
    select 'month', month_start, location_id, sum(net_amount) from lines group by all
    union all
    select 'month', month_start, '{CHAIN_LOCATION}', sum(net_amount) from lines group by all
),
reported as (
    select grain, period_start, location_id, value as amount
    from {schema}.kpi_scorecard
    where kpi = 'net_revenue'
),
compared as (
    select
        coalesce(e.grain, r.grain) as grain,
        coalesce(e.period_start::date, r.period_start::date) as period_start,
        coalesce(e.location_id, r.location_id) as location_id,
        coalesce(r.amount, 0)::double as scorecard_amount,
        coalesce(e.amount, 0)::double as lines_amount
    from expected as e
    full outer join reported as r
        on e.grain = r.grain
        and e.period_start::date = r.period_start::date
        and e.location_id = r.location_id
)
select
    case when round(abs(scorecard_amount - lines_amount), 6) > {REVENUE_TOLERANCE}
        then format('{{}} {{}} {{}}: scorecard {{}} vs paid lines {{}}',
            grain, period_start, location_id,
            round(scorecard_amount, 4), round(lines_amount, 4))
    end as revenue_mismatch
from compared
"""
