"""Messaging's writes: the only place that changes conversations, participants and messages.

Every message gets its `seq` from its conversation's `last_seq`, incremented in the same
transaction that inserts the message: the UPDATE takes the conversation's row lock, so seqs are
gap-free (a failed insert rolls the increment back) and commit in order. Frames go out only
after commit; what must not be lost is the row, which `resume` and the API serve again.
Nothing here logs message text.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import psycopg
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone, translation
from psycopg.types.json import Jsonb

from accounts.models import User
from accounts.realtime import push_many_on_commit, push_to_users_on_commit
from config.errors import DomainError
from messaging import events, peer_presence
from messaging.errors import (
    ClientIdReused,
    ConversationNotFound,
    ConversationReadOnly,
    InvalidField,
    MessageEmpty,
    MessageNotStored,
    MessageTooLong,
)
from messaging.models import Conversation, Message, Participant, StaffAccessRecord
from messaging.notices import notice_kind, render_notice

logger = logging.getLogger(__name__)

BODY_MAX_CHARS = 4000
CLIENT_ID_MAX_CHARS = 64
CLIENT_ID_CONSTRAINT = "messaging_message_client_id_unique"
NOTICE_KEY_CONSTRAINT = "messaging_notice_key_unique"


# --- conversations ------------------------------------------------------------------------
def conversation_open(*, kind: str, user_ids: Iterable[int]) -> Conversation:
    """Open a conversation between users (ids). A `direct` conversation between two users and
    a user's `platform` inbox are opened once: opening them again returns the same one. A
    `consult` conversation opened here is always new; use `conversation_open_for_consult`."""
    ids = sorted(set(user_ids))
    if kind == Conversation.Kind.PLATFORM:
        if len(ids) != 1:
            raise ValueError("a platform inbox belongs to exactly one user")
        key: str | None = f"platform:{ids[0]}"
    elif kind in (Conversation.Kind.DIRECT, Conversation.Kind.CONSULT):
        if len(ids) < 2:
            raise ValueError("a conversation needs at least two people")
        key = (
            f"direct:{ids[0]}:{ids[1]}"
            if kind == Conversation.Kind.DIRECT and len(ids) == 2
            else None
        )
    else:
        raise ValueError(f"unknown conversation kind {kind!r}")
    return _conversation_open(kind=kind, user_ids=ids, key=key)


def conversation_open_for_consult(*, consult) -> Conversation:
    """The consult's conversation between its asker and its lawyer, opened once (idempotent)
    and linked as `consult.conversation`. Precondition: the consult has its lawyer. Meant to
    run inside the transaction that accepts the offer (it joins that transaction)."""
    from marketplace.models import Consult

    if consult.lawyer_id is None:
        raise ValueError("a consult's conversation opens once a lawyer has taken it")
    if consult.conversation_id is not None:
        return Conversation.objects.get(pk=consult.conversation_id)
    conversation = _conversation_open(
        kind=Conversation.Kind.CONSULT,
        user_ids=[consult.asker_id, consult.lawyer_id],
        key=f"consult:{consult.pk}",
    )
    Consult.objects.filter(pk=consult.pk, conversation__isnull=True).update(
        conversation=conversation
    )
    consult.conversation = conversation
    transaction.on_commit(
        functools.partial(peer_presence.introduce, [consult.asker_id, consult.lawyer_id])
    )
    return conversation


def platform_inbox(*, user_id: int) -> Conversation:
    """The user's one `platform` conversation: where platform notices arrive."""
    return _conversation_open(
        kind=Conversation.Kind.PLATFORM, user_ids=[user_id], key=f"platform:{user_id}"
    )


