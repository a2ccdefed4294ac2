"""Run a template page's instances on a few connections to the serving file at once.

A site build is about 700 small queries, most of them one or two per instance of the
location and provider pages. DuckDB runs a query with the GIL released, so two Python threads
with a connection each keep both cores busy where one thread left the second idle (DuckDB's
own worker threads cost more to start per query than they save, `dashboards.site`). What an
instance renders depends only on its row and the read-only serving file, never on another
instance, and the results come back in row order, so the site is the same file for file.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import duckdb

T = TypeVar("T")
R = TypeVar("R")


class ReaderPool:
    """Connections lent to one task at a time; `map` runs tasks on as many threads."""

    def __init__(self, connections: Sequence[duckdb.DuckDBPyConnection]) -> None:
        self._free: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        for con in connections:
            self._free.put(con)
        self._size = len(connections)
        self._executor = (
            ThreadPoolExecutor(self._size, thread_name_prefix="site-reader")
            if self._size > 1
            else None
        )

    def _call(self, fn: Callable[[duckdb.DuckDBPyConnection, T], R], item: T) -> R | Exception:
        con = self._free.get()
        try:
            return fn(con, item)
        except Exception as exc:  # returned in its place: the caller decides, in order
            return exc
        finally:
            self._free.put(con)

    def map(
        self, fn: Callable[[duckdb.DuckDBPyConnection, T], R], items: Iterable[T]
    ) -> list[R | Exception]:
        """`fn(connection, item)` for every item, results (or the exception raised) in order."""
        if self._executor is None:
            return [self._call(fn, item) for item in items]
        return list(self._executor.map(lambda item: self._call(fn, item), items))

    def close(self) -> None:
        """Stop the threads (the connections are closed by their owner)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
