"""Several demo chains at once: one landing folder per tenant and the registry that lists them.

A multi-tenant deployment is tried out with `medspa generate --tenants 6 --out DIR`: each
tenant is a separately seeded chain (its own patients, volumes and story), written as
`DIR/<tenant>/` exactly as a single chain is, plus `DIR/tenants.yml`. Every entry is marked
`demo: true`: its pseudonymisation key is the tenant's public demo key (derived from its name,
so no two demo tenants share pseudonyms), never a secret, and never for real data.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from demo.config import ChainConfig
from demo.run import Report, generate

REGISTRY_NAME = "tenants.yml"

_HEADER = """\
# Demo tenants written by `medspa generate --tenants N`. Each tenant is a separately seeded
# demo chain; `demo: true` gives it its own public demo key (derived from its name), so it
# needs no secret. Never list real clinics with `demo: true`: real data needs `phi_key_env`.
"""


def tenant_name(index: int) -> str:
    """`demo-1`, `demo-2`, ...: valid folder, partition and role names."""
    return f"demo-{index}"


def generate_tenants(out: Path, count: int, cfg: ChainConfig) -> dict[str, Report]:
    """`count` chains seeded `cfg.seed`, `cfg.seed + 1`, ... under `out`, and their registry."""
    if count < 1:
        raise ValueError("--tenants must be at least 1")
    out = Path(out)
    reports = {}
    for i in range(1, count + 1):
        name = tenant_name(i)
        reports[name] = generate(out / name, replace(cfg, seed=cfg.seed + i - 1))
    entries = [{"name": n, "landing": n, "demo": True} for n in reports]
    text = _HEADER + yaml.safe_dump({"tenants": entries}, sort_keys=False)
    (out / REGISTRY_NAME).write_text(text, encoding="utf-8")
    return reports