def _conversation_open(*, kind: str, user_ids: list[int], key: str | None) -> Conversation:
    if key is not None:
        existing = Conversation.objects.filter(key=key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(kind=kind, key=key)
            Participant.objects.bulk_create(
                [Participant(conversation=conversation, user_id=uid) for uid in user_ids]
            )
    except IntegrityError:
        # two openers raced for the same key: the other one's conversation is the one
        existing = Conversation.objects.filter(key=key).first() if key else None
        if existing is None:
            raise
        return existing
    return conversation


# --- messages -----------------------------------------------------------------------------
# Step one of storing a message: check the sender takes part, lock the conversation row, take
# the next seq, move the sender's own read cursor to it (one has read what one answers), and
# list the participants to deliver to. No row back: no such conversation, or not the sender's.
_NEXT_SEQ_SQL = """
WITH conversation AS (
    UPDATE messaging_conversation AS c
       SET last_seq = c.last_seq + 1, last_message_at = %(now)s
     WHERE c.id = %(conversation)s
       AND (%(sender)s::bigint IS NULL OR EXISTS (
            SELECT 1 FROM messaging_participant AS p
             WHERE p.conversation_id = c.id AND p.user_id = %(sender)s::bigint))
 RETURNING c.id, c.kind, c.last_seq
), reader AS (
    UPDATE messaging_participant AS p
       SET last_read_seq = conversation.last_seq
      FROM conversation
     WHERE p.conversation_id = conversation.id AND p.user_id = %(sender)s::bigint
)
SELECT conversation.kind, conversation.last_seq,
       ARRAY(SELECT p.user_id FROM messaging_participant AS p
              WHERE p.conversation_id = conversation.id)
  FROM conversation
"""

_INSERT_SQL = """
INSERT INTO messaging_message
       (conversation_id, seq, sender_id, kind, body, client_id, notice, created_at)
VALUES (%(conversation)s, %(seq)s, %(sender)s, %(kind)s, %(body)s, %(client_id)s, %(notice)s,
        %(now)s)
RETURNING id
"""

# Both steps as one statement, for a conversation whose kind needs no check in Python between
# them (a direct chat; the platform inbox for notices): one round trip, atomic on its own. No
# row back: not that conversation, not that kind, or not the sender's. `{admission}`: a consult
# message's gate, as its first step (`_store_consult_sql`).
_STORE_SQL_TEMPLATE = """
WITH {admission}conversation AS (
    UPDATE messaging_conversation AS c
       SET last_seq = c.last_seq + 1, last_message_at = %(now)s
     WHERE c.id = %(conversation)s AND c.kind = %(expected_kind)s{admitted}
       AND (%(sender)s::bigint IS NULL OR EXISTS (
            SELECT 1 FROM messaging_participant AS p
             WHERE p.conversation_id = c.id AND p.user_id = %(sender)s::bigint))
 RETURNING c.id, c.last_seq
), reader AS (
    UPDATE messaging_participant AS p
       SET last_read_seq = conversation.last_seq
      FROM conversation
     WHERE p.conversation_id = conversation.id AND p.user_id = %(sender)s::bigint
), message AS (
    INSERT INTO messaging_message
           (conversation_id, seq, sender_id, kind, body, client_id, notice, created_at)
    SELECT conversation.id, conversation.last_seq, %(sender)s, %(kind)s, %(body)s,
           %(client_id)s, %(notice)s, %(now)s
      FROM conversation
 RETURNING id, seq
)
SELECT message.id, message.seq,
       ARRAY(SELECT p.user_id FROM messaging_participant AS p
              WHERE p.conversation_id = %(conversation)s)
  FROM message
"""

_STORE_SQL = _STORE_SQL_TEMPLATE.format(admission="", admitted="")


@functools.cache
def _store_consult_sql() -> str:
    """`_STORE_SQL` for a consult message whose gate has nothing to decide: the consult row is
    locked first, and no row comes back when the gate must look at the message itself
    (marketplace.consult_messages)."""
    from marketplace.consult_messages import PLAIN_MESSAGE_ADMISSION_SQL

    return _STORE_SQL_TEMPLATE.format(
        admission=f"gate AS ({PLAIN_MESSAGE_ADMISSION_SQL}), ",
        admitted="\n       AND EXISTS (SELECT 1 FROM gate)",
    )


# A conversation's kind never changes: once seen, later messages can take the one-statement
# path. Bounded; forgetting only costs the two-step path once more.
_conversation_kinds: dict[int, str] = {}
_CONVERSATION_KINDS_MAX = 50_000


def _remember_kind(conversation_id: int, kind: str) -> None:
    if len(_conversation_kinds) >= _CONVERSATION_KINDS_MAX:
        _conversation_kinds.clear()
    _conversation_kinds[conversation_id] = kind


def _one_statement_sql(kind: str | None, sender: User | None, gate: bool) -> str | None:
    """The one statement that stores a message into a conversation of this kind, if any."""
    if sender is None:
        return _STORE_SQL if kind == Conversation.Kind.PLATFORM else None
    if kind == Conversation.Kind.DIRECT or (kind == Conversation.Kind.CONSULT and not gate):
        return _STORE_SQL
    if kind == Conversation.Kind.CONSULT:
        return _store_consult_sql()
    return None


def _store(
    *,
    conversation_id: int,
    sender: User | None,
    kind: str,
    body: str,
    client_id: str | None,
    notice: dict[str, Any] | None = None,
    sent_at: datetime | None = None,
    gate: bool = True,
) -> tuple[Message, list[int]]:
    """Store one message with the next seq, committed when this returns (unless the caller
    holds a transaction, which it then joins). Returns the message and the ids of everyone in
    the conversation. For a consult conversation (with `gate`), the consult's gate runs with
    the consult row and then the conversation row locked, before the message is stored, and
    may refuse it."""
    now = sent_at or timezone.now()
    params: dict[str, Any] = {
        "now": now,
        "conversation": conversation_id,
        "sender": sender.pk if sender else None,
        "kind": kind,
        "body": body,
        "client_id": client_id,
        "notice": Jsonb(notice) if notice is not None else None,
    }
    known_kind = _conversation_kinds.get(conversation_id)
    one_statement = _one_statement_sql(known_kind, sender, gate)
    if one_statement is not None:
        # in a caller's transaction, a savepoint keeps a duplicate client_id from aborting it
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(one_statement, {**params, "expected_kind": known_kind})
                row = cursor.fetchone()
        if row is not None:
            message_id, seq, participant_ids = row
            return _loaded_message(message_id, seq, params), list(participant_ids)
    may_be_consult = gate and sender is not None and known_kind in (None, Conversation.Kind.CONSULT)
    with transaction.atomic():
        if may_be_consult:
            from marketplace.consult_messages import consult_message_gate, consult_message_lock

            # the consult row before the conversation row, as in the one statement
            locked = consult_message_lock(conversation_id=conversation_id)
        with connection.cursor() as cursor:
            cursor.execute(_NEXT_SEQ_SQL, params)
            row = cursor.fetchone()
            if row is None:
                raise ConversationNotFound()
            conversation_kind, seq, participant_ids = row
            _remember_kind(conversation_id, conversation_kind)
            if sender is not None and conversation_kind == Conversation.Kind.PLATFORM:
                raise ConversationReadOnly()
            if may_be_consult and conversation_kind == Conversation.Kind.CONSULT:
                consult_message_gate(locked=locked, sender=sender)
            cursor.execute(_INSERT_SQL, {**params, "seq": seq})
            (message_id,) = cursor.fetchone()
    return _loaded_message(message_id, seq, params), list(participant_ids)


def _loaded_message(message_id: int, seq: int, params: dict[str, Any]) -> Message:
    notice = params["notice"]
    message = Message(
        id=message_id,
        conversation_id=params["conversation"],
        seq=seq,
        sender_id=params["sender"],
        kind=params["kind"],
        body=params["body"],
        client_id=params["client_id"],
        notice=notice.obj if notice is not None else None,
        created_at=params["now"],
    )
    message._state.adding = False
    message._state.db = connection.alias
    return message


def _constraint_name(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def message_validate(*, client_id: Any, body: Any) -> None:
    """What a message must be before anything is stored (also checked by the socket before it
    spends a database round trip)."""
    # PostgreSQL text cannot hold NUL: refused here, not failed as "not stored, send again"
    if (
        not isinstance(client_id, str)
        or not 1 <= len(client_id) <= CLIENT_ID_MAX_CHARS
        or "\x00" in client_id
    ):
        raise InvalidField("client_id")
    if not isinstance(body, str) or "\x00" in body:
        raise InvalidField("body")
    if not body.strip():
        raise MessageEmpty()
    if len(body) > BODY_MAX_CHARS:
        raise MessageTooLong()


def message_send(
    *, sender: User, conversation_id: int, client_id: str, body: str
) -> tuple[Message, bool]:
    """Store a chat message and deliver it after commit: `message.new` to every socket of every
    participant (the sender's other sockets too). The socket that sent it answers with
    `events.message_ack(message)`.

    Idempotent per (sender, client_id): a resend, also one racing from another socket of the
    same user, returns `(original, False)` and stores and delivers nothing. Raises
    ConversationNotFound when the sender is not in the conversation, the consult gate's errors
    for a consult that no longer takes messages, and MessageNotStored when the database fails.
    """
    message_validate(client_id=client_id, body=body)
    try:
        message, participant_ids = _store(
            conversation_id=conversation_id,
            sender=sender,
            kind=Message.Kind.TEXT,
            body=body,
            client_id=client_id,
        )
    except IntegrityError as exc:
        if _constraint_name(exc) != CLIENT_ID_CONSTRAINT:
            logger.warning(
                "message not stored in conversation %s: %s", conversation_id, type(exc).__name__
            )
            raise MessageNotStored() from exc
        original = Message.objects.filter(sender=sender, client_id=client_id).first()
        if original is None:  # pragma: no cover - the constraint just said it exists
            raise MessageNotStored() from exc
        if original.conversation_id != conversation_id:
            raise ClientIdReused() from exc
        return original, False
    except DomainError:
        # a resend of a message stored before the consult closed still gets its ack
        original = Message.objects.filter(
            sender=sender, client_id=client_id, conversation_id=conversation_id
        ).first()
        if original is not None:
            return original, False
        raise
    except DatabaseError as exc:
        logger.warning(
            "message not stored in conversation %s: %s", conversation_id, type(exc).__name__
        )
        raise MessageNotStored() from exc
    push_to_users_on_commit(participant_ids, events.message_new(message))
    return message, True


@dataclass(frozen=True)
class OutgoingMessage:
    """A chat message a socket asked to send: what `message_send` takes."""

    sender: User
    conversation_id: int
    client_id: str
    body: str


SendResult = tuple[Message, bool] | Exception


_BATCHABLE_KINDS = (Conversation.Kind.DIRECT, Conversation.Kind.CONSULT)


def message_batchable(*, conversation_id: int) -> bool:
    """Whether a chat message into this conversation can be stored in a batch: one whose kind
    this process knows (a direct conversation, or a consult's, whose gate then runs inside
    the batch)."""
    return _conversation_kinds.get(conversation_id) in _BATCHABLE_KINDS


def _learn_kinds(conversation_ids: set[int]) -> None:
    """The kinds of the conversations this process has not seen yet, in one query, so that
    their messages join the batch too. Only routing: storing checks who may send where."""
    unknown = [pk for pk in conversation_ids if pk not in _conversation_kinds]
    if unknown:
        for pk, kind in Conversation.objects.filter(pk__in=unknown).values_list("pk", "kind"):
            _remember_kind(pk, kind)


def message_send_many(*, messages: Sequence[OutgoingMessage]) -> list[SendResult]:
    """Send several chat messages, from any senders, with one commit for all of them (group
    commit), and deliver them after it. Each result is what `message_send` returns for that
    message, or the exception it raises.

    Messages into direct and consult conversations are stored together in one transaction
    (the kinds of conversations this process has not seen yet are read first, in one query):
    those into direct conversations as one pipelined round trip of `_STORE_SQL` statements,
    then those into consults the same way with the consult's gate as each statement's first
    step, or one by one through the full gate when it has something to decide
    (`_store_consult_messages`). Direct conversations go first, then consults', each in id
    order, and a consult's row is locked before its conversation's, so two processes' batches
    take their locks in one order and never deadlock. When a statement fails (a lost
    connection) the transaction rolls back and every message goes through `message_send`
    alone, as do messages into a conversation that does not exist and those that stored
    nothing or were refused (the single path says why and answers resends). So the results
    never differ from sending each message alone; only the number of commits does."""
    results: list[SendResult | None] = [None] * len(messages)
    batched: list[int] = []
    alone: list[int] = []
    if len(messages) > 1:
        _learn_kinds({outgoing.conversation_id for outgoing in messages})
    for n, outgoing in enumerate(messages):
        try:
            message_validate(client_id=outgoing.client_id, body=outgoing.body)
        except DomainError as exc:
            results[n] = exc
            continue
        if message_batchable(conversation_id=outgoing.conversation_id):
            batched.append(n)
        else:
            alone.append(n)
    if len(batched) == 1:
        alone.extend(batched)
    elif batched:
        alone.extend(_store_batch(messages, batched, results))
    for n in sorted(alone):
        outgoing = messages[n]
        try:
            results[n] = message_send(
                sender=outgoing.sender,
                conversation_id=outgoing.conversation_id,
                client_id=outgoing.client_id,
                body=outgoing.body,
            )
        except Exception as exc:  # handed to the socket that sent it, as message_send raises
            results[n] = exc
    return cast(list[SendResult], results)


def _store_batch(
    messages: Sequence[OutgoingMessage], batched: list[int], results: list[SendResult | None]
) -> list[int]:
    """Store `batched` (indexes into messages) in one transaction; fill in their results and
    return the indexes left for `message_send` to take alone."""
    # direct conversations first, then consults', each in id order (stable: arrival order), so
    # that two processes' batches take their locks in one global order
    gated = sorted(
        (n for n in batched if _kind_of(messages[n]) == Conversation.Kind.CONSULT),
        key=lambda n: messages[n].conversation_id,
    )
    order = sorted(
        (n for n in batched if _kind_of(messages[n]) != Conversation.Kind.CONSULT),
        key=lambda n: messages[n].conversation_id,
    )
    now = timezone.now()
    params = [_text_params(messages[n], now, Conversation.Kind.DIRECT) for n in order]
    left: list[int] = []
    try:
        with transaction.atomic():
            connection.ensure_connection()
            rows = _store_pipelined(_STORE_SQL, params)
            deliveries = []
            for n, row, param in zip(order, rows, params, strict=True):
                if row is None:
                    left.append(n)
                    continue
                message_id, seq, participant_ids = row
                message = _loaded_message(message_id, seq, param)
                results[n] = (message, True)
                deliveries.append((list(participant_ids), events.message_new(message)))
            consult_stored = _store_consult_messages([messages[n] for n in gated], now)
            for n, stored in zip(gated, consult_stored, strict=True):
                if stored is None:
                    left.append(n)
                    continue
                results[n] = (stored[0], True)
                deliveries.append((stored[1], events.message_new(stored[0])))
            push_many_on_commit(deliveries)
    except DatabaseError as exc:
        # one statement's error aborts the whole transaction: each message goes alone instead
        logger.info("message batch of %s rolled back: %s", len(batched), type(exc).__name__)
        for n in batched:
            results[n] = None
        return sorted(batched)
    return left


def _text_params(outgoing: OutgoingMessage, now: datetime, kind: str) -> dict[str, Any]:
    """The parameters of `_STORE_SQL` (or its consult form) for a chat message in a batch."""
    return {
        "now": now,
        "conversation": outgoing.conversation_id,
        "sender": outgoing.sender.pk,
        "kind": Message.Kind.TEXT,
        "body": outgoing.body,
        "client_id": outgoing.client_id,
        "notice": None,
        "expected_kind": kind,
    }


def _store_pipelined(sql: str, params: list[dict[str, Any]]) -> list[Any]:
    """One row (or None) per parameter set, in one round trip, inside the caller's transaction.
    psycopg's own cursor, not Django's client-side binding one: executemany pipelines the
    statements and prepares `sql` once per connection (PostgreSQL then skips parsing and
    planning it for every message)."""
    if not params:
        return []
    rows: list[Any] = []
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
        raw.executemany(sql, params, returning=True)
        while True:
            rows.append(raw.fetchone())
            if not raw.nextset():
                break
    if len(rows) != len(params):  # pragma: no cover - psycopg returns one set each
        raise DatabaseError("a batched statement returned no result set")
    return rows


class _GateMustDecide(Exception):
    """A consult message in a batch needs the full gate: undo the batch's one-statement try."""


def _store_consult_messages(
    outgoing: list[OutgoingMessage], now: datetime
) -> list[tuple[Message, list[int]] | None]:
    """Consult messages inside a batch, in arrival order per conversation. In one pipelined
    round trip when the gate has nothing to decide for any of them (the common case: a consult
    under way). Otherwise (a lawyer's first reply, a consult that is over) that try is rolled
    back and each goes through the full gate in a savepoint, so that a first reply keeps its
    place before the messages sent after it. None: that message goes alone."""
    params = [_text_params(message, now, Conversation.Kind.CONSULT) for message in outgoing]
    if len(params) > 1:
        try:
            with transaction.atomic():
                rows = _store_pipelined(_store_consult_sql(), params)
                if any(row is None for row in rows):
                    raise _GateMustDecide()
        except _GateMustDecide:
            pass
        else:
            return [
                (_loaded_message(message_id, seq, param), list(participant_ids))
                for (message_id, seq, participant_ids), param in zip(rows, params, strict=True)
            ]
    return [_store_gated(message) for message in outgoing]


def _kind_of(outgoing: OutgoingMessage) -> str | None:
    return _conversation_kinds.get(outgoing.conversation_id)


def _store_gated(outgoing: OutgoingMessage) -> tuple[Message, list[int]] | None:
    """One consult message inside a batch, its gate included, in a savepoint: a refusal (the
    consult is over) or a resend leaves the batch whole, and returns None so that
    `message_send` alone gives that message its exact answer."""
    try:
        with transaction.atomic():
            return _store(
                conversation_id=outgoing.conversation_id,
                sender=outgoing.sender,
                kind=Message.Kind.TEXT,
                body=outgoing.body,
                client_id=outgoing.client_id,
            )
    except (DomainError, IntegrityError):
        return None


def message_import(
    *, sender: User, conversation_id: int, client_id: str, body: str, sent_at: datetime
) -> tuple[Message, bool]:
    """Store a message of the past (seeding, importing history) with its original time: the
    same checks, seq and idempotency as `message_send`, but no frames and no consult gate (a
    closed consult's history is still history). Import each conversation in time order."""
    message_validate(client_id=client_id, body=body)
    try:
        message, _participants = _store(
            conversation_id=conversation_id,
            sender=sender,
            kind=Message.Kind.TEXT,
            body=body,
            client_id=client_id,
            sent_at=sent_at,
            gate=False,
        )
    except IntegrityError as exc:
        if _constraint_name(exc) != CLIENT_ID_CONSTRAINT:
            raise
        original = Message.objects.get(sender=sender, client_id=client_id)
        if original.conversation_id != conversation_id:
            raise ClientIdReused() from exc
        return original, False
    return message, True


# --- read cursors -------------------------------------------------------------------------
_MARK_READ_SQL = """
UPDATE messaging_participant AS p
   SET last_read_seq = LEAST(%(seq)s, c.last_seq)
  FROM messaging_conversation AS c
 WHERE c.id = p.conversation_id
   AND p.conversation_id = %(conversation)s AND p.user_id = %(user)s
   AND p.last_read_seq < LEAST(%(seq)s, c.last_seq)
RETURNING p.last_read_seq,
          ARRAY(SELECT o.user_id FROM messaging_participant AS o
                 WHERE o.conversation_id = p.conversation_id)
"""


def conversation_mark_read(*, user: User, conversation_id: int, seq: int) -> int:
    """Move the user's read cursor forward to `seq` (never back, never past the last message)
    and tell every participant (`read` frame) after commit. Returns the cursor."""
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InvalidField("seq")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _MARK_READ_SQL, {"seq": seq, "conversation": conversation_id, "user": user.pk}
            )
            row = cursor.fetchone()
        if row is not None:
            last_read_seq, participant_ids = row
            push_to_users_on_commit(
                participant_ids,
                events.read(conversation_id=conversation_id, user_id=user.pk, seq=last_read_seq),
            )
            return int(last_read_seq)
    current = (
        Participant.objects.filter(conversation_id=conversation_id, user=user)
        .values_list("last_read_seq", flat=True)
        .first()
    )
    if current is None:
        raise ConversationNotFound()
    return int(current)


# --- platform notices ---------------------------------------------------------------------
def notice_send(*, user: User, kind: str, context: dict[str, Any] | None = None) -> Message:
    """Send the user a platform notice (see messaging.notices for kinds and their context). It
    lands in the user's `platform` conversation with no sender and arrives on the socket as a
    `message.new` with `from_platform: true`. Idempotent: a notice is sent once per kind and
    consult (a welcome once per user), so a retried task never sends it twice. May run inside
    the caller's transaction: delivery waits for its commit."""
    spec = notice_kind(kind)
    params = spec.resolve(user, context or {})
    key = spec.key(kind, params)
    inbox = platform_inbox(user_id=user.pk)
    existing = Message.objects.filter(conversation=inbox, sender__isnull=True, client_id=key)
    found = existing.first()
    if found is not None:
        return found
    with translation.override(settings.LANGUAGE_CODE):
        body = render_notice(kind, params)
    try:
        message, participant_ids = _store(
            conversation_id=inbox.pk,
            sender=None,
            kind=Message.Kind.NOTICE,
            body=body,
            client_id=key,
            notice={"kind": kind, "params": params},
        )
    except IntegrityError as exc:
        if _constraint_name(exc) != NOTICE_KEY_CONSTRAINT:
            raise
        return existing.get()
    push_to_users_on_commit(participant_ids, events.message_new(message))
    return message


# --- staff access -------------------------------------------------------------------------
def staff_access_record(*, staff: User, conversation: Conversation, reason: str) -> None:
    """Audit: a staff member is about to read a private conversation."""
    if not staff.is_staff_member:
        raise ConversationNotFound()
    StaffAccessRecord.objects.create(
        staff=staff, conversation=conversation, reason=(reason or "").strip()[:200]
    )
