"""Log lines: readable text or one JSON object per line; secrets masked in both."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import MASK, JsonFormatter, TextFormatter, hide


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("bot.test", logging.INFO, __file__, 1, msg, args, None)
    for k, v in extra.items():
        setattr(rec, k, v)
    return rec


def test_json_lines_carry_level_logger_message_and_extra_fields() -> None:
    line = JsonFormatter().format(record("joined %s", "!room:x", room_id="!room:x", n=3))
    data = json.loads(line)
    assert data["level"] == "INFO" and data["logger"] == "bot.test"
    assert data["message"] == "joined !room:x"
    assert data["room_id"] == "!room:x" and data["n"] == 3
    assert data["time"].endswith("Z")


def test_an_exception_is_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        rec = logging.LogRecord(
            "bot.test", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info()
        )
    line = JsonFormatter().format(rec)
    assert "\n" not in line and "ValueError: boom" in json.loads(line)["exception"]


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()])
def test_secrets_are_masked(formatter: logging.Formatter) -> None:
    hide("syt_c2VjcmV0_token_value", None, "")
    line = formatter.format(record("request failed: Bearer %s", "syt_c2VjcmV0_token_value"))
    assert "syt_c2VjcmV0_token_value" not in line and MASK in line
