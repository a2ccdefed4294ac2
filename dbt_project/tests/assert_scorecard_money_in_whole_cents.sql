{#-
    Money in the scorecard is whole cents, as in every source: the numerator (and, for the
    revenue shares and gross margin, the denominator) of each KPI that kpi_money_parts names.
    The rollups sum amounts as doubles, which leaves binary noise in the last digits
    (114699.55000000002); kpi_select rounds it away, and this fails on the first row where
    a BI tool would show the noise or an exact join against the facts' cents would miss.
-#}
{%- set money_numerator = kpi_is_money('numerator') %}
{%- set money_denominator = kpi_is_money('denominator') %}
select
    grain,
    period_start,
    location_id,
    kpi,
    numerator,
    denominator
from {{ ref('kpi_scorecard') }}
where
    ({{ money_numerator }} and numerator != round(numerator, 2))
    or ({{ money_denominator }} and denominator != round(denominator, 2))
