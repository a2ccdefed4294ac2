"""Find the extracts in a landing folder: `<system>/<table>/<extract_id>.<format>`.

The layout is the whole interface between a clinic's exporters and the loader, so this
module is strict about it: only contract systems and tables and only the four formats.
A file in a table's folder is an extract the clinic meant to deliver: in any other format
(`.CSV`, `.json`, `.xlsx`) it is listed with format `unsupported`, and the loader refuses and
records it like any bad extract (a check fails, the ledger keeps the reason), rather than
letting a night's data go missing with a warning nobody reads. Only a name that says it is
still being copied (`.part`, `.tmp`, ...) is left for the next run. So is a file in a subfolder
of a table's folder, or in a table folder spelled in another case (`pms/Appointments/`): it
is listed with why it is misplaced, and refused. Anything else outside the table folders is
listed as *ignored* (never loaded, always reported) rather than guessed at.
Extract ids are compared as text (a tie on `updated_at` goes to the later one), so exporters
must name them to sort in time order, e.g. ISO dates; the loader cannot tell a time from a
name such as `backup`, and does not guess.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingestion.contract import Contract

#: File suffix -> reader format. Longest suffixes first so `.csv.gz` wins over `.gz`.
FORMATS: tuple[tuple[str, str], ...] = (
    (".csv.gz", "csv"),
    (".csv", "csv"),
    (".parquet", "parquet"),
    (".jsonl", "jsonl"),
)

#: The format of a file in a table's folder that none of `FORMATS` names: refused when read.
UNSUPPORTED = "unsupported"

#: Names a file carries while a transfer or an editor still writes it (WinSCP's `.filepart`,
#: a browser's `.crdownload`, `x.csv~`): not an extract yet, so neither loaded nor refused.
IN_TRANSIT_SUFFIXES = (
    ".part", ".partial", ".filepart", ".crdownload", ".download", ".tmp", ".temp", "~",
)  # fmt: skip


@dataclass(frozen=True)
class LandingFile:
    """One extract file and where it belongs in the contract."""

    system: str
    table: str
    extract_id: str
    path: Path
    rel_path: str  # relative to the landing folder, '/'-separated: the file's identity
    fmt: str  # csv | parquet | jsonl
    #: why the loader refuses the file whatever it holds (it lies in a table's subfolder, or in
    #: a folder spelled in another case): None for a file where the contract puts extracts
    misplaced: str | None = None

    @property
    def qualified_table(self) -> str:
        return f"{self.system}.{self.table}"

    def sha256(self) -> str:
        """Content hash: a re-delivered file with new content is a new extract to load."""
        digest = hashlib.sha256()
        with open(self.path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()


@dataclass
class LandingScan:
    """The extracts found, in (table, extract id) order, plus what was ignored and why."""

    files: list[LandingFile] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (rel_path, reason)
    #: folders that could not be listed (rel_path, reason): their files, if any, are unknown,
    #: so the load reports an error instead of "no new extract"
    unlisted: list[tuple[str, str]] = field(default_factory=list)
    #: (rel_path, mtime) of files modified after `settled_before` (extracts and in-transit
    #: names alike): a delivery still being written, which the landing sensor waits for whole
    unsettled: list[tuple[str, float]] = field(default_factory=list)

    def files_of(self, qualified_table: str) -> list[LandingFile]:
        return [f for f in self.files if f.qualified_table == qualified_table]

    def unsettled_of(self, qualified_table: str) -> list[str]:
        """The table's files left for a later run as still being written (relative paths)."""
        folder = qualified_table.replace(".", "/", 1) + "/"
        return [rel for rel, _ in self.unsettled if rel.startswith(folder)]


#: Why a file modified after the load's cut-off waits (`scan_landing`'s `settled_before`).
_UNSETTLED = "modified moments before the load (still being copied in?): left for the next run"


def split_format(name: str) -> tuple[str, str] | None:
    """`2026-11-21.csv.gz` -> (`2026-11-21`, `csv`); None for an unsupported suffix."""
    for suffix, fmt in FORMATS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], fmt
    return None


def unsupported_format_reason(name: str) -> str:
    """Why a file in a table's folder is refused: its suffix, and what to rename or export it
    as. `name` is the escaped name (`printable`) that the report may show."""
    supported = ", ".join(suffix for suffix, _ in FORMATS)
    for suffix, _ in FORMATS:
        if len(name) > len(suffix) and name[-len(suffix) :].lower() == suffix:
            renamed = name[: -len(suffix)] + suffix
            hint = f"suffixes are lower case: rename it to {renamed}"
            return f"unsupported format ({name[-len(suffix) :]}): {hint}"
    dot = name.find(".")
    shown = name[dot:] if dot > 0 else "no suffix"
    return f"unsupported format ({shown}): the loader reads {supported}; export it as one of them"


