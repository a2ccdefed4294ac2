"""Names checked by a pattern are refused with a trailing newline.

`$` matches before a final newline too, so `^[a-z_]...$` let "austin_manager\n" through as a
reader name and "glow\n" as a tenant. Every validation pattern of the serving layer and the
tenant registry ends in `\\Z` (and is applied with `fullmatch`), and callers elsewhere that
still use `.match` get the same answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medspa.tenants import TENANT_NAME, TenantRegistryError, load_registry
from serving import pg_roles, pg_tenant_roles, pg_types
from serving.role_names import ROLE_PREFIX

TRAILING = ["\n", "\r\n", " ", "\t"]


@pytest.mark.parametrize("tail", TRAILING, ids=repr)
def test_a_reader_name_with_a_trailing_newline_is_refused(tail):
    assert pg_roles.check_role_name("austin_manager") == "austin_manager"
    with pytest.raises(ValueError, match="must match"):
        pg_roles.check_role_name("austin_manager" + tail)
    with pytest.raises(ValueError, match="must match"):
        pg_roles.check_new_reader_name("austin_manager" + tail, [], pg_roles.DEFAULT_ROLES)


@pytest.mark.parametrize("tail", TRAILING, ids=repr)
def test_a_tenant_name_with_a_trailing_newline_is_refused(tail):
    assert pg_tenant_roles.check_tenant("glow") == "glow"
    with pytest.raises(ValueError, match="must match"):
        pg_tenant_roles.check_tenant("glow" + tail)
    with pytest.raises(ValueError, match="must match"):
        pg_tenant_roles.tenant_role("glow" + tail)
    # medspa/commands/tenant.py applies the registry's pattern with `.match`.
    assert TENANT_NAME.match("glow") and not TENANT_NAME.match("glow" + tail)


def test_a_role_prefix_or_database_with_a_trailing_newline_is_refused():
    assert ROLE_PREFIX.match("staging") and not ROLE_PREFIX.match("staging\n")
    with pytest.raises(ValueError, match="role prefix"):
        pg_roles.ServingRoles("staging\n")
    with pytest.raises(ValueError, match="database name"):
        pg_roles.bootstrap_sql("serving\n", "medspa_owner", "pw")
    with pytest.raises(ValueError, match="must match"):
        pg_roles.bootstrap_sql("serving", "medspa_owner\n", "pw")


def test_a_decimal_type_is_read_whole():
    assert pg_types._DECIMAL.fullmatch("DECIMAL(18,2)")
    assert not pg_types._DECIMAL.match("DECIMAL(18,2)\n")


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "glow\\n"), ("phi_key_env", "KEY_GLOW\\n")],
)
def test_the_tenant_registry_refuses_a_name_or_key_variable_ending_in_a_newline(
    tmp_path: Path, field: str, value: str
):
    entry = {"name": '"glow"', "landing": "landings/glow", "phi_key_env": '"KEY_GLOW"'}
    entry[field] = f'"{value}"'  # YAML double quotes: \n is a newline
    registry = tmp_path / "tenants.yml"
    registry.write_text(
        "tenants:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in entry.items()) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(TenantRegistryError, match=f"`{field}`"):
        load_registry(registry)
    entry[field] = f'"{value[:-2]}"'
    registry.write_text(
        "tenants:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in entry.items()) + "\n",
        encoding="utf-8",
    )
    assert [t.name for t in load_registry(registry)] == ["glow"]
