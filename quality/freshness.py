"""Per-system freshness judged from the data, not from the wall clock.

A system is *stale* when its newest loaded extract lags the newest extract of any system by
more than its window: the other systems kept delivering and this one stopped. The reference
point is the data's own as-of (the newest extract loaded), so the verdict is the same whenever
the check is evaluated and a test can reproduce it. A system that never delivered a file is
not stale; it only fails when the clinic declared it (the `declared` systems). Each system's
window is the contract's `freshness_days` (ingestion/contract.yml, docs/landing-contract.md).

The data-relative rule cannot see a whole chain that stopped: every system is then equally
behind and none lags another. `chain_silence` is the one rule that reads a clock: the newest
extract of *any* system is compared with "now" (the evaluating check's clock), and the chain is
silent when even that extract is older than the tightest system window plus the day an extract
takes to arrive. A marked demo chain is exempt: its extracts end on a fixed date (the
generator is seeded and never reads the clock).

Extract times come from extract ids (they sort in time order and start with an ISO date in
every extract we produce); when an id does not parse as a date, the load time is used instead.
So is the load time when the id's date is later than the load itself (plus a day of slack for
time zones): an extract cannot hold days that had not happened when it was loaded, and one
mistyped year would otherwise become the newest extract of the chain, putting every other
system a year behind and the chain a year ahead of the clock. Such a file is reported on its
table's check while its date is still ahead of the data.

Each table is also judged against its own system: a table whose newest extract lags its
system's newest by more than the window warns, although its system still delivers
(`evaluate_tables`). The contract does not tell activity tables from reference tables, so a
reference table (rooms, services) that delivers only on change warns the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingestion.contract import load_contract

#: Largest age of a mart or of the serving file before its last-update check warns: the nightly
#: job plus two hours of slack (a nightly job that stopped running).
MART_MAX_AGE = dt.timedelta(hours=26)
#: How far an extract id's date may run ahead of its file's load time and still be trusted: an
#: id dated by the clinic's local day can be up to a day ahead of the UTC clock that loads it.
ID_SLACK = dt.timedelta(days=1)


@dataclass(frozen=True)
class SystemFreshness:
    """The freshness verdict for one source system."""

    system: str
    status: str  # fresh | stale | never_delivered | declared_missing
    last_extract: str | None
    lag_days: float | None
    window_days: float

    @property
    def passed(self) -> bool:
        return self.status in ("fresh", "never_delivered")

    @property
    def description(self) -> str:
        if self.status == "never_delivered":
            return f"{self.system}: never delivered and not declared; nothing to be fresh"
        if self.status == "declared_missing":
            return f"{self.system}: declared by the clinic but no extract was ever loaded"
        verb = "within" if self.status == "fresh" else "beyond"
        return (
            f"{self.system}: last extract {self.last_extract} lags the newest extract by "
            f"{self.lag_days:g} day(s), {verb} its {self.window_days:g}-day window"
        )


@dataclass(frozen=True)
class ChainSilence:
    """Is the chain as a whole still delivering? (newest extract of any system vs the clock)"""

    status: str  # delivering | silent | ahead_of_clock | nothing_loaded | demo
    newest_extract: str | None
    age_days: float | None
    limit_days: float
    #: Why the age is not counted from the newest extract's id (its load time stood in), if so.
    stand_in: str | None = None

    @property
    def passed(self) -> bool:
        return self.status not in ("silent", "ahead_of_clock")

    @property
    def description(self) -> str:
        if self.status == "ahead_of_clock":
            return (
                f"newest extract of any system ({self.newest_extract}) is dated "
                f"{-(self.age_days or 0):g} day(s) after the check's clock: not counted as "
                "delivering; check that extract's id and the clock"
            )
        if self.status == "nothing_loaded":
            return "no extract has been loaded yet; nothing to be silent"
        if self.status == "demo":
            return "demo chain: its extracts end on a fixed date, so the clock rule is off"
        verb = "within" if self.status == "delivering" else "beyond"
        named = self.newest_extract + (f"; {self.stand_in}" if self.stand_in else "")
        return (
            f"newest extract of any system ({named}) is {self.age_days:g} day(s) "
            f"old, {verb} the {self.limit_days:g}-day limit"
            + ("" if self.passed else ": the whole chain stopped delivering")
        )


def chain_silence(
    deliveries: dict[str, tuple[str, dt.datetime]],
    now: dt.datetime,
    *,
    demo: bool = False,
    windows: dict[str, float] | None = None,
) -> ChainSilence:
    """The clock rule over every system's newest delivery (see the module docstring).

    The limit is the tightest window among the systems that delivered, plus one day: an
    extract dated D holds day D and lands in the night after it, so a chain on time never has
    a newest extract older than that. Extract dates are UTC midnights; ages round to 0.01 day.
    A newest extract dated after `now` (a negative age) proves nothing about delivery: it is
    `ahead_of_clock`, never `delivering`.
    """
    windows = {**load_contract().freshness_days, **(windows or {})}
    delivered = {system: when for system, (_, when) in deliveries.items()}
    limit = min((float(windows.get(s, 1)) for s in delivered), default=1.0) + 1
    if demo:
        return ChainSilence("demo", None, None, limit)
    if not delivered:
        return ChainSilence("nothing_loaded", None, None, limit)
    newest_system = max(delivered, key=lambda s: delivered[s])
    newest_id, when = deliveries[newest_system]
    age = _lag_days(now, when)
    return ChainSilence(
        _clock_status(age, limit), newest_id, age, limit, _stand_in(newest_id, when)
    )


def _stand_in(extract_id: str, when: dt.datetime) -> str | None:
    """Says so when an extract's time is its load time rather than its id's date."""
    id_time = _id_time(extract_id)
    if id_time == when:
        return None
    why = "its id names no date" if id_time is None else "its id is dated after its own load"
    return f"{why}: its load time {when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC stands in"


def _clock_status(age: float, limit: float) -> str:
    """The clock rule's verdict on the newest extract's age (days)."""
    if age < 0:
        return "ahead_of_clock"
    return "silent" if age > limit else "delivering"


def _id_time(extract_id: str) -> dt.datetime | None:
    """The UTC midnight of the date an extract id starts with, or None when it names none."""
    for text, fmt in ((extract_id[:10], "%Y-%m-%d"), (extract_id[:8], "%Y%m%d")):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def _is_future_dated(id_time: dt.datetime | None, loaded_at: dt.datetime) -> bool:
    """The id's date is later than its file's load (beyond `ID_SLACK`): a mistyped date."""
    return id_time is not None and id_time > loaded_at + ID_SLACK


def _extract_time(extract_id: str, loaded_at: dt.datetime) -> dt.datetime:
    """The time an extract is taken to hold: its id's date unless it names none or lies ahead."""
    id_time = _id_time(extract_id)
    if id_time is None or _is_future_dated(id_time, loaded_at):
        return loaded_at.astimezone(dt.UTC)
    return id_time


