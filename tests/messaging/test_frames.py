"""The chat frames on the real socket (in-process consumer, real Redis channel layer)."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from messaging import services
from messaging.errors import (
    ClientIdReused,
    ConversationNotFound,
    ConversationReadOnly,
    InvalidCursors,
    InvalidField,
    MessageEmpty,
    MessageNotStored,
    MessageRateLimited,
    MessageTooLong,
)
from messaging.models import Message, Participant
from tests.messaging.factories import direct_conversation

pytestmark = pytest.mark.django_db(transaction=True)


def count_messages(**filters) -> int:
    return Message.objects.filter(**filters).count()


def send_frame(conversation_id, client_id="c-1", body="你好，律师"):
    return {
        "type": "message.send",
        "conversation": conversation_id,
        "client_id": client_id,
        "body": body,
    }


# --- sending ------------------------------------------------------------------------------
async def test_send_acks_the_sender_and_delivers_to_every_socket_of_every_participant(
    inbox, asker, lawyer, conversation
):
    asker_sock, lawyer_sock, lawyer_tab = (
        await inbox(asker),
        await inbox(lawyer),
        await inbox(lawyer),
    )
    # when
    await asker_sock.send(send_frame(conversation.pk, "c-1", "<b>欠款</b> & 借条"))
    # then
    ack = await asker_sock.next("message.ack")
    assert ack["client_id"] == "c-1" and ack["conversation"] == conversation.pk
    assert ack["seq"] == 1 and isinstance(ack["id"], int)
    for sock in (lawyer_sock, lawyer_tab, asker_sock):
        new = await sock.next("message.new")
        assert new["id"] == ack["id"] and new["seq"] == 1
        assert new["sender"] == asker.pk and new["body"] == "<b>欠款</b> & 借条"
        assert new["from_platform"] is False and new["conversation"] == conversation.pk
        # the sender's other tabs pair the echo with their "sending" bubble by it
        assert new["client_id"] == "c-1"


async def test_messages_both_ways_arrive_in_seq_order(inbox, asker, lawyer, conversation):
    asker_sock, lawyer_sock = await inbox(asker), await inbox(lawyer)
    for n in range(3):
        await asker_sock.send(send_frame(conversation.pk, f"a{n}", f"问题{n}"))
        await asker_sock.next("message.ack")
        await lawyer_sock.send(send_frame(conversation.pk, f"l{n}", f"回答{n}"))
        await lawyer_sock.next("message.ack")
    seqs = [(await lawyer_sock.next("message.new"))["seq"] for _ in range(6)]
    assert seqs == [1, 2, 3, 4, 5, 6]


async def test_resend_with_same_client_id_gets_the_original_ack_and_no_broadcast(
    inbox, asker, lawyer, conversation
):
    asker_sock, lawyer_sock = await inbox(asker), await inbox(lawyer)
    await asker_sock.send(send_frame(conversation.pk, "dup"))
    first = await asker_sock.next("message.ack")
    await lawyer_sock.next("message.new")
    # when
    await asker_sock.send(send_frame(conversation.pk, "dup"))
    # then
    again = await asker_sock.next("message.ack")
    assert (again["id"], again["seq"]) == (first["id"], first["seq"])
    assert await lawyer_sock.nothing("message.new")
    assert await sync_to_async(count_messages)(conversation=conversation) == 1


async def test_same_client_id_from_two_sockets_at_once_stores_one_message(
    inbox, asker, lawyer, conversation
):
    first_tab, second_tab = await inbox(asker), await inbox(asker)
    frame = send_frame(conversation.pk, "race", "同时发送")
    # when
    await asyncio.gather(first_tab.send(frame), second_tab.send(frame))
    # then
    acks = [
        await first_tab.next("message.ack"),
        await second_tab.next("message.ack"),
    ]
    assert acks[0]["id"] == acks[1]["id"] and acks[0]["seq"] == acks[1]["seq"] == 1
    assert await sync_to_async(count_messages)(conversation=conversation) == 1


# --- bad input ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "message.send", "client_id": "bad-1", "body": "hi"}, InvalidField.code),
        (
            {"type": "message.send", "conversation": "1", "client_id": "bad-1", "body": "hi"},
            InvalidField.code,
        ),
        (
            {"type": "message.send", "conversation": True, "client_id": "bad-1", "body": "hi"},
            InvalidField.code,
        ),
        (
            {"type": "message.send", "conversation": 2**70, "client_id": "bad-1", "body": "hi"},
            InvalidField.code,
        ),
        ({"type": "message.send", "conversation": "CONV", "client_id": "bad-1"}, InvalidField.code),
        (
            {"type": "message.send", "conversation": "CONV", "client_id": "bad-1", "body": ["hi"]},
            InvalidField.code,
        ),
        ({"type": "message.send", "conversation": "CONV", "body": "hi"}, InvalidField.code),
        (
            {"type": "message.send", "conversation": "CONV", "client_id": "x" * 65, "body": "hi"},
            InvalidField.code,
        ),
        (
            {"type": "message.send", "conversation": "CONV", "client_id": "bad-1", "body": ""},
            MessageEmpty.code,
        ),
        (
            {"type": "message.send", "conversation": "CONV", "client_id": "bad-1", "body": "   "},
            MessageEmpty.code,
        ),
        (
            {
                "type": "message.send",
                "conversation": "CONV",
                "client_id": "bad-1",
                "body": "长" * 4001,
            },
            MessageTooLong.code,
        ),
    ],
)
async def test_bad_message_frame_gets_error_with_ref_and_the_socket_stays_usable(
    inbox, asker, conversation, frame, code
):
    sock = await inbox(asker)
    frame = {k: (conversation.pk if v == "CONV" else v) for k, v in frame.items()}
    # when
    await sock.send(frame)
    # then
    error = await sock.next("error")
    assert error["code"] == code and error["message"]
    if isinstance(frame.get("client_id"), str) and len(frame["client_id"]) <= 64:
        assert error["ref"] == "bad-1"
    assert await sync_to_async(count_messages)() == 0
    await sock.send(send_frame(conversation.pk, "good"))
    assert (await sock.next("message.ack"))["seq"] == 1


@pytest.mark.parametrize(
    "raw", ["{not json", "[1, 2]", '{"type": 5}', '{"type": "message.delete"}']
)
async def test_malformed_frames_get_an_error_and_store_nothing(inbox, asker, conversation, raw):
    sock = await inbox(asker)
    await sock.sock.send_to(text_data=raw)
    assert (await sock.next("error"))["code"]
    assert await sync_to_async(count_messages)() == 0


@override_settings(MESSAGING_RATE_LIMIT_COUNT=20, MESSAGING_RATE_LIMIT_WINDOW_SECONDS=10)
async def test_more_than_20_messages_in_10_seconds_is_rate_limited_across_sockets(
    inbox, asker, lawyer, conversation
):
    first_tab, second_tab = await inbox(asker), await inbox(asker)
    for n in range(20):
        sock = first_tab if n % 2 else second_tab
        await sock.send(send_frame(conversation.pk, f"burst-{n}"))
        await sock.next("message.ack")
    # when
    await first_tab.send(send_frame(conversation.pk, "burst-20"))
    # then
    error = await first_tab.next("error")
    assert (error["code"], error["ref"]) == (MessageRateLimited.code, "burst-20")
    assert await sync_to_async(count_messages)(conversation=conversation) == 20
    # the other party is not limited by the asker's burst
    lawyer_sock = await inbox(lawyer)
    await lawyer_sock.send(send_frame(conversation.pk, "reply"))
    assert (await lawyer_sock.next("message.ack"))["seq"] == 21


async def test_database_error_during_save_gets_error_frame_no_ack_no_broadcast(
    failing_message_inserts, inbox, asker, lawyer, conversation
):
    asker_sock, lawyer_sock = await inbox(asker), await inbox(lawyer)
    # when
    await asker_sock.send(send_frame(conversation.pk, "doomed"))
    # then
    error = await asker_sock.next("error")
    assert (error["code"], error["ref"]) == (MessageNotStored.code, "doomed")
    assert await asker_sock.nothing("message.ack")
    assert await lawyer_sock.nothing("message.new")
    await sync_to_async(conversation.refresh_from_db)()
    assert conversation.last_seq == 0


async def test_client_id_of_another_conversation_is_refused(inbox, asker, lawyer, other_lawyer):
    first = await sync_to_async(direct_conversation)(asker, lawyer)
    second = await sync_to_async(direct_conversation)(asker, other_lawyer)
    sock = await inbox(asker)
    await sock.send(send_frame(first.pk, "once"))
    await sock.next("message.ack")
    await sock.send(send_frame(second.pk, "once"))
    assert (await sock.next("error"))["code"] == ClientIdReused.code


async def test_platform_inbox_cannot_be_written_to(inbox, asker):
    notices = await sync_to_async(services.platform_inbox)(user_id=asker.pk)
    sock = await inbox(asker)
    await sock.send(send_frame(notices.pk, "x"))
    assert (await sock.next("error"))["code"] == ConversationReadOnly.code


# --- authorization ------------------------------------------------------------------------
@pytest.mark.parametrize("outsider", ["other_asker", "other_lawyer", "staff"], indirect=True)
async def test_outsider_cannot_send_read_type_or_resume_and_learns_nothing(
    inbox, asker, lawyer, conversation, outsider
):
    asker_sock, outsider_sock = await inbox(asker), await inbox(outsider)
    missing = conversation.pk + 10_000
    for target in (conversation.pk, missing):
        await outsider_sock.send(send_frame(target, f"probe-{target}"))
        error = await outsider_sock.next("error")
        assert (error["code"], error["ref"]) == (ConversationNotFound.code, f"probe-{target}")
    answers = []
    for frame in (
        {"type": "read", "conversation": conversation.pk, "seq": 1},
        {"type": "typing", "conversation": conversation.pk},
        {"type": "resume", "cursors": {str(conversation.pk): 0}},
        {"type": "read", "conversation": missing, "seq": 1},
        {"type": "typing", "conversation": missing},
        {"type": "resume", "cursors": {str(missing): 0}},
    ):
        await outsider_sock.send(frame)
        error = await outsider_sock.next("error")
        answers.append((error["code"], error["message"]))
    # the same answer whether the conversation exists or not
    assert answers[:3] == answers[3:]
    assert {code for code, _ in answers} == {ConversationNotFound.code}
    assert await asker_sock.nothing("typing")
    assert await asker_sock.nothing("message.new")
    assert await sync_to_async(count_messages)() == 0


async def test_outsider_never_receives_the_conversations_messages(
    inbox, asker, lawyer, other_asker, conversation
):
    asker_sock, outsider_sock = await inbox(asker), await inbox(other_asker)
    await asker_sock.send(send_frame(conversation.pk, "private"))
    await asker_sock.next("message.ack")
    assert await outsider_sock.nothing("message.new")


# --- resume -------------------------------------------------------------------------------
async def test_resume_replays_what_was_missed_in_order_without_duplicates(
    inbox, asker, lawyer, conversation
):
    def lawyer_sends(n):
        for i in range(n):
            services.message_send(
                sender=lawyer, conversation_id=conversation.pk, client_id=f"l{i}", body=f"第{i}条"
            )

    await sync_to_async(lawyer_sends)(7)
    sock = await inbox(asker)
    # when
    await sock.send({"type": "resume", "cursors": {str(conversation.pk): 3}})
    # then
    replayed = [await sock.next("message.new") for _ in range(4)]
    assert [f["seq"] for f in replayed] == [4, 5, 6, 7]
    assert [f["body"] for f in replayed] == ["第3条", "第4条", "第5条", "第6条"]
    assert await sock.nothing("message.new")


async def test_resume_covers_several_conversations_and_long_gaps(
    inbox, asker, lawyer, other_lawyer
):
    first = await sync_to_async(direct_conversation)(asker, lawyer)
    second = await sync_to_async(direct_conversation)(asker, other_lawyer)

    def fill():
        for i in range(1203):
            services.message_send(
                sender=lawyer, conversation_id=first.pk, client_id=f"f{i}", body=str(i)
            )
        services.message_send(
            sender=other_lawyer, conversation_id=second.pk, client_id="s", body="s"
        )

    await sync_to_async(fill)()
    sock = await inbox(asker)
    await sock.send({"type": "resume", "cursors": {str(first.pk): 0, str(second.pk): 0}})
    frames = [await sock.next("message.new") for _ in range(1204)]
    seqs_first = [f["seq"] for f in frames if f["conversation"] == first.pk]
    assert seqs_first == list(range(1, 1204))
    assert [f["seq"] for f in frames if f["conversation"] == second.pk] == [1]


@pytest.mark.parametrize(
    "cursors",
    [[1, 2], "1:0", {"abc": 1}, {"1": -1}, {"1": "3"}, {"1": 1.5}, {"0": 1}],
)
async def test_resume_with_malformed_cursors_gets_invalid_cursors(inbox, asker, cursors):
    sock = await inbox(asker)
    await sock.send({"type": "resume", "cursors": cursors})
    assert (await sock.next("error"))["code"] == InvalidCursors.code


# --- typing, read, presence ---------------------------------------------------------------
async def test_typing_reaches_the_other_side_and_is_not_stored(inbox, asker, lawyer, conversation):
    asker_sock, lawyer_sock = await inbox(asker), await inbox(lawyer)
    await asker_sock.send({"type": "typing", "conversation": conversation.pk})
    frame = await lawyer_sock.next("typing")
    assert frame == {"type": "typing", "conversation": conversation.pk, "user": asker.pk}
    assert await asker_sock.nothing("typing")
    assert await sync_to_async(count_messages)() == 0


async def test_read_cursor_is_shown_to_the_other_side_and_never_moves_back(
    inbox, asker, lawyer, conversation
):
    def lawyer_sends():
        for i in range(3):
            services.message_send(
                sender=lawyer, conversation_id=conversation.pk, client_id=f"l{i}", body="x"
            )

    await sync_to_async(lawyer_sends)()
    asker_sock, lawyer_sock = await inbox(asker), await inbox(lawyer)
    # when
    await asker_sock.send({"type": "read", "conversation": conversation.pk, "seq": 2})
    # then
    receipt = await lawyer_sock.next("read")
    assert receipt == {"type": "read", "conversation": conversation.pk, "user": asker.pk, "seq": 2}
    await asker_sock.send({"type": "read", "conversation": conversation.pk, "seq": 1})
    assert await lawyer_sock.nothing("read")
    cursor = await sync_to_async(
        lambda: Participant.objects.get(conversation=conversation, user=asker).last_read_seq
    )()
    assert cursor == 2


@pytest.mark.parametrize(
    "frame", [{"type": "read", "conversation": 1}, {"type": "read", "seq": 1}, {"type": "typing"}]
)
async def test_read_and_typing_with_missing_fields_get_invalid(inbox, asker, frame):
    sock = await inbox(asker)
    await sock.send(frame)
    assert (await sock.next("error"))["code"] == InvalidField.code


async def test_peer_presence_online_when_first_socket_opens_offline_when_last_closes(
    inbox, asker, lawyer, conversation
):
    asker_sock = await inbox(asker)
    # when the lawyer's first socket opens
    lawyer_sock = await inbox(lawyer)
    # then the asker is told, and the lawyer learns the asker is already online
    assert await asker_sock.next("presence") == {
        "type": "presence",
        "user": lawyer.pk,
        "status": "online",
    }
    assert await lawyer_sock.next("presence") == {
        "type": "presence",
        "user": asker.pk,
        "status": "online",
    }
    # a second socket of the lawyer, opened and closed, changes nothing
    second = await inbox(lawyer)
    await second.sock.disconnect()
    assert await asker_sock.nothing("presence")
    # when the lawyer's last socket closes
    await lawyer_sock.sock.disconnect()
    # then
    assert await asker_sock.next("presence") == {
        "type": "presence",
        "user": lawyer.pk,
        "status": "offline",
    }


async def test_presence_is_not_told_to_strangers(inbox, asker, lawyer, other_asker, conversation):
    stranger = await inbox(other_asker)
    await inbox(lawyer)
    assert await stranger.nothing("presence")


# --- platform notices ---------------------------------------------------------------------
async def test_platform_notice_arrives_on_the_socket_marked_from_platform(inbox, asker):
    sock = await inbox(asker)
    # when
    message = await sync_to_async(services.notice_send)(user=asker, kind="welcome", context={})
    # then
    frame = await sock.next("message.new")
    assert frame["id"] == message.pk and frame["sender"] is None
    assert frame["from_platform"] is True and frame["kind"] == "notice"
    assert frame["notice"]["kind"] == "welcome" and asker.username in frame["body"]


@override_settings(MESSAGING_PRESENCE_REFRESH_SECONDS=1, MESSAGING_PRESENCE_TTL_SECONDS=2)
async def test_a_connected_peer_stays_online_past_the_ttl_because_its_process_refreshes_it(
    inbox, asker, lawyer, conversation
):
    await inbox(lawyer)
    await asyncio.sleep(3)
    asker_sock = await inbox(asker)
    assert await asker_sock.next("presence") == {
        "type": "presence",
        "user": lawyer.pk,
        "status": "online",
    }


async def test_sockets_of_a_dead_process_stop_counting_after_their_ttl(
    inbox, redis_client, asker, lawyer, conversation
):
    from accounts.realtime import user_sockets_key as sockets_key

    # given a socket entry nobody refreshed (its process died) that expired a second ago
    redis_client.zadd(sockets_key(lawyer.pk), {"specific.dead!socket": time.time() - 1})
    # when the asker connects
    asker_sock = await inbox(asker)
    # then the lawyer does not show as online
    assert await asker_sock.nothing("presence")


async def test_anonymous_socket_is_closed_and_receives_nothing(inbox, asker, lawyer, conversation):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    sock = WebsocketCommunicator(application, "/ws/", headers=[(b"origin", b"http://127.0.0.1")])
    await sock.connect(timeout=5)
    closed = await sock.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4401}
    await sock.disconnect()


async def test_message_text_never_reaches_the_logs(
    caplog, inbox, failing_message_inserts, asker, lawyer, conversation
):
    import logging

    caplog.set_level(logging.DEBUG)
    sock = await inbox(asker)
    await sock.send(send_frame(conversation.pk, "secret-1", "我的银行卡号是6222020200112233"))
    assert (await sock.next("error"))["code"] == MessageNotStored.code
    assert "6222020200112233" not in caplog.text
