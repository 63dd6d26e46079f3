"""Reading what animators and members type: a survey (question, answers, options) and a
vote's choice.

    !sondage "Question ?" "Réponse A" "Réponse B" --multiple 2 --anonyme --cache
             --fin "vendredi 18h" --pour gouvernance

Options may come anywhere, their names ignore case and accents, and « — » counts as « -- »
(phones turn one into the other). A multi-word value (`--fin vendredi 18h`) runs to the next
option or the end, unless it is quoted. Dates are read later, with the shared grammar."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.errors import UserError
from bot.parsing import Token, tokens
from bot.text import fold
from commands.sondages.polls import MAX_ANSWERS

MAX_QUESTION = 500
MAX_ANSWER = 200
GOVERNANCE = "gouvernance"
ROOM = "salon"

_DASHES = ("--", "—", "–", "−")
# Option names as typed (folded) → their meaning; the first of each is the French name.
_NAMES = {
    "multiple": "multiple",
    "multiples": "multiple",
    "plusieurs": "multiple",
    "anonyme": "anonymous",
    "anonymous": "anonymous",
    "anonymously": "anonymous",
    "cache": "hidden",
    "cachee": "hidden",
    "caches": "hidden",
    "hidden": "hidden",
    "fin": "deadline",
    "jusqua": "deadline",
    "end": "deadline",
    "until": "deadline",
    "pour": "audience",
    "for": "audience",
    "duree": "duration",
    "duration": "duration",
}
_FLAGS = {"anonymous", "hidden"}
_AUDIENCES = {"gouvernance": GOVERNANCE, "governance": GOVERNANCE, "salon": ROOM, "room": ROOM}


@dataclass
class Options:
    multiple: int | None = None  # None: one answer; 0: as many as there are answers
    anonymous: bool = False
    hidden: bool = False
    deadline: str | None = None  # as typed; read with the dates grammar
    audience: str = ROOM
    duration: str | None = None  # as typed (recurring pulses)
    given: set[str] = field(default_factory=set)


@dataclass
class Draft:
    question: str
    answers: list[str]
    options: Options


def _option_name(token: Token) -> str | None:
    """The option a token names (« --fin », « —anonyme »), or None for a plain word."""
    if token.quoted:
        return None
    text = token.text
    for dash in _DASHES:
        if text.startswith(dash) and len(text) > len(dash):
            name = fold(text[len(dash) :]).replace("-", "").replace("'", "")
            meaning = _NAMES.get(name)
            if meaning is None:
                raise UserError("sondages.errors.unknown_option", option=text)
            return meaning
    return None


def split_options(text: str, allowed: frozenset[str] | None = None) -> tuple[list[Token], Options]:
    """The plain words (and quoted groups) and the options of an argument text. Raises
    a UserError for an unknown option, or one this command does not take."""
    parts = tokens(text)
    words: list[Token] = []
    options = Options()
    i = 0
    while i < len(parts):
        name = _option_name(parts[i])
        if name is None:
            words.append(parts[i])
            i += 1
            continue
        if allowed is not None and name not in allowed:
            raise UserError("sondages.errors.option_not_here", option=parts[i].text)
        options.given.add(name)
        i += 1
        if name in _FLAGS:
            setattr(options, name, True)
            continue
        if name == "multiple":
            if i < len(parts) and parts[i].text.isdigit():
                options.multiple = int(parts[i].text)
                i += 1
            else:
                options.multiple = 0
            continue
        # A value: one quoted group, or the words up to the next option.
        value: list[str] = []
        if i < len(parts) and parts[i].quoted:
            value.append(parts[i].text)
            i += 1
        else:
            while i < len(parts) and _option_name(parts[i]) is None:
                value.append(parts[i].text)
                i += 1
        joined = " ".join(value).strip()
        if not joined:
            raise UserError(f"sondages.errors.missing_{name}")
        if name == "audience":
            audience = _AUDIENCES.get(fold(joined))
            if audience is None:
                raise UserError("sondages.errors.bad_audience", value=joined)
            options.audience = audience
        else:
            setattr(options, name, joined)
    return words, options


def parse_survey(text: str) -> Draft:
    """`"Question ?" "A" "B" --options…`. Without quotes, a question ending in « ? »
    is followed by its answers one word each (« !sondage On se voit ? oui non »)."""
    words, options = split_options(
        text, frozenset({"multiple", "anonymous", "hidden", "deadline", "audience"})
    )
    if not words:
        raise UserError("sondages.errors.no_question")
    if words[0].quoted:
        question, answers = words[0].text, [w.text for w in words[1:]]
    else:
        # The question runs to the first word ending in « ? ».
        end = next((i for i, w in enumerate(words) if not w.quoted and w.text.endswith("?")), None)
        if end is None:
            raise UserError("sondages.errors.quote_question")
        question = " ".join(w.text for w in words[: end + 1])
        answers = [w.text for w in words[end + 1 :]]
    question = question.strip()
    answers = [a.strip() for a in answers]
    check_question(question)
    check_answers(answers)
    check_multiple(options, len(answers))
    return Draft(question, answers, options)


def check_question(question: str) -> None:
    if not question:
        raise UserError("sondages.errors.no_question")
    if len(question) > MAX_QUESTION:
        raise UserError("sondages.errors.question_too_long", max=MAX_QUESTION)


def check_answers(answers: list[str]) -> None:
    if any(not a for a in answers):
        raise UserError("sondages.errors.empty_answer")
    if len(answers) < 2:
        raise UserError("sondages.errors.too_few_answers", n=len(answers))
    if len(answers) > MAX_ANSWERS:
        raise UserError("sondages.errors.too_many_answers", n=len(answers), max=MAX_ANSWERS)
    for a in answers:
        if len(a) > MAX_ANSWER:
            raise UserError("sondages.errors.answer_too_long", answer=a[:40] + "…", max=MAX_ANSWER)
    seen: set[str] = set()
    for a in answers:
        key = fold(a)
        if key in seen:
            raise UserError("sondages.errors.duplicate_answer", answer=a)
        seen.add(key)


def check_multiple(options: Options, answer_count: int) -> None:
    if options.multiple is None:
        return
    if options.multiple == 0:
        options.multiple = answer_count
    if not 1 <= options.multiple <= answer_count:
        raise UserError("sondages.errors.bad_multiple", n=options.multiple, max=answer_count)


def max_selections(options: Options) -> int:
    return options.multiple or 1


# --- votes ----------------------------------------------------------------------------------
def survey_number(word: str) -> int | None:
    """« 4 », « #4 », « n°4 », « no4 »: a survey's number."""
    text = fold(word).removeprefix("#").removeprefix("n°").removeprefix("no").removeprefix("n")
    return int(text) if text.isdigit() else None


