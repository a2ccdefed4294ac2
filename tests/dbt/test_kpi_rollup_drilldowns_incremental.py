"""The drill-down marts made incremental after the first five (macros/kpi_rollup_incremental.sql)
equal a full refresh night after night and really take their incremental path.

`kpi_by_provider` (and `kpi_by_response_time`) go through the nights of
test_kpi_rollup_incremental.py on the dbt core chain: the next day, a late correction of
the chain's first weeks, eleven days at once across a week and a month boundary, a
location's time-zone correction, then a run of the marts alone (their inputs not built in
the same invocation: they rebuild whole). The chain answers NPS surveys about a third of its
visits, for kpi_by_provider's nps: a survey answered late rides the next day; two nights
touch only surveys, a June score corrected (fct_surveys' touched record alone names its
week: the mart recomputes from there, no earlier) and a surveyed August visit given to the
other provider (the response moves from one provider's nps to the other's). Its 0 revenue
rows (a provider's weeks worked without a paid invoice) exist only while revenue_per_provider
is computable (its guard: `kpi_coverage`): on the same chain with its POS extracts arriving
after its PMS ones, and starting two months later, they appear in every period at once and
the mart rebuilds whole.

`kpi_by_channel` reads two small inputs without a touched record besides its lead events:
which channels ever had spend (`fct_marketing_spend`) and which KPIs are computable
(`kpi_coverage`). It compares them whole with the ones its last build used (its *guards*,
`dbt_state.kpi_rollup_guards`) and rebuilds whole when they differ. On the engagement clinic
(engagement_fixture.py, nights of test_lead_kpi_events_incremental.py): spend arrives for
the first time (guards differ: whole); an ordinary night (incremental); a lead re-dated into
an old month, then across a week and a month boundary (incremental from the old month); one
paid channel's only spend deleted (guards differ: whole); a channel paid for the first time
(whole); the location's time zone corrected; a night with nothing new; the mart alone (whole).
`kpi_by_response_time` follows fct_leads' touched record (location and creation date) through
the same nights, incremental on each after its first build.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from conftest import write_chain
from dbt_core_chain import LOCATIONS, Chain, _ts, late_delta
from dbt_core_deltas import timezone_delta
from dbt_runner import dbt
from engagement_fixture import SELECTION as ENGAGEMENT_SELECTION
from engagement_fixture import insert_rows, lead_row, table_rows, twin_copies
from test_dbt_core_incremental import _differences
from test_fct_surveys_incremental import _survey
from test_kpi_rollup_incremental import _cutoffs, _equals_full_refresh, _next_day, _query
from test_lead_kpi_events_incremental import _night as _lead_night
from test_lead_kpi_events_incremental import _spend, _stamp

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

MARTS = ("kpi_by_provider",)
SELECTION = [f"+{mart}" for mart in MARTS]
WHOLE = {"week": None, "month": None}
#: the cutoffs of a night that touched a lead of 2026-03-10 (a Tuesday)
MARCH = {"week": date(2026, 3, 9), "month": date(2026, 3, 1)}


def _assert_incremental(warehouse: Path, mart: str, cutoffs: dict[str, date | None]) -> None:
    """The mart took its incremental path: a cutoff per grain, later than its first period
    (so not every period was recomputed)."""
    for grain, cutoff in cutoffs.items():
        assert cutoff is not None, f"{mart} rebuilt whole"
        first = _query(
            warehouse, f"select min(period_start) from marts.{mart} where grain = ?", [grain]
        )[0][0]
        assert cutoff > first, f"{mart}: {grain} recomputed whole"


def _surveyed(chain: Chain) -> Chain:
    """The chain with an NPS survey about every third completed visit that ended at least
    three days before its as-of: sent three hours after the visit, answered two days later
    (scores 0-10 in turn, every fifth left unanswered), so no answer is newer than the
    chain's as-of."""
    surveyed = Chain(chain.as_of, {key: list(rows) for key, rows in chain.tables.items()})
    last = _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=3)
    visits = [
        r
        for r in chain.tables[("pms", "appointments")]
        if r["status"] == "completed" and r["scheduled_end"] < last
    ]
    for n, visit in enumerate(visits[::3]):
        score = None if n % 5 == 4 else n % 11
        sent = visit["scheduled_end"] + timedelta(hours=3)
        surveyed.add(
            "reviews", "surveys", _survey(f"SV{n:04d}", visit["patient_id"], visit, score, sent)
        )
    return surveyed


