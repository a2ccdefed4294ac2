"""The landing contract (`contract.yml`) loaded into typed objects.

Everything that needs to know a source table's shape asks this module: the loader's
validation and dlt column hints, the dbt sources YAML, the raw-layer quality suites
and the demo generator. Keeping one reader of one file is what makes "adding a column
is one edit" true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT_PATH = Path(__file__).with_name("contract.yml")

#: Contract type -> DuckDB type of the raw layer.
DUCKDB_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(18,2)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "time": "TIME",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
}

#: Contract type -> dlt data_type hint.
DLT_TYPES: dict[str, str] = {
    "string": "text",
    "integer": "bigint",
    "decimal": "decimal",
    "boolean": "bool",
    "date": "date",
    "time": "time",
    "timestamp": "timestamp",
}


@dataclass(frozen=True)
class Column:
    """One contract column and the rules a value in it must follow."""

    name: str
    type: str
    nullable: bool
    phi: bool = False
    enum: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    #: a named rule a text value must also follow (`FORMATS`), e.g. `iana_time_zone`
    format: str | None = None
    description: str = ""

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    @property
    def pseudonymised(self) -> bool:
        """An id naming a person (a patient, a lead): not PHI in the raw layer, but from staging
        on it appears only as its keyed hash. Every other id reaches the marts as it is."""
        return self.name in ("patient_id", "lead_id") or self.name.endswith("_patient_id")


@dataclass(frozen=True)
class Table:
    """One source table: `<system>.<name>` with its primary key and columns in contract order."""

    system: str
    name: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...] = field(repr=False)

    @property
    def qualified_name(self) -> str:
        return f"{self.system}.{self.name}"

    @property
    def dataset(self) -> str:
        """The raw DuckDB schema / dlt dataset this table lands in."""
        return f"raw_{self.system}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def nullable_key_columns(self) -> list[str]:
        """Key parts where null is a value of its own (matched null-safely on merge)."""
        return [c.name for c in self.columns if c.name in self.primary_key and c.nullable]

    @property
    def phi_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.phi]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.qualified_name} has no contract column {name!r}")


@dataclass(frozen=True)
class Contract:
    """All systems and tables of the landing contract."""

    version: int
    tables: tuple[Table, ...]
    required_tables: tuple[str, ...]
    system_descriptions: dict[str, str]
    #: system -> largest lag (days) behind the newest extract of any system before it is stale
    #: (`freshness_days`; the shipped contract gives one for every system).
    freshness_days: dict[str, float] = field(default_factory=dict)

    @property
    def systems(self) -> list[str]:
        return list(self.system_descriptions)

    def table(self, qualified_name: str) -> Table:
        for t in self.tables:
            if t.qualified_name == qualified_name:
                return t
        raise KeyError(f"the contract has no table {qualified_name!r}")

    def tables_of(self, system: str) -> list[Table]:
        return [t for t in self.tables if t.system == system]


#: Named rules for text values beyond their type (`format:` in contract.yml), with what the
#: landing contract says of them. The loader's validator holds each rule's check.
FORMATS: dict[str, str] = {
    # A zone DuckDB does not know would fail the dbt build in `timezone()` for every row of
    # every location: one bad location row is quarantined instead.
    "iana_time_zone": "an IANA time zone name, spelled exactly (`America/New_York`)",
}


def _column(name: str, spec: dict[str, Any], is_key: bool) -> Column:
    enum = spec.get("enum")
    fmt = spec.get("format")
    if fmt is not None and (fmt not in FORMATS or spec["type"] != "string"):
        raise ValueError(f"column {name}: format {fmt!r} is not a known rule for a string")
    return Column(
        name=name,
        type=spec["type"],
        # A key part may be declared `nullable`: null is then a key value of its own.
        nullable=bool(spec.get("nullable")) or not (is_key or spec.get("required", False)),
        phi=bool(spec.get("phi", False)),
        enum=tuple(enum) if enum is not None else None,
        min=spec.get("min"),
        max=spec.get("max"),
        format=fmt,
        description=spec.get("description", ""),
    )


def parse_contract(raw: dict[str, Any]) -> Contract:
    """Build a `Contract` from the YAML document, checking it is internally consistent."""
    tables: list[Table] = []
    descriptions: dict[str, str] = {}
    freshness: dict[str, float] = {}
    for system, sys_spec in raw["systems"].items():
        descriptions[system] = sys_spec.get("description", "")
        if "freshness_days" in sys_spec:
            freshness[system] = float(sys_spec["freshness_days"])
        for name, t_spec in sys_spec["tables"].items():
            key = tuple(t_spec["primary_key"])
            cols = tuple(_column(c, s, c in key) for c, s in t_spec["columns"].items())
            missing = set(key) - {c.name for c in cols}
            if missing:
                raise ValueError(f"{system}.{name}: primary key columns {missing} not declared")
            if "updated_at" not in {c.name for c in cols}:
                raise ValueError(f"{system}.{name}: every table needs updated_at for merging")
            tables.append(Table(system, name, key, cols))
    first = tables[0].system if tables else None
    elsewhere = [n for n in raw.get("required_tables", []) if n.split(".")[0] != first]
    if elsewhere:
        # the loader checks them before it loads anything (`pipeline._require_loadable`)
        raise ValueError(f"required tables must be in the first system: {elsewhere}")
    return Contract(
        version=int(raw["version"]),
        tables=tuple(tables),
        required_tables=tuple(raw.get("required_tables", [])),
        system_descriptions=descriptions,
        freshness_days=freshness,
    )


@cache
def load_contract(path: Path = CONTRACT_PATH) -> Contract:
    """The contract shipped with the project (cached: it is read on hot paths)."""
    with open(path, encoding="utf-8") as fh:
        return parse_contract(yaml.safe_load(fh))
