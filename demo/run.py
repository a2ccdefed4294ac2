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

from demo import defects, snapshot
from demo.chain import build_tables
from demo.config import ChainConfig
from demo.encode import encode
from demo.state import Marker, check_empty, read_marker, write_marker
from demo.timeutil import DAY, to_date
from demo.writer import FORMATS, is_text, write_extract
from ingestion.contract import load_contract


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


def _write_day(
    out: Path,
    tables: dict[str, pd.DataFrame],
    timezones: list[str],
    day: int,
    rate: float,
    seed: int,
    report: Report,
    cut: Callable[[pd.DataFrame, str], pd.DataFrame],
) -> None:
    extract_id = to_date(day).isoformat()
    for table in load_contract().tables:
        name = table.qualified_name
        rows = cut(tables[name], name)
        if not len(rows):
            continue  # a header-only file would be a malformed extract
        tbl = encode(rows, table, timezones, is_text(table.system))
        tbl, hits = defects.inject(tbl, table, rate, seed, day)
        for kind, k in hits.items():
            report.defects.setdefault(name, {})[kind] = (
                report.defects.get(name, {}).get(kind, 0) + k
            )
        path = out / table.system / table.name / f"{extract_id}.{FORMATS[table.system]}"
        write_extract(tbl, table.system, path)
        report.rows[name] = report.rows.get(name, 0) + tbl.num_rows
        report.files.append(path)


def generate(out: Path, cfg: ChainConfig, inject_bad_rows: float = 0.0) -> Report:
    """The chain's first extract: every table's full snapshot as of `cfg.end_date`."""
    out = Path(out)
    check_empty(out)
    _check_rate(inject_bad_rows)
    report = write_snapshot(out, cfg, cfg.end_day, inject_bad_rows)
    write_marker(out, Marker(cfg, cfg.end_date, inject_bad_rows))
    return report


def write_snapshot(out: Path, cfg: ChainConfig, day: int, inject_bad_rows: float = 0.0) -> Report:
    """Full snapshots of every table as of the end of local day `day` (no marker written).

    `generate` uses it for the first extract; tests use it to prove that a snapshot at a later
    day equals the first snapshot plus the nightly deltas merged by the contract's rule.
    """
    started = time.perf_counter()
    sim, tables = build_tables(cfg, day)
    out.mkdir(parents=True, exist_ok=True)
    report = Report()
    cutoff = (day + 1) * DAY
    _write_day(
        out,
        tables,
        _timezones(sim),
        day,
        inject_bad_rows,
        cfg.seed,
        report,
        lambda df, name: snapshot.as_of(df, name, cutoff),
    )
    report.seconds = time.perf_counter() - started
    return report


def advance(out: Path, days: int, inject_bad_rows: float | None = None) -> Report:
    """Write `days` nightly delta extracts after the chain's last extract."""
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
    sim, tables = build_tables(cfg, (last - dt.date(1970, 1, 1)).days)
    report = Report()
    for i in range(days):
        day = (first - dt.date(1970, 1, 1)).days + i
        _write_day(
            out,
            tables,
            _timezones(sim),
            day,
            rate,
            cfg.seed,
            report,
            lambda df, name, d=day: snapshot.delta(df, name, d),
        )
        write_marker(out, Marker(cfg, to_date(day), rate))
    report.seconds = time.perf_counter() - started
    return report


def _timezones(sim) -> list[str]:
    return list(sim.cal.tables["locations"]["timezone"])


def _check_rate(rate: float) -> None:
    if not 0 <= rate <= 0.5:
        raise ValueError("--inject-bad-rows must be between 0 and 0.5")
