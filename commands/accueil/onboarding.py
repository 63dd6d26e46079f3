"""The newcomer's onboarding, in a direct chat: their directory profile, one question at a
time, each answer read by the same parsers as `!profil` (so an error reads the same
everywhere). A profile imported from the contact book is shown first, to confirm or
correct. The conversation is a database row: it survives a restart of the bot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.context import Context, Reply
from bot.conversations import Question, form, start_form
from bot.errors import UserError
from bot.formatting import Rich, bullets, code, lines
from commands.annuaire.fields import DirectoryConfig, field_named, parse_visibility, yes_or_no
from commands.annuaire.service import save_answers
from storage.models.directory import Profile

PROFILE_FORM = "accueil.profil"
CORRECT_FORM = "accueil.corriger"
CONFIRM_FORM = "accueil.confirmer"

# The questions, in order: the answer's key in the form's data → the Profile attribute.
ATTRS: dict[str, str] = {
    "structure": "structure",
    "type": "kind",
    "fonction": "role",
    "territoire": "territories",
    "competences": "tags",
    "presentation": "bio",
}


def directory(ctx: Context) -> DirectoryConfig:
    return ctx.config.section(DirectoryConfig)


async def offer(ctx: Context, user_id: str) -> bool:
    """Open the onboarding with a newcomer, unless they already have a confirmed profile
    or a conversation going with the bot. True if it was opened."""
    profile = await ctx.repos.profiles.get(user_id)
    if profile is not None and not profile.pending:
        return False
    if await ctx.repos.conversations.get(user_id) is not None:
        return False
    if profile is not None:
        await start_form(ctx, CONFIRM_FORM, {"current": current_values(profile)}, user_id=user_id)
    else:
        await start_form(ctx, PROFILE_FORM, {}, user_id=user_id)
    return True


def current_values(profile: Profile) -> dict[str, Any]:
    values = {key: getattr(profile, attr) for key, attr in ATTRS.items()}
    return {k: v for k, v in values.items() if v not in (None, "", [])}


# --- questions --------------------------------------------------------------------------------------
def _parser(field: str) -> Callable[[str, Context, dict[str, Any]], Any]:
    found = field_named(field)
    assert found is not None, field

    def parse(raw: str, ctx: Context, data: dict[str, Any]) -> Any:
        return found.parse(raw, directory(ctx))

    return parse


def _current(key: str) -> Callable[[Context, dict[str, Any]], Any]:
    def default(ctx: Context, data: dict[str, Any]) -> Any:
        return (data.get("current") or {}).get(key)

    return default


def _shown(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


def _kinds(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return {"options": " · ".join(directory(ctx).kinds)}


def _territories(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    return {"options": " · ".join(directory(ctx).territories)}


def _visibility(raw: str, ctx: Context, data: dict[str, Any]) -> bool:
    return parse_visibility(raw, directory(ctx))


def _yes_no(raw: str, ctx: Context, data: dict[str, Any]) -> bool:
    answer = yes_or_no(raw)
    if answer is None:
        raise UserError("accueil.onboarding.errors.yes_no", value=raw.strip())
    return answer


def _field(key: str, field: str, **extra: Any) -> Question:
    return Question(
        key,
        f"accueil.onboarding.ask.{key}",
        parse=_parser(field),
        default=_current(key),
        display=_shown,
        **extra,
    )


QUESTIONS = [
    _field("structure", "structure"),
    _field("type", "type", params=_kinds),
    _field("fonction", "fonction"),
    _field("territoire", "territoire", params=_territories),
    _field("competences", "competences"),
    _field("presentation", "presentation"),
    Question("visible", "accueil.onboarding.ask.visible", parse=_visibility),
]


# --- completion ----------------------------------------------------------------------------------------
async def save_profile(ctx: Context, data: dict[str, Any]) -> Reply:
    """Write the answers to the member's profile (confirmed, visible if they said so) and
    say what was saved and how to change it."""
    values = {attr: data.get(key) for key, attr in ATTRS.items()}
    profile = await save_answers(ctx, values, visible=bool(data.get("visible", False)))
    return Reply(rich=summary(ctx, profile))


def summary(ctx: Context, profile: Profile) -> Rich:
    items: list[Rich] = []
    for key, attr in ATTRS.items():
        value = getattr(profile, attr)
        if value not in (None, "", []):
            items.append(ctx.rich(f"accueil.onboarding.fields.{key}", value=_shown(value)))
    parts: list[Rich] = [ctx.rich("accueil.onboarding.saved")]
    if items:
        parts.append(bullets(items))
    else:
        parts.append(ctx.rich("accueil.onboarding.saved_empty"))
    parts.append(ctx.rich("accueil.onboarding.visible" if profile.visible else "accueil.onboarding.hidden"))
    parts.append(
        ctx.rich(
            "accueil.onboarding.how_to_change",
            edit=code(f"{ctx.prefix}profil <champ> <valeur>"),
            example=code(f"{ctx.prefix}profil territoire 31"),
            show=code(f"{ctx.prefix}profil"),
            search=code(f"{ctx.prefix}annuaire"),
        )
    )
    return lines(parts)


async def cancelled(ctx: Context, data: dict[str, Any]) -> Reply:
    return Reply("accueil.onboarding.cancelled", profile=code(f"{ctx.prefix}profil"))


PROFILE = form(
    PROFILE_FORM,
    intro_key="accueil.onboarding.intro",
    questions=QUESTIONS,
    on_complete=save_profile,
    on_cancel=cancelled,
)
# The same questions, the imported values proposed as defaults (« passer » keeps them).
CORRECT = form(
    CORRECT_FORM,
    intro_key="accueil.onboarding.correct_intro",
    questions=QUESTIONS,
    on_complete=save_profile,
    on_cancel=cancelled,
)


# --- an imported profile: confirm it, or correct it -------------------------------------------------
def _imported(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    current = data.get("current") or {}
    items = [
        ctx.rich(f"accueil.onboarding.fields.{key}", value=_shown(current[key]))
        for key in ATTRS
        if key in current
    ]
    return {"profile": bullets(items) if items else ctx.rich("accueil.onboarding.saved_empty")}


async def confirmed(ctx: Context, data: dict[str, Any]) -> Reply | None:
    if not data.get("confirme"):
        await start_form(ctx, CORRECT_FORM, {"current": data.get("current") or {}}, user_id=ctx.sender)
        return None
    return await save_profile(ctx, {"visible": data.get("visible", False)})


CONFIRM = form(
    CONFIRM_FORM,
    intro_key="accueil.onboarding.confirm_intro",
    questions=[
        Question(
            "confirme", "accueil.onboarding.ask.confirme", parse=_yes_no, optional=False, params=_imported
        ),
        Question(
            "visible",
            "accueil.onboarding.ask.visible",
            parse=_visibility,
            ask_if=lambda data: bool(data.get("confirme")),
        ),
    ],
    on_complete=confirmed,
    on_cancel=cancelled,
)
