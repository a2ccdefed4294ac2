{#-
    One row per spend_date x location_id x channel x campaign. `spend_date` is already the
    location's local date; `channel` is compared with patients.acquisition_channel for CAC.
-#}
with

source as (

    select * from {{ source('raw_crm', 'marketing_spend') }}

),

renamed as (

    select
        -- keys
        cast(spend_date as date) as spend_date,
        cast(location_id as varchar) as location_id,
        -- filtered as patients.acquisition_channel is, so CAC by channel still matches them
        {{ without_contact_data('channel') }} as channel,
        -- typed in by people, as leads.campaign is; a withheld value keeps its own key
        {{ without_contact_data('campaign') }} as campaign,

        -- measures
        cast(amount as decimal(18, 2)) as amount,

        -- timestamps
        cast(updated_at as timestamp with time zone) as updated_at

    from source

)

select * from renamed
