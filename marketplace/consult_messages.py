"""The consult side of a chat message: messaging.services.message_send calls
`consult_message_gate` inside its transaction, with the conversation row locked, before it stores
a message in a `consult` conversation. It may refuse (raise a DomainError) or record what a
message means for the consult (the lawyer's first reply)."""

from __future__ import annotations

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


# the gate's read, in fixed SQL: it runs for every message of every consult chat
_LOCK_CONSULT_SQL = """
SELECT id, state, lawyer_id, first_reply_at
  FROM marketplace_consult
 WHERE conversation_id = %s
   FOR UPDATE
"""


def consult_message_gate(*, conversation, sender) -> Consult | None:
    """Refuse messages into a consult that is over; stamp the lawyer's first reply (which
    stops the SLA clock). Locks the consult row until the message's transaction ends, so a
    first reply racing the SLA sweep ends either answered or expired, never both. Returns the
    consult when this message was the lawyer's first reply."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_CONSULT_SQL, [conversation.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    consult_id, state, lawyer_id, first_reply_at = row
    if state == Consult.State.EXPIRED:
        raise ConsultExpired()
    if state in consult_states.CLOSED_STATES:
        raise ConsultClosed()
    is_first_reply = (
        sender.pk == lawyer_id and state == Consult.State.ACTIVE and first_reply_at is None
    )
    if not is_first_reply:
        return None
    consult = consult_states.consult_record_first_reply(consult_id=consult_id)
    # --- BILLING HOOK: capture the consult's payment at the lawyer's first reply ---------------
    # (billing adds its call here: it decides the capture under this same consult lock)
    from billing.services import payment_capture_on_first_reply

    payment_capture_on_first_reply(consult=consult)
    return consult
