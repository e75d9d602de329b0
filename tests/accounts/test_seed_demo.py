"""`seed_demo` (accounts/management/commands/seed_demo.py) after a demo account was deleted:
`make run` seeds on every start, and must not make the demo world's content a second time."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from accounts.services import user_delete
from marketplace.models import Consult, LawyerProfile, Question
from messaging.models import Conversation, Message
from qa.models import Answer

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


def world() -> dict[str, int]:
    """The demo content: a fresh account gets only its own inbox and welcome notice."""
    return {
        "questions": Question.objects.count(),
        "answers": Answer.objects.count(),
        "consults": Consult.objects.count(),
        "chats": Conversation.objects.filter(kind=Conversation.Kind.DIRECT).count(),
        "messages": Message.objects.filter(sender__isnull=False).count(),
    }


def delete(username: str) -> User:
    user = User.objects.get(username=username)
    user_delete(user=user, password=DEMO_PASSWORD, confirmed=True, address="127.0.0.1")
    return user


def test_deleted_demo_accounts_come_back_fresh_without_a_second_copy_of_the_demo():
    # one seeded world for both cases: seeding it is most of this test's time
    # given the demo world, a demo asker with public questions and a chat, and a demo lawyer
    # with published answers and a chat
    seed()
    before = world()
    asker = User.objects.get(username="asker002")
    asked = set(Question.objects.filter(asker=asker).values_list("pk", flat=True))
    assert Question.objects.filter(pk__in=asked, is_public=True).exists()
    assert Message.objects.filter(sender=asker).exists()
    lawyer = User.objects.get(username="lawyer007")
    assert Answer.objects.filter(lawyer=lawyer).exists()
    assert Message.objects.filter(sender=lawyer).exists()
    # when both delete their accounts, and `make run` seeds the demo world again
    delete("asker002")
    delete("lawyer007")
    seed()
    # then no question, answer, consult, chat or message was made a second time
    assert world() == before
    # and asker002 is a fresh account: a new row, the demo password, none of the old one's
    fresh = User.objects.get(username="asker002")
    assert fresh.pk != asker.pk and fresh.is_active and fresh.check_password(DEMO_PASSWORD)
    assert not Question.objects.filter(asker=fresh).exists()
    assert not Message.objects.filter(sender=fresh).exists()
    # while the former account keeps its questions, public ones anonymous
    former = User.objects.get(pk=asker.pk)
    assert former.is_deleted
    assert set(Question.objects.filter(asker=former).values_list("pk", flat=True)) == asked
    assert not Question.objects.filter(pk__in=asked, is_public=True, is_anonymous=False).exists()
    # and lawyer007 is a fresh verified demo lawyer with no answers or chats of its own
    fresh_lawyer = User.objects.get(username="lawyer007")
    assert fresh_lawyer.pk != lawyer.pk
    assert LawyerProfile.objects.get(user=fresh_lawyer).is_verified
    assert not Answer.objects.filter(lawyer=fresh_lawyer).exists()
    assert not Message.objects.filter(sender=fresh_lawyer).exists()
