"""Late corrections for the incremental appointment KPI events: deltas that change an
appointment's events through *another* appointment or a dimension, not through its own row.

Each delta is a plausible extract (rows as the loader would upsert them); what it must change
is stated in its docstring and checked by the tests in test_dbt_core_incremental.py.
"""

from __future__ import annotations

from datetime import time, timedelta

from dbt_core_chain import Chain, _ts


def _late_stamp(chain: Chain):
    """10 days older than the newest row loaded: outside any timestamp lookback."""
    return _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=10)


def timezone_delta(chain: Chain) -> Chain:
    """Location L2's time zone is corrected from Los Angeles to Tokyo (a data-entry fix): every
    L2 appointment's local date moves to the next day (09:00 in LA is 01:00 or 02:00 the next
    day in Tokyo), although none of the appointment rows changed."""
    delta = Chain(as_of=chain.as_of)
    location = next(r for r in chain.tables[("pms", "locations")] if r["location_id"] == "L2")
    delta.add("pms", "locations", dict(location, timezone="Asia/Tokyo"))
    return delta


def converting_visit(chain: Chain) -> tuple[dict, dict]:
    """(consultation, visit): a completed consultation whose patient has exactly one completed
    non-consultation visit in the 95 days after it, that one within 80 days (so it converts the
    consultation in every time zone and no other visit does)."""
    appointments = chain.tables[("pms", "appointments")]
    for consult in appointments:
        if consult["service_id"] != "S_CON" or consult["status"] != "completed":
            continue
        start = consult["scheduled_start"]
        later = [
            r
            for r in appointments
            if r["patient_id"] == consult["patient_id"]
            and r["status"] == "completed"
            and r["service_id"] != "S_CON"
            and start < r["scheduled_start"] <= start + timedelta(days=95)
        ]
        if len(later) == 1 and later[0]["scheduled_start"] <= start + timedelta(days=80):
            return consult, later[0]
    raise AssertionError("the base chain has no singly converted consultation")


def patient_move_delta(chain: Chain) -> Chain:
    """A late correction: the one visit that converted a consultation was booked under the wrong
    patient and moves to another one (updated_at 10 days old). The consultation's own row does
    not change, but it no longer converts. The moved visit also now names a reschedule request
    of a third patient as the appointment it was rescheduled from, which captures that request."""
    _consult, visit = converting_visit(chain)
    other = next(
        r["patient_id"]
        for r in chain.tables[("pms", "appointments")]
        if r["location_id"] == visit["location_id"] and r["patient_id"] != visit["patient_id"]
    )
    request = next(
        r
        for r in chain.tables[("pms", "appointments")]
        if r["patient_id"] not in (visit["patient_id"], other) and _uncaptured_request(chain, r)
    )
    delta = Chain(as_of=chain.as_of)
    delta.add(
        "pms",
        "appointments",
        dict(
            visit,
            patient_id=other,
            rescheduled_from_appointment_id=request["appointment_id"],
            updated_at=_late_stamp(chain),
        ),
    )
    return delta


def _uncaptured_request(chain: Chain, row: dict) -> bool:
    """A reschedule request (requested_at as int_appointment_kpi_events takes it) that no
    booking of its patient within 14 days captures."""
    if row["confirmation_response"] == "reschedule_requested":
        requested_at = row["confirmation_responded_at"] or row["cancelled_at"]
    elif row["cancellation_reason"] == "reschedule":
        requested_at = row["cancelled_at"] or row["confirmation_responded_at"]
    else:
        return False
    if requested_at is None:
        return False
    return not any(
        r["patient_id"] == row["patient_id"]
        and r["appointment_id"] != row["appointment_id"]
        and requested_at <= r["booked_at"] <= requested_at + timedelta(days=14)
        for r in chain.tables[("pms", "appointments")]
    )


def unlink_delta(chain: Chain, moved: Chain) -> Chain:
    """The next correction after `patient_move_delta`: the moved visit's rescheduled-from link
    is removed again, so the request it named is no longer captured by it."""
    visit = moved.tables[("pms", "appointments")][0]
    delta = Chain(as_of=chain.as_of)
    delta.add(
        "pms",
        "appointments",
        dict(
            visit,
            rescheduled_from_appointment_id=None,
            updated_at=_late_stamp(chain) + timedelta(hours=1),
        ),
    )
    return delta


def intake_move_delta(chain: Chain) -> tuple[Chain, str, str]:
    """(delta, from_id, to_id): a late correction files both intake forms of a booked-or-held
    appointment under another, not cancelled appointment that had none. Neither appointment's
    own row changes: the first loses its intake_completion_rate event, the second gains one.
    The forms' rows are rewritten (new load), so only their old appointment id says which
    appointment they left."""
    appointments = chain.tables[("pms", "appointments")]
    forms = chain.tables[("pms", "intake_forms")]
    with_forms = {r["appointment_id"] for r in forms}
    held = [r for r in appointments if r["status"] != "cancelled"]
    source = next(r for r in held if r["appointment_id"] in with_forms)
    target = next(r for r in held if r["appointment_id"] not in with_forms)
    delta = Chain(as_of=chain.as_of)
    for form in forms:
        if form["appointment_id"] == source["appointment_id"]:
            delta.add(
                "pms",
                "intake_forms",
                dict(form, appointment_id=target["appointment_id"], updated_at=_late_stamp(chain)),
            )
    return delta, source["appointment_id"], target["appointment_id"]
