"""The resources every asset shares: run-time settings and the dbt CLI.

Settings are a resource with optional fields rather than module globals, so
`medspa run --data-dir X --landing Y --tenants-file F` and a test's temp directory reach every
asset through run config, while the schedule and sensors fall back to `MEDSPA_*` variables.
Assets ask for the settings of the tenant they run for (`settings(context)`: the run's
partition key), built from the deployment's settings by `medspa.tenants.tenant_settings`.
"""

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from medspa.dbt_invocation import DbtInvocation, dbt_invocation, private_spill_dir
from medspa.settings import DBT_PROJECT_DIR, Settings
from medspa.tenants import settings_for_tenant
from orchestration.dbt_cli import MedspaDbtCliResource
from orchestration.manifest import dbt_executable
from orchestration.tenancy import PARTITION_TAG, SETTLE_TAG, TENANT_TAG, tenant_of, tenant_of_run

#: How long a run nobody watches waits for its tenant's run lock before it is refused: an
#: engineer's run from the UI, or `medspa run`, at 02:00 would otherwise cost the night its
#: refresh (the schedule's one retry came about 40 s later). A run a person started is refused
#: at once, as before.
UNATTENDED_LOCK_WAIT_SECONDS = 30 * 60


class MedspaSettings(dg.ConfigurableResource):
    """Data and landing directories and the tenant registry; None = `MEDSPA_*` env or defaults."""

    data_dir: str | None = None
    landing_dir: str | None = None
    tenants_file: str | None = None

    #: The tenant's run lock while a run holds it (`setup_for_execution`).
    _run_lock: ExitStack = PrivateAttr(default_factory=ExitStack)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Hold the run's tenant's run lock (`medspa.run_lock`) until the run ends.

        Runs execute in one process (`in_process_executor`), so this is set up once per run,
        before its first step, and torn down after its last. Dagster's queue keeps the runs it
        launches one at a time per tenant, but not a `medspa run` started beside them: with
        the lock, whichever of the two starts second stops before touching the warehouse and
        names the other, instead of failing mid-step on DuckDB's file lock. A run that names
        no tenant (the peer benchmarks job reads every tenant's published files and writes
        none of their warehouses) and a sensor's evaluation (no run) take no lock; nor does a
        run of a tenant the registry does not list: it has no data dir, and its first step
        fails on that (`settings`), naming the registry's tenants.

        Before the lock, the tenant's PHI key is checked as `medspa run` checks it: an empty or
        short MEDSPA_PHI_KEY fails the run here (`PhiKeyError`, naming the variable), before
        ingest, the raw checks or freshness have written anything, instead of at the dbt step.
        Under the lock, a key other than the one the warehouse's models were built with fails
        it too (`medspa.phi_key_guard`: every patient key would change).

        Holding the lock proves no other run of the tenant is past this point, so the tenant's
        runs still STARTED or STARTING in the instance were left so by a killed process: they
        are marked failed (`orchestration.stale_runs`), or they would hold the tenant's place
        in the run queue for good. A publish killed between the swaps of its files is finished
        (`serving.swap_journal`), and what a killed publish or site build left in the data
        dir (`serving.publish.remove_leftovers`, `dashboards.site.remove_scratch_leftovers`) is
        removed: no other run of the tenant can be writing it.
        """
        from medspa.phi_key_guard import check_key_in_use
        from medspa.run_lock import data_dir_lock
        from medspa.settings import PhiKeyError, resolve_phi_key
        from medspa.tenants import TenantRegistryError

        run = context.dagster_run
        tags = (run.tags if run is not None else None) or {}
        tenant = tags.get(PARTITION_TAG) or tags.get(TENANT_TAG)
        if tenant is None:
            return
        try:
            settings = settings_for_tenant(self.base_settings(), tenant)
        except TenantRegistryError:
            return
        key = resolve_phi_key(settings.phi_key)  # PhiKeyError (names the variable) first
        unattended = SETTLE_TAG in tags  # the schedule's and the landing sensor's runs
        self._run_lock.enter_context(
            data_dir_lock(
                settings.data_dir,
                f"Dagster run {run.run_id} of tenant {tenant!r}",
                wait_seconds=UNATTENDED_LOCK_WAIT_SECONDS if unattended else 0.0,
                on_wait=context.log.warning if context.log is not None else None,
            )
        )
        try:
            check_key_in_use(settings.warehouse_path, key)  # another key: nothing runs
        except PhiKeyError:
            self._run_lock.close()
            raise
        _clean_up_after_killed_runs(context, settings, tenant)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Release the run lock (`setup_for_execution`)."""
        self._run_lock.close()

    def base_settings(self) -> Settings:
        """The deployment's settings (shared Dagster home, the registry), not one tenant's."""
        settings = Settings.from_env(self.data_dir, self.landing_dir)
        if self.tenants_file is not None:
            settings = replace(settings, tenants_file=Path(self.tenants_file).resolve())
        return settings

    def settings(
        self, context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext
    ) -> Settings:
        """The settings of the tenant this step runs for (its partition key)."""
        return settings_for_tenant(self.base_settings(), tenant_of(context))


