"""Native Matrix polls (MSC3381): the events the bot sends, and reading those members send.

The bot sends the **unstable** form (`org.matrix.msc3381.poll.*`): Element Web, Element X
and so Tchap send and render it, while Element Web fails to render the final form. It reads
both forms, since a client may send either: responses as `…poll.response` with
`{"answers": [ids]}`, or `m.poll.response` with `m.selections`. nio has no poll classes:
all of them arrive as unknown events, i.e. plain dicts here.

Answer ids are the answers' positions (`a1`, `a2`…): stable, short, and enough to find the
answer without storing a map."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

UNSTABLE_START = "org.matrix.msc3381.poll.start"
UNSTABLE_RESPONSE = "org.matrix.msc3381.poll.response"
UNSTABLE_END = "org.matrix.msc3381.poll.end"
STABLE_START = "m.poll.start"
STABLE_RESPONSE = "m.poll.response"
STABLE_END = "m.poll.end"
RESPONSE_TYPES = (UNSTABLE_RESPONSE, STABLE_RESPONSE)

UNSTABLE_TEXT = "org.matrix.msc1767.text"
DISCLOSED = "org.matrix.msc3381.poll.disclosed"
UNDISCLOSED = "org.matrix.msc3381.poll.undisclosed"
MAX_ANSWERS = 20  # clients truncate longer lists


def answer_id(index: int) -> str:
    """The id of the answer at `index` (0-based)."""
    return f"a{index + 1}"


def answer_ids(count: int) -> list[str]:
    return [answer_id(i) for i in range(count)]


@dataclass(frozen=True)
class PollStart:
    question: str
    answers: list[tuple[str, str]]  # (id, text), in order
    max_selections: int
    disclosed: bool
    fallback: str


def start_content(
    question: str, answers: Sequence[str], *, max_selections: int, disclosed: bool, fallback: str
) -> dict[str, Any]:
    """An `org.matrix.msc3381.poll.start` content (the form Element and Tchap render)."""
    if not 1 <= len(answers) <= MAX_ANSWERS:
        raise ValueError(f"a poll has 1 to {MAX_ANSWERS} answers")
    return {
        UNSTABLE_TEXT: fallback,
        UNSTABLE_START: {
            "kind": DISCLOSED if disclosed else UNDISCLOSED,
            "max_selections": max(1, min(max_selections, len(answers))),
            "question": {UNSTABLE_TEXT: question, "body": question, "msgtype": "m.text"},
            "answers": [{"id": answer_id(i), UNSTABLE_TEXT: text} for i, text in enumerate(answers)],
        },
    }


def stable_start_content(
    question: str, answers: Sequence[str], *, max_selections: int, disclosed: bool, fallback: str
) -> dict[str, Any]:
    """The same poll in the final MSC3381 form (`m.poll.start`), as other clients send it."""
    return {
        "m.text": [{"mimetype": "text/plain", "body": fallback}],
        "m.poll": {
            "kind": "m.disclosed" if disclosed else "m.undisclosed",
            "max_selections": max(1, min(max_selections, len(answers))),
            "question": {"m.text": [{"body": question}]},
            "answers": [{"m.id": answer_id(i), "m.text": [{"body": text}]} for i, text in enumerate(answers)],
        },
    }


def _text_of(block: Any) -> str:
    """The text of an extensible-events text block, in any of its spellings."""
    if isinstance(block, str):
        return block
    if isinstance(block, list):
        for item in block:
            if isinstance(item, dict) and item.get("mimetype", "text/plain") == "text/plain":
                return str(item.get("body", ""))
        return ""
    if isinstance(block, dict):
        for key in (UNSTABLE_TEXT, "m.text", "body"):
            if key in block:
                return _text_of(block[key])
    return ""


def parse_start(content: dict[str, Any]) -> PollStart | None:
    """A poll start in either form; None when the content is no poll."""
    unstable = content.get(UNSTABLE_START)
    poll = unstable if isinstance(unstable, dict) else content.get("m.poll")
    if not isinstance(poll, dict):
        return None
    answers: list[tuple[str, str]] = []
    for item in poll.get("answers") or []:
        if not isinstance(item, dict):
            continue
        aid = item.get("id", item.get("m.id"))
        if isinstance(aid, str):
            answers.append((aid, _text_of(item)))
    if not answers:
        return None
    kind = str(poll.get("kind", ""))
    try:
        max_selections = max(1, int(poll.get("max_selections", 1)))
    except (TypeError, ValueError):
        max_selections = 1
    fallback = _text_of(content.get(UNSTABLE_TEXT, content.get("m.text", "")))
    return PollStart(
        question=_text_of(poll.get("question")),
        answers=answers[:MAX_ANSWERS],
        max_selections=max_selections,
        disclosed=kind in (DISCLOSED, "m.disclosed"),
        fallback=fallback,
    )


def end_content(start_event_id: str, fallback: str) -> dict[str, Any]:
    """An `org.matrix.msc3381.poll.end` closing the poll `start_event_id`."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        UNSTABLE_END: {},
        UNSTABLE_TEXT: fallback,
    }


@dataclass(frozen=True)
class PollResponse:
    poll_event_id: str  # the poll start it answers
    selections: list[str] | None  # None: unreadable, which spoils the vote
    origin_ts: int
    sender: str


def response_content(
    start_event_id: str, selections: Sequence[str], *, stable: bool = False
) -> dict[str, Any]:
    """A poll response as clients send it (Element: the unstable form)."""
    relation = {"rel_type": "m.reference", "event_id": start_event_id}
    if stable:
        return {"m.relates_to": relation, "m.selections": list(selections)}
    return {"m.relates_to": relation, UNSTABLE_RESPONSE: {"answers": list(selections)}}


def _selections(content: dict[str, Any]) -> list[str] | None:
    for holder, key in ((content.get(UNSTABLE_RESPONSE), "answers"), (content, "m.selections")):
        if isinstance(holder, dict) and key in holder:
            value = holder[key]
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return list(value)
            return None
    # An older spelling of the stable form.
    stable = content.get(STABLE_RESPONSE)
    if isinstance(stable, dict) and isinstance(stable.get("answers"), list):
        answers = stable["answers"]
        return list(answers) if all(isinstance(v, str) for v in answers) else None
    return None


def parse_response(event: dict[str, Any]) -> PollResponse | None:
    """A poll response in either form; None when the event answers no poll (no reference
    relation). A response whose selections cannot be read is kept with `selections=None`:
    it is still the person's latest response, and it spoils their vote."""
    if event.get("type") not in RESPONSE_TYPES:
        return None
    content = event.get("content") or {}
    relation = content.get("m.relates_to") or {}
    target = relation.get("event_id")
    if relation.get("rel_type") != "m.reference" or not isinstance(target, str):
        return None
    return PollResponse(
        poll_event_id=target,
        selections=_selections(content),
        origin_ts=int(event.get("origin_server_ts", 0)),
        sender=str(event.get("sender", "")),
    )
