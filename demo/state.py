"""The marker file that says "this folder holds a demo chain" and how far it has been written.

`medspa generate` refuses to write into a folder that holds anything else, `--advance` reads
the chain's configuration back from here (so story dates and the seed never drift), and the
CLI's `demo` command can tell demo data from a clinic's real extracts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from demo.config import GENERATOR_VERSION, ChainConfig

MARKER = "_demo_chain.json"


class GeneratorError(Exception):
    """A user-facing problem with the output folder or options (printed without a traceback)."""


@dataclass(frozen=True)
class Marker:
    cfg: ChainConfig
    last_extract: dt.date
    inject_bad_rows: float = 0.0

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    **self.cfg.to_json(),
                    "last_extract_date": self.last_extract.isoformat(),
                    "inject_bad_rows": self.inject_bad_rows,
                    "generator_version": GENERATOR_VERSION,
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )


def is_demo_folder(out: Path) -> bool:
    return (Path(out) / MARKER).is_file()


def read_marker(out: Path) -> Marker:
    path = Path(out) / MARKER
    if not path.is_file():
        raise GeneratorError(
            f"{out} holds no demo chain ({MARKER} missing); run `medspa generate --out DIR` first"
        )
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        return Marker(
            ChainConfig.from_json(d),
            dt.date.fromisoformat(d["last_extract_date"]),
            float(d.get("inject_bad_rows", 0.0)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise GeneratorError(f"{path} is not a valid demo-chain marker: {exc}") from exc


def write_marker(out: Path, marker: Marker) -> None:
    path = Path(out) / MARKER
    tmp = path.with_name(MARKER + ".tmp")
    tmp.write_text(marker.to_json(), encoding="utf-8")
    tmp.replace(path)


def check_empty(out: Path) -> None:
    """A new chain goes only into a missing or empty folder: never over someone's files."""
    out = Path(out)
    if is_demo_folder(out):
        raise GeneratorError(
            f"{out} already holds a demo chain; continue it with "
            "`--advance DAYS` or choose an empty folder"
        )
    if out.exists() and any(out.iterdir()):
        raise GeneratorError(f"{out} is not empty and holds no demo chain; refusing to write")