def run_settings(run: dg.DagsterRun) -> Settings:
    """A run's tenant's settings, as its own resources derive them, for code outside the run
    (its sensors): the deployment's dirs and registry from the run config, else the `MEDSPA_*`
    environment; the tenant is the run's partition."""
    config = (run.run_config or {}).get("resources", {}).get("medspa", {}).get("config", {})
    return settings_for_tenant(MedspaSettings(**config).base_settings(), tenant_of_run(run))


def _clean_up_after_killed_runs(
    context: dg.InitResourceContext, settings: Settings, tenant: str
) -> None:
    """What killed runs of the tenant left behind; call only while holding its run lock.

    Best effort: a failure here is logged and the run goes on (it is no worse off than
    before the clean-up existed).
    """
    from dashboards.site import remove_scratch_leftovers
    from orchestration.stale_runs import fail_stale_runs, report_killed_runs
    from serving.publish import remove_leftovers
    from serving.swap_journal import finish_swaps

    run, log = context.dagster_run, context.log
    instance = context.instance if run is not None else None
    try:
        if instance is not None:
            failed = fail_stale_runs(instance, tenant, run.run_id)
            for stale in failed:
                if log is not None:
                    log.warning(
                        f"run {stale} of tenant {tenant!r} was still marked as running, but "
                        "its process had ended without finishing: marked it failed"
                    )
            report_killed_runs(instance, failed, settings, tenant, _warner(log))
        # First the swaps a publish killed mid-way left unmade (its files are audited): then
        # the published files agree again, and what is left over can go.
        finished = finish_swaps(settings.serving_path)
        if finished and log is not None:
            log.warning(
                "a killed publish had swapped in only part of its files; finished it: "
                + ", ".join(p.name for p in finished)
            )
        removed = remove_leftovers(settings.serving_path) + remove_scratch_leftovers(
            settings.site_dir
        )
        if removed and log is not None:
            log.info(f"removed what killed runs left: {', '.join(p.name for p in removed)}")
    except Exception as exc:  # the run itself must not fail on its clean-up
        if log is not None:
            log.warning(f"clean-up after killed runs failed: {type(exc).__name__}: {exc}")


def _warner(log: Any) -> Callable[[str], None]:
    """`log.warning`, or nothing without a log (a resource built outside a run)."""
    return log.warning if log is not None else (lambda message: None)


class WarehouseMissing(RuntimeError):
    """A step that reads the warehouse found none: it would create an empty one (DuckDB
    creates a file it is asked to open) and fail further on, blaming the marts or a table."""


def require_warehouse(settings: Settings) -> None:
    """Stop a step that reads the warehouse before it creates an empty one."""
    if not settings.warehouse_path.is_file():
        raise WarehouseMissing(
            f"warehouse not found at {settings.warehouse_path}: run the nightly job (its "
            "raw_landing step loads the landing folder and creates it), or point "
            "MEDSPA_DATA_DIR at the data dir that holds it"
        )


def dbt_step_call(settings: Settings, target: Path) -> DbtInvocation:
    """The `dbt build` every Dagster dbt step runs (schedule, sensor or UI alike).

    Every dbt step pseudonymises, so each one warns when the public demo key meets non-demo
    data, and an empty or short MEDSPA_PHI_KEY raises PhiKeyError before dbt starts.

    dbt's unit tests are left out: they check a model's SQL against fixed fixtures, not the
    data, so their verdict changes only with the code, and `make test` (CI) runs all of them
    against every change. In the nightly they cost a fixture table per test and model (about
    10 s of a large chain's run); the data tests stay, as asset checks.
    """
    settings.warn_if_demo_key_on_real_data()
    private_spill_dir(settings)
    return dbt_invocation(
        settings,
        "build",
        target_path=target,
        log_path=target,
        exclude_resource_types=NIGHTLY_EXCLUDED_RESOURCE_TYPES,
    )


#: dbt resource types the Dagster steps do not build (see `dbt_step_call`).
NIGHTLY_EXCLUDED_RESOURCE_TYPES = ("unit_test",)


def settings_run_config(
    data_dir: Path | str | None,
    landing_dir: Path | str | None,
    tenants_file: Path | str | None = None,
) -> dict:
    """Run config that points every asset of a run at one data dir, landing and registry."""
    config: dict[str, str] = {}
    if data_dir is not None:
        config["data_dir"] = str(data_dir)
    if landing_dir is not None:
        config["landing_dir"] = str(landing_dir)
    if tenants_file is not None:
        config["tenants_file"] = str(tenants_file)
    return {"resources": {"medspa": {"config": config}}}


def dbt_resource() -> MedspaDbtCliResource:
    return MedspaDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )


RESOURCES: dict[str, object] = {"medspa": MedspaSettings(), "dbt": dbt_resource()}
