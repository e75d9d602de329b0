"""The whole product in a real browser: an asker and a lawyer in two browser contexts go
ask → pay (sandbox) → match → chat both ways → reload mid-chat → close → rate, while a staff
member's live dashboard shows the lawyer online and then offline. Real uvicorn process, real
Celery worker (matching), real Redis and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from billing.models import Payment, Rating
from marketplace.models import Consult
from messaging.models import Message
from tests.e2e.conftest import screenshot, sign_in, switch_language
from tests.factories import TEST_PASSWORD, LawyerProfileFactory, StaffFactory, category, city

# serialized_rollback: the regions and categories loaded by migrations survive the flush
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

JINING = "370800"
PRICE = 4900
QUESTION_TITLE = "信用卡逾期三个月，银行说要起诉我怎么办"
QUESTION_BODY = "欠招商银行三万元，逾期三个月，银行打电话说要起诉，我现在该怎么应对？"


@pytest.fixture
def people(asker, lawyer):
    asker.phone = "16212343566"
    asker.save(update_fields=["phone"])
    LawyerProfileFactory(
        user=lawyer,
        home_city=city(JINING),
        serves=[city(JINING)],
        practises=[category("debt")],
        price=PRICE,
        capacity=3,
    )
    return {"asker": asker, "lawyer": lawyer, "staff": StaffFactory()}


def ask_and_pay(page: Page) -> int:
    """The asker's path from the ask form to the waiting screen; returns the consult id."""
    page.goto("/ask/")
    if page.locator("#ask-form").count():
        form = page.locator("#ask-form")
        form.locator("[name=title]").fill(QUESTION_TITLE)
        form.locator("[name=body]").fill(QUESTION_BODY)
        form.locator("[name=category]").select_option("debt")
        form.locator("[name=city]").select_option(JINING)
        # the count of lawyers online under the city keeps its height as it updates (the radios
        # below no longer move), but a click is only sure once nothing on the page is changing
        expect(form.locator("#online-here")).to_have_attribute(
            "data-state", re.compile(r"^(count|none|error)$")
        )
        form.locator("input[name=mode][value=paid]").check()
        form.locator("[name=price]").fill(str(PRICE // 100))
        form.locator("button[type=submit]").click()
        # the new consult's page asks for the payment first
        expect(page).to_have_url(re.compile(r"/consults/\d+/$"))
        expect(page.locator('[data-panel="waiting"]')).to_be_hidden()
        screenshot(page, "flow-zh-hans-consult-unpaid")
        page.locator('[data-panel="pay"] a.button').click()
    else:
        # until the marketplace's /ask/ page exists: the same two API calls it makes
        pay_url = page.evaluate(
            """async ([title, body, city, price]) => {
                const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
                const post = async (path, data) => {
                  const r = await fetch("/api/v1" + path, {method: "POST", credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                    body: JSON.stringify(data)});
                  if (!r.ok) throw new Error(path + " " + r.status + " " + await r.text());
                  return r.json();
                };
                const q = await post("/questions", {title, body, category: "debt", city});
                const c = await post("/consults", {question: q.id, paid: true, price, currency: "CNY"});
                return "/billing/pay/" + c.payment.id + "/";
            }""",
            [QUESTION_TITLE, QUESTION_BODY, JINING, PRICE],
        )
        page.goto(pay_url)
    expect(page).to_have_url(re.compile(r"/billing/pay/\d+/"))
    screenshot(page, "flow-zh-hans-pay")
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/consults/\d+/$"))
    return int(re.search(r"/consults/(\d+)/", page.url).group(1))


def chat_message(page: Page, text: str):
    return page.locator(".chat-log li.msg .bubble", has_text=text)


def test_asker_and_lawyer_consult_from_question_to_rating(new_context, celery_test_worker, people):
    asker, lawyer, staff = people["asker"], people["lawyer"], people["staff"]

    # given a staff member watching the live dashboard
    staff_page = new_context().new_page()
    sign_in(staff_page, staff.username, TEST_PASSWORD)
    staff_page.goto("/dashboard/")
    expect(staff_page.locator("[data-regions]")).to_contain_text("没有律师在线")

    # and a lawyer who opens the workbench and goes online
    lawyer_page = new_context().new_page()
    sign_in(lawyer_page, lawyer.username, TEST_PASSWORD)
    lawyer_page.goto("/workbench/")
    expect(lawyer_page.locator("#workbench > .card [data-connection]")).to_have_attribute(
        "data-state", "open"
    )
    lawyer_page.get_by_role("button", name="在线", exact=True).click()
    expect(lawyer_page.get_by_role("button", name="在线", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )

    # then the dashboard shows the lawyer online in Jining, without a reload
    jining = staff_page.locator(f'[data-regions] li[data-code="{JINING}"]')
    expect(jining).to_contain_text("1", timeout=15000)
    screenshot(staff_page, "flow-zh-hans-dashboard-online")

    # when an asker asks and pays in the sandbox
    asker_page = new_context().new_page()
    sign_in(asker_page, asker.username, TEST_PASSWORD)
    consult_id = ask_and_pay(asker_page)

    # then the lawyer gets the offer live, with a countdown, and accepts it
    offer = lawyer_page.locator("[data-offers] li.offer").first
    expect(offer).to_contain_text(QUESTION_TITLE)
    expect(offer.locator("[data-countdown]")).to_have_text(re.compile(r"^(1:00|0:\d\d)$"))
    screenshot(lawyer_page, "flow-zh-hans-workbench-offer")
    offer.get_by_role("button", name="接单").click()

    # and the asker's waiting screen turns into the chat with that lawyer
    expect(asker_page.locator('[data-panel="chat"]')).to_be_visible()
    expect(asker_page.locator('[data-panel="waiting"]')).to_be_hidden()
    with translation.override("zh-hans"):
        in_progress = str(Consult.State.ACTIVE.label)
    expect(asker_page.locator("[data-state-badge]")).to_have_text(in_progress)
    with translation.override("zh-hans"):
        authorised = str(Payment.State.AUTHORIZED.label)
        captured = str(Payment.State.CAPTURED.label)
    payment_badge = asker_page.locator("[data-payment-badge]")
    expect(payment_badge).to_have_text(authorised)

    # when the lawyer replies first (which captures the payment) and the asker answers
    lawyer_chat = lawyer_page.locator(f'[data-chat-slot] [data-chat][data-consult="{consult_id}"]')
    expect(lawyer_chat).to_be_visible()
    # (each already sees the other online, without a reload)
    online = re.compile(r"\bon\b")
    expect(asker_page.locator("[data-chat] [data-peer-presence]")).to_have_class(online)
    expect(lawyer_chat.locator("[data-peer-presence]")).to_have_class(online)
    lawyer_chat.locator("textarea").fill("您好，我是您的律师。请问您收到法院传票了吗？")
    lawyer_chat.locator("textarea").press("Enter")
    expect(chat_message(asker_page, "请问您收到法院传票了吗")).to_be_visible()
    # (and the asker's payment badge follows the capture, without a reload)
    expect(payment_badge).to_have_text(captured)

    asker_page.locator("[data-chat] textarea").type("还没有")
    expect(lawyer_chat.locator("[data-typing]")).not_to_be_empty()
    asker_page.locator("[data-chat] textarea").fill("还没有，只收到催收短信。")
    asker_page.locator("[data-chat] textarea").press("Enter")

    # then each side sees the other's message, and the asker's is delivered, then read
    expect(chat_message(lawyer_page, "只收到催收短信")).to_be_visible()
    mine = asker_page.locator("li.msg.mine", has_text="只收到催收短信")
    expect(mine).to_have_attribute("data-status", "read")
    screenshot(asker_page, "flow-zh-hans-chat")
    screenshot(lawyer_page, "flow-zh-hans-workbench-chat")

    # when the asker reloads mid-chat, nothing is lost and the chat goes on
    asker_page.reload()
    expect(asker_page.locator(".chat-log li.msg")).to_have_count(2)
    asker_page.locator("[data-chat] textarea").fill("那我现在应该先做什么？")
    asker_page.locator("[data-chat] textarea").press("Enter")
    expect(chat_message(lawyer_page, "那我现在应该先做什么")).to_be_visible()
    expect(asker_page.locator("li.msg.mine", has_text="那我现在应该先做什么")).to_have_attribute(
        "data-status", re.compile("delivered|read")
    )
    lawyer_chat.locator("textarea").fill("先和银行协商分期，保留好所有沟通记录。")
    lawyer_chat.locator("textarea").press("Enter")
    expect(chat_message(asker_page, "先和银行协商分期")).to_be_visible()

    # when the asker closes the consultation and rates the lawyer
    asker_page.once("dialog", lambda dialog: dialog.accept())
    asker_page.get_by_role("button", name="结束咨询").click()
    rating = asker_page.locator('[data-panel="rating"]')
    expect(rating).to_be_visible()
    expect(asker_page.locator("[data-chat-form]")).to_be_hidden()
    rating.locator('label[for="score-5"]').click()
    rating.locator("textarea").fill("回复很快，建议很实用。")
    screenshot(asker_page, "flow-zh-hans-rate")
    rating.get_by_role("button", name="提交评价").click()
    expect(asker_page.locator('[data-panel="rated"]')).to_be_visible()

    # then everything happened in the database exactly once, in order
    consult = Consult.objects.get(pk=consult_id)
    assert consult.state == Consult.State.RESOLVED
    assert consult.lawyer_id == lawyer.pk
    assert Payment.objects.get(consult=consult).state == Payment.State.CAPTURED
    assert Rating.objects.get(consult=consult).score == 5
    bodies = list(
        Message.objects.filter(conversation=consult.conversation)
        .order_by("seq")
        .values_list("seq", "sender_id")
    )
    assert bodies == [(1, lawyer.pk), (2, asker.pk), (3, asker.pk), (4, lawyer.pk)]

    # and when the lawyer leaves, the dashboard shows them offline
    lawyer_page.close()
    expect(staff_page.locator(f'[data-regions] li[data-code="{JINING}"]')).to_have_count(
        0, timeout=20000
    )
    expect(staff_page.locator("[data-regions]")).to_contain_text("没有律师在线")

    # and the asker's history lists the consultation as finished
    asker_page.goto("/consults/")
    expect(asker_page.locator("#past-title + ul")).to_contain_text(QUESTION_TITLE)


def test_language_switcher_turns_the_pages_english_and_back(new_context, asker):
    page = new_context().new_page()
    sign_in(page, asker.username, TEST_PASSWORD)
    page.goto("/consults/")
    expect(page.locator("h1")).to_have_text("我的咨询")
    # when
    switch_language(page, "en")
    # then the same page is English, and it stays English on the next page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My consultations")
    page.goto("/")
    expect(page.locator("#live-stats")).to_contain_text("Lawyers online now")
    # and back
    switch_language(page, "zh-hans")
    expect(page.locator("#live-stats")).to_contain_text("在线律师")


@pytest.mark.parametrize("role", ["asker", "lawyer"])
def test_non_staff_get_no_dashboard(new_context, request, role):
    user = request.getfixturevalue(role)
    page = new_context().new_page()
    sign_in(page, user.username, TEST_PASSWORD)
    # when
    response = page.goto("/dashboard/")
    # then
    assert response.status == 404
    expect(page.locator("#dashboard")).to_have_count(0)
    expect(page.locator("nav")).not_to_contain_text("实时看板")
