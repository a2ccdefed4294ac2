"""Evidence-style dashboards: markdown + SQL pages rendered to a static site from serving.duckdb.

Public API: `build_site(serving_path, site_dir, *, pages_dir=None) -> SiteReport`, and
`tables_read(pages_dir)` (the serving tables the pages query: the site asset's dependencies).
A plain library that reads only `serving.duckdb`: of the project it imports only `safeio`
(SQL quoting).
"""

from dashboards.errors import PageError
from dashboards.pages import tables_read
from dashboards.site import DEFAULT_PAGES_DIR, PageFailure, SiteReport, build_site

__all__ = [
    "DEFAULT_PAGES_DIR",
    "PageError",
    "PageFailure",
    "SiteReport",
    "build_site",
    "tables_read",
]
