"""The welcome's pure parts: names joined as a sentence says them, the animators' template
checked (with the French message members read) and rendered, groups of rooms, the batch
window, the config section, and the sync loop's cut of a newly joined room's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError
from bot.errors import UserError
from bot.formatting import Rich, user_link
from bot.i18n import default_catalog
from bot.sync import after_own_join
from commands.accueil.config import AccueilConfig
from commands.accueil.groups import group_of
from commands.accueil.service import batch_key, due_at
from commands.accueil.template import check_template, join_names, render_template
from storage.repositories.welcome import PendingGroup
from tests.support.fakes import test_config

FR = default_catalog().translator("fr")


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def error_text(err: UserError) -> str:
    return plain(FR.t(err.key, **err.params))


# --- names -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ([], ""),
        (["Alice"], "Alice"),
        (["Alice", "Bob"], "Alice et Bob"),
        (["Alice", "Bob", "Chloé"], "Alice, Bob et Chloé"),
        (["A", "B", "C", "D", "E"], "A, B, C, D et E"),
    ],
)
def test_names_joined_naturally(names: list[str], expected: str) -> None:
    assert join_names(names, "et").plain == expected


def test_joined_pills_keep_their_links_and_escape_names() -> None:
    joined = join_names([user_link("@a:x", "Alice"), user_link("@b:x", "<Bob>")], "and")
    assert joined.plain == "Alice and <Bob>"
    assert joined.html == (
        '<a href="https://matrix.to/#/@a:x">Alice</a> and <a href="https://matrix.to/#/@b:x">&lt;Bob&gt;</a>'
    )


# --- template ----------------------------------------------------------------------------------
def test_render_fills_placeholders_escapes_text_and_sets_french_spacing() -> None:
    out = render_template(
        "Bienvenue {nom} dans {salon} ! Réseau : {reseau} <3",
        {"nom": user_link("@a:x", "Alice"), "salon": "Veille", "reseau": "OASIS"},
    )
    assert plain(out.plain) == "Bienvenue Alice dans Veille ! Réseau : OASIS <3"
    assert "\u202f!" in out.plain and "\u00a0:" in out.plain
    assert '<a href="https://matrix.to/#/@a:x">Alice</a>' in out.html and "&lt;3" in out.html


def test_placeholders_accept_case_accents_and_english_names() -> None:
    out = render_template(
        "Hi {Name} from {NETWORK} in {room} ({Réseau})", {"nom": "A", "reseau": "N", "salon": "R"}
    )
    assert out.plain == "Hi A from N in R (N)"


def test_english_text_gets_no_french_spacing() -> None:
    assert render_template("Welcome {nom}!", {"nom": "A"}, french=False).plain == "Welcome A!"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Bienvenue {prenom} !",
            "Le champ {prenom} n'existe pas. Champs possibles : {nom}, {reseau}, {salon}.",
        ),
        ("Bienvenue à tous !", "Le message doit contenir {nom}"),
        ("Bienvenue {nom} :-}", "Accolade seule dans le message"),
        ("Bienvenue {nom", "Accolade seule dans le message"),
        ("   ", "Le message d'accueil ne peut pas être vide"),
        ("{nom} " + "x" * 1000, "trop long : 1 006 caractères, 1 000 au plus"),
    ],
)
def test_bad_templates_are_refused_with_a_clear_french_message(text: str, expected: str) -> None:
    with pytest.raises(UserError) as caught:
        check_template(text)
    assert expected in error_text(caught.value)


def test_valid_template_is_stored_trimmed() -> None:
    assert check_template("  Bienvenue {nom} !  ") == "Bienvenue {nom} !"


def test_default_texts_are_valid_templates() -> None:
    for locale in ("fr", "en"):
        tr = default_catalog().translator(locale)
        for key in ("accueil.default", "accueil.default_no_dm"):
            check_template(tr.template(key, {}))


# --- groups ------------------------------------------------------------------------------------
GROUPS = [["!a:x", "#veille:x", "!c:x"], ["!d:x"]]


def test_a_room_in_no_group_is_its_own_group() -> None:
    g = group_of("!z:x", [], GROUPS)
    assert g.key == "!z:x" and g.rooms == {"!z:x"}


def test_rooms_of_a_group_share_its_key_by_id_or_alias() -> None:
    by_id = group_of("!c:x", [], GROUPS, {"!b:x": ["#veille:x"]})
    by_alias = group_of("!b:x", ["#veille:x"], GROUPS)
    assert by_id.key == by_alias.key == "group:!a:x"
    assert by_id.rooms == {"!a:x", "!b:x", "!c:x"}
    assert group_of("!d:x", [], GROUPS).key == "group:!d:x"


def test_a_space_in_a_group_stands_for_its_rooms() -> None:
    # « groups = [["#oasis-espace:x"]] »: the rooms the space lists are one group (the
    # space itself is no room to welcome in); a room the space does not list is alone.
    known = {"!space:x": ["#oasis-espace:x"], "!r1:x": [], "!r2:x": [], "!other:x": []}
    spaces = {"!space:x": ["!r1:x", "!r2:x"]}
    groups = [["#oasis-espace:x"]]
    one = group_of("!r1:x", [], groups, known, spaces)
    two = group_of("!r2:x", [], groups, known, spaces)
    assert one.key == two.key == "group:#oasis-espace:x"
    assert one.rooms == two.rooms == {"!r1:x", "!r2:x"}
    assert group_of("!other:x", [], groups, known, spaces).key == "!other:x"
    # Rooms listed beside the space join the same group.
    mixed = group_of("!other:x", [], [["!space:x", "!other:x"]], known, spaces)
    assert mixed.rooms == {"!r1:x", "!r2:x", "!other:x"}


# --- batching window ---------------------------------------------------------------------------
def test_due_is_a_quiet_time_after_the_last_arrival_capped_after_the_first() -> None:
    t0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    cfg = AccueilConfig(batch_seconds=20, batch_max_seconds=120)
    assert due_at(PendingGroup("g", t0, t0, 1), cfg) == t0 + timedelta(seconds=20)
    assert due_at(PendingGroup("g", t0, t0 + timedelta(seconds=15), 2), cfg) == t0 + timedelta(seconds=35)
    assert due_at(PendingGroup("g", t0, t0 + timedelta(seconds=110), 9), cfg) == t0 + timedelta(seconds=120)


def test_batch_key_names_the_batch_whatever_the_order() -> None:
    assert batch_key("g", "!r", ["@b", "@a"]) == batch_key("g", "!r", ["@a", "@b"])
    assert batch_key("g", "!r", ["@a"]) != batch_key("g", "!r", ["@a", "@b"])


# --- config ------------------------------------------------------------------------------------
def test_config_defaults_and_validation() -> None:
    cfg = test_config().section(AccueilConfig)
    assert cfg.enabled and cfg.dm_onboarding and cfg.batch_seconds == 20 and not cfg.groups
    ok = test_config(
        accueil={"groups": [["!a:x", "#b:x"]], "template": "Salut {nom} !", "moderators_room": "!m:x"}
    )
    assert ok.section(AccueilConfig).groups == [["!a:x", "#b:x"]]
    with pytest.raises(ConfigError) as caught:
        test_config(accueil={"rooms": ["oasis"], "template": "Salut {prenom}", "batch_seconds": -1})
    kinds = {p.error_type for p in caught.value.problems}
    assert {"room_ref", "welcome_template", "greater_than_equal"} <= kinds


# --- the sync loop: history of a room the bot has just joined -----------------------------------
def _member(user: str, membership: str, prev: str | None = None) -> dict[str, object]:
    ev: dict[str, object] = {
        "type": "m.room.member",
        "state_key": user,
        "sender": user,
        "event_id": f"${user}{membership}",
        "content": {"membership": membership},
    }
    if prev:
        ev["unsigned"] = {"prev_content": {"membership": prev}}
    return ev


def test_events_before_the_bots_own_join_are_dropped() -> None:
    old = [_member("@early:x", "join"), {"type": "m.room.message", "event_id": "$old", "sender": "@early:x"}]
    own = _member("@oasis:x", "join", prev="invite")
    new = [_member("@bob:x", "join", prev="invite")]
    assert after_own_join([*old, own, *new], "@oasis:x") == new
    assert after_own_join(new, "@oasis:x") == new
    # The bot changing its own display name (join → join) is no join: nothing is cut.
    rename = _member("@oasis:x", "join", prev="join")
    assert after_own_join([*old, rename, *new], "@oasis:x") == [*old, rename, *new]


def test_rich_is_what_render_returns() -> None:
    assert isinstance(render_template("{nom}", {"nom": "x"}), Rich)
