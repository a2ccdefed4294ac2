"""Great Expectations' SQL datasource on DuckDB: the one workaround, in one place.

GX 1.24's `SqlAlchemyExecutionEngine.execute_query` returns a cursor result *after* closing the
connection it ran on (`with self.engine.connect()`); duckdb-engine's result is gone by then, so
every metric bundle comes back empty and every expectation fails with `IndexError` (a known,
open GX defect with DuckDB). Dialects GX lists in `_PERSISTED_CONNECTION_DIALECTS` (sqlite,
mssql, ...) keep one open connection instead; adding DuckDB to that list makes the SQL path
work, so all metrics are computed by DuckDB and no table is pulled into pandas.

We also avoid `add_table_asset(schema_name=...)`: its SQLAlchemy 2.1 reflection queries
`pg_collation`, which DuckDB does not have. Query assets (`select * from schema.table`) need no
reflection; column *types* are checked from `information_schema` instead (a query asset's
columns carry no types).

Besides, a few of GX's costs that change nothing it reports are trimmed here, each patch
idempotent and documented where it is made: `Expectation.configuration` cached inside a
validation, no zero-row sample query, a query asset's columns from `limit 0`, metric ids
hashed without converting plain values. GX's import itself is trimmed too: `scipy.stats` and
`altair`, which only expectations we never use need, are imported on first use.

Versions are pinned in pyproject.toml (great-expectations, sqlalchemy, duckdb-engine);
`tests/quality/test_gx_duckdb_workaround.py` fails the day the workaround is no longer needed or
no longer works.
"""

from __future__ import annotations

import os
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DUCKDB_DIALECT = "duckdb"


class _DialectName(str):
    """A dialect name that quacks like GX's `GXSqlDialect` member (it has `.value`)."""

    @property
    def value(self) -> str:
        return str(self)


#: One import (and one application of the patches) at a time: the background import and a
#: suite run that starts before it ends must not both wrap GX's methods.
_IMPORT_LOCK = threading.Lock()


def import_gx() -> Any:
    """Import GX (slow: 2-3 s) with usage statistics off, and apply the DuckDB workaround."""
    with _IMPORT_LOCK:
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        defer_unused_imports()
        import great_expectations as gx

        enable_duckdb_persisted_connection()
        enable_configuration_cache()
        enable_no_empty_samples()
        enable_columns_without_rows()
        enable_plain_ids()
        load_duckdb_dialect()
    return gx


def load_duckdb_dialect() -> None:
    """Load SQLAlchemy's DuckDB dialect now, as part of the import, not on the first suite.

    The first `create_engine("duckdb://...")` finds duckdb-engine through the installed
    packages' entry points, imports it, and the import probes DuckDB for comment support
    with a throw-away in-memory database: about 0.15-0.2 s of Python that the first suite's
    datasource paid. An engine on `:memory:` that is never connected does all of that and
    opens nothing; SQLAlchemy keeps the loaded dialect for every later engine.
    """
    import sqlalchemy as sa

    sa.create_engine("duckdb:///:memory:").dispose()


#: Modules GX imports at start-up only for expectations and renderers the suites never use
#: (Kolmogorov-Smirnov and KL-divergence tests: `scipy.stats`; their charts: `altair`).
DEFERRED_MODULES = ("scipy.stats", "altair")


def defer_unused_imports() -> None:
    """Import `DEFERRED_MODULES` on first use instead of during GX's import. Idempotent.

    Three of GX's modules import them at module level (`from scipy import stats`,
    `import altair as alt`) and use them only inside the functions of expectations our
    suites do not have; together they are about a quarter of GX's 2-3 s of import (scipy.stats
    alone pulls in scipy's linear algebra, sparse and optimisation packages). Each name is
    registered as a `_Deferred` stand-in: the import statements succeed at once, and the
    first attribute anyone reads from it (GX or any other code in the process) imports the
    real module and fills the stand-in with it, so code that uses them sees no difference.
    A module already imported, or not installed, is left as it is. (Python 3.11's
    `importlib.util.LazyLoader` does not help here: the import statement itself reads the
    module's `__spec__`, which makes it load at once.)
    """
    import importlib.util
    import sys

    for name in DEFERRED_MODULES:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        stand_in = _Deferred(name)
        stand_in.__spec__ = spec
        stand_in.__loader__ = spec.loader
        if spec.submodule_search_locations is not None:
            stand_in.__path__ = list(spec.submodule_search_locations)
        sys.modules[name] = stand_in


