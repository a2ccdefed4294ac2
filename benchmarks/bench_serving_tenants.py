"""Consolidated PostgreSQL serving for tenants: one tenant's publish against a single chain's.

The same serving.duckdb is published (a) as a single chain into its own database
(`serving.postgres.publish_postgres`, the baseline measured in the same run) and (b) as tenants
`t1`..`t3` into one tenant database (`serving.pg_tenants.publish_tenant_postgres`), first
serially, then republished two at a time as the run queue runs them. Reported: seconds per
publish, the swap (how long every tenant's readers may wait), and the ratio tenant / single.
Goal: a tenant's steady-state publish <= 1.3x the single-chain publish of the same data (the
tenant column and per-partition indexes are the only extra work).
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks._pipeline import load_demo_chain, run_dbt
from medspa.settings import Settings
from orchestration.manifest import MANIFEST_PATH
from serving import pg_cluster, pg_docs, pg_roles, pg_tenants, postgres, publish
from serving.pg_url import with_user

SCALE = "small"
GOAL = 1.3
TENANTS = ("t1", "t2", "t3")


def build_serving(tmp: Path) -> Path:
    """The small chain generated, ingested, built by dbt and published to serving.duckdb."""
    settings = Settings.from_env(tmp / "data")
    settings.ensure_dirs()
    load_demo_chain(settings, SCALE)
    run_dbt(settings, tmp / "dbt", "build", "--exclude", "resource_type:test")
    manifest = json.loads(MANIFEST_PATH.read_text())
    publish.publish(
        settings.warehouse_path, settings.serving_path, "bench",
        publish.mart_relations(manifest), publish.OpsData(),
    )  # fmt: skip
    return settings.serving_path


def bench(serving: Path, tmp: Path) -> None:
    cluster = pg_cluster.init_cluster(tmp / "pg", pg_cluster.free_port())
    pg_cluster.start(cluster)
    try:
        owner_pw = secrets.token_hex(12)
        urls = {}
        for database in ("single", "tenants"):
            cluster.psql_superuser(pg_roles.bootstrap_sql(database, "medspa_owner", owner_pw))
            base = f"postgresql://127.0.0.1:{cluster.port}/{database}?sslmode=require"
            urls[database] = with_user(base, "medspa_owner", owner_pw)
        docs = pg_docs.docs_from_manifest(json.loads(MANIFEST_PATH.read_text()))
        postgres.publish_postgres(serving, urls["single"], "s-1", docs)
        single = postgres.publish_postgres(serving, urls["single"], "s-2", docs)
        first = [
            pg_tenants.publish_tenant_postgres(serving, urls["tenants"], t, "v1", docs)
            for t in TENANTS
        ]
        again = [
            pg_tenants.publish_tenant_postgres(serving, urls["tenants"], t, "v2", docs)
            for t in TENANTS
        ]
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            jobs = [
                pool.submit(
                    pg_tenants.publish_tenant_postgres, serving, urls["tenants"], t, "v3", docs
                )
                for t in TENANTS[:2]
            ]
            parallel = [j.result() for j in jobs]
        both = time.perf_counter() - start
        rows = sum(single.rows.values())
        steady = sum(r.seconds for r in again) / len(again)
        print(f"serving tables: {len(single.rows)}, rows per tenant: {rows:,}")
        print(f"baseline, single-chain publish (steady state):  {single.seconds:6.2f} s")
        print(
            f"  its swap:                                     {single.swap_seconds * 1000:6.0f} ms"
        )
        print(f"tenant t1 first publish (creates the parents): {first[0].seconds:6.2f} s")
        print(f"tenants t2, t3 first publish:                  {first[1].seconds:6.2f} s, "
              f"{first[2].seconds:.2f} s")  # fmt: skip
        print(f"tenant publish, steady state (mean of 3):      {steady:6.2f} s")
        swaps = ", ".join(f"{r.swap_seconds * 1000:.0f}" for r in again)
        print(f"  swaps (every tenant's readers may wait):     {swaps} ms")
        print(
            f"two tenants at once: {both:.2f} s wall for both "
            f"({', '.join(f'{r.seconds:.2f}' for r in parallel)} s each)"
        )
        ratio = steady / single.seconds
        verdict = "meets" if ratio <= GOAL else "MISSES"
        print(f"ratio tenant / single chain: {ratio:.2f}x ({verdict} the {GOAL}x goal)")
    finally:
        pg_cluster.stop(cluster)


def main(serving: Path | None = None) -> None:
    if pg_cluster.missing_packages():
        print(f"skipped: Debian packages absent ({', '.join(pg_cluster.missing_packages())})")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench_pg_tenants_"))  # postgres must read it
    try:
        bench(serving or build_serving(tmp), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