@dataclass(frozen=True)
class LoadedExtract:
    """One loaded file of the ledger (`raw_meta.loaded_files`)."""

    system: str
    table: str
    file_path: str
    extract_id: str
    loaded_at: dt.datetime

    @property
    def when(self) -> dt.datetime:
        return _extract_time(self.extract_id, self.loaded_at)

    @property
    def id_time(self) -> dt.datetime | None:
        return _id_time(self.extract_id)

    @property
    def future_dated(self) -> bool:
        return _is_future_dated(self.id_time, self.loaded_at)

    @property
    def note(self) -> str:
        """What a check says of a future-dated file."""
        id_date = self.id_time.date() if self.id_time else self.extract_id
        loaded = self.loaded_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
        return (
            f"{self.file_path} is dated {id_date}, after it was loaded ({loaded} UTC): "
            "its load time stands in for its date"
        )


def loaded_extracts(con: duckdb.DuckDBPyConnection) -> list[LoadedExtract]:
    """Every file of the ledger that was loaded (refused files deliver nothing)."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw_meta' and table_name = 'loaded_files'"
    ).fetchone()[0]
    if not exists:
        return []
    rows = con.execute(
        "select system, table_name, file_path, extract_id, loaded_at "
        "from raw_meta.loaded_files where status = 'loaded'"
    ).fetchall()
    return [LoadedExtract(s, t, f, str(e), at) for s, t, f, e, at in rows]


def _newest(
    extracts: list[LoadedExtract], key: Callable[[LoadedExtract], Hashable]
) -> dict[Any, tuple[str, dt.datetime]]:
    """key(extract) -> (newest extract id, its time)."""
    newest: dict[Any, tuple[str, dt.datetime]] = {}
    for extract in extracts:
        k, when = key(extract), extract.when
        if k not in newest or when > newest[k][1]:
            newest[k] = (extract.extract_id, when)
    return newest


def system_deliveries(extracts: list[LoadedExtract]) -> dict[str, tuple[str, dt.datetime]]:
    """system -> (newest extract id, its time)."""
    return _newest(extracts, lambda e: e.system)


def table_deliveries(
    extracts: list[LoadedExtract],
) -> dict[tuple[str, str], tuple[str, dt.datetime]]:
    """(system, table) -> (newest extract id of that table, its time)."""
    return _newest(extracts, lambda e: (e.system, e.table))


def evaluate(
    deliveries: dict[str, tuple[str, dt.datetime]],
    systems: list[str],
    declared: tuple[str, ...] | None,
    windows: dict[str, float] | None = None,
) -> dict[str, SystemFreshness]:
    """Judge every system against the newest delivery of any system.

    `windows` (system -> days) default to the contract's `freshness_days`.
    """
    windows = {**load_contract().freshness_days, **(windows or {})}
    as_of = max((when for _, when in deliveries.values()), default=None)
    verdicts: dict[str, SystemFreshness] = {}
    for system in systems:
        if system not in windows:
            raise ValueError(f"no freshness window for system {system!r}: set its freshness_days")
        window = float(windows[system])
        if system not in deliveries or as_of is None:
            status = "declared_missing" if declared and system in declared else "never_delivered"
            verdicts[system] = SystemFreshness(system, status, None, None, window)
            continue
        extract_id, when = deliveries[system]
        lag = _lag_days(as_of, when)
        status = "stale" if lag > window else "fresh"
        verdicts[system] = SystemFreshness(system, status, extract_id, lag, window)
    return verdicts


@dataclass(frozen=True)
class TableFreshness:
    """The freshness verdict for one raw table: its system's, then its own against the system."""

    table: str
    system: SystemFreshness
    status: str  # the system's failing status | behind | future_dated | fresh
    last_extract: str | None
    lag_days: float | None  # behind its system's newest extract
    future_dated: tuple[LoadedExtract, ...] = ()
    regular: bool = True  # came with most of its system's extracts (`_delivers_regularly`)

    @property
    def passed(self) -> bool:
        return self.status == "fresh"

    @property
    def description(self) -> str:
        parts = [self.system.description]
        if self.system.last_extract is not None:
            parts.insert(0, self._own())
        parts += [e.note for e in self.future_dated]
        return "; ".join(parts)

    def _own(self) -> str:
        if self.last_extract is None:
            return f"{self.table}: no extract of its own loaded yet"
        lags = (
            f"{self.table}: last extract {self.last_extract} lags {self.system.system}'s newest "
            f"by {self.lag_days:g} day(s)"
        )
        if not self.regular and self.lag_days and self.lag_days > self.system.window_days:
            system = self.system.system
            return f"{lags} (it has not come with most of {system}'s extracts: not judged by it)"
        verb = "within" if self.status != "behind" else "beyond"
        return f"{lags}, {verb} its {self.system.window_days:g}-day window"


