"""The dbt resource learns dbt's version without running dbt and builds no adapter.

Why it matters (figures in docs/performance.md): dagster-dbt otherwise runs
`dbt --version` and loads the project into an adapter in the Dagster process before every dbt
step. The dbt steps must still run the venv's dbt with the same arguments.
"""

import importlib.metadata

import pytest
from dagster_dbt.core import resource as dagster_dbt_resource
from packaging import version

from orchestration.dbt_cli import MedspaDbtCliResource, is_interpreters_dbt
from orchestration.manifest import dbt_executable
from orchestration.resources import dbt_resource


def test_the_venvs_dbt_version_comes_from_its_installed_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_subprocess(*_args, **_kwargs):
        raise AssertionError("dbt --version must not run")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_subprocess)
    resource = dbt_resource()
    assert is_interpreters_dbt(resource.dbt_executable)
    assert resource._cli_version == version.parse(importlib.metadata.version("dbt-core"))
    assert resource._cli_version.major < 2  # dbt Core: dagster-dbt would build an adapter


def test_another_executable_is_still_asked_for_its_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    asked: list[list[str]] = []

    def fake_dbt(args, *_a, **_kw):
        asked.append(list(args))
        return b"Core:\n  - installed: 1.9.4\n"

    monkeypatch.setattr(dagster_dbt_resource, "check_output", fake_dbt)
    other_path = tmp_path / "dbt"  # must exist: the resource validates the path
    other_path.write_text("#!/bin/sh\n", encoding="utf-8")
    other_path.chmod(0o755)
    other = str(other_path)
    resource = MedspaDbtCliResource(project_dir=dbt_resource().project_dir, dbt_executable=other)
    assert resource._cli_version == version.parse("1.9.4")
    assert asked == [[other, "--version"]]


def test_no_adapter_is_built_in_the_dagster_process() -> None:
    assert dbt_resource()._initialize_dbt_core_adapter(["build"]) is None
    assert dbt_resource().dbt_executable == dbt_executable()
