"""Step-by-step forms in a direct chat: one question at a time, each answer validated,
`passer` to skip, `annuler` to stop. The state is a database row, so a conversation
survives a restart of the bot.

A feature declares a form beside its code:

    ONBOARDING = form(
        "profil.onboarding",
        questions=[Question("structure", "profil.ask.structure", parse=parse_structure), ...],
        on_complete=save_profile,
    )

and starts it with `await start_form(ctx, "profil.onboarding")`."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.context import Reply
from bot.errors import UserError
from bot.formatting import Rich
from bot.text import fold

if TYPE_CHECKING:
    from bot.context import Context
    from storage.models.runtime import Conversation

Parser = Callable[[str, "Context", dict[str, Any]], Any]
Default = Callable[["Context", dict[str, Any]], Any]
Completion = Callable[["Context", dict[str, Any]], Awaitable[Reply | Rich | None]]


@dataclass(frozen=True)
class Question:
    name: str
    prompt_key: str  # the question; may use {default} when a default exists
    parse: Parser = lambda raw, ctx, data: raw.strip()
    optional: bool = True  # `passer` allowed
    default: Default | None = None  # proposed value, used on `passer`
    ask_if: Callable[[dict[str, Any]], bool] | None = None  # skip when False
    display: Callable[[Any], str] | None = None  # how to show a default
    params: Callable[[Context, dict[str, Any]], dict[str, Any]] | None = None  # for the prompt


@dataclass(frozen=True)
class Form:
    name: str
    questions: list[Question]
    on_complete: Completion
    intro_key: str | None = None
    cancelled_key: str = "conversation.cancelled"
    on_cancel: Completion | None = None


FORMS: dict[str, Form] = {}


def form(
    name: str,
    *,
    questions: list[Question],
    on_complete: Completion,
    intro_key: str | None = None,
    cancelled_key: str = "conversation.cancelled",
    on_cancel: Completion | None = None,
) -> Form:
    if name in FORMS:
        raise ValueError(f"form {name!r} declared twice")
    declared = Form(name, questions, on_complete, intro_key, cancelled_key, on_cancel)
    FORMS[name] = declared
    return declared


def _matches(text: str, words: list[str]) -> bool:
    return fold(text.strip().rstrip(".!")) in {fold(w) for w in words}


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    return await result if inspect.isawaitable(result) else result


async def start_form(
    ctx: Context, name: str, data: dict[str, Any] | None = None, *, user_id: str | None = None
) -> None:
    """Begin a form with `user_id` (default: the sender) in their direct chat. Replaces
    any conversation they had going."""
    target = user_id or ctx.sender
    if target != ctx.sender:
        # Someone else's form (e.g. a newcomer's): their language, their direct chat.
        locale = await ctx.services.locale_of(ctx.repos, target)
        ctx = replace(ctx, sender=target, locale=locale, is_direct=False, room_id="", event_id=None)
    f = FORMS[name]
    row = await ctx.repos.conversations.start(
        target, ctx.room_id if ctx.is_direct else "", name, dict(data or {})
    )
    parts: list[Rich] = []
    if f.intro_key:
        parts.append(ctx.rich(f.intro_key))
    question = await _next_question(ctx, f, row.data, 0)
    if question is None:
        await _finish(ctx, f, row)
        return
    step, prompt = question
    await ctx.repos.conversations.save(row, step, row.data)
    parts.append(prompt)
    await _say(ctx, target, parts)


async def _say(ctx: Context, user_id: str, parts: list[Rich]) -> None:
    rich = parts[0]
    for p in parts[1:]:
        rich = rich + Rich("\n\n", "<br><br>") + p
    await _send_to(ctx, user_id, Reply(rich=rich))


async def _send_to(ctx: Context, user_id: str, reply: Reply) -> None:
    """In the direct chat the member is typing in, or else in their direct chat."""
    if ctx.is_direct and user_id == ctx.sender:
        await ctx.send(reply)
    else:
        await ctx.send(reply, to_user=user_id)


async def _next_question(ctx: Context, f: Form, data: dict[str, Any], start: int) -> tuple[int, Rich] | None:
    for step in range(start, len(f.questions)):
        q = f.questions[step]
        if q.ask_if is not None and not q.ask_if(data):
            continue
        default = await _call(q.default, ctx, data) if q.default else None
        shown = q.display(default) if (q.display and default is not None) else default
        extra = q.params(ctx, data) if q.params else {}
        prompt = ctx.rich(q.prompt_key, **{"default": shown if shown is not None else "", **extra})
        hint_key = "conversation.hint_default" if default not in (None, "", []) else "conversation.hint"
        hint = ctx.rich(
            hint_key, default=shown if shown is not None else "", step=step + 1, total=len(f.questions)
        )
        if not q.optional:
            hint = ctx.rich("conversation.hint_required", step=step + 1, total=len(f.questions))
        return step, prompt + Rich("\n", "<br>") + hint
    return None


async def _finish(ctx: Context, f: Form, row: Conversation) -> None:
    data = dict(row.data)
    await ctx.repos.conversations.end(row.user_id)
    result = await f.on_complete(ctx, data)
    if result is not None:
        await _send_to(ctx, row.user_id, result if isinstance(result, Reply) else Reply(rich=result))


async def answer(ctx: Context, row: Conversation, text: str) -> None:
    """Feed a message of the member into their conversation."""
    f = FORMS.get(row.form)
    if f is None:  # a form removed by an upgrade: drop the conversation quietly
        await ctx.repos.conversations.end(row.user_id)
        return
    if _matches(text, ctx.tr.list("conversation.cancel_words")):
        await ctx.repos.conversations.end(row.user_id)
        result = await f.on_cancel(ctx, dict(row.data)) if f.on_cancel else None
        await ctx.send(result if isinstance(result, Reply) else Reply(f.cancelled_key))
        return
    step = min(row.step, len(f.questions) - 1)
    q = f.questions[step]
    data = dict(row.data)
    if _matches(text, ctx.tr.list("conversation.skip_words")):
        if not q.optional:
            await ctx.send(Reply("conversation.cannot_skip"))
            return
        default = await _call(q.default, ctx, data) if q.default else None
        if default is not None:
            data[q.name] = default
    else:
        try:
            data[q.name] = await _call(q.parse, text, ctx, data)
        except UserError as err:
            retry = ctx.rich(err.key, **err.params) + Rich("\n", "<br>") + ctx.rich("conversation.retry")
            await ctx.send(Reply(rich=retry))
            return
    question = await _next_question(ctx, f, data, step + 1)
    if question is None:
        await ctx.repos.conversations.save(row, len(f.questions), data)
        await _finish(ctx, f, row)
        return
    next_step, prompt = question
    await ctx.repos.conversations.save(row, next_step, data)
    await ctx.send(Reply(rich=prompt))