def _lag_days(newer: dt.datetime, older: dt.datetime) -> float:
    return round((newer - older).total_seconds() / 86400, 2)


#: How many of its system's latest extracts (up to the table's own last one) a table is judged
#: over, and how many of them it must have been in, to count as delivering with every extract
#: of its system (`_delivers_regularly`).
REGULAR_LOOKBACK = 14
REGULAR_MIN_EXTRACTS = 3


def _delivers_regularly(
    system_extracts: list[tuple[dt.datetime, str]], own_ids: set[str], own_last: dt.datetime
) -> bool:
    """Did the table come with at least half of its system's extracts (and 3 at least), over
    the system's `REGULAR_LOOKBACK` latest extracts up to the table's own last one?

    The contract does not say which tables change every day (appointments, invoice lines) and
    which only when the clinic edits them (rooms, services): a reference table that is silent
    for a week is normal, an activity table silent for a week is a broken export. What each
    table did before tells them apart without a list to keep up to date.
    """
    before = [eid for when, eid in system_extracts if when <= own_last][-REGULAR_LOOKBACK:]
    with_table = sum(eid in own_ids for eid in before)
    return with_table >= REGULAR_MIN_EXTRACTS and 2 * with_table >= len(before)


def _table_status(system: SystemFreshness, lag: float | None, future: bool, regular: bool) -> str:
    """A failing system decides; then a table that used to come with every extract of its
    system and is now behind it; then a future-dated file."""
    if not system.passed:
        return system.status
    if regular and lag is not None and lag > system.window_days:
        return "behind"
    return "future_dated" if future else "fresh"


