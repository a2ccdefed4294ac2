"""What one ingest did, per table: the CLI prints it, Dagster attaches it as metadata.

The report names files, rows, columns and reasons, never a value: it is printed to
terminals and stored in Dagster's event log, where PHI must not go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Table states: new files this run, none this run (but loaded before), never any, or
#: dlt failed to merge the system (its files stay unrecorded and are retried next run).
LOADED, NO_NEW_EXTRACT, NEVER_DELIVERED = "loaded", "no new extract this run", "never delivered"
LOAD_FAILED = "load failed"
#: A file of the table misses a contract column (this run, or an earlier one and it is still in
#: the landing folder unchanged): the table loads nothing until it is replaced or removed.
LOAD_STOPPED = "stopped: a file misses a contract column"
#: No file of the table loaded this run, and a new one is still being written (modified after a
#: load's cut-off, `IngestSettings.settled_before`): the next run takes it whole.
STILL_BEING_WRITTEN = "a new file still being written: left for the next run"


@dataclass(kw_only=True)
class RowCounts:
    """What happened to the rows of a load, for one file (FileRecord) or summed per table.

    Keyword-only, so a record's own fields keep their positions in its constructor.
    """

    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0
    drift_columns: list[str] = field(default_factory=list)


@dataclass
class TableReport(RowCounts):
    system: str
    table: str
    state: str = NO_NEW_EXTRACT
    files_loaded: int = 0
    files_skipped: int = 0  # already loaded (same path and content hash)
    files_refused: int = 0
    refusals: list[str] = field(default_factory=list)  # "<file>: <reason>"
    #: new files not loaded because the table's load is stopped (`stopped_by`); not recorded,
    #: so they load on the first run after the stopping file is replaced or removed
    files_held: int = 0
    stopped_by: list[str] = field(default_factory=list)  # "<file>: missing contract column(s) .."
    #: Rows of this run's refused files: read, then refused whole (none loaded or quarantined).
    #: Kept out of `rows_read`, which counts the rows of the files that were checked, so a
    #: refused file neither dilutes `quarantined_share` nor counts as loaded.
    rows_in_refused_files: int = 0

    @property
    def qualified_name(self) -> str:
        return f"{self.system}.{self.table}"

    @property
    def earlier_stops(self) -> list[str]:
        """Stops by files refused in an earlier run (this run's refusals are in `refusals`)."""
        return [r for r in self.stopped_by if r not in self.refusals]

    @property
    def quarantined_share(self) -> float:
        """Rows quarantined per row of the checked files: the share the publish gate judges
        (`quality.quarantine`), so refused files' rows are not in it (the landing contract)."""
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


@dataclass
class LoadReport:
    load_id: str
    tables: list[TableReport] = field(default_factory=list)
    absent_systems: list[str] = field(default_factory=list)
    absent_tables: list[str] = field(default_factory=list)  # "system.table", never delivered
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the machine's clock was not later than the last load's (`ingestion.load_clock`): why
    #: this load is numbered just after it instead (also among `warnings`)
    clock_behind: str = ""
    #: Files of the landing folder outside every table's folder, or still being written:
    #: "<path>: <why>" (each is a warning too). Files in a table's folder are never here: the
    #: loader loads or refuses them.
    ignored: list[str] = field(default_factory=list)
    #: system -> the `_dlt_load_id` stamp its rows got (`ingestion.load_clock`)
    dlt_load_ids: dict[str, str] = field(default_factory=dict)
    #: Wall-clock seconds per phase: run metadata, never data. prepare, stage, dlt_wait and
    #: bookkeeping are the main thread's; dlt is its own thread's (it overlaps prepare).
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """False only when something could not be loaded at all (exit status non-zero)."""
        return not self.errors

    def table(self, system: str, table: str) -> TableReport:
        for entry in self.tables:
            if entry.system == system and entry.table == table:
                return entry
        raise KeyError(f"{system}.{table} is not in this report")

    def table_metadata(self, system: str, table: str) -> dict[str, Any]:
        """Plain values for Dagster asset metadata (the orchestration layer wraps them)."""
        t = self.table(system, table)
        return {
            "load_id": self.load_id,
            "dlt_load_id": self.dlt_load_ids.get(system, ""),
            "state": t.state,
            "files_loaded": t.files_loaded,
            "files_skipped": t.files_skipped,
            "files_refused": t.files_refused,
            "refusals": "\n".join(t.refusals),
            "files_held": t.files_held,
            "stopped_by": "\n".join(t.stopped_by),
            "rows_read": t.rows_read,
            "rows_inserted": t.rows_inserted,
            "rows_updated": t.rows_updated,
            "rows_unchanged": t.rows_unchanged,
            "rows_quarantined": t.rows_quarantined,
            "quarantined_share": round(t.quarantined_share, 6),
            "rows_in_refused_files": t.rows_in_refused_files,
            "drift_columns": ", ".join(t.drift_columns),
        }

    def ledger_metadata(self) -> dict[str, Any]:
        """Plain values for the file ledger's asset metadata: this load's files in total, and
        the tables whose load is stopped (the ledger's own view of a stop: held files are not
        in it, so without these a stopped table looks like a quiet night there)."""
        return {
            "load_id": self.load_id,
            "files_loaded": sum(t.files_loaded for t in self.tables),
            "files_refused": sum(t.files_refused for t in self.tables),
            "files_held": sum(t.files_held for t in self.tables),
            "tables_stopped": ", ".join(
                t.qualified_name for t in self.tables if t.state == LOAD_STOPPED
            ),
            "files_ignored": len(self.ignored),
            "ignored": "\n".join(self.ignored),
            **({"clock_behind": self.clock_behind} if self.clock_behind else {}),
        }

    def to_text(self) -> str:
        """The per-table summary: loaded, updated, quarantined, drift; then what is absent."""
        lines = [f"load {self.load_id}"]
        width = max((len(t.qualified_name) for t in self.tables), default=10)
        for t in self.tables:
            name = t.qualified_name.ljust(width)
            if t.state not in (LOADED, LOAD_STOPPED) and not t.files_refused:
                skipped = f" ({t.files_skipped} file(s) already loaded)" if t.files_skipped else ""
                lines.append(f"  {name}  {t.state}{skipped}")
                continue
            line = (
                f"  {name}  files {t.files_loaded} loaded, {t.files_skipped} skipped, "
                f"{t.files_refused} refused, {t.files_held} held | rows {t.rows_read} read, "
                f"{t.rows_inserted} new, "
                f"{t.rows_updated} replaced stored, {t.rows_unchanged} older than stored, "
                f"{t.rows_quarantined} quarantined"
            )
            if t.rows_in_refused_files:
                line += f" | {t.rows_in_refused_files} rows in refused files"
            if t.drift_columns:
                line += f" | drift: new column(s) {', '.join(t.drift_columns)}"
            if t.state == LOAD_STOPPED:
                line += " | LOAD STOPPED"
            lines.append(line)
            lines.extend(f"      refused {r}" for r in t.refusals)
            lines.extend(f"      stopped by {r}" for r in t.earlier_stops)
        if self.absent_systems:
            lines.append(f"absent systems (never delivered): {', '.join(self.absent_systems)}")
        if self.absent_tables:
            lines.append(f"absent tables (never delivered): {', '.join(self.absent_tables)}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        lines.extend(f"error: {e}" for e in self.errors)
        lines.append("ok" if self.ok else f"FAILED: {len(self.errors)} error(s)")
        return "\n".join(lines)