def _late_answer(chain: Chain, delta: Chain) -> Chain:
    """`delta` (a next night) plus the answer to the newest unanswered survey, given an hour
    before the night's stamp: a response dated on the new day."""
    stamp = max(r["updated_at"] for rows in delta.tables.values() for r in rows)
    survey = [r for r in chain.tables[("reviews", "surveys")] if r["nps_score"] is None][-1]
    answered = stamp - timedelta(hours=1)
    delta.add(
        "reviews", "surveys", dict(survey, responded_at=answered, nps_score=9, updated_at=answered)
    )
    return delta


def _visits(chain: Chain) -> dict[str, dict]:
    return {r["appointment_id"]: r for r in chain.tables[("pms", "appointments")]}


def _answered_in(chain: Chain, month: int) -> tuple[dict, dict]:
    """The first answered survey whose visit was in `month` of 2025, and its visit."""
    visits = _visits(chain)
    survey = next(
        r
        for r in chain.tables[("reviews", "surveys")]
        if r["nps_score"] is not None
        and visits[r["appointment_id"]]["scheduled_start"].month == month
    )
    return survey, visits[survey["appointment_id"]]


def _local_date(instant: datetime, location_id: str) -> date:
    timezone = next(tz for lid, _name, tz, _opened in LOCATIONS if lid == location_id)
    return instant.astimezone(ZoneInfo(timezone)).date()


def _late_stamp(chain: Chain) -> datetime:
    """Ten days older than the chain's newest rows: an extract that lands late."""
    return _ts(chain.as_of, time(6, 0), "UTC") - timedelta(days=10)


def _rescored(chain: Chain) -> tuple[Chain, date]:
    """A June response's score corrected (promoter and passive to detractor, detractor to
    promoter), landing late; with its local response date."""
    survey, visit = _answered_in(chain, 6)
    delta = Chain(as_of=chain.as_of)
    score = 10 if survey["nps_score"] <= 6 else 2
    delta.add("reviews", "surveys", dict(survey, nps_score=score, updated_at=_late_stamp(chain)))
    return delta, _local_date(survey["responded_at"], visit["location_id"])


def _reassigned(chain: Chain) -> tuple[Chain, dict, str]:
    """An answered August survey's visit given to the other provider of its location (a late
    correction of the appointment); with the survey and the visit's new provider."""
    survey, visit = _answered_in(chain, 8)
    provider = visit["provider_id"]
    other = provider[:-1] + ("1" if provider.endswith("0") else "0")
    delta = Chain(as_of=chain.as_of)
    delta.add("pms", "appointments", dict(visit, provider_id=other, updated_at=_late_stamp(chain)))
    return delta, survey, other


def _nps_responses(warehouse: Path, provider: str, month: date) -> float:
    rows = _query(
        warehouse,
        "select denominator from marts.kpi_by_provider where kpi = 'nps' and grain = 'month'"
        " and location_id = '_all' and provider_id = ? and period_start = ?",
        [provider, month],
    )
    return rows[0][0] if rows else 0.0


def _chain_night(work: Path, warehouse: Path, delta: Chain) -> dict[str, dict]:
    write_chain(warehouse, delta)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    assert _equals_full_refresh(work, warehouse, MARTS) == dict.fromkeys(MARTS, 0)
    return {mart: _cutoffs(warehouse, mart) for mart in MARTS}


