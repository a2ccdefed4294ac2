"""dbt's log lines formatted only when a handler will write them.

dbt builds every event's line before asking Python's logging whether the line's level is
enabled: `_Logger.write_line` renders the event as JSON (stdout, which Dagster reads) or as
text (`dbt.log`), scrubs it of secrets, and only then hands it to a logger that drops every
debug line (both run at `info`, `medspa.dbt_invocation`). A nightly `dbt build` at the large
chain fires a debug event before and after each of its ~2,400 statements: in a profile of
one, 3.5 s of the interpreter lock went into formatting lines nobody wrote, time in which
neither of dbt's two threads ran Python.

`skip_unwritten_lines()` puts a level check in front of the formatting. What is written does
not change: a line is skipped only when its logger would have dropped it (`--log-level debug`
or `--log-level-file debug` enable the lines again), and an event with a level dbt does not
know still reaches dbt's own code, which raises as before.
"""

from __future__ import annotations

from typing import Any

_PATCHED = "_medspa_skips_unwritten_lines"


def skip_unwritten_lines() -> None:
    """Make dbt's loggers skip lines their Python logger would drop (idempotent)."""
    from dbt_common.events import logger as dbt_logger

    cls: Any = dbt_logger._Logger
    if getattr(cls, _PATCHED, False):
        return
    write_line = cls.write_line

    def write_line_if_enabled(self: Any, msg: Any) -> None:
        python_logger = self._python_logger
        if python_logger is not None and not dbt_logger._is_print_event(msg):
            # dbt's own map of its level names (`EventMsg.info.level`) to Python's levels
            level = dbt_logger._log_level_map.get(msg.info.level)
            if level is not None and not python_logger.isEnabledFor(level):
                return
        write_line(self, msg)

    cls.write_line = write_line_if_enabled
    setattr(cls, _PATCHED, True)
