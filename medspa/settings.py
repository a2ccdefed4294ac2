"""Run-time settings: one object, read once from the environment and CLI options.

Every path the project writes is derived from `data_dir`, so a test or a second clinic
gets a fully separate warehouse by pointing `MEDSPA_DATA_DIR` (or `--data-dir`) elsewhere.
KPI windows and thresholds are *not* here: they are dbt vars in `dbt_project.yml` (their one
home). Only the shells (the `medspa` CLI and `orchestration`) build `Settings`; the libraries
receive plain values from them (`ingest_settings()`, paths, the key, the quarantine limit).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestion.duckdb_limits import DuckDBLimits
    from ingestion.pipeline import IngestSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

#: HMAC key used for the seeded demo chain only. Real data needs MEDSPA_PHI_KEY.
DEMO_PHI_KEY = "medspa-demo-key-not-for-real-patients"


#: Shortest MEDSPA_PHI_KEY accepted: HMAC-SHA256's output size; shorter keys are guessable.
PHI_KEY_MIN_BYTES = 32


class DemoKeyWarning(UserWarning):
    """Raised (as a warning) when the demo pseudonymisation key is used on non-demo data."""


class PhiKeyError(ValueError):
    """MEDSPA_PHI_KEY is set but empty or too short: nothing may be pseudonymised with it."""


def resolve_phi_key(value: str | None) -> str:
    """The key to pseudonymise with: the demo key only when MEDSPA_PHI_KEY is *unset*.

    Set-but-empty (a typo in a secrets file) or short is an error, never a silent fallback
    to the public demo key.
    """
    if value is None:
        return DEMO_PHI_KEY
    size = len(value.encode("utf-8"))
    if size < PHI_KEY_MIN_BYTES:
        what = "empty" if not value else f"only {size} bytes long"
        raise PhiKeyError(
            f"MEDSPA_PHI_KEY is set but {what}: set it to a secret of at least "
            f"{PHI_KEY_MIN_BYTES} bytes (or unset it to use the public demo key on demo data)"
        )
    return value


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default.resolve()


def _env_optional_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else None


def _env_systems() -> tuple[str, ...] | None:
    value = os.environ.get("MEDSPA_SYSTEMS")
    if value is None or not value.strip():
        return None
    return tuple(s.strip() for s in value.split(",") if s.strip())


@dataclass(frozen=True)
class Settings:
    """Where things live and the few knobs that are not KPI definitions."""

    data_dir: Path
    landing_dir: Path
    #: Highest share of one table's rows in one load that may be quarantined before the
    #: quarantine check blocks publishing (the contract's default: 1 %).
    quarantine_max_share: float = 0.01
    #: Time zone of the nightly schedule (02:00 local).
    schedule_timezone: str = "America/New_York"
    #: Systems the clinic says it has (MEDSPA_SYSTEMS). None = not declared: absent systems are
    #: simply absent. Declared but never delivered = an error.
    declared_systems: tuple[str, ...] | None = None
    #: Key for HMAC-SHA256 pseudonymisation; never logged.
    phi_key: str = field(default=DEMO_PHI_KEY, repr=False)
    #: Accept symbolic links in the landing folder that point to a file inside it
    #: (MEDSPA_ALLOW_INTERNAL_LINKS=1). Off: every link is refused and reported.
    allow_internal_links: bool = False
    #: PostgreSQL serving target (a role owning the serving database); None = DuckDB only.
    #: A secret: kept out of repr, printed only through `serving.pg_url.mask_url`.
    serving_url: str | None = field(default=None, repr=False)
    #: Password of the BI login (`medspa_bi`); None = the role exists but cannot log in.
    bi_password: str | None = field(default=None, repr=False)
    #: First part of every PostgreSQL role the deployment creates (`<prefix>_bi`, `_read`, ...).
    #: Roles belong to the server, so two deployments on one server need two prefixes.
    serving_role_prefix: str = "medspa"
    #: How long a PostgreSQL publish waits for running BI queries before it gives up.
    serving_lock_timeout_s: float = 60.0
    #: DuckDB `memory_limit` and `threads` for the loader's connections (it spills to
    #: `<data_dir>/.duckdb_tmp` beyond the limit); sized for a 2-core machine shared by others.
    duckdb_memory_limit: str = "2GB"
    duckdb_threads: int = 2
    #: The tenant registry (`tenants.yml`, MEDSPA_TENANTS_FILE); None = one tenant, `default`,
    #: whose folders are the data dir itself.
    tenants_file: Path | None = None
    #: The Dagster instance's home when it is not `<data-dir>/dagster`: every tenant's settings
    #: point here at the deployment's home, so all tenants share one instance (one UI, one run
    #: queue whose tag limits keep a tenant's runs one at a time).
    instance_dir: Path | None = None

    @classmethod
    def from_env(
        cls, data_dir: Path | str | None = None, landing_dir: Path | str | None = None
    ) -> Settings:
        """Settings from CLI options (highest priority), then MEDSPA_* variables, then defaults."""
        data = (
            Path(data_dir).expanduser().resolve()
            if data_dir
            else _env_path("MEDSPA_DATA_DIR", Path.cwd() / "data")
        )
        landing = (
            Path(landing_dir).expanduser().resolve()
            if landing_dir
            else _env_path("MEDSPA_LANDING_DIR", data / "landing")
        )
        return cls(
            data_dir=data,
            landing_dir=landing,
            quarantine_max_share=float(os.environ.get("MEDSPA_QUARANTINE_MAX_SHARE", "0.01")),
            schedule_timezone=os.environ.get("MEDSPA_SCHEDULE_TZ", "America/New_York"),
            declared_systems=_env_systems(),
            phi_key=os.environ.get("MEDSPA_PHI_KEY", DEMO_PHI_KEY),
            allow_internal_links=os.environ.get("MEDSPA_ALLOW_INTERNAL_LINKS", "") == "1",
            serving_url=os.environ.get("MEDSPA_SERVING_URL") or None,
            bi_password=os.environ.get("MEDSPA_BI_PASSWORD") or None,
            serving_role_prefix=os.environ.get("MEDSPA_SERVING_ROLE_PREFIX") or "medspa",
            serving_lock_timeout_s=float(os.environ.get("MEDSPA_SERVING_LOCK_TIMEOUT", "60")),
            duckdb_memory_limit=os.environ.get("MEDSPA_DUCKDB_MEMORY_LIMIT", "2GB"),
            duckdb_threads=int(os.environ.get("MEDSPA_DUCKDB_THREADS", "2")),
            tenants_file=_env_optional_path("MEDSPA_TENANTS_FILE"),
        )

    # Derived paths: one rule each, never stored separately.
    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving.duckdb"

    @property
    def pg_dir(self) -> Path:
        """The local PostgreSQL cluster of `make pg` (data, socket, log, certificate)."""
        return self.data_dir / "pg"

    @property
    def site_dir(self) -> Path:
        return self.data_dir / "site"

    @property
    def peer_benchmarks_path(self) -> Path:
        """This tenant's peer benchmarks (written by `kpi_benchmarks`, read by its site)."""
        return self.data_dir / "peer_benchmarks.duckdb"

    @property
    def dagster_home(self) -> Path:
        """The deployment's Dagster instance: the same folder for every tenant's settings."""
        return self.instance_dir or self.data_dir / "dagster"

    @property
    def quality_dir(self) -> Path:
        """Kept validation results (browsable from the site's data-quality page)."""
        return self.data_dir / "quality"

    @property
    def uses_demo_key(self) -> bool:
        """The public demo key, or a demo tenant's key derived from it (`medspa.tenants.
        demo_tenant_key`): anyone can compute either, so real data under one is not
        pseudonymised at all."""
        return self.phi_key == DEMO_PHI_KEY or self.phi_key.startswith(f"{DEMO_PHI_KEY}:")

    @property
    def landing_is_demo(self) -> bool:
        """The demo generator marks the folders it writes; anything else is a clinic's real data."""
        from demo.state import is_demo_folder

        return is_demo_folder(self.landing_dir)

    @property
    def demo_key_on_real_data(self) -> bool:
        return self.uses_demo_key and not self.landing_is_demo

    def warn_if_demo_key_on_real_data(self, landing_is_demo: bool | None = None) -> None:
        """Warn loudly when real (non-generated) data would be pseudonymised with the demo key."""
        if landing_is_demo is None:
            landing_is_demo = self.landing_is_demo
        if self.uses_demo_key and not landing_is_demo:
            fix = (
                "Set MEDSPA_PHI_KEY to a secret before loading real data."
                if self.phi_key == DEMO_PHI_KEY
                else "This is a demo tenant (`demo: true` in tenants.yml): give it "
                "`phi_key_env` naming a secret before loading real data."
            )
            warnings.warn(
                "patient and lead ids of data the demo generator did not write are "
                f"pseudonymised with a public demo key. {fix}",
                DemoKeyWarning,
                stacklevel=2,
            )

    def ingest_settings(self) -> IngestSettings:
        """What the loader needs of these settings, as plain values."""
        from ingestion.pipeline import IngestSettings

        return IngestSettings(
            landing_dir=self.landing_dir,
            data_dir=self.data_dir,
            warehouse_path=self.warehouse_path,
            declared_systems=self.declared_systems,
            allow_internal_links=self.allow_internal_links,
            limits=self.duckdb_limits(),
        )

    def duckdb_limits(self) -> DuckDBLimits:
        """DuckDB memory and thread limits for the loader, spilling under the data dir."""
        from ingestion.duckdb_limits import DuckDBLimits

        return DuckDBLimits.under(self.data_dir, self.duckdb_memory_limit, self.duckdb_threads)

    def ensure_dirs(self) -> None:
        """Create the folders; those that can hold patient data are owner-only (0700)."""
        from safeio.private import private_dir

        for p in (self.data_dir, self.landing_dir):
            p.mkdir(parents=True, exist_ok=True)
        for p in (self.dagster_home, self.quality_dir, self.data_dir / "logs"):
            private_dir(p)
