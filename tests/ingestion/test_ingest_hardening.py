"""The loader leaves no PHI behind, keeps its files private and trusts nothing in a file.

Each test here names one hole an attacker or a careless operator could use: copies of rows
outside the warehouse, readable files, messages quoting a patient, followed links and odd
file types, lineage columns forged by a file, and control characters in file names.
"""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ingest_fixtures import (
    CONTRACT,
    appointment,
    csv_text,
    header,
    query,
    settings_for,
    write,
    write_required,
)

from ingestion.pipeline import ingest
from medspa.settings import Settings

pytestmark = pytest.mark.xdist_group("ingest_hardening")


def patient(pid: str, first: str, last: str, updated_at: str) -> dict:
    return {
        "patient_id": pid,
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}@example.org",
        "phone": "+15550001234",
        "date_of_birth": "1971-09-17",
        "sex": "F",
        "postal_code": "02139",
        "home_location_id": "L1",
        "created_at": "2026-11-01T00:00:00Z",
        "updated_at": updated_at,
    }


def _phi_values(landing: Path) -> set[str]:
    """Every value of a `phi: true` column in every CSV of the landing folder."""
    import csv

    values: set[str] = set()
    for path in landing.rglob("*.csv"):
        system, table = path.relative_to(landing).parts[:2]
        phi = set(CONTRACT.table(f"{system}.{table}").phi_columns)
        with open(path, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                values |= {v for k, v in row.items() if k in phi and v and len(v) >= 5}
    return values


def _file_text(path: Path) -> str:
    """A file's content as text; parquet and gzip are decoded (compression hides values)."""
    data = path.read_bytes()
    if path.suffix == ".parquet" or data[:4] == b"PAR1":
        return str(pq.read_table(path).to_pylist())
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def test_no_phi_copy_outside_warehouse_after_full_load_and_delta(tmp_root):
    landing = tmp_root / "landing"
    write_required(landing)
    patients = [patient("P1", "Zelphina", "Quartermaine", "2026-11-01T00:00:00Z")]
    write(landing, "pms/patients/2026-11-20.csv", csv_text(header("pms.patients"), patients))
    settings = settings_for(tmp_root)
    assert ingest(settings).ok
    delta = [
        patient("P1", "Zelphina", "Quartermaine-Okafor", "2026-11-02T00:00:00Z"),
        patient("P2", "Ignatius", "Wrexham", "2026-11-02T00:00:00Z"),
    ]
    write(landing, "pms/patients/2026-11-21.csv", csv_text(header("pms.patients"), delta))
    assert ingest(settings).ok
    assert query(settings, "select count(*) from raw_pms.patients") == [(2,)]
    phi = _phi_values(landing)
    assert {"Quartermaine", "ignatius.wrexham@example.org", "1971-09-17"} <= phi
    leaks = []
    for path in settings.data_dir.rglob("*"):
        if not path.is_file() or path.name.startswith("warehouse.duckdb"):
            continue
        if landing in path.parents:
            continue
        text = _file_text(path)
        leaks += [f"{path.relative_to(settings.data_dir)}" for v in phi if v in text]
    assert leaks == []


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_warehouse_and_dlt_folder_are_owner_only(tmp_root):
    write_required(tmp_root / "landing")
    settings = Settings(data_dir=tmp_root / "data", landing_dir=tmp_root / "landing")
    old = os.umask(0o022)  # the usual umask: files would be world-readable
    try:
        settings.ensure_dirs()
        assert ingest(settings.ingest_settings()).ok
    finally:
        os.umask(old)
    assert _mode(settings.warehouse_path) == 0o600
    assert _mode(settings.data_dir / ".dlt") == 0o700
    assert _mode(settings.quality_dir) == 0o700
    assert _mode(settings.data_dir / "logs") == 0o700
    assert _mode(settings.dagster_home) == 0o700


def test_headerless_file_refusal_quotes_no_value(tmp_root, capsys):
    landing = tmp_root / "landing"
    write_required(landing)
    # The export forgot its header: the first data row (a patient whose first and last
    # names are equal) is read as the header, so "column names" are a patient's values.
    row = patient("P7", "Marisol", "Marisol", "2026-11-01T00:00:00Z")
    row |= {"sex": "F", "acquisition_channel": "referral", "referred_by_patient_id": "P0"}
    text = csv_text(header("pms.patients"), [row, row | {"patient_id": "P8"}])
    write(landing, "pms/patients/2026-11-20.csv", text.split("\n", 1)[1])
    settings = settings_for(tmp_root)
    report = ingest(settings)
    printed = report.to_text()
    stored = query(settings, "select refusal_reason from raw_meta.loaded_files")
    everything = printed + str(stored) + str(report.table_metadata("pms", "patients"))
    assert report.table("pms", "patients").files_refused == 1
    assert "position(s) 3" in printed
    for value in ("Marisol", "marisol.marisol@example.org", "+15550001234", "1971-09-17"):
        assert value not in everything


@pytest.mark.parametrize(
    "column", ["_extract_id", "_source_file", "__row", "_dlt_load_id", "_DLT_Id", "_Extract_ID"]
)
def test_file_cannot_forge_lineage_columns(tmp_root, column):
    landing = tmp_root / "landing"
    write_required(landing)
    row = patient("P1", "Ana", "Lopez", "2026-11-01T00:00:00Z") | {column: "9999-forged"}
    write(
        landing, "pms/patients/2026-11-20.csv", csv_text([*header("pms.patients"), column], [row])
    )
    settings = settings_for(tmp_root)
    report = ingest(settings)
    entry = report.table("pms", "patients")
    assert entry.files_refused == 1, report.to_text()
    # the position, not the name: a name starting with __ may be a value
    position = len(header("pms.patients")) + 1
    assert (
        f"position(s) {position} use names reserved for the loader's lineage" in (entry.refusals[0])
    )
    assert "forged" not in entry.refusals[0]
    assert query(settings, "select count(*) from raw_pms.patients") == [(0,)]
    # The loader's own lineage on the rows it did load is its own.
    assert query(settings, "select distinct _extract_id from raw_pms.locations") == [
        ("2026-11-20",)
    ]


def test_symlinks_and_fifos_are_refused_with_a_reason(tmp_root, tmp_path_factory):
    landing = tmp_root / "landing"
    write_required(landing)
    outside = tmp_path_factory.mktemp("elsewhere") / "secret.csv"
    outside.write_text(csv_text(header("pms.patients"), [patient("PX", "Out", "Side", "x")]))
    (landing / "pms" / "patients").mkdir(parents=True)
    (landing / "pms" / "patients" / "2026-11-20.csv").symlink_to(outside)
    os.mkfifo(landing / "pms" / "appointments" / "2026-11-21.csv")
    (landing / "crm").mkdir()
    (landing / "crm" / "leads").symlink_to(outside.parent, target_is_directory=True)
    report = ingest(settings_for(tmp_root))
    text = report.to_text()
    assert "ignored pms/patients/2026-11-20.csv: symbolic link refused" in text
    assert "ignored pms/appointments/2026-11-21.csv: not a regular file" in text
    assert "ignored crm/leads: symbolic link refused" in text
    assert report.table("pms", "patients").files_loaded == 0


def test_internal_links_are_accepted_only_when_allowed(tmp_root):
    landing = tmp_root / "landing"
    write_required(landing)
    real = write(
        landing,
        "pms/patients/2026-11-19.csv",
        csv_text(header("pms.patients"), [patient("P1", "In", "Side", "2026-11-01T00:00:00Z")]),
    )
    (landing / "pms" / "patients" / "2026-11-20.csv").symlink_to(real)
    refused = ingest(settings_for(tmp_root))
    assert "ignored pms/patients/2026-11-20.csv: symbolic link refused" in refused.to_text()
    other = tmp_root / "data2"
    allowed = ingest(
        settings_for(
            tmp_root,
            data_dir=other,
            warehouse_path=other / "warehouse.duckdb",
            allow_internal_links=True,
        )
    )
    assert allowed.table("pms", "patients").files_loaded == 2


def test_control_characters_in_file_names_are_escaped(tmp_root):
    landing = tmp_root / "landing"
    write_required(landing)
    name = "2026-11-21\nerror: fake line\x1b[31m.csv"
    write(landing, f"pms/locations/{name}", "not,a,contract,file\n1,2,3,4\n")
    settings = settings_for(tmp_root)
    report = ingest(settings)
    text = report.to_text()
    assert "\nerror: fake line" not in text and "\x1b" not in text
    assert "2026-11-21\\nerror: fake line\\x1b[31m.csv" in text
    stored = query(settings, "select file_path from raw_meta.loaded_files order by 1")
    assert all("\n" not in p and "\x1b" not in p for (p,) in stored)


def test_failed_dlt_load_leaves_no_phi_copy(tmp_root, capfd):
    """A load dlt cannot finish is aborted at once and its package files deleted."""
    import duckdb

    landing = tmp_root / "landing"
    write_required(landing)
    settings = settings_for(tmp_root)
    assert ingest(settings).ok
    # A warehouse column of the wrong type makes dlt's load job fail on the row's value.
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute(
        """create table raw_pms.p2 as
        select * replace (cast(null as integer) as last_name) from raw_pms.patients limit 0;
        drop table raw_pms.patients; alter table raw_pms.p2 rename to patients"""
    )
    con.close()
    patients = [patient("P1", "Zelphina", "Quartermaine", "2026-11-01T00:00:00Z")]
    write(landing, "pms/patients/2026-11-21.csv", csv_text(header("pms.patients"), patients))
    capfd.readouterr()
    report = ingest(settings)
    assert not report.ok and "dlt could not merge into raw_pms" in report.errors[0]
    printed = capfd.readouterr()
    assert "Quartermaine" not in printed.out + printed.err + report.to_text()
    leaks = [
        str(path.relative_to(settings.data_dir))
        for path in (settings.data_dir / ".dlt").rglob("*")
        if path.is_file() and "Quartermaine" in _file_text(path)
    ]
    assert leaks == []


def test_a_newline_and_a_backslash_n_in_file_names_are_two_files(tmp_root):
    # Names are stored escaped; the escape must be reversible, or the two files share one
    # ledger record and one content hash, and one of them is never loaded.
    landing = tmp_root / "landing"
    write_required(landing)
    for name, plan_id in (("2026-11-21\nx", "M1"), ("2026-11-21\\nx", "M2")):
        row = f"{plan_id},n,1.00,1,2026-11-01T00:00:00Z"
        text = f"plan_id,name,price,billing_period_months,updated_at\n{row}\n"
        write(landing, f"pms/membership_plans/{name}.csv", text)
    settings = settings_for(tmp_root)
    report = ingest(settings)
    assert report.table("pms", "membership_plans").files_loaded == 2, report.to_text()
    assert query(settings, "select plan_id from raw_pms.membership_plans order by 1") == [
        ("M1",),
        ("M2",),
    ]
    assert query(
        settings,
        "select file_path from raw_meta.loaded_files where table_name = 'membership_plans' "
        "order by 1",
    ) == [
        ("pms/membership_plans/2026-11-21\\\\nx.csv",),
        ("pms/membership_plans/2026-11-21\\nx.csv",),
    ]


def test_a_file_name_duckdb_would_expand_or_cannot_take_is_refused_and_the_rest_loads(tmp_root):
    """`2026-11-2?.csv` matched every other extract of its table (their rows read again and
    stamped as its own), and a name that is not valid UTF-8 stopped the whole load."""
    landing = tmp_root / "landing"
    write_required(landing)
    appointments = header("pms.appointments")
    write(landing, "pms/appointments/2026-11-21.csv", csv_text(appointments, [appointment("A2")]))
    write(landing, "pms/appointments/2026-11-2?.csv", csv_text(appointments, [appointment("A9")]))
    write(landing, "pms/appointments/2026-11-2[2].csv", csv_text(appointments, [appointment("A8")]))
    bad_name = os.fsdecode(b"2026-11-23\xe9.csv")  # Latin-1 bytes: not a UTF-8 name
    write(landing, f"pms/appointments/{bad_name}", csv_text(appointments, [appointment("A7")]))
    settings = settings_for(tmp_root)
    report = ingest(settings)
    entry = report.table("pms", "appointments")
    assert (entry.files_loaded, entry.files_refused) == (2, 3), report.to_text()
    assert entry.rows_read == 2  # A1 and A2 once each: nothing read twice
    refusals = "\n".join(entry.refusals)
    assert "2026-11-2?.csv: path holds *, ? or [" in refusals
    assert "2026-11-2[2].csv: path holds *, ? or [" in refusals
    assert "2026-11-23\\udce9.csv: file name is not valid UTF-8" in refusals
    assert query(settings, "select appointment_id from raw_pms.appointments order by 1") == [
        ("A1",),
        ("A2",),
    ]
    ledger = query(
        settings,
        "select extract_id, status from raw_meta.loaded_files "
        "where table_name = 'appointments' order by extract_id",
    )
    assert ledger == [
        ("2026-11-20", "loaded"),
        ("2026-11-21", "loaded"),
        ("2026-11-23\\udce9", "refused"),
        ("2026-11-2?", "refused"),
        ("2026-11-2[2]", "refused"),
    ]


def test_a_file_that_cannot_be_read_is_an_error_and_the_rest_loads(tmp_root, monkeypatch):
    """Hashing an unreadable extract raised out of the whole load (a root session cannot make
    a file unreadable, so the read fails here on purpose)."""
    from ingestion import hash_cache

    landing = tmp_root / "landing"
    write_required(landing)
    appointments = header("pms.appointments")
    write(landing, "pms/appointments/2026-11-21.csv", csv_text(appointments, [appointment("A2")]))
    real = hash_cache.HashCache.sha256

    def unreadable(self, file):  # type: ignore[no-untyped-def]
        if file.rel_path.endswith("2026-11-21.csv"):
            raise PermissionError(13, "Permission denied")
        return real(self, file)

    monkeypatch.setattr(hash_cache.HashCache, "sha256", unreadable)
    settings = settings_for(tmp_root)
    report = ingest(settings)
    assert not report.ok
    assert report.errors == [
        "cannot read pms/appointments/2026-11-21.csv (PermissionError): the other files still "
        "load, this one is read again by the next run"
    ]
    assert query(settings, "select appointment_id from raw_pms.appointments") == [("A1",)]
    monkeypatch.setattr(hash_cache.HashCache, "sha256", real)
    again = ingest(settings)
    assert again.ok and again.table("pms", "appointments").files_loaded == 1
    assert query(settings, "select appointment_id from raw_pms.appointments order by 1") == [
        ("A1",),
        ("A2",),
    ]


def test_a_folder_that_cannot_be_listed_is_an_error_not_a_quiet_night(tmp_root, monkeypatch):
    """`os.walk` skips a folder it cannot list without a word: the table looked like a night
    without new extracts and the run published (a root session cannot make a folder
    unlistable, so listing it fails here on purpose)."""
    landing = tmp_root / "landing"
    write_required(landing)
    settings = settings_for(tmp_root)
    assert ingest(settings).ok
    appointments = header("pms.appointments")
    write(landing, "pms/appointments/2026-11-21.csv", csv_text(appointments, [appointment("A2")]))
    real = os.scandir
    folder = landing / "pms" / "appointments"

    def unlistable(path):  # type: ignore[no-untyped-def]
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", unlistable)
    report = ingest(settings)
    assert not report.ok
    assert report.errors == [
        "cannot list pms/appointments in the landing folder (PermissionError: Permission "
        "denied): the extracts in it are not loaded; give the loader read access, the next "
        "run loads them"
    ]
    assert query(settings, "select appointment_id from raw_pms.appointments") == [("A1",)]
    monkeypatch.setattr(os, "scandir", real)
    again = ingest(settings)
    assert again.ok and again.table("pms", "appointments").files_loaded == 1
    assert query(settings, "select appointment_id from raw_pms.appointments order by 1") == [
        ("A1",),
        ("A2",),
    ]
