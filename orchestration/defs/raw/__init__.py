"""The raw landing asset (the loader) and its checks: GX raw suites, quarantine, freshness."""
