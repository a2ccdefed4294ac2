"""Run-time settings: one object, read once from the environment and CLI options.

Every path the project writes is derived from `data_dir`, so a test or a second clinic
gets a fully separate warehouse by pointing `MEDSPA_DATA_DIR` (or `--data-dir`) elsewhere.
KPI windows and thresholds are *not* here: they are dbt vars in `dbt_project.yml` (their one
home). Only the shells (the `medspa` CLI and `orchestration`) build `Settings`; the libraries
receive plain values from them (`ingest_settings()`, paths, the key, the quarantine limit).
"""

from __future__ import annotations

import math
import os
import re
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


class SettingsError(ValueError):
    """A `MEDSPA_*` variable (or a CLI option) holds a value the project cannot run with.

    Raised while the settings are built, before any folder, lock or connection exists; the
    message names the variable and what is wrong with its value. The `medspa` CLI prints it as
    `error: ...` and exits with status 2.
    """


class PhiKeyError(SettingsError):
    """MEDSPA_PHI_KEY is set but empty or too short: nothing may be pseudonymised with it."""


def resolve_phi_key(value: str | None) -> str:
    """The key to pseudonymise with: the demo key only when MEDSPA_PHI_KEY is *unset*.

    Set-but-empty (a typo in a secrets file) or short is an error, never a silent fallback
    to the public demo key.
    """
    if value is None:
        return DEMO_PHI_KEY
    problem = phi_key_problem(value)
    if problem:
        raise PhiKeyError(
            f"MEDSPA_PHI_KEY is set but {problem}: set it to a secret of at least "
            f"{PHI_KEY_MIN_BYTES} bytes (or unset it to use the public demo key on demo data)"
        )
    return value


def phi_key_problem(value: str) -> str | None:
    """Why `value` cannot be a pseudonymisation key ("empty", "only N bytes long"), or None."""
    size = len(value.encode("utf-8"))
    if size >= PHI_KEY_MIN_BYTES:
        return None
    return "empty" if not value else f"only {size} bytes long"


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default.resolve()


def _env_optional_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else None


def _env_webhook(name: str) -> str | None:
    """An http(s) URL with a host; unset or empty = none. Never echoed whole: it is a secret
    (a chat webhook's token is part of its path)."""
    from urllib.parse import urlsplit

    value = (os.environ.get(name) or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(ch.isspace() or not ch.isprintable() for ch in value)
    ):
        raise SettingsError(
            f"{name} is not an http(s) URL with a host (and no space or control character): "
            "set it to the webhook's URL, e.g. "
            "https://hooks.example.com/services/..., or unset it"
        )
    return value


