"""Shared fixtures: the definitions (manifest built once) and the end-to-end runs.

End-to-end runs are slow (dbt, GX, Dagster), so each scenario runs once per test run and
several tests read its result. They carry `xdist_group("e2e")`, so one worker runs them; and
each scenario is built under a file lock (`run_once`), so even if both workers get there, only
the first builds it and the other reuses it.
"""

from __future__ import annotations

import pytest

from orchestration.manifest import ensure_manifest
from tests.run_once import once, shared_dir


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
def e2e_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str):
    """Where the scenarios live: one folder all xdist workers of this run share."""
    return shared_dir(tmp_path_factory, worker_id)


@pytest.fixture(scope="session")
def demo_landing(e2e_dir):
    """The seeded small demo chain's first full extract (generated once)."""
    from demo.config import ChainConfig
    from demo.run import generate

    def build():
        landing = e2e_dir / "demo" / "landing"
        generate(landing, ChainConfig.build("small"))
        return landing

    return once(e2e_dir, "e2e-demo-landing", build)


@pytest.fixture(scope="session")
def happy_run(defs, demo_landing, e2e_dir):
    from orch_e2e import run

    return once(e2e_dir, "e2e-happy", lambda: run(e2e_dir / "happy" / "data", demo_landing))


@pytest.fixture(scope="session")
def absent_systems_run(defs, demo_landing, e2e_dir):
    """A clinic without phone system, CRM and review tools (docs/landing-contract.md)."""
    from orch_e2e import copy_landing, run

    def build():
        root = e2e_dir / "absent"
        landing = copy_landing(demo_landing, root / "landing", drop=("phone", "crm", "reviews"))
        return run(root / "data", landing)

    return once(e2e_dir, "e2e-absent", build)
