"""static/js/workbench.js in a real browser: how the lawyer's queue shows the offers it renders
and the ones that arrive live, and what the page does when the lawyer is not verified."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from accounts.realtime import push_to_users
from marketplace import presence, socket_frames
from marketplace import services as marketplace_services
from marketplace.models import LawyerProfile, Offer
from messaging.models import Message
from tests.e2e.conftest import SERVER_ENV, TIMEOUT_MS, screenshot, sign_in
from tests.factories import TEST_PASSWORD, LawyerProfileFactory
from tests.pages.factories import ConsultFactory, offer_to, open_chat

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_free_offers_read_free_whether_rendered_or_arriving_live(new_context, web_server, lawyer):
    # given a lawyer whose workbench opened with one free offer
    LawyerProfileFactory(user=lawyer)
    rendered = offer_to(ConsultFactory(is_paid=False, price=0), lawyer, seconds=300)
    page = new_context().new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    page.goto("/workbench/")
    expect(page.locator("#workbench > .card [data-connection]")).to_have_attribute(
        "data-state", "open"
    )
    # when another free offer and a paid one arrive on the socket
    live_free = offer_to(ConsultFactory(is_paid=False, price=0), lawyer, seconds=300)
    live_paid = offer_to(ConsultFactory(price=4900), lawyer, seconds=300)
    for sent in Offer.objects.filter(pk__in=[live_free.pk, live_paid.pk]).select_related(
        "consult__question__category", "consult__question__city"
    ):
        push_to_users([lawyer.pk], socket_frames.offer_new(sent))

    # then both free offers read "free" and the paid one its price
    def price_of(offer):
        return page.locator(f'li.offer[data-offer-id="{offer.pk}"] [data-price]')

    expect(price_of(live_paid)).to_have_text("¥49.00")
    expect(price_of(live_free)).to_have_text("免费")
    expect(price_of(rendered)).to_have_text("免费")


def test_an_offer_new_arriving_after_its_revocation_stays_gone(new_context, web_server, lawyer):
    # given a lawyer on the workbench, and an offer another lawyer already took
    LawyerProfileFactory(user=lawyer)
    page = new_context().new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    page.goto("/workbench/")
    expect(page.locator("#workbench > .card [data-connection]")).to_have_attribute(
        "data-state", "open"
    )
    taken = offer_to(ConsultFactory(), lawyer, seconds=300)
    taken = Offer.objects.select_related(
        "consult__question__category", "consult__question__city"
    ).get(pk=taken.pk)
    # when the web's offer.revoked overtakes the matching worker's offer.new, then one more
    # offer arrives in order
    push_to_users(
        [lawyer.pk],
        socket_frames.offer_revoked(offer_id=taken.pk, consult_id=taken.consult_id, reason="taken"),
    )
    push_to_users([lawyer.pk], socket_frames.offer_new(taken))
    live = offer_to(ConsultFactory(), lawyer, seconds=300)
    live = Offer.objects.select_related(
        "consult__question__category", "consult__question__city"
    ).get(pk=live.pk)
    push_to_users([lawyer.pk], socket_frames.offer_new(live))
    # then only the live offer shows
    expect(page.locator(f'li.offer[data-offer-id="{live.pk}"]')).to_be_visible()
    expect(page.locator(f'li.offer[data-offer-id="{taken.pk}"]')).to_have_count(0)
    expect(page.locator("[data-offer-count]")).to_have_text("1")


def test_a_withdrawn_offer_says_why_and_ones_own_decline_says_nothing(
    new_context, web_server, lawyer
):
    # given a lawyer whose workbench shows two offers
    LawyerProfileFactory(user=lawyer)
    taken = offer_to(ConsultFactory(), lawyer, seconds=300)
    declined = offer_to(ConsultFactory(), lawyer, seconds=300)
    page = new_context().new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    page.goto("/workbench/")
    expect(page.locator("#workbench > .card [data-connection]")).to_have_attribute(
        "data-state", "open"
    )
    # when another lawyer wins the first, and the lawyer declines the second (in this tab or
    # another: the frame reaches every tab, often before the decline's own answer)
    for offer, reason in ((taken, "taken"), (declined, "declined")):
        push_to_users(
            [lawyer.pk],
            socket_frames.offer_revoked(
                offer_id=offer.pk, consult_id=offer.consult_id, reason=reason
            ),
        )
    # then the first says another lawyer was faster, and the declined one simply goes
    expect(page.locator(f'li.offer[data-offer-id="{taken.pk}"] [data-offer-note]')).to_have_text(
        "已被其他律师抢先接单。"
    )
    expect(page.locator(f'li.offer[data-offer-id="{declined.pk}"]')).to_have_count(0)
    expect(page.get_by_text("该咨询已不可接。")).to_have_count(0)


def test_the_full_capacity_notice_goes_when_a_chat_closes(new_context, web_server, lawyer):
    # given a lawyer who takes one consultation at once, and has it open
    LawyerProfileFactory(user=lawyer, capacity=1)
    consult = ConsultFactory()
    open_chat(consult, lawyer, messages=1)
    page = new_context().new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    page.goto("/workbench/")
    expect(page.locator("#workbench > .card [data-connection]")).to_have_attribute(
        "data-state", "open"
    )
    notice = page.locator("[data-capacity-full]")
    expect(notice).to_be_visible()
    # when the asker closes it
    marketplace_services.consult_close(user=consult.asker, consult_id=consult.pk)
    # then the slot is free again, and the page says so (the closed chat lingers 4 s)
    expect(notice).to_be_hidden(timeout=10_000)
    expect(page.locator("[data-open-count]")).to_have_text("0")


# --- a lawyer who is not verified ------------------------------------------------------------
# well under the 20 s heartbeat: what the page does within it was not done by a heartbeat
FEW_SECONDS_MS = 5000


def wait_until(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def record_frames(page) -> dict[str, list[dict]]:
    """The socket frames the page sends and receives, parsed, from now on."""
    frames: dict[str, list[dict]] = {"sent": [], "received": []}

    def on_socket(ws) -> None:
        ws.on("framesent", lambda payload: frames["sent"].append(json.loads(payload)))
        ws.on("framereceived", lambda payload: frames["received"].append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


def presence_frames(frames) -> list[dict]:
    return [f for f in frames["sent"] if f.get("type") == "presence"]


def go_online(page, lawyer) -> None:
    expect(page.locator("#workbench > .card [data-connection]")).to_have_attribute(
        "data-state", "open"
    )
    page.locator('[data-presence-toggle] button[data-status="online"]').click()
    wait_until(lambda: presence.available_among([lawyer.pk]) == {lawyer.pk})


def expect_locked_offline(page) -> None:
    toggle = page.locator("[data-presence-toggle]")
    expect(toggle.locator("[data-presence-offline]")).to_have_text("离线")
    for status in ("online", "away"):
        button = toggle.locator(f'button[data-status="{status}"]')
        expect(button).to_be_disabled()
        expect(button).to_have_attribute("aria-pressed", "false")
    expect(page.locator('[data-presence-help="unverified"]')).to_be_visible()
    expect(page.locator('[data-presence-help="online"]')).to_be_hidden()


def test_a_lawyer_revoked_while_online_is_shown_offline_and_goes_on_chatting(
    chromium, collected_static, web_processes, lawyer, staff
):
    # given a verified lawyer online on the workbench (a server beating every second, and no
    # Celery worker: only the heartbeat's answer can tell the page), with a client in a chat
    # and an offer waiting
    LawyerProfileFactory(user=lawyer)
    conversation = open_chat(ConsultFactory(), lawyer, messages=1)
    offer = offer_to(ConsultFactory(), lawyer, seconds=300)
    server = web_processes(**SERVER_ENV, PRESENCE_HEARTBEAT_SECONDS="1")
    context = chromium.new_context(base_url=server.http_url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    frames = record_frames(page)
    page.goto("/workbench/")
    go_online(page, lawyer)
    # when staff revoke the lawyer's approval
    marketplace_services.lawyer_verify(
        staff=staff, lawyer_id=lawyer.pk, approved=False, reason="执业证已被注销"
    )
    # then within a few seconds the page says so, with where to read why, and shows the lawyer
    # offline, unable to go online
    banner = page.locator("[data-unverified-banner]")
    expect(banner).to_be_visible(timeout=FEW_SECONDS_MS)
    expect(banner).to_contain_text("您的律师认证已失效。")
    expect(banner).to_contain_text("您不会再收到咨询推送")
    expect(banner.locator('a[href="/workbench/profile/"]')).to_be_visible()
    expect(banner.locator('a[href="/notices/"]')).to_be_visible()
    expect_locked_offline(page)
    expect(page.locator(f'li.offer[data-offer-id="{offer.pk}"]')).to_have_count(0)
    # and its heartbeats stop
    beats = len(presence_frames(frames))
    page.wait_for_timeout(2500)
    assert len(presence_frames(frames)) == beats
    assert presence.lawyers_online() == 0
    # and the chat in progress still sends
    chat = page.locator(f'[data-chat-slot="{conversation.pk}"] [data-chat]')
    chat.locator("textarea").fill("已接的咨询我会继续跟进。")
    chat.locator("textarea").press("Enter")
    expect(chat.locator("li.msg.mine", has_text="已接的咨询我会继续跟进。")).to_have_attribute(
        "data-status", "delivered"
    )
    assert Message.objects.filter(
        conversation=conversation, sender=lawyer, body="已接的咨询我会继续跟进。"
    ).exists()
    context.close()


def test_staff_decisions_reach_an_open_workbench_through_the_notices(
    new_context, web_server, celery_test_worker, lawyer, staff
):
    # given a verified lawyer online on the workbench, heartbeating every 20 s
    LawyerProfileFactory(user=lawyer)
    page = new_context().new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    page.goto("/workbench/")
    go_online(page, lawyer)
    # when staff revoke the approval
    marketplace_services.lawyer_verify(
        staff=staff, lawyer_id=lawyer.pk, approved=False, reason="执业证已被注销"
    )
    # then the notice of it has the page ask the server at once, not at the next heartbeat
    expect(page.locator("[data-unverified-banner]")).to_be_visible(timeout=FEW_SECONDS_MS)
    expect_locked_offline(page)
    screenshot(page, "workbench-revoked")
    # when staff approve the lawyer again
    marketplace_services.lawyer_verify(staff=staff, lawyer_id=lawyer.pk, approved=True)
    # then the page offers the toggle again without a reload, and the lawyer is online again
    # as they chose before
    expect(page.locator("[data-verified-banner]")).to_be_visible(timeout=FEW_SECONDS_MS)
    expect(page.locator("[data-unverified-banner]")).to_be_hidden()
    online = page.locator('[data-presence-toggle] button[data-status="online"]')
    expect(online).to_be_enabled()
    expect(online).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-presence-offline]")).to_be_hidden()
    wait_until(lambda: presence.available_among([lawyer.pk]) == {lawyer.pk})


def test_an_accept_refused_as_not_verified_shows_the_lawyer_offline(
    new_context, web_server, lawyer
):
    # given a verified lawyer online with an offer, whose approval then ends (as when the
    # revocation commits while the accept is on its way)
    LawyerProfileFactory(user=lawyer)
    offer = offer_to(ConsultFactory(), lawyer, seconds=300)
    page = new_context().new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    page.goto("/workbench/")
    go_online(page, lawyer)
    LawyerProfile.objects.filter(user=lawyer).update(
        verification=LawyerProfile.Verification.REJECTED
    )
    # when the lawyer accepts the offer
    page.locator(f'li.offer[data-offer-id="{offer.pk}"] button[data-accept]').click()
    # then the refusal locks the toggle at once
    expect(page.locator("[data-unverified-banner]")).to_be_visible(timeout=FEW_SECONDS_MS)
    expect_locked_offline(page)


def test_a_lawyer_awaiting_review_opens_the_workbench_offline_and_sends_no_presence(
    new_context, web_server, lawyer
):
    # given a lawyer whose profile waits for review, who chose "online" on an earlier visit
    LawyerProfileFactory(user=lawyer, verification=LawyerProfile.Verification.PENDING)
    page = new_context().new_page()
    sign_in(page, lawyer.username, TEST_PASSWORD)
    page.evaluate("localStorage.setItem('lawline.presence', 'online')")
    frames = record_frames(page)
    # when the workbench opens
    page.goto("/workbench/")
    expect(page.locator("#workbench > .card [data-connection]")).to_have_attribute(
        "data-state", "open"
    )
    # then it is offline and locked from the first paint, with the prompt that says why, and
    # never sends a presence frame for the server to refuse
    expect_locked_offline(page)
    expect(page.locator("[data-profile-prompt]")).to_contain_text("您的资料尚未认证")
    expect(page.locator("[data-unverified-banner]")).to_be_hidden()
    page.wait_for_timeout(1000)
    assert presence_frames(frames) == []
    assert [f for f in frames["received"] if f.get("type") == "error"] == []
