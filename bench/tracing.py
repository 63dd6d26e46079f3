"""Run a bot with timestamps around each step of a `!ping` (for `roundtrip.py --trace`).

    python bench/tracing.py OUT.jsonl oasis run --config oasis-bot.toml
    python bench/tracing.py OUT.jsonl echo --homeserver URL --user-id @echo:hs

Wraps matrix-nio (both bots) and, for oasis-bot, the sync loop, the dispatcher and the
sender, then runs the bot as usual. For every sync that brings a `!ping` it records
`time.perf_counter()` (CLOCK_MONOTONIC, so comparable with the measuring process) at each
step, keyed by the ping's event id, and writes one JSON line per ping at exit:

- `http`: the sync's HTTP response arrived (headers; the body is read while parsing)
- `parsed`: nio built the `SyncResponse` (JSON, schema validation, event objects)
- `received`: nio updated its room state (for the echo bot this includes the callbacks,
  so its `send_*` come before `received`)
- oasis-bot only: `collected` (events filtered), `stored` (inbox + token committed),
  `handle_start`/`handle_end` (the unit of work: handler, outbox row, done mark, commit),
  `deliver_start` (the sender picked the row up), `delivered` (marked sent, committed)
- `send_start`/`send_end`: the answer's `PUT /send` (Synapse accepted it at `send_end`)
- `spans`: seconds spent in named steps inside the handling unit (`locale`, `route`,
  `claim` — or `is_done` + `mark_done` before it —, `commit`), and `sender_due` (the
  sender's outbox query)."""

from __future__ import annotations

import atexit
import contextvars
import functools
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import nio  # noqa: E402

now = time.perf_counter
_records: dict[str, dict[str, Any]] = {}
_order: list[str] = []
_current: list[str] = []  # the last ping seen (pings come one at a time)
_in_handle: contextvars.ContextVar[str | None] = contextvars.ContextVar("in_handle", default=None)
_out: Path | None = None


def _mark(name: str, event_id: str | None = None) -> None:
    key = event_id or (_current[-1] if _current else None)
    if key is None or key not in _records:
        return
    record = _records[key]
    if name not in record:
        record[name] = now()


def _span(name: str, seconds: float, event_id: str | None = None) -> None:
    key = event_id or (_current[-1] if _current else None)
    if key is None or key not in _records:
        return
    spans = _records[key].setdefault("spans", {})
    spans[name] = spans.get(name, 0.0) + seconds


def _dump() -> None:
    if _out is None:
        return
    with _out.open("w") as f:
        for key in _order:
            f.write(json.dumps({"event_id": key, **_records[key]}) + "\n")


def _wrap_async(
    owner: Any, name: str, before: Callable[..., None] | None, after: Callable[..., None] | None
) -> None:
    original: Callable[..., Awaitable[Any]] = getattr(owner, name)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before(*args, **kwargs)
        result = await original(*args, **kwargs)
        if after is not None:
            after(result, *args, **kwargs)
        return result

    setattr(owner, name, wrapper)


def _timed(owner: Any, name: str, span: str) -> None:
    """Add the time spent in `owner.name` to the current handling unit's spans."""
    original: Callable[..., Awaitable[Any]] = getattr(owner, name)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        event_id = _in_handle.get()
        started = now()
        try:
            return await original(*args, **kwargs)
        finally:
            if event_id is not None:
                _span(span, now() - started, event_id)

    setattr(owner, name, wrapper)


# --- nio, for both bots ---------------------------------------------------------------


