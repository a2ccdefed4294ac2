"""Which dbt models a nightly can leave alone: their inputs and code are those of their last build.

A dbt model's table is a function of its code and its inputs (the project's determinism rule:
no wall clock, a seeded everything, incremental builds equal a full refresh). So when neither
changed since the model's last good build, building it again writes the same rows and only
costs time: dbt's own work per node, its statements and their commits, and its data tests.
On a night when a few systems delivered nothing (a CRM that exports on weekdays, a chain
without a review tool) and on a run started again by hand after nothing new landed, that is
most of the dbt step.

**The fingerprint.** Each model gets a digest of
- its own code: SQL, config, column types (a contract), the data tests attached to it (a
  new test must run tonight, so it rebuilds its model), the project's macros and
  `dbt_project.yml` (the KPI windows), the dbt and DuckDB versions and the pseudonymisation
  key (an HMAC of it, never the key);
- each parent's state: a raw table's data version (its row count and newest load, which move
  exactly when a load wrote to it: `orchestration/defs/raw/versions.py`), a parent model's or
  seed's own fingerprint as of the table it holds (a seed's covers its file).

Parents first, so a change anywhere upstream changes the fingerprint of everything below it.
Seeds are fingerprinted and left out like models. After the dbt step, each model that was
built and whose data tests all passed records its fingerprint in `dbt_state.model_inputs`
(never published); a model that failed, or whose test failed, loses its record and its load
watermark, so the next run rebuilds it whole and tests it again (and its descendants stay
behind dbt's own gate). A selection by hand that built a model on a parent that was not
current (`built_on_stale_parents`) treats that model the same way. The next run
of the whole graph leaves out a model whose fingerprint equals its record, whose table exists
and whose parent models are all left out too.

**A record is true only of the build that wrote it.** Any other dbt command that builds a
model (`medspa transform`, a `dbt run` typed by hand, perhaps with code changed and changed
back since) leaves a table the record does not describe. So every dbt invocation forgets, as
it starts and before it builds anything, the records of the models and seeds it selected
(`macros/model_inputs.sql`, on-run-start); this step records again the ones it built and
tested, and a model built by anything else is built by the next run.

**Lineage must be complete.** A model reading a relation dbt does not list among its parents
would be left alone while that relation changed. The project's one such pattern (looping over
the contract's tables) calls `source()` for each (`macros/contract_table_names.sql`), and
`tests/dbt/test_lineage_complete.py` checks every model's compiled SQL against its parents.

**Tests of a model left out.** dbt runs with `--indirect-selection cautious`: a relationships
test from a model that is built to a dimension left out still runs; only tests whose every
parent is left out are skipped (their verdict cannot have changed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from ingestion.duckdb_limits import writer_config
from safeio.sqlquote import sql_str

#: The record of the models' fingerprints (schema, table) in the warehouse.
STATE_SCHEMA = "dbt_state"
STATE_TABLE = "model_inputs"
#: The incremental models' load watermarks and recorded definitions (macros/loads.sql).
WATERMARKS_TABLE = "load_watermarks"
#: The state of a parent that cannot be told (a model without a record, a raw table whose rows
#: carry no load id): a fingerprint over it is unique to this run, never equal to a record, so
#: the model and everything below it are built.
UNKNOWN = "unknown"
#: Statuses of a data test in run_results that let its models be recorded.
PASSING_TEST_STATUSES = frozenset({"pass", "warn"})


def shared_code_version(manifest: Mapping[str, Any], project_file: Path) -> str:
    """A digest of what every model is rendered with beside its own SQL: the project's own
    macros (by name and text, in a fixed order) and the text of `dbt_project.yml`."""
    project = manifest["metadata"]["project_name"]
    digest = hashlib.sha256()
    for unique_id, macro in sorted(manifest["macros"].items()):
        if macro["package_name"] == project:
            digest.update(f"{unique_id}\0{macro['macro_sql']}\0".encode())
    digest.update(project_file.read_bytes())
    return digest.hexdigest()


def environment_digest(phi_key: str) -> str:
    """What every model is computed with beside the project: dbt's, dbt-duckdb's and DuckDB's
    versions and the pseudonymisation key (an HMAC of a fixed label under the key, so the
    record reveals nothing of the key)."""
    versions = [f"{dist}={metadata.version(dist)}" for dist in ("dbt-core", "dbt-duckdb", "duckdb")]
    key_tag = hmac.new(phi_key.encode(), b"medspa model_inputs", hashlib.sha256).hexdigest()
    return hashlib.sha256("\0".join([*versions, key_tag]).encode()).hexdigest()


def _node_code(node: Mapping[str, Any], tests: Iterable[Mapping[str, Any]]) -> str:
    """A digest of one model's own code and of the data tests attached to it."""
    parts = [
        node["checksum"]["checksum"],
        json.dumps(node.get("config") or {}, sort_keys=True, default=str),
        json.dumps(
            {name: col.get("data_type") for name, col in (node.get("columns") or {}).items()},
            sort_keys=True,
        ),
    ]
    for test in sorted(tests, key=lambda t: t["unique_id"]):
        parts.append(test["unique_id"])
        parts.append(test["checksum"]["checksum"])
        parts.append(json.dumps(test.get("test_metadata") or {}, sort_keys=True, default=str))
        parts.append(json.dumps(test.get("config") or {}, sort_keys=True, default=str))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _tests_by_model(manifest: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Model unique id -> the data tests that read it (attached to it, or naming it as a parent)."""
    tests: dict[str, list[Mapping[str, Any]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        for parent in node.get("depends_on", {}).get("nodes", []):
            tests.setdefault(parent, []).append(node)
    return tests


#: dbt resources a run builds into a table and this module fingerprints.
BUILT_TYPES = ("model", "seed")


def _models_in_order(manifest: Mapping[str, Any]) -> list[str]:
    """The project's models and seeds, every parent before its children."""
    nodes = manifest["nodes"]
    models = sorted(uid for uid, n in nodes.items() if n["resource_type"] in BUILT_TYPES)
    order: list[str] = []
    placed: set[str] = set()

    def place(uid: str, path: tuple[str, ...]) -> None:
        if uid in placed:
            return
        if uid in path:
            raise ValueError(f"dbt models form a cycle through {uid}")
        for parent in nodes[uid].get("depends_on", {}).get("nodes", []):
            if parent in nodes and nodes[parent]["resource_type"] in BUILT_TYPES:
                place(parent, (*path, uid))
        placed.add(uid)
        order.append(uid)

    for uid in models:
        place(uid, ())
    return order


def source_relation(source: Mapping[str, Any]) -> str:
    """`schema.table` of a dbt source, the key of `raw_versions`."""
    return f"{source['schema']}.{source.get('identifier') or source['name']}"


def model_fingerprints(
    manifest: Mapping[str, Any],
    *,
    shared_code: str,
    environment: str,
    raw_versions: Mapping[str, str],
    recorded: Mapping[str, str],
    built: Iterable[str] | None = None,
) -> dict[str, str]:
    """Model (or seed) unique id -> its fingerprint as of the end of this run, parents first.

    `raw_versions`: `schema.table` -> data version of each raw table; `recorded`: model name ->
    the fingerprint recorded for its table; `built`: the models this run builds (None: all).
    A parent model the run does not build counts with its recorded fingerprint (its table is
    the one that record describes), or as unknown without one.
    """
    nodes = manifest["nodes"]
    sources = manifest.get("sources", {})
    tests = _tests_by_model(manifest)
    building = None if built is None else set(built)
    fingerprints: dict[str, str] = {}
    for uid in _models_in_order(manifest):
        node = nodes[uid]
        parts = [_node_code(node, tests.get(uid, [])), shared_code, environment]
        for parent in sorted(set(node.get("depends_on", {}).get("nodes", []))):
            if parent in sources:
                state = raw_versions.get(source_relation(sources[parent]), UNKNOWN)
            elif parent not in nodes or nodes[parent]["resource_type"] not in BUILT_TYPES:
                state = UNKNOWN  # not something a build writes: never equal to a record
            elif building is None or parent in building:
                state = fingerprints[parent]
            else:
                state = recorded.get(nodes[parent]["name"], UNKNOWN)
            if state == UNKNOWN:
                state = f"{UNKNOWN}:{uuid.uuid4().hex}"
            parts.append(f"{parent}={state}")
        fingerprints[uid] = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return fingerprints


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [STATE_SCHEMA, table],
        ).fetchone()[0]
    )