def test_chain_drilldowns_equal_full_refresh_night_after_night(
    tmp_path: Path, base_chain: Chain
) -> None:
    work = tmp_path / "incremental"
    work.mkdir()
    base = _surveyed(base_chain)
    warehouse = write_chain(work / "warehouse.duckdb", base)
    dbt(["seed"], warehouse, work)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    assert {mart: _cutoffs(warehouse, mart) for mart in MARTS} == dict.fromkeys(MARTS, WHOLE)
    assert _query(warehouse, "select count(*) from marts.kpi_by_provider where kpi = 'nps'")[0][0]
    chains: list[Chain] = [base]

    # (a) the next day (as-of Thursday 2025-11-20 -> Friday 2025-11-21), with a survey
    # answered late: incremental (the events touched are of 2025-11-20, the response of
    # 2025-11-21; periods whose rebooking or confirmation windows are still open, built
    # non-final, are recomputed too)
    chains.append(_late_answer(base, _next_day(base)))
    cutoffs = _chain_night(work, warehouse, chains[-1])
    for mart in MARTS:
        _assert_incremental(warehouse, mart, cutoffs[mart])

    # (b) a late extract correcting events of the chain's first weeks (its first completed
    # visit, of 2025-01-06 at L1, turned no-show; a voided invoice, a re-priced line): the
    # touched records name those days, so each mart recomputes from their week and month
    chains.append(late_delta(base))
    cutoffs = _chain_night(work, warehouse, chains[-1])
    for mart in MARTS:
        assert cutoffs[mart] == {"week": date(2025, 1, 6), "month": date(2025, 1, 1)}, mart

    # (b2) only a June response re-scored: fct_surveys' touched record is the one input naming
    # its day, so kpi_by_provider recomputes from that week and June, not from earlier
    delta, answered = _rescored(base)
    chains.append(delta)
    cutoffs = _chain_night(work, warehouse, chains[-1])
    monday = answered - timedelta(days=answered.weekday())
    assert cutoffs["kpi_by_provider"] == {"week": monday, "month": date(2025, 6, 1)}

    # (b3) a surveyed August visit given to the other provider: its response leaves one
    # provider's August nps and joins the other's
    delta, survey, other = _reassigned(base)
    before = _visits(base)[survey["appointment_id"]]["provider_id"]
    august = date(2025, 8, 1)
    counts = {p: _nps_responses(warehouse, p, august) for p in (before, other)}
    chains.append(delta)
    cutoffs = _chain_night(work, warehouse, chains[-1])
    _assert_incremental(warehouse, "kpi_by_provider", cutoffs["kpi_by_provider"])
    assert _nps_responses(warehouse, before, august) == counts[before] - 1
    assert _nps_responses(warehouse, other, august) == counts[other] + 1

    # (c) eleven nights in one extract, stamped Monday 2025-12-01 12:00 UTC: the week of
    # 2025-11-24 and November end, and the week and month of 2025-12-01 start
    chains.append(_next_day(base, seed=12, days=11, at=time(12, 0)))
    cutoffs = _chain_night(work, warehouse, chains[-1])
    for mart in MARTS:
        _assert_incremental(warehouse, mart, cutoffs[mart])
        assert _query(
            warehouse,
            f"select count(distinct grain) from marts.{mart}"
            " where period_start = date '2025-12-01'",
        ) == [(2,)], mart

    # (d) L2's time zone corrected: every L2 event moves a day, both sides recorded, so the
    # marts recompute from L2's first event, still on their incremental path
    chains.append(timezone_delta(base))
    cutoffs = _chain_night(work, warehouse, chains[-1])
    assert all(None not in c.values() for c in cutoffs.values()), cutoffs

    # the marts after the four nights equal a build from scratch over the same extracts
    scratch_dir = tmp_path / "scratch"
    scratch_dir.mkdir()
    scratch = write_chain(scratch_dir / "warehouse.duckdb", *chains)
    dbt(["seed"], scratch, scratch_dir)
    dbt(["run", "--select", *SELECTION], scratch, scratch_dir)
    assert {m: _differences(warehouse, scratch, m) for m in MARTS} == dict.fromkeys(MARTS, 0)

    # the marts alone: no touched record is complete for them, so they rebuild whole
    dbt(["run", "--select", *MARTS], warehouse, work)
    assert {mart: _cutoffs(warehouse, mart) for mart in MARTS} == dict.fromkeys(MARTS, WHOLE)
    assert _equals_full_refresh(work, warehouse, MARTS) == dict.fromkeys(MARTS, 0)


