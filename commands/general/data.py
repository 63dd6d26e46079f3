"""The runtime's share of a member's personal data (`!mes-donnees`, `!oublier-moi`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.parsing import message_text

if TYPE_CHECKING:
    from storage.unit import Repos


class RuntimeData:
    """The runtime's share of a member's personal data: their language, a conversation in
    progress, their direct chat with the bot, and the commands they sent that are not
    handled yet (a handled one keeps only its id, against handling it twice)."""

    name = "runtime"

    async def export(self, repos: Repos, user_id: str) -> dict[str, Any]:
        settings = await repos.settings.get(user_id)
        conversation = await repos.conversations.get(user_id)
        return {
            "langue": settings.language if settings else None,
            "conversation_en_cours": {
                "formulaire": conversation.form,
                "reponses": conversation.data,
                "commencee_le": conversation.started_at,
            }
            if conversation
            else None,
            "discussion_privee": await repos.direct.room_for(user_id),
            "messages_pas_encore_traites": [
                {
                    "evenement": e.event_id,
                    "salon": e.room_id,
                    "type": e.event_type,
                    "texte": message_text((e.payload or {}).get("content") or {}),
                    "recu_le": e.received_at,
                }
                for e in await repos.inbox.kept_for(user_id)
            ],
        }

    async def erase(self, repos: Repos, user_id: str) -> int:
        erased = await repos.settings.erase(user_id)
        erased += await repos.conversations.end(user_id)
        erased += await repos.inbox.erase_user(user_id)
        erased += await repos.outbox.erase_dm_user(user_id)
        erased += await repos.direct.forget_user(user_id)
        return erased


RUNTIME_DATA = RuntimeData()