class _Deferred(types.ModuleType):
    """A module name whose real import waits for the first attribute read from it."""

    def __getattr__(self, attribute: str) -> Any:
        import importlib
        import sys

        with _DEFERRED_LOCK:
            if type(self) is _Deferred:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                real = importlib.import_module(self.__name__)
                self.__dict__.update(real.__dict__)
                self.__class__ = types.ModuleType
                sys.modules[self.__name__] = real
        return object.__getattribute__(self, attribute)


_DEFERRED_LOCK = threading.RLock()


def import_gx_in_background() -> threading.Thread:
    """Start importing GX on a daemon thread; `import_gx` then waits for it or finds it done.

    Why: in an in-process run the raw suites start right after the load, and importing GX
    (about 2 s of Python on an idle machine) was the first thing their step did. The load
    spends most of its time inside DuckDB with the GIL released, so on a second core the
    import costs the run almost nothing while it overlaps the load. A failed import is left
    for the suites' own `import_gx` to raise, in their step, with their error handling.
    """
    thread = threading.Thread(target=_import_ignoring_errors, name="gx-import", daemon=True)
    thread.start()
    _BACKGROUND_IMPORTS.append(thread)
    return thread


#: The import threads `import_gx_in_background` started, for `wait_for_background_imports`.
_BACKGROUND_IMPORTS: list[threading.Thread] = []


def wait_for_background_imports() -> None:
    """Let a background import finish before the process exits.

    A run that fails in its first seconds (a required table missing) ends while the import is
    still loading GX's compiled dependencies. Python's shutdown then stops the daemon thread
    inside C++ code that catches the forced unwind without rethrowing it, and the process
    aborts ("FATAL: exception not rethrown", SIGABRT) after its summary was printed: `medspa
    run --all-tenants` reported such a tenant as killed, not failed. The import takes seconds.
    """
    while _BACKGROUND_IMPORTS:
        _BACKGROUND_IMPORTS.pop().join()


def _import_ignoring_errors() -> None:
    try:
        import_gx()
    except Exception:  # raised again, where it is handled, by the suites' own import
        return


def enable_duckdb_persisted_connection() -> None:
    """Treat DuckDB like sqlite in GX: one persisted connection per engine. Idempotent."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_mod

    dialects = engine_mod._PERSISTED_CONNECTION_DIALECTS
    if DUCKDB_DIALECT not in dialects:
        engine_mod._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DialectName(DUCKDB_DIALECT))


def disable_duckdb_persisted_connection() -> None:
    """Undo the workaround (tests use this to show the bug is still there)."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_mod

    engine_mod._PERSISTED_CONNECTION_DIALECTS = tuple(
        d for d in engine_mod._PERSISTED_CONNECTION_DIALECTS if d != DUCKDB_DIALECT
    )


#: Per thread: the cache of `Expectation.configuration` while `configuration_cache()` is open.
_LOCAL = threading.local()


def enable_configuration_cache() -> None:
    """Let `Expectation.configuration` be computed once per expectation inside a validation.

    GX 1.24 rebuilds that property (a pydantic `.dict()` plus a new `ExpectationConfiguration`)
    on *every* read, and building one expectation's metric graph reads it ~120 times (once per
    domain/success key, per metric): about a fifth of GX's Python time per expectation. Inside
    `configuration_cache()` the first result is kept per expectation object; outside it, the
    property behaves exactly as GX's. GX builds fresh expectation objects for each validation
    from their configurations and never mutates them while validating, so the cached value is
    the value GX would compute again. Idempotent.
    """
    from great_expectations.expectations.expectation import Expectation

    original = Expectation.__dict__["configuration"]
    if getattr(original.fget, "_medspa_cached", False):
        return
    compute = original.fget

    def configuration(self: Any) -> Any:
        cache = getattr(_LOCAL, "cache", None)
        if cache is None:
            return compute(self)
        hit = cache.get(id(self))
        if hit is None or hit[0] is not self:  # the object is kept, so its id is not reused
            hit = (self, compute(self))
            cache[id(self)] = hit
        return hit[1]

    configuration._medspa_cached = True  # type: ignore[attr-defined]
    Expectation.configuration = property(configuration, doc=original.__doc__)  # type: ignore[method-assign]


