"""The staging models incremental on the load id (`newer_loads_only`, macros/loads.sql) read
the raw rows of newer loads through the watermark written into the SQL as a constant, and hold
exactly what a full refresh of the same raw layer holds after every kind of night: the first
build, a night with no new load, several loads at once, a re-sent file and a quarantined file
(its rows never reach the raw table; the corrected file arrives in a later load)."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import dbt, write_chain
from dbt_core_chain import Chain, apply_delta
from test_dbt_core_incremental import _compiled_sql

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("dbt_core")]

#: staging model -> the raw table it reads (every model that filters with `newer_loads_only`)
MODELS = {
    "stg_pms__appointments": "raw_pms.appointments",
    "stg_pms__intake_forms": "raw_pms.intake_forms",
    "stg_pos__invoices": "raw_pos.invoices",
    "stg_pos__invoice_lines": "raw_pos.invoice_lines",
    "stg_crm__leads": "raw_crm.leads",
    "stg_phone__calls": "raw_phone.calls",
    "stg_messaging__messages": "raw_messaging.messages",
    "stg_reviews__surveys": "raw_reviews.surveys",
}
#: (system, table) of the raw tables above, as the test chain names them
RAW = [tuple(raw.removeprefix("raw_").split(".")) for raw in MODELS.values()]


def _resent(chain: Chain, count: int = 3) -> Chain:
    """A re-sent extract: the first `count` rows of each staged table again, unchanged (the
    loader merges them on their key under a new load id)."""
    resent = Chain(as_of=chain.as_of)
    for key in RAW:
        resent.tables[key] = [dict(row) for row in chain.tables.get(key, [])[:count]]
    return resent


def _corrected_forms(chain: Chain) -> Chain:
    """The file a quarantine held back, corrected and sent again: two intake forms completed."""
    fixed = Chain(as_of=chain.as_of)
    for row in chain.tables[("pms", "intake_forms")][:2]:
        done = row["sent_at"] + timedelta(hours=1)
        fixed.add("pms", "intake_forms", dict(row, completed_at=done, updated_at=done))
    return fixed


def _newest_loads(warehouse: Path) -> dict[str, str]:
    """Per staging model, the newest load id of its raw table."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            model: con.execute(f"select max(_dlt_load_id) from {raw}").fetchone()[0]
            for model, raw in MODELS.items()
        }
    finally:
        con.close()


def _watermark_literals(work: Path) -> dict[str, str | None]:
    """Per staging model, the watermark constant its last compiled SQL filtered on (None: it
    read every row)."""
    found = {}
    for model in MODELS:
        match = re.search(r"_dlt_load_id > '([^']*)'", _compiled_sql(work, model))
        found[model] = match.group(1) if match else None
    return found


def _differences(left: Path, right: Path) -> dict[str, int]:
    """Per staging model, rows in one warehouse and not the other, both ways (load ids too)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{left}' as l (read_only)")
        con.execute(f"attach '{right}' as r (read_only)")
        return {
            model: con.execute(
                f"select count(*) from ((select * from l.staging.{model} except all "
                f"select * from r.staging.{model}) union all (select * from r.staging.{model} "
                f"except all select * from l.staging.{model}))"
            ).fetchone()[0]
            for model in MODELS
        }
    finally:
        con.close()


def _night(warehouse: Path, work: Path, *loads: Chain) -> dict[str, str]:
    """Land `loads` (one load id each), run the staging models, and check them against a full
    refresh of a copy of the same raw layer. Returns the watermarks the run compiled with."""
    before = _newest_loads(warehouse)
    for load in loads:
        write_chain(warehouse, load)
    dbt(["run", "--select", *MODELS], warehouse, work)
    literals = _watermark_literals(work)
    # the incremental path: every model filtered on the newest load it had built from
    assert literals == before
    full_dir = work.parent / f"{work.name}_full"
    shutil.rmtree(full_dir, ignore_errors=True)
    full_dir.mkdir()
    full = shutil.copy(warehouse, full_dir / "warehouse.duckdb")
    dbt(["run", "--full-refresh", "--select", *MODELS], Path(full), full_dir)
    assert set(_watermark_literals(full_dir).values()) == {None}
    assert _differences(warehouse, Path(full)) == dict.fromkeys(MODELS, 0)
    return literals


def test_staging_watermark_equals_full_refresh_every_night(
    tmp_path: Path, base_chain: Chain
) -> None:
    work = tmp_path / "incremental"
    work.mkdir()
    warehouse = write_chain(work / "warehouse.duckdb", base_chain)
    # first build: no table, no watermark: every raw row, no filter
    dbt(["run", "--select", *MODELS], warehouse, work)
    assert set(_watermark_literals(work).values()) == {None}

    # a night with no new load: each model filters on its own newest load and changes nothing
    copy = shutil.copy(warehouse, tmp_path / "before.duckdb")
    _night(warehouse, work)
    assert _differences(warehouse, Path(copy)) == dict.fromkeys(MODELS, 0)

    # several loads at once (two nights' extracts, the second overriding rows of the first)
    first = apply_delta(base_chain, seed=11)
    _night(warehouse, work, first, apply_delta(base_chain, seed=12, days=2))

    # a re-sent file: the same rows again under a newer load id
    _night(warehouse, work, _resent(base_chain))

    # a quarantined intake-forms file: that load wrote other tables only, the forms' watermark
    # stays behind; the corrected file arrives the next night and is merged
    held = _night(warehouse, work, apply_delta(base_chain, seed=13, days=3))
    newest = _newest_loads(warehouse)
    assert newest["stg_pms__intake_forms"] == held["stg_pms__intake_forms"]
    assert newest["stg_pos__invoices"] > held["stg_pos__invoices"]
    _night(warehouse, work, _corrected_forms(base_chain))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        merged = con.execute(
            "select count(*) from staging.stg_pms__intake_forms where _dlt_load_id = ?"
            " and completed_at is not null",
            [_newest_loads(warehouse)["stg_pms__intake_forms"]],
        ).fetchone()[0]
    finally:
        con.close()
    assert merged == 2
