"""Checks on the marts: GX mart suites and last-update freshness."""
