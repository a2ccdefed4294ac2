"""sqlfluff stand-in for dbt's cross-database macros (`dbt.dateadd` ...), rendered as SQL calls.

Loaded by sqlfluff's jinja templater only (see /.sqlfluff `library_path`).
"""


def dateadd(datepart: str, interval: object, from_date_or_timestamp: object) -> str:
    return f"date_add({from_date_or_timestamp}, to_{datepart}s({interval}))"


def datediff(first_date: object, second_date: object, datepart: str) -> str:
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart: str, date: object) -> str:
    return f"date_trunc('{datepart}', {date})"


def listagg(
    measure: object, delimiter_text: object = "','", order_by_clause: object = None, limit_num=None
) -> str:
    order = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order})"


def hash(field: object) -> str:  # mirrors dbt.hash (shadowing the builtin is the point)
    return f"md5(cast({field} as varchar))"
