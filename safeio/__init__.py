"""Safe I/O primitives every layer shares: SQL quoting of names and paths, owner-only files.

Lives below every other package (ingestion, quality, serving, demo, dashboards, the shells may
all import it) and imports nothing of the project, so the safe way to splice a path into SQL or
to create a file that can hold patient data is defined once.
"""
