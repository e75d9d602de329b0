import threading

import pytest
from django.db import connection, connections
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from marketplace.consult_messages import ConsultClosed, ConsultExpired
from marketplace.models import Consult
from messaging import services
from messaging.errors import (
    ClientIdReused,
    ConversationNotFound,
    ConversationReadOnly,
    InvalidField,
    InvalidNotice,
    MessageEmpty,
    MessageNotStored,
    MessageTooLong,
)
from messaging.models import Conversation, Message, Participant
from tests.factories import AskerFactory
from tests.messaging.factories import consult_with_conversation, direct_conversation

pytestmark = pytest.mark.django_db


def send(sender, conversation, client_id, body="你好"):
    return services.message_send(
        sender=sender, conversation_id=conversation.pk, client_id=client_id, body=body
    )


# --- opening conversations ----------------------------------------------------------------
def test_direct_conversation_between_two_people_opens_once(asker, lawyer):
    first = direct_conversation(asker, lawyer)
    again = direct_conversation(lawyer, asker)
    assert first.pk == again.pk
    assert set(first.participants.values_list("user_id", flat=True)) == {asker.pk, lawyer.pk}


def test_consult_conversation_opens_once_and_is_linked_to_the_consult(asker, lawyer):
    consult = consult_with_conversation(asker, lawyer)
    # when
    again = services.conversation_open_for_consult(consult=Consult.objects.get(pk=consult.pk))
    # then
    consult.refresh_from_db()
    assert again.pk == consult.conversation_id
    assert again.kind == Conversation.Kind.CONSULT
    assert set(again.participants.values_list("user_id", flat=True)) == {asker.pk, lawyer.pk}


def test_consult_without_lawyer_has_no_conversation_yet(asker, lawyer):
    consult = consult_with_conversation(asker, lawyer)
    consult.lawyer, consult.conversation = None, None
    with pytest.raises(ValueError, match="lawyer"):
        services.conversation_open_for_consult(consult=consult)


def test_platform_inbox_is_one_per_user(asker):
    first = services.platform_inbox(user_id=asker.pk)
    assert services.platform_inbox(user_id=asker.pk).pk == first.pk
    assert first.kind == Conversation.Kind.PLATFORM


# --- sending ------------------------------------------------------------------------------
def test_messages_get_consecutive_seqs_from_both_sides(conversation, asker, lawyer):
    # when
    seqs = [
        send(asker, conversation, "a1")[0].seq,
        send(lawyer, conversation, "l1")[0].seq,
        send(asker, conversation, "a2")[0].seq,
    ]
    # then
    assert seqs == [1, 2, 3]
    conversation.refresh_from_db()
    assert conversation.last_seq == 3 and conversation.last_message_at is not None


def test_resend_with_same_client_id_returns_the_original_and_stores_nothing(conversation, asker):
    original, created = send(asker, conversation, "c-1", "第一次")
    # when
    again, created_again = send(asker, conversation, "c-1", "第一次")
    # then
    assert created and not created_again
    assert again.pk == original.pk and again.seq == original.seq
    assert Message.objects.filter(conversation=conversation).count() == 1
    conversation.refresh_from_db()
    assert conversation.last_seq == 1


def test_client_id_reused_in_another_conversation_is_refused(conversation, asker, other_lawyer):
    send(asker, conversation, "c-1")
    elsewhere = direct_conversation(asker, other_lawyer)
    with pytest.raises(ClientIdReused):
        send(asker, elsewhere, "c-1")
    assert not Message.objects.filter(conversation=elsewhere).exists()


def test_same_client_id_from_two_people_are_two_messages(conversation, asker, lawyer):
    send(asker, conversation, "same")
    send(lawyer, conversation, "same")
    assert Message.objects.filter(conversation=conversation).count() == 2


@pytest.mark.parametrize("who", ["other_asker", "other_lawyer", "staff"])
def test_non_participant_cannot_send_and_nothing_changes(request, conversation, who):
    outsider = request.getfixturevalue(who)
    with pytest.raises(ConversationNotFound):
        send(outsider, conversation, "x")
    conversation.refresh_from_db()
    assert conversation.last_seq == 0 and not Message.objects.exists()


