"""Write a chain's first full snapshot, or continue it with nightly deltas.

The first extract of every table is the full snapshot as of the end date; `advance` re-runs
the (deterministic) simulation a few days further and writes, per following day, only the
rows created or changed that day. Because every draw is keyed by day or entity, the longer
run agrees with the shorter one on everything before, so the deltas merge cleanly.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from demo import defects, snapshot
from demo.chain import ChainTables, chain_tables
from demo.config import ChainConfig
from demo.encode import encode
from demo.heap import release_freed_heap
from demo.state import Marker, check_empty, read_marker, write_marker, written_files
from demo.timeutil import DAY, to_date
from demo.writer import FORMATS, ExtractWriter, is_text
from ingestion.contract import Table, load_contract


@dataclass
class Report:
    """What a run wrote: rows per table, files, defects injected, and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    defects: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


#: Rows of a simulated table encoded and written at a time: bounds the text and Arrow copies
#: of a big table to one slice (the output is the same for any slice size).
SLICE_ROWS = 200_000


def _write_tables(
    out: Path,
    tables: ChainTables,
    days: list[int],
    rate: float,
    seed: int,
    report: Report,
    cut: Callable[[pd.DataFrame, str, int], pd.DataFrame],
    progress: Callable[[str, int], None] | None = None,
) -> None:
    """Each table in contract order, built once, written for every day, then dropped.

    A table arrives in chunks (`ChainTables.chunks`) and each chunk is cut, encoded and
    written `SLICE_ROWS` rows at a time into every day's extract, so only the simulation,
    one table (or one chunk of messages) and one slice's text exist at once.
    """
    timezones = _timezones(tables.sim)
    release_freed_heap()  # what the simulation freed, before the first table's build
    for table in load_contract().tables:
        name = table.qualified_name
        writers = {day: ExtractWriter(table.system, _path(out, table, day)) for day in days}
        whole: dict[int, list[pa.Table]] = {day: [] for day in days}
        text = is_text(table.system)
        for chunk in tables.chunks(name):
            for i in range(0, len(chunk), SLICE_ROWS):
                piece = chunk.iloc[i : i + SLICE_ROWS]
                for day in days:
                    tbl = encode(cut(piece, name, day), table, timezones, text)
                    if rate > 0:
                        whole[day].append(tbl)  # defects are drawn over the whole extract
                    else:
                        writers[day].write(tbl)
            del chunk, piece
        rows = 0
        for day, writer in writers.items():
            if rate > 0 and any(t.num_rows for t in whole[day]):
                tbl, hits = defects.inject(pa.concat_tables(whole[day]), table, rate, seed, day)
                whole[day] = []
                for kind, k in hits.items():
                    report.defects.setdefault(name, {})[kind] = (
                        report.defects.get(name, {}).get(kind, 0) + k
                    )
                writer.write(tbl)
            writer.close()
            if writer.rows:  # no rows, no file: a header-only file is a malformed extract
                report.rows[name] = report.rows.get(name, 0) + writer.rows
                report.files.append(writer.path)
                rows += writer.rows
        release_freed_heap()  # what this table's build freed, before the next one's
        if progress is not None:
            progress(name, rows)


def _path(out: Path, table: Table, day: int) -> Path:
    return out / table.system / table.name / f"{to_date(day).isoformat()}.{FORMATS[table.system]}"


def generate(
    out: Path,
    cfg: ChainConfig,
    inject_bad_rows: float = 0.0,
    progress: Callable[[str, int], None] | None = None,
) -> Report:
    """The chain's first extract: every table's full snapshot as of `cfg.end_date`.

    `progress(table, rows)` is called as each table's extract is written.
    """
    out = Path(out)
    check_empty(out)
    _check_rate(inject_bad_rows)
    report = write_snapshot(out, cfg, cfg.end_day, inject_bad_rows, progress)
    files = written_files(out, report.files, None)
    write_marker(out, Marker(cfg, cfg.end_date, inject_bad_rows, files))
    return report


def write_snapshot(
    out: Path,
    cfg: ChainConfig,
    day: int,
    inject_bad_rows: float = 0.0,
    progress: Callable[[str, int], None] | None = None,
) -> Report:
    """Full snapshots of every table as of the end of local day `day` (no marker written).

    `generate` uses it for the first extract; tests use it to prove that a snapshot at a later
    day equals the first snapshot plus the nightly deltas merged by the contract's rule.
    """
    started = time.perf_counter()
    tables = chain_tables(cfg, day)
    out.mkdir(parents=True, exist_ok=True)
    report = Report()
    _write_tables(
        out,
        tables,
        [day],
        inject_bad_rows,
        cfg.seed,
        report,
        lambda df, name, d: snapshot.as_of(df, name, (d + 1) * DAY),
        progress,
    )
    report.seconds = time.perf_counter() - started
    return report


def advance(
    out: Path,
    days: int,
    inject_bad_rows: float | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> Report:
    """Write `days` nightly delta extracts after the chain's last extract.

    Tables are written one at a time (every day of one table, then the next), so the
    marker that says how far the chain goes is written once all days are on disk.
    """
    if days < 1:
        raise ValueError("--advance needs at least one day")
    out = Path(out)
    marker = read_marker(out)
    rate = marker.inject_bad_rows if inject_bad_rows is None else inject_bad_rows
    _check_rate(rate)
    started = time.perf_counter()
    first = marker.last_extract + dt.timedelta(days=1)
    last = marker.last_extract + dt.timedelta(days=days)
    cfg = marker.cfg
    tables = chain_tables(cfg, (last - dt.date(1970, 1, 1)).days)
    report = Report()
    first_day = (first - dt.date(1970, 1, 1)).days
    _write_tables(
        out,
        tables,
        [first_day + i for i in range(days)],
        rate,
        cfg.seed,
        report,
        snapshot.delta,
        progress,
    )
    before = marker.files
    files = None if before is None else written_files(out, report.files, before)
    write_marker(out, Marker(cfg, last, rate, files))
    report.seconds = time.perf_counter() - started
    return report


def _timezones(sim) -> list[str]:
    return list(sim.cal.tables["locations"]["timezone"])


def _check_rate(rate: float) -> None:
    if not 0 <= rate <= 0.5:
        raise ValueError("--inject-bad-rows must be between 0 and 0.5")
