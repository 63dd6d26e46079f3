"""Poll events built and read in both MSC3381 forms, and the MSC's counting rules."""

from __future__ import annotations

import pytest

from commands.sondages.anonymity import is_pseudonym, may_show, new_key, pseudonym
from commands.sondages.counting import (
    NPS,
    PULSE,
    TimedVote,
    Vote,
    chosen,
    latest_votes,
    mask_of,
    mean_score,
    net_promoter_score,
    read_selections,
    scale_values,
    tally,
    tally_votes,
)
from commands.sondages.polls import (
    RESPONSE_TYPES,
    STABLE_RESPONSE,
    UNSTABLE_END,
    UNSTABLE_RESPONSE,
    UNSTABLE_START,
    UNSTABLE_TEXT,
    answer_ids,
    end_content,
    parse_response,
    parse_start,
    response_content,
    stable_start_content,
    start_content,
)

IDS = answer_ids(3)


def test_start_is_the_unstable_form_element_renders() -> None:
    content = start_content(
        "Question ?", ["A", "B"], max_selections=1, disclosed=True, fallback="Question ?\n1. A\n2. B"
    )
    assert content == {
        UNSTABLE_TEXT: "Question ?\n1. A\n2. B",
        UNSTABLE_START: {
            "kind": "org.matrix.msc3381.poll.disclosed",
            "max_selections": 1,
            "question": {UNSTABLE_TEXT: "Question ?", "body": "Question ?", "msgtype": "m.text"},
            "answers": [{"id": "a1", UNSTABLE_TEXT: "A"}, {"id": "a2", UNSTABLE_TEXT: "B"}],
        },
    }
    hidden = start_content("Q", ["A", "B", "C"], max_selections=9, disclosed=False, fallback="Q")
    assert hidden[UNSTABLE_START]["kind"] == "org.matrix.msc3381.poll.undisclosed"
    assert hidden[UNSTABLE_START]["max_selections"] == 3  # never more than the answers
    with pytest.raises(ValueError):
        start_content("Q", [f"r{i}" for i in range(21)], max_selections=1, disclosed=True, fallback="Q")


@pytest.mark.parametrize("build", [start_content, stable_start_content])
def test_both_start_forms_read_back(build) -> None:  # type: ignore[no-untyped-def]
    content = build("Où ?", ["Toulouse", "Montpellier"], max_selections=2, disclosed=False, fallback="Où ?…")
    poll = parse_start(content)
    assert poll is not None
    assert poll.question == "Où ?"
    assert poll.answers == [("a1", "Toulouse"), ("a2", "Montpellier")]
    assert (poll.max_selections, poll.disclosed, poll.fallback) == (2, False, "Où ?…")
    assert parse_start({"body": "no poll"}) is None


def test_end_refers_to_the_start() -> None:
    assert end_content("$start", "Sondage clos") == {
        "m.relates_to": {"rel_type": "m.reference", "event_id": "$start"},
        UNSTABLE_END: {},
        UNSTABLE_TEXT: "Sondage clos",
    }


def event(content: dict[str, object], etype: str = UNSTABLE_RESPONSE, ts: int = 5) -> dict[str, object]:
    return {"type": etype, "sender": "@bob:x", "origin_server_ts": ts, "content": content, "event_id": "$r"}


def test_responses_read_in_both_forms() -> None:
    # Exactly what Element sends.
    element = event(
        {
            "m.relates_to": {"rel_type": "m.reference", "event_id": "$poll"},
            UNSTABLE_RESPONSE: {"answers": ["a2"]},
        }
    )
    got = parse_response(element)
    assert got is not None
    assert (got.poll_event_id, got.selections, got.origin_ts, got.sender) == ("$poll", ["a2"], 5, "@bob:x")
    stable = parse_response(event(response_content("$poll", ["a1", "a3"], stable=True), STABLE_RESPONSE))
    assert stable is not None and stable.selections == ["a1", "a3"]
    assert response_content("$p", ["a1"]) == {
        "m.relates_to": {"rel_type": "m.reference", "event_id": "$p"},
        UNSTABLE_RESPONSE: {"answers": ["a1"]},
    }
    # Unreadable selections: still a response (it spoils the vote).
    broken = parse_response(event({"m.relates_to": {"rel_type": "m.reference", "event_id": "$p"}}))
    assert broken is not None and broken.selections is None
    bad_type = parse_response(
        event({"m.relates_to": {"rel_type": "m.reference", "event_id": "$p"}, "m.selections": [1]})
    )
    assert bad_type is not None and bad_type.selections is None
    # No reference to a poll, or another event type: not a response.
    assert parse_response(event({UNSTABLE_RESPONSE: {"answers": ["a1"]}})) is None
    assert parse_response(event(response_content("$p", ["a1"]), "m.room.message")) is None
    assert set(RESPONSE_TYPES) == {UNSTABLE_RESPONSE, STABLE_RESPONSE}


