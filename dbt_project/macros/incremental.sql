{#-
    Incremental facts reprocess a window, not just the rows that changed: an appointment's
    patient_type depends on the patient's other visits, its revenue on its invoices, an
    invoice line's attribution on the appointment. Rows are picked by updated_at >= cutoff,
    where cutoff = newest updated_at already in the fact minus `incremental_lookback_days`
    (late-arriving extracts inside that margin are still caught), plus everything related.
-#}
{% macro incremental_cutoff() -%}
    (select {{ dbt.dateadd('day', -1 * var('incremental_lookback_days'), 'max(updated_at)') }} from {{ this }})
{%- endmacro %}
