"""Members never see configuration jargon: every catalog text that names a configuration
section, key or file is an operator's text (the CLI, the config checker, the demo) or a
hint that only animators and admins get (`bot.hints.operator_hint`)."""

from __future__ import annotations

import re

from bot.config import CORE_SECTIONS, _sections
from bot.features import load_features
from bot.i18n import default_catalog

load_features()

SECTIONS = "|".join(sorted({*CORE_SECTIONS, *_sections}))
# « [digest] », « config.example.toml », « empty_week = », « sondages.governance_rooms ».
JARGON = re.compile(
    rf"\[({SECTIONS})\]|config\.example\.toml|\b[a-z]+_[a-z_]+ = |\b({SECTIONS})\.[a-z]+_[a-z_]+\b"
)
# Texts for the operator: the command line, the config checker, the demo, operations.
OPERATOR_TEXTS = ("cli.", "config.", "demo.", "operations.", "contacts.", "evaluation.export.", "operator.")


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def test_configuration_jargon_only_in_operator_texts_and_hints() -> None:
    catalog = default_catalog()
    leaks = []
    for locale, messages in catalog.messages.items():
        for key, value in messages.items():
            if key.startswith(OPERATOR_TEXTS) or key.endswith("_operator") or ".operator." in key:
                continue
            leaks += [f"{locale} {key}: {t}" for t in _texts(value) if JARGON.search(t)]
    assert leaks == []


def test_the_hint_is_kept_for_animators_and_admins() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from bot.context import Context
    from bot.hints import operator_hint
    from bot.roles import Role

    tr = default_catalog().translator("fr")

    def ctx(role: Role) -> Context:
        return cast(Context, SimpleNamespace(role=role, rich=lambda key, **p: tr.rich(key, **p)))

    member = tr.t(
        "digest.status_no_rooms", n=2, hint=operator_hint(ctx(Role.MEMBER), "digest.operator.rooms")
    )
    assert "[digest]" not in member and "configuration" not in member
    assert "l'équipe d'animation doit le mettre en place" in member
    for role in (Role.ANIMATOR, Role.ADMIN):
        hint: Any = operator_hint(ctx(role), "digest.operator.rooms")
        said = tr.t("digest.status_no_rooms", n=2, hint=hint)
        assert said.startswith(member.rstrip())
        assert "Pour l'opérateur du bot\u00a0: ajoutez les identifiants" in said and "[digest]" in said
