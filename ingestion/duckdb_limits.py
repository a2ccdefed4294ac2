"""How much of the machine one DuckDB connection of the loader may take, set on purpose.

DuckDB's defaults are 80 % of RAM and every core, per connection. On a shared machine (and at
chain scale, where one table's rows outgrow memory) that is how a load gets killed, so every
connection the loader opens, its own and dlt's, gets an explicit `memory_limit`, `threads`
and a spill directory under the data directory: beyond the limit DuckDB writes to disk
instead of failing. The values are parameters; only the CLI and orchestration read them
from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from safeio.private import private_dir

#: Row-group merges ("vacuum") a checkpoint may schedule: none. A checkpoint in any writer
#: merges every thinned table of the file, so a loader that still merged would pay, the next
#: night, for the merging dbt deferred. The file is compacted on a cadence instead
#: (dbt_project/macros/compaction.sql); scans skip deleted rows meanwhile.
MAX_VACUUM_TASKS = 0


def writer_config() -> dict[str, str | int]:
    """What every connection that writes the warehouse sets, whatever its limits: no merging in
    its checkpoints. A writer without it (even one inserting a single row) merges, when it
    closes, every table the night's builds thinned: about 3 s a night at the large chain."""
    return {"max_vacuum_tasks": MAX_VACUUM_TASKS}


#: Defaults sized for the reference machine (2 cores shared, a few GB per step).
DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_THREADS = 2


@dataclass(frozen=True)
class DuckDBLimits:
    """`memory_limit` (DuckDB size string), `threads` and where to spill (`temp_dir`)."""

    temp_dir: Path
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = DEFAULT_THREADS

    @classmethod
    def under(
        cls, data_dir: Path, memory_limit: str | None = None, threads: int | None = None
    ) -> DuckDBLimits:
        """Limits that spill to `<data_dir>/.duckdb_tmp`, with the defaults where not given."""
        return cls(
            temp_dir=Path(data_dir) / ".duckdb_tmp",
            memory_limit=memory_limit or DEFAULT_MEMORY_LIMIT,
            threads=threads or DEFAULT_THREADS,
        )

    def config(self) -> dict[str, str | int]:
        """The settings as DuckDB connection config (also what dlt's `global_config` takes)."""
        # owner-only: a spill holds whatever the query held, raw PHI included
        private_dir(self.temp_dir)
        return {
            "memory_limit": self.memory_limit,
            "threads": self.threads,
            "temp_directory": str(self.temp_dir),
            **writer_config(),
        }

    def connect(self, path: Path) -> duckdb.DuckDBPyConnection:
        """A read-write connection to `path` under these limits."""
        return duckdb.connect(str(path), config=self.config())  # type: ignore[arg-type]
