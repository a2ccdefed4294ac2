"""dbt formats a log line, or builds a debug event's message, only when a logger will write it
or a callback may hear it (`medspa.dbt_log_lines`)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from dbt.tracking import track_behavior_change_warn
from dbt_common.events import logger as dbt_logger
from dbt_common.events.base_types import EventLevel, msg_from_base_event
from dbt_common.events.event_manager import EventManager
from dbt_common.events.logger import LineFormat, LoggerConfig
from dbt_common.events.types import Note, PrintEvent

from medspa.dbt_log_lines import skip_unwritten_events, skip_unwritten_lines


@pytest.fixture
def formatted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The messages whose line dbt formatted, with the skip installed (undone afterwards)."""
    monkeypatch.setattr(dbt_logger._Logger, "write_line", dbt_logger._Logger.write_line)
    monkeypatch.setattr(dbt_logger._Logger, "_medspa_skips_unwritten_lines", False, raising=False)
    skip_unwritten_lines()
    skip_unwritten_lines()  # idempotent: one check, not two wrappers
    seen: list[str] = []
    for cls in (dbt_logger._JsonLogger, dbt_logger._TextLogger):
        create_line = cls.create_line

        def spy(self, msg, create_line=create_line):  # type: ignore[no-untyped-def]
            seen.append(msg.info.msg)
            return create_line(self, msg)

        monkeypatch.setattr(cls, "create_line", spy)
    yield seen


def _logger(line_format: LineFormat, level: EventLevel) -> tuple[dbt_logger._Logger, io.StringIO]:
    out = io.StringIO()
    config = LoggerConfig(
        name=f"medspa-test-{line_format.value}-{level.value}",
        line_format=line_format,
        level=level,
        output_stream=out,
    )
    cls = dbt_logger._JsonLogger if line_format == LineFormat.Json else dbt_logger._TextLogger
    return cls(config), out


@pytest.mark.parametrize("line_format", [LineFormat.Json, LineFormat.PlainText])
def test_debug_lines_of_an_info_logger_are_not_formatted_and_the_rest_is_written(
    formatted: list[str], line_format: LineFormat
) -> None:
    logger, out = _logger(line_format, EventLevel.INFO)
    for text, level in (("quiet", EventLevel.DEBUG), ("said", EventLevel.INFO)):
        logger.write_line(msg_from_base_event(Note(msg=text), level=level))
    logger.write_line(msg_from_base_event(PrintEvent(msg="printed")))  # always written
    assert formatted == ["said", "printed"]
    written = out.getvalue()
    assert "said" in written and "printed" in written and "quiet" not in written


def test_a_debug_logger_still_writes_debug_lines(formatted: list[str]) -> None:
    logger, out = _logger(LineFormat.PlainText, EventLevel.DEBUG)
    logger.write_line(msg_from_base_event(Note(msg="statement"), level=EventLevel.DEBUG))
    assert formatted == ["statement"]
    assert "statement" in out.getvalue()


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The events dbt's event manager turned into messages, with the event skip installed."""
    from dbt_common.events import event_manager

    monkeypatch.setattr(
        event_manager.EventManager, "fire_event", event_manager.EventManager.fire_event
    )
    monkeypatch.setattr(
        event_manager.EventManager, "_medspa_skips_unwritten_events", False, raising=False
    )
    skip_unwritten_events()
    skip_unwritten_events()  # idempotent
    seen: list[str] = []
    convert = event_manager.msg_from_base_event

    def spy(event, level=None):  # type: ignore[no-untyped-def]
        seen.append(event.msg)
        return convert(event, level=level)

    monkeypatch.setattr(event_manager, "msg_from_base_event", spy)
    yield seen


def _manager(level: EventLevel) -> tuple[EventManager, io.StringIO]:
    out = io.StringIO()
    manager = EventManager()
    manager.add_logger(
        LoggerConfig(
            name=f"medspa-test-manager-{level.value}",
            line_format=LineFormat.PlainText,
            level=level,
            output_stream=out,
        )
    )
    return manager, out


def test_a_debug_event_nobody_writes_is_dropped_before_its_message_is_built(
    converted: list[str],
) -> None:
    manager, out = _manager(EventLevel.INFO)
    manager.add_callback(track_behavior_change_warn)  # dbt's own: hears only a warning
    manager.fire_event(Note(msg="statement"), level=EventLevel.DEBUG)
    manager.fire_event(Note(msg="model done"), level=EventLevel.INFO)
    assert converted == ["model done"]
    assert "model done" in out.getvalue() and "statement" not in out.getvalue()


def test_a_debug_logger_or_a_listening_callback_still_gets_every_debug_event(
    converted: list[str],
) -> None:
    manager, out = _manager(EventLevel.DEBUG)
    manager.fire_event(Note(msg="written"), level=EventLevel.DEBUG)
    assert "written" in out.getvalue()

    heard: list[str] = []
    listened, quiet_out = _manager(EventLevel.INFO)
    listened.add_callback(lambda msg: heard.append(msg.info.msg))
    listened.fire_event(Note(msg="heard"), level=EventLevel.DEBUG)
    assert heard == ["heard"]
    assert converted == ["written", "heard"]
    assert "heard" not in quiet_out.getvalue()
