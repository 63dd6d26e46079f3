"""Typed command arguments: read from the handler's signature, converted, or refused with
a `BadArgument` carrying a catalog key."""

from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import Any, Literal, cast

import pytest

from bot.arguments import ArgType, MatrixUser, Param, Rest, build_params, parse_arguments
from bot.context import Context
from bot.errors import BadArgument, UserError
from bot.i18n import default_catalog

# The built-in converters do not look at the context; a missing argument is named in
# the member's language.
CTX = cast(Context, SimpleNamespace(tr=default_catalog().translator("fr")))


class Mood(enum.Enum):
    GOOD = "bien"
    TIRED = "fatigué"


def parse(handler: Any, text: str) -> dict[str, Any]:
    return parse_arguments(build_params(handler), text, CTX)


def bad(handler: Any, text: str) -> BadArgument:
    with pytest.raises(BadArgument) as info:
        parse(handler, text)
    return info.value


# --- declarations ------------------------------------------------------------------


async def everything(
    ctx: Context,
    word: str,
    number: int,
    lang: Literal["fr", "en"],
    mood: Mood,
    who: MatrixUser,
    count: int = 3,
    texte: Rest = "",
) -> None: ...


def test_parameters_read_from_the_signature() -> None:
    params = build_params(everything)
    assert [p.name for p in params] == ["word", "number", "lang", "mood", "who", "count", "texte"]
    assert [p.required for p in params] == [True, True, True, True, True, False, False]
    assert [p.greedy for p in params] == [False] * 6 + [True]
    assert params[2].choices == ("fr", "en")
    assert params[3].choices == ("bien", "fatigué")
    assert params[4].label == "personne"  # MatrixUser's usage label
    assert params[5].default == 3
    assert params[6].default == ""


def test_context_parameter_is_skipped_whatever_its_name() -> None:
    async def handler(c: Context, n: int) -> None: ...

    assert [p.name for p in build_params(handler)] == ["n"]


def test_unsupported_type_is_refused_at_declaration() -> None:
    async def handler(ctx: Context, ratio: float) -> None: ...

    with pytest.raises(TypeError, match="ratio"):
        build_params(handler)


def test_optional_annotation_with_none_default() -> None:
    async def handler(ctx: Context, n: int | None = None) -> None: ...

    (param,) = build_params(handler)
    assert not param.required and param.default is None
    assert parse(handler, "") == {"n": None}
    assert parse(handler, "7") == {"n": 7}


def test_unannotated_parameter_is_a_word() -> None:
    async def handler(ctx, word):  # type: ignore[no-untyped-def]
        ...

    assert parse(handler, "bonjour") == {"word": "bonjour"}


# --- values -----------------------------------------------------------------------


def test_all_types_together() -> None:
    values = parse(everything, '"un mot" 12 FR Bien @alice:example.org 5 la suite « citée »')
    assert values == {
        "word": "un mot",
        "number": 12,
        "lang": "fr",
        "mood": Mood.GOOD,
        "who": "@alice:example.org",
        "count": 5,
        "texte": "la suite « citée »",
    }
    assert isinstance(values["who"], MatrixUser)


def test_defaults_fill_missing_optional_arguments() -> None:
    values = parse(everything, "mot 1 en bien @a:b")
    assert values["count"] == 3
    assert values["texte"] == ""


def test_str_takes_one_word_or_a_quoted_group() -> None:
    async def handler(ctx: Context, a: str, b: str) -> None: ...

    assert parse(handler, "un deux") == {"a": "un", "b": "deux"}
    assert parse(handler, "« un deux » trois") == {"a": "un deux", "b": "trois"}
    assert parse(handler, "“un” “deux trois”") == {"a": "un", "b": "deux trois"}
    assert parse(handler, "l'eau d'ici") == {"a": "l'eau", "b": "d'ici"}


def test_rest_keeps_the_line_as_typed() -> None:
    async def handler(ctx: Context, texte: Rest) -> None: ...

    assert parse(handler, "  Un  titre | une description  ") == {"texte": "Un  titre | une description"}


@pytest.mark.parametrize(("raw", "value"), [("42", 42), ("#42", 42), ("-3", -3), ("0", 0)])
def test_int(raw: str, value: int) -> None:
    async def handler(ctx: Context, n: int) -> None: ...

    assert parse(handler, raw) == {"n": value}


@pytest.mark.parametrize("raw", ["douze", "1.5", "12a", "#"])
def test_int_refused(raw: str) -> None:
    async def handler(ctx: Context, n: int) -> None: ...

    err = bad(handler, raw)
    assert err.key == "args.not_integer"
    assert err.params == {"value": raw}


@pytest.mark.parametrize("raw", ["fr", "FR", "Fr", " en "])
def test_literal_ignores_case(raw: str) -> None:
    async def handler(ctx: Context, langue: Literal["fr", "en"]) -> None: ...

    assert parse(handler, raw) == {"langue": raw.strip().lower()}


