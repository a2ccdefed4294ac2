"""`medspa run`: the nightly Dagster job, in this process, then a summary.

It executes exactly the job the 02:00 schedule and the landing sensor start
(`orchestration.definitions:defs`, job `nightly`), against a persistent Dagster instance under
`<data-dir>/dagster`, so the run also shows up in the UI (`make dev`). Exit status 0 when the
run succeeded (warnings allowed), 1 when it failed (a blocking check, a required table missing,
a dbt error): then nothing new was published.

With a tenant registry (`--tenants-file` or MEDSPA_TENANTS_FILE) it runs one tenant's
partition (`--tenant NAME`) or every tenant (`--all-tenants`: one subprocess per tenant, at most
`--parallel` at a time, see `medspa.commands.run_tenants`). Without one it runs the `default`
tenant, whose folders are the data dir itself: the same paths as before tenants existed. The
tenant, its folders and its key are found in `medspa.tenants.command_tenant`, as `medspa ingest`,
`transform` and `site` find them; with a registry, `--landing` (the registry says where each
tenant's landing is) and a tenant's own folder as `--data-dir` are refused, exit status 2.

It runs outside Dagster's run queue, so it takes the tenant's run lock itself
(`medspa.run_lock`) before loading anything: while another run of the tenant is running, a
second `medspa run` or a run Dagster launched (schedule, sensor, the UI), it is refused (exit
status 2), naming the other run.

Interrupted (Ctrl-C, or SIGTERM, which Dagster handles the same way), it exits with status 130
and says whether the run had published anything: publishing writes a new file and swaps it in,
so a run interrupted before the swap leaves the previous `serving.duckdb` as it was.

`--unattended` is for a scheduler of the deployment's own (cron, a systemd timer), which is
nobody at a terminal: the run is the nightly schedule's run, started from a command line. Its
load leaves a file modified in the last `SETTLE_SECONDS` for the next run (an exporter may be
writing it at that minute), it waits for another run of the tenant (up to
`UNATTENDED_LOCK_WAIT_SECONDS`) instead of being refused, and a signal that stops it (the
scheduler's timeout) makes it a failed nightly, alerted and counted by `medspa status`, not a
run a person stopped.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout, suppress
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from medspa.machine_errors import machine_error
from medspa.run_lock import RunLockedError, data_dir_lock

if TYPE_CHECKING:
    from medspa.settings import Settings
    from orchestration.summary import RunSummary


@contextmanager
def _collection_paused() -> Iterator[None]:
    """No garbage collection while Dagster, dagster-dbt and dbt are imported.

    Importing them creates about 300,000 objects the collector tracks, and as their number
    grows the collector keeps walking all of them again: measured on 2 cores, importing the
    job's modules took 7.2-8.0 s with collection and 6.0-6.7 s without. The imports create
    almost no garbage, so nothing is lost by collecting once they are done; collection is
    switched back on as it was found (a caller that had it off keeps it off).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def add_arguments(parser: argparse.ArgumentParser, *, tenants: bool = True) -> None:
    """`medspa run`'s options; `tenants` off (`medspa demo`): without the registry's."""
    from medspa.cli import add_data_dir_option, add_tenant_options

    add_data_dir_option(parser)
    parser.add_argument(
        "--landing",
        default=None,
        help="landing folder (default: $MEDSPA_LANDING_DIR or <data-dir>/landing; not with a "
        "tenant registry, whose `landing:` says it)",
    )
    if tenants:
        which = parser.add_mutually_exclusive_group()
        add_tenant_options(parser, which)
        which.add_argument(
            "--all-tenants", action="store_true", help="run every tenant, --parallel at a time"
        )
        parser.add_argument(
            "--parallel",
            type=int,
            default=2,
            metavar="N",
            help="with --all-tenants: tenants running at once (default 2)",
        )
        parser.add_argument(
            "--unattended",
            action="store_true",
            help="run as the nightly schedule runs, for cron or another scheduler: files "
            "modified in the last 30 s are left for the next run, a run of the tenant in "
            "progress is waited for (up to 30 min) instead of refused, and a stop by a signal "
            "(a timeout) is a failed nightly with its alert, not a run a person stopped",
        )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="stream Dagster's event log while running"
    )


