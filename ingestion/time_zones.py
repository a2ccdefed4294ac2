"""The time-zone names a location may carry: IANA's, as DuckDB's time-zone conversion knows them.

DuckDB converts time zones with ICU, and ICU's list (`pg_timezone_names()`) holds IANA's zone
names plus IDs of ICU's own: Java's three-letter aliases and the retired `SystemV/` zones.
Several of those read like something they are not: `BST` is Dhaka (UTC+6), not British Summer
Time, and `IST` is India, not Ireland. The landing contract asks for an IANA name, so a
location carrying one of ICU's own IDs is quarantined, never silently placed six hours off.

`ICU_ONLY_IDS` is `pg_timezone_names()` minus IANA's names for the DuckDB this project pins;
`tests/ingestion/test_ingest_time_zones.py` keeps it equal to that difference.
"""

from __future__ import annotations

#: ICU's IDs that are not IANA time-zone names (DuckDB 1.5's ICU).
ICU_ONLY_IDS: frozenset[str] = frozenset(
    {
        "ACT", "AET", "AGT", "ART", "AST", "BET", "BST", "CAT", "CNT", "CST", "CTT", "EAT",
        "ECT", "IET", "IST", "JST", "MIT", "NET", "NST", "PLT", "PNT", "PRT", "PST", "SST",
        "VST", "Canada/East-Saskatchewan", "US/Pacific-New", "SystemV/AST4", "SystemV/AST4ADT",
        "SystemV/CST6", "SystemV/CST6CDT", "SystemV/EST5", "SystemV/EST5EDT", "SystemV/HST10",
        "SystemV/MST7", "SystemV/MST7MDT", "SystemV/PST8", "SystemV/PST8PDT", "SystemV/YST9",
        "SystemV/YST9YDT",
    }
)  # fmt: skip
