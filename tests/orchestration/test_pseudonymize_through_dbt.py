"""The shipped `pseudonymize` macro, run by dbt through Dagster, equals the Python reference,
and the key reaches neither dbt's target/ and logs nor Dagster's storage.

One real run: the staging model `stg_pms__intake_forms` (it hashes `patient_id` and reads no
other model) is materialized by the project's own Dagster dbt asset, with the project's
profiles.yml and its dbt-duckdb plugin `medspa.dbt_phi_plugin`, on a raw table written here.
The key is long (> 64 bytes, so the plugin hashes it first) and unusual, so a grep for it
(and for the padded keys derived from it) can only match a real leak.
"""

import os
from pathlib import Path

import dagster as dg
import pytest

from medspa.pseudonymize import hmac_pads, pseudonymize
from tests.raw_intake_forms import read_intake_pseudonyms, write_raw_intake_forms

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("pseudonymize_dbt")]

KEY = "zq7-Unusual-PHI-Key-for-the-leak-test-5f3e2a9c-" + "x" * 40
MODEL = "stg_pms__intake_forms"
#: patient ids exercising ASCII, punctuation, non-ASCII and the empty string; None stays null.
PATIENT_IDS = ["P-000123", "P-000124", "é-ünïcode-患者", "", None]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pseudonymized_run(defs, tmp_path_factory: pytest.TempPathFactory):
    """(data dir, materialize result) after the one-model run under KEY."""
    from medspa.commands.run import using_dagster_home
    from orchestration.resources import settings_run_config

    root = tmp_path_factory.mktemp("pseudonymize_dbt")
    data_dir, landing = root / "data", root / "landing"
    data_dir.mkdir()
    landing.mkdir()
    write_raw_intake_forms(data_dir / "warehouse.duckdb", PATIENT_IDS)
    dbt_core = next(a for a in defs.assets if dg.AssetKey(MODEL) in getattr(a, "keys", ()))
    saved = os.environ.get("MEDSPA_PHI_KEY")
    os.environ["MEDSPA_PHI_KEY"] = KEY
    try:
        with using_dagster_home(data_dir / "dagster"):
            instance = dg.DagsterInstance.get()
            try:
                instance.add_dynamic_partitions("tenant", ["default"])
                result = dg.materialize(
                    [dbt_core],
                    partition_key="default",
                    selection=dg.AssetSelection.assets(MODEL).without_checks(),
                    instance=instance,
                    resources=defs.resources,
                    run_config=settings_run_config(data_dir, landing),
                    raise_on_error=False,
                )
            finally:
                instance.dispose()
    finally:
        if saved is None:
            os.environ.pop("MEDSPA_PHI_KEY", None)
        else:
            os.environ["MEDSPA_PHI_KEY"] = saved
    return data_dir, result


def test_the_shipped_macro_equals_the_python_reference(pseudonymized_run):
    data_dir, result = pseudonymized_run
    assert result.success
    rows = read_intake_pseudonyms(data_dir / "warehouse.duckdb")
    assert [r[0] for r in rows] == PATIENT_IDS
    expected = [None if p is None else pseudonymize(p, KEY) for p in PATIENT_IDS]
    assert [r[1] for r in rows] == expected


def _files(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_neither_the_key_nor_its_padded_forms_reach_target_logs_or_dagster_storage(
    pseudonymized_run,
):
    data_dir, _ = pseudonymized_run
    ipad, opad = hmac_pads(KEY.encode())
    secrets = [KEY.encode(), ipad.encode(), opad.encode(), ipad.upper().encode()]
    secrets += [opad.upper().encode(), bytes.fromhex(ipad), bytes.fromhex(opad)]
    # The run's own dbt target (compiled and run SQL, manifest, run_results, dbt.log), the run
    # log, Dagster's storage (run and event databases, compute logs) and the project's logs/.
    files = _files(data_dir, REPO / "dbt_project" / "logs")
    names = {p.name for p in files}
    assert {"run_results.json", "manifest.json"} <= names, sorted(names)
    assert any(p.suffix == ".db" for p in files), "no Dagster storage to search"
    compiled = [p for p in files if p.suffix == ".sql" and MODEL in p.name]
    assert compiled, "dbt wrote no compiled SQL for the model"
    assert any("getvariable('medspa_hmac_ipad')" in p.read_text() for p in compiled)
    leaks = [str(p) for p in files if any(s in p.read_bytes() for s in secrets)]
    assert leaks == []
