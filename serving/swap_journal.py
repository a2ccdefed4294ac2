"""Swap a publish's files in together, so that a killed publish is finished by the next run.

A publish replaces three files beside each other: `serving.duckdb`, its row hashes and
`scorecard.duckdb`. Each `os.replace` is atomic, but the three are not: a process killed
between the first and the last (`kill -9`, out of memory, a reboot) would leave today's
serving file beside yesterday's scorecard, and if the next run then stopped before it
published (a blocking check), the scorecard a BI tool reads would disagree with the marts
for a day or more.

So the publish writes a journal before its first swap, once every file is built and
audited: which temporary file becomes which published file (names in one folder). The
journal is written whole (a temporary file renamed into place), so it either lists every
swap or does not exist. It is removed after the last swap. The tenant's next run, holding
the run lock, calls `finish_swaps` before anything else touches the folder: the temporary
files still present are exactly the swaps the killed publish did not make, all of them
audited, so they are made now (roll forward). Without a journal there is nothing to finish,
and the temporary files a killed publish left are removed as leftovers
(`serving.publish.remove_leftovers`): the published files are still the previous publish's,
consistent with each other.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: Journal format version: a journal of another version is refused, never guessed at.
_VERSION = 1


def journal_path(serving_path: Path) -> Path:
    """The journal of `serving_path`'s publish (present only while its files are swapped)."""
    serving_path = Path(serving_path)
    return serving_path.with_name(f"{serving_path.name}.swapping")


def _journal_tmp(serving_path: Path, run_id: str) -> Path:
    """Named as a publish's temporary files are, so a kill while writing it leaves a leftover
    that `serving.publish.remove_leftovers` removes."""
    serving_path = Path(serving_path)
    return serving_path.with_name(f"{serving_path.name}.tmp-{run_id}.swapping")


def swap_in(serving_path: Path, run_id: str, swaps: list[tuple[Path, Path]]) -> None:
    """Replace each `(built, published)` pair's published file with its built one, recoverably.

    Every built file must be audited already, and every path lie in `serving_path`'s folder.
    """
    folder = Path(serving_path).parent
    for built, published in swaps:
        if built.parent != folder or published.parent != folder:
            raise ValueError(f"{built} -> {published}: a swap stays in {folder}")
    journal = journal_path(serving_path)
    tmp = _journal_tmp(serving_path, run_id)
    record = {
        "version": _VERSION,
        "run_id": run_id,
        "swaps": [[built.name, published.name] for built, published in swaps],
    }
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, journal)
    for built, published in swaps:
        os.replace(built, published)
    journal.unlink()


def _plain_name(name: str) -> bool:
    """A file name in the journal's own folder: no separator, not `.` or `..`."""
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name


class SwapJournalError(RuntimeError):
    """A journal that cannot be trusted: unreadable, another version, or naming other folders."""


def finish_swaps(serving_path: Path) -> list[Path]:
    """Make the swaps a killed publish of `serving_path` left unmade; return the published
    files replaced now (none without a journal). Call only while no publish of that file can
    be running: the tenant's run lock held."""
    journal = journal_path(serving_path)
    try:
        text = journal.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        record = json.loads(text)
        if record.get("version") != _VERSION:
            raise ValueError(f"version {record.get('version')!r}")
        names = [(str(built), str(published)) for built, published in record["swaps"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise SwapJournalError(
            f"{journal}: not a publish journal this code can finish ({exc}); the published "
            "files may disagree with each other: move the journal away and run again"
        ) from None
    folder = journal.parent
    if not all(_plain_name(name) for pair in names for name in pair):
        raise SwapJournalError(f"{journal}: names a file outside {folder}")
    done: list[Path] = []
    for built_name, published_name in names:
        built = folder / built_name
        if built.is_file() and not built.is_symlink():
            os.replace(built, folder / published_name)
            done.append(folder / published_name)
    journal.unlink()
    return done