def enable_columns_without_rows() -> None:
    """Let GX learn a query asset's columns from `limit 0`, not by running the query. Idempotent.

    A query asset cannot be reflected, so GX 1.24's `column_reflection_fallback` executes the
    asset's query text *as is* and reads only the result's column names: for a raw suite that
    is `select * from <table>` over the whole table, once per query group (DuckDB starts the
    scan for nothing). On DuckDB, a parameter-free query is wrapped in
    `select * from (<query>) limit 0`: the same columns, in the same order, no rows read.
    """
    from great_expectations.expectations.metrics import util as metrics_util

    original = metrics_util.column_reflection_fallback
    if getattr(original, "_medspa_limit_0", False):
        return

    def column_reflection_fallback(selectable: Any, dialect: Any, *args: Any, **kwargs: Any) -> Any:
        import sqlalchemy as sa

        if (
            str(getattr(dialect, "name", "")).lower() == DUCKDB_DIALECT
            and isinstance(selectable, sa.TextClause)
            and not selectable._bindparams
        ):
            selectable = sa.text(f"select * from (\n{selectable.text}\n) as gx_columns limit 0")
        return original(selectable, dialect, *args, **kwargs)

    column_reflection_fallback._medspa_limit_0 = True  # type: ignore[attr-defined]
    metrics_util.column_reflection_fallback = column_reflection_fallback


