"""What a KPI's numerator and denominator count, so a card's running counts carry units.

A rate's counts under its card tell 100 % of 6 from 100 % of 600, but bare they were
ambiguous: "414,106 of 507,020" under the gross margin is dollars, "501 of 1,364" under the
productive share is hours. The seed gives each KPI the unit of its *value* (`kpi_targets.unit`:
a ratio, dollars), not of the counts behind it, so they are listed here, once, from the KPI
definitions (docs/kpis.md, numerator and denominator columns). A test fails when a KPI of the
seed has no entry. A unit is `usd` (shown as money) or a plural noun. A rate whose numerator
is a part of its denominator (no-shows of appointments) names the denominator once: "63 of 767
appointments" under the no-show rate; two nouns only where they count different things, or
where the denominator's noun would misname the numerator ("2 reactivated of 389 lapsed
patients contacted", not "2 of 389 lapsed patients contacted"). Money may carry a noun too
(`usd gross profit`): "$427,586 gross profit of $521,809 net revenue".
"""

from __future__ import annotations

from dashboards.formatting import fmt

USD = "usd"

#: kpi -> (numerator unit, denominator unit); None: the KPI has no denominator (a level).
#: A unit is `usd`, `usd <noun>` (money that says what it is) or a plural noun.
COUNT_UNITS: dict[str, tuple[str, str | None]] = {
    # financial
    "net_revenue": (USD, None),
    "gross_margin": (f"{USD} gross profit", f"{USD} net revenue"),
    "membership_revenue_share": (f"{USD} memberships", f"{USD} net revenue"),
    "retail_revenue_share": (f"{USD} retail", f"{USD} net revenue"),
    "mrr": (USD, None),
    "avg_revenue_per_appointment": (USD, "completed appointments"),
    "ltv_12m": (USD, "patients"),
    # rooms
    "revenue_per_room_hour": (USD, "open room hours"),
    "revenue_per_treatment_hour": (USD, "treatment hours"),
    "room_utilization": ("completed hours", "open room hours"),
    "device_utilization": ("hours in use", "open device hours"),
    # providers
    "revenue_per_provider": (USD, "providers"),
    "provider_productive_share": ("treatment hours", "shift hours"),
    # operations
    "completed_visits": ("visits", None),
    "patient_throughput": ("visits", "open days"),
    "no_show_rate": ("appointments", "appointments"),
    "late_cancellation_rate": ("appointments", "appointments"),
    "new_patients": ("patients", None),
    "consult_conversion_rate": ("consultations", "consultations"),
    # cohorts
    "retention_12m": ("patients", "patients"),
    "visits_first_year": ("visits", "patients"),
    # appointment engagement
    "confirmation_response_rate": ("confirmation requests", "confirmation requests"),
    "reschedule_capture_rate": ("reschedule requests", "reschedule requests"),
    "intake_completion_rate": ("appointments", "appointments"),
    "rebooking_rate": ("visits", "visits"),
    # engagement
    "new_leads": ("leads", None),
    "lead_response_minutes": ("minutes", None),
    "leads_unanswered": ("leads", None),
    "contact_rate": ("leads", "leads"),
    "missed_call_rate": ("inbound calls", "inbound calls"),
    "booking_conversion_rate": ("leads", "leads"),
    "post_care_response_rate": ("check-ins", "check-ins"),
    "post_care_click_rate": ("check-ins", "check-ins"),
    "review_conversion_rate": ("review requests", "review requests"),
    "reactivation_rate": ("reactivated", "lapsed patients contacted"),
    "nps": ("score points", "responses"),
    "cac": (USD, "new patients"),
}


def _amount(value: object, unit: str | None) -> str:
    if unit is not None and (unit == USD or unit.startswith(f"{USD} ")):
        return f"{fmt(value, 'usd0')}{unit.removeprefix(USD)}"
    text = fmt(value, "num0")
    if unit is None:
        return text
    noun = unit.removesuffix("s") if value == 1 else unit  # 1 lead, 2 leads
    return f"{text} {noun}"


def fmt_counts(numerator: object, denominator: object, kpi: object) -> str:
    """`numerator of denominator` with units: "$414,106 of $507,020", "12 of 150
    appointments" (one noun when both count the same thing), "501 treatment hours of 1,364
    shift hours". A KPI without an entry shows bare numbers, as before."""
    num_unit, den_unit = COUNT_UNITS.get(str(kpi), (None, None))
    if num_unit == den_unit and num_unit is not None and not num_unit.startswith(USD):
        return f"{fmt(numerator, 'num0')} of {_amount(denominator, den_unit)}"
    return f"{_amount(numerator, num_unit)} of {_amount(denominator, den_unit)}"


def fmt_basis(denominator: object, kpi: object) -> str | None:
    """What a score stands on, for a KPI whose value is no share of its denominator: "from 22
    responses" under an NPS of 14 (a score of 2 answers and one of 200 read alike); None for
    a KPI with no such count."""
    _, den_unit = COUNT_UNITS.get(str(kpi), (None, None))
    if denominator is None or den_unit != "responses":
        return None
    return f"from {_amount(denominator, den_unit)}"
