"""Evidence-style dashboards: markdown + SQL pages rendered to a static site from serving.duckdb.

Public API: `build_site(serving_path, site_dir, *, pages_dir=None) -> SiteReport`.
"""

from dashboards.errors import PageError
from dashboards.site import PageFailure, SiteReport, build_site

__all__ = ["PageError", "PageFailure", "SiteReport", "build_site"]
