"""The nightly's publish patches the incremental facts by the keys dbt wrote, through Dagster,
and its marts equal a publish from scratch of the same warehouse.

tests/serving/test_publish_keyed.py writes dbt's build record by hand; here dbt writes it
(`dbt_state.written_keys` and `model_builds`, dbt_project/macros/test_scope.sql), so the test
also holds the publish to the key format the dbt macros actually write.
"""

import json

import pytest
from orch_e2e import copy_landing, query, run

from orchestration.manifest import MANIFEST_PATH
from serving import publish, row_hashes

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

FACTS = ("fct_appointments", "fct_calls", "fct_invoice_lines", "fct_messages")


def _tables(path) -> set[str]:
    return {name for (name,) in query(path, "select table_name from duckdb_tables()")}


def _site_files(site) -> dict[str, bytes]:
    files = sorted(p for p in site.rglob("*") if p.is_file())
    return {str(p.relative_to(site)): p.read_bytes() for p in files}


def test_nightly_publish_patches_facts_by_key_and_equals_a_fresh_publish(
    defs, demo_landing, tmp_path_factory, monkeypatch
):
    from demo.run import advance

    root = tmp_path_factory.mktemp("nightly-keyed")
    landing = copy_landing(demo_landing, root / "landing")
    data = root / "data"
    data.mkdir()
    assert run(data, landing).summary.success
    advance(landing, 1, None)
    outcome = run(data, landing)
    assert outcome.summary.success, outcome.summary.failures

    hashes = row_hashes.hashes_path(outcome.serving)
    newest = dict(
        query(
            outcome.warehouse,
            "select model_name, max_by(invocation_id, build_seq) from dbt_state.model_builds "
            "group by model_name",
        )
    )
    published = dict(query(hashes, "select mart, invocation_id from published_builds"))
    assert {f: published.get(f) for f in FACTS} == {f: newest[f] for f in FACTS}
    # patched by key: the audit hashed none of their rows, so it kept no row hashes of them
    # (the row-hash path keeps them for every mart of PATCH_MIN_ROWS rows or more)
    assert query(outcome.warehouse, "select count(*) from marts.fct_messages")[0][0] >= 2_000
    assert not _tables(hashes) & set(FACTS)

    relations = publish.mart_relations(json.loads(MANIFEST_PATH.read_text()))
    fresh = root / "fresh" / "serving.duckdb"
    fresh.parent.mkdir()
    publish.publish(outcome.warehouse, fresh, "fresh", relations, publish.OpsData())
    for rel in relations:
        sql = f'select * from marts."{rel.name}" order by all'
        assert query(outcome.serving, sql) == query(fresh, sql), rel.name

    # The nightly's site (template pages rendered on two connections side by side) is the
    # same, file for file, as one rendered on a single connection from the fresh publish.
    # Only the data-quality page differs: it shows this run's checks (`ops`), which the
    # fresh publish above was not given.
    from dashboards import site as site_mod

    monkeypatch.setattr(site_mod, "SITE_READERS", 1)
    report = site_mod.build_site(fresh, root / "fresh-site")
    assert report.ok, report.pages_failed
    nightly_site = _site_files(outcome.serving.parent / "site")
    fresh_site = _site_files(root / "fresh-site")
    assert nightly_site.keys() == fresh_site.keys()
    differ = sorted(name for name in nightly_site if nightly_site[name] != fresh_site[name])
    assert differ == ["data_quality.html"]
