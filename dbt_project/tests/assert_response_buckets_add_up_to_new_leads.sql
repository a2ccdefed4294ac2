{#-
    Speed to lead: the response-time buckets of kpi_by_response_time partition the leads, so
    their leads add up to kpi_engagement's new_leads for every grain, period and location
    (chain-wide included). Returns the periods where they do not (or where one side is missing).
-#}
{#- Two marts: Dagster shows it as a check on the buckets' mart. -#}
{{ config(meta={'dagster': {'ref': {'name': 'kpi_by_response_time'}}}) }}

with

buckets as (
    select
        grain,
        period_start,
        location_id,
        sum(leads) as bucket_leads
    from {{ ref('kpi_by_response_time') }}
    group by grain, period_start, location_id
),

new_leads as (
    select
        grain,
        period_start,
        location_id,
        value as new_leads
    from {{ ref('kpi_engagement') }}
    where kpi = 'new_leads'
)

select
    coalesce(buckets.grain, new_leads.grain) as grain,
    coalesce(buckets.period_start, new_leads.period_start) as period_start,
    coalesce(buckets.location_id, new_leads.location_id) as location_id,
    buckets.bucket_leads,
    new_leads.new_leads
from buckets
full outer join new_leads
    on
        buckets.grain = new_leads.grain
        and buckets.period_start = new_leads.period_start
        and buckets.location_id = new_leads.location_id
where coalesce(buckets.bucket_leads, 0) <> coalesce(new_leads.new_leads, 0)
