"""The one registry of commands, event hooks and personal-data sources.

Features declare everything beside their code:

    @command("annuaire", aliases=["directory"], help="annuaire.help")
    async def search(ctx: Context, query: SearchQuery) -> Reply: ...

    @search.sub("suite", help="annuaire.suite.help")
    async def more(ctx: Context) -> Reply: ...

    @on_member
    async def welcome(ctx: Context, change: MemberChange) -> None: ...

The runtime dispatches to them; `!aide` and usage text are generated from the same
declarations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.arguments import Param, build_params
from bot.roles import Role
from bot.text import closest, fold

if TYPE_CHECKING:
    from bot.context import Context
    from bot.digest_sections import DigestSection
    from bot.i18n import Translator
    from bot.indicators import Indicator
    from storage.unit import Repos

Handler = Callable[..., Awaitable[Any]]


@dataclass(eq=False)
class Command:
    name: str
    aliases: tuple[str, ...]
    help_key: str
    role: Role
    feature: str
    handler: Handler
    params: list[Param]
    parent: Command | None = None
    subcommands: dict[str, Command] = field(default_factory=dict)
    hidden: bool = False
    direct_only: bool = False

    async def __call__(self, ctx: Context, *args: Any, **kwargs: Any) -> Any:
        return await self.handler(ctx, *args, **kwargs)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def path(self) -> str:
        return f"{self.parent.path} {self.name}" if self.parent else self.name

    @property
    def examples_key(self) -> str:
        base = self.help_key.removesuffix(".help")
        return f"{base}.examples"

    def sub(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        help: str | None = None,
        role: Role | None = None,
        hidden: bool = False,
    ) -> Callable[[Handler], Command]:
        """Declare a subcommand: `!signal retenir 12` → the `retenir` handler."""

        def register(handler: Handler) -> Command:
            cmd = Command(
                name=name,
                aliases=tuple(aliases),
                help_key=help or f"{self.help_key.removesuffix('.help')}.{fold(name)}.help",
                role=self.role if role is None else role,
                feature=self.feature,
                handler=handler,
                params=build_params(handler),
                parent=self,
                hidden=hidden,
                direct_only=self.direct_only,
            )
            # Check every name before registering any, so a refused declaration leaves
            # nothing half-registered.
            for n in cmd.names:
                if fold(n) in self.subcommands:
                    raise ValueError(f"subcommand {n!r} of {self.name!r} declared twice")
            for n in cmd.names:
                self.subcommands[fold(n)] = cmd
            return cmd

        return register

    def find_sub(self, word: str) -> Command | None:
        return self.subcommands.get(fold(word))

    def unique_subcommands(self) -> list[Command]:
        seen: list[Command] = []
        for cmd in self.subcommands.values():
            if cmd not in seen:
                seen.append(cmd)
        return seen

    def usage(self, tr: Translator, prefix: str = "!") -> str:
        args = " ".join(p.usage(tr) for p in self.params)
        return f"{prefix}{self.path}" + (f" {args}" if args else "")


@dataclass(frozen=True)
class MemberChange:
    """A change of someone's membership in a room (from `m.room.member`)."""

    room_id: str
    user_id: str
    sender: str
    membership: str
    prev_membership: str | None
    display_name: str | None
    prev_display_name: str | None
    event_id: str
    origin_ts: int

    @property
    def is_join(self) -> bool:
        """A real arrival: display-name or avatar changes are join → join."""
        return self.membership == "join" and self.prev_membership != "join"

    @property
    def is_leave(self) -> bool:
        return self.membership in ("leave", "ban") and self.prev_membership == "join"


@dataclass(frozen=True)
class Reaction:
    room_id: str
    sender: str
    event_id: str  # the reaction event itself (its redaction removes it)
    target: str  # the event reacted to
    key: str
    origin_ts: int


@dataclass(frozen=True)
class Redaction:
    room_id: str
    sender: str
    event_id: str
    redacts: str
    origin_ts: int


class PersonalDataSource(Protocol):
    """A feature's share of a member's personal data (RGPD): it can export it and erase
    it. `name` is also the catalog key suffix used to describe it (`donnees.<name>`)."""

    name: str

    async def export(self, repos: Repos, user_id: str) -> Any: ...

    async def erase(self, repos: Repos, user_id: str) -> int: ...


