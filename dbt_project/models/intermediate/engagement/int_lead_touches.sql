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

leads as (

    select lead_key from {{ ref('stg_crm__leads') }}

),

lead_contacts as (

    select
        lead_key,
        contact_hash
    from {{ ref('int_contact_identities') }}
    where party_type = 'lead'

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

-- a message's direction and time go along with its id (they are the message's), so the union
-- that drops a lead found both ways needs no join back to the messages
message_links as (

    select
        lead_contacts.lead_key,
        messages.message_id,
        messages.direction,
        messages.sent_at
    from messages
    inner join lead_contacts
        on messages.contact_hash = lead_contacts.contact_hash

    union

    -- messages.lead_id counts only for leads the CRM delivered: a clinic without a CRM (or a
    -- lead not yet extracted) has no lead for the touch to belong to.
    select
        messages.lead_key,
        messages.message_id,
        messages.direction,
        messages.sent_at
    from messages
    inner join leads
        on messages.lead_key = leads.lead_key

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

)

select * from final