def test_provider_revenue_zeros_arrive_with_pos_data_in_every_period(
    tmp_path: Path, base_chain: Chain
) -> None:
    """The chain's PMS extracts first; a night later its POS extracts, whose history starts
    on 2025-03-01 (a POS adopted two months after the PMS). Before: no revenue row at all (POS
    never delivered: no 0 either). After: every provider-week worked has its revenue, 0 in
    January and February, where no invoice exists. The invoice events' touched record starts
    in March; nothing binds another input's to name the earlier periods (here the appointment
    events' happens to, from the first visit on), so the mart's guard (kpi_coverage changed)
    rebuilds it whole, and it equals a full refresh. The next night is incremental again."""
    work = tmp_path / "pos_late"
    work.mkdir()
    start = date(2025, 3, 1)
    invoices = [r for r in base_chain.tables[("pos", "invoices")] if r["issued_at"].date() >= start]
    kept = {r["invoice_id"] for r in invoices}
    lines = [r for r in base_chain.tables[("pos", "invoice_lines")] if r["invoice_id"] in kept]
    pos = {key: rows for key, rows in base_chain.tables.items() if key[0] == "pos"}
    pos |= {("pos", "invoices"): invoices, ("pos", "invoice_lines"): lines}
    others = {key: rows for key, rows in base_chain.tables.items() if key[0] != "pos"}
    warehouse = write_chain(work / "warehouse.duckdb", Chain(base_chain.as_of, others))
    dbt(["seed"], warehouse, work)
    dbt(["run", "--select", *SELECTION], warehouse, work)
    revenue_weeks = (
        "select count(*), count(*) filter (where numerator = 0), min(period_start)"
        " from marts.kpi_by_provider where kpi = 'revenue_per_provider' and grain = 'week'"
    )
    assert _query(warehouse, revenue_weeks) == [(0, 0, None)]

    write_chain(warehouse, Chain(base_chain.as_of, pos))
    cutoffs = _chain_night(work, warehouse, Chain(base_chain.as_of))
    assert cutoffs["kpi_by_provider"] == WHOLE
    ((weeks, zeros, first),) = _query(warehouse, revenue_weeks)
    worked = _query(
        warehouse,
        "select min(period_start) from marts.kpi_by_provider"
        " where kpi = 'provider_productive_share' and grain = 'week'",
    )[0][0]
    assert weeks > zeros > 0 and first == worked < start
    assert _query(
        warehouse,
        "select count(*) from marts.kpi_by_provider"
        " where kpi = 'revenue_per_provider' and grain = 'month' and period_start < ?"
        " and numerator <> 0",
        [start],
    ) == [(0,)]

    cutoffs = _chain_night(work, warehouse, _next_day(base_chain))
    _assert_incremental(warehouse, "kpi_by_provider", cutoffs["kpi_by_provider"])


LEAD_MARTS = ("kpi_by_channel", "kpi_by_response_time")


def _guard(db: Path) -> list[tuple]:
    return table_rows(
        db, "select guard from dbt_state.kpi_rollup_guards where model_name = 'kpi_by_channel'"
    )


def _lead_marts_night(db: Path) -> dict[str, dict[str, date | None]]:
    """Build the engagement selection and kpi_by_response_time incrementally; both marts must
    equal a full refresh over the same inputs. The cutoffs each used."""
    selection = [*ENGAGEMENT_SELECTION, "+kpi_by_response_time"]
    dbt(
        ["build", "--select", *selection, "--exclude-resource-type", "test", "unit_test"],
        db,
        db.parent,
    )
    assert _equals_full_refresh(db.parent, db, LEAD_MARTS) == dict.fromkeys(LEAD_MARTS, 0)
    return {mart: _cutoffs(db, mart) for mart in LEAD_MARTS}


def _redate_ld4(db: Path, created: datetime, night: int) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute("delete from raw_crm.leads where lead_id = 'ld4'")
        lead = lead_row("ld4", created, "web_form", None, "new@example.com", _stamp(night))
        insert_rows(con, "crm", "leads", [lead])
    finally:
        con.close()