def printable(text: str) -> str:
    """`text` with control and other unprintable characters escaped (`\\n`, `\\x1b`), and a
    backslash doubled.

    File names are chosen by whoever writes the landing folder; a newline in one must not
    fake a line in the load report, a terminal escape must not reach a terminal. The escape is
    reversible: a file named with a real newline and one named with a backslash and an `n`
    are two names here too, so they never share a ledger record or a content hash.
    """
    return "".join(
        "\\\\"
        if ch == "\\"
        else ch
        if ch.isprintable()
        else ch.encode("unicode_escape", "backslashreplace").decode()
        for ch in text
    )


_LINK_REFUSED = (
    "symbolic link refused (links are not followed; MEDSPA_ALLOW_INTERNAL_LINKS=1 accepts "
    "links to files inside the landing folder)"
)


#: Files an operating system or an office suite leaves in any folder it shows or edits: a
#: thumbnail cache, folder settings, a macOS custom icon, an open document's lock (`~$x.xlsx`).
#: Like hidden files, they are no extract and no delivery: skipped, never refused.
_SYSTEM_FILES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", "icon\r"})


def _is_hidden(name: str) -> bool:
    """A hidden or `_` entry (.DS_Store, the generator's state) or an OS or office file."""
    return name.startswith((".", "_", "~$")) or name.casefold() in _SYSTEM_FILES


def _entries(landing_dir: Path, scan: LandingScan) -> Iterator[Path]:
    """Every non-hidden entry under `landing_dir`, without following any link.

    A folder that cannot be listed (its permissions, an unmounted share) goes to
    `scan.unlisted`: `os.walk` would otherwise skip it without a word, and a table whose
    folder nobody can read would look like a night without new extracts.
    """

    def unlisted(exc: OSError) -> None:
        where = Path(exc.filename) if exc.filename else landing_dir
        rel = printable(where.relative_to(landing_dir).as_posix()) if where != landing_dir else "."
        scan.unlisted.append((rel, f"{type(exc).__name__}: {exc.strerror or 'cannot list'}"))

    for dirpath, dirnames, filenames in os.walk(landing_dir, onerror=unlisted, followlinks=False):
        base = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in dirnames + filenames:
            if not _is_hidden(name):
                yield base / name


def _link_target(path: Path, landing_dir: Path, allow_internal_links: bool) -> Path | str:
    """The regular file an accepted link points to, or why the link is refused."""
    if not allow_internal_links:
        return _LINK_REFUSED
    target = path.resolve()
    if not target.is_relative_to(landing_dir.resolve()):
        return "symbolic link refused: it points outside the landing folder"
    if not target.is_file():
        return "symbolic link refused: it does not point to a regular file"
    return target


def _regular_files(
    landing_dir: Path, scan: LandingScan, allow_internal_links: bool
) -> list[tuple[Path, str]]:
    """(path to read, escaped relative name) of regular files; links and specials reported."""
    found = []
    for path in _entries(landing_dir, scan):
        rel = printable(path.relative_to(landing_dir).as_posix())
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            continue
        if stat.S_ISLNK(mode):
            target = _link_target(path, landing_dir, allow_internal_links)
            if isinstance(target, str):
                scan.ignored.append((rel, target))
                continue
            path = target
        elif not stat.S_ISREG(mode):
            scan.ignored.append((rel, "not a regular file (FIFO, device or socket): refused"))
            continue
        found.append((path, rel))
    return sorted(found, key=lambda pair: pair[1])


