"""Shared by the serving tests (a plain module, not conftest: `conftest` is a name every test
folder has). The published data: the dashboards' full-shape serving.duckdb plus one table with
each type the marts use.
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dashboards"))
from dash_serving_fixture import make_serving_db

BI_PASSWORD = "bi-" + secrets.token_hex(8)

#: One row per case the load must carry exactly (quotes, commas, newline, '' vs NULL).
TYPED_SQL = """
create table marts.fct_invoice_lines (
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
create table marts.dim_patients as
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
