"""History and catch-up for chat. Live messages travel on the socket; these routes page what a
client missed or never loaded. A conversation the caller is not in answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from accounts.api_auth import signed_in
from accounts.models import User
from messaging import selectors
from messaging.models import Message
from messaging.notices import notice_text

router = Router(tags=["messaging"])
MAX_ID = 2**63 - 1

SOCKET_FRAMES = """
**On the socket (`/ws/`)** the same conversations are live:

| dir | type | fields |
|---|---|---|
| c→s | `message.send` | `conversation`, `client_id` (1–64 chars, yours, unique per message), `body` (1–4,000 chars) |
| s→c | `message.ack` | `client_id`, `conversation`, `seq`, `id`, `sent_at` — the message is stored; a resend with the same `client_id` gets the same ack |
| s→c | `message.new` | `conversation`, `seq`, `id`, `sender` (user id, `null` from the platform), `kind` (`text`/`notice`), `body`, `sent_at`, `from_platform`, `notice` (`{kind, params}`, notices only) — to every socket of every participant, the sender's too |
| c→s | `resume` | `cursors: {conversation: last_seq}` → every later `message.new`, in seq order |
| c→s | `read` | `conversation`, `seq` → your read cursor moves forward (never back) |
| s→c | `read` | `conversation`, `user`, `seq` — someone's read cursor moved (a read receipt) |
| c→s / s→c | `typing` | `conversation` (+ `user` from the server); not stored |
| s→c | `presence` | `user`, `status` (`online`/`offline`) — a person you talked with in the last 30 days opened their first socket or closed their last; on connect you get `online` for each of them already online |

Each conversation's `seq` runs 1, 2, 3… without gaps. Keep the highest seq you have per
conversation, drop a frame at or below it, and fill a jump from
`GET /conversations/{id}/messages?after_seq=`. Errors come as `error` frames with a stable
`code` and the `ref` (your `client_id`) they answer: `invalid`, `message_empty`,
`message_too_long`, `rate_limited` (over 20 messages in 10 s), `not_found`,
`conversation_read_only`, `client_id_reused`, `message_not_stored` (send it again),
`consult_expired`, `consult_closed`, `invalid_cursors`.
"""


class PersonOut(Schema):
    id: int
    name: str
    role: str


class NoticeOut(Schema):
    kind: str
    params: dict[str, Any]


class MessageOut(Schema):
    id: int
    conversation: int = Field(..., alias="conversation_id")
    seq: int
    sender: int | None = Field(None, alias="sender_id")
    kind: str
    body: str
    sent_at: datetime = Field(..., alias="created_at")
    from_platform: bool
    notice: NoticeOut | None = None
    client_id: str | None = Field(None, description="Only on your own messages.")

    @staticmethod
    def resolve_from_platform(obj: Message) -> bool:
        return obj.sender_id is None

    @staticmethod
    def resolve_body(obj: Message) -> str:
        return notice_text(notice=obj.notice, body=obj.body)

    @staticmethod
    def resolve_client_id(obj: Message, context: dict[str, Any]) -> str | None:
        request = context["request"]
        return obj.client_id if obj.sender_id == request.user.pk else None


class ConversationOut(Schema):
    id: int
    kind: str
    consult: int | None
    other: PersonOut | None = Field(
        None, description="The other participant; `null` for your Lawline notices inbox."
    )
    last_seq: int
    last_message_at: datetime | None
    last_message: MessageOut | None
    last_read_seq: int = Field(..., description="Your read cursor.")
    other_last_read_seq: int | None = Field(
        None, description="The other participant's read cursor (a read receipt)."
    )
    unread_count: int = Field(..., description="Messages after your read cursor not sent by you.")


class ConversationFilter(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class MessagePageFilter(Schema):
    after_seq: int = Field(0, ge=0, le=MAX_ID, description="Messages after this seq, oldest first.")
    before_seq: int | None = Field(
        None, ge=1, le=MAX_ID, description="Instead: the `limit` messages just before this seq."
    )
    limit: int = Field(50, ge=1, le=200)


class MessagePageOut(Schema):
    conversation: int
    messages: list[MessageOut]
    has_more: bool = Field(..., description="More messages follow in the direction asked.")


class ErrorOut(Schema):
    code: str
    message: str


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name, "role": user.role}


def _conversation_out(summary: selectors.ConversationSummary) -> dict[str, Any]:
    conversation = summary.conversation
    other = summary.others[0] if summary.others else None
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "consult": summary.consult_id,
        "other": _person(other.user) if other else None,
        "last_seq": conversation.last_seq,
        "last_message_at": conversation.last_message_at,
        "last_message": summary.last_message,
        "last_read_seq": summary.last_read_seq,
        "other_last_read_seq": other.last_read_seq if other else None,
        "unread_count": summary.unread_count,
    }


@router.get(
    "/conversations",
    response={200: list[ConversationOut], 401: ErrorOut},
    auth=signed_in,
    description="Your conversations, most recent activity first, each with its last message, "
    "your unread count and the other participant.\n" + SOCKET_FRAMES,
)
def conversations(request: HttpRequest, filters: Query[ConversationFilter]):
    summaries = selectors.conversation_list(
        user=request.user,  # type: ignore[arg-type]
        limit=filters.limit,
        offset=filters.offset,
    )
    return [_conversation_out(s) for s in summaries]


@router.get(
    "/conversations/{conversation_id}/messages",
    response={200: MessagePageOut, 401: ErrorOut, 404: ErrorOut},
    auth=signed_in,
    description="A page of a conversation's messages in seq order: after `after_seq` "
    "(catch-up; page on with the last seq while `has_more`), or with `before_seq` the ones "
    "just before it (scrolling back).",
)
def conversation_messages(
    request: HttpRequest,
    filters: Query[MessagePageFilter],
    conversation_id: int = Path(..., ge=1, le=MAX_ID),
):
    messages, has_more = selectors.conversation_messages(
        user=request.user,  # type: ignore[arg-type]
        conversation_id=conversation_id,
        after_seq=filters.after_seq,
        before_seq=filters.before_seq,
        limit=filters.limit,
    )
    return {"conversation": conversation_id, "messages": messages, "has_more": has_more}
