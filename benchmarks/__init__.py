"""Benchmarks: `python -m benchmarks [FILTER]` runs every `bench_*.py` module's `main()`.

Each benchmark prints its figures and a ratio against a baseline measured in the same run,
so numbers from different machines compare through the ratio, not the seconds.
"""