@dataclass(frozen=True)
class ModelState:
    """What the warehouse holds: recorded fingerprints and the runs that recorded them, by model
    name, and its tables."""

    recorded: dict[str, str] = field(default_factory=dict)
    tables: frozenset[tuple[str, str]] = frozenset()
    runs: dict[str, str] = field(default_factory=dict)


def read_state(warehouse: Path) -> ModelState:
    """The recorded fingerprints and the (schema, table) pairs of the warehouse, read-only.

    A warehouse that does not exist yet, or has no record table, records nothing."""
    if not warehouse.exists():
        return ModelState()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = frozenset(
            (schema, name)
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        )
        rows = []
        if (STATE_SCHEMA, STATE_TABLE) in tables:
            rows = con.execute(
                f"select model_name, fingerprint, run_id from {STATE_SCHEMA}.{STATE_TABLE}"
            ).fetchall()
    finally:
        con.close()
    return ModelState(
        {name: fp for name, fp, _ in rows}, tables, {name: run or "" for name, _, run in rows}
    )


def unchanged_models(
    manifest: Mapping[str, Any], fingerprints: Mapping[str, str], state: ModelState
) -> list[str]:
    """Names of the models (and seeds) to leave out, parents first: the fingerprint equals the
    record, the table exists, and every parent model or seed is left out too (a model below one
    that is built waits for it: a parent that lost its record after a failed test is built and
    tested again, and dbt's gate then decides about its children)."""
    nodes = manifest["nodes"]
    left_out: set[str] = set()
    ordered = []
    for uid, fingerprint in fingerprints.items():  # parents first
        node = nodes[uid]
        name = node["name"]
        table = (node["schema"], node.get("alias") or name)
        parents = [
            p
            for p in node.get("depends_on", {}).get("nodes", [])
            if p in nodes and nodes[p]["resource_type"] in BUILT_TYPES
        ]
        if (
            state.recorded.get(name) == fingerprint
            and table in state.tables
            and all(p in left_out for p in parents)
        ):
            left_out.add(uid)
            ordered.append(name)
    return ordered


