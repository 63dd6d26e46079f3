"""`!mes-donnees` shows everything kept about the person (SQLite and PostgreSQL): after a
whole life with the bot (`tests/support/member_life.py`) the file holds their animator
decisions, a signal's origin, the messages not handled yet, survey answers and event
sign-ups; its keys are French and its times are Europe/Paris. The command being answered
is not data kept: after `!oublier-moi` the answer says there is nothing, without a file."""

from __future__ import annotations

import json
import re
from typing import Any

from storage.db import Database
from tests.support.member_life import DM, ZOE, bodies, dispatcher_for, live_everything, say

ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
# Keys the export used to have in English.
ENGLISH = {
    "signals", "comments", "supports", "language", "conversation", "direct_room", "title",
    "text", "url", "why", "category", "territory", "source_kind", "observed_on", "status",
    "created_at", "matrix_id", "id", "form", "answers", "generated_at",
}  # fmt: skip


def walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, leaf) pairs, keys included as leaves named « key: »."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((f"{path}/{k}:", k))
            out.extend(walk(v, f"{path}/{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(walk(v, f"{path}[{i}]"))
    else:
        out.append((path, value))
    return out


def the_file(messages: list[dict[str, Any]]) -> dict[str, Any]:
    [attached] = [m["_attachment"] for m in messages if m.get("_attachment")]
    return json.loads(attached)


async def test_everything_kept_in_one_language_and_one_zone(db: Database) -> None:
    d = dispatcher_for(db)
    await live_everything(d)
    # A message of hers not handled yet (still in the inbox, text and all).
    async with db.unit() as repos:
        await repos.inbox.add_many(
            [
                {
                    "type": "m.room.message",
                    "event_id": "$waiting",
                    "room_id": DM,
                    "sender": ZOE,
                    "origin_server_ts": 1_760_000_000_000,
                    "content": {"msgtype": "m.text", "body": "!signaux sécheresse"},
                }
            ]
        )
        await repos.commit()

    data = the_file(await say(d, ZOE, "!mes-donnees", room=DM))
    leaves = walk(data)
    keys = {leaf for path, leaf in leaves if path.endswith(":")}
    assert not keys & ENGLISH, keys & ENGLISH
    times = [(p, v) for p, v in leaves if isinstance(v, str) and ISO_TIME.match(v)]
    assert len(times) >= 15, times
    assert all(v.endswith(("+01:00", "+02:00")) for _, v in times), times  # Europe/Paris
    assert data["fuseau_horaire"] == "Europe/Paris" and data["identifiant_matrix"] == ZOE

    got = data["donnees"]
    # Her animator decisions.
    assert [(x["signal"], x["statut"]) for x in got["signaux"]["decisions_sur_des_signaux"]] == [
        (2, "published"),  # retained by her, then in the digest she published
        (3, "published"),  # the one she took from the feeds
    ]
    assert [x["decision"] for x in got["signaux"]["decisions_de_veille"]] == ["retained"]
    assert len(got["signaux"]["digests_publies"]) == 1
    assert [s["sondage"] for s in got["sondages"]["sondages_clos"]] == [1]
    assert [p["pouls"] for p in got["sondages"]["pouls_arretes"]] == [1]
    assert [r["ressource"] for r in got["ressources"]["mises_en_vedette"]] == [2]
    assert [e["titre"] for e in got["evenements"]["evenements_crees"]] == ["Caves et climat"]
    # A signal's origin: hers, and the one she retained from the feeds.
    assert {s["origine"] for s in got["signaux"]["signaux"]} == {"member", "veille:Flux"}
    # What she answered and signed up for.
    assert [r["reponse"] for r in got["sondages"]["reponses"]] == [["Climat"]]
    assert got["sondages"]["sondages_anonymes_en_cours_auxquels_vous_avez_repondu"] == [3]
    assert [i["titre"] for i in got["evenements"]["inscriptions"]] == ["Nappes"]
    # The message waiting is there, the command being answered is not.
    waiting = got["runtime"]["messages_pas_encore_traites"]
    assert [(w["evenement"], w["texte"]) for w in waiting] == [("$waiting", "!signaux sécheresse")]

    async with db.unit() as repos:
        await repos.inbox.claim("$waiting")
        await repos.commit()
    await say(d, ZOE, "!oublier-moi confirmer", room=DM)
    answer = await say(d, ZOE, "!mes-donnees", room=DM)
    assert "Je ne garde rien sur vous" in bodies(answer), bodies(answer)
    assert not any(m.get("_attachment") for m in answer)
