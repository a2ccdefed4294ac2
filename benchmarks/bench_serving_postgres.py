"""Publishing the medium chain's marts into PostgreSQL, against `psql \\copy` of the same CSV.

Baseline (measured in the same run, on the same throwaway cluster): the serving tables,
exported to CSV beforehand (untimed), loaded by one `psql` session of `\\copy ... from` into
pre-created tables: the plain bulk load, nothing else. Ours: `serving.postgres.publish_postgres`
end to end: DuckDB -> CSV, COPY, indexes, comments from the dbt docs, grants and row-level
security, ANALYZE and the atomic swap. Goal: ours <= 1.2x the baseline. Also reported: the
swap (how long readers could wait) and psycopg metadata-call timings like a BI sync.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psycopg

from benchmarks._pipeline import load_demo_chain, run_dbt
from medspa.settings import Settings
from orchestration.manifest import MANIFEST_PATH
from serving import pg_cluster, pg_docs, pg_roles, postgres, publish
from serving.pg_url import with_user

SCALE = "medium"
GOAL = 1.2


def build_serving(tmp: Path) -> Path:
    """The medium chain generated, ingested, built by dbt and published to serving.duckdb."""
    settings = Settings.from_env(tmp / "data")
    settings.ensure_dirs()
    load_demo_chain(settings, SCALE)
    run_dbt(settings, tmp / "dbt", "build", "--exclude", "resource_type:test")
    manifest = json.loads(MANIFEST_PATH.read_text())
    serving = settings.serving_path
    publish.publish(
        settings.warehouse_path, serving, "bench", publish.mart_relations(manifest),
        publish.OpsData(),
    )  # fmt: skip
    return serving


def _baseline(cluster: pg_cluster.Cluster, url: str, serving: Path, tmp: Path) -> float:
    """psql \\copy of every table's CSV into identical, already created tables."""
    duck = duckdb.connect(str(serving), read_only=True)
    duck.execute("set TimeZone = 'UTC'")
    script = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema if exists baseline cascade")
        conn.execute("create schema baseline")
        for schema, table in ((s, t) for s, t in _tables(duck)):
            name = f"{schema}_{table}"
            conn.execute(
                f"create table baseline.{name} as select * from {schema}.{table} with no data"
            )
            csv = tmp / f"{name}.csv"
            duck.execute(f"copy {schema}.{table} to '{csv}' (format csv, header false)")
            script.append(f"\\copy baseline.{name} from '{csv}' with (format csv)")
    duck.close()
    start = time.perf_counter()
    cluster.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-f", "-", sql="\n".join(script))
    seconds = time.perf_counter() - start
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop schema baseline cascade")
    return seconds


def _tables(duck: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return duck.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('marts', 'ops') order by all"
    ).fetchall()


def _metadata_timings(bi_url: str) -> dict[str, float]:
    """What a BI sync asks first: schemas, tables with comments, columns with comments."""
    queries = {
        "schemas": "select nspname from pg_namespace where has_schema_privilege(oid, 'usage')",
        "tables": "select c.relname, obj_description(c.oid) from pg_class c join pg_namespace n "
        "on n.oid = c.relnamespace where n.nspname in ('marts', 'ops') and c.relkind = 'r'",
        "columns": "select table_name, column_name, data_type, col_description("
        "(table_schema || '.' || table_name)::regclass, ordinal_position) "
        "from information_schema.columns where table_schema = 'marts'",
        "scorecard": "select kpi, sum(value) from marts.kpi_scorecard where grain = 'week' "
        "and location_id = '_all' group by kpi",
    }
    timings = {}
    with psycopg.connect(bi_url) as conn:
        for name, sql in queries.items():
            start = time.perf_counter()
            conn.execute(sql).fetchall()
            timings[name] = (time.perf_counter() - start) * 1000
    return timings


def bench(serving: Path, tmp: Path) -> None:
    cluster = pg_cluster.init_cluster(tmp / "pg", pg_cluster.free_port())
    pg_cluster.start(cluster)
    try:
        owner_pw, bi_pw = secrets.token_hex(12), secrets.token_hex(12)
        cluster.psql_superuser(pg_roles.bootstrap_sql("serving", "medspa_owner", owner_pw))
        base = f"postgresql://127.0.0.1:{cluster.port}/serving?sslmode=require"
        url = with_user(base, "medspa_owner", owner_pw)
        docs = pg_docs.docs_from_manifest(json.loads(MANIFEST_PATH.read_text()))
        first = postgres.publish_postgres(serving, url, "bench-1", docs, bi_password=bi_pw)
        baseline = _baseline(cluster, url, serving, tmp)
        again = postgres.publish_postgres(serving, url, "bench-2", docs, bi_password=bi_pw)
        rows = sum(again.rows.values())
        print(f"serving tables: {len(again.rows)}, rows: {rows:,}")
        print(f"baseline, psql \\copy of the CSVs:              {baseline:6.2f} s")
        print(f"ours, first publish (empty database):          {first.seconds:6.2f} s")
        print(f"ours, publish over served data (steady state): {again.seconds:6.2f} s")
        print(f"  of which the swap (readers may wait):        {again.swap_seconds * 1000:6.0f} ms")
        ratio = again.seconds / baseline
        verdict = "meets" if ratio <= GOAL else "MISSES"
        print(f"ratio ours / baseline: {ratio:.2f}x ({verdict} the {GOAL}x goal)")
        timings = _metadata_timings(with_user(base, "medspa_bi", bi_pw))
        print(
            "BI metadata calls as medspa_bi: "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in timings.items())
        )
    finally:
        pg_cluster.stop(cluster)


def main(serving: Path | None = None) -> None:
    if pg_cluster.missing_packages():
        print(f"skipped: Debian packages absent ({', '.join(pg_cluster.missing_packages())})")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench_pg_"))  # not 0700-parented: postgres reads it
    try:
        bench(serving or build_serving(tmp), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
