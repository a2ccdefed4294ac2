{#-
    Marketing spend, one row per spend_date x location_id x channel x campaign (USD).
    spend_date is already the location's local date. The numerator of CAC.
-#}
with

spend as (

    select * from {{ ref('stg_crm__marketing_spend') }}

),

final as (

    select
        -- keys
        spend_date,
        location_id,
        channel,
        campaign,

        -- measures
        amount,

        -- periods
        {{ week_start('spend_date') }} as week_start,
        {{ month_start('spend_date') }} as month_start
    from spend

)

select * from final
