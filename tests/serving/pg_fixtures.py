"""Shared by the serving tests (a plain module, not conftest: `conftest` is a name every test
folder has). The published data: the dashboards' full-shape serving.duckdb plus one table with
each type the marts use.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg
import pytest

from serving.pg_cluster import JDBC_JAR

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dashboards"))
from dash_serving_fixture import make_serving_db

BI_PASSWORD = "bi-" + secrets.token_hex(8)

#: One row per case the load must carry exactly (quotes, commas, newline, '' vs NULL). Both
#: tables replace the dashboards' fixture's tables of the same name: the pages need their rows,
#: these tests need these types and these cases.
TYPED_SQL = """
create or replace table marts.fct_invoice_lines (
    invoice_line_id varchar, location_id varchar, net_amount decimal(18, 2),
    discount_amount decimal(12, 2), invoiced_at timestamp with time zone,
    service_date date, is_refund boolean, quantity bigint, note varchar,
    checked_in_local timestamp);
insert into marts.fct_invoice_lines values
    ('il_1', 'loc_a', 1234.50, 0.00, timestamptz '2026-11-09 15:04:05.123456+00',
     date '2026-11-09', false, 2, 'plain', timestamp '2026-11-09 09:30:00'),
    ('il_2', 'loc_b', -99.99, 10.01, timestamptz '2026-11-10 00:00:00+00',
     date '2026-11-10', true, 1, 'say "hi", then
leave', timestamp '2026-11-10 17:00:00'),
    ('il_3', 'loc_a', 0.01, null, null, null, null, null, '', null);
-- Patients belong to locations through their home and their visits (no location_id):
-- pk_0..pk_6 have appointments at both locations (fct_appointments: 'pk_' || i % 7, even i at
-- loc_a, odd at loc_b); pk_8 lives at loc_b and never visited; pk_9 lives at loc_a.
create or replace table marts.dim_patients as
    select 'pk_' || i as patient_key,
        case when i % 2 = 0 then 'loc_a' else 'loc_b' end as home_location_id,
        'loc_a' as first_visit_location_id
    from range(7) r(i)
    union all select 'pk_8', 'loc_b', null
    union all select 'pk_9', 'loc_a', null;
"""


def make_published_db(path: Path) -> Path:
    """The dashboards' fixture serving DB plus the typed table above."""
    make_serving_db(path)
    con = duckdb.connect(str(path))
    con.execute(TYPED_SQL)
    con.close()
    return path


#: What a BI reader asks while publishes swap tables under it: the served version and the
#: scorecard's row count and sum, which must always belong together (old or new, never a mix).
READER_SQL = """
select v.version, s.n, s.total
from ops.serving_version v
cross join (select count(*) as n, round(sum(value)::numeric, 4) as total
            from marts.kpi_scorecard) s
"""


def scorecard_figures(path: Path) -> tuple[int, float]:
    """(rows, sum of value) of a serving.duckdb's scorecard: what READER_SQL must see of it."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        n, total = con.execute(
            "select count(*), round(sum(value)::decimal(38, 4), 4) from marts.kpi_scorecard"
        ).fetchone()
        return n, float(total)
    finally:
        con.close()


@contextmanager
def readers_running(
    connect: Callable[[], psycopg.Connection], count: int = 3
) -> Iterator[tuple[list[tuple], list[BaseException]]]:
    """`count` threads asking READER_SQL in a loop on their own connections while the block
    runs; yields (every result row, every error). Threads are stopped and joined on exit."""
    results: list[tuple] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            with connect() as conn:
                while not stop.is_set():
                    results.append(conn.execute(READER_SQL).fetchone())
        except BaseException as exc:  # any error at all is what the callers forbid
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(count)]
    for t in threads:
        t.start()
    try:
        yield results, errors
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)


JAVA_SRC = Path(__file__).with_name("java") / "MetabaseSync.java"


def java_tools() -> tuple[str, str]:
    """javac and java; skipped (failed under CI) without them or Debian's pgJDBC jar."""
    javac, java = shutil.which("javac"), shutil.which("java")
    if not (javac and java and JDBC_JAR.exists()):
        reason = "javac/java or Debian's pgJDBC jar absent (make pg-packages installs the jar)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return javac, java


def metabase_sync(
    out: Path, jdbc_url: str, user: str, password: str, types: str | None = None
) -> dict[str, list[list[str]]]:
    """Compile and run MetabaseSync.java (pgJDBC as Metabase's sync uses it) as `user`;
    its facts by kind (schema, table, column, score, timing). `types`: getTables' types."""
    javac, java = java_tools()
    subprocess.run([javac, "-cp", str(JDBC_JAR), "-d", str(out), str(JAVA_SRC)], check=True)
    proc = subprocess.run(
        [java, "-cp", f"{JDBC_JAR}:{out}", "MetabaseSync", jdbc_url, user, "MEDSPA_TEST_JDBC_PW",
         *([types] if types else [])],
        env={**os.environ, "MEDSPA_TEST_JDBC_PW": password},
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    facts: dict[str, list[list[str]]] = {}
    for line in proc.stdout.splitlines():
        kind, *rest = line.split("\t")
        facts.setdefault(kind, []).append(rest)
    return facts
