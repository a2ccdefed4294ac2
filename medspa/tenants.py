"""The tenant registry: which clinics (or chains) one deployment serves, read from `tenants.yml`.

A tenant is one clinic or chain with its own landing folder, its own pseudonymisation key, and
its own warehouse, quality results, serving file and site under `<data-dir>/tenants/<name>/`.
Nothing of one tenant is ever written under another's folder, and each tenant's key makes its
pseudonyms meaningless anywhere else.

The registry names the *environment variable* that holds each tenant's key, never the key: the
file can be committed to an operator's config repository without leaking a secret. A registry
that carries a key value is refused.

Without a registry the deployment serves exactly one tenant, `default`, whose paths are the
data dir itself (as before tenants existed): same commands, same files.

Registry format::

    tenants:
      - name: glow-austin                  # [a-z0-9][a-z0-9_-]*, at most 40 characters
        landing: /srv/landing/glow-austin  # relative paths resolve against this file's folder
        phi_key_env: MEDSPA_PHI_KEY_GLOW_AUSTIN
        systems: [pms, pos, phone]         # optional: what this clinic delivers
      - name: demo-1
        landing: demo-1
        demo: true                         # generated demo data: a per-tenant demo key, no secret

This module belongs to the shell layer (`medspa/`): it reads files and the environment and
hands plain `Settings` to the libraries.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from medspa.settings import (
    DEMO_PHI_KEY,
    PHI_KEY_MIN_BYTES,
    Settings,
    contract_systems,
    phi_key_problem,
    unknown_systems,
)

#: The one tenant of a deployment without a registry.
DEFAULT_TENANT = "default"

#: Safe as a folder name, a Dagster partition key, a run tag value and part of a PostgreSQL
#: role name (`<prefix>_tenant_<name>`, prefix at most 15 characters, stays within 63 bytes).
#: Both end in `\Z`, not `$` (which also matches before a final newline): "glow\n" is no name,
#: whether a caller uses `.match` or `.fullmatch`.
TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*\Z")
_KNOWN_KEYS = {"name", "landing", "phi_key_env", "systems", "demo"}


class TenantRegistryError(ValueError):
    """The registry file is malformed or unsafe; the message names the file and the entry."""


@dataclass(frozen=True)
class Tenant:
    """One registry entry, validated. Holds no secret: the key is read when settings are built."""

    name: str
    landing_dir: Path
    phi_key_env: str | None = None
    systems: tuple[str, ...] | None = None
    demo: bool = False
    #: True only for the one tenant of a deployment without a registry.
    implicit: bool = False

    def data_dir(self, base_data_dir: Path) -> Path:
        """Where this tenant's warehouse, serving file, quality results and site live."""
        if self.implicit:
            return base_data_dir
        return registry_tenant_dir(base_data_dir, self.name)


def registry_tenant_dir(base_data_dir: Path, name: str) -> Path:
    """The data dir of registry tenant `name` (also of one taken out of the registry since)."""
    return base_data_dir / "tenants" / name


def demo_tenant_key(name: str) -> str:
    """A distinct, public key per demo tenant: pseudonyms of one demo chain match no other's."""
    digest = hashlib.sha256(f"{DEMO_PHI_KEY}:{name}".encode()).hexdigest()
    return f"{DEMO_PHI_KEY}:{digest[:32]}"


