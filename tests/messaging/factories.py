"""Conversations for messaging tests, made through the services (the only writer)."""

from __future__ import annotations

from accounts.models import User
from marketplace.models import Consult, Question
from messaging.models import Conversation
from messaging.services import conversation_open, conversation_open_for_consult
from tests.factories import category, city


def direct_conversation(*users: User) -> Conversation:
    return conversation_open(kind=Conversation.Kind.DIRECT, user_ids=[u.pk for u in users])


def consult_with_conversation(
    asker: User, lawyer: User, *, state: str = Consult.State.ACTIVE
) -> Consult:
    question = Question.objects.create(
        asker=asker,
        title="欠款不还怎么办",
        body="朋友借了两万元一直不还，有借条。",
        category=category(),
        city=city(),
    )
    consult = Consult.objects.create(question=question, asker=asker, lawyer=lawyer, state=state)
    conversation_open_for_consult(consult=consult)
    return consult