def test_lead_drilldowns_equal_full_refresh_and_rebuild_when_paid_channels_change(
    engagement_built: Path, tmp_path: Path
) -> None:
    db, _ = twin_copies(engagement_built, tmp_path)
    assert _cutoffs(db, "kpi_by_channel") == WHOLE  # its first build
    first_guard = _guard(db)
    assert len(first_guard) == 1

    # night 1: ld1 re-dated from 11-02 to 11-04 and spend arrives for the first time
    # (web_form, instagram): the paid channels differ from the last build's, so
    # kpi_by_channel rebuilds whole; kpi_by_response_time is built for the first time
    _lead_night(db, 1)
    assert _lead_marts_night(db) == dict.fromkeys(LEAD_MARTS, WHOLE)
    assert _guard(db) != first_guard

    # an ordinary night (a new lead ld4 on 2026-11-05): the guards are unchanged, so both
    # recompute only the periods from the lead's (or the earliest non-final one's)
    _lead_night(db, 3)
    cutoffs = _lead_marts_night(db)
    _assert_incremental(db, "kpi_by_channel", cutoffs["kpi_by_channel"])
    for mart in LEAD_MARTS:  # every lead is of that week so far: a cutoff, but not a later one
        assert None not in cutoffs[mart].values(), mart
        assert cutoffs[mart]["week"] <= date(2026, 11, 2), mart
        assert cutoffs[mart]["month"] <= date(2026, 11, 1), mart

    # an old correction: ld4 re-dated to 2026-03-10 (a Tuesday): both touched records
    # (int_lead_kpi_events', fct_leads') name both days, so both marts recompute from the
    # week of 2026-03-09 and from March
    _redate_ld4(db, datetime(2026, 3, 10, 16, tzinfo=UTC), 4)
    cutoffs = _lead_marts_night(db)
    assert cutoffs == dict.fromkeys(LEAD_MARTS, MARCH)

    # and back across a week and a month boundary: ld4 re-dated to Sunday 2026-05-31 (New
    # York: 12:00): March leaves, May's last week (of 2026-05-25) and May enter
    _redate_ld4(db, datetime(2026, 5, 31, 16, tzinfo=UTC), 5)
    cutoffs = _lead_marts_night(db)
    assert cutoffs == dict.fromkeys(LEAD_MARTS, MARCH)

    # night 2: the instagram spend (its only day) deleted: instagram is no longer paid, its
    # new patients' cac events of every period leave kpi_by_channel: rebuilt whole (the
    # response buckets have no such input: incremental)
    _lead_night(db, 2)
    cutoffs = _lead_marts_night(db)
    assert cutoffs["kpi_by_channel"] == WHOLE
    assert None not in cutoffs["kpi_by_response_time"].values()

    # a channel paid for the first time (referral, one day in October): whole again
    con = duckdb.connect(str(db))
    try:
        insert_rows(con, "crm", "marketing_spend", [_spend(3, "referral", "r", "7.00", 6)])
        con.execute(
            "update raw_crm.marketing_spend set spend_date = date '2026-10-20'"
            " where channel = 'referral'"
        )
    finally:
        con.close()
    cutoffs = _lead_marts_night(db)
    assert cutoffs["kpi_by_channel"] == WHOLE
    assert None not in cutoffs["kpi_by_response_time"].values()

    # L1's time zone corrected (New York -> Auckland): every lead's local date moves
    # to the next day; fct_leads rewrites every lead (both sides recorded), the lead events
    # too: both marts recompute from the first lead's period, on their incremental path
    con = duckdb.connect(str(db))
    try:
        location = con.execute(
            "select * from raw_pms.locations where location_id = 'L1'"
        ).fetchall()
        columns = [c[0] for c in con.description]
        assert len(location) == 1
        row = dict(zip(columns, location[0], strict=True))
        row = {k: v for k, v in row.items() if not k.startswith("_dlt")}
        con.execute("delete from raw_pms.locations where location_id = 'L1'")
        insert_rows(
            con, "pms", "locations", [dict(row, timezone="Pacific/Auckland", updated_at=_stamp(7))]
        )
    finally:
        con.close()
    cutoffs = _lead_marts_night(db)
    assert all(None not in by_grain.values() for by_grain in cutoffs.values()), cutoffs

    # then a night with nothing new: incremental again, and the guards kept
    guard = _guard(db)
    cutoffs = _lead_marts_night(db)
    for mart in LEAD_MARTS:
        _assert_incremental(db, mart, cutoffs[mart])
    assert _guard(db) == guard

    # the marts alone: their inputs were not built in this invocation, so no touched record
    # is complete for them and they rebuild whole (and still equal a full refresh)
    dbt(["run", "--select", *LEAD_MARTS], db, db.parent)
    assert {mart: _cutoffs(db, mart) for mart in LEAD_MARTS} == dict.fromkeys(LEAD_MARTS, WHOLE)
    assert _equals_full_refresh(db.parent, db, LEAD_MARTS) == dict.fromkeys(LEAD_MARTS, 0)
