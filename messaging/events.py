"""The server→client frames messaging sends, built in one place so the socket, `resume` and
the services agree on their shape (the contract is in the API docs and DESIGN.md)."""

from __future__ import annotations

from typing import Any, Literal

from messaging.models import Message


def message_new(message: Message) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "message.new",
        "conversation": message.conversation_id,
        "seq": message.seq,
        "id": message.pk,
        "sender": message.sender_id,
        "kind": message.kind,
        "body": message.body,
        "sent_at": message.created_at.isoformat(),
        "from_platform": message.sender_id is None,
        # lets the sender's other sockets pair the echo with the bubble they show as sending
        "client_id": message.client_id,
    }
    if message.notice:
        frame["notice"] = message.notice
    return frame


def message_ack(message: Message) -> dict[str, Any]:
    return {
        "type": "message.ack",
        "client_id": message.client_id,
        "conversation": message.conversation_id,
        "seq": message.seq,
        "id": message.pk,
        "sent_at": message.created_at.isoformat(),
    }


def read(*, conversation_id: int, user_id: int, seq: int) -> dict[str, Any]:
    return {"type": "read", "conversation": conversation_id, "user": user_id, "seq": seq}


def typing(*, conversation_id: int, user_id: int) -> dict[str, Any]:
    return {"type": "typing", "conversation": conversation_id, "user": user_id}


def presence(*, user_id: int, status: Literal["online", "offline"]) -> dict[str, Any]:
    return {"type": "presence", "user": user_id, "status": status}