def _install_instance_config(home: Path) -> None:
    """The repo's dagster.yaml in DAGSTER_HOME, as `make dev` copies it every time.

    A home an earlier version of the project made keeps that version's file otherwise, and
    with it the old run queue, monitoring and retention: the instance's configuration is the
    repository's `dagster.yaml`. A file that differs is replaced, kept beside as
    `dagster.yaml.before-update`, and the replacement is said on stderr.
    """
    from medspa.settings import REPO_ROOT

    source, target = REPO_ROOT / "dagster.yaml", home / "dagster.yaml"
    if target.exists():
        if target.read_bytes() == source.read_bytes():
            return
        backup = home / "dagster.yaml.before-update"
        shutil.copyfile(target, backup)
        print(
            f"note: {target} differed from this version's dagster.yaml: replaced (the old file "
            f"is {backup.name}); change Dagster's settings in the repository's dagster.yaml",
            file=sys.stderr,
        )
    home.mkdir(parents=True, exist_ok=True)
    # A name of its own: two tenants' runs started together may both replace it.
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".dagster.yaml.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(source.read_bytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)  # a reader (the daemon) sees the old file or the new, never half
    finally:
        Path(tmp).unlink(missing_ok=True)


def has_run_history(home: Path) -> bool:
    """Whether a Dagster instance ever recorded anything at `home`: an instance opened where
    none did would create its storage, which a command that only reads must not."""
    return (home / "dagster.yaml").is_file() or (home / "history").is_dir()


@contextmanager
def using_dagster_home(path: Path, *, install_config: bool = True) -> Iterator[None]:
    """DAGSTER_HOME for this run (dagster.yaml refers to it), restored afterwards; the
    repository's dagster.yaml installed there first unless `install_config` is off."""
    if install_config:
        _install_instance_config(path)
    saved = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(path)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = saved


@contextmanager
def _quiet(log_path: Path, enabled: bool) -> Iterator[TextIO]:
    """Send what dbt, dlt and DuckDB print (progress bars, per-model lines) to a log file.

    Redirected at the file-descriptor level: DuckDB's progress bar is written by C++ code that
    Python's `sys.stdout` never sees. Yields a stream to the real terminal for the step
    progress lines, which must stay visible while everything else goes to the log.
    """
    if not enabled:
        yield sys.stdout
        return
    from safeio.private import PRIVATE_FILE_MODE, private_dir

    private_dir(log_path.parent)  # dbt and dlt output may name rows: owner-only
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    os.chmod(log_path, PRIVATE_FILE_MODE)
    terminal = open(os.dup(saved[0]), "w", encoding="utf-8")  # noqa: SIM115 (closed below)
    with open(fd, "w", encoding="utf-8") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            with redirect_stdout(fh), redirect_stderr(fh):
                yield terminal
        finally:
            with suppress(OSError):  # a closed pipe on the terminal must not fail the run
                terminal.close()
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def base_settings(
    data_dir: str | Path | None, landing: str | Path | None, tenants_file: Path | None = None
) -> Settings:
    """The deployment's settings: CLI options over `MEDSPA_*` variables (incl. the registry)."""
    from dataclasses import replace

    from medspa.settings import Settings

    settings = Settings.from_env(data_dir, landing)
    if tenants_file is not None:
        settings = replace(settings, tenants_file=Path(tenants_file).expanduser().resolve())
    return settings


