"""The landing sensor: one run per batch of new files, never twice for the same batch."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.automation.landing_sensor import (
    batch_run_key,
    landed_files,
    new_batch,
)


def _write(landing: Path, rel: str, text: str = "a\n1\n", age_s: float = 120.0) -> None:
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    past = time.time() - age_s
    os.utime(path, (past, past))


def test_new_batch_lists_new_and_changed_files_only():
    seen = {"pms/locations/1.csv": "10:1", "pms/appointments/1.csv": "20:1"}
    current = {**seen, "pms/appointments/1.csv": "21:2", "pos/invoices/1.csv": "5:1"}
    assert new_batch(current, seen) == ["pms/appointments/1.csv", "pos/invoices/1.csv"]


def test_run_key_is_the_same_for_the_same_batch():
    current = {"a/b/1.csv": "1:1", "a/b/2.csv": "1:2"}
    assert batch_run_key(["a/b/1.csv", "a/b/2.csv"], current) == batch_run_key(
        ["a/b/1.csv", "a/b/2.csv"], dict(current)
    )
    assert batch_run_key(["a/b/1.csv"], current) != batch_run_key(["a/b/2.csv"], current)


def test_files_still_being_written_wait_for_the_next_tick(tmp_path: Path):
    _write(tmp_path, "pms/locations/2026-11-20.csv")
    _write(tmp_path, "pms/appointments/2026-11-20.csv", age_s=0)
    _write(tmp_path, "pms/unknown_table/2026-11-20.csv")
    found, arriving = landed_files(tmp_path, settled_before=time.time() - 30)
    assert list(found) == ["pms/locations/2026-11-20.csv"] and arriving


@pytest.fixture
def sensor(defs):
    return defs.resolve_sensor_def("landing_files_sensor")


@pytest.fixture
def repo(defs):
    return defs.get_repository_def()


def test_sensor_requests_one_run_then_skips_until_new_files_land(
    sensor, repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MEDSPA_LANDING_DIR", str(tmp_path))
    _write(tmp_path, "pms/locations/2026-11-20.csv")
    _write(tmp_path, "pms/appointments/2026-11-20.csv")
    with (
        dg.instance_for_test() as instance,
        dg.partition_loading_context(dynamic_partitions_store=instance),
    ):
        instance.add_dynamic_partitions("tenant", ["default"])
        ctx = dg.build_sensor_context(instance=instance, repository_def=repo)
        first = sensor.evaluate_tick(ctx)
        assert len(first.run_requests) == 1
        assert first.run_requests[0].tags["medspa/new_files"] == "2"
        assert first.run_requests[0].partition_key == "default"
        assert first.run_requests[0].tags["medspa/tenant"] == "default"
        cursor = first.cursor
        assert set(json.loads(cursor)["default"]) == {
            "pms/locations/2026-11-20.csv",
            "pms/appointments/2026-11-20.csv",
        }
        again = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repo)
        )
        assert again.run_requests == [] or again.run_requests is None
        assert again.skip_message == "no new extract files in any tenant's landing folder"
        _write(tmp_path, "pms/appointments/2026-11-21.csv", age_s=0)  # still being written
        waiting = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repo)
        )
        assert waiting.skip_message == (
            "new files waiting: tenant 'default': files still being written, taken once nothing "
            "in its landing folder has been written for 30 s"
        )
        _write(tmp_path, "pms/appointments/2026-11-21.csv")
        third = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repo)
        )
        assert len(third.run_requests) == 1
        assert third.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_linked_extract_counts_where_the_loader_loads_it(tmp_path: Path):
    """With `MEDSPA_ALLOW_INTERNAL_LINKS=1` the loader loads a link to a file inside the landing
    folder; the sensor must see it too, or such a file would never start a run."""
    _write(tmp_path, "_store/2026-11-20.csv")
    link = tmp_path / "pms" / "locations" / "2026-11-20.csv"
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "_store" / "2026-11-20.csv")
    settled = time.time() - 30
    assert landed_files(tmp_path, settled) == ({}, False)
    found, _ = landed_files(tmp_path, settled, allow_internal_links=True)
    assert list(found) == ["pms/locations/2026-11-20.csv"]


def test_runs_that_start_on_their_own_load_only_settled_files(tmp_path: Path, monkeypatch):
    """The sensor's and the schedule's runs carry the settle rule to their load (the raw step
    reads `SETTLE_TAG`): a file an exporter starts writing after the tick waits for its run."""
    from medspa.settings import Settings
    from orchestration.defs.automation.jobs import nightly_requests
    from orchestration.defs.automation.landing_sensor import SETTLE_SECONDS, tenant_requests
    from orchestration.defs.raw.assets import SETTLE_TAG

    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env(tmp_path / "data", tmp_path / "landing")
    _write(tmp_path / "landing", "pms/locations/2026-11-20.csv")
    (landed,), _ = tenant_requests(settings, {}, settled_before=time.time() - SETTLE_SECONDS)
    (scheduled,) = nightly_requests(settings, ["default"], "2026-11-30T02:00:00")
    assert landed.tags[SETTLE_TAG] == scheduled.tags[SETTLE_TAG] == "30"


def test_a_delivery_is_taken_whole_once_its_folder_is_quiet(tmp_path: Path, monkeypatch):
    """Exporters write one table after another: the invoice lines settled while the invoices
    were still being written. A run on the lines alone published a night of lines without
    invoices (or was blocked by them); the tenant waits until nothing in its folder is being
    written, then one run takes both. A transfer that stalled (a `.part` file no longer
    written) holds nothing up."""
    from medspa.settings import Settings
    from orchestration.defs.automation.landing_sensor import SETTLE_SECONDS, tenant_requests

    for name in ("MEDSPA_TENANTS_FILE", "MEDSPA_DATA_DIR", "MEDSPA_LANDING_DIR"):
        monkeypatch.delenv(name, raising=False)
    landing = tmp_path / "landing"
    settings = Settings.from_env(tmp_path / "data", landing)
    _write(landing, "pos/invoice_lines/2026-11-21.csv", age_s=45)
    _write(landing, "pos/invoices/2026-11-21.csv", age_s=0)
    _write(landing, "pms/appointments/2026-11-21.csv.part", age_s=3600)
    waiting: list[str] = []
    requests, cursor = tenant_requests(
        settings, {}, settled_before=time.time() - SETTLE_SECONDS, waiting=waiting
    )
    assert (requests, cursor) == ([], {})
    # the tick's skip reason says what waits, not "no new extract files"
    assert waiting == [
        "tenant 'default': 1 new file(s) and files still being written, taken once nothing in "
        "its landing folder has been written for 30 s"
    ]
    # 40 s later the invoices are written too: one run for both (the clock moved on 40 s)
    later = time.time() + 40 - SETTLE_SECONDS
    requests, cursor = tenant_requests(settings, cursor, settled_before=later)
    assert [r.tags["medspa/new_files"] for r in requests] == ["2"]
    assert set(cursor["default"]) == {
        "pos/invoice_lines/2026-11-21.csv",
        "pos/invoices/2026-11-21.csv",
    }
    # on that clock, an in-transit name just written holds the next file back in the same way
    _write(landing, "pms/appointments/2026-11-22.csv", age_s=60)
    _write(landing, "pos/invoices/2026-11-22.csv.part", age_s=-20)
    held, _ = tenant_requests(settings, cursor, settled_before=later)
    assert held == []
    # ... but a file stamped a day ahead of the clock is no delivery in progress
    _write(landing, "pos/invoices/2026-11-22.csv.part", age_s=-86400)
    (taken,), _ = tenant_requests(settings, cursor, settled_before=later)
    assert taken.tags["medspa/new_files"] == "1"
