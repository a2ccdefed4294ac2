"""`scorecard.duckdb`: the scorecard alone, for a process that opens a file for one lookup.

A reader that opens `serving.duckdb` for one location's scorecard pays for DuckDB reading
the catalog of every published mart (about 40 tables) and tearing it down again: at small
scale about 7 ms of a 15 ms open, more than the query. This file holds only
`marts.kpi_scorecard` (sorted by grain, location and period, so a lookup reads few row groups)
and `marts.kpi_targets`, copied from the built serving file of the same publish while that
file is audited (both only read it), and audited itself the same way; neither file is
published unless both audits pass. It is swapped in right after
`serving.duckdb` (`serving.swap_journal`: a publish killed between the two swaps is finished
by the next run); a reader that opens both between the two swaps sees yesterday's scorecard
for those microseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb

from safeio.sqlquote import quote_ident, sql_str
from serving.duckdb_comments import apply_comments, read_comments

SCORECARD_TABLES = ("kpi_scorecard", "kpi_targets")
#: The scorecard's lookup columns, in the order its rows are stored (those that exist).
SORT_KEYS = ("grain", "location_id", "period_start", "kpi")


def scorecard_path(serving_path: Path) -> Path:
    """Where the scorecard file lives: beside serving.duckdb."""
    return Path(serving_path).with_name("scorecard.duckdb")


def build_scorecard(serving_tmp: Path, tmp_path: Path) -> dict[str, int]:
    """Copy the scorecard tables of a built serving file into `tmp_path`; rows per table."""
    tmp_path.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp_path))
    counts: dict[str, int] = {}
    try:
        con.execute(f"attach {sql_str(serving_tmp)} as sv (read_only)")
        con.execute("create schema marts")
        for table in SCORECARD_TABLES:
            columns = {
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_catalog = 'sv' and table_schema = 'marts' and table_name = ?",
                    [table],
                ).fetchall()
            }
            keys = [quote_ident(k) for k in SORT_KEYS if k in columns]
            order = f" order by {', '.join(keys)}" if keys else ""
            name = quote_ident(table)
            con.execute(f"create table marts.{name} as select * from sv.marts.{name}{order}")
            counts[table] = con.execute(f"select count(*) from marts.{name}").fetchone()[0]
        # the serving file's comments (the dbt docs) come along with its tables
        held = read_comments(con, "sv")
        own = con.execute("select current_database()").fetchone()[0]
        apply_comments(con, own, {k: v for k, v in held.items() if k[0] == "marts"})
        con.execute("detach sv")
        con.execute("checkpoint")
    finally:
        con.close()
    return counts


def prepare_scorecard(
    serving_tmp: Path,
    serving_path: Path,
    run_id: str,
    published: Mapping[str, Any],
    audit: Callable[[Path, Mapping[str, Any]], None],
) -> Path | None:
    """Build and audit this publish's scorecard file; None when no scorecard is published.

    `published` maps each published mart to what `audit` expects of it (its fingerprint).

    Without the scorecard tables a stale scorecard file would outlive its data: it is removed.
    """
    target = scorecard_path(serving_path)
    if not all(t in published for t in SCORECARD_TABLES):
        target.unlink(missing_ok=True)
        return None
    tmp = target.with_name(f"{target.name}.tmp-{run_id}")
    try:
        build_scorecard(serving_tmp, tmp)
        audit(tmp, {t: published[t] for t in SCORECARD_TABLES})  # same rows as serving's
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp
