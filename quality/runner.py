"""Run suites with GX Core's SQL datasource, inside DuckDB, on a read-only warehouse.

Each suite's expectations are grouped by the SQL they read (the relation itself, or a
check query such as a reconciliation); each group is one GX query asset and one
`batch.validate(suite)`. GX turns every expectation into aggregate SQL that DuckDB runs;
no table is loaded into pandas. One GX context and one datasource (engine) serve all suites
of a `run_suites` call, and the file is released when it returns.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from quality import gx_duckdb
from quality.report import write_results
from quality.results import (
    ExpectationResult,
    SuiteResult,
    error_text,
    observed_values,
    worst_severity,
)
from quality.spec import ExpectationSpec, SuiteSpec

#: GX result format: counts plus a few offending values (trimmed again per column).
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
GX_SEVERITY = {"error": "critical", "warn": "warning"}


def run_suite(spec: SuiteSpec, db_path: Path, results_dir: Path | None = None) -> SuiteResult:
    """Run one suite against the DuckDB file at `db_path` (opened read-only)."""
    return run_suites([spec], db_path, results_dir)[0]


def run_suites(
    specs: Sequence[SuiteSpec], db_path: Path, results_dir: Path | None = None
) -> list[SuiteResult]:
    """Run several suites sharing one GX context and engine; write results when asked.

    Raises FileNotFoundError for a missing warehouse (before paying for GX's import) and
    RuntimeError when the file cannot be opened read-only (e.g. a writer holds its lock).
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        raise FileNotFoundError(f"warehouse not found: {db_path}")
    if not specs:
        return []
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
        results = [_run_one(gx, datasource, spec) for spec in specs]
    finally:
        gx_duckdb.close_datasource(datasource)
    if results_dir is not None:
        write_results(results, Path(results_dir))
    return results


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
    suite = gx.ExpectationSuite(
        name=name, expectations=[_build(gx, s, i) for i, s in enumerate(group)]
    )
    try:
        asset = datasource.add_query_asset(name=name, query=as_select(query))
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        validation = batch.validate(suite, result_format=RESULT_FORMAT)
    except Exception as exc:  # one unreadable relation must not stop the other suites
        message = f"could not validate: {type(exc).__name__}: {_first_line(exc)}"
        return [_failed(spec, message) for spec in group]
    outcomes = []
    for result in validation.results:
        spec = group[int(result.expectation_config.meta["quality_index"])]
        error = error_text(result.exception_info, spec)
        outcomes.append(
            ExpectationResult(
                key=spec.key,
                kind=spec.kind,
                column=spec.column,
                severity=spec.severity,
                description=spec.description,
                success=bool(result.success) and error is None,
                observed=observed_values(result.result or {}, spec.sensitive),
                error=error,
            )
        )
    return outcomes


def as_select(query: str) -> str:
    """GX query assets must start with SELECT; a CTE query becomes a sub-select (DuckDB)."""
    query = query.strip()
    if query[:6].lower() == "select" and query[6:7].isspace():
        return query
    return f"select * from (\n{query}\n) as check_rows"


def _build(gx: Any, spec: ExpectationSpec, index: int) -> Any:
    expectation_class = getattr(gx.expectations, spec.kind)
    return expectation_class(
        **spec.kwargs,
        severity=GX_SEVERITY[spec.severity],
        meta={"quality_index": index, "quality_key": spec.key},
    )


def _failed(spec: ExpectationSpec, message: str) -> ExpectationResult:
    return ExpectationResult(
        key=spec.key,
        kind=spec.kind,
        column=spec.column,
        severity=spec.severity,
        description=spec.description,
        success=False,
        observed={},
        error=message[:300],
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
