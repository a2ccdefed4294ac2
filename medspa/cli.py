"""`medspa` command line: one sub-command per module in `medspa.commands`.

Each command module `medspa.commands.<name>` exposes `add_arguments(parser)` and
`run(args) -> int`; its one-line help is in `COMMANDS` below. A `SettingsError` (a bad
`MEDSPA_*` value, a configured landing folder that does not exist) is printed as
`error: ...` on stderr with exit status 2, whichever command met it.
Modules are imported only when their command runs, so `medspa generate` does not pay for
importing Dagster or Great Expectations.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TextIO

#: command name (= module `medspa.commands.<name>`) -> one-line help, in the order `--help` lists.
COMMANDS: dict[str, str] = {
    "generate": "write the seeded demo chain's extracts (snapshot, or --advance nightly deltas)",
    "ingest": "load a landing folder into the warehouse's raw layer with dlt",
    "transform": "run dbt build (staging -> marts) against the warehouse",
    "run": "the nightly job, in-process: ingest -> dbt -> checks -> publish -> site",
    "demo": "generate demo data when the landing folder is empty, then run",
    "site": "render the dashboards from serving.duckdb",
    "contract": "work with the landing contract (sync dbt sources from contract.yml)",
    "docs": "regenerate docs/kpis.md and docs/landing-contract.md from the project's data",
    "history": "prune Dagster's run history (finished runs older than MEDSPA_RUN_HISTORY_DAYS)",
    "status": "is every tenant's nightly publishing? (exit status 1 when not: for monitors)",
    "serving": "PostgreSQL serving target: local cluster (make pg) and BI reader logins",
    "tenant": "offboard a tenant removed from the registry (tenant remove NAME)",
    "rekey": "record a rotated pseudonymisation key (runs refuse another key until then)",
}


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    """The `--data-dir` option every command that touches the warehouse shares."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where warehouse, landing, site and Dagster storage live "
        "(default: $MEDSPA_DATA_DIR or ./data)",
    )


def add_tenant_options(
    parser: argparse.ArgumentParser, tenant_group: argparse._ActionsContainer | None = None
) -> None:
    """`--tenants-file` and `--tenant NAME`, shared by every command that works on one tenant's
    folders (`medspa.tenants.command_tenant` resolves them); `--tenant` goes into
    `tenant_group` when given (`medspa run`: not with `--all-tenants`)."""
    parser.add_argument(
        "--tenants-file",
        default=None,
        type=Path,
        help="tenant registry tenants.yml (default: $MEDSPA_TENANTS_FILE; none = one tenant)",
    )
    (tenant_group or parser).add_argument(
        "--tenant",
        default=None,
        metavar="NAME",
        help="this tenant of the registry: its data dir <data-dir>/tenants/NAME, its landing "
        "folder and its key (default: the registry's only tenant)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medspa", description=__doc__.splitlines()[0])
    subs = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = _module(name)
        # A command whose use needs more than a line (`rekey`) says it in `--help`.
        sub = subs.add_parser(
            name,
            help=COMMANDS[name],
            description=getattr(module, "DESCRIPTION", COMMANDS[name]),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(_command=name)
        module.add_arguments(sub)
    return parser


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"medspa.commands.{name}")


def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    """Run one command. `own_process`: this process exists for the command alone (`entry`),
    so a command may freeze the garbage collector's objects (`medspa run` does); a program
    that calls `main` itself, as the tests do, keeps its collector untouched."""
    from medspa.settings import SettingsError

    args = build_parser().parse_args(argv)
    args._own_process = own_process
    try:
        return int(_module(args._command).run(args) or 0)
    except SettingsError as exc:
        # A bad MEDSPA_* value or a missing configured landing folder: found while the
        # settings are built, before any folder or lock exists. Status 2, as for a usage error.
        print(f"error: {exc}", file=sys.stderr)
        return 2


def entry() -> None:
    """The `medspa` console command (and `python -m medspa.cli`): `main`, then an exit that
    skips the interpreter's slow teardown (`freeze_before_exit`)."""
    _plain_warnings()
    code = main(own_process=True)
    gx = sys.modules.get("quality.gx_duckdb")  # loaded only by the commands that validate
    if gx is not None:
        gx.wait_for_background_imports()
    freeze_before_exit()
    sys.exit(code)


def _plain_warnings() -> None:
    """The CLI's own warning (the public demo key on real data) as one `warning:` line on
    stderr, as the CLI's errors read, not Python's `file.py:250: DemoKeyWarning: ...` followed
    by the source line that raised it, which reads like a leak of the code."""
    import warnings

    from medspa.settings import DemoKeyWarning

    default = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        if issubclass(category, DemoKeyWarning):
            print(f"warning: {message}", file=sys.stderr)
            return
        default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def freeze_before_exit() -> None:
    """Spare the process the garbage collections of Python's shutdown.

    After `medspa run` a process holds about 330,000 objects the collector tracks (Dagster,
    dbt, Great Expectations and dlt are imported), and Python's shutdown, which tears the
    modules down one by one and collects between them, took 1.5-2.0 s on 2 cores before the
    shell got its prompt back. One collection here (0.2-0.3 s) still finalizes everything the
    command left unreachable (a DuckDB connection caught in a reference cycle is closed, its
    file checkpointed); freezing what is still alive then exempts it from the shutdown's
    collections, and the exit takes under 0.1 s. Objects are still freed by reference count
    and `atexit` handlers still run. Only for the console command: a test that calls `main`
    in its own process keeps collecting as usual.
    """
    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    entry()
