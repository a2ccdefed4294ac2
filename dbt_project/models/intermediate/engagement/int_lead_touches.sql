{{
    config(
        materialized='incremental',
        unique_key='lead_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }} where touch_type is null",
            "{{ record_load_watermark(['stg_phone__calls', 'stg_messaging__messages', 'stg_crm__leads']) }}",
        ],
    )
}}
{#-
    Every call and message that belongs to a lead (grain: lead_key x touch_type x touch_id):
    its normalised contact matches one of the lead's contacts, or (messages only) the
    platform's `lead_id` names the lead (docs/kpis.md). A contact shared by two leads
    gives both leads the touch: each lead's own clock decides whether it counts.
    `response_at` is when the touch answers the lead (an outbound call or message when sent,
    an answered inbound call when answered); `reach_at` is when the lead was actually reached
    (an answered call in either direction, or an inbound message from the lead).
-#}
with

-- only the columns a touch reads: the whole rows of millions of messages cost more to carry
-- through the joins than the joins themselves
calls as (

    select
        call_id,
        contact_hash,
        direction,
        outcome,
        started_at,
        answered_at
    from {{ ref('stg_phone__calls') }}

),

messages as (

    select
        message_id,
        lead_key,
        contact_hash,
        direction,
        sent_at
    from {{ ref('stg_messaging__messages') }}

),

all_leads as (

    select
        lead_key,
        _dlt_load_id
    from {{ ref('stg_crm__leads') }}

),

all_lead_contacts as (

    select
        lead_key,
        contact_hash
    from {{ ref('int_contact_identities') }}
    where party_type = 'lead'

),

{%- if is_incremental() %}

    -- newer loads: the watermark as a constant (`loaded_after_literal`, macros/loads.sql), so each scan
    -- below reads only the row groups of newer loads
    new_calls as (

        select
            calls.call_id,
            calls.contact_hash
        from {{ ref('stg_phone__calls') }} as calls
        where {{ loaded_after_literal('calls._dlt_load_id') }}

    ),

    new_messages as (

        select
            messages.message_id,
            messages.contact_hash,
            messages.lead_key
        from {{ ref('stg_messaging__messages') }} as messages
        where {{ loaded_after_literal('messages._dlt_load_id') }}

    ),

    -- the leads whose touches this run recomputes
    dirty_leads as (

        select all_leads.lead_key
        from all_leads
        where {{ loaded_after_literal('all_leads._dlt_load_id') }}
        union
        select all_lead_contacts.lead_key
        from all_lead_contacts
        inner join new_calls on all_lead_contacts.contact_hash = new_calls.contact_hash
        union
        select all_lead_contacts.lead_key
        from all_lead_contacts
        inner join new_messages on all_lead_contacts.contact_hash = new_messages.contact_hash
        union
        select all_leads.lead_key
        from all_leads
        inner join new_messages on all_leads.lead_key = new_messages.lead_key
        union
        select built.lead_key
        from {{ this }} as built
        inner join new_calls on built.touch_id = new_calls.call_id
        where built.touch_type = 'call'
        union
        select built.lead_key
        from {{ this }} as built
        inner join new_messages on built.touch_id = new_messages.message_id
        where built.touch_type = 'message'

    ),
{%- endif %}

-- the leads (and their contacts) whose touches this run writes: all of them in a full build
leads as (

    select all_leads.lead_key
    from all_leads
    {%- if is_incremental() %}
        where all_leads.lead_key in (select dirty_leads.lead_key from dirty_leads)
    {%- endif %}

),

lead_contacts as (

    select
        all_lead_contacts.lead_key,
        all_lead_contacts.contact_hash
    from all_lead_contacts
    {%- if is_incremental() %}
        where all_lead_contacts.lead_key in (select dirty_leads.lead_key from dirty_leads)
    {%- endif %}

),

call_touches as (

    select
        lead_contacts.lead_key,
        'call' as touch_type,
        calls.call_id as touch_id,
        calls.direction,
        calls.started_at as occurred_at,
        case
            when calls.direction = 'outbound' then calls.started_at
            when calls.outcome = 'answered' then calls.answered_at
        end as response_at,
        case when calls.outcome = 'answered' then calls.answered_at end as reach_at
    from calls
    inner join lead_contacts
        on calls.contact_hash = lead_contacts.contact_hash

),

-- the messages this run links: in an incremental run only those of the recomputed leads'
-- contacts or naming a recomputed lead, in one pass over the messages (read by both branches
-- below, a CTE over every message would be materialised whole)
scoped_messages as (

    select * from messages
    {%- if is_incremental() %}
        where
            contact_hash in (select lead_contacts.contact_hash from lead_contacts)
            or lead_key in (select dirty_leads.lead_key from dirty_leads)
    {%- endif %}

),

-- a message's direction and time go along with its id (they are the message's), so the union
-- that drops a lead found both ways needs no join back to the messages
message_links as (

    select
        lead_contacts.lead_key,
        scoped_messages.message_id,
        scoped_messages.direction,
        scoped_messages.sent_at
    from scoped_messages
    inner join lead_contacts
        on scoped_messages.contact_hash = lead_contacts.contact_hash

    union

    -- messages.lead_id counts only for leads the CRM delivered: a clinic without a CRM (or a
    -- lead not yet extracted) has no lead for the touch to belong to.
    select
        scoped_messages.lead_key,
        scoped_messages.message_id,
        scoped_messages.direction,
        scoped_messages.sent_at
    from scoped_messages
    inner join leads
        on scoped_messages.lead_key = leads.lead_key

),

message_touches as (

    select
        lead_key,
        'message' as touch_type,
        message_id as touch_id,
        direction,
        sent_at as occurred_at,
        case when direction = 'outbound' then sent_at end as response_at,
        case when direction = 'inbound' then sent_at end as reach_at
    from message_links

),

final as (

    select * from call_touches
    union all
    select * from message_touches
    {%- if is_incremental() %}
        union all
        -- one row per recomputed lead, so delete+insert also removes the touches of a lead
        -- that has none left; the post-hook deletes these rows
        select
            dirty_leads.lead_key,
            cast(null as varchar) as touch_type,
            cast(null as varchar) as touch_id,
            cast(null as varchar) as direction,
            cast(null as timestamptz) as occurred_at,
            cast(null as timestamptz) as response_at,
            cast(null as timestamptz) as reach_at
        from dirty_leads
    {%- endif %}

)

select * from final
