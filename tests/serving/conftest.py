"""A throwaway PostgreSQL cluster, started exactly as `make pg` does, and a published fixture.

The cluster (`serving.pg_cluster`: Debian's binaries, run as `postgres` when we are root, TLS,
scram) lives in the session's temp folder on a free port and is stopped at the end. Without
the PostgreSQL binaries the tests are skipped with the reason, except under CI=true, where
`make test` installed them and their absence is a failure.

The published data is the dashboards' full-shape serving.duckdb (every mart the pages read,
two locations, chain-wide rows) plus one table with each type the marts use (money as
decimal(18,2), instants, dates, booleans, NULLs, text with quotes and commas).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from pg_fixtures import BI_PASSWORD, make_published_db

from orchestration.manifest import MANIFEST_PATH
from serving import pg_cluster, pg_docs, pg_roles, postgres
from serving.pg_url import with_user


@dataclass(frozen=True)
class Pg:
    """The running test cluster: owner URL and the BI role's URL."""

    cluster: pg_cluster.Cluster
    url: str
    bi_url: str

    def connect(self, url: str | None = None, **kw) -> psycopg.Connection:
        return psycopg.connect(url or self.url, autocommit=True, **kw)


def require_postgres() -> None:
    """Skip (saying why) without the Debian packages; never under CI, where that is a bug."""
    missing = pg_cluster.missing_packages()
    if missing:
        reason = f"Debian packages absent: {', '.join(missing)} (make pg-packages installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def pg() -> Iterator[Pg]:
    require_postgres()
    # Not under pytest's basetemp: every pytest start (any user's run on this machine) resets
    # /tmp/pytest-of-<user> to 0700, which would lock the `postgres` user out mid-session.
    root = Path(tempfile.mkdtemp(prefix="medspa-pg-test-"))
    cluster = pg_cluster.init_cluster(root / "cluster", pg_cluster.free_port())
    pg_cluster.start(cluster)
    owner_password = secrets.token_hex(12)
    cluster.psql_superuser(pg_roles.bootstrap_sql("serving", "medspa_owner", owner_password))
    base = f"postgresql://127.0.0.1:{cluster.port}/serving?sslmode=require"
    try:
        yield Pg(
            cluster,
            with_user(base, "medspa_owner", owner_password),
            with_user(base, pg_roles.DEFAULT_ROLES.bi, BI_PASSWORD),
        )
    finally:
        pg_cluster.stop(cluster)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def docs() -> dict[str, pg_docs.TableDoc]:
    return pg_docs.docs_from_manifest(json.loads(MANIFEST_PATH.read_text()))


@pytest.fixture(scope="session")
def serving_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_published_db(tmp_path_factory.mktemp("serving-src") / "serving.duckdb")


@pytest.fixture(scope="session")
def published(pg: Pg, serving_db: Path, docs) -> postgres.PgPublishResult:
    """serving_db published twice (the second run swaps over the first) as version v2."""
    postgres.publish_postgres(serving_db, pg.url, "v1", docs, bi_password=BI_PASSWORD)
    return postgres.publish_postgres(serving_db, pg.url, "v2", docs, bi_password=BI_PASSWORD)
