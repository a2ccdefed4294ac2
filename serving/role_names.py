"""The shape of a deployment's role prefix, in a module without PostgreSQL's driver.

The settings check MEDSPA_SERVING_ROLE_PREFIX before a run takes its lock (a bad prefix found
at the PostgreSQL step would fail the night after its load, dbt and DuckDB publish), and
`pg_roles` checks it again for a caller that builds roles itself: one pattern for both.
"""

from __future__ import annotations

import re

#: At most 15 characters: `<prefix>_tenant_<tenant>` (tenants up to 40) stays within 63 bytes.
#: Ends in `\Z`, not `$` (which also matches before a final newline), so `.match` and
#: `.fullmatch` both refuse "medspa\n".
ROLE_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,14}\Z")
