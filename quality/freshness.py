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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.contract import load_contract

#: Largest age of a mart or of the serving file before its last-update check warns: the nightly
#: job plus two hours of slack (a nightly job that stopped running).
MART_MAX_AGE = dt.timedelta(hours=26)


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

    status: str  # delivering | silent | nothing_loaded | demo
    newest_extract: str | None
    age_days: float | None
    limit_days: float

    @property
    def passed(self) -> bool:
        return self.status != "silent"

    @property
    def description(self) -> str:
        if self.status == "nothing_loaded":
            return "no extract has been loaded yet; nothing to be silent"
        if self.status == "demo":
            return "demo chain: its extracts end on a fixed date, so the clock rule is off"
        verb = "within" if self.status == "delivering" else "beyond"
        return (
            f"newest extract of any system ({self.newest_extract}) is {self.age_days:g} day(s) "
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
    """
    windows = {**load_contract().freshness_days, **(windows or {})}
    delivered = {system: when for system, (_, when) in deliveries.items()}
    limit = min((float(windows.get(s, 1)) for s in delivered), default=1.0) + 1
    if demo:
        return ChainSilence("demo", None, None, limit)
    if not delivered:
        return ChainSilence("nothing_loaded", None, None, limit)
    newest_system = max(delivered, key=lambda s: delivered[s])
    age = round((now - delivered[newest_system]).total_seconds() / 86400, 2)
    status = "silent" if age > limit else "delivering"
    return ChainSilence(status, deliveries[newest_system][0], age, limit)


def _extract_time(extract_id: str, loaded_at: dt.datetime) -> dt.datetime:
    for text, fmt in ((extract_id[:10], "%Y-%m-%d"), (extract_id[:8], "%Y%m%d")):
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return loaded_at.astimezone(dt.UTC)


def last_deliveries(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, dt.datetime]]:
    """system -> (newest extract id, its time) over files that were loaded."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw_meta' and table_name = 'loaded_files'"
    ).fetchone()[0]
    if not exists:
        return {}
    rows = con.execute(
        "select system, extract_id, loaded_at from raw_meta.loaded_files where status = 'loaded'"
    ).fetchall()
    newest: dict[str, tuple[str, dt.datetime]] = {}
    for system, extract_id, loaded_at in rows:
        when = _extract_time(str(extract_id), loaded_at)
        if system not in newest or when > newest[system][1]:
            newest[system] = (str(extract_id), when)
    return newest


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
        lag = round((as_of - when).total_seconds() / 86400, 2)
        status = "stale" if lag > window else "fresh"
        verdicts[system] = SystemFreshness(system, status, extract_id, lag, window)
    return verdicts


def warehouse_deliveries(warehouse_path: Path) -> dict[str, tuple[str, dt.datetime]]:
    """`last_deliveries` of the warehouse file, opened read-only ({} before the first load)."""
    if not warehouse_path.exists():
        return {}
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        return last_deliveries(con)
    finally:
        con.close()


def evaluate_warehouse(
    warehouse_path: Path, systems: list[str], declared: tuple[str, ...] | None
) -> dict[str, SystemFreshness]:
    """`evaluate` over the warehouse's `raw_meta.loaded_files`, opened read-only."""
    return evaluate(warehouse_deliveries(warehouse_path), systems, declared)
