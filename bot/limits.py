"""Limits on what one message may make the bot do or say, so that no member can stall
everyone else or make the bot post something the homeserver refuses (64 KB per event).

- A message longer than `MAX_MESSAGE_CHARS` is not read: the member is told so. The
  longest thing a command stores (an announcement's text, 4 000 characters) fits with its
  command around it.
- Any piece of user or data text put in a message is cut to `MAX_TEXT_CHARS`
  (`bot.formatting.Rich.text`); what a member typed, echoed back in an error, to
  `MAX_ECHO_CHARS` (`bot.errors.UserError`: its parameters are mostly what was typed; the
  other ones, such as the configured territories offered as choices, are shorter).
- Each member has a command budget (`MemberRate`): bursts pass, floods do not."""

from __future__ import annotations

from collections import OrderedDict

MAX_MESSAGE_CHARS = 5_000
MAX_TEXT_CHARS = 4_000
MAX_ECHO_CHARS = 300
ELLIPSIS = "…"


def cut(text: str, limit: int) -> str:
    """`text`, or its first characters and « … » when longer than `limit`."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


# Commands a member may send at once, and how fast they may go on: a burst of 60 is
# answered whole (queued, not dropped); only a sustained flood is held back. Counted
# when the member sent them (the homeserver's timestamps), so commands sent while the
# bot was down are not taken for a flood when it handles them all at its restart.
COMMAND_BURST = 60
COMMANDS_PER_SECOND = 0.5
TRACKED_MEMBERS = 10_000  # the least recently seen are forgotten (their bucket was full)


class MemberRate:
    """A token bucket per member: each command takes a token, tokens come back at
    `per_second` up to `burst`. A member who runs out is told once, and paused until half
    the budget is back (their commands meanwhile are dropped): a flood meets one short
    answer, not one per command."""

    def __init__(
        self, burst: int = COMMAND_BURST, per_second: float = COMMANDS_PER_SECOND, size: int = TRACKED_MEMBERS
    ) -> None:
        self.burst, self.per_second, self.size = burst, per_second, size
        self.resume = burst / 2
        self._buckets: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()  # tokens, at, paused

    def take(self, member: str, now: float) -> tuple[bool, float | None]:
        """Whether the member's command may run; when not, the seconds until they may
        again, or None when they were told already."""
        tokens, at, paused = self._buckets.pop(member, (float(self.burst), now, False))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.per_second)
        now = max(now, at)  # a command back-filled after a later one
        if paused and tokens < self.resume:
            self._remember(member, (tokens, now, True))
            return False, None
        if tokens >= 1:
            self._remember(member, (tokens - 1, now, False))
            return True, None
        self._remember(member, (tokens, now, True))
        return False, (self.resume - tokens) / self.per_second

    def _remember(self, member: str, bucket: tuple[float, float, bool]) -> None:
        self._buckets[member] = bucket
        while len(self._buckets) > self.size:
            self._buckets.popitem(last=False)
