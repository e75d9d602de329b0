"""Marketplace factories: questions, consults and offers in any state."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from marketplace.models import Consult, Offer
from tests.factories import LawyerFactory, QuestionFactory


class ConsultFactory(factory.django.DjangoModelFactory[Consult]):
    """A consult written straight to the database (bypassing the state machine) for tests
    that need one in a given state."""

    class Meta:
        model = Consult

    question = factory.SubFactory(QuestionFactory)
    asker = factory.LazyAttribute(lambda o: o.question.asker)
    state = Consult.State.QUEUED
    queued_at = factory.LazyFunction(timezone.now)
    scope_widened_at = factory.LazyAttribute(lambda o: o.queued_at)
    sla_deadline = factory.LazyAttribute(lambda o: o.queued_at + timedelta(minutes=10))


class OfferFactory(factory.django.DjangoModelFactory[Offer]):
    class Meta:
        model = Offer

    consult = factory.SubFactory(ConsultFactory, state=Consult.State.OFFERED)
    lawyer = factory.SubFactory(LawyerFactory)
    scope = Consult.Scope.CITY
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(seconds=60))
