"""Run suites with GX Core's SQL datasource, inside DuckDB, on a read-only warehouse.

Each suite's expectations are grouped by the SQL they read (the relation itself, or a
check query such as a reconciliation); each group is one GX query asset and one
`batch.validate(suite)`. GX turns every expectation into aggregate SQL that DuckDB runs;
no table is loaded into pandas. One GX context and one datasource (engine) serve all suites
of a `run_suites` call, and the file is released when it returns.

What keeps GX's own cost per expectation down (measured in `benchmarks/bench_quality.py`):
- uniqueness is screened with GX's aggregate form first (`SCREENS`), re-validated only if the
  screen fails;
- counts first: every expectation runs with `COUNTS_FORMAT` (BASIC, no offending values), so
  GX neither builds SUMMARY's unexpected-index metrics nor scans a column for sample values;
  only the failed non-sensitive expectations of a group run again with `DETAIL_FORMAT` for up
  to five offending values (a clean warehouse pays nothing for detail it would not show);
- `gx_duckdb.configuration_cache()` around each validation (GX recomputes a property per read);
- no `LIMIT 0` sample query per map expectation in the counts pass, a query asset's columns
  read with `limit 0` rather than by running its query, metric ids hashed straight from plain
  values (`gx_duckdb.import_gx` applies these; GX sent 500 statements for the raw and mart
  suites before, 238 after);
- no YAML copy of the ephemeral context's config on each asset change
  (`gx_duckdb.ephemeral_context`), and each group's query asset is removed after use, so GX,
  which rebuilds every asset's connector on each change, never holds more than one;
- the objects older than the run frozen for the cyclic garbage collector while suites run
  (`_older_objects_frozen`).
Nightly deltas: `incremental=True` narrows row-local rules to newer loads (`quality.delta`).
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from quality import delta, gx_duckdb
from quality.report import write_results
from quality.results import (
    SAMPLE_SIZE,
    ExpectationResult,
    SuiteResult,
    error_text,
    observed_values,
    worst_severity,
)
from quality.spec import ExpectationSpec, SuiteSpec

#: First pass: counts (element, unexpected, missing) and observed values, no sample values.
#: `partial_unexpected_count: 0` means no sample query at all (`gx_duckdb.enable_no_empty_samples`).
COUNTS_FORMAT: dict[str, Any] = {"result_format": "BASIC", "partial_unexpected_count": 0}
#: Second pass, failed non-sensitive expectations only: the same counts plus a few offending
#: values (trimmed again per column by `quality.results`).
DETAIL_FORMAT: dict[str, Any] = {"result_format": "BASIC", "partial_unexpected_count": SAMPLE_SIZE}
GX_SEVERITY = {"error": "critical", "warn": "warning"}

#: First-pass stand-ins GX computes as one aggregate bundled with the table's other counts.
#: `ExpectColumnValuesToBeUnique` on SQL is a window `count(*) over (partition by col)` per
#: column, the costliest query of a raw suite; GX's unique-proportion rule is
#: `count(distinct col) / non-null rows`, which is 1.0 exactly when the non-null values are
#: unique (and 0 for an empty column). A screen that passes is the verdict; one that fails is
#: validated again as the real expectation, whose result (counts, offending values) is
#: reported, so pass/fail is always the real expectation's.
SCREENS: dict[str, Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "ExpectColumnValuesToBeUnique": lambda kw: (
        "ExpectColumnProportionOfUniqueValuesToBeBetween",
        {"column": kw["column"], "min_value": 1.0},
    ),
}


def run_suite(spec: SuiteSpec, db_path: Path, results_dir: Path | None = None) -> SuiteResult:
    """Run one suite against the DuckDB file at `db_path` (opened read-only)."""
    return run_suites([spec], db_path, results_dir)[0]


def run_suites(
    specs: Sequence[SuiteSpec],
    db_path: Path,
    results_dir: Path | None = None,
    *,
    incremental: bool = False,
) -> list[SuiteResult]:
    """Run several suites sharing one GX context and engine; write results when asked.

    `incremental` (needs `results_dir`, where the watermarks are kept): a suite that passed
    before reads only the rows loaded since (`quality.delta`); its result names that load.
    Raises FileNotFoundError for a missing warehouse (before paying for GX's import) and
    RuntimeError when the file cannot be opened read-only (e.g. a writer holds its lock).
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        raise FileNotFoundError(f"warehouse not found: {db_path}")
    if not specs:
        return []
    if incremental and results_dir is None:
        raise ValueError("incremental validation keeps its watermarks in results_dir")
    since: dict[str, str] = {}
    carried: list[SuiteSpec] = []
    planned = list(specs)
    if incremental:
        marks_path = delta.watermark_file(Path(results_dir))  # type: ignore[arg-type]
        definitions_path = delta.definitions_file(Path(results_dir))  # type: ignore[arg-type]
        marks = delta.read_watermarks(marks_path)
        definitions = delta.read_watermarks(definitions_path)
        trusted = delta.trusted_marks(specs, marks, definitions)
        try:
            newest = delta.newest_loads(db_path, specs)
        except duckdb.Error as exc:
            raise RuntimeError(
                f"cannot open the warehouse read-only ({db_path}): {_first_line(exc)}"
            ) from exc
        carried = delta.carried(specs, trusted, newest)
        skipped = {s.name for s in carried}
        planned, since = delta.plan([s for s in specs if s.name not in skipped], trusted, newest)
        since |= {name: trusted[name] for name in skipped}
    ran = {r.suite: r for r in (_run_all(planned, db_path) if planned else [])}
    ran |= {s.name: _carried_result(s) for s in carried}
    results = [dataclasses.replace(ran[s.name], since_load_id=since.get(s.name)) for s in specs]
    if incremental:
        passed = {r.suite: newest[r.suite] for r in results if r.success and newest[r.suite]}
        delta.write_watermarks(marks_path, marks | passed)
        by_name = {s.name: s for s in specs}
        delta.write_watermarks(
            definitions_path,
            definitions | {name: delta.suite_definition(by_name[name]) for name in passed},
        )
    if results_dir is not None:
        write_results(results, Path(results_dir))
    return results


def _carried_result(spec: SuiteSpec) -> SuiteResult:
    """A suite not run because its table has no load after the one it passed on whole.

    Every expectation passed then and nothing has been written to the table since, so it
    still passes; it read no rows (`element_count` 0), and `since_load_id` names that load."""
    expectations = [_result(e, True, {"element_count": 0}, None) for e in spec.expectations]
    return SuiteResult(spec.name, spec.relation, True, None, expectations)


def _run_all(specs: Sequence[SuiteSpec], db_path: Path) -> list[SuiteResult]:
    gx = gx_duckdb.import_gx()
    context = gx_duckdb.ephemeral_context(gx)
    try:
        datasource = gx_duckdb.add_warehouse_datasource(context, db_path)
    except Exception as exc:
        cause = exc.__cause__ or exc
        raise RuntimeError(
            f"cannot open the warehouse read-only ({db_path}): {_first_line(cause)}"
        ) from exc
    try:
        with _older_objects_frozen():
            return [_run_one(gx, datasource, spec) for spec in specs]
    finally:
        gx_duckdb.close_datasource(datasource)


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Keep Python's cyclic garbage collector off the objects that existed before the run.

    GX allocates so many short-lived objects (metric graphs, pydantic models, SQL
    expressions) that the collector's oldest generation runs a few times per run, and each
    time it walks every object of the process: GX's own modules alone are ~280,000 (more in
    Dagster's process, with Dagster and dbt loaded). On the large chain's suites that was
    0.3-0.4 s of a run's ~1 s of GX Python. `gc.freeze()` sets those older objects aside for
    the run; objects made during it are collected as before, and `gc.unfreeze()` hands the
    older ones back afterwards. A process that froze objects itself keeps its own setting.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run_one(gx: Any, datasource: Any, spec: SuiteSpec) -> SuiteResult:
    started = time.perf_counter()
    outcomes: list[ExpectationResult] = []
    for index, (query, group) in enumerate(spec.queries().items()):
        outcomes.extend(_run_group(gx, datasource, f"{spec.name}__{index}", query, group))
    order = {exp.key: i for i, exp in enumerate(spec.expectations)}
    outcomes.sort(key=lambda r: order.get(r.key, len(order)))
    severity = worst_severity(outcomes)
    return SuiteResult(
        suite=spec.name,
        relation=spec.relation,
        success=all(r.success for r in outcomes),
        severity=severity,
        expectations=outcomes,
        elapsed_seconds=round(time.perf_counter() - started, 3),
    )


def _run_group(
    gx: Any, datasource: Any, name: str, query: str, group: list[ExpectationSpec]
) -> list[ExpectationResult]:
    """Validate the expectations that share one query; a broken query fails them all."""
    try:
        asset = datasource.add_query_asset(name=name, query=as_select(query))
    except Exception as exc:  # one unreadable relation must not stop the other suites
        return _all_failed(group, exc)
    try:
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        results = _validate(gx, batch, name, group, range(len(group)), COUNTS_FORMAT, True)
        again = [i for i, r in results.items() if _second_pass(r, group[i])]
        for fmt in (DETAIL_FORMAT, COUNTS_FORMAT):
            # Offending values for what may show them; counts only for sensitive columns.
            part = [i for i in again if (fmt is COUNTS_FORMAT) == group[i].sensitive]
            if part:
                results |= _validate(gx, batch, f"{name}__again", group, part, fmt, False)
    except Exception as exc:
        return _all_failed(group, exc)
    finally:
        datasource.delete_asset(name)
    return [_outcome(group[i], results[i]) for i in sorted(results)]


def _validate(
    gx: Any,
    batch: Any,
    name: str,
    group: list[ExpectationSpec],
    indexes: Sequence[int] | range,
    result_format: dict[str, Any],
    screen: bool,
) -> dict[int, Any]:
    """GX results of `group[i]` for each i in `indexes`, validated in one suite on `batch`."""
    expectations = [_build(gx, group[i], i, screen) for i in indexes]
    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    with gx_duckdb.configuration_cache():
        validation = batch.validate(suite, result_format=result_format)
    return {int(r.expectation_config.meta["quality_index"]): r for r in validation.results}


def _second_pass(result: Any, spec: ExpectationSpec) -> bool:
    """Validate again: a failed screen (for the real verdict), or a failed count that
    offending values would explain (never for sensitive columns)."""
    if result.success:
        return False
    if spec.kind in SCREENS:
        return True
    if spec.sensitive:
        return False
    counts = result.result or {}
    return bool(counts.get("unexpected_count")) and error_text(result.exception_info, spec) is None


def _outcome(spec: ExpectationSpec, result: Any) -> ExpectationResult:
    error = error_text(result.exception_info, spec)
    observed = observed_values(result.result or {}, spec.sensitive)
    return _result(spec, bool(result.success) and error is None, observed, error)


def _result(
    spec: ExpectationSpec, success: bool, observed: dict[str, Any], error: str | None
) -> ExpectationResult:
    """One expectation's result under the names its spec gives it."""
    return ExpectationResult(
        key=spec.key,
        kind=spec.kind,
        column=spec.column,
        severity=spec.severity,
        description=spec.description,
        success=success,
        observed=observed,
        error=error,
    )


def _all_failed(group: list[ExpectationSpec], exc: Exception) -> list[ExpectationResult]:
    message = f"could not validate: {type(exc).__name__}: {_first_line(exc)}"
    return [_failed(spec, message) for spec in group]


def as_select(query: str) -> str:
    """GX query assets must start with SELECT; a CTE query becomes a sub-select (DuckDB)."""
    query = query.strip()
    if query[:6].lower() == "select" and query[6:7].isspace():
        return query
    return f"select * from (\n{query}\n) as check_rows"


def _build(gx: Any, spec: ExpectationSpec, index: int, screen: bool) -> Any:
    kind, kwargs = spec.kind, spec.kwargs
    if screen and kind in SCREENS:
        kind, kwargs = SCREENS[kind](kwargs)
    expectation_class = getattr(gx.expectations, kind)
    return expectation_class(
        **kwargs,
        severity=GX_SEVERITY[spec.severity],
        meta={"quality_index": index, "quality_key": spec.key},
    )


def _failed(spec: ExpectationSpec, message: str) -> ExpectationResult:
    return _result(spec, False, {}, message[:300])


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