def _patch_nio() -> None:
    client = nio.AsyncClient
    http_done: dict[int, float] = {}

    original_send = client.send

    async def send(self: Any, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        result = await original_send(self, method, path, *args, **kwargs)
        if "/sync" in path:
            http_done[id(self)] = now()
        return result

    client.send = send

    original_create = client.create_matrix_response

    async def create_matrix_response(self: Any, response_class: type, *args: Any, **kwargs: Any) -> Any:
        resp = await original_create(self, response_class, *args, **kwargs)
        if isinstance(resp, nio.SyncResponse):
            parsed = now()
            for info in resp.rooms.join.values():
                for event in info.timeline.events:
                    source = getattr(event, "source", {}) or {}
                    body = (source.get("content") or {}).get("body")
                    if body == "!ping" and source.get("sender") != self.user_id and source.get("event_id"):
                        key = source["event_id"]
                        _records[key] = {"http": http_done.get(id(self), parsed), "parsed": parsed}
                        _order.append(key)
                        _current.append(key)
        return resp

    client.create_matrix_response = create_matrix_response

    def after_receive(result: Any, self: Any, response: Any) -> None:
        if isinstance(response, nio.SyncResponse):
            _mark("received")

    _wrap_async(client, "receive_response", None, after_receive)
    _wrap_async(
        client,
        "room_send",
        lambda *a, **k: _mark("send_start"),
        lambda *a, **k: _mark("send_end"),
    )


# --- oasis-bot ------------------------------------------------------------------------


def _patch_oasis() -> None:
    from bot.context import Services
    from bot.dispatch import Dispatcher
    from bot.sending import Sender
    from bot.sync import SyncLoop
    from storage.repositories.inbox import InboxRepository
    from storage.repositories.outbox import OutboxRepository
    from storage.unit import Repos

    _wrap_async(SyncLoop, "_collect", None, lambda *a, **k: _mark("collected"))
    _wrap_async(SyncLoop, "_store", None, lambda *a, **k: _mark("stored"))

    original_handle = Dispatcher.handle

    async def handle(self: Any, event: dict[str, Any]) -> None:
        event_id = event.get("event_id")
        _mark("handle_start", event_id)
        token = _in_handle.set(event_id)
        try:
            await original_handle(self, event)
        finally:
            _in_handle.reset(token)
            _mark("handle_end", event_id)

    Dispatcher.handle = handle  # type: ignore[method-assign]
    _timed(InboxRepository, "is_done", "is_done")
    _timed(InboxRepository, "claim", "claim")
    _timed(Services, "locale_of", "locale")
    _timed(Dispatcher, "_route", "route")
    _timed(InboxRepository, "mark_done", "mark_done")
    _timed(Repos, "commit", "commit")

    original_due = OutboxRepository.due

    async def due(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = now()
        rows = await original_due(self, *args, **kwargs)
        if rows:
            _span("sender_due", now() - started)
        return rows

    OutboxRepository.due = due  # type: ignore[method-assign]

    def reply_to(row: Any) -> str | None:
        relates = (getattr(row, "content", None) or {}).get("m.relates_to") or {}
        return (relates.get("m.in_reply_to") or {}).get("event_id")

    original_deliver = Sender._deliver

    async def deliver(self: Any, row: Any) -> None:
        event_id = reply_to(row)
        _mark("deliver_start", event_id)
        await original_deliver(self, row)
        _mark("delivered", event_id)

    Sender._deliver = deliver  # type: ignore[method-assign]


def main() -> None:
    global _out
    _out = Path(sys.argv[1])
    which = sys.argv[2]
    rest = sys.argv[3:]
    atexit.register(_dump)
    _patch_nio()
    if which == "oasis":
        _patch_oasis()
        from bot.cli import main as cli_main

        sys.exit(cli_main(rest))
    elif which == "echo":

        def stop(*_: Any) -> None:
            _dump()
            os._exit(0)

        signal.signal(signal.SIGTERM, stop)
        sys.argv = [str(ROOT / "bench" / "echo_bot.py"), *rest]
        sys.path.insert(0, str(ROOT / "bench"))
        import echo_bot

        echo_bot.main()
    else:
        raise SystemExit(f"unknown bot {which!r}: oasis or echo")


if __name__ == "__main__":
    main()