def execute(
    data_dir: str | Path | None,
    landing: str | Path | None,
    verbose: bool = False,
    *,
    tenants_file: Path | None = None,
    tenant: str | None = None,
    progress: bool = False,
    freeze_imports: bool = False,
    published: PublishWitness | None = None,
    unattended: bool = False,
) -> tuple[RunSummary, Settings]:
    """Run the nightly job for one tenant; return (RunSummary, the tenant's Settings).

    Used by the CLI and by tests. `tenant` None = the registry's only tenant, or `default`.
    `progress` prints each step's start and end (with its duration) on the terminal.
    `freeze_imports` (only in a process of its own, `medspa.cli.entry`): once Dagster, dbt and
    the job are imported, freeze what exists (`gc.freeze`). Those objects live as long as the
    process, and a large nightly's full collections (5, 2.0 s of this process's time beside
    dbt) then walk only the run's own objects; a program that calls `execute` itself keeps its
    collector untouched, or its own garbage from then on would never be collected.
    `published` (if given) notes the tenant's published files before the run starts, so the
    caller can tell whether an interrupted run replaced them. `unattended`: the schedule's run
    from a command line (the module's docstring).
    """
    from medspa.settings import PhiKeyError, resolve_phi_key
    from medspa.tenants import TenantRegistryError, chosen_command_tenant, tenant_settings

    base = base_settings(data_dir, landing, tenants_file)
    chosen = chosen_command_tenant(base, tenant, landing_option=landing, all_tenants=True)
    try:  # the tenant exists: a key it cannot use is an alert, not only a message here
        settings = tenant_settings(base, chosen)
        resolve_phi_key(settings.phi_key)  # PhiKeyError (names the variable) before anything
    except (PhiKeyError, TenantRegistryError) as exc:
        _alert_refused(base, chosen.name, exc)
        raise
    reported = False  # whether the run's record (and its alert, if any) has been made
    try:  # a crash (a full disk, a read-only data dir) still alerts: cron output goes unread
        with _collection_paused():
            from dagster import DagsterInstance

            from orchestration.definitions import defs
            from orchestration.defs.automation.landing_sensor import UNATTENDED_RUN_TAGS
            from orchestration.event_batch import release as release_event_engines
            from orchestration.instance_sqlite import release as release_instance_files
            from orchestration.progress import execute_with_progress
            from orchestration.resources import UNATTENDED_LOCK_WAIT_SECONDS, settings_run_config
            from orchestration.summary import summarize
            from orchestration.tenancy import TENANT_PARTITIONS, tenant_run_tags
            from quality.gx_duckdb import import_gx_in_background
        if freeze_imports:
            gc.freeze()
        settings.ensure_dirs()
        settings.warn_if_demo_key_on_real_data()
        with (
            data_dir_lock(
                settings.data_dir,
                "`medspa run --unattended`" if unattended else "`medspa run`",
                wait_seconds=UNATTENDED_LOCK_WAIT_SECONDS if unattended else 0.0,
                on_wait=_warn,
            ),
            using_dagster_home(settings.dagster_home),
        ):
            if published is not None:
                published.watch(settings.serving_path)
            instance = DagsterInstance.from_config(str(settings.dagster_home))
            try:
                if not instance.has_dynamic_partition(TENANT_PARTITIONS.name, chosen.name):
                    instance.add_dynamic_partitions(TENANT_PARTITIONS.name, [chosen.name])
                run_config = settings_run_config(base.data_dir, base.landing_dir, base.tenants_file)
                # The summary reports failures; the console log is for --verbose (and the UI).
                level = "INFO" if verbose else "CRITICAL"
                run_config["loggers"] = {"console": {"config": {"log_level": level}}}
                with _quiet(settings.data_dir / "logs" / "last_run.log", not verbose) as terminal:
                    result = execute_with_progress(
                        defs.resolve_job_def("nightly"),
                        instance,
                        terminal if progress else None,
                        # the raw suites' GX import overlaps the load instead of opening their step
                        on_first_step=import_gx_in_background,
                        run_config=run_config,
                        raise_on_error=False,
                        partition_key=chosen.name,
                        tags={
                            **(UNATTENDED_RUN_TAGS if unattended else {}),
                            **tenant_run_tags(chosen.name),
                        },
                    )
                # the run has ended: a scheduler's further SIGTERM must not cut its record short
                with sigterm_ignored(unattended):
                    summary = summarize(
                        instance,
                        result.run_id,
                        result.success,
                        settings.serving_path,
                        settings.warehouse_path,
                    )
                    summary.demo_key_on_real_data = settings.demo_key_on_real_data
                    _record_run(
                        instance, summary, settings, tenant=chosen.name, unattended=unattended
                    )
                    reported = True
                    if not was_interrupted(summary):
                        _prune_history(instance, settings)
            finally:
                instance.dispose()
                release_event_engines()
                release_instance_files()
        return summary, settings
    except (PhiKeyError, TenantRegistryError, RunLockedError):
        raise  # alerted above, or a lock refusal, which the README says posts nothing
    except Exception as exc:
        alert_crashed(base, chosen.name, error_text(exc))
        raise
    except KeyboardInterrupt as exc:
        # a scheduler's signal outside the Dagster run (its start-up, the wait for the lock):
        # no record will say it, so the alert does; a person's Ctrl-C posts nothing
        if not unattended or reported:
            raise
        with sigterm_ignored(True):
            alert_crashed(base, chosen.name, "stopped by a signal before the run finished")
        raise UnattendedRunStopped() from exc


