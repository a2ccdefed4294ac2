"""Systems load largest first, so the merge nothing overlaps (the last one) is the smallest;
the report still lists tables in the contract's order."""

from __future__ import annotations

from ingest_fixtures import CONTRACT, csv_text, header, settings_for, write, write_required

import ingestion.system_load as system_load
from ingestion.landing import scan_landing
from ingestion.pipeline import ingest, largest_first


def _review_rows(count: int) -> list[dict]:
    return [
        {
            "review_id": f"R{i}",
            "location_id": "L1",
            "platform": "google",
            "rating": "5",
            "reviewer_name": f"Reviewer {i}",
            "posted_at": "2026-11-10T10:00:00Z",
            "updated_at": "2026-11-10T10:00:00Z",
        }
        for i in range(count)
    ]


def test_systems_are_ordered_by_the_bytes_of_files_never_recorded(tmp_path):
    write(tmp_path, "pms/locations/2026-11-20.csv", "x" * 100)
    write(tmp_path, "pos/products/2026-11-20.csv", "x" * 300)
    write(tmp_path, "phone/calls/2026-11-20.csv", "x" * 200)
    write(tmp_path, "phone/calls/2026-11-19.csv", "x" * 900)  # recorded before: not counted
    scan = scan_landing(tmp_path, CONTRACT)
    recorded = {("phone/calls/2026-11-19.csv", "an earlier hash")}
    systems = CONTRACT.systems  # pms, pos, phone, messaging, crm, reviews
    # pos 300 > phone 200 > pms 100 > the rest, which have none and keep the contract's order
    assert largest_first(systems, scan, recorded) == [
        "pos",
        "phone",
        "pms",
        *[s for s in systems if s not in ("pos", "phone", "pms")],
    ]
    assert largest_first(["pms", "phone"], scan, set()) == ["phone", "pms"]


def test_the_largest_system_merges_first_and_the_report_keeps_the_contract_order(
    tmp_path, monkeypatch
):
    landing = tmp_path / "landing"
    write_required(landing)
    write(
        landing,
        "reviews/reviews/2026-11-20.csv",
        csv_text(header("reviews.reviews"), _review_rows(400)),
    )
    merged: list[str] = []
    run_dlt = system_load._run_dlt

    def recording_run_dlt(con, pipelines_dir, job):
        merged.append(job.system)
        return run_dlt(con, pipelines_dir, job)

    monkeypatch.setattr(system_load, "_run_dlt", recording_run_dlt)
    report = ingest(settings_for(tmp_path))
    assert merged == ["reviews", "pms"]  # the reviews file outweighs both pms files
    names = [t.qualified_name for t in report.tables]
    contract_order = [t.qualified_name for t in CONTRACT.tables]
    assert names == sorted(names, key=contract_order.index)
    assert report.table("reviews", "reviews").rows_inserted == 400
    assert report.table("pms", "appointments").rows_inserted == 1
