"""The README's first command, as a newcomer runs it: `oasis-bot demo` (its own Synapse, the
tour's samples, the local feed), then `oasis-bot console` scripted from a pipe, as the
member, the animator (admin) and a newcomer."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.homeserver import synapse_available

pytestmark = pytest.mark.e2e

BANNER_END = "Ctrl-C"


def _env() -> dict[str, str]:
    # French, as the tests read it, whatever the machine's locale.
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    return {**env, "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Path]:
    if not synapse_available():
        pytest.skip("matrix-synapse is not installed")
    folder = tmp_path_factory.mktemp("demo") / "oasis-demo"
    log = folder.parent / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 (starts it, does not wait)
            [sys.executable, "-m", "bot", "demo", "--dir", str(folder)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
    try:
        deadline = time.monotonic() + 180
        while BANNER_END not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            await asyncio.sleep(0.5)
        yield folder
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(proc.wait, 60)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert "Démonstration arrêtée." in log.read_text(errors="replace")


async def console(folder: Path, typed: str, *args: str) -> str:
    started = time.monotonic()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "console", "--dir", str(folder), *args],
        input=typed,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"console {args} {typed!r}: {time.monotonic() - started:.1f} s")
    # French typography: a no-break space before « : ? ! » and inside guillemets.
    return done.stdout.replace("\xa0", " ").replace("\u202f", " ")


async def test_piped_console_waits_for_the_answer(demo: Path) -> None:
    out = await console(demo, "!ping\n")
    assert "OASIS › pong" in out
    assert "> " not in out  # no prompts in a script's output


async def test_the_tour_samples_are_there_and_marked(demo: Path) -> None:
    out = await console(demo, "!annuaire\n!signaux\n!agenda\n!sondages\n!vote 1 4\n")
    assert "2 membres visibles" in out
    assert out.count("(exemple)") >= 4  # three signals and the webinar
    assert "webinaire « S'adapter aux canicules (exemple) »" in out
    assert "Le réseau vous a-t-il été utile ce mois-ci ?" in out
    assert out.rstrip().endswith("OASIS › ✅")  # the vote's answer is a reaction, awaited too
    state = json.loads((demo / "demo.json").read_text())
    assert state["tour"] is True


async def test_the_animator_is_admin_the_veille_has_items_the_digest_goes_to_the_room(demo: Path) -> None:
    out = await console(demo, "!aide\n!veille\n!digest publier\n!pouls nps\n", "--as", "animator")
    assert "(vous êtes administrateur ou administratrice)" in out
    assert "Veille : 3 articles à trier" in out
    assert "Sécheresse : les nappes de l'Aude au plus bas" in out
    assert "Un nouveau stade à Toulouse" not in out  # off topic: the keywords keep it out
    assert "digest de la semaine" in out  # posted in the room, where the animator is
    assert "Pas de bouton de vote ? Répondez avec !vote 2" in out  # a native poll, by its text
    config = (demo / "config.toml").read_text()
    assert "[digest]" in config and "admins" in config


async def test_a_newcomer_is_welcomed_then_asked_for_their_profile_in_private(demo: Path) -> None:
    out = await console(demo, "", "--as", "nouveau")
    assert "Bienvenue Alex Nouveau dans le réseau OASIS" in out
    assert "vos réponses vont désormais dans cette discussion" in out
    assert "Votre structure (votre employeur) ?" in out
    assert "!annuaire" not in out.split("Bienvenue")[0]  # the room's history is not replayed
    again = await console(demo, "passer\n", "--as", "nouveau")  # a new person each time
    assert "Bienvenue Alex Nouveau 2" in again
    assert "Type de structure" in again or "(2/7" in again
