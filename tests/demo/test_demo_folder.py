"""A landing folder is demo data only while it holds the generator's files and nothing else.

The public demo key is accepted without a warning on demo data only: a clinic's own extract
dropped into the demo's landing folder must make it real data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from demo.run import Report
from demo.state import MARKER, folder_files, is_demo_folder, read_marker


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_the_marker_lists_every_generated_file_and_an_advance_adds_its_own(
    snapshot_chain: tuple[Path, Report], advanced_chain: tuple[Path, Report]
):
    first, report = snapshot_chain
    listed = read_marker(first).files
    assert listed is not None and len(listed) == len(report.files) == 22
    assert listed == folder_files(first)
    advanced, delta = advanced_chain
    after = read_marker(advanced).files
    assert after is not None and set(listed) < set(after)
    assert len(after) == len(listed) + len(delta.files)
    assert is_demo_folder(first) and is_demo_folder(advanced)


def test_a_clinics_own_extract_in_the_folder_makes_it_real_data(
    snapshot_chain: tuple[Path, Report], tmp_path: Path
):
    folder = _copy(snapshot_chain[0], tmp_path / "landing")
    own = folder / "pms" / "appointments" / "2026-11-20.csv"
    own.write_text("appointment_id\nA1\n", encoding="utf-8")
    assert not is_demo_folder(folder)
    own.unlink()
    assert is_demo_folder(folder)
    shutil.rmtree(folder / "reviews")  # a system left out to try the pipeline without it
    assert is_demo_folder(folder)

    generated = sorted((folder / "pms" / "patients").iterdir())[0]
    with generated.open("a", encoding="utf-8") as fh:
        fh.write("a row a person typed in\n")  # a generated file changed by hand
    assert not is_demo_folder(folder)


def test_hidden_files_count_as_demo_and_a_marker_without_the_list_does_not(
    snapshot_chain: tuple[Path, Report], tmp_path: Path
):
    folder = _copy(snapshot_chain[0], tmp_path / "landing")
    (folder / ".DS_Store").write_bytes(b"\0")
    assert is_demo_folder(folder)

    marker = folder / MARKER
    text = marker.read_text(encoding="utf-8")
    start = text.index('  "files": {')
    end = text.index("},", start) + 3
    marker.write_text(text[:start] + text[end:], encoding="utf-8")  # an older marker
    assert read_marker(folder).files is None
    # Nothing to compare the folder with: a clinic's extract (or a marker stripped of its list
    # to hide one) must not be pseudonymised under the public demo key without a warning.
    assert not is_demo_folder(folder)