def _plain(value: Any) -> bool:
    """JSON as is: what GX's `convert_to_json_serializable` would return unchanged."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return True
    if kind is float:
        return value == value  # NaN becomes null there, NaN here
    if isinstance(value, dict) and kind.__name__ in ("dict", "IDDict"):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_plain(v) for v in value)
    return False


def enable_plain_ids() -> None:
    """Hash GX's metric ids without converting plain values first. Idempotent.

    Every metric and domain in GX's graph is keyed by `IDDict.to_id()`: an md5 of
    `json.dumps(convert_to_json_serializable(kwargs), sort_keys=True)`, computed ~20,000 times
    for the raw and mart suites. The conversion walks every value through a chain of type
    checks (numpy's `issubdtype` for each None), about two thirds of the id's cost. For kwargs
    made only of str, int, bool, None, finite or infinite floats, lists, tuples and dicts with
    str keys the conversion returns its input unchanged (tuples as lists, which `json.dumps`
    writes the same way), so the digest is computed straight from them: the same id. Anything
    else takes GX's own path.
    """
    import hashlib
    import json

    from great_expectations.core.id_dict import IDDict

    original = IDDict.to_id
    if getattr(original, "_medspa_plain", False):
        return

    def to_id(self: Any, id_keys: Any = None, id_ignore_keys: Any = None) -> Any:
        keys = set(self.keys() if id_keys is None else id_keys) - set(
            self._id_ignore_keys if id_ignore_keys is None else id_ignore_keys
        )
        if len(keys) > 1:
            data = {k: self[k] for k in keys}
            if _plain(data):
                text = json.dumps(data, sort_keys=True).encode("utf-8")
                return hashlib.md5(text, usedforsecurity=False).hexdigest()
        return original(self, id_keys, id_ignore_keys)

    to_id._medspa_plain = True  # type: ignore[attr-defined]
    to_id._medspa_original = original  # type: ignore[attr-defined]
    IDDict.to_id = to_id  # type: ignore[method-assign]


#: The map-expectation bases whose dependencies carry a sample-values metric.
_MAP_BASES = ("ColumnMapExpectation", "ColumnPairMapExpectation", "MulticolumnMapExpectation")


def enable_no_empty_samples() -> None:
    """Skip the sample-values metric of a map expectation asked for zero samples. Idempotent.

    With `partial_unexpected_count: 0` (the runner's counts-first pass) GX 1.24 still adds
    `<map metric>.unexpected_values` to every map expectation's dependencies: its own metric
    graph, its own SQLAlchemy compile and a `... LIMIT 0` query that returns nothing. On the
    raw and mart suites that is about 200 of GX's 500 queries per run, a third of its Python
    time. GX reads that metric with `metrics.get` and keeps `[:0]` of it, so leaving it out
    changes only one key of the result: `partial_unexpected_list` is absent instead of `[]`
    (both read as "no sample" by `quality.results`). Counts, verdicts and every other format
    (any sample size above zero, SUMMARY, COMPLETE, unexpected rows) are untouched.
    """
    from great_expectations.expectations import expectation as expectation_mod

    for base_name in _MAP_BASES:
        base = getattr(expectation_mod, base_name)
        original = base.__dict__["get_validation_dependencies"]
        if getattr(original, "_medspa_no_empty_samples", False):
            continue
        base.get_validation_dependencies = _without_empty_sample(original)


def _without_empty_sample(original: Any) -> Any:
    def get_validation_dependencies(self: Any, *args: Any, **kwargs: Any) -> Any:
        dependencies = original(self, *args, **kwargs)
        result_format = dependencies.result_format
        if (
            isinstance(result_format, dict)
            and result_format.get("result_format") == "BASIC"
            and result_format.get("partial_unexpected_count") == 0
            and not result_format.get("include_unexpected_rows")
        ):
            dependencies.remove_metric_configuration(f"{self.map_metric}.unexpected_values")
        return dependencies

    get_validation_dependencies._medspa_no_empty_samples = True  # type: ignore[attr-defined]
    return get_validation_dependencies


@contextmanager
def configuration_cache() -> Iterator[None]:
    """Cache `Expectation.configuration` (see `enable_configuration_cache`) in this block."""
    if getattr(_LOCAL, "cache", None) is not None:  # already open further up this thread
        yield
        return
    _LOCAL.cache = {}
    try:
        yield
    finally:
        _LOCAL.cache = None


def ephemeral_context(gx: Any) -> Any:
    """An in-memory GX context: no files, no Data Docs site, no analytics, no progress bars.

    Results are kept by `quality.report` (JSON + HTML under the results folder we are given),
    so GX itself needs no project directory.
    """
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    # GX documents the ephemeral context's config as "not saved", yet 1.24 serialises the whole
    # project config to YAML into an in-memory store on every datasource/asset change (twice
    # per query asset, ~6 ms each). Nothing reads that copy back (only `convert_to_file_context`
    # would), so this context skips it; the live datasources are kept in memory as before.
    context._save_project_config = lambda: None
    return context


def add_warehouse_datasource(context: Any, db_path: Path, name: str = "warehouse") -> Any:
    """A SQL datasource on `db_path`, opened **read-only** (the warehouse has other users).

    `create_temp_table=False`: GX would otherwise copy each query asset into a temp table;
    the query is used as a sub-select and DuckDB pushes the work down into the stored table.
    """
    if not db_path.is_file():
        raise FileNotFoundError(f"warehouse not found: {db_path}")
    return context.data_sources.add_sql(
        name,
        connection_string=f"duckdb:///{db_path.resolve()}",
        kwargs={"connect_args": {"read_only": True}},
        create_temp_table=False,
    )


def close_datasource(datasource: Any) -> None:
    """Release the DuckDB file: close every connection GX opened on it.

    The datasource holds two SQLAlchemy engines (one for its connection test, one inside the
    execution engine, with the persisted connection). A reader left open would keep the
    writer (ingest, dbt) locked out of the warehouse.
    """
    execution_engine = getattr(datasource, "_execution_engine", None)
    if execution_engine is not None:
        connection = getattr(execution_engine, "_connection", None)
        if connection is not None:
            connection.close()
            execution_engine._connection = None
        execution_engine.engine.dispose()
    test_engine = getattr(datasource, "_engine", None)
    if test_engine is not None:
        test_engine.dispose()
