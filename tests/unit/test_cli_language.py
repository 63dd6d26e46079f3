"""`oasis-bot --help` in one language, the operator's (`--lang`, else the locale): argparse's
own words included, and every option described."""

from __future__ import annotations

import argparse

import pytest

from bot.cli import build_parser, operator_language


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_the_operators_language() -> None:
    assert operator_language(["demo", "--lang", "en"], {}) == "en"
    assert operator_language(["demo", "--lang=en"], {"LANG": "fr_FR.UTF-8"}) == "en"
    assert operator_language([], {"LANG": "en_GB.UTF-8"}) == "en"
    assert operator_language([], {"LC_ALL": "fr_FR.UTF-8", "LANG": "en_US"}) == "fr"
    assert operator_language([], {}) == "fr"


def test_french_help_is_french_throughout() -> None:
    parser = build_parser("fr")
    text = parser.format_help()
    assert text.startswith("utilisation")
    assert "afficher cette aide et quitter" in text and "Bot communautaire Matrix" in text
    assert "show this help" not in text and "usage:" not in text
    run = _subparsers(parser)["run"].format_help()
    assert "fichier de configuration (par défaut : config.toml)" in run.replace("\u00a0", " ")


def test_english_help_is_english_throughout() -> None:
    parser = build_parser("en")
    text = parser.format_help()
    assert text.startswith("usage:") and "show this help message and exit" in text
    assert "Matrix community bot of the OASIS network." in text
    for name in ("demo", "console", "run", "check-config", "backup", "restore"):
        sub = _subparsers(parser)[name].format_help()
        assert "afficher" not in sub and "fichier" not in sub and "dossier" not in sub, sub


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_option_is_described(lang: str) -> None:
    undescribed = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, sub in _subparsers(build_parser(lang)).items()
        for action in sub._actions
        if not action.help and not isinstance(action, argparse._HelpAction)
    ]
    assert undescribed == []


def test_an_error_speaks_the_operators_language(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser("fr").parse_args(["console", "--as", "xx"])
    err = capsys.readouterr().err.replace("\u00a0", " ")
    assert "erreur : argument --as : choix impossible : 'xx'" in err
    build_parser("fr")