def test_selections_by_the_msc_rules() -> None:
    assert read_selections(["a2"], IDS, 1) == Vote(0b010, False)
    assert read_selections([], IDS, 1) == Vote(0, False)  # taken back
    assert read_selections(["a9"], IDS, 1) == Vote(0, True)  # unknown answer: spoiled
    assert read_selections(["a1", "a2"], IDS, 1) == Vote(0b001, False)  # cut to max_selections
    assert read_selections(["a1", "a9"], IDS, 1) == Vote(0b001, False)  # cut before checking
    assert read_selections(["a1", "a9"], IDS, 2) == Vote(0, True)
    assert read_selections(["a3", "a3"], IDS, 2) == Vote(0b100, False)  # repeated: once
    assert read_selections(None, IDS, 1) == Vote(0, True)
    assert chosen(0b101) == [0, 2] and mask_of([0, 2]) == 0b101


def test_latest_response_counts_and_after_the_end_is_ignored() -> None:
    a, b, c = "@a:x", "@b:x", "@c:x"
    responses = [
        TimedVote(a, 10, Vote(0b001, False)),
        TimedVote(a, 30, Vote(0b010, False)),  # changed
        TimedVote(a, 20, Vote(0b100, False)),  # older, arrives later: ignored
        TimedVote(b, 10, Vote(0b001, False)),
        TimedVote(b, 50, Vote(0b100, False)),  # after the end: as if never sent
        TimedVote(c, 10, Vote(0b001, False)),
        TimedVote(c, 20, Vote(0, True)),  # latest is spoiled: c has no vote
    ]
    votes = latest_votes(responses, end_ts=40)
    assert votes == {a: Vote(0b010, False), b: Vote(0b001, False), c: Vote(0, True)}
    result = tally_votes(votes.values(), 3)
    assert result.counts == (1, 1, 0) and result.respondents == 2
    assert result.share(0) == 0.5 and result.leaders == [0, 1]
    assert latest_votes(responses)[b] == Vote(0b100, False)  # no end yet


def test_tally_from_masks() -> None:
    result = tally({0b011: 2, 0b100: 1, 0: 5}, 3)
    assert result.counts == (2, 2, 1) and result.respondents == 3
    assert tally({}, 2).counts == (0, 0) and tally({}, 2).share(0) == 0.0


def test_pulse_scores() -> None:
    assert scale_values(PULSE) == [1, 2, 3, 4, 5] and scale_values("question") is None
    assert scale_values(NPS) == list(range(11))
    assert mean_score([0, 0, 1, 2, 1], [1, 2, 3, 4, 5]) == 4.0
    assert mean_score([0] * 5, [1, 2, 3, 4, 5]) is None
    # 2 promoters (9, 10), 1 passive (8), 1 detractor (3): (2 - 1) / 4 = +25.
    counts = [0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1]
    assert net_promoter_score(counts) == 25
    assert net_promoter_score([0] * 11) is None


def test_pseudonyms_are_keyed_and_per_survey() -> None:
    key, other = new_key(), new_key()
    assert key != other and len(key) == 32
    alice = pseudonym(key, "@alice:x")
    assert alice == pseudonym(key, "@alice:x") and is_pseudonym(alice)
    assert alice != pseudonym(key, "@bob:x") and alice != pseudonym(other, "@alice:x")
    assert "alice" not in alice and not is_pseudonym("@alice:x")
    assert not may_show(4, 5) and may_show(5, 5) and may_show(1, 0)
