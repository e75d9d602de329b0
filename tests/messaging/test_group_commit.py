"""Group commit: several sockets' messages stored in one transaction (`message_send_many`) get
exactly what each would get alone: gap-free seqs, idempotent client_ids, the same errors."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from messaging import group_commit, services
from messaging.errors import ConversationNotFound, MessageEmpty, MessageRateLimited
from messaging.models import Message
from tests.factories import AskerFactory, LawyerFactory
from tests.messaging.factories import direct_conversation

pytestmark = pytest.mark.django_db


def outgoing(sender, conversation, client_id, body="你好"):
    return services.OutgoingMessage(
        sender=sender, conversation_id=conversation.pk, client_id=client_id, body=body
    )


@pytest.fixture
def pushed(monkeypatch):
    """What is published after commit: (user ids, frame) pairs."""
    seen: list = []
    monkeypatch.setattr("accounts.realtime.push_many", lambda pushes: seen.extend(list(pushes)))
    return seen


@pytest.fixture
def seen_conversation(conversation, asker):
    """The conversation, once this process has stored a message in it (so later ones batch)."""
    services.message_send(
        sender=asker, conversation_id=conversation.pk, client_id="first", body="hi"
    )
    assert services.message_batchable(conversation_id=conversation.pk)
    return conversation


def test_a_batch_is_one_transaction_with_consecutive_seqs(
    seen_conversation, asker, lawyer, pushed, django_capture_on_commit_callbacks, monkeypatch
):
    # given three messages from both people of one conversation
    batch = [
        outgoing(asker, seen_conversation, "a1"),
        outgoing(lawyer, seen_conversation, "l1"),
        outgoing(asker, seen_conversation, "a2"),
    ]
    # when they are sent together (none of them alone)
    monkeypatch.setattr(services, "message_send", None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        results = services.message_send_many(messages=batch)
    # then they are stored in arrival order with the next seqs, in one transaction
    assert [(m.client_id, m.seq, created) for m, created in results] == [
        ("a1", 2, True),
        ("l1", 3, True),
        ("a2", 4, True),
    ]
    assert list(
        Message.objects.filter(conversation=seen_conversation)
        .order_by("seq")
        .values_list("seq", "client_id")
    ) == [(1, "first"), (2, "a1"), (3, "l1"), (4, "a2")]
    # and each is delivered to both participants, in one publish after the commit
    assert len(callbacks) == 1
    assert [(sorted(ids), frame["seq"]) for ids, frame in pushed] == [
        (sorted([asker.pk, lawyer.pk]), seq) for seq in (2, 3, 4)
    ]


def test_a_duplicate_client_id_in_a_batch_returns_the_original_and_the_rest_are_stored(
    seen_conversation, asker, lawyer, django_capture_on_commit_callbacks
):
    # given a message already stored
    original, _ = services.message_send(
        sender=asker, conversation_id=seen_conversation.pk, client_id="dup", body="one"
    )
    # when a batch holds its resend between two new messages
    with django_capture_on_commit_callbacks(execute=True):
        results = services.message_send_many(
            messages=[
                outgoing(lawyer, seen_conversation, "l1"),
                outgoing(asker, seen_conversation, "dup", body="one"),
                outgoing(asker, seen_conversation, "a2"),
            ]
        )
    # then the resend gets the original and stores nothing, and seqs have no gap
    assert results[1] == (original, False)
    assert [(m.seq, created) for m, created in (results[0], results[2])] == [
        (original.seq + 1, True),
        (original.seq + 2, True),
    ]
    seqs = list(
        Message.objects.filter(conversation=seen_conversation).values_list("seq", flat=True)
    )
    assert sorted(seqs) == list(range(1, len(seqs) + 1))


def test_an_outsider_in_a_batch_gets_not_found_and_the_others_are_stored(
    seen_conversation, asker, lawyer
):
    outsider = AskerFactory()
    results = services.message_send_many(
        messages=[
            outgoing(asker, seen_conversation, "a1"),
            outgoing(outsider, seen_conversation, "x1"),
            outgoing(lawyer, seen_conversation, "l1"),
        ]
    )
    assert isinstance(results[1], ConversationNotFound)
    assert [m.seq for m, _ in (results[0], results[2])] == [2, 3]
    assert not Message.objects.filter(sender=outsider).exists()


def test_invalid_messages_in_a_batch_get_their_error(seen_conversation, asker):
    results = services.message_send_many(
        messages=[
            outgoing(asker, seen_conversation, "a1", body="   "),
            outgoing(asker, seen_conversation, "a2"),
        ]
    )
    assert isinstance(results[0], MessageEmpty)
    assert results[1][0].seq == 2


def test_batches_over_several_conversations_keep_each_gap_free(asker, lawyer):
    # given two conversations this process has seen
    other = LawyerFactory()
    first, second = direct_conversation(asker, lawyer), direct_conversation(asker, other)
    for conversation in (first, second):
        services.message_send(
            sender=asker, conversation_id=conversation.pk, client_id=f"s{conversation.pk}", body="."
        )
    # when a batch mixes them, the later conversation first
    results = services.message_send_many(
        messages=[
            outgoing(other, second, "o1"),
            outgoing(lawyer, first, "l1"),
            outgoing(asker, second, "a1"),
        ]
    )
    # then each conversation's seqs follow on
    assert [(m.conversation_id, m.seq) for m, _ in results] == [
        (second.pk, 2),
        (first.pk, 2),
        (second.pk, 3),
    ]


@pytest.mark.django_db(transaction=True)
async def test_messages_sent_at_once_from_many_sockets_are_all_stored_gap_free():
    # given ten direct conversations this process has seen
    pairs = []
    for _ in range(10):
        a, b = await sync_to_async(AskerFactory)(), await sync_to_async(LawyerFactory)()
        conversation = await sync_to_async(direct_conversation)(a, b)
        await group_commit.message_send(
            sender=a, conversation_id=conversation.pk, client_id="w", body="."
        )
        pairs.append((a, b, conversation))
    # when both people of each send three messages, all at the same moment
    sends = [
        group_commit.message_send(
            sender=user, conversation_id=conversation.pk, client_id=f"c{n}", body=f"m{n}"
        )
        for a, b, conversation in pairs
        for user in (a, b)
        for n in range(3)
    ]
    results = await asyncio.gather(*sends)
    # then every one is acknowledged with its own seq, gap-free per conversation
    assert all(created for _, created in results)
    for _, _, conversation in pairs:
        seqs = sorted(m.seq for m, _ in results if m.conversation_id == conversation.pk)
        assert seqs == list(range(2, 8))


@pytest.mark.django_db(transaction=True)
async def test_a_batch_refuses_only_the_sender_over_the_rate_limit(settings):
    # given a sender one message short of the limit, in a conversation already seen
    settings.MESSAGING_RATE_LIMIT_COUNT = 3
    a, b = await sync_to_async(AskerFactory)(), await sync_to_async(LawyerFactory)()
    conversation = await sync_to_async(direct_conversation)(a, b)
    for n in range(2):
        await group_commit.message_send(
            sender=a, conversation_id=conversation.pk, client_id=f"w{n}", body="."
        )
    # when the sender sends two more and the other person one, at once
    results = await asyncio.gather(
        *(
            group_commit.message_send(
                sender=user, conversation_id=conversation.pk, client_id=client_id, body="."
            )
            for user, client_id in ((a, "x1"), (a, "x2"), (b, "y1"))
        ),
        return_exceptions=True,
    )
    # then only the sender's message over the limit is refused
    assert [type(r).__name__ for r in results] == ["tuple", "MessageRateLimited", "tuple"]
    assert isinstance(results[1], MessageRateLimited)


# --- consult chats: the consult's gate runs inside the batch -------------------------------
@pytest.fixture
def active_consult():
    from marketplace import services as marketplace_services
    from marketplace.models import Consult
    from tests.factories import LawyerProfileFactory
    from tests.marketplace.factories import ConsultFactory, OfferFactory

    profile = LawyerProfileFactory()
    offer = OfferFactory(consult=ConsultFactory(state=Consult.State.OFFERED), lawyer=profile.user)
    consult = marketplace_services.offer_accept(offer_id=offer.pk, lawyer=profile.user)
    services.message_send(  # this process has now seen the conversation
        sender=consult.asker, conversation_id=consult.conversation_id, client_id="c0", body="您好"
    )
    assert services.message_batchable(conversation_id=consult.conversation_id)
    return consult


def test_consult_messages_batch_with_direct_ones_and_the_first_reply_is_stamped(
    active_consult,
    seen_conversation,
    asker,
    pushed,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    from messaging.models import Conversation

    consult_chat = Conversation.objects.get(pk=active_consult.conversation_id)
    batch = [
        outgoing(active_consult.lawyer, consult_chat, "c-l1", "您好，请说说经过。"),
        outgoing(asker, seen_conversation, "d-a1"),
        outgoing(active_consult.asker, consult_chat, "c-a1", "好的"),
    ]
    monkeypatch.setattr(services, "message_send", None)  # nothing goes alone
    with django_capture_on_commit_callbacks(execute=True):
        results = services.message_send_many(messages=batch)

    assert [(m.client_id, m.seq, created) for m, created in results] == [
        ("c-l1", 2, True),
        ("d-a1", 2, True),
        ("c-a1", 3, True),
    ]
    active_consult.refresh_from_db()
    assert active_consult.first_reply_at is not None
    assert sorted(frame["client_id"] for _, frame in pushed) == [
        "c-a1",
        "c-l1",
        "d-a1",
    ]


def test_a_message_into_a_closed_consult_is_refused_and_the_batch_keeps_no_gap(
    active_consult, seen_conversation, asker, pushed, django_capture_on_commit_callbacks
):
    from marketplace.consult_messages import ConsultClosed
    from marketplace.models import Consult
    from messaging.models import Conversation

    Consult.objects.filter(pk=active_consult.pk).update(state=Consult.State.RESOLVED)
    consult_chat = Conversation.objects.get(pk=active_consult.conversation_id)
    batch = [
        outgoing(asker, seen_conversation, "d-a1"),
        outgoing(active_consult.asker, consult_chat, "c-late"),
        outgoing(asker, seen_conversation, "d-a2"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        results = services.message_send_many(messages=batch)

    assert isinstance(results[1], ConsultClosed)
    assert [(m.client_id, m.seq) for m, _ in (results[0], results[2])] == [("d-a1", 2), ("d-a2", 3)]
    consult_chat.refresh_from_db()
    assert consult_chat.last_seq == 1
    assert not Message.objects.filter(client_id="c-late").exists()


def test_a_batch_of_consult_messages_only_is_one_transaction(
    active_consult, pushed, django_capture_on_commit_callbacks, monkeypatch
):
    from messaging.models import Conversation

    consult_chat = Conversation.objects.get(pk=active_consult.conversation_id)
    batch = [
        outgoing(active_consult.asker, consult_chat, "c-a1"),
        outgoing(active_consult.lawyer, consult_chat, "c-l1"),
    ]
    monkeypatch.setattr(services, "message_send", None)  # nothing goes alone
    with django_capture_on_commit_callbacks(execute=True):
        results = services.message_send_many(messages=batch)

    assert [(m.client_id, m.seq) for m, _ in results] == [("c-a1", 2), ("c-l1", 3)]


def test_messages_into_conversations_not_seen_yet_join_the_batch(
    asker, lawyer, active_consult, pushed, django_capture_on_commit_callbacks, monkeypatch
):
    from messaging.models import Conversation

    # given a direct conversation and a consult's, neither seen by this process yet
    direct = direct_conversation(asker, lawyer)
    consult_chat = Conversation.objects.get(pk=active_consult.conversation_id)
    monkeypatch.setattr(services, "_conversation_kinds", {})
    batch = [
        outgoing(asker, direct, "d-1"),
        outgoing(active_consult.lawyer, consult_chat, "c-1"),
        outgoing(lawyer, direct, "d-2"),
    ]
    # when they are sent together
    monkeypatch.setattr(services, "message_send", None)  # nothing goes alone
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        results = services.message_send_many(messages=batch)
    # then all of them are stored in one transaction, each conversation gap-free
    assert [(m.client_id, m.seq, created) for m, created in results] == [
        ("d-1", 1, True),
        ("c-1", 2, True),
        ("d-2", 2, True),
    ]
    assert len(callbacks) == 1
    assert services.message_batchable(conversation_id=direct.pk)
    assert services.message_batchable(conversation_id=consult_chat.pk)


@pytest.fixture
def answered_consult(active_consult):
    """The active consult once the lawyer has replied: the gate has nothing left to decide."""
    services.message_send(
        sender=active_consult.lawyer,
        conversation_id=active_consult.conversation_id,
        client_id="l0",
        body="您好，请讲。",
    )
    return active_consult


def test_consult_messages_the_gate_lets_by_are_stored_in_one_round_trip(
    answered_consult, pushed, django_capture_on_commit_callbacks, monkeypatch
):
    from messaging.models import Conversation

    consult_chat = Conversation.objects.get(pk=answered_consult.conversation_id)
    batch = [
        outgoing(answered_consult.asker, consult_chat, "c-a1"),
        outgoing(answered_consult.lawyer, consult_chat, "c-l1"),
        outgoing(answered_consult.asker, consult_chat, "c-a2"),
    ]
    monkeypatch.setattr(services, "_store_gated", None)  # nothing takes the full gate
    monkeypatch.setattr(services, "message_send", None)  # nothing goes alone
    with django_capture_on_commit_callbacks(execute=True):
        results = services.message_send_many(messages=batch)

    assert [(m.client_id, m.seq) for m, _ in results] == [("c-a1", 3), ("c-l1", 4), ("c-a2", 5)]
    assert len(pushed) == 3


def test_a_first_reply_in_a_batch_keeps_its_place_before_later_messages(
    active_consult, pushed, django_capture_on_commit_callbacks
):
    from messaging.models import Conversation

    # given a consult the lawyer has not answered yet
    consult_chat = Conversation.objects.get(pk=active_consult.conversation_id)
    batch = [
        outgoing(active_consult.asker, consult_chat, "c-a1"),
        outgoing(active_consult.lawyer, consult_chat, "c-l1"),
        outgoing(active_consult.asker, consult_chat, "c-a2"),
    ]
    # when the lawyer's first reply arrives between two of the asker's messages
    with django_capture_on_commit_callbacks(execute=True):
        results = services.message_send_many(messages=batch)
    # then the gate stamps it and every message keeps its arrival order
    assert [(m.client_id, m.seq) for m, _ in results] == [("c-a1", 2), ("c-l1", 3), ("c-a2", 4)]
    active_consult.refresh_from_db()
    assert active_consult.first_reply_at is not None


def wait_for_a_backend_waiting_on_a_lock(timeout: float = 10) -> None:
    import time

    from django.db import connections

    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no backend ever waited on a lock")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_waiting_on_a_consult_that_closes_meanwhile_refuses_its_messages(pushed):
    import threading

    from django.db import connections, transaction

    from marketplace.consult_messages import ConsultClosed
    from marketplace.models import Consult
    from messaging.models import Conversation
    from tests.messaging.factories import consult_with_conversation

    # given an answered consult whose chat this process knows, and a direct chat
    asker, lawyer = AskerFactory(), LawyerFactory()
    consult = consult_with_conversation(asker, lawyer)
    for sender, client_id in ((asker, "a0"), (lawyer, "l0")):
        services.message_send(
            sender=sender, conversation_id=consult.conversation_id, client_id=client_id, body="在"
        )
    direct = direct_conversation(asker, lawyer)
    consult_chat = Conversation.objects.get(pk=consult.conversation_id)
    # and the consult row held by someone closing it (as the close service does)
    locked, release = threading.Event(), threading.Event()

    def close_the_consult() -> None:
        try:
            with transaction.atomic():
                Consult.objects.select_for_update().get(pk=consult.pk)
                locked.set()
                release.wait(10)
                Consult.objects.filter(pk=consult.pk).update(state=Consult.State.RESOLVED)
        finally:
            connections.close_all()

    results: list = []

    def send_the_batch() -> None:
        try:
            results.extend(
                services.message_send_many(
                    messages=[
                        outgoing(asker, direct, "d-1"),
                        outgoing(asker, consult_chat, "c-a1"),
                        outgoing(lawyer, consult_chat, "c-l1"),
                    ]
                )
            )
        finally:
            connections.close_all()

    closer = threading.Thread(target=close_the_consult)
    closer.start()
    assert locked.wait(10)
    # when a batch with two messages into that consult waits for its row
    sender = threading.Thread(target=send_the_batch)
    sender.start()
    wait_for_a_backend_waiting_on_a_lock()
    # and the consult closes while it waits
    release.set()
    closer.join(10)
    sender.join(30)
    # then the batch judges the consult as it is once the lock is granted: both messages are
    # refused, nothing was half-written, and the direct message is stored
    assert isinstance(results[1], ConsultClosed) and isinstance(results[2], ConsultClosed)
    assert results[0][0].client_id == "d-1" and results[0][1] is True
    consult_chat.refresh_from_db()
    assert consult_chat.last_seq == 2
    assert not Message.objects.filter(client_id__in=["c-a1", "c-l1"]).exists()
