"""Type and check a file's VARCHAR rows against the contract, in one vectorised SQL pass.

Why SQL and not Python: a medium clinic chain lands millions of rows a night; a
per-row Python dict would dominate the load. Each contract column becomes a cast plus
a `case` that names what is wrong (missing key, bad type, unknown enum value, out of
range). Rows with any problem, and every row of a primary key repeated inside the file,
go to the quarantine temp table with their row number and the raw record as JSON;
the rest become the typed `<name>__valid` view the merge step reads (in the stage dlt reads
from, `ingestion.stage`).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingestion import stage
from ingestion.contract import Column, Table
from ingestion.drift_names import drift_labels, stored_drift_names, stored_name
from ingestion.readers import NO_CONTRACT_COLUMNS, FileRefused, RawFile, quote_ident, sql_str
from ingestion.time_zones import ICU_ONLY_IDS

#: A UTC offset as ISO 8601 writes it: hours 00-23, minutes 00-59 (`+05:30`, `-0800`, `+01`).
#: DuckDB's cast takes `+25:00` or `+99:99` too and shifts the instant by it; no clock shows
#: such an offset, so it is a bad value to quarantine, not an instant to store.
_OFFSET_RE = r"[+-]([01]\d|2[0-3])(:?[0-5]\d)?"

#: A timestamp must carry its offset: without one its instant depends on the machine.
_TIMESTAMP_RE = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*(Z|z|" + _OFFSET_RE + ")"

_TIME_ZONE_REASON = "unknown time zone (not an IANA name such as America/New_York)"
_BLANK_ID_REASON = "blank identifier (only whitespace)"
_PADDED_ID_REASON = "identifier with leading or trailing whitespace"

#: What pads an id: a space, a tab or line break (a stray `\r` from a CRLF line), a no-break or
#: other Unicode space, any control character, any format character (zero-width space and
#: joiners, byte-order mark, soft hyphen, left-to-right and right-to-left marks, bidi isolates).
#: None of them shows when an id is printed, and each makes `A1` a second id.
_ID_PAD_CLASS = r"[\s\p{Z}\p{Cc}\p{Cf}]"
_ID_PADDED_RE = f"^{_ID_PAD_CLASS}|{_ID_PAD_CLASS}$"
_ID_BLANK_RE = f"{_ID_PAD_CLASS}+"

#: Contact data used as an id. Patient and lead ids are pseudonymised downstream
#: (`Column.pseudonymised`); every other id (an appointment's, a call's, a review's) reaches
#: the marts as it is, so an email address or a phone number there would publish a person's
#: contact details. Plain digits (`1234567890`, `20261115000123`) are ordinary numeric ids:
#: only a phone number written as one (a leading `+`, or grouped digits) is taken for one.
_EMAIL_ID_REASON = "an email address as an id (contact data: an id is published as it is)"
_PHONE_ID_REASON = "a phone number as an id (contact data: an id is published as it is)"
#: the at signs an address is written with: `@` and its fullwidth and small look-alikes
_ID_AT_SIGNS = ("@", "\uff20", "\ufe6b")
#: something@domain.tld anywhere in the id (`mailto:jane@example.com`, `jane＠example.com` too)
_AT = r"@\x{FF20}\x{FE6B}"
_ID_EMAIL_RE = rf"[^{_AT}\s][{_AT}][^{_AT}\s]+[.\x{{FF0E}}\x{{3002}}][^{_AT}\s\d.]{{2,}}"
#: `+` then only digits and separators (`+14155550166`, `+1 (415) 555-0166`), or the North
#: American 3-3-4 written with separators, the area code perhaps in parentheses and a leading
#: 1 (`415-555-0166`, `(415) 555.0166`, `1-800-555-0199`). Other groupings are left alone:
#: `12345-67890` or `0001-2345-6789` are ordinary invoice or ticket numbers far more often than
#: a phone number written without its `+`. Its digits are counted apart (`_ID_PHONE_DIGITS`).
_ID_PHONE_RE = r"\+[\d ().-]+|(1[ .-])?(\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}"
#: how many digits a phone number has, with its country code: E.164 allows 15; fewer than
#: 10 (8 after a `+`) is no full number
_ID_PHONE_DIGITS = (10, 15)
_ID_PHONE_PLUS_DIGITS = (8, 15)
#: a date opening an id (`2026-11-15-0001`) is grouped digits too, but no phone number
_ID_DATE_RE = r"^(19|20)\d\d[-./](0[1-9]|1[0-2])[-./]"

_NO_SECONDS_RE = r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2})(\s*[Zz+-])"

#: Contract type -> (regex the trimmed text must match, reason when it does not).
_TYPE_RULES: dict[str, tuple[str, str]] = {
    "integer": (r"[+-]?\d+", "not an integer"),
    "decimal": (r"[+-]?(\d+(\.\d*)?|\.\d+)", "not a decimal amount"),
    "boolean": (r"(?i)true|false", "not a boolean (true/false)"),
    "date": (r"\d{4}-\d{2}-\d{2}", "not a valid date (YYYY-MM-DD)"),
    "time": (r"\d{2}:\d{2}(:\d{2})?", "not a valid time (HH:MM)"),
    "timestamp": (_TIMESTAMP_RE, "not an ISO 8601 timestamp with offset"),
}

#: Money is USD to the cent: a decimal's text may carry more places only as trailing zeros
#: (`12.3400`). Casting `12.345` to DECIMAL(18,2) would round it silently (and `-0.004` would
#: then pass `min: 0`), so such a value is quarantined instead. Checked after `_TYPE_RULES`'s
#: pattern, so the text is known to be a plain decimal number here.
_CENTS_RE = r"[+-]?\d*(\.\d{0,2}0*)?"
_CENTS_REASON = "more than 2 decimal places (money is USD to the cent)"

#: From this amount up a FLOAT (single precision) is 1/32 of a dollar or more from the next
#: float, so the float an exporter stored for a cent amount may be another cent amount
#: (262144.01 is stored as 262144.0): only below it does the value held tell its cents apart.
SINGLE_PRECISION_CENTS_LIMIT = 262144
_SINGLE_PRECISION_REASON = (
    f"a FLOAT (single-precision) amount of {SINGLE_PRECISION_CENTS_LIMIT:,} or more, where a float "
    "cannot hold every cent (store money as DECIMAL(18,2))"
)

#: A NUL character is valid UTF-8 and DuckDB stores it, but PostgreSQL's text cannot hold one:
#: a published mart carrying it failed every publish to the BI database (and only there, after
#: serving.duckdb was already swapped in), so the two served copies parted for good.
_NUL_REASON = "a NUL character in text"

#: How many of a repeated key's rows its copies' reason lists. Every copy carries the reason,
#: so listing all n rows made n copies hold n² characters (a file of one key repeated 20,000
#: times, 1.6 MB, ran the loader out of memory): the first rows tell where to look, the count
#: how many there are.
_DUPLICATE_ROWS_SHOWN = 10

#: A repeated key's reason from `__first` (its first rows) and `__copies` (how many):
#: "(rows 3, 4)" when every row is shown, else "(rows 1, ..., 10 and 49990 more, 50000 in all)".
_DUPLICATE_REASON_SQL = (
    "'duplicate primary key within the extract (rows ' || array_to_string(__first, ', ')"
    f" || if(__copies > {_DUPLICATE_ROWS_SHOWN}, ' and ' || (__copies - {_DUPLICATE_ROWS_SHOWN})"
    " || ' more, ' || __copies || ' in all', '') || ')'"
)

#: Lineage columns the loader adds to every raw row (prefixed `_`, never contract names).
LINEAGE_COLUMNS: dict[str, str] = {
    "_extract_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_source_row": "BIGINT",
}


#: How a refusal for a missing contract column starts (after the file's path and ": ").
MISSING_COLUMNS = "missing contract column(s)"
#: ... and how it ends. Refusals recorded before this rule existed lack it, so a file refused
#: then (its table's later files already loaded around it) never stops its table now.
STOPS_LOAD = "the table's load stops until this file is replaced or removed"


class MissingContractColumns(FileRefused):
    """A contract column is missing: the landing contract fails the table's whole load, not just
    this file (`ingestion.prepare` holds the table's other new files back)."""


@dataclass(frozen=True)
class Validated:
    """Where a validated file's rows went: `valid` (typed; a view in the stage, qualified)
    and `quarantine` (a temp table)."""

    valid: str
    quarantine: str
    drift_columns: list[str]
    rows_quarantined: int
    #: the drift columns as the load report may name them (`drift_names.drift_labels`)
    drift_labels: list[str]
    #: the drift columns' names as the file spells them (`drift_columns`' order)
    drift_names_in_file: list[str]


#: Contract types a Parquet column may arrive in already (`stored_types`), with the check that
#: replaces the text rule for such a value. Its verdict is the one its text would get: the
#: text (as DuckDB writes it, in UTC) of an integer, decimal or boolean always passes; that of
#: a date or timestamp outside years 1-9999 (infinity, BC, a five-digit year) does not.
#: TIME is not kept: its text fails with fractional seconds, a rule not worth a second copy.
_STORED_RULES: dict[str, str | None] = {
    "integer": None,
    "decimal": None,
    "boolean": None,
    "date": "between DATE '0001-01-01' and DATE '9999-12-31'",
    "timestamp": (
        "between TIMESTAMPTZ '0001-01-01 00:00:00+00'"
        " and TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'"
    ),
}


def is_identifier(col: Column) -> bool:
    """An id column (`appointment_id`, `patient_id`, ...): its text is matched exactly, so
    spaces around it are a defect to quarantine, not part of the id."""
    return col.type == "string" and not col.phi and (col.name == "id" or col.name.endswith("_id"))


def stored_types(table: Table) -> dict[str, str]:
    """The columns a reader may hand over in their own type (`read_file`'s `keep_types`)."""
    return {c.name: c.duckdb_type for c in table.columns if c.type in _STORED_RULES}


def text_column_names(table: Table) -> frozenset[str]:
    """The contract's free-text columns (`read_file`'s `text_columns`): nothing types or lists
    their values, so the reader itself must refuse a nested value there. A column with an
    `enum` is left out: an object's rendering is never one of its values, so the enum check
    quarantines it already."""
    return frozenset(c.name for c in table.columns if c.type == "string" and not c.enum)


def _text(col: Column, stored: bool = False) -> str:
    """The cell as text with the contract's null rule (empty field = null); a value the file
    stored in the contract's type (`stored`) as it is."""
    ident = quote_ident(col.name)
    if stored:
        return ident
    return f"nullif({ident}, '')" if col.type == "string" else f"nullif(trim({ident}), '')"


def _typed(col: Column, stored: bool = False) -> str:
    text = _text(col, stored)
    if col.type == "string" or stored:
        return text
    if col.type == "boolean":
        return f"case lower({text}) when 'true' then true when 'false' then false end"
    if col.type == "timestamp":
        # ISO 8601 allows HH:MM without seconds; DuckDB's cast does not. The rewrite runs
        # only for values the plain cast refuses (a regexp per value cost more than the cast):
        # it touches only text without seconds, which the plain cast never accepts.
        padded = f"regexp_replace({text}, {sql_str(_NO_SECONDS_RE)}, '\\1:00\\2')"
        return (
            f"coalesce(try_cast({text} as {col.duckdb_type}), "
            f"try_cast({padded} as {col.duckdb_type}))"
        )
    return f"try_cast({text} as {col.duckdb_type})"


def _error(col: Column, is_key: bool, stored: bool = False, single: bool = False) -> str:
    """SQL yielding the reason this column's value is unacceptable, or NULL when it is fine.

    `single`: the file stored this money column as FLOAT (`RawFile.single_precision`); its
    text is the amount the float holds, judged like any amount's, but from
    `SINGLE_PRECISION_CENTS_LIMIT` up that amount may be a neighbouring cent of the one written.
    """
    text, typed = _text(col, stored), _typed(col, stored)
    missing = "'missing primary key'" if is_key else "'missing required value'"
    branches = [f"when {text} is null then {'null' if col.nullable else missing}"]
    branches += _type_branches(col, text, typed, stored)
    if single:
        branches.append(
            f"when abs({typed}) >= {SINGLE_PRECISION_CENTS_LIMIT} "
            f"then {sql_str(_SINGLE_PRECISION_REASON)}"
        )
    if col.type == "string" and not col.phi:
        # PHI text stays in the raw layer (PostgreSQL never sees it): no reason to lose the row.
        branches.append(f"when contains({text}, chr(0)) then {sql_str(_NUL_REASON)}")
    if is_identifier(col):
        # `" A1"` and `"A1"` would be two rows (and join nothing): an id is never padded.
        # A clean id starts and ends in printable ASCII (`!`-`~`): two comparisons of the
        # text (its first byte) and one of its last character; only an id failing them pays
        # for the patterns (about 50 ns an id more than testing for spaces alone, on one core).
        outside = f"{text} < '!' or {text} >= chr(127) or {text}[-1] not between '!' and '~'"
        branches.append(
            f"when ({outside}) and regexp_matches({text}, {sql_str(_ID_PADDED_RE)}) then "
            f"if(regexp_full_match({text}, {sql_str(_ID_BLANK_RE)}), "
            f"{sql_str(_BLANK_ID_REASON)}, {sql_str(_PADDED_ID_REASON)})"
        )
    if is_identifier(col) and not col.pseudonymised:
        branches += _contact_id_branches(text)
    if col.format == "iana_time_zone":
        # the IANA zones DuckDB's time-zone conversion knows, spelled exactly: ICU's own IDs
        # (`BST` is Dhaka there) are no IANA names (`ingestion.time_zones`)
        icu_only = ", ".join(sql_str(name) for name in sorted(ICU_ONLY_IDS))
        branches.append(
            f"when {typed} not in (select name from pg_timezone_names()) "
            f"or {typed} in ({icu_only}) then {sql_str(_TIME_ZONE_REASON)}"
        )
    if col.enum is not None:
        allowed = ", ".join(sql_str(str(v)) for v in col.enum)
        # the allowed values in the reason: `Completed` for `completed` is one letter's fix
        reason = f"unknown enum value (not one of {', '.join(str(v) for v in col.enum)})"
        branches.append(f"when {typed}::varchar not in ({allowed}) then {sql_str(reason)}")
    bounds = []
    if col.min is not None:
        bounds.append(f"{typed} < {col.min}")
    if col.max is not None:
        bounds.append(f"{typed} > {col.max}")
    if bounds:
        rng = f"out of range [{col.min if col.min is not None else ''}, "
        rng += f"{col.max if col.max is not None else ''}]"
        branches.append(f"when {' or '.join(bounds)} then {sql_str(rng)}")
    return "case " + " ".join(branches) + " end"


def _contact_id_branches(text: str) -> list[str]:
    """The `case` branches naming an id that is an email address or a phone number.

    Cheap tests first, as for padded ids: only an id holding an at sign, or starting with `(`,
    `+` or a digit (a byte between `(` and `9`), pays for a pattern; ids such as `APT00000123` or
    `CAL-A00000001` never do.
    """
    digits = f"length(regexp_replace({text}, '[^0-9]', '', 'g'))"
    has_at = " or ".join(f"contains({text}, {sql_str(at)})" for at in _ID_AT_SIGNS)
    low, high = _ID_PHONE_DIGITS
    plus_low, plus_high = _ID_PHONE_PLUS_DIGITS
    counted = (
        f"{digits} between if(starts_with({text}, '+'), {plus_low}, {low}) "
        f"and if(starts_with({text}, '+'), {plus_high}, {high})"
    )
    return [
        f"when ({has_at}) and regexp_matches({text}, {sql_str(_ID_EMAIL_RE)}) "
        f"then {sql_str(_EMAIL_ID_REASON)}",
        f"when {text} >= '(' and {text} < ':' "
        f"and regexp_full_match({text}, {sql_str(_ID_PHONE_RE)}) and {counted} "
        f"and not regexp_matches({text}, {sql_str(_ID_DATE_RE)}) then {sql_str(_PHONE_ID_REASON)}",
    ]


def _type_branches(col: Column, text: str, typed: str, stored: bool) -> list[str]:
    """The `case` branches naming a value that is not of the column's type.

    Text must match the type's pattern and cast; a decimal's text must also be whole cents
    (`_CENTS_RE`), checked before the range so a rounded value is never what is judged. A value
    the file stored in the contract's type only has to fall in the range its text would.
    """
    if col.type not in _TYPE_RULES:
        return []
    pattern, reason = _TYPE_RULES[col.type]
    if stored:
        rule = _STORED_RULES[col.type]
        return [] if rule is None else [f"when not ({typed} {rule}) then {sql_str(reason)}"]
    # years 1-9999 as for a stored value: DuckDB casts the text `0000-01-01` to 1 BC
    rule = _STORED_RULES.get(col.type)
    in_range = "" if rule is None else f" or not ({typed} {rule})"
    branches = [
        f"when not regexp_full_match({text}, {sql_str(pattern)}) or {typed} is null{in_range} "
        f"then {sql_str(reason)}"
    ]
    if col.type == "decimal":
        branches.append(
            f"when not regexp_full_match({text}, {sql_str(_CENTS_RE)}) "
            f"then {sql_str(_CENTS_REASON)}"
        )
    return branches


def missing_columns(table: Table, columns: list[str]) -> list[str]:
    """Contract columns the file does not carry (a contract violation: the file is refused)."""
    present = set(columns)
    return [c for c in table.column_names if c not in present]


def _spelled_otherwise(missing: list[str], columns: list[str]) -> str:
    """' (the file has REVIEW_ID for review_id, ...)': the file's columns that are a missing
    contract column in another case or spelling, so the reason says what to rename ('' if
    none). Column names are the file's header, never a row's values."""
    found = [
        f"{column} for {stored_name(column)}"
        for column in columns
        if stored_name(column) in missing and column != stored_name(column)
    ]
    if not found:
        return ""
    shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    return f" (the file has {shown}: contract columns are spelled in lower case, as listed)"


def validate(
    con: duckdb.DuckDBPyConnection, table: Table, raw: RawFile, extract_id: str, rel_path: str
) -> Validated:
    """Split `raw` into typed valid rows and quarantined rows; raise if a column is missing."""
    missing = missing_columns(table, raw.columns)
    if len(missing) == len(table.columns) and not (
        {stored_name(c) for c in raw.columns} & set(table.column_names)
    ):
        # Not an export that dropped or renamed columns (`PLAN_ID`, `Plan ID` are stored as
        # `plan_id`: those stop the table): a file the reader could not split into columns at
        # all (another delimiter, no header row, no JSON objects).
        raise FileRefused(NO_CONTRACT_COLUMNS)
    if missing:
        raise MissingContractColumns(
            f"{MISSING_COLUMNS} {', '.join(missing)}{_spelled_otherwise(missing, raw.columns)}; "
            f"{STOPS_LOAD}"
        )
    contract = set(table.column_names)
    file_drift = [c for c in raw.columns if c not in contract]
    # extra columns take the name dlt stores them under here, so the report names that column
    # and a name that would collide with another is refused, not merged (`drift_names`)
    positions = [i for i, c in enumerate(raw.columns, start=1) if c not in contract]
    drift = stored_drift_names(table.column_names, file_drift, positions)
    keys = ", ".join(quote_ident(k) for k in table.primary_key)
    stored = raw.typed_columns
    checks = [
        _error(c, c.name in table.primary_key, c.name in stored, c.name in raw.single_precision)
        for c in table.columns
    ]
    key_checks = [
        check for c, check in zip(table.columns, checks, strict=True) if c.name in table.primary_key
    ]
    typed = ", ".join(
        f"{_typed(c, c.name in stored)} as {quote_ident(c.name)}" for c in table.columns
    )
    extras = "".join(
        f", {quote_ident(c)} as {quote_ident(d)}" for c, d in zip(file_drift, drift, strict=True)
    )
    name = raw.relation
    # The checked rows, the repeated keys and the valid rows' view live in the stage dlt reads
    # from (`ingestion.stage`): a table nobody contests is loaded from them without a copy.
    stage.attach(con)
    checked, dups = stage.relation(f"{name}__checked"), stage.relation(f"{name}__dups")
    # One pass types every column and flags the row; the reasons are spelled out below
    # only for the (few) flagged rows.
    con.execute(
        f"""create or replace table {checked} as
        select {typed}{extras}, __row, coalesce({", ".join(checks)}) is null as __ok,
            coalesce({", ".join(key_checks)}) is null as __key_ok
        from {name}"""
    )
    # A key repeated inside one extract is ambiguous: every copy is quarantined, whatever else
    # is wrong with one of them (a copy with a bad status must not leave the other to load as
    # the row's only version). The repeated keys are found first, by a grouping without
    # lists: listing every key's rows (sorted) to keep the few repeated ones cost 2.5x more
    # (1.8 s for the large chain's messages).
    same = " and ".join(
        f"c.{quote_ident(k)} is not distinct from r.{quote_ident(k)}" for k in table.primary_key
    )
    # Each copy keeps its key's first rows and count only (`_DUPLICATE_ROWS_SHOWN`): with
    # every row listed, n copies held n² row numbers (one key 5M times: the process killed).
    con.execute(
        f"""create or replace table {dups} as
        with repeated as (
            select {keys} from {checked} where __key_ok group by all having count(*) > 1)
        select unnest(__rows) as __row, __first, __copies
        from (
            select __rows, __rows[1:{_DUPLICATE_ROWS_SHOWN}] as __first, len(__rows) as __copies
            from (
                select list(__row order by __row) as __rows
                from {checked} c semi join repeated r on {same}
                where __key_ok group by {keys}))"""
    )
    pairs = zip(table.columns, checks, strict=True)
    errors = ", ".join(f"{{'c': {sql_str(c.name)}, 'r': {check}}}" for c, check in pairs)
    # the record as text, whatever type the file stored a value in (as the reader's text is)
    raw_json = (
        "to_json({"
        + ", ".join(
            f"{sql_str(c)}: r.{quote_ident(c)}" + ("::varchar" if c in stored else "")
            for c in raw.columns
        )
        + "})::varchar"
    )
    key_list = ", ".join(table.primary_key)
    # Each flagged row once: a bad row's reason is its first defect, a repeated key's is the
    # repeat; either way the row's other defects follow ("; also ...").
    con.execute(
        f"""create or replace temp table {name}__quar as
        with flagged as (
            select r.__row, d.__first, d.__copies,
                list_filter([{errors}], e -> e.r is not null) as errs, {raw_json} as js
            from {name} r
            semi join (
                select __row from {checked} where not __ok union select __row from {dups}
            ) as f on f.__row = r.__row
            left join {dups} d on d.__row = r.__row
        ),
        reasons as (
            select __row, js,
                if(__copies is null, errs[1].c, {sql_str(key_list)}) as column_name,
                if(__copies is null, errs[1].r, {_DUPLICATE_REASON_SQL}) as head,
                if(__copies is null, errs[2:], errs) as rest
            from flagged
        )
        select {sql_str(rel_path)} as source_file, row_number, column_name, reason, raw_record
        from {name}__rej
        union all
        select {sql_str(rel_path)}, __row, column_name,
            head || case when len(rest) > 0 then '; also ' || array_to_string(
                list_transform(rest, e -> e.c || ': ' || e.r), '; ') else '' end,
            js
        from reasons
        order by 2"""
    )
    lineage = f"{sql_str(extract_id)} as _extract_id, {sql_str(rel_path)} as _source_file"
    columns = ", ".join(f"c.{quote_ident(c)}" for c in table.column_names)
    columns += "".join(f", c.{quote_ident(c)}" for c in drift)
    valid = stage.relation(f"{name}__valid")
    con.execute(
        f"""create or replace view {valid} as
        select {columns}, {lineage}, c.__row as _source_row
        from {checked} c anti join {dups} d on c.__row = d.__row
        where c.__ok"""
    )
    quarantined = con.execute(f"select count(*) from {name}__quar").fetchone()[0]
    labels = drift_labels(file_drift, drift, positions)
    return Validated(valid, f"{name}__quar", drift, int(quarantined), labels, file_drift)
