"""sqlfluff stand-in for dbt's `graph` context variable (lint only; never imported by dbt).

Tests that read the project graph (the sources' `meta.phi` marks) render while linting as if
the project had no sources: the SQL around the derived lists is what sqlfluff checks.
"""

sources: dict[str, object] = {}
nodes: dict[str, object] = {}
