"""sqlfluff stand-in for dbt's `adapter` (lint only; never imported by dbt or the project).

`adapter.dispatch('x', 'medspa')(args)` renders as the SQL call `x(args)`, so the jinja
templater can lint models that use dispatched, engine-specific macros without a database.
"""

from collections.abc import Callable


def dispatch(macro_name: str, macro_namespace: str | None = None) -> Callable[..., str]:
    def render(*args: object) -> str:
        return f"{macro_name}({', '.join(str(a) for a in args)})"

    return render


def get_relation(database: object = None, schema: object = None, identifier: object = None):
    """No database while linting: every optional relation is taken as existing."""
    return f"{schema}.{identifier}"


def get_columns_in_relation(relation: object) -> list:
    """No database while linting: a relation has no known columns."""
    return []
