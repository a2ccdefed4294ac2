"""Shared fixtures: the definitions (manifest built once) and the end-to-end runs.

End-to-end runs are slow (dbt, GX, Dagster), so each scenario runs once per session and
several tests read its result. They carry `xdist_group("e2e")`, so one worker runs them.
"""

from __future__ import annotations

import pytest

from orchestration.manifest import ensure_manifest


@pytest.fixture(scope="session")
def defs():
    ensure_manifest()
    from orchestration.definitions import defs as definitions

    return definitions


@pytest.fixture(scope="session")
def asset_graph(defs):
    return defs.resolve_asset_graph()


# -- end-to-end scenarios (each runs once per session) -----------------------------------


@pytest.fixture(scope="session")
def demo_landing(tmp_path_factory: pytest.TempPathFactory):
    """The seeded small demo chain's first full extract (generated once)."""
    from demo.config import ChainConfig
    from demo.run import generate

    landing = tmp_path_factory.mktemp("demo") / "landing"
    generate(landing, ChainConfig.build("small"))
    return landing


@pytest.fixture(scope="session")
def happy_run(defs, demo_landing, tmp_path_factory: pytest.TempPathFactory):
    from orch_e2e import run

    return run(tmp_path_factory.mktemp("happy") / "data", demo_landing)


@pytest.fixture(scope="session")
def absent_systems_run(defs, demo_landing, tmp_path_factory: pytest.TempPathFactory):
    """A clinic without phone system, CRM and review tools (docs/landing-contract.md)."""
    from orch_e2e import copy_landing, run

    root = tmp_path_factory.mktemp("absent")
    landing = copy_landing(demo_landing, root / "landing", drop=("phone", "crm", "reviews"))
    return run(root / "data", landing)
