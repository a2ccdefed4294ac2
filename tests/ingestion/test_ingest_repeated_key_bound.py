"""A key repeated many times inside one extract: every copy is quarantined, and what that
costs grows with the copies, not with their square.

Each copy's reason used to list every row of its key, so n copies held n² row numbers: a
1.6 MB file of one key 20,000 times ran the loader out of memory, and, left in the landing
folder to be retried, failed every later run too. The reason now lists the first rows and
the count.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ingest_fixtures import (
    appointment,
    csv_text,
    header,
    query,
    settings_for,
    validate_one,
    write,
    write_required,
)

APPOINTMENTS = header("pms.appointments")
COPIES = 50_000
#: The longest reason a copy may carry: the ten rows, the count and the words around them.
REASON_LIMIT = 160
#: The loader's peak resident memory for this file: 0.5-1.1 GB measured (DuckDB uses its
#: buffer pool, 2 GB by default, as it sees fit, so the figure moves from machine to machine);
#: with the old reason the copies alone held 50,000² = 2.5 billion row numbers, tens of
#: gigabytes. The bound tells the two apart, with DuckDB's limit and the interpreter under it.
PEAK_LIMIT_MB = 2560

#: The ingest in a process of its own, so its peak memory is its own: prints the load's
#: errors and the peak in kB (`ru_maxrss` on Linux) as JSON.
_CHILD = """
import json, resource, sys
from pathlib import Path
from ingestion.pipeline import IngestSettings, ingest
root = Path(sys.argv[1])
data = root / "data"
report = ingest(IngestSettings(landing_dir=root / "landing", data_dir=data,
                               warehouse_path=data / "warehouse.duckdb"))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"errors": report.errors, "peak_kb": peak}))
"""


def test_a_few_copies_are_all_listed(tmp_path):
    rows = [appointment("A1", f"2026-11-0{d}T00:00:00Z") for d in (2, 3, 4)] + [appointment("A2")]
    path = write(tmp_path, "appointments.csv", csv_text(APPOINTMENTS, rows))
    quarantine, valid = validate_one(path, "pms.appointments", "csv", "appointment_id")
    reason = "duplicate primary key within the extract (rows 1, 2, 3)"
    assert quarantine == [(r, "appointment_id", reason) for r in (1, 2, 3)]
    assert valid == [("A2",)]


def test_more_than_ten_copies_list_the_first_ten_and_the_count(tmp_path):
    rows = [appointment("A2")] + [appointment("A1") for _ in range(12)] + [appointment("B1")] * 2
    path = write(tmp_path, "appointments.csv", csv_text(APPOINTMENTS, rows))
    quarantine, valid = validate_one(path, "pms.appointments", "csv", "appointment_id")
    a1 = (
        "duplicate primary key within the extract "
        "(rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 2 more, 12 in all)"
    )
    b1 = "duplicate primary key within the extract (rows 14, 15)"
    assert quarantine == [(r, "appointment_id", a1) for r in range(2, 14)] + [
        (14, "appointment_id", b1),
        (15, "appointment_id", b1),
    ]
    assert valid == [("A2",)]


def test_fifty_thousand_copies_of_one_key_load_in_bounded_memory(tmp_root: Path):
    settings = settings_for(tmp_root)
    write_required(tmp_root / "landing")
    copies = [appointment("DUP1")] * COPIES + [appointment("A2")]
    write(tmp_root / "landing", "pms/appointments/2026-11-21.csv", csv_text(APPOINTMENTS, copies))
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_root)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["errors"] == []
    peak_mb = result["peak_kb"] / 1024
    [(rows, distinct, longest, first)] = query(
        settings,
        """select count(*), count(distinct reason), max(length(reason)), min(reason)
        from raw_quarantine.rejected_rows where source_file = 'pms/appointments/2026-11-21.csv'""",
    )
    assert rows == COPIES
    assert distinct == 1
    assert first == (
        "duplicate primary key within the extract "
        f"(rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and {COPIES - 10} more, {COPIES} in all)"
    )
    assert longest <= REASON_LIMIT
    assert query(settings, "select appointment_id from raw_pms.appointments order by 1") == [
        ("A1",),
        ("A2",),
    ]
    assert peak_mb < PEAK_LIMIT_MB, f"peak {peak_mb:.0f} MB"
