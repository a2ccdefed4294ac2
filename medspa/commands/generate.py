"""`medspa generate`: write the seeded demo chain's landing extracts (or continue it)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path


def iso_date(text: str) -> dt.date:
    """`--end-date`'s value as a date; argparse prints the error after `argument --end-date:`.

    `date.fromisoformat`'s own error reads "invalid fromisoformat value", which names a Python
    function rather than the format a person should type.
    """
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, not {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from demo.config import DEFAULT_END_DATE, DEFAULT_SEED, SCALES

    parser.add_argument("--out", required=True, type=Path, help="landing folder to write")
    parser.add_argument(
        "--scale",
        choices=list(SCALES),
        default="small",
        help="small: 1 location ~15 months; medium: 5 x 3 years; large: 40 x 3 years",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="random seed: the same seed writes the same chain; with --tenants, tenant i gets "
        f"seed + i - 1 (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--end-date",
        type=iso_date,
        metavar="YYYY-MM-DD",
        default=DEFAULT_END_DATE,
        help=f"date of the first (full) extract (default {DEFAULT_END_DATE})",
    )
    parser.add_argument("--locations", type=int, default=None, help="override the scale's count")
    parser.add_argument("--years", type=float, default=None, help="override the scale's years")
    parser.add_argument(
        "--inject-bad-rows",
        type=float,
        default=None,
        metavar="RATE",
        help="share of big-fact rows to break on purpose (default 0)",
    )
    parser.add_argument(
        "--tenants",
        type=int,
        default=None,
        metavar="N",
        help="write N differently seeded chains as OUT/<tenant>/ and the registry OUT/tenants.yml",
    )
    parser.add_argument(
        "--advance",
        type=int,
        default=None,
        metavar="DAYS",
        help="continue an existing chain with DAYS nightly delta extracts",
    )


def run(args: argparse.Namespace) -> int:
    from demo.config import ChainConfig
    from demo.run import advance, generate
    from demo.state import GeneratorError
    from ingestion.contract import load_contract
    from ingestion.progress import TableProgress

    if args.tenants is not None:
        return _run_tenants(args)
    progress = TableProgress(len(load_contract().tables), "wrote")
    try:
        if args.advance is not None:
            report = advance(args.out, args.advance, args.inject_bad_rows, progress)
        else:
            cfg = ChainConfig.build(
                args.scale, args.seed, args.end_date, args.locations, args.years
            )
            report = generate(args.out, cfg, args.inject_bad_rows or 0.0, progress)
    except (GeneratorError, ValueError) as exc:
        print(f"medspa generate: {exc}", file=sys.stderr)
        return 2
    for name, n in sorted(report.rows.items()):
        print(f"  {name:<28} {n:>10,} rows")
    for name, hits in sorted(report.defects.items()):
        print(
            f"  bad rows injected in {name}: "
            + ", ".join(f"{k}={v}" for k, v in sorted(hits.items()))
        )
    rate = report.total_rows / report.seconds if report.seconds else 0.0
    print(
        f"wrote {report.total_rows:,} rows in {len(report.files)} files to {args.out} "
        f"in {report.seconds:.1f} s ({rate:,.0f} rows/s)"
    )
    return 0


def _run_tenants(args: argparse.Namespace) -> int:
    """`--tenants N`: N demo chains and their registry (demo keys, marked as such)."""
    from demo.config import ChainConfig
    from demo.state import GeneratorError
    from demo.tenants import REGISTRY_NAME, generate_tenants

    if args.advance is not None or args.inject_bad_rows:
        print("medspa generate: --tenants cannot be combined with --advance or --inject-bad-rows")
        return 2
    try:
        cfg = ChainConfig.build(args.scale, args.seed, args.end_date, args.locations, args.years)
        reports = generate_tenants(args.out, args.tenants, cfg)
    except (GeneratorError, ValueError) as exc:
        print(f"medspa generate: {exc}", file=sys.stderr)
        return 2
    for name, report in reports.items():
        print(f"  {name:<12} {report.total_rows:>10,} rows in {len(report.files)} files")
    print(f"registry: {args.out / REGISTRY_NAME} (demo tenants: public demo keys, no secrets)")
    return 0
