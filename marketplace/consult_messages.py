"""The consult side of a chat message: messaging.services.message_send calls
`consult_message_gate` inside its transaction, with the conversation row locked, before it stores
a message in a `consult` conversation. It may refuse (raise a DomainError) or record what a
message means for the consult (the lawyer's first reply)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.errors import Conflict
from marketplace.models import Consult


class ConsultExpired(Conflict):
    code = "consult_expired"
    message = _("This consultation expired before a lawyer replied; no more messages can be sent.")


class ConsultClosed(Conflict):
    code = "consult_closed"
    message = _("This consultation is closed.")


def consult_message_gate(*, conversation, sender) -> None:
    consult = Consult.objects.select_for_update().filter(conversation=conversation).first()
    if consult is None:
        return
    if consult.state == Consult.State.EXPIRED:
        raise ConsultExpired()
    if consult.state in {Consult.State.RESOLVED, Consult.State.REFUNDED, Consult.State.CANCELED}:
        raise ConsultClosed()