def load_registry(path: Path) -> list[Tenant]:
    """Parse and validate `tenants.yml`; raise TenantRegistryError naming what is wrong."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TenantRegistryError(f"{path}: cannot read the tenant registry ({exc})") from exc
    entries = document.get("tenants") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise TenantRegistryError(f"{path}: expected a non-empty list under `tenants:`")
    tenants = [_parse_entry(path, i, entry) for i, entry in enumerate(entries, start=1)]
    _refuse_clashes(path, tenants)
    return tenants


def _parse_entry(path: Path, position: int, entry: object) -> Tenant:
    where = f"{path}: tenant #{position}"
    if not isinstance(entry, dict):
        raise TenantRegistryError(f"{where}: expected a mapping")
    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if any("key" in k and k != "phi_key_env" for k in unknown):
        raise TenantRegistryError(
            f"{where}: the registry must not hold keys; name the environment variable "
            "that holds the key in `phi_key_env`"
        )
    if unknown:
        raise TenantRegistryError(f"{where}: unknown field(s) {', '.join(unknown)}")
    name = entry.get("name")
    if not isinstance(name, str) or not TENANT_NAME.fullmatch(name):
        raise TenantRegistryError(
            f"{where}: `name` must match [a-z0-9][a-z0-9_-]* (at most 40 characters)"
        )
    where = f"{path}: tenant {name!r}"
    landing = entry.get("landing")
    if not isinstance(landing, str) or not landing.strip():
        raise TenantRegistryError(f"{where}: `landing` (the tenant's landing folder) is required")
    demo = entry.get("demo", False)
    if not isinstance(demo, bool):
        raise TenantRegistryError(f"{where}: `demo` must be true or false")
    key_env = entry.get("phi_key_env")
    if key_env is None and not demo:
        raise TenantRegistryError(
            f"{where}: `phi_key_env` is required (the variable holding this tenant's key)"
        )
    if key_env is not None and (not isinstance(key_env, str) or not _ENV_NAME.fullmatch(key_env)):
        raise TenantRegistryError(f"{where}: `phi_key_env` must be an environment variable name")
    systems = entry.get("systems")
    if systems is not None and (
        not isinstance(systems, list) or not all(isinstance(s, str) for s in systems)
    ):
        raise TenantRegistryError(f"{where}: `systems` must be a list of system names")
    unknown = unknown_systems(systems) if systems is not None else []
    if unknown:
        raise TenantRegistryError(
            f"{where}: `systems` lists {', '.join(map(repr, unknown))}, not "
            f"{'a system' if len(unknown) == 1 else 'systems'} of the landing contract "
            f"(known: {', '.join(contract_systems())})"
        )
    return Tenant(
        name=name,
        landing_dir=(path.parent / landing).expanduser().resolve(),
        phi_key_env=key_env,
        systems=tuple(systems) if systems is not None else None,
        demo=demo,
    )


def _refuse_clashes(path: Path, tenants: list[Tenant]) -> None:
    """Two tenants sharing a name, landing folder or key variable would mix their data."""
    for attribute in ("name", "landing_dir", "phi_key_env"):
        seen: dict[object, str] = {}
        for tenant in tenants:
            value = getattr(tenant, attribute)
            if value is None:
                continue
            if value in seen:
                raise TenantRegistryError(
                    f"{path}: tenants {seen[value]!r} and {tenant.name!r} share the same "
                    f"{attribute.replace('_', ' ')}; every tenant needs its own"
                )
            seen[value] = tenant.name


def tenant_settings(
    base: Settings, tenant: Tenant, environ: Mapping[str, str] | None = None
) -> Settings:
    """The settings one tenant's run uses: its own folders and key, the deployment's knobs."""
    if tenant.implicit:
        return base
    env = os.environ if environ is None else environ
    if tenant.phi_key_env is not None:
        key = env.get(tenant.phi_key_env)
        if key is None:
            raise TenantRegistryError(
                f"tenant {tenant.name!r}: environment variable {tenant.phi_key_env} "
                "(its pseudonymisation key) is not set"
            )
        problem = phi_key_problem(key)
        if problem:
            # No demo-key fallback for a registry tenant: only `demo: true` tenants (generated
            # data, no `phi_key_env`) pseudonymise with a public key.
            raise TenantRegistryError(
                f"tenant {tenant.name!r}: environment variable {tenant.phi_key_env} (its "
                f"pseudonymisation key) is set but {problem}: set it to a secret of at least "
                f"{PHI_KEY_MIN_BYTES} bytes"
            )
    else:
        key = demo_tenant_key(tenant.name)
    registry = base.tenants_file or "the tenant registry"
    return replace(
        base,
        data_dir=tenant.data_dir(base.data_dir),
        landing_dir=tenant.landing_dir,
        # the registry names it: never created, a missing one is an error naming the tenant
        landing_source=f"`landing:` of tenant {tenant.name!r} in {registry}",
        phi_key=key,
        declared_systems=tenant.systems if tenant.systems is not None else base.declared_systems,
        instance_dir=base.dagster_home,
    )


def default_tenant(base: Settings) -> Tenant:
    """The single tenant of a deployment without a registry: today's paths, today's key."""
    return Tenant(name=DEFAULT_TENANT, landing_dir=base.landing_dir, implicit=True)


def resolve_tenants(base: Settings, registry: Path | None) -> list[Tenant]:
    """The registry's tenants, or the one default tenant when no registry is configured."""
    if registry is None:
        return [default_tenant(base)]
    return load_registry(registry)


def find_tenant(base: Settings, name: str) -> Tenant:
    """The tenant called `name` in the configured registry (`base.tenants_file`)."""
    tenants = {t.name: t for t in resolve_tenants(base, base.tenants_file)}
    if name not in tenants:
        where = base.tenants_file or "this deployment (no tenant registry)"
        raise TenantRegistryError(
            f"no tenant {name!r} in {where}; known: {', '.join(sorted(tenants))}"
        )
    return tenants[name]


