"""`medspa contract sync`: regenerate the dbt sources YAML (and the list of contract tables)
from ingestion/contract.yml."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", choices=["sync", "check"], help="sync: write; check: fail if stale"
    )


def run(args: argparse.Namespace) -> int:
    from ingestion.dbt_sources import render_generated, sync_sources
    from medspa.settings import DBT_PROJECT_DIR

    if args.action == "check":
        stale = [
            p
            for p, text in render_generated(DBT_PROJECT_DIR).items()
            if not p.exists() or p.read_text(encoding="utf-8") != text
        ]
        for p in stale:
            print(f"stale: {p} (run `medspa contract sync`)")
        if not stale:  # a check that prints nothing reads as one that did not run
            print("contract: dbt sources match ingestion/contract.yml")
        return 1 if stale else 0
    for p in sync_sources(DBT_PROJECT_DIR):
        print(f"wrote {p}")
    return 0
