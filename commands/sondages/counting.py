"""Counting votes by MSC3381's rules, and the scores of the pulse scales.

- a person's **latest** response (by the homeserver's timestamp) is their vote, even when
  it is invalid;
- selections beyond `max_selections` are cut first; then, if any is not an answer of the
  poll, the vote is **spoiled** (it counts as no answer);
- an empty list takes the vote back; an answer repeated counts once;
- responses timestamped after the end are ignored, as if never sent.

A vote is kept as a bit mask of the answers chosen (bit i: the answer at position i)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Vote:
    choices: int  # bit mask; 0: no answer (taken back, or spoiled)
    spoiled: bool


def read_selections(selections: Sequence[str] | None, answer_ids: Sequence[str], max_selections: int) -> Vote:
    """A response's selections as a vote."""
    if selections is None:
        return Vote(0, True)
    positions = {aid: i for i, aid in enumerate(answer_ids)}
    mask = 0
    for selection in list(selections)[: max(1, max_selections)]:
        index = positions.get(selection)
        if index is None:
            return Vote(0, True)
        mask |= 1 << index
    return Vote(mask, False)


def chosen(mask: int) -> list[int]:
    """The positions set in a mask, in order."""
    out = []
    index = 0
    while mask:
        if mask & 1:
            out.append(index)
        mask >>= 1
        index += 1
    return out


def mask_of(positions: Iterable[int]) -> int:
    mask = 0
    for p in positions:
        mask |= 1 << p
    return mask


@dataclass(frozen=True)
class TimedVote:
    voter: str
    origin_ts: int
    vote: Vote


def latest_votes(responses: Iterable[TimedVote], end_ts: int | None = None) -> dict[str, Vote]:
    """Each voter's vote: their latest response at or before `end_ts` (ties: the one
    handled last)."""
    latest: dict[str, TimedVote] = {}
    for r in responses:
        if end_ts is not None and r.origin_ts > end_ts:
            continue
        kept = latest.get(r.voter)
        if kept is None or r.origin_ts >= kept.origin_ts:
            latest[r.voter] = r
    return {voter: r.vote for voter, r in latest.items()}


@dataclass(frozen=True)
class Tally:
    counts: tuple[int, ...]  # per answer, in the poll's order
    respondents: int  # people whose vote counts

    def share(self, index: int) -> float:
        """The part of the respondents who chose this answer (0..1)."""
        return self.counts[index] / self.respondents if self.respondents else 0.0

    @property
    def leaders(self) -> list[int]:
        top = max(self.counts, default=0)
        return [i for i, n in enumerate(self.counts) if n == top and top > 0]


def tally(masks: Mapping[int, int], answer_count: int) -> Tally:
    """From « how many people chose each combination » to counts per answer."""
    counts = [0] * answer_count
    respondents = 0
    for mask, people in masks.items():
        if mask == 0 or people <= 0:
            continue
        respondents += people
        for index in chosen(mask):
            if index < answer_count:
                counts[index] += people
    return Tally(tuple(counts), respondents)


def tally_votes(votes: Iterable[Vote], answer_count: int) -> Tally:
    masks: dict[int, int] = {}
    for v in votes:
        masks[v.choices] = masks.get(v.choices, 0) + 1
    return tally(masks, answer_count)


# --- pulse scales -------------------------------------------------------------------------
PULSE = "pouls"  # « Le réseau vous a-t-il été utile ? », 1 to 5
NPS = "nps"  # « Recommanderiez-vous le réseau ? », 0 to 10
SCALE_SIZES = {PULSE: 5, NPS: 11}


def scale_values(kind: str) -> list[int] | None:
    """The value of each answer of a scale survey, in order (None: not a scale)."""
    if kind == PULSE:
        return [1, 2, 3, 4, 5]
    if kind == NPS:
        return list(range(11))
    return None


def mean_score(counts: Sequence[int], values: Sequence[int]) -> float | None:
    total = sum(counts)
    if not total:
        return None
    return sum(n * v for n, v in zip(counts, values, strict=True)) / total


def net_promoter_score(counts: Sequence[int]) -> int | None:
    """NPS from the counts of 0…10: % of 9–10 minus % of 0–6, rounded (−100…100)."""
    total = sum(counts)
    if not total:
        return None
    promoters = sum(counts[9:11])
    detractors = sum(counts[0:7])
    return round(100 * (promoters - detractors) / total)
