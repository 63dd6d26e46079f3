"""The command registry: names, aliases, subcommands, suggestions and usage, all from the
declarations (on a private registry, never the global one)."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from bot.arguments import MatrixUser, Rest
from bot.context import Context
from bot.i18n import Translator, default_catalog
from bot.registry import REGISTRY, Command, MemberChange, Registry, command
from bot.roles import Role


@pytest.fixture
def registry() -> Registry:
    reg = Registry()

    @command("annuaire", aliases=["directory", "annu"], help="annuaire.help", registry=reg)
    async def search(ctx: Context, recherche: Rest = "") -> str:
        return f"search:{recherche}"

    @search.sub("suite", aliases=["more"], help="annuaire.suite.help")
    async def more(ctx: Context, page: int = 2) -> str:
        return f"more:{page}"

    @command("événement", aliases=["event"], help="evenements.help", registry=reg, role=Role.ANIMATOR)
    async def event(ctx: Context, id: int, qui: MatrixUser, note: str = "") -> None: ...

    @event.sub("créer", help="evenements.creer.help", role=Role.ADMIN)
    async def create(ctx: Context, titre: Rest) -> None: ...

    @command("langue", aliases=["language"], help="langue.help", registry=reg, feature="general")
    async def lang(ctx: Context, langue: Literal["fr", "en"] | None = None) -> None: ...

    @command("secret", help="secret.help", registry=reg, hidden=True)
    async def secret(ctx: Context) -> None: ...

    return reg


@pytest.fixture
def fr() -> Translator:
    return default_catalog().translator("fr")


def cmd(registry: Registry, name: str) -> Command:
    found = registry.find(name)
    assert found is not None, name
    return found


# --- finding ----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["annuaire", "ANNUAIRE", "Annuaire", "directory", "Directory", "annu"])
def test_find_by_name_or_alias_ignoring_case(registry: Registry, typed: str) -> None:
    assert cmd(registry, typed).name == "annuaire"


@pytest.mark.parametrize("typed", ["événement", "evenement", "EVENEMENT", "évènement", "Event"])
def test_find_ignoring_accents(registry: Registry, typed: str) -> None:
    assert cmd(registry, typed).name == "événement"


def test_unknown_name(registry: Registry) -> None:
    assert registry.find("inconnu") is None
    assert registry.find("") is None


def test_unique_commands_lists_each_command_once(registry: Registry) -> None:
    names = sorted(c.name for c in registry.unique_commands())
    assert names == ["annuaire", "langue", "secret", "événement"]


def test_declaration_details(registry: Registry) -> None:
    event = cmd(registry, "event")
    assert event.names == ("événement", "event")
    assert event.role is Role.ANIMATOR
    assert event.help_key == "evenements.help"
    assert event.examples_key == "evenements.examples"
    assert event.feature == "test_registry"  # the module that declared it
    assert cmd(registry, "langue").feature == "general"  # or as given
    assert cmd(registry, "secret").hidden


async def test_command_object_calls_its_handler(registry: Registry) -> None:
    search = cmd(registry, "annuaire")
    ctx: Any = None
    assert await search(ctx, recherche="x") == "search:x"


# --- subcommands ------------------------------------------------------------------


def test_subcommands_by_name_and_alias_accent_insensitive(registry: Registry) -> None:
    search = cmd(registry, "annuaire")
    more = search.find_sub("suite")
    assert more is not None
    assert search.find_sub("SUITE") is more
    assert search.find_sub("more") is more
    assert search.find_sub("autre") is None
    event = cmd(registry, "événement")
    create = event.find_sub("creer")
    assert create is not None and event.find_sub("Créer") is create


def test_subcommand_inherits_feature_and_role_unless_given(registry: Registry) -> None:
    search = cmd(registry, "annuaire")
    more = search.find_sub("suite")
    assert more is not None
    assert more.parent is search
    assert more.path == "annuaire suite"
    assert more.role is Role.MEMBER
    assert more.feature == search.feature
    create = cmd(registry, "événement").find_sub("créer")
    assert create is not None and create.role is Role.ADMIN


def test_subcommand_default_help_key(registry: Registry) -> None:
    search = cmd(registry, "annuaire")

    @search.sub("précédent")
    async def previous(ctx: Context) -> None: ...

    assert previous.help_key == "annuaire.precedent.help"
    assert [s.name for s in search.unique_subcommands()] == ["suite", "précédent"]


# --- duplicates -------------------------------------------------------------------


def test_duplicate_command_name_is_refused(registry: Registry) -> None:
    with pytest.raises(ValueError, match="declared twice"):

        @command("Annuaire", help="x.help", registry=registry)
        async def again(ctx: Context) -> None: ...


def test_duplicate_folded_name_is_refused(registry: Registry) -> None:
    with pytest.raises(ValueError, match="declared twice"):

        @command("evenement", help="x.help", registry=registry)
        async def again(ctx: Context) -> None: ...


def test_alias_clashing_with_a_name_is_refused_and_registers_nothing(registry: Registry) -> None:
    with pytest.raises(ValueError, match="annu"):

        @command("autre", aliases=["annu"], help="x.help", registry=registry)
        async def other(ctx: Context) -> None: ...

    assert registry.find("autre") is None
    assert registry.find("annu") is not None and cmd(registry, "annu").name == "annuaire"


def test_duplicate_subcommand_is_refused_and_registers_nothing(registry: Registry) -> None:
    search = cmd(registry, "annuaire")
    with pytest.raises(ValueError, match="declared twice"):

        @search.sub("page", aliases=["More"])
        async def page(ctx: Context) -> None: ...

    assert search.find_sub("page") is None
    assert [s.name for s in search.unique_subcommands()] == ["suite"]


def test_same_name_in_two_registries_is_fine() -> None:
    a, b = Registry(), Registry()
    for reg in (a, b):

        @command("ping", help="ping.help", registry=reg)
        async def ping(ctx: Context) -> None: ...

    assert a.find("ping") is not b.find("ping")


def test_private_registry_leaves_the_global_one_alone(registry: Registry) -> None:
    assert REGISTRY.find("annuaire") is not cmd(registry, "annuaire")
    assert REGISTRY.find("secret") is None


# --- suggestions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("anuaire", "annuaire"),  # a letter missing
        ("annuiare", "annuaire"),  # a transposition
        ("ANUAIRE", "annuaire"),
        ("evenment", "événement"),
        ("evenemnt", "événement"),
        ("even", "événement"),  # a prefix
        ("langeu", "langue"),
        ("directry", "annuaire"),  # near an alias: the primary name is suggested
        ("languag", "langue"),
    ],
)
def test_suggest_nearest_command(registry: Registry, typed: str, expected: str) -> None:
    assert registry.suggest(typed) == expected


@pytest.mark.parametrize("typed", ["zzz", "bonjour", "x", "secre"])
def test_no_suggestion_when_nothing_is_near_or_hidden(registry: Registry, typed: str) -> None:
    assert registry.suggest(typed) is None


# --- usage ------------------------------------------------------------------------


def test_usage_from_declarations(registry: Registry, fr: Translator) -> None:
    assert cmd(registry, "annuaire").usage(fr) == "!annuaire [recherche]"
    assert cmd(registry, "événement").usage(fr) == "!événement <numéro> <personne> [note]"
    assert cmd(registry, "langue").usage(fr, prefix="/") == "/langue [fr|en]"
    assert cmd(registry, "secret").usage(fr) == "!secret"
    more = cmd(registry, "annuaire").find_sub("suite")
    assert more is not None and more.usage(fr) == "!annuaire suite [page]"
    create = cmd(registry, "événement").find_sub("créer")
    assert create is not None and create.usage(fr) == "!événement créer <titre>"


def test_usage_labels_follow_the_language(registry: Registry) -> None:
    en = default_catalog().translator("en")
    assert cmd(registry, "événement").usage(en) == "!événement <number> <person> [note]"


# --- event types ------------------------------------------------------------------


def test_wanted_event_types_follow_the_hooks() -> None:
    reg = Registry()
    assert reg.wanted_event_types() == {"m.room.message", "m.room.encrypted"}

    async def hook(ctx: Context, change: MemberChange) -> None: ...

    reg.member_hooks.append(hook)
    reg.event_hooks["org.matrix.msc3381.poll.response"] = []
    assert reg.wanted_event_types() == {
        "m.room.message",
        "m.room.encrypted",
        "m.room.member",
        "org.matrix.msc3381.poll.response",
    }


def test_member_change_real_join_and_leave() -> None:
    def change(membership: str, prev: str | None) -> MemberChange:
        return MemberChange("!r:x", "@a:x", "@a:x", membership, prev, None, None, "$e", 0)

    assert change("join", None).is_join
    assert change("join", "invite").is_join
    assert change("join", "leave").is_join
    assert not change("join", "join").is_join  # a display name change
    assert change("leave", "join").is_leave
    assert change("ban", "join").is_leave
    assert not change("leave", "invite").is_leave  # an invite declined
