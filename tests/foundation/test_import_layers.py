"""The layers, read from the code: every import of a project package, checked against who may
import whom (DEVELOPERS.md, "Layers"). Adding an upward import fails here.

Libraries (ingestion, quality, dashboards, serving, demo) take parameters and know neither
the CLI nor Dagster; only the shells (`medspa` CLI, `orchestration`) build `Settings`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from medspa.settings import REPO_ROOT

PROJECT = (
    "safeio",
    "ingestion",
    "quality",
    "dashboards",
    "serving",
    "demo",
    "medspa",
    "orchestration",
)

#: module prefix -> project modules it may import (by prefix). First matching prefix wins.
ALLOWED: tuple[tuple[str, tuple[str, ...]], ...] = (
    # The base: SQL quoting and owner-only files; it imports nothing of the project.
    ("safeio", ("safeio",)),
    ("ingestion", ("ingestion", "safeio")),
    ("quality", ("quality", "ingestion.contract", "safeio")),
    ("dashboards", ("dashboards", "safeio")),
    ("serving", ("serving", "ingestion.contract", "safeio")),
    ("demo", ("demo", "ingestion.contract", "safeio")),
    # The shells' shared base: settings and how dbt is called. Both shells use it, so it
    # imports no shell module itself.
    (
        "medspa.settings",
        (
            "medspa.settings",
            "ingestion.contract",
            "ingestion.pipeline",
            "ingestion.duckdb_limits",
            "demo.state",
            "serving.role_names",  # the role prefix's pattern, checked with the other settings
            "safeio",
        ),
    ),
    ("medspa.dbt_invocation", ("medspa.settings", "safeio")),
    # The tenant registry: which settings each tenant's run gets.
    ("medspa.tenants", ("medspa.settings",)),
    # One writer per tenant: both shells hold the same lock, so it imports nothing of theirs.
    ("medspa.run_lock", ()),
    # The key a warehouse was built with: both shells check it before a build.
    ("medspa.phi_key_guard", ("medspa.settings",)),
    ("medspa.pseudonymize", ()),
    ("medspa.dbt_phi_plugin", ("medspa.pseudonymize", "medspa.settings")),
    # dbt's own process: the launcher imports dbt, never the project beyond its dbt log patch,
    # which imports nothing of the project either.
    ("medspa.dbt_launcher", ("medspa.dbt_log_lines",)),
    ("medspa.dbt_log_lines", ()),
    # Dagster: the libraries and the shells' base, never the CLI.
    (
        "orchestration",
        (
            "orchestration",
            "ingestion",
            "quality",
            "dashboards",
            "serving",
            "safeio",
            "medspa.settings",
            "medspa.dbt_invocation",
            "medspa.tenants",
            "medspa.run_lock",
            "medspa.phi_key_guard",
        ),
    ),
    # The CLI: everything (it runs the Dagster job in `medspa run`).
    ("medspa", PROJECT),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a project package, at any depth of the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] in PROJECT]
    return found


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _allowed(importer: str, imported: str) -> bool:
    for prefix, targets in ALLOWED:
        if _matches(importer, prefix):
            return any(_matches(imported, t) or _matches(t, imported) for t in targets)
    raise AssertionError(f"{importer} is in no layer of ALLOWED")


def _sources() -> list[Path]:
    return sorted(p for pkg in PROJECT for p in (REPO_ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("package", PROJECT)
def test_no_import_runs_upward(package: str) -> None:
    bad = []
    for path in (REPO_ROOT / package).rglob("*.py"):
        importer = _module_name(path)
        for line, imported in _project_imports(path):
            if not _allowed(importer, imported):
                bad.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {imported}")
    assert bad == [], "imports against the layers (DEVELOPERS.md):\n" + "\n".join(sorted(bad))


def test_only_the_shells_build_settings() -> None:
    """`Settings` is built in the CLI and in orchestration; libraries receive plain values."""
    bad = []
    for path in _sources():
        module = _module_name(path)
        if _matches(module, "medspa") or _matches(module, "orchestration"):
            continue
        text = path.read_text(encoding="utf-8")
        if "medspa.settings" in text or "Settings.from_env" in text:
            bad.append(str(path.relative_to(REPO_ROOT)))
    assert bad == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule itself: a library importing the CLI or Dagster is refused."""
    assert not _allowed("ingestion.pipeline", "medspa.settings")
    assert not _allowed("quality.runner", "orchestration.resources")
    assert not _allowed("demo.run", "ingestion.pipeline")
    assert not _allowed("orchestration.defs.raw.assets", "medspa.commands.run")
    assert not _allowed("medspa.settings", "orchestration.manifest")
    assert _allowed("demo.run", "ingestion.contract")
    assert _allowed("medspa.commands.run", "orchestration.definitions")
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from medspa.settings import Settings\n")
    assert _project_imports(source) == [(2, "medspa.settings"), (2, "medspa.settings.Settings")]
