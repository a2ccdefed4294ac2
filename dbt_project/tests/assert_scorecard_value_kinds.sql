{#-
    The scorecard's rows agree with the kind each KPI is said to be (macros/kpi.sql,
    kpi_value_kind): a ratio always carries a denominator, a level or a median never does.
    The scorecard fills cells without events by these kinds, so a KPI listed as the wrong kind
    would be filled wrongly (a level with null instead of 0); this fails on the first built row
    that contradicts its kind.
-#}
select
    grain,
    period_start,
    location_id,
    kpi,
    denominator
from {{ ref('kpi_scorecard') }}
where
    ({{ kpi_value_kind('kpi') }} = 'ratio') != (denominator is not null)