MemberHook = Callable[["Context", MemberChange], Awaitable[None]]
ReactionHook = Callable[["Context", Reaction], Awaitable[None]]
RedactionHook = Callable[["Context", Redaction], Awaitable[None]]
EventHook = Callable[["Context", dict[str, Any]], Awaitable[None]]


@dataclass
class Registry:
    commands: dict[str, Command] = field(default_factory=dict)
    member_hooks: list[MemberHook] = field(default_factory=list)
    reaction_hooks: list[ReactionHook] = field(default_factory=list)
    redaction_hooks: list[RedactionHook] = field(default_factory=list)
    event_hooks: dict[str, list[EventHook]] = field(default_factory=dict)
    personal_data: list[PersonalDataSource] = field(default_factory=list)
    # What the features measure, for the evaluation (`bot.indicators`).
    indicators: list[Indicator] = field(default_factory=list)
    # What the features add to the weekly digest (`bot.digest_sections`).
    digest_sections: list[DigestSection] = field(default_factory=list)

    def add(self, cmd: Command) -> None:
        # Check every name before registering any, so a refused declaration leaves
        # nothing half-registered.
        for n in cmd.names:
            key = fold(n)
            if key in self.commands and self.commands[key] is not cmd:
                raise ValueError(f"command name {n!r} declared twice")
        for n in cmd.names:
            self.commands[fold(n)] = cmd

    def find(self, name: str) -> Command | None:
        return self.commands.get(fold(name))

    def unique_commands(self) -> list[Command]:
        seen: dict[int, Command] = {}
        for cmd in self.commands.values():
            seen.setdefault(id(cmd), cmd)
        return list(seen.values())

    def suggest(self, name: str, role: Role = Role.ADMIN) -> str | None:
        """The nearest command name to a mistyped one (primary names first), among the
        commands someone with `role` may use."""
        usable = [c for c in self.unique_commands() if not c.hidden and c.role <= role]
        found = closest(name, [c.name for c in usable])
        if found:
            return found
        alias = closest(name, [a for c in usable for a in c.aliases])
        if alias:
            cmd = self.find(alias)
            return cmd.name if cmd else None
        return None

    def wanted_event_types(self) -> set[str]:
        wanted = {"m.room.message", "m.room.encrypted"}
        if self.member_hooks:
            wanted.add("m.room.member")
        if self.reaction_hooks:
            wanted.add("m.reaction")
        if self.redaction_hooks:
            wanted.add("m.room.redaction")
        wanted.update(self.event_hooks)
        return wanted


REGISTRY = Registry()


def _feature_of(handler: Handler) -> str:
    return handler.__module__.rsplit(".", 1)[-1]


def command(
    name: str,
    *,
    aliases: Iterable[str] = (),
    help: str,
    role: Role = Role.MEMBER,
    feature: str | None = None,
    hidden: bool = False,
    direct_only: bool = False,
    registry: Registry | None = None,
) -> Callable[[Handler], Command]:
    """Declare a command beside its handler."""

    def register(handler: Handler) -> Command:
        cmd = Command(
            name=name,
            aliases=tuple(aliases),
            help_key=help,
            role=role,
            feature=feature or _feature_of(handler),
            handler=handler,
            params=build_params(handler),
            hidden=hidden,
            direct_only=direct_only,
        )
        (registry or REGISTRY).add(cmd)
        return cmd

    return register


def on_member(hook: MemberHook) -> MemberHook:
    REGISTRY.member_hooks.append(hook)
    return hook


def on_reaction(hook: ReactionHook) -> ReactionHook:
    REGISTRY.reaction_hooks.append(hook)
    return hook


def on_redaction(hook: RedactionHook) -> RedactionHook:
    REGISTRY.redaction_hooks.append(hook)
    return hook


def on_event(*event_types: str) -> Callable[[EventHook], EventHook]:
    def register(hook: EventHook) -> EventHook:
        for t in event_types:
            REGISTRY.event_hooks.setdefault(t, []).append(hook)
        return hook

    return register


def personal_data(source: PersonalDataSource) -> PersonalDataSource:
    """Register a feature's personal data for `!mes-donnees` and `!oublier-moi`."""
    REGISTRY.personal_data.append(source)
    return source