def test_sending_to_a_missing_conversation_is_not_found(asker):
    with pytest.raises(ConversationNotFound):
        services.message_send(sender=asker, conversation_id=987654, client_id="x", body="hi")


@pytest.mark.parametrize(
    ("client_id", "body", "error"),
    [
        ("c", "", MessageEmpty),
        ("c", " \n\t ", MessageEmpty),
        ("c", "字" * 4001, MessageTooLong),
        ("", "hi", InvalidField),
        ("c" * 65, "hi", InvalidField),
        (5, "hi", InvalidField),
        ("c", None, InvalidField),
    ],
)
def test_invalid_message_is_refused_before_anything_is_stored(
    conversation, asker, client_id, body, error
):
    with pytest.raises(error):
        services.message_send(
            sender=asker, conversation_id=conversation.pk, client_id=client_id, body=body
        )
    conversation.refresh_from_db()
    assert conversation.last_seq == 0 and not Message.objects.exists()


def test_body_of_exactly_4000_characters_is_stored_as_given(conversation, asker):
    body = "<b>" + "字" * 3993 + "</b>"
    message, _ = send(asker, conversation, "long", body)
    message.refresh_from_db()
    assert message.body == body and len(body) == 4000


def test_nobody_can_write_into_the_platform_inbox(asker):
    inbox = services.platform_inbox(user_id=asker.pk)
    with pytest.raises(ConversationReadOnly):
        send(asker, inbox, "x")
    assert not Message.objects.filter(conversation=inbox).exists()


def test_sending_moves_the_senders_own_read_cursor(conversation, asker, lawyer):
    send(lawyer, conversation, "l1")
    send(asker, conversation, "a1")
    cursors = dict(conversation.participants.values_list("user_id", "last_read_seq"))
    assert cursors == {asker.pk: 2, lawyer.pk: 1}


def statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_first_send_in_a_conversation_costs_three_statements(conversation, asker):
    with CaptureQueriesContext(connection) as queries:
        send(asker, conversation, "q1")
    # the lock of the conversation's consult (none here: a consult's row is locked before its
    # conversation's), the UPDATE...RETURNING (which tells the conversation's kind), the INSERT
    assert len(statements(queries)) == 3, statements(queries)


def test_later_sends_in_a_direct_conversation_cost_one_statement(conversation, asker, lawyer):
    send(asker, conversation, "q1")
    with CaptureQueriesContext(connection) as queries:
        message, _ = send(lawyer, conversation, "q2")
    assert len(statements(queries)) == 1, statements(queries)
    assert message.seq == 2 and Message.objects.get(pk=message.pk).body == message.body


def test_one_statement_path_still_refuses_outsiders_and_duplicates(
    conversation, asker, other_asker
):
    original, _ = send(asker, conversation, "q1")
    with pytest.raises(ConversationNotFound):
        send(other_asker, conversation, "q2")
    again, created = send(asker, conversation, "q1")
    assert (again.pk, created) == (original.pk, False)
    conversation.refresh_from_db()
    assert conversation.last_seq == 1


def test_consult_messages_always_pass_the_gate(asker, lawyer):
    consult = consult_with_conversation(asker, lawyer)
    send(lawyer, consult.conversation, "first")
    Consult.objects.filter(pk=consult.pk).update(state=Consult.State.EXPIRED)
    with pytest.raises(ConsultExpired):
        send(lawyer, consult.conversation, "second")


def test_later_sends_in_a_consult_under_way_cost_one_statement(asker, lawyer):
    # given a consult the lawyer has answered, its kind known to this process
    consult = consult_with_conversation(asker, lawyer)
    send(lawyer, consult.conversation, "first")
    # when both sides write on
    with CaptureQueriesContext(connection) as queries:
        from_asker, _ = send(asker, consult.conversation, "a1")
        from_lawyer, _ = send(lawyer, consult.conversation, "l2")
    # then each message is one statement, the consult's gate included
    assert len(statements(queries)) == 2, statements(queries)
    assert (from_asker.seq, from_lawyer.seq) == (2, 3)


