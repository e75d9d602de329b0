"""The SLA sweep run twice at once (two beats by mistake, or a sweep still running when the next
one starts), on two real workers, against Stripe (a local fake that records every operation it
carries out): each overdue consult expires once, its authorisation is cancelled once at the
gateway, and its asker is told once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Payment
from billing.services import payment_prepare
from marketplace.models import Consult
from messaging.models import Message
from tests.billing.conftest import fake_stripe, stripe_on  # noqa: F401 - fixtures used here
from tests.billing.factories import make_active, paid_consult
from tests.reliability.conftest import wait_until

pytestmark = [
    pytest.mark.fault,
    pytest.mark.timeout(120),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OVERDUE = 60


def overdue_consults(fake, count: int) -> list[Consult]:
    """Paid consults authorised at the fake Stripe, their deadline passed: half still waiting
    for a lawyer (queued), half taken by one who never replied (active)."""
    consults = []
    for i in range(count):
        consult, payment = paid_consult()
        payment = payment_prepare(payment=payment)
        fake.authorize(payment.gateway_reference)
        Payment.objects.filter(pk=payment.pk).update(
            state=Payment.State.AUTHORIZED, authorized_at=timezone.now()
        )
        queued_at = timezone.now() - timedelta(seconds=700)
        if i % 2:
            consult = make_active(consult, queued_at=queued_at)
        else:
            Consult.objects.filter(pk=consult.pk).update(
                state=Consult.State.QUEUED,
                queued_at=queued_at,
                sla_deadline=queued_at + timedelta(seconds=600),
            )
        consults.append(consult)
    return consults


def test_two_sweeps_at_once_expire_and_cancel_each_consult_once(stack, stripe_on):  # noqa: F811
    fake = stripe_on
    # given overdue consults with authorised payments
    consults = overdue_consults(fake, OVERDUE)
    intents = set(Payment.objects.values_list("gateway_reference", flat=True))
    # and two workers configured for that Stripe
    stripe_env = {
        "STRIPE_SECRET_KEY": "sk_test_lawline",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_lawline",
        "STRIPE_API_BASE": fake.url,
        "STRIPE_WEBHOOK_SECRET": "whsec_test_lawline",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
    }
    for _ in range(2):
        stack.celery_worker(**stripe_env)

    # when the sweep is sent twice at once, one to each worker
    client = stack.celery_client()
    sweeps = [client.send_task("workers.billing_sla_sweep", ignore_result=False) for _ in range(2)]
    expired = [sweep.get(timeout=60) for sweep in sweeps]

    # then the two sweeps shared the consults between them, each one once
    assert sum(expired) == OVERDUE
    assert all(count > 0 for count in expired), f"the sweeps did not overlap: {expired}"
    states = Counter(
        Consult.objects.filter(pk__in=[c.pk for c in consults]).values_list("state", flat=True)
    )
    assert states == {Consult.State.EXPIRED: OVERDUE}
    # and every authorisation is cancelled at the gateway exactly once (by the settle tasks)
    wait_until(
        lambda: set(Payment.objects.values_list("state", flat=True)) == {Payment.State.CANCELED},
        timeout=60,
        what="every payment cancelled",
    )
    assert Counter(fake.operations_of("cancel")) == dict.fromkeys(intents, 1)
    # and every asker got one notice
    notices = Counter(
        Message.objects.filter(notice__kind="consult_expired").values_list(
            "conversation__participants__user_id", flat=True
        )
    )
    assert notices == {c.asker_id: 1 for c in consults}
    # and a third sweep finds nothing left to do
    assert client.send_task("workers.billing_sla_sweep", ignore_result=False).get(timeout=30) == 0
    assert Counter(fake.operations_of("cancel")) == dict.fromkeys(intents, 1)
