"""The process's running figures, kept as plain numbers (no dependency, nearly free):
commands by outcome, handling times, how late events are handled, when the last sync
came back. `bot.health` serves them to Prometheus when a port is configured.

They belong to the process, not to one run of the app: a standby that takes over, steps
down and takes over again keeps counting, as Prometheus counters must."""

from __future__ import annotations

import bisect
import time
from collections import Counter
from dataclasses import dataclass, field

# Seconds. Handling a command takes milliseconds; an event handled late waited for a
# restart, an outage or a takeover.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)

UNKNOWN_COMMAND = "(inconnue)"


@dataclass
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)  # per bucket, not cumulative; last: +Inf
    total: float = 0.0
    n: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def cumulative(self) -> list[tuple[str, int]]:
        out, running = [], 0
        for bound, count in zip((*map(str, self.buckets), "+Inf"), self.counts, strict=True):
            running += count
            out.append((bound, running))
        return out


@dataclass
class Stats:
    # (command path, outcome) → count; outcome: ok, refused (a clear answer: bad
    # argument, not allowed…), failed (an unexpected error), retried (homeserver away).
    commands: Counter[tuple[str, str]] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)  # by event type
    duration: Histogram = field(default_factory=lambda: Histogram(DURATION_BUCKETS))
    lag: Histogram = field(default_factory=lambda: Histogram(LAG_BUCKETS))
    last_sync: float | None = None  # time.monotonic() of the last sync that came back
    syncs: int = 0

    def handled(
        self, event_type: str, command: str | None, outcome: str, seconds: float, origin_ts: int
    ) -> None:
        self.events[event_type] += 1
        self.duration.observe(seconds)
        if origin_ts:
            self.lag.observe(max(0.0, time.time() - origin_ts / 1000))
        if command is not None:
            self.commands[(command, outcome)] += 1

    def synced(self) -> None:
        self.last_sync = time.monotonic()
        self.syncs += 1

    def sync_age(self) -> float | None:
        return None if self.last_sync is None else time.monotonic() - self.last_sync


STATS = Stats()
