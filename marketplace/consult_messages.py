"""The consult side of a chat message. messaging.services stores a message into a `consult`
conversation in one of two ways, both inside the message's transaction and both locking the
consult row before the conversation row (one lock order for every path, so two processes'
batches never deadlock):

- in one statement, when the gate has nothing to decide (the consult takes messages and this
  is not the lawyer's first reply): `PLAIN_MESSAGE_ADMISSION_SQL` is that statement's first step;
- otherwise through `consult_message_lock` and then `consult_message_gate`, which may refuse
  (raise a DomainError) or record what the message means for the consult (the lawyer's first
  reply)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.utils.translation import gettext_lazy as _

from config.errors import Conflict
from marketplace import consult_states
from marketplace.models import Consult


class ConsultExpired(Conflict):
    code = "consult_expired"
    message = _("This consultation expired before a lawyer replied; no more messages can be sent.")


class ConsultClosed(Conflict):
    code = "consult_closed"
    message = _("This consultation is closed.")


# the gate's read, in fixed SQL: it runs for every message the one statement does not admit
_LOCK_CONSULT_SQL = """
SELECT id, state, lawyer_id, first_reply_at
  FROM marketplace_consult
 WHERE conversation_id = %s
   FOR UPDATE
"""

_REFUSED_STATES = sorted(consult_states.CLOSED_STATES | {Consult.State.EXPIRED})

# The first step of messaging's one-statement store of a consult message (parameters
# `conversation` and `sender`): locks the consult and yields its row only when the gate has
# nothing to decide. A consult that changes meanwhile is judged as it is once the lock is
# granted (PostgreSQL re-checks the row it waited for). No row: the message goes through
# consult_message_lock and consult_message_gate instead, which say why or record the reply.
PLAIN_MESSAGE_ADMISSION_SQL = f"""
SELECT k.id
  FROM marketplace_consult AS k
 WHERE k.conversation_id = %(conversation)s
   AND k.state NOT IN ({", ".join(f"'{state}'" for state in _REFUSED_STATES)})
   AND NOT (k.state = '{Consult.State.ACTIVE}' AND k.first_reply_at IS NULL
            AND k.lawyer_id IS NOT DISTINCT FROM %(sender)s::bigint)
   FOR UPDATE
"""  # noqa: S608 - the states are the model's own constants


class LockedConsult(NamedTuple):
    id: int
    state: str
    lawyer_id: int | None
    first_reply_at: datetime | None


def consult_message_lock(*, conversation_id: int) -> LockedConsult | None:
    """The conversation's consult, its row locked until the transaction ends; None when the
    conversation is not a consult's. Taken before the conversation row."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_CONSULT_SQL, [conversation_id])
        row = cursor.fetchone()
    return None if row is None else LockedConsult(*row)


def consult_message_gate(*, locked: LockedConsult | None, sender) -> Consult | None:
    """Refuse messages into a consult that is over; stamp the lawyer's first reply (which
    stops the SLA clock). `locked` comes from consult_message_lock in the same transaction, so
    a first reply racing the SLA sweep ends either answered or expired, never both. Returns the
    consult when this message was the lawyer's first reply."""
    if locked is None:
        return None
    if locked.state == Consult.State.EXPIRED:
        raise ConsultExpired()
    if locked.state in consult_states.CLOSED_STATES:
        raise ConsultClosed()
    is_first_reply = (
        sender.pk == locked.lawyer_id
        and locked.state == Consult.State.ACTIVE
        and locked.first_reply_at is None
    )
    if not is_first_reply:
        return None
    consult = consult_states.consult_record_first_reply(consult_id=locked.id)
    # --- BILLING HOOK: capture the consult's payment at the lawyer's first reply ---------------
    # (billing adds its call here: it decides the capture under this same consult lock)
    from billing.services import payment_capture_on_first_reply

    payment_capture_on_first_reply(consult=consult)
    return consult
