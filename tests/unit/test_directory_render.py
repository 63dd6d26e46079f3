"""What members read from the directory, in French and English: profile cards, result
lines, counts; member text escaped in HTML; people linked without being notified."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.i18n import Translator, default_catalog
from commands.annuaire import render
from storage.models.directory import Profile

PARIS = ZoneInfo("Europe/Paris")


def tr(locale: str) -> Translator:
    return default_catalog().translator(locale, PARIS)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def camille(**kw: object) -> Profile:
    values: dict[str, object] = {
        "id": 7,
        "user_id": "@camille:example.org",
        "display_name": "Camille M",
        "name": None,
        "structure": "CAF de la Haute-Garonne",
        "kind": "Organisme social",
        "role": "chargée d'innovation",
        "territories": ["Haute-Garonne (31)", "Gers (32)"],
        "tags": ["prospective", "évaluation des politiques", "design"],
        "bio": None,
        "email": "camille@example.org",
        "visible": True,
        "pending": False,
    }
    values.update(kw)
    return Profile(**values)


def test_card_in_french_and_english() -> None:
    fr = render.profile_card(tr("fr"), camille())
    assert plain(fr.plain).split("\n") == [
        "Camille M",
        "Structure : CAF de la Haute-Garonne",
        "Type de structure : Organisme social",
        "Fonction : chargée d'innovation",
        "Territoire : Haute-Garonne (31), Gers (32)",
        "Compétences et sujets : prospective, évaluation des politiques, design",
        "Matrix : @camille:example.org",
    ]
    assert "camille@example.org" not in fr.plain  # others never see the email
    en = render.profile_card(tr("en"), camille())
    assert "Kind of structure: Organisme social" in en.plain and "Skills and topics: prospective" in en.plain


def test_card_links_the_person_without_a_mention_and_escapes_member_text() -> None:
    p = camille(name="<b>Cam</b> & co", structure="<script>alert(1)</script>", bio="a < b")
    card = render.profile_card(tr("fr"), p)
    assert (
        '<a href="https://matrix.to/#/@camille:example.org">&lt;b&gt;Cam&lt;/b&gt; &amp; co</a>' in card.html
    )
    assert "<script>" not in card.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in card.html
    assert "a &lt; b" in card.html
    assert card.plain.startswith("<b>Cam</b> & co")  # the plain body shows the text as typed


def test_own_profile_states_and_hints() -> None:
    fr = tr("fr")
    hidden = plain(
        render.own_profile(
            fr, camille(visible=False, role=None), matrix_name="Camille M", in_direct=False
        ).plain
    )
    assert hidden.startswith("Votre profil\nCamille M\n")
    assert (
        "🔒 Masqué : personne ne vous trouve dans l'annuaire. Pour y apparaître : !profil visible" in hidden
    )
    assert "À compléter : fonction. Par exemple : !profil fonction chargée de mission innovation" in hidden
    assert "Votre nom est celui de votre compte Matrix (Camille M)" in hidden
    assert "camille@example.org" not in hidden  # in a room, the email stays out
    pending = plain(
        render.own_profile(fr, camille(visible=False, pending=True), matrix_name=None, in_direct=True).plain
    )
    assert "pré-rempli à partir du carnet de contacts" in pending and "!profil confirmer" in pending
    assert "E-mail : camille@example.org" in pending  # in a direct chat, all of it
    visible = plain(
        render.own_profile(fr, camille(name="Camille Martin"), matrix_name="Camille M", in_direct=False).plain
    )
    assert "👁 Visible dans l'annuaire" in visible and "À compléter" not in visible
    assert "compte Matrix" not in visible  # the member chose a name
    en = render.own_profile(tr("en"), camille(visible=False), matrix_name=None, in_direct=False).plain
    assert "🔒 Hidden: nobody finds you in the directory. To appear there: !profile visible" in en


def test_result_line_shows_matching_topics() -> None:
    line = render.result_line(tr("fr"), camille(), ["evaluation"], None)
    assert plain(line.plain) == (
        "Camille M — CAF de la Haute-Garonne · Haute-Garonne (31), Gers (32)"
        " · sujets : évaluation des politiques"
    )
    assert line.html.startswith('<b><a href="https://matrix.to/#/@camille:example.org">Camille M</a></b>')
    by_filter = render.result_line(tr("en"), camille(), [], "Design")
    assert by_filter.plain.endswith("topics: design")
    no_match = render.result_line(tr("fr"), camille(structure=None, territories=[]), ["camille"], None)
    assert (
        plain(no_match.plain)
        == "Camille M — Organisme social · sujets : prospective, évaluation des politiques, design"
    )


@pytest.mark.parametrize(
    ("locale", "total", "complete", "offset", "head", "foot"),
    [
        ("fr", 1, True, 0, "1 membre trouvé :", None),
        ("fr", 12, True, 0, "12 membres trouvés, de 1 à 2 :", "Encore 10 : !annuaire suite"),
        ("fr", 12, True, 10, "12 membres trouvés, de 11 à 12 :", None),
        (
            "fr",
            2000,
            False,
            0,
            "Plus de 2 000 membres trouvés, de 1 à 2, les plus pertinents d'abord :",
            "La suite : !annuaire suite",
        ),
        ("en", 12, True, 0, "12 members found, 1 to 2:", "10 more: !directory more"),
    ],
)
def test_result_pages(
    locale: str, total: int, complete: bool, offset: int, head: str, foot: str | None
) -> None:
    profiles = (
        [camille()]
        if total == 1
        else [camille(), camille(id=8, user_id="@dom:example.org", display_name="Dom")]
    )
    text = plain(
        render.results(
            tr(locale), profiles, total=total, complete=complete, offset=offset, matched={}, tag_filter=None
        ).plain
    )
    first, *rest = text.split("\n")
    assert first == head
    assert sum(1 for line in rest if line.startswith("• ")) == len(profiles)
    if foot:
        assert rest[-1].startswith(foot)
    else:
        assert rest[-1].startswith("• ")


def test_counts_map_folded_values_back_to_configured_names() -> None:
    kinds = render.display_counts(
        {"organisme social": 3, "commune": 5, "ancien type": 1}, ["Commune", "Organisme social"]
    )
    assert kinds == [("Commune", 5), ("Organisme social", 3), ("ancien type", 1)]
    territories = render.display_counts(
        {"haute garonne (31)": 4, "gers (32)": 4}, ["Haute-Garonne (31)", "Gers (32)"]
    )
    assert territories == [("Haute-Garonne (31)", 4), ("Gers (32)", 4)]  # ties: the config's order
    text = plain(render.counts_summary(tr("fr"), total=10, kinds=kinds, territories=territories).plain)
    assert text.split("\n")[:3] == [
        "L'annuaire compte 10 membres visibles.",
        "Par type de structure : Commune 5 · Organisme social 3 · ancien type 1 · non renseigné 1",
        "Par territoire : Haute-Garonne (31) 4 · Gers (32) 4",
    ]
    assert (
        "Personne n'est encore visible"
        in render.counts_summary(tr("fr"), total=0, kinds=[], territories=[]).plain
    )
    assert (
        "The directory lists 10 visible members."
        in render.counts_summary(tr("en"), total=10, kinds=kinds, territories=territories).plain
    )
