"""Dagster's own tools accept the code location: `definitions validate` and the webserver."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: Loading the code location imports dagster, dagster-dbt and the manifest: slow on 2 cores.
STARTUP_TIMEOUT_S = 240

pytestmark = [pytest.mark.dagster_ui, pytest.mark.xdist_group("dagster_tools")]


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "MEDSPA_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(REPO_ROOT),
    }


def test_dagster_definitions_validate_accepts_the_code_location(defs, tmp_path: Path):
    proc = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=REPO_ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


ASSET_GRAPH_QUERY = """
{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }
"""


def test_webserver_serves_the_asset_graph_over_graphql(defs, tmp_path: Path):
    port = _free_port()
    log = open(tmp_path / "webserver.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            str(BIN / "dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-m",
            "orchestration.definitions",
        ],
        cwd=REPO_ROOT,
        env=_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        nodes = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                data = _graphql(port, ASSET_GRAPH_QUERY).get("data") or {}
                nodes = data.get("assetNodes")
                if nodes:
                    break
            except OSError:
                pass
            time.sleep(2)
        assert nodes, (tmp_path / "webserver.log").read_text()[-3000:]
        by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
        assert by_key["raw_pms/appointments"]["groupName"] == "raw"
        deps = {"/".join(d["path"]) for d in by_key["stg_pms__appointments"]["dependencyKeys"]}
        assert "raw_pms/appointments" in deps
        assert "serving" in {"/".join(d["path"]) for d in by_key["site"]["dependencyKeys"]}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
