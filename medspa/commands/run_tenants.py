"""`medspa run --all-tenants`: every tenant's nightly run, a bounded number at a time.

Each tenant runs in its own subprocess (`medspa run --tenant NAME`), the same job and
partition the schedule would start, so a crash, a blocked check or a PhiKeyError in one tenant
cannot stop the others, and two tenants never share a process (nor its environment, which dbt
reads). At most `--parallel` run at once: tenants use separate DuckDB files, so they do not
contend for a writer, only for cores. The exit status is 1 when any tenant failed, after a
per-tenant summary; each tenant's own report is in `<its data dir>/logs/last_cli_run.txt`.

Ctrl-C in the terminal reaches every running tenant's process as well (one process group):
each stops as `medspa run` does on its own (exit status 130, the previous publish kept). The
command then starts no further tenant, waits for the running ones to stop, prints the summary
(`interrupted`, `not started`) and exits with status 130, without the peer benchmarks.

SIGTERM is sent to the command alone: by `kill PID`, by `docker stop` and Kubernetes to a
container's first process (which, without a handler, ignores it until the SIGKILL a grace
period later kills every tenant mid-run), by a supervisor that stops its main process only.
The command forwards it to every running tenant, which stops as on Ctrl-C, and ends the same
way. A SIGINT sent to the command alone (`kill -INT PID`) is not forwarded: it starts no further
tenant and lets the running ones finish.

With `--unattended` (a cron line: see `medspa.commands.run`), each tenant runs unattended, and
a signal that stops the command makes each tenant not yet started post `failed`: its night had
no run, so no run record or run-log alert would ever say so.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType


@dataclass(frozen=True)
class TenantOutcome:
    """How one tenant's subprocess ended."""

    tenant: str
    #: The subprocess's exit status (negative: killed by that signal); None: never started.
    exit_code: int | None
    seconds: float
    report: Path

    @property
    def status(self) -> str:
        if self.exit_code is None:
            return "not started"
        if self.exit_code in _STATUS_BY_EXIT:
            return _STATUS_BY_EXIT[self.exit_code]
        if self.exit_code < 0:
            try:
                return f"killed ({signal.Signals(-self.exit_code).name})"
            except ValueError:
                return f"killed (signal {-self.exit_code})"
        return f"crashed (exit {self.exit_code})"


#: What `medspa run`'s exit statuses mean (`medspa.commands.run`).
_STATUS_BY_EXIT = {0: "published", 1: "failed/blocked", 2: "refused", 130: "interrupted"}


class TenantsInterrupted(KeyboardInterrupt):
    """Ctrl-C while tenants ran; `outcomes` says how each ended (or that it never started)."""

    def __init__(self, outcomes: list[TenantOutcome]) -> None:
        super().__init__()
        self.outcomes = outcomes


def tenant_command(args: argparse.Namespace, tenant: str, tenants_file: Path) -> list[str]:
    """The `medspa run` command line that runs one tenant (same data dir and registry)."""
    command = [sys.executable, "-m", "medspa.cli", "run", "--tenants-file", str(tenants_file)]
    command += ["--tenant", tenant]
    if args.data_dir:
        command += ["--data-dir", str(args.data_dir)]
    if getattr(args, "unattended", False):
        command += ["--unattended"]
    return command


@dataclass
class TenantProcesses:
    """The tenants' running subprocesses, and whether the command is stopping.

    Once stopping, no further tenant starts: a worker thread that takes the next tenant between
    the signal and the pool's cancelling of what is queued finds the flag set under the lock.
    """

    #: Re-entrant: a second signal can arrive while the handler of the first holds it.
    lock: threading.RLock = field(default_factory=threading.RLock)
    running: set[subprocess.Popen[bytes]] = field(default_factory=set)
    stopping: bool = False

    def stop(self, signum: int | None = None) -> None:
        """Start no further tenant; send `signum` to every running one when given."""
        with self.lock:
            self.stopping = True
            for process in self.running:
                if signum is not None and process.poll() is None:
                    process.send_signal(signum)


