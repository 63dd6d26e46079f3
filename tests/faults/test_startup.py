"""`oasis-bot run` as operators run it, started against a homeserver that is not there or
that refuses the account: said in the operator's language with what to check, and stopped
by SIGTERM within seconds in every state."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.homeserver import EmbeddedSynapse, free_port
from tests.support.process import toml_text

pytestmark = pytest.mark.slow


def _start(tmp_path: Path, homeserver: str, **matrix: str) -> tuple[subprocess.Popen[bytes], Path]:
    config = tmp_path / "bot.toml"
    config.write_text(
        toml_text(
            {
                "matrix": {
                    "homeserver": homeserver,
                    "user_id": "@oasis:localhost",
                    "password": "pw",
                    **matrix,
                },
                "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
                "bot": {"rooms": ["!net:localhost"]},
                "logging": {"level": "INFO"},
            }
        )
    )
    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return proc, log


def _wait_for(proc: subprocess.Popen[bytes], log: Path, text: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        said = log.read_text(errors="replace")
        if text in said:
            return said
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"never said {text!r}:\n{log.read_text(errors='replace')[-3000:]}")


def test_an_unreachable_homeserver_is_said_in_french_and_sigterm_stops_the_retries(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    proc, log = _start(tmp_path, url)
    said = _wait_for(proc, log, "ne répond toujours pas")  # the second try: in the retry loop
    assert f"Le serveur Matrix {url} ne répond pas (connexion refusée" in said
    assert "Vérifiez matrix.homeserver" in said
    assert "ssl:default" not in said and "Cannot connect" not in said
    asked = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    assert time.monotonic() - asked < 5
    assert code == 0


async def test_a_refused_password_is_said_in_french_and_exits_1(
    homeserver: EmbeddedSynapse, tmp_path: Path
) -> None:
    account = homeserver.register(f"oasis{free_port()}", "right-password")
    proc, log = _start(tmp_path, homeserver.url, user_id=account.user_id, password="wrong-password")
    code = proc.wait(timeout=120)
    said = log.read_text(errors="replace")
    assert code == 1
    assert f"Le serveur Matrix {homeserver.url} refuse la connexion de {account.user_id}" in said, said
    assert "Vérifiez matrix.user_id et le mot de passe" in said
    assert "Traceback" not in said and "wrong-password" not in said
