"""The asker and lawyer pages: who may see them, what they show, how many queries they cost."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from billing.services import payment_refund
from marketplace.models import Consult
from tests.billing.factories import captured_for
from tests.factories import AskerFactory, LawyerProfileFactory, city
from tests.pages.factories import ConsultFactory, offer_to, open_chat

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- home -----------------------------------------------------------------------------------
def test_home_costs_four_queries_cold_and_one_with_the_stats_cached(django_assert_num_queries):
    # given an anonymous visitor and no cached figures
    client = Client()
    # when / then: categories + response figures, satisfaction, recent consults
    with django_assert_num_queries(4):
        assert client.get("/").status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/").status_code == 200


def test_home_ticker_shows_who_asked_by_city_with_no_part_of_a_phone(asker):
    # given a consult that entered the queue, from a public question in Jining asked by name
    asker.phone = "16212343566"
    asker.last_name, asker.first_name = "王", "小明"
    asker.save()
    ConsultFactory(question__asker=asker, question__is_anonymous=False)
    # when
    html = Client().get("/").content.decode()
    ticker = re.search(r'<ul class="ticker".*?</ul>', html, flags=re.S)
    # then the asker is "a user in Jining": no digit of the phone, no name
    assert ticker is not None
    assert '<span class="who">济宁的用户</span>' in ticker.group(0)
    assert "3566" not in ticker.group(0) and "****" not in ticker.group(0)
    assert "16212343566" not in html
    assert "王小明" not in html


def test_home_ticker_reads_a_user_in_the_city_in_english(asker):
    ConsultFactory(question__asker=asker)
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    html = client.get("/").content.decode()

    assert '<span class="who">A user in Jining</span>' in html


def test_home_is_chinese_by_default_and_english_when_chosen():
    client = Client()
    assert "在线律师" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Lawyers online now" in client.get("/").content.decode()


def test_the_language_switcher_works_by_get_and_only_goes_back_to_this_site():
    client = Client()
    response = client.get("/i18n/setlang/", {"language": "en", "next": "/questions/"})
    assert response.status_code == 302
    assert response["Location"] == "/questions/"
    assert "Lawyers online now" in client.get("/").content.decode()
    elsewhere = client.get("/i18n/setlang/", {"language": "zh-hans", "next": "https://evil.test/"})
    assert elsewhere["Location"] == "/"
    unknown = client.get("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert "django_language" not in unknown.cookies


def test_pages_for_anonymous_visitors_carry_no_csrf_token():
    html = Client().get("/").content.decode()
    assert 'class="lang-switch"' in html
    assert "csrfmiddlewaretoken" not in html


# --- my consults ----------------------------------------------------------------------------
def test_my_consults_requires_sign_in():
    response = Client().get("/consults/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_my_consults_lists_only_own_consults_in_fixed_queries(
    asker, other_asker, django_assert_num_queries
):
    # given
    mine = ConsultFactory.create_batch(3, question__asker=asker)
    theirs = ConsultFactory(question__asker=other_asker)
    client = client_for(asker)
    # when
    with django_assert_num_queries(4):  # session, user, consults, the nav's unread notices
        response = client.get("/consults/")
    # then
    html = response.content.decode()
    for consult in mine:
        assert consult.question.title in html
    assert theirs.question.title not in html


# --- consult room ---------------------------------------------------------------------------
def test_consult_room_is_404_for_someone_else(asker, other_asker):
    consult = ConsultFactory(question__asker=asker)
    response = client_for(other_asker).get(f"/consults/{consult.pk}/")
    assert response.status_code == 404


def test_waiting_consult_shows_the_waiting_screen_not_the_chat(asker):
    # given
    consult = ConsultFactory(question__asker=asker, state=Consult.State.QUEUED)
    # when
    html = client_for(asker).get(f"/consults/{consult.pk}/").content.decode()
    # then
    assert 'data-panel="waiting" ' not in html.split('data-panel="waiting"')[1][:10]
    assert 'data-panel="chat" hidden' in html


def test_active_consult_renders_its_messages_in_fixed_queries(
    asker, lawyer, django_assert_num_queries
):
    # given a chat with 30 messages
    consult = ConsultFactory(question__asker=asker)
    open_chat(consult, lawyer, messages=30)
    client = client_for(asker)
    # when
    # session, user, consult, messages, read cursors, the nav's unread notices
    with django_assert_num_queries(6):
        response = client.get(f"/consults/{consult.pk}/")
    # then
    html = response.content.decode()
    assert html.count('class="msg ') == 30
    assert 'data-last-seq="30"' in html


def test_expired_free_consult_reads_as_free_not_as_a_cancelled_payment(asker):
    # given a free consult nobody answered in time
    consult = ConsultFactory(
        question__asker=asker, state=Consult.State.EXPIRED, is_paid=False, price=0
    )
    # when
    html = client_for(asker).get(f"/consults/{consult.pk}/").content.decode()
    # then
    expired = html.split('data-panel="expired"')[1].split("</section>")[0]
    assert "没有律师按时回复" in expired and "您可以随时重新咨询" in expired
    assert "支付" not in expired and "扣款" not in expired
    assert "免费咨询" in html and "¥" not in html
    # and its badge, here, in the live labels and in the asker's list, just says expired
    assert (
        "未扣费" not in html
        and '<span class="badge" data-state-badge aria-live="polite">已过期</span>' in html
    )
    labels = re.search(
        r'<script id="consult-state-labels" type="application/json">(.*?)</script>', html
    )
    assert json.loads(labels.group(1))["expired"] == "已过期"
    assert "未扣费" not in client_for(asker).get("/consults/").content.decode()


def test_ask_again_after_an_expired_consult_starts_from_the_same_question(asker):
    # given a consult about "工资 & 加班费?" in Jinan that nobody answered in time
    consult = ConsultFactory(
        question__asker=asker,
        question__title="工资 & 加班费?",
        question__city=city("370100"),
        state=Consult.State.EXPIRED,
    )
    # when
    html = client_for(asker).get(f"/consults/{consult.pk}/").content.decode()
    # then "ask again" opens the ask form with its city, area of law and title filled in
    expired = html.split('data-panel="expired"')[1].split("</section>")[0]
    link = re.search(r'<a href="([^"]+)">重新咨询</a>', expired)
    assert link is not None
    query = parse_qs(urlsplit(unescape(link.group(1))).query)
    assert query == {
        "city": ["370100"],
        "category": [consult.question.category.slug],
        "title": ["工资 & 加班费?"],
    }


def test_waiting_free_consult_promises_no_refund_of_what_it_never_cost(asker):
    # given
    consult = ConsultFactory(question__asker=asker, is_paid=False, price=0)
    # when
    html = client_for(asker).get(f"/consults/{consult.pk}/").content.decode()
    # then
    waiting = html.split('data-panel="waiting"')[1].split("</section>")[0]
    assert "本次咨询将关闭" in waiting
    assert "无需支付" not in waiting


def test_lawyer_of_the_consult_sees_the_same_room(asker, lawyer):
    consult = ConsultFactory(question__asker=asker)
    open_chat(consult, lawyer, messages=2)
    response = client_for(lawyer).get(f"/consults/{consult.pk}/")
    assert response.status_code == 200
    assert 'data-role="lawyer"' in response.content.decode()


def test_message_text_is_escaped(asker, lawyer):
    consult = ConsultFactory(question__asker=asker)
    conversation = open_chat(consult, lawyer, messages=1)
    conversation.messages.update(body="<script>alert(1)</script>")
    html = client_for(asker).get(f"/consults/{consult.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- workbench ------------------------------------------------------------------------------
def test_workbench_is_404_for_askers(asker):
    assert client_for(asker).get("/workbench/").status_code == 404


def test_workbench_shows_live_offers_and_open_chats_in_fixed_queries(
    lawyer, django_assert_num_queries
):
    # given two offers and three open chats
    LawyerProfileFactory(user=lawyer)
    for _ in range(2):
        offer_to(ConsultFactory(), lawyer)
    for _ in range(3):
        open_chat(ConsultFactory(), lawyer, messages=4)
    client = client_for(lawyer)
    # when
    # session, user, consults, messages, cursors, offers, profile, earnings (2), figures (3)
    with django_assert_num_queries(13):  # the last: the nav's unread notices
        response = client.get("/workbench/")
    # then
    html = response.content.decode()
    assert len(re.findall(r'data-offer-id="\d+"', html)) == 2
    assert html.count('data-chat-slot="') == 4  # three chats + the template for new ones


def test_workbench_earnings_leave_a_refunded_consult_out_of_the_paying_ones(
    lawyer, staff, settings
):
    # given two answered paid consults (the sandbox gateway), one of them refunded by staff
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    LawyerProfileFactory(user=lawyer)
    asker = AskerFactory()
    captured_for(lawyer, asker, price=4900)
    payment_refund(payment_id=captured_for(lawyer, asker, price=10000).pk, staff=staff)
    # when
    client = client_for(lawyer)
    zh = client.get("/workbench/").content.decode()
    en = client.get("/workbench/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then: one consult still pays; the refunded one is named beside the refund
    assert re.search(r"<dt>咨询数</dt><dd>1</dd>", zh)
    assert "已收入 ¥119.20，其中 1 次咨询退款 ¥80.00。" in zh
    assert re.search(r"<dt>Consultations</dt><dd>1</dd>", en)
    assert "¥119.20 earned, ¥80.00 refunded in 1 consultation." in en


@pytest.mark.parametrize(("chats", "full"), [(1, False), (2, True)])
def test_workbench_says_when_every_slot_is_taken(lawyer, chats, full):
    # given a lawyer who takes two consultations at once, with `chats` open
    LawyerProfileFactory(user=lawyer, capacity=2)
    for _ in range(chats):
        open_chat(ConsultFactory(), lawyer, messages=1)
    # when
    html = client_for(lawyer).get("/workbench/").content.decode()
    # then
    notice = re.search(r"<p [^>]*data-capacity-full[^>]*>", html)
    assert notice and 'data-capacity="2"' in notice.group(0)
    assert ("hidden" not in notice.group(0)) is full
    assert "您的接待名额已满" in html


def test_workbench_shows_a_free_offer_as_free_and_a_paid_one_at_its_price(lawyer):
    # given
    LawyerProfileFactory(user=lawyer)
    free = offer_to(ConsultFactory(is_paid=False, price=0), lawyer)
    paid = offer_to(ConsultFactory(price=4900), lawyer)
    # when
    html = client_for(lawyer).get("/workbench/").content.decode()
    # then
    assert re.search(rf'data-offer-id="{free.pk}".*?data-paid="false">免费</span>', html, re.S)
    assert re.search(rf'data-offer-id="{paid.pk}".*?data-paid="true">¥49.00</span>', html, re.S)
    assert "¥0.00" not in html


@pytest.mark.parametrize("verification", [None, "unsubmitted", "pending", "rejected", "verified"])
def test_workbench_offers_the_availability_toggle_only_to_a_verified_lawyer(lawyer, verification):
    # given a lawyer with no profile yet, or one in each verification state
    if verification is not None:
        LawyerProfileFactory(user=lawyer, verification=verification)
    # when
    html = client_for(lawyer).get("/workbench/").content.decode()
    # then anyone else sees the toggle locked at offline from the first paint (the server would
    # refuse their heartbeats), and the page script is told not to send any
    verified = verification == "verified"
    toggle = re.search(r"<div [^>]*data-presence-toggle.*?</div>", html, re.S)
    assert toggle
    buttons = re.findall(r"<button [^>]*>", toggle.group(0))
    assert len(buttons) == 2
    assert all(("disabled" in b) is not verified for b in buttons)
    offline = re.search(r"<span [^>]*data-presence-offline[^>]*>([^<]*)</span>", toggle.group(0))
    assert offline and offline.group(1) == "离线"
    assert ("hidden" in offline.group(0)) is verified
    assert f'data-verified="{str(verified).lower()}"' in html
    help_line = re.search(r'<p [^>]*data-presence-help="unverified"[^>]*>', html)
    assert help_line and ("hidden" in help_line.group(0)) is verified
    no_offers = re.search(r"<span data-while-unverified[^>]*>([^<]*)</span>", html)
    assert no_offers and no_offers.group(1) == "资料未通过认证期间，您不会收到咨询推送。"
    assert ("hidden" in no_offers.group(0)) is verified


@pytest.mark.parametrize("page", ["/workbench/", "/consults/", "/notices/", "consult room"])
def test_live_pages_are_never_served_from_the_browsers_cache(asker, lawyer, page):
    # given a consult the lawyer chats in
    consult = ConsultFactory(question__asker=asker)
    open_chat(consult, lawyer, messages=1)
    url = f"/consults/{consult.pk}/" if page == "consult room" else page
    user = lawyer if page in ("/workbench/", "consult room") else asker
    # when
    response = client_for(user).get(url)
    # then Back after leaving the page asks the server again instead of showing a stale copy
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


# --- notices --------------------------------------------------------------------------------
def _refund_notice(user, consult: int = 7):
    from messaging.services import notice_send

    return notice_send(
        user=user,
        kind="refund_done",
        context={"consult": consult, "amount": 20000, "currency": "CNY"},
    )


def test_notices_page_sends_anonymous_visitors_to_sign_in():
    response = Client().get("/notices/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_notices_page_lists_notices_newest_first_in_the_readers_language(asker):
    # given a refund notice, then a welcome
    _refund_notice(asker)
    from messaging.services import notice_send

    notice_send(user=asker, kind="welcome")
    client = client_for(asker)
    # when read in Chinese (the default) and in English
    zh = client.get("/notices/").content.decode()
    client.get("/i18n/setlang/", {"language": "en", "next": "/"})
    en = client.get("/notices/").content.decode()
    # then each shows the notice rendered in that language, newest first
    assert "退款" in zh and "¥200.00" in zh
    assert "Your refund of ¥200.00 for consultation #7 is done" in en
    assert en.index("Welcome to Lawline") < en.index("Your refund of")


def test_a_notice_about_a_consult_links_to_it(asker):
    # given a notice naming consult #7 (its number is shown nowhere else) and a welcome
    _refund_notice(asker, consult=7)
    from messaging.services import notice_send

    notice_send(user=asker, kind="welcome")
    # when
    html = client_for(asker).get("/notices/").content.decode()
    # then the consult's notice opens the consult; the welcome links nowhere
    assert re.search(r'<a href="/consults/7/">[^<]*#7', html)
    assert len(re.findall(r'href="/consults/\d+/"', html)) == 1


def test_nav_shows_the_unread_notice_count_on_signed_in_pages(asker):
    # given two unread notices
    _refund_notice(asker, consult=7)
    _refund_notice(asker, consult=8)
    # when the asker opens another page
    html = client_for(asker).get("/consults/").content.decode()
    # then the header links to the notices with the count
    badge = re.search(r"data-notice-count(?P<attrs>[^>]*)>.*?data-notice-count-value>(\d+)<", html)
    assert badge is not None
    assert badge.group(2) == "2" and "hidden" not in badge.group("attrs")


def test_viewing_the_notices_page_marks_them_read(asker):
    # given an unread notice
    from messaging.models import Participant
    from messaging.services import platform_inbox

    message = _refund_notice(asker)
    client = client_for(asker)
    # when the notices page is viewed
    first = client.get("/notices/").content.decode()
    # then the read cursor is at the notice, it was shown as new once, and the badge is gone
    inbox = platform_inbox(user_id=asker.pk)
    assert Participant.objects.get(conversation=inbox, user=asker).last_read_seq == message.seq
    assert 'class="is-new"' in first
    again = client.get("/notices/").content.decode()
    assert 'class="is-new"' not in again
    assert re.search(r"data-notice-count hidden", again)


def test_notices_page_never_shows_another_users_notices(asker, other_asker):
    # given a notice for someone else
    _refund_notice(other_asker, consult=99)
    # when the asker opens their notices
    html = client_for(asker).get("/notices/").content.decode()
    # then it is not there, and the other user's cursor did not move
    assert "#99" not in html
    assert "暂无通知" in html
    from messaging.models import Participant

    assert Participant.objects.get(user=other_asker).last_read_seq == 0


@pytest.mark.parametrize("who", ["lawyer", "staff"])
def test_empty_notices_page_does_not_promise_a_lawyer_or_staff_an_askers_notices(request, who):
    # given a lawyer or staff member without notices
    user = request.getfixturevalue(who)
    # when they open their notices (the header links there on every page)
    html = client_for(user).get("/notices/").content.decode()
    # then the empty page says nothing about "a lawyer takes your consultation" or refunds
    assert "暂无通知" in html
    assert "律师接下您的咨询" not in html
    assert ('href="/workbench/"' in html.split("<main")[1]) == (who == "lawyer")


def test_notices_page_query_count_is_pinned(asker, django_assert_num_queries):
    # given three unread notices
    for consult in (7, 8, 9):
        _refund_notice(asker, consult=consult)
    client = client_for(asker)
    # when / then: session, user, membership, notices, the cursor moved (in the test's
    # transaction, between a savepoint and its release), the nav's count
    with django_assert_num_queries(8):
        assert client.get("/notices/").status_code == 200
    # read already: no write
    with django_assert_num_queries(5):
        assert client.get("/notices/").status_code == 200


def test_favicon_ico_leads_to_the_sites_icon():
    # the Django admin's pages name no icon, so browsers ask for /favicon.ico
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".svg") and "favicon" in response["Location"]
