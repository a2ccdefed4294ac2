"""Run-time settings: one object, read once from the environment and CLI options.

Every path the project writes is derived from `data_dir`, so a test or a second clinic
gets a fully separate warehouse by pointing `MEDSPA_DATA_DIR` (or `--data-dir`) elsewhere.
KPI windows and thresholds are *not* here: they are dbt vars in `dbt_project.yml`
(their one home); `dbt_vars` only carries explicit overrides through to dbt.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

#: HMAC key used for the seeded demo chain only. Real data needs MEDSPA_PHI_KEY.
DEMO_PHI_KEY = "medspa-demo-key-not-for-real-patients"


class DemoKeyWarning(UserWarning):
    """Raised (as a warning) when the demo pseudonymisation key is used on non-demo data."""


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default.resolve()


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
    #: Systems the clinic says it has (issue 8). None = not declared: absent systems are
    #: simply absent. Declared but never delivered = an error.
    declared_systems: tuple[str, ...] | None = None
    #: Key for HMAC-SHA256 pseudonymisation; never logged.
    phi_key: str = field(default=DEMO_PHI_KEY, repr=False)
    #: Overrides of dbt vars (KPI windows), passed to dbt with --vars.
    dbt_vars: dict[str, object] = field(default_factory=dict)
    #: DuckDB `memory_limit` and `threads` for the loader's connections (it spills to
    #: `<data_dir>/.duckdb_tmp` beyond the limit); sized for a 2-core machine shared by others.
    duckdb_memory_limit: str = "2GB"
    duckdb_threads: int = 2

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
            duckdb_memory_limit=os.environ.get("MEDSPA_DUCKDB_MEMORY_LIMIT", "2GB"),
            duckdb_threads=int(os.environ.get("MEDSPA_DUCKDB_THREADS", "2")),
        )

    # Derived paths: one rule each, never stored separately.
    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving.duckdb"

    @property
    def site_dir(self) -> Path:
        return self.data_dir / "site"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def quality_dir(self) -> Path:
        """Kept validation results (browsable from the site's data-quality page)."""
        return self.data_dir / "quality"

    @property
    def uses_demo_key(self) -> bool:
        return self.phi_key == DEMO_PHI_KEY

    def warn_if_demo_key_on_real_data(self, landing_is_demo: bool) -> None:
        """Warn loudly when real (non-generated) data would be pseudonymised with the demo key."""
        if self.uses_demo_key and not landing_is_demo:
            warnings.warn(
                "MEDSPA_PHI_KEY is not set: patient and lead ids are pseudonymised with the "
                "public demo key. Set MEDSPA_PHI_KEY to a secret before loading real data.",
                DemoKeyWarning,
                stacklevel=2,
            )

    def dbt_env(self) -> dict[str, str]:
        """Environment dbt runs with (profiles.yml reads these). Same for parse and run."""
        return {
            "MEDSPA_WAREHOUSE_PATH": str(self.warehouse_path),
            "MEDSPA_PHI_KEY": self.phi_key,
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        }

    def ensure_dirs(self) -> None:
        for p in (self.data_dir, self.landing_dir, self.dagster_home, self.quality_dir):
            p.mkdir(parents=True, exist_ok=True)