class UnattendedRunStopped(KeyboardInterrupt):
    """An unattended run stopped by a signal before its Dagster run was recorded; its `failed`
    alert has been posted (when alerts are set up)."""


@contextmanager
def sigterm_ignored(enabled: bool) -> Iterator[None]:
    """SIGTERM ignored for the block (in the main thread, when `enabled`): an unattended run
    that has ended, or was stopped, records and reports that before it exits, and a second
    signal (a supervisor signalling the process group after `--all-tenants` forwarded one)
    would otherwise cut the report short."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _record_run(
    instance: object,
    summary: RunSummary,
    settings: Settings,
    *,
    tenant: str,
    unattended: bool = False,
) -> None:
    """This run -- published, blocked or failed -- into the warehouse's run log, at once; a run
    that did not publish posts its alert too.

    An interrupted run was stopped by a person (tagged, recorded as cancelled, no alert) unless
    it ran `unattended`: then the signal came from its scheduler, and it is a failed nightly."""
    import duckdb

    from orchestration import run_log

    interrupted = was_interrupted(summary)
    by_person = interrupted and not unattended
    if by_person:
        _tag_interrupted(instance, summary.run_id)
    record = run_log.record_of(
        instance,  # type: ignore[arg-type]
        summary.run_id,
        published=summary.published is not None,
        demo_key_on_real_data=settings.demo_key_on_real_data,
        interrupted=by_person,
    )
    if interrupted:
        # After Ctrl-C stopped a load, opening the warehouse again in this process spun for
        # good inside DuckDB's instance cache (`duckdb.connect`, 100 % CPU, no error): the
        # record is kept pending instead, and the next write to the warehouse takes it
        # (the next run's own record, or the run-log sensor's).
        run_log.defer_record(settings.warehouse_path, record)
    else:
        try:
            run_log.write_record(settings.warehouse_path, record)
        except duckdb.Error as exc:  # e.g. a dbt process of the failed run still holds the file
            # write_record kept it pending: the next write to the warehouse records it
            print(
                f"warning: run {summary.run_id} not yet recorded in the warehouse's run log "
                f"({type(exc).__name__}); kept in {run_log.PENDING_DIR}/, the next run records "
                "it (Dagster's run history has it meanwhile)",
                file=sys.stderr,
            )
    _alert(instance, record, settings, tenant)  # after the record is safe: it never costs it


def _warn(message: str) -> None:
    """What an alert that could not be sent says on the terminal."""
    print(f"warning: {message}", file=sys.stderr)


def _alert_refused(base: Settings, tenant: str, error: Exception) -> None:
    """A registry tenant that cannot run (its key variable unset, empty or short) posts an alert:
    no Dagster run exists for the run-log sensor to hear, and a cron line's output goes unread.
    The error names the variable, never its value."""
    from orchestration.run_alerts import send_refused_alert

    send_refused_alert(base.alert_webhook_url, tenant, str(error), warn=_warn)


def error_text(exc: BaseException) -> str:
    """One line for an error the operator can act on: an OSError's reason and its path (a full
    disk, a read-only data dir), else the exception's class and message."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{type(exc).__name__}: {exc.strerror}{where}"
    return f"{type(exc).__name__}: {exc}"


