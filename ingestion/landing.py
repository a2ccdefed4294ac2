"""Find the extracts in a landing folder: `<system>/<table>/<extract_id>.<format>`.

The layout is the whole interface between a clinic's exporters and the loader, so this
module is strict about it: only contract systems and tables, only the four formats, and
extract ids that sort in time order. Anything else is listed as *ignored* (never loaded,
always reported) rather than guessed at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.contract import Contract

#: File suffix -> reader format. Longest suffixes first so `.csv.gz` wins over `.gz`.
FORMATS: tuple[tuple[str, str], ...] = (
    (".csv.gz", "csv"),
    (".csv", "csv"),
    (".parquet", "parquet"),
    (".jsonl", "jsonl"),
)


@dataclass(frozen=True)
class LandingFile:
    """One extract file and where it belongs in the contract."""

    system: str
    table: str
    extract_id: str
    path: Path
    rel_path: str  # relative to the landing folder, '/'-separated: the file's identity
    fmt: str  # csv | parquet | jsonl

    @property
    def qualified_table(self) -> str:
        return f"{self.system}.{self.table}"

    def sha256(self) -> str:
        """Content hash: a re-delivered file with new content is a new extract to load."""
        digest = hashlib.sha256()
        with open(self.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()


@dataclass
class LandingScan:
    """The extracts found, in (table, extract id) order, plus what was ignored and why."""

    files: list[LandingFile] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (rel_path, reason)

    def files_of(self, qualified_table: str) -> list[LandingFile]:
        return [f for f in self.files if f.qualified_table == qualified_table]


def split_format(name: str) -> tuple[str, str] | None:
    """`2026-11-21.csv.gz` -> (`2026-11-21`, `csv`); None for an unsupported suffix."""
    for suffix, fmt in FORMATS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], fmt
    return None


def scan_landing(
    landing_dir: Path, contract: Contract, systems: Iterable[str] | None = None
) -> LandingScan:
    """List the extract files of the selected systems, sorted by table then extract id."""
    scan = LandingScan()
    if not landing_dir.is_dir():
        return scan
    wanted = set(systems) if systems is not None else set(contract.systems)
    tables = {(t.system, t.name) for t in contract.tables}
    for path in sorted(p for p in landing_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(landing_dir).as_posix()
        parts = rel.split("/")
        if any(part.startswith((".", "_")) for part in parts):
            continue  # hidden or `_` files (.DS_Store, the generator's state): not extracts
        if len(parts) != 3:
            scan.ignored.append((rel, "not at <system>/<table>/<extract_id>.<format>"))
            continue
        system, table, name = parts
        if system not in contract.systems:
            scan.ignored.append((rel, f"unknown system {system!r}"))
            continue
        if system not in wanted:
            continue
        if (system, table) not in tables:
            scan.ignored.append((rel, f"unknown table {system}.{table}"))
            continue
        split = split_format(name)
        if split is None:
            scan.ignored.append((rel, "unsupported format (use .csv, .csv.gz, .parquet, .jsonl)"))
            continue
        extract_id, fmt = split
        scan.files.append(LandingFile(system, table, extract_id, path, rel, fmt))
    scan.files.sort(key=lambda f: (f.system, f.table, f.extract_id, f.rel_path))
    return scan
