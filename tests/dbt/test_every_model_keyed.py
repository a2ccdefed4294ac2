"""Every model states its grain with a test: a uniqueness test on its key, or a reason not to.

A new model without one passes every other check, and a fan-out join that repeats its rows
would reach the KPIs unnoticed. A model's key test is `unique` on a column,
`unique_combination` on several, or `exactly_one_row`; a `primary_key` constraint of a
model's enforced contract counts as one. The models below have none, each for the reason
given; a new model must add a key test or a reason here.
"""

from __future__ import annotations

from orchestration.manifest import load_manifest

KEY_TESTS = {"unique", "unique_combination", "exactly_one_row"}

#: model -> why it carries no key test
WITHOUT_KEY_TEST = {
    "int_device_kpi_events": "additive KPI events; delete+insert on device x date, and the "
    "rollups' keys are tested (kpi_by_device)",
    "int_engagement_kpi_events": "additive KPI events summed by the rollups (kpi_engagement's "
    "key is tested); a day may hold several events of one KPI",
    "int_invoice_kpi_events": "additive KPI events; delete+insert on location x date, and the "
    "rollups' keys are tested",
    "int_lead_kpi_events": "additive KPI events; delete+insert on event_key, and the rollups' "
    "keys are tested",
    "int_provider_kpi_events": "additive KPI events; delete+insert on provider x location x "
    "date, and the rollups' keys are tested",
    "int_room_kpi_events": "additive KPI events; delete+insert on room x date, and the "
    "rollups' keys are tested (kpi_by_room)",
    "stg_meta__loaded_files": "the loader's file ledger, one row per file seen: the same file "
    "may be seen again (a refusal, then its corrected re-delivery)",
}


def test_every_model_has_a_key_test_or_a_reason():
    manifest = load_manifest()
    keyed = {
        node["attached_node"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") in KEY_TESTS
    }
    keyed |= {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and any(
            constraint["type"] == "primary_key"
            for column in node["columns"].values()
            for constraint in column.get("constraints") or []
        )
    }
    models = {
        uid.split(".")[-1]: uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    unkeyed = sorted(name for name, uid in models.items() if uid not in keyed)
    assert [m for m in unkeyed if m not in WITHOUT_KEY_TEST] == [], (
        "add a unique / unique_combination test on the model's key (or, with its reason, "
        "list it in WITHOUT_KEY_TEST)"
    )
    assert sorted(WITHOUT_KEY_TEST) == sorted(set(unkeyed) & set(WITHOUT_KEY_TEST)), (
        "a model listed here now has a key test (or is gone): drop it from WITHOUT_KEY_TEST"
    )
