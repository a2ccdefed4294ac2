"""The graph's shape as a committed snapshot, so a change to it shows up in review.

Asset keys (with groups), check names, jobs, schedules and sensors are compared with
`definitions_snapshot.json`. After a deliberate change (a new dbt model, a new check),
regenerate it: `MEDSPA_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/orchestration -k snapshot`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.json")


def describe(defs, asset_graph) -> dict:
    assets = {
        key.to_user_string(): asset_graph.get(key).group_name
        for key in asset_graph.get_all_asset_keys()
        if asset_graph.get(key).is_materializable
    }
    checks = sorted(
        f"{k.asset_key.to_user_string()}:{k.name}" for k in asset_graph.asset_check_keys
    )
    repo = defs.get_repository_def()
    schedules = {s.name: {"cron": s.cron_schedule, "job": s.job_name} for s in repo.schedule_defs}
    return {
        "assets": dict(sorted(assets.items())),
        "checks": checks,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": schedules,
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }


def test_definitions_match_the_committed_snapshot(defs, asset_graph):
    current = describe(defs, asset_graph)
    if os.environ.get("MEDSPA_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    if not SNAPSHOT.exists():
        pytest.fail(f"{SNAPSHOT.name} missing: run with MEDSPA_UPDATE_SNAPSHOT=1")
    committed = json.loads(SNAPSHOT.read_text())
    for part in ("jobs", "schedules", "sensors", "assets", "checks"):
        added = sorted(set(current[part]) - set(committed[part]))
        removed = sorted(set(committed[part]) - set(current[part]))
        assert current[part] == committed[part], (
            f"{part} changed (added {added}, removed {removed}); if deliberate, regenerate "
            "with MEDSPA_UPDATE_SNAPSHOT=1"
        )


def test_snapshot_names_the_pieces_the_brief_requires(defs, asset_graph):
    """Independent of the snapshot: the names other parts and the docs rely on."""
    current = describe(defs, asset_graph)
    assert "nightly" in current["jobs"]
    assert current["schedules"]["nightly_0200"] == {"cron": "0 2 * * *", "job": "nightly"}
    assert {"landing_files_sensor", "freshness_checks_sensor"} <= set(current["sensors"])
    assert {"raw_pms/appointments", "serving", "site"} <= set(current["assets"])
    names = {c.split(":")[1] for c in current["checks"]}
    assert any("gx" in n for n in names)
    assert any("quarantine" in n for n in names)
    assert any("freshness" in n for n in names)
    raw_freshness = [c for c in current["checks"] if c.startswith("raw_") and "freshness" in c]
    assert len(raw_freshness) == 22
