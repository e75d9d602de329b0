"""Consults in a given state, and their payments, for billing tests. Consults are made with the
models (the marketplace's state machine is exercised where a test is about a transition)."""

from __future__ import annotations

from datetime import datetime, timedelta

import factory
from django.utils import timezone

from billing.models import Payment
from billing.services import (
    payment_capture_on_first_reply,
    payment_create_for_consult,
    payment_sandbox_authorize,
    payment_settle,
)
from marketplace.models import Consult, Offer
from messaging.models import Conversation, Participant
from tests.factories import LawyerProfileFactory
from tests.factories import QuestionFactory as BaseQuestionFactory


class QuestionFactory(BaseQuestionFactory):
    """Consults here come from private questions."""

    title = factory.Sequence(lambda n: f"借款纠纷 {n}：朋友借钱不还怎么办？")
    body = "朋友借了两万元，有借条，一直不还。"
    is_public = False


def pending_consult(*, asker=None, price: int = 4900, currency: str = "CNY") -> Consult:
    question = QuestionFactory(**({"asker": asker} if asker else {}))
    return Consult.objects.create(
        question=question,
        asker=question.asker,
        state=Consult.State.PENDING_PAYMENT,
        is_paid=True,
        price=price,
        currency=currency,
    )


def paid_consult(*, asker=None, price: int = 4900) -> tuple[Consult, Payment]:
    """A consult waiting for payment, with its payment (gateway chosen by the settings)."""
    consult = pending_consult(asker=asker, price=price)
    return consult, payment_create_for_consult(consult=consult)


def make_active(
    consult: Consult,
    lawyer=None,
    *,
    queued_at: datetime | None = None,
    offered_at: datetime | None = None,
    accepted_at: datetime | None = None,
    sla_seconds: int = 600,
) -> Consult:
    """Queued → offered → active with `lawyer`, a consult conversation, an accepted offer."""
    lawyer = lawyer or LawyerProfileFactory().user
    now = timezone.now()
    queued_at = queued_at or now
    offered_at = offered_at or queued_at
    accepted_at = accepted_at or offered_at
    conversation = Conversation.objects.create(kind=Conversation.Kind.CONSULT)
    Participant.objects.bulk_create(
        [
            Participant(conversation=conversation, user=consult.asker),
            Participant(conversation=conversation, user=lawyer),
        ]
    )
    offer = Offer.objects.create(
        consult=consult,
        lawyer=lawyer,
        state=Offer.State.ACCEPTED,
        scope=Consult.Scope.CITY,
        expires_at=offered_at + timedelta(seconds=60),
        responded_at=accepted_at,
    )
    Offer.objects.filter(pk=offer.pk).update(created_at=offered_at)
    Consult.objects.filter(pk=consult.pk).update(
        state=Consult.State.ACTIVE,
        lawyer=lawyer,
        conversation=conversation,
        paid_at=consult.paid_at or queued_at,
        queued_at=queued_at,
        first_offered_at=offered_at,
        accepted_at=accepted_at,
        sla_deadline=queued_at + timedelta(seconds=sla_seconds),
    )
    consult.refresh_from_db()
    return consult


def captured_for(lawyer, asker, *, price: int = 4900) -> Payment:
    """A paid consult of `lawyer`, answered, its payment captured and settled."""
    consult, payment = paid_consult(asker=asker, price=price)
    payment_sandbox_authorize(payment_id=payment.pk, user=asker)
    consult = make_active(Consult.objects.get(pk=consult.pk), lawyer)
    Consult.objects.filter(pk=consult.pk).update(first_reply_at=timezone.now())
    payment_capture_on_first_reply(consult=consult)
    payment_settle(payment_id=payment.pk)
    return payment
