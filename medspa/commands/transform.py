"""`medspa transform`: run `dbt build` (staging -> marts, with tests) against the warehouse.

dbt runs in-process through `dbtRunner` with exactly the environment `Settings.dbt_env()` gives
(the same one Dagster parses the manifest with, so dbt does not re-parse). The summary names
models and tests, never row values: test failures on staging could otherwise echo PHI.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from medspa.cli import add_data_dir_option
from medspa.settings import DBT_PROJECT_DIR, PhiKeyError, Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_dir_option(parser)
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild incremental facts (fct_appointments, fct_invoice_lines) from scratch",
    )
    parser.add_argument(
        "--select", "-s", nargs="+", default=None, help="dbt node selection (default: everything)"
    )


def build_args(
    settings: Settings,
    *,
    full_refresh: bool = False,
    select: Sequence[str] | None = None,
    target_path: Path | None = None,
) -> list[str]:
    """The `dbt build` argument list (pure, so tests can check it without running dbt)."""
    args = [
        "build",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path or settings.data_dir / "dbt_target"),
        "--log-path",
        str(settings.data_dir / "dbt_logs"),
    ]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *select]
    if settings.dbt_vars:
        import json

        args += ["--vars", json.dumps(settings.dbt_vars, sort_keys=True)]
    return args


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set dbt's environment for the in-process run and restore the caller's afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_dbt_build(settings: Settings, **kwargs: object) -> tuple[bool, Counter[str], list[str]]:
    """Run `dbt build`; return (success, count per status, names of failed nodes)."""
    from dbt.cli.main import dbtRunner

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _environment(settings.dbt_env()):
        result = dbtRunner().invoke(build_args(settings, **kwargs))  # type: ignore[arg-type]
    statuses: Counter[str] = Counter()
    failed: list[str] = []
    for node_result in getattr(result.result, "results", None) or []:
        status = str(node_result.status)
        statuses[status] += 1
        if status in {"error", "fail"}:
            failed.append(node_result.node.unique_id)
    return bool(result.success), statuses, failed


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(data_dir=args.data_dir)
    if not settings.warehouse_path.exists():
        print(f"no warehouse at {settings.warehouse_path}: run `medspa ingest` first")
        return 2
    try:
        settings.dbt_env()  # fails for an empty or short MEDSPA_PHI_KEY before dbt starts
    except PhiKeyError as exc:
        print(f"error: {exc}")
        return 2
    settings.warn_if_demo_key_on_real_data()
    ok, statuses, failed = run_dbt_build(
        settings, full_refresh=args.full_refresh, select=args.select
    )
    summary = ", ".join(f"{status}={n}" for status, n in sorted(statuses.items()))
    print(f"dbt build: {'ok' if ok else 'FAILED'} ({summary or 'nothing ran'})")
    for unique_id in failed:
        print(f"  failed: {unique_id}")
    return 0 if ok else 1