def evaluate_tables(
    verdicts: dict[str, SystemFreshness],
    extracts: list[LoadedExtract],
    tables: list[tuple[str, str]],
) -> dict[tuple[str, str], TableFreshness]:
    """Judge every (system, table) by its system's verdict and its own newest extract.

    A future-dated file is reported while its id's date is still ahead of the newest extract
    of any system: until then its id sorts after every real extract (and wins their ties on
    equal `updated_at`), so it still matters.
    """
    systems = system_deliveries(extracts)
    own = table_deliveries(extracts)
    as_of = max((when for _, when in systems.values()), default=None)
    by_system: dict[str, dict[str, dt.datetime]] = {}
    ids_of: dict[tuple[str, str], set[str]] = {}
    for e in extracts:
        by_system.setdefault(e.system, {})[e.extract_id] = e.when
        ids_of.setdefault((e.system, e.table), set()).add(e.extract_id)
    ordered = {
        system: sorted((when, eid) for eid, when in ids.items())
        for system, ids in by_system.items()
    }
    judged: dict[tuple[str, str], TableFreshness] = {}
    for system, table in tables:
        verdict = verdicts[system]
        extract_id, when = own.get((system, table), (None, None))
        lag = _lag_days(systems[system][1], when) if when is not None else None
        regular = when is not None and _delivers_regularly(
            ordered[system], ids_of[(system, table)], when
        )
        future = tuple(
            e
            for e in extracts
            if (e.system, e.table) == (system, table)
            and e.future_dated
            and as_of is not None
            and e.id_time > as_of
        )
        status = _table_status(verdict, lag, bool(future), regular)
        judged[(system, table)] = TableFreshness(
            table, verdict, status, extract_id, lag, future, regular
        )
    return judged


def warehouse_extracts(warehouse_path: Path) -> list[LoadedExtract]:
    """`loaded_extracts` of the warehouse file, opened read-only ([] before the first load)."""
    if not warehouse_path.exists():
        return []
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return loaded_extracts(con)
    finally:
        con.close()


def warehouse_deliveries(warehouse_path: Path) -> dict[str, tuple[str, dt.datetime]]:
    """system -> (newest extract id, its time) over the loaded files of the warehouse file,
    opened read-only ({} before the first load)."""
    return system_deliveries(warehouse_extracts(warehouse_path))


def evaluate_warehouse(
    warehouse_path: Path, systems: list[str], declared: tuple[str, ...] | None
) -> dict[str, SystemFreshness]:
    """`evaluate` over the warehouse's `raw_meta.loaded_files`, opened read-only."""
    return evaluate(warehouse_deliveries(warehouse_path), systems, declared)
