"""The demo's configuration written as a file, for the admin commands
(`import-contacts --config oasis-demo/config.toml`)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.cli import report_config
from bot.demo import DemoAccount, DemoState, config_toml, demo_config, tour_config
from bot.homeserver import EmbeddedSynapse


def _state() -> DemoState:
    def account(name: str, password: str) -> DemoAccount:
        return DemoAccount(name, password, user_id=f"@{name}:localhost")

    bot = account("oasis", 'p"a\\ss é\u00e9\t')  # quotes, backslash, accents, a tab
    return DemoState(bot, account("camille", "x"), account("dominique", "y"), room_id="!demo:localhost")


def test_written_config_reads_back_as_the_same_values(tmp_path: Path) -> None:
    hs = cast(EmbeddedSynapse, SimpleNamespace(url="http://127.0.0.1:48691"))
    values = tour_config(demo_config(tmp_path, hs, _state()), _state(), "http://127.0.0.1:5/veille.xml")
    assert tomllib.loads(config_toml(values)) == values


def test_written_config_is_a_valid_bot_config(tmp_path: Path) -> None:
    hs = cast(EmbeddedSynapse, SimpleNamespace(url="http://127.0.0.1:48691"))
    path = tmp_path / "config.toml"
    state = _state()
    state.room_id = "!demo:localhost"
    path.write_text(config_toml(tour_config(demo_config(tmp_path, hs, state), state, "http://127.0.0.1:5/f")))
    config, text = report_config(str(path))
    assert config is not None, text
    assert config.bot.admins == ["@camille:localhost"]
    assert config.features["digest"]["rooms"] == ["!demo:localhost"]
    assert config.matrix.user_id == "@oasis:localhost"
    assert config.bot.rooms == ["!demo:localhost"]  # the demo's room is the network
    assert str(tmp_path / "bot.db") in config.database.url


def test_values_of_every_kind() -> None:
    values: dict[str, dict[str, Any]] = {"a": {"s": "x", "n": 3, "f": 1.5, "b": True, "l": ["u", "v"]}}
    assert tomllib.loads(config_toml(values)) == values
    tables = {"veille": {"sources": [{"name": "Flux « climat »", "url": "http://127.0.0.1:1/f.xml"}]}}
    assert tomllib.loads(config_toml(tables)) == tables  # inline tables
    with pytest.raises(TypeError):
        config_toml({"a": {"d": object()}})
