"""`medspa rekey`: record a rotated pseudonymisation key as the warehouse's key, on purpose.

Runs and `medspa transform` refuse a key other than the one the warehouse's models were built
with (`medspa.phi_key_guard`): every `patient_key` and `lead_key` would change. After a rotation
on purpose, this records the new key (read from the same variable the runs read: the tenant's
`phi_key_env`, or MEDSPA_PHI_KEY) under the data dir's run lock; the next run then rebuilds every
model that holds a key. Tell the people who keep lists or BI joins on the old keys.
"""

from __future__ import annotations

import argparse
import sys

#: What `medspa rekey --help` says (the README sends people there before a rotation).
DESCRIPTION = """\
record a rotated pseudonymisation key as the warehouse's key, on purpose.

Runs and `medspa transform` refuse a key other than the one the warehouse's models were built
with: every patient_key and lead_key would change. After a rotation on purpose, set the new key
in the variable the runs read (the tenant's `phi_key_env`, or MEDSPA_PHI_KEY) and run this: it
records the new key under the data dir's run lock, and the next run rebuilds every model that
holds a key. Tell the people who keep lists or BI joins on the old keys: every key changes.
The old key is not needed; keep it until the next run has published, in case you go back."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from medspa.cli import add_data_dir_option, add_tenant_options

    add_data_dir_option(parser)
    add_tenant_options(parser)


def run(args: argparse.Namespace) -> int:
    from medspa.commands.run import base_settings
    from medspa.phi_key_guard import accept_key, fingerprint
    from medspa.run_lock import RunLockedError, data_dir_lock
    from medspa.settings import PhiKeyError, resolve_phi_key
    from medspa.tenants import TenantRegistryError, command_tenant

    try:
        base = base_settings(args.data_dir, None, args.tenants_file)
        chosen, settings = command_tenant(base, args.tenant)
        key = resolve_phi_key(settings.phi_key)
    except (PhiKeyError, TenantRegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not settings.warehouse_path.exists():
        print(
            f"no warehouse at {settings.warehouse_path}: nothing to rekey "
            "(the first run records the key)"
        )
        return 2
    if settings.uses_demo_key and not settings.landing_is_demo:
        # (an empty landing folder too: the warehouse holds what it once held)
        # The public demo key on a clinic's data is no rotation anyone means: a forgotten
        # MEDSPA_PHI_KEY in the shell that runs rekey would make the secret key the refused one.
        print(
            "error: MEDSPA_PHI_KEY is not set (or this demo tenant has no key of its own), so "
            "the key to record would be the public demo key, on data the demo generator did "
            "not write. Set the secret key and run `medspa rekey` again; nothing was changed"
        )
        return 2
    try:
        with data_dir_lock(settings.data_dir, "`medspa rekey`"):
            previous = accept_key(settings.warehouse_path, key)
    except RunLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    since = f" (the previous key was recorded {previous:%Y-%m-%d %H:%M %Z})" if previous else ""
    print(
        f"tenant {chosen.name}: the key now in use is recorded (fingerprint "
        f"{fingerprint(key)[:12]}...){since}. The next run rebuilds every model that holds a "
        "patient_key or lead_key: every one of them changes, so tell whoever keeps BI joins or "
        "patient lists on the old ones."
    )
    return 0
