"""The demo's configuration written as a file, for the admin commands
(`import-contacts --config oasis-demo/config.toml`)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.cli import report_config
from bot.demo import DemoAccount, DemoState, config_toml, demo_config
from bot.homeserver import EmbeddedSynapse


def _state() -> DemoState:
    def account(name: str, password: str) -> DemoAccount:
        return DemoAccount(name, password, user_id=f"@{name}:localhost")

    bot = account("oasis", 'p"a\\ss é\u00e9\t')  # quotes, backslash, accents, a tab
    return DemoState(bot, account("camille", "x"), account("dominique", "y"), room_id="!demo:localhost")


def test_written_config_reads_back_as_the_same_values(tmp_path: Path) -> None:
    hs = cast(EmbeddedSynapse, SimpleNamespace(url="http://127.0.0.1:48691"))
    values = demo_config(tmp_path, hs, _state())
    assert tomllib.loads(config_toml(values)) == values


def test_written_config_is_a_valid_bot_config(tmp_path: Path) -> None:
    hs = cast(EmbeddedSynapse, SimpleNamespace(url="http://127.0.0.1:48691"))
    path = tmp_path / "config.toml"
    path.write_text(config_toml(demo_config(tmp_path, hs, _state())))
    config, text = report_config(str(path))
    assert config is not None, text
    assert config.matrix.user_id == "@oasis:localhost"
    assert config.bot.rooms == ["!demo:localhost"]  # the demo's room is the network
    assert str(tmp_path / "bot.db") in config.database.url


def test_values_of_every_kind() -> None:
    values: dict[str, dict[str, Any]] = {"a": {"s": "x", "n": 3, "f": 1.5, "b": True, "l": ["u", "v"]}}
    assert tomllib.loads(config_toml(values)) == values
    with pytest.raises(TypeError):
        config_toml({"a": {"d": {"nested": 1}}})