def test_the_lawyers_first_reply_takes_the_full_gate_and_later_ones_do_not(asker, lawyer):
    consult = consult_with_conversation(asker, lawyer)
    chat = consult.conversation
    send(asker, chat, "a1")
    # when the lawyer first replies, the one statement lets it by to the gate, which stamps it
    with CaptureQueriesContext(connection) as queries:
        send(lawyer, chat, "l1")
    consult.refresh_from_db()
    assert consult.first_reply_at is not None
    assert len(statements(queries)) > 1
    # and the lawyer's next message needs no more than one statement
    with CaptureQueriesContext(connection) as queries:
        send(lawyer, chat, "l2")
    assert len(statements(queries)) == 1, statements(queries)


@pytest.mark.parametrize(
    ("state", "error"),
    [(Consult.State.EXPIRED, ConsultExpired), (Consult.State.CANCELED, ConsultClosed)],
)
def test_a_consult_that_ends_while_its_chat_is_known_refuses_on_the_one_statement_path(
    asker, lawyer, state, error
):
    consult = consult_with_conversation(asker, lawyer)
    send(lawyer, consult.conversation, "l1")
    Consult.objects.filter(pk=consult.pk).update(state=state)
    with pytest.raises(error):
        send(asker, consult.conversation, "late")
    consult.conversation.refresh_from_db()
    assert consult.conversation.last_seq == 1


def test_database_failure_stores_nothing_and_says_message_not_stored(
    failing_message_inserts, conversation, asker
):
    with pytest.raises(MessageNotStored):
        send(asker, conversation, "x")
    conversation.refresh_from_db()
    assert conversation.last_seq == 0
    assert conversation.participants.get(user=asker).last_read_seq == 0


# --- consults -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "error"),
    [(Consult.State.EXPIRED, ConsultExpired), (Consult.State.RESOLVED, ConsultClosed)],
)
def test_consult_gate_refuses_and_nothing_is_stored(asker, lawyer, state, error):
    consult = consult_with_conversation(asker, lawyer, state=state)
    with pytest.raises(error):
        send(lawyer, consult.conversation, "late")
    consult.conversation.refresh_from_db()
    assert consult.conversation.last_seq == 0 and not Message.objects.exists()


def test_resend_of_a_message_stored_before_the_consult_closed_gets_the_original(asker, lawyer):
    consult = consult_with_conversation(asker, lawyer)
    original, _ = send(lawyer, consult.conversation, "last-word")
    Consult.objects.filter(pk=consult.pk).update(state=Consult.State.RESOLVED)
    # when
    again, created = send(lawyer, consult.conversation, "last-word")
    # then
    assert (again.pk, created) == (original.pk, False)


# --- read cursors -------------------------------------------------------------------------
def test_read_cursor_moves_forward_only_and_never_past_the_last_message(
    conversation, asker, lawyer
):
    for n in range(3):
        send(lawyer, conversation, f"l{n}")
    assert services.conversation_mark_read(user=asker, conversation_id=conversation.pk, seq=2) == 2
    assert services.conversation_mark_read(user=asker, conversation_id=conversation.pk, seq=1) == 2
    assert services.conversation_mark_read(user=asker, conversation_id=conversation.pk, seq=99) == 3
    assert Participant.objects.get(conversation=conversation, user=asker).last_read_seq == 3


def test_non_participant_cannot_mark_read(conversation, other_asker):
    with pytest.raises(ConversationNotFound):
        services.conversation_mark_read(user=other_asker, conversation_id=conversation.pk, seq=1)


