"""What the bot sends: a message's Matrix content built from rich text.

Ordinary output is `m.notice` (never notifies anyone). A message that must ping someone is
`m.text` with `m.mentions.user_ids`. `m.mentions` is always present, so a body that happens
to contain « @room » pings nobody."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.formatting import Rich

NOTICE = "m.notice"
TEXT = "m.text"


@dataclass(frozen=True)
class OutgoingMessage:
    rich: Rich
    mentions: tuple[str, ...] = ()
    reply_to: str | None = None
    thread_root: str | None = None  # answer inside this thread
    notify: bool = False  # True: m.text so the mentioned people are pinged
    extra: dict[str, Any] = field(default_factory=dict)

    def content(self) -> dict[str, Any]:
        content: dict[str, Any] = {
            "msgtype": TEXT if self.notify else NOTICE,
            "body": self.rich.plain,
            "format": "org.matrix.custom.html",
            "formatted_body": self.rich.html,
            "m.mentions": {"user_ids": list(self.mentions)} if self.mentions else {},
        }
        if self.thread_root:
            relation: dict[str, Any] = {"rel_type": "m.thread", "event_id": self.thread_root}
            if self.reply_to:
                relation["m.in_reply_to"] = {"event_id": self.reply_to}
                relation["is_falling_back"] = False
            content["m.relates_to"] = relation
        elif self.reply_to:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": self.reply_to}}
        content.update(self.extra)
        return content


def reaction_content(event_id: str, key: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}


def file_content(name: str, mimetype: str, size: int, where: str | dict[str, Any]) -> dict[str, Any]:
    """An `m.file` event's content; `where` is the upload's mxc URL, or what
    `MatrixClient.upload` returned (`{"url": …}`, or `{"file": …}` in an encrypted room)."""
    located = {"url": where} if isinstance(where, str) else dict(where)
    return {
        "msgtype": "m.file",
        "body": name,
        "filename": name,
        **located,
        "info": {"mimetype": mimetype, "size": size},
        "m.mentions": {},
    }


def attachment_content(uploaded: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """The content of an uploaded attachment: where it is (`url`, or `file` when
    encrypted) and its size from the upload, the rest as the queued message declared it
    (an image's `msgtype`, alt text, width and height; a reply)."""
    info = {**(declared.get("info") or {}), **(uploaded.get("info") or {})}
    kept = {k: v for k, v in declared.items() if k not in ("url", "file", "info")}
    return {**uploaded, **kept, "info": info}
