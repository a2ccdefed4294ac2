"""Keep results browsable: one JSON file per suite and a static `index.html` beside them.

GX's own Data Docs pull their CSS/JS from a CDN and show raw sample values, so we write a
small self-contained page instead, from the already PHI-safe `SuiteResult`s. The index is
rebuilt from every `*.json` in the folder, so runs of different suite subsets add up.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from quality.results import SuiteResult
from safeio.private import private_dir

INDEX_NAME = "index.html"


def write_results(results: Iterable[SuiteResult], results_dir: Path) -> list[Path]:
    """Write `<suite>.json` for each result (replacing the previous one) and the index."""
    private_dir(results_dir)  # observed values of raw suites can quote raw (PHI) values
    paths = []
    for result in results:
        path = results_dir / f"{result.suite}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(result.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    write_index(results_dir)
    return paths


def load_results(results_dir: Path) -> list[dict[str, Any]]:
    """Every suite result JSON in the folder, by suite name."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results_dir.glob("*.json"))]
    return sorted(docs, key=lambda d: d["suite"])


def _status(doc: dict[str, Any]) -> str:
    return "passed" if doc["success"] else f"failed ({doc['severity']})"


def _observed_text(observed: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {json.dumps(v)}" for k, v in sorted(observed.items()))


def _suite_section(doc: dict[str, Any]) -> str:
    rows = []
    for exp in doc["expectations"]:
        outcome = "pass" if exp["success"] else "FAIL"
        rows.append(
            f'<tr class="{outcome.lower()}"><td>{outcome}</td>'
            f"<td>{html.escape(exp['severity'])}</td><td>{html.escape(exp['kind'])}</td>"
            f"<td>{html.escape(exp['column'] or '')}</td>"
            f"<td>{html.escape(exp['description'])}</td>"
            f"<td>{html.escape(_observed_text(exp['observed']) or (exp['error'] or ''))}</td></tr>"
        )
    suite = html.escape(doc["suite"])
    return (
        f'<h2 id="{suite}">{suite} <small>{html.escape(doc["relation"])} · '
        f"{_status(doc)} · {doc['elapsed_seconds']} s</small></h2>\n"
        "<table><tr><th>result</th><th>severity</th><th>expectation</th><th>column</th>"
        "<th>rule</th><th>observed</th></tr>\n" + "\n".join(rows) + "</table>"
    )


def write_index(results_dir: Path) -> Path:
    """Rebuild `index.html`: a summary table of all suites, then each suite's expectations."""
    docs = load_results(results_dir)
    summary = "\n".join(
        f'<tr class="{"pass" if d["success"] else "fail"}">'
        f'<td><a href="#{html.escape(d["suite"])}">{html.escape(d["suite"])}</a></td>'
        f"<td>{_status(d)}</td>"
        f"<td>{sum(not e['success'] for e in d['expectations'])} / {len(d['expectations'])}</td>"
        f'<td><a href="{html.escape(d["suite"])}.json">json</a></td></tr>'
        for d in docs
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data quality results</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
td, th {{ border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }}
tr.fail td:first-child {{ color: #b00020; font-weight: bold; }}
small {{ color: #666; font-weight: normal; }}
</style></head><body>
<h1>Data quality results</h1>
<table><tr><th>suite</th><th>status</th><th>failed</th><th>file</th></tr>
{summary}
</table>
{"".join(_suite_section(d) for d in docs)}
</body></html>
"""
    path = results_dir / INDEX_NAME
    path.write_text(page, encoding="utf-8")
    return path
