{#-
    One row per public review (review_id). The reviewer's name is dropped; a review the
    platform matched to a patient carries that patient's pseudonymous key.
-#}
with

source as (

    select * from {{ source('raw_reviews', 'reviews') }}

),

renamed as (

    select
        -- ids
        cast(review_id as varchar) as review_id,
        cast(location_id as varchar) as location_id,
        {{ pseudonymize('patient_id') }} as patient_key,

        -- attributes
        cast(platform as varchar) as platform,
        cast(rating as integer) as rating,

        -- timestamps
        cast(posted_at as timestamp with time zone) as posted_at,
        cast(updated_at as timestamp with time zone) as updated_at,
        -- lineage: the load that last wrote the raw row (int_message_review_requests' narrow
        -- night reads the reviews of newer loads)
        {{ load_id_column(source('raw_reviews', 'reviews')) }} as _dlt_load_id

    from source

)

select * from renamed
