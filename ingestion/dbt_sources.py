"""Render the dbt sources YAML (and the list of contract tables) from the landing contract.

The raw layer's shape has one home (`contract.yml`); the dbt sources files and the macro
`contract_table_names()` are derived from it by `medspa contract sync`, and `medspa contract
check` (and `tests/foundation/test_contract.py`) fail when a committed file no longer matches
what this module would write. The dbt project folder is an argument: the CLI knows where it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ingestion.contract import Contract, Table, load_contract

HEADER = (
    "# GENERATED from ingestion/contract.yml by `medspa contract sync`: do not edit by hand.\n"
    "# The raw layer holds PHI (columns with meta.phi); only staging models may read it.\n"
)


def _column_yaml(table: Table, name: str) -> dict[str, Any]:
    col = table.column(name)
    entry: dict[str, Any] = {"name": name, "data_type": col.duckdb_type.lower()}
    if col.description:
        entry["description"] = col.description
    meta: dict[str, Any] = {"contract_type": col.type}
    if col.phi:
        meta["phi"] = True
    entry["meta"] = meta
    if name in table.primary_key:
        # dbt tests what dbt joins on: the key, not null and (single-column) unique. Every
        # other contract rule (required columns, enums, ranges, types) is checked on the raw
        # tables once, by the GX raw suites derived from the same contract (asset checks); a
        # dbt `not_null` for each required column repeated them inside every nightly
        # `dbt build`: 92 more tests. A key part declared `nullable` (a spend row without a
        # campaign) holds null as a key value of its own: no `not_null` on it.
        tests = [] if col.nullable else ["not_null"]
        if table.primary_key == (name,):
            tests.append("unique")
        if tests:
            entry["data_tests"] = tests
    return entry


def _table_yaml(table: Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "description": f"Raw `{table.qualified_name}` extracts merged on "
        f"({', '.join(table.primary_key)}); newest updated_at wins.",
        "meta": {"primary_key": list(table.primary_key), "contains_phi": bool(table.phi_columns)},
        "columns": [_column_yaml(table, c) for c in table.column_names],
    }


MACRO_HEADER = (
    "{#- GENERATED from ingestion/contract.yml by `medspa contract sync`: do not edit by hand.\n"
    "    The landing contract's tables as (source name, table name), sorted: a static list, so a\n"
    "    model looping over it (macro contract_tables) calls source() for each while dbt\n"
    "    parses, and dbt lists every raw table among that model's parents (its lineage in\n"
    "    Dagster, and what tells a nightly that the model's inputs changed). -#}\n"
)


def _table_names_macro(contract: Contract) -> str:
    names = sorted((t.dataset, t.name) for t in contract.tables)
    body = ",\n".join(f"        [{source!r}, {name!r}]" for source, name in names)
    return (
        f"{MACRO_HEADER}{{% macro contract_table_names() -%}}\n"
        f"    {{{{ return([\n{body},\n    ]) }}}}\n{{%- endmacro %}}\n"
    )


def render_sources(project_dir: Path, contract: Contract | None = None) -> dict[Path, str]:
    """Map of sources-file path (under dbt `project_dir`) -> YAML text, one file per system."""
    contract = contract or load_contract()
    files: dict[Path, str] = {}
    for system in contract.systems:
        doc = {
            "version": 2,
            "sources": [
                {
                    "name": f"raw_{system}",
                    "schema": f"raw_{system}",
                    "description": contract.system_descriptions[system],
                    "tables": [_table_yaml(t) for t in contract.tables_of(system)],
                }
            ],
        }
        path = project_dir / "models" / "staging" / system / f"_{system}__sources.yml"
        files[path] = HEADER + yaml.safe_dump(doc, sort_keys=False, width=100)
    return files


def render_generated(project_dir: Path, contract: Contract | None = None) -> dict[Path, str]:
    """Every file `medspa contract sync` writes under dbt `project_dir`: the sources YAML and
    the macro `contract_table_names()`."""
    contract = contract or load_contract()
    return {
        **render_sources(project_dir, contract),
        project_dir / "macros" / "contract_table_names.sql": _table_names_macro(contract),
    }


def sync_sources(project_dir: Path) -> list[Path]:
    """Write the generated files under dbt `project_dir`; returns the paths that changed."""
    changed = []
    for path, text in render_generated(project_dir).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