def settings_for_tenant(
    base: Settings, name: str, environ: Mapping[str, str] | None = None
) -> Settings:
    """One tenant's settings by name, from the registry the base settings name."""
    return tenant_settings(base, find_tenant(base, name), environ)


def choose_tenant(tenants: list[Tenant], name: str | None, *, all_tenants: bool = False) -> Tenant:
    """The tenant a command works on: the named one, or the only one; several need `--tenant`
    (`all_tenants`: the command also takes `--all-tenants`, and the message says so)."""
    if name is None:
        if len(tenants) > 1:
            raise TenantRegistryError(
                f"the registry lists {len(tenants)} tenants: pick one with --tenant NAME"
                + (" or run them all with --all-tenants" if all_tenants else "")
            )
        return tenants[0]
    for tenant in tenants:
        if tenant.name == name:
            return tenant
    if len(tenants) == 1 and tenants[0].implicit:
        raise TenantRegistryError(
            f"--tenant {name} needs a tenant registry (--tenants-file or MEDSPA_TENANTS_FILE); "
            f"without one the deployment's only tenant is {DEFAULT_TENANT!r}"
        )
    raise TenantRegistryError(
        f"no tenant {name!r} in the registry; known: {', '.join(t.name for t in tenants)}"
    )


def refuse_paths_beside_registry(
    base: Settings, tenants: list[Tenant], *, landing_option: object = None
) -> None:
    """With a registry, the registry says where each tenant's folders are and which key it uses.

    A `--landing` would be ignored (the tenant's `landing:` wins), and a data dir that is a
    tenant's own folder (`<data-dir>/tenants/<name>`) would be taken for a deployment without
    a registry: its warehouse rebuilt under MEDSPA_PHI_KEY (or the public demo key) instead of
    the tenant's key, every pseudonym changed. Both are refused; `--tenant NAME` is the way.
    """
    if base.tenants_file is None:
        return
    registry = base.tenants_file
    if landing_option is not None:
        raise TenantRegistryError(
            "--landing does not go with --tenant (nor with a tenant registry): each tenant's "
            f"landing folder is its `landing:` in {registry}; change it there"
        )
    data_dir = base.data_dir
    for tenant in tenants:
        if data_dir.name == tenant.name and data_dir.parent.name == "tenants":
            raise TenantRegistryError(
                f"{data_dir} is the data dir of tenant {tenant.name!r} in {registry}: "
                f"use --tenant {tenant.name} (with the deployment's data dir, "
                f"{data_dir.parent.parent}), which pseudonymises with the tenant's own key "
                f"({tenant.phi_key_env or 'its demo key'}); as a data dir of its own it would "
                "be rebuilt with MEDSPA_PHI_KEY and every pseudonym would change"
            )


def command_tenant(
    base: Settings,
    name: str | None,
    *,
    landing_option: object = None,
    all_tenants: bool = False,
    environ: Mapping[str, str] | None = None,
) -> tuple[Tenant, Settings]:
    """The tenant a command that works on one tenant's folders works on, and its settings.

    `medspa run`, `ingest`, `transform` and `site` all resolve it here, so each finds the same
    data dir, landing folder and key: `name` (`--tenant`), or the registry's only tenant, or
    `default` without a registry. `landing_option` is the `--landing` given (None: not given);
    `all_tenants`: the command also takes `--all-tenants`. Raises TenantRegistryError (a
    malformed registry, an unknown or missing tenant, a key variable unset or too short, or an
    option the registry overrides).
    """
    chosen = chosen_command_tenant(
        base, name, landing_option=landing_option, all_tenants=all_tenants
    )
    return chosen, tenant_settings(base, chosen, environ)


def chosen_command_tenant(
    base: Settings, name: str | None, *, landing_option: object = None, all_tenants: bool = False
) -> Tenant:
    """`command_tenant`'s tenant, before its settings (its key) are read: a caller that must
    tell "no such tenant" from "this tenant's key is unusable" asks for the two apart."""
    tenants = resolve_tenants(base, base.tenants_file)
    refuse_paths_beside_registry(base, tenants, landing_option=landing_option)
    return choose_tenant(tenants, name, all_tenants=all_tenants)


def refuse_shared_keys(settings_by_tenant: Mapping[str, Settings]) -> None:
    """Two tenants with the same key would produce joinable pseudonyms: refuse to run."""
    owners: dict[str, str] = {}
    for name, settings in settings_by_tenant.items():
        digest = hashlib.sha256(settings.phi_key.encode()).hexdigest()
        if digest in owners:
            raise TenantRegistryError(
                f"tenants {owners[digest]!r} and {name!r} use the same pseudonymisation key; "
                "give each tenant its own"
            )
        owners[digest] = name
