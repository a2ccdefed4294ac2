{#-
    One row per public review (grain: review_id), in its location's local time, with the
    matched patient's pseudonymous key (null when the platform could not match one).
-#}
with

reviews as (

    select * from {{ ref('stg_reviews__reviews') }}

),

locations as (

    select * from {{ ref('dim_locations') }}

),

localized as (

    select
        reviews.*,
        {{ local_timestamp('reviews.posted_at', 'locations.timezone') }} as posted_at_local
    from reviews
    left join locations
        on reviews.location_id = locations.location_id

),

final as (

    select
        -- ids
        review_id,
        location_id,
        patient_key,

        -- attributes
        platform,
        rating,
        patient_key is not null as is_patient_matched,

        -- timestamps
        posted_at,
        posted_at_local,
        cast(posted_at_local as date) as posted_local_date,
        {{ week_start('posted_at_local') }} as week_start,
        {{ month_start('posted_at_local') }} as month_start
    from localized

)

select * from final
