"""Consults, offers and conversations for page tests (built with the models, not services, so
the pages can be tested whatever state a backend is in)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from marketplace.models import Consult, Offer
from messaging.models import Conversation, Message, Participant
from tests.factories import QuestionFactory as BaseQuestionFactory
from tests.factories import city


class QuestionFactory(BaseQuestionFactory):
    """Pages show the question's city: Jining here."""

    title = factory.Sequence(lambda n: f"信用卡逾期 {n} 个月，银行起诉怎么办？")
    body = "欠款三万，银行打电话说要起诉，我该怎么应对？"
    city = factory.LazyFunction(lambda: city("370800"))


class ConsultFactory(factory.django.DjangoModelFactory[Consult]):
    class Meta:
        model = Consult

    question = factory.SubFactory(QuestionFactory)
    asker = factory.SelfAttribute("question.asker")
    state = Consult.State.QUEUED
    is_paid = True
    price = 4900
    queued_at = factory.LazyFunction(timezone.now)
    sla_deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=10))


def open_chat(consult: Consult, lawyer, *, messages: int = 0) -> Conversation:
    """Make the consult active with `lawyer` and a conversation holding `messages` messages,
    alternating asker / lawyer."""
    conversation = Conversation.objects.create(kind=Conversation.Kind.CONSULT)
    Participant.objects.create(conversation=conversation, user=consult.asker)
    Participant.objects.create(conversation=conversation, user=lawyer)
    for seq in range(1, messages + 1):
        sender = consult.asker if seq % 2 else lawyer
        Message.objects.create(
            conversation=conversation,
            seq=seq,
            sender=sender,
            body=f"消息 {seq}",
            client_id=f"c{conversation.pk}-{seq}",
        )
    conversation.last_seq = messages
    conversation.save(update_fields=["last_seq"])
    consult.lawyer = lawyer
    consult.conversation = conversation
    consult.state = Consult.State.ACTIVE
    consult.accepted_at = timezone.now()
    consult.save()
    return conversation


def offer_to(consult: Consult, lawyer, *, seconds: int = 60) -> Offer:
    consult.state = Consult.State.OFFERED
    consult.save(update_fields=["state"])
    return Offer.objects.create(
        consult=consult,
        lawyer=lawyer,
        scope=Consult.Scope.CITY,
        expires_at=timezone.now() + timedelta(seconds=seconds),
    )