@dataclass(frozen=True)
class BuildOutcome:
    """From dbt's run_results: models to record (built, every test passed) and to forget."""

    passed: frozenset[str]
    failed: frozenset[str]


def build_outcome(
    manifest: Mapping[str, Any], results: Iterable[Mapping[str, Any]]
) -> BuildOutcome:
    """Sort the models of one dbt build's run_results.

    Recorded: a model with status `success` none of whose data tests that ran failed or
    errored. Forgotten: a model that errored, or a model read by a test that failed or errored
    (every parent of such a test: which one is at fault is not known). A model dbt skipped is
    neither: dbt itself forgot the record of every model it selected as it started
    (`macros/model_inputs.sql`), so it is built by the next run.
    """
    nodes = manifest["nodes"]
    built: set[str] = set()
    failed: set[str] = set()
    for result in results:
        node = nodes.get(result["unique_id"])
        if node is None:
            continue
        status = str(result["status"]).lower()
        if node["resource_type"] in BUILT_TYPES:
            (built if status == "success" else failed if status == "error" else set()).add(
                node["name"]
            )
        elif node["resource_type"] == "test" and status not in PASSING_TEST_STATUSES | {"skipped"}:
            for parent in node.get("depends_on", {}).get("nodes", []):
                if nodes.get(parent, {}).get("resource_type") in BUILT_TYPES:
                    failed.add(nodes[parent]["name"])
    return BuildOutcome(frozenset(built - failed), frozenset(failed))