class _TableFolders:
    """Which contract table a landing file belongs to, from its path's parts.

    A file directly in `<system>/<table>/` is that table's extract. One in a subfolder of a
    table's folder (`pms/appointments/2026-11/...`), or in a folder spelled in another case
    (`pms/Appointments/`, `PMS/appointments/`), was meant as that table's extract too: it is
    listed with the reason it is misplaced, so the loader refuses and records it and the
    table's load check fails. Ignoring it with a warning let a night's appointments go missing
    while the run reported success.
    """

    def __init__(self, contract: Contract) -> None:
        self.systems = set(contract.systems)
        self.tables = {(t.system, t.name) for t in contract.tables}
        self.folded = {(s.casefold(), n.casefold()): (s, n) for s, n in self.tables}

    def place(self, parts: list[str]) -> tuple[str, str, str | None] | str:
        """(system, table, why the file is misplaced or None), or why the file is ignored."""
        if len(parts) < 3:
            return "not at <system>/<table>/<extract_id>.<format>"
        folder = (parts[0], parts[1])
        if folder in self.tables:
            if len(parts) == 3:
                return (*folder, None)
            subfolder = "/".join(parts[2:-1])
            return (
                *folder,
                f"in a subfolder of the table's folder ({subfolder}/): the loader reads only "
                f"the files directly in {parts[0]}/{parts[1]}/; move it there",
            )
        meant = self.folded.get((parts[0].casefold(), parts[1].casefold()))
        if meant is not None:
            system, table = meant
            return (
                system,
                table,
                f"in the folder {parts[0]}/{parts[1]}/, which the landing contract spells "
                f"{system}/{table}/ (folder names are lower case); move it there",
            )
        if len(parts) != 3:
            return "not at <system>/<table>/<extract_id>.<format>"
        if parts[0] not in self.systems:
            return f"unknown system {parts[0]!r}"
        return f"unknown table {parts[0]}.{parts[1]}"


def scan_landing(
    landing_dir: Path,
    contract: Contract,
    systems: Iterable[str] | None = None,
    *,
    allow_internal_links: bool = False,
    settled_before: float | None = None,
) -> LandingScan:
    """List the extract files of the selected systems, sorted by table then extract id.

    Names are stored escaped (`printable`). Links are refused unless `allow_internal_links`
    and they point to a file inside the landing folder; FIFOs and devices are refused. With
    `settled_before` (seconds since the epoch), a table's file modified after it is listed as
    ignored, not as an extract: it may still be being copied in, and the next scan takes it.
    """
    scan = LandingScan()
    if not landing_dir.is_dir():
        return scan
    wanted = set(systems) if systems is not None else set(contract.systems)
    folders = _TableFolders(contract)
    for path, rel in _regular_files(landing_dir, scan, allow_internal_links):
        parts = rel.split("/")
        place = folders.place(parts)
        if isinstance(place, str):
            if len(parts) == 3 and parts[0] in folders.systems and parts[0] not in wanted:
                continue  # an unknown table of a system this load leaves out
            scan.ignored.append((rel, place))
            continue
        system, table, misplaced = place
        if system not in wanted:
            continue
        name = parts[-1]
        split = split_format(name)
        # stat only when a cut-off was asked for (the loader's scan of every file does not)
        fresh = settled_before is not None and (mtime := path.stat().st_mtime) > settled_before
        if fresh:
            scan.unsettled.append((rel, mtime))
        if split is None and name.lower().endswith(IN_TRANSIT_SUFFIXES):
            scan.ignored.append((rel, "still being written (read once renamed to its format)"))
            continue
        if fresh:
            scan.ignored.append((rel, _UNSETTLED))
            continue
        extract_id, fmt = split or (name.split(".", 1)[0] or name, UNSUPPORTED)
        scan.files.append(LandingFile(system, table, extract_id, path, rel, fmt, misplaced))
    scan.files = _refuse_shared_extract_ids(scan.files)
    scan.files.sort(key=lambda f: (f.system, f.table, f.extract_id, f.rel_path))
    return scan


def _refuse_shared_extract_ids(files: list[LandingFile]) -> list[LandingFile]:
    """Mark every file of a table that shares its extract id with another (`2026-11-16.csv`
    beside `2026-11-16.csv.gz`) to be refused.

    The extract id orders a table's deliveries, and duplicate keys are judged within one
    file: two files of one id holding the same key with the same `updated_at` and different
    values were both loaded, and the one whose path sorts last won without a word.
    """
    by_id: dict[tuple[str, str, str], list[LandingFile]] = {}
    for file in files:
        if file.misplaced is None and file.fmt != UNSUPPORTED:
            by_id.setdefault((file.system, file.table, file.extract_id), []).append(file)
    shared = {id(f): group for group in by_id.values() if len(group) > 1 for f in group}
    if not shared:
        return files
    return [
        replace(file, misplaced=_shared_id_reason(shared[id(file)])) if id(file) in shared else file
        for file in files
    ]


def _shared_id_reason(group: list[LandingFile]) -> str:
    names = ", ".join(sorted(f.rel_path.rsplit("/", 1)[-1] for f in group))
    return (
        f"{len(group)} files share the extract id {group[0].extract_id!r} ({names}): whose "
        "rows win cannot be known; deliver each extract once, in one format, and remove the "
        "others"
    )
