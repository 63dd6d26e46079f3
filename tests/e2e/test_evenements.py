"""Events against the real Synapse, on one bot and three accounts: a webinar announced
with its .ics (downloaded and read back), sign-ups by ✅ and by command with a waiting
list, reminders seconds apart with a restart between them (each posted once, mentioning
only who signed up), a seat freed and given to the first in line, a cancellation notice,
the recording attached and found by `!ressources`; and a scheduled announcement posted
once, a restart notwithstanding."""

from __future__ import annotations

import asyncio
import re

import icalendar

from tests.conftest import BotStarter
from tests.support.matrix import Seen, TestUser, room_with_bot


def nb(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


# Reminders 25 s and 12 s before a start 45 s after creation: at about +20 s and +33 s.
REMINDERS = {"evenements": {"rappels": ["25s", "12s"]}}


async def test_webinar_sign_ups_reminders_across_a_restart_and_cancellation(
    start_bot: BotStarter, user
) -> None:
    bot = await start_bot(**REMINDERS)
    alice: TestUser = await user("alice")  # the room's creator: an animator
    bob: TestUser = await user("bob")
    carol: TestUser = await user("carol", auto_join_from=bot.user_id)
    room = await room_with_bot(alice, bot.user_id, bob, carol)

    # A scheduled announcement, due while the webinar's reminders go on (and the restart).
    mark = alice.mark()
    await alice.send(room, "!annonce planifier dans 20 secondes | Annonce de bout en bout")
    await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="planifiée")

    mark = alice.mark()
    await alice.send(
        room,
        "!webinaire ajouter dans 45 secondes | Essai de bout en bout | https://visio.fr/e2e | | 1 place",
    )
    echo = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="J'ai compris")
    number = int(re.search(r"n° (\d+)", echo.body).group(1))  # type: ignore[union-attr]
    announcement = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="📣")
    assert f"!participer {number}" in nb(announcement.body) and "1 place" in nb(announcement.body)
    file: Seen = await bob.wait_for(
        lambda s: s.sender == bot.user_id and s.room_id == room and s.content.get("msgtype") == "m.file",
        since=0,
    )
    assert file.content["info"]["mimetype"] == "text/calendar" and file.body.endswith(".ics")
    (vevent,) = icalendar.Calendar.from_ical(await bob.download(file.content)).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Essai de bout en bout"
    assert vevent["DTSTART"].params["TZID"] == "Europe/Paris"

    # Bob takes the only seat with ✅; Carol, by command, waits.
    await bob.react(room, announcement.event_id, "✅")
    mark = bob.mark()
    await bob.send(room, "!agenda")
    agenda = await bob.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="À venir")
    assert "inscrits : 1/1 · ✅ vous y participez" in nb(agenda.body)
    mark = carol.mark()
    await carol.send(room, "!participer")
    waiting = await carol.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="attente")
    assert "n° 1 sur la liste d'attente" in nb(waiting.body)

    # The first reminder mentions Bob only (Carol waits).
    first = await alice.wait_message(
        sender=bot.user_id, room_id=room, since=0, contains="commence dans 25", timeout=40
    )
    assert first.content["msgtype"] == "m.text"
    assert first.content["m.mentions"] == {"user_ids": [bob.user_id]}

    await bot.stop()
    bot = await start_bot(account=bot.account, db_url=bot.db_url, **REMINDERS)  # type: ignore[attr-defined]

    second = await alice.wait_message(
        sender=bot.user_id, room_id=room, since=0, contains="commence dans 12", timeout=40
    )
    assert second.content["m.mentions"] == {"user_ids": [bob.user_id]}
    await asyncio.sleep(1)
    reminders = [m for m in alice.messages(sender=bot.user_id, room_id=room) if "⏰" in m.body]
    assert len(reminders) == 2  # each once, none repeated by the restart

    # A second webinar: Bob leaves it, Carol gets the seat; then it is cancelled.
    mark = alice.mark()
    await alice.send(
        room, "!webinaire ajouter demain 10h | Deuxième | https://visio.exemple.fr/2 | | 1 place"
    )
    echo = await alice.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="J'ai compris")
    second_number = int(re.search(r"n° (\d+)", echo.body).group(1))  # type: ignore[union-attr]
    await bob.send(room, f"!participer {second_number}")
    mark = carol.mark()
    await carol.send(room, f"!participer {second_number}")
    await carol.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="liste d'attente")
    await bob.send(room, f"!participer annuler {second_number}")
    promoted = await carol.wait_message(sender=bot.user_id, since=mark, contains="Une place s'est libérée")
    assert promoted.room_id != room  # in her direct chat
    mark = carol.mark()
    await alice.send(room, f"!webinaire annuler {second_number} salle indisponible")
    notice = await carol.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="annulé")
    assert "salle indisponible" in nb(notice.body)
    assert notice.content["m.mentions"] == {"user_ids": [carol.user_id]}

    # The recording of the first webinar: those signed up are told once; !ressources finds it.
    mark = bob.mark()
    await alice.send(room, f"!webinaire captation {number} https://video.exemple.fr/e2e")
    told = await bob.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="captation")
    assert "est en ligne" in nb(told.body) and told.content["m.mentions"] == {"user_ids": [bob.user_id]}
    mark = bob.mark()
    await bob.send(room, "!ressources essai de bout type:captation")
    found = await bob.wait_message(sender=bot.user_id, room_id=room, since=mark, contains="trouvée")
    assert "Captation — Essai de bout en bout" in nb(found.body)
    assert "https://video.exemple.fr/e2e" in found.content["formatted_body"]
    announced = [
        m for m in alice.messages(sender=bot.user_id, room_id=room) if m.body == "Annonce de bout en bout"
    ]
    assert len(announced) == 1 and announced[0].content["msgtype"] == "m.notice"