def alert_crashed(base: Settings, tenant: str, reason: str) -> None:
    """A run that stopped on an error of its own (not a failed step, which the run log and its
    alert report), or an unattended one its scheduler stopped before its record, posts that it
    crashed, with `reason`: it never reached the run log, and the next run's alert would come a
    day late."""
    from orchestration.run_alerts import crashed_payload, send_refused_alert

    send_refused_alert(base.alert_webhook_url, tenant, reason, warn=_warn, payload=crashed_payload)


def _tag_interrupted(instance: object, run_id: str) -> None:
    """Mark the run stopped by a person in Dagster's history (which ends it as a failure), so
    that `medspa status` and the next publish's recovery alert pass it over as a cancelled run,
    the README's promise; a failure to tag is a warning, never the run's outcome."""
    from orchestration.run_events import INTERRUPTED_TAG

    try:
        instance.add_run_tags(run_id, {INTERRUPTED_TAG: "true"})  # type: ignore[attr-defined]
    except Exception as exc:
        print(
            f"warning: run {run_id} not marked interrupted in Dagster's run history "
            f"({type(exc).__name__}): `medspa status` will count it as a failed nightly",
            file=sys.stderr,
        )


def _alert(instance: object, record: object, settings: Settings, tenant: str) -> None:
    """A run that did not publish posts its alert (`orchestration.run_alerts`), if set up; one
    that published after one that did not posts that the tenant recovered."""
    from orchestration.run_alerts import send_recovery_alert, send_run_alert
    from orchestration.tenant_status import unpublished_before

    def recovered_from() -> str | None:
        return unpublished_before(instance, tenant, record.run_id)  # type: ignore[arg-type, attr-defined]

    url = settings.alert_webhook_url
    send_run_alert(url, tenant, record, warn=_warn)  # type: ignore[arg-type]
    send_recovery_alert(url, tenant, record, recovered_from, warn=_warn)  # type: ignore[arg-type]


def _prune_history(instance: object, settings: Settings) -> None:
    """Dagster's run history pruned, once a day across runs (`orchestration.run_pruning`), so a
    deployment driven by cron rather than the daemon is pruned too. Housekeeping: a failure is
    reported and the run's outcome stands."""
    from orchestration.run_pruning import prune_if_due

    try:
        report = prune_if_due(instance, settings.run_history_days)  # type: ignore[arg-type]
    except Exception as exc:
        print(
            f"warning: Dagster's run history was not pruned ({type(exc).__name__}: {exc})",
            file=sys.stderr,
        )
        return
    if report is not None and report.deleted:
        print(report.to_text())


