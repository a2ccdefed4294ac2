"""Every `MEDSPA_*` variable the code reads has its row in the README's configuration table.

A variable added to the code and not to the table is a knob nobody finds (five serving
variables once were missing). `MEDSPA_WAREHOUSE_PATH` is left out: the project sets it for
dbt itself (`medspa.dbt_invocation`); a person sets it only for `dbt docs`, which the README
says where it describes them.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Where the shipped code lives (tests and benchmarks have variables of their own).
PACKAGES = ("medspa", "orchestration", "serving", "ingestion", "quality", "dashboards", "demo")
SET_BY_THE_PROJECT = {"MEDSPA_WAREHOUSE_PATH"}


def _read_by_code() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            names |= set(re.findall(r"[\"'](MEDSPA_[A-Z0-9_]+)[\"']", path.read_text("utf-8")))
    return names - SET_BY_THE_PROJECT


def _configuration_table() -> set[str]:
    text = (REPO / "README.md").read_text("utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(MEDSPA_[A-Z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_every_variable_the_code_reads_is_in_the_readmes_table() -> None:
    read = _read_by_code()
    assert {"MEDSPA_DATA_DIR", "MEDSPA_PHI_KEY", "MEDSPA_ALERT_WEBHOOK_URL"} <= read
    assert sorted(read - _configuration_table()) == []


def test_the_table_names_no_variable_the_code_does_not_read() -> None:
    assert sorted(_configuration_table() - _read_by_code()) == []