def built_on_stale_parents(
    manifest: Mapping[str, Any],
    current: Mapping[str, str],
    recorded: Mapping[str, str],
    built: Iterable[str],
) -> frozenset[str]:
    """Names of the `built` models that were built on a parent that was not current.

    `current`: every model's fingerprint (by name) as a build of the whole graph would give it
    now; `recorded`: the fingerprints the warehouse records. A parent model or seed the build
    did not build is current when its record equals its current fingerprint (its inputs have
    not moved since it was built); a parent the build built is as good as its own parents. A
    selection by hand (a model materialized alone in the Dagster UI, `medspa transform
    --select`) can build a model on a parent that is behind its raw rows: an incremental model
    then advanced its load watermark past rows its parent had not yet passed on, and skipped
    them for good when the parent caught up with the older load ids.
    """
    nodes = manifest["nodes"]
    building = set(built)
    stale: set[str] = set()
    for uid in _models_in_order(manifest):  # parents first
        name = nodes[uid]["name"]
        if name not in building:
            continue
        for parent in nodes[uid].get("depends_on", {}).get("nodes", []):
            if parent not in nodes or nodes[parent]["resource_type"] not in BUILT_TYPES:
                continue
            parent_name = nodes[parent]["name"]
            if parent_name in building:
                behind = parent_name in stale
            else:
                behind = recorded.get(parent_name) != current.get(parent_name)
            if behind:
                stale.add(name)
                break
    return frozenset(stale)


def with_stale_builds(outcome: BuildOutcome, stale: Iterable[str]) -> BuildOutcome:
    """The outcome with the models built on stale parents moved from passed to failed: they are
    not recorded, and their incremental state is reset (`record_outcome`)."""
    stale = frozenset(stale)
    return BuildOutcome(outcome.passed - stale, outcome.failed | (stale & outcome.passed))


def record_outcome(
    warehouse: Path,
    outcome: BuildOutcome,
    fingerprints_by_name: Mapping[str, str],
    run_id: str,
) -> None:
    """Record the passed models' fingerprints and forget the failed ones, in one transaction.

    A failed model also loses its load watermark and its recorded definition
    (`dbt_state.load_watermarks`, macros/loads.sql and macros/definitions.sql), so an
    incremental one is rebuilt whole by the next run: rows its failed build wrote (a test
    failed on them) or skipped (it was built on a stale parent) are behind its watermark, and
    an incremental build would never look at them again."""
    if not outcome.passed and not outcome.failed:
        return
    # writer_config: without it this one small write would merge, as it closes, every table
    # the night's builds thinned (about 3 s at the large chain; compaction runs on a cadence)
    con = duckdb.connect(str(warehouse), config=writer_config())
    try:
        con.execute("begin")
        con.execute(f"create schema if not exists {STATE_SCHEMA}")
        # the same table as dbt's on-run-start creates (macros/model_inputs.sql)
        con.execute(
            f"create table if not exists {STATE_SCHEMA}.{STATE_TABLE} ("
            "model_name varchar primary key, fingerprint varchar not null, run_id varchar)"
        )
        names = sorted(outcome.passed | outcome.failed)
        con.execute(
            f"delete from {STATE_SCHEMA}.{STATE_TABLE} where model_name in "
            f"({', '.join(sql_str(n) for n in names)})"
        )
        rows = [(n, fingerprints_by_name[n], run_id) for n in sorted(outcome.passed)]
        if rows:
            con.executemany(f"insert into {STATE_SCHEMA}.{STATE_TABLE} values (?, ?, ?)", rows)
        if outcome.failed and _has_table(con, WATERMARKS_TABLE):
            failed = sorted(outcome.failed)
            keys = failed + [f"{name}:definition" for name in failed]
            con.execute(
                f"delete from {STATE_SCHEMA}.{WATERMARKS_TABLE} where model_name in "
                f"({', '.join(sql_str(k) for k in keys)})"
            )
        con.execute("commit")
    finally:
        con.close()


@dataclass(frozen=True)
class BuildPlan:
    """One dbt step's plan: every model's fingerprint (by name) as of the end of the step, the
    models it leaves out, the run that last built each of those, and the project's model count."""

    fingerprints: dict[str, str]
    left_out: list[str]
    recorded_runs: dict[str, str]
    models: int


