"""`medspa generate --tenants N`: N differently seeded chains and a registry that loads."""

from __future__ import annotations

from pathlib import Path

from demo.config import ChainConfig
from demo.state import read_marker
from demo.tenants import REGISTRY_NAME, generate_tenants
from medspa.settings import Settings
from medspa.tenants import load_registry, tenant_settings


def test_tenants_are_differently_seeded_chains_listed_as_demo(tmp_path: Path) -> None:
    cfg = ChainConfig.build("small", seed=7, years=0.1)
    reports = generate_tenants(tmp_path, 2, cfg)
    assert list(reports) == ["demo-1", "demo-2"]
    tenants = load_registry(tmp_path / REGISTRY_NAME)
    assert [(t.name, t.landing_dir, t.demo) for t in tenants] == [
        ("demo-1", tmp_path / "demo-1", True),
        ("demo-2", tmp_path / "demo-2", True),
    ]
    assert [read_marker(t.landing_dir).cfg.seed for t in tenants] == [7, 8]
    base = Settings(data_dir=tmp_path / "data", landing_dir=tmp_path / "unused")
    one, two = (tenant_settings(base, t) for t in tenants)
    assert one.phi_key != two.phi_key  # each its own demo key: pseudonyms never coincide
    assert one.landing_is_demo and not one.demo_key_on_real_data
    first = (tmp_path / "demo-1" / "pms" / "patients").glob("*.csv")
    second = (tmp_path / "demo-2" / "pms" / "patients").glob("*.csv")
    assert next(first).read_bytes() != next(second).read_bytes()
