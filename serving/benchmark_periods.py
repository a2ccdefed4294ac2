"""Peer benchmarks frozen per period: each (kpi, grain, period) is published from one input only.

Why: the three published figures are fixed weighted means of the sorted peer values, the
weights following from the peer count alone. A tenant that keeps its own rows from one night
to the next gets three more equations whenever the same period is published again from other
inputs: a tenant offboarded, onboarded or missing for a night (6 -> 5 peers solves every
peer's value exactly), or one peer's final value restated (three equations, one new unknown:
that peer's new value). So the first publish of a (kpi, grain, period_start) records what it
was computed from, and a later publish whose inputs differ withholds that benchmark instead
of publishing new figures; the same inputs publish the same figures again. The next period,
with its own first inputs, is published normally.

What is recorded, per (kpi, grain, period_start): a SHA-256 of the sorted tenant ids (the peer
set) and a SHA-256 of the sorted (tenant id, value) pairs (the inputs). No tenant's value or
name is kept: a removed tenant's name does not linger here, and offboarding leaves these rows
alone -- they are about periods, not tenants' data, and deleting them would let the next
publish record the smaller peer set afresh, reopening the attack. (Anyone who knows the tenant
names can test whether a set matches the hash; only the database owner can read it.)

Where: in the serving database when `MEDSPA_SERVING_URL` is set (`medspa_admin`, the owner's
schema that no reader or tenant login can use), and always in the data directory's
`peer_benchmark_periods.duckdb`, since the tenants' files and sites carry the same figures.
A benchmark is published only when every ledger agrees with it.

Values are hashed as `peer_benchmarks.canonical` keeps them (12 significant digits), so a KPI
recomputed with other last bits is not taken for a restatement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb
import psycopg
from psycopg import sql

from serving.peer_benchmarks import Benchmark
from serving.pg_roles import ADMIN_SCHEMA
from serving.pg_url import masked_errors

#: `medspa_admin.benchmark_periods` in the serving database.
TABLE = "benchmark_periods"
#: The ledger beside the tenants' folders, in the data directory.
LOCAL_FILE = "peer_benchmark_periods.duckdb"

Key = tuple[str, str, dt.date]


@dataclass(frozen=True)
class Record:
    """What one period's benchmark was first published from (hashes only, no value or name)."""

    peer_set: str
    inputs: str


def record_of(benchmark: Benchmark) -> Record:
    """The hashes of `benchmark`'s peer set and of its (tenant, value) pairs.

    `repr` of a float round-trips exactly, so an unchanged value always hashes the same and
    any restatement, however small, changes the hash.
    """
    tenants = sorted(t for t, _, _ in benchmark.members)
    pairs = sorted(f"{t}\t{value!r}" for t, value, _ in benchmark.members)
    return Record(_sha256("\n".join(tenants)), _sha256("\n".join(pairs)))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Ledger(Protocol):
    """Where first publishes are recorded."""

    def claim(self, wanted: Mapping[Key, Record]) -> dict[Key, Record]:
        """Record each key not recorded yet; return the record now held for every key."""
        ...


@dataclass(frozen=True)
class Withheld:
    """A benchmark not published, and why (for the step's log)."""

    key: Key
    reason: str

    def __str__(self) -> str:
        kpi, grain, period = self.key
        return f"{kpi}/{grain} {period.isoformat()}: {self.reason}"


def freeze(
    found: Sequence[Benchmark], ledgers: Sequence[Ledger]
) -> tuple[list[Benchmark], list[Withheld]]:
    """The benchmarks every ledger has recorded with these same inputs, and those withheld.

    A key seen for the first time is recorded before anything is published, so a publish that
    fails halfway still holds its period to these inputs.
    """
    if not found:  # fewer peers than a benchmark needs: nothing to record or to check
        return [], []
    wanted = {b.key: record_of(b) for b in found}
    held = [ledger.claim(wanted) for ledger in ledgers]
    kept: list[Benchmark] = []
    withheld: list[Withheld] = []
    for benchmark in found:
        mine = wanted[benchmark.key]
        others = [h[benchmark.key] for h in held if h[benchmark.key] != mine]
        if not others:
            kept.append(benchmark)
        elif any(o.peer_set != mine.peer_set for o in others):
            withheld.append(Withheld(benchmark.key, "its peer set changed since first published"))
        else:
            withheld.append(Withheld(benchmark.key, "a peer's value changed since first published"))
    return kept, withheld


_COLUMNS = (
    "kpi text not null, grain text not null, period_start date not null, "
    "peer_set text not null, inputs text not null, "
    "primary key (kpi, grain, period_start)"
)


class DuckDbLedger:
    """The ledger in a DuckDB file (the data directory's, beside the tenants' folders)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def claim(self, wanted: Mapping[Key, Record]) -> dict[Key, Record]:
        """Insert the new keys and read every key back, in one transaction."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path))
        try:
            con.execute(f"create table if not exists {TABLE} ({_COLUMNS})")
            con.execute("begin")
            con.executemany(
                f"insert into {TABLE} values (?, ?, ?, ?, ?) on conflict do nothing",
                [(*k, r.peer_set, r.inputs) for k, r in wanted.items()],
            )
            rows = con.execute(f"select kpi, grain, period_start, peer_set, inputs from {TABLE}")
            held = {(k, g, p): Record(s, i) for k, g, p, s, i in rows.fetchall()}
            con.execute("commit")
        finally:
            con.close()
        return {k: held[k] for k in wanted}


class PgLedger:
    """The ledger in the serving database, in the owner-only `medspa_admin` schema."""

    def __init__(self, url: str) -> None:
        self.url = url

    def claim(self, wanted: Mapping[Key, Record]) -> dict[Key, Record]:
        """Insert the new keys (a concurrent publish's first record wins) and read them back."""
        table = sql.Identifier(ADMIN_SCHEMA, TABLE)
        with masked_errors(self.url), psycopg.connect(self.url) as conn, conn.cursor() as cur:
            ensure_table(cur)
            cur.executemany(
                sql.SQL("insert into {} values (%s, %s, %s, %s, %s) on conflict do nothing").format(
                    table
                ),
                [(*k, r.peer_set, r.inputs) for k, r in wanted.items()],
            )
            cur.execute(
                sql.SQL("select kpi, grain, period_start, peer_set, inputs from {}").format(table)
            )
            held = {(k, g, p): Record(s, i) for k, g, p, s, i in cur.fetchall()}
        return {k: held[k] for k in wanted}


def ensure_table(cur: psycopg.Cursor) -> None:
    """The owner's table in `medspa_admin`, which no reader or tenant login may use."""
    admin = sql.Identifier(ADMIN_SCHEMA)
    cur.execute(sql.SQL("create schema if not exists {}").format(admin))
    cur.execute(sql.SQL("revoke all on schema {} from public").format(admin))
    table = sql.Identifier(ADMIN_SCHEMA, TABLE)
    cur.execute(sql.SQL(f"create table if not exists {{}} ({_COLUMNS})").format(table))
    cur.execute(sql.SQL("revoke all on {} from public").format(table))


def ledgers(data_dir: Path, serving_url: str | None) -> list[Ledger]:
    """The data directory's ledger, and the serving database's when one is configured."""
    found: list[Ledger] = [DuckDbLedger(data_dir / LOCAL_FILE)]
    if serving_url:
        found.append(PgLedger(serving_url))
    return found
