"""Cheaper event writes to Dagster's SQLite event log: kept engines, batches in one transaction.

Dagster's SQLite event log creates a new SQLAlchemy engine and connection for every write and
disposes of them afterwards (`SqliteEventLogStorage._connect`): each event pays an engine, a
`sqlite3.connect`, the connection's pragmas and a close, about 5 ms, and a check's event is
written twice (run shard and index). A nightly run writes about 2,000 events.

`install()` replaces `_connect` with the same steps on one engine per shard file, kept for
the process (at most `MAX_ENGINES`, least recently used disposed), whose pool keeps its
connection open: the same lock, the same `_initdb` on first use, one transaction per write.
Measured in `benchmarks/bench_orchestration.py` (`kept`): 2.4 against 6.2 ms an event.

It also gives the storage a `store_event_batch`. When a run is created Dagster writes one
"planned" event per asset and per asset check it will run (about 580 for the nightly job),
as one batch when `DAGSTER_EVENT_BATCH_SIZE` is set; its SQLite storage stored a batch
event by event. Ours stores them with Dagster's own `store_event` (same rows, same tables,
same order) in one open transaction per shard, committed once at the end (a profile of a
medium nightly had 4.7 s of them before the first step; at large, start-up to the first step
went from 7 to 4 s with this module). A failure rolls every shard back and re-raises;
Dagster then stores the events one by one, so nothing is lost or written twice.

Last, `has_table` remembers the tables it found. Dagster asks it before every asset check
event ("does this database have the asset-check table yet?"), each time through a new
engine and connection of its own: 2 x 377 checks a nightly run, about 1 s before the first
step of a medium run on an idle machine. A table, once there, stays for the process (a
migration only adds tables), so a yes is kept per storage object; a no is asked again.
"""

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

#: Planned events per batch; above the nightly's ~580 so one batch holds them all.
BATCH_SIZE = "2000"

#: Engines kept open at once (LRU): a run's shard, the index, and a few earlier runs' shards.
MAX_ENGINES = 8

_local = threading.local()
_engines: OrderedDict[str, Engine] = OrderedDict()
_engines_lock = threading.Lock()
_installed = False


class _Shards:
    """One open connection and transaction per shard of one storage, for one batch."""

    def __init__(self, storage: SqliteEventLogStorage) -> None:
        self.storage = storage
        self.open: dict[str, tuple[Connection, Any]] = {}

    def connection(self, shard: str) -> Connection:
        if shard not in self.open:
            conn = _ready_engine(self.storage, shard).connect()
            self.open[shard] = (conn, conn.begin())
        return self.open[shard][0]

    def finish(self, commit: bool) -> None:
        """Commit (or roll back) every shard, then hand each connection back to its engine."""
        try:
            for _conn, transaction in self.open.values():
                transaction.commit() if commit else transaction.rollback()
        finally:
            for conn, _transaction in self.open.values():
                conn.close()
            self.open.clear()


def _kept_engine(storage: SqliteEventLogStorage, shard: str) -> Engine:
    """One engine per shard file for the process, whose pool keeps its connection open."""
    url = storage.conn_string_for_shard(shard)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is not None:
            _engines.move_to_end(url)
            return engine
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=4,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        _engines[url] = engine
        while len(_engines) > MAX_ENGINES:
            _engines.popitem(last=False)[1].dispose()
        return engine


@contextmanager
def _connect(self: SqliteEventLogStorage, shard: str) -> Iterator[Connection]:
    """Dagster's `_connect` on a kept engine; inside a batch, the batch's open transaction."""
    shards: _Shards | None = getattr(_local, "shards", None)
    if shards is not None and shards.storage is self:
        yield shards.connection(shard)
        return
    with self._db_lock, _ready_engine(self, shard).connect() as conn, conn.begin():
        yield conn


def _ready_engine(storage: SqliteEventLogStorage, shard: str) -> Engine:
    """The shard's kept engine, its tables created on first use (Dagster's `_initdb`).

    Called with the storage's `_db_lock` held, as Dagster's own `_connect` does."""
    engine = _kept_engine(storage, shard)
    if shard not in storage._initialized_dbs:
        storage._initdb(engine)
        storage._initialized_dbs.add(shard)
    return engine


def release() -> None:
    """Close every kept engine (tests, and a process done with its instance)."""
    with _engines_lock:
        while _engines:
            _engines.popitem(last=False)[1].dispose()


def _store_event_batch(self: SqliteEventLogStorage, events: Sequence[EventLogEntry]) -> None:
    """Every event through `store_event`, all in one transaction per shard."""
    if getattr(_local, "shards", None) is not None:  # a batch inside a batch: plain writes
        for event in events:
            self.store_event(event)
        return
    with self._db_lock:  # the lock `_connect` takes per event, held for the whole batch
        _local.shards = shards = _Shards(self)
        try:
            for event in events:
                self.store_event(event)
        except BaseException:
            _local.shards = None
            shards.finish(commit=False)
            raise
        _local.shards = None
        shards.finish(commit=True)


def _has_table(self: SqliteEventLogStorage, table_name: str) -> bool:
    """Dagster's `has_table`, answering from memory once the table was found."""
    found: set[str] = self.__dict__.setdefault("_medspa_found_tables", set())
    if table_name in found:
        return True
    if _ORIGINAL_HAS_TABLE(self, table_name):
        found.add(table_name)
        return True
    return False


_ORIGINAL_HAS_TABLE = SqliteEventLogStorage.has_table


def install() -> None:
    """Patch the SQLite event log once per process and turn on Dagster's batched writes.

    `DAGSTER_EVENT_BATCH_SIZE` is only a default: a value set by the deployment wins.
    """
    global _installed
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)
    if not _installed:
        SqliteEventLogStorage._connect = _connect  # type: ignore[method-assign]
        SqliteEventLogStorage.store_event_batch = _store_event_batch  # type: ignore[method-assign]
        SqliteEventLogStorage.has_table = _has_table  # type: ignore[method-assign]
        _installed = True