# --- platform notices ---------------------------------------------------------------------
def test_welcome_notice_lands_in_the_platform_inbox_without_sender(asker):
    # when
    message = services.notice_send(user=asker, kind="welcome", context={})
    # then
    assert message.sender_id is None and message.kind == Message.Kind.NOTICE
    assert message.conversation.kind == Conversation.Kind.PLATFORM
    assert asker.username in message.body
    assert message.notice == {"kind": "welcome", "params": {"name": asker.display_name}}


def test_notice_is_sent_once_per_kind_and_consult(asker):
    first = services.notice_send(user=asker, kind="consult_expired", context={"consult": 7})
    again = services.notice_send(user=asker, kind="consult_expired", context={"consult": 7})
    other = services.notice_send(user=asker, kind="consult_expired", context={"consult": 8})
    assert again.pk == first.pk and other.pk != first.pk
    assert [m.seq for m in Message.objects.order_by("seq")] == [1, 2]


def test_consult_matched_notice_names_the_lawyer(asker, lawyer):
    consult = consult_with_conversation(asker, lawyer)
    message = services.notice_send(
        user=asker, kind="consult_matched", context={"consult": consult.pk}
    )
    assert lawyer.display_name in message.body and f"#{consult.pk}" in message.body


def test_refund_notice_shows_the_amount_in_major_units(asker):
    message = services.notice_send(
        user=asker, kind="refund_done", context={"consult": 3, "amount": 12050, "currency": "CNY"}
    )
    assert "¥120.50" in message.body


@pytest.mark.parametrize(
    ("kind", "context"),
    [
        ("party", {}),
        ("consult_expired", {}),
        ("consult_expired", {"consult": "7"}),
        ("refund_done", {"consult": 3, "amount": -1, "currency": "CNY"}),
        ("consult_matched", {"consult": 999999}),
    ],
)
def test_unknown_notice_or_missing_details_are_refused(asker, kind, context):
    with pytest.raises(InvalidNotice):
        services.notice_send(user=asker, kind=kind, context=context)
    assert not Message.objects.exists()


# --- concurrency --------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_get_gap_free_seqs():
    users = [AskerFactory() for _ in range(4)]
    conversation = direct_conversation(*users)
    barrier = threading.Barrier(len(users))
    errors = []

    def sender(user):
        try:
            barrier.wait()
            for n in range(10):
                send(user, conversation, f"{user.pk}-{n}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    seqs = sorted(Message.objects.filter(conversation=conversation).values_list("seq", flat=True))
    assert seqs == list(range(1, 41))
    assert Message.objects.aggregate(m=Max("seq"))["m"] == 40


# --- importing history --------------------------------------------------------------------
def test_imported_message_keeps_its_time_even_in_a_closed_consult(asker, lawyer):
    from datetime import timedelta

    from django.utils import timezone

    consult = consult_with_conversation(asker, lawyer, state=Consult.State.RESOLVED)
    sent_at = timezone.now() - timedelta(days=30)
    # when
    message, created = services.message_import(
        sender=lawyer,
        conversation_id=consult.conversation_id,
        client_id="old",
        body="旧消息",
        sent_at=sent_at,
    )
    again, created_again = services.message_import(
        sender=lawyer,
        conversation_id=consult.conversation_id,
        client_id="old",
        body="旧消息",
        sent_at=sent_at,
    )
    # then
    message.refresh_from_db()
    assert created and not created_again and again.pk == message.pk
    assert message.created_at == sent_at and message.seq == 1


# --- tasks --------------------------------------------------------------------------------
def test_notice_task_sends_the_notice_once_however_often_it_runs(asker):
    from messaging.tasks import notice_send_task

    first = notice_send_task.apply(args=[asker.pk, "consult_expired", {"consult": 5}]).get()
    again = notice_send_task.apply(args=[asker.pk, "consult_expired", {"consult": 5}]).get()
    assert first == again and Message.objects.filter(sender__isnull=True).count() == 1


def test_notice_task_for_a_missing_user_does_nothing():
    from messaging.tasks import notice_send_task

    assert notice_send_task.apply(args=[424242, "welcome"]).get() is None
    assert not Message.objects.exists()
