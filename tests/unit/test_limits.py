"""Limits on what one message may make the bot do or say (`bot.limits`)."""

from __future__ import annotations

from bot.errors import UserError
from bot.formatting import Rich, code
from bot.limits import MAX_ECHO_CHARS, MAX_TEXT_CHARS, MemberRate, cut


def test_cut() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("abcd", 3) == "ab…"
    assert len(cut("z" * 5000, 300)) == 300


def test_every_piece_of_text_in_a_message_is_bounded() -> None:
    piece = Rich.text("<" * 10_000)
    assert len(piece.plain) == MAX_TEXT_CHARS and piece.plain.endswith("…")
    assert piece.html.startswith("&lt;") and "<" not in piece.html


def test_errors_cut_what_the_member_typed() -> None:
    err = UserError("general.aide.unknown", command="z" * 5000, wrapped=code("y" * 5000), n=5000)
    assert len(err.params["command"]) == MAX_ECHO_CHARS
    assert len(err.params["wrapped"].plain) == MAX_ECHO_CHARS
    assert err.params["n"] == 5000
    short = UserError("x", value="Ariège (09) · Aude (11)")
    assert short.params["value"] == "Ariège (09) · Aude (11)"


def test_a_burst_passes_a_flood_is_told_once_and_paused() -> None:
    rate = MemberRate(burst=30, per_second=0.5)
    now = 1000.0
    assert all(rate.take("@alice:x", now)[0] for _ in range(30))  # a burst of 30: all pass
    assert rate.take("@alice:x", now) == (False, 30.0)  # told: half the budget back in 30 s
    assert rate.take("@alice:x", now + 1) == (False, None)  # not told again
    assert rate.take("@alice:x", now + 20)[0] is False  # 10 tokens back: still paused
    assert rate.take("@bob:x", now + 20) == (True, None)  # others are not affected
    assert rate.take("@alice:x", now + 31) == (True, None)  # 15.5 tokens: resumed
    assert sum(rate.take("@alice:x", now + 31)[0] for _ in range(20)) == 14


def test_members_tracked_are_bounded() -> None:
    rate = MemberRate(size=100)
    for i in range(1000):
        rate.take(f"@m{i}:x", 0.0)
    assert len(rate._buckets) == 100