def plan_build(
    manifest: Mapping[str, Any],
    warehouse: Path,
    *,
    shared_code: str,
    environment: str,
    raw_versions: Mapping[str, str],
    built: Iterable[str] | None,
    leave_out: bool,
) -> BuildPlan:
    """Fingerprint every model against the warehouse's records; with `leave_out`, list the
    models whose fingerprint equals their record (`built` must then be None: all models)."""
    if leave_out and built is not None:
        raise ValueError("only a build of every model leaves unchanged models out")
    state = read_state(warehouse)
    fingerprints = model_fingerprints(
        manifest,
        shared_code=shared_code,
        environment=environment,
        raw_versions=raw_versions,
        recorded=state.recorded,
        built=built,
    )
    left_out = unchanged_models(manifest, fingerprints, state) if leave_out else []
    nodes = manifest["nodes"]
    return BuildPlan(
        fingerprints={nodes[uid]["name"]: fp for uid, fp in fingerprints.items()},
        left_out=left_out,
        recorded_runs={name: state.runs.get(name, "") for name in left_out},
        models=len(fingerprints),
    )


def plan_for_warehouse(
    manifest: Mapping[str, Any],
    warehouse: Path,
    phi_key: str,
    *,
    built: Iterable[str] | None = None,
    leave_out: bool = True,
) -> BuildPlan:
    """`plan_build` for a warehouse as the pipeline leaves it: the raw tables' data versions read
    from it, the project's shared code from `manifest`, the environment from `phi_key`."""
    from ingestion.contract import load_contract
    from medspa.settings import DBT_PROJECT_DIR
    from orchestration.defs.raw.versions import LEDGER, UNVERSIONED, raw_data_versions

    tables = list(load_contract().tables)
    versions = raw_data_versions(warehouse, tables) if warehouse.exists() else {}
    # a table without load ids may have changed in any way: nothing below it is left out (an
    # absent table keeps its version `absent` until a load creates it)
    known = {k: v for k, v in versions.items() if v != UNVERSIONED}
    raw = {f"{t.dataset}.{t.name}": known.get(t.qualified_name, UNKNOWN) for t in tables}
    raw[LEDGER] = known.get(LEDGER, UNKNOWN)
    return plan_build(
        manifest,
        warehouse,
        shared_code=shared_code_version(manifest, DBT_PROJECT_DIR / "dbt_project.yml"),
        environment=environment_digest(phi_key),
        raw_versions=raw,
        built=built,
        leave_out=leave_out,
    )


def stale_builds_in_warehouse(
    manifest: Mapping[str, Any], warehouse: Path, phi_key: str, built: Iterable[str]
) -> frozenset[str]:
    """`built_on_stale_parents` against the warehouse as it is: the raw tables' versions and
    the records of the models a selection did not build (its own were forgotten as it began)."""
    current = plan_for_warehouse(manifest, warehouse, phi_key, leave_out=False).fingerprints
    return built_on_stale_parents(manifest, current, read_state(warehouse).recorded, built)


def outcome_of_selection(
    manifest: Mapping[str, Any], warehouse: Path, phi_key: str, outcome: BuildOutcome
) -> tuple[BuildOutcome, str]:
    """A selection's outcome with the models it built on a stale parent moved to failed, and
    a line saying which ("" when none), for the step's log or the command's stderr."""
    stale = stale_builds_in_warehouse(manifest, warehouse, phi_key, outcome.passed | outcome.failed)
    if not stale:
        return outcome, ""
    notice = (
        f"{len(stale)} model(s) built on a parent that was not current (not selected, and "
        f"behind its raw rows): {', '.join(sorted(stale))}; the next build rebuilds them whole"
    )
    return with_stale_builds(outcome, stale), notice


def selection(plan: BuildPlan) -> tuple[list[str], dict[str, str]]:
    """dbt arguments and environment that leave out the plan's models (none: nothing added).

    `cautious` indirect selection: a test that also reads a model that is built (a
    relationships test into a dimension left out) still runs; dbt's default, eager, drops
    every test of an excluded model."""
    if not plan.left_out:
        return [], {}
    return ["--exclude", " ".join(plan.left_out)], {"DBT_INDIRECT_SELECTION": "cautious"}
