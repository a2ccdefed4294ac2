"""`medspa docs`: regenerate docs/kpis.md and docs/landing-contract.md (or check they are current).

A thin shell over `docs.generate`: the tables come from the kpi_targets seed, the KPI models'
dbt docs and ingestion/contract.yml.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when a committed document is out of date",
    )


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:  # a KPI without a definition, or one filed under another model
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from docs.generate import render_docs, write_docs

    if args.check:
        stale = [
            str(path)
            for path, text in render_docs().items()
            if not path.exists() or path.read_text(encoding="utf-8") != text
        ]
        for path in stale:
            print(f"out of date: {path} (run `medspa docs`)", file=sys.stderr)
        if not stale:  # a check that prints nothing reads as one that did not run
            print("docs: up to date")
        return 1 if stale else 0
    for path in write_docs():
        print(f"wrote {path}")
    return 0
