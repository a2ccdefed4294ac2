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

`skip_unwritten_events()` goes one step earlier for debug events: before any line is
considered, dbt turns each event into its protobuf message (`msg_from_base_event`: a dict of
the event's fields parsed into the message, field by field) and walks its loggers. Three debug
events surround every statement (the connection used, the SQL, its status), about 2,600 in a
large nightly, all dropped by both loggers. A debug event is now dropped before that
conversion when no logger would write a debug line and no callback could hear it: dbt's own
`track_behavior_change_warn` hears only a warning, and any other callback (a `dbtRunner`
caller that listens) gets every event, as before.
"""

from __future__ import annotations

from typing import Any

_PATCHED = "_medspa_skips_unwritten_lines"
_PATCHED_EVENTS = "_medspa_skips_unwritten_events"
#: Callbacks dbt registers itself that act on no debug event (`module.qualname`).
_CALLBACKS_DEAF_TO_DEBUG = frozenset({"dbt.tracking.track_behavior_change_warn"})


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


def _debug_is_written(loggers: Any, debug: int) -> bool:
    """Whether any of dbt's loggers would write a line at Python level `debug` (one without a
    Python logger, of a kind this module does not know, is assumed to)."""
    for logger in loggers:
        python_logger = getattr(logger, "_python_logger", None)
        if python_logger is None or python_logger.isEnabledFor(debug):
            return True
    return False


def _debug_is_heard(callbacks: Any) -> bool:
    """Whether any callback may act on a debug event."""
    return any(
        f"{getattr(cb, '__module__', '')}.{getattr(cb, '__qualname__', '')}"
        not in _CALLBACKS_DEAF_TO_DEBUG
        for cb in callbacks
    )


def skip_unwritten_events() -> None:
    """Make dbt's event manager drop a debug event no logger writes and no callback hears,
    before building its message (idempotent)."""
    import os

    from dbt_common.events import logger as dbt_logger
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager

    if getattr(EventManager, _PATCHED_EVENTS, False):
        return
    fire_event = EventManager.fire_event
    debug = dbt_logger._log_level_map[EventLevel.DEBUG]

    def fire_event_if_heard(
        self: Any,
        e: Any,
        level: Any = None,
        node: Any = None,
        force_warn_or_error_handling: bool = False,
    ) -> None:
        if (
            (level or e.level_tag()) == EventLevel.DEBUG
            and not force_warn_or_error_handling
            and not _debug_is_heard(self.callbacks)
            and not os.environ.get("DBT_TEST_BINARY_SERIALIZATION")
            and not _debug_is_written(self.loggers, debug)
        ):
            return
        fire_event(self, e, level, node, force_warn_or_error_handling)

    EventManager.fire_event = fire_event_if_heard  # type: ignore[method-assign]
    setattr(EventManager, _PATCHED_EVENTS, True)
