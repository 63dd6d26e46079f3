"""Logging for the process: one line per record, readable text or JSON (`[logging]
format`), at the configured level.

What the bot logs at INFO and above names rooms, people and event ids, never what people
wrote, and never a secret: the password, the access tokens and keys registered with
`hide` are masked in every line as a last guard."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

MASK = "***"
_secrets: set[str] = set()

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def hide(*values: str | None) -> None:
    """Never let these strings reach a log line (secrets learnt at run time)."""
    for value in values:
        if value and len(value) >= 6:  # a short one would mask ordinary words
            _secrets.add(value)


def _masked(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return _masked(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the
    exception if any, and the record's `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return _masked(json.dumps(out, ensure_ascii=False))


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # nio logs every rate-limit sleep and timeout at WARNING; we log our own summary.
    logging.getLogger("nio").setLevel(logging.ERROR)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiohttp's access log would name every scrape of /metrics.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
