"""A refused file's rows are not rows read: they must not dilute the quarantined share.

The landing contract: the share counts the rows of the files that were checked, and a file
refused in the same load does not dilute it. The publish gate (`quality.quarantine`) leaves
refused files out; the load report added their rows to `rows_read`, so one 10-row extract with
5 bad rows beside a refused 100-row file printed `rows 110 read` and gave Dagster a
`quarantined_share` of 4.5 % while the gate blocked publishing at 50 %.
"""

from __future__ import annotations

from ingest_fixtures import settings_for, write, write_required

from ingestion.pipeline import ingest
from quality.quarantine import table_verdicts

ROOMS = "room_id,location_id,name,room_type,active_from,active_to,updated_at"


def _room(number: int, room_type: str = "treatment") -> str:
    return f"RM{number},LOC01,T,{room_type},2024-07-11,,2024-06-11T08:00:00-07:00"


def _landing(root) -> None:
    """Rooms, by hand: e1 has 10 rows, RM0-RM4 with an unknown room type (quarantined) and
    RM5-RM9 good; e2 has 100 good rows but two extra columns that would share one stored name
    (`Promo Code`, `promo_code`), so the whole file is refused after its rows were read."""
    landing = root / "landing"
    write_required(landing)
    bad_then_good = [_room(n, "bogus" if n < 5 else "treatment") for n in range(10)]
    write(landing, "pms/rooms/2026-11-15.csv", "\n".join([ROOMS, *bad_then_good]) + "\n")
    refused = [f"{_room(n)},a,b" for n in range(100, 200)]
    write(
        landing,
        "pms/rooms/2026-11-16.csv",
        "\n".join([f"{ROOMS},Promo Code,promo_code", *refused]) + "\n",
    )


def test_refused_rows_are_reported_apart_and_leave_the_share_alone(tmp_root):
    _landing(tmp_root)
    settings = settings_for(tmp_root)
    progress: dict[str, int] = {}
    report = ingest(settings, progress=progress.__setitem__)

    rooms = report.table("pms", "rooms")
    assert (rooms.files_loaded, rooms.files_refused) == (1, 1)
    # 10 rows checked (5 new, 5 quarantined); the refused file's 100 rows stand apart
    assert (rooms.rows_read, rooms.rows_inserted, rooms.rows_quarantined) == (10, 5, 5)
    assert rooms.rows_in_refused_files == 100
    assert rooms.quarantined_share == 0.5  # 5 of 10

    meta = report.table_metadata("pms", "rooms")
    assert (meta["rows_read"], meta["rows_quarantined"], meta["quarantined_share"]) == (10, 5, 0.5)
    assert meta["rows_in_refused_files"] == 100
    assert progress["pms.rooms"] == 10  # the terminal's "loaded pms.rooms: 10 rows"

    line = next(x for x in report.to_text().splitlines() if "pms.rooms" in x)
    assert line.endswith(
        "| rows 10 read, 5 new, 0 replaced stored, 0 older than stored, 5 quarantined "
        "| 100 rows in refused files"
    )
    # the publish gate judges the same load at the same share
    assert table_verdicts(settings.warehouse_path, 0.01)[("pms", "rooms")].worst_share == 0.5


def test_no_refused_file_no_figure(tmp_root):
    # Without a refused file nothing changes: `rows_read` is every row, no extra figure.
    write_required(tmp_root / "landing")
    report = ingest(settings_for(tmp_root))
    locations = report.table("pms", "locations")
    assert (locations.rows_read, locations.rows_in_refused_files) == (1, 0)
    assert "refused files" not in report.to_text()