def _env_serving_url(name: str) -> str | None:
    """A connection string libpq can read (a postgresql:// URL or `host=... dbname=...`
    keywords); unset or empty = no PostgreSQL. Checked here so a typo stops the run before it
    loads anything, not at the publish step after the night's work. Read by libpq's own
    parser, as a password may hold `#` or `?` unencoded. Never echoed: its password is in it."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    value = (os.environ.get(name) or "").strip()
    if not value:
        return None
    looks_like_postgres = value.startswith(("postgresql://", "postgres://")) or "=" in value
    try:
        parsed = conninfo_to_dict(value) if looks_like_postgres else None
    except ProgrammingError:
        parsed = None
    if parsed is None:
        raise SettingsError(
            f"{name} is not a PostgreSQL connection string libpq can read: set it to e.g. "
            "postgresql://owner:...@host:5432/serving?sslmode=require (make pg writes one to "
            "data/pg/serving_url), or unset it"
        )
    return value


def _env_role_prefix(name: str, default: str) -> str:
    """Checked here, not when the PostgreSQL step builds its roles: a bad prefix would
    otherwise fail the run after the load, dbt and the DuckDB publish."""
    from serving.role_names import ROLE_PREFIX

    value = (os.environ.get(name) or "").strip() or default
    if not ROLE_PREFIX.match(value):
        raise SettingsError(
            f"{name}={value!r} must start with a lower-case letter, hold only lower-case "
            f"letters, digits and _, and have at most 15 characters: set it to e.g. {default}"
        )
    return value


def _env_systems() -> tuple[str, ...] | None:
    """MEDSPA_SYSTEMS as names; unset or empty = not declared. Every name must be a system of
    the landing contract: a typo would otherwise load everything and only then fail."""
    value = os.environ.get("MEDSPA_SYSTEMS")
    if value is None or not value.strip():
        return None
    systems = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = unknown_systems(systems)
    if unknown:
        raise SettingsError(
            f"MEDSPA_SYSTEMS={value!r}: {', '.join(map(repr, unknown))} "
            f"{'is not a system' if len(unknown) == 1 else 'are not systems'} of the landing "
            f"contract (known: {', '.join(contract_systems())})"
        )
    return systems


def contract_systems() -> tuple[str, ...]:
    """The source systems the landing contract (`ingestion/contract.yml`) knows."""
    from ingestion.contract import load_contract

    return tuple(load_contract().systems)


def unknown_systems(systems: tuple[str, ...] | list[str]) -> list[str]:
    """The names in `systems` the landing contract does not know, in their order."""
    known = set(contract_systems())
    return [s for s in systems if s not in known]


def _env_value(name: str, default: str, expected: str) -> str:
    """A variable's value, stripped; unset = `default`. Set but empty is an error, never a
    silent fallback to the default (a blank line in a secrets or unit file)."""
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip():
        raise SettingsError(
            f"{name} is set but empty: set it to {expected}, or unset it for the default "
            f"({default})"
        )
    return value.strip()


def _env_whole_number(name: str, default: int, expected: str, minimum: int) -> int:
    value = _env_value(name, str(default), expected)
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(
            f"{name}={value!r} is not a whole number: set it to {expected}"
        ) from None
    if number < minimum:
        raise SettingsError(f"{name}={value!r} is below {minimum}: set it to {expected}")
    return number


def _env_threads(name: str, default: int) -> int:
    return _env_whole_number(name, default, "a whole number of threads, at least 1", 1)


def env_pg_port(default: int) -> int:
    """MEDSPA_PG_PORT for `medspa serving pg-start`: the one setting read outside `Settings`,
    as only that command uses it; checked like every other value, not with a bare `int()`."""
    expected = f"a TCP port between 1 and 65535, e.g. {default}"
    port = _env_whole_number("MEDSPA_PG_PORT", default, expected, 1)
    if port > 65535:
        raise SettingsError(f"MEDSPA_PG_PORT={port!r} is above 65535: set it to {expected}")
    return port


def _env_days(name: str, default: int) -> int:
    expected = "a whole number of days, e.g. 90 (0 keeps everything)"
    return _env_whole_number(name, default, expected, 0)


#: A DuckDB size: a positive number and a unit (1000- or 1024-based), as DuckDB itself
#: rejects a bare number. Units are case-insensitive and written back in DuckDB's spelling.
_DUCKDB_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\Z", re.IGNORECASE)
_SIZE_UNITS = {u.lower(): u for u in ("KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB")}


def _env_memory_limit(name: str, default: str) -> str:
    """A DuckDB size with its unit in DuckDB's spelling. A bare number (bytes?) is refused,
    as DuckDB itself refuses it: `2048` could mean bytes or megabytes."""
    expected = "a size with a unit, e.g. 2GB, 512MB or 1.5GiB (KB MB GB TB KiB MiB GiB TiB)"
    value = _env_value(name, default, expected)
    match = _DUCKDB_SIZE.match(value)
    if match is None:
        problem = "has no unit" if _is_number(value) else "is not a memory size"
        raise SettingsError(f"{name}={value!r} {problem}: set it to {expected}")
    number, unit = match.groups()
    if float(number) <= 0:
        raise SettingsError(f"{name}={value!r} is not above zero: set it to {expected}")
    return f"{number}{_SIZE_UNITS[unit.lower()]}"


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _env_number(name: str, default: str, expected: str) -> tuple[str, float]:
    """(the value as written, as a finite number)."""
    value = _env_value(name, default, expected)
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not a number: set it to {expected}") from None
    if not math.isfinite(number):
        raise SettingsError(f"{name}={value!r} is not a finite number: set it to {expected}")
    return value, number


def _env_share(name: str, default: str) -> float:
    expected = "a share between 0 and 1, e.g. 0.01 for 1 %"
    value, share = _env_number(name, default, expected)
    if not 0 <= share <= 1:
        raise SettingsError(f"{name}={value!r} is not between 0 and 1: set it to {expected}")
    return share


def _env_seconds(name: str, default: str) -> float:
    expected = "a number of seconds above zero, e.g. 60"
    value, seconds = _env_number(name, default, expected)
    if seconds <= 0:
        raise SettingsError(f"{name}={value!r} is not above zero: set it to {expected}")
    return seconds


def _env_timezone(name: str, default: str) -> str:
    """An IANA time zone name; unset or empty = `default` (README: the documented default)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = (os.environ.get(name) or "").strip() or default
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{name}={value!r} is not a known time zone: set it to an IANA name such as "
            f"America/New_York or Europe/Berlin, or unset it for the default ({default})"
        ) from None
    return value


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
    #: Where a configured landing folder was set (`--landing`, MEDSPA_LANDING_DIR, a tenant's
    #: `landing:`) when it is not the default `<data-dir>/landing`: such a folder must exist
    #: and is never created (a typo would otherwise be an empty folder and a run that "found
    #: nothing new"). None = the default folder, created when missing.
    landing_source: str | None = None
    #: Days of Dagster run history kept (MEDSPA_RUN_HISTORY_DAYS); 0 = never pruned. Runs that
    #: hold an asset's or a check's latest event are kept whatever their age
    #: (`orchestration.run_pruning`).
    run_history_days: int = 90
    #: Where a run that did not publish (blocked, failed) posts its alert
    #: (MEDSPA_ALERT_WEBHOOK_URL, `orchestration.run_alerts`); None = no alerts. A secret.
    alert_webhook_url: str | None = field(default=None, repr=False)

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
        default_landing = (data / "landing").resolve()
        if landing_dir:
            landing, source = Path(landing_dir).expanduser().resolve(), "--landing"
        else:
            landing, source = _env_path("MEDSPA_LANDING_DIR", default_landing), "MEDSPA_LANDING_DIR"
        # Every value is checked here, before anything creates a folder or takes a lock:
        # a SettingsError names the variable and what is wrong with its value.
        return cls(
            data_dir=data,
            landing_dir=landing,
            landing_source=source if landing != default_landing else None,
            quarantine_max_share=_env_share("MEDSPA_QUARANTINE_MAX_SHARE", "0.01"),
            schedule_timezone=_env_timezone("MEDSPA_SCHEDULE_TZ", "America/New_York"),
            declared_systems=_env_systems(),
            phi_key=os.environ.get("MEDSPA_PHI_KEY", DEMO_PHI_KEY),
            allow_internal_links=os.environ.get("MEDSPA_ALLOW_INTERNAL_LINKS", "") == "1",
            serving_url=_env_serving_url("MEDSPA_SERVING_URL"),
            bi_password=os.environ.get("MEDSPA_BI_PASSWORD") or None,
            serving_role_prefix=_env_role_prefix("MEDSPA_SERVING_ROLE_PREFIX", "medspa"),
            serving_lock_timeout_s=_env_seconds("MEDSPA_SERVING_LOCK_TIMEOUT", "60"),
            duckdb_memory_limit=_env_memory_limit("MEDSPA_DUCKDB_MEMORY_LIMIT", "2GB"),
            duckdb_threads=_env_threads("MEDSPA_DUCKDB_THREADS", 2),
            tenants_file=_env_optional_path("MEDSPA_TENANTS_FILE"),
            run_history_days=_env_days("MEDSPA_RUN_HISTORY_DAYS", 90),
            alert_webhook_url=_env_webhook("MEDSPA_ALERT_WEBHOOK_URL"),
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
    def landing_holds_files(self) -> bool:
        """Whether the landing folder holds any file (hidden files and the demo marker aside):
        an empty or missing folder holds no one's data, demo or real."""
        from demo.state import holds_files

        return holds_files(self.landing_dir)

    @property
    def demo_key_on_real_data(self) -> bool:
        """The public demo key on files the demo generator did not write (an empty landing
        folder holds none: a first run that finds nothing is not warned about real data)."""
        return self.uses_demo_key and not self.landing_is_demo and self.landing_holds_files

    def warn_if_demo_key_on_real_data(self, landing_is_demo: bool | None = None) -> None:
        """Warn loudly when real (non-generated) data would be pseudonymised with the demo key."""
        if landing_is_demo is None:
            landing_is_demo = self.landing_is_demo
        if self.uses_demo_key and not landing_is_demo and self.landing_holds_files:
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

    def check_landing(self) -> None:
        """A configured landing folder (`landing_source`) that is missing is an error.

        Checked by `ensure_dirs` (so by `medspa run` and `medspa demo` before anything is
        created); a shell that loads without `ensure_dirs` should call it first."""
        if self.landing_source is not None and not self.landing_dir.is_dir():
            what = "is not a folder" if self.landing_dir.exists() else "does not exist"
            raise SettingsError(
                f"landing folder {self.landing_dir} (set by {self.landing_source}) {what}: "
                "fix the path or create the folder; only the default <data-dir>/landing is "
                "created when missing"
            )

    def check_data_dir(self) -> None:
        """Create the data dir; one that is not a folder, or cannot be created, is an error
        naming it.

        Creating it failed later with `FileExistsError: File exists` (a file at that path) or
        `FileNotFoundError` under a path that cannot hold folders, and advice about free space
        and permissions: nothing said the data dir was the problem."""
        path = self.data_dir
        if path.is_dir():
            return
        if path.exists():
            raise SettingsError(
                f"data dir {path} (--data-dir, or MEDSPA_DATA_DIR) is not a folder: point it "
                "at a folder, or at a path where one can be created"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(
                f"data dir {path} (--data-dir, or MEDSPA_DATA_DIR) cannot be created "
                f"({exc.strerror or type(exc).__name__}): create the folder, or choose another "
                "path"
            ) from None

    def ensure_dirs(self) -> None:
        """Create the folders; those that can hold patient data are owner-only (0700).

        A configured landing folder must already exist (`check_landing`, checked first:
        nothing is created when it fails); only the default `<data-dir>/landing` is created.
        """
        from safeio.private import private_dir

        self.check_landing()
        self.check_data_dir()
        for p in (self.data_dir, self.landing_dir):
            p.mkdir(parents=True, exist_ok=True)
        for p in (self.dagster_home, self.quality_dir, self.data_dir / "logs"):
            private_dir(p)
