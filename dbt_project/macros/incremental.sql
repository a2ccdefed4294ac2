{#-
    Change detection for the incremental facts: a run rebuilds exactly the rows whose inputs
    changed since they were built, whatever their timestamps say. There is no timestamp
    watermark and no lookback window: each candidate row is compared with the row already
    built, so an extract that lands late with old `updated_at` values (or a change to a related
    row: a lead sharing a contact, an invoice, a location's time zone) is picked up by the next
    run. The candidates are the rows those changes can reach: rows of loads newer than the
    model's load watermark (macros/loads.sql: the load id, not a timestamp, so a late extract
    is a new load) and the rows related inputs point to; without a watermark, every row.
-#}

{#-
    The body of a CTE: the rows of `candidates` that are new or differ from the built row
    (same `key`) in any of `columns`. Each column is a name, or a pair
    (column in the built fact, column in candidates). columns=none compares every column of
    the built fact (candidates must then carry all of them, under the same names).
    `row_hashes` (with columns=none): when the fact keeps a current record of its row hashes
    (macros/row_hashes.sql), compare each candidate's hash with the recorded one instead of
    reading the built rows.
-#}
{% macro changed_since_built(candidates, key, columns=none, row_hashes=false, var_names=[]) -%}
select {{ candidates }}.*
from {{ candidates }}
{%- if is_incremental() %}
    {%- if columns is none and row_hashes and row_hashes_are_current(var_names=var_names) %}
    left join (
        select recorded.{{ key }}, recorded.row_hash
        from {{ row_hashes_relation() }} as recorded
        where recorded.{{ key }} in (select {{ candidates }}.{{ key }} from {{ candidates }})
    ) as built
        on {{ candidates }}.{{ key }} = built.{{ key }}
    where
        built.{{ key }} is null
        or built.row_hash <> {{ row_hash(candidates, row_hash_columns(key)) }}
    {%- else %}
    {%- if columns is none %}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name')
            | reject('equalto', key) | list %}
    {%- endif %}
    {#- only the built rows of the candidates' keys (a semi-join first): the comparison join then
        builds its hash table from a nightly's few thousand rows, not every built row #}
    left join (
        select * from {{ this }}
        where {{ key }} in (select {{ candidates }}.{{ key }} from {{ candidates }})
    ) as built
        on {{ candidates }}.{{ key }} = built.{{ key }}
    where
        built.{{ key }} is null
        {%- for column in columns %}
            {%- set built_column, candidate_column = (column, column) if column is string else column %}
            or built.{{ built_column }} is distinct from {{ candidates }}.{{ candidate_column }}
        {%- endfor %}
    {%- endif %}
{%- endif %}
{%- endmacro %}

{#-
    The fingerprint of the identities sharing a contact (SQL for an aggregate over
    int_contact_identities rows grouped by contact_hash): it changes whenever a party sharing
    the contact is added, removed, re-keyed or re-dated, which is what decides a call's or a
    message's lead and patient match. An order-independent sum of 64-bit row hashes (and the row
    count) instead of a hash of the sorted list: the same guarantee up to a 2^-64 collision, and
    ~10x cheaper, because an ordered string_agg per contact was the nightly's single biggest
    cost at chain scale. hash() may differ between DuckDB versions: an upgrade then makes one
    run rebuild every row (every fingerprint differs), never a wrong one.
-#}
{% macro identity_fingerprint() -%}
    cast(sum(cast(hash(party_type, party_key, party_created_at) as hugeint)) as varchar)
    || '/' || cast(count(*) as varchar)
{%- endmacro %}

{#-
    One fingerprint per contact of int_contact_identities: every contact, or only those named
    by `contact_hash` in the CTE `of`. The model is read here, not through a CTE shared with
    the party matches: a CTE read three times is materialised whole by DuckDB (every column of
    1.1 M identities at chain scale, most of `fct_calls`' nightly) before any filter.
-#}
{% macro identity_fingerprints(of=none) -%}
    select
        contact_hash,
        {{ identity_fingerprint() }} as identity_fingerprint
    from {{ ref('int_contact_identities') }} as identities
    {%- if of %}
    where contact_hash in (select {{ of }}.contact_hash from {{ of }})
    {%- endif %}
    group by contact_hash
{%- endmacro %}

{#-
    CTEs `contact_fingerprints` and `candidates` for facts matched to leads and patients by
    contact (fct_calls, fct_messages): every row of `events` with its location's time zone and
    the fingerprint of every identity sharing its contact, the inputs that decide its match.
    Needs a CTE `locations` (dim_locations).
    In an incremental run the candidates are only the rows those inputs can have changed: rows
    of loads newer than the model's watermark (macros/loads.sql), rows whose contact's identity
    fingerprint or whose location's time zone differs from the one they were built with. The
    events are narrowed to those rows first and only then joined to their fingerprint and zone.
    A fingerprint changes only where int_contact_identities rewrote a party: when its touched
    record (the contacts its build in this run rewrote, before and after, macros/touched.sql)
    is complete for this model, only those contacts are compared, and fingerprints are summed
    only for them and for the candidates' contacts; otherwise every contact is.
    The watermark is a constant in the SQL (`loaded_after_literal`, macros/loads.sql), and the three kinds
    of candidate are read in three selects (a union, which also drops a row found twice): a
    filter that joins the constant with the moved contacts or locations (a subquery) by `or` is
    not pushed into the scan, and DuckDB read every column of every event for it (6.3 M
    messages at chain scale). Apart, the newer loads' select skips the row groups of older loads
    on their min/max load id, the moved contacts' select is a semi-join whose keys DuckDB pushes
    into the scan, and a select with nothing moved has an empty side and reads next to nothing.
    `events` must be a CTE declared `not materialized` (three reads).
-#}
{% macro contact_match_candidates(events) -%}
{%- set narrow = is_incremental() and touched_partitions_are_complete('int_contact_identities') %}
{%- if narrow %}

{{ moved_input_ctes() }},
{%- else %}

contact_fingerprints as (
    {{ identity_fingerprints() }}
),
{%- endif %}

{%- if is_incremental() %}
{%- if not narrow %}

{{ moved_contacts_cte(false) }},

{{ moved_locations_cte() }},
{%- endif %}

candidate_events as (
    select {{ events }}.*
    from {{ events }}
    where {{ loaded_after_literal(events ~ '._dlt_load_id') }}
    union
    select {{ events }}.*
    from {{ events }}
    where {{ events }}.contact_hash in (select moved_contacts.contact_hash from moved_contacts)
    union
    select {{ events }}.*
    from {{ events }}
    where {{ events }}.location_id in (select moved_locations.location_id from moved_locations)
),
{%- else %}

candidate_events as (
    select * from {{ events }}
),
{%- endif %}

{%- if narrow %}

-- the fingerprints of the candidates' contacts only
contact_fingerprints as (
    {{ identity_fingerprints('candidate_events') }}
),
{%- endif %}

candidates as (
    select
        candidate_events.*,
        locations.timezone as location_timezone,
        contact_fingerprints.identity_fingerprint
    from candidate_events
    left join locations
        on candidate_events.location_id = locations.location_id
    left join contact_fingerprints
        on candidate_events.contact_hash = contact_fingerprints.contact_hash
)
{%- endmacro %}

{#- The narrow path's CTEs `touched_contacts`, `touched_fingerprints`, `moved_contacts` and
    `moved_locations` (needs a CTE `locations`). -#}
{% macro moved_input_ctes() -%}
-- the contacts whose parties int_contact_identities rewrote in this run, before and after
touched_contacts as (
    {{ touched_entities('int_contact_identities', 'contact_hash') }}
),

touched_fingerprints as (
    {{ identity_fingerprints('touched_contacts') }}
),

{{ moved_contacts_cte(true) }},

{{ moved_locations_cte() }}
{%- endmacro %}

{#- Contacts of built rows whose identity fingerprint differs from the one they were matched
    with. A contact no built row has needs no look: a row with it is in a newer load. `narrow`:
    only the touched contacts are compared (CTEs touched_contacts, touched_fingerprints),
    otherwise every contact (CTE contact_fingerprints). -#}
{% macro moved_contacts_cte(narrow) -%}
moved_contacts as (
    select built.contact_hash
    from (
        {%- if built_contacts_state_is_current() %}
        select contact_hash, identity_fingerprint from {{ built_contacts_relation() }}
        {%- else %}
        select distinct contact_hash, identity_fingerprint from {{ this }}
        where contact_hash is not null
        {%- endif %}
    ) as built
    {%- if narrow %}
    left join touched_fingerprints as contact_fingerprints
        on built.contact_hash = contact_fingerprints.contact_hash
    where
        built.contact_hash in (select touched_contacts.contact_hash from touched_contacts)
        and built.identity_fingerprint is distinct from contact_fingerprints.identity_fingerprint
    {%- else %}
    left join contact_fingerprints
        on built.contact_hash = contact_fingerprints.contact_hash
    where built.identity_fingerprint is distinct from contact_fingerprints.identity_fingerprint
    {%- endif %}
)
{%- endmacro %}

{#- Locations whose time zone differs from the one their built rows were localised in (the
    state of the built pairs when current, see built_locations_relation). -#}
{% macro moved_locations_cte() -%}
moved_locations as (
    select built.location_id
    from (
        {%- if built_locations_state_is_current() %}
        select location_id, location_timezone from {{ built_locations_relation() }}
        {%- else %}
        select distinct location_id, location_timezone from {{ this }}
        {%- endif %}
    ) as built
    left join locations on built.location_id = locations.location_id
    where built.location_timezone is distinct from locations.timezone
)
{%- endmacro %}

{#-
    CTEs for a fact matched to leads and patients by contact (fct_calls, fct_messages), in the
    order they run: the `locations` import, `contact_match_candidates`,
    `changed` (the rows whose row, identity fingerprint or location time zone changed since
    built), `party_matches` (per row and party type, the party created most recently at or
    before `at`, else the first created after it, then the smallest key: match_rank = 1) and
    `localized` (every changed row with `<at>_local`). Needs a CTE named `events` earlier in
    the same WITH; the model states only its own source, key and timestamp.
-#}
{% macro contact_matched_changes(events, key, at) -%}
locations as (

    select * from {{ ref('dim_locations') }}

),

{{ contact_match_candidates(events) }},

changed as (

    {{ changed_since_built(
        'candidates', key, [('source_updated_at', 'updated_at'), 'identity_fingerprint', 'location_timezone']
    ) }}

),

party_matches as (

    select
        changed.{{ key }},
        identities.party_type,
        identities.party_key,
        row_number() over (
            partition by changed.{{ key }}, identities.party_type
            order by
                case when identities.party_created_at <= changed.{{ at }} then 0 else 1 end,
                abs({{ dbt.datediff('identities.party_created_at', 'changed.' ~ at, 'second') }}),
                identities.party_key
        ) as match_rank
    from changed
    inner join {{ ref('int_contact_identities') }} as identities
        on changed.contact_hash = identities.contact_hash

),

localized as (

    select
        changed.*,
        {{ local_timestamp('changed.' ~ at, 'changed.location_timezone') }} as {{ at }}_local
    from changed

)
{%- endmacro %}

{#-
    The joins that give a `localized` row its best lead match (`lead_match`) and patient match
    (`patient_match`) from `party_matches` (see contact_matched_changes).
-#}
{% macro party_match_joins(key) -%}
left join party_matches as lead_match
    on
        localized.{{ key }} = lead_match.{{ key }}
        and lead_match.party_type = 'lead'
        and lead_match.match_rank = 1
left join party_matches as patient_match
    on
        localized.{{ key }} = patient_match.{{ key }}
        and patient_match.party_type = 'patient'
        and patient_match.match_rank = 1
{%- endmacro %}

{#-
    The built fact's contacts and the identity fingerprint each was matched with, kept in a
    state table (`dbt_state.<model>__contacts`, never published) so a nightly run need not
    group every row of the fact to find them (5 s of 6.3 M messages at chain scale). Every row
    of a contact carries the same fingerprint (a changed fingerprint rebuilds all of them), so
    the state has one row per contact. It is trusted only when the build that wrote it is the
    model's newest build and the model's definition is unchanged; otherwise the run reads the
    fact itself and the post-hook rewrites the state whole.
-#}
{% macro built_contacts_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema='dbt_state', identifier=this.identifier ~ '__contacts'
    )) }}
{%- endmacro %}

{#- Is the state in step with the built table (see above)? Asked while compiling the model and
    again in its post-hook, before the build records itself (record_load_watermark). -#}
{% macro built_contacts_state_is_current() -%}
    {%- if not execute or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- set current = scalar_query(
        "select count(*) from " ~ load_watermarks_relation() ~ " as marker
        where marker.model_name = '" ~ this.identifier ~ ":contacts'
            and marker.definition = " ~ definition_fingerprint() ~ "
            and marker.load_id = (
                select max_by(invocation_id, build_seq) from " ~ test_scope_relation('model_builds') ~ "
                where model_name = '" ~ this.identifier ~ "'
            )"
    ) -%}
    {{ return((current or 0) > 0) }}
{%- endmacro %}

{#-
    Post-hook (first in the list, before record_load_watermark): bring the state in step with
    the table. An incremental build on a current state replaces the contacts of its batch (the
    strategy's `<model>__batch` view); anything else rewrites the state from the whole table.
-#}
{% macro record_built_contacts() -%}
    {%- set state = built_contacts_relation() -%}
    {%- set batch_written = (scalar_query(
        "select count(*) from " ~ test_scope_relation('written_keys') ~ "
        where model_name = '" ~ this.identifier ~ "' and invocation_id = '" ~ invocation_id ~ "'"
    ) or 0) > 0 -%}
    create table if not exists {{ state }} (contact_hash varchar, identity_fingerprint varchar);
    {%- if batch_written and built_contacts_state_is_current() %}
    delete from {{ state }}
    where contact_hash in (select batch.contact_hash from {{ this.identifier }}__batch as batch);
    insert into {{ state }}
    select distinct contact_hash, identity_fingerprint from {{ this.identifier }}__batch
    where contact_hash is not null;
    {%- else %}
    delete from {{ state }};
    insert into {{ state }}
    select distinct contact_hash, identity_fingerprint from {{ this }}
    where contact_hash is not null;
    {%- endif %}
    drop view if exists {{ this.identifier }}__batch;
    delete from {{ load_watermarks_relation() }} where model_name = '{{ this.identifier }}:contacts';
    insert into {{ load_watermarks_relation() }}
    select '{{ this.identifier }}:contacts', '{{ invocation_id }}', {{ definition_fingerprint() }}
{%- endmacro %}

{#-
    The built fact's locations and the time zone their rows were localised in
    (`dbt_state.<model>__locations`, never published), so that a nightly run finds the
    locations whose time zone changed without reading the location and zone of every built row
    (6.3 M messages at chain scale). Trusted, like the contacts' state, only when the build
    that wrote it is the model's newest build and the definition is unchanged; otherwise the
    run reads the fact itself and the post-hook rewrites the state whole.
    The state may name a pair no built row has any more (a message moved to another location):
    such a pair can only make a location look moved, which recomputes its rows (and then drops
    the pair), never misses one.
-#}
{% macro built_locations_relation() -%}
    {{ return(api.Relation.create(
        database=target.database, schema='dbt_state', identifier=this.identifier ~ '__locations'
    )) }}
{%- endmacro %}

{#- Is the locations' state in step with the built table? As built_contacts_state_is_current. -#}
{% macro built_locations_state_is_current() -%}
    {%- if not execute or not is_incremental() -%}{{ return(false) }}{%- endif -%}
    {%- set current = scalar_query(
        "select count(*) from " ~ load_watermarks_relation() ~ " as marker
        where marker.model_name = '" ~ this.identifier ~ ":locations'
            and marker.definition = " ~ definition_fingerprint() ~ "
            and marker.load_id = (
                select max_by(invocation_id, build_seq) from " ~ test_scope_relation('model_builds') ~ "
                where model_name = '" ~ this.identifier ~ "'
            )
            and exists (
                select 1 from information_schema.tables
                where table_catalog = '" ~ target.database ~ "' and table_schema = 'dbt_state'
                    and table_name = '" ~ this.identifier ~ "__locations'
            )"
    ) -%}
    {{ return((current or 0) > 0) }}
{%- endmacro %}

{#-
    Post-hook (before record_load_watermark): bring the locations' state in step with the
    table. An incremental build on a current state rebuilt every row of each location whose
    time zone differed from the one its rows were built with (moved_locations in
    contact_match_candidates), so those pairs go (`locations`: the dimension the model read; a
    location it no longer holds counts with a null zone, as in the model's left join), and the
    batch's pairs come in. Anything else rewrites the state from the whole table.
-#}
{% macro record_built_locations() -%}
    {%- set state = built_locations_relation() -%}
    {%- set batch_written = (scalar_query(
        "select count(*) from " ~ test_scope_relation('written_keys') ~ "
        where model_name = '" ~ this.identifier ~ "' and invocation_id = '" ~ invocation_id ~ "'"
    ) or 0) > 0 -%}
    create table if not exists {{ state }} (location_id varchar, location_timezone varchar);
    {%- if batch_written and built_locations_state_is_current() %}
    delete from {{ state }}
    where location_timezone is distinct from (
        select locations.timezone from {{ ref('dim_locations') }} as locations
        where locations.location_id = {{ state }}.location_id
    );
    insert into {{ state }}
    select distinct batch.location_id, batch.location_timezone
    from {{ this.identifier }}__batch as batch
    where not exists (
        select 1 from {{ state }} as recorded
        where
            recorded.location_id is not distinct from batch.location_id
            and recorded.location_timezone is not distinct from batch.location_timezone
    );
    {%- else %}
    delete from {{ state }};
    insert into {{ state }}
    select distinct location_id, location_timezone from {{ this }};
    {%- endif %}
    delete from {{ load_watermarks_relation() }} where model_name = '{{ this.identifier }}:locations';
    insert into {{ load_watermarks_relation() }}
    select '{{ this.identifier }}:locations', '{{ invocation_id }}', {{ definition_fingerprint() }}
{%- endmacro %}
