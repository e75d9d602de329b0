"""A payment's moves reach the consult's participants on the real socket, through the real
Celery worker that settles the payment."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from billing.services import consult_sla_expire_due, payment_sandbox_authorize
from marketplace.models import Consult
from messaging.services import message_send
from tests.billing.factories import make_active, paid_consult
from tests.conftest import receive_until
from tests.factories import AskerFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("sandbox_on", "celery_test_worker"),
]
db = sync_to_async


def sandbox_paid_active_consult(*, overdue: bool = False) -> Consult:
    """An active consult whose sandbox payment is authorised, for a new asker."""
    consult, payment = paid_consult(asker=AskerFactory())
    payment_sandbox_authorize(payment_id=payment.pk, user=consult.asker)
    queued_at = timezone.now() - timedelta(seconds=601 if overdue else 60)
    make_active(Consult.objects.get(pk=consult.pk), queued_at=queued_at)
    return Consult.objects.select_related("asker", "lawyer").get(pk=consult.pk)


async def payment_state_heard(sock, consult_id: int, timeout: float = 15) -> tuple[str, str]:
    """The next `consult.updated` of the consult that carries its payment: (consult state,
    payment state)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = await receive_until(sock, "consult.updated", timeout=deadline - time.monotonic())
        consult = frame["consult"]
        if consult["id"] == consult_id and "payment" in consult:
            return consult["state"], consult["payment"]["state"]


async def test_askers_socket_hears_the_capture_that_the_lawyers_first_reply_causes(ws):
    # given an asker in the room of an active consult with an authorised payment
    consult = await db(sandbox_paid_active_consult)()
    sock = await ws(consult.asker)
    # when the lawyer replies first (the worker captures the payment after commit)
    await db(message_send)(
        sender=consult.lawyer,
        conversation_id=consult.conversation_id,
        client_id="first",
        body="您好，我是您的律师。",
    )
    # then
    assert await payment_state_heard(sock, consult.pk) == ("active", "captured")


async def test_askers_socket_hears_the_cancel_when_nobody_replied_in_time(ws):
    # given an overdue consult with an authorised payment
    consult = await db(sandbox_paid_active_consult)(overdue=True)
    sock = await ws(consult.asker)
    # when the SLA sweep expires it (the worker cancels the payment after commit)
    await db(consult_sla_expire_due)()
    # then
    assert await payment_state_heard(sock, consult.pk) == ("expired", "canceled")
