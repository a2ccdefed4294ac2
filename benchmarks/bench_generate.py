"""How fast the demo-chain generator writes landing extracts, and how it scales.

Figures: rows written per second for a one-location and a five-location chain of the same
length, the scaling ratio between them (vectorised work should grow slower than rows), and
the vectorised encoder+writer against a row-by-row `csv` baseline on the same appointments.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
from pathlib import Path

import pandas as pd

from demo import snapshot
from demo.chain import build_tables
from demo.config import ChainConfig
from demo.encode import encode
from demo.run import generate
from demo.timeutil import DAY, NA
from demo.writer import write_extract
from ingestion.contract import Table, load_contract


def _rate(locations: int, years: float, root: Path) -> tuple[int, float]:
    cfg = ChainConfig.build("small", locations=locations, years=years)
    report = generate(root / f"chain_{locations}", cfg)
    return report.total_rows, report.seconds


def _row_by_row(df: pd.DataFrame, table: Table, path: Path) -> None:
    """Baseline: format each value in Python and write with the csv module."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(table.column_names)
        types = {c.name: c.type for c in table.columns}
        for rec in df[table.column_names].itertuples(index=False):
            row = []
            for name, v in zip(table.column_names, rec, strict=True):
                if types[name] == "timestamp":
                    row.append(
                        ""
                        if v == NA
                        else dt.datetime.fromtimestamp(int(v), dt.UTC).strftime(
                            "%Y-%m-%dT%H:%M:%S-08:00"
                        )
                    )
                else:
                    row.append("" if v is None or v == NA else str(v))
            w.writerow(row)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows1, s1 = _rate(1, 0.5, root)
        rows5, s5 = _rate(5, 0.5, root)
        print(
            f"generate 1 location x 0.5 y: {rows1:,} rows in {s1:.1f} s ({rows1 / s1:,.0f} rows/s)"
        )
        print(
            f"generate 5 locations x 0.5 y: {rows5:,} rows in {s5:.1f} s ({rows5 / s5:,.0f} rows/s)"
        )
        print(
            f"scaling: {rows5 / rows1:.1f}x the rows for {s5 / s1:.1f}x the time "
            f"(throughput ratio {(rows5 / s5) / (rows1 / s1):.2f})"
        )
        cfg = ChainConfig.build("small", locations=5, years=0.5)
        sim, tables = build_tables(cfg, cfg.end_day)
        table = load_contract().table("pms.appointments")
        df = snapshot.as_of(
            tables["pms.appointments"], table.qualified_name, (cfg.end_day + 1) * DAY
        )
        tzs = list(sim.cal.tables["locations"]["timezone"])
        t0 = time.perf_counter()
        write_extract(encode(df, table, tzs, text=True), "pms", root / "vec.csv")
        vec = time.perf_counter() - t0
        t0 = time.perf_counter()
        _row_by_row(df, table, root / "rows.csv")
        base = time.perf_counter() - t0
        print(
            f"appointments extract ({len(df):,} rows): vectorised {vec:.2f} s, "
            f"row-by-row baseline {base:.2f} s, speed-up {base / vec:.1f}x"
        )


if __name__ == "__main__":
    main()
