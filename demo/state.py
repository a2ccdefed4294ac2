"""The marker file that says "this folder holds a demo chain" and how far it has been written.

`medspa generate` refuses to write into a folder that holds anything else, `--advance` reads
the chain's configuration back from here (so story dates and the seed never drift), and the
CLI's `demo` command can tell demo data from a clinic's real extracts.

The marker lists every file the generator wrote, with its size: a folder is demo data only
while every file it holds is one of those, unchanged (some may have been removed). A clinic's
own extract dropped into the demo's landing folder (the natural first try) then makes it real
data, so the public demo key is warned about instead of silently pseudonymising a real
patient's id. A marker without the list (one written before the list was kept, or one a
person edited) vouches for nothing: its folder counts as real data until generated again.

The list guards against a mistake, not a hostile writer: files are compared by size, not
content (hashing a large chain's gigabytes on every run would cost more than the load).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
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
    #: Every file the generator wrote (path relative to the folder, POSIX) -> its size in
    #: bytes; None for a marker written before the list was kept.
    files: Mapping[str, int] | None = None

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    **self.cfg.to_json(),
                    "last_extract_date": self.last_extract.isoformat(),
                    "inject_bad_rows": self.inject_bad_rows,
                    "generator_version": GENERATOR_VERSION,
                    **({} if self.files is None else {"files": dict(self.files)}),
                },
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )


def is_demo_folder(out: Path) -> bool:
    """Whether `out` holds the generator's files and nothing else (see the module doc)."""
    out = Path(out)
    if not (out / MARKER).is_file():
        return False
    try:
        written = read_marker(out).files
    except GeneratorError:
        return False  # a damaged marker vouches for nothing
    if written is None:
        return False  # nothing to compare the folder with: its files may be anyone's
    # a generated file left out (a system dropped to try the pipeline without it) is still
    # demo data; one the generator did not write, or one changed since, is not
    return all(written.get(name) == size for name, size in folder_files(out).items())


def _data_files(out: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, path) of every file under `out` but the marker and hidden files:
    what a landing folder holds as data, demo or real."""
    for path in Path(out).rglob("*"):
        rel = path.relative_to(out)
        if rel.name in (MARKER, MARKER + ".tmp") or any(p.startswith(".") for p in rel.parts):
            continue
        if path.is_file():
            yield rel.as_posix(), path


def folder_files(out: Path) -> dict[str, int]:
    """Every file under `out` but the marker and hidden files, with its size."""
    return {rel: path.stat().st_size for rel, path in _data_files(out)}


def holds_files(out: Path) -> bool:
    """Whether `out` holds any such file (a missing or empty folder holds no one's data)."""
    return Path(out).is_dir() and next(_data_files(out), None) is not None


def written_files(out: Path, paths: Iterable[Path], before: Mapping[str, int] | None) -> dict:
    """The marker's list after the generator wrote `paths` into `out`: the earlier list
    (`before`; an advance adds to it) and each new file with its size on disk."""
    files = dict(before or {})
    for path in paths:
        files[Path(path).relative_to(out).as_posix()] = Path(path).stat().st_size
    return files


def read_marker(out: Path) -> Marker:
    path = Path(out) / MARKER
    if not path.is_file():
        raise GeneratorError(
            f"{out} holds no demo chain ({MARKER} missing); run `medspa generate --out DIR` first"
        )
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        files = d.get("files")
        return Marker(
            ChainConfig.from_json(d),
            dt.date.fromisoformat(d["last_extract_date"]),
            float(d.get("inject_bad_rows", 0.0)),
            None if files is None else {str(k): int(v) for k, v in files.items()},
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