def test_literal_ignores_accents_and_returns_the_declared_value() -> None:
    async def handler(ctx: Context, qui: Literal["élève", "prof"]) -> None: ...

    assert parse(handler, "ELEVE") == {"qui": "élève"}
    assert parse(handler, "Élève") == {"qui": "élève"}


def test_literal_refused_lists_the_choices() -> None:
    async def handler(ctx: Context, langue: Literal["fr", "en"]) -> None: ...

    err = bad(handler, "de")
    assert err.key == "args.not_choice"
    assert err.params == {"value": "de", "choices": "fr, en"}


def test_enum_by_value_accent_insensitive() -> None:
    async def handler(ctx: Context, mood: Mood) -> None: ...

    assert parse(handler, "FATIGUE") == {"mood": Mood.TIRED}
    err = bad(handler, "joyeux")
    assert err.key == "args.not_choice"
    assert err.params["choices"] == "bien, fatigué"


@pytest.mark.parametrize(
    "raw", ["@alice:example.org", "@alice:example.org,", "@bob.x_y:matrix.example.org:8448"]
)
def test_matrix_user(raw: str) -> None:
    async def handler(ctx: Context, who: MatrixUser) -> None: ...

    assert parse(handler, raw)["who"] == raw.rstrip(",")


@pytest.mark.parametrize("raw", ["alice", "@alice", "alice:example.org", "#salon:example.org"])
def test_matrix_user_refused(raw: str) -> None:
    async def handler(ctx: Context, who: MatrixUser) -> None: ...

    err = bad(handler, raw)
    assert err.key == "args.not_user"
    assert err.params == {"value": raw}


class Words(list[str], ArgType):
    """A feature's own argument type (module level: annotations are resolved by name)."""

    greedy = True
    label = "texte"

    @classmethod
    def parse(cls, raw: str, ctx: Context) -> Words:
        if "interdit" in raw:
            raise BadArgument("test.forbidden", value=raw)
        return cls(raw.split())


def test_custom_arg_type_reads_itself_and_can_be_greedy() -> None:
    async def handler(ctx: Context, n: int, words: Words) -> None: ...

    params = build_params(handler)
    assert params[1].greedy and params[1].label == "texte"
    assert parse(handler, "2 un deux trois") == {"n": 2, "words": ["un", "deux", "trois"]}
    assert bad(handler, "2 mot interdit").key == "test.forbidden"


# --- missing and extra ------------------------------------------------------------


def test_missing_required_argument_names_its_label() -> None:
    err = bad(everything, "mot 12")
    assert err.key == "args.missing"
    assert err.params == {"name": "lang"}


def test_missing_matrix_user_uses_the_type_label() -> None:
    async def handler(ctx: Context, qui: MatrixUser) -> None: ...

    err = bad(handler, "")
    assert err.key == "args.missing"
    assert err.params == {"name": "personne"}


def test_missing_argument_is_named_as_the_usage_shows_it() -> None:
    async def handler(ctx: Context, id: int) -> None: ...

    assert build_params(handler)[0].usage(default_catalog().translator("fr")) == "<numéro>"
    assert bad(handler, "").params == {"name": "numéro"}  # not « id »


def test_too_many_arguments() -> None:
    async def handler(ctx: Context, n: int) -> None: ...

    err = bad(handler, "3 et puis « encore »")
    assert err.key == "args.too_many"
    assert err.params == {"extra": "et puis « encore »"}


def test_no_arguments_declared() -> None:
    async def handler(ctx: Context) -> None: ...

    assert parse(handler, "  ") == {}
    assert bad(handler, "quelque chose").key == "args.too_many"


def test_bad_argument_is_a_user_error() -> None:
    assert issubclass(BadArgument, UserError)


# --- usage labels -----------------------------------------------------------------


def test_usage_of_each_parameter() -> None:
    tr = default_catalog().translator("fr")
    by_name: dict[str, Param] = {p.name: p for p in build_params(everything)}
    assert by_name["word"].usage(tr) == "<word>"
    assert by_name["lang"].usage(tr) == "<fr|en>"
    assert by_name["who"].usage(tr) == "<personne>"  # translated label
    assert by_name["count"].usage(tr) == "[count]"
    assert by_name["texte"].usage(tr) == "[texte]"
    en = default_catalog().translator("en")
    assert by_name["who"].usage(en) == "<person>"
    assert by_name["texte"].usage(en) == "[text]"


async def count_then_text(ctx: Context, n: int = 1, texte: Rest = "") -> None:
    """An optional number before free text."""


def test_optional_argument_that_does_not_fit_leaves_the_words_to_the_next() -> None:
    assert parse(count_then_text, "3 bonjour à tous") == {"n": 3, "texte": "bonjour à tous"}
    assert parse(count_then_text, "bonjour à tous") == {"n": 1, "texte": "bonjour à tous"}


async def only_optional_number(ctx: Context, n: int = 1) -> None:
    """The last parameter: a bad value is still an error."""


def test_last_optional_argument_that_does_not_fit_is_an_error() -> None:
    assert bad(only_optional_number, "douze").key == "args.not_integer"