def split_vote(text: str) -> tuple[int | None, str]:
    """`[n°] <choix>`: the number named first, if there is one before a choice."""
    parts = text.strip().split(maxsplit=1)
    if len(parts) == 2:
        number = survey_number(parts[0])
        if number is not None:
            return number, parts[1]
    return None, text.strip()


def read_choice(text: str, answers: list[str], max_selections: int) -> list[int]:
    """The positions of the answers a member names: an answer's text (case and accents
    ignored; a unique beginning of 3 letters or more is enough) or its number, several
    separated by commas, « et » or « ; » when the survey takes several. Raises a UserError
    saying what was not understood."""
    raw = text.strip()
    if not raw:
        raise UserError("sondages.errors.no_choice")
    folded = [fold(a) for a in answers]
    whole = _one_choice(raw, folded)
    if whole is not None:
        return [whole]
    pieces = [p for p in _split_choices(raw) if p]
    if (
        len(pieces) < 2
        and len(raw.split()) > 1
        and all(_one_choice(w, folded) is not None for w in raw.split())
    ):
        pieces = raw.split()  # « 1 3 »
    picked: list[int] = []
    for piece in pieces:
        index = _one_choice(piece, folded)
        if index is None:
            raise UserError("sondages.errors.unknown_choice", choice=piece, n=len(answers))
        if index not in picked:
            picked.append(index)
    if not picked:
        raise UserError("sondages.errors.no_choice")
    if len(picked) > max_selections:
        raise UserError("sondages.errors.too_many_choices", n=len(picked), max=max_selections)
    return picked


def _split_choices(text: str) -> list[str]:
    out = [text]
    for sep in (",", ";", " et ", " and ", "+"):
        out = [part.strip() for chunk in out for part in chunk.split(sep)]
    return out


def _one_choice(text: str, folded: list[str]) -> int | None:
    key = fold(text.strip().strip("«»\"'").strip())
    if key in folded:  # the text first: « 7 » on a 0–10 scale is the answer « 7 »
        return folded.index(key)
    number = key.removeprefix("#")
    if number.isdigit() and 1 <= int(number) <= len(folded):
        return int(number) - 1
    if len(key) >= 3:
        starting = [i for i, a in enumerate(folded) if a.startswith(key)]
        if len(starting) == 1:
            return starting[0]
    return None
