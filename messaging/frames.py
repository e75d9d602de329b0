"""Chat on the one socket: `message.send`, `typing`, `read`, `resume` and peer presence.

Handlers stay thin: check the frame's fields here (bad input costs no database round trip),
then call one service. Database work runs through `_db`, on the thread pool rather than the
single thread Channels uses by default, so one slow transaction never queues every other
socket's messages behind it. Chat messages go through `group_commit`: the messages that
arrive together share one thread hop and one commit.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from channels.db import DatabaseSyncToAsync

from accounts.frames import frame_handler, socket_hook
from accounts.realtime import apush_to_users
from messaging import events, group_commit, peer_presence, selectors, services
from messaging.errors import (
    ConversationNotFound,
    ConversationReadOnly,
    InvalidCursors,
    InvalidField,
)
from messaging.models import Conversation

if TYPE_CHECKING:
    from accounts.consumers import ClientConsumer

RESUME_BATCH = 500
RESUME_MAX_CONVERSATIONS = 1000
TYPING_MIN_INTERVAL = 1.0  # seconds between two `typing` relayed per socket and conversation
MEMBERSHIP_CACHE_SIZE = 256
MAX_ID = 2**63 - 1  # ids and seqs are bigints


def _db(fn):
    return DatabaseSyncToAsync(fn, thread_sensitive=False)


_mark_read = _db(services.conversation_mark_read)
_membership_of = _db(selectors.conversation_membership)
_last_seqs = _db(selectors.conversation_last_seqs)
_messages_after = _db(selectors.messages_after)


def _int_field(frame: dict[str, Any], name: str, *, minimum: int) -> int:
    value = frame.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_ID:
        raise InvalidField(name)
    return value


async def _membership(consumer: ClientConsumer, conversation_id: int) -> tuple[str, list[int]]:
    """(kind, other participants) of a conversation the socket's user is in, cached on the
    socket: participants of a conversation never change."""
    cache: dict[int, tuple[str, list[int]]] = consumer.state.setdefault("messaging.members", {})
    found = cache.get(conversation_id)
    if found is None:
        found = await _membership_of(user_id=consumer.user_id, conversation_id=conversation_id)
        if len(cache) >= MEMBERSHIP_CACHE_SIZE:
            cache.pop(next(iter(cache)))
        cache[conversation_id] = found
    return found


@frame_handler("message.send")
async def message_send(consumer: ClientConsumer, frame: dict[str, Any]) -> None:
    conversation_id = _int_field(frame, "conversation", minimum=1)
    services.message_validate(client_id=frame.get("client_id"), body=frame.get("body"))
    message, _created = await group_commit.message_send(
        sender=consumer.user,
        conversation_id=conversation_id,
        client_id=frame["client_id"],
        body=frame["body"],
    )
    await consumer.send_frame(events.message_ack(message))


@frame_handler("typing")
async def typing(consumer: ClientConsumer, frame: dict[str, Any]) -> None:
    conversation_id = _int_field(frame, "conversation", minimum=1)
    last_sent: dict[int, float] = consumer.state.setdefault("messaging.typing", {})
    now = time.monotonic()
    if now - last_sent.get(conversation_id, 0.0) < TYPING_MIN_INTERVAL:
        return  # a client typing fast is told once a second, not once a key
    kind, others = await _membership(consumer, conversation_id)
    if kind == Conversation.Kind.PLATFORM:
        raise ConversationReadOnly()
    last_sent[conversation_id] = now
    try:
        await apush_to_users(
            others, events.typing(conversation_id=conversation_id, user_id=consumer.user.pk)
        )
    except peer_presence.REDIS_ERRORS:
        pass  # best effort, like the indicator itself: the next keystroke tries again


@frame_handler("read")
async def read(consumer: ClientConsumer, frame: dict[str, Any]) -> None:
    conversation_id = _int_field(frame, "conversation", minimum=1)
    seq = _int_field(frame, "seq", minimum=0)
    await _mark_read(user=consumer.user, conversation_id=conversation_id, seq=seq)


def _parse_cursors(raw: Any) -> dict[int, int]:
    if not isinstance(raw, dict) or len(raw) > RESUME_MAX_CONVERSATIONS:
        raise InvalidCursors()
    cursors: dict[int, int] = {}
    for conversation, seq in raw.items():
        try:
            conversation_id = int(conversation)
        except (TypeError, ValueError):
            raise InvalidCursors() from None
        if not 1 <= conversation_id <= MAX_ID:
            raise InvalidCursors()
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_ID:
            raise InvalidCursors()
        cursors[conversation_id] = seq
    return cursors


@socket_hook("resume")
async def resume(consumer: ClientConsumer, frame: dict[str, Any]) -> None:
    """Replay, for each conversation in `cursors`, every message after the client's seq, in
    order. A conversation the user is not in gets an error frame (ref: its id) and nothing
    else, exactly as one that does not exist. Messages that arrive live while replaying come
    after it and may repeat a replayed seq: clients drop a seq they already have."""
    if "cursors" not in frame:
        return
    cursors = _parse_cursors(frame["cursors"])
    if not cursors:
        return
    last_seqs = await _last_seqs(user_id=consumer.user_id, conversation_ids=list(cursors))
    for conversation_id, after_seq in cursors.items():
        if conversation_id not in last_seqs:
            error = ConversationNotFound()
            await consumer.send_error(error.code, str(error.detail), conversation_id)
            continue
        while after_seq < last_seqs[conversation_id]:
            batch = await _messages_after(
                conversation_id=conversation_id, after_seq=after_seq, limit=RESUME_BATCH
            )
            for message in batch:
                await consumer.send_frame(events.message_new(message))
            if len(batch) < RESUME_BATCH:
                break
            after_seq = batch[-1].seq


@socket_hook("connect")
async def presence_on_connect(consumer: ClientConsumer) -> None:
    await peer_presence.socket_opened(consumer)


@socket_hook("disconnect")
async def presence_on_disconnect(consumer: ClientConsumer) -> None:
    await peer_presence.socket_closed(consumer)
