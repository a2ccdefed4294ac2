"""The text `medspa run` prints after the nightly job: loads, checks, publish, coverage.

Built from the run's event log (`run_events`) and, for KPI coverage, from the published
`serving.duckdb` (`marts.kpi_coverage`), so it reports what really happened and what the
dashboards will really show. Nothing here reads a raw value: no PHI can reach the terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dagster import DagsterEventType, DagsterInstance

from orchestration import run_events
from orchestration.defs.raw.assets import LOADED_FILES_KEY

#: The file ledger's asset, whose metadata lists the files the load ignored.
LOADED_FILES_ASSET = LOADED_FILES_KEY.to_user_string()
#: Ignored files named in the summary; the ledger's metadata keeps the whole list.
MAX_IGNORED_SHOWN = 20


@dataclass
class RunSummary:
    """What one run did, ready to print."""

    run_id: str
    success: bool
    tables: list[tuple[str, dict]] = field(default_factory=list)  # (asset, load metadata)
    checks: list[run_events.CheckOutcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # step failure messages
    skipped: list[str] = field(default_factory=list)  # steps Dagster skipped, with why
    published: dict | None = None  # serving materialization metadata
    site_built: bool = False
    absent_systems: list[str] = field(default_factory=list)
    uncovered_kpis: list[tuple[str, str]] = field(default_factory=list)  # (kpi, reason)
    demo_key_on_real_data: bool = False  # the public demo key pseudonymised non-demo data
    left_out: list[str] = field(default_factory=list)  # dbt models unchanged since their last build
    warehouse: Path | None = None  # where the quarantined rows of a blocked load can be read
    postgres: str | None = None  # `host:port/database` the run published to, if it did
    #: "<file>: <why>" of the landing folder's files the load ignored (outside every table folder)
    ignored: list[str] = field(default_factory=list)
    #: the load found the machine's clock not later than the last load's (and said why)
    clock_behind: str = ""

    def counts(self) -> dict[str, int]:
        return {o: sum(c.outcome == o for c in self.checks) for o in ("passed", "warned", "failed")}

    def to_text(self) -> str:
        lines = [f"run {self.run_id}: {'SUCCESS' if self.success else 'FAILED'}"]
        if self.tables:
            lines.append("rows loaded (new / updated / quarantined):")
            for asset, meta in self.tables:
                new, upd = meta.get("rows_inserted", 0), meta.get("rows_updated", 0)
                bad, state = meta.get("rows_quarantined", 0), meta.get("state", "")
                lines.append(f"  {asset:<28} {new:>8} {upd:>8} {bad:>8}  {state}")
        c = self.counts()
        if self.left_out:
            lines.append(
                f"dbt: {len(self.left_out)} models left out, their code and inputs unchanged "
                "since their last good build (their tests not run again)"
            )
        lines.append(f"checks: {c['passed']} passed, {c['warned']} warned, {c['failed']} failed")
        for check in self.checks:
            if not check.passed:
                tag = "BLOCKED" if check.blocking and check.severity == "ERROR" else check.outcome
                if check.check_name == "quarantine_share":
                    # the check's own text names the query without the file: said once, here
                    found = check.description.split("; the rows: ")[0]
                    lines.append(f"  {tag}: {check.asset} {check.check_name}: {found}")
                    lines.append(f"    {quarantine_query(check.asset, self.warehouse)}")
                else:
                    lines.append(f"  {tag}: {check.asset} {check.check_name}: {check.description}")
        if self.published:
            lines.append(
                f"published: {self.published.get('path')} "
                f"({self.published.get('marts')} marts, "
                f"{self.published.get('dagster/row_count')} rows)"
                + ("; site rebuilt" if self.site_built else "; site NOT rebuilt")
                + (f"; PostgreSQL {self.postgres}" if self.postgres else "")
            )
        else:
            lines.append("published: nothing (the previous serving.duckdb is unchanged)")
        if self.ignored:
            lines.append(
                f"left in the landing folder, not loaded ({len(self.ignored)} file(s), each "
                "with why):"
            )
            lines += [f"  {entry}" for entry in self.ignored[:MAX_IGNORED_SHOWN]]
            if len(self.ignored) > MAX_IGNORED_SHOWN:
                lines.append(
                    f"  ... and {len(self.ignored) - MAX_IGNORED_SHOWN} more (the file ledger's "
                    "`ignored` metadata in Dagster lists them all)"
                )
        if self.absent_systems:
            lines.append(f"absent systems (never delivered): {', '.join(self.absent_systems)}")
        if self.clock_behind:
            lines.append(f"warning: {self.clock_behind}")
        if self.uncovered_kpis:
            lines.append(f"KPIs left out for lack of data ({len(self.uncovered_kpis)}):")
            lines += [f"  {kpi}: {reason}" for kpi, reason in self.uncovered_kpis]
        if self.demo_key_on_real_data:
            lines.append(
                "WARNING: non-demo data was pseudonymised with the public demo key "
                "(MEDSPA_PHI_KEY unset, or a `demo: true` tenant without its own key)"
            )
        lines += [f"error: {f}" for f in self.failures]
        lines += [f"hint: {h}" for h in failure_hints(self.failures)]
        lines += [f"skipped: {s}" for s in self.skipped]
        return "\n".join(lines)


def quarantine_query(asset: str, warehouse: Path | None) -> str:
    """Where a quarantine check's rows are: the query and the warehouse file to run it in.

    The summary names the place only: the rejected rows hold raw values (PHI), which stay in
    the raw layer and never reach the terminal through `medspa run`.
    """
    system, _, table = asset.removeprefix("raw_").partition("/")
    where = f" in {warehouse}" if warehouse else " in <data-dir>/warehouse.duckdb"
    return (
        "the rows: select * from raw_quarantine.rejected_rows "
        f"where system = '{system}' and table_name = '{table}'{where}"
    )


#: A step failure that has a known fix -> the fix, said after the errors.
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"^serving_postgres: OperationalError: connection.*(Connection refused|timeout "
            r"expired|could not translate host name|No such file or directory|Network is "
            r"unreachable|No route to host)"
        ),
        "PostgreSQL (MEDSPA_SERVING_URL) did not answer: start the local cluster with "
        "`make pg` (or your server), or unset MEDSPA_SERVING_URL to publish serving.duckdb only",
    ),
    (
        re.compile(r"^serving_postgres: OperationalError: connection.*authentication failed"),
        "PostgreSQL refused MEDSPA_SERVING_URL's user or password: use the owner login's URL "
        "(for the local cluster `make pg` writes it to <data-dir>/pg/serving_url)",
    ),
    (
        re.compile(
            r'^serving_postgres: OperationalError: connection.*database ".*" does not exist'
        ),
        "the database named in MEDSPA_SERVING_URL does not exist on that server: fix the URL's "
        "database name, or create it (the local cluster's is in <data-dir>/pg/serving_url)",
    ),
)


def failure_hints(failures: list[str]) -> list[str]:
    """The fix for each kind of failure the summary knows one for, each said once."""
    return [hint for pattern, hint in _HINTS if any(pattern.search(f) for f in failures)]


def error_text(cls_name: str, message: str) -> str:
    """`Class: message` from a serialized error, without the class's module path.

    Dagster's error message starts with the qualified class name
    (`dagster._core.errors.DagsterAssetCheckFailedError: ...`): the module path is noise to a
    person reading the summary, the class name alone still tells the errors apart.
    """
    text = " ".join(message.split())
    qualified = re.match(rf"^(?:[\w.]*\.)?{re.escape(cls_name)}: ", text)
    return f"{cls_name}: {text[qualified.end() :]}" if qualified else text


#: Longest failure message printed per step (dbt's include the parsed dbt errors).
MAX_FAILURE_CHARS = 1200


def _step_failures(instance: DagsterInstance, run_id: str) -> list[str]:
    """`<step>: <message>` per failed step, the user's exception rather than Dagster's wrapper;
    a run whose set-up failed (its resources: the run lock, the PHI key) says so first, as
    `set-up: <message>` (no step ran, so there is no step failure to say why)."""
    messages = []
    records = [
        record
        for event_type in (DagsterEventType.RESOURCE_INIT_FAILURE, DagsterEventType.STEP_FAILURE)
        for record in instance.get_records_for_run(run_id, of_type=event_type, limit=1000).records
    ]
    for record in records:
        event = record.event_log_entry.dagster_event
        error = getattr(event.event_specific_data, "error", None)
        while (
            error is not None
            and error.cause is not None
            and error.cls_name.startswith("Dagster")
            and "Dbt" not in error.cls_name
        ):
            error = error.cause
        text = error_text(error.cls_name, error.message) if error else ""
        if len(text) > MAX_FAILURE_CHARS:
            text = text[:MAX_FAILURE_CHARS] + " ..."
        text += damaged_warehouse_hint(text)
        messages.append(f"{event.step_key or 'set-up'}: {text}")
    return messages


#: DuckDB's words for a database file it cannot read as one (truncated, overwritten)
_DAMAGED_FILE = re.compile(
    r"Could not read enough bytes from file|not a valid DuckDB database file|"
    r"Corrupt database file|does not match stored checksum",
    re.IGNORECASE,
)


def damaged_warehouse_hint(failure: str) -> str:
    """What to do when a step failed because `warehouse.duckdb` is damaged ("" otherwise).

    Every night would fail the same way, and nothing said the way out: the warehouse holds
    nothing the landing folder does not (it is loaded from it), so a new one is built by
    loading the folder again."""
    if "warehouse.duckdb" not in failure or not _DAMAGED_FILE.search(failure):
        return ""
    return (
        " (the warehouse file is damaged: move warehouse.duckdb and the .dlt folder beside it "
        "aside and run again; every table is loaded again from the landing folder, and the "
        "serving files stay as published until then)"
    )


def _skipped_steps(instance: DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.STEP_SKIPPED, limit=1000
    ).records
    # The PostgreSQL target is optional: without MEDSPA_SERVING_URL its asset materializes
    # nothing (and logs why), so its check's skip is expected, not news for the summary.
    return [
        r.event_log_entry.user_message or r.event_log_entry.step_key
        for r in records
        if not (r.event_log_entry.step_key or "").startswith("serving_postgres")
    ]


def uncovered_kpis(serving_path: Path) -> list[tuple[str, str]]:
    """KPIs `marts.kpi_coverage` says cannot be computed, with the reason (read-only)."""
    if not serving_path.exists():
        return []
    con = duckdb.connect(str(serving_path), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'kpi_coverage'"
        ).fetchone()[0]
        if not exists:
            return []
        rows = con.execute(
            "select kpi, coalesce(reason, '') from marts.kpi_coverage "
            "where not computable order by kpi"
        ).fetchall()
        return [(str(k), str(r)) for k, r in rows]
    finally:
        con.close()


def summarize(
    instance: DagsterInstance,
    run_id: str,
    success: bool,
    serving_path: Path,
    warehouse_path: Path | None = None,
) -> RunSummary:
    """What the run did, from its event log; `warehouse_path` is named where a blocked load's
    quarantined rows are."""
    mats = run_events.materializations(instance, run_id)
    summary = RunSummary(run_id=run_id, success=success, warehouse=warehouse_path)
    summary.checks = run_events.check_outcomes(instance, run_id)
    summary.failures = _step_failures(instance, run_id)
    summary.skipped = _skipped_steps(instance, run_id)
    raw = [m for m in mats if m.asset.startswith("raw_") and "rows_inserted" in m.metadata]
    summary.tables = [(m.asset, m.metadata) for m in sorted(raw, key=lambda m: m.asset)]
    summary.absent_systems = sorted(
        {
            m.asset.split("/")[0].removeprefix("raw_")
            for m in raw
            if m.metadata.get("present") is False
        }
    )
    summary.left_out = sorted(m.asset for m in mats if "left_out" in m.metadata)
    for m in mats:
        if m.asset == "serving":
            summary.published = m.metadata
        elif m.asset == "site":
            summary.site_built = True
        elif m.asset == "serving_postgres":
            summary.postgres = str(m.metadata.get("url") or "") or None
        elif m.asset == LOADED_FILES_ASSET:
            if m.metadata.get("ignored"):
                summary.ignored = str(m.metadata["ignored"]).split("\n")
            summary.clock_behind = str(m.metadata.get("clock_behind") or "")
    if summary.published:
        summary.uncovered_kpis = uncovered_kpis(serving_path)
    elif success:
        # Dagster counts a run whose publish step was skipped (an upstream output missing) as
        # a success; for the nightly job nothing published means it did not do its job.
        summary.success = False
        summary.failures.append("serving.duckdb was not published (step skipped)")
    return summary
