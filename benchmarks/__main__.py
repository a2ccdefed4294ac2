"""Run the benchmarks: every `benchmarks/bench_*.py`, or those whose name contains FILTER."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def discover(name_filter: str | None = None) -> list[str]:
    """Module names `benchmarks.bench_*`, sorted, optionally filtered by substring."""
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name.startswith("bench_")
    )
    return [f"benchmarks.{n}" for n in names if not name_filter or name_filter in n]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    modules = discover(args[0] if args else None)
    if not modules:
        print(f"no benchmark matches {args[0]!r}", file=sys.stderr)
        return 2
    for name in modules:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        importlib.import_module(name).main()
        print(f"== {name} done in {time.perf_counter() - start:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
