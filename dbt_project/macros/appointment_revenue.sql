{#-
    fct_appointments' money: per appointment, Σ net_amount and Σ cost_amount of the lines of
    its paid invoices (CTEs `invoices` and `invoice_lines`: staging). With `scope` (a CTE with
    `appointment_id`), only the appointments it names: a nightly run sums a few thousand
    appointments' lines instead of every paid invoice of the chain.
-#}
{% macro appointment_revenue(scope=none) -%}
select
    invoices.appointment_id,
    sum(invoice_lines.net_amount) as net_revenue,
    sum(invoice_lines.cost_amount) as cogs
from invoices
inner join invoice_lines on invoices.invoice_id = invoice_lines.invoice_id
where
    invoices.status = 'paid'
    and invoices.appointment_id is not null
    {%- if scope %}
    and invoices.appointment_id in (select {{ scope }}.appointment_id from {{ scope }})
    {%- endif %}
group by invoices.appointment_id
{%- endmacro %}