def run_one(
    command: list[str], tenant: str, report: Path, processes: TenantProcesses | None = None
) -> TenantOutcome:
    """Run one tenant's subprocess; its console output goes to its own report file. A tenant
    whose turn comes after the command began stopping is not started (exit code None)."""
    from safeio.private import private_dir

    processes = processes if processes is not None else TenantProcesses()
    private_dir(report.parent)
    started = time.perf_counter()
    with open(report, "w", encoding="utf-8") as out:
        with processes.lock:
            if processes.stopping:
                return TenantOutcome(tenant, None, 0.0, report)
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            processes.running.add(process)
        try:
            code = process.wait()
        finally:
            with processes.lock:
                processes.running.discard(process)
    return TenantOutcome(tenant, code, time.perf_counter() - started, report)


@contextmanager
def stop_on_signals(processes: TenantProcesses) -> Iterator[None]:
    """While tenants run, SIGTERM is forwarded to them and SIGINT stops further starts; both
    then raise KeyboardInterrupt in the waiting main thread (Python's own SIGINT behaviour)."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        processes.stop(signum if signum == signal.SIGTERM else None)
        raise KeyboardInterrupt

    handled = [signal.SIGINT, signal.SIGTERM]
    previous = {}
    for signum in handled:
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue  # started with it ignored (`nohup`, a background job): keep it so
        previous[signum] = signal.signal(signum, on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_tenants(
    args: argparse.Namespace, names: list[str], tenants_file: Path, data_dirs: dict[str, Path]
) -> list[TenantOutcome]:
    """Every tenant's run, at most `args.parallel` at a time; outcomes in registry order.

    Raises `TenantsInterrupted` (with every tenant's outcome) on Ctrl-C, once the tenants
    already running have stopped; the others are never started.
    """
    parallel = max(1, int(args.parallel))
    reports = {name: data_dirs[name] / "logs" / "last_cli_run.txt" for name in names}
    processes = TenantProcesses()
    pool = ThreadPoolExecutor(max_workers=parallel)
    futures: list[Future[TenantOutcome]] = []
    try:
        with stop_on_signals(processes):
            for name in names:
                command = tenant_command(args, name, tenants_file)
                futures.append(pool.submit(run_one, command, name, reports[name], processes))
            outcomes = [f.result() for f in futures]
    except KeyboardInterrupt:
        # The running tenants had the same Ctrl-C (one process group), or the SIGTERM the
        # command forwarded: wait for them to stop.
        processes.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        not_started = [TenantOutcome(name, None, 0.0, reports[name]) for name in names]
        raise TenantsInterrupted(
            [f.result() if not f.cancelled() else not_started[i] for i, f in enumerate(futures)]
            + not_started[len(futures) :]
        ) from None
    pool.shutdown()
    return outcomes


def summary_text(outcomes: list[TenantOutcome], wall_seconds: float) -> str:
    lines = [f"{'tenant':<24} {'status':<16} {'seconds':>8}  report"]
    for o in outcomes:
        lines.append(f"{o.tenant:<24} {o.status:<16} {o.seconds:>8.1f}  {o.report}")
    failed = sum(o.exit_code not in (0, None) for o in outcomes)
    not_started = sum(o.exit_code is None for o in outcomes)
    serial = sum(o.seconds for o in outcomes)
    lines.append(
        f"{sum(o.exit_code == 0 for o in outcomes)} of {len(outcomes)} tenants published, "
        f"{failed} failed"
        + (f", {not_started} not started (interrupted)" if not_started else "")
        + f"; wall {wall_seconds:.1f} s (sum of tenant runs {serial:.1f} s)"
    )
    return "\n".join(lines)


def run_all_tenants(args: argparse.Namespace) -> int:
    from medspa.commands.run import base_settings, sigterm_interrupts
    from medspa.tenants import (
        TenantRegistryError,
        refuse_paths_beside_registry,
        refuse_shared_keys,
        resolve_tenants,
        tenant_settings,
    )

    base = base_settings(args.data_dir, args.landing, args.tenants_file)
    if base.tenants_file is None:
        print(
            "error: --all-tenants needs a registry (--tenants-file or MEDSPA_TENANTS_FILE)",
            file=sys.stderr,
        )
        return 2
    try:
        tenants = resolve_tenants(base, base.tenants_file)
        # each tenant's run reads its own `landing:` and finds its own data dir below this one
        refuse_paths_beside_registry(base, tenants, landing_option=args.landing)
        keyed = {}
        for tenant in tenants:
            try:
                keyed[tenant.name] = tenant_settings(base, tenant)
            except TenantRegistryError:
                continue  # a missing key fails that tenant's own run, not the others'
        refuse_shared_keys(keyed)  # joinable pseudonyms across tenants: run none
    except TenantRegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unattended = getattr(args, "unattended", False)
    if unattended:
        sigterm_interrupts()  # before anything starts: a timeout now still leaves a report
    started = time.perf_counter()
    try:
        _add_partitions(base, [t.name for t in tenants])
        outcomes = run_tenants(
            args,
            [t.name for t in tenants],
            base.tenants_file,
            {t.name: t.data_dir(base.data_dir) for t in tenants},
        )
    except TenantsInterrupted as stopped:
        print(summary_text(stopped.outcomes, time.perf_counter() - started))
        print("interrupted: no further tenant was started; peer benchmarks not refreshed")
        if unattended:
            _alert_not_started(base, [o.tenant for o in stopped.outcomes if o.exit_code is None])
        return 130
    except KeyboardInterrupt:  # before any tenant started
        print("interrupted: no tenant was started")
        if unattended:
            _alert_not_started(base, [t.name for t in tenants])
        return 130
    print(summary_text(outcomes, time.perf_counter() - started))
    pages_ok = _benchmarks(base)
    return 0 if pages_ok and all(o.exit_code == 0 for o in outcomes) else 1


def _alert_not_started(base: object, names: list[str]) -> None:
    """Each tenant an unattended `--all-tenants` never started posts `failed`: its night had no
    run, so no record or run-log alert will say so (the started ones report their own)."""
    from medspa.commands.run import alert_crashed, sigterm_ignored

    reason = "not started: the command running every tenant was stopped by a signal"
    with sigterm_ignored(True):  # a second signal must not cut the list short
        for name in names:
            alert_crashed(base, name, reason)  # type: ignore[arg-type]


def _benchmarks(base: object) -> bool:
    """The peer benchmarks over the tenants' published files and each tenant's peer pages
    rendered again (what job `peer_benchmarks` does); False when a site failed to render."""
    from orchestration.defs.publish.benchmarks import publish_benchmarks

    outcome = publish_benchmarks(base)  # type: ignore[arg-type]
    published = sum(1 for n in outcome.rows.values() if n)
    print(
        f"peer benchmarks: {published} of {len(outcome.rows)} tenants received benchmarks; "
        f"{len(outcome.refreshed)} site(s) re-rendered"
    )
    for name, failure in sorted(outcome.failures.items()):
        print(f"peer pages of {name} failed: {failure}")
    return not outcome.failures


def _add_partitions(base: object, names: list[str]) -> None:
    """Make the `tenant` partitions the registry's, once, before the subprocesses race to add
    theirs: as the daemon's `tenant_partitions_sensor` does, which a deployment run from cron
    does not have. A tenant taken out of the registry loses its partition, so no check that
    lists tenants (`every_tenant_published_recently`) names it for ever; its runs, files and
    PostgreSQL rows stay (`medspa tenant remove` takes them)."""
    from dagster import DagsterInstance

    from medspa.commands.run import using_dagster_home
    from orchestration.defs.automation.tenant_sensor import partition_changes
    from orchestration.tenancy import TENANT_PARTITIONS

    home = base.dagster_home  # type: ignore[attr-defined]
    with using_dagster_home(home):
        instance = DagsterInstance.from_config(str(home))
        try:
            existing = list(instance.get_dynamic_partitions(TENANT_PARTITIONS.name))
            new, gone = partition_changes(names, existing)
            if new:
                instance.add_dynamic_partitions(TENANT_PARTITIONS.name, new)
            for name in gone:
                instance.delete_dynamic_partition(TENANT_PARTITIONS.name, name)
        finally:
            instance.dispose()
