"""static/js/socket.js in a real browser when the network misbehaves: the server goes away and
comes back (reconnect with backoff, `resume` with the cursor, outbox re-sent with its
client_id), a frame is lost (a seq gap filled from the history API), and a message is refused
for good (no retry)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from accounts.realtime import push_to_users
from messaging import events, services
from messaging.errors import MessageRateLimited, MessageTooLong
from messaging.models import Message
from messaging.services import BODY_MAX_CHARS
from tests.conftest import start_web_process
from tests.e2e.conftest import SERVER_ENV, sign_in
from tests.factories import TEST_PASSWORD, LawyerProfileFactory
from tests.pages.factories import ConsultFactory, open_chat

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def chat(asker, lawyer):
    LawyerProfileFactory(user=lawyer)
    consult = ConsultFactory(question__asker=asker)
    conversation = open_chat(consult, lawyer, messages=2)
    return consult, conversation


def open_room(new_context, asker, consult):
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto(f"/consults/{consult.pk}/")
    expect(page.locator("[data-chat] [data-connection]")).to_have_attribute("data-state", "open")
    return page


def shown_seqs(page) -> list[int]:
    return [
        int(s)
        for s in page.locator(".chat-log li[data-seq]").evaluate_all(
            "items => items.map(li => li.dataset.seq)"
        )
    ]


def test_after_the_server_comes_back_missed_messages_arrive_and_unsent_ones_go_out(
    new_context, web_server, asker, lawyer, chat
):
    consult, conversation = chat
    page = open_room(new_context, asker, consult)
    port = web_server.port

    # given the server goes away
    web_server.stop()
    expect(page.locator("[data-chat] [data-connection]")).to_have_attribute(
        "data-state", "reconnecting"
    )
    # while the lawyer writes twice (nobody is connected to hear it) and the asker writes once
    for n in (1, 2):
        services.message_send(
            sender=lawyer,
            conversation_id=conversation.pk,
            client_id=f"away-{n}",
            body=f"离线时的消息{n}",
        )
    page.locator("[data-chat] textarea").fill("我这边网络断了")
    page.locator("[data-chat] textarea").press("Enter")
    pending = page.locator("li.msg.mine", has_text="我这边网络断了")
    expect(pending).to_have_attribute("data-status", "sending")

    # when the server is back on the same address
    restarted = start_web_process(port=port, **SERVER_ENV)
    try:
        # then the socket reconnects, replays what was missed, in order, and sends the outbox
        expect(page.locator("[data-chat] [data-connection]")).to_have_attribute(
            "data-state", "open", timeout=20000
        )
        expect(page.locator(".chat-log li", has_text="离线时的消息2")).to_be_visible()
        expect(pending).to_have_attribute("data-status", "delivered")
        assert shown_seqs(page) == [1, 2, 3, 4, 5]
        stored = Message.objects.filter(conversation=conversation, body="我这边网络断了")
        assert stored.count() == 1
    finally:
        restarted.stop()


def test_losing_the_network_shows_at_once_and_its_return_reconnects(new_context, asker, chat):
    # given the asker in the room
    consult, _conversation = chat
    page = open_room(new_context, asker, consult)
    badge = page.locator("[data-chat] [data-connection]")
    # when the browser goes offline, the badge says so at once (not at the next missed pong)
    page.context.set_offline(True)
    expect(badge).not_to_have_attribute("data-state", "open", timeout=2000)
    # and when it is back, the socket is again
    page.context.set_offline(False)
    expect(badge).to_have_attribute("data-state", "open", timeout=10000)


def test_a_lost_frame_is_filled_from_the_history_api(new_context, asker, lawyer, chat):
    consult, conversation = chat
    page = open_room(new_context, asker, consult)

    # given seq 3 is stored but its frame never reaches the browser
    third = Message.objects.create(
        conversation=conversation, seq=3, sender=lawyer, body="丢失的第三条", client_id="gap-3"
    )
    fourth = Message.objects.create(
        conversation=conversation, seq=4, sender=lawyer, body="第四条", client_id="gap-4"
    )
    conversation.last_seq = 4
    conversation.save(update_fields=["last_seq"])
    assert third.seq == 3

    # when only seq 4 is pushed
    push_to_users([asker.pk], events.message_new(fourth))

    # then the page notices the gap, fetches seq 3 and shows both, in order, once
    expect(page.locator(".chat-log li", has_text="丢失的第三条")).to_be_visible()
    assert shown_seqs(page) == [1, 2, 3, 4]
    # and a duplicate is dropped: frames reach one socket in order, so once the message
    # pushed after it shows, the duplicate has been handled
    push_to_users([asker.pk], events.message_new(fourth))
    fifth = Message.objects.create(
        conversation=conversation, seq=5, sender=lawyer, body="第五条", client_id="gap-5"
    )
    conversation.last_seq = 5
    conversation.save(update_fields=["last_seq"])
    push_to_users([asker.pk], events.message_new(fifth))
    expect(page.locator(".chat-log li", has_text="第五条")).to_be_visible()
    assert shown_seqs(page) == [1, 2, 3, 4, 5]


def test_a_message_the_server_refuses_for_good_says_why_and_offers_no_retry(
    new_context, asker, lawyer, chat
):
    consult, conversation = chat
    page = open_room(new_context, asker, consult)
    # given a message over the limit (the textarea's maxlength taken away, as a client could)
    textarea = page.locator("[data-chat] textarea")
    textarea.evaluate("el => el.removeAttribute('maxlength')")
    textarea.fill("长" * (BODY_MAX_CHARS + 1))
    # when it is sent
    textarea.press("Enter")
    # then the message says why it was not sent, and offers no retry that could never work
    refused = page.locator("li.msg.mine[data-status=failed]")
    with translation.override("zh-hans"):
        reason = str(MessageTooLong.message)
    expect(refused.locator("[data-failure-reason]")).to_have_text(reason)
    expect(refused.locator(".retry")).to_have_count(0)
    assert not Message.objects.filter(conversation=conversation, seq__gt=2).exists()


def test_a_message_sent_too_fast_says_so_and_offers_a_retry(new_context, asker, lawyer, chat):
    consult, _ = chat
    page = open_room(new_context, asker, consult)
    textarea = page.locator("[data-chat] textarea")
    # when the asker sends one message more than the limit allows in its window
    for n in range(settings.MESSAGING_RATE_LIMIT_COUNT + 1):
        textarea.fill(f"第 {n} 条")
        textarea.press("Enter")
    # then the refused one says why, and may be sent again once the window has passed
    refused = page.locator("li.msg.mine[data-status=failed]")
    expect(refused).to_have_count(1)
    with translation.override("zh-hans"):
        reason = str(MessageRateLimited.message)
    expect(refused.locator("[data-failure-reason]")).to_have_text(reason)
    expect(refused.locator(".retry")).to_have_count(1)
