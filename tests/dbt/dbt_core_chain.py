"""A small, seeded two-location chain written straight into the raw layer.

Why not the demo generator: these tests must not depend on another area's generator, and they
need a *delta* whose effect on the incremental facts is known (late status changes, invoice
voids, new bookings), to prove an incremental build equals a full refresh. Values are plausible,
not hand-checked; hand-checked numbers live in the dbt unit tests.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from ingestion.meta import ensure_lineage_columns
from ingestion.raw_schema import ensure_raw_tables

UTC = ZoneInfo("UTC")
LOCATIONS = (
    ("L1", "Uptown", "America/New_York", date(2025, 1, 6)),
    ("L2", "Bayside", "America/Los_Angeles", date(2025, 3, 3)),
)
SERVICES = (
    # id, name, category, is_consultation, minutes, price, device type
    ("S_CON", "Consultation", "consultation", True, 30, 0, None),
    ("S_TOX", "Neurotoxin", "neurotoxin", False, 30, 450, None),
    ("S_FIL", "Filler", "filler", False, 60, 750, None),
    ("S_LAS", "Laser resurfacing", "laser", False, 60, 600, "laser"),
    ("S_FAC", "Hydrafacial", "facial", False, 60, 250, None),
)


@dataclass
class Chain:
    """Raw rows per table (lists of dicts in contract column order)."""

    as_of: date
    tables: dict[tuple[str, str], list[dict]] = field(default_factory=dict)

    def add(self, system: str, table: str, row: dict) -> None:
        self.tables.setdefault((system, table), []).append(row)


def _ts(d: date, t: time, tz: str) -> datetime:
    return datetime.combine(d, t, ZoneInfo(tz)).astimezone(UTC)


def build_chain(as_of: date = date(2025, 11, 20), seed: int = 7) -> Chain:
    """Base snapshot: ~11 months of history for two locations and two weeks of bookings ahead."""
    rnd = random.Random(seed)
    chain = Chain(as_of=as_of)
    stamp = _ts(as_of, time(6, 0), "UTC")
    for lid, name, tz, opened in LOCATIONS:
        chain.add(
            "pms",
            "locations",
            dict(
                location_id=lid,
                name=name,
                timezone=tz,
                opened_on=opened,
                closed_on=None,
                updated_at=stamp,
            ),
        )
        for wd in range(1, 7):
            closes = time(18) if wd < 6 else time(14)
            if lid == "L1" and wd == 6:  # Saturday hours change on 2025-09-01
                chain.add(
                    "pms",
                    "location_hours",
                    dict(
                        location_id=lid,
                        weekday=wd,
                        valid_from=opened,
                        opens_at=time(9),
                        closes_at=time(13),
                        valid_to=date(2025, 8, 31),
                        updated_at=stamp,
                    ),
                )
                chain.add(
                    "pms",
                    "location_hours",
                    dict(
                        location_id=lid,
                        weekday=wd,
                        valid_from=date(2025, 9, 1),
                        opens_at=time(9),
                        closes_at=closes,
                        valid_to=None,
                        updated_at=stamp,
                    ),
                )
                continue
            chain.add(
                "pms",
                "location_hours",
                dict(
                    location_id=lid,
                    weekday=wd,
                    valid_from=opened,
                    opens_at=time(9),
                    closes_at=closes,
                    valid_to=None,
                    updated_at=stamp,
                ),
            )
        for closed in (date(2025, 7, 4), date(2025, 11, 11)):
            chain.add(
                "pms",
                "location_closures",
                dict(location_id=lid, closed_on=closed, reason="holiday", updated_at=stamp),
            )
        for i, (rtype, active_from) in enumerate(
            (("treatment", opened), ("treatment", opened + timedelta(days=60)), ("consult", opened))
        ):
            chain.add(
                "pms",
                "rooms",
                dict(
                    room_id=f"{lid}_R{i}",
                    location_id=lid,
                    name=f"Room {i}",
                    room_type=rtype,
                    active_from=active_from,
                    active_to=None,
                    updated_at=stamp,
                ),
            )
        chain.add(
            "pms",
            "devices",
            dict(
                device_id=f"{lid}_D0",
                location_id=lid,
                room_id=f"{lid}_R0",
                name="Laser",
                device_type="laser",
                purchase_cost=90000,
                purchased_on=opened + timedelta(days=30),
                updated_at=stamp,
            ),
        )
        for i, role in enumerate(("np", "rn", "front_desk")):
            chain.add(
                "pms",
                "providers",
                dict(
                    provider_id=f"{lid}_P{i}",
                    first_name=f"Pat{i}",
                    last_name=lid,
                    role=role,
                    home_location_id=lid,
                    is_revenue_generating=role != "front_desk",
                    hired_on=opened,
                    terminated_on=None,
                    updated_at=stamp,
                ),
            )
    for sid, sname, cat, is_consult, minutes, price, dtype in SERVICES:
        chain.add(
            "pms",
            "services",
            dict(
                service_id=sid,
                name=sname,
                category=cat,
                is_consultation=is_consult,
                default_duration_min=minutes,
                list_price=price,
                device_type_required=dtype,
                updated_at=stamp,
            ),
        )
    chain.add(
        "pms",
        "membership_plans",
        dict(plan_id="M1", name="Glow", price=99, billing_period_months=1, updated_at=stamp),
    )
    chain.add(
        "pms",
        "membership_plans",
        dict(
            plan_id="M12",
            name="Glow annual",
            price=1080,
            billing_period_months=12,
            updated_at=stamp,
        ),
    )
    chain.add(
        "pos",
        "products",
        dict(
            product_id="PR1",
            sku="SPF50",
            name="Sunscreen",
            product_type="retail",
            category="skincare",
            unit_cost=12,
            retail_price=48,
            updated_at=stamp,
        ),
    )
    for p in range(160):
        lid = LOCATIONS[p % 2][0]
        chain.add(
            "pms",
            "patients",
            dict(
                patient_id=f"PT{p:04d}",
                first_name="X",
                last_name="Y",
                email=f"p{p}@example.com",
                phone=f"415555{p:04d}",
                date_of_birth=date(1960 + p % 40, 1 + p % 12, 1 + p % 28),
                sex="F" if p % 5 else "M",
                postal_code=f"94{p % 100:03d}",
                home_location_id=lid,
                acquisition_channel=rnd.choice(["instagram", "referral", "google", None]),
                referred_by_patient_id=None,
                created_at=_ts(date(2025, 1, 2), time(12), "UTC"),
                updated_at=stamp,
            ),
        )
        if p % 6 == 0:
            chain.add(
                "pms",
                "memberships",
                dict(
                    membership_id=f"MS{p:04d}",
                    patient_id=f"PT{p:04d}",
                    plan_id=rnd.choice(["M1", "M12"]),
                    location_id=lid,
                    started_on=date(2025, 2, 1) + timedelta(days=p),
                    cancelled_on=date(2025, 9, 1) if p % 12 == 0 else None,
                    status="cancelled" if p % 12 == 0 else "active",
                    updated_at=stamp,
                ),
            )
    _appointments(chain, rnd, stamp)
    return chain


def _appointments(chain: Chain, rnd: random.Random, stamp: datetime) -> None:
    n = 0
    for lid, _name, tz, opened in LOCATIONS:
        day = opened
        while day <= chain.as_of + timedelta(days=14):
            if day.isoweekday() == 7:
                day += timedelta(days=1)
                continue
            for pid in (f"{lid}_P0", f"{lid}_P1"):
                chain.add(
                    "pms",
                    "provider_shifts",
                    dict(
                        shift_id=f"SH{lid}{pid}{day:%Y%m%d}",
                        provider_id=pid,
                        location_id=lid,
                        shift_start=_ts(day, time(9), tz),
                        shift_end=_ts(day, time(17), tz),
                        updated_at=stamp,
                    ),
                )
            for slot in range(rnd.randint(2, 5)):
                n += 1
                _one_appointment(chain, rnd, stamp, n, lid, tz, day, slot)
            day += timedelta(days=1)


def _one_appointment(
    chain: Chain,
    rnd: random.Random,
    stamp: datetime,
    n: int,
    lid: str,
    tz: str,
    day: date,
    slot: int,
) -> None:
    svc = rnd.choice(SERVICES)
    start = _ts(day, time(9 + 2 * slot, 30 if slot == 4 else 0), tz)
    end = start + timedelta(minutes=svc[4])
    booked = start - timedelta(days=rnd.randint(0, 20), hours=rnd.randint(0, 5))
    past = day < chain.as_of
    status = (
        rnd.choices(["completed", "no_show", "cancelled"], [80, 7, 13])[0] if past else "booked"
    )
    cancelled_at = None
    if status == "cancelled":
        cancelled_at = start - timedelta(hours=rnd.choice([2, 20, 30, 72]))
    room = f"{lid}_R2" if svc[3] else f"{lid}_R{rnd.randint(0, 1)}"
    aid = f"A{n:06d}"
    asked = start - timedelta(days=2)
    chain.add(
        "pms",
        "appointments",
        dict(
            appointment_id=aid,
            patient_id=f"PT{rnd.randrange(0, 160, 2) + (lid == 'L2'):04d}",
            location_id=lid,
            provider_id=f"{lid}_P{slot % 2}",
            room_id=room,
            service_id=svc[0],
            device_id=f"{lid}_D0" if svc[6] else None,
            booking_channel=rnd.choice(["phone", "online"]),
            booked_at=booked,
            scheduled_start=start,
            scheduled_end=end,
            status=status,
            confirmation_requested_at=asked if booked < asked else None,
            confirmation_response=rnd.choice(["confirmed", "no_response", "reschedule_requested"])
            if booked < asked
            else None,
            confirmation_responded_at=asked + timedelta(hours=3) if booked < asked else None,
            checked_in_at=start - timedelta(minutes=5) if status == "completed" else None,
            checked_out_at=end + timedelta(minutes=5) if status == "completed" else None,
            cancelled_at=cancelled_at,
            cancellation_reason=rnd.choice(["patient_request", "reschedule"])
            if cancelled_at
            else None,
            rescheduled_from_appointment_id=None,
            updated_at=min(stamp, end + timedelta(hours=1)),
        ),
    )
    if n % 2:
        for ftype in ("medical_history", "consent"):
            chain.add(
                "pms",
                "intake_forms",
                dict(
                    form_id=f"F{aid}{ftype[:3]}",
                    patient_id=f"PT{n % 160:04d}",
                    appointment_id=aid,
                    form_type=ftype,
                    sent_at=booked,
                    completed_at=booked + timedelta(hours=rnd.choice([1, 2, 600])),
                    updated_at=stamp,
                ),
            )
    if status == "completed":
        _invoice(chain, rnd, stamp, aid, lid, f"{lid}_P{slot % 2}", svc, end)


def _invoice(
    chain: Chain,
    rnd: random.Random,
    stamp: datetime,
    aid: str,
    lid: str,
    provider: str,
    svc: tuple,
    issued: datetime,
    status: str | None = None,
) -> None:
    iid = f"I{aid}"
    status = status or rnd.choices(["paid", "void", "refunded", "open"], [88, 4, 4, 4])[0]
    chain.add(
        "pos",
        "invoices",
        dict(
            invoice_id=iid,
            location_id=lid,
            patient_id=None,
            appointment_id=aid,
            provider_id=provider,
            issued_at=issued,
            status=status,
            updated_at=min(stamp, issued),
        ),
    )
    price = svc[5] or 0
    discount = 50 if rnd.random() < 0.2 and price else 0
    chain.add(
        "pos",
        "invoice_lines",
        dict(
            invoice_line_id=f"{iid}-1",
            invoice_id=iid,
            line_type="service",
            service_id=svc[0],
            product_id=None,
            plan_id=None,
            quantity=1,
            unit_price=price,
            discount_amount=discount,
            net_amount=price - discount,
            cost_amount=round(price * 0.2, 2),
            updated_at=min(stamp, issued),
        ),
    )
    if rnd.random() < 0.3:
        chain.add(
            "pos",
            "invoice_lines",
            dict(
                invoice_line_id=f"{iid}-2",
                invoice_id=iid,
                line_type="retail_product",
                service_id=None,
                product_id="PR1",
                plan_id=None,
                quantity=1,
                unit_price=48,
                discount_amount=0,
                net_amount=48,
                cost_amount=12,
                updated_at=min(stamp, issued),
            ),
        )


def apply_delta(chain: Chain, seed: int = 11, days: int = 1, at: time = time(6, 0)) -> Chain:
    """The next night's delta: yesterday's bookings complete or no-show (with paid invoices), an
    old invoice is refunded (a late update), and a patient's first visit is corrected to no_show
    (which flips the new/returning type of that patient's later visits). `days` > 1: the
    extract of several nights at once, stamped `at` (UTC) on its last day."""
    rnd = random.Random(seed)
    new_as_of = chain.as_of + timedelta(days=days)
    stamp = _ts(new_as_of, at, "UTC")
    delta = Chain(as_of=new_as_of)
    appts = chain.tables[("pms", "appointments")]
    for row in appts:
        start = row["scheduled_start"]
        if row["status"] == "booked" and start.date() < new_as_of:
            upd = dict(row, status=rnd.choice(["completed", "no_show"]), updated_at=stamp)
            if upd["status"] == "completed":
                upd["checked_in_at"], upd["checked_out_at"] = start, row["scheduled_end"]
                svc = next(s for s in SERVICES if s[0] == row["service_id"])
                _invoice(
                    delta,
                    rnd,
                    stamp,
                    row["appointment_id"],
                    row["location_id"],
                    row["provider_id"],
                    svc,
                    row["scheduled_end"],
                    status="paid",
                )
                for r in delta.tables[("pos", "invoices")] + delta.tables[("pos", "invoice_lines")]:
                    r["updated_at"] = stamp
            delta.add("pms", "appointments", upd)
    # a first visit is corrected to no_show: the patient's later visits change type
    first = next(r for r in appts if r["status"] == "completed" and r["patient_id"] == "PT0002")
    delta.add(
        "pms",
        "appointments",
        dict(first, status="no_show", checked_in_at=None, checked_out_at=None, updated_at=stamp),
    )
    # an invoice from a month ago is refunded: arrives 1 day "late" (updated_at before the stamp)
    old = next(
        r
        for r in chain.tables[("pos", "invoices")]
        if r["status"] == "paid" and r["issued_at"].date() < chain.as_of - timedelta(days=30)
    )
    delta.add("pos", "invoices", dict(old, status="refunded", updated_at=stamp - timedelta(days=1)))
    return delta


#: Load ids as dlt makes them (a sortable timestamp string), one per `write_raw`, increasing.
_LOAD_IDS = itertools.count(1_764_000_000)


def write_raw(con: duckdb.DuckDBPyConnection, chain: Chain) -> None:
    """Upsert the rows into raw_<system>.<table>: a row replaces its key, as the loader does,
    stamped with a new `_dlt_load_id` (the loader's lineage the incremental models key on)."""
    from ingestion.contract import load_contract

    ensure_raw_tables(con)
    contract = load_contract()
    ensure_lineage_columns(con, contract)
    load_id = f"{next(_LOAD_IDS)}.0"
    for table in contract.tables:
        rows = chain.tables.get((table.system, table.name), [])
        if not rows:
            continue
        cols = [c.name for c in table.columns]
        keys = list(table.primary_key)
        target = f'"{table.dataset}"."{table.name}"'
        frame = pa.Table.from_pylist([{c: row.get(c) for c in cols} for row in rows])
        con.register("incoming", frame)
        match = " and ".join(f't."{k}" = i."{k}"' for k in keys)
        con.execute(f"delete from {target} t where exists (select 1 from incoming i where {match})")
        con.execute(
            f"insert into {target} by name select *, ? as _dlt_load_id from incoming", [load_id]
        )
        con.unregister("incoming")


def late_delta(chain: Chain) -> Chain:
    """An extract that lands late: every row's updated_at is 10 days older than the newest one
    already loaded (the chain's stamp), far outside any lookback a timestamp watermark could
    afford. A month-old visit is corrected to no_show, a month-old paid invoice is voided and
    one of its lines is re-priced."""
    stamp = _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=10)
    delta = Chain(as_of=chain.as_of)
    month_ago = chain.as_of - timedelta(days=30)
    visit = next(
        r
        for r in chain.tables[("pms", "appointments")]
        if r["status"] == "completed" and r["scheduled_start"].date() < month_ago
    )
    delta.add(
        "pms",
        "appointments",
        dict(visit, status="no_show", checked_in_at=None, checked_out_at=None, updated_at=stamp),
    )
    invoices = [
        r
        for r in chain.tables[("pos", "invoices")]
        if r["status"] == "paid" and r["issued_at"].date() < month_ago
    ]
    delta.add("pos", "invoices", dict(invoices[0], status="void", updated_at=stamp))
    line = next(
        r
        for r in chain.tables[("pos", "invoice_lines")]
        if r["invoice_id"] == invoices[1]["invoice_id"]
    )
    delta.add(
        "pos",
        "invoice_lines",
        dict(
            line,
            discount_amount=line["discount_amount"] + 10,
            net_amount=line["net_amount"] - 10,
            updated_at=stamp,
        ),
    )
    return delta


def relink_delta(chain: Chain) -> Chain:
    """A late correction: a month-old paid invoice was booked against the wrong appointment and
    is moved to another completed visit of another provider, with an updated_at 10 days older
    than the newest loaded. The old appointment loses the revenue without any of its own rows
    changing: only the invoice row names the new appointment."""
    stamp = _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=10)
    month_ago = chain.as_of - timedelta(days=30)
    appointments = {r["appointment_id"]: r for r in chain.tables[("pms", "appointments")]}
    invoice = next(
        r
        for r in chain.tables[("pos", "invoices")]
        if r["status"] == "paid"
        and r["appointment_id"] in appointments
        and r["issued_at"].date() < month_ago
    )
    moved_from = appointments[invoice["appointment_id"]]
    moved_to = next(
        r
        for r in appointments.values()
        if r["status"] == "completed"
        and r["location_id"] == moved_from["location_id"]
        and r["provider_id"] != moved_from["provider_id"]
        and r["scheduled_start"].date() < month_ago
    )
    delta = Chain(as_of=chain.as_of)
    delta.add(
        "pos",
        "invoices",
        dict(
            invoice,
            appointment_id=moved_to["appointment_id"],
            provider_id=moved_to["provider_id"],
            updated_at=stamp,
        ),
    )
    return delta


def orphan_line_deltas(chain: Chain) -> tuple[Chain, Chain]:
    """Two nights of one sale whose line was exported before its invoice (exporters write one
    table after another): night one brings a copy of a paid invoice's first line under a new
    invoice id that no extract has yet, night two brings that invoice (a copy of the paid one
    under the new id). Both rows are stamped a day after the chain's newest."""
    stamp = _ts(chain.as_of, time(6, 0), "UTC") + timedelta(days=1)
    paid = next(r for r in chain.tables[("pos", "invoices")] if r["status"] == "paid")
    line = next(
        r for r in chain.tables[("pos", "invoice_lines")] if r["invoice_id"] == paid["invoice_id"]
    )
    lines_first, invoice_later = Chain(as_of=chain.as_of), Chain(as_of=chain.as_of)
    lines_first.add(
        "pos",
        "invoice_lines",
        dict(line, invoice_line_id="ORPHAN-1", invoice_id="INV-LATE", updated_at=stamp),
    )
    invoice_later.add("pos", "invoices", dict(paid, invoice_id="INV-LATE", updated_at=stamp))
    return lines_first, invoice_later
