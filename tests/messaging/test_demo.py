import io

import pytest

from accounts import demo as accounts_demo
from accounts.models import User
from messaging import demo
from messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users():
    accounts_demo.seed(io.StringIO())


def test_demo_logins_have_a_chat_with_history_and_a_welcome(demo_users, api):
    demo.seed(io.StringIO())
    asker = User.objects.get(username="asker001")
    lawyer = User.objects.get(username="lawyer001")
    low, high = sorted([asker.pk, lawyer.pk])
    chat = Conversation.objects.get(key=f"direct:{low}:{high}")
    seqs = list(chat.messages.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 4
    times = list(chat.messages.order_by("seq").values_list("created_at", flat=True))
    assert times == sorted(times)
    kinds = {row["kind"] for row in api(asker).get("conversations").json()}
    assert kinds == {"direct", "platform"}


def test_seeding_twice_changes_nothing(demo_users):
    demo.seed(io.StringIO())
    counts = (Conversation.objects.count(), Message.objects.count())
    demo.seed(io.StringIO())
    assert (Conversation.objects.count(), Message.objects.count()) == counts
