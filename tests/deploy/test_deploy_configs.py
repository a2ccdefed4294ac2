"""The multi-tenant deployment examples in deploy/ load as Dagster understands them.

Docker and Kubernetes are not available on the machines the suite runs on, so these tests
prove what can be proven without them: the Docker instance config validates against Dagster's
instance schema and against the config schemas of the very classes it names (from the
installed dagster-docker / dagster-postgres), the Helm values' run launcher and run queue
validate against the K8s launcher's and queue's schemas, and the files agree with each other
(every variable forwarded to a run container is set where the launcher runs).
"""

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import class_from_code_pointer

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "deploy" / "docker"
HELM_VALUES = REPO / "deploy" / "helm" / "values.yaml"
TENANT_TAG = "medspa/tenant"

_PG_ENV = {
    "DAGSTER_PG_HOST": "dagster-db",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "not-a-real-password",
    "DAGSTER_PG_DB": "dagster",
}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _snake_keys(value: Any) -> Any:
    """The Helm chart writes launcher and queue config in camelCase; Dagster reads snake_case."""
    if isinstance(value, dict):
        return {
            (k if k == "applyLimitPerUniqueValue" else _snake(k)): _snake_keys(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


@pytest.fixture
def docker_instance(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in _PG_ENV.items():
        monkeypatch.setenv(name, value)
    config, custom_class = dagster_instance_config(str(DOCKER))
    assert custom_class is None
    return dict(config)


def test_docker_instance_config_validates_against_dagsters_schema(
    docker_instance: dict[str, Any],
) -> None:
    assert set(docker_instance["storage"]) == {"postgres"}
    limits = docker_instance["concurrency"]["runs"]["tag_concurrency_limits"]
    per_value = {"value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    assert limits == [{"key": TENANT_TAG, **per_value}, {"key": "dagster/partition", **per_value}]


@pytest.mark.parametrize("section", ["run_launcher", "run_coordinator"])
def test_docker_instance_classes_import_and_accept_their_config(
    docker_instance: dict[str, Any], section: str
) -> None:
    entry = docker_instance[section]
    cls = class_from_code_pointer(entry["module"], entry["class"])
    result = validate_config(cls.config_type(), entry.get("config") or {})
    assert result.success, result.errors


def test_every_variable_forwarded_to_run_containers_is_set_on_the_daemon(
    docker_instance: dict[str, Any],
) -> None:
    forwarded = set(docker_instance["run_launcher"]["config"]["env_vars"])
    daemon_env = set(_yaml(DOCKER / "docker-compose.yml")["services"]["daemon"]["environment"])
    assert forwarded <= daemon_env, forwarded - daemon_env


def test_the_code_location_has_every_project_variable_the_runs_have(
    docker_instance: dict[str, Any],
) -> None:
    """Sensors and the schedule run in the code location: the run-log, landing and stale-runs
    sensors resolve each tenant's data dir and key from these variables (without them the
    run-log sensor found no warehouse and recorded no run launched by the daemon)."""
    forwarded = set(docker_instance["run_launcher"]["config"]["env_vars"])
    services = _yaml(DOCKER / "docker-compose.yml")["services"]
    code_env, daemon_env = services["code"]["environment"], services["daemon"]["environment"]
    project = {name for name in daemon_env if name.startswith("MEDSPA_")}
    assert forwarded <= set(code_env), forwarded - set(code_env)
    assert project <= set(code_env), project - set(code_env)
    assert code_env["MEDSPA_DATA_DIR"] == daemon_env["MEDSPA_DATA_DIR"] == "/srv/medspa/data"


def test_run_containers_mount_what_the_code_location_mounts(
    docker_instance: dict[str, Any],
) -> None:
    run_volumes = docker_instance["run_launcher"]["config"]["container_kwargs"]["volumes"]
    code_volumes = _yaml(DOCKER / "docker-compose.yml")["services"]["code"]["volumes"]
    assert sorted(run_volumes) == sorted(code_volumes)


def test_workspace_points_at_the_code_service() -> None:
    (location,) = _yaml(DOCKER / "workspace.yaml")["load_from"]
    services = _yaml(DOCKER / "docker-compose.yml")["services"]
    assert location["grpc_server"]["host"] in services


def test_helm_run_launcher_config_validates_against_k8s_run_launcher() -> None:
    values = _yaml(HELM_VALUES)
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    config = _snake_keys(values["runLauncher"]["config"]["k8sRunLauncher"])
    # The chart takes secrets and config maps as `- name: X` and renders them as names.
    for field in ("env_secrets", "env_config_maps"):
        if field in config:
            config[field] = [item["name"] for item in config[field]]
    # Fields the chart itself fills in from its own templates, not from these values.
    chart_supplied = {
        "instance_config_map": "medspa-dagster-instance",
        "dagster_home": "/opt/dagster/dagster_home",
        "postgres_password_secret": "dagster-postgresql-secret",
        "service_account_name": "medspa-dagster",
        "job_namespace": "medspa",
        "load_incluster_config": True,
    }
    cls = class_from_code_pointer("dagster_k8s", "K8sRunLauncher")
    result = validate_config(cls.config_type(), {**chart_supplied, **config})
    assert result.success, result.errors


def test_helm_run_queue_matches_the_docker_queue(docker_instance: dict[str, Any]) -> None:
    coordinator = _yaml(HELM_VALUES)["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "QueuedRunCoordinator"
    config = _snake_keys(coordinator["config"]["queuedRunCoordinator"])
    cls = class_from_code_pointer("dagster._core.run_coordinator", "QueuedRunCoordinator")
    result = validate_config(cls.config_type(), config)
    assert result.success, result.errors
    docker_limits = docker_instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert config["tag_concurrency_limits"] == docker_limits


def test_helm_code_location_serves_the_projects_definitions() -> None:
    (deployment,) = _yaml(HELM_VALUES)["dagster-user-deployments"]["deployments"]
    args = deployment["dagsterApiGrpcArgs"]
    module = args[args.index("-m") + 1]
    assert (REPO / Path(*module.split("."))).with_suffix(".py").is_file()


def _copied_into_the_image() -> set[str]:
    """The repository paths the Dockerfile copies (`COPY <path> ...`, one source each)."""
    lines = (DOCKER / "Dockerfile").read_text(encoding="utf-8").splitlines()
    return {line.split()[1] for line in lines if line.startswith("COPY ")}


def _first_party_imports(package: Path) -> set[str]:
    """Top-level names of the repository's own packages that modules under `package` import."""
    own = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()}
    found: set[str] = set()
    for module in package.rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found & own


def test_the_image_holds_every_package_the_code_imports() -> None:
    # The image once lacked `serving`, `safeio` and `demo`: its build step (dbt's manifest)
    # failed on `import safeio`, and publishing would have failed in every run container.
    packages = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "hatch"
    ]["build"]["targets"]["wheel"]["packages"]
    copied = _copied_into_the_image()
    assert set(packages) <= copied
    imported = set().union(*(_first_party_imports(REPO / p) for p in packages))
    assert imported <= copied, sorted(imported - copied)
    assert {"dbt_project", "dagster.yaml"} <= copied


def test_dagster_storage_names_the_psycopg2_driver_in_docker_and_helm(
    docker_instance: dict[str, Any],
) -> None:
    """SQLAlchemy 2.1 reads a plain `postgresql://` URL as psycopg 3, with which
    dagster-postgres fails on its first stored event (tests/serving/test_pg_dagster_history.py
    runs real runs through the Docker storage)."""
    assert docker_instance["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert _yaml(HELM_VALUES)["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    import psycopg2  # the driver named must be installed in the image (this lock)

    assert psycopg2.__version__
