{#-
    Every KPI at location x period in one long mart (docs/kpis.md, "Scorecard, baselines and alerts"): the union of
    the family marts joined to the kpi_targets seed.
      status          on_target | below (value < target_low) | above (value > target_high);
                      no_target when the KPI has no target or no value (zero denominator)
      baseline_12m    mean value over the previous 52 weeks (week grain) or 12 months (month
                      grain) at that location, periods without a value left out
      change_vs_prior value minus the immediately preceding period's value
-#}
{% set family_marts = [
    'kpi_financial',
    'kpi_rooms',
    'kpi_providers',
    'kpi_operations',
    'kpi_cohorts',
    'kpi_appointment_engagement',
    'kpi_engagement',
] %}

with

targets as (
    select * from {{ ref('kpi_targets') }}
),

unioned as (
    {%- for family in family_marts %}
        select
            grain,
            period_start,
            location_id,
            kpi,
            value,
            numerator,
            denominator,
            is_final
        from {{ ref(family) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

baselines as (
    select
        grain,
        period_start,
        location_id,
        kpi,
        {{ kpi_trailing_mean('value', var('baseline_weeks'), var('baseline_months')) }} as baseline_12m
    from unioned
),

final as (
    select
        unioned.grain,
        unioned.period_start,
        unioned.location_id,
        unioned.kpi,
        unioned.value,
        unioned.numerator,
        unioned.denominator,
        cast(targets.target_low as double) as target_low,
        cast(targets.target_high as double) as target_high,
        case
            when unioned.value is null or (targets.target_low is null and targets.target_high is null)
                then 'no_target'
            when unioned.value < targets.target_low then 'below'
            when unioned.value > targets.target_high then 'above'
            else 'on_target'
        end as status,
        unioned.is_final,
        baselines.baseline_12m,
        unioned.value - previous_period.value as change_vs_prior
    from unioned
    left join targets on unioned.kpi = targets.kpi
    left join baselines on {{ same_kpi_row('unioned', 'baselines') }}
    left join unioned as previous_period
        on
            unioned.grain = previous_period.grain
            and unioned.location_id = previous_period.location_id
            and unioned.kpi = previous_period.kpi
            and previous_period.period_start = case
                when unioned.grain = 'week' then cast({{ dbt.dateadd('week', -1, 'unioned.period_start') }} as date)
                else cast({{ dbt.dateadd('month', -1, 'unioned.period_start') }} as date)
            end
)

select
    cast(grain as varchar) as grain,
    cast(period_start as date) as period_start,
    cast(location_id as varchar) as location_id,
    cast(kpi as varchar) as kpi,
    cast(value as double) as value,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator,
    cast(target_low as double) as target_low,
    cast(target_high as double) as target_high,
    cast(status as varchar) as status,
    cast(is_final as boolean) as is_final,
    cast(baseline_12m as double) as baseline_12m,
    cast(change_vs_prior as double) as change_vs_prior
from final