def _identity(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is replaced: inode, modification time, size (None: absent)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class PublishWitness:
    """Whether a run replaced the tenant's published files (`serving.duckdb`, the scorecard).

    Every publish swaps a new file in, even one that changed no row, and the site and
    PostgreSQL are published only after `serving.duckdb`: unchanged files mean nothing was
    published.
    """

    def __init__(self) -> None:
        self.paths: tuple[Path, ...] = ()
        self.before: tuple[tuple[int, int, int] | None, ...] = ()

    def watch(self, serving_path: Path) -> None:
        from serving.scorecard_file import scorecard_path

        self.paths = (serving_path, scorecard_path(serving_path))
        self.before = tuple(_identity(p) for p in self.paths)

    def changed(self) -> bool:
        return tuple(_identity(p) for p in self.paths) != self.before


#: What a step's failure says when an interrupt stopped it: Dagster's own error, Python's, or
#: DuckDB's (a query stops when a signal handler raises while it runs).
_INTERRUPTED_MARKS = (
    "DagsterExecutionInterruptedError",
    "KeyboardInterrupt",
    "Query interrupted",
    "INTERRUPT Error",
    "Execution was interrupted",
)


def was_interrupted(summary: RunSummary) -> bool:
    """Whether a failed run failed because it was interrupted (Ctrl-C, SIGTERM)."""
    return not summary.success and any(
        mark in failure for failure in summary.failures for mark in _INTERRUPTED_MARKS
    )


def _interrupted(run_id: str | None, published: PublishWitness, *, reported: bool = False) -> int:
    """Say what an interrupted run left; exit status 130, as a shell reports Ctrl-C.
    `reported`: an unattended run that did not publish, recorded or alerted as failed."""
    if run_id is not None:
        print(f"run {run_id}: interrupted")
    if reported:
        print("interrupted: an unattended run, reported as a failed nightly (alert, medspa status)")
    if published.changed():
        print(
            "interrupted: this run had already published serving.duckdb; "
            "the steps after it did not finish"
        )
    else:
        print("interrupted: nothing was published by this run")
    return 130


def sigterm_interrupts() -> None:
    """SIGTERM (a scheduler's timeout, `kill`) raises KeyboardInterrupt from here on, as Ctrl-C
    does: without a handler it would end the process at once, outside a Dagster run (waiting
    for the lock, its set-up) with no alert. Inside the run Dagster handles it the same way."""

    def interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stops the run; more add nothing
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def _print_full_log(settings: Settings) -> None:
    """Point to the run's log of what dbt, dlt and Dagster printed, when it holds anything.

    A run whose set-up failed (the PHI key guard, the run lock) stops before any step writes
    there: an empty file named as "the full log" sends a person looking for nothing, and the
    summary's `error: set-up: ...` line already says all there is.
    """
    log = settings.data_dir / "logs" / "last_run.log"
    if log.is_file() and log.stat().st_size > 0:
        print(f"full log: {log} (or make dev)")


def run(args: argparse.Namespace) -> int:
    from medspa.settings import PhiKeyError
    from medspa.tenants import TenantRegistryError

    if getattr(args, "all_tenants", False):
        from medspa.commands.run_tenants import run_all_tenants

        return run_all_tenants(args)
    unattended = getattr(args, "unattended", False)
    if unattended:
        sigterm_interrupts()
    published = PublishWitness()
    try:
        summary, settings = execute(
            args.data_dir,
            args.landing,
            verbose=args.verbose,
            tenants_file=getattr(args, "tenants_file", None),
            tenant=getattr(args, "tenant", None),
            progress=True,
            freeze_imports=getattr(args, "_own_process", False),
            published=published,
            unattended=unattended,
        )
    except (PhiKeyError, TenantRegistryError, RunLockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # the machine's problem, not the code's (a full disk, also under Dagster's SQLite run
        # history): said in one line
        trouble = machine_error(exc)
        if trouble is None:
            raise
        print(f"error: {error_text(trouble)}", file=sys.stderr)
        print(
            "the run stopped there and the next run starts from the last good state: free the "
            "space or fix the permission, then run again",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt as exc:
        return _interrupted(None, published, reported=isinstance(exc, UnattendedRunStopped))
    if was_interrupted(summary):
        # recorded as failed (and alerted) unless it had published: then its record says so
        reported = unattended and summary.published is None
        code = _interrupted(summary.run_id, published, reported=reported)
        if not args.verbose:
            _print_full_log(settings)
        return code
    print(summary.to_text())
    if not args.verbose:
        _print_full_log(settings)
    if summary.success:
        print(f"serving database: {settings.serving_path}")
    return 0 if summary.success else 1
